package tui

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/compare"
	"github.com/loupe-dev/loupe/store"
)

// CompareOptions open the Compare screen: blind side-by-side review of a
// candidate model's answers against the current model's (loupe tui
// --compare FILE).
type CompareOptions struct {
	// Name is the candidate's name in the store (compare.CheckName).
	Name string
	// Answers maps event id to the candidate's answer text.
	Answers map[string]string
	// Set is which items to compare; default compare.SetGolden.
	Set compare.ItemSet
	// SideKey replaces the store's side key (compare.SideFor), for tests
	// that need the same sides in every temporary store.
	SideKey []byte
}

// addCompare adds the Compare screen to the root model and brings it to
// the front (the hook New calls; nil o: no screen).
func (m *Model) addCompare(o *CompareOptions) {
	if o == nil {
		return
	}
	m.compare = newCompareView(m.c, *o)
	m.screens = append(m.screens, m.compare)
	m.active = len(m.screens) - 1
}

// flushCompare finishes the Compare screen's writes still in flight (the
// hook Close calls).
func (m *Model) flushCompare() []error {
	if m.compare == nil {
		return nil
	}
	return m.compare.flush()
}

// compareKeys are the Compare screen's own keys. They live here, not in
// KeyMap, because they mean something else on this screen (1 and 2 pick
// a side instead of toggling reason codes).
type compareKeys struct {
	Left, Right, Tie, BothBad key.Binding
	Reason, Note, Undo, Diff  key.Binding
	Skip                      key.Binding
	Digit                     key.Binding // after Reason: reason code N
}

func newCompareKeys() compareKeys {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return compareKeys{
		Left:    b("1", "left better", "1"),
		Right:   b("2", "right better", "2"),
		Tie:     b("=", "tie", "="),
		BothBad: b("x", "both bad", "x"),
		Reason:  b("r 1-9", "toggle reason N", "r"),
		Note:    b("n", "note", "n"),
		Undo:    b("u", "undo", "u"),
		Diff:    b("d", "word diff", "d"),
		Skip:    b("s", "skip", "s"),
		Digit:   b("1-9", "reason code", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
	}
}

// compareItem is one item to compare: the stored event, the candidate's
// answer, the side the candidate is shown on, and the word diff of the
// left answer against the right one.
type compareItem struct {
	id     string
	ev     *loop.Event
	answer string
	side   compare.Side
	diff   []diffOp
}

func (it *compareItem) texts() (left, right string) {
	if it.side == compare.Left {
		return it.answer, outputText(it.ev)
	}
	return outputText(it.ev), it.answer
}

type compareDraft struct {
	reasons []string
	note    string
}

// compareWrite is one judgment or withdrawal on its way to the store.
type compareWrite struct {
	seq    int
	j      compare.Judgment
	before *compare.Judgment // the reviewer's judgment of the item before it
	run    func() compareSavedMsg
}

type (
	compareLoadedMsg struct {
		items []compareItem
		mine  map[string]compare.Judgment
		err   error
	}
	compareSavedMsg struct {
		seq int
		err error
	}
	compareSummaryMsg struct {
		seq int
		res compare.Results
		err error
	}
)

// compareView is the Compare screen. It is blind like grading: it shows
// the reviewer only their own judgments until they have compared every
// item; then it shows the results over everyone's.
type compareView struct {
	c    *common
	o    CompareOptions
	keys compareKeys
	key  []byte

	width, height int

	loaded bool
	err    error
	items  []compareItem               // in this reviewer's order
	mine   map[string]compare.Judgment // this reviewer's current judgments
	pos    int                         // the item shown; len(items): none left
	drafts map[string]*compareDraft

	reasonLayer bool
	noting      bool
	input       textinput.Model
	showDiff    bool
	scroll      int // lines both answers are scrolled down

	summarySeq int
	summary    *compare.Results
	summaryErr error

	seq     int
	pending []*compareWrite
	last    chan struct{}
}

func newCompareView(c *common, o CompareOptions) *compareView {
	if o.Set == "" {
		o.Set = compare.SetGolden
	}
	k := o.SideKey
	if k == nil {
		k = c.st.SideKey()
	}
	ti := textinput.New()
	ti.Prompt = "note: "
	ti.Placeholder = "why (enter keeps it for this comparison, esc cancels)"
	ti.SetStyles(inputStyles(c.styles.isDark))
	done := make(chan struct{})
	close(done)
	return &compareView{c: c, o: o, keys: newCompareKeys(), key: k, input: ti, mine: map[string]compare.Judgment{},
		drafts: map[string]*compareDraft{}, last: done}
}

func (m *compareView) Title() string { return "Compare" }
func (m *compareView) Typing() bool  { return m.noting }

func (m *compareView) SetSize(w, h int) {
	m.width, m.height = w, h
	m.input.SetWidth(max(w-4-len(m.input.Prompt), 10))
}

func (m *compareView) ShortHelp() []key.Binding {
	k := m.keys
	if m.noting {
		return []key.Binding{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "keep")), key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	}
	if m.reasonLayer {
		return []key.Binding{k.Digit, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))}
	}
	return []key.Binding{k.Left, k.Right, k.Tie, k.BothBad, k.Reason, k.Note, k.Diff, k.Undo, m.c.keys.Help}
}

func (m *compareView) FullHelp() [][]key.Binding {
	k := m.keys
	return [][]key.Binding{
		{k.Left, k.Right, k.Tie, k.BothBad},
		{k.Reason, k.Note, k.Diff, k.Skip, k.Undo},
		{m.c.keys.Down, m.c.keys.Up},
		m.c.keys.globalKeys(),
	}
}

func (m *compareView) Init() tea.Cmd {
	st, o, reviewer, sideKey := m.c.st, m.o, m.c.reviewer, m.key
	return func() tea.Msg { return loadCompare(st, o, reviewer, sideKey) }
}

// loadCompare reads the items of the set the candidate answers, their
// events, and the reviewer's own judgments of this candidate's present
// answers (those of an older answer do not count: the item is shown
// again).
func loadCompare(st *store.Store, o CompareOptions, reviewer string, sideKey []byte) compareLoadedMsg {
	hashes := make(map[string]string, len(o.Answers))
	for id, a := range o.Answers {
		hashes[id] = compare.AnswerHash(a)
	}
	ids, err := st.CompareItems(o.Set, hashes)
	if err != nil {
		return compareLoadedMsg{err: err}
	}
	var msg compareLoadedMsg
	for _, id := range compare.Order(sideKey, reviewer, o.Name, ids) {
		ev, err := st.Event(id)
		if err != nil {
			return compareLoadedMsg{err: err}
		}
		it := compareItem{id: id, ev: ev, answer: o.Answers[id], side: compare.SideFor(sideKey, id, reviewer, o.Name)}
		l, r := it.texts()
		it.diff = diffWords(l, r)
		msg.items = append(msg.items, it)
	}
	msg.mine = map[string]compare.Judgment{}
	err = st.Comparisons(func(j compare.Judgment) error {
		if j.Reviewer == reviewer && j.Candidate == o.Name && hashes[j.EventID] == j.AnswerSHA {
			msg.mine[j.EventID] = j
		}
		return nil
	})
	if err != nil {
		return compareLoadedMsg{err: err}
	}
	return msg
}

// summarize computes the results over every reviewer's judgments of the
// items, for the screen shown once the reviewer has compared them all.
func (m *compareView) summarize() tea.Cmd {
	m.summarySeq++
	seq, st, name := m.summarySeq, m.c.st, m.o.Name
	answers := make(map[string]string, len(m.items))
	for _, it := range m.items {
		answers[it.id] = compare.AnswerHash(it.answer)
	}
	return func() tea.Msg {
		var js []compare.Judgment
		err := st.Comparisons(func(j compare.Judgment) error {
			if _, ok := answers[j.EventID]; ok {
				js = append(js, j)
			}
			return nil
		})
		return compareSummaryMsg{seq: seq, res: compare.Compute(js, name, answers), err: err}
	}
}

// nextPending is the first item from i on (wrapping) not yet judged,
// len(items) when every one is.
func (m *compareView) nextPending(i int) int {
	n := len(m.items)
	for k := 0; k < n; k++ {
		j := (i + k) % n
		if _, ok := m.mine[m.items[j].id]; !ok {
			return j
		}
	}
	return n
}

func (m *compareView) left() int { return len(m.items) - len(m.mine) }

func (m *compareView) current() *compareItem {
	if m.pos < len(m.items) {
		return &m.items[m.pos]
	}
	return nil
}

func (m *compareView) draft(id string) *compareDraft {
	d := m.drafts[id]
	if d == nil {
		d = &compareDraft{}
		m.drafts[id] = d
	}
	return d
}

func (m *compareView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case compareLoadedMsg:
		m.loaded, m.err = true, msg.err
		m.items = msg.items
		if msg.mine != nil {
			m.mine = msg.mine
		}
		m.pos = m.nextPending(0)
		if m.err == nil && m.pos == len(m.items) && len(m.items) > 0 {
			return m.summarize()
		}
	case compareSavedMsg:
		return m.saved(msg)
	case compareSummaryMsg:
		if msg.seq == m.summarySeq {
			m.summary, m.summaryErr = &msg.res, msg.err
		}
	case tea.BackgroundColorMsg:
		m.input.SetStyles(inputStyles(msg.IsDark()))
	case tea.PasteMsg:
		if m.noting {
			var cmd tea.Cmd
			m.input, cmd = m.input.Update(msg)
			return cmd
		}
	case tea.KeyPressMsg:
		return m.keyPress(msg)
	}
	return nil
}

func (m *compareView) keyPress(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if m.noting {
		switch msg.String() {
		case "enter":
			if it := m.current(); it != nil {
				m.draft(it.id).note = strings.TrimSpace(m.input.Value())
			}
			m.noting = false
			m.input.Blur()
			return nil
		case "esc":
			m.noting = false
			m.input.Blur()
			return nil
		}
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return cmd
	}
	if !m.loaded || m.err != nil {
		return nil
	}
	if m.reasonLayer {
		m.reasonLayer = false
		if key.Matches(msg, k.Digit) {
			return m.toggleReason(int(msg.String()[0] - '1'))
		}
		return nil // esc, or any other key: the layer closes
	}
	if key.Matches(msg, k.Undo) {
		return m.undo()
	}
	it := m.current()
	if it == nil {
		return nil
	}
	switch {
	case key.Matches(msg, k.Left):
		return m.judge(compare.ChoseLeft)
	case key.Matches(msg, k.Right):
		return m.judge(compare.ChoseRight)
	case key.Matches(msg, k.Tie):
		return m.judge(compare.ChoseTie)
	case key.Matches(msg, k.BothBad):
		return m.judge(compare.ChoseBothBad)
	case key.Matches(msg, k.Reason):
		m.reasonLayer = true
	case key.Matches(msg, k.Note):
		m.noting = true
		m.input.SetValue(m.draft(it.id).note)
		m.input.CursorEnd()
		return m.input.Focus()
	case key.Matches(msg, k.Diff):
		m.showDiff = !m.showDiff
		m.scroll = min(m.scroll, m.maxScroll())
	case key.Matches(msg, m.c.keys.Down):
		m.scroll = min(m.scroll+1, m.maxScroll())
	case key.Matches(msg, m.c.keys.Up):
		m.scroll = max(m.scroll-1, 0)
	case key.Matches(msg, k.Skip):
		if next := m.nextPending(m.pos + 1); next < len(m.items) {
			m.pos, m.scroll = next, 0
		}
	}
	return nil
}

func (m *compareView) toggleReason(n int) tea.Cmd {
	it := m.current()
	if it == nil || n < 0 || n >= len(m.c.taxonomy) {
		return statusErr(fmt.Sprintf("no reason code %d in the taxonomy", n+1))
	}
	d := m.draft(it.id)
	code := m.c.taxonomy[n].Code
	if i := slices.Index(d.reasons, code); i >= 0 {
		d.reasons = slices.Delete(d.reasons, i, i+1)
	} else {
		d.reasons = append(d.reasons, code)
	}
	return nil
}

// judge records the reviewer's choice on the item shown, at once in memory
// (the next item comes up) and durably in a command.
func (m *compareView) judge(c compare.Choice) tea.Cmd {
	it := m.current()
	d := m.draft(it.id)
	j, err := compare.NewJudgment(compare.Input{Event: it.ev, Reviewer: m.c.reviewer, Candidate: m.o.Name, Answer: it.answer,
		Side: it.side, Choice: c, Reasons: d.reasons, Note: d.note, Via: compare.ViaTUI, At: m.c.now()})
	if err != nil {
		return statusErr("not recorded: " + err.Error())
	}
	var before *compare.Judgment
	if b, ok := m.mine[it.id]; ok {
		before = &b
	}
	m.mine[it.id] = j
	delete(m.drafts, it.id)
	m.pos, m.scroll = m.nextPending(m.pos+1), 0
	return m.issue(j, before)
}

// undo withdraws the reviewer's last judgment of this candidate (made here
// or before) and goes back to its item with what was chosen in the draft.
func (m *compareView) undo() tea.Cmd {
	last, ok := compare.Last(slices.Collect(maps.Values(m.mine)), m.c.reviewer, m.o.Name)
	if !ok {
		return statusInfo("nothing to undo")
	}
	delete(m.mine, last.EventID)
	if i := slices.IndexFunc(m.items, func(it compareItem) bool { return it.id == last.EventID }); i >= 0 {
		m.pos, m.scroll = i, 0
	}
	m.drafts[last.EventID] = &compareDraft{reasons: last.Reasons, note: last.Note}
	m.summary = nil
	return tea.Batch(m.issue(compare.Withdrawal(last, m.c.now()), &last), statusInfo("undone: "+last.EventID+" is to compare again"))
}

// issue writes j in a command, after every write issued before it.
func (m *compareView) issue(j compare.Judgment, before *compare.Judgment) tea.Cmd {
	m.seq++
	w := &compareWrite{seq: m.seq, j: j, before: before}
	st := m.c.st
	prev, done := m.last, make(chan struct{})
	m.last = done
	w.run = sync.OnceValue(func() compareSavedMsg {
		<-prev
		defer close(done)
		return compareSavedMsg{seq: w.seq, err: st.PutComparison(w.j)}
	})
	m.pending = append(m.pending, w)
	return func() tea.Msg { return w.run() }
}

// saved takes a write's result: on failure the judgment (or withdrawal) is
// reverted in memory and the reviewer told.
func (m *compareView) saved(msg compareSavedMsg) tea.Cmd {
	i := slices.IndexFunc(m.pending, func(w *compareWrite) bool { return w.seq == msg.seq })
	if i < 0 {
		return nil
	}
	w := m.pending[i]
	m.pending = slices.Delete(m.pending, i, i+1)
	if msg.err == nil {
		if m.pos == len(m.items) && len(m.pending) == 0 && len(m.items) > 0 {
			return m.summarize()
		}
		return nil
	}
	id := w.j.EventID
	cur, has := m.mine[id]
	if w.j.Deleted {
		if !has && w.before != nil { // the withdrawal failed: the judgment stands
			m.mine[id] = *w.before
		}
	} else if has && cur.At.Equal(w.j.At) {
		if w.before != nil {
			m.mine[id] = *w.before
		} else {
			delete(m.mine, id)
			m.pos = m.nextPending(0)
		}
	}
	return statusErr(fmt.Sprintf("not saved, reverted (%s): %v", id, msg.err))
}

// flush finishes every write still in flight.
func (m *compareView) flush() []error {
	var errs []error
	for _, w := range m.pending {
		if r := w.run(); r.err != nil {
			errs = append(errs, fmt.Errorf("comparison of %s: %w", w.j.EventID, r.err))
		}
	}
	m.pending = nil
	return errs
}

// sideBySide is whether the answers fit next to each other.
func (m *compareView) sideBySide() bool { return m.width >= 100 }

// paneGeometry is how the answers of it are laid out: the input's lines,
// and each pane's width and rows (side by side when wide, stacked when
// narrow).
type paneGeometry struct {
	input        []string
	lw, rw       int
	lrows, rrows int
	side         bool
}

func (m *compareView) geometry(it *compareItem, footLines int) paneGeometry {
	w := m.width
	room := m.height - 1 - footLines // the header line, the footer
	g := paneGeometry{side: m.sideBySide()}
	g.input = wrapLines(inputText(it.ev), max(w-2, 10), max(1, min(6, room/5)))
	room -= 1 + len(g.input)
	if g.side {
		g.lw = (w - 3) / 2
		g.rw = w - 3 - g.lw
		g.lrows = max(room-1, 1)
		g.rrows = g.lrows
	} else {
		g.lw, g.rw = w-2, w-2
		g.lrows = max((room-2)/2, 1)
		g.rrows = max(room-2-g.lrows, 1)
	}
	return g
}

// answers are the texts of the two panes: the answers, or their word diff.
func (m *compareView) answers(it *compareItem) (left, right string) {
	if m.showDiff {
		return diffSides(m.c.styles, it.diff)
	}
	return it.texts()
}

// maxScroll is how far the longer answer of the item shown can scroll.
func (m *compareView) maxScroll() int {
	it := m.current()
	if it == nil {
		return 0
	}
	g := m.geometry(it, len(m.footerLines(it)))
	l, r := m.answers(it)
	return max(0, len(wrapAnswer(l, g.lw))-g.lrows, len(wrapAnswer(r, g.rw))-g.rrows)
}

func (m *compareView) View() string {
	s := m.c.styles
	w, h := m.width, m.height
	switch {
	case !m.loaded:
		return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, s.Muted.Render("loading the candidate's items…"))
	case m.err != nil:
		return padLines([]string{fit(s.StatusError.Render("cannot compare: "+m.err.Error()), w)}, w, h)
	case len(m.items) == 0:
		return padLines([]string{fit(s.Muted.Render(fmt.Sprintf("the candidate %s answers none of the %s items: nothing to compare", m.o.Name, m.o.Set)), w)}, w, h)
	}
	lines := []string{m.headerLine()}
	it := m.current()
	if it == nil {
		return padLines(append(lines, m.summaryLines()...), w, h)
	}
	foot := m.footerLines(it)
	g := m.geometry(it, len(foot))
	lines = append(lines, fit(s.Section.Render("Input")+s.Muted.Render("  "+it.id+" · "+orUnknown(it.ev.TaskType)+" · "+orUnknown(it.ev.UserSegment)), w))
	for _, l := range g.input {
		lines = append(lines, fit("  "+l, w))
	}
	left, right := m.answers(it)
	lp, rp := paneLines(s, left, g.lw, g.lrows, m.scroll), paneLines(s, right, g.rw, g.rrows, m.scroll)
	lh := s.Section.Render("1 · left")
	rh := s.Section.Render("2 · right")
	if g.side {
		bar := s.Subtle.Render(" │ ")
		lines = append(lines, pad(lh, g.lw)+bar+pad(rh, g.rw))
		for i := range g.lrows {
			lines = append(lines, pad(lp[i], g.lw)+bar+pad(rp[i], g.rw))
		}
	} else {
		lines = append(lines, fit(lh, w))
		for _, l := range lp {
			lines = append(lines, fit("  "+l, w))
		}
		lines = append(lines, fit(rh, w))
		for _, l := range rp {
			lines = append(lines, fit("  "+l, w))
		}
	}
	if len(lines) > h-len(foot) {
		lines = lines[:max(h-len(foot), 1)]
	}
	return padLines(append(padSlice(lines, w, h-len(foot)), foot...), w, h)
}

func orUnknown(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// padSlice pads lines to n blank lines of width w.
func padSlice(lines []string, w, n int) []string {
	for len(lines) < n {
		lines = append(lines, strings.Repeat(" ", max(w, 0)))
	}
	return lines
}

// wrapAnswer wraps an answer to width w, keeping its line breaks.
func wrapAnswer(text string, w int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		if para == "" {
			out = append(out, "")
			continue
		}
		out = append(out, wrapLines(para, max(w, 1), 0)...)
	}
	return out
}

// paneLines is exactly rows lines of a wrapped answer scrolled down by
// off; when it does not fit, the first and last lines say what is above
// and below.
func paneLines(s Styles, text string, w, rows, off int) []string {
	all := wrapAnswer(text, w)
	if len(all) <= rows {
		return padSlice(all, 0, rows)
	}
	off = max(0, min(off, len(all)-rows))
	out := slices.Clone(all[off : off+rows])
	if rows > 1 && off > 0 {
		out[0] = s.Muted.Render(fmt.Sprintf("↑ %d more lines (k)", off+1))
	}
	if rows > 1 && off+rows < len(all) {
		out[rows-1] = s.Muted.Render(fmt.Sprintf("↓ %d more lines (j)", len(all)-off-rows+1))
	}
	return out
}

// diffSides renders the word diff of the left answer against the right
// one: the left shows its words the right lacks as [-deleted-], the right
// its own as {+inserted+}.
func diffSides(s Styles, ops []diffOp) (left, right string) {
	var l, r []string
	for _, o := range ops {
		t := strings.Join(o.Words, " ")
		switch o.Kind {
		case '-':
			l = append(l, s.Delete.Render("[-"+t+"-]"))
		case '+':
			r = append(r, s.Insert.Render("{+"+t+"+}"))
		default:
			l, r = append(l, t), append(r, t)
		}
	}
	return strings.Join(l, " "), strings.Join(r, " ")
}

func (m *compareView) headerLine() string {
	s := m.c.styles
	left := s.Title.Render("Compare") + s.Muted.Render(fmt.Sprintf("  %s vs current · %s · ", m.o.Name, m.o.Set))
	n := m.left()
	if n == 0 {
		left += s.Pass.Render(fmt.Sprintf("all %d compared", len(m.items)))
	} else {
		left += fmt.Sprintf("%d of %d to do", n, len(m.items))
	}
	if m.showDiff {
		left += s.Accent.Render("  word diff")
	}
	return fit(left, m.width)
}

func (m *compareView) footerLines(it *compareItem) []string {
	s := m.c.styles
	w := m.width
	switch {
	case m.noting:
		return []string{fit(m.input.View(), w)}
	case m.reasonLayer:
		var parts []string
		for i, rc := range m.c.taxonomy {
			if i == 9 {
				break
			}
			parts = append(parts, s.Title.Render(string(rune('1'+i)))+" "+rc.Code)
		}
		var out []string
		for _, l := range wrapLines(s.Accent.Render("reason code:")+" "+strings.Join(parts, "  "), max(w, 10), 2) {
			out = append(out, fit(l, w))
		}
		return out
	}
	d := m.drafts[it.id]
	var parts []string
	if d != nil && len(d.reasons) > 0 {
		parts = append(parts, s.Label.Render("reasons ")+strings.Join(d.reasons, ", "))
	}
	if d != nil && d.note != "" {
		parts = append(parts, s.Label.Render("note ")+d.note)
	}
	if len(parts) == 0 {
		return []string{fit(s.Muted.Render("r then 1-9 reason code · n note · d word diff · s skip · u undo · which answer is better?"), w)}
	}
	return []string{fit(strings.Join(parts, s.Subtle.Render(" · ")), w)}
}

// summaryLines are the results once the reviewer has compared every
// item: everyone's judgments, now that seeing them cannot sway theirs.
func (m *compareView) summaryLines() []string {
	s := m.c.styles
	w := m.width
	out := []string{"", fit(s.Pass.Render(fmt.Sprintf("You have compared all %d items.", len(m.items)))+s.Muted.Render(" u undoes the last"), w), ""}
	switch {
	case m.summaryErr != nil:
		return append(out, fit(s.StatusError.Render("results: "+m.summaryErr.Error()), w))
	case m.summary == nil:
		return append(out, fit(s.Muted.Render("computing the results…"), w))
	}
	r := m.summary
	o := r.Overall
	out = append(out,
		fit(s.Section.Render("Results")+s.Muted.Render(fmt.Sprintf("  every reviewer's, %d comparisons", o.N)), w),
		fit(fmt.Sprintf("  wins %d · losses %d · ties %d · both bad %d", o.Wins, o.Losses, o.Ties, o.BothBad), w),
		fit(fmt.Sprintf("  win rate %s  95%% Wilson [%s, %s]  (ties as half)  without ties %s", o.WinRate.Rate(), o.Low.Rate(), o.High.Rate(), o.DecisiveWinRate.Rate()), w),
		fit(fmt.Sprintf("  sign test p %s  (exact binomial, ties left out)", o.SignP.PValue()), w),
	)
	switch {
	case o.LosesSignificantly():
		out = append(out, fit(s.Fail.Render("  the candidate loses: the whole interval is below 0.5"), w))
	case o.WinsSignificantly():
		out = append(out, fit(s.Pass.Render("  the candidate wins: the whole interval is above 0.5"), w))
	default:
		out = append(out, fit(s.Muted.Render("  no significant difference: the interval holds 0.5"), w))
	}
	out = append(out, "", fit(s.Label.Render(fmt.Sprintf("  %-12s %5s %5s %5s  %s", "REVIEWER", "N", "LEFT", "RIGHT", "LEFT-WIN SHARE")), w))
	for _, rs := range r.Reviewers {
		flag := ""
		if rs.Biased {
			flag = s.Fail.Render("  side bias")
		}
		out = append(out, fit(fmt.Sprintf("  %-12s %5d %5d %5d  %s", rs.Reviewer, rs.N, rs.Left, rs.Right, rs.LeftShare.Rate())+flag, w))
	}
	for _, p := range r.Agreement {
		out = append(out, fit(fmt.Sprintf("  κ %s × %s  %s over %d shared", p.A, p.B, p.Kappa.Rate(), p.N), w))
	}
	out = append(out, "", fit(s.Label.Render(fmt.Sprintf("  %-24s %4s %4s %4s %4s %4s  %s", "BY", "N", "W", "L", "T", "BAD", "WIN RATE  95% WILSON")), w))
	for _, g := range []struct {
		name string
		m    map[string]compare.Tally
	}{{"task", r.ByTask}, {"segment", r.BySegment}} {
		for _, k := range sortedKeys(g.m) {
			t := g.m[k]
			out = append(out, fit(fmt.Sprintf("  %-24s %4d %4d %4d %4d %4d  %s [%s, %s]", g.name+":"+k, t.N, t.Wins, t.Losses, t.Ties, t.BothBad,
				t.WinRate.Rate(), t.Low.Rate(), t.High.Rate()), w))
		}
	}
	return out
}

var _ screen = (*compareView)(nil)
