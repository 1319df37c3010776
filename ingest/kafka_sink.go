package ingest

import "context"

// Submitter is the intake as the Kafka source sees it; *Pipeline is one.
// Submit returns once the accepted items are durable (see Pipeline).
type Submitter interface {
	Submit(ctx context.Context, items []Item) ([]Outcome, Summary, error)
}

var _ Submitter = (*Pipeline)(nil)
