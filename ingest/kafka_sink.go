package ingest

import (
	"context"

	"github.com/loupe-dev/loupe/store"
)

// Submitter is the intake pipeline as the Kafka source sees it: Submit
// decodes, validates, consent-gates, masks and stores items (one JSON record
// each, at most loop.MaxLineBytes long) and returns once the accepted ones
// are durable. It calls onReject, in item order, with the index of each item
// it refused. Its error is about storing, never about a bad item.
type Submitter interface {
	Submit(ctx context.Context, items [][]byte, onReject func(i int, r Reject)) (Summary, error)
}

// StoreSubmitter is a Submitter writing to st through the same steps as Run.
func StoreSubmitter(st *store.Store) Submitter { return storeSubmitter{st} }

type storeSubmitter struct{ st *store.Store }

func (s storeSubmitter) Submit(_ context.Context, items [][]byte, onReject func(int, Reject)) (Summary, error) {
	b := &batch{lines: make([]line, len(items)), done: make(chan struct{})}
	for i, it := range items {
		b.lines[i] = line{n: i + 1, data: it}
	}
	process(b, s.st.UserHash)
	sum := Summary{Reasons: map[string]int{}}
	o := Options{}
	if onReject != nil {
		o.OnReject = func(r Reject) { onReject(r.Line-1, r) }
	}
	err := write(s.st, b, &sum, o)
	return sum, err
}
