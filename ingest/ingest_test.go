package ingest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/gen"
	"github.com/loupe-dev/loupe/loop/sample"
	"github.com/loupe-dev/loupe/store"
)

func genJSONL(tb testing.TB, n int, seed int64) []byte {
	tb.Helper()
	var buf bytes.Buffer
	err := gen.Generate(gen.Options{N: n, Seed: seed, Days: 28}, func(l []byte) error {
		buf.Write(l)
		return buf.WriteByte('\n')
	})
	if err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// run reads data into st through a fresh pipeline.
func run(ctx context.Context, st *store.Store, r io.Reader, o ReadOptions) (Summary, error) {
	return New(st, PipelineOptions{}).ReadJSONL(ctx, r, o)
}

func TestRunCountsAndOrder(t *testing.T) {
	st := openStore(t)
	data := genJSONL(t, 5000, 2)
	var rejects []Reject
	s, err := run(context.Background(), st, bytes.NewReader(data), ReadOptions{Name: "x", BatchSize: 333, OnReject: func(r Reject) { rejects = append(rejects, r) }})
	if err != nil {
		t.Fatal(err)
	}
	if s.Read != 5000 || s.Accepted+s.Rejected != 5000 || s.Rejected != s.Reasons[loop.ReasonNoConsent] || len(rejects) != s.Rejected {
		t.Fatalf("summary %+v, %d rejects", s, len(rejects))
	}
	for i := 1; i < len(rejects); i++ {
		if rejects[i].Line <= rejects[i-1].Line {
			t.Fatalf("rejects out of line order: %d after %d", rejects[i].Line, rejects[i-1].Line)
		}
	}
	if n, _ := st.Count(); n != s.Accepted {
		t.Fatalf("stored %d, accepted %d", n, s.Accepted)
	}
	s2, err := run(context.Background(), st, bytes.NewReader(data), ReadOptions{})
	if err != nil || s2.Duplicates != s.Accepted || s2.Accepted != 0 {
		t.Fatalf("second run %+v %v", s2, err)
	}
}

func TestRunCancelled(t *testing.T) {
	st := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := run(ctx, st, strings.NewReader(string(genJSONL(t, 3000, 1))), ReadOptions{})
	if err == nil {
		t.Fatal("cancelled run reported no error")
	}
}

func BenchmarkIngest(b *testing.B) {
	data := genJSONL(b, 50000, 1)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := run(context.Background(), st, bytes.NewReader(data), ReadOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(50000*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkIngestSampled is BenchmarkIngest with edge sampling keeping
// 5% of the interactions (intake.keep: a random share by a hash of the
// id), through the pipeline as `loupe ingest` and `serve` run it: the rest
// are reduced on the workers, counted in the aggregates and kept as stubs.
func BenchmarkIngestSampled(b *testing.B) {
	data := genJSONL(b, 50000, 1)
	keep := sample.Keep{{Name: "sample", Kind: sample.KindRandom, Share: 0.05}}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		p := New(st, PipelineOptions{Keep: keep})
		b.StartTimer()
		if _, err := p.ReadJSONL(context.Background(), bytes.NewReader(data), ReadOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(50000*b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPrepare is the CPU side of ingest without the store.
func BenchmarkPrepare(b *testing.B) {
	data := genJSONL(b, 10000, 1)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	hash := func(string) string { return "0123456789abcdef0123456789abcdef" }
	b.SetBytes(int64(len(data)) / int64(len(lines)))
	i := 0
	for b.Loop() {
		in, err := loop.DecodeEvent(lines[i%len(lines)])
		i++
		if err != nil {
			b.Fatal(err)
		}
		ev, err := loop.Prepare(in, hash)
		if err != nil {
			continue
		}
		if _, err := store.NewRecord(ev); err != nil {
			b.Fatal(err)
		}
	}
}

// signalsFor makes two signals per interaction of data, as a product sends
// them: the thumb a minute later, an outcome days later.
func signalsFor(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var out bytes.Buffer
	for i, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		in, err := loop.DecodeEvent(l)
		if err != nil {
			tb.Fatal(err)
		}
		id, ts := in.Event.EventID, in.Event.Timestamp
		thumb := []string{"up", "down"}[i%2]
		fmt.Fprintf(&out, `{"kind":"signal","signal_id":"%s-t","event_id":"%s","timestamp":"%s","source":"user","explicit_feedback":{"thumb":"%s","reason_codes":["factual_error"],"reason_text":"it said the wrong date"}}`+"\n",
			id, id, ts.Add(time.Minute).Format(time.RFC3339Nano), thumb)
		fmt.Fprintf(&out, `{"kind":"signal","signal_id":"%s-b","event_id":"%s","timestamp":"%s","source":"shop","business":{"converted":%v}}`+"\n",
			id, id, ts.Add(50*time.Hour).Format(time.RFC3339Nano), i%3 == 0)
	}
	return out.Bytes()
}

// BenchmarkIngestSignals ingests two signals for each of 20,000 stored
// interactions (the store is filled untimed); compare its records/s with
// BenchmarkIngest's events/s.
func BenchmarkIngestSignals(b *testing.B) {
	const n = 20000
	data := genJSONL(b, n, 1)
	sigs := signalsFor(b, data)
	lines := bytes.Count(sigs, []byte("\n"))
	b.SetBytes(int64(len(sigs)))
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		st, err := store.Open(b.TempDir(), store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		p := New(st, PipelineOptions{})
		if _, err := p.ReadJSONL(context.Background(), bytes.NewReader(data), ReadOptions{}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		s, err := p.ReadJSONL(context.Background(), bytes.NewReader(sigs), ReadOptions{})
		if err != nil || s.Signals == 0 || s.Rejected > 0 {
			b.Fatalf("%+v %v", s, err)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(lines*b.N)/b.Elapsed().Seconds(), "signals/s")
}

// The store re-reads originals with loop.DecodeStored: every generated
// shape must come back as it was stored.
func TestDecodeStoredGenerated(t *testing.T) {
	data := genJSONL(t, 3000, 9)
	hash := func(string) string { return "0123456789abcdef0123456789abcdef" }
	for _, l := range bytes.Split(bytes.TrimSpace(data), []byte("\n")) {
		in, err := loop.DecodeEvent(l)
		if err != nil {
			continue
		}
		ev, err := loop.Prepare(in, hash)
		if err != nil {
			continue
		}
		b := loop.AppendJSON(nil, ev)
		back, err := loop.DecodeStored(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if b2 := loop.AppendJSON(nil, back); !bytes.Equal(b, b2) {
			t.Fatalf("round trip:\n%s\n%s", b, b2)
		}
	}
}
