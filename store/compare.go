package store

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/compare"
)

// Comparison keys (prefixes in keys.go, layout in doc.go).

func comparisonKey(j compare.Judgment) []byte {
	k := append(idPrefix(prefixCompare, j.EventID), j.Candidate...)
	return append(append(k, sep), j.Reviewer...)
}

func comparisonHistoryKey(j compare.Judgment) []byte {
	k := append(idPrefix(prefixCompareHist, j.EventID), j.Candidate...)
	k = tsBytes(append(k, sep), j.At)
	return append(k, j.Reviewer...)
}

// SideKey is the key of this store's side assignment (compare.SideFor):
// derived from the store secret, so sides are the same on every run over
// this store and cannot be worked out without it.
func (s *Store) SideKey() []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("loupe compare sides v1"))
	return m.Sum(nil)
}

// PutComparison records a judgment durably: it replaces the reviewer's
// current judgment of that event and candidate (a Deleted one withdraws
// it) and is appended to the comparison history. The event must exist.
func (s *Store) PutComparison(j compare.Judgment) error {
	if j.Reviewer == "" || j.Candidate == "" {
		return errors.New("comparison has no reviewer or candidate")
	}
	body, err := json.Marshal(j)
	if err != nil {
		return err
	}
	err = s.update(func(txn *badger.Txn) error {
		if err := storedIndex(txn, j.EventID); err != nil {
			if errors.Is(err, badger.ErrKeyNotFound) {
				return fmt.Errorf("event %q: %w", j.EventID, ErrNotFound)
			}
			return err
		}
		return putComparison(txn, j, body)
	})
	return mapErr(err)
}

func putComparison(txn *badger.Txn, j compare.Judgment, body []byte) error {
	if j.Deleted {
		if err := deleteKeys(txn, comparisonKey(j)); err != nil {
			return err
		}
	} else if err := txn.Set(comparisonKey(j), body); err != nil {
		return err
	}
	return txn.Set(comparisonHistoryKey(j), body)
}

// Comparisons calls fn with every current judgment, ordered by event id,
// candidate, then reviewer.
func (s *Store) Comparisons(fn func(compare.Judgment) error) error {
	return s.scanComparisons(prefixCompare, fn)
}

// ComparisonHistory calls fn with every judgment ever recorded, withdrawals
// included, ordered by event id, candidate, then time.
func (s *Store) ComparisonHistory(fn func(compare.Judgment) error) error {
	return s.scanComparisons(prefixCompareHist, fn)
}

func (s *Store) scanComparisons(prefix byte, fn func(compare.Judgment) error) error {
	return s.scanJSON([]byte{prefix}, func(b []byte) error {
		var j compare.Judgment
		if err := json.Unmarshal(b, &j); err != nil {
			return fmt.Errorf("stored comparison: %w", err)
		}
		return fn(j)
	})
}

// UndoComparison withdraws the reviewer's most recent current judgment of
// candidate (compare.Last), recording the withdrawal at at in history, and
// returns the judgment withdrawn; ErrNotFound when there is none. Reading
// and writing are one transaction, so two undos never withdraw one
// judgment twice.
func (s *Store) UndoComparison(reviewer, candidate string, at time.Time) (compare.Judgment, error) {
	var last compare.Judgment
	err := s.update(func(txn *badger.Txn) error {
		var cur []compare.Judgment
		opt := badger.DefaultIteratorOptions
		opt.Prefix = []byte{prefixCompare}
		it := txn.NewIterator(opt)
		for it.Rewind(); it.Valid(); it.Next() {
			var j compare.Judgment
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &j) }); err != nil {
				it.Close()
				return fmt.Errorf("stored comparison: %w", err)
			}
			if j.Reviewer == reviewer && j.Candidate == candidate {
				cur = append(cur, j)
			}
		}
		it.Close()
		var ok bool
		if last, ok = compare.Last(cur, reviewer, candidate); !ok {
			return fmt.Errorf("%s has no comparison of %s to undo: %w", reviewer, candidate, ErrNotFound)
		}
		w := compare.Withdrawal(last, at)
		body, err := json.Marshal(w)
		if err != nil {
			return err
		}
		return putComparison(txn, w, body)
	})
	return last, mapErr(err)
}

// CompareItems is the event ids of set that the candidate answers (answered
// holds the candidate's event ids) and that are stored, sorted. Only
// answered items can be compared, so "all" reads no more than the
// candidate's ids.
func (s *Store) CompareItems(set compare.ItemSet, answered map[string]string) ([]string, error) {
	var ids []string
	take := func(id string) {
		if _, ok := answered[id]; ok {
			ids = append(ids, id)
		}
	}
	var err error
	switch set {
	case compare.SetGolden, compare.SetRedFlag:
		kind := loop.SetGolden
		if set == compare.SetRedFlag {
			kind = loop.SetRedFlag
		}
		err = s.SetEntries(kind, func(e loop.SetEntry) error { take(e.EventID); return nil })
	case compare.SetQueue:
		err = s.Queued(func(q loop.QueueItem) error { take(q.EventID); return nil })
	case compare.SetAll:
		for id := range answered {
			ok, herr := s.Has(id)
			if herr != nil {
				return nil, herr
			}
			if ok {
				ids = append(ids, id)
			}
		}
	default:
		return nil, fmt.Errorf("unknown item set %q", set)
	}
	if err != nil {
		return nil, err
	}
	sort.Strings(ids)
	return ids, nil
}
