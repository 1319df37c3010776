package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"

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

	// mu serialises assembly: reading a trace's stored spans, deriving its
	// interaction and writing both must not interleave with another batch
	// of the same trace, or the older derivation could land last.
	mu sync.Mutex
}

// NewOTLP returns the OTLP source feeding p with mapping m.
func NewOTLP(p *Pipeline, m genai.Mapping) *OTLP { return &OTLP{p: p, m: m} }

// OTLPResult is what became of one batch.
type OTLPResult struct {
	Items        int // spans or log records read
	Stored       int // spans (and message log records) stored
	Skipped      int // accepted but not stored: no GenAI content in their trace, or consent withheld
	Rejected     int
	Errors       []string // why (the first few), masked
	Interactions int      // interactions stored or replaced
	Signals      int      // judge signals stored (or kept pending for their interaction)
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

func (o *OTLP) assemble(spans []genai.Span, res *OTLPResult) error {
	if len(spans) == 0 {
		return nil
	}
	st := o.p.st
	byTrace := map[string][]genai.Span{}
	for _, s := range spans {
		byTrace[s.TraceID] = append(byTrace[s.TraceID], s)
	}
	traces := make([]string, 0, len(byTrace))
	for t := range byTrace {
		traces = append(traces, t)
	}
	sort.Strings(traces)

	o.mu.Lock()
	defer o.mu.Unlock()
	var bodies []store.SpanBody
	var recs []store.Record
	var recSpans []int // the new spans behind each record, for the counts
	a := o.m.Attributes
	for _, t := range traces {
		fresh := byTrace[t]
		stored, err := o.stored(t)
		if err != nil {
			return err
		}
		if !genai.HasGenAI(stored) && !genai.HasGenAI(fresh) {
			res.Skipped += len(fresh) // a trace without GenAI spans is not kept
			continue
		}
		for i := range fresh {
			genai.Mask(&fresh[i], a, st.UserHash)
		}
		all := append(stored, fresh...)
		if analytics, _ := genai.Consent(all, a); analytics != nil && !*analytics || analytics == nil && !o.m.Analytics {
			// The user withheld consent: nothing of the trace is kept.
			res.Skipped += len(fresh)
			if len(stored) > 0 {
				if err := st.DeleteTrace(t); err != nil {
					return err
				}
			}
			continue
		}
		ev := genai.Interaction(all, o.m)
		body := loop.AppendJSON(nil, ev)
		if _, err := loop.DecodeEvent(body); err != nil {
			// The derived record breaks a schema rule (an attribute
			// value too long, say): keep nothing new of the trace.
			res.reject(len(fresh), fmt.Sprintf("trace %s: %v", t, err))
			continue
		}
		rec, err := store.NewRecord(ev)
		if err != nil {
			res.reject(len(fresh), fmt.Sprintf("trace %s: %v", t, err))
			continue
		}
		for _, s := range fresh {
			b, err := json.Marshal(s)
			if err != nil {
				return err
			}
			bodies = append(bodies, store.SpanBody{TraceID: t, SpanID: s.SpanID, Body: b})
		}
		recs = append(recs, rec)
		recSpans = append(recSpans, len(fresh))
	}
	if len(recs) == 0 {
		return nil
	}
	status, err := st.PutTrace(bodies, recs)
	if err != nil {
		return err
	}
	for i, s := range status {
		switch s {
		case store.Stored:
			res.Interactions++
			res.Stored += recSpans[i]
		case store.Duplicate:
			res.Stored += recSpans[i]
		case store.Conflict:
			res.Stored += recSpans[i]
			res.reject(0, fmt.Sprintf("trace %s: an interaction with this event_id came from another source; it was kept and the spans' interaction not stored", recs[i].ID))
		}
	}
	return nil
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
		items = append(items, Item{Data: e.Signal(), Source: "otlp"})
	}
	if len(items) == 0 {
		return nil
	}
	outs, _, err := o.p.Submit(ctx, items)
	for _, out := range outs {
		switch out.Status {
		case Accepted, Duplicate:
			res.Signals++
		case Rejected:
			res.reject(1, genai.EvaluationEvent+": "+out.Err.Error())
		}
	}
	return err
}
