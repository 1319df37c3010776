package tui

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/exp/golden"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/compare"
	"github.com/loupe-dev/loupe/store"
)

// compareKey is a fixed side key, so that every temporary store shows the
// same sides and the golden files hold still.
var compareKey = []byte("compare test side key")

// compareStore is a store of 40 events, the first 30 in the golden set,
// and a candidate answering those 30 and two events outside the set.
func compareStore(t *testing.T) (*store.Store, map[string]string) {
	t.Helper()
	st, _ := openStore(t, 40)
	answers := map[string]string{}
	for i := 0; i < 32; i++ {
		id := fmt.Sprintf("evt-%03d", i)
		if i < 30 {
			if err := st.PutSetEntry(loop.SetEntry{EventID: id, Kind: loop.SetGolden, At: t0}); err != nil {
				t.Fatal(err)
			}
		}
		answers[id] = fmt.Sprintf("Candidate answer %d: the same facts, said more briefly and with the figures checked.", i)
	}
	return st, answers
}

func newCompareHarness(t *testing.T, st *store.Store, answers map[string]string, w, h int, reviewer string) *harness {
	t.Helper()
	m := New(st, Options{Reviewer: reviewer, Now: func() time.Time { return t0 }, Location: time.UTC,
		Compare: &CompareOptions{Name: "cand-v2", Answers: answers, Set: compare.SetGolden, SideKey: compareKey}})
	m.c.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	hs := &harness{t: t, st: st, m: m}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(m.Init())
	if !m.compare.loaded {
		t.Fatal("compare items not loaded after Init")
	}
	return hs
}

// keyFor is the key that gives outcome o for the item on screen.
func keyFor(h *harness, o compare.Outcome) string {
	it := h.m.compare.current()
	if it == nil {
		h.t.Fatal("no item on screen")
	}
	switch compare.ChoiceFor(o, it.side) {
	case compare.ChoseLeft:
		return "1"
	case compare.ChoseRight:
		return "2"
	case compare.ChoseTie:
		return "="
	}
	return "x"
}

func storedComparisons(t *testing.T, st *store.Store) []compare.Judgment {
	t.Helper()
	var js []compare.Judgment
	if err := st.Comparisons(func(j compare.Judgment) error { js = append(js, j); return nil }); err != nil {
		t.Fatal(err)
	}
	return js
}

// Thirty comparisons with known outcomes through the keys; the results
// have the expected counts, the Wilson interval and the exact p-value.
func TestCompareThirtyKnownChoices(t *testing.T) {
	st, answers := compareStore(t)
	h := newCompareHarness(t, st, answers, 120, 40, "alice")
	cv := h.m.compare
	if len(cv.items) != 30 {
		t.Fatalf("%d items, want the 30 golden ones the candidate answers", len(cv.items))
	}
	outcomes := strings.Repeat("W", 19) + strings.Repeat("L", 7) + "TTTB"
	sides := map[string]compare.Side{}
	for i, c := range outcomes {
		o := map[rune]compare.Outcome{'W': compare.Win, 'L': compare.Loss, 'T': compare.Tie, 'B': compare.BothBad}[c]
		it := cv.current()
		sides[it.id] = it.side
		if i == 3 {
			h.press("r", "1", "r", "3", "n") // reason codes 1 and 3, then a note
			h.typeText("clearer")
			h.press("enter")
		}
		h.press(keyFor(h, o))
	}
	if cv.left() != 0 || cv.current() != nil {
		t.Fatalf("%d left after 30 comparisons", cv.left())
	}
	js := storedComparisons(t, st)
	if len(js) != 30 {
		t.Fatalf("%d stored comparisons, want 30", len(js))
	}
	left := 0
	for _, j := range js {
		if j.CandidateSide != sides[j.EventID] || j.CandidateSide != compare.SideFor(compareKey, j.EventID, "alice", "cand-v2") {
			t.Errorf("%s: recorded side %s, shown %s", j.EventID, j.CandidateSide, sides[j.EventID])
		}
		if j.Via != compare.ViaTUI || j.Answer != answers[j.EventID] {
			t.Errorf("%s: via %q answer %q", j.EventID, j.Via, j.Answer)
		}
		if j.CandidateSide == compare.Left {
			left++
		}
		if len(j.Reasons) > 0 && (strings.Join(j.Reasons, ",") != "factual_error,too_long" || j.Note != "clearer") {
			t.Errorf("draft not recorded: %v %q", j.Reasons, j.Note)
		}
	}
	if left == 0 || left == 30 {
		t.Errorf("the candidate was on the left %d of 30 times: sides not mixed", left)
	}
	r := compare.Compute(js, "cand-v2", nil)
	o := r.Overall
	if o.N != 30 || o.Wins != 19 || o.Losses != 7 || o.Ties != 3 || o.BothBad != 1 {
		t.Fatalf("tally %+v", o)
	}
	// (19 + 4/2) / 30; the Wilson bounds found by inverting the score
	// test numerically (bisection), the p-value as
	// 2·Σ_{i<=7} C(26,i)/2^26 in exact rationals.
	if math.Abs(float64(o.WinRate)-0.7) > 1e-12 ||
		math.Abs(float64(o.Low)-0.5212421254128503) > 1e-9 || math.Abs(float64(o.High)-0.833352517317562) > 1e-9 {
		t.Errorf("win rate %v [%v, %v]", o.WinRate, o.Low, o.High)
	}
	if math.Abs(float64(o.SignP)-0.028959274291992188) > 1e-15 {
		t.Errorf("sign test p %v", o.SignP)
	}
	// Done: the results of everyone are shown now.
	view := ascii(t, h.m.View().Content)
	for _, want := range []string{"You have compared all 30 items", "wins 19 · losses 7 · ties 3 · both bad 1", "[0.521, 0.833]", "0.0290"} {
		if !strings.Contains(view, want) {
			t.Errorf("done screen lacks %q:\n%s", want, view)
		}
	}
}

func TestCompareAlwaysLeftIsFlagged(t *testing.T) {
	st, answers := compareStore(t)
	h := newCompareHarness(t, st, answers, 120, 40, "lefty")
	for range 30 {
		h.press("1")
	}
	r := compare.Compute(storedComparisons(t, st), "cand-v2", nil)
	if len(r.Reviewers) != 1 {
		t.Fatalf("reviewers %+v", r.Reviewers)
	}
	rs := r.Reviewers[0]
	if rs.LeftShare != 1 || !rs.Biased || rs.Left != 30 {
		t.Errorf("lefty %+v: want left share 1.0, flagged", rs)
	}
	if !strings.Contains(ascii(t, h.m.View().Content), "side bias") {
		t.Error("the done screen does not flag the bias")
	}
	// Re-running gives the same sides and order.
	h2 := newCompareHarness(t, st, answers, 120, 40, "lefty")
	for i, it := range h2.m.compare.items {
		if it.id != h.m.compare.items[i].id || it.side != h.m.compare.items[i].side {
			t.Fatalf("item %d: %s/%s, before %s/%s", i, it.id, it.side, h.m.compare.items[i].id, h.m.compare.items[i].side)
		}
	}
}

func TestCompareUndoSkipAndBlindness(t *testing.T) {
	st, answers := compareStore(t)
	// bob has compared everything already.
	for id, a := range answers {
		ev, err := st.Event(id)
		if err != nil {
			t.Fatal(err)
		}
		j, _ := compare.NewJudgment(compare.Input{Event: ev, Reviewer: "bob", Candidate: "cand-v2", Answer: a,
			Side: compare.SideFor(compareKey, id, "bob", "cand-v2"), Choice: compare.ChoseBothBad, Note: "bobnote", At: t0})
		if err := st.PutComparison(j); err != nil {
			t.Fatal(err)
		}
	}
	h := newCompareHarness(t, st, answers, 160, 45, "alice")
	cv := h.m.compare
	if cv.left() != 30 {
		t.Fatalf("bob's comparisons count as alice's: %d left", cv.left())
	}
	first := cv.current().id
	h.press("s")
	if cv.current().id == first {
		t.Error("s did not skip")
	}
	second := cv.current().id
	h.press("r", "2", "=")
	if _, ok := cv.mine[second]; !ok {
		t.Fatal("= did not record")
	}
	h.press("u")
	if _, ok := cv.mine[second]; ok || cv.current().id != second {
		t.Fatalf("undo: item %s, mine has it %v", cv.current().id, ok)
	}
	if d := cv.drafts[second]; d == nil || strings.Join(d.reasons, ",") != "missing_info" {
		t.Errorf("undo dropped the reasons: %+v", d)
	}
	for _, j := range storedComparisons(t, st) {
		if j.Reviewer == "alice" {
			t.Errorf("alice's comparison still stored after undo: %+v", j)
		}
	}
	var withdrawn int
	st.ComparisonHistory(func(j compare.Judgment) error {
		if j.Reviewer == "alice" && j.Deleted {
			withdrawn++
		}
		return nil
	})
	if withdrawn != 1 {
		t.Errorf("%d withdrawals in history, want 1", withdrawn)
	}
	// Blind: nothing of bob's shows while alice has items left.
	for i := 0; i < 29; i++ {
		h.press("1")
		if v := h.m.View().Content; strings.Contains(v, "bob") || strings.Contains(v, "both bad 30") {
			t.Fatalf("bob's choices shown to alice before she finished:\n%s", ascii(t, v))
		}
	}
	h.press("2")
	if v := ascii(t, h.m.View().Content); !strings.Contains(v, "bob") || !strings.Contains(v, "κ alice × bob") {
		t.Errorf("after the last item everyone's results show:\n%s", v)
	}
}

// Golden files of the Compare screen at 80x24 (stacked) and 160x45 (side
// by side).
func TestCompareGolden(t *testing.T) {
	screens := []struct {
		name  string
		setup func(h *harness)
	}{
		{"compare", func(h *harness) {}},
		{"compare_diff", func(h *harness) { h.press("d") }},
		{"compare_reason_layer", func(h *harness) { h.press("r") }},
		{"compare_draft", func(h *harness) {
			h.press("r", "1", "n")
			h.typeText("tone is off")
			h.press("enter")
		}},
		{"compare_note", func(h *harness) {
			h.press("n")
			h.typeText("tone")
		}},
		{"compare_done", func(h *harness) {
			for i := range 30 {
				h.press([]string{"1", "2", "1", "=", "x"}[i%5])
			}
		}},
	}
	for _, size := range [][2]int{{80, 24}, {160, 45}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				st, answers := compareStore(t)
				h := newCompareHarness(t, st, answers, size[0], size[1], "alice")
				sc.setup(h)
				golden.RequireEqual(t, ascii(t, h.m.View().Content))
			})
		}
	}
}

func TestCompareScrollsLongAnswers(t *testing.T) {
	st, answers := compareStore(t)
	var long []string
	for i := range 40 {
		long = append(long, fmt.Sprintf("step %02d of the long answer.", i))
	}
	for id := range answers {
		answers[id] = strings.Join(long, "\n")
	}
	h := newCompareHarness(t, st, answers, 80, 24, "alice")
	v := ascii(t, h.m.View().Content)
	if !strings.Contains(v, "step 00") || strings.Contains(v, "step 39") || !strings.Contains(v, "more lines (j)") {
		t.Fatalf("long answer not cut with a hint:\n%s", v)
	}
	for range 60 {
		h.press("j")
	}
	v = ascii(t, h.m.View().Content)
	if !strings.Contains(v, "step 39") || !strings.Contains(v, "more lines (k)") || strings.Contains(v, "step 00") {
		t.Fatalf("scrolled to the end:\n%s", v)
	}
	if h.m.compare.scroll != h.m.compare.maxScroll() {
		t.Errorf("scroll %d past its end %d", h.m.compare.scroll, h.m.compare.maxScroll())
	}
	h.press("1")
	if h.m.compare.scroll != 0 {
		t.Error("the next item does not start at the top")
	}
}
