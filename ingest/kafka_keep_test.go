package ingest

import (
	"fmt"
	"os"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/loop/sample"
	"github.com/loupe-dev/loupe/store"
)

// summaryTable is every stored interaction's summary folded into a table.
func summaryTable(tb testing.TB, st *store.Store) (*agg.Table, []loop.Summary) {
	tb.Helper()
	t := agg.New()
	var all []loop.Summary
	if err := st.Summaries(func(s loop.Summary) bool {
		t.Add(&s, 1)
		all = append(all, s)
		return true
	}); err != nil {
		tb.Fatal(err)
	}
	return t, all
}

// TestKafkaEdgeSampling consumes the mixed four-partition topic (late and
// early signals, a tenth redelivered, malformed records) with intake.keep
// rules: 5% by id and every policy violation. The store ends with exactly
// the kept interactions, each merged with its signals byte for byte as an
// unsampled ingest of the valid records stores it; the aggregates plus the
// stored summaries equal the counts over every valid record (the unsampled
// store's merged views); malformed records are in the rejects.
// LOUPE_KAFKA_N=100000 for the full size.
func TestKafkaEdgeSampling(t *testing.T) {
	c := startCluster(t, 4)
	n := 8000 // a smaller mix than TestKafkaMixedTopic's: that one proves the consumer
	if os.Getenv("LOUPE_KAFKA_N") != "" {
		n = kafkaN()
	}
	p := produceMix(t, c, 4, n, 11)
	keep := sample.Keep{
		{Name: "sample", Kind: sample.KindRandom, Share: 0.05},
		{Name: "policy", Kind: sample.KindPolicy, Share: 1},
	}
	st := openStore(t)
	rej := &syncBuffer{}
	k, err := NewKafka(New(st, PipelineOptions{Keep: keep}), KafkaOptions{Brokers: c.ListenAddrs(), Topic: testTopic,
		Rejects: rej, MaxBuffered: 3000, BatchSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	consumeUntil(t, k, p.records)

	// The reference: every valid record, nothing sampled out.
	ref := p.fileStore(t)
	want, refSums := summaryTable(t, ref)
	stored, _ := summaryTable(t, st)
	got, err := st.Aggregates()
	if err != nil {
		t.Fatal(err)
	}
	if got.Events() == 0 {
		t.Fatal("nothing was left out of the store: the rules kept everything")
	}
	got.Merge(stored)
	if !agg.Equal(got, want) {
		for _, key := range want.Keys() {
			if g, w := got.Get(key), want.Get(key); g == nil || g.Events != w.Events || g.Down != w.Down || g.Thumbed != w.Thumbed {
				t.Errorf("cell %+v: got %+v, want %+v", key, g, w)
			}
		}
		t.Fatal("aggregates + stored summaries differ from the counts over every valid record")
	}

	refEv, gotEv := storeExport(t, ref), storeExport(t, st)
	kept := 0
	for i := range refSums {
		s := &refSums[i]
		if !keep.Keeps(s) {
			if _, ok := gotEv[s.ID]; ok {
				t.Fatalf("event %s is stored but no rule keeps it", s.ID)
			}
			continue
		}
		kept++
		if gotEv[s.ID] != refEv[s.ID] {
			t.Fatalf("kept event %s:\n got %s\nwant %s", s.ID, gotEv[s.ID], refEv[s.ID])
		}
	}
	if len(gotEv) != kept {
		t.Fatalf("store holds %d events, the rules keep %d", len(gotEv), kept)
	}
	t.Logf("%d records, %d interactions, %d kept (%.1f%%)", p.records, len(refSums), kept, 100*float64(kept)/float64(len(refSums)))

	seen := map[string]bool{}
	for _, r := range rej.rejects(t) {
		seen[fmt.Sprintf("%d/%d/%d", r.Partition, r.Offset, r.Line)] = true
	}
	for at := range p.bad {
		if !seen[at] {
			t.Fatalf("malformed record at %s is not in the rejects", at)
		}
	}
}
