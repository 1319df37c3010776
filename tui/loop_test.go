package tui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
)

// trendEvents are four weeks of a summarizer: sum-2026.10 throughout,
// sum-2026.11 for the last nine days with four times the thumbs-down, so
// the guardrail names sum-2026.10 as the version to roll back to.
func trendEvents() []*loop.Event {
	var evs []*loop.Event
	add := func(model string, day, k int, down bool, reasons []string) {
		thumb := "up"
		if down {
			thumb = "down"
		}
		evs = append(evs, &loop.Event{
			EventID:      fmt.Sprintf("tr-%s-%02d-%02d", model[len(model)-2:], day, k),
			Timestamp:    t0.AddDate(0, 0, -day).Add(-time.Duration(k*7+30) * time.Minute),
			ModelVersion: model,
			UserSegment:  []string{"free", "pro"}[k%2],
			TaskType:     "summarization",
			Input:        &loop.Input{Text: "Summarize the incident report"},
			Output:       &loop.Output{Text: "The service was down for two hours.", LatencyMS: ptr(float64(400 + 20*k))},
			Explicit:     &loop.Explicit{Thumb: ptr(thumb), ReasonCodes: reasons},
		})
	}
	for day := 0; day < 28; day++ {
		for k := 0; k < 12; k++ {
			down := (k+day)%8 == 0
			var rs []string
			if down {
				rs = []string{"too_long"}
			}
			add("sum-2026.10", day, k, down, rs)
		}
	}
	for day := 0; day < 9; day++ {
		for k := 0; k < 12; k++ {
			down := (k+day)%12 < 5
			var rs []string
			if down {
				rs = []string{[]string{"factual_error", "missing_info"}[k%2]}
			}
			add("sum-2026.11", day, k, down, rs)
		}
	}
	return evs
}

// seedReviewLoop fills a test store the way the review loop does: trend
// events, two reviewers' labels that partly disagree, curated sets and a
// sampled review queue (one item for alice and bob, one for bob and
// carol, the rest unassigned).
func seedReviewLoop(t testing.TB, st *store.Store) {
	t.Helper()
	if _, err := st.PutEvents(trendEvents()); err != nil {
		t.Fatal(err)
	}
	var ls []loop.Label
	lab := func(id, who string, g loop.Grade, at time.Time, reasons ...string) {
		l, err := loop.NewLabel(id, who, g, reasons, "", "", at)
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	for i := 0; i < 12; i++ {
		id := fmt.Sprintf("evt-%03d", i)
		at := t0.Add(-time.Duration(24-i) * time.Minute)
		lab(id, "bob", loop.GradePass, at)
		g := loop.GradePass
		if i%4 == 1 {
			g = loop.GradeFail
		}
		lab(id, "carol", g, at.Add(20*time.Second), "factual_error")
	}
	for day := 0; day < 9; day++ {
		lab(fmt.Sprintf("tr-11-%02d-00", day), "bob", loop.GradeFail, t0.Add(-time.Hour).Add(time.Duration(day)*time.Minute))
		lab(fmt.Sprintf("tr-10-%02d-00", day), "bob", loop.GradePass, t0.Add(-2*time.Hour).Add(time.Duration(day)*time.Minute))
	}
	if err := st.PutLabels(ls); err != nil {
		t.Fatal(err)
	}
	sets := []loop.SetEntry{
		{EventID: "evt-003", Kind: loop.SetGolden, Reference: "Revenue rose 12% in Q3.", AddedBy: "bob", At: t0.Add(-3 * time.Hour)},
		{EventID: "evt-007", Kind: loop.SetGolden, AddedBy: "carol", At: t0.Add(-2 * time.Hour)},
		{EventID: "evt-010", Kind: loop.SetRedFlag, MustNotContain: []string{"refund"}, MaxLatencyMS: ptr(2000.0), AddedBy: "bob", At: t0.Add(-time.Hour)},
	}
	for _, e := range sets {
		if err := st.PutSetEntry(e); err != nil {
			t.Fatal(err)
		}
	}
	q := []loop.QueueItem{
		{EventID: "evt-035", Day: "2026-11-20", Why: []string{"thumbs_down"}, At: t0},
		{EventID: "evt-034", Day: "2026-11-20", Why: []string{"random", "policy"}, Reviewers: []string{"alice", "bob"}, At: t0},
		{EventID: "evt-033", Day: "2026-11-20", Why: []string{"low_confidence"}, Reviewers: []string{"bob", "carol"}, At: t0},
		{EventID: "evt-031", Day: "2026-11-20", Why: []string{"thumbs_down"}, At: t0},
		{EventID: "evt-030", Day: "2026-11-20", Why: []string{"successes"}, At: t0},
	}
	if _, err := st.Enqueue(q); err != nil {
		t.Fatal(err)
	}
}

// Golden files of the review-loop screens on a seeded store.
func TestGoldenReviewLoop(t *testing.T) {
	screens := []struct {
		name  string
		setup func(h *harness)
	}{
		{"inbox_queue", func(h *harness) { h.press("j") }},
		{"item_queued", func(h *harness) { h.press("enter") }},
		{"sets", func(h *harness) { h.press("tab", "tab") }},
		{"sets_redflag", func(h *harness) { h.press("tab", "tab", "l") }},
		{"trends", func(h *harness) { h.press("tab", "tab", "tab") }},
		{"trends_metric", func(h *harness) { h.press("tab", "tab", "tab", "[", "v") }},
		{"agreement", func(h *harness) { h.press("shift+tab", "j") }},
		{"inbox_queue_end", func(h *harness) { h.press("end", "p") }},
		{"sets_form", func(h *harness) { h.press("tab", "tab", "l", "a"); h.typeText("evt-030") }},
		{"confirm_quit", func(h *harness) { h.press("3", "q") }},
	}
	for _, size := range [][2]int{{80, 24}, {160, 45}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				st, _ := openStore(t, nEvents)
				seedReviewLoop(t, st)
				h := newHarness(t, st, size[0], size[1])
				sc.setup(h)
				golden.RequireEqual(t, ascii(t, h.m.View().Content))
			})
		}
	}
}

func TestToReviewQueue(t *testing.T) {
	st, _ := openStore(t, nEvents)
	seedReviewLoop(t, st)
	h := newHarness(t, st, 120, 30)
	// evt-033 is assigned to bob and carol, not alice.
	want := []string{"evt-035", "evt-034", "evt-031", "evt-030"}
	if got := h.rowIDs(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("to review: %v, want %v", got, want)
	}
	v := plain(h.m)
	for _, s := range []string{"your share of the sampled queue", "1 / 4 · 3 left", "thumbs_down", "random+1"} {
		if !strings.Contains(v, s) {
			t.Errorf("inbox lacks %q:\n%s", s, v)
		}
	}
	// Why it was sampled shows in the preview and the item view.
	h.press("j")
	if v := plain(h.m); !strings.Contains(v, "sampled: random, policy (2026-11-20)") || !strings.Contains(v, "alice & bob") {
		t.Errorf("preview lacks why:\n%s", v)
	}
	h.press("enter")
	if v := plain(h.m); !strings.Contains(v, "random, policy (2026-11-20)") {
		t.Errorf("item view lacks why:\n%s", v)
	}
	h.press("esc")
	// Graded items leave the queue at the next search.
	h.press("home", "p", "p", "p", "p")
	h.press("right", "left")
	if v := plain(h.m); !strings.Contains(v, "queue empty — run `loupe sample`; showing ungraded") {
		t.Errorf("no fallback note once the queue is done:\n%s", v)
	}
	if len(h.m.inbox.rows) == 0 || h.m.inbox.last.sampled {
		t.Errorf("fallback lists %d ungraded items, sampled %v", len(h.m.inbox.rows), h.m.inbox.last.sampled)
	}
}

func TestToReviewFallback(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	if v := plain(h.m); !strings.Contains(v, "queue empty — run `loupe sample`; showing ungraded") {
		t.Errorf("no fallback note:\n%s", v)
	}
	if len(h.m.inbox.rows) != nEvents {
		t.Errorf("fallback shows %d, want every ungraded item", len(h.m.inbox.rows))
	}
	// With a filter the note gives way; the count says it.
	h.press("/")
	h.typeText("seg:ent")
	if v := plain(h.m); !strings.Contains(v, "ungraded · ") {
		t.Errorf("filtered fallback count:\n%s", v)
	}
}

func (h *harness) rowIDs() []string {
	var out []string
	for _, r := range h.m.inbox.rows {
		out = append(out, h.m.ws.items.ID(int(r)))
	}
	return out
}

func TestScreenCycle(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	for _, want := range []int{screenItem, screenSets, screenTrends, screenAgreement, screenInbox} {
		h.press("tab")
		if h.m.active != want {
			t.Fatalf("tab: active %d, want %d", h.m.active, want)
		}
	}
	h.press("shift+tab")
	if h.m.active != screenAgreement {
		t.Fatalf("shift+tab: active %d", h.m.active)
	}
	h.press("?")
	v := plain(h.m)
	for _, s := range []string{"Keys — Agreement", "enter", "shift+tab"} {
		if !strings.Contains(v, s) {
			t.Errorf("help lacks %q:\n%s", s, v)
		}
	}
}

func TestSetsFillAsYouCurate(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 120, 30)
	h.press("tab", "tab")
	if v := plain(h.m); !strings.Contains(v, "golden 0 / 100–300 — 100 to go") || !strings.Contains(v, "red-flag 0 / ≥50 — 50 to go") {
		t.Fatalf("empty sets:\n%s", v)
	}
	h.press("shift+tab", "shift+tab") // the inbox
	h.press("g", "j", "g", "r")
	h.press("tab", "tab")
	v := plain(h.m)
	if !strings.Contains(v, "golden 2 / 100–300 — 98 to go") || !strings.Contains(v, "red-flag 1 / ≥50 — 49 to go") {
		t.Fatalf("after g, g:\n%s", v)
	}
	h.press("l")
	if v := plain(h.m); !strings.Contains(v, "red-flag 1 / ≥50 — 49 to go") || !strings.Contains(v, "evt-034") {
		t.Fatalf("red-flag list:\n%s", v)
	}
	// enter opens the entry; esc comes back to the Sets screen.
	h.press("enter")
	if h.m.active != screenItem || h.m.item.id != "evt-034" {
		t.Fatalf("enter: active %d item %s", h.m.active, h.m.item.id)
	}
	h.press("esc")
	if h.m.active != screenSets {
		t.Fatalf("esc went to %d, not back to the sets", h.m.active)
	}
	// An entry removed behind the view's back goes at the next focus.
	if err := st.RemoveSetEntry(loop.SetRedFlag, "evt-034"); err != nil {
		t.Fatal(err)
	}
	h.press("tab", "shift+tab")
	if v := plain(h.m); !strings.Contains(v, "red-flag 0 / ≥50") || strings.Contains(v, "evt-034") {
		t.Fatalf("not re-read on focus:\n%s", v)
	}
}

func TestTrendsComputeInCommands(t *testing.T) {
	st, _ := openStore(t, nEvents)
	seedReviewLoop(t, st)
	h := newHarness(t, st, 200, 50)
	tr := h.m.screens[screenTrends].(*trendsView)
	// Focusing starts the computation and shows "computing…" until its
	// result comes back.
	h.press("tab", "tab")
	_, cmd := h.m.Update(keyMsg("tab"))
	if cmd == nil || !tr.computing || !strings.Contains(plain(h.m), "computing…") {
		t.Fatalf("no computing state: cmd %v computing %v", cmd != nil, tr.computing)
	}
	h.run(cmd)
	v := plain(h.m)
	for _, s := range []string{"Goal  pass_rate ≥ 80.0%", "ROLL BACK sum-2026.11 → sum-2026.10", "thumbs_down_rate", "Thumbs-down reasons", "factual_error"} {
		if !strings.Contains(v, s) {
			t.Errorf("trends lack %q:\n%s", s, v)
		}
	}
	if tr.computing || tr.dcomputing {
		t.Fatal("still computing")
	}
	metric := tr.metricName()
	h.press("]")
	if tr.metricName() == metric {
		t.Fatal("] did not change the metric")
	}
	h.press("[")
	if tr.metricName() != metric {
		t.Fatal("[ did not go back")
	}
	h.press("m")
	if tr.metricName() == metric {
		t.Fatal("m did not change the metric")
	}
	h.press("[")
	if tr.detail == nil || tr.detail.Metric != metric || len(tr.detail.Series) < 2 {
		t.Fatalf("detail %+v", tr.detail)
	}
	h.press("v")
	if splits[tr.split] != trend.BySegment || tr.detail == nil {
		t.Fatalf("v: split %s", splits[tr.split])
	}
	if v := plain(h.m); !strings.Contains(v, metric+" by segment") {
		t.Errorf("split not shown:\n%s", v)
	}
	// A grade makes it recompute (pass_rate reads grades).
	before := tr.seq
	h.press("shift+tab", "shift+tab", "shift+tab") // inbox
	h.press("p")
	h.press("tab", "tab", "tab")
	if tr.seq == before {
		t.Fatal("no recomputation after a grade")
	}
}

func TestAgreementScreen(t *testing.T) {
	st, _ := openStore(t, nEvents)
	seedReviewLoop(t, st)
	h := newHarnessAs(t, st, 200, 50, "alice", adjudicating("alice"))
	h.press("shift+tab")
	v := plain(h.m)
	for _, s := range []string{"bob × carol", "Disagreements (3)", "evt-001", "bob pass  carol fail", "factual_error", "REVIEWER"} {
		if !strings.Contains(v, s) {
			t.Errorf("agreement lacks %q:\n%s", s, v)
		}
	}
	// enter opens a disagreement; grading walks the disagreements.
	h.press("enter")
	if h.m.active != screenItem || h.m.item.id != "evt-001" {
		t.Fatalf("enter: active %d item %s", h.m.active, h.m.item.id)
	}
	h.press("p")
	if h.m.item.id != "evt-005" {
		t.Fatalf("p advanced to %s, want the next disagreement evt-005", h.m.item.id)
	}
	h.press("esc")
	if h.m.active != screenAgreement {
		t.Fatalf("esc went to %d", h.m.active)
	}
	// alice's pass on evt-001 is now part of the statistics.
	if v := plain(h.m); !strings.Contains(v, "alice × bob") {
		t.Errorf("alice's grade not counted:\n%s", v)
	}
}

// Two sessions over one store (as in `loupe serve`): what one grades and
// curates shows in the other's inbox, Sets and Agreement screens.
func TestLiveRefreshBetweenSessions(t *testing.T) {
	st, _ := openStore(t, nEvents)
	a := newHarness(t, st, 120, 30)
	b := newHarnessAs(t, st, 120, 30, "bob")
	ch, stop := st.Watch()
	defer stop()
	// The watch is driven by hand: b's wrapper waits on a closed channel
	// (its wait returns at once) and pump hands it what ch got.
	closed := make(chan store.Change)
	close(closed)
	b.root = Watching(b.m, closed)
	pump := func() {
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
		if len(cs) > 0 {
			b.send(ChangeMsg{Changes: cs})
		}
	}
	b.press("tab", "tab") // b looks at the Sets screen
	a.press("f", "g")     // a fails evt-035 and makes evt-034 golden
	pump()
	if v := plain(b.m); !strings.Contains(v, "golden 1 / 100–300") || !strings.Contains(v, "evt-034") {
		t.Fatalf("b's sets do not show a's golden item:\n%s", v)
	}
	b.press("shift+tab", "shift+tab") // b's inbox
	i := b.m.ws.rowOf("evt-035")
	// Blind: b has not graded evt-035, so a's fail does not show to b.
	if mk := b.m.ws.Mark(i); mk&filter.GradeMask != filter.GradeNone || mk&filter.Mine != 0 {
		t.Fatalf("b's marks of evt-035: %b", mk)
	}
	if row := ansi.Strip(b.m.inbox.rowView(i, rowColumns(120, false), false)); strings.Contains(row, "fail") {
		t.Fatalf("b sees a's grade before grading: %q", row)
	}
	b.m.inbox.selectID("evt-035")
	b.press("p")
	if mk := b.m.ws.Mark(i); mk&filter.GradeMask != filter.GradePass || mk&filter.Disagree == 0 {
		t.Fatalf("b's marks of evt-035 after grading: %b", mk)
	}
	if ls := b.m.ws.Labels("evt-035"); ls["alice"].Grade != loop.GradeFail {
		t.Fatalf("after grading, b sees %v", ls)
	}
	// b graded evt-035 differently: a disagreement both sessions see.
	b.press("shift+tab") // b's Agreement screen
	a.press("shift+tab") // a's Agreement screen
	pump()
	for name, h := range map[string]*harness{"a": a, "b": b} {
		if v := plain(h.m); !strings.Contains(v, "Disagreements (1)") || !strings.Contains(v, "alice fail  bob pass") {
			t.Errorf("%s's agreement screen:\n%s", name, v)
		}
	}
	// A grade while b's Agreement screen is shown refreshes it.
	a.press("tab") // a's inbox
	a.press("k", "p")
	pump()
	if v := plain(b.m); !strings.Contains(v, "Disagreements (0)") {
		t.Errorf("b's agreement screen after a's change:\n%s", v)
	}
}
