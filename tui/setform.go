package tui

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/loupe-dev/loupe/loop"
)

// setForm adds or edits a set entry on the Sets screen: the event (when
// adding), the reference answer and the checks loupe gate runs: must
// contain, must not contain, regex (several separated by ;) and a latency
// ceiling. Red-flag cases can be curated entirely here.
type setForm struct {
	c      *common
	kind   loop.SetKind
	adding bool
	base   loop.SetEntry
	fields []textinput.Model
	focus  int
	err    string
}

const (
	fieldEvent = iota
	fieldReference
	fieldMustContain
	fieldMustNotContain
	fieldRegex
	fieldLatency
	numSetFields
)

var setFieldNames = [numSetFields]string{"event", "reference", "must contain", "must not contain", "regex", "max latency ms"}

func newSetForm(c *common, kind loop.SetKind, e *loop.SetEntry) *setForm {
	f := &setForm{c: c, kind: kind, adding: e == nil}
	if e != nil {
		f.base = *e
	} else {
		f.base = loop.SetEntry{Kind: kind, AddedBy: c.reviewer}
	}
	vals := [numSetFields]string{
		f.base.EventID, f.base.Reference,
		strings.Join(f.base.MustContain, "; "), strings.Join(f.base.MustNotContain, "; "), strings.Join(f.base.Regex, "; "), "",
	}
	if f.base.MaxLatencyMS != nil {
		vals[fieldLatency] = strconv.FormatFloat(*f.base.MaxLatencyMS, 'f', -1, 64)
	}
	for i := range numSetFields {
		ti := textinput.New()
		ti.SetStyles(inputStyles(c.styles.isDark))
		ti.Prompt = pad(setFieldNames[i], 17) + " "
		ti.SetValue(vals[i])
		switch i {
		case fieldEvent:
			ti.Placeholder = "event id, e.g. evt-042"
		case fieldMustContain, fieldMustNotContain, fieldRegex:
			ti.Placeholder = "several separated by ;"
		case fieldLatency:
			ti.Placeholder = "empty: no limit"
		}
		f.fields = append(f.fields, ti)
	}
	if !f.adding {
		f.focus = fieldReference
	}
	f.fields[f.focus].Focus()
	return f
}

func (f *setForm) setWidth(w int) {
	for i := range f.fields {
		f.fields[i].SetWidth(max(w-22, 10))
	}
}

func (f *setForm) help() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab/↓", "next field")),
		key.NewBinding(key.WithKeys("ctrl+s"), key.WithHelp("ctrl+s/enter", "save")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel")),
	}
}

// setFormDoneMsg closes the form; entry is nil when cancelled.
type setFormDoneMsg struct{ entry *loop.SetEntry }

func (f *setForm) update(msg tea.Msg, ws *workspace) tea.Cmd {
	kp, ok := msg.(tea.KeyPressMsg)
	if !ok {
		var cmd tea.Cmd
		f.fields[f.focus], cmd = f.fields[f.focus].Update(msg)
		return cmd
	}
	first := fieldReference
	if f.adding {
		first = fieldEvent
	}
	move := func(d int) tea.Cmd {
		f.fields[f.focus].Blur()
		f.focus += d
		if f.focus >= numSetFields {
			f.focus = first
		}
		if f.focus < first {
			f.focus = numSetFields - 1
		}
		return f.fields[f.focus].Focus()
	}
	switch kp.String() {
	case "esc":
		return cmdOf(setFormDoneMsg{})
	case "tab", "down":
		return move(1)
	case "shift+tab", "up":
		return move(-1)
	case "ctrl+s":
		return f.save(ws)
	case "enter":
		if f.focus == numSetFields-1 {
			return f.save(ws)
		}
		return move(1)
	}
	var cmd tea.Cmd
	f.fields[f.focus], cmd = f.fields[f.focus].Update(msg)
	return cmd
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// save checks the form and returns the entry, or shows what is wrong.
func (f *setForm) save(ws *workspace) tea.Cmd {
	e := f.base
	e.Kind = f.kind
	e.EventID = strings.TrimSpace(f.fields[fieldEvent].Value())
	if _, ok := ws.items.Find(e.EventID); !ok {
		f.err = fmt.Sprintf("event: %q is not in the store", e.EventID)
		return nil
	}
	if f.adding && ws.InSet(f.kind, e.EventID) {
		f.err = fmt.Sprintf("event: %s is already in the %s set: select it and press e to edit", e.EventID, setName(f.kind))
		return nil
	}
	e.Reference = f.fields[fieldReference].Value()
	e.MustContain = splitList(f.fields[fieldMustContain].Value())
	e.MustNotContain = splitList(f.fields[fieldMustNotContain].Value())
	e.Regex = splitList(f.fields[fieldRegex].Value())
	for _, r := range e.Regex {
		if _, err := regexp.Compile(r); err != nil {
			f.err = fmt.Sprintf("regex %q: %v", r, err)
			return nil
		}
	}
	e.MaxLatencyMS = nil
	if v := strings.TrimSpace(f.fields[fieldLatency].Value()); v != "" {
		ms, err := strconv.ParseFloat(v, 64)
		if err != nil || ms < 0 {
			f.err = fmt.Sprintf("max latency ms: %q: want a number of milliseconds, 0 or more", v)
			return nil
		}
		e.MaxLatencyMS = &ms
	}
	if f.adding {
		e.AddedBy, e.At = f.c.reviewer, f.c.now()
	}
	return cmdOf(setFormDoneMsg{entry: &e})
}

func (f *setForm) view(w int) []string {
	s := f.c.styles
	title := "Edit " + f.base.EventID + " (" + setName(f.kind) + ")"
	if f.adding {
		title = "Add to the " + setName(f.kind) + " set"
	}
	lines := []string{s.PanelTitle.Render(title)}
	for i := range f.fields {
		if i == fieldEvent && !f.adding {
			continue
		}
		lines = append(lines, fit(f.fields[i].View(), w))
	}
	if f.err != "" {
		lines = append(lines, fit(s.StatusError.Render(f.err), w))
	} else {
		lines = append(lines, fit(s.Muted.Render("checks are what loupe gate asserts on a candidate's output; ; separates several"), w))
	}
	return lines
}
