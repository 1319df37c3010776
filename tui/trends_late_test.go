package tui

import (
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
)

// TestTrendsShowLateData: signals dated on a day after their interaction's
// revise that day, and the Trends screen says so; without them it says
// nothing (the goldens have no signals).
func TestTrendsShowLateData(t *testing.T) {
	st, _ := openStore(t, nEvents)
	seedReviewLoop(t, st)
	// evt-000 and evt-001 are from 2026-11-19; evt-035 from 11-20.
	var recs []store.Record
	for _, line := range []string{
		`{"kind":"signal","signal_id":"s-0","event_id":"evt-000","timestamp":"2026-11-20T10:00:00Z","business":{"converted":true}}`,
		`{"kind":"signal","signal_id":"s-1","event_id":"evt-001","timestamp":"2026-11-21T10:00:00Z","explicit_feedback":{"thumb":"down"}}`,
		`{"kind":"signal","signal_id":"s-2","event_id":"evt-035","timestamp":"2026-11-20T10:00:00Z","explicit_feedback":{"thumb":"up"}}`,
	} {
		sg, err := loop.DecodeSignal([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		if sg, err = loop.PrepareSignal(sg); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, store.NewSignalRecord(sg))
	}
	if _, err := st.PutRecords(recs); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, 160, 45)
	h.press("tab", "tab", "tab")
	v := plain(h.m)
	want := "late data: 2 signals revised 1 past day after it ended (most recent 2026-11-19: 2); recent days may still move"
	if !strings.Contains(v, want) {
		t.Fatalf("trends lack %q:\n%s", want, v)
	}
}

func TestTrendsNoLateLineWithoutLateSignals(t *testing.T) {
	st, _ := openStore(t, nEvents)
	seedReviewLoop(t, st)
	h := newHarness(t, st, 160, 45)
	h.press("tab", "tab", "tab")
	if v := plain(h.m); !strings.Contains(v, "Goal") || strings.Contains(v, "late data") {
		t.Fatalf("want the goal and no late-data line:\n%s", v)
	}
}
