package ingest

import (
	"context"
	"net"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// grpcClients serves c's OTLP/gRPC receiver on a loopback port and returns
// a trace and a logs client connected to it.
func grpcClients(t testing.TB, c *Collector) (ptraceotlp.GRPCClient, plogotlp.GRPCClient) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewOTLPGRPC(c).Server()
	go srv.Serve(ln)
	t.Cleanup(srv.Stop)
	cc, err := grpc.NewClient(ln.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cc.Close() })
	return ptraceotlp.NewGRPCClient(cc), plogotlp.NewGRPCClient(cc)
}

func exportTraces(t testing.TB, cl ptraceotlp.GRPCClient, ctx context.Context, td ptrace.Traces, opts ...grpc.CallOption) (ptraceotlp.ExportResponse, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	return cl.Export(ctx, ptraceotlp.NewExportRequestFromTraces(td), opts...)
}

// judgeLogs is a gen_ai.evaluation.result log record about testTrace.
func judgeLogs(name string, score float64) plog.Logs {
	ld := plog.NewLogs()
	lr := ld.ResourceLogs().AppendEmpty().ScopeLogs().AppendEmpty().LogRecords().AppendEmpty()
	lr.SetEventName("gen_ai.evaluation.result")
	lr.SetTraceID(testTrace)
	lr.SetTimestamp(pcommon.Timestamp((t0 + 60_000) * 1e6))
	lr.Attributes().PutStr("gen_ai.evaluation.name", name)
	lr.Attributes().PutDouble("gen_ai.evaluation.score.value", score)
	return ld
}

// retryDelay is the RetryInfo of a status error, 0 without one.
func retryDelay(err error) time.Duration {
	for _, d := range status.Convert(err).Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}

func metricsText(t testing.TB, c *Collector) string {
	t.Helper()
	rr := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/metrics", nil)
	if c.o.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.o.Token)
	}
	c.ServeHTTP(rr, req)
	return rr.Body.String()
}

// The same request stores the same interaction over gRPC as over
// POST /v1/traces, assembled by the same source: spans in two requests,
// one over each protocol, end as the whole trace over one.
func TestOTLPGRPCSameAsHTTP(t *testing.T) {
	c1, st1 := newOTLPCollector(t)
	if a := postOTLP(t, c1, "/v1/traces", protoBody(t, traces(chatSpans())), "application/x-protobuf"); a.code != 200 || a.rejected != 0 {
		t.Fatalf("http: %+v", a)
	}
	want := storedBody(t, st1)

	c2, st2 := newOTLPCollector(t)
	tc, _ := grpcClients(t, c2)
	resp, err := exportTraces(t, tc, context.Background(), traces(chatSpans()))
	if err != nil {
		t.Fatalf("grpc export: %v", err)
	}
	if ps := resp.PartialSuccess(); ps.RejectedSpans() != 0 || ps.ErrorMessage() != "" {
		t.Errorf("partial success on a clean request: %d %q", ps.RejectedSpans(), ps.ErrorMessage())
	}
	hash := regexp.MustCompile(`"user_hash":"[0-9a-f]+"`)
	norm := func(s string) string { return hash.ReplaceAllString(s, `"user_hash":"H"`) }
	got := storedBody(t, st2)
	if got == "" || norm(got) != norm(want) {
		t.Errorf("over gRPC:\n%s\nover HTTP:\n%s", got, want)
	}
	if m := metricsText(t, c2); !strings.Contains(m, `loupe_grpc_requests_total{code="OK"} 1`+"\n") ||
		!strings.Contains(m, "loupe_events_accepted_total 1\n") {
		t.Errorf("metrics after one gRPC export:\n%s", m)
	}

	// Children over gRPC, the root over HTTP, into one collector.
	c3, st3 := newOTLPCollector(t)
	tc3, _ := grpcClients(t, c3)
	s := chatSpans()
	if _, err := exportTraces(t, tc3, context.Background(), traces(s[1:])); err != nil {
		t.Fatal(err)
	}
	if a := postOTLP(t, c3, "/v1/traces", protoBody(t, traces(s[:1])), "application/x-protobuf"); a.code != 200 {
		t.Fatalf("http root: %+v", a)
	}
	if got := storedBody(t, st3); norm(got) != norm(want) {
		t.Errorf("gRPC then HTTP:\n%s\nwant\n%s", got, want)
	}
}

func TestOTLPGRPCToken(t *testing.T) {
	st := openStore(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{Token: "tok"})
	tc, lc := grpcClients(t, c)
	for _, hdr := range [][]string{nil, {"authorization", "Bearer nope"}, {"authorization", "tok"}} {
		ctx := metadata.AppendToOutgoingContext(context.Background(), hdr...)
		_, err := exportTraces(t, tc, ctx, traces(chatSpans()))
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "bearer token") {
			t.Errorf("traces with %q: %v, want Unauthenticated", hdr, err)
		}
		lctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		_, err = lc.Export(lctx, plogotlp.NewExportRequestFromLogs(judgeLogs("relevance", 0.5)))
		cancel()
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("logs with %q: %v, want Unauthenticated", hdr, err)
		}
	}
	if n, _ := st.Count(); n != 0 {
		t.Fatalf("%d events stored without the token", n)
	}
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer tok")
	if _, err := exportTraces(t, tc, ctx, traces(chatSpans())); err != nil {
		t.Fatalf("with the token: %v", err)
	}
	if ok, _ := st.Has(testTraceHex); !ok {
		t.Error("trace not stored with the token")
	}
	if m := metricsText(t, c); !strings.Contains(m, `loupe_grpc_requests_total{code="Unauthenticated"} 6`+"\n") {
		t.Errorf("refusals not counted:\n%s", m)
	}
}

// Valid spans beside refused ones are stored; the answer counts and
// explains the refused.
func TestOTLPGRPCPartialSuccess(t *testing.T) {
	c, st := newOTLPCollector(t)
	tc, lc := grpcClients(t, c)
	td := traces(chatSpans())
	bad := td.ResourceSpans().At(0).ScopeSpans().At(0).Spans().AppendEmpty()
	bad.SetName("no ids")
	resp, err := exportTraces(t, tc, context.Background(), td)
	if err != nil {
		t.Fatal(err)
	}
	if ps := resp.PartialSuccess(); ps.RejectedSpans() != 1 || !strings.Contains(ps.ErrorMessage(), "trace_id and span_id") {
		t.Errorf("partial success %d %q", ps.RejectedSpans(), ps.ErrorMessage())
	}
	if ok, _ := st.Has(testTraceHex); !ok {
		t.Error("the valid spans were not stored")
	}
	// A judge's result without a score, beside a good one.
	ld := judgeLogs("relevance", 0.5)
	lr := ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().AppendEmpty()
	lr.SetEventName("gen_ai.evaluation.result")
	lr.SetTraceID(testTrace)
	lr.Attributes().PutStr("gen_ai.evaluation.name", "tone")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	lresp, err := lc.Export(ctx, plogotlp.NewExportRequestFromLogs(ld))
	if err != nil {
		t.Fatal(err)
	}
	if ps := lresp.PartialSuccess(); ps.RejectedLogRecords() != 1 || ps.ErrorMessage() == "" {
		t.Errorf("logs partial success %d %q", ps.RejectedLogRecords(), ps.ErrorMessage())
	}
}

// A gen_ai.evaluation.result log record over gRPC becomes a judge signal
// of its trace's interaction, whether it comes before the spans or after.
func TestOTLPGRPCLogsJudge(t *testing.T) {
	c, st := newOTLPCollector(t)
	tc, lc := grpcClients(t, c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := lc.Export(ctx, plogotlp.NewExportRequestFromLogs(judgeLogs("groundedness", 0.4))); err != nil {
		t.Fatalf("logs before the spans: %v", err)
	}
	if _, err := exportTraces(t, tc, ctx, traces(chatSpans())); err != nil {
		t.Fatal(err)
	}
	if _, err := lc.Export(ctx, plogotlp.NewExportRequestFromLogs(judgeLogs("relevance", 0.9))); err != nil {
		t.Fatalf("logs after the spans: %v", err)
	}
	ev, err := st.Event(testTraceHex)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Checks == nil || string(ev.Checks.Extra["groundedness"]) != "0.4" || string(ev.Checks.Extra["relevance"]) != "0.9" {
		t.Errorf("checks %+v", ev.Checks)
	}
	if m := metricsText(t, c); !strings.Contains(m, "loupe_signals_accepted_total 2\n") {
		t.Errorf("signals not counted:\n%s", m)
	}
}

// A message over MaxBody is refused with RESOURCE_EXHAUSTED (no RetryInfo:
// not to be retried), plain or gzip: a compression bomb is stopped once it
// inflates past the limit. gzip within the limit is read.
func TestOTLPGRPCTooLarge(t *testing.T) {
	st := openStore(t)
	const limit = 64 << 10
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{MaxBody: limit})
	tc, _ := grpcClients(t, c)
	big := func() ptrace.Traces {
		s := chatSpans()
		s[2].attrs["padding"] = strings.Repeat("a", 8<<20) // 8 MiB, a few KiB gzipped
		return traces(s)
	}
	for _, tc2 := range []struct {
		name string
		opts []grpc.CallOption
	}{{"plain", nil}, {"gzip", []grpc.CallOption{grpc.UseCompressor(gzip.Name)}}} {
		_, err := exportTraces(t, tc, context.Background(), big(), tc2.opts...)
		if status.Code(err) != codes.ResourceExhausted || retryDelay(err) != 0 {
			t.Errorf("%s over the limit: %v (retry %v), want ResourceExhausted without RetryInfo", tc2.name, err, retryDelay(err))
		}
		if tc2.name == "gzip" && !strings.Contains(err.Error(), "after decompression") {
			t.Errorf("gzip bomb not stopped by the inflated size: %v", err)
		}
	}
	if n, _ := st.Count(); n != 0 {
		t.Fatalf("%d events stored from oversized messages", n)
	}
	if _, err := exportTraces(t, tc, context.Background(), traces(chatSpans()), grpc.UseCompressor(gzip.Name)); err != nil {
		t.Fatalf("gzip within the limit: %v", err)
	}
	if ok, _ := st.Has(testTraceHex); !ok {
		t.Error("gzip request not stored")
	}
}

// An empty client bucket gives RESOURCE_EXHAUSTED with a RetryInfo, both
// when it is found empty before the message is read and when the message
// carries more than it holds; more items than a bucket holds at all are
// refused without one.
func TestOTLPGRPCRateLimit(t *testing.T) {
	st := openStore(t)
	clk := newClock()
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{ClientRate: 1, ClientBurst: 5, Now: clk.now})
	tc, _ := grpcClients(t, c)
	td := traces(chatSpans()) // 5 spans
	if _, err := exportTraces(t, tc, context.Background(), td); err != nil {
		t.Fatalf("first: %v", err)
	}
	_, err := exportTraces(t, tc, context.Background(), td) // bucket empty: the tap refuses
	if status.Code(err) != codes.ResourceExhausted || retryDelay(err) <= 0 {
		t.Errorf("empty bucket: %v (retry %v)", err, retryDelay(err))
	}
	clk.advance(time.Second) // one token: the message is read, its 5 spans do not fit
	_, err = exportTraces(t, tc, context.Background(), td)
	if d := retryDelay(err); status.Code(err) != codes.ResourceExhausted || d < 4*time.Second {
		t.Errorf("bucket short: %v (retry %v, want >= 4s)", err, d)
	}
	clk.advance(5 * time.Second)
	if _, err := exportTraces(t, tc, context.Background(), td); err != nil {
		t.Errorf("after the wait: %v", err)
	}
	clk.advance(time.Minute)
	s := chatSpans()
	for i := byte(10); i < 12; i++ {
		s = append(s, testSpan{id: i, parent: 1, name: "more", start: 1, end: 2})
	}
	_, err = exportTraces(t, tc, context.Background(), traces(s))
	if status.Code(err) != codes.ResourceExhausted || retryDelay(err) != 0 || !strings.Contains(err.Error(), "send at most 5") {
		t.Errorf("7 spans for a burst of 5: %v (retry %v)", err, retryDelay(err))
	}
}

// With the disk full the answer is UNAVAILABLE with a RetryInfo and
// nothing is stored; with room again the same request is taken.
func TestOTLPGRPCDiskFull(t *testing.T) {
	st, free := storeWithFreeSpace(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{})
	tc, _ := grpcClients(t, c)
	free.Store(1 << 20)
	_, err := exportTraces(t, tc, context.Background(), traces(chatSpans()))
	if status.Code(err) != codes.Unavailable || retryDelay(err) != RetryAfterDiskFull*time.Second || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("full disk: %v (retry %v)", err, retryDelay(err))
	}
	if ok, _ := st.Has(testTraceHex); ok {
		t.Fatal("stored on a full disk")
	}
	free.Store(1 << 40)
	if _, err := exportTraces(t, tc, context.Background(), traces(chatSpans())); err != nil {
		t.Fatalf("with room again: %v", err)
	}
	if ok, _ := st.Has(testTraceHex); !ok {
		t.Error("not stored with room again")
	}
}

// TestOTLPGRPCMemoryBudget: the memory budget shared with HTTP is charged
// before a message is read, for the largest message there may be, and
// given back when the RPC ends: with the budget spent a request is
// refused as retryable, and after requests of every outcome it is all
// free again.
func TestOTLPGRPCMemoryBudget(t *testing.T) {
	st := openStore(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{Token: "tok", MemoryBudget: bodyCost(DefaultMaxBody)})
	tc, _ := grpcClients(t, c)
	ctx := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer tok")
	if !c.bodies.TryAcquire(1) {
		t.Fatal("budget not free at the start")
	}
	_, err := exportTraces(t, tc, ctx, traces(chatSpans()))
	if status.Code(err) != codes.Unavailable || retryDelay(err) == 0 {
		t.Fatalf("with the budget spent: %v, want UNAVAILABLE with RetryInfo", err)
	}
	c.bodies.Release(1)
	if _, err := exportTraces(t, tc, ctx, traces(chatSpans())); err != nil {
		t.Fatalf("with the budget free: %v", err)
	}
	// Refused for its size after the charge, and refused by the tap.
	big := traces([]testSpan{{id: 1, name: "chat", attrs: map[string]any{"gen_ai.input.messages": strings.Repeat("x", int(DefaultMaxBody))}}})
	if _, err := exportTraces(t, tc, ctx, big); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("too large: %v", err)
	}
	if _, err := exportTraces(t, tc, context.Background(), traces(chatSpans())); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("no token: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !c.bodies.TryAcquire(bodyCost(DefaultMaxBody)) {
		if time.Now().After(deadline) {
			t.Fatal("the budget was not given back after the RPCs ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
