package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
)

// ArrivalFunc says whether an event a write makes new or changed, as it
// will be stored (Record is not set), is to be queued for review, and with
// what item (its EventID is the store's to set): `loupe serve` puts
// arrivals through the config's sampling rules. It runs in ingest's
// workers and in the store's writer: it must be quick, do no I/O and be
// safe for concurrent use.
type ArrivalFunc func(c *Changed) (loop.QueueItem, bool)

// SetArrivals makes every PutRecords queue the items fn picks in the same
// transaction as the records that earned them: an event is never durable
// without its queue item, and queueing costs no commit of its own. An
// event already queued keeps its item, as with Enqueue. Records made by
// RecordOf are put to fn in the caller's goroutine, so that a new event
// stored as it came costs the writer nothing. Nil turns it off.
func (s *Store) SetArrivals(fn ArrivalFunc) {
	s.putMu.Lock()
	defer s.putMu.Unlock()
	if fn == nil {
		s.arrivals.Store(nil)
		return
	}
	s.arrivals.Store(&fn)
}

// pickArrival puts a new record's summary to the store's arrivals (see
// Record.picked).
func (s *Store) pickArrival(r *Record, sum *loop.Summary) {
	if fn := s.arrivals.Load(); fn != nil {
		r.picked, r.queued = true, arrivalItem(*fn, &Changed{Summary: *sum}, r.ID)
	}
}

// arrivalItem is the queue item fn picks for c, as stored; nil: none.
func arrivalItem(fn ArrivalFunc, c *Changed, id string) []byte {
	it, ok := fn(c)
	if !ok {
		return nil
	}
	it.EventID = id
	return it.AppendJSON(make([]byte, 0, 128))
}

// EnqueueArrivals queues, in one commit, the items the store's arrivals
// (SetArrivals) pick of chg: for writes PutRecords did not make, whose
// events ChangedOf reads back (OTLP traces). It returns how many were
// added, as Enqueue.
func (s *Store) EnqueueArrivals(chg []Changed) (int, error) {
	fn := s.arrivals.Load()
	if fn == nil {
		return 0, nil
	}
	var items []loop.QueueItem
	for i := range chg {
		if it, ok := (*fn)(&chg[i]); ok {
			it.EventID = chg[i].Summary.ID
			items = append(items, it)
		}
	}
	if len(items) == 0 {
		return 0, nil
	}
	return s.Enqueue(items)
}

// queueArrivals adds to the units whose stored view changed the queue
// items fn picks. Only events stored before (a late signal changed them)
// are looked up, for a label or a queue entry: a new event has neither,
// since erasing an event deletes both.
func (s *Store) queueArrivals(fn ArrivalFunc, recs []Record, order []*unit) error {
	var old []*unit
	for _, u := range order {
		if !u.changed {
			continue
		}
		if !u.newEvent {
			old = append(old, u)
			continue
		}
		if err := queueArrival(fn, recs, u, false); err != nil {
			return err
		}
	}
	if len(old) == 0 {
		return nil
	}
	labelled := make([]bool, len(old))
	queued := make([]bool, len(old))
	err := s.db.View(func(txn *badger.Txn) error {
		it := labelSeeker(txn)
		defer it.Close()
		for i, u := range old {
			labelled[i] = hasLabel(it, u.id)
			if _, err := txn.Get(queueKey(u.id)); err == nil {
				queued[i] = true
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, u := range old {
		if queued[i] {
			continue
		}
		if err := queueArrival(fn, recs, u, labelled[i]); err != nil {
			return err
		}
	}
	return nil
}

// queueArrival plans the queue item fn picks of u's stored view. A unit
// without a summary (an interaction edge sampling did not keep) is not
// stored for review. A new event stored with its record's own summary
// takes the pick RecordOf made of it.
func queueArrival(fn ArrivalFunc, recs []Record, u *unit, labelled bool) error {
	k := u.summaryAt()
	if k < 0 {
		return nil
	}
	v := u.vals[k]
	if u.newEvent && len(u.recs) > 0 && len(v) > 0 {
		if r := &recs[u.recs[0]]; r.picked && len(r.Summary) == len(v) && &r.Summary[0] == &v[0] {
			if r.queued != nil {
				u.set(queueKey(u.id), r.queued)
			}
			return nil
		}
	}
	c := Changed{Labelled: labelled}
	if err := decodeSummary(v, u.id, tsFrom(u.keys[k][1:9]), &c.Summary); err != nil {
		return fmt.Errorf("summary of %q: %w", u.id, err)
	}
	if b := arrivalItem(fn, &c, u.id); b != nil {
		u.set(queueKey(u.id), b)
	}
	return nil
}

// Enqueue adds items to the review queue in one commit. An event already
// queued keeps its first entry (no item is queued twice); it returns how
// many were added.
func (s *Store) Enqueue(items []loop.QueueItem) (int, error) {
	added := 0
	var ids []string
	err := s.update(func(txn *badger.Txn) error {
		ids = ids[:0]
		for _, it := range items {
			if _, err := txn.Get(queueKey(it.EventID)); err == nil {
				continue
			} else if !errors.Is(err, badger.ErrKeyNotFound) {
				return err
			}
			if err := storedIndex(txn, it.EventID); err != nil {
				if errors.Is(err, badger.ErrKeyNotFound) {
					continue // erased since it was sampled
				}
				return err
			}
			if err := txn.Set(queueKey(it.EventID), it.AppendJSON(nil)); err != nil {
				return err
			}
			added++
			ids = append(ids, it.EventID)
		}
		return nil
	})
	if err == nil {
		s.notifyUpdated(ids) // views (the TUI's To review) re-read the queue
	}
	return added, mapErr(err)
}

// Queued calls fn with every queued item, by event id.
func (s *Store) Queued(fn func(loop.QueueItem) error) error {
	return s.scanJSON(prefix(prefixQueue), func(b []byte) error {
		var it loop.QueueItem
		if err := json.Unmarshal(b, &it); err != nil {
			return err
		}
		return fn(it)
	})
}
