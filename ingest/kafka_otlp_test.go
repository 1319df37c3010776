package ingest

import (
	"context"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"

	"github.com/loupe-dev/loupe/store"
)

// TestKafkaOTLP consumes a topic as the OpenTelemetry Collector's Kafka
// exporter fills it, traces and logs on one topic, in protobuf (its
// default encoding, otlp_proto) and JSON (otlp_json), next to loupe's own
// JSON records: the trace's spans in pieces, out of order and one piece
// twice, a judge's result as a log record, a corrupt protobuf value and
// OTLP JSON of the wrong shape. The store ends as the collector's POST
// /v1/traces and /v1/logs of the same requests leave it, loupe's record
// is stored too, and the two bad values are in the rejects with their
// offsets.
func TestKafkaOTLP(t *testing.T) {
	spans := chatSpans()
	proto := func(from, to int) []byte { return protoBody(t, traces(spans[from:to])) }
	jsonBody, err := ptraceotlp.NewExportRequestFromTraces(traces(spans[3:4])).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	logsBody, err := plogotlp.NewExportRequestFromLogs(judgeLogs("groundedness", 0.4)).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	plain := `{"event_id":"plain-1","timestamp":"2025-12-01T11:00:00Z","model_version":"m1","input":{"text":"hi"},"output":{"text":"hello"}}`
	corrupt := append([]byte{0x0a, 0x7f}, "\xff\xfe truncated"...)
	wrongShape := []byte(`{"resourceSpans":{"x":1}}`)
	values := [][]byte{logsBody, proto(4, 5), []byte(plain), proto(0, 3), corrupt, jsonBody, proto(4, 5), wrongShape}

	// The reference: the same requests posted to the collector.
	ref := openStore(t)
	c := NewCollector(New(ref, PipelineOptions{}), CollectorOptions{})
	for _, r := range []struct {
		path, ct string
		body     []byte
	}{
		{"/v1/traces", "application/x-protobuf", proto(0, 3)},
		{"/v1/traces", "application/x-protobuf", proto(4, 5)},
		{"/v1/traces", "application/json", jsonBody},
		{"/v1/logs", "application/x-protobuf", logsBody},
	} {
		if a := postOTLP(t, c, r.path, r.body, r.ct); a.code != 200 {
			t.Fatalf("reference %s: %+v", r.path, a)
		}
	}
	if _, _, err := New(ref, PipelineOptions{}).Submit(context.Background(), []Item{{Data: []byte(plain)}}); err != nil {
		t.Fatal(err)
	}
	want := storeExport(t, ref)
	if !strings.Contains(want[testTraceHex], `"groundedness":0.4`) || want["plain-1"] == "" {
		t.Fatalf("reference store lacks the judge's result or the plain record: %v", want)
	}

	st, k, rej, prod := consumeValues(t, values)

	if d := exportDiff(storeExport(t, st), want); d != "" {
		t.Fatalf("against the collector given the same requests: %s", d)
	}
	rs := rej.rejects(t)
	if len(rs) != 2 || rs[0].Offset != 4 || rs[1].Offset != 7 || rs[0].Reason != ReasonOTLP || rs[1].Reason != ReasonOTLP ||
		!strings.Contains(rs[0].Error, "OTLP") || rs[1].Raw != string(wrongShape) {
		t.Fatalf("rejects %+v, want the corrupt protobuf at offset 4 and the OTLP JSON of the wrong shape at 7, with its raw value", rs)
	}
	s := k.State()
	if s.Records != int64(len(values)) || s.Accepted < 2 || s.Signals != 1 {
		t.Fatalf("state %+v: want %d records, the trace and the plain record accepted, the judge's signal", s, len(values))
	}
	// Stopped, the group has committed every offset.
	offs, err := kadm.NewClient(prod).FetchOffsets(context.Background(), DefaultKafkaGroup)
	if o, ok := offs.Lookup(testTopic, 0); err != nil || !ok || o.At != int64(len(values)) {
		t.Fatalf("committed offsets %v (%v), want %d", offs, err, len(values))
	}
}

// TestKafkaSchemaRegistryFraming consumes values as the Confluent Schema
// Registry's JSON Schema serializer writes them (a zero byte and a 4-byte
// schema id before the JSON), one of them NDJSON, next to unframed ones:
// all are stored, and a framed value that is not JSON is rejected at its
// offset.
func TestKafkaSchemaRegistryFraming(t *testing.T) {
	rec := func(id string) string {
		return `{"event_id":"` + id + `","timestamp":"2025-12-01T11:00:00Z","model_version":"m1","input":{"text":"hi"},"output":{"text":"hello"}}`
	}
	frame := func(s string) []byte { return append([]byte{0, 0, 0, 0x01, 0x2c}, s...) }
	values := [][]byte{frame(rec("framed-1")), []byte(rec("plain-1")), frame(rec("framed-2") + "\n" + rec("framed-3")), frame("not json")}
	st, _, rej, _ := consumeValues(t, values)
	got := storeExport(t, st)
	for _, id := range []string{"framed-1", "plain-1", "framed-2", "framed-3"} {
		if got[id] == "" {
			t.Errorf("%s not stored; stored %v", id, got)
		}
	}
	if rs := rej.rejects(t); len(rs) != 1 || rs[0].Offset != 3 || !strings.Contains(rs[0].Error, "Schema Registry framing (schema id 300) but is not JSON") {
		t.Fatalf("rejects %+v, want the framed value that is not JSON, at offset 3", rs)
	}
}

// TestDecodeOTLPLineByFirstKey: a logs request with the string
// "resourceSpans" in it is still read as logs.
func TestDecodeOTLPLineByFirstKey(t *testing.T) {
	ld := judgeLogs("groundedness", 0.4)
	ld.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Body().SetStr("resourceSpans")
	line, err := plogotlp.NewExportRequestFromLogs(ld).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	b, err := decodeOTLPLine(line, nil)
	if err != nil || len(b.Evaluations) != 1 || len(b.Spans) != 0 {
		t.Fatalf("logs mentioning resourceSpans: %+v, %v", b, err)
	}
}

// consumeValues puts values on a one-partition topic, in order, and
// consumes it into a new store until all are durable. It returns the
// store, the stopped source, its rejects and the producing client.
func consumeValues(t *testing.T, values [][]byte) (*store.Store, *Kafka, *syncBuffer, *kgo.Client) {
	t.Helper()
	cl := startCluster(t, 1)
	prod, err := kgo.NewClient(kgo.SeedBrokers(cl.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prod.Close)
	for _, v := range values {
		if err := prod.ProduceSync(context.Background(), &kgo.Record{Value: v}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	st := openStore(t)
	rej := &syncBuffer{}
	k, err := NewKafka(New(st, PipelineOptions{}), KafkaOptions{Brokers: cl.ListenAddrs(), Topic: testTopic, Rejects: rej})
	if err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, k, len(values))
	return st, k, rej, prod
}
