package store

import (
	"sync"

	"github.com/loupe-dev/loupe/loop"
)

// Change tells watchers that a label, a set entry or an event's stored
// view changed, so views over the same store (several SSH sessions in one
// `loupe serve`) can refresh.
type Change struct {
	EventID string
	// Updated says stored records (the merged view of an interaction and
	// its signals) are new, changed, or erased (consent withdrawn), or
	// were queued for review: reload the summaries, events and queue
	// entries of Events. One write sends one such change
	// for all its events (sorted; EventID is the first), so that a large
	// ingest does not crowd label changes out of a watcher's buffer.
	Updated bool
	Events  []string
	Label   *loop.Label  // the label written, when a label changed
	Set     loop.SetKind // the set, when a set entry changed
	Removed bool         // the set entry was removed
	Lease   bool         // a lease on the queue item was taken or released
	// Aggregates says the aggregates of interactions not kept in full
	// changed (reload Store.Aggregates).
	Aggregates bool
}

type watchers struct {
	mu   sync.Mutex
	next int
	subs map[int]chan Change
}

// Watch returns a channel of changes made through this Store after the
// call, and a function that stops the watch and closes the channel. A slow
// reader misses changes rather than blocking writers: the channel holds 64.
func (s *Store) Watch() (<-chan Change, func()) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	if s.w.subs == nil {
		s.w.subs = map[int]chan Change{}
	}
	id := s.w.next
	s.w.next++
	ch := make(chan Change, 64)
	s.w.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			s.w.mu.Lock()
			delete(s.w.subs, id)
			s.w.mu.Unlock()
			close(ch)
		})
	}
}

func (s *Store) notify(c Change) {
	s.w.mu.Lock()
	defer s.w.mu.Unlock()
	for _, ch := range s.w.subs {
		select {
		case ch <- c:
		default:
		}
	}
}
