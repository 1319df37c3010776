package agg

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

func summary(r *rand.Rand, i int) loop.Summary {
	s := loop.Summary{
		ID:        string(rune('a'+i%26)) + time.Duration(i).String(),
		Time:      time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(72)) * time.Hour),
		Model:     []string{"m1", "m2"}[r.IntN(2)],
		Segment:   []string{"", "free", "pro"}[r.IntN(3)],
		Task:      []string{"qa", "sum"}[r.IntN(2)],
		Thumb:     []loop.Thumb{loop.ThumbNone, loop.ThumbUp, loop.ThumbDown}[r.IntN(3)],
		Escalated: r.IntN(10) == 0,
		Abandoned: r.IntN(7) == 0,
		LatencyMS: -1,
		Resolved:  int8(r.IntN(3) - 1),
	}
	s.PolicyViolation = r.IntN(20) == 0
	if r.IntN(4) > 0 {
		s.LatencyMS = float32(r.ExpFloat64() * 800)
	}
	if s.Thumb == loop.ThumbDown && r.IntN(2) == 0 {
		s.Reasons = []string{"wrong", "slow", "wrong"}[:1+r.IntN(3)]
	}
	return s
}

// Adding and then removing the same summaries leaves an empty table, and
// the order of adds never matters.
func TestAddRemoveOrderFree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var items []loop.Summary
	for i := range 2000 {
		items = append(items, summary(r, i))
	}
	a, b := New(), New()
	for i := range items {
		a.Add(&items[i], 1)
	}
	perm := r.Perm(len(items))
	for _, i := range perm {
		b.Add(&items[i], 1)
	}
	if !Equal(a, b) {
		t.Fatal("tables differ with the order of adds")
	}
	if a.Events() != int64(len(items)) {
		t.Fatalf("events %d, want %d", a.Events(), len(items))
	}
	for _, i := range perm {
		b.Add(&items[i], -1)
	}
	if !Equal(b, New()) {
		t.Fatal("removing every summary left counts behind")
	}
	// A summary that changes (a late thumbs-down) moves exactly.
	s := items[0]
	s.Thumb, s.Reasons = loop.ThumbUp, nil
	c := New()
	c.Add(&s, 1)
	s2 := s
	s2.Thumb, s2.Reasons = loop.ThumbDown, []string{"wrong"}
	c.Add(&s, -1)
	c.Add(&s2, 1)
	d := New()
	d.Add(&s2, 1)
	if !Equal(c, d) {
		t.Fatal("moving a summary is not the same as adding the new one")
	}
}

// The counts equal a hand count.
func TestCountsByHand(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	tab := New()
	var items []loop.Summary
	for i := range 5000 {
		items = append(items, summary(r, i))
		tab.Add(&items[i], 1)
	}
	for _, k := range tab.Keys() {
		c := tab.Get(k)
		var want Cell
		for i := range items {
			s := &items[i]
			if KeyOf(s) != k {
				continue
			}
			want.Events++
			if s.Thumb != loop.ThumbNone {
				want.Thumbed++
			}
			if s.Thumb == loop.ThumbDown {
				want.Down++
				if slices.Contains(s.Reasons, "wrong") {
					if want.Reasons == nil {
						want.Reasons = map[string]int64{}
					}
					want.Reasons["wrong"]++
				}
				if slices.Contains(s.Reasons, "slow") {
					if want.Reasons == nil {
						want.Reasons = map[string]int64{}
					}
					want.Reasons["slow"]++
				}
			}
			if s.Escalated {
				want.Escalated++
			}
			if s.Abandoned {
				want.Abandoned++
			}
			if s.PolicyViolation {
				want.Policy++
			}
			if s.Resolved >= 0 {
				want.ResolvedSet++
			}
			if s.Resolved == 1 {
				want.Resolved++
			}
			if s.LatencyMS >= 0 {
				want.Latency.Add(float64(s.LatencyMS), 1)
			}
		}
		if !c.equal(&want) {
			t.Fatalf("cell %+v: got %+v, want %+v", k, *c, want)
		}
	}
}

func TestCellEncoding(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	tab := New()
	for i := range 3000 {
		s := summary(r, i)
		tab.Add(&s, 1)
	}
	for _, k := range tab.Keys() {
		c := tab.Get(k)
		b := AppendCell(nil, c)
		got, err := DecodeCell(b)
		if err != nil {
			t.Fatal(err)
		}
		if !got.equal(c) {
			t.Fatalf("round trip of %+v changed it", k)
		}
		// Every truncation is refused or decodes; none panics.
		for n := range len(b) {
			if _, err := DecodeCell(b[:n]); err == nil && n < len(b) {
				t.Fatalf("truncated cell (%d of %d bytes) decoded", n, len(b))
			}
		}
	}
	if _, err := DecodeCell([]byte{9, 1, 2}); err == nil {
		t.Fatal("unknown version decoded")
	}
}

// Every quantile of the sketch is within Accuracy of the exact order
// statistic at its rank; merging two sketches is the sketch of both.
func TestSketchAccuracy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, dist := range []func() float64{
		func() float64 { return r.ExpFloat64() * 500 },
		func() float64 { return math.Exp(r.NormFloat64()*2 + 5) },
		func() float64 { return float64(r.IntN(3)) }, // zeros and small integers
	} {
		var vals []float64
		var a, b, all Sketch
		for i := range 20000 {
			v := dist()
			vals = append(vals, v)
			all.Add(v, 1)
			if i%2 == 0 {
				a.Add(v, 1)
			} else {
				b.Add(v, 1)
			}
		}
		a.Merge(&b)
		if !a.equal(&all) {
			t.Fatal("merged sketch differs from the sketch of all values")
		}
		slices.Sort(vals)
		for _, q := range []float64{0, 0.01, 0.5, 0.9, 0.95, 0.99, 1} {
			exact := vals[int(q*float64(len(vals)-1))]
			got := all.Quantile(q)
			if exact <= minValue {
				if got != 0 {
					t.Fatalf("q%.2f: got %v for exact %v", q, got, exact)
				}
				continue
			}
			if math.Abs(got-exact) > Accuracy*exact*1.0001 {
				t.Fatalf("q%.2f: got %v, exact %v: off by more than %v", q, got, exact, Accuracy)
			}
		}
		vs := all.AppendValues(nil)
		if len(vs) != len(vals) || !slices.IsSorted(vs) {
			t.Fatalf("values: %d (sorted %v), want %d sorted", len(vs), slices.IsSorted(vs), len(vals))
		}
		for i, v := range vs {
			if e := vals[i]; e > minValue && math.Abs(float64(v)-e) > Accuracy*e*1.001 {
				t.Fatalf("value %d: %v for %v", i, v, e)
			}
		}
	}
	var e Sketch
	if !math.IsNaN(e.Quantile(0.5)) {
		t.Fatal("empty sketch has a quantile")
	}
}
