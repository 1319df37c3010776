package store

import (
	"errors"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

func derived(t *testing.T, id, out string, at time.Time) Record {
	t.Helper()
	r, err := NewRecord(&loop.Event{EventID: id, Timestamp: at, ModelVersion: "m", Output: &loop.Output{Text: out}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestPutTraceReplaces(t *testing.T) {
	s := openT(t)
	const id = "0af7651916cd43dd8448eb211c80319c"
	t1 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	st, _, err := s.PutTrace([]SpanBody{{TraceID: id, SpanID: "b2", Body: []byte(`{"s":2}`)}}, []Record{derived(t, id, "first", t1)})
	if err != nil || st[0] != Stored {
		t.Fatalf("%v %v", st, err)
	}
	// A parent that started earlier arrives: the timestamp moves, the old
	// version goes.
	t0 := t1.Add(-time.Second)
	st, _, err = s.PutTrace([]SpanBody{{TraceID: id, SpanID: "a1", Body: []byte(`{"s":1}`)}}, []Record{derived(t, id, "second", t0)})
	if err != nil || st[0] != Stored {
		t.Fatalf("%v %v", st, err)
	}
	st, _, _ = s.PutTrace(nil, []Record{derived(t, id, "second", t0)})
	if st[0] != Duplicate {
		t.Errorf("unchanged: %v", st)
	}
	ev, err := s.Event(id)
	if err != nil || ev.Output.Text != "second" || !ev.Timestamp.Equal(t0) {
		t.Fatalf("event %+v %v", ev, err)
	}
	if n, _ := s.Count(); n != 1 {
		t.Errorf("%d events, want 1", n)
	}
	spans, err := s.TraceSpans(id)
	if err != nil || len(spans) != 2 || string(spans[0]) != `{"s":1}` {
		t.Errorf("spans %q %v", spans, err)
	}
	// Erasure takes the spans too, so no later span brings it back.
	if n, err := s.erase([]erased{{id: id, ts: tsBytes(nil, t0)}}); err != nil || n != 1 {
		t.Fatal(n, err)
	}
	if spans, _ := s.TraceSpans(id); len(spans) != 0 {
		t.Errorf("%d spans left after erasure", len(spans))
	}
}

func TestPutTraceLeavesOtherSources(t *testing.T) {
	s := openT(t)
	const id = "1af7651916cd43dd8448eb211c80319c"
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	if _, err := s.PutRecords([]Record{derived(t, id, "from jsonl", at)}); err != nil {
		t.Fatal(err)
	}
	st, _, err := s.PutTrace(nil, []Record{derived(t, id, "from spans", at)})
	if err != nil || st[0] != Conflict {
		t.Fatalf("%v %v", st, err)
	}
	if ev, _ := s.Event(id); ev.Output.Text != "from jsonl" {
		t.Errorf("stored event replaced: %q", ev.Output.Text)
	}
	if err := s.DeleteTrace(id); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.TraceSpans(id); !errors.Is(err, ErrClosed) {
		t.Errorf("closed store: %v", err)
	}
}
