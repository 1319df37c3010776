package ingest

import (
	"slices"
	"sync"

	"github.com/loupe-dev/loupe/store"
)

// committer merges the writes of concurrent requests into one PutRecords
// call: every commit waits for the disk (SyncWrites), so requests arriving
// while one commit is under way share the next one instead of queueing for
// a commit each. Events of one request stay in order and together, and
// PutRecords sees ids repeated across requests exactly as if the requests
// had come one after another.
type committer struct {
	st *store.Store
	// changed: report the events whose stored view changed (OnStored)
	changed bool
	// putFn, when set, stores in place of st (tests)
	putFn func([]store.Record) ([]store.PutStatus, []store.Changed, error)

	mu    sync.Mutex
	queue []*put
	busy  bool
}

type put struct {
	recs    []store.Record
	status  []store.PutStatus
	changed []store.Changed // Record indexes into recs
	err     error
	done    chan struct{}
}

// put stores recs and returns once they are durable (or failed), with the
// events whose stored view changed (store.PutRecordsChanged).
func (c *committer) put(recs []store.Record) ([]store.PutStatus, []store.Changed, error) {
	p := &put{recs: recs, done: make(chan struct{})}
	c.mu.Lock()
	c.queue = append(c.queue, p)
	if !c.busy {
		c.busy = true
		go c.run()
	}
	c.mu.Unlock()
	<-p.done
	return p.status, p.changed, p.err
}

// run commits what is queued until nothing is. It runs on a goroutine of
// its own, not on the caller that found the committer idle: that caller
// would otherwise go on committing the others' writes for as long as they
// keep coming, and its own source (a Kafka partition, an HTTP request)
// would wait that long after its write was durable.
func (c *committer) run() {
	c.mu.Lock()
	for len(c.queue) > 0 {
		group := c.queue
		c.queue = nil
		c.mu.Unlock()
		c.commit(group)
		c.mu.Lock()
	}
	c.busy = false
	c.mu.Unlock()
}

func (c *committer) commit(group []*put) {
	defer func() {
		for _, p := range group {
			close(p.done)
		}
	}()
	if len(group) == 1 {
		p := group[0]
		p.status, p.changed, p.err = c.putRecords(p.recs)
		return
	}
	n := 0
	for _, p := range group {
		n += len(p.recs)
	}
	all := make([]store.Record, 0, n)
	for _, p := range group {
		all = append(all, p.recs...)
	}
	status, changed, err := c.putRecords(all)
	ends := make([]int, len(group)) // ends[k]: the index after put k's records
	off := 0
	for k, p := range group {
		p.err = err
		if off < len(status) {
			p.status = status[off:min(off+len(p.recs), len(status))]
		}
		off += len(p.recs)
		ends[k] = off
	}
	for _, ch := range changed {
		k, _ := slices.BinarySearch(ends, ch.Record+1)
		if k == len(group) {
			continue
		}
		if k > 0 {
			ch.Record -= ends[k-1]
		}
		group[k].changed = append(group[k].changed, ch)
	}
}

func (c *committer) putRecords(recs []store.Record) ([]store.PutStatus, []store.Changed, error) {
	if c.putFn != nil {
		return c.putFn(recs)
	}
	if c.changed {
		return c.st.PutRecordsChanged(recs)
	}
	st, err := c.st.PutRecords(recs)
	return st, nil, err
}
