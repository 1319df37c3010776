package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/loupe-dev/loupe/ingest/otlp"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/genai"
	"github.com/loupe-dev/loupe/store"
)

// OTLP is the OpenTelemetry source of the pipeline: it assembles the spans
// of each trace durably (store.PutTrace) and derives the trace's
// interaction again from all its spans after every batch, so the stored
// interaction is the same whatever order and however often its spans
// arrive; gen_ai.evaluation.result events go through the pipeline as judge
// signals. It is safe for concurrent use.
type OTLP struct {
	p *Pipeline
	m genai.Mapping

	// Assembly is serialised: reading a trace's stored spans, deriving its
	// interaction and writing both must not interleave with another batch
	// of the same trace, or the older derivation could land last. Batches
	// that arrive while one is being assembled are assembled together
	// next, in one durable commit (as the committer does for records).
	mu    sync.Mutex
	queue []*assembly
	busy  bool
}

// assembly is one batch's spans waiting to be assembled.
type assembly struct {
	spans []genai.Span
	res   *OTLPResult
	err   error
	done  chan struct{}
}

// NewOTLP returns the OTLP source feeding p with mapping m.
func NewOTLP(p *Pipeline, m genai.Mapping) *OTLP { return &OTLP{p: p, m: m} }

// OTLPResult is what became of one batch.
type OTLPResult struct {
	Items        int // spans or log records read
	Stored       int // spans (and message log records) stored
	Skipped      int // accepted but not stored: no GenAI content in their trace, consent withheld, or about an interaction edge sampling did not keep
	Rejected     int
	Errors       []string // why (the first few), masked
	Interactions int      // interactions stored or replaced
	Signals      int      // judge signals stored
	Pending      int      // of them, kept until their interaction is stored
	Withdrawn    int      // spans and results dropped: consent for their trace was withdrawn
}

const maxOTLPErrors = 10

func (r *OTLPResult) reject(n int, msg string) {
	r.Rejected += n
	if len(r.Errors) < maxOTLPErrors {
		r.Errors = append(r.Errors, loop.MaskRaw([]byte(msg), 512))
	}
}

// Accept stores what b carries. It returns once everything it reports as
// stored is durable; the error is about storing, never about the data.
func (o *OTLP) Accept(ctx context.Context, b otlp.Batch) (OTLPResult, error) {
	res := OTLPResult{Items: b.Items}
	for _, e := range b.Errors {
		res.reject(0, e)
	}
	res.Rejected += b.Rejected
	if err := o.assemble(b.Spans, &res); err != nil {
		return res, err
	}
	return res, o.evaluations(ctx, b.Evaluations, &res)
}

// assemble stores spans and the interactions of their traces, sharing the
// work (and the commit) with batches of other callers queued meanwhile.
func (o *OTLP) assemble(spans []genai.Span, res *OTLPResult) error {
	if len(spans) == 0 {
		return nil
	}
	a := &assembly{spans: spans, res: res, done: make(chan struct{})}
	o.mu.Lock()
	o.queue = append(o.queue, a)
	if o.busy {
		o.mu.Unlock()
		<-a.done
		return a.err
	}
	o.busy = true
	for len(o.queue) > 0 {
		group := o.queue
		o.queue = nil
		o.mu.Unlock()
		err := o.assembleGroup(group)
		for _, g := range group {
			g.err = err
			if g != a {
				close(g.done)
			}
		}
		o.mu.Lock()
	}
	o.busy = false
	o.mu.Unlock()
	return a.err
}

// owned is a span and the batch it came in.
type owned struct {
	s genai.Span
	a *assembly
}

func (o *OTLP) assembleGroup(group []*assembly) (err error) {
	st := o.p.st
	byTrace := map[string][]owned{}
	for _, g := range group {
		for _, s := range g.spans {
			byTrace[s.TraceID] = append(byTrace[s.TraceID], owned{s, g})
		}
	}
	traces := make([]string, 0, len(byTrace))
	for t := range byTrace {
		traces = append(traces, t)
	}
	sort.Strings(traces)

	// each calls f for every batch with spans of the trace and how many.
	each := func(spans []owned, f func(r *OTLPResult, n int)) {
		n := map[*assembly]int{}
		for _, s := range spans {
			n[s.a]++
		}
		for _, g := range group {
			if n[g] > 0 {
				f(g.res, n[g])
			}
		}
	}
	var bodies []store.SpanBody
	var recs []store.Record
	var recSpans [][]owned // the new spans behind each record, for the counts
	var withdraw []Item    // consent withdrawals of traces a span withheld consent for
	defer func() {
		if len(withdraw) > 0 && err == nil {
			_, _, err = o.p.Submit(context.Background(), withdraw)
		}
	}()
	a := o.m.Attributes
	for _, t := range traces {
		fresh := byTrace[t]
		stored, err := o.stored(t)
		if err != nil {
			return err
		}
		all := stored
		for i := range fresh {
			all = append(all, fresh[i].s)
		}
		if !genai.HasGenAI(all) {
			// A trace without GenAI spans is not kept.
			each(fresh, func(r *OTLPResult, n int) { r.Skipped += n })
			continue
		}
		for i := len(stored); i < len(all); i++ {
			genai.Mask(&all[i], a, st.UserHash)
		}
		analytics, _ := genai.Consent(all, a)
		if analytics != nil && !*analytics {
			// A span says the user withheld consent: withdraw it as a
			// signal would, so that whatever was stored of the trace (its
			// interaction, spans, signals) is erased and a tombstone keeps
			// later spans and results out.
			each(fresh, func(r *OTLPResult, n int) { r.Withdrawn += n })
			withdraw = append(withdraw, withdrawal(t, all))
			continue
		}
		if analytics == nil && !o.m.Analytics {
			// otlp.consent.analytics is false and nothing overrides it.
			each(fresh, func(r *OTLPResult, n int) { r.Skipped += n })
			if len(stored) > 0 {
				if err := st.DeleteTrace(t); err != nil {
					return err
				}
			}
			continue
		}
		ev := genai.Interaction(all, o.m)
		body := loop.AppendJSON(nil, ev)
		rec, err := store.NewRecord(ev)
		if err == nil {
			_, err = loop.DecodeEvent(body)
		}
		if err != nil {
			// The derived record breaks a schema rule (an attribute
			// value too long, say): keep nothing new of the trace.
			msg := fmt.Sprintf("trace %s: %v", t, err)
			each(fresh, func(r *OTLPResult, n int) { r.reject(n, msg) })
			continue
		}
		for _, s := range all[len(stored):] {
			b, err := json.Marshal(s)
			if err != nil {
				return err
			}
			bodies = append(bodies, store.SpanBody{TraceID: t, SpanID: s.SpanID, Body: b})
		}
		recs = append(recs, rec)
		recSpans = append(recSpans, fresh)
	}
	if len(recs) == 0 {
		return nil
	}
	status, changed, err := st.PutTrace(bodies, recs)
	if err != nil {
		return err
	}
	if on, queue := o.p.o.OnStored, o.p.o.Queue; (on != nil || queue != nil) && len(changed) > 0 {
		chg, err := st.ChangedOf(changed)
		if err != nil {
			return err
		}
		if queue != nil { // New set it as the store's arrivals
			if _, err := st.EnqueueArrivals(chg); err != nil {
				return err
			}
		}
		if on != nil {
			if err := on(chg); err != nil {
				return err
			}
		}
	}
	for i, s := range status {
		first := true
		each(recSpans[i], func(r *OTLPResult, n int) {
			r.Stored += n
			switch s {
			case store.Stored:
				if first {
					r.Interactions++ // counted once, with the first batch
					first = false
				}
			case store.Withdrawn:
				r.Stored -= n
				r.Withdrawn += n
			case store.Conflict:
				r.reject(0, fmt.Sprintf("trace %s: an interaction with this event_id came from another source; it was kept and the spans' interaction not stored", recs[i].ID))
			}
		})
	}
	return nil
}

// withdrawal is the consent-withdrawal signal of a trace one of whose spans
// says the user withheld analytics consent; its id and time come from the
// trace, so redelivered spans give a duplicate.
func withdrawal(trace string, spans []genai.Span) Item {
	var at int64
	for _, s := range spans {
		at = max(at, s.End)
	}
	line := fmt.Sprintf(`{"kind":"signal","signal_id":"otel-consent-%s","event_id":"%s","timestamp":"%s","source":"otel","consent":{"analytics":false}}`,
		trace, trace, time.Unix(0, at).UTC().Format(time.RFC3339Nano))
	return Item{Data: []byte(line), Source: "otlp"}
}

func (o *OTLP) stored(trace string) ([]genai.Span, error) {
	bodies, err := o.p.st.TraceSpans(trace)
	if err != nil {
		return nil, err
	}
	out := make([]genai.Span, 0, len(bodies))
	for _, b := range bodies {
		var s genai.Span
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, fmt.Errorf("stored span of trace %s: %w", trace, err)
		}
		out = append(out, s)
	}
	return out, nil
}

func (o *OTLP) evaluations(ctx context.Context, evals []genai.Evaluation, res *OTLPResult) error {
	var items []Item
	for _, e := range evals {
		if err := e.Check(); err != nil {
			res.reject(1, err.Error())
			continue
		}
		if !o.m.Analytics {
			// Without consent by default, a result is kept only for an
			// interaction a span gave consent to (one that is stored).
			ok, err := o.p.st.Has(e.TraceID)
			if err != nil {
				return err
			}
			if !ok {
				res.Skipped++
				continue
			}
		}
		items = append(items, Item{Data: e.Signal(), Source: "otlp"})
	}
	if len(items) == 0 {
		return nil
	}
	outs, _, err := o.p.Submit(ctx, items)
	for _, out := range outs {
		switch out.Status {
		case Accepted:
			res.Signals++
		case Pending:
			res.Signals++
			res.Pending++
		case Withdrawn:
			res.Withdrawn++
		case Aggregated, Dropped:
			// About an interaction edge sampling did not keep: taken,
			// not stored.
			res.Skipped++
		case Rejected:
			res.reject(1, genai.EvaluationEvent+": "+out.Err.Error())
		}
	}
	return err
}
