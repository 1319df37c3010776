package otlp

import (
	"reflect"
	"testing"

	"github.com/loupe-dev/loupe/loop/genai"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

var (
	tid = pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	sid = pcommon.SpanID{1, 1, 1, 1, 1, 1, 1, 1}
)

func oneSpan(f func(sp ptrace.Span)) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.version", "v9")
	rs.Resource().Attributes().PutStr("user.id", "res-user")
	sp := rs.ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(tid)
	sp.SetSpanID(sid)
	sp.SetStartTimestamp(10)
	sp.SetEndTimestamp(20)
	f(sp)
	return td
}

func TestSpanMessageForms(t *testing.T) {
	cases := []struct {
		name    string
		f       func(sp ptrace.Span)
		in, out []genai.Message
	}{
		{"older gen_ai.prompt and gen_ai.completion", func(sp ptrace.Span) {
			sp.Attributes().PutStr("gen_ai.prompt", "hello")
			sp.Attributes().PutStr("gen_ai.completion", "hi")
		}, []genai.Message{{Role: "user", Text: "hello"}}, []genai.Message{{Role: "assistant", Text: "hi"}}},
		{"indexed", func(sp ptrace.Span) {
			a := sp.Attributes()
			a.PutStr("gen_ai.prompt.1.role", "user")
			a.PutStr("gen_ai.prompt.1.content", "second")
			a.PutStr("gen_ai.prompt.0.role", "system")
			a.PutStr("gen_ai.prompt.0.content", "first")
			a.PutStr("gen_ai.completion.0.content", "answer")
		}, []genai.Message{{Role: "system", Text: "first"}, {Role: "user", Text: "second"}}, []genai.Message{{Role: "assistant", Text: "answer"}}},
		{"structured messages", func(sp ptrace.Span) {
			v := sp.Attributes().PutEmptySlice("gen_ai.input.messages")
			m := v.AppendEmpty().SetEmptyMap()
			m.PutStr("role", "user")
			p := m.PutEmptySlice("parts").AppendEmpty().SetEmptyMap()
			p.PutStr("type", "text")
			p.PutStr("content", "structured")
		}, []genai.Message{{Role: "user", Text: "structured"}}, nil},
		{"message events", func(sp ptrace.Span) {
			sp.Attributes().PutStr("gen_ai.system", "openai")
			e := sp.Events().AppendEmpty()
			e.SetName("gen_ai.user.message")
			e.Attributes().PutStr("content", "from an event")
			e = sp.Events().AppendEmpty()
			e.SetName("gen_ai.choice")
			e.Attributes().PutStr("gen_ai.event.content", `{"index":0,"message":{"content":"chosen"},"finish_reason":"stop"}`)
			e = sp.Events().AppendEmpty()
			e.SetName("gen_ai.content.prompt")
			e.Attributes().PutStr("gen_ai.prompt", `[{"role":"user","content":"old event"}]`)
		}, []genai.Message{{Role: "user", Text: "from an event"}, {Role: "user", Text: "old event"}}, []genai.Message{{Role: "assistant", Text: "chosen"}}},
	}
	for _, c := range cases {
		b := Traces(oneSpan(c.f), genai.DefaultAttributes().Names())
		if len(b.Spans) != 1 {
			t.Fatalf("%s: %d spans", c.name, len(b.Spans))
		}
		s := b.Spans[0]
		if !s.GenAI || !reflect.DeepEqual(s.Input, c.in) || !reflect.DeepEqual(s.Output, c.out) {
			t.Errorf("%s: genai %v in %+v out %+v", c.name, s.GenAI, s.Input, s.Output)
		}
		if s.Attrs["service.version"] != "v9" || s.Attrs["user.id"] != "res-user" {
			t.Errorf("%s: resource attributes %v", c.name, s.Attrs)
		}
	}
}

func TestSpanEvaluationAndUsage(t *testing.T) {
	b := Traces(oneSpan(func(sp ptrace.Span) {
		sp.Attributes().PutInt("gen_ai.usage.prompt_tokens", 7)
		sp.Attributes().PutStr("user.id", "span-user")
		e := sp.Events().AppendEmpty()
		e.SetName("gen_ai.evaluation.result")
		e.SetTimestamp(15)
		e.Attributes().PutStr("gen_ai.evaluation.name", "tone")
		e.Attributes().PutInt("gen_ai.evaluation.score.value", 3)
	}), genai.DefaultAttributes().Names())
	s := b.Spans[0]
	if s.InputTokens == nil || *s.InputTokens != 7 || s.Attrs["user.id"] != "span-user" {
		t.Errorf("span %+v", s)
	}
	if len(b.Evaluations) != 1 {
		t.Fatalf("evaluations %+v", b.Evaluations)
	}
	e := b.Evaluations[0]
	if e.Name != "tone" || *e.Score != 3 || e.Time != 15 || e.TraceID != "0102030405060708090a0b0c0d0e0f10" || e.SpanID != "0101010101010101" {
		t.Errorf("evaluation %+v", e)
	}
	// No ids: refused, counted.
	td := ptrace.NewTraces()
	td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty().SetName("x")
	if b := Traces(td, nil); b.Rejected != 1 || b.Items != 1 || len(b.Errors) != 1 {
		t.Errorf("span without ids: %+v", b)
	}
}

func TestLogs(t *testing.T) {
	ld := plog.NewLogs()
	recs := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords()
	user := recs.AppendEmpty()
	user.SetEventName("gen_ai.user.message")
	user.SetTraceID(tid)
	user.SetSpanID(sid)
	user.SetTimestamp(12)
	user.Body().SetEmptyMap().PutStr("content", "from a log")
	choice := recs.AppendEmpty()
	choice.Attributes().PutStr("event.name", "gen_ai.choice") // the older way to name an event
	choice.SetTraceID(tid)
	choice.SetTimestamp(18)
	choice.Body().SetEmptyMap().PutEmptyMap("message").PutStr("content", "log answer")
	ev := recs.AppendEmpty()
	ev.SetEventName("gen_ai.evaluation.result")
	ev.SetTraceID(tid)
	ev.SetTimestamp(30)
	ev.Attributes().PutStr("gen_ai.evaluation.name", "groundedness")
	ev.Attributes().PutStr("gen_ai.evaluation.score.label", "fail")
	orphan := recs.AppendEmpty()
	orphan.SetEventName("gen_ai.evaluation.result")
	recs.AppendEmpty().Body().SetStr("an ordinary log line")

	b := Logs(ld)
	if b.Items != 5 || b.Rejected != 1 || len(b.Spans) != 2 || len(b.Evaluations) != 1 {
		t.Fatalf("batch %+v", b)
	}
	if s := b.Spans[0]; !s.Log || s.Parent != "0101010101010101" || !reflect.DeepEqual(s.Input, []genai.Message{{Role: "user", Text: "from a log"}}) {
		t.Errorf("user log %+v", s)
	}
	if s := b.Spans[1]; !reflect.DeepEqual(s.Output, []genai.Message{{Role: "assistant", Text: "log answer"}}) {
		t.Errorf("choice log %+v", s)
	}
	if e := b.Evaluations[0]; e.Label != "fail" || e.Score != nil || e.Time != 30 {
		t.Errorf("evaluation %+v", e)
	}
	// The log fragments map with a span of the trace to one interaction.
	span := Traces(oneSpan(func(sp ptrace.Span) { sp.Attributes().PutStr("gen_ai.operation.name", "chat") }), nil).Spans[0]
	got := genai.Interaction(append(b.Spans, span), genai.DefaultMapping())
	if got.Input.Text != "from a log" || got.Output.Text != "log answer" || *got.Output.LatencyMS != 10e-6 {
		t.Errorf("interaction %+v %+v", got.Input, got.Output)
	}
}
