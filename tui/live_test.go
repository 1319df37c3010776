package tui

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
	"github.com/loupe-dev/loupe/store"
)

// putSignal stores one signal line, as the intake pipeline would.
func putSignal(t testing.TB, st *store.Store, line string) {
	t.Helper()
	sg, err := loop.DecodeSignal([]byte(line))
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if sg, err = loop.PrepareSignal(sg); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PutRecords([]store.Record{store.NewSignalRecord(sg)}); err != nil {
		t.Fatal(err)
	}
}

// signalAt is a signal line about id at t.
func signalAt(sid, id string, t time.Time, source, feedback string) string {
	src := ""
	if source != "" {
		src = fmt.Sprintf(`,"source":%q`, source)
	}
	return fmt.Sprintf(`{"kind":"signal","signal_id":%q,"event_id":%q,"timestamp":%q%s,%s}`, sid, id, t.Format(time.RFC3339), src, feedback)
}

// evt031 is when testEvents(nEvents) has evt-031 happen.
var evt031 = t0.Add(-5 * 37 * time.Minute)

// The README's worked example, on evt-031: a thumb down with a reason, a
// thumb up that replaces it, a conversion days later, and a judge's score
// that came before the interaction was logged.
func timelineSignals(t testing.TB, st *store.Store) {
	putSignal(t, st, signalAt("s-31-1", "evt-031", evt031.Add(40*time.Second), "user", `"explicit_feedback":{"thumb":"down","reason_codes":["irrelevant"]}`))
	putSignal(t, st, signalAt("s-31-2", "evt-031", evt031.Add(3*time.Minute), "user", `"explicit_feedback":{"thumb":"up"}`))
	putSignal(t, st, signalAt("s-31-3", "evt-031", evt031.Add(3*24*time.Hour+(100*time.Minute)), "shop", `"business":{"converted":true,"cost_usd":0.0042}`))
	putSignal(t, st, signalAt("s-31-0", "evt-031", evt031.Add(-5*time.Minute), "", `"automated_checks":{"hallucination":0.12},"implicit_feedback":{"dwell_ms":4200,"copied":false}`))
}

func TestGoldenTimeline(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {160, 45}} {
		t.Run(fmt.Sprintf("item_timeline_%dx%d", size[0], size[1]), func(t *testing.T) {
			st, _ := openStore(t, nEvents)
			timelineSignals(t, st)
			h := newHarness(t, st, size[0], size[1])
			h.m.inbox.selectID("evt-031")
			h.press("enter")
			if size[1] < 30 {
				h.press("j", "j", "j", "j", "j", "j", "j", "j", "j", "j")
			}
			v := plain(h.m)
			for _, want := range []string{"Timeline", "-5m    (no source)  hallucination 0.12 · not copied · dwell 4.2s",
				"06:25         interaction  asr-large-2", "+40s   user         thumb down · reasons irrelevant",
				"+3m    user         thumb up", "11-23 08:05  +3d1h  shop         converted · cost usd 0.0042"} {
				if !strings.Contains(v, want) {
					t.Errorf("the timeline lacks %q:\n%s", want, v)
				}
			}
			golden.RequireEqual(t, ascii(t, h.m.View().Content))
		})
	}
}

func TestOffset(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{40 * time.Second, "+40s"}, {3 * time.Minute, "+3m"}, {3*time.Minute + 5*time.Second, "+3m05s"},
		{2*time.Hour + 7*time.Minute, "+2h07m"}, {72 * time.Hour, "+3d"}, {80*time.Hour + 30*time.Minute, "+3d8h"},
		{-5 * time.Minute, "-5m"}, {0, "+0s"},
	} {
		if got := offset(c.d); got != c.want {
			t.Errorf("offset(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

// A session following the store (as in `loupe serve`) sees signals,
// new interactions and erasures land: the inbox row, the open item's
// fields and timeline, the filter and the count follow, and no store call
// runs in Update (the harness runs the commands).
func TestLiveMergedViewRefresh(t *testing.T) {
	st, _ := openStore(t, nEvents)
	ch, stop := st.Watch()
	defer stop()
	h := newHarness(t, st, 120, 30)
	closed := make(chan store.Change)
	close(closed)
	h.root = Watching(h.m, closed)
	pump := func() {
		t.Helper()
		var cs []store.Change
		for {
			select {
			case c := <-ch:
				cs = append(cs, c)
				continue
			default:
			}
			break
		}
		if len(cs) == 0 {
			t.Fatal("the store sent no change")
		}
		h.send(ChangeMsg{Changes: cs})
	}
	id := "evt-032" // no thumb (testEvents: i%3 == 2)
	row := func(id string) string {
		i, ok := h.m.ws.items.Find(id)
		if !ok {
			return ""
		}
		return ansi.Strip(h.m.inbox.rowView(int32(i), rowColumns(120, false), false))
	}
	before := row(id)
	if strings.Contains(before, "▼") || strings.Contains(before, "irrelevant") {
		t.Fatalf("row before the signal: %q", before)
	}
	h.m.inbox.selectID(id)
	h.press("enter")
	putSignal(t, st, signalAt("s-32-1", id, t0.Add(-time.Hour), "user", `"explicit_feedback":{"thumb":"down","reason_codes":["irrelevant"]}`))
	pump()
	if r := row(id); !strings.Contains(r, "▼") || !strings.Contains(r, "irrelevant") {
		t.Fatalf("inbox row after a thumbs-down signal: %q (before %q)", r, before)
	}
	if v := plain(h.m); !strings.Contains(v, "+1h28m  user         thumb down · reasons irrelevant") || !strings.Contains(v, "▼ down") {
		t.Fatalf("open item after the signal:\n%s", v)
	}
	// serve samples what lands: the queue entry shows in To review.
	if _, err := st.Enqueue([]loop.QueueItem{{EventID: id, Day: "2026-11-20", Why: []string{"thumbs_down"}, At: t0}}); err != nil {
		t.Fatal(err)
	}
	pump()
	if len(h.m.ws.queueRows) != 1 || h.m.ws.items.ID(int(h.m.ws.queueRows[0])) != id || !strings.Contains(plain(h.m), "sampled  thumbs_down") {
		t.Fatalf("queue rows after Enqueue: %v\n%s", h.m.ws.queueRows, plain(h.m))
	}
	h.press("esc")
	if !strings.Contains(plain(h.m), "1 / 1 · 0 left") {
		t.Fatalf("To review after Enqueue:\n%s", plain(h.m))
	}
	h.press("h") // All: the rest of this test counts every item
	// The filter searches the new index: thumb:down finds it.
	h.press("/")
	h.typeText("thumb:down reason:irrelevant")
	h.press("enter")
	if got := h.selected(); got != id || len(h.m.inbox.rows) != 1 {
		t.Fatalf("thumb:down reason:irrelevant selects %q among %d rows", got, len(h.m.inbox.rows))
	}
	h.press("esc")
	header := func() string { return strings.SplitN(plain(h.m), "\n", 3)[1] }
	n := h.m.ws.items.Len()
	if !strings.Contains(header(), fmt.Sprintf("of %d", n)) {
		t.Fatalf("header before: %q", header())
	}

	// A new interaction lands on top (newest first); the count follows.
	ev := testEvents(1)[0]
	ev.EventID, ev.Timestamp = "evt-new", t0.Add(-time.Minute)
	if _, err := st.PutEvents([]*loop.Event{ev}); err != nil {
		t.Fatal(err)
	}
	h.m.inbox.selectID("evt-020")
	pump()
	if h.m.ws.items.Len() != n+1 || h.m.ws.items.ID(0) != "evt-new" || h.m.ws.rowOf("evt-new") != 0 {
		t.Fatalf("after a new interaction: %d items, first %s", h.m.ws.items.Len(), h.m.ws.items.ID(0))
	}
	if got := h.selected(); got != "evt-020" {
		t.Fatalf("the selection moved to %q", got)
	}
	if !strings.Contains(header(), fmt.Sprintf("of %d", n+1)) {
		t.Fatalf("header after a new interaction: %q", header())
	}
	for i := range h.m.ws.items.Len() {
		id := h.m.ws.items.ID(i)
		want, err := st.Summary(id)
		if got := h.m.ws.items.At(i); err != nil || !reflect.DeepEqual(got, want) || h.m.ws.rowOf(id) != int32(i) {
			t.Fatalf("item %d out of step with the store (%v):\n got %+v\nwant %+v", i, err, got, want)
		}
	}

	// Consent withdrawn: the item is erased from the list and the open
	// item screen says so; the marks still belong to their items.
	h.m.ws.Grade("evt-010", loop.GradeFail)
	h.m.inbox.selectID(id)
	h.press("enter")
	putSignal(t, st, signalAt("s-32-2", id, t0, "user", `"consent":{"analytics":false}`))
	pump()
	if _, ok := h.m.ws.items.Find(id); ok || h.m.ws.items.Len() != n {
		t.Fatalf("erased item still listed (%d items)", h.m.ws.items.Len())
	}
	if v := plain(h.m); !strings.Contains(v, "erased") {
		t.Fatalf("open item after its erasure:\n%s", v)
	}
	h.press("f")
	if _, ok := h.label(id); ok || !strings.Contains(plain(h.m), "nothing left to grade") {
		t.Fatalf("an erased item was graded:\n%s", plain(h.m))
	}
	if mk := h.m.ws.Mark(h.m.ws.rowOf("evt-010")); mk&filter.Mine == 0 {
		t.Fatalf("evt-010 lost its mark: %b", mk)
	}
	h.press("esc")
	for _, r := range h.m.inbox.rows {
		if h.m.ws.items.ID(int(r)) == id {
			t.Fatal("the erased item is still a row of the inbox")
		}
	}
	if !strings.Contains(header(), fmt.Sprintf("%d of %d", n, n)) { // n+1 items, one erased
		t.Fatalf("inbox after the erasure (header %q):\n%s", header(), plain(h.m))
	}
}

func TestLeavesText(t *testing.T) {
	long := strings.Repeat("word ", 20)
	for _, c := range []struct {
		leaves []loop.Leaf
		want   string
	}{
		{[]loop.Leaf{{Path: loop.ThumbUnit, Value: []byte(`{"thumb":"down","reason_codes":["a","b"],"reason_text":"meh"}`)}}, `thumb down · reasons a,b · "meh"`},
		{[]loop.Leaf{{Path: loop.ThumbUnit, Value: []byte(`{}`)}}, "thumb cleared"},
		{[]loop.Leaf{{Path: "business.converted", Value: []byte("false")}, {Path: "business.turns", Value: nil}}, "not converted · turns cleared"},
		{[]loop.Leaf{{Path: "consent.training", Value: []byte("false")}, {Path: "consent.analytics", Value: []byte("true")}}, "training consent withdrawn · analytics consent given"},
		{[]loop.Leaf{{Path: "implicit_feedback.dwell_ms", Value: []byte("4197")}, {Path: "business.time_to_success_ms", Value: []byte("50379")}}, "dwell 4.2s · time to success 50s"},
		{[]loop.Leaf{{Path: "explicit_feedback.user_edit", Value: []byte(`"` + long + `"`)}}, `user edit "` + strings.TrimSpace(long[:59]) + `…"`},
		{[]loop.Leaf{{Path: "automated_checks.judge", Value: []byte(`{"score":3}`)}}, `judge {"score":3}`},
	} {
		if got := leavesText(c.leaves); got != c.want {
			t.Errorf("leavesText(%v) = %q, want %q", c.leaves, got, c.want)
		}
	}
}
