package tui

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
	ilist "github.com/loupe-dev/loupe/loop/inbox"
	"github.com/loupe-dev/loupe/store"
)

// marksFor, which looks up only the items with labels, set or queue
// entries, gives every item the mark a lookup of each item gives, and the
// queue's rows in list order; ids the list does not hold (erased since)
// change nothing.
func TestMarksForIsEveryItemsMark(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	now := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	b := ilist.NewBuilder(0)
	for i := range 500 {
		s := loop.Summary{ID: fmt.Sprintf("e%03d", i), Time: now.Add(-time.Duration(i) * time.Minute)}
		b.Add(&s)
	}
	items := b.List()
	id := func() string { return fmt.Sprintf("e%03d", r.IntN(520)) } // some not in the list
	grades := []loop.Grade{loop.GradePass, loop.GradeFail, loop.GradeBorderline}
	for _, adjudicator := range []bool{false, true} {
		labels := map[string]map[string]loop.Label{}
		for range 200 {
			e, rev := id(), []string{"me", "ann", "bob"}[r.IntN(3)]
			if labels[e] == nil {
				labels[e] = map[string]loop.Label{}
			}
			labels[e][rev] = loop.Label{EventID: e, Reviewer: rev, Grade: grades[r.IntN(3)], At: now.Add(-time.Duration(r.IntN(100)) * time.Minute)}
		}
		sets := map[loop.SetKind]map[string]loop.SetEntry{loop.SetGolden: {}, loop.SetRedFlag: {}}
		for range 60 {
			k := []loop.SetKind{loop.SetGolden, loop.SetRedFlag}[r.IntN(2)]
			e := id()
			sets[k][e] = loop.SetEntry{EventID: e, Kind: k}
		}
		queue, shared, leases := map[string]loop.QueueItem{}, map[string]bool{}, map[string]store.Lease{}
		for range 150 {
			e := id()
			q := loop.QueueItem{EventID: e}
			if r.IntN(3) == 0 {
				q.Reviewers = []string{[]string{"me", "ann"}[r.IntN(2)]}
			}
			queue[e] = q
			shared[e] = r.IntN(4) == 0
			if r.IntN(5) == 0 {
				leases[e] = store.Lease{EventID: e, Reviewer: "bob", Until: now.Add(time.Hour)}
			}
		}
		marks, qrows := marksFor(items, "me", adjudicator, labels, sets, queue, shared, leases, now)
		var want []filter.Mark
		var wantRows []int32
		for i := range items.Len() {
			e := items.ID(i)
			m := markOf("me", adjudicator, labels[e], sets, e)
			if q, ok := queue[e]; ok && (len(q.Reviewers) == 0 || slices.Contains(q.Reviewers, "me")) {
				wantRows = append(wantRows, int32(i))
				if taken("me", q, shared[e], labels[e], leases[e], now) {
					m |= filter.Taken
				}
			}
			want = append(want, m)
		}
		if !slices.Equal(marks, want) || !slices.Equal(qrows, wantRows) {
			t.Fatalf("adjudicator %v: marks or queue rows differ from a lookup of every item", adjudicator)
		}
		if slices.Max(marks) == 0 || len(qrows) == 0 {
			t.Fatal("the sample sets no mark")
		}
	}
}
