package tui

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/teatest/v2"
	"github.com/loupe-dev/loupe/loop"
)

// A whole session through a real Bubble Tea program: open, filter, grade,
// undo, quit; then the store holds what the reviewer did.
func TestEndToEnd(t *testing.T) {
	st, _ := openStore(t, nEvents)
	m := New(st, Options{Reviewer: "alice", Now: func() time.Time { return t0 }, Location: time.UTC})
	tm := teatest.NewTestModel(t, m,
		teatest.WithInitialTermSize(120, 35),
		teatest.WithProgramOptions(tea.WithColorProfile(colorprofile.Ascii)))
	waitFor := func(s string) {
		t.Helper()
		teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return bytes.Contains(b, []byte(s)) },
			teatest.WithDuration(10*time.Second), teatest.WithCheckInterval(20*time.Millisecond))
	}
	waitFor("36 of 36")

	tm.Send(keyMsg("/"))
	tm.Type("seg:ent refund")
	waitFor("ranked")
	tm.Send(keyMsg("enter"))
	tm.Send(keyMsg("3"))
	tm.Send(keyMsg("f")) // first match: fail, too_long; advance
	waitFor("fail")
	tm.Send(keyMsg("p")) // second match: pass
	waitFor("pass")
	tm.Send(keyMsg("u")) // undo the pass
	waitFor("undone")
	tm.Send(keyMsg("q"))
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}

	var graded []loop.Label
	if err := st.AllLabels(func(l loop.Label) error { graded = append(graded, l); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(graded) != 1 || graded[0].Grade != loop.GradeFail || graded[0].Reasons[0] != "too_long" || graded[0].Reviewer != "alice" {
		t.Fatalf("labels after the session: %+v", graded)
	}
	ev, err := st.Event(graded[0].EventID)
	if err != nil || ev.UserSegment != "enterprise" {
		t.Fatalf("graded item %v: %v", ev, err)
	}
	hist, _ := st.History(graded[0].EventID)
	if len(hist) != 1 {
		t.Fatalf("history %+v", hist)
	}
}

// Run returns without error when its context ends, and finishes the writes.
func TestRunStopsWithContext(t *testing.T) {
	st, _ := openStore(t, 5)
	in, inW := io.Pipe()
	defer inW.Close()
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := Run(ctx, st, Options{Reviewer: "alice", Input: in, Output: &out,
		ProgramOptions: []tea.ProgramOption{tea.WithWindowSize(80, 24), tea.WithColorProfile(colorprofile.Ascii)}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !bytes.Contains(out.Bytes(), []byte("loupe")) {
		t.Fatalf("nothing rendered: %q", out.String())
	}
}
