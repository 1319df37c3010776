package inbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
)

func sample(n int, seed uint64) []loop.Summary {
	r := rand.New(rand.NewPCG(seed, 1))
	models := []string{"m-1", "m-2", "sup-2026.08"}
	segs := []string{"free", "pro", "enterprise"}
	reasons := []string{"factual", "tone", "format", ""}
	t0 := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	out := make([]loop.Summary, n)
	for i := range out {
		s := loop.Summary{
			ID: fmt.Sprintf("ev-%06d", i), Time: t0.Add(time.Duration(i) * time.Second),
			Thumb: loop.Thumb(r.IntN(3) - 1), Model: models[r.IntN(3)], Segment: segs[r.IntN(3)],
			Task: "support", Locale: []string{"en-US", "", "de-DE"}[r.IntN(3)],
			Snippet:         fmt.Sprintf("text %d cancel refund %x", i, r.Uint32()),
			PolicyViolation: r.IntN(2) == 0, Escalated: r.IntN(3) == 0, Abandoned: r.IntN(4) == 0, Edited: r.IntN(5) == 0,
			Toxicity: r.Float32(), Confidence: -1, LatencyMS: float32(r.IntN(3000)), Resolved: int8(r.IntN(3) - 1),
		}
		if i%7 == 0 {
			s.Snippet = ""
		}
		for k := r.IntN(3); k > 0; k-- {
			s.Reasons = append(s.Reasons, reasons[r.IntN(len(reasons))])
		}
		out[i] = s
	}
	return out
}

// build adds sums as a store scan does: every string a view of one buffer
// that the next summary overwrites, so the same address holds another
// value each time.
func build(sums []loop.Summary) *List {
	b := NewBuilder(0)
	buf := make([]byte, 0, 4096)
	view := func(v string) string {
		if v == "" {
			return ""
		}
		at := len(buf)
		buf = append(buf, v...)
		return unsafe.String(&buf[at], len(v))
	}
	var reasons []string
	for i := range sums {
		s := sums[i]
		buf, reasons = buf[:0], reasons[:0]
		s.ID, s.Model, s.Segment, s.Task, s.Locale, s.Snippet = view(s.ID), view(s.Model), view(s.Segment), view(s.Task), view(s.Locale), view(s.Snippet)
		for _, r := range s.Reasons {
			reasons = append(reasons, view(r))
		}
		if s.Reasons != nil {
			s.Reasons = reasons
		}
		b.Add(&s)
		for i := range buf {
			buf[i] = '#'
		}
	}
	return b.List()
}

func TestListKeepsEverySummary(t *testing.T) {
	sums := sample(3000, 1)
	l := build(sums)
	if l.Len() != len(sums) {
		t.Fatalf("%d items, want %d", l.Len(), len(sums))
	}
	for i := range sums {
		if got := l.At(i); !reflect.DeepEqual(got, sums[i]) {
			t.Fatalf("item %d:\n got %+v\nwant %+v", i, got, sums[i])
		}
	}
	for i := range sums {
		if r, ok := l.Find(sums[i].ID); !ok || r != i {
			t.Fatalf("Find(%s) = %d, %v; want %d", sums[i].ID, r, ok, i)
		}
	}
	if _, ok := l.Find("ev-nope"); ok {
		t.Fatal("Find found an id never added")
	}
	if _, ok := (*List)(nil).Find("ev-000001"); ok {
		t.Fatal("Find found an id in no list")
	}
	if !reflect.DeepEqual(l.Summaries(), sums) {
		t.Fatal("Summaries differs from the summaries added")
	}
}

// Parts scanned in parallel and joined newest first are the list of all of
// them reversed, and their index answers as one built from that order.
func TestReversedParts(t *testing.T) {
	sums := sample(5000, 2)
	parts := []*List{build(sums[:1234]), build(sums[1234:1235]), build(sums[1235:1235]), build(sums[1235:])}
	got := Reversed(parts...)
	want := slices.Clone(sums)
	slices.Reverse(want)
	if !reflect.DeepEqual(got.Summaries(), want) {
		t.Fatal("joined parts differ from the reversed summaries")
	}
	for i := range want {
		if r, ok := got.Find(want[i].ID); !ok || r != i {
			t.Fatalf("Find(%s) = %d, %v; want %d", want[i].ID, r, ok, i)
		}
	}
	ref := filter.Build(len(want), func(i int) filter.Item {
		s := &want[i]
		return filter.Item{Text: s.Snippet, Model: s.Model, Segment: s.Segment, Task: s.Task, Locale: s.Locale, Thumb: s.Thumb.String(), Reasons: s.Reasons}
	})
	for _, q := range []string{"seg:ent", "reason:fact", "cancel 12", "thumb:down model:sup", "locale:de reason:tone", "reason:\"\"", "zz"} {
		req := filter.Request{Query: filter.Parse(q), SortLimit: -1}
		a, err := got.Index().Search(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := ref.Search(context.Background(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a.IDs, b.IDs) {
			t.Fatalf("%q: %d hits, want %d", q, len(a.IDs), len(b.IDs))
		}
		if q == "seg:ent" && len(a.IDs) == 0 {
			t.Fatal("seg:ent found nothing: the sample is wrong")
		}
	}
}

// A rebuild copies the old list's items with AddFrom, between new ones
// added from summaries: the result is as if every summary had been added.
func TestAddFromMixesWithAdd(t *testing.T) {
	sums := sample(4000, 3)
	old := build(sums[:3000])
	b := NewBuilder(0)
	var want []loop.Summary
	for i := range 3000 {
		if i%500 == 0 {
			s := sums[3000+i/500]
			b.Add(&s)
			want = append(want, s)
		}
		if i%7 == 3 {
			continue // erased
		}
		b.AddFrom(old, i)
		want = append(want, sums[i])
	}
	got := b.List()
	if !reflect.DeepEqual(got.Summaries(), want) {
		t.Fatal("the rebuilt list differs from its summaries")
	}
	for i := range want {
		if r, ok := got.Find(want[i].ID); !ok || r != i {
			t.Fatalf("Find(%s) = %d, %v; want %d", want[i].ID, r, ok, i)
		}
	}
	ref := build(want)
	for _, q := range []string{"seg:ent", "reason:fact", "cancel 12", "thumb:down model:sup", "locale:de reason:tone"} {
		req := filter.Request{Query: filter.Parse(q), SortLimit: -1}
		a, _ := got.Index().Search(context.Background(), req)
		r, _ := ref.Index().Search(context.Background(), req)
		if !reflect.DeepEqual(a.IDs, r.IDs) {
			t.Fatalf("%q: %d hits, want %d", q, len(a.IDs), len(r.IDs))
		}
	}
}
