package tui

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/store"
)

// t0 is the fixed clock of the tests.
var t0 = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// testEvents builds n events covering the worked examples: thumbs, reasons,
// user edits, checks, masked PII counts.
func testEvents(n int) []*loop.Event {
	models := []string{"sum-2026.10", "sum-2026.11", "support-agent-3", "asr-large-2"}
	segments := []string{"free", "pro", "enterprise"}
	tasks := []string{"summarization", "summarization", "support", "transcription"}
	inputs := []string{
		"Summarize the attached quarterly report for the board, keep the key numbers",
		"Give me a short summary of the customer contract renewal terms",
		"My order 48213 never arrived and I want a refund please",
		"Transcribe the voicemail from the clinic about the appointment",
	}
	outputs := []string{
		"Revenue rose 12% in Q3 while costs fell. The board approved the new plan.",
		"The contract renews yearly unless cancelled 30 days before the end date.",
		"I am sorry about your order. I have issued a refund of $40 to your card.",
		"Hi this is the clinic calling about your appointment on fifteen May.",
	}
	reasons := [][]string{nil, {"factual_error"}, {"missing_info", "too_long"}, nil, {"mistranscription"}}
	var evs []*loop.Event
	for i := 0; i < n; i++ {
		k := i % 4
		e := &loop.Event{
			EventID:      fmt.Sprintf("evt-%03d", i),
			Timestamp:    t0.Add(-time.Duration(n-i) * 37 * time.Minute),
			ModelVersion: models[k],
			UserSegment:  segments[i%3],
			TaskType:     tasks[k],
			Locale:       []string{"en-US", "de-DE", "fr-FR"}[i%3],
			Input:        &loop.Input{Text: fmt.Sprintf("%s (#%d)", inputs[k], i)},
			Output:       &loop.Output{Text: outputs[k], LatencyMS: ptr(float64(300 + 10*i)), Confidence: ptr(0.8)},
			Implicit:     &loop.Implicit{DwellMS: ptr(float64(1500 * (i%5 + 1))), Escalated: ptr(i%7 == 0), Retries: ptr(i % 3)},
			Checks:       &loop.Checks{Toxicity: ptr(0.01 * float64(i%4)), PolicyViolation: ptr(i%11 == 0)},
			Business:     &loop.Business{Resolved: ptr(i%2 == 0), Turns: ptr(i%4 + 1)},
		}
		thumb := []string{"up", "down", ""}[i%3]
		if thumb != "" || i%5 == 1 {
			e.Explicit = &loop.Explicit{ReasonCodes: reasons[i%5]}
			if thumb != "" {
				e.Explicit.Thumb = ptr(thumb)
			}
			if thumb == "down" {
				e.Explicit.Rating = ptr(2)
			}
			if i%6 == 1 {
				e.Explicit.UserEdit = "Revenue rose 2% in Q3 while costs fell sharply. The board approved the new plan."
				if k != 0 {
					e.Explicit.UserEdit = outputs[k] + " Thanks."
				}
			}
		}
		if i%4 == 2 {
			e.Masked = map[string]int{"EMAIL": 1, "PHONE": 2}
		}
		evs = append(evs, e)
	}
	return evs
}

// openStore opens a store in a temp dir, filled with n test events.
func openStore(t testing.TB, n int) (*store.Store, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir, store.Options{Holder: "loupe tui test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if n > 0 {
		if _, err := st.PutEvents(testEvents(n)); err != nil {
			t.Fatal(err)
		}
	}
	return st, dir
}

// harness drives the root model synchronously: it sends a message, runs the
// commands Update returns (and theirs) and feeds their messages back, the
// way Bubble Tea would, but in order and without timers.
type harness struct {
	t  testing.TB
	st *store.Store
	m  *Model
	// root, when set, gets the messages instead of m (a Watching wrapper).
	root tea.Model
	quit bool
}

func newHarness(t testing.TB, st *store.Store, w, h int) *harness {
	t.Helper()
	return newHarnessAs(t, st, w, h, "alice")
}

func newHarnessAs(t testing.TB, st *store.Store, w, h int, reviewer string, cfg ...config.Config) *harness {
	t.Helper()
	o := Options{Reviewer: reviewer, Now: func() time.Time { return t0 }, Location: time.UTC}
	if len(cfg) > 0 {
		o.Config = &cfg[0]
	}
	m := New(st, o)
	m.c.tick = func(time.Duration, func(time.Time) tea.Msg) tea.Cmd { return nil }
	hs := &harness{t: t, st: st, m: m}
	hs.send(tea.WindowSizeMsg{Width: w, Height: h})
	hs.run(m.Init())
	if !m.ws.loaded && m.fatal == nil {
		t.Fatal("not loaded after Init")
	}
	return hs
}

func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	var root tea.Model = h.m
	if h.root != nil {
		root = h.root
	}
	_, cmd := root.Update(msg)
	h.run(cmd)
}

var cmdType = reflect.TypeOf((tea.Cmd)(nil))

func (h *harness) run(cmd tea.Cmd) {
	h.t.Helper()
	if cmd == nil {
		return
	}
	msg := cmd()
	if msg == nil {
		return
	}
	if v := reflect.ValueOf(msg); v.Kind() == reflect.Slice && v.Type().Elem() == cmdType {
		// tea.BatchMsg and Sequence's message: run each in order.
		for i := 0; i < v.Len(); i++ {
			h.run(v.Index(i).Interface().(tea.Cmd))
		}
		return
	}
	if _, ok := msg.(tea.QuitMsg); ok {
		h.quit = true
		return
	}
	h.send(msg)
}

// adjudicating is the default config with reviewer as the adjudicator.
func adjudicating(reviewer string) config.Config {
	c := config.Default()
	c.Review.Roles.Adjudicator = []string{reviewer}
	return c
}

// press sends key presses: single characters, or names like "enter".
func (h *harness) press(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText sends each rune as a key press.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyMsg(k string) tea.KeyPressMsg {
	switch k {
	case "enter":
		return tea.KeyPressMsg{Code: tea.KeyEnter}
	case "esc":
		return tea.KeyPressMsg{Code: tea.KeyEscape}
	case "tab":
		return tea.KeyPressMsg{Code: tea.KeyTab}
	case "shift+tab":
		return tea.KeyPressMsg{Code: tea.KeyTab, Mod: tea.ModShift}
	case "up":
		return tea.KeyPressMsg{Code: tea.KeyUp}
	case "down":
		return tea.KeyPressMsg{Code: tea.KeyDown}
	case "left":
		return tea.KeyPressMsg{Code: tea.KeyLeft}
	case "right":
		return tea.KeyPressMsg{Code: tea.KeyRight}
	case "pgdown":
		return tea.KeyPressMsg{Code: tea.KeyPgDown}
	case "end":
		return tea.KeyPressMsg{Code: tea.KeyEnd}
	case "home":
		return tea.KeyPressMsg{Code: tea.KeyHome}
	case "ctrl+s":
		return tea.KeyPressMsg{Code: 's', Mod: tea.ModCtrl}
	case "ctrl+c":
		return tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl}
	case "ctrl+d":
		return tea.KeyPressMsg{Code: 'd', Mod: tea.ModCtrl}
	case "ctrl+u":
		return tea.KeyPressMsg{Code: 'u', Mod: tea.ModCtrl}
	}
	r := []rune(k)
	if len(r) != 1 {
		panic("unknown key " + k)
	}
	return tea.KeyPressMsg{Code: r[0], Text: k}
}

// label is alice's current label on id in the store.
func (h *harness) label(id string) (loop.Label, bool) {
	h.t.Helper()
	ls, err := h.st.Labels(id)
	if err != nil {
		h.t.Fatal(err)
	}
	for _, l := range ls {
		if l.Reviewer == "alice" {
			return l, true
		}
	}
	return loop.Label{}, false
}

func (h *harness) inSet(kind loop.SetKind, id string) (loop.SetEntry, bool) {
	h.t.Helper()
	var found loop.SetEntry
	ok := false
	if err := h.st.SetEntries(kind, func(e loop.SetEntry) error {
		if e.EventID == id {
			found, ok = e, true
		}
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	return found, ok
}

func (h *harness) selected() string { return h.m.inbox.selected() }

// rowOf is the row of the item with id in the workspace's list, -1 when it
// is not there.
func (w *workspace) rowOf(id string) int32 {
	if i, ok := w.items.Find(id); ok {
		return int32(i)
	}
	return -1
}
