package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unsafe"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/inbox"
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
		return item.Value(func(v []byte) error {
			b, err := decompressBody(nil, v)
			if err != nil {
				return fmt.Errorf("event %q: %w", id, err)
			}
			return json.Unmarshal(b, &e)
		})
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
		var bodies bodyScan
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			if len(k) < 9 {
				continue
			}
			id := string(k[9:])
			if err := item.Value(func(v []byte) error {
				b, err := bodies.decode(v)
				if err != nil {
					return fmt.Errorf("event %q: %w", id, err)
				}
				return fn(id, b)
			}); err != nil {
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
		// The index values are small and in the LSM tree: reading them
		// tells an unkept interaction's from a stored event's.
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixIndex)
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := it.Item().Value(func(v []byte) error {
				if !unkeptIndex(v) {
					n++
				}
				return nil
			}); err != nil {
				return err
			}
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

// Inbox is every event's summary as the TUI's inbox holds them: in
// columns, newest first (the store's time order reversed). The summary
// range is read from one snapshot in two halves of its time span at once
// (two cores), each decoded straight into its own part of the list with
// nothing allocated per summary; the parts are then joined.
//
// When the store holds a valid inbox snapshot (snapshot.go), the list is
// that snapshot with the summaries written since merged in: the same list,
// from one sequential read of a file.
func (s *Store) Inbox() (*inbox.List, error) {
	var l *inbox.List
	err := s.db.View(func(txn *badger.Txn) error {
		var err error
		l, err = s.inboxAt(txn)
		return err
	})
	return l, mapErr(err)
}

// fullInbox is the inbox from a scan of every summary txn sees.
func (s *Store) fullInbox(txn *badger.Txn) (*inbox.List, error) {
	var parts []*inbox.List
	err := func() error {
		bounds := summaryHalves(txn)
		parts = make([]*inbox.List, len(bounds)-1)
		// Sized up front: growing the columns of a million items by
		// doubling costs a tenth of the load in copying alone.
		each := s.summaryCountHint() / len(parts)
		errs := make([]error, len(parts))
		done := make(chan int, len(parts))
		for i := range parts {
			go func() {
				parts[i], errs[i] = scanInbox(txn, bounds[i], bounds[i+1], each, 0)
				done <- i
			}()
		}
		for range parts {
			<-done
		}
		return errors.Join(errs...)
	}()
	if err != nil {
		return nil, err
	}
	return inbox.Reversed(parts...), nil
}

// summaryCountHint is about how many summaries are stored, from the key
// counts of the tables holding only summary keys: a lower bound, short of
// the few in tables shared with other prefixes and in the memtables.
func (s *Store) summaryCountHint() int {
	n := 0
	for _, t := range s.db.Tables() {
		if len(t.Left) > 0 && len(t.Right) > 0 && t.Left[0] == prefixSummary && t.Right[0] == prefixSummary {
			n += int(t.KeyCount)
		}
	}
	return n
}

// summaryHalves splits the summary keys at the middle of their time span:
// the bounds of two ranges, the first from the prefix on, the last open
// (nil). An empty or one-instant store is one range.
func summaryHalves(txn *badger.Txn) [][]byte {
	whole := [][]byte{prefix(prefixSummary), nil}
	ends := [2][]byte{}
	for i, rev := range []bool{false, true} {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixSummary)
		opt.PrefetchValues = false
		opt.Reverse = rev
		it := txn.NewIterator(opt)
		if rev {
			it.Seek([]byte{prefixSummary, 0xff})
		} else {
			it.Rewind()
		}
		if it.Valid() {
			ends[i] = it.Item().KeyCopy(nil)
		}
		it.Close()
	}
	if len(ends[0]) < 9 || len(ends[1]) < 9 {
		return whole
	}
	first, last := tsFrom(ends[0][1:9]), tsFrom(ends[1][1:9])
	if !last.After(first) {
		return whole
	}
	mid := tsBytes(prefix(prefixSummary), first.Add(last.Sub(first)/2))
	return [][]byte{whole[0], mid, nil}
}

// scanInbox decodes the summaries from key from up to (not including) key
// to, nil meaning the prefix's end, in key (time) order; since > 0 keeps
// only those written after that version (an inbox snapshot's delta).
func scanInbox(txn *badger.Txn, from, to []byte, hint int, since uint64) (*inbox.List, error) {
	opt := badger.DefaultIteratorOptions
	opt.Prefix = prefix(prefixSummary)
	opt.SinceTs = since
	// Summaries are small values kept in the LSM tree: reading them in
	// place beats Badger's prefetch, which starts a goroutine per item.
	opt.PrefetchValues = false
	it := txn.NewIterator(opt)
	defer it.Close()
	b := inbox.NewBuilder(hint)
	var sum loop.Summary
	reasons := make([]string, 0, 8)
	for it.Seek(from); it.Valid(); it.Next() {
		item := it.Item()
		k := item.Key()
		if to != nil && bytes.Compare(k, to) >= 0 {
			break
		}
		if len(k) < 9 {
			continue
		}
		// The id is a view of the key, the rest views of the value:
		// the builder copies what it keeps before the iterator moves.
		id := unsafe.String(unsafe.SliceData(k[9:]), len(k)-9)
		err := item.Value(func(v []byte) error {
			if err := decodeSummaryView(v, id, tsFrom(k[1:9]), &sum, reasons); err != nil {
				return err
			}
			b.Add(&sum)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("summary of %q: %w", k[9:], err)
		}
	}
	return b.List(), nil
}
