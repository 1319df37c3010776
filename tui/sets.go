package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/config"
)

// setsView is the curated sets: golden (reference answers) and red-flag
// (assertions that must hold), each counted against the config's targets.
// It shows the workspace's sets, which g and r change at once; on focus it
// re-reads them from the store, and the store watch keeps them current
// while other sessions curate.
type setsView struct {
	c  *common
	ws *workspace

	width, height int
	kind          loop.SetKind
	entries       []loop.SetEntry // of kind, newest first
	list          cursorList
	reading       bool
	form          *setForm
	filter        textinput.Model
}

// setsReadMsg is both sets as the store holds them; seq is the
// workspace's change seq when the read was asked for.
type setsReadMsg struct {
	seq  int
	sets map[loop.SetKind]map[string]loop.SetEntry
	err  error
}

var setKinds = []loop.SetKind{loop.SetGolden, loop.SetRedFlag}

func newSetsView(c *common, ws *workspace) *setsView {
	fi := textinput.New()
	fi.Prompt = "/ "
	fi.Placeholder = "filter the entries: event id, reference or check text"
	fi.SetStyles(inputStyles(c.styles.isDark))
	return &setsView{c: c, ws: ws, kind: loop.SetGolden, filter: fi}
}

func (m *setsView) Init() tea.Cmd { return nil }
func (m *setsView) Title() string { return "Sets" }
func (m *setsView) Typing() bool  { return m.form != nil || m.filter.Focused() }

func (m *setsView) SetSize(w, h int) {
	m.width, m.height = w, h
	m.list.setHeight(m.listHeight())
	m.filter.SetWidth(max(w-4, 10))
	if m.form != nil {
		m.form.setWidth(w)
	}
}

// header: the set tabs with their counts, the target line, the column
// titles.
func (m *setsView) listHeight() int { return max(m.height-3, 1) }

func (m *setsView) switchKey() (prev, next key.Binding) {
	k := m.c.keys
	prev = key.NewBinding(key.WithKeys(k.PrevQueue.Keys()...), key.WithHelp(k.PrevQueue.Help().Key, "prev set"))
	next = key.NewBinding(key.WithKeys(k.NextQueue.Keys()...), key.WithHelp(k.NextQueue.Help().Key, "next set"))
	return prev, next
}

func (m *setsView) ShortHelp() []key.Binding {
	k := m.c.keys
	if m.form != nil {
		return m.form.help()
	}
	_, next := m.switchKey()
	return []key.Binding{k.Help, k.Open, next, k.Filter, k.AddEntry, k.EditEntry, k.RemoveEntry, k.NextScreen}
}

func (m *setsView) FullHelp() [][]key.Binding {
	k := m.c.keys
	prev, next := m.switchKey()
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom},
		{k.Open, prev, next, k.Filter, k.AddEntry, k.EditEntry, k.RemoveEntry, k.Undo},
		k.globalKeys(),
	}
}

func (m *setsView) focus() tea.Cmd {
	m.rebuild()
	if !m.ws.loaded || m.reading {
		return nil
	}
	m.reading = true
	st, seq := m.c.st, m.ws.seq
	return func() tea.Msg {
		sets, err := readSets(st)
		return setsReadMsg{seq: seq, sets: sets, err: err}
	}
}

func (m *setsView) blur() {}

func (m *setsView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg, marksChangedMsg, itemChangedMsg:
		m.rebuild()
	case setsReadMsg:
		m.reading = false
		if msg.err != nil {
			return statusErr("reading the sets: " + msg.err.Error())
		}
		m.ws.takeSets(msg)
		m.rebuild()
		return cmdOf(marksChangedMsg{})
	case setFormDoneMsg:
		m.form = nil
		if msg.entry == nil {
			return nil
		}
		m.kind = msg.entry.Kind
		cmd := m.ws.PutSetEntry(*msg.entry)
		m.rebuild()
		m.selectEntry(msg.entry.EventID)
		return cmd
	case tea.KeyPressMsg:
		if m.form != nil {
			return m.form.update(msg, m.ws)
		}
		if m.filter.Focused() {
			switch msg.String() {
			case "enter":
				m.filter.Blur()
				return nil
			case "esc":
				m.filter.Blur()
				m.filter.SetValue("")
				m.rebuild()
				return nil
			}
			var cmd tea.Cmd
			m.filter, cmd = m.filter.Update(msg)
			m.rebuild()
			return cmd
		}
		return m.key(msg)
	case tea.PasteMsg:
		if m.form != nil {
			return m.form.update(msg, m.ws)
		}
	}
	return nil
}

func (m *setsView) selectEntry(id string) {
	if i := slices.IndexFunc(m.entries, func(e loop.SetEntry) bool { return e.EventID == id }); i >= 0 {
		m.list.cursor = i
		m.list.clamp()
	}
}

func (m *setsView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	if m.list.navKey(k, msg) {
		return nil
	}
	switch {
	case key.Matches(msg, k.Filter):
		return m.filter.Focus()
	case key.Matches(msg, k.Back) && m.filter.Value() != "":
		m.filter.SetValue("")
		m.rebuild()
		return nil
	case key.Matches(msg, k.AddEntry):
		m.form = newSetForm(m.c, m.kind, nil)
		m.form.setWidth(m.width)
		return nil
	case key.Matches(msg, k.EditEntry):
		if i := m.list.cursor; i < len(m.entries) {
			e := m.entries[i]
			m.form = newSetForm(m.c, m.kind, &e)
			m.form.setWidth(m.width)
		}
		return nil
	case key.Matches(msg, k.RemoveEntry):
		if id := m.selected(); id != "" {
			return toggleSet(m.ws, m.kind, id, nil)
		}
		return nil
	case key.Matches(msg, k.Undo):
		return m.ws.Undo()
	}
	switch {
	case key.Matches(msg, k.PrevQueue), key.Matches(msg, k.NextQueue):
		if m.kind == loop.SetGolden {
			m.kind = loop.SetRedFlag
		} else {
			m.kind = loop.SetGolden
		}
		m.list.cursor, m.list.offset = 0, 0
		m.rebuild()
	case key.Matches(msg, k.Open):
		if id := m.selected(); id != "" {
			return cmdOf(OpenItemMsg{ID: id, nav: listNav{ids: m.ids, list: &m.list}})
		}
	}
	return nil
}

func (m *setsView) selected() string {
	if m.list.cursor < len(m.entries) {
		return m.entries[m.list.cursor].EventID
	}
	return ""
}

func (m *setsView) ids() []string {
	out := make([]string, len(m.entries))
	for i, e := range m.entries {
		out[i] = e.EventID
	}
	return out
}

// rebuild lists the shown set from the workspace, keeping the selection.
// A set is hundreds of entries: sorting them here is cheap.
func (m *setsView) rebuild() {
	keep := m.selected()
	set := m.ws.sets[m.kind]
	m.entries = m.entries[:0]
	q := strings.ToLower(strings.TrimSpace(m.filter.Value()))
	for _, e := range set {
		if q != "" && !strings.Contains(strings.ToLower(e.EventID+" "+e.Reference+" "+assertionSummary(&e)), q) {
			continue
		}
		m.entries = append(m.entries, e)
	}
	slices.SortFunc(m.entries, func(a, b loop.SetEntry) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return cmp.Compare(a.EventID, b.EventID)
	})
	m.list.setLen(len(m.entries))
	if keep != "" {
		if i := slices.IndexFunc(m.entries, func(e loop.SetEntry) bool { return e.EventID == keep }); i >= 0 {
			m.list.cursor = i
			m.list.clamp()
		}
	}
}

// takeSets takes the sets as read from the store. An entry this view
// changed while the read ran, or whose write is still in flight, keeps its
// state in memory: that is newer than what was read.
func (w *workspace) takeSets(msg setsReadMsg) {
	ours := func(kind loop.SetKind, id string) bool {
		return w.ours((&change{id: id, kind: kind}).key(), msg.seq)
	}
	var changed []string
	for _, kind := range setKinds {
		old, read := w.sets[kind], msg.sets[kind]
		next := make(map[string]loop.SetEntry, len(read))
		for id, e := range read {
			if !ours(kind, id) {
				next[id] = e
			}
		}
		for id, e := range old {
			if ours(kind, id) {
				next[id] = e
			}
			if _, ok := next[id]; !ok {
				changed = append(changed, id)
			}
		}
		for id := range next {
			if _, ok := old[id]; !ok {
				changed = append(changed, id)
			}
		}
		w.sets[kind] = next
	}
	for _, id := range changed {
		w.refreshMark(id)
	}
}

// targetLine is a set's size against its target, the name and size in
// the tab's style: "golden 152 / 100–300 ✓", "red-flag 12 / ≥50 — 38 to go".
func targetLine(s Styles, tab lipgloss.Style, name string, n int, t config.SetTarget) string {
	var want string
	switch {
	case t.Min > 0 && t.Max > 0:
		want = fmt.Sprintf("%d–%d", t.Min, t.Max)
	case t.Max > 0:
		want = fmt.Sprintf("≤%d", t.Max)
	case t.Min > 0:
		want = fmt.Sprintf("≥%d", t.Min)
	default:
		return tab.Render(fmt.Sprintf("%s %d", name, n)) + s.Muted.Render("(no target)")
	}
	out := tab.Render(fmt.Sprintf("%s %d", name, n)) + s.Muted.Render("/ "+want)
	switch {
	case n < t.Min:
		return out + s.Flag.Render(fmt.Sprintf(" — %d to go", t.Min-n))
	case t.Max > 0 && n > t.Max:
		return out + s.Fail.Render(fmt.Sprintf(" — %d over", n-t.Max))
	}
	return out + s.Pass.Render(" ✓")
}

func (m *setsView) View() string {
	s := m.c.styles
	if !m.ws.loaded {
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, s.Muted.Render("loading…"))
	}
	var tabs []string
	for _, k := range setKinds {
		st := s.Tab
		if k == m.kind {
			st = s.TabActive
		}
		t := m.c.targets.Golden
		if k == loop.SetRedFlag {
			t = m.c.targets.RedFlag
		}
		tabs = append(tabs, targetLine(s, st, setName(k), len(m.ws.sets[k]), t))
	}
	cols := setColumns(m.width)
	head := "  " + pad("EVENT", cols.id) + " " + pad(refTitle(m.kind), cols.ref) + " " + pad("CHECKS", cols.checks) + " " + pad("BY", cols.by) + " " + "ADDED"
	hint := s.Subtle.Render(m.hint())
	if m.filter.Focused() || m.filter.Value() != "" {
		hint = m.filter.View()
	}
	lines := []string{
		fit(strings.Join(tabs, "   "), m.width),
		fit(hint, m.width),
		fit(s.Label.Render(head), m.width),
	}
	if m.form != nil {
		lines = append(lines[:2], m.form.view(m.width)...)
		return padLines(lines, m.width, m.height)
	}
	if len(m.entries) == 0 {
		msg := "  no " + setName(m.kind) + " items yet: press a to add one, or " + m.keyFor() + " on an item in the inbox or the item screen"
		if m.filter.Value() != "" {
			msg = fmt.Sprintf("  no %s entry matches %q — esc clears the filter", setName(m.kind), m.filter.Value())
		}
		lines = append(lines, "", fit(s.Muted.Render(msg), m.width))
		return padLines(lines, m.width, m.height)
	}
	from, to := m.list.visible()
	for i := from; i < to; i++ {
		lines = append(lines, m.rowView(&m.entries[i], cols, i == m.list.cursor))
	}
	return padLines(lines, m.width, m.height)
}

func (m *setsView) hint() string {
	if m.kind == loop.SetGolden {
		return "golden: answers `loupe eval` scores · a add · e edit · x remove · / filter · h/l set"
	}
	return "red-flag: checks `loupe gate` runs · a add · e edit · x remove · / filter · h/l set"
}

func (m *setsView) keyFor() string {
	if m.kind == loop.SetGolden {
		return m.c.keys.Golden.Help().Key
	}
	return m.c.keys.RedFlag.Help().Key
}

func setName(k loop.SetKind) string {
	if k == loop.SetRedFlag {
		return "red-flag"
	}
	return "golden"
}

func refTitle(k loop.SetKind) string {
	if k == loop.SetRedFlag {
		return "REFERENCE / ASSERTIONS"
	}
	return "REFERENCE"
}

type setCols struct{ id, ref, checks, by int }

func setColumns(w int) setCols {
	c := setCols{id: 20, checks: 6, by: 10}
	if w < 100 {
		c = setCols{id: 19, checks: 6, by: 8}
	}
	// cursor 2, then each column and a space, then ADDED (5).
	c.ref = max(w-2-c.id-1-c.checks-1-c.by-1-5-1, 8)
	return c
}

// assertions counts a red-flag entry's checks.
func assertions(e *loop.SetEntry) int {
	n := len(e.MustContain) + len(e.MustNotContain) + len(e.Regex)
	if e.MaxLatencyMS != nil {
		n++
	}
	return n
}

func (m *setsView) rowView(e *loop.SetEntry, c setCols, selected bool) string {
	s := m.c.styles
	var b strings.Builder
	if selected {
		b.WriteString(s.Cursor.Render("▸ "))
	} else {
		b.WriteString("  ")
	}
	b.WriteString(pad(e.EventID, c.id))
	b.WriteByte(' ')
	ref := loop.OneLine(e.Reference, 200)
	if ref == "" {
		if m.kind == loop.SetRedFlag && assertions(e) > 0 {
			ref = s.Muted.Render(assertionSummary(e))
		} else if i, ok := m.ws.items.Find(e.EventID); ok {
			ref = s.Subtle.Render("(no reference) " + m.ws.items.Snippet(int(i)))
		} else {
			ref = s.Subtle.Render("(no reference)")
		}
	} else {
		ref = "“" + ref + "”"
	}
	b.WriteString(pad(ref, c.ref))
	b.WriteByte(' ')
	n := assertions(e)
	checks := s.Subtle.Render(pad("  ·", c.checks))
	if n > 0 {
		checks = pad(fmt.Sprintf("%3d", n), c.checks)
	}
	b.WriteString(checks)
	b.WriteByte(' ')
	b.WriteString(s.Muted.Render(pad(e.AddedBy, c.by)))
	b.WriteByte(' ')
	if !e.At.IsZero() {
		b.WriteString(s.Muted.Render(e.At.In(m.c.loc).Format("01-02")))
	}
	line := fit(b.String(), m.width)
	if selected {
		return s.RowSelected.Render(line)
	}
	return line
}

func assertionSummary(e *loop.SetEntry) string {
	var parts []string
	for _, x := range e.MustContain {
		parts = append(parts, "+"+x)
	}
	for _, x := range e.MustNotContain {
		parts = append(parts, "-"+x)
	}
	for _, x := range e.Regex {
		parts = append(parts, "/"+x+"/")
	}
	if e.MaxLatencyMS != nil {
		parts = append(parts, fmt.Sprintf("≤%.0f ms", *e.MaxLatencyMS))
	}
	return strings.Join(parts, " ")
}
