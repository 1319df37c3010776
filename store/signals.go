package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"slices"
	"strings"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
)

// NewSignalRecord encodes a (validated, masked: loop.PrepareSignal) signal
// for PutRecords.
func NewSignalRecord(sg *loop.Signal) Record {
	b := loop.AppendSignalJSON(make([]byte, 0, 256), sg)
	r := Record{ID: sg.EventID, Time: sg.Timestamp, Body: b, Signal: sg}
	h := sha256.Sum256(b)
	copy(r.Hash[:], h[:16])
	return r
}

// tombHash is the keyed hash a tombstone is stored under: the event id is
// not kept once consent is withdrawn, only proof that it was.
func (s *Store) tombHash(id string) []byte {
	var sum []byte
	s.withMAC(func(h hash.Hash) {
		h.Write([]byte("tombstone\x00"))
		h.Write([]byte(id))
		sum = h.Sum(make([]byte, 0, sha256.Size))[:16]
	})
	return sum
}

// Prehash computes, ahead of the store's single writer (in ingest's
// parallel workers), the keyed hash its tombstone check needs for r.
func (s *Store) Prehash(r *Record) { r.tomb = s.tombHash(r.ID) }

// tombOf is r's tombstone hash: Prehash's, or computed now.
func (s *Store) tombOf(r *Record) []byte {
	if r.tomb != nil {
		return r.tomb
	}
	return s.tombHash(r.ID)
}

// buildFilter fills a filter with the ids of the keys under p (the id is
// the key after the prefix, up to a NUL when cut is set).
func (s *Store) buildFilter(p byte, cut bool) (*idFilter, error) {
	var ids []string
	err := s.db.View(func(txn *badger.Txn) error {
		return scanPrefix(txn, prefix(p), false, func(k, _ []byte) error {
			k = k[1:]
			if cut {
				if i := bytes.IndexByte(k, sep); i >= 0 {
					k = k[:i]
				}
			}
			ids = append(ids, string(k))
			return nil
		})
	})
	if err != nil {
		return nil, mapErr(err)
	}
	f := newIDFilter(2*len(ids) + 1<<16)
	for _, id := range ids {
		f.add(id)
	}
	return f, nil
}

// sigIDs is the filter of stored signal ids. Called with putMu held.
func (s *Store) sigIDs() (*idFilter, error) {
	if s.sigf != nil && !s.sigf.full() {
		return s.sigf, nil
	}
	f, err := s.buildFilter(prefixSignalID, false)
	if err == nil {
		s.sigf = f
	}
	return f, err
}

// pendingIDs is the filter of event ids with pending signals: an
// interaction it does not name has none, and pays no lookup. Called with
// putMu held.
func (s *Store) pendingIDs() (*idFilter, error) {
	if s.pendf != nil && !s.pendf.full() {
		return s.pendf, nil
	}
	f, err := s.buildFilter(prefixPending, true)
	if err == nil {
		s.pendf = f
	}
	return f, err
}

// tombstones is the set of withdrawn events' keyed hashes, loaded on first
// use. Called with putMu held.
func (s *Store) tombstones() (map[string]struct{}, error) {
	if s.tombs != nil {
		return s.tombs, nil
	}
	t := map[string]struct{}{}
	err := s.db.View(func(txn *badger.Txn) error {
		return scanPrefix(txn, prefix(prefixTomb), false, func(k, _ []byte) error {
			t[string(k[1:])] = struct{}{}
			return nil
		})
	})
	if err != nil {
		return nil, mapErr(err)
	}
	s.tombs = t
	return t, nil
}

// withdraw applies a signal withdrawing consent: the interaction, its
// signals (pending ones too), labels, set and queue entries are erased and
// a tombstone written, in one transaction. A second withdrawal of the same
// event is Withdrawn. It reports whether a stored event was erased.
//
// A refusal (Record.Refused) goes through refuseAll instead.
//
// An unkept interaction (edge sampling, unkept.go) goes the same way: its
// stub, index and signal keys are erased and its contribution subtracted
// from the aggregates; it reports aggChanged then, not erased (it was
// never shown).
func (s *Store) withdraw(r Record, out *PutStatus) (wasErased, aggChanged bool, err error) {
	tombs, err := s.tombstones()
	if err != nil {
		return false, false, err
	}
	h := s.tombHash(r.ID)
	if _, gone := tombs[string(h)]; gone {
		*out = Withdrawn
		return false, false, nil
	}
	var keys [][]byte
	var ts []byte
	unkept := false
	var delta *agg.Table
	err = s.db.View(func(txn *badger.Txn) error {
		v, err := getValue(txn, indexKey(r.ID))
		if err == nil && len(v) >= 8 {
			ts = v[:8]
		} else if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		if unkeptIndex(v) {
			unkept = true
			keys, delta, err = stubErase(txn, r.ID, true)
			return err
		}
		keys, err = eventKeys(txn, nil, r.ID, ts)
		return err
	})
	if err != nil {
		return false, false, err
	}
	// Reviewers' drafts, undo entries and leases on it go first: a crash
	// before the tombstone leaves the withdrawal to be done again whole.
	if !unkept {
		if err := s.eraseReviewState([]erased{{id: r.ID, ts: ts}}); err != nil {
			return false, false, err
		}
	}
	err = s.update(func(txn *badger.Txn) error {
		if err := deleteKeys(txn, keys...); err != nil {
			return err
		}
		if delta != nil {
			if err := addAggregates(txn, delta); err != nil {
				return err
			}
		}
		if err := txn.Set(metaErasePending, nil); err != nil {
			return err
		}
		return txn.Set(tombKey(h), nil)
	})
	if err != nil {
		return false, false, err
	}
	tombs[string(h)] = struct{}{}
	s.erased.Store(true)
	*out = Stored
	if unkept {
		return false, delta != nil, nil
	}
	return ts != nil || len(keys) > 0, false, nil
}

// refuseAll applies the refusals recs[at...] (Record.Refused: interactions
// whose users withheld consent), in one read and one transaction: each id
// already stored (in full or as a stub) keeps its consent (Duplicate); one
// tombstoned already is Withdrawn; any other gets its tombstone and loses
// what waits for it (pending signals), so that its signals still to come
// are withdrawn too. The ids must be distinct, and each refusal must read
// the store as it is at its place in the records' order: PutRecords calls
// it at that place, or first for refusals no earlier record of the batch
// shares an id with.
func (s *Store) refuseAll(recs []Record, at []int, out []PutStatus) error {
	tombs, err := s.tombstones()
	if err != nil {
		return err
	}
	type refusal struct {
		i    int
		h    []byte
		keys [][]byte
	}
	known, err := s.ids()
	if err != nil {
		return err
	}
	var todo []refusal
	err = s.db.View(func(txn *badger.Txn) error {
		it := keyIterator(txn)
		defer it.Close()
		for _, i := range at {
			id := recs[i].ID
			h := s.tombHash(id)
			if _, gone := tombs[string(h)]; gone {
				out[i] = Withdrawn
				continue
			}
			if known.mayContain(id) {
				v, err := getValue(txn, indexKey(id))
				if err == nil && len(v) >= 8 {
					out[i] = Duplicate // the interaction is stored: its consent stands
					continue
				} else if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
					return err
				}
			}
			keys, err := eventKeys(txn, it, id, nil)
			if err != nil {
				return err
			}
			todo = append(todo, refusal{i, h, keys})
		}
		return nil
	})
	if err != nil || len(todo) == 0 {
		return err
	}
	// write commits todo in one transaction, or in halves when that is
	// too big (refusals with many signals waiting each).
	var write func(todo []refusal) error
	write = func(todo []refusal) error {
		reclaim := false
		for _, r := range todo {
			reclaim = reclaim || len(r.keys) > 0
		}
		err := s.update(func(txn *badger.Txn) error {
			for _, r := range todo {
				if err := deleteKeys(txn, r.keys...); err != nil {
					return err
				}
				if err := txn.Set(tombKey(r.h), nil); err != nil {
					return err
				}
			}
			if reclaim {
				return txn.Set(metaErasePending, nil)
			}
			return nil
		})
		if errors.Is(err, badger.ErrTxnTooBig) && len(todo) > 1 {
			if err := write(todo[:len(todo)/2]); err != nil {
				return err
			}
			return write(todo[len(todo)/2:])
		}
		if err != nil {
			return err
		}
		for _, r := range todo {
			tombs[string(r.h)] = struct{}{}
			out[r.i] = Stored
		}
		if reclaim {
			s.erased.Store(true)
		}
		return nil
	}
	return write(todo)
}

// eventKeys lists every key of an event to erase it: the event, summary,
// index, original, queue and set entries, labels and history, comparisons,
// the OTLP spans it was derived from, its signals
// with their idempotency and pending records. ts is the encoded time from
// its index, nil when the interaction is not stored.
//
// it, when not nil, is an iterator of txn without a prefix (keyIterator)
// to seek with: callers erasing many events share one, since making an
// iterator costs more than a seek. Nil: eventKeys makes its own.
func eventKeys(txn *badger.Txn, it *badger.Iterator, id string, ts []byte) ([][]byte, error) {
	if it == nil {
		it = keyIterator(txn)
		defer it.Close()
	}
	var keys [][]byte
	if ts != nil {
		// Deleting a key that is not there costs a tombstone, less than
		// looking first.
		keys = append(keys, timedKey(prefixEvent, ts, id), timedKey(prefixSummary, ts, id), indexKey(id),
			originalKey(id), queueKey(id), setKey(loop.SetGolden, id), setKey(loop.SetRedFlag, id))
	}
	for _, p := range [][]byte{idPrefix(prefixLabel, id), idPrefix(prefixHistory, id), idPrefix(prefixPending, id),
		idPrefix(prefixCompare, id), idPrefix(prefixCompareHist, id), idPrefix(prefixSpan, id)} {
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
	}
	sp := idPrefix(prefixSignal, id)
	for it.Seek(sp); it.ValidForPrefix(sp); it.Next() {
		k := it.Item().KeyCopy(nil)
		keys = append(keys, k, signalIDKey(string(k[len(sp):])))
	}
	return keys, nil
}

// keyIterator is an iterator of txn's keys, without values, for seeking.
func keyIterator(txn *badger.Txn) *badger.Iterator {
	opt := badger.DefaultIteratorOptions
	opt.PrefetchValues = false
	return txn.NewIterator(opt)
}

// metaErasePending marks an erasure whose bytes may still be on disk: the
// next Close, or Open after a crash, reclaims them.
var metaErasePending = metaKey("erase_pending")

// finishErase runs after the database is closed when this session erased
// something: the value-log file that was active then may hold erased
// bodies, and only a file that is no longer active can be rewritten, so
// the database is opened once more, compacted and closed.
func (s *Store) finishErase() error {
	db, err := badger.Open(s.opts)
	if err != nil {
		return fmt.Errorf("reclaiming erased data: %w", err)
	}
	s.db = db
	s.compact()
	err = db.Update(func(txn *badger.Txn) error { return deleteKeys(txn, metaErasePending) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	return err
}

// compact pushes deletions down the LSM tree and rewrites the value-log
// files that hold deleted values, so erased bytes leave the disk.
func (s *Store) compact() {
	// The deletions may still sit in a memtable, where no compaction sees
	// them.
	s.flushMemtable() // snapshot.go
	_ = s.db.Flatten(2)
	// Erased bodies must not wait for their file to be half garbage, as
	// the periodic reclaim does: rewrite every value-log file that holds
	// any (Badger never rewrites the one being written; see finishErase).
	for i := 0; i < 1000; i++ {
		if s.db.RunValueLogGC(1e-6) != nil {
			break
		}
	}
}

// notifyUpdated tells watchers that these events' stored views changed.
func (s *Store) notifyUpdated(ids []string) {
	s.w.mu.Lock()
	none := len(s.w.subs) == 0
	s.w.mu.Unlock()
	if len(ids) == 0 || none {
		return
	}
	ids = sortedUnique(ids)
	s.notify(Change{EventID: ids[0], Updated: true, Events: ids})
}

var metaDropped = metaKey("dropped_signals")

// ExpirePending drops the pending signals (those whose interaction never
// came) that arrived before t, and counts them in the store's dropped
// total. It returns how many it dropped.
func (s *Store) ExpirePending(t time.Time) (int, error) {
	s.putMu.Lock()
	defer s.putMu.Unlock()
	cutoff := tsBytes(nil, t)
	var keys [][]byte
	n := 0
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixPending)
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.KeyCopy(nil)
			var old bool
			if err := item.Value(func(v []byte) error {
				old = len(v) >= 8 && bytes.Compare(v[:8], cutoff) < 0
				return nil
			}); err != nil {
				return err
			}
			if !old {
				continue
			}
			rest := k[1:]
			i := bytes.IndexByte(rest, sep)
			if i < 0 {
				continue
			}
			eid, sid := string(rest[:i]), string(rest[i+1:])
			keys = append(keys, k, signalKey(eid, sid), signalIDKey(sid))
			n++
		}
		return nil
	})
	if err != nil || n == 0 {
		return 0, mapErr(err)
	}
	err = s.update(func(txn *badger.Txn) error {
		if err := deleteKeys(txn, keys...); err != nil {
			return err
		}
		total := uint64(n)
		if v, err := getValue(txn, metaDropped); err == nil && len(v) == 8 {
			total += binary.BigEndian.Uint64(v)
		} else if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return txn.Set(metaDropped, binary.BigEndian.AppendUint64(nil, total))
	})
	if err != nil {
		return 0, mapErr(err)
	}
	s.sigf, s.pendf = nil, nil // rebuilt without the dropped ones
	return n, nil
}

// SignalStats counts the signals waiting for their interaction (pending)
// and those dropped so far because it never came (see ExpirePending).
func (s *Store) SignalStats() (pending, dropped int, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		if err := scanPrefix(txn, prefix(prefixPending), false, func(_, _ []byte) error {
			pending++
			return nil
		}); err != nil {
			return err
		}
		v, err := getValue(txn, metaDropped)
		if err == nil && len(v) == 8 {
			dropped = int(binary.BigEndian.Uint64(v))
		} else if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return nil
	})
	return pending, dropped, mapErr(err)
}

// Signals returns the stored signals about an event (pending ones too),
// oldest first (ties by signal id), as the timeline shows them.
func (s *Store) Signals(eventID string) ([]*loop.Signal, error) {
	var out []*loop.Signal
	err := s.db.View(func(txn *badger.Txn) error {
		return scanPrefix(txn, idPrefix(prefixSignal, eventID), true, func(_, v []byte) error {
			sg, err := loop.DecodeStoredSignal(v)
			if err != nil {
				return err
			}
			out = append(out, sg)
			return nil
		})
	})
	if err != nil {
		return nil, mapErr(err)
	}
	sortSignals(out)
	return out, nil
}

// AllSignals calls fn with every stored signal (pending ones too), ordered
// by event id, then signal id, until fn returns an error, which AllSignals
// returns. Trends use it to tell how many signals revised a day after it
// ended (a signal's Timestamp against its interaction's day).
func (s *Store) AllSignals(fn func(*loop.Signal) error) error {
	return mapErr(s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixSignal)
		opt.PrefetchValues = false // small values, in the LSM tree
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var sg *loop.Signal
			if err := it.Item().Value(func(v []byte) error {
				var err error
				sg, err = loop.DecodeStoredSignal(bytes.Clone(v))
				return err
			}); err != nil {
				return err
			}
			if err := fn(sg); err != nil {
				return err
			}
		}
		return nil
	}))
}

// Original returns the interaction as it arrived (masked), before any
// signal was merged into it; ErrNotFound when it is not stored.
func (s *Store) Original(id string) (*loop.Event, error) {
	var body []byte
	err := s.db.View(func(txn *badger.Txn) error {
		v, err := getValue(txn, originalKey(id))
		if err == nil {
			body = v
			return nil
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	if body == nil {
		return s.Event(id) // no signals: the stored event is the original
	}
	if body, err = decompressBody(nil, body); err != nil {
		return nil, fmt.Errorf("original of %q: %w", id, err)
	}
	return decodeEvent(body)
}

// Summary returns the stored (merged) summary of one event, or ErrNotFound.
func (s *Store) Summary(id string) (loop.Summary, error) {
	var sum loop.Summary
	err := s.db.View(func(txn *badger.Txn) error {
		v, err := getValue(txn, indexKey(id))
		if err != nil {
			return err
		}
		if len(v) < 8 {
			return errBadSummary
		}
		ts := tsFrom(v)
		sv, err := getValue(txn, summaryKey(ts, id))
		if err != nil {
			return err
		}
		return decodeSummary(sv, id, ts, &sum)
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return sum, fmt.Errorf("event %q: %w", id, ErrNotFound)
	}
	return sum, mapErr(err)
}

// ChangedOf is what PutRecordsChanged reports, for events already stored:
// each of ids that has a stored summary (erased since, or not kept by
// edge sampling, it has none), in the order of ids, Record being its
// index in ids. The OTLP source, which writes through PutTrace, samples
// its events with it.
func (s *Store) ChangedOf(ids []string) ([]Changed, error) {
	var out []Changed
	err := s.db.View(func(txn *badger.Txn) error {
		labels := labelSeeker(txn)
		defer labels.Close()
		for i, id := range ids {
			v, err := getValue(txn, indexKey(id))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if len(v) < 8 {
				return fmt.Errorf("event %q: %w", id, errBadSummary)
			}
			ts := tsFrom(v)
			item, err := txn.Get(summaryKey(ts, id))
			if errors.Is(err, badger.ErrKeyNotFound) {
				continue // not kept (edge sampling): a stub, not a summary
			} else if err != nil {
				return err
			}
			c := Changed{Record: i}
			if err := item.Value(func(sv []byte) error { return decodeSummary(sv, id, ts, &c.Summary) }); err != nil {
				return fmt.Errorf("summary of %q: %w", id, err)
			}
			c.Labelled = hasLabel(labels, id)
			out = append(out, c)
		}
		return nil
	})
	return out, mapErr(err)
}

func sortSignals(sigs []*loop.Signal) {
	slices.SortFunc(sigs, func(a, b *loop.Signal) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return strings.Compare(a.SignalID, b.SignalID)
	})
}

func decodeEvent(b []byte) (*loop.Event, error) {
	var e loop.Event
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
