package store

import (
	"encoding/json"
	"errors"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
)

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
