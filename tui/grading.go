package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/loupe-dev/loupe/loop"
)

// gradeKey is the grading keys of the inbox and the item screen, in one
// place: p/f/b grade, s skips, 1–9 toggle a reason, n and e open the note
// and reference editors, g and r toggle the sets, u undoes. ev is the
// item's event when it has been read (nil otherwise). advance says the
// screen should move to the next item.
func gradeKey(c *common, ws *workspace, id string, ev *loop.Event, msg tea.KeyPressMsg) (cmd tea.Cmd, advance bool) {
	k := c.keys
	switch {
	case key.Matches(msg, k.Pass):
		return ws.Grade(id, loop.GradePass), true
	case key.Matches(msg, k.Fail):
		return ws.Grade(id, loop.GradeFail), true
	case key.Matches(msg, k.Borderline):
		return ws.Grade(id, loop.GradeBorderline), true
	case key.Matches(msg, k.Skip):
		return nil, true
	case key.Matches(msg, k.Reason):
		return ws.ToggleReason(id, int(msg.Code-'0')), false
	case key.Matches(msg, k.Note):
		initial := ""
		if d := ws.Draft(id); d != nil {
			initial = d.Note
		} else if l, ok := ws.Mine(id); ok {
			initial = l.Note
		}
		return cmdOf(editMsg{ID: id, Initial: initial}), false
	case key.Matches(msg, k.Reference):
		return cmdOf(editMsg{ID: id, Reference: true, Initial: referenceSeed(ws, id, ev)}), false
	case key.Matches(msg, k.Golden):
		return toggleSet(ws, loop.SetGolden, id, ev), false
	case key.Matches(msg, k.RedFlag):
		return toggleSet(ws, loop.SetRedFlag, id, ev), false
	case key.Matches(msg, k.Undo):
		return ws.Undo(), false
	}
	return nil, false
}

// toggleSet adds id to a set or takes it out; taking out an entry that
// carries checks asks first, since they are work someone did.
func toggleSet(ws *workspace, kind loop.SetKind, id string, ev *loop.Event) tea.Cmd {
	do := func() tea.Cmd { return ws.ToggleSet(kind, id, userEdit(ev), ev != nil) }
	e, in := ws.sets[kind][id]
	if !in || checksOf(e) == "" {
		return do()
	}
	return askCmd(&confirmBox{
		question: fmt.Sprintf("Remove %s from %s with its %d check(s) (%s)?", id, setName(kind), assertions(&e), checksOf(e)),
		choices:  []choice{{"y", "remove", do}},
		cancel:   func() tea.Cmd { return statusInfo("kept " + id + " in " + setName(kind)) },
	})
}
