package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// BenchmarkOTLPServe measures OTLP span intake through the real binary:
// exporters on 4 connections POST protobuf batches of 100 chat traces (5
// spans each, content captured) to `loupe serve`, which masks, assembles
// and stores them durably before answering. It reports spans/s.
func BenchmarkOTLPServe(b *testing.B) {
	st := filepath.Join(b.TempDir(), "s")
	s := startServe(b, nil, "--store", st, "--http", "127.0.0.1:0",
		"--client-rate", "1e9", "--client-burst", "1e6")
	defer s.stop(b)
	const conns, tracesPer, spansPer = 4, 100, 5
	bodies := make([][]byte, b.N*conns)
	for i := range bodies {
		bodies[i] = benchTraces(i, tracesPer)
	}
	client := httpClient(conns)
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := c; i < len(bodies); i += conns {
				resp, err := client.Post(s.http+"/v1/traces", "application/x-protobuf", bytes.NewReader(bodies[i]))
				if err != nil {
					errs <- err
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
					return
				}
			}
		}()
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(bodies)*tracesPer*spansPer)/secs, "spans/s")
	b.ReportMetric(float64(len(bodies)*tracesPer)/secs, "traces/s")
}

// benchTraces is request n: traces chat traces of 5 spans, the root
// first.
func benchTraces(n, traces int) []byte {
	td := ptrace.NewTraces()
	rs := td.ResourceSpans().AppendEmpty()
	rs.Resource().Attributes().PutStr("service.version", "bench-1")
	spans := rs.ScopeSpans().AppendEmpty().Spans()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC).UnixNano()
	for i := 0; i < traces; i++ {
		var tid pcommon.TraceID
		binary.BigEndian.PutUint64(tid[:8], uint64(n)+1)
		binary.BigEndian.PutUint64(tid[8:], uint64(i)+1)
		at := t0 + int64(n*traces+i)*int64(time.Millisecond)
		add := func(id, parent byte, name string, start, end int64, attrs map[string]any) {
			sp := spans.AppendEmpty()
			sp.SetTraceID(tid)
			sp.SetSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, id})
			if parent != 0 {
				sp.SetParentSpanID(pcommon.SpanID{1, 2, 3, 4, 5, 6, 7, parent})
			}
			sp.SetName(name)
			sp.SetStartTimestamp(pcommon.Timestamp(at + start*1e6))
			sp.SetEndTimestamp(pcommon.Timestamp(at + end*1e6))
			if err := sp.Attributes().FromRaw(attrs); err != nil {
				panic(err)
			}
		}
		user := fmt.Sprintf(`[{"role":"user","parts":[{"type":"text","content":"order %d never came, write to user%d@example.com"}]}]`, i, i)
		add(1, 0, "POST /chat", 0, 3000, map[string]any{"user.id": fmt.Sprintf("u%d", i%50)})
		add(2, 1, "invoke_agent", 5, 2950, map[string]any{"gen_ai.operation.name": "invoke_agent"})
		add(3, 2, "chat gpt-4o", 10, 900, map[string]any{"gen_ai.request.model": "gpt-4o", "gen_ai.input.messages": user,
			"gen_ai.usage.input_tokens": int64(40), "gen_ai.usage.output_tokens": int64(8)})
		add(4, 2, "execute_tool status", 900, 1100, map[string]any{"gen_ai.tool.name": "status"})
		add(5, 2, "chat gpt-4o", 1100, 2900, map[string]any{"gen_ai.request.model": "gpt-4o", "gen_ai.input.messages": user,
			"gen_ai.output.messages":    `[{"role":"assistant","parts":[{"type":"text","content":"It was lost; a replacement ships today."}]}]`,
			"gen_ai.usage.input_tokens": int64(80), "gen_ai.usage.output_tokens": int64(20)})
	}
	body, err := ptraceotlp.NewExportRequestFromTraces(td).MarshalProto()
	if err != nil {
		panic(err)
	}
	return body
}
