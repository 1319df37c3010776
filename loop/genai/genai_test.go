package genai

import (
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
)

const trace = "0af7651916cd43dd8448eb211c80319c"

// chat is an agent trace: a root agent span, two model calls and a tool
// call between them, as an SDK reports them.
func chat() []Span {
	return []Span{
		{TraceID: trace, SpanID: "a000000000000001", Start: 1000e6, End: 3500e6, GenAI: true,
			Attrs: map[string]string{"service.version": "shop-2026.11", "user.id": "hash-u1", "session.id": "s-9", "gen_ai.operation.name": "invoke_agent"}},
		{TraceID: trace, SpanID: "b000000000000002", Parent: "a000000000000001", Start: 1100e6, End: 2000e6, GenAI: true,
			Input:         []Message{{Role: "system", Text: "be brief"}, {Role: "user", Text: "where is my order?"}},
			Output:        []Message{{Role: "assistant", Text: ""}},
			RequestModel:  "gpt-4o",
			ResponseModel: "gpt-4o-2024-08-06",
			InputTokens:   ptr[int64](20), OutputTokens: ptr[int64](5),
			Attrs: map[string]string{"service.version": "shop-2026.11"}},
		{TraceID: trace, SpanID: "c000000000000003", Parent: "a000000000000001", Start: 2000e6, End: 2100e6, GenAI: true},
		{TraceID: trace, SpanID: "d000000000000004", Parent: "a000000000000001", Start: 2100e6, End: 3400e6, GenAI: true,
			Input: []Message{{Role: "system", Text: "be brief"}, {Role: "user", Text: "where is my order?"},
				{Role: "tool", Text: "shipped"}},
			Output:       []Message{{Role: "assistant", Text: "It shipped yesterday."}},
			RequestModel: "gpt-4o", ResponseModel: "gpt-4o-2024-08-06",
			InputTokens: ptr[int64](40), OutputTokens: ptr[int64](8)},
	}
}

func TestInteraction(t *testing.T) {
	ev := Interaction(chat(), DefaultMapping())
	if ev == nil {
		t.Fatal("no interaction")
	}
	if ev.EventID != trace || ev.Timestamp.UnixNano() != 1000e6 {
		t.Errorf("id %q at %v", ev.EventID, ev.Timestamp)
	}
	if ev.Input == nil || ev.Input.Text != "where is my order?" {
		t.Errorf("input %+v", ev.Input)
	}
	if ev.Output == nil || ev.Output.Text != "It shipped yesterday." || ev.Output.LatencyMS == nil || *ev.Output.LatencyMS != 2500 {
		t.Errorf("output %+v", ev.Output)
	}
	if ev.ModelVersion != "shop-2026.11" || ev.UserHash != "hash-u1" || ev.SessionID != "s-9" || ev.TaskType != "invoke_agent" {
		t.Errorf("fields %q %q %q %q", ev.ModelVersion, ev.UserHash, ev.SessionID, ev.TaskType)
	}
	if !*ev.Consent.Analytics || *ev.Consent.Training {
		t.Errorf("consent %+v", ev.Consent)
	}
	want := `{"request_model":"gpt-4o","response_model":"gpt-4o-2024-08-06","input_tokens":60,"output_tokens":13}`
	if got := string(ev.Extra["otel"]); got != want {
		t.Errorf("otel extra %s, want %s", got, want)
	}
}

func TestInteractionFallbacks(t *testing.T) {
	spans := chat()
	for i := range spans {
		delete(spans[i].Attrs, "service.version")
	}
	if ev := Interaction(spans, DefaultMapping()); ev.ModelVersion != "gpt-4o-2024-08-06" {
		t.Errorf("model from gen_ai.response.model: %q", ev.ModelVersion)
	}
	for i := range spans {
		spans[i].ResponseModel = ""
	}
	if ev := Interaction(spans, DefaultMapping()); ev.ModelVersion != "gpt-4o" {
		t.Errorf("model from gen_ai.request.model: %q", ev.ModelVersion)
	}
	// Without the root span, the earliest span whose parent is missing
	// is the local root.
	if ev := Interaction(chat()[1:], DefaultMapping()); *ev.Output.LatencyMS != 900 || ev.Timestamp.UnixNano() != 1100e6 {
		t.Errorf("latency %v at %v", *ev.Output.LatencyMS, ev.Timestamp)
	}
	// Consent override by attribute.
	spans = chat()
	spans[2].Attrs = map[string]string{"loupe.consent.training": "true"}
	if ev := Interaction(spans, DefaultMapping()); !*ev.Consent.Training {
		t.Error("training override ignored")
	}
	// No GenAI span: nothing.
	plain := []Span{{TraceID: trace, SpanID: "1", Start: 1, End: 2}}
	if ev := Interaction(plain, DefaultMapping()); ev != nil {
		t.Errorf("interaction of a trace without GenAI spans: %+v", ev)
	}
}

// The interaction is the same whatever order the spans come in, and with
// any span repeated.
func TestInteractionOrderIndependent(t *testing.T) {
	want := encode(t, Interaction(chat(), DefaultMapping()))
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		spans := chat()
		r.Shuffle(len(spans), func(i, j int) { spans[i], spans[j] = spans[j], spans[i] })
		for n := r.IntN(3); n > 0; n-- {
			spans = append(spans, chat()[r.IntN(4)])
		}
		if got := encode(t, Interaction(spans, DefaultMapping())); got != want {
			t.Fatalf("order %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func encode(t *testing.T, ev *loop.Event) string {
	t.Helper()
	return string(loop.AppendJSON(nil, ev))
}

func TestMaskSpan(t *testing.T) {
	s := Span{Input: []Message{{Role: "user", Text: "mail me at ana@example.com"}},
		Attrs: map[string]string{"user.id": "ana", "session.id": "call 415-555-0134"}}
	Mask(&s, DefaultAttributes(), func(id string) string { return "H(" + id + ")" })
	if s.Input[0].Text != "mail me at [EMAIL]" || s.Input[0].Masked["EMAIL"] != 1 {
		t.Errorf("input %+v", s.Input[0])
	}
	if s.Attrs["user.id"] != "H(ana)" || strings.Contains(s.Attrs["session.id"], "555") {
		t.Errorf("attrs %v", s.Attrs)
	}
	ev := Interaction([]Span{{TraceID: trace, SpanID: "1", GenAI: true, Input: s.Input}}, DefaultMapping())
	if ev.Masked["EMAIL"] != 1 {
		t.Errorf("masked counts %v", ev.Masked)
	}
}

func TestMessages(t *testing.T) {
	cases := []struct {
		name string
		v    any
		role string
		want []Message
	}{
		{"parts JSON string", `[{"role":"system","parts":[{"type":"text","content":"be brief"}]},{"role":"user","parts":[{"type":"text","content":"hi"},{"type":"image","uri":"x"},{"type":"text","content":"there"}]}]`, "user",
			[]Message{{Role: "system", Text: "be brief"}, {Role: "user", Text: "hi\nthere"}}},
		{"parts structured", []any{map[string]any{"role": "assistant", "parts": []any{map[string]any{"type": "text", "content": "ok"}}, "finish_reason": "stop"}}, "assistant",
			[]Message{{Role: "assistant", Text: "ok"}}},
		{"tool call only", []any{map[string]any{"role": "assistant", "parts": []any{map[string]any{"type": "tool_call", "name": "f"}}}}, "assistant",
			[]Message{{Role: "assistant", Text: ""}}},
		{"older content", `[{"role":"user","content":"hello"}]`, "user", []Message{{Role: "user", Text: "hello"}}},
		{"openai content parts", `[{"role":"user","content":[{"type":"text","text":"a"}]}]`, "user", []Message{{Role: "user", Text: "a"}}},
		{"choice body", map[string]any{"index": int64(0), "message": map[string]any{"content": "answer"}}, "assistant", []Message{{Role: "assistant", Text: "answer"}}},
		{"plain text", "just text", "user", []Message{{Role: "user", Text: "just text"}}},
		{"text that looks like JSON", "[not json", "user", []Message{{Role: "user", Text: "[not json"}}},
		{"empty", "", "user", nil},
	}
	for _, c := range cases {
		if got := Messages(c.v, c.role); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v want %+v", c.name, got, c.want)
		}
	}
}

func TestEvaluationSignal(t *testing.T) {
	e := Evaluation{TraceID: trace, SpanID: "b000000000000002", Origin: "event:0", Time: 5e9, Name: "relevance", Score: ptr(0.25), Label: "not_relevant"}
	if err := e.Check(); err != nil {
		t.Fatal(err)
	}
	var rec map[string]any
	if err := json.Unmarshal(e.Signal(), &rec); err != nil {
		t.Fatal(err)
	}
	checks := rec["automated_checks"].(map[string]any)
	if rec["kind"] != "signal" || rec["event_id"] != trace || rec["source"] != "judge" || checks["relevance"] != 0.25 ||
		checks["relevance_label"] != "not_relevant" || rec["timestamp"] != "1970-01-01T00:00:05Z" {
		t.Errorf("signal %s", e.Signal())
	}
	again := e
	if again.SignalID() != e.SignalID() {
		t.Error("signal id not deterministic")
	}
	again.Time++
	if again.SignalID() == e.SignalID() {
		t.Error("another result, the same signal id")
	}
	for _, bad := range []Evaluation{{Name: "x", Score: ptr(1.0)}, {TraceID: trace, Score: ptr(1.0)}, {TraceID: trace, Name: "x"}} {
		if bad.Check() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
