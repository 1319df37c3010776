package ingest

import (
	"testing"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// BenchmarkOTLPCollector posts protobuf batches of 100 five-span chat
// traces to the collector in process, one at a time: decoding, masking,
// assembly and the durable commit, without the network.
func BenchmarkOTLPCollector(b *testing.B) {
	c := NewCollector(New(openStore(b), PipelineOptions{}), CollectorOptions{ClientRate: 1e9, ClientBurst: 1e6})
	bodies := make([][]byte, b.N)
	for n := range bodies {
		td := ptrace.NewTraces()
		for i := 0; i < 100; i++ {
			tr := traces(chatSpans())
			sp := tr.ResourceSpans().At(0).ScopeSpans().At(0).Spans()
			for k := 0; k < sp.Len(); k++ {
				sp.At(k).SetTraceID(pcommon.TraceID{byte(n), byte(n >> 8), byte(i), 1})
			}
			tr.ResourceSpans().MoveAndAppendTo(td.ResourceSpans())
		}
		bodies[n] = protoBody(b, td)
	}
	b.ResetTimer()
	for n := range bodies {
		if a := postOTLP(b, c, "/v1/traces", bodies[n], "application/x-protobuf"); a.code != 200 || a.rejected != 0 {
			b.Fatal(a)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "spans/s")
}
