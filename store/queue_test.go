package store

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/loupe-dev/loupe/loop"
)

// SetArrivals: the queue items picked of a write's new and changed events
// are stored with the records; an event already queued keeps its item and
// is not asked about again; what the picker sees is what ChangedOf reads
// back.
func TestArrivalsQueuedWithTheirRecords(t *testing.T) {
	st := openT(t)
	if _, err := st.PutEvents([]*loop.Event{ev("c", t0, "old")}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutLabel(loop.Label{EventID: "c", Reviewer: "ann", Grade: loop.GradePass, At: t0}); err != nil {
		t.Fatal(err)
	}
	write := 0
	seen := map[int][]Changed{}
	st.SetArrivals(func(c *Changed) (loop.QueueItem, bool) {
		seen[write] = append(seen[write], *c)
		// The EventID is the store's to set.
		return loop.QueueItem{EventID: "elsewhere", Why: []string{fmt.Sprint("write", write)}}, write != 1 || c.Summary.ID != "d"
	})
	write = 1
	recs := []Record{mustRecord(t, ev("a", t0, "one")), mustRecord(t, ev("b", t0, "two")), mustRecord(t, ev("d", t0, "three"))}
	if _, err := st.PutRecords(recs); err != nil {
		t.Fatal(err)
	}
	// Late signals for a (queued), c (labelled, not queued) and d (not
	// queued), and a duplicate of b (unchanged).
	write = 2
	recs = []Record{signalRec(t, `{"kind":"signal","signal_id":"s1","event_id":"a","timestamp":"2026-11-01T12:02:00Z","explicit_feedback":{"thumb":"down"}}`),
		signalRec(t, `{"kind":"signal","signal_id":"s2","event_id":"c","timestamp":"2026-11-01T12:03:00Z","explicit_feedback":{"thumb":"down"}}`),
		mustRecord(t, ev("b", t0, "two")),
		signalRec(t, `{"kind":"signal","signal_id":"s3","event_id":"d","timestamp":"2026-11-01T12:03:00Z","explicit_feedback":{"thumb":"down"}}`)}
	if _, err := st.PutRecords(recs); err != nil {
		t.Fatal(err)
	}
	show := func(chg []Changed) (out []string) {
		for _, c := range chg {
			out = append(out, fmt.Sprintf("%s:%v", c.Summary.ID, c.Labelled))
		}
		return out
	}
	if got := show(seen[1]); !slices.Equal(got, []string{"a:false", "b:false", "d:false"}) {
		t.Fatalf("first write showed %v", got)
	}
	if got := show(seen[2]); !slices.Equal(got, []string{"c:true", "d:false"}) {
		t.Fatalf("second write showed %v", got)
	}
	back, err := st.ChangedOf([]string{"c", "d"})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range seen[2] {
		b := back[i]
		if c.Summary.Thumb != loop.ThumbDown || c.Summary.Thumb != b.Summary.Thumb || c.Summary.Snippet != b.Summary.Snippet ||
			!c.Summary.Time.Equal(b.Summary.Time) || c.Labelled != b.Labelled {
			t.Errorf("picker saw %+v, stored %+v", c, b)
		}
	}
	got := map[string]string{}
	if err := st.Queued(func(it loop.QueueItem) error { got[it.EventID] = it.Why[0]; return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "write1", "b": "write1", "c": "write2", "d": "write2"}
	if !maps.Equal(got, want) {
		t.Fatalf("queue %v, want %v", got, want)
	}
}

// RecordOf puts a new interaction to the arrivals in the caller's
// goroutine; the writer takes that pick when the event is stored as it
// came, and asks again of the merged view when a signal waited for it.
func TestArrivalsPickedByRecordOf(t *testing.T) {
	st := openT(t)
	calls := 0
	st.SetArrivals(func(c *Changed) (loop.QueueItem, bool) {
		calls++
		return loop.QueueItem{Why: []string{"down"}}, c.Summary.Thumb == loop.ThumbDown
	})
	line := func(id string) []byte {
		return []byte(`{"event_id":"` + id + `","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","input":{"text":"q"},"output":{"text":"a"}}`)
	}
	// b's thumbs-down comes first and waits for it.
	early := signalRec(t, `{"kind":"signal","signal_id":"s1","event_id":"b","timestamp":"2026-11-01T10:01:00Z","explicit_feedback":{"thumb":"down"}}`)
	if got, err := st.PutRecords([]Record{early}); err != nil || got[0] != Pending {
		t.Fatalf("early signal: %v %v", got, err)
	}
	a, b := prepLine(t, st, line("a")), prepLine(t, st, line("b"))
	c := prepLine(t, st, []byte(`{"event_id":"c","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","input":{"text":"q"},"output":{"text":"a"},"explicit_feedback":{"thumb":"down"}}`))
	if calls != 3 || !a.picked || a.queued != nil || !b.picked || b.queued != nil || !c.picked || c.queued == nil {
		t.Fatalf("RecordOf: %d calls, picked %v %v %v, queued %q %q %q", calls, a.picked, b.picked, c.picked, a.queued, b.queued, c.queued)
	}
	if _, err := st.PutRecords([]Record{a, b, c}); err != nil {
		t.Fatal(err)
	}
	if calls != 4 {
		t.Fatalf("%d calls, want one more, for b merged with its thumbs-down", calls)
	}
	var got []string
	if err := st.Queued(func(it loop.QueueItem) error { got = append(got, it.EventID); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("queue %v, want b and c", got)
	}
}
