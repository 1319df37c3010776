package store

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/loop/gen"
)

// sampleKeep keeps ids hashing into 10%, and every thumbs-down.
func sampleKeep(s *loop.Summary) bool {
	h := fnv.New32a()
	h.Write([]byte(s.ID))
	return h.Sum32()%10 == 0 || s.Thumb == loop.ThumbDown
}

func genLines(t *testing.T, n int, seed int64) [][]byte {
	t.Helper()
	var lines [][]byte
	if err := gen.Records(gen.Options{N: n, Seed: seed, Days: 6}, func(l []byte) error {
		lines = append(lines, bytes.Clone(l))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return lines
}

// prepLine turns one generated line into the record ingest would hand
// the store (RecordOf: decode, consent gate, masking or, under st's edge
// sampling, reduction).
func prepLine(t *testing.T, st *Store, l []byte) Record {
	t.Helper()
	return prepLineAs(t, st, l, true)
}

// prepLineAs is prepLine; reduce false makes every interaction's record
// masked in full (NewRecord), as ingest did before RecordOf reduced those
// edge sampling will not keep.
func prepLineAs(t *testing.T, st *Store, l []byte, reduce bool) Record {
	t.Helper()
	if loop.RecordKind(l) == loop.KindSignal {
		sg, err := loop.DecodeSignal(l)
		if err == nil {
			sg, err = loop.PrepareSignal(sg)
		}
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		return NewSignalRecord(sg)
	}
	in, err := loop.DecodeEvent(l)
	if err != nil {
		t.Fatalf("%s: %v", l, err)
	}
	refused := func(err error) Record {
		var ie *loop.InputError
		if errors.As(err, &ie) && ie.Reason == loop.ReasonNoConsent {
			return NewRefusalRecord(in.Event.EventID)
		}
		t.Fatalf("%s: %v", l, err)
		return Record{}
	}
	if reduce {
		r, _, err := st.RecordOf(in, st.keep)
		if err != nil {
			return refused(err)
		}
		return r
	}
	ev, err := loop.Prepare(in, st.UserHash)
	if err != nil {
		return refused(err)
	}
	r, err := NewRecord(ev)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func putAll(t *testing.T, st *Store, batches [][]Record) [][]PutStatus {
	t.Helper()
	var out [][]PutStatus
	for _, b := range batches {
		got, err := st.PutRecords(b)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	return out
}

// oracle computes, without the store, which interactions edge sampling
// keeps when records arrive in these batches: each is decided on its
// merge with the signals that came before it or in the same run of its
// batch (PutRecords splits a batch at withdrawals), as PutRecords decides.
// It returns the kept ids, the unkept ones, and the withdrawn ones.
func oracle(t *testing.T, batches [][]Record, keep KeepFunc) (kept, unkept, tomb map[string]bool) {
	t.Helper()
	kept, unkept, tomb = map[string]bool{}, map[string]bool{}, map[string]bool{}
	sigs := map[string]map[string]*loop.Signal{}
	run := func(rs []Record) {
		for _, r := range rs {
			if r.Signal == nil || tomb[r.ID] {
				continue
			}
			if sigs[r.ID] == nil {
				sigs[r.ID] = map[string]*loop.Signal{}
			}
			if _, ok := sigs[r.ID][r.Signal.SignalID]; !ok {
				sigs[r.ID][r.Signal.SignalID] = r.Signal
			}
		}
		for _, r := range rs {
			if r.Signal != nil || tomb[r.ID] || kept[r.ID] || unkept[r.ID] {
				continue
			}
			ev := r.ev // a reduced record's reduction decides alike
			if ev == nil {
				var err error
				if ev, err = decodeBody(r.Body); err != nil {
					t.Fatal(err)
				}
			}
			var ss []*loop.Signal
			for _, sg := range sigs[r.ID] {
				ss = append(ss, sg)
			}
			sum := loop.Summarize(loop.Merge(ev, ss))
			if keep(&sum) {
				kept[r.ID] = true
			} else {
				unkept[r.ID] = true
			}
		}
	}
	for _, b := range batches {
		// As PutRecords: the refusals with no earlier record of their id
		// in the batch first, the rest cut at the other refusals and at
		// withdrawals.
		if first := firstRefusals(b); len(first) > 0 {
			var rest []Record
			for i, j := 0, 0; i < len(b); i++ {
				if j < len(first) && first[j] == i {
					j++
					if r := b[i]; !tomb[r.ID] && !kept[r.ID] && !unkept[r.ID] {
						tomb[r.ID] = true
					}
					continue
				}
				rest = append(rest, b[i])
			}
			b = rest
		}
		start := 0
		for i, r := range b {
			if !r.Refused && !r.Signal.Withdraws() {
				continue
			}
			run(b[start:i])
			start = i + 1
			if tomb[r.ID] || (r.Refused && (kept[r.ID] || unkept[r.ID])) {
				continue
			}
			tomb[r.ID] = true
			delete(kept, r.ID)
			delete(unkept, r.ID)
		}
		run(b[start:])
	}
	return kept, unkept, tomb
}

func batchesOf(recs []Record, sizes func() int) [][]Record {
	var out [][]Record
	for len(recs) > 0 {
		n := min(sizes(), len(recs))
		out = append(out, recs[:n])
		recs = recs[n:]
	}
	return out
}

func summariesByID(t *testing.T, st *Store) map[string]loop.Summary {
	t.Helper()
	all, err := st.AllSummaries()
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]loop.Summary, len(all))
	for _, s := range all {
		m[s.ID] = s
	}
	return m
}

func stubValues(t *testing.T, st *Store) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	if err := st.db.View(func(txn *badger.Txn) error {
		if err := scanPrefix(txn, prefix(prefixIndex), true, func(k, v []byte) error {
			if foldedIndex(v) {
				m[string(k[1:])] = foldedStubValue(v)
			}
			return nil
		}); err != nil {
			return err
		}
		return scanPrefix(txn, prefix(prefixStub), true, func(k, v []byte) error {
			m[string(k[1:])] = v
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestEdgeSamplingExactAggregates feeds generated interactions and signals
// in several orders into a store that keeps ~10% plus thumbs-down, and
// checks the aggregates plus the kept summaries count exactly what a store
// keeping everything holds.
func TestEdgeSamplingExactAggregates(t *testing.T) {
	lines := genLines(t, 1500, 11)
	// The reference: everything kept, natural order.
	ref := openT(t)
	var refRecs []Record
	for _, l := range lines {
		refRecs = append(refRecs, prepLine(t, ref, l))
	}
	putAll(t, ref, batchesOf(refRecs, func() int { return 500 }))
	refSums := summariesByID(t, ref)
	want := agg.New()
	for _, s := range refSums {
		want.Add(&s, +1)
	}
	if a, err := ref.Aggregates(); err != nil || a.Len() != 0 || len(stubValues(t, ref)) != 0 {
		t.Fatalf("a store keeping everything wrote aggregates or stubs: %v %v", a.Len(), err)
	}

	isSig := func(l []byte) bool { return loop.RecordKind(l) == loop.KindSignal }
	orders := map[string]func(r *rand.Rand) ([][]byte, func() int){
		"natural": func(*rand.Rand) ([][]byte, func() int) { return lines, func() int { return 400 } },
		"interactions first": func(*rand.Rand) ([][]byte, func() int) {
			var a, b [][]byte
			for _, l := range lines {
				if isSig(l) {
					b = append(b, l)
				} else {
					a = append(a, l)
				}
			}
			return append(a, b...), func() int { return 1000 }
		},
		"signals first": func(*rand.Rand) ([][]byte, func() int) {
			var a, b [][]byte
			for _, l := range lines {
				if isSig(l) {
					a = append(a, l)
				} else {
					b = append(b, l)
				}
			}
			return append(a, b...), func() int { return 700 }
		},
		"shuffled, redelivered, re-batched": func(r *rand.Rand) ([][]byte, func() int) {
			out := slices.Clone(lines)
			for range len(lines) / 10 {
				out = append(out, lines[r.IntN(len(lines))])
			}
			r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
			return out, func() int { return 1 + r.IntN(300) }
		},
	}
	for name, order := range orders {
		for _, reduce := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/reduced=%v", name, reduce), func(t *testing.T) {
				r := rand.New(rand.NewPCG(5, 7))
				ls, sizes := order(r)
				st := openT(t)
				st.SetKeep(sampleKeep)
				var recs []Record
				for _, l := range ls {
					recs = append(recs, prepLineAs(t, st, l, reduce))
				}
				batches := batchesOf(recs, sizes)
				statuses := putAll(t, st, batches)
				kept, unkept, tomb := oracle(t, batches, sampleKeep)
				if len(unkept) < len(kept) {
					t.Fatalf("the keep rule kept %d, left %d: the test samples too little", len(kept), len(unkept))
				}

				// (a) aggregates + kept summaries = everything.
				sums := summariesByID(t, st)
				got, err := st.Aggregates()
				if err != nil {
					t.Fatal(err)
				}
				if got.Events() != int64(len(unkept)) {
					t.Errorf("aggregates count %d interactions, want the %d unkept", got.Events(), len(unkept))
				}
				for _, s := range sums {
					got.Add(&s, +1)
				}
				if !agg.Equal(got, want) {
					t.Errorf("aggregates plus stored summaries differ from the full store's (%d vs %d events)", got.Events(), want.Events())
				}
				// (b) stored events are exactly the kept ones, merged in full.
				if len(sums) != len(kept) {
					t.Errorf("%d stored, want %d kept", len(sums), len(kept))
				}
				for id := range kept {
					s, ok := sums[id]
					if !ok {
						t.Errorf("kept %s not stored", id)
						continue
					}
					if fmt.Sprint(s) != fmt.Sprint(refSums[id]) {
						t.Errorf("%s: stored summary %+v, the full store has %+v", id, s, refSums[id])
					}
				}
				for id := range unkept {
					if has, _ := st.Has(id); has {
						t.Errorf("unkept %s: Has is true", id)
					}
					if _, err := st.Event(id); !errors.Is(err, ErrNotFound) {
						t.Errorf("unkept %s: Event gave %v", id, err)
					}
				}
				if n, err := st.Count(); err != nil || n != len(kept) {
					t.Errorf("Count %d, %v; want %d", n, err, len(kept))
				}
				ne := 0
				if err := st.Events(func(string, []byte) error { ne++; return nil }); err != nil || ne != len(kept) {
					t.Errorf("Events gave %d, %v; want %d", ne, err, len(kept))
				}
				stubs := stubValues(t, st)
				if len(stubs) != len(unkept) {
					t.Errorf("%d stubs, want %d", len(stubs), len(unkept))
				}
				for id := range tomb {
					if _, ok := stubs[id]; ok {
						t.Errorf("withdrawn %s has a stub", id)
					}
				}
				// No signal bodies of unkept interactions stay.
				var xs int
				if err := st.AllSignals(func(sg *loop.Signal) error {
					if unkept[sg.EventID] {
						t.Errorf("signal %s of unkept %s is stored", sg.SignalID, sg.EventID)
					}
					xs++
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				// (c) the same record twice is a duplicate (or withdrawn).
				seen := map[string]bool{}
				dups, aggregated := 0, 0
				for bi, b := range batches {
					for i, rec := range b {
						k := fmt.Sprintf("%s\x00%s", rec.ID, rec.Body)
						if rec.hasContent {
							k = fmt.Sprintf("%s\x00%x", rec.ID, rec.content)
						}
						st := statuses[bi][i]
						if st == Aggregated {
							aggregated++
						}
						if rec.Refused {
							continue
						}
						if seen[k] {
							if st != Duplicate && !(st == Withdrawn && tomb[rec.ID]) {
								t.Fatalf("redelivered %s (signal %v): %v", rec.ID, rec.Signal != nil, st)
							}
							dups++
						}
						seen[k] = true
					}
				}
				if aggregated == 0 || (name == "shuffled, redelivered, re-batched" && dups < len(lines)/20) {
					t.Errorf("%d aggregated, %d duplicates: the test exercises too little", aggregated, dups)
				}
				// (e) nothing of the text in a stub.
				for id, v := range stubs {
					for _, bad := range []string{`"input"`, `"text"`, `"user_hash"`, `"user_edit"`, `"session_id"`, `"masked"`, `"source"`, `"dwell_ms"`} {
						if bytes.Contains(v, []byte(bad)) {
							t.Fatalf("stub %s holds %s: %q", id, bad, v)
						}
					}
					if i := bytes.Index(v, []byte(`"reason_text"`)); i >= 0 && !bytes.HasPrefix(v[i:], []byte(`"reason_text":"-"`)) {
						t.Fatalf("stub %s holds a reason text: %q", id, v)
					}
					sb, err := decodeStub(v)
					if err != nil {
						t.Fatalf("stub %s: %v", id, err)
					}
					if e := sb.ev; e.Input != nil || e.UserHash != "" || e.SessionID != "" || e.Masked != nil ||
						(e.Explicit != nil && (e.Explicit.UserEdit != "" || (e.Explicit.ReasonText != "" && e.Explicit.ReasonText != "-"))) {
						t.Fatalf("stub %s holds more than the reduction: %+v", id, e)
					}
					full, err := ref.Event(id)
					if err != nil {
						t.Fatal(err)
					}
					for _, text := range []string{inputText(full), outputText(full)} {
						if len(text) >= 8 && bytes.Contains(v, []byte(text[:8])) {
							t.Fatalf("stub %s holds its text %q", id, text)
						}
					}
				}
				// (f) an unkept interaction reduced on arrival is never
				// masked in full, even when its signals come in its batch:
				// it is decided on its reduced view merged with them.
				if reduce {
					withSignals := 0
					for _, b := range batches {
						sigOf := map[string]bool{}
						for _, rec := range b {
							if rec.Signal != nil {
								sigOf[rec.ID] = true
							}
						}
						for _, rec := range b {
							if rec.Signal != nil || rec.Refused || !unkept[rec.ID] {
								continue
							}
							if rec.in == nil && rec.pre != nil {
								t.Fatalf("unkept %s was masked in full", rec.ID)
							}
							if sigOf[rec.ID] && rec.in != nil {
								withSignals++
							}
						}
					}
					if name == "natural" && withSignals == 0 {
						t.Errorf("no unkept interaction came with its signals: the test exercises too little")
					}
				}
				unk, dropped, err := st.AggregateStats()
				if err != nil || unk != int64(len(unkept)) || dropped == 0 {
					t.Errorf("AggregateStats %d, %d, %v; want %d unkept and some dropped", unk, dropped, err, len(unkept))
				}
				t.Logf("%d kept, %d unkept, %d withdrawn, %d stored signals, %d dropped, %d duplicates", len(kept), len(unkept), len(tomb), xs, dropped, dups)
			})
		}
	}
}

func signalRec(t *testing.T, line string) Record {
	t.Helper()
	sg, err := loop.DecodeSignal([]byte(line))
	if err == nil {
		sg, err = loop.PrepareSignal(sg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return NewSignalRecord(sg)
}

func eventRec(t *testing.T, st *Store, line string) Record {
	t.Helper()
	return prepLine(t, st, []byte(line))
}

func keepNone(*loop.Summary) bool { return false }

func TestUnkeptSignalsWithdrawAndForget(t *testing.T) {
	st := openT(t)
	st.SetKeep(keepNone)
	changes, stop := st.Watch()
	defer stop()
	in := eventRec(t, st, `{"event_id":"a","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","user_id":"u-1","task_type":"qa",`+
		`"input":{"text":"my card is secret words"},"output":{"text":"answer words","latency_ms":120},"explicit_feedback":{"reason_text":"nope"}}`)
	got, err := st.PutRecords([]Record{in})
	if err != nil || got[0] != Aggregated {
		t.Fatalf("unkept interaction: %v %v", got, err)
	}
	c := <-changes
	if !c.Aggregates || c.Updated {
		t.Fatalf("change %+v, want Aggregates only", c)
	}
	// Redelivered: duplicate; changed: conflict.
	if got, _ := st.PutRecords([]Record{in}); got[0] != Duplicate {
		t.Fatalf("redelivered unkept interaction: %v", got)
	}
	other := eventRec(t, st, `{"event_id":"a","timestamp":"2026-11-01T10:00:00Z","model_version":"m2"}`)
	if got, _ := st.PutRecords([]Record{other}); got[0] != Conflict {
		t.Fatalf("other content for an unkept id: %v", got)
	}
	// A counted signal moves the aggregates; one that is not is dropped.
	down := signalRec(t, `{"kind":"signal","signal_id":"s1","event_id":"a","timestamp":"2026-11-01T10:01:00Z","explicit_feedback":{"thumb":"down","reason_codes":["factual_error"],"reason_text":"wrong: call 555"}}`)
	dwell := signalRec(t, `{"kind":"signal","signal_id":"s2","event_id":"a","timestamp":"2026-11-01T10:02:00Z","implicit_feedback":{"dwell_ms":300}}`)
	got, err = st.PutRecords([]Record{down, dwell})
	if err != nil || got[0] != Aggregated || got[1] != DroppedUnkept {
		t.Fatalf("signals for an unkept interaction: %v %v", got, err)
	}
	got, _ = st.PutRecords([]Record{down, dwell})
	if got[0] != Duplicate || got[1] != Duplicate {
		t.Fatalf("redelivered signals: %v", got)
	}
	a, _ := st.Aggregates()
	k := agg.Key{Day: agg.DayOf(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)), Model: "m1", Task: "qa"}
	if c := a.Get(k); c == nil || c.Events != 1 || c.Down != 1 || c.Thumbed != 1 || c.Reasons["factual_error"] != 1 || c.Latency.Count() != 1 {
		t.Fatalf("cell after the thumb: %+v", c)
	}
	if _, dropped, _ := st.AggregateStats(); dropped != 1 {
		t.Fatalf("dropped %d, want 1", dropped)
	}
	// Reviewers cannot act on it: it is not stored.
	if err := st.PutLabel(loop.Label{EventID: "a", Reviewer: "r", Grade: loop.GradeFail, At: t0}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("label on an unkept interaction: %v", err)
	}
	if v := stubValues(t, st)["a"]; bytes.Contains(v, []byte("555")) || bytes.Contains(v, []byte("secret")) || bytes.Contains(v, []byte("nope")) {
		t.Fatalf("stub holds text: %q", v)
	}
	// Withdrawal takes its contribution out and leaves nothing of it.
	wd := signalRec(t, `{"kind":"signal","signal_id":"s3","event_id":"a","timestamp":"2026-11-02T10:00:00Z","consent":{"analytics":false}}`)
	if got, err := st.PutRecords([]Record{wd}); err != nil || got[0] != Stored {
		t.Fatalf("withdrawal: %v %v", got, err)
	}
	if a, _ := st.Aggregates(); a.Len() != 0 {
		t.Fatalf("aggregates after withdrawal: %d cells", a.Len())
	}
	for _, p := range []byte{prefixStub, prefixIndex, prefixSignalID, prefixAggregate} {
		n := 0
		_ = st.db.View(func(txn *badger.Txn) error {
			return scanPrefix(txn, prefix(p), false, func(_, _ []byte) error { n++; return nil })
		})
		if n != 0 {
			t.Fatalf("%d %c keys left after withdrawal", n, p)
		}
	}
	sawAgg := false
	for len(changes) > 0 {
		c := <-changes
		if c.Updated {
			t.Fatalf("an unkept interaction sent an Updated change: %+v", c)
		}
		sawAgg = sawAgg || c.Aggregates
	}
	if !sawAgg {
		t.Fatal("withdrawal sent no Aggregates change")
	}

	// forget --user erases stubs and their counts; retention erases stubs
	// but keeps the counts.
	b := eventRec(t, st, `{"event_id":"b","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","user_id":"u-2"}`)
	c2 := eventRec(t, st, `{"event_id":"c","timestamp":"2026-11-01T11:00:00Z","model_version":"m1","user_id":"u-3"}`)
	if got, err := st.PutRecords([]Record{b, c2}); err != nil || got[0] != Aggregated || got[1] != Aggregated {
		t.Fatalf("%v %v", got, err)
	}
	if n, err := st.Forget(st.UserHash("u-2")); err != nil || n != 1 {
		t.Fatalf("forget: %d %v", n, err)
	}
	if a, _ := st.Aggregates(); a.Events() != 1 {
		t.Fatalf("after forget: %d events counted, want 1", a.Events())
	}
	if n, err := st.ForgetBefore(time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC)); err != nil || n != 1 {
		t.Fatalf("retention: %d %v", n, err)
	}
	if a, _ := st.Aggregates(); a.Events() != 1 {
		t.Fatalf("retention took the counts: %d", a.Events())
	}
	if len(stubValues(t, st)) != 0 {
		t.Fatal("retention left the stub")
	}
}

// TestUnkeptDecidedOnMergedSummary: a thumbs-down that came first makes
// the interaction kept under a keep-thumbs-down rule, in one batch or two.
func TestUnkeptDecidedOnMergedSummary(t *testing.T) {
	keepDown := func(s *loop.Summary) bool { return s.Thumb == loop.ThumbDown }
	for _, together := range []bool{false, true} {
		st := openT(t)
		st.SetKeep(keepDown)
		down := signalRec(t, `{"kind":"signal","signal_id":"s1","event_id":"a","timestamp":"2026-11-01T10:01:00Z","explicit_feedback":{"thumb":"down"}}`)
		in := eventRec(t, st, `{"event_id":"a","timestamp":"2026-11-01T10:00:00Z","model_version":"m1"}`)
		in2 := eventRec(t, st, `{"event_id":"b","timestamp":"2026-11-01T10:00:00Z","model_version":"m1"}`)
		var got []PutStatus
		if together {
			got, _ = st.PutRecords([]Record{in, down, in2})
			if got[0] != Stored || got[1] != Stored || got[2] != Aggregated {
				t.Fatalf("together: %v", got)
			}
		} else {
			got, _ = st.PutRecords([]Record{down})
			if got[0] != Pending {
				t.Fatalf("early signal: %v", got)
			}
			got, _ = st.PutRecords([]Record{in, in2})
			if got[0] != Stored || got[1] != Aggregated {
				t.Fatalf("after: %v", got)
			}
		}
		if s, err := st.Summary("a"); err != nil || s.Thumb != loop.ThumbDown {
			t.Fatalf("kept a: %+v %v", s, err)
		}
	}
}

func TestStubCodec(t *testing.T) {
	down, lat, yes := "down", 250.0, true
	st := &stub{ts: tsBytes(nil, t0), ev: loop.Reduce(&loop.Event{EventID: "a", Timestamp: t0, ModelVersion: "m1",
		UserSegment: "pro", TaskType: "qa", Locale: "de-DE", UserHash: "0123456789abcdef0123456789abcdef",
		Input: &loop.Input{Text: "secret"}, Output: &loop.Output{Text: "answer", LatencyMS: &lat},
		Explicit: &loop.Explicit{Thumb: &down, ReasonCodes: []string{"factual_error"}, ReasonText: "why", UserEdit: "fixed"},
		Implicit: &loop.Implicit{Escalated: &yes}})}
	sg, ok := reduceSignal(&loop.Signal{SignalID: "s1", EventID: "a", Timestamp: t0.Add(time.Minute), Source: "user",
		Leaves: []loop.Leaf{{Path: loop.ThumbUnit, Value: []byte(`{"thumb":"up","reason_text":"ok then"}`)},
			{Path: "implicit_feedback.dwell_ms", Value: []byte(`5`)}}})
	if !ok || len(sg.Leaves) != 1 || string(sg.Leaves[0].Value) != `{"thumb":"up"}` {
		t.Fatalf("reduced signal %+v", sg)
	}
	if _, ok := reduceSignal(&loop.Signal{SignalID: "s2", Leaves: []loop.Leaf{{Path: "business.converted", Value: []byte(`true`)}}}); ok {
		t.Fatal("a signal with nothing counted reduced to something")
	}
	st.sigs, st.ids = []*loop.Signal{sg}, []string{"s1", "s2"}
	v := st.encode()
	back, err := decodeStub(v)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.encode(), v) || !slices.Equal(back.ids, st.ids) || len(back.sigs) != 1 {
		t.Fatalf("round trip: %q vs %q", back.encode(), v)
	}
	if sum := back.summary(); sum.Thumb != loop.ThumbUp || !sum.Escalated || sum.LatencyMS != 250 || sum.Locale != "de-DE" || sum.Edited || sum.Snippet != "" {
		t.Fatalf("stub summary %+v", sum)
	}
	for _, bad := range [][]byte{nil, v[:7], v[:20], append(slices.Clone(v), 0)} {
		if _, err := decodeStub(bad); err == nil {
			t.Errorf("corrupt stub %q decoded", bad)
		}
	}
}

func TestAggregateStatsClosed(t *testing.T) {
	st := openT(t)
	st.Close()
	if _, _, err := st.AggregateStats(); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed store: %v", err)
	}
}

func inputText(e *loop.Event) string {
	if e.Input == nil {
		return ""
	}
	return e.Input.Text
}

func outputText(e *loop.Event) string {
	if e.Output == nil {
		return ""
	}
	return e.Output.Text
}
