package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
)

// Review-session state that must outlive a session: a reviewer's drafts
// (what they typed before grading), their undo journal, and who has a
// queue item open (leases). The prefixes are in keys.go:
//
//	d <reviewer> 0x00 <event id>  → JSON Draft
//	u <reviewer> 0x00 <seq 8 BE>  → JSON UndoEntry
//	w <event id>                  → JSON Lease

// ErrLeased is returned by TakeLease when another reviewer holds a live
// lease on the item.
var ErrLeased = errors.New("open by another reviewer")

// Draft is what a reviewer has typed or toggled on an item and not yet
// saved with a grade. Its text is masked by the caller (loop/pii) before
// it gets here, like every other free text.
type Draft struct {
	EventID   string    `json:"event_id"`
	Reviewer  string    `json:"reviewer"`
	Reasons   []string  `json:"reasons,omitempty"`
	Note      string    `json:"note,omitempty"`
	Reference string    `json:"reference,omitempty"`
	At        time.Time `json:"at"`
}

func draftKey(reviewer, id string) []byte {
	k := append([]byte{prefixDraft}, reviewer...)
	k = append(k, 0)
	return append(k, id...)
}

// PutDraft stores a reviewer's draft on an event, replacing the one before.
func (s *Store) PutDraft(d Draft) error {
	if d.Reviewer == "" {
		return errors.New("draft has no reviewer")
	}
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return mapErr(s.update(func(txn *badger.Txn) error {
		return txn.Set(draftKey(d.Reviewer, d.EventID), b)
	}))
}

// DeleteDraft drops a reviewer's draft on an event (saved or given up); no
// draft is not an error.
func (s *Store) DeleteDraft(reviewer, id string) error {
	return mapErr(s.update(func(txn *badger.Txn) error {
		return deleteKeys(txn, draftKey(reviewer, id))
	}))
}

// Drafts calls fn with each of a reviewer's drafts, by event id.
func (s *Store) Drafts(reviewer string, fn func(Draft) error) error {
	p := append([]byte{prefixDraft}, reviewer...)
	return s.scanJSON(append(p, 0), func(b []byte) error {
		var d Draft
		if err := json.Unmarshal(b, &d); err != nil {
			return err
		}
		return fn(d)
	})
}

// UndoEntry is one change a reviewer made, kept so it can be undone after
// a restart: a label change (Before/After, nil meaning no label) or a set
// change (SetBefore/SetAfter, nil meaning out of the set).
type UndoEntry struct {
	Seq       uint64         `json:"seq"`
	EventID   string         `json:"event_id"`
	Set       loop.SetKind   `json:"set,omitempty"` // "" for a label change
	Before    *loop.Label    `json:"before,omitempty"`
	After     *loop.Label    `json:"after,omitempty"`
	SetBefore *loop.SetEntry `json:"set_before,omitempty"`
	SetAfter  *loop.SetEntry `json:"set_after,omitempty"`
	At        time.Time      `json:"at"`
}

func undoKey(reviewer string, seq uint64) []byte {
	k := append([]byte{prefixUndo}, reviewer...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// PushUndo appends an entry to a reviewer's undo journal; its Seq must
// grow from one entry to the next (the caller's clock in nanoseconds
// does).
func (s *Store) PushUndo(reviewer string, e UndoEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	return mapErr(s.update(func(txn *badger.Txn) error {
		return txn.Set(undoKey(reviewer, e.Seq), b)
	}))
}

// DropUndo removes an entry from the journal (it was undone, or is too old
// to keep); a missing entry is not an error.
func (s *Store) DropUndo(reviewer string, seq uint64) error {
	return mapErr(s.update(func(txn *badger.Txn) error {
		return deleteKeys(txn, undoKey(reviewer, seq))
	}))
}

// UndoJournal calls fn with a reviewer's journal, oldest first.
func (s *Store) UndoJournal(reviewer string, fn func(UndoEntry) error) error {
	p := append([]byte{prefixUndo}, reviewer...)
	return s.scanJSON(append(p, 0), func(b []byte) error {
		var e UndoEntry
		if err := json.Unmarshal(b, &e); err != nil {
			return err
		}
		return fn(e)
	})
}

// Lease says a reviewer has a queue item open until a time: the item is
// not handed to another reviewer meanwhile.
type Lease struct {
	EventID  string    `json:"event_id"`
	Reviewer string    `json:"reviewer"`
	Until    time.Time `json:"until"`
}

func leaseKey(id string) []byte { return append([]byte{prefixAssign}, id...) }

// TakeLease gives reviewer the item until the given time, or renews their
// lease, unless another reviewer's lease is still live at now: then it
// returns that lease and ErrLeased. once is for an item to be graded once
// (not shared by all reviewers): another reviewer's current label on it
// denies it too, the returned lease naming them (the store is the truth
// even when a view missed a change notice).
func (s *Store) TakeLease(id, reviewer string, now, until time.Time, once bool) (Lease, error) {
	l := Lease{EventID: id, Reviewer: reviewer, Until: until.UTC()}
	var held Lease
	err := s.update(func(txn *badger.Txn) error {
		if once {
			opt := badger.DefaultIteratorOptions
			opt.PrefetchValues = false
			opt.Prefix = append([]byte("l"+id), 0)
			it := txn.NewIterator(opt)
			for it.Rewind(); it.Valid(); it.Next() {
				if by := string(it.Item().Key()[len(opt.Prefix):]); by != reviewer {
					held = Lease{EventID: id, Reviewer: by}
					it.Close()
					return ErrLeased
				}
			}
			it.Close()
		}
		it, err := txn.Get(leaseKey(id))
		if err == nil {
			err = it.Value(func(b []byte) error { return json.Unmarshal(b, &held) })
			if err != nil {
				return err
			}
			if held.Reviewer != reviewer && held.Until.After(now) {
				return ErrLeased
			}
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		b, err := json.Marshal(l)
		if err != nil {
			return err
		}
		return txn.Set(leaseKey(id), b)
	})
	if errors.Is(err, ErrLeased) {
		return held, fmt.Errorf("%s: %w (%s)", id, ErrLeased, held.Reviewer)
	}
	if err != nil {
		return Lease{}, mapErr(err)
	}
	s.notify(Change{EventID: id, Lease: true})
	return l, nil
}

// ReleaseLease ends reviewer's lease on the item; a lease of someone else,
// or none, is left alone.
func (s *Store) ReleaseLease(id, reviewer string) error {
	released := false
	err := s.update(func(txn *badger.Txn) error {
		it, err := txn.Get(leaseKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		var held Lease
		if err := it.Value(func(b []byte) error { return json.Unmarshal(b, &held) }); err != nil {
			return err
		}
		if held.Reviewer != reviewer {
			return nil
		}
		released = true
		return deleteKeys(txn, leaseKey(id))
	})
	if released {
		s.notify(Change{EventID: id, Lease: true})
	}
	return mapErr(err)
}

// Leases calls fn with every lease, live or expired, by event id.
func (s *Store) Leases(fn func(Lease) error) error {
	return s.scanJSON([]byte{prefixAssign}, func(b []byte) error {
		var l Lease
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		return fn(l)
	})
}

// ErrGradedByOther is returned by PutLabelOnce when another reviewer has a
// current label on the item.
var ErrGradedByOther = errors.New("already graded by another reviewer")

// PutLabelOnce records a label as PutLabel does, for an item to be graded
// once: if another reviewer has a current label on it, nothing is written
// and the error wraps ErrGradedByOther. The check and the write are one
// transaction, so two sessions grading at once cannot both get in.
func (s *Store) PutLabelOnce(l loop.Label) error {
	body, err := json.Marshal(l)
	if err != nil {
		return err
	}
	var other string
	err = s.update(func(txn *badger.Txn) error {
		if err := storedIndex(txn, l.EventID); err != nil {
			if errors.Is(err, badger.ErrKeyNotFound) {
				return fmt.Errorf("event %q: %w", l.EventID, ErrNotFound)
			}
			return err
		}
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		opt.Prefix = append([]byte("l"+l.EventID), 0)
		it := txn.NewIterator(opt)
		for it.Rewind(); it.Valid(); it.Next() {
			if by := string(it.Item().Key()[len(opt.Prefix):]); by != l.Reviewer {
				other = by
				break
			}
		}
		it.Close()
		if other != "" {
			return ErrGradedByOther
		}
		if l.Deleted {
			if err := deleteKeys(txn, labelKey(l.EventID, l.Reviewer)); err != nil {
				return err
			}
		} else if err := txn.Set(labelKey(l.EventID, l.Reviewer), body); err != nil {
			return err
		}
		return txn.Set(historyKey(l.EventID, l.At, l.Reviewer), body)
	})
	if errors.Is(err, ErrGradedByOther) {
		return fmt.Errorf("%s: %w (%s)", l.EventID, ErrGradedByOther, other)
	}
	if err != nil {
		return mapErr(err)
	}
	s.notify(Change{EventID: l.EventID, Label: &l})
	return nil
}

// eraseReviewState deletes what review sessions keep about erased events:
// every reviewer's drafts and undo entries on them, and their leases.
// Drafts and the journal are keyed by reviewer, so one scan of each finds
// them for all the events at once.
func (s *Store) eraseReviewState(evs []erased) error {
	if len(evs) == 0 {
		return nil
	}
	ids := make(map[string]bool, len(evs))
	for _, e := range evs {
		ids[e.id] = true
	}
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		for _, e := range evs {
			if _, err := txn.Get(leaseKey(e.id)); err == nil {
				keys = append(keys, leaseKey(e.id))
			}
		}
		for _, p := range []byte{prefixDraft, prefixUndo} {
			opt := badger.DefaultIteratorOptions
			opt.Prefix = []byte{p}
			it := txn.NewIterator(opt)
			for it.Rewind(); it.Valid(); it.Next() {
				var ref struct {
					EventID string `json:"event_id"`
				}
				if err := it.Item().Value(func(b []byte) error { return json.Unmarshal(b, &ref) }); err != nil {
					it.Close()
					return err
				}
				if ids[ref.EventID] {
					keys = append(keys, it.Item().KeyCopy(nil))
				}
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return mapErr(err)
	}
	return mapErr(s.update(func(txn *badger.Txn) error {
		if err := deleteKeys(txn, keys...); err != nil {
			return err
		}
		return nil
	}))
}
