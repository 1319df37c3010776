package ingest

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/genai"
	"github.com/loupe-dev/loupe/store"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

var testTrace = pcommon.TraceID{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c}

const testTraceHex = "0af7651916cd43dd8448eb211c80319c"

type testSpan struct {
	id, parent byte
	name       string
	start, end int64 // ms after a fixed instant
	attrs      map[string]any
}

const t0 = int64(1764583200000) // 2025-12-01T10:00:00Z in ms

// chatSpans is a chat trace: an HTTP root, an agent span, two model calls
// with a tool call between them.
func chatSpans() []testSpan {
	return []testSpan{
		{id: 1, name: "POST /chat", start: 0, end: 3000},
		{id: 2, parent: 1, name: "invoke_agent support", start: 10, end: 2900, attrs: map[string]any{"gen_ai.operation.name": "invoke_agent", "session.id": "s-1"}},
		{id: 3, parent: 2, name: "chat gpt-4o", start: 20, end: 900, attrs: map[string]any{
			"gen_ai.request.model":      "gpt-4o",
			"gen_ai.input.messages":     `[{"role":"user","parts":[{"type":"text","content":"mail ana@example.com my invoice"}]}]`,
			"gen_ai.output.messages":    `[{"role":"assistant","parts":[{"type":"tool_call","name":"send"}]}]`,
			"gen_ai.usage.input_tokens": int64(30)}},
		{id: 4, parent: 2, name: "execute_tool send", start: 900, end: 1200, attrs: map[string]any{"gen_ai.tool.name": "send"}},
		{id: 5, parent: 2, name: "chat gpt-4o", start: 1200, end: 2800, attrs: map[string]any{
			"gen_ai.request.model":       "gpt-4o",
			"gen_ai.response.model":      "gpt-4o-2024-08-06",
			"gen_ai.input.messages":      `[{"role":"user","parts":[{"type":"text","content":"mail ana@example.com my invoice"}]},{"role":"tool","parts":[{"type":"tool_call_response","result":"ok"}]}]`,
			"gen_ai.output.messages":     `[{"role":"assistant","parts":[{"type":"text","content":"Sent to ana@example.com."}]}]`,
			"gen_ai.usage.input_tokens":  int64(50),
			"gen_ai.usage.output_tokens": int64(7)}},
	}
}

// traces builds an OTLP request of spans, in the order given.
func traces(spans []testSpan) ptrace.Traces {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.version", "shop-1.4")
	rs.Resource().Attributes().PutStr("user.id", "u-77")
	ss := rs.ScopeSpans().AppendEmpty()
	for _, s := range spans {
		sp := ss.Spans().AppendEmpty()
		sp.SetTraceID(testTrace)
		sp.SetSpanID(pcommon.SpanID{0, 0, 0, 0, 0, 0, 0, s.id})
		if s.parent != 0 {
			sp.SetParentSpanID(pcommon.SpanID{0, 0, 0, 0, 0, 0, 0, s.parent})
		}
		sp.SetName(s.name)
		sp.SetStartTimestamp(pcommon.Timestamp((t0 + s.start) * 1e6))
		sp.SetEndTimestamp(pcommon.Timestamp((t0 + s.end) * 1e6))
		if err := sp.Attributes().FromRaw(s.attrs); err != nil {
			panic(err)
		}
	}
	return td
}

func protoBody(t testing.TB, td ptrace.Traces) []byte {
	t.Helper()
	b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type otlpAnswer struct {
	code     int
	header   http.Header
	rejected int64
	msg      string
}

func postOTLP(t testing.TB, h http.Handler, path string, body []byte, contentType string, hdr ...string) otlpAnswer {
	t.Helper()
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	a := otlpAnswer{code: rr.Code, header: rr.Header()}
	if rr.Code == http.StatusOK && path == "/v1/traces" {
		resp := ptraceotlp.NewExportResponse()
		var err error
		if strings.Contains(contentType, "json") {
			err = resp.UnmarshalJSON(rr.Body.Bytes())
		} else {
			err = resp.UnmarshalProto(rr.Body.Bytes())
		}
		if err != nil {
			t.Fatalf("answer is not an ExportTraceServiceResponse: %v (%q)", err, rr.Body.String())
		}
		a.rejected, a.msg = resp.PartialSuccess().RejectedSpans(), resp.PartialSuccess().ErrorMessage()
	} else {
		a.msg = rr.Body.String()
	}
	return a
}

func newOTLPCollector(t testing.TB) (*Collector, *store.Store) {
	st := openStore(t)
	return NewCollector(New(st, PipelineOptions{}), CollectorOptions{}), st
}

func storedBody(t testing.TB, st *store.Store) string {
	t.Helper()
	var out []string
	if err := st.Events(func(id string, body []byte) error {
		out = append(out, string(body))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

func TestOTLPMapping(t *testing.T) {
	c, st := newOTLPCollector(t)
	a := postOTLP(t, c, "/v1/traces", protoBody(t, traces(chatSpans())), "application/x-protobuf")
	if a.code != 200 || a.rejected != 0 {
		t.Fatalf("answer %+v", a)
	}
	ev, err := st.Event(testTraceHex)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Input.Text != "mail [EMAIL] my invoice" || ev.Output.Text != "Sent to [EMAIL]." || *ev.Output.LatencyMS != 3000 {
		t.Errorf("input %q output %q latency %v", ev.Input.Text, ev.Output.Text, *ev.Output.LatencyMS)
	}
	if ev.ModelVersion != "shop-1.4" || ev.UserHash != st.UserHash("u-77") || ev.SessionID != "s-1" || ev.TaskType != "invoke_agent" {
		t.Errorf("fields %+v", ev)
	}
	if ev.Timestamp.UnixMilli() != t0 || ev.Masked["EMAIL"] != 2 {
		t.Errorf("timestamp %v masked %v", ev.Timestamp, ev.Masked)
	}
	if got := string(ev.Extra["otel"]); got != `{"request_model":"gpt-4o","response_model":"gpt-4o-2024-08-06","input_tokens":80,"output_tokens":7}` {
		t.Errorf("otel extra %s", got)
	}
	if strings.Contains(storedBody(t, st), "ana@") {
		t.Error("unmasked email stored")
	}
}

// Spans in reverse order, over three requests, one of them sent twice,
// store the same interaction as all spans in one request.
func TestOTLPAssemblyOrderIndependent(t *testing.T) {
	c1, st1 := newOTLPCollector(t)
	postOTLP(t, c1, "/v1/traces", protoBody(t, traces(chatSpans())), "application/x-protobuf")
	want := storedBody(t, st1)

	c2, st2 := newOTLPCollector(t)
	s := chatSpans()
	rev := []testSpan{s[4], s[3], s[2], s[1], s[0]}
	parts := [][]testSpan{rev[:2], rev[2:4], rev[4:]}
	for i, p := range [][]testSpan{parts[0], parts[1], parts[1], parts[2]} {
		if a := postOTLP(t, c2, "/v1/traces", protoBody(t, traces(p)), "application/x-protobuf"); a.code != 200 || a.rejected != 0 {
			t.Fatalf("request %d: %+v", i, a)
		}
	}
	// Each store has its own user-hash secret.
	hash := regexp.MustCompile(`"user_hash":"[0-9a-f]+"`)
	want = hash.ReplaceAllString(want, `"user_hash":"H"`)
	if got := hash.ReplaceAllString(storedBody(t, st2), `"user_hash":"H"`); got != want {
		t.Errorf("assembled over requests:\n%s\nwant\n%s", got, want)
	}
	n, _ := st2.Count()
	if n != 1 {
		t.Errorf("%d events stored, want 1", n)
	}
}

func TestOTLPBadInput(t *testing.T) {
	c, st := newOTLPCollector(t)
	// Malformed protobuf.
	if a := postOTLP(t, c, "/v1/traces", []byte("\xff\xffnot protobuf"), "application/x-protobuf"); a.code != 400 {
		t.Errorf("malformed protobuf: %+v", a)
	}
	// JSON of the wrong shape.
	if a := postOTLP(t, c, "/v1/traces", []byte(`{"resourceSpans":{"x":1}}`), "application/json"); a.code != 400 || !strings.Contains(a.msg, `"code":3`) {
		t.Errorf("wrong JSON shape: %+v", a)
	}
	// Not OTLP at all.
	if a := postOTLP(t, c, "/v1/traces", []byte("a,b"), "text/csv"); a.code != 415 {
		t.Errorf("csv: %+v", a)
	}
	// A gzip bomb: 64 MiB of zeros in a small body.
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zeros := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zeros)
	}
	zw.Close()
	if a := postOTLP(t, c, "/v1/traces", bomb.Bytes(), "application/x-protobuf", "Content-Encoding", "gzip"); a.code != 413 {
		t.Errorf("gzip bomb (%d bytes): %+v", bomb.Len(), a)
	}
	// Oversized.
	if a := postOTLP(t, c, "/v1/traces", make([]byte, DefaultMaxBody+1), "application/x-protobuf"); a.code != 413 {
		t.Errorf("oversized: %+v", a)
	}
	// gzip that is fine is read.
	var gz bytes.Buffer
	zw = gzip.NewWriter(&gz)
	zw.Write(protoBody(t, traces(chatSpans())))
	zw.Close()
	if a := postOTLP(t, c, "/v1/traces", gz.Bytes(), "application/x-protobuf", "Content-Encoding", "gzip"); a.code != 200 || a.rejected != 0 {
		t.Errorf("gzip: %+v", a)
	}
	if ok, _ := st.Has(testTraceHex); !ok {
		t.Error("valid trace not stored")
	}
}

func TestOTLPPartialAndPlain(t *testing.T) {
	c, st := newOTLPCollector(t)
	td := traces(chatSpans())
	// A span without ids beside the valid ones, and a trace of plain
	// HTTP spans.
	bad := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	bad.SetName("no ids")
	plain := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	plain.SetTraceID(pcommon.TraceID{1, 2, 3})
	plain.SetSpanID(pcommon.SpanID{9})
	plain.SetName("GET /health")
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	a := postOTLP(t, c, "/v1/traces", body, "application/json")
	if a.code != 200 || a.rejected != 1 || !strings.Contains(a.msg, "trace_id and span_id") {
		t.Errorf("answer %+v", a)
	}
	if n, _ := st.Count(); n != 1 {
		t.Errorf("%d events, want the chat trace's only", n)
	}
	if spans, _ := st.TraceSpans("01020300000000000000000000000000"); len(spans) != 0 {
		t.Errorf("spans of a trace without GenAI spans stored: %d", len(spans))
	}
	// A trace without GenAI spans alone: accepted, nothing stored.
	td = ptrace.NewTraces()
	sp := td.ResourceSpans().AppendEmpty().ScopeSpans().AppendEmpty().Spans().AppendEmpty()
	sp.SetTraceID(pcommon.TraceID{7})
	sp.SetSpanID(pcommon.SpanID{7})
	if a := postOTLP(t, c, "/v1/traces", protoBody(t, td), "application/x-protobuf"); a.code != 200 || a.rejected != 0 {
		t.Errorf("plain trace: %+v", a)
	}
	if n, _ := st.Count(); n != 1 {
		t.Errorf("%d events after a plain trace", n)
	}
}

func TestOTLPConsentOverride(t *testing.T) {
	c, st := newOTLPCollector(t)
	s := chatSpans()
	s[0].attrs = map[string]any{"loupe.consent.analytics": false}
	// The withholding span arrives after the others were stored.
	postOTLP(t, c, "/v1/traces", protoBody(t, traces(s[1:])), "application/x-protobuf")
	if n, _ := st.Count(); n != 1 {
		t.Fatalf("%d events before the withdrawal", n)
	}
	postOTLP(t, c, "/v1/traces", protoBody(t, traces(s[:1])), "application/x-protobuf")
	if spans, _ := st.TraceSpans(testTraceHex); len(spans) != 0 {
		t.Errorf("%d spans kept after consent was withheld", len(spans))
	}
	if n, _ := st.Count(); n != 0 {
		t.Errorf("%d events after consent was withheld", n)
	}
	// Redelivered spans, and a judge's result, stay out.
	td := traces(s[1:])
	ev := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(0).Events().AppendEmpty()
	ev.SetName("gen_ai.evaluation.result")
	ev.Attributes().PutStr("gen_ai.evaluation.name", "relevance")
	ev.Attributes().PutDouble("gen_ai.evaluation.score.value", 0.5)
	if a := postOTLP(t, c, "/v1/traces", protoBody(t, td), "application/x-protobuf"); a.code != 200 || a.rejected != 0 {
		t.Errorf("redelivery: %+v", a)
	}
	if n, _ := st.Count(); n != 0 {
		t.Errorf("%d events after redelivery", n)
	}
	if spans, _ := st.TraceSpans(testTraceHex); len(spans) != 0 {
		t.Errorf("%d spans after redelivery", len(spans))
	}
	var sigs int
	st.AllSignals(func(*loop.Signal) error { sigs++; return nil })
	if sigs != 0 {
		t.Errorf("%d signals kept for a withdrawn trace", sigs)
	}
}

// With otlp.consent.analytics false, only traces a span gives consent to
// are kept, with their judges' results.
func TestOTLPConsentDefaultNo(t *testing.T) {
	st := openStore(t)
	m := genai.DefaultMapping()
	m.Analytics = false
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{OTLP: &m})
	s := chatSpans()
	td := traces(s)
	ev := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(2).Events().AppendEmpty()
	ev.SetName("gen_ai.evaluation.result")
	ev.Attributes().PutStr("gen_ai.evaluation.name", "relevance")
	ev.Attributes().PutDouble("gen_ai.evaluation.score.value", 0.5)
	postOTLP(t, c, "/v1/traces", protoBody(t, td), "application/x-protobuf")
	var sigs int
	st.AllSignals(func(*loop.Signal) error { sigs++; return nil })
	if n, _ := st.Count(); n != 0 || sigs != 0 {
		t.Errorf("without consent: %d events, %d signals", n, sigs)
	}
	s[1].attrs["loupe.consent.analytics"] = "true"
	td = traces(s)
	ev = td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().At(2).Events().AppendEmpty()
	ev.SetName("gen_ai.evaluation.result")
	ev.Attributes().PutStr("gen_ai.evaluation.name", "relevance")
	ev.Attributes().PutDouble("gen_ai.evaluation.score.value", 0.5)
	postOTLP(t, c, "/v1/traces", protoBody(t, td), "application/x-protobuf")
	got, err := st.Event(testTraceHex)
	if err != nil || got.Checks == nil || string(got.Checks.Extra["relevance"]) != "0.5" || *got.Consent.Analytics != true {
		t.Errorf("consented by a span: %+v %v", got, err)
	}
}

func TestOTLPToken(t *testing.T) {
	st := openStore(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{Token: "tok"})
	body := protoBody(t, traces(chatSpans()))
	if a := postOTLP(t, c, "/v1/traces", body, "application/x-protobuf"); a.code != 401 {
		t.Errorf("no token: %+v", a)
	}
	if a := postOTLP(t, c, "/v1/traces", body, "application/x-protobuf", "Authorization", "Bearer tok"); a.code != 200 {
		t.Errorf("token: %+v", a)
	}
}

func TestOTLPRateLimit(t *testing.T) {
	st := openStore(t)
	clk := newClock()
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{ClientRate: 1, ClientBurst: 5, Now: clk.now})
	body := protoBody(t, traces(chatSpans())) // 5 spans
	if a := postOTLP(t, c, "/v1/traces", body, "application/x-protobuf"); a.code != 200 {
		t.Fatalf("first: %+v", a)
	}
	a := postOTLP(t, c, "/v1/traces", body, "application/x-protobuf")
	if a.code != 429 || a.header.Get("Retry-After") == "" {
		t.Errorf("over the limit: %+v", a)
	}
}

// Concurrent requests carrying spans of the same trace, some twice
// (assembled together when they meet), store what one request with all
// of them does.
func TestOTLPConcurrentAssembly(t *testing.T) {
	s := chatSpans()
	var parts [][]byte
	for i := range s {
		parts = append(parts, protoBody(t, traces(s[i:i+1])))
	}
	c1, st1 := newOTLPCollector(t)
	postOTLP(t, c1, "/v1/traces", protoBody(t, traces(s)), "application/x-protobuf")
	// The root span carries no gen_ai.* attribute: it is kept only once a
	// GenAI span of its trace is, so it goes last.
	parts = append(parts[1:], parts[0])
	st := openStore(t)
	c2 := NewCollector(New(st, PipelineOptions{}), CollectorOptions{ClientRate: 1e9, ClientBurst: 1e6})
	var wg sync.WaitGroup
	for round := 0; round < 3; round++ {
		for _, p := range parts[:len(parts)-1] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if a := postOTLP(t, c2, "/v1/traces", p, "application/x-protobuf"); a.code != 200 {
					t.Errorf("answer %+v", a)
				}
			}()
		}
	}
	wg.Wait()
	postOTLP(t, c2, "/v1/traces", parts[len(parts)-1], "application/x-protobuf")
	hash := regexp.MustCompile(`"user_hash":"[0-9a-f]+"`)
	want := hash.ReplaceAllString(storedBody(t, st1), "")
	if got := hash.ReplaceAllString(storedBody(t, st), ""); got != want {
		t.Errorf("concurrent:\n%s\nwant\n%s", got, want)
	}
}

// A user's thumb for a trace (a signal with event_id = the trace id) is
// merged into the OTLP interaction whether it comes before the spans,
// between them or after, and survives the interaction being derived again
// as more spans arrive. A consent withdrawal erases the interaction and its
// spans, and later spans of the trace are not stored again.
func TestOTLPSignalsAndReplacement(t *testing.T) {
	thumb := `{"kind":"signal","signal_id":"t-1","event_id":"` + testTraceHex + `","timestamp":"2025-12-01T10:01:00Z","source":"user","explicit_feedback":{"thumb":"down","reason_codes":["factual_error"]}}`
	s := chatSpans()

	// Reference: all spans, then the thumb.
	st1 := openStore(t)
	p1 := New(st1, PipelineOptions{})
	c1 := NewCollector(p1, CollectorOptions{})
	postOTLP(t, c1, "/v1/traces", protoBody(t, traces(s)), "application/x-protobuf")
	if outs, _ := submit(t, p1, thumb); outs[0].Status != Accepted {
		t.Fatalf("thumb: %+v", outs[0])
	}
	want := storedBody(t, st1)
	if !strings.Contains(want, `"thumb":"down"`) {
		t.Fatalf("thumb not merged: %s", want)
	}

	// The thumb first (pending), the children, then the root.
	st2 := openStore(t)
	var stored []string
	p2 := New(st2, PipelineOptions{OnStored: func(chg []store.Changed) error {
		for _, c := range chg {
			stored = append(stored, c.Summary.ID)
		}
		return nil
	}, Queue: func(c *store.Changed) (loop.QueueItem, bool) {
		return loop.QueueItem{Day: "2025-12-01", Why: []string{"every"}}, true
	}})
	c2 := NewCollector(p2, CollectorOptions{})
	if outs, _ := submit(t, p2, thumb); outs[0].Status != Pending {
		t.Fatalf("early thumb: %+v", outs[0])
	}
	postOTLP(t, c2, "/v1/traces", protoBody(t, traces(s[1:])), "application/x-protobuf")
	postOTLP(t, c2, "/v1/traces", protoBody(t, traces(s[:1])), "application/x-protobuf")
	hash := regexp.MustCompile(`"user_hash":"[0-9a-f]+"`)
	if got := hash.ReplaceAllString(storedBody(t, st2), ""); got != hash.ReplaceAllString(want, "") {
		t.Errorf("thumb first:\n%s\nwant\n%s", got, want)
	}
	if len(stored) != 2 || stored[0] != testTraceHex {
		t.Errorf("OnStored saw %v, want the trace twice (stored, then replaced)", stored)
	}
	var queued []string
	if err := st2.Queued(func(it loop.QueueItem) error { queued = append(queued, it.EventID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(queued) != 1 || queued[0] != testTraceHex {
		t.Errorf("queue holds %v, want the trace once", queued)
	}
	orig, err := st2.Original(testTraceHex)
	if err != nil || orig.Explicit != nil || orig.Output == nil || *orig.Output.LatencyMS != 3000 {
		t.Errorf("original %+v %v", orig, err)
	}

	// Consent withdrawn: nothing of the trace stays, and it does not come
	// back with its spans.
	withdraw := `{"kind":"signal","signal_id":"t-2","event_id":"` + testTraceHex + `","timestamp":"2025-12-01T10:02:00Z","consent":{"analytics":false}}`
	submit(t, p2, withdraw)
	if n, _ := st2.Count(); n != 0 {
		t.Errorf("%d events after withdrawal", n)
	}
	if spans, _ := st2.TraceSpans(testTraceHex); len(spans) != 0 {
		t.Errorf("%d spans after withdrawal", len(spans))
	}
	postOTLP(t, c2, "/v1/traces", protoBody(t, traces(s)), "application/x-protobuf")
	if n, _ := st2.Count(); n != 0 {
		t.Errorf("%d events after redelivery of a withdrawn trace", n)
	}
	if spans, _ := st2.TraceSpans(testTraceHex); len(spans) != 0 {
		t.Errorf("%d spans stored again after withdrawal", len(spans))
	}
}
