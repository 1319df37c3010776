package tui

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
)

// itemView shows one event in full, with its labels and the rubric, and
// grades it.
type itemView struct {
	c   *common
	ws  *workspace
	nav navigator
	// inboxNav is nav for items opened from the inbox.
	inboxNav navigator

	width, height int
	id            string
	seq           int // tags loads; answers for an item no longer shown are dropped
	ev            *loop.Event
	diff          []diffOp
	history       []loop.Label
	sigs          []*loop.Signal // the timeline: the event's signals, oldest first
	err           error
	vp            viewport.Model
}

type itemLoadedMsg struct {
	seq     int
	ev      *loop.Event
	diff    []diffOp
	history []loop.Label
	sigs    []*loop.Signal
	err     error
}

type historyMsg struct {
	seq     int
	history []loop.Label
	err     error
}

// sidePanelMin is the width from which the grading panel sits beside the
// content instead of below it.
const sidePanelMin = 140

// navigator moves through the list the item screen was opened from. Grade
// and advance must be one step: a key pressed right after p has to land on
// the next item, not on the one just graded, so the item screen asks
// synchronously instead of waiting for a message round trip.
type navigator interface {
	// Next moves the selection past id and returns the item there; Prev
	// moves it before id.
	Next(after string) (id string, ok bool)
	Prev(before string) (id string, ok bool)
}

func newItemView(c *common, ws *workspace, nav navigator) *itemView {
	vp := viewport.New()
	vp.KeyMap.Left.SetEnabled(false)
	vp.KeyMap.Right.SetEnabled(false)
	return &itemView{c: c, ws: ws, nav: nav, inboxNav: nav, vp: vp}
}

func (m *itemView) Init() tea.Cmd { return nil }
func (m *itemView) Title() string { return "Item" }
func (m *itemView) Typing() bool  { return false }

func (m *itemView) SetSize(w, h int) {
	m.width, m.height = w, h
	m.refresh()
}

func (m *itemView) panelWidth() int {
	if m.width >= sidePanelMin {
		return min(m.width*2/5, 70)
	}
	return 0
}

func (m *itemView) ShortHelp() []key.Binding {
	k := m.c.keys
	return []key.Binding{k.Help, k.Back, k.Pass, k.Fail, k.Borderline, k.Reason, k.Note, k.NextItem, k.Undo, k.Skip}
}

func (m *itemView) FullHelp() [][]key.Binding {
	k := m.c.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom, k.PrevItem, k.NextItem, k.Back},
		k.gradeKeys(),
		k.globalKeys(),
	}
}

func (m *itemView) open(id string) tea.Cmd {
	m.id, m.ev, m.diff, m.history, m.sigs, m.err = id, nil, nil, nil, nil, nil
	m.seq++
	m.vp.GotoTop()
	m.refresh()
	var hold tea.Cmd
	if m.nav == m.inboxNav {
		hold = m.ws.hold(id) // opened from the queue: nobody else gets it meanwhile
	}
	return tea.Batch(hold, m.readItem())
}

// readItem reads the open item's event, label history and signals.
func (m *itemView) readItem() tea.Cmd {
	seq, st, id := m.seq, m.c.st, m.id
	return func() tea.Msg {
		ev, err := st.Event(id)
		if err != nil {
			return itemLoadedMsg{seq: seq, err: err}
		}
		h, err := st.History(id)
		if err != nil {
			return itemLoadedMsg{seq: seq, err: err}
		}
		sigs, err := st.Signals(id)
		return itemLoadedMsg{seq: seq, ev: ev, diff: editDiff(ev), history: h, sigs: sigs, err: err}
	}
}

// back opens the previous item of the list.
func (m *itemView) back() tea.Cmd {
	prev, ok := m.nav.Prev(m.id)
	if !ok {
		return statusInfo("this is the first item of the list")
	}
	return m.open(prev)
}

// advance opens the next item of the list, or goes back to the inbox after
// the last one.
func (m *itemView) advance() tea.Cmd {
	next, ok := m.nav.Next(m.id)
	if !ok {
		m.id, m.ev, m.history = "", nil, nil
		return tea.Batch(statusInfo("end of the list: that was its last item"), cmdOf(backMsg{}))
	}
	return m.open(next)
}

func (m *itemView) reloadHistory() tea.Cmd {
	seq, st, id := m.seq, m.c.st, m.id
	return func() tea.Msg {
		h, err := st.History(id)
		return historyMsg{seq: seq, history: h, err: err}
	}
}

func (m *itemView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case OpenItemMsg:
		m.nav = m.inboxNav
		if msg.nav != nil {
			m.nav = msg.nav
		}
		return m.open(msg.ID)
	case itemLoadedMsg:
		if msg.seq == m.seq {
			m.ev, m.diff, m.history, m.sigs, m.err = msg.ev, msg.diff, msg.history, msg.sigs, msg.err
			m.refresh()
		}
	case historyMsg:
		if msg.seq == m.seq && msg.err == nil {
			m.history = msg.history
			m.refresh()
		}
	case itemChangedMsg:
		if msg.ID == m.id {
			return m.reloadHistory()
		}
	case storeUpdatedMsg:
		if m.id != "" && slices.Contains(msg.IDs, m.id) {
			return m.readItem() // a signal, or erased: fields and timeline follow
		}
	case marksChangedMsg, tea.BackgroundColorMsg:
		m.refresh()
	case undoneMsg:
		if m.id != "" && msg.ID != m.id {
			return m.open(msg.ID)
		}
	case tea.KeyPressMsg:
		cmd := m.key(msg)
		m.refresh()
		return cmd
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd
	}
	return nil
}

func (m *itemView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	id := m.id
	switch {
	case key.Matches(msg, k.Back):
		return cmdOf(backMsg{})
	case id == "":
		return nil
	case key.Matches(msg, k.NextItem):
		return m.advance()
	case key.Matches(msg, k.PrevItem):
		return m.back()
	case key.Matches(msg, k.HalfDown):
		m.vp.HalfPageDown()
		return nil
	case key.Matches(msg, k.HalfUp):
		m.vp.HalfPageUp()
		return nil
	case key.Matches(msg, k.Top):
		m.vp.GotoTop()
		return nil
	case key.Matches(msg, k.Bottom):
		m.vp.GotoBottom()
		return nil
	}
	if errors.Is(m.err, store.ErrNotFound) && key.Matches(msg, k.gradeKeys()...) && !key.Matches(msg, k.Skip) {
		return statusInfo(id + " was erased: there is nothing left to grade")
	}
	if cmd, advance := gradeKey(m.c, m.ws, id, m.ev, msg); cmd != nil || advance {
		if advance {
			return tea.Batch(cmd, m.advance())
		}
		return cmd
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return cmd
}

// refresh re-renders the content into the viewport (cheap: one item).
func (m *itemView) refresh() {
	if m.width == 0 {
		return
	}
	pw := m.panelWidth()
	cw := m.width
	if pw > 0 {
		cw = m.width - pw - 1
	}
	m.vp.SetWidth(cw)
	m.vp.SetHeight(max(m.height-m.barHeight(), 1))
	y := m.vp.YOffset()
	lines := m.contentLines(cw)
	if pw == 0 {
		lines = append(lines, "")
		lines = append(lines, m.panelLines(cw)...)
	}
	if m.ev != nil {
		lines = append(lines, "")
		lines = append(lines, reasonCodeLines(m.c, cw)...)
	}
	m.vp.SetContentLines(lines)
	m.vp.SetYOffset(y)
}

func (m *itemView) View() string {
	s := m.c.styles
	if m.id == "" {
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center,
			s.Muted.Render("no item open: select one in the inbox and press enter"))
	}
	header := m.headerLine()
	if m.barHeight() == 2 {
		header += "\n" + m.labelBar()
	}
	body := m.vp.View()
	if pw := m.panelWidth(); pw > 0 {
		lines := m.panelLines(pw - 4)
		if max(m.height-3, 0) < len(lines) {
			lines = lines[:max(m.height-3, 0)]
		}
		panel := s.Panel.Width(pw).Height(m.height - 1).Render(strings.Join(lines, "\n"))
		body = lipgloss.JoinHorizontal(lipgloss.Top, body, " ", clipLines(panel, m.height-1))
	}
	return lipgloss.JoinVertical(lipgloss.Left, header, body)
}

// clipLines keeps at most n lines of s.
func clipLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// barHeight is the fixed lines above the content: the header, and when the
// grading panel is not beside the content, a one-line summary of the label.
func (m *itemView) barHeight() int {
	if m.panelWidth() > 0 {
		return 1
	}
	return 2
}

// labelBar sums up the reviewer's label or draft in one line, so that a key
// press shows at once even when the grading panel is scrolled away.
func (m *itemView) labelBar() string {
	s := m.c.styles
	mine, saved := m.ws.Mine(m.id)
	grade := s.Subtle.Render("ungraded")
	if saved {
		grade = gradeStyle(s, mine.Grade).Render(string(mine.Grade))
	}
	reasons, note, ref := mine.Reasons, mine.Note, mine.Reference
	d := m.ws.Draft(m.id)
	if d != nil {
		reasons, note, ref = d.Reasons, d.Note, d.Reference
	}
	parts := []string{s.Label.Render("you: ") + grade}
	if len(reasons) > 0 {
		parts = append(parts, strings.Join(reasons, ","))
	}
	if note != "" {
		parts = append(parts, "note")
	}
	if ref != "" {
		parts = append(parts, "reference")
	}
	if m.ws.InSet(loop.SetGolden, m.id) {
		parts = append(parts, s.Flag.Render("golden"))
	}
	if m.ws.InSet(loop.SetRedFlag, m.id) {
		parts = append(parts, s.Flag.Render("red-flag"))
	}
	line := strings.Join(parts, " · ")
	if d != nil {
		line += s.Pending.Render("  (draft, kept: p/f/b grades it)")
	}
	return fit(line, m.width)
}

func (m *itemView) headerLine() string {
	s := m.c.styles
	left := s.Title.Render(m.id)
	if i, ok := m.ws.items.Find(m.id); ok {
		sum := m.ws.items.At(int(i))
		left += "  " + s.Muted.Render(strings.Join(nonEmpty(sum.Time.In(m.c.loc).Format("2006-01-02 15:04"), sum.Model, sum.Segment, sum.Task, sum.Locale), " · "))
	}
	right := s.Muted.Render(fmt.Sprintf("%d%%", int(m.vp.ScrollPercent()*100)))
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return fit(left, m.width)
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *itemView) contentLines(w int) []string {
	s := m.c.styles
	var out []string
	add := func(ls ...string) { out = append(out, ls...) }
	section := func(title string) {
		if len(out) > 0 {
			add("")
		}
		add(s.Section.Render(title))
	}
	switch {
	case errors.Is(m.err, store.ErrNotFound):
		add(s.StatusError.Render("this item is no longer in the store: it was erased (consent withdrawn, or forgotten)"))
		return out
	case m.err != nil:
		add(s.StatusError.Render("could not read this item: " + m.err.Error()))
		return out
	case m.ev == nil:
		add(s.Muted.Render("loading…"))
		return out
	}
	ev := m.ev
	if q, ok := m.ws.Queued(m.id); ok {
		add(hang(s.Label.Render("sampled  "), s.Accent.Render(queueWhy(q)), 9, w)...)
	}
	section("Input")
	add(textBlock(s, inputText(ev), w)...)
	if ev.Input != nil && len(ev.Input.ContextRefs) > 0 {
		add(s.Muted.Render(ansi.Truncate("context: "+strings.Join(ev.Input.ContextRefs, ", "), w, "…")))
	}
	section("Output")
	add(textBlock(s, outputText(ev), w)...)
	if m.diff != nil {
		section("User edit  " + s.Muted.Render("(word diff against the output: [-removed-] {+added+})"))
		add(wrapLines(wordDiff(s, m.diff), w, 0)...)
	}
	section("Signals")
	add(m.signalLines(w)...)
	section("Timeline")
	add(timelineLines(s, m.c.loc, ev, m.sigs, w)...)
	section("PII masked")
	add(maskedLine(s, ev.Masked))
	section("Label history")
	if m.ws.sees(m.id) {
		add(historyLines(s, m.c.loc, m.history, w)...)
	} else {
		// Blind: only your own labels until you have graded it.
		var mine []loop.Label
		for _, l := range m.history {
			if l.Reviewer == m.c.reviewer {
				mine = append(mine, l)
			}
		}
		add(historyLines(s, m.c.loc, mine, w)...)
		add(s.Muted.Render("others' grades show once you have graded it (blind grading)"))
	}
	return out
}

func textBlock(s Styles, t string, w int) []string {
	if strings.TrimSpace(t) == "" {
		return []string{s.Subtle.Render("(empty)")}
	}
	var out []string
	for _, para := range strings.Split(t, "\n") {
		out = append(out, wrapLines(para, w, 0)...)
	}
	return out
}

func (m *itemView) signalLines(w int) []string {
	s := m.c.styles
	ev := m.ev
	var out []string
	line := func(label string, parts []string) {
		if len(parts) == 0 {
			return
		}
		out = append(out, wrapLines(s.Label.Render(pad(label, 11))+strings.Join(parts, "  "), w, 0)...)
	}
	var p []string
	if x := ev.Explicit; x != nil {
		switch ev.ThumbValue() {
		case loop.ThumbUp:
			p = append(p, s.ThumbUp.Render("▲ up"))
		case loop.ThumbDown:
			p = append(p, s.ThumbDown.Render("▼ down"))
		}
		if x.Rating != nil {
			p = append(p, fmt.Sprintf("rating %d/5", *x.Rating))
		}
		if len(x.ReasonCodes) > 0 {
			p = append(p, "reasons "+strings.Join(x.ReasonCodes, ","))
		}
		if x.ReasonText != "" {
			p = append(p, strconv.Quote(x.ReasonText))
		}
	}
	line("explicit", p)
	p = nil
	if x := ev.Implicit; x != nil {
		if x.DwellMS != nil {
			p = append(p, "dwell "+dur(*x.DwellMS))
		}
		p = appendBools(p, s, []namedBool{{"abandoned", x.Abandoned}, {"escalated", x.Escalated}, {"clicked", x.Clicked}, {"copied", x.Copied}})
		if x.Retries != nil {
			p = append(p, fmt.Sprintf("retries %d", *x.Retries))
		}
	}
	line("implicit", p)
	p = nil
	if x := ev.Checks; x != nil {
		if x.Toxicity != nil {
			p = append(p, fmt.Sprintf("toxicity %.2f", *x.Toxicity))
		}
		if x.Hallucination != nil {
			p = append(p, fmt.Sprintf("hallucination %.2f", *x.Hallucination))
		}
		if x.PolicyViolation != nil && *x.PolicyViolation {
			p = append(p, s.Flag.Render("policy violation"))
		}
		for _, k := range sortedKeys(x.Extra) {
			p = append(p, k+" "+string(x.Extra[k]))
		}
	}
	line("checks", p)
	p = nil
	if x := ev.Business; x != nil {
		p = appendBools(p, s, []namedBool{{"resolved", x.Resolved}, {"converted", x.Converted}})
		if x.Turns != nil {
			p = append(p, fmt.Sprintf("%d turns", *x.Turns))
		}
		if x.TimeToSuccessMS != nil {
			p = append(p, "success in "+dur(*x.TimeToSuccessMS))
		}
		if x.CostUSD != nil {
			p = append(p, fmt.Sprintf("$%.4f", *x.CostUSD))
		}
	}
	line("business", p)
	p = nil
	if o := ev.Output; o != nil {
		if o.LatencyMS != nil {
			p = append(p, "latency "+dur(*o.LatencyMS))
		}
		if o.Confidence != nil {
			p = append(p, fmt.Sprintf("confidence %.2f", *o.Confidence))
		}
		if o.CostUSD != nil {
			p = append(p, fmt.Sprintf("$%.4f", *o.CostUSD))
		}
	}
	line("output", p)
	p = nil
	if x := ev.Experiment; x != nil {
		p = append(p, nonEmpty(x.ID, x.Arm)...)
		if x.Position != nil {
			p = append(p, fmt.Sprintf("position %d", *x.Position))
		}
		if x.Propensity != nil {
			p = append(p, fmt.Sprintf("propensity %.3f", *x.Propensity))
		}
	}
	line("experiment", p)
	if l := ev.Label; l != nil && l.Grade != "" {
		line("upstream", []string{gradeStyle(s, l.Grade).Render(string(l.Grade)), l.RubricNotes})
	}
	if len(out) == 0 {
		out = append(out, s.Subtle.Render("(no signals)"))
	}
	return out
}

type namedBool struct {
	name string
	v    *bool
}

func appendBools(p []string, s Styles, bs []namedBool) []string {
	for _, b := range bs {
		if b.v == nil {
			continue
		}
		if *b.v {
			p = append(p, b.name)
		} else {
			p = append(p, s.Muted.Render("not "+b.name))
		}
	}
	return p
}

func dur(ms float64) string {
	return (time.Duration(ms * float64(time.Millisecond))).Round(time.Millisecond).String()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func maskedLine(s Styles, masked map[string]int) string {
	if len(masked) == 0 {
		return s.Subtle.Render("nothing was masked")
	}
	var parts []string
	for _, k := range sortedKeys(masked) {
		parts = append(parts, fmt.Sprintf("[%s] ×%d", k, masked[k]))
	}
	return strings.Join(parts, "  ")
}

func historyLines(s Styles, loc *time.Location, h []loop.Label, w int) []string {
	if len(h) == 0 {
		return []string{s.Subtle.Render("no labels yet")}
	}
	var out []string
	for _, l := range h {
		g := gradeStyle(s, l.Grade).Render(pad(string(l.Grade), 10))
		if l.Deleted {
			g = s.Muted.Render(pad("withdrawn", 10))
		}
		line := s.Muted.Render(l.At.In(loc).Format("2006-01-02 15:04")) + "  " + pad(l.Reviewer, 12) + " " + g
		if len(l.Reasons) > 0 {
			line += " " + strings.Join(l.Reasons, ",")
		}
		if l.Note != "" {
			line += " " + s.Muted.Render(strconv.Quote(l.Note))
		}
		out = append(out, ansi.Truncate(line, w, "…"))
	}
	return out
}

// panelLines is the grading panel: the reviewer's label or draft with the
// reason codes, sets, and the rubric.
func (m *itemView) panelLines(w int) []string {
	return gradePanel(m.c, m.ws, m.id, w)
}

func gradePanel(c *common, ws *workspace, id string, w int) []string {
	s := c.styles
	var out []string
	add := func(ls ...string) { out = append(out, ls...) }
	mine, saved := ws.Mine(id)
	d := ws.Draft(id)
	title := "Your label"
	switch {
	case d != nil:
		title += s.Pending.Render("  draft, kept until you grade (p/f/b)")
	case saved:
		title += s.Muted.Render("  saved " + mine.At.In(c.loc).Format("01-02 15:04"))
	}
	add(ansi.Truncate(s.PanelTitle.Render("Your label")+strings.TrimPrefix(title, "Your label"), w, "…"))
	grade := s.Subtle.Render("none")
	if saved {
		grade = gradeStyle(s, mine.Grade).Render(string(mine.Grade))
	}
	add(s.Label.Render("grade ") + grade + s.Muted.Render("   p pass · b borderline · f fail"))
	reasons, note, ref := mine.Reasons, mine.Note, mine.Reference
	if d != nil {
		reasons, note, ref = d.Reasons, d.Note, d.Reference
	}
	for i, rc := range c.taxonomy {
		if i >= 9 {
			break
		}
		box := "[ ]"
		st := s.Value
		if slices.Contains(reasons, rc.Code) {
			box, st = "[x]", s.Fail
		}
		line := fmt.Sprintf("%s %d %s", box, i+1, st.Render(rc.Code))
		line += "  " + s.Muted.Render(rc.Description)
		add(ansi.Truncate(line, w, "…"))
	}
	if note != "" {
		add(ansi.Truncate(s.Label.Render("note ")+oneLine(note), w, "…"))
	}
	if ref != "" {
		add(ansi.Truncate(s.Label.Render("reference ")+oneLine(ref), w, "…"))
	}
	sets := s.Label.Render("sets ") + setMark(s, "golden", ws.InSet(loop.SetGolden, id)) + "  " + setMark(s, "red-flag", ws.InSet(loop.SetRedFlag, id))
	add(sets)
	add("")
	add(s.PanelTitle.Render("Rubric"))
	for _, gc := range c.rubric.Grades {
		add(hang(gradeStyle(s, gc.Grade).Render(pad(string(gc.Grade), 11)), gc.Criteria, 11, w)...)
		for _, ex := range gc.Examples {
			add(hang("  e.g. ", s.Muted.Render(ex), 7, w)...)
		}
	}
	return out
}

// reasonCodeLines explains the taxonomy with examples and near misses.
func reasonCodeLines(c *common, w int) []string {
	s := c.styles
	out := []string{s.Section.Render("Reason codes")}
	for i, rc := range c.taxonomy {
		out = append(out, hang(fmt.Sprintf("%d ", i+1), s.Title.Render(rc.Code)+": "+rc.Description, 2, w)...)
		if rc.Example != "" {
			out = append(out, hang(s.Muted.Render("  yes: "), s.Muted.Render(rc.Example), 7, w)...)
		}
		if rc.CounterExample != "" {
			out = append(out, hang(s.Muted.Render("  no:  "), s.Muted.Render(rc.CounterExample), 7, w)...)
		}
	}
	return out
}

func setMark(s Styles, name string, on bool) string {
	if on {
		return s.Flag.Render("[x] " + name)
	}
	return s.Muted.Render("[ ] " + name)
}

func oneLine(s string) string { return loop.OneLine(s, 200) }

// hang wraps text to width w after a prefix of the given width, indenting
// continuation lines to line up under the text.
func hang(prefix, text string, indent, w int) []string {
	lines := wrapLines(text, max(w-indent, 10), 0)
	for i := range lines {
		if i == 0 {
			lines[i] = prefix + lines[i]
		} else {
			lines[i] = strings.Repeat(" ", indent) + lines[i]
		}
	}
	return lines
}
