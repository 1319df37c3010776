package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// An app instrumented with the OpenTelemetry Go SDK, content capture on,
// exports a chat trace and its judge's results to a running `loupe serve`:
// the trace becomes one interaction mapped as the README's table says,
// masked, and the judge's scores become automated checks.
func TestServeOTLPWithSDK(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	s := startServe(t, nil, "--store", st, "--http", "127.0.0.1:0")
	traceID := exportShopTrace(t, s.http+"/v1/traces", s.http+"/v1/logs")
	s.stop(t)
	checkShopEvent(t, st, traceID)
}

// exportShopTrace is shopTrace exported over OTLP/HTTP: the trace to
// tracesURL, the batch judge's log record to logsURL.
func exportShopTrace(t *testing.T, tracesURL, logsURL string) string {
	t.Helper()
	ctx := context.Background()
	texp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(tracesURL))
	if err != nil {
		t.Fatal(err)
	}
	lexp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(logsURL))
	if err != nil {
		t.Fatal(err)
	}
	return shopTrace(t, texp, lexp)
}

// shopTrace is an app instrumented with the OpenTelemetry Go SDK, content
// capture on: it exports a chat trace (an agent span, two model calls with
// a tool call between them, an online judge's result as a span event)
// through texp and a batch judge's result as a log record through lexp,
// shuts both down (so everything is sent and answered), and returns the
// trace id.
func shopTrace(t *testing.T, texp sdktrace.SpanExporter, lexp sdklog.Exporter) string {
	t.Helper()
	ctx := context.Background()
	res := resource.NewSchemaless(attribute.String("service.name", "shop-assistant"), attribute.String("service.version", "shop-2026.12"))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(texp), sdktrace.WithResource(res))
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(lexp)), sdklog.WithResource(res))

	tr := tp.Tracer("shop")
	start := time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }

	rctx, root := tr.Start(ctx, "invoke_agent support", trace.WithTimestamp(at(0)), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "invoke_agent"),
		attribute.String("user.id", "ana-1234"),
		attribute.String("session.id", "sess-42"),
		attribute.String("loupe.user_segment", "pro"),
		attribute.String("loupe.locale", "en-GB"),
		attribute.String("loupe.task_type", "support"),
	))
	_, call1 := tr.Start(rctx, "chat gpt-4o", trace.WithTimestamp(at(20)), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.request.model", "gpt-4o"),
		attribute.String("gen_ai.response.model", "gpt-4o-2024-08-06"),
		attribute.String("gen_ai.input.messages", `[{"role":"system","parts":[{"type":"text","content":"You are the shop's assistant."}]},{"role":"user","parts":[{"type":"text","content":"My order never came. Reach me at ana.k@example.com or +44 20 7946 0958."}]}]`),
		attribute.String("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"tool_call","name":"order_status","arguments":{"id":"A-1"}}],"finish_reason":"tool_call"}]`),
		attribute.Int("gen_ai.usage.input_tokens", 41),
		attribute.Int("gen_ai.usage.output_tokens", 9),
	))
	call1.End(trace.WithTimestamp(at(700)))
	_, tool := tr.Start(rctx, "execute_tool order_status", trace.WithTimestamp(at(700)), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "execute_tool"), attribute.String("gen_ai.tool.name", "order_status")))
	tool.End(trace.WithTimestamp(at(900)))
	_, call2 := tr.Start(rctx, "chat gpt-4o", trace.WithTimestamp(at(900)), trace.WithAttributes(
		attribute.String("gen_ai.operation.name", "chat"),
		attribute.String("gen_ai.request.model", "gpt-4o"),
		attribute.String("gen_ai.response.model", "gpt-4o-2024-08-06"),
		attribute.String("gen_ai.input.messages", `[{"role":"user","parts":[{"type":"text","content":"My order never came. Reach me at ana.k@example.com or +44 20 7946 0958."}]},{"role":"tool","parts":[{"type":"tool_call_response","result":"lost in transit"}]}]`),
		attribute.String("gen_ai.output.messages", `[{"role":"assistant","parts":[{"type":"text","content":"Sorry, it was lost. A replacement ships today; we'll email ana.k@example.com."}],"finish_reason":"stop"}]`),
		attribute.Int("gen_ai.usage.input_tokens", 77),
		attribute.Int("gen_ai.usage.output_tokens", 21),
	))
	// An online judge reports on the model call as a span event.
	call2.AddEvent("gen_ai.evaluation.result", trace.WithTimestamp(at(2600)), trace.WithAttributes(
		attribute.String("gen_ai.evaluation.name", "relevance"),
		attribute.Float64("gen_ai.evaluation.score.value", 0.92),
		attribute.String("gen_ai.evaluation.score.label", "relevant"),
	))
	call2.End(trace.WithTimestamp(at(2500)))
	root.End(trace.WithTimestamp(at(2800)))

	// A batch judge reports later, as a log record of the trace.
	var rec otellog.Record
	rec.SetEventName("gen_ai.evaluation.result")
	rec.SetTimestamp(at(60_000))
	rec.AddAttributes(
		attribute.String("gen_ai.evaluation.name", "groundedness"),
		attribute.Float64("gen_ai.evaluation.score.value", 0.4),
		attribute.String("gen_ai.evaluation.score.label", "fail"),
		attribute.String("gen_ai.evaluation.explanation", "claims a replacement without a tool result saying so"),
	)
	lp.Logger("judge").Emit(trace.ContextWithSpanContext(ctx, root.SpanContext()), rec)

	if err := tp.Shutdown(ctx); err != nil {
		t.Fatalf("trace export: %v", err)
	}
	if err := lp.Shutdown(ctx); err != nil {
		t.Fatalf("log export: %v", err)
	}
	return root.SpanContext().TraceID().String()
}

// checkShopEvent checks the store holds exportShopTrace's trace as one
// interaction, mapped as the README's table says and masked, with the
// judges' scores as automated checks.
func checkShopEvent(t *testing.T, st, traceID string) {
	t.Helper()
	r := run(t, nil, "export", "events", "--store", st)
	if r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &ev); err != nil {
		t.Fatalf("%v: %s", err, r.stdout)
	}
	get := func(path string) any {
		var v any = ev
		for _, k := range strings.Split(path, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		}
		return v
	}
	want := map[string]any{
		"event_id":                                  traceID,
		"timestamp":                                 "2026-12-01T09:30:00Z",
		"model_version":                             "shop-2026.12",
		"task_type":                                 "support",
		"user_segment":                              "pro",
		"locale":                                    "en-GB",
		"session_id":                                "sess-42",
		"input.text":                                "My order never came. Reach me at [EMAIL] or [PHONE].",
		"output.text":                               "Sorry, it was lost. A replacement ships today; we'll email [EMAIL].",
		"output.latency_ms":                         2800.0,
		"consent.analytics":                         true,
		"consent.training":                          false,
		"extra.otel.request_model":                  "gpt-4o",
		"extra.otel.response_model":                 "gpt-4o-2024-08-06",
		"extra.otel.input_tokens":                   118.0,
		"extra.otel.output_tokens":                  30.0,
		"automated_checks.extra.relevance":          0.92,
		"automated_checks.extra.relevance_label":    "relevant",
		"automated_checks.extra.groundedness":       0.4,
		"automated_checks.extra.groundedness_label": "fail",
		"automated_checks.extra.groundedness_explanation": "claims a replacement without a tool result saying so",
	}
	for path, w := range want {
		if got := get(path); got != w {
			t.Errorf("%s = %#v, want %#v", path, got, w)
		}
	}
	if uh, _ := get("user_hash").(string); len(uh) != 32 || strings.Contains(r.stdout, "ana-1234") {
		t.Errorf("user id not replaced by its hash: %v", get("user_hash"))
	}
	for _, needle := range []string{"ana.k@example.com", "7946 0958", "ana-1234"} {
		if files := filesContaining(t, st, needle); len(files) > 0 {
			t.Errorf("%q stored unmasked in %v", needle, files)
		}
	}
}

// Spans acknowledged by `loupe serve` survive kill -9: the children of a
// trace are sent, serve is killed, and the root sent to a new serve still
// completes the interaction from the spans stored before the kill.
func TestServeOTLPSpansSurviveKill9(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	traces := benchTraces(0, 1) // one trace of five spans
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(traces); err != nil {
		t.Fatal(err)
	}
	spans := req.Traces().ResourceSpans().At(0).ScopeSpans().At(0).Spans()
	part := func(keep func(i int) bool) []byte {
		td := ptrace.NewTraces()
		req.Traces().CopyTo(td)
		n := 0
		td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().RemoveIf(func(ptrace.Span) bool { n++; return !keep(n - 1) })
		b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if spans.Len() != 5 {
		t.Fatalf("%d spans", spans.Len())
	}
	post := func(url string, body []byte) {
		t.Helper()
		resp, err := http.Post(url+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	s := startServe(t, nil, "--store", st, "--http", "127.0.0.1:0")
	post(s.http, part(func(i int) bool { return i > 0 })) // all but the root
	s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited

	s = startServe(t, nil, "--store", st, "--http", "127.0.0.1:0")
	post(s.http, part(func(i int) bool { return i == 0 })) // the root
	s.stop(t)
	got := exportMap(t, st)

	ref := filepath.Join(t.TempDir(), "ref")
	s = startServe(t, nil, "--store", ref, "--http", "127.0.0.1:0")
	post(s.http, traces)
	s.stop(t)
	want := exportMap(t, ref)
	if len(want) != 1 || !reflect.DeepEqual(got, want) {
		t.Errorf("after kill -9:\n%v\nwant\n%v", got, want)
	}
}

// `loupe ingest --format otlp` reads the collector file exporter's OTLP
// JSON lines into the same interactions as serve stores from the same
// requests; a line that is not OTLP is a reject and exit 3.
func TestIngestOTLPFile(t *testing.T) {
	dir := t.TempDir()
	var file bytes.Buffer
	for n := 0; n < 3; n++ {
		req := ptraceotlp.NewExportRequest()
		if err := req.UnmarshalProto(benchTraces(n, 4)); err != nil {
			t.Fatal(err)
		}
		line, err := req.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		file.Write(append(line, '\n'))
	}
	file.WriteString("{\"resourceMetrics\":[]}\n\n")
	in := filepath.Join(dir, "traces.jsonl")
	if err := os.WriteFile(in, file.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "s")
	rj := filepath.Join(dir, "rejects.jsonl")
	r := run(t, nil, "ingest", "--store", st, "--format", "otlp", "--json", "--rejects", rj, in)
	if r.code != 3 {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	var sum summary
	if err := json.Unmarshal([]byte(r.stdout), &sum); err != nil || sum.Read != 5 || sum.Accepted != 12 || sum.Rejected != 1 || sum.Blank != 1 {
		t.Errorf("summary %s (%v)", r.stdout, err)
	}
	if b, _ := os.ReadFile(rj); !strings.Contains(string(b), `"line":4`) || !strings.Contains(string(b), "not an OTLP export request") {
		t.Errorf("rejects %s", b)
	}
	got := exportMap(t, st)
	if len(got) != 12 {
		t.Fatalf("%d interactions, want 12", len(got))
	}
	// The same requests to serve store the same interactions.
	ref := filepath.Join(dir, "ref")
	s := startServe(t, nil, "--store", ref, "--http", "127.0.0.1:0")
	for n := 0; n < 3; n++ {
		resp, err := http.Post(s.http+"/v1/traces", "application/x-protobuf", bytes.NewReader(benchTraces(n, 4)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	s.stop(t)
	if want := exportMap(t, ref); !reflect.DeepEqual(got, want) {
		t.Errorf("file and serve differ:\n%v\n%v", got, want)
	}
	// Re-reading the file stores nothing new.
	if r := run(t, nil, "ingest", "--store", st, "--format", "otlp", in); r.code != 3 {
		t.Errorf("re-run exit %d", r.code)
	}
	if again := exportMap(t, st); !reflect.DeepEqual(again, got) {
		t.Error("re-reading changed the store")
	}
	// The same requests pretty-printed one after another (as jq prints
	// them, or a saved request body), then as a JSON array, store the same.
	var pretty, array bytes.Buffer
	lines := strings.Split(strings.TrimSpace(file.String()), "\n")[:3]
	for _, l := range lines {
		json.Indent(&pretty, []byte(l), "", "  ")
		pretty.WriteByte('\n')
	}
	json.Indent(&array, []byte("["+strings.Join(lines, ",")+"]"), "", "  ")
	for name, b := range map[string][]byte{"pretty": pretty.Bytes(), "array": array.Bytes()} {
		dst := filepath.Join(dir, name)
		r := run(t, b, "ingest", "--store", dst, "--format", "otlp", "--json", "-")
		if r.code != 0 || !strings.Contains(r.stdout, `"accepted":12`) {
			t.Errorf("%s: exit %d %s %s", name, r.code, r.stdout, r.stderr)
		}
		if m := exportMap(t, dst); !reflect.DeepEqual(m, got) {
			t.Errorf("%s: the store differs from the JSON lines'", name)
		}
	}
}

// Through the binary: a trace's spans in reverse order over three
// requests, one of them sent twice, export the same bytes as the trace in
// one request.
func TestServeOTLPAnyOrder(t *testing.T) {
	whole := benchTraces(0, 1) // one trace of five spans, root first
	req := ptraceotlp.NewExportRequest()
	if err := req.UnmarshalProto(whole); err != nil {
		t.Fatal(err)
	}
	// Spans 4 3 | 2 1 | 0: children first, the root last.
	var parts [][]byte
	for _, idx := range [][]int{{4, 3}, {2, 1}, {0}} {
		td := ptrace.NewTraces()
		req.Traces().CopyTo(td)
		spans := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
		picked := ptrace.NewSpanSlice()
		for _, i := range idx {
			spans.At(i).CopyTo(picked.AppendEmpty())
		}
		picked.CopyTo(spans)
		b, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, b)
	}
	post := func(url string, body []byte) {
		t.Helper()
		resp, err := http.Post(url+"/v1/traces", "application/x-protobuf", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	s := startServe(t, nil, "--store", a, "--http", "127.0.0.1:0")
	post(s.http, whole)
	s.stop(t)
	s = startServe(t, nil, "--store", b, "--http", "127.0.0.1:0")
	for _, p := range [][]byte{parts[0], parts[1], parts[1], parts[2]} {
		post(s.http, p)
	}
	s.stop(t)
	want, got := exportMap(t, a), exportMap(t, b)
	if len(want) != 1 || !reflect.DeepEqual(got, want) {
		t.Errorf("in pieces:\n%v\nwhole:\n%v", got, want)
	}
}
