package inbox

import (
	"context"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
)

// newestFirst is sums in list order: newest first, ties by id descending.
func newestFirst(sums []loop.Summary) []loop.Summary {
	out := slices.Clone(sums)
	slices.SortFunc(out, func(a, b loop.Summary) int {
		if c := b.Time.Compare(a.Time); c != 0 {
			return c
		}
		if a.ID > b.ID {
			return -1
		}
		if a.ID < b.ID {
			return 1
		}
		return 0
	})
	return out
}

// A list written with AppendTo and read with Decode is the same list:
// every item, Find, the filter's columns and its searches.
func TestDecodeReadsWhatAppendToWrote(t *testing.T) {
	for _, n := range []int{0, 1, 3000} {
		l := build(sample(n, 7))
		b, err := l.AppendTo(nil)
		if err != nil {
			t.Fatal(err)
		}
		// Decode shares its bytes: a copy makes sure nothing points
		// into the original list.
		got, err := Decode(slices.Clone(b))
		if err != nil {
			t.Fatalf("%d items: %v", n, err)
		}
		if err := Equal(got, l); err != nil {
			t.Fatalf("%d items: %v", n, err)
		}
		if !reflect.DeepEqual(got.Summaries(), l.Summaries()) {
			t.Fatalf("%d items: summaries differ", n)
		}
		for _, q := range []string{"seg:ent", "reason:fact", "cancel 12", "thumb:down model:sup"} {
			req := filter.Request{Query: filter.Parse(q), SortLimit: -1}
			a, _ := got.Index().Search(context.Background(), req)
			r, _ := l.Index().Search(context.Background(), req)
			if !reflect.DeepEqual(a.IDs, r.IDs) {
				t.Fatalf("%q: %d hits, want %d", q, len(a.IDs), len(r.IDs))
			}
		}
	}
}

// Bytes that are not a whole list are an error, never a panic or a list
// that indexes out of range: every truncation, and random bytes changed.
func TestDecodeRefusesDamagedBytes(t *testing.T) {
	l := build(sample(200, 8))
	b, err := l.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n += 1 + n/50 {
		if _, err := Decode(slices.Clone(b[:n])); err == nil {
			t.Fatalf("%d of %d bytes decoded", n, len(b))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		c := slices.Clone(b)
		for k := 1 + r.IntN(4); k > 0; k-- {
			c[r.IntN(len(c))] = byte(r.Uint32())
		}
		d, err := Decode(c)
		if err != nil {
			continue
		}
		// Changed bytes that still add up (a text byte, a time) make a
		// list whose every item can be read.
		for i := range d.Len() {
			_ = d.At(i)
			d.Find(d.ID(i))
		}
	}
	b[0] ^= 1
	if _, err := Decode(b); err == nil {
		t.Fatal("a list of another format decoded")
	}
}

// Upsert of a list and the items changed or added since is the list built
// from all the newest versions at once.
func TestUpsertIsTheWholeBuild(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	sums := sample(3000, 9)
	for i := range sums {
		// Many items of one instant: ties are ordered by id.
		sums[i].Time = sums[i].Time.Truncate(20 * time.Second)
	}
	base := newestFirst(sums[:2500])
	cur := map[string]loop.Summary{}
	for _, s := range base {
		cur[s.ID] = s
	}
	var changed []loop.Summary
	for _, s := range sums[2500:] { // new
		changed = append(changed, s)
		cur[s.ID] = s
	}
	for range 300 { // changed in place
		s := base[r.IntN(len(base))]
		s.Snippet += " and then a signal"
		s.Reasons = append(slices.Clone(s.Reasons), "late")
		s.Thumb = loop.ThumbDown
		changed = append(changed, s)
		cur[s.ID] = s
	}
	// Each id once, newest version.
	seen := map[string]bool{}
	var delta []loop.Summary
	for _, s := range slices.Backward(changed) {
		if !seen[s.ID] {
			seen[s.ID] = true
			delta = append(delta, cur[s.ID])
		}
	}
	var all []loop.Summary
	for _, s := range cur {
		all = append(all, s)
	}
	want := build(newestFirst(all))
	got := Upsert(build(base), build(newestFirst(delta)))
	if err := Equal(got, want); err != nil {
		t.Fatal(err)
	}
	bl := build(base)
	if Upsert(bl, build(nil)) != bl {
		t.Fatal("an empty change made a new list")
	}
	if err := Equal(Upsert(build(nil), want), want); err != nil {
		t.Fatal(err)
	}
}
