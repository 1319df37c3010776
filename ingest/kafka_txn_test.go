package ingest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestKafkaTransactions consumes a topic written by a transactional
// producer (committed and aborted transactions, on both partitions) and
// by a plain one in between: the store ends with exactly the records of
// the committed transactions and the plain ones, none of an aborted one,
// and the group's committed offsets reach the end of every partition
// although the last offset of each is a transaction marker, not a record.
func TestKafkaTransactions(t *testing.T) {
	c := startCluster(t, 2)
	ctx := context.Background()
	newClient := func(opts ...kgo.Opt) *kgo.Client {
		cl, err := kgo.NewClient(append(opts, kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(testTopic),
			kgo.RecordPartitioner(kgo.ManualPartitioner()))...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return cl
	}
	tx, plain := newClient(kgo.TransactionalID("loupe-test-tx")), newClient()
	n := 0
	var want []string
	record := func(part int32) *kgo.Record {
		n++
		id := fmt.Sprintf("e-%d", n)
		v := fmt.Sprintf(`{"event_id":%q,"timestamp":"2026-11-01T10:00:00Z","model_version":"m1","input":{"text":"hi"},"output":{"text":"hello"}}`, id)
		return &kgo.Record{Value: []byte(v), Partition: part, Key: []byte(id)}
	}
	txn := func(commit bool, k int) {
		if err := tx.BeginTransaction(); err != nil {
			t.Fatal(err)
		}
		for i := range k {
			r := record(int32(i % 2))
			if err := tx.ProduceSync(ctx, r).FirstErr(); err != nil {
				t.Fatal(err)
			}
			if commit {
				want = append(want, string(r.Key))
			}
		}
		if err := tx.EndTransaction(ctx, kgo.TransactionEndTry(commit)); err != nil {
			t.Fatal(err)
		}
	}
	txn(true, 10)
	txn(false, 6)
	for i := range 4 {
		r := record(int32(i % 2))
		if err := plain.ProduceSync(ctx, r).FirstErr(); err != nil {
			t.Fatal(err)
		}
		want = append(want, string(r.Key))
	}
	txn(true, 8)
	txn(false, 4) // the topic ends on an aborted transaction's marker

	st := openStore(t)
	k, err := NewKafka(New(st, PipelineOptions{}), KafkaOptions{Brokers: c.ListenAddrs(), Topic: testTopic})
	if err != nil {
		t.Fatal(err)
	}
	adm := kadm.NewClient(plain)
	ends, err := adm.ListEndOffsets(ctx, testTopic)
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- k.Run(rctx) }()
	committedToEnd := func() bool {
		offs, err := adm.FetchOffsets(ctx, DefaultKafkaGroup)
		if err != nil {
			return false
		}
		all := true
		ends.Each(func(e kadm.ListedOffset) {
			o, ok := offs.Lookup(e.Topic, e.Partition)
			all = all && ok && o.At == e.Offset
		})
		return all
	}
	deadline := time.Now().Add(time.Minute)
	for !committedToEnd() {
		if time.Now().After(deadline) {
			offs, _ := adm.FetchOffsets(ctx, DefaultKafkaGroup)
			cancel()
			t.Fatalf("committed offsets %v never reached the ends %v; state %+v", offs, ends, k.State())
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	var got []string
	for id := range storeExport(t, st) {
		got = append(got, id)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("stored %v, want the committed and plain records %v", got, want)
	}
	s := k.State()
	if s.Records != int64(len(want)) || s.Accepted != int64(len(want)) {
		t.Fatalf("state counts %d records, %d accepted; %d records were committed (markers are not records): %+v",
			s.Records, s.Accepted, len(want), s)
	}
	for _, p := range s.Partitions {
		if p.Lag != 0 {
			t.Fatalf("partition %d shows lag %d after consuming all of it: %+v", p.Partition, p.Lag, s.Partitions)
		}
	}
}

// TestKafkaMissingTopic: a source whose topic does not exist says so,
// naming it, instead of looking like a quiet topic; one whose topic
// exists does not.
func TestKafkaMissingTopic(t *testing.T) {
	c := startCluster(t, 1)
	for _, tc := range []struct {
		topic string
		says  bool
	}{{"no.such.topic", true}, {testTopic, false}} {
		var mu sync.Mutex
		var logs []string
		k, err := NewKafka(New(openStore(t), PipelineOptions{}), KafkaOptions{Brokers: c.ListenAddrs(), Topic: tc.topic,
			AssignWait: 300 * time.Millisecond, Logf: func(f string, a ...any) {
				mu.Lock()
				logs = append(logs, fmt.Sprintf(f, a...))
				mu.Unlock()
			}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		k.Run(ctx)
		cancel()
		mu.Lock()
		all := strings.Join(logs, "\n")
		mu.Unlock()
		if said := strings.Contains(all, "topic "+tc.topic+" does not exist"); said != tc.says {
			t.Errorf("topic %s: said it does not exist: %v; logs:\n%s", tc.topic, said, all)
		}
	}
}
