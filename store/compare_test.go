package store

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/compare"
)

func judgment(t *testing.T, st *Store, id, rev string, c compare.Choice, at time.Time) compare.Judgment {
	t.Helper()
	e, err := st.Event(id)
	if err != nil {
		t.Fatal(err)
	}
	j, err := compare.NewJudgment(compare.Input{Event: e, Reviewer: rev, Candidate: "v2", Answer: "answer to " + id,
		Side: compare.SideFor(st.SideKey(), id, rev, "v2"), Choice: c, Via: compare.ViaCLI, At: at})
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func currentComparisons(t *testing.T, st *Store) []compare.Judgment {
	t.Helper()
	var out []compare.Judgment
	if err := st.Comparisons(func(j compare.Judgment) error { out = append(out, j); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestComparisonsReplaceUndoAndHistory(t *testing.T) {
	st := openT(t)
	st.PutEvents([]*loop.Event{ev("a", t0, "one"), ev("b", t0, "two")})
	if !bytes.Equal(st.SideKey(), st.SideKey()) || len(st.SideKey()) != 32 {
		t.Fatal("side key not stable")
	}
	steps := []compare.Judgment{
		judgment(t, st, "a", "ann", compare.ChoseLeft, t0),
		judgment(t, st, "b", "ann", compare.ChoseTie, t0.Add(time.Second)),
		judgment(t, st, "a", "ann", compare.ChoseRight, t0.Add(2*time.Second)), // replaces the first
		judgment(t, st, "a", "bob", compare.ChoseBothBad, t0.Add(3*time.Second)),
	}
	for _, j := range steps {
		if err := st.PutComparison(j); err != nil {
			t.Fatal(err)
		}
	}
	cur := currentComparisons(t, st)
	if len(cur) != 3 || cur[0].EventID != "a" || cur[0].Reviewer != "ann" || cur[0].Choice != compare.ChoseRight ||
		cur[1].Reviewer != "bob" || cur[2].EventID != "b" {
		t.Fatalf("current %+v", cur)
	}
	// ann's last is a (at +2s), not b.
	w, err := st.UndoComparison("ann", "v2", t0.Add(time.Minute))
	if err != nil || w.EventID != "a" || w.Reviewer != "ann" {
		t.Fatalf("undo: %+v %v", w, err)
	}
	w, err = st.UndoComparison("ann", "v2", t0.Add(2*time.Minute))
	if err != nil || w.EventID != "b" {
		t.Fatalf("second undo: %+v %v", w, err)
	}
	if _, err := st.UndoComparison("ann", "v2", t0.Add(3*time.Minute)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("third undo: %v, want ErrNotFound", err)
	}
	if cur := currentComparisons(t, st); len(cur) != 1 || cur[0].Reviewer != "bob" {
		t.Fatalf("after undo %+v", cur)
	}
	var hist []compare.Judgment
	st.ComparisonHistory(func(j compare.Judgment) error { hist = append(hist, j); return nil })
	deleted := 0
	for _, j := range hist {
		if j.Deleted {
			deleted++
		}
	}
	if len(hist) != 6 || deleted != 2 {
		t.Errorf("history has %d records, %d withdrawals; want 6 and 2", len(hist), deleted)
	}
	if err := st.PutComparison(compare.Judgment{EventID: "nope", Reviewer: "ann", Candidate: "v2", At: t0}); !errors.Is(err, ErrNotFound) {
		t.Errorf("comparison of a missing event: %v", err)
	}
}

func TestForgetErasesComparisons(t *testing.T) {
	st := openT(t)
	a := ev("a", t0, "mine")
	a.UserHash = st.UserHash("u-1")
	st.PutEvents([]*loop.Event{a, ev("b", t0, "theirs")})
	for _, j := range []compare.Judgment{judgment(t, st, "a", "ann", compare.ChoseLeft, t0), judgment(t, st, "b", "ann", compare.ChoseLeft, t0)} {
		if err := st.PutComparison(j); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.Forget(a.UserHash); err != nil {
		t.Fatal(err)
	}
	cur := currentComparisons(t, st)
	n := 0
	st.ComparisonHistory(func(j compare.Judgment) error {
		if j.EventID == "a" {
			n++
		}
		return nil
	})
	if len(cur) != 1 || cur[0].EventID != "b" || n != 0 {
		t.Errorf("after forget: current %+v, %d history records of a", cur, n)
	}
}
