package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/loupe-dev/loupe/loop/gen"
)

const kafkaTestTopic = "app.feedback"

// piecesTopic is the benchmark's topic of records in pieces.
const piecesTopic = "app.feedback.pieces"

// kafkaTopic is a kfake cluster (the real Kafka protocol, in this process,
// on 127.0.0.1) holding generated records over four partitions: some
// several to a value as NDJSON, a tenth delivered twice, malformed records
// among them. bad holds "partition/offset" of each malformed one.
type kafkaTopic struct {
	c       *kfake.Cluster
	addr    string
	records int
	bad     map[string]bool
	lines   [][]byte // the generated records, each once
}

// recordLines are n interactions and their signals as separate records, in
// arrival order (some signals before their interaction, some twice), as a
// product emits them (gen.Records).
func recordLines(t *testing.T, n int, seed int64) [][]byte {
	t.Helper()
	var out [][]byte
	if err := gen.Records(gen.Options{N: n, Seed: seed}, func(l []byte) error {
		out = append(out, bytes.Clone(l))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func newKafkaTopic(t *testing.T, n int) *kafkaTopic {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, kafkaTestTopic),
		kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	kt := &kafkaTopic{c: c, addr: strings.Join(c.ListenAddrs(), ","), bad: map[string]bool{}}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(kafkaTestTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(4<<20), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	lines := recordLines(t, n, 21)
	rng := rand.New(rand.NewPCG(4, 5))
	var recs, bads, again []*kgo.Record
	for i := 0; i < len(lines); {
		k := 1
		if rng.IntN(5) == 0 {
			k = min(1+rng.IntN(4), len(lines)-i)
		}
		r := &kgo.Record{Partition: int32(rng.IntN(4)), Value: bytes.Join(lines[i:i+k], []byte("\n"))}
		recs = append(recs, r)
		if rng.IntN(10) == 0 {
			again = append(again, &kgo.Record{Partition: int32(rng.IntN(4)), Value: r.Value})
		}
		i += k
		if rng.IntN(300) == 0 {
			b := &kgo.Record{Partition: int32(rng.IntN(4)), Value: []byte(`{"event_id":"x","input":{"text":"call 555-0100`)}
			bads = append(bads, b)
			recs = append(recs, b)
		}
	}
	recs = append(recs, again...)
	for i := 0; i < len(recs); i += 5000 {
		if err := cl.ProduceSync(context.Background(), recs[i:min(i+5000, len(recs))]...).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	kt.records = len(recs)
	kt.lines = lines
	for _, b := range bads {
		kt.bad[fmt.Sprintf("%d/%d", b.Partition, b.Offset)] = true
	}
	if len(kt.bad) == 0 {
		t.Fatal("no malformed record in the topic")
	}
	return kt
}

// caughtUp reports whether group's committed offsets reach the end of
// every partition.
func (kt *kafkaTopic) caughtUp(t *testing.T, group string, opts ...kgo.Opt) bool {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(kt.c.ListenAddrs()...)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	return committedToEnd(t, kadm.NewClient(cl), group)
}

// committedToEnd reports whether group's committed offsets reach the end of
// every partition of the test topic (false while the group has none).
func committedToEnd(tb testing.TB, adm *kadm.Client, group string) bool {
	tb.Helper()
	return committedToEndOf(tb, adm, kafkaTestTopic, group)
}

// committedToEndOf is committedToEnd for another topic.
func committedToEndOf(tb testing.TB, adm *kadm.Client, topic, group string) bool {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		tb.Fatal(err)
	}
	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return false
	}
	ok := true
	ends.Each(func(o kadm.ListedOffset) {
		c, found := committed.Lookup(o.Topic, o.Partition)
		if o.Offset == 0 && !found {
			return // never written to: nothing to commit
		}
		if !found || c.At != o.Offset {
			ok = false
		}
	})
	return ok
}

func (kt *kafkaTopic) waitCaughtUp(t *testing.T, group string, s *served) {
	t.Helper()
	kt.waitCaughtUpWith(t, group, s)
}

func (kt *kafkaTopic) waitCaughtUpWith(t *testing.T, group string, s *served, opts ...kgo.Opt) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Minute)
	for !kt.caughtUp(t, group, opts...) {
		if time.Now().After(deadline) {
			t.Fatalf("group %s not caught up in 3 minutes: %s", group, s.stderr)
		}
		select {
		case <-s.exited:
			t.Fatalf("serve exited %d: %s", s.exitCode, s.stderr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// rejectedAt reads a Kafka rejects file: the partition/offset of each entry.
func rejectedAt(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, l := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var r struct {
			Topic     string
			Partition int32
			Offset    int64
			Reason    string
			Raw       string
		}
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatalf("rejects line %q: %v", l, err)
		}
		if r.Topic != kafkaTestTopic || r.Reason == "" {
			t.Fatalf("rejects line without topic or reason: %s", l)
		}
		if strings.Contains(r.Raw, "555-0100") {
			t.Fatalf("unmasked phone number in the rejects: %s", l)
		}
		out[fmt.Sprintf("%d/%d", r.Partition, r.Offset)] = true
	}
	return out
}

// TestServeKafkaKill9 runs the real binary against a kfake cluster holding
// interactions with their late signals (some redelivered): once
// uninterrupted, and once killed with -9 at random moments while consuming
// and restarted. Both stores export the same events, both groups' committed
// offsets reach the end of the topic, and every malformed record is in the
// rejects file with its partition and offset. The uninterrupted run's
// /metrics and the doctor afterwards show the Kafka counters.
func TestServeKafkaKill9(t *testing.T) {
	n := 20000
	if os.Getenv("LOUPE_CRASH_ROUNDS") != "" {
		n = 100000
	}
	kt := newKafkaTopic(t, n)
	dir := t.TempDir()
	// Both runs sample at the edge: 30% of the interactions by id and
	// every policy violation are stored in full, the rest only counted.
	cfg := filepath.Join(dir, "loupe.yaml")
	if err := os.WriteFile(cfg, []byte("intake:\n  keep:\n    - {name: sample, kind: random, share: 0.3}\n    - {kind: policy}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	common := []string{"--config", cfg, "--kafka", kt.addr, "--kafka-topic", kafkaTestTopic, "--kafka-session-timeout", "1s"}

	ref := filepath.Join(dir, "ref")
	s := startServe(t, nil, append([]string{"--store", ref, "--http", "127.0.0.1:0", "--kafka-group", "ref"}, common...)...)
	kt.waitCaughtUp(t, "ref", s)
	resp, err := http.Get(s.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		fmt.Sprintf("loupe_kafka_records_total{topic=%q} %d", kafkaTestTopic, kt.records),
		"loupe_events_accepted_total", // the collector's own series are still there
		`loupe_kafka_rejected_total{topic="app.feedback",reason="invalid_json"}`,
		`loupe_kafka_consumer_lag{topic="app.feedback",partition="0"} 0`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	s.stop(t)
	r := run(t, nil, "doctor", "--json", "--store", ref)
	var doc struct {
		Kafka *struct {
			Topic      string
			Records    int
			Rejected   int
			Partitions []struct{ Lag int64 }
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Kafka == nil {
		t.Fatalf("doctor --json: %v %s %s", err, r.stdout, r.stderr)
	}
	if doc.Kafka.Records != kt.records || doc.Kafka.Rejected < len(kt.bad) || len(doc.Kafka.Partitions) != 4 {
		t.Fatalf("doctor's kafka: %+v, want %d records, >= %d rejected, 4 partitions", doc.Kafka, kt.records, len(kt.bad))
	}
	want := exportMap(t, ref)
	wantAgg := run(t, nil, "export", "aggregates", "--store", ref).stdout
	// The sampled store counts every interaction exactly: its aggregates
	// are those of a file ingest of every valid record with nothing left
	// out (how many of them are stored in full aside).
	full := filepath.Join(dir, "full")
	run(t, bytes.Join(kt.lines, []byte("\n")), "ingest", "--store", full, "-")
	fullAgg := run(t, nil, "export", "aggregates", "--store", full).stdout
	stored := regexp.MustCompile(`"stored":[0-9]+,`)
	if stored.ReplaceAllString(wantAgg, "") != stored.ReplaceAllString(fullAgg, "") {
		t.Fatalf("the sampled store's aggregates differ from an unsampled ingest's:\n got %s\nwant %s", wantAgg, fullAgg)
	}
	if len(want) >= len(exportMap(t, full))*6/10 {
		t.Fatalf("the sampled store holds %d events of %d: the keep rules did not sample", len(want), len(exportMap(t, full)))
	}
	for at := range kt.bad {
		if !rejectedAt(t, filepath.Join(ref, "kafka-rejects.jsonl"))[at] {
			t.Fatalf("malformed record %s is not in the rejects file", at)
		}
	}

	crashed := filepath.Join(dir, "crashed")
	rejects := filepath.Join(dir, "crashed-rejects.jsonl")
	args := append([]string{"--store", crashed, "--kafka-group", "crash", "--kafka-rejects", rejects}, common...)
	rng := rand.New(rand.NewPCG(8, 9))
	for round := 0; round < crashRounds(); round++ {
		s := startServe(t, nil, append([]string{"--http", "127.0.0.1:0"}, args...)...)
		// Kill it while it consumes: once this run has stored new events
		// (not only redeliveries), somewhere in the next 200 ms.
		deadline := time.Now().Add(time.Minute)
		done := false
		for kafkaMetric(t, s, "loupe_kafka_accepted_total") == 0 {
			if done = kt.caughtUp(t, "crash"); done {
				break // everything was stored before this round
			}
			if time.Now().After(deadline) {
				t.Fatalf("round %d: nothing consumed in a minute: %s", round, s.stderr)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if done {
			s.stop(t)
			break
		}
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.exited
		// The store opens and exports after every kill; an event may still
		// lack signals that come later in the topic, so only the end is
		// compared. Each round stored new interactions (the wait above),
		// so every restart resumed.
		got := exportMap(t, crashed)
		t.Logf("round %d: %d of %d events stored at the kill", round, len(got), len(want))
	}
	s = startServe(t, nil, append([]string{"--http", "off"}, args...)...)
	kt.waitCaughtUp(t, "crash", s)
	s.stop(t)
	got := exportMap(t, crashed)
	if len(got) != len(want) {
		t.Fatalf("after the restarts: %d events, want %d", len(got), len(want))
	}
	for id, line := range want {
		if got[id] != line {
			t.Fatalf("after the restarts: event %s differs:\n got %s\nwant %s", id, got[id], line)
		}
	}
	if gotAgg := run(t, nil, "export", "aggregates", "--store", crashed).stdout; gotAgg != wantAgg {
		t.Fatalf("after the restarts the aggregates differ from the uninterrupted run's:\n got %s\nwant %s", gotAgg, wantAgg)
	}
	seen := rejectedAt(t, rejects)
	for at := range kt.bad {
		if !seen[at] {
			t.Fatalf("malformed record %s is not in the rejects file after the restarts", at)
		}
	}
}

// kafkaMetric is the running serve's value of a Kafka series.
func kafkaMetric(t *testing.T, s *served, name string) float64 {
	t.Helper()
	resp, err := http.Get(s.http + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	v, _ := metricValue(string(b), fmt.Sprintf("%s{topic=%q}", name, kafkaTestTopic))
	return v
}

// selfSignedTLS writes a CA-less self-signed certificate for 127.0.0.1 to
// dir/ca.pem and returns the server's TLS config.
func selfSignedTLS(t *testing.T, dir string) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kfake"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, _ := x509.MarshalECPrivateKey(key)
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
}

// TestServeKafkaTLSAndSCRAM: the binary reaches a TLS listener it trusts
// through --kafka-ca-file and authenticates with SCRAM-SHA-512, the
// password taken from the environment and never printed; a wrong password
// stores nothing.
func TestServeKafkaTLSAndSCRAM(t *testing.T) {
	dir := t.TempDir()
	const pass = "s3cret-Kafka-pw"
	srvTLS := selfSignedTLS(t, dir)
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, kafkaTestTopic), kfake.TLS(srvTLS),
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "loupe", pass), kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	pool := x509.NewCertPool()
	caPEM, _ := os.ReadFile(filepath.Join(dir, "ca.pem"))
	pool.AppendCertsFromPEM(caPEM)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(kafkaTestTopic),
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool}), kgo.SASL(scram.Auth{User: "loupe", Pass: pass}.AsSha512Mechanism()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	lines := bytes.Split(bytes.TrimSpace(genLines(t, "300", "5")), []byte("\n"))
	var recs []*kgo.Record
	for _, l := range lines {
		recs = append(recs, &kgo.Record{Value: l})
	}
	if err := cl.ProduceSync(context.Background(), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "ref")
	if r := run(t, append(bytes.Join(lines, []byte("\n")), '\n'), "ingest", "--store", ref, "-"); r.code != 0 && r.code != 3 {
		t.Fatalf("reference ingest: %d %s", r.code, r.stderr)
	}
	kt := &kafkaTopic{c: c}
	args := []string{"--http", "off", "--kafka", c.ListenAddrs()[0], "--kafka-topic", kafkaTestTopic,
		"--kafka-tls", "--kafka-ca-file", filepath.Join(dir, "ca.pem"), "--kafka-sasl", "scram-sha-512", "--kafka-user", "loupe",
		"--kafka-session-timeout", "1s"}

	// A wrong password: nothing is consumed, and serve says why.
	bad := filepath.Join(dir, "bad")
	s := startServe(t, []string{"LOUPE_KAFKA_PASSWORD=wrong-pw"}, append([]string{"--store", bad, "--kafka-group", "bad"}, args...)...)
	time.Sleep(2 * time.Second)
	s.stop(t)
	t.Logf("serve with a wrong password said: %s", s.stderr)
	if !strings.Contains(s.stderr.String(), "kafka:") {
		t.Fatalf("serve did not report the failing authentication: %s", s.stderr)
	}
	if strings.Contains(s.stderr.String(), "wrong-pw") {
		t.Fatalf("the password is in serve's output: %s", s.stderr)
	}
	if got := exportMap(t, bad); len(got) != 0 {
		t.Fatalf("%d events stored with a wrong password", len(got))
	}

	st := filepath.Join(dir, "st")
	s = startServe(t, []string{"LOUPE_KAFKA_PASSWORD=" + pass}, append([]string{"--store", st, "--kafka-group", "g"}, args...)...)
	kt.waitCaughtUpWith(t, "g", s, kgo.DialTLSConfig(&tls.Config{RootCAs: pool}), kgo.SASL(scram.Auth{User: "loupe", Pass: pass}.AsSha512Mechanism()))
	s.stop(t)
	if strings.Contains(s.stderr.String(), pass) {
		t.Fatalf("the password is in serve's output: %s", s.stderr)
	}
	want, got := exportMap(t, ref), exportMap(t, st)
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("stored %d events over TLS+SCRAM, want %d", len(got), len(want))
	}
}

// TestServeKafkaFullDisk: serve consumes onto a small filesystem until the
// disk is full. It does not crash or skip records: its batches are refused
// (loupe_kafka_store_errors_total), the partitions pause, and once space is
// freed it goes on and ends with the same store as a file ingest.
func TestServeKafkaFullDisk(t *testing.T) {
	disk := smallDisk(t, "512m")
	filler := filepath.Join(disk, "filler")
	if err := os.WriteFile(filler, bytes.Repeat([]byte{1}, 416<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	kt := newKafkaTopic(t, 30000)
	st := filepath.Join(disk, "store")
	s := startServe(t, nil, "--store", st, "--http", "127.0.0.1:0", "--kafka", kt.addr, "--kafka-topic", kafkaTestTopic,
		"--kafka-group", "full", "--kafka-session-timeout", "1s", "--kafka-max-buffered", "1000")
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Minute)
		for !cond() {
			select {
			case <-s.exited:
				t.Fatalf("serve exited %d while waiting for %s: %s", s.exitCode, what, s.stderr)
			case <-time.After(100 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %s in 3 minutes: %s", what, s.stderr)
			}
		}
	}
	waitFor("refused batch", func() bool { return kafkaMetric(t, s, "loupe_kafka_store_errors_total") > 0 })
	waitFor("paused partition", func() bool {
		resp, err := http.Get(s.http + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return regexp.MustCompile(`(?m)^loupe_kafka_partition_paused\{.*\} 1$`).Match(b)
	})
	if !strings.Contains(s.stderr.String(), "disk full") {
		t.Fatalf("serve's log does not say the disk is full: %s", s.stderr)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	waitFor("catching up after space was freed", func() bool { return kt.caughtUp(t, "full") })
	s.stop(t)

	ref := filepath.Join(t.TempDir(), "ref")
	if r := run(t, append(bytes.Join(kt.lines, []byte("\n")), '\n'), "ingest", "--store", ref, "-"); r.code != 0 && r.code != 3 {
		t.Fatalf("reference ingest: %d %s", r.code, r.stderr)
	}
	want, got := exportMap(t, ref), exportMap(t, st)
	if len(got) != len(want) {
		t.Fatalf("after the full disk: %d events, want %d", len(got), len(want))
	}
	for id, line := range want {
		if got[id] != line {
			t.Fatalf("event %s differs after the full disk", id)
		}
	}
}
