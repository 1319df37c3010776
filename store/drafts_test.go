package store

import (
	"errors"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

func TestDrafts(t *testing.T) {
	s := openT(t)
	d := Draft{EventID: "e1", Reviewer: "alice", Reasons: []string{"tone"}, Note: "too curt", At: time.Unix(100, 0).UTC()}
	if err := s.PutDraft(d); err != nil {
		t.Fatal(err)
	}
	if err := s.PutDraft(Draft{EventID: "e2", Reviewer: "bob", Note: "bob's"}); err != nil {
		t.Fatal(err)
	}
	var got []Draft
	collect := func(r string) {
		got = nil
		if err := s.Drafts(r, func(d Draft) error { got = append(got, d); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	collect("alice")
	if len(got) != 1 || got[0].Note != "too curt" || got[0].Reasons[0] != "tone" {
		t.Fatalf("alice's drafts %+v", got)
	}
	collect("ali") // a prefix of a name is another reviewer
	if len(got) != 0 {
		t.Fatalf("ali's drafts %+v", got)
	}
	if err := s.DeleteDraft("alice", "e1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDraft("alice", "e1"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	collect("alice")
	if len(got) != 0 {
		t.Fatalf("after delete %+v", got)
	}
}

func TestUndoJournal(t *testing.T) {
	s := openT(t)
	l := loop.Label{EventID: "e1", Reviewer: "alice", Grade: loop.GradeFail}
	for i, e := range []UndoEntry{{Seq: 2, EventID: "e1", After: &l}, {Seq: 1, EventID: "e0", Set: loop.SetRedFlag}, {Seq: 300, EventID: "e3"}} {
		if err := s.PushUndo("alice", e); err != nil {
			t.Fatal(i, err)
		}
	}
	var seqs []uint64
	read := func() {
		seqs = nil
		if err := s.UndoJournal("alice", func(e UndoEntry) error { seqs = append(seqs, e.Seq); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	read()
	if len(seqs) != 3 || seqs[0] != 1 || seqs[1] != 2 || seqs[2] != 300 {
		t.Fatalf("journal order %v", seqs)
	}
	if err := s.DropUndo("alice", 2); err != nil {
		t.Fatal(err)
	}
	read()
	if len(seqs) != 2 || seqs[1] != 300 {
		t.Fatalf("after drop %v", seqs)
	}
}

func TestLeases(t *testing.T) {
	s := openT(t)
	now := time.Unix(1000, 0)
	ch, stop := s.Watch()
	defer stop()
	if _, err := s.TakeLease("e1", "alice", now, now.Add(time.Minute), false); err != nil {
		t.Fatal(err)
	}
	if c := <-ch; c.EventID != "e1" || !c.Lease {
		t.Fatalf("change %+v", c)
	}
	held, err := s.TakeLease("e1", "bob", now.Add(30*time.Second), now.Add(2*time.Minute), false)
	if !errors.Is(err, ErrLeased) || held.Reviewer != "alice" {
		t.Fatalf("bob took alice's live lease: %+v %v", held, err)
	}
	if _, err := s.TakeLease("e1", "alice", now, now.Add(5*time.Minute), false); err != nil {
		t.Fatalf("renewing: %v", err)
	}
	if err := s.ReleaseLease("e1", "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TakeLease("e1", "bob", now, now.Add(time.Minute), false); !errors.Is(err, ErrLeased) {
		t.Fatalf("bob's release freed alice's lease: %v", err)
	}
	// Expired: anyone may take it.
	if _, err := s.TakeLease("e1", "bob", now.Add(6*time.Minute), now.Add(7*time.Minute), false); err != nil {
		t.Fatalf("expired lease not taken over: %v", err)
	}
	if err := s.ReleaseLease("e1", "bob"); err != nil {
		t.Fatal(err)
	}
	// Once-only: a label of another reviewer denies it.
	if _, err := s.PutEvents([]*loop.Event{{EventID: "e9", Timestamp: now, ModelVersion: "m"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLabel(loop.Label{EventID: "e9", Reviewer: "alice", Grade: loop.GradePass, At: now}); err != nil {
		t.Fatal(err)
	}
	if held, err := s.TakeLease("e9", "bob", now, now.Add(time.Minute), true); !errors.Is(err, ErrLeased) || held.Reviewer != "alice" {
		t.Fatalf("bob took an item alice graded: %+v %v", held, err)
	}
	if _, err := s.TakeLease("e9", "alice", now, now.Add(time.Minute), true); err != nil {
		t.Fatalf("alice on her own graded item: %v", err)
	}
	s.ReleaseLease("e9", "alice")
	n := 0
	s.Leases(func(Lease) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d leases after release", n)
	}
}

// Forgetting a user also erases the review state of their events: drafts,
// undo entries and leases; other events' state stays.
func TestForgetErasesReviewState(t *testing.T) {
	st := openT(t)
	uh := st.UserHash("u-1")
	a, b := ev("a", t0, "mine"), ev("b", t0, "theirs")
	a.UserHash = uh
	st.PutEvents([]*loop.Event{a, b})
	for _, id := range []string{"a", "b"} {
		st.PutDraft(Draft{EventID: id, Reviewer: "ann", Note: "note on " + id})
		st.PushUndo("ann", UndoEntry{Seq: uint64(len(id) + int(id[0])), EventID: id})
		st.TakeLease(id, "ann", t0, t0.Add(time.Hour), false)
	}
	if n, err := st.Forget(uh); err != nil || n != 1 {
		t.Fatalf("forget: %d %v", n, err)
	}
	var drafts, undo, leases []string
	st.Drafts("ann", func(d Draft) error { drafts = append(drafts, d.EventID); return nil })
	st.UndoJournal("ann", func(e UndoEntry) error { undo = append(undo, e.EventID); return nil })
	st.Leases(func(l Lease) error { leases = append(leases, l.EventID); return nil })
	if len(drafts) != 1 || drafts[0] != "b" || len(undo) != 1 || undo[0] != "b" || len(leases) != 1 || leases[0] != "b" {
		t.Fatalf("after forget: drafts %v undo %v leases %v", drafts, undo, leases)
	}
}
