package tui

import (
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// confirmBox asks a question in the status line before something that
// loses work (quitting with drafts, removing a set entry with checks). It
// takes the next key: one of its choices, or anything else, which cancels.
type confirmBox struct {
	question string
	choices  []choice
	// cancel runs on any other key (nil: nothing).
	cancel func() tea.Cmd
}

type choice struct {
	key, label string
	do         func() tea.Cmd // runs in Update: it may change state
}

// confirmMsg opens a confirmation box.
type confirmMsg struct{ box *confirmBox }

func askCmd(b *confirmBox) tea.Cmd { return cmdOf(confirmMsg{box: b}) }

// answer takes a key press; the box is done after it.
func (b *confirmBox) answer(msg tea.KeyPressMsg) tea.Cmd {
	for _, c := range b.choices {
		if msg.String() == c.key {
			return c.do()
		}
	}
	if b.cancel != nil {
		return b.cancel()
	}
	return nil
}

func (b *confirmBox) view(s Styles, w int) string {
	parts := make([]string, len(b.choices))
	for i, c := range b.choices {
		parts[i] = s.Title.Render(c.key) + " " + c.label
	}
	// The choices always show: the question gives way first.
	tail := "  " + strings.Join(parts, s.Muted.Render(" · ")) + s.Muted.Render(" · other key: cancel")
	q := ansi.Truncate(b.question, max(w-ansi.StringWidth(tail), 10), "…")
	return fit(s.Flag.Render(q)+tail, w)
}
