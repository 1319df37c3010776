package tui

import (
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// editor is the note (one line) or reference (multi-line) input, shown
// below the active screen. It keeps keys to itself while open: q and the
// grade keys are text there.
type editor struct {
	c         *common
	id        string
	reference bool
	input     textinput.Model
	area      textarea.Model
	width     int
	initial   string
}

type editDoneMsg struct {
	id        string
	reference bool
	text      string
	cancelled bool
}

func newEditor(c *common, msg editMsg) *editor {
	e := &editor{c: c, id: msg.ID, reference: msg.Reference, initial: msg.Initial}
	if msg.Reference {
		e.area = textarea.New()
		e.area.SetStyles(areaStyles(c.styles.isDark))
		e.area.Placeholder = "the answer the model should have given"
		e.area.ShowLineNumbers = false
		e.area.SetValue(msg.Initial)
	} else {
		e.input = textinput.New()
		e.input.SetStyles(inputStyles(c.styles.isDark))
		e.input.Prompt = "note: "
		e.input.Placeholder = "why this grade"
		e.input.SetValue(msg.Initial)
	}
	return e
}

func (e *editor) height() int {
	if e.reference {
		return 8 + 2
	}
	return 1 + 2
}

func (e *editor) setWidth(w int) {
	e.width = w
	if e.reference {
		e.area.SetWidth(max(w-4, 10))
		e.area.SetHeight(7)
	} else {
		e.input.SetWidth(max(w-4-len(e.input.Prompt), 10))
	}
}

func (e *editor) focus() tea.Cmd {
	if e.reference {
		return e.area.Focus()
	}
	e.input.CursorEnd()
	return e.input.Focus()
}

func (e *editor) help() []key.Binding {
	k := e.c.keys
	if e.reference {
		return []key.Binding{k.Save, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	}
	return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
}

func (e *editor) value() string {
	if e.reference {
		return e.area.Value()
	}
	return e.input.Value()
}

// changed reports whether the text differs from what the editor opened
// with: something typed that quitting would lose.
func (e *editor) changed() bool { return e.value() != e.initial }

// done is the editor's text as a finished edit.
func (e *editor) done() editDoneMsg {
	return editDoneMsg{id: e.id, reference: e.reference, text: e.value()}
}

func (e *editor) what() string {
	if e.reference {
		return "reference on " + e.id
	}
	return "note on " + e.id
}

func (e *editor) update(msg tea.Msg) tea.Cmd {
	k := e.c.keys
	if kp, ok := msg.(tea.KeyPressMsg); ok {
		switch {
		case key.Matches(kp, k.Back):
			return cmdOf(editDoneMsg{id: e.id, reference: e.reference, cancelled: true})
		case e.reference && key.Matches(kp, k.Save):
			return cmdOf(editDoneMsg{id: e.id, reference: true, text: e.area.Value()})
		case !e.reference && key.Matches(kp, k.Accept):
			return cmdOf(editDoneMsg{id: e.id, text: e.input.Value()})
		}
	}
	var cmd tea.Cmd
	if e.reference {
		e.area, cmd = e.area.Update(msg)
	} else {
		e.input, cmd = e.input.Update(msg)
	}
	return cmd
}

func (e *editor) view() string {
	s := e.c.styles
	title := "Note on " + e.id
	body := ""
	if e.reference {
		title = "Reference output for " + e.id
		body = e.area.View()
	} else {
		body = e.input.View()
	}
	box := s.Panel.Width(e.width).Render(body)
	// The title sits on the top border line.
	lines := splitLines(box)
	if len(lines) > 0 {
		t := s.PanelTitle.Render(" " + title + " ")
		if lipgloss.Width(t)+3 < e.width {
			lines[0] = lipgloss.NewStyle().Foreground(s.p.Border).Render("╭─") + t + lipgloss.NewStyle().Foreground(s.p.Border).Render(repeat("─", e.width-3-lipgloss.Width(t))+"╮")
		}
	}
	return joinLines(lines)
}
