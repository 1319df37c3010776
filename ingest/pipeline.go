package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/loupe-dev/loupe/loop/sample"
	"runtime"
	"sync"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
)

// Pipeline is loupe's one intake path. Every source of records — JSONL
// files and stdin (ReadJSONL), the HTTP collector (POST /v1/events,
// POST /v1/signals), OTLP and Kafka — hands raw records to the same
// Pipeline, which decodes and validates them (package loop), applies the
// consent gate, masks PII, and writes them idempotently and durably
// (package store) through one committer that merges the writes of
// concurrent callers into shared durable commits.
//
// A source with a batch of raw records calls Submit:
//
//	p := ingest.New(st, ingest.PipelineOptions{})
//	outs, sum, err := p.Submit(ctx, []ingest.Item{{Data: line, Source: "kafka:events/0", Line: 41}})
//
// Submit returns once every accepted record of the batch is durable. outs
// has one Outcome per item, in order; sum counts them as `loupe ingest
// --json` does. err is about storing (the disk, a closed store), never
// about a bad record: those are Rejected outcomes. When err is set, items
// whose Outcome is Failed were not stored, and submitting the same items
// again is safe (what did land comes back as duplicates).
//
// A Pipeline is safe for concurrent use.
type Pipeline struct {
	st      *store.Store
	o       PipelineOptions
	commit  *committer
	workers int
	// signalsOnly refuses interactions (POST /v1/signals); set on a
	// copy (see signals).
	signalsOnly bool
}

// signals is p refusing interactions, sharing its committer.
func (p *Pipeline) signals() *Pipeline {
	q := *p
	q.signalsOnly = true
	return &q
}

// PipelineOptions configure a Pipeline. The zero value is fine.
type PipelineOptions struct {
	// Workers bounds the goroutines that decode and mask one large
	// batch; default GOMAXPROCS.
	Workers int
	// OnStored, when set, is called after each durable write with the
	// events whose stored view (the interaction merged with its signals)
	// is new or changed, each once, as they now are (their summaries, and
	// whether anyone has labelled them). Interactions edge sampling did
	// not keep are not among them. `loupe serve` samples them into the
	// review queue. An error it returns is reported by Submit (the
	// records stay stored).
	OnStored func(changed []store.Changed) error
	// Queue, when set, picks review-queue items from the same events
	// OnStored sees; they are written in the same transaction as the
	// records (store.SetArrivals), and for OTLP traces queued right after.
	// `loupe serve` samples arrivals with it. It must be quick and pure.
	Queue store.ArrivalFunc
	// Keep is edge sampling (loupe.yaml's intake.keep): the interactions
	// it does not pick are counted in the store's aggregates, not stored
	// in full. Every source of this pipeline (files, HTTP, OTLP, Kafka)
	// follows it. Empty keeps everything.
	Keep sample.Keep
}

// New returns the pipeline into st.
func New(st *store.Store, o PipelineOptions) *Pipeline {
	w := o.Workers
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	if len(o.Keep) > 0 {
		st.SetKeep(o.Keep.Keeps)
	}
	if o.Queue != nil {
		st.SetArrivals(o.Queue)
	}
	return &Pipeline{st: st, o: o, commit: &committer{st: st, changed: o.OnStored != nil}, workers: w}
}

// Store is the store the pipeline writes to.
func (p *Pipeline) Store() *store.Store { return p.st }

// Item is one raw record handed to the pipeline.
type Item struct {
	// Data is the record: one JSON object (an interaction or a signal),
	// without its line end. The pipeline may keep references to it until
	// Submit returns; the caller must not change it before then.
	Data []byte
	// Source names where it came from, for rejects: a file name, "-"
	// for stdin, "http", "kafka:topic/partition".
	Source string
	// Line is its line number (1-based) or offset within Source, for
	// rejects; 0 when there is none.
	Line int
	// Element is its 1-based place in a JSON document (jsonDoc), 0 for
	// a line.
	Element int
	// Long says Data holds only the start of a record longer than
	// loop.MaxLineBytes (it is rejected as line_too_long).
	Long bool
	// Bad, when set, says the item is not a record but a break in a JSON
	// document (a missing ',' in an array, say): it is rejected as
	// invalid_json with this message.
	Bad string
}

// Status is what became of one item.
type Status uint8

const (
	Accepted  Status = iota // stored (new), durable
	Duplicate               // already stored with the same content: nothing written
	Rejected                // refused: Outcome.Err says why
	Blank                   // only white space: skipped
	Failed                  // valid, but its write failed (Submit returned an error)
	Pending                 // a signal stored ahead of its interaction: applied when it comes
	Withdrawn               // dropped: the user withdrew consent for this event
	// Aggregated: edge sampling did not keep the interaction (or the
	// interaction of this signal): counted in the aggregates, not stored
	// in full. Not an error.
	Aggregated
	// Dropped: a signal for an interaction edge sampling did not keep,
	// carrying nothing the aggregates count: counted, not stored.
	Dropped
)

func (s Status) String() string {
	switch s {
	case Accepted:
		return "accepted"
	case Duplicate:
		return "duplicate"
	case Rejected:
		return "rejected"
	case Blank:
		return "blank"
	case Failed:
		return "failed"
	case Pending:
		return "pending"
	case Withdrawn:
		return "withdrawn"
	case Aggregated:
		return "aggregated"
	case Dropped:
		return "dropped"
	}
	return "unknown"
}

// Outcome is what became of one Item.
type Outcome struct {
	Status Status
	// EventID is the record's event_id when it could be read ("" when
	// not). It is the input's id, unmasked: mask it (loop.MaskRaw)
	// before showing it anywhere it could be kept.
	EventID string
	// Signal says the record was a signal; SignalID is its id then.
	Signal   bool
	SignalID string
	// Err says why the item was Rejected; nil otherwise.
	Err *loop.InputError
}

// prepared is one item after decoding and the privacy step, ready for the
// store (ok) or refused (err).
type prepared struct {
	rec      store.Record
	ok       bool
	blank    bool
	err      *loop.InputError
	id       string // the event id when it was read
	sigID    string // the signal id, for a signal
	signal   bool
	userHash string // the pseudonymous user, "" when none (rate limits)
}

// Submit puts items through the pipeline; see Pipeline.
func (p *Pipeline) Submit(ctx context.Context, items []Item) ([]Outcome, Summary, error) {
	if err := ctx.Err(); err != nil {
		return nil, Summary{Reasons: map[string]int{}}, err
	}
	return p.Write(ctx, p.Prepare(items))
}

// Prepared is a batch of items decoded, consent-gated, masked and encoded
// (Prepare), ready to be stored (Write) once.
type Prepared struct {
	ps      []prepared
	written bool
}

// Prepare does the CPU work of Submit on items, in parallel for big
// batches; it does no I/O. See Stager.
func (p *Pipeline) Prepare(items []Item) *Prepared {
	return &Prepared{ps: p.prepareAll(items)}
}

// Write stores a prepared batch and returns once it is durable, as Submit
// does. A Prepared is written once: the store may change what it holds,
// so a batch whose Write failed is prepared again.
func (p *Pipeline) Write(ctx context.Context, pr *Prepared) ([]Outcome, Summary, error) {
	if err := ctx.Err(); err != nil {
		return nil, Summary{Reasons: map[string]int{}}, err
	}
	if pr.written {
		return nil, Summary{Reasons: map[string]int{}}, errors.New("ingest: a prepared batch is written once; prepare it again")
	}
	pr.written = true
	outs, err := p.write(pr.ps)
	pr.ps = nil
	sum := Summary{Read: len(outs), Reasons: map[string]int{}}
	for _, o := range outs {
		sum.count(o)
	}
	return outs, sum, err
}

// prepareAll prepares items, in parallel for big batches.
func (p *Pipeline) prepareAll(items []Item) []prepared {
	ps := make([]prepared, len(items))
	workers := min(p.workers, len(items)/256)
	if workers <= 1 {
		for i := range items {
			ps[i] = p.prepare(items[i])
		}
		return ps
	}
	var wg sync.WaitGroup
	chunk := (len(items) + workers - 1) / workers
	for lo := 0; lo < len(items); lo += chunk {
		hi := min(lo+chunk, len(items))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				ps[i] = p.prepare(items[i])
			}
		})
	}
	wg.Wait()
	return ps
}

// prepare decodes, validates, consent-gates and masks one item and encodes
// it for the store. It does no I/O.
func (p *Pipeline) prepare(it Item) prepared {
	if it.Long {
		return prepared{err: &loop.InputError{Reason: loop.ReasonLineTooLong, Msg: "line is longer than 1 MiB; skipped"}}
	}
	if it.Bad != "" {
		return prepared{err: &loop.InputError{Reason: loop.ReasonInvalidJSON, Msg: it.Bad}}
	}
	if len(bytes.TrimSpace(it.Data)) == 0 {
		return prepared{blank: true}
	}
	if loop.RecordKind(it.Data) == loop.KindSignal {
		return p.prepareSignal(it)
	}
	if p.signalsOnly {
		return prepared{err: errNotSignal}
	}
	in, err := loop.DecodeEvent(it.Data)
	if err != nil {
		return prepared{err: asInputError(err)}
	}
	id := in.Event.EventID
	var keep store.KeepFunc
	if len(p.o.Keep) > 0 {
		keep = p.o.Keep.Keeps // an interaction not kept is reduced on this worker
	}
	rec, user, err := p.st.RecordOf(in, keep)
	if err != nil {
		var ie *loop.InputError
		if !errors.As(err, &ie) {
			ie = &loop.InputError{Reason: loop.ReasonInvalidField, Msg: err.Error()}
		}
		return prepared{err: ie, id: id}
	}
	return prepared{rec: rec, ok: true, id: id, userHash: user}
}

var errNotSignal = &loop.InputError{Reason: loop.ReasonInvalidField, Path: "kind",
	Msg: `must be "signal": this endpoint takes signals only (send interactions to /v1/events)`}

func (p *Pipeline) prepareSignal(it Item) prepared {
	sg, err := loop.DecodeSignal(it.Data)
	if err != nil {
		return prepared{err: asInputError(err), signal: true}
	}
	id, sid := sg.EventID, sg.SignalID
	if sg, err = loop.PrepareSignal(sg); err != nil {
		return prepared{err: asInputError(err), id: id, sigID: sid, signal: true}
	}
	rec := store.NewSignalRecord(sg)
	p.st.Prehash(&rec)
	return prepared{rec: rec, ok: true, id: id, sigID: sid, signal: true}
}

func asInputError(err error) *loop.InputError {
	var ie *loop.InputError
	if errors.As(err, &ie) {
		return ie
	}
	return &loop.InputError{Reason: loop.ReasonInvalidJSON, Msg: err.Error()}
}

// errConflict is the reject of an event whose id is stored with other
// content; errSignalConflict likewise for a signal.
var (
	errConflict = &loop.InputError{Reason: loop.ReasonConflict, Path: "event_id",
		Msg: "an event with this id and different content is already stored; the stored event was kept"}
	errSignalConflict = &loop.InputError{Reason: loop.ReasonConflict, Path: "signal_id",
		Msg: "a signal with this id and different content is already stored; the stored signal was kept"}
)

// write stores the prepared records that are ok, through the committer,
// and returns every item's outcome. It returns once they are durable.
func (p *Pipeline) write(ps []prepared) ([]Outcome, error) {
	outs := make([]Outcome, len(ps))
	// Sized for every item: a batch is mostly records to store, and a
	// store.Record is about 270 bytes, so growing the slice by append
	// allocated about twice its final size again for each batch.
	recs := make([]store.Record, 0, len(ps))
	at := make([]int, 0, len(ps))
	for i := range ps {
		pr := &ps[i]
		outs[i].EventID, outs[i].Signal, outs[i].SignalID = pr.id, pr.signal, pr.sigID
		switch {
		case pr.blank:
			outs[i].Status = Blank
		case !pr.ok:
			outs[i].Status, outs[i].Err = Rejected, pr.err
			if pr.err.Reason == loop.ReasonNoConsent && pr.id != "" && !pr.signal {
				// Consent withheld: unless the interaction is stored
				// already, its signals (waiting, or still to come) go
				// too, as for a withdrawal. The line stays rejected.
				recs = append(recs, store.NewRefusalRecord(pr.id))
				at = append(at, i)
			}
		default:
			recs = append(recs, pr.rec)
			at = append(at, i)
		}
	}
	if len(recs) == 0 {
		return outs, nil
	}
	status, changed, err := p.commit.put(recs)
	for j, i := range at {
		st := store.Failed
		if j < len(status) {
			st = status[j]
		}
		if recs[j].Refused {
			continue // rejected as no_consent whatever the store did
		}
		switch st {
		case store.Stored:
			outs[i].Status = Accepted
		case store.Pending:
			outs[i].Status = Pending
		case store.Duplicate:
			outs[i].Status = Duplicate
		case store.Withdrawn:
			outs[i].Status = Withdrawn
		case store.Aggregated:
			outs[i].Status = Aggregated
		case store.DroppedUnkept:
			outs[i].Status = Dropped
		case store.Conflict:
			outs[i].Status, outs[i].Err = Rejected, errConflict
			if ps[i].signal {
				outs[i].Err = errSignalConflict
			}
		default:
			outs[i].Status = Failed
		}
	}
	if err != nil {
		return outs, err
	}
	if p.o.OnStored != nil && len(changed) > 0 {
		if err := p.o.OnStored(changed); err != nil {
			return outs, fmt.Errorf("after storing: %w", err)
		}
	}
	return outs, nil
}
