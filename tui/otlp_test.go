package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/loupe-dev/loupe/ingest"
	"github.com/loupe-dev/loupe/ingest/otlp"
	"github.com/loupe-dev/loupe/loop/genai"
)

// An interaction from an OTLP trace shows its judge's score on the item
// view's checks line.
func TestItemShowsJudgeScore(t *testing.T) {
	st, _ := openStore(t, 0)
	const trace = "0af7651916cd43dd8448eb211c80319c"
	start := t0.Add(-time.Hour).UnixNano()
	b := otlp.Batch{
		Spans: []genai.Span{{TraceID: trace, SpanID: "b000000000000002", Start: start, End: start + 2e9, GenAI: true,
			Input:  []genai.Message{{Role: "user", Text: "where is my order?"}},
			Output: []genai.Message{{Role: "assistant", Text: "It shipped yesterday."}},
			Attrs:  map[string]string{"service.version": "shop-1"}}},
		Evaluations: []genai.Evaluation{{TraceID: trace, SpanID: "b000000000000002", Origin: "event:0", Time: start + 3e9,
			Name: "relevance", Score: ptr(0.92), Label: "relevant"}},
	}
	res, err := ingest.NewOTLP(ingest.New(st, ingest.PipelineOptions{}), genai.DefaultMapping()).Accept(context.Background(), b)
	if err != nil || res.Interactions != 1 || res.Signals != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	h := newHarness(t, st, 100, 30)
	h.m.inbox.selectID(trace)
	h.press("enter")
	if h.m.active != screenItem || h.m.item.id != trace {
		t.Fatalf("item %q", h.m.item.id)
	}
	all := ansi.Strip(h.m.item.vp.GetContent())
	for _, want := range []string{"relevance 0.92", `relevance_label "relevant"`} {
		if !strings.Contains(all, want) {
			t.Errorf("item view lacks %q:\n%s", want, all)
		}
	}
}
