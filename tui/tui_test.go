package tui

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
	"github.com/loupe-dev/loupe/store"
)

const nEvents = 36

func plain(m *Model) string { return ansi.Strip(m.View().Content) }

func TestFirstFrameDoesNotWaitForLoad(t *testing.T) {
	st, _ := openStore(t, nEvents)
	m := New(st, Options{Reviewer: "alice"})
	m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	_ = m.Init() // the load is a command; nothing ran yet
	if got := plain(m); !strings.Contains(got, "loading…") {
		t.Fatalf("first frame:\n%s", got)
	}
	if m.ws.loaded {
		t.Fatal("loaded before the load command ran")
	}
	v := m.View()
	if !v.AltScreen {
		t.Error("not on the alt screen")
	}
}

func TestInboxLoads(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	if len(h.m.inbox.rows) != nEvents {
		t.Fatalf("rows = %d", len(h.m.inbox.rows))
	}
	// Newest first.
	if got := h.selected(); got != "evt-035" {
		t.Errorf("first row %s, want evt-035", got)
	}
	if v := plain(h.m); !strings.Contains(v, "36 of 36") || !strings.Contains(v, "To review") {
		t.Errorf("header:\n%s", v)
	}
	for i, line := range strings.Split(plain(h.m), "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			t.Errorf("line %d is %d wide: %q", i, w, line)
		}
	}
	if n := len(strings.Split(h.m.View().Content, "\n")); n != 24 {
		t.Errorf("%d lines, want 24", n)
	}
}

func TestLoadError(t *testing.T) {
	st, _ := openStore(t, 3)
	st.Close()
	m := New(st, Options{Reviewer: "alice"})
	h := &harness{t: t, st: st, m: m}
	m.c.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.run(m.Init())
	if m.fatal == nil || !strings.Contains(plain(m), "cannot go on") {
		t.Fatalf("want the error view, got:\n%s", plain(m))
	}
	h.press("q")
	if !h.quit {
		t.Error("q does not quit the error view")
	}
}

func TestNavigationKeys(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	in := h.m.inbox
	steps := []struct {
		key  string
		want int
	}{
		{"j", 1}, {"down", 2}, {"k", 1}, {"up", 0}, {"up", 0},
		{"pgdown", 19}, {"ctrl+u", 10}, {"ctrl+d", 19}, {"end", nEvents - 1}, {"G", nEvents - 1}, {"j", nEvents - 1}, {"home", 0}, {"s", 1},
	}
	for _, s := range steps {
		h.press(s.key)
		if in.list.cursor != s.want {
			t.Fatalf("after %q: cursor %d, want %d", s.key, in.list.cursor, s.want)
		}
		if in.list.cursor < in.list.offset || in.list.cursor >= in.list.offset+in.listHeight() {
			t.Fatalf("after %q: cursor %d outside the window at %d", s.key, in.list.cursor, in.list.offset)
		}
	}
}

func TestQueueKeys(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	h.press("l")
	if h.m.inbox.queue != 2 || len(h.m.inbox.rows) != 0 {
		t.Fatalf("golden queue: queue %d, %d rows", h.m.inbox.queue, len(h.m.inbox.rows))
	}
	h.press("h", "h")
	if h.m.inbox.queue != 0 || len(h.m.inbox.rows) != nEvents {
		t.Fatalf("all queue: queue %d, %d rows", h.m.inbox.queue, len(h.m.inbox.rows))
	}
	h.press("h")
	if h.m.inbox.queue != len(h.m.inbox.queues())-1 {
		t.Fatalf("wraps around: queue %d", h.m.inbox.queue)
	}
	h.press("right", "right") // to review
	h.press("p")              // graded: leaves "to review" at the next search
	h.press("left", "right")
	if len(h.m.inbox.rows) != nEvents-1 {
		t.Fatalf("to review after one grade: %d rows", len(h.m.inbox.rows))
	}
}

func TestFilterKeys(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	h.press("/")
	if !h.m.inbox.Typing() {
		t.Fatal("/ does not focus the filter")
	}
	h.typeText("seg:ent")
	if got := h.m.inbox.input.Value(); got != "seg:ent" {
		t.Fatalf("typed %q", got)
	}
	if n := len(h.m.inbox.rows); n != nEvents/3 {
		t.Fatalf("seg:ent: %d rows, want %d", n, nEvents/3)
	}
	for _, r := range h.m.inbox.rows {
		if h.m.ws.items.At(int(r)).Segment != "enterprise" {
			t.Fatalf("row %s is %s", h.m.ws.items.ID(int(r)), h.m.ws.items.At(int(r)).Segment)
		}
	}
	if !strings.Contains(plain(h.m), "12 of 36") {
		t.Errorf("header:\n%s", plain(h.m))
	}
	// q, p and j are text while typing.
	h.typeText(" qpj")
	if h.quit || h.m.inbox.input.Value() != "seg:ent qpj" {
		t.Fatalf("typing: quit=%v value=%q", h.quit, h.m.inbox.input.Value())
	}
	if len(h.m.inbox.rows) != 0 {
		t.Fatalf("seg:ent qpj matches %d", len(h.m.inbox.rows))
	}
	for range 4 {
		h.send(tea.KeyPressMsg{Code: tea.KeyBackspace})
	}
	h.typeText(" refund")
	if n := len(h.m.inbox.rows); n != 3 {
		t.Fatalf("seg:ent refund: %d rows, want 3", n)
	}
	h.press("enter")
	if h.m.inbox.Typing() || h.m.inbox.input.Value() != "seg:ent refund" {
		t.Fatal("enter keeps the filter and leaves the input")
	}
	h.press("esc")
	if h.m.inbox.input.Value() != "" || len(h.m.inbox.rows) != nEvents {
		t.Fatal("esc clears the filter")
	}
	// esc while typing clears too.
	h.press("/")
	h.typeText("zzzz")
	h.press("esc")
	if h.m.inbox.Typing() || len(h.m.inbox.rows) != nEvents {
		t.Fatal("esc while typing")
	}
}

// A result of an older search arriving after a newer one is dropped.
func TestFilterStaleResultDropped(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	in := h.m.inbox
	in.input.SetValue("seg:pro")
	older := in.search()
	in.input.SetValue("seg:ent")
	newer := in.search()
	h.send(newer())
	rows := slices.Clone(in.rows)
	h.send(older()) // cancelled, or stale: either way ignored
	if !slices.Equal(in.rows, rows) {
		t.Fatal("stale result replaced the newer one")
	}
	for _, r := range in.rows {
		if h.m.ws.items.At(int(r)).Segment != "enterprise" {
			t.Fatal("rows are not the newer query's")
		}
	}
}

// A longer query searches only the previous result.
func TestFilterNarrowsWithinPrevious(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	in := h.m.inbox
	h.press("/")
	h.typeText("sum")
	if !in.last.ok || in.last.query.String() != "sum" {
		t.Fatalf("last = %+v", in.last)
	}
	prev := in.lastIDs
	in.input.SetValue("summ")
	k := filter.Parse("summ")
	if !k.Narrows(in.last.query) {
		t.Fatal("summ does not narrow sum")
	}
	cmd := in.search()
	msg := cmd().(searchResultMsg)
	for _, id := range msg.res.IDs {
		if !slices.Contains(prev, id) {
			t.Fatalf("result %d not in the previous result", id)
		}
	}
}

func TestGradeKeysFromInbox(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	for _, tt := range []struct {
		key   string
		grade loop.Grade
	}{{"p", loop.GradePass}, {"f", loop.GradeFail}, {"b", loop.GradeBorderline}} {
		id := h.selected()
		cur := h.m.inbox.list.cursor
		h.press(tt.key)
		l, ok := h.label(id)
		if !ok || l.Grade != tt.grade || l.Reviewer != "alice" || !l.At.Equal(h.m.ws.labels[id]["alice"].At) {
			t.Fatalf("%s on %s: stored %+v %v", tt.key, id, l, ok)
		}
		if h.m.inbox.list.cursor != cur+1 {
			t.Fatalf("%s did not advance", tt.key)
		}
		if h.m.ws.Mark(h.m.ws.rowOf(id))&filter.Mine == 0 {
			t.Fatal("mark not updated")
		}
	}
	if !strings.Contains(plain(h.m), "pass") {
		t.Errorf("grade not shown:\n%s", plain(h.m))
	}
}

func TestReasonKeys(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	id := h.selected()
	h.press("1", "3", "5", "1")
	d := h.m.ws.Draft(id)
	if d == nil || !slices.Equal(d.Reasons, []string{"too_long", "unsafe"}) {
		t.Fatalf("draft %+v", d)
	}
	if !strings.Contains(plain(h.m), "*") {
		t.Error("draft not shown")
	}
	h.press("9") // only 8 codes
	if !h.m.statusErr || !strings.Contains(h.m.status, "no reason code 9") {
		t.Errorf("status %q", h.m.status)
	}
	h.press("f")
	l, _ := h.label(id)
	if !slices.Equal(l.Reasons, []string{"too_long", "unsafe"}) || l.Grade != loop.GradeFail {
		t.Fatalf("label %+v", l)
	}
	if h.m.ws.Draft(id) != nil {
		t.Error("draft kept after grading")
	}
	// Back on the graded item, a reason key changes the saved label.
	h.press("k", "2")
	if d := h.m.ws.Draft(id); d != nil {
		t.Fatalf("a reason on a graded item made a draft: %+v", d)
	}
	if l, _ := h.label(id); !slices.Equal(l.Reasons, []string{"too_long", "unsafe", "missing_info"}) || l.Grade != loop.GradeFail {
		t.Fatalf("label after toggling on it: %+v", l)
	}
	if h.m.status != "saved" {
		t.Errorf("status %q, want saved", h.m.status)
	}
}

func TestNoteAndReferenceKeys(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	id := h.selected()
	h.press("n")
	if h.m.editor == nil {
		t.Fatal("n opens no editor")
	}
	h.typeText("quick q note, mail bob@example.com")
	if h.quit {
		t.Fatal("q quit while typing a note")
	}
	h.press("enter")
	if h.m.editor != nil || h.m.ws.Draft(id).Note != "quick q note, mail bob@example.com" {
		t.Fatalf("note draft %+v", h.m.ws.Draft(id))
	}
	h.press("e")
	if h.m.editor == nil || !h.m.editor.reference {
		t.Fatal("e opens no reference editor")
	}
	h.m.editor.area.SetValue("")
	h.typeText("The right answer.")
	h.press("enter")
	h.typeText("Second line.")
	h.press("ctrl+s")
	if h.m.editor != nil || h.m.ws.Draft(id).Reference != "The right answer.\nSecond line." {
		t.Fatalf("reference draft %q", h.m.ws.Draft(id).Reference)
	}
	// esc cancels without touching the draft.
	h.press("n")
	h.typeText("discard me")
	h.press("esc")
	if h.m.editor != nil || strings.Contains(h.m.ws.Draft(id).Note, "discard") {
		t.Fatal("esc did not cancel")
	}
	h.press("b")
	l, _ := h.label(id)
	if l.Reference != "The right answer.\nSecond line." || !strings.Contains(l.Note, "quick q note") {
		t.Fatalf("label %+v", l)
	}
	if strings.Contains(l.Note, "bob@example.com") {
		t.Errorf("note stored unmasked: %q", l.Note)
	}
}

func TestGoldenAndRedFlagKeys(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	// evt-031 has a user edit (31%6 == 1).
	h.m.inbox.selectID("evt-031")
	h.press("g")
	e, ok := h.inSet(loop.SetGolden, "evt-031")
	if !ok || e.AddedBy != "alice" || !strings.Contains(e.Reference, "Thanks.") {
		t.Fatalf("golden entry %+v %v", e, ok)
	}
	if !h.m.ws.InSet(loop.SetGolden, "evt-031") {
		t.Fatal("not golden in memory")
	}
	h.press("r")
	if _, ok := h.inSet(loop.SetRedFlag, "evt-031"); !ok {
		t.Fatal("not red-flagged")
	}
	h.press("g")
	if _, ok := h.inSet(loop.SetGolden, "evt-031"); ok {
		t.Fatal("g again does not remove")
	}
	h.press("u") // golden back
	if e2, ok := h.inSet(loop.SetGolden, "evt-031"); !ok || e2.Reference != e.Reference {
		t.Fatalf("undo remove: %+v %v", e2, ok)
	}
	h.press("u", "u") // red-flag off, golden off
	if _, ok := h.inSet(loop.SetRedFlag, "evt-031"); ok {
		t.Fatal("undo red-flag")
	}
	if _, ok := h.inSet(loop.SetGolden, "evt-031"); ok {
		t.Fatal("undo golden")
	}
	// Golden queue.
	h.press("g", "l")
	if h.m.inbox.queue != 2 || len(h.m.inbox.rows) != 1 {
		t.Fatalf("golden queue: %d rows", len(h.m.inbox.rows))
	}
}

func TestUndoKey(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	a := h.selected()
	h.press("p")
	b := h.selected()
	h.press("f")
	h.press("u")
	if _, ok := h.label(b); ok {
		t.Fatal("undo did not withdraw the label on b")
	}
	hist, _ := st.History(b)
	if len(hist) != 2 || !hist[1].Deleted {
		t.Fatalf("history of b: %+v", hist)
	}
	h.press("u")
	if _, ok := h.label(a); ok {
		t.Fatal("second undo did not withdraw a")
	}
	// Regrade: undo brings back the previous label, not nothing.
	h.m.inbox.selectID(a)
	h.press("1", "p")
	h.m.inbox.selectID(a)
	h.press("f")
	h.press("u")
	l, ok := h.label(a)
	if !ok || l.Grade != loop.GradePass || !slices.Equal(l.Reasons, []string{"factual_error"}) {
		t.Fatalf("undo restores %+v %v", l, ok)
	}
	if h.m.ws.Mark(h.m.ws.rowOf(a))&filter.GradeMask != filter.GradePass {
		t.Fatal("mark not restored")
	}
	h.press("u", "u")
	if !strings.Contains(h.m.status, "nothing to undo") {
		t.Errorf("status %q", h.m.status)
	}
}

func TestWriteFailureReverts(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	id := h.selected()
	st.Close()
	h.press("p")
	if _, ok := h.m.ws.Mine(id); ok {
		t.Fatal("failed grade kept in memory")
	}
	if h.m.ws.Mark(h.m.ws.rowOf(id))&filter.Mine != 0 {
		t.Fatal("mark not reverted")
	}
	if !h.m.statusErr || !strings.Contains(h.m.status, "not saved") || !strings.Contains(h.m.status, store.ErrClosed.Error()) {
		t.Fatalf("status %q", h.m.status)
	}
	if len(h.m.ws.undo) != 0 {
		t.Fatal("failed change left on the undo stack")
	}
	if !strings.Contains(plain(h.m), "not saved") {
		t.Errorf("status bar:\n%s", plain(h.m))
	}
}

func TestItemKeys(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	h.m.inbox.selectID("evt-031")
	h.press("enter")
	if h.m.active != screenItem || h.m.item.id != "evt-031" || h.m.item.ev == nil {
		t.Fatalf("enter: active %d id %q", h.m.active, h.m.item.id)
	}
	v := plain(h.m)
	for _, want := range []string{"Input", "Output", "evt-031"} {
		if !strings.Contains(v, want) {
			t.Errorf("item view lacks %q:\n%s", want, v)
		}
	}
	all := h.m.item.vp.GetContent()
	for _, want := range []string{"User edit", "{+Thanks.+}", "Signals", "PII masked", "Label history", "Reason codes"} {
		if !strings.Contains(ansi.Strip(all), want) {
			t.Errorf("item content lacks %q", want)
		}
	}
	h.press("j", "pgdown")
	if h.m.item.vp.YOffset() == 0 {
		t.Error("j/pgdown do not scroll")
	}
	h.press("2", "f") // grade and advance
	l, ok := h.label("evt-031")
	if !ok || l.Grade != loop.GradeFail || !slices.Equal(l.Reasons, []string{"missing_info"}) {
		t.Fatalf("item grade: %+v", l)
	}
	if h.m.item.id != "evt-030" || h.m.active != screenItem {
		t.Fatalf("did not advance: %q", h.m.item.id)
	}
	h.press("s")
	if h.m.item.id != "evt-029" {
		t.Fatalf("skip: %q", h.m.item.id)
	}
	h.press("u") // undo works from the item view, across items, and goes back there
	if _, ok := h.label("evt-031"); ok {
		t.Fatal("undo from the item view")
	}
	if h.m.item.id != "evt-031" || h.selected() != "evt-031" {
		t.Fatalf("after undo: item %s, selected %s", h.m.item.id, h.selected())
	}
	h.press("g")
	if _, ok := h.inSet(loop.SetGolden, "evt-031"); !ok {
		t.Fatal("g in the item view")
	}
	h.press("n")
	h.typeText("x")
	h.press("enter", "e", "ctrl+s", "p")
	if l, _ := h.label("evt-031"); l.Note != "x" || l.Reference == "" {
		t.Fatalf("note/reference from item view: %+v", l)
	}
	if h.m.item.id != "evt-030" {
		t.Fatalf("p did not advance: %s", h.m.item.id)
	}
	// History shows after a grade on the open item.
	h.press("k")
	h.m.inbox.selectID("evt-031")
	h.press("shift+tab", "tab") // inbox, then item of the selection
	if h.m.active != screenItem || h.m.item.id != "evt-031" {
		t.Fatalf("tab: active %d id %s", h.m.active, h.m.item.id)
	}
	if !strings.Contains(ansi.Strip(strings.Join(h.m.item.contentLines(200), "\n")), "alice") {
		t.Error("label history lacks alice")
	}
	h.press("esc")
	if h.m.active != screenInbox {
		t.Fatal("esc does not go back")
	}
}

func TestLastItemGoesBack(t *testing.T) {
	st, _ := openStore(t, 3)
	h := newHarness(t, st, 80, 24)
	h.press("end", "enter", "p")
	if h.m.active != screenInbox || !strings.Contains(h.m.status, "last item") || h.m.item.id != "" {
		t.Fatalf("after the last item: active %d status %q", h.m.active, h.m.status)
	}
}

func TestHelpAndQuitKeys(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	h.press("?")
	if !h.m.help.shown || !strings.Contains(plain(h.m), "toggle reason") {
		t.Fatalf("help:\n%s", plain(h.m))
	}
	// At 80x24 the help is taller than the screen: j scrolls to the last
	// reason code, and no further than the text.
	if strings.Contains(plain(h.m), "mistranscription") || !strings.Contains(plain(h.m), "more lines: j") {
		t.Fatalf("help at 80x24 before scrolling:\n%s", plain(h.m))
	}
	for i := 0; i < 40; i++ {
		h.press("j")
	}
	if !strings.Contains(plain(h.m), "8 mistranscription") || strings.Contains(plain(h.m), "more lines") {
		t.Fatalf("help scrolled to the end:\n%s", plain(h.m))
	}
	h.press("k")
	if !strings.Contains(plain(h.m), "more lines") {
		t.Fatalf("k does not scroll back up:\n%s", plain(h.m))
	}
	h.press("?")
	if h.m.help.shown {
		t.Fatal("? does not close help")
	}
	h.press("?", "esc")
	if h.m.help.shown {
		t.Fatal("esc does not close help")
	}
	h.press("q")
	if !h.quit {
		t.Fatal("q does not quit")
	}
	h.quit = false
	h.press("/")
	h.press("ctrl+c")
	if !h.quit {
		t.Fatal("ctrl+c does not quit while typing")
	}
}

func TestDisagreementsQueue(t *testing.T) {
	st, _ := openStore(t, nEvents)
	bob, err := loop.NewLabel("evt-035", "bob", loop.GradePass, nil, "", "", t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutLabel(bob); err != nil {
		t.Fatal(err)
	}
	if h := newHarness(t, st, 80, 24); len(h.m.inbox.queues()) != 4 {
		t.Fatal("a reviewer who grades blind has a Disagreements queue")
	}
	h := newHarnessAs(t, st, 80, 24, "alice", adjudicating("alice"))
	if h.selected() != "evt-035" {
		t.Fatal("bob's label must not take the item out of alice's queue")
	}
	h.press("f")
	h.press("right", "right", "right") // disagreements
	if h.m.inbox.queue != 4 || len(h.m.inbox.rows) != 1 || h.selected() != "evt-035" {
		t.Fatalf("disagreements: queue %d rows %d", h.m.inbox.queue, len(h.m.inbox.rows))
	}
}

// A grade is on disk: a reopened store has it.
func TestGradeSurvivesReopen(t *testing.T) {
	st, dir := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	id := h.selected()
	h.press("3", "f")
	if err := h.m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, err := store.Open(dir, store.Options{Holder: "reopen"})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	ls, err := st2.Labels(id)
	if err != nil || len(ls) != 1 || ls[0].Grade != loop.GradeFail || ls[0].Reviewer != "alice" || ls[0].Reasons[0] != "too_long" {
		t.Fatalf("after reopen: %+v %v", ls, err)
	}
}

// Close finishes writes whose commands never ran (the program stopped).
func TestCloseFlushesPendingWrites(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	id := h.selected()
	_, cmd := h.m.Update(keyMsg("p")) // the write command is not run
	_ = cmd
	if _, ok := h.label(id); ok {
		t.Fatal("written before its command ran")
	}
	if err := h.m.Close(); err != nil {
		t.Fatal(err)
	}
	if l, ok := h.label(id); !ok || l.Grade != loop.GradePass {
		t.Fatal("Close lost the pending write")
	}
}

func TestResize(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	h.press("end")
	h.send(tea.WindowSizeMsg{Width: 200, Height: 50})
	in := h.m.inbox
	if in.list.cursor != nEvents-1 || in.list.cursor < in.list.offset || in.list.cursor >= in.list.offset+in.listHeight() {
		t.Fatalf("cursor %d offset %d after resize", in.list.cursor, in.list.offset)
	}
	for _, size := range [][2]int{{200, 50}, {60, 15}, {120, 35}} {
		h.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		for _, screen := range []int{screenInbox, screenItem} {
			h.m.active = screen
			if screen == screenItem {
				h.send(OpenItemMsg{ID: "evt-001"})
			}
			lines := strings.Split(h.m.View().Content, "\n")
			if len(lines) != size[1] {
				t.Errorf("%v screen %d: %d lines", size, screen, len(lines))
			}
			for i, l := range lines {
				if w := ansi.StringWidth(l); w > size[0] {
					t.Errorf("%v screen %d line %d: width %d", size, screen, i, w)
				}
			}
		}
	}
}

func TestBackgroundColor(t *testing.T) {
	st, _ := openStore(t, 3)
	h := newHarness(t, st, 80, 24)
	h.send(tea.BackgroundColorMsg{Color: lightGray{}})
	if h.m.c.styles.isDark {
		t.Fatal("light background gave dark styles")
	}
}

type lightGray struct{}

func (lightGray) RGBA() (r, g, b, a uint32) { return 0xeeee, 0xeeee, 0xeeee, 0xffff }

func TestClockStrictlyIncreases(t *testing.T) {
	c := &common{clock: func() time.Time { return t0 }}
	a, b := c.now(), c.now()
	if !b.After(a) {
		t.Fatal("two labels could share an instant")
	}
}

// ? lists every key of the keymap, on the screen that uses it.
func TestHelpListsEveryKey(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 200)
	var text strings.Builder
	for i := range h.m.screens {
		h.m.activate(i)
		h.press("?")
		text.WriteString(plain(h.m) + "\n")
		h.press("?")
	}
	help := text.String()
	km := reflect.ValueOf(h.m.c.keys)
	for i := range km.NumField() {
		b := km.Field(i).Interface().(key.Binding)
		name := km.Type().Field(i).Name
		if name == "Accept" || name == "Save" || name == "ForceQuit" {
			continue // the editor's and the filter's own keys, shown in their status line
		}
		if !strings.Contains(help, b.Help().Key+" ") || !strings.Contains(help, b.Help().Desc) {
			t.Errorf("help does not list %s (%s %s)", name, b.Help().Key, b.Help().Desc)
		}
	}
	// And it fits 80 columns.
	for _, l := range strings.Split(help, "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("help line %d wide: %q", w, l)
		}
	}
}

// Undo survives a restart: the reviewer's changes of the day are in the
// store's journal; yesterday's are not undoable.
func TestUndoSurvivesRestart(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	first := h.selected()
	h.press("f", "p") // fail the first, pass the second
	h.press("g")      // the third into golden
	if err := h.m.Close(); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, st, 80, 24)
	if len(h2.m.ws.undo) != 3 {
		t.Fatalf("undo stack after restart: %d changes", len(h2.m.ws.undo))
	}
	h2.press("u", "u", "u")
	if _, ok := h2.label(first); ok {
		t.Fatal("the first grade is still there after three undos")
	}
	var golden int
	st.SetEntries(loop.SetGolden, func(loop.SetEntry) error { golden++; return nil })
	if golden != 0 {
		t.Fatalf("%d golden entries after undoing the add", golden)
	}
	h2.press("u")
	if !strings.Contains(h2.m.status, "nothing to undo") {
		t.Errorf("status %q", h2.m.status)
	}
	h2.m.Close()
	// The undone changes left the journal.
	n := 0
	st.UndoJournal("alice", func(store.UndoEntry) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d journal entries left", n)
	}
	// A day later, nothing of yesterday is undoable.
	h2.press("p")
	h2.m.Close()
	msg := load(st, "alice", false, 0.2, t0.Add(24*time.Hour))().(loadedMsg)
	if msg.err != nil || len(msg.undo) != 0 {
		t.Fatalf("yesterday's journal: %d entries, %v", len(msg.undo), msg.err)
	}
}

// Blind grading on the item screen and the preview: bob's grade shows to
// alice only once she has graded the item; an adjudicator sees it at once.
func TestBlindItemScreen(t *testing.T) {
	st, _ := openStore(t, nEvents)
	bob, _ := loop.NewLabel("evt-035", "bob", loop.GradeFail, []string{"unsafe"}, "", "", t0.Add(-time.Hour))
	if err := st.PutLabel(bob); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, 200, 50)
	h.m.inbox.selectID("evt-035")
	h.press("j", "k") // load the preview
	if v := plain(h.m); strings.Contains(v, "by bob") || strings.Contains(v, "fail") && strings.Contains(v, "unsafe") {
		t.Fatalf("the preview shows bob's grade before alice graded:\n%s", v)
	}
	h.press("/")
	h.typeText("grade:fail")
	h.press("enter")
	if len(h.m.inbox.rows) != 0 {
		t.Fatalf("grade:fail finds %d items for alice, who graded none", len(h.m.inbox.rows))
	}
	h.press("esc")
	h.m.inbox.selectID("evt-035")
	h.press("enter")
	if v := plain(h.m); strings.Contains(v, "bob") || !strings.Contains(v, "blind grading") {
		t.Fatalf("the item screen before grading:\n%s", v)
	}
	h.press("p", "esc")
	h.m.inbox.selectID("evt-035")
	h.press("enter")
	if v := plain(h.m); !strings.Contains(v, "bob") {
		t.Fatalf("bob's grade not shown after alice graded:\n%s", v)
	}
	a := newHarnessAs(t, st, 200, 50, "carol", adjudicating("carol"))
	a.m.inbox.selectID("evt-035")
	a.press("enter")
	if v := plain(a.m); !strings.Contains(v, "bob") || strings.Contains(v, "blind grading") {
		t.Fatalf("the adjudicator's item screen:\n%s", v)
	}
}

// r r on a red-flag entry with checks asks first; removed and added back
// in the session, it comes back as it was (checks, who added it, when).
func TestRedFlagRestore(t *testing.T) {
	st, _ := openStore(t, nEvents)
	ms := 500.0
	orig := loop.SetEntry{EventID: "evt-035", Kind: loop.SetRedFlag, MustNotContain: []string{"refund"}, MaxLatencyMS: &ms, AddedBy: "ana", At: t0.Add(-48 * time.Hour)}
	if err := st.PutSetEntry(orig); err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, st, 120, 30)
	h.m.inbox.selectID("evt-035")
	h.press("r")
	if h.m.confirm == nil || !strings.Contains(h.m.confirm.question, "2 check(s)") {
		t.Fatalf("no question before removing checks: %+v", h.m.confirm)
	}
	h.press("r") // not y: kept
	if e, ok := h.inSet(loop.SetRedFlag, "evt-035"); !ok || len(e.MustNotContain) != 1 {
		t.Fatalf("r r removed the entry: %+v %v", e, ok)
	}
	h.press("r", "y") // removed
	if _, ok := h.inSet(loop.SetRedFlag, "evt-035"); ok {
		t.Fatal("r y did not remove it")
	}
	h.press("r") // added back: as it was
	e, ok := h.inSet(loop.SetRedFlag, "evt-035")
	if !ok || e.AddedBy != "ana" || !e.At.Equal(orig.At) || len(e.MustNotContain) != 1 || e.MaxLatencyMS == nil || *e.MaxLatencyMS != 500 {
		t.Fatalf("restored entry %+v", e)
	}
	// g g likewise keeps who added a golden entry and when.
	h.press("g")
	g1, _ := h.inSet(loop.SetGolden, "evt-035")
	h.press("g", "g")
	if g2, ok := h.inSet(loop.SetGolden, "evt-035"); !ok || !g2.At.Equal(g1.At) || g2.AddedBy != g1.AddedBy {
		t.Fatalf("g g changed the entry: %+v then %+v", g1, g2)
	}
}

// The mouse: the wheel scrolls the inbox, a click selects a row.
func TestInboxMouse(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	h.send(tea.MouseWheelMsg{Button: tea.MouseWheelDown})
	if h.m.inbox.list.cursor != 3 {
		t.Fatalf("wheel down: cursor %d", h.m.inbox.list.cursor)
	}
	// Row 0 is on screen line 4: the app header, the queue tabs, the
	// filter line and the column titles are above it.
	h.send(tea.MouseClickMsg{Button: tea.MouseLeft, X: 10, Y: 4 + 5})
	if h.m.inbox.list.cursor != 5 {
		t.Fatalf("click: cursor %d", h.m.inbox.list.cursor)
	}
	if h.m.View().MouseMode != tea.MouseModeCellMotion {
		t.Error("mouse not enabled")
	}
}

// Drafts are in the store as they are made; quitting with them asks, and
// "d" discards them while "k" keeps them for the next session.
func TestQuitAsksAboutDrafts(t *testing.T) {
	st, _ := openStore(t, nEvents)
	h := newHarness(t, st, 80, 24)
	id := h.selected()
	h.press("2", "n")
	h.typeText("check the dates")
	h.press("enter")
	var stored []store.Draft
	read := func() {
		stored = nil
		st.Drafts("alice", func(d store.Draft) error { stored = append(stored, d); return nil })
	}
	read()
	if len(stored) != 1 || stored[0].EventID != id || stored[0].Note != "check the dates" || stored[0].Reasons[0] != "missing_info" {
		t.Fatalf("stored drafts %+v", stored)
	}
	h.press("q")
	if h.quit || h.m.confirm == nil {
		t.Fatal("q quit with a draft without asking")
	}
	h.press("x") // any other key: stay
	if h.quit || h.m.confirm != nil {
		t.Fatal("cancel did not stay")
	}
	h.press("q", "d")
	if !h.quit {
		t.Fatal("d did not quit")
	}
	h.m.Close()
	read()
	if len(stored) != 0 {
		t.Fatalf("discarded drafts still stored: %+v", stored)
	}

	// A note open in the editor when the session ends (a dropped
	// connection) is kept as the draft.
	h2 := newHarness(t, st, 80, 24)
	h2.press("n")
	h2.typeText("half typed")
	h2.m.Close()
	read()
	if len(stored) != 1 || stored[0].Note != "half typed" {
		t.Fatalf("the open note was lost: %+v", stored)
	}
	h3 := newHarness(t, st, 80, 24)
	if d := h3.m.ws.Draft(h3.selected()); d == nil || d.Note != "half typed" {
		t.Fatalf("draft after reopening: %+v", d)
	}
	h3.press("q") // a draft from an earlier session: nothing new to ask about
	if !h3.quit {
		t.Error("q asked about an earlier session's draft")
	}
}
