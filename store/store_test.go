package store

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

func openT(t *testing.T) *Store {
	t.Helper()
	st, err := Open(t.TempDir(), Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func ev(id string, t time.Time, text string) *loop.Event {
	down := "down"
	return &loop.Event{EventID: id, Timestamp: t, ModelVersion: "m1", UserSegment: "pro",
		Input:    &loop.Input{Text: text},
		Explicit: &loop.Explicit{Thumb: &down, ReasonCodes: []string{"factual_error"}}}
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func TestPutEventsIdempotent(t *testing.T) {
	st := openT(t)
	evs := []*loop.Event{ev("b", t0.Add(time.Hour), "second"), ev("a", t0, "first"), ev("a", t0, "first")}
	got, err := st.PutEvents(evs)
	if err != nil {
		t.Fatal(err)
	}
	if want := []PutStatus{Stored, Stored, Duplicate}; !equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	got, err = st.PutEvents([]*loop.Event{ev("a", t0, "first"), ev("b", t0.Add(time.Hour), "changed"), ev("c", t0.Add(-time.Hour), "zeroth")})
	if err != nil {
		t.Fatal(err)
	}
	if want := []PutStatus{Duplicate, Conflict, Stored}; !equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	e, err := st.Event("b")
	if err != nil || e.Input.Text != "second" {
		t.Fatalf("conflict must leave the stored event untouched: %v %+v", err, e)
	}
	var ids []string
	if err := st.Summaries(func(s loop.Summary) bool { ids = append(ids, s.ID); return true }); err != nil {
		t.Fatal(err)
	}
	if strings.Join(ids, ",") != "c,a,b" {
		t.Errorf("summaries not in time order: %v", ids)
	}
	if n, _ := st.Count(); n != 3 {
		t.Errorf("count %d", n)
	}
	if _, err := st.Event("zzz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing event: %v", err)
	}
}

func equal(a, b []PutStatus) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSummaryRoundTrip(t *testing.T) {
	conf := 0.5
	yes := true
	e := ev("x", t0, "hello\nworld")
	lat := 812.0
	e.Output = &loop.Output{Confidence: &conf, LatencyMS: &lat}
	e.Business = &loop.Business{Resolved: &yes}
	e.Implicit = &loop.Implicit{Escalated: &yes}
	e.Explicit.UserEdit = "fixed"
	e.Locale, e.TaskType = "de-DE", "qa"
	want := loop.Summarize(e)
	var got loop.Summary
	if err := decodeSummary(encodeSummary(nil, &want), "x", t0, &got); err != nil {
		t.Fatal(err)
	}
	if got.Snippet != "hello world" || !got.Escalated || !got.Edited || got.Confidence != 0.5 ||
		got.Reasons[0] != "factual_error" || got.LatencyMS != 812 || got.Resolved != 1 || got.Locale != "de-DE" || got.Thumb != loop.ThumbDown || !got.Time.Equal(t0) {
		t.Errorf("round trip: %+v", got)
	}
	if err := decodeSummary([]byte{1, 2}, "x", t0, &got); err == nil {
		t.Error("short record decoded")
	}
}

func TestTimeOrderBefore1970(t *testing.T) {
	old := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
	if bytes.Compare(tsBytes(nil, old), tsBytes(nil, t0)) >= 0 {
		t.Fatal("1950 sorts after 2026")
	}
	if !tsFrom(tsBytes(nil, old)).Equal(old) {
		t.Fatal("round trip")
	}
}

func TestLabelsAndHistory(t *testing.T) {
	st := openT(t)
	if _, err := st.PutEvents([]*loop.Event{ev("a", t0, "x")}); err != nil {
		t.Fatal(err)
	}
	put := func(rev string, g loop.Grade, at time.Duration, del bool) {
		t.Helper()
		if err := st.PutLabel(loop.Label{EventID: "a", Reviewer: rev, Grade: g, At: t0.Add(at), Deleted: del}); err != nil {
			t.Fatal(err)
		}
	}
	put("ann", loop.GradeFail, 1, false)
	put("bob", loop.GradePass, 2, false)
	put("ann", loop.GradeBorderline, 3, false) // replaces ann's fail
	ls, _ := st.Labels("a")
	if len(ls) != 2 || ls[0].Reviewer != "ann" || ls[0].Grade != loop.GradeBorderline || ls[1].Grade != loop.GradePass {
		t.Fatalf("current labels %+v", ls)
	}
	put("bob", loop.GradePass, 4, true) // bob withdraws
	ls, _ = st.Labels("a")
	if len(ls) != 1 {
		t.Fatalf("after withdraw %+v", ls)
	}
	h, _ := st.History("a")
	if len(h) != 4 || h[0].Grade != loop.GradeFail || !h[3].Deleted {
		t.Fatalf("history %+v", h)
	}
	if err := st.PutLabel(loop.Label{EventID: "nope", Reviewer: "ann", Grade: loop.GradePass}); !errors.Is(err, ErrNotFound) {
		t.Errorf("label on missing event: %v", err)
	}
}

func TestSets(t *testing.T) {
	st := openT(t)
	st.PutEvents([]*loop.Event{ev("a", t0, "x"), ev("b", t0, "y")})
	if err := st.PutSetEntry(loop.SetEntry{EventID: "b", Kind: loop.SetRedFlag, MustNotContain: []string{"guarantee"}}); err != nil {
		t.Fatal(err)
	}
	st.PutSetEntry(loop.SetEntry{EventID: "a", Kind: loop.SetGolden, Reference: "ref"})
	var red []loop.SetEntry
	st.SetEntries(loop.SetRedFlag, func(e loop.SetEntry) error { red = append(red, e); return nil })
	if len(red) != 1 || red[0].EventID != "b" || red[0].MustNotContain[0] != "guarantee" {
		t.Fatalf("red %+v", red)
	}
	if err := st.RemoveSetEntry(loop.SetGolden, "b"); !errors.Is(err, ErrNotFound) {
		t.Errorf("removing a non-member: %v", err)
	}
	if err := st.RemoveSetEntry(loop.SetRedFlag, "b"); err != nil {
		t.Fatal(err)
	}
}

func TestForget(t *testing.T) {
	st := openT(t)
	uh := st.UserHash("u-1")
	if uh == st.UserHash("u-2") || len(uh) != 32 {
		t.Fatalf("user hash %q", uh)
	}
	a, b := ev("a", t0, "mine"), ev("b", t0, "theirs")
	a.UserHash, b.UserHash = uh, st.UserHash("u-2")
	st.PutEvents([]*loop.Event{a, b})
	st.PutLabel(loop.Label{EventID: "a", Reviewer: "ann", Grade: loop.GradeFail, At: t0})
	st.PutSetEntry(loop.SetEntry{EventID: "a", Kind: loop.SetGolden})
	n, err := st.Forget(uh)
	if err != nil || n != 1 {
		t.Fatalf("forget: %d %v", n, err)
	}
	if ok, _ := st.Has("a"); ok {
		t.Error("event a still there")
	}
	if ok, _ := st.Has("b"); !ok {
		t.Error("other user's event gone")
	}
	ls, _ := st.Labels("a")
	h, _ := st.History("a")
	var gold int
	st.SetEntries(loop.SetGolden, func(loop.SetEntry) error { gold++; return nil })
	if len(ls)+len(h)+gold != 0 {
		t.Errorf("labels %v history %v golden %d left", ls, h, gold)
	}
	if n, _ := st.Count(); n != 1 {
		t.Errorf("count %d", n)
	}
}

func TestSecondProcessIsTold(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{Holder: "loupe serve"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	_, err = Open(dir, Options{})
	var le *LockedError
	if !errors.As(err, &le) || !strings.Contains(le.Error(), "loupe serve (pid ") {
		t.Fatalf("want LockedError naming the holder, got %v", err)
	}
}

func TestClosedStore(t *testing.T) {
	st, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	if err := st.Close(); err != nil {
		t.Errorf("second close: %v", err)
	}
	if _, err := st.PutEvents([]*loop.Event{ev("a", t0, "x")}); !errors.Is(err, ErrClosed) {
		t.Errorf("put on closed store: %v", err)
	}
}

func TestReopenKeepsSecretAndData(t *testing.T) {
	dir := t.TempDir()
	st, _ := Open(dir, Options{})
	h := st.UserHash("u")
	st.PutEvents([]*loop.Event{ev("a", t0, "x")})
	st.Close()
	if _, err := os.Stat(filepath.Join(dir, holderFile)); !os.IsNotExist(err) {
		t.Error("holder file left after close")
	}
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.UserHash("u") != h {
		t.Error("secret changed across reopen")
	}
	if ok, _ := st.Has("a"); !ok {
		t.Error("event lost")
	}
}

func TestWatchSeesLabelsAndSets(t *testing.T) {
	st := openT(t)
	st.PutEvents([]*loop.Event{ev("a", t0, "x")})
	ch, stop := st.Watch()
	st.PutLabel(loop.Label{EventID: "a", Reviewer: "ann", Grade: loop.GradePass, At: t0})
	st.PutSetEntry(loop.SetEntry{EventID: "a", Kind: loop.SetGolden})
	st.RemoveSetEntry(loop.SetGolden, "a")
	c1, c2, c3 := <-ch, <-ch, <-ch
	if c1.Label == nil || c1.Label.Reviewer != "ann" || c2.Set != loop.SetGolden || c2.Removed || !c3.Removed {
		t.Fatalf("changes %+v %+v %+v", c1, c2, c3)
	}
	stop()
	stop()
	if _, ok := <-ch; ok {
		t.Fatal("channel open after stop")
	}
	st.PutLabel(loop.Label{EventID: "a", Reviewer: "bob", Grade: loop.GradePass, At: t0}) // no panic on a stopped watch
}

func TestQueueNeverTwice(t *testing.T) {
	st := openT(t)
	st.PutEvents([]*loop.Event{ev("a", t0, "x"), ev("b", t0, "y")})
	n, err := st.Enqueue([]loop.QueueItem{{EventID: "a", Why: []string{"thumbs_down"}}, {EventID: "gone"}})
	if err != nil || n != 1 {
		t.Fatalf("enqueue: %d %v", n, err)
	}
	n, _ = st.Enqueue([]loop.QueueItem{{EventID: "a", Why: []string{"random"}}, {EventID: "b", Why: []string{"random"}}})
	if n != 1 {
		t.Fatalf("second enqueue added %d", n)
	}
	var got []loop.QueueItem
	st.Queued(func(it loop.QueueItem) error { got = append(got, it); return nil })
	if len(got) != 2 || got[0].Why[0] != "thumbs_down" {
		t.Fatalf("queue %+v", got)
	}
}

func TestAllSummariesInTimeOrder(t *testing.T) {
	st := openT(t)
	var evs []*loop.Event
	for i := 0; i < 500; i++ {
		// Out of order on purpose, with equal times too.
		evs = append(evs, ev(fmt.Sprintf("e%03d", i), t0.Add(time.Duration((i*7919)%500/2)*time.Minute), "x"))
	}
	if _, err := st.PutEvents(evs); err != nil {
		t.Fatal(err)
	}
	var want []string
	st.Summaries(func(s loop.Summary) bool { want = append(want, s.ID); return true })
	all, err := st.AllSummaries()
	if err != nil || len(all) != 500 {
		t.Fatalf("%d summaries, %v", len(all), err)
	}
	for i := range all {
		if all[i].ID != want[i] {
			t.Fatalf("order differs at %d: %s vs %s", i, all[i].ID, want[i])
		}
	}
	empty := openT(t)
	if all, err := empty.AllSummaries(); err != nil || len(all) != 0 {
		t.Fatalf("empty store: %v %v", all, err)
	}
}

func TestIDFilterNeverHidesAStoredEvent(t *testing.T) {
	dir := t.TempDir()
	st, _ := Open(dir, Options{})
	var evs []*loop.Event
	for i := 0; i < 3000; i++ {
		evs = append(evs, ev(fmt.Sprintf("id-%d", i), t0.Add(time.Duration(i)*time.Second), "x"))
	}
	st.PutEvents(evs[:2000])
	st.Close()
	// A new process: the filter is built from the stored index.
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	changed := ev("id-5", t0.Add(5*time.Second), "changed")
	got, err := st.PutEvents(append([]*loop.Event{changed}, evs[1000:]...))
	if err != nil {
		t.Fatal(err)
	}
	if got[0] != Conflict {
		t.Fatalf("a stored id was not found: %v", got[0])
	}
	for i, s := range got[1:] {
		want := Duplicate
		if i >= 1000 {
			want = Stored
		}
		if s != want {
			t.Fatalf("event %d: %v, want %v", 1000+i, s, want)
		}
	}
	if n, _ := st.Count(); n != 3000 {
		t.Fatalf("count %d", n)
	}
	f := newIDFilter(100)
	for i := 0; i < 100; i++ {
		f.add(fmt.Sprint(i))
	}
	for i := 0; i < 100; i++ {
		if !f.mayContain(fmt.Sprint(i)) {
			t.Fatalf("false negative for %d", i)
		}
	}
}

// ChangedOf is Summary and Labels for many ids in one read: the same
// summaries, in the order asked, with missing ids skipped and the label
// seek not fooled by an id that is a prefix of another. PutRecordsChanged
// reports the same for what it writes, without the read.
func TestChangedOfMatchesSummaryAndLabels(t *testing.T) {
	st := openT(t)
	if _, err := st.PutEvents([]*loop.Event{ev("a", t0, "one"), ev("ab", t0.Add(time.Minute), "two"), ev("b", t0.Add(-time.Hour), "three")}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutLabel(loop.Label{EventID: "ab", Reviewer: "ann", Grade: loop.GradePass, At: t0}); err != nil {
		t.Fatal(err)
	}
	ids := []string{"b", "gone", "ab", "a"}
	chg, err := st.ChangedOf(ids)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range chg {
		want, err := st.Summary(c.Summary.ID)
		if err != nil {
			t.Fatal(err)
		}
		ls, err := st.Labels(c.Summary.ID)
		if err != nil {
			t.Fatal(err)
		}
		if c.Summary.Snippet != want.Snippet || !c.Summary.Time.Equal(want.Time) || c.Labelled != (len(ls) > 0) || ids[c.Record] != c.Summary.ID {
			t.Errorf("%s: got %+v labelled %v, want %+v labelled %v", c.Summary.ID, c, c.Labelled, want, len(ls) > 0)
		}
		got = append(got, c.Summary.ID)
	}
	if strings.Join(got, ",") != "b,ab,a" {
		t.Fatalf("ids %v, want b,ab,a", got)
	}

	// A late signal for "ab" (labelled) and one for "a", and a new
	// interaction "c": PutRecordsChanged reports all three as ChangedOf
	// reads them back.
	recs := []Record{signalRec(t, `{"kind":"signal","signal_id":"s1","event_id":"ab","timestamp":"2026-11-01T12:02:00Z","explicit_feedback":{"thumb":"up"}}`),
		mustRecord(t, ev("c", t0.Add(3*time.Minute), "four")),
		signalRec(t, `{"kind":"signal","signal_id":"s2","event_id":"a","timestamp":"2026-11-01T12:04:00Z","explicit_feedback":{"thumb":"up"}}`)}
	_, put, err := st.PutRecordsChanged(recs)
	if err != nil {
		t.Fatal(err)
	}
	var putIDs []string
	for _, c := range put {
		putIDs = append(putIDs, c.Summary.ID)
		if recs[c.Record].ID != c.Summary.ID {
			t.Errorf("%s reported at record %d (%s)", c.Summary.ID, c.Record, recs[c.Record].ID)
		}
	}
	back, err := st.ChangedOf(putIDs)
	if err != nil {
		t.Fatal(err)
	}
	if len(put) != 3 || len(back) != 3 {
		t.Fatalf("PutRecordsChanged reported %v, want ab, c and a", putIDs)
	}
	for i := range put {
		p, b := put[i], back[i]
		if p.Summary.ID != b.Summary.ID || p.Summary.Thumb != b.Summary.Thumb || p.Labelled != b.Labelled || !p.Summary.Time.Equal(b.Summary.Time) {
			t.Errorf("reported %+v, stored %+v", p, b)
		}
	}
	if !put[0].Labelled || put[1].Labelled || put[2].Labelled {
		t.Errorf("labelled: %v %v %v, want only ab", put[0].Labelled, put[1].Labelled, put[2].Labelled)
	}
}

func mustRecord(t *testing.T, e *loop.Event) Record {
	t.Helper()
	r, err := NewRecord(e)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The id filter at its capacity (16 bits per id, the point where full
// rebuilds it): no false negatives, and few enough false positives that
// it still saves nearly every lookup of a new id.
func TestIDFilterAtCapacity(t *testing.T) {
	const n = 1 << 19 // 2^17 words: newIDFilter's smallest, 16 bits for each of 2^19 ids
	f := newIDFilter(n)
	for i := range n {
		f.add("ev-" + strconv.Itoa(i))
	}
	if f.full() {
		t.Fatalf("full at %d ids", n)
	}
	for i := range n {
		if !f.mayContain("ev-" + strconv.Itoa(i)) {
			t.Fatalf("false negative for ev-%d", i)
		}
	}
	fp := 0
	const probes = 200_000
	for i := range probes {
		if f.mayContain("new-" + strconv.Itoa(i)) {
			fp++
		}
	}
	if rate := float64(fp) / probes; rate > 0.006 {
		t.Errorf("false positives %.3f%% of new ids, want under 0.6%%", 100*rate)
	} else {
		t.Logf("false positives %.3f%%", 100*rate)
	}
}
