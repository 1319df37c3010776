package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
)

// Event returns the stored (masked) event with id, or ErrNotFound.
func (s *Store) Event(id string) (*loop.Event, error) {
	var e loop.Event
	err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(indexKey(id))
		if err != nil {
			return err
		}
		var ts time.Time
		if err := item.Value(func(v []byte) error {
			if len(v) < 8 {
				return fmt.Errorf("store: corrupt index record for %q", id)
			}
			ts = tsFrom(v)
			return nil
		}); err != nil {
			return err
		}
		item, err = txn.Get(eventKey(ts, id))
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &e) })
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, fmt.Errorf("event %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, mapErr(err)
	}
	return &e, nil
}

// Has reports whether an event with id is stored (in full: not an
// interaction edge sampling did not keep).
func (s *Store) Has(id string) (bool, error) {
	err := s.db.View(func(txn *badger.Txn) error { return storedIndex(txn, id) })
	if errors.Is(err, badger.ErrKeyNotFound) {
		return false, nil
	}
	return err == nil, mapErr(err)
}

// Summaries calls fn with every event's summary in time order until fn
// returns false. The summary is fn's to keep.
func (s *Store) Summaries(fn func(loop.Summary) bool) error {
	return mapErr(s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixSummary)
		// Summaries are small values kept in the LSM tree: reading them
		// in place beats Badger's prefetch, which starts a goroutine per
		// item.
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		var sum loop.Summary
		in := newInterner()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) < 9 {
				continue
			}
			err := item.Value(func(v []byte) error {
				return decodeSummaryIn(v, string(k[9:]), tsFrom(k[1:9]), &sum, in)
			})
			if err != nil {
				return fmt.Errorf("summary of %q: %w", k[9:], err)
			}
			if !fn(sum) {
				return nil
			}
		}
		return nil
	}))
}

// Events calls fn with every stored event body (masked JSON) in time order
// until fn returns an error, which Events returns. The slice is only valid
// during the call.
func (s *Store) Events(fn func(id string, body []byte) error) error {
	return mapErr(s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixEvent)
		opt.PrefetchSize = 256
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) < 9 {
				continue
			}
			id := string(k[9:])
			if err := item.Value(func(v []byte) error { return fn(id, v) }); err != nil {
				return err
			}
		}
		return nil
	}))
}

// Count is the number of stored events (unkept interactions, see
// AggregateStats, not included).
func (s *Store) Count() (int, error) {
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixIndex)
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		// Every unkept interaction has one stub and one index key,
		// written and erased together: subtract the stubs.
		opt.Prefix = prefix(prefixStub)
		zt := txn.NewIterator(opt)
		defer zt.Close()
		for zt.Rewind(); zt.Valid(); zt.Next() {
			n--
		}
		return nil
	})
	return n, mapErr(err)
}

// AllSummaries returns every event's summary in time order, categorical
// strings shared (the TUI loads a million at start). Summaries are
// gathered in fixed-size chunks and copied once into a slice of the exact
// size: growing one slice of a million ~200-byte structs by doubling cost
// more than the scan itself. (A parallel scan of time slices was tried and
// measured no faster: Badger's iteration dominates.)
func (s *Store) AllSummaries() ([]loop.Summary, error) {
	const chunk = 16 << 10
	var chunks [][]loop.Summary
	cur := make([]loop.Summary, 0, chunk)
	n := 0
	err := s.Summaries(func(sum loop.Summary) bool {
		if len(cur) == chunk {
			chunks = append(chunks, cur)
			cur = make([]loop.Summary, 0, chunk)
		}
		cur = append(cur, sum)
		n++
		return true
	})
	if err != nil {
		return nil, err
	}
	out := make([]loop.Summary, 0, n)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, cur...), nil
}
