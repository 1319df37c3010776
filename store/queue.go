package store

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
)

// ArrivalFunc says whether an event a write makes new or changed (as it
// will be stored; Record indexes the records being written) is to be
// queued for review, and with what item: `loupe serve` puts arrivals
// through the config's sampling rules. It runs in the store's writer,
// under its write lock: it must be quick and do no I/O.
type ArrivalFunc func(c *Changed) (loop.QueueItem, bool)

// SetArrivals makes every PutRecords queue the items fn picks in the same
// transaction as the records that earned them: an event is never durable
// without its queue item, and queueing costs no commit of its own. An
// event already queued keeps its item, as with Enqueue. Nil turns it off.
func (s *Store) SetArrivals(fn ArrivalFunc) {
	s.putMu.Lock()
	s.arrivals = fn
	s.putMu.Unlock()
}

// queueArrivals adds to the units whose stored view changed the queue
// items s.arrivals picks. Only events stored before (a late signal changed
// them) are looked up, for a label or a queue entry: a new event has
// neither, since erasing an event deletes both.
func (s *Store) queueArrivals(order []*unit) error {
	var old []*unit
	for _, u := range order {
		if !u.changed {
			continue
		}
		if !u.newEvent {
			old = append(old, u)
			continue
		}
		if err := s.queueArrival(u, false); err != nil {
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
		if err := s.queueArrival(u, labelled[i]); err != nil {
			return err
		}
	}
	return nil
}

// queueArrival puts u's stored view to s.arrivals and plans the item it
// picks. A unit without a summary (an interaction edge sampling did not
// keep) is not stored for review.
func (s *Store) queueArrival(u *unit, labelled bool) error {
	k := len(u.keys) - 1 // the last summary planned is what is stored
	for ; k >= 0; k-- {
		if key := u.keys[k]; len(key) >= 9 && key[0] == prefixSummary {
			break
		}
	}
	if k < 0 {
		return nil
	}
	c := Changed{Labelled: labelled}
	if len(u.recs) > 0 {
		c.Record = u.recs[0]
	}
	if err := decodeSummary(u.vals[k], u.id, tsFrom(u.keys[k][1:9]), &c.Summary); err != nil {
		return fmt.Errorf("summary of %q: %w", u.id, err)
	}
	it, ok := s.arrivals(&c)
	if !ok {
		return nil
	}
	it.EventID = u.id
	b, err := json.Marshal(it)
	if err != nil {
		return err
	}
	u.set(queueKey(u.id), b)
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
			b, err := json.Marshal(it)
			if err != nil {
				return err
			}
			if err := txn.Set(queueKey(it.EventID), b); err != nil {
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
