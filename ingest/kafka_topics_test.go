package ingest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// TestKafkaCollectorTopics consumes two topics, as an OpenTelemetry
// Collector's Kafka exporter writes by default (traces to otlp_spans,
// logs to otlp_logs), each with two partitions, in one source
// ("otlp_spans,otlp_logs"): the store ends as with both requests on one
// topic, every partition of both shows lag 0, both topics' offsets are
// committed to their end, and a third, missing topic is named.
func TestKafkaCollectorTopics(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "otlp_spans", "otlp_logs"),
		kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	spans := chatSpans()
	logsBody, err := plogotlp.NewExportRequestFromLogs(judgeLogs("groundedness", 0.4)).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}
	prod, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	recs := []*kgo.Record{
		{Topic: "otlp_logs", Value: logsBody},
		{Topic: "otlp_spans", Value: protoBody(t, traces(spans[0:3]))},
		{Topic: "otlp_spans", Value: protoBody(t, traces(spans[3:5]))},
		{Topic: "otlp_spans", Value: []byte(`{"event_id":"plain-2","timestamp":"2025-12-01T11:00:00Z","model_version":"m1","input":{"text":"hi"},"output":{"text":"yo"}}`)},
	}
	if err := prod.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	// The reference: the same values on one topic.
	one := [][]byte{recs[1].Value, recs[2].Value, recs[0].Value, recs[3].Value}
	ref, _, _, _ := consumeValues(t, one)
	want := storeExport(t, ref)

	var mu sync.Mutex
	var logs []string
	st := openStore(t)
	k, err := NewKafka(New(st, PipelineOptions{}), KafkaOptions{Brokers: c.ListenAddrs(), Topic: "otlp_spans, otlp_logs,otlp_metrics",
		AssignWait: 500 * time.Millisecond, Logf: func(f string, a ...any) {
			mu.Lock()
			logs = append(logs, fmt.Sprintf(f, a...))
			mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	deadline := time.Now().Add(time.Minute)
	for k.State().Records < int64(len(recs)) || !said(&mu, &logs, "otlp_metrics does not exist") {
		if time.Now().After(deadline) {
			t.Fatalf("state %+v, logs %q", k.State(), logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	s := k.State()
	var b strings.Builder
	k.WriteMetrics(&b)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := exportDiff(storeExport(t, st), want); d != "" {
		t.Fatalf("against the same values on one topic: %s", d)
	}
	if s.Topic != "otlp_spans,otlp_logs,otlp_metrics" || len(s.Partitions) != 4 {
		t.Fatalf("state %+v", s)
	}
	for _, p := range s.Partitions {
		if p.Lag != 0 || (p.Topic != "otlp_spans" && p.Topic != "otlp_logs") {
			t.Errorf("partition %+v", p)
		}
	}
	if said(&mu, &logs, "otlp_spans does not exist") || said(&mu, &logs, "otlp_logs does not exist") {
		t.Errorf("a consumed topic said missing: %q", logs)
	}
	offs, err := kadm.NewClient(prod).FetchOffsets(context.Background(), DefaultKafkaGroup)
	if err != nil {
		t.Fatal(err)
	}
	ends, err := kadm.NewClient(prod).ListEndOffsets(context.Background(), "otlp_spans", "otlp_logs")
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		if o, _ := offs.Lookup(e.Topic, e.Partition); o.At != e.Offset {
			t.Errorf("%s/%d committed at %d, ends at %d", e.Topic, e.Partition, o.At, e.Offset)
		}
	})
	if !strings.Contains(b.String(), `loupe_kafka_consumer_lag{topic="otlp_logs",partition=`) {
		t.Errorf("metrics have no lag series of otlp_logs:\n%s", b.String())
	}
}

func said(mu *sync.Mutex, logs *[]string, s string) bool {
	mu.Lock()
	defer mu.Unlock()
	return strings.Contains(strings.Join(*logs, "\n"), s)
}
