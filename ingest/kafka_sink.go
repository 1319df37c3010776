package ingest

import "context"

// Submitter is the intake as the Kafka source sees it; *Pipeline is one.
// Submit returns once the accepted items are durable (see Pipeline).
type Submitter interface {
	Submit(ctx context.Context, items []Item) ([]Outcome, Summary, error)
}

// Stager is a Submitter whose work on a batch comes in two steps: Prepare
// (decoding, the consent gate, masking and encoding: CPU only, no I/O)
// and Write (storing, durably). A source that has one prepares its next
// batch while the store writes the last, instead of leaving the cores
// idle while it waits. Write(ctx, Prepare(items)) is Submit(ctx, items);
// a batch whose Write failed is prepared again before it is retried.
type Stager interface {
	Submitter
	Prepare(items []Item) *Prepared
	Write(ctx context.Context, pr *Prepared) ([]Outcome, Summary, error)
}

var _ Stager = (*Pipeline)(nil)
