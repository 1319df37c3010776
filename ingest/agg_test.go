package ingest

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/sample"
)

// keepDown keeps thumbs-down interactions only (edge sampling).
func keepDown(s *loop.Summary) bool { return s.Thumb == loop.ThumbDown }

func TestEdgeSamplingOutcomes(t *testing.T) {
	st := openStore(t)
	st.SetKeep(keepDown)
	p := New(st, PipelineOptions{})
	down := `{"kind":"signal","signal_id":"b1","event_id":"b","timestamp":"2026-10-01T11:01:00Z","explicit_feedback":{"thumb":"down"}}`
	outs, sum := submit(t, p, iA, sA1, sA2, iB, sA2)
	// a is kept (its thumbs-down came in the same batch); b is not, and
	// its later thumb is counted in the aggregates only.
	if got := statuses(outs); got != "accepted accepted accepted aggregated duplicate" {
		t.Fatalf("statuses %s", got)
	}
	if sum.Accepted != 1 || sum.Signals != 2 || sum.Aggregated != 1 || sum.Dropped != 0 || sum.Duplicates != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if outs, sum = submit(t, p, down); outs[0].Status != Aggregated || sum.Aggregated != 1 {
		t.Fatalf("thumb for unkept b: %s %+v", statuses(outs), sum)
	}
	dwell := `{"kind":"signal","signal_id":"b2","event_id":"b","timestamp":"2026-10-01T11:02:00Z","implicit_feedback":{"dwell_ms":5}}`
	outs, sum = submit(t, p, dwell, dwell)
	if got := statuses(outs); got != "dropped duplicate" || sum.Dropped != 1 || sum.Duplicates != 1 {
		t.Fatalf("a signal carrying nothing counted: %s %+v", got, sum)
	}
	if got := stored(t, st); strings.Contains(got, `"event_id":"b"`) || !strings.Contains(got, `"event_id":"a"`) {
		t.Fatalf("stored: %s", got)
	}
	a, err := st.Aggregates()
	if err != nil || a.Events() != 1 {
		t.Fatalf("aggregates: %d %v", a.Events(), err)
	}
	for _, k := range a.Keys() {
		if c := a.Get(k); c.Down != 1 {
			t.Fatalf("b's thumb not counted: %+v", c)
		}
	}
}

func TestEdgeSamplingCollector(t *testing.T) {
	st := openStore(t)
	st.SetKeep(keepDown)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{})
	dwell := `{"kind":"signal","signal_id":"s1","event_id":"e1","timestamp":"2026-11-01T10:05:00Z","implicit_feedback":{"dwell_ms":5}}`
	r := post(t, c, ev("e1", "alice")+"\n"+ev("e2", "bob"), "")
	if r.code != 200 || r.ans.Aggregated != 2 || r.ans.Accepted != 0 || r.ans.Rejected != 0 || !strings.Contains(r.body, `"aggregated":2`) {
		t.Fatalf("unkept interactions: %d %s", r.code, r.body)
	}
	r = postPath(t, c, "/v1/signals", dwell)
	if r.code != 200 || r.ans.Dropped != 1 || len(r.ans.Errors) != 0 || !strings.Contains(r.body, `"dropped":1`) {
		t.Fatalf("dropped signal: %d %s", r.code, r.body)
	}
	rr := httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"loupe_unkept_interactions 2", "loupe_dropped_unkept_signals_total 1"} {
		if !strings.Contains(rr.Body.String(), want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, rr.Body.String())
		}
	}
}

// With the pipeline's own keep rules, an interaction not kept as it
// arrives is reduced on the worker and its body left uncompressed; a
// thumbs-down that waited for it makes it kept after all, and then it is
// stored in full, body and all, as without sampling.
func TestEdgeSamplingDecidedOnTheWorker(t *testing.T) {
	st := openStore(t)
	p := New(st, PipelineOptions{Keep: sample.Keep{{Name: "down", Kind: sample.KindThumbsDown, Share: 1}}})
	early := `{"kind":"signal","signal_id":"a0","event_id":"a","timestamp":"2026-10-01T10:30:00Z","explicit_feedback":{"thumb":"down"}}`
	if outs, _ := submit(t, p, early); outs[0].Status != Pending {
		t.Fatalf("early thumb: %s", statuses(outs))
	}
	outs, sum := submit(t, p, iA, iB)
	if got := statuses(outs); got != "accepted aggregated" || sum.Accepted != 1 || sum.Aggregated != 1 {
		t.Fatalf("statuses %s, summary %+v", got, sum)
	}
	ev, err := st.Event("a")
	if err != nil || ev.Input == nil || ev.Input.Text != "canary-a-input" || ev.ThumbValue() != loop.ThumbDown {
		t.Fatalf("kept a: %+v %v", ev, err)
	}
	if got := stored(t, st); strings.Contains(got, `"event_id":"b"`) {
		t.Fatalf("b is stored: %s", got)
	}
	// A redelivery of either is a duplicate.
	if outs, _ := submit(t, p, iA, iB); statuses(outs) != "duplicate duplicate" {
		t.Fatalf("redelivery: %s", statuses(outs))
	}
}
