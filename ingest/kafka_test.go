package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/gen"
	"github.com/loupe-dev/loupe/store"
)

const testTopic = "loupe-records"

func startCluster(tb testing.TB, partitions int32) *kfake.Cluster {
	tb.Helper()
	// kfake listens on 127.0.0.1 only.
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(partitions, testTopic),
		kfake.GroupMinSessionTimeout(500*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(c.Close)
	return c
}

// produced is what a test put on the topic and what it expects of it.
type produced struct {
	valid   [][]byte          // every valid JSON record, redeliveries included
	records int               // Kafka records produced
	bad     map[string]string // "partition/offset/line" → reason of the malformed ones
}

// produceMix puts n generated records on the topic, spread over random
// partitions, some several to a value as NDJSON, a tenth of them delivered
// twice, with malformed records among them: not JSON, oversized, invalid.
func produceMix(tb testing.TB, c *kfake.Cluster, partitions int32, n int, seed uint64) produced {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchMaxBytes(4<<20), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	meta := int(partitions)
	rng := rand.New(rand.NewPCG(seed, 7))
	// Interactions and their signals as separate records (some signals
	// before their interaction, some twice), as products emit them.
	var lines [][]byte
	if err := gen.Records(gen.Options{N: n, Seed: int64(seed), Days: 28}, func(l []byte) error {
		lines = append(lines, bytes.Clone(l))
		return nil
	}); err != nil {
		tb.Fatal(err)
	}
	p := produced{bad: map[string]string{}}
	type badRec struct {
		rec    *kgo.Record
		reason string
	}
	var recs []*kgo.Record
	var bads []badRec
	var redeliver [][]byte
	big := append([]byte(`{"event_id":"huge","note":"`), bytes.Repeat([]byte("x "), loop.MaxLineBytes)...)
	big = append(big, `"}`...)
	for i := 0; i < len(lines); {
		// 1 to 4 records in one value (NDJSON), mostly 1.
		k := 1
		if rng.IntN(5) == 0 {
			k = 1 + rng.IntN(4)
		}
		k = min(k, len(lines)-i)
		val := bytes.Join(lines[i:i+k], []byte("\n"))
		p.valid = append(p.valid, lines[i:i+k]...)
		if rng.IntN(10) == 0 {
			redeliver = append(redeliver, val)
		}
		recs = append(recs, &kgo.Record{Partition: int32(rng.IntN(meta)), Value: val})
		i += k
		if rng.IntN(200) == 0 {
			var b badRec
			switch rng.IntN(3) {
			case 0:
				b = badRec{&kgo.Record{Value: []byte(`{"event_id": "broken", "input": {`)}, loop.ReasonInvalidJSON}
			case 1:
				b = badRec{&kgo.Record{Value: big}, loop.ReasonLineTooLong}
			default:
				b = badRec{&kgo.Record{Value: []byte(`{"timestamp":"2026-11-01T10:00:00Z","model_version":"m","input":{"text":"mail me at a.b@example.com"}}`)}, ""}
			}
			b.rec.Partition = int32(rng.IntN(meta))
			bads = append(bads, b)
			recs = append(recs, b.rec)
		}
	}
	for _, v := range redeliver {
		recs = append(recs, &kgo.Record{Partition: int32(rng.IntN(meta)), Value: v})
		p.valid = append(p.valid, bytes.Split(v, []byte("\n"))...)
	}
	ctx := context.Background()
	for i := 0; i < len(recs); i += 5000 {
		if err := cl.ProduceSync(ctx, recs[i:min(i+5000, len(recs))]...).FirstErr(); err != nil {
			tb.Fatal(err)
		}
	}
	p.records = len(recs)
	for _, b := range bads {
		p.bad[fmt.Sprintf("%d/%d/1", b.rec.Partition, b.rec.Offset)] = b.reason
	}
	return p
}

// fileStore is a fresh store holding every valid record of the mix (each
// redelivery included), ingested as one file with nothing sampled out: what
// a consumer of the topic must end with.
func (p produced) fileStore(tb testing.TB) *store.Store {
	tb.Helper()
	ref := openStore(tb)
	var all bytes.Buffer
	for _, l := range p.valid {
		all.Write(l)
		all.WriteByte('\n')
	}
	if _, err := New(ref, PipelineOptions{}).ReadJSONL(context.Background(), &all, ReadOptions{}); err != nil {
		tb.Fatal(err)
	}
	return ref
}

// storeExport is every stored event, with the per-store user hash cut
// (each store has its own secret), by id.
func storeExport(tb testing.TB, st *store.Store) map[string]string {
	tb.Helper()
	out := map[string]string{}
	err := st.Events(func(id string, body []byte) error {
		l := string(body)
		if j := strings.Index(l, `"user_hash":"`); j >= 0 {
			k := j + len(`"user_hash":"`)
			l = l[:k] + l[k+32:]
		}
		out[id] = l
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// exportDiff is the first way got differs from want (both storeExport
// maps), or "" when they are equal.
func exportDiff(got, want map[string]string) string {
	if len(got) != len(want) {
		return fmt.Sprintf("store holds %d events, want %d", len(got), len(want))
	}
	for id, w := range want {
		if got[id] != w {
			return fmt.Sprintf("event %s:\n got %s\nwant %s", id, got[id], w)
		}
	}
	return ""
}

type syncBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	syncs int
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.syncs++
	return nil
}

func (s *syncBuffer) rejects(tb testing.TB) []KafkaReject {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []KafkaReject
	for _, l := range bytes.Split(bytes.TrimSpace(s.b.Bytes()), []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		var r KafkaReject
		if err := json.Unmarshal(l, &r); err != nil {
			tb.Fatalf("rejects line %q: %v", l, err)
		}
		out = append(out, r)
	}
	return out
}

// consumeUntil runs k until it has made want records durable, then stops it.
func consumeUntil(tb testing.TB, k *Kafka, want int) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- k.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Minute)
	for k.State().Records < int64(want) {
		if time.Now().After(deadline) {
			cancel()
			tb.Fatalf("consumed %d of %d records in 5 minutes: %+v", k.State().Records, want, k.State())
		}
		select {
		case err := <-done:
			tb.Fatalf("Run stopped early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
}

func kafkaN() int {
	if n, err := strconv.Atoi(os.Getenv("LOUPE_KAFKA_N")); err == nil && n > 0 {
		return n
	}
	return 20_000
}

// TestKafkaMixedTopic consumes a four-partition topic holding generated
// records (some NDJSON, a tenth redelivered) with malformed records among
// them: the store ends with exactly what a file ingest of the valid records
// stores, and every malformed record is in the rejects with its partition
// and offset. LOUPE_KAFKA_N=100000 for the full size.
func TestKafkaMixedTopic(t *testing.T) {
	c := startCluster(t, 4)
	p := produceMix(t, c, 4, kafkaN(), 3)

	st := openStore(t)
	rej := &syncBuffer{}
	k, err := NewKafka(New(st, PipelineOptions{}), KafkaOptions{Brokers: c.ListenAddrs(), Topic: testTopic, Rejects: rej,
		MaxBuffered: 3000, BatchSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, k, p.records)

	ref := p.fileStore(t)
	want := storeExport(t, ref)
	if d := exportDiff(storeExport(t, st), want); d != "" {
		t.Fatalf("against a file ingest of the valid records: %s", d)
	}

	rs := rej.rejects(t)
	seen := map[string]KafkaReject{}
	for _, r := range rs {
		if r.Topic != testTopic {
			t.Fatalf("reject without its topic: %+v", r)
		}
		seen[fmt.Sprintf("%d/%d/%d", r.Partition, r.Offset, r.Line)] = r
		if strings.Contains(r.Raw, "a.b@example.com") || strings.Contains(r.Error, "a.b@example.com") {
			t.Fatalf("unmasked email in a reject: %+v", r)
		}
	}
	for at, reason := range p.bad {
		r, ok := seen[at]
		if !ok {
			t.Fatalf("malformed record at %s is not in the rejects", at)
		}
		if reason != "" && r.Reason != reason {
			t.Fatalf("reject at %s: reason %q, want %q", at, r.Reason, reason)
		}
	}
	if len(p.bad) == 0 {
		t.Fatal("the mix has no malformed records: the test proves nothing")
	}
	s := k.State()
	// Accepted counts interactions stored; consent withdrawals erase some
	// of them afterwards.
	if s.Records != int64(p.records) || s.Rejected != int64(len(rs)) || s.Accepted < int64(len(want)) {
		t.Fatalf("state %+v; produced %d records, %d rejects, %d stored", s, p.records, len(rs), len(want))
	}
	if s.Duplicates == 0 {
		t.Fatal("no redelivery was counted as a duplicate")
	}
	if rej.syncs == 0 {
		t.Fatal("the rejects were never synced before committing")
	}

	// The group's offsets are committed to the end: a second consumer of
	// the same group gets nothing more.
	k2, _ := NewKafka(New(st, PipelineOptions{}), KafkaOptions{Brokers: c.ListenAddrs(), Topic: testTopic})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	k2.Run(ctx)
	if s := k2.State(); s.Records != 0 {
		t.Fatalf("a restart consumed %d records again: offsets were not committed", s.Records)
	}
	// It knows it is caught up although it stored nothing: its
	// partitions' positions are the committed offsets.
	for _, p := range k2.State().Partitions {
		if p.Lag != 0 || p.Next != p.HWM {
			t.Fatalf("after a restart that found nothing new, partition %+v", p)
		}
	}
	var mb bytes.Buffer
	k.WriteMetrics(&mb)
	for _, m := range []string{"loupe_kafka_records_total{topic=\"loupe-records\"} " + strconv.Itoa(p.records), "loupe_kafka_rejected_total{", "loupe_kafka_consumer_lag"} {
		if !strings.Contains(mb.String(), m) {
			t.Fatalf("metrics lack %q:\n%s", m, mb.String())
		}
	}
}

// failingSubmitter fails its first calls, as a full disk would.
type failingSubmitter struct {
	Submitter
	mu    sync.Mutex
	fails int
}

func (f *failingSubmitter) Submit(ctx context.Context, items []Item) ([]Outcome, Summary, error) {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return nil, Summary{}, fmt.Errorf("no space left on device")
	}
	f.mu.Unlock()
	return f.Submitter.Submit(ctx, items)
}

// TestKafkaStoreFailurePausesAndRetries: while the store refuses writes the
// partition pauses (nothing piles up past the bound) and nothing is lost
// when it takes them again.
func TestKafkaStoreFailurePausesAndRetries(t *testing.T) {
	c := startCluster(t, 2)
	p := produceMix(t, c, 2, 3000, 5)
	st := openStore(t)
	sub := &failingSubmitter{Submitter: New(st, PipelineOptions{}), fails: 5}
	k, err := NewKafka(sub, KafkaOptions{Brokers: c.ListenAddrs(), Topic: testTopic, MaxBuffered: 200, BatchSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, k, p.records)
	s := k.State()
	if s.StoreErrors != 5 || s.Pauses == 0 {
		t.Fatalf("state %+v: want 5 store errors and at least one pause", s)
	}
	ref := p.fileStore(t)
	if a, b := len(storeExport(t, st)), len(storeExport(t, ref)); a != b {
		t.Fatalf("stored %d events, want %d", a, b)
	}
}

// TestKafkaRebalance: a second member joins the group while the first is
// consuming, then the first leaves. Partitions move twice (revoked with
// their in-flight batch finished and committed), and the store still ends
// with exactly what a file ingest stores, every record consumed at least
// once between the two.
func TestKafkaRebalance(t *testing.T) {
	c := startCluster(t, 6)
	p := produceMix(t, c, 6, 12000, 9)
	st := openStore(t)
	pipe := New(st, PipelineOptions{})
	opts := KafkaOptions{Brokers: c.ListenAddrs(), Topic: testTopic, MaxBuffered: 500, BatchSize: 200,
		ClientOpts: []kgo.Opt{kgo.SessionTimeout(3 * time.Second), kgo.HeartbeatInterval(300 * time.Millisecond)}}
	a, _ := NewKafka(pipe, opts)
	b, _ := NewKafka(pipe, opts)

	actx, acancel := context.WithCancel(context.Background())
	adone := make(chan struct{})
	go func() { defer close(adone); a.Run(actx) }()
	waitFor(t, "a to consume a fifth of the topic", func() bool { return a.State().Records >= int64(p.records/5) })
	bctx, bcancel := context.WithCancel(context.Background())
	defer bcancel()
	bdone := make(chan struct{})
	go func() { defer close(bdone); b.Run(bctx) }()
	// Wait until b has been given partitions and consumed from them.
	waitFor(t, "b to consume", func() bool { return b.State().Records > 0 })
	sa := a.State()
	assigned := 0
	for _, ps := range sa.Partitions {
		if ps.Assigned {
			assigned++
		}
	}
	if assigned == 6 {
		t.Fatalf("after b joined, a still holds all 6 partitions: %+v", sa.Partitions)
	}
	acancel()
	<-adone
	// b goes on consuming what a left: the store has every event (stubs of
	// signals that came first included) before it has every signal, so
	// only the whole store equal to a file ingest's ends the wait, with
	// every record consumed: the store can be whole while b still reads
	// the last redeliveries and malformed records, which change nothing.
	want := storeExport(t, p.fileStore(t))
	deadline := time.Now().Add(3 * time.Minute)
	for {
		diff := exportDiff(storeExport(t, st), want)
		total := a.State().Records + b.State().Records
		if diff == "" && total >= int64(p.records) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("3 minutes on, %d of %d records consumed, store: %s\na %+v\nb %+v", total, p.records, diff, a.State(), b.State())
		}
		time.Sleep(500 * time.Millisecond)
	}
	bcancel()
	<-bdone
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 2 minutes for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
