package store

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
)

// PutLabel records a reviewer's label durably: it replaces that reviewer's
// current label on the event (a Deleted label withdraws it) and is appended
// to the event's history. The event must exist.
func (s *Store) PutLabel(l loop.Label) error { return s.PutLabels([]loop.Label{l}) }

// PutLabels records labels as PutLabel does, all in one durable commit
// (imports and demo stores); if one event is missing, none is written.
func (s *Store) PutLabels(ls []loop.Label) error {
	bodies := make([][]byte, len(ls))
	for i, l := range ls {
		if l.Reviewer == "" {
			return errors.New("label has no reviewer")
		}
		var err error
		if bodies[i], err = json.Marshal(l); err != nil {
			return err
		}
	}
	err := s.update(func(txn *badger.Txn) error {
		for i, l := range ls {
			if err := storedIndex(txn, l.EventID); err != nil {
				if errors.Is(err, badger.ErrKeyNotFound) {
					return fmt.Errorf("event %q: %w", l.EventID, ErrNotFound)
				}
				return err
			}
			if l.Deleted {
				if err := deleteKeys(txn, labelKey(l.EventID, l.Reviewer)); err != nil {
					return err
				}
			} else if err := txn.Set(labelKey(l.EventID, l.Reviewer), bodies[i]); err != nil {
				return err
			}
			if err := txn.Set(historyKey(l.EventID, l.At, l.Reviewer), bodies[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return mapErr(err)
	}
	for i := range ls {
		s.notify(Change{EventID: ls[i].EventID, Label: &ls[i]})
	}
	return nil
}

// Labels returns the current labels of an event, one per reviewer, sorted by
// reviewer.
func (s *Store) Labels(id string) ([]loop.Label, error) {
	var out []loop.Label
	err := s.scanJSON(idPrefix(prefixLabel, id), func(b []byte) error {
		var l loop.Label
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Reviewer < out[j].Reviewer })
	return out, err
}

// History returns every label ever given on an event, oldest first.
func (s *Store) History(id string) ([]loop.Label, error) {
	var out []loop.Label
	err := s.scanJSON(idPrefix(prefixHistory, id), func(b []byte) error {
		var l loop.Label
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// AllLabels calls fn with every current label, ordered by event id then
// reviewer.
func (s *Store) AllLabels(fn func(loop.Label) error) error {
	return s.scanJSON(prefix(prefixLabel), func(b []byte) error {
		var l loop.Label
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		return fn(l)
	})
}

func (s *Store) scanJSON(prefix []byte, fn func([]byte) error) error {
	return mapErr(s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := it.Item().Value(fn); err != nil {
				return err
			}
		}
		return nil
	}))
}

// PutSetEntry adds an event to a set, or replaces its entry there.
func (s *Store) PutSetEntry(e loop.SetEntry) error {
	body, err := json.Marshal(e)
	if err != nil {
		return err
	}
	err = s.update(func(txn *badger.Txn) error {
		if err := storedIndex(txn, e.EventID); err != nil {
			if errors.Is(err, badger.ErrKeyNotFound) {
				return fmt.Errorf("event %q: %w", e.EventID, ErrNotFound)
			}
			return err
		}
		return txn.Set(setKey(e.Kind, e.EventID), body)
	})
	if err == nil {
		s.notify(Change{EventID: e.EventID, Set: e.Kind})
	}
	return mapErr(err)
}

// RemoveSetEntry takes an event out of a set; ErrNotFound if it was not in it.
func (s *Store) RemoveSetEntry(kind loop.SetKind, id string) error {
	err := s.update(func(txn *badger.Txn) error {
		k := setKey(kind, id)
		if _, err := txn.Get(k); err != nil {
			if errors.Is(err, badger.ErrKeyNotFound) {
				return fmt.Errorf("%s set has no event %q: %w", kind, id, ErrNotFound)
			}
			return err
		}
		return deleteKeys(txn, k)
	})
	if err == nil {
		s.notify(Change{EventID: id, Set: kind, Removed: true})
	}
	return mapErr(err)
}

// SetEntries calls fn with each entry of a set, ordered by event id.
func (s *Store) SetEntries(kind loop.SetKind, fn func(loop.SetEntry) error) error {
	return s.scanJSON(setPrefix(kind), func(b []byte) error {
		var e loop.SetEntry
		if err := json.Unmarshal(b, &e); err != nil {
			return err
		}
		return fn(e)
	})
}

// Forget erases every event of the user with this pseudonym (see UserHash),
// with their labels and set entries, and reclaims the space the database
// lets go of. It returns how many events were erased.
func (s *Store) Forget(userHash string) (int, error) {
	uh, err := hex.DecodeString(userHash)
	if err != nil || len(uh) != 16 {
		return 0, fmt.Errorf("bad user hash %q", userHash)
	}
	var evs []erased
	// The index value holds each event's user hash (see doc.go): a scan of
	// the small index records finds a user's events without a per-user
	// key written for every event at ingest.
	err = s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixIndex)
		opt.PrefetchSize = 1000
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			err := item.Value(func(v []byte) error {
				if u := indexUser(v); u != nil && bytes.Equal(u, uh) {
					evs = append(evs, erased{id: string(item.Key()[1:]), ts: bytes.Clone(v[:8]), stub: unkeptIndex(v)})
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, mapErr(err)
	}
	return s.erase(evs)
}

// erased names one event to erase: its id and encoded time. stub says it
// is an unkept interaction (unkept.go); expired that its contribution to
// the aggregates stays (retention: see ForgetBefore).
type erased struct {
	id      string
	ts      []byte
	stub    bool
	expired bool
}

// erase deletes events with their summaries, index, original, queue and
// set entries, labels and label history, signals (see eventKeys), then compacts and garbage-collects so the space
// is reclaimed (see the README on what Badger may still hold on disk).
func (s *Store) erase(evs []erased) (int, error) {
	s.putMu.Lock() // no merge may read an event while it goes
	defer s.putMu.Unlock()
	// Each event's keys go in one transaction, many events to a commit:
	// a retention run may erase a million events, and one durable commit
	// each would take a quarter of an hour.
	var batch [][]byte
	var delta *agg.Table // unkept interactions' contributions, taken out
	aggChanged := false
	commit := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.update(func(txn *badger.Txn) error {
			if err := deleteKeys(txn, batch...); err != nil {
				return err
			}
			if delta != nil {
				return addAggregates(txn, delta)
			}
			return nil
		})
		batch = batch[:0]
		if delta != nil && err == nil {
			aggChanged = true
		}
		delta = nil
		return mapErr(err)
	}
	defer func() {
		if aggChanged {
			s.notify(Change{Aggregates: true})
		}
	}()
	for n, e := range evs {
		var keys [][]byte
		if err := s.db.View(func(txn *badger.Txn) error {
			var err error
			if !e.stub {
				keys, err = eventKeys(txn, nil, e.id, e.ts)
				return err
			}
			var d *agg.Table
			keys, d, err = stubErase(txn, e.id, !e.expired)
			if d != nil {
				if delta == nil {
					delta = agg.New()
				}
				delta.Merge(d)
			}
			return err
		}); err != nil {
			return 0, mapErr(err)
		}
		batch = append(batch, keys...)
		if len(batch) >= 4000 || n == len(evs)-1 {
			if err := commit(); err != nil {
				return 0, err
			}
		}
	}
	if err := s.eraseReviewState(evs); err != nil { // drafts, leases, undo entries (drafts.go)
		return 0, err
	}
	if len(evs) > 0 {
		// Push the tombstones down so the deleted values are dropped from
		// the LSM tree, then rewrite value-log files that are now garbage;
		// Close finishes with the active one (finishErase).
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaErasePending, nil) }); err != nil {
			return 0, mapErr(err)
		}
		s.erased.Store(true)
		s.compact()
	}
	return len(evs), nil
}

// Backup writes a full Badger backup stream of the store to w.
func (s *Store) Backup(w io.Writer) error {
	_, err := s.db.Backup(w, 0)
	return mapErr(err)
}

// Restore loads a backup stream into an empty store opened with
// ForRestore, secret included, so user hashes stay valid.
func (s *Store) Restore(r io.Reader) error {
	empty := true
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		it.Rewind()
		empty = !it.Valid()
		return nil
	})
	if err != nil {
		return mapErr(err)
	}
	if !empty {
		return fmt.Errorf("store %s is not empty: restore needs a new store directory", s.dir)
	}
	if err := s.db.Load(r, 256); err != nil {
		// A Load cut short leaves Badger's oracle waiting for versions
		// that never commit: no transaction may start after it, so the
		// close must not write a snapshot.
		s.loadFailed.Store(true)
		return fmt.Errorf("restore: %w", mapErr(err))
	}
	// The backup's snapshot record is of another directory's file.
	s.snapMu.Lock()
	s.removeSnapshot()
	s.snapMu.Unlock()
	if err := s.db.Update(func(txn *badger.Txn) error { return deleteKeys(txn, metaInboxSnap) }); err != nil {
		return fmt.Errorf("restore: %w", mapErr(err))
	}
	s.putMu.Lock()
	s.idf, s.sigf, s.pendf, s.tombs = nil, nil, nil, nil // the loaded ids are not in them
	s.putMu.Unlock()
	// A backup without the secret (cut short, or not a loupe store's) must
	// not get a new one: user hashes would change and forget would miss.
	if s.secret, err = s.loadSecret(true); err == nil && s.secret == nil {
		err = ErrNoSecret
	}
	if err != nil {
		return err
	}
	// The backup's stubs and the function of their content hashes.
	return mapErr(s.findStubs())
}

// ErrNoSecret is Restore's error for a backup without the store secret.
var ErrNoSecret = errors.New("the backup holds no store secret (it is incomplete or not a loupe backup)")

// AllHistory calls fn with every label ever given, ordered by event id then
// time.
func (s *Store) AllHistory(fn func(loop.Label) error) error {
	return s.scanJSON(prefix(prefixHistory), func(b []byte) error {
		var l loop.Label
		if err := json.Unmarshal(b, &l); err != nil {
			return err
		}
		return fn(l)
	})
}

// ForgetBefore erases every event older than t (retention), as Forget does
// for a user. It returns how many were erased.
//
// The stubs of unkept interactions (edge sampling) older than t go too,
// but their contributions stay in the aggregates: those are anonymous
// counts per day, model, segment and task, kept as trends' history is.
func (s *Store) ForgetBefore(t time.Time) (int, error) {
	var evs []erased
	end := tsBytes(prefix(prefixSummary), t)
	cutoff := tsBytes(nil, t)
	// Stubs: folded into their index value (the index values are small,
	// in the LSM tree), or z keys of before.
	err := s.db.View(func(txn *badger.Txn) error {
		for _, p := range []byte{prefixIndex, prefixStub} {
			opt := badger.DefaultIteratorOptions
			opt.Prefix = prefix(p)
			opt.PrefetchValues = false
			it := txn.NewIterator(opt)
			for it.Rewind(); it.Valid(); it.Next() {
				item := it.Item()
				if err := item.Value(func(v []byte) error {
					if p == prefixIndex && !foldedIndex(v) {
						return nil
					}
					if len(v) >= 8 && bytes.Compare(v[:8], cutoff) < 0 {
						evs = append(evs, erased{id: string(item.Key()[1:]), ts: bytes.Clone(v[:8]), stub: true, expired: true})
					}
					return nil
				}); err != nil {
					it.Close()
					return err
				}
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return 0, mapErr(err)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixSummary)
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			if bytes.Compare(k, end) >= 0 || len(k) < 9 {
				break
			}
			evs = append(evs, erased{id: string(k[9:]), ts: bytes.Clone(k[1:9])})
		}
		return nil
	})
	if err != nil {
		return 0, mapErr(err)
	}
	return s.erase(evs)
}

// labelSeeker is a key-only iterator over the labels, to be sought to one
// event after another with hasLabel: a Badger iterator costs far more to
// open than to seek. The caller closes it.
func labelSeeker(txn *badger.Txn) *badger.Iterator {
	opt := badger.DefaultIteratorOptions
	opt.Prefix = prefix(prefixLabel)
	opt.PrefetchValues = false
	return txn.NewIterator(opt)
}

// hasLabel reports whether event id has a current label, seeking it (a
// labelSeeker).
func hasLabel(it *badger.Iterator, id string) bool {
	lp := idPrefix(prefixLabel, id)
	it.Seek(lp)
	return it.ValidForPrefix(lp)
}
