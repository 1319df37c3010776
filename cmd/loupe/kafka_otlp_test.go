package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
)

// otlpCapture is an OTLP/HTTP receiver that keeps each request's body, as
// an OpenTelemetry Collector's receiver hands it to its Kafka exporter.
type otlpCapture struct {
	mu     sync.Mutex
	traces [][]byte
	logs   [][]byte
}

func (c *otlpCapture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	if r.URL.Path == "/v1/logs" {
		c.logs = append(c.logs, b)
	} else {
		c.traces = append(c.traces, b)
	}
	c.mu.Unlock()
	// An empty protobuf message is an Export*ServiceResponse of success.
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// An app's OpenTelemetry SDK exports to a Collector whose Kafka exporter
// writes traces and logs to its default topics, otlp_spans and otlp_logs,
// as OTLP protobuf (otlp_proto, the exporter's default) and OTLP JSON
// (otlp_json): `loupe serve --kafka ... --kafka-topic otlp_spans,otlp_logs`
// stores the trace as the same interaction, with its judges' scores, that
// exporting it to serve's own OTLP/HTTP endpoint gives (checkShopEvent),
// whatever the order of the messages and with one of them delivered twice.
func TestServeKafkaOTLP(t *testing.T) {
	capture := &otlpCapture{}
	recv := httptest.NewServer(capture)
	defer recv.Close()
	traceID := exportShopTrace(t, recv.URL+"/v1/traces", recv.URL+"/v1/logs")
	if len(capture.traces) == 0 || len(capture.logs) == 0 {
		t.Fatalf("the SDK exported %d trace and %d log requests", len(capture.traces), len(capture.logs))
	}
	// The logs as otlp_json; the judge's result first, ahead of its trace.
	var values []*kgo.Record
	for _, b := range capture.logs {
		req := plogotlp.NewExportRequest()
		if err := req.UnmarshalProto(b); err != nil {
			t.Fatal(err)
		}
		j, err := req.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, &kgo.Record{Topic: "otlp_logs", Value: j})
	}
	for _, b := range append(capture.traces, capture.traces[0]) {
		values = append(values, &kgo.Record{Topic: "otlp_spans", Value: b})
	}

	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, "otlp_spans", "otlp_logs"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range values {
		if err := cl.ProduceSync(context.Background(), v).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}

	st := filepath.Join(t.TempDir(), "s")
	s := startServe(t, nil, "--store", st, "--http", "off", "--kafka", c.ListenAddrs()[0], "--kafka-topic", "otlp_spans,otlp_logs")
	adm := kadm.NewClient(cl)
	deadline := time.Now().Add(time.Minute)
	for !committedToEndOf(t, adm, "otlp_spans", "loupe") || !committedToEndOf(t, adm, "otlp_logs", "loupe") {
		if time.Now().After(deadline) {
			t.Fatalf("offsets not committed to the end in a minute: %s", s.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop(t)
	if rejects, err := os.ReadFile(filepath.Join(st, "kafka-rejects.jsonl")); err != nil || len(bytes.TrimSpace(rejects)) > 0 {
		t.Fatalf("rejects (%v): %s", err, rejects)
	}
	checkShopEvent(t, st, traceID)
	if strings.Contains(s.stderr.String(), "ana.k@example.com") {
		t.Error("serve logged an unmasked email")
	}
}
