package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
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

// Has reports whether an event with id is stored.
func (s *Store) Has(id string) (bool, error) {
	err := s.db.View(func(txn *badger.Txn) error {
		_, err := txn.Get(indexKey(id))
		return err
	})
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
		opt.Prefix = []byte{'s'}
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
		opt.Prefix = []byte{'e'}
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

// Count is the number of stored events.
func (s *Store) Count() (int, error) {
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = []byte{'i'}
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, mapErr(err)
}

// AllSummaries returns every event's summary in time order. It scans
// time slices of the keyspace in parallel, one per core (up to 4): the
// TUI loads a million summaries at start.
func (s *Store) AllSummaries() ([]loop.Summary, error) {
	var lo, hi []byte
	err := s.db.View(func(txn *badger.Txn) error {
		for _, rev := range []bool{false, true} {
			opt := badger.DefaultIteratorOptions
			opt.Prefix, opt.PrefetchValues, opt.Reverse = []byte{'s'}, false, rev
			it := txn.NewIterator(opt)
			if rev {
				it.Seek([]byte{'s', 0xff})
			} else {
				it.Rewind()
			}
			if it.Valid() && len(it.Item().Key()) >= 9 {
				if rev {
					hi = it.Item().KeyCopy(nil)[1:9]
				} else {
					lo = it.Item().KeyCopy(nil)[1:9]
				}
			}
			it.Close()
		}
		return nil
	})
	if err != nil || lo == nil || hi == nil {
		return nil, mapErr(err)
	}
	a, b := binary.BigEndian.Uint64(lo), binary.BigEndian.Uint64(hi)
	parts := min(runtime.GOMAXPROCS(0), 4)
	if b-a < uint64(parts) {
		parts = 1
	}
	bounds := make([]uint64, parts+1)
	for i := range bounds {
		bounds[i] = a + (b-a)/uint64(parts)*uint64(i)
	}
	bounds[parts] = b + 1 // inclusive of the last key's time
	out := make([][]loop.Summary, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for p := 0; p < parts; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[p], errs[p] = s.summaryRange(bounds[p], bounds[p+1], p == parts-1)
		}()
	}
	wg.Wait()
	n := 0
	for p := range out {
		if errs[p] != nil {
			return nil, errs[p]
		}
		n += len(out[p])
	}
	all := make([]loop.Summary, 0, n)
	for _, o := range out {
		all = append(all, o...)
	}
	return all, nil
}

// summaryRange scans summaries with encoded time in [from, to), or up to
// the end when last.
func (s *Store) summaryRange(from, to uint64, last bool) ([]loop.Summary, error) {
	var out []loop.Summary
	in := newInterner()
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix, opt.PrefetchValues = []byte{'s'}, false
		it := txn.NewIterator(opt)
		defer it.Close()
		start := binary.BigEndian.AppendUint64([]byte{'s'}, from)
		for it.Seek(start); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) < 9 {
				continue
			}
			if !last && binary.BigEndian.Uint64(k[1:9]) >= to {
				break
			}
			var sum loop.Summary
			if err := item.Value(func(v []byte) error {
				return decodeSummaryIn(v, string(k[9:]), tsFrom(k[1:9]), &sum, in)
			}); err != nil {
				return fmt.Errorf("summary of %q: %w", k[9:], err)
			}
			out = append(out, sum)
		}
		return nil
	})
	return out, mapErr(err)
}
