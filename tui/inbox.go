package tui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
	ilist "github.com/loupe-dev/loupe/loop/inbox"
)

// queue is a named selection of items by their review marks.
type queue struct {
	name             string
	require, exclude filter.Mark
}

// queues are the inbox tabs. Disagreements is the adjudicator's: a
// reviewer who grades blind does not get a queue of others' verdicts.
func queues(adjudicator bool) []queue {
	qs := []queue{
		{"All", 0, 0},
		{"To review", 0, filter.Mine | filter.Taken}, // not graded by this reviewer, not someone else's
		{"Golden", filter.Golden, 0},
		{"Red flag", filter.RedFlag, 0},
	}
	if adjudicator {
		qs = append(qs, queue{"Disagreements", filter.Disagree, 0})
	}
	return qs
}

func (m *inbox) queues() []queue { return queues(m.c.adjudicator) }

// defaultQueue is "To review": the reviewer's share of the store's review
// queue (`loupe sample`) not yet graded by them, or, while that is empty,
// every item they have not graded.
const defaultQueue = 1

// rankDelay is how long typing must pause before an unranked text result
// (too many matches to score per keystroke) is ranked in the background.
const rankDelay = 250 * time.Millisecond

// maxIdleRank bounds the background ranking.
const maxIdleRank = 200_000

// inbox lists the queue, filtered, with a preview of the selected item.
type inbox struct {
	c  *common
	ws *workspace

	width, height int
	queue         int
	input         textinput.Model

	// Search state. seq tags every search; results of older ones are
	// dropped. last is the newest completed search, which a narrowing
	// query searches within.
	seq       int
	cancel    context.CancelFunc
	searching bool
	rows      []int32
	total     int
	scored    bool
	last      searchKey
	lastIDs   []int32
	// keep is the item to keep selected when the running search lands (the
	// list was rebuilt under the reviewer: see live.go).
	keep string

	list cursorList
	// atEnd: grading went past the last row. The list then says so, and
	// the grade keys do nothing, instead of grading the last row again.
	atEnd bool
	// filterErr is what is wrong with the typed filter (an unknown key).
	filterErr error
	// history holds the filters accepted with enter, newest last; hpos
	// is the one ↑/↓ recalled (len(history): the text being typed).
	history []string
	hpos    int

	previewID   string
	preview     *loop.Event
	previewDiff []diffOp
	previewErr  error
}

type searchKey struct {
	ok    bool
	query filter.Query
	queue int
	gen   int
	// sampled: the search ran over the sampled review queue (else "To
	// review" fell back to every ungraded item).
	sampled bool
}

func (k searchKey) sameList(o searchKey) bool {
	return k.ok && o.ok && k.queue == o.queue && k.gen == o.gen && k.sampled == o.sampled
}

type searchResultMsg struct {
	seq    int
	key    searchKey
	res    filter.Result
	total  int
	err    error
	ranked bool // a background ranking of the current result
}

type rankTickMsg struct{ seq int }

type previewMsg struct {
	id   string
	ev   *loop.Event
	diff []diffOp
	err  error
}

func newInbox(c *common, ws *workspace) *inbox {
	ti := textinput.New()
	ti.Prompt = "/ "
	ti.Placeholder = "filter: words, seg:ent model:11 reason:fact grade:fail thumb:down set:gold"
	ti.SetStyles(inputStyles(c.styles.isDark))
	return &inbox{c: c, ws: ws, queue: defaultQueue, input: ti}
}

func (m *inbox) Init() tea.Cmd { return nil }
func (m *inbox) Title() string { return "Inbox" }
func (m *inbox) Typing() bool  { return m.input.Focused() }

func (m *inbox) SetSize(w, h int) {
	m.width, m.height = w, h
	m.input.SetWidth(max(w-4, 10))
	m.list.setHeight(m.listHeight())
}

// listHeight: the queue tabs, the filter line and the column titles are
// above the rows.
func (m *inbox) listHeight() int { return max(m.height-3, 1) }

func (m *inbox) ShortHelp() []key.Binding {
	k := m.c.keys
	if m.Typing() {
		return m.filterKeys()
	}
	return []key.Binding{k.Help, k.Filter, k.Open, k.Pass, k.Fail, k.Borderline, k.Reason, k.Undo, k.NextQueue}
}

// filterKeys are the keys of the focused filter input.
func (m *inbox) filterKeys() []key.Binding {
	return []key.Binding{
		key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "done (j/k move)")),
		key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear")),
		key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "earlier filters")),
	}
}

func (m *inbox) FullHelp() [][]key.Binding {
	k := m.c.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.HalfUp, k.HalfDown, k.Top, k.Bottom},
		{k.Open, k.Filter, k.Back, k.PrevQueue, k.NextQueue},
		m.filterKeys()[:3],
		k.gradeKeys(),
		k.globalKeys(),
	}
}

// selected is the id under the cursor, "" when the list is empty.
func (m *inbox) selected() string {
	if m.atEnd || m.list.cursor < 0 || m.list.cursor >= len(m.rows) {
		return ""
	}
	return m.ws.items.ID(int(m.rows[m.list.cursor]))
}

// search starts a search for the current query and queue, cancelling the
// one in flight. The typed text is already on screen; results follow.
func (m *inbox) search() tea.Cmd {
	if !m.ws.loaded {
		return nil
	}
	if m.cancel != nil {
		m.cancel()
	}
	m.seq++
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.searching = true
	q := m.queues()[m.queue]
	k := searchKey{ok: true, query: filter.Parse(m.input.Value()), queue: m.queue, gen: m.ws.marksGen}
	m.filterErr = k.query.UnknownError()
	k.sampled = m.queue == defaultQueue && m.ws.queueLeft() > 0
	req := filter.Request{Query: k.query, Marks: m.ws.marks, Require: q.require, Exclude: q.exclude}
	var within []int32
	if k.sampled {
		within = m.ws.queueRows
		req.Within = within
	}
	if k.sameList(m.last) && k.query.Narrows(m.last.query) {
		req.Within = m.lastIDs
	}
	seq, ix := m.seq, m.ws.index
	total := -1
	if k.query.Empty() {
		total = 0 // the result is the queue
	} else if k.sameList(m.last) {
		total = m.total
	}
	return func() tea.Msg {
		res, err := ix.Search(ctx, req)
		msg := searchResultMsg{seq: seq, key: k, res: res, err: err, total: total}
		if err == nil && total < 0 {
			msg.total = countQueue(req.Marks, q, within)
		} else if total == 0 {
			msg.total = len(res.IDs)
		}
		return msg
	}
}

// countQueue counts the items of a queue: all items, or those of within
// when it is not nil.
func countQueue(marks []filter.Mark, q queue, within []int32) int {
	in := func(mk filter.Mark) bool { return mk&q.require == q.require && mk&q.exclude == 0 }
	n := 0
	if within != nil {
		for _, i := range within {
			if in(marks[i]) {
				n++
			}
		}
		return n
	}
	for _, mk := range marks {
		if in(mk) {
			n++
		}
	}
	return n
}

// rank scores the current (unranked) text result in the background.
func (m *inbox) rank() tea.Cmd {
	if m.cancel != nil {
		m.cancel()
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	seq, k, ix, total := m.seq, m.last, m.ws.index, m.total
	req := filter.Request{Query: k.query, Marks: m.ws.marks, Within: m.rows, SortLimit: -1}
	return func() tea.Msg {
		res, err := ix.Search(ctx, req)
		return searchResultMsg{seq: seq, key: k, res: res, err: err, total: total, ranked: true}
	}
}

func (m *inbox) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		return m.search()
	case searchResultMsg:
		if msg.seq != m.seq || msg.err != nil {
			return nil // superseded by a newer keystroke
		}
		m.searching = false
		// A background ranking keeps the reviewer's selection if they moved
		// it; otherwise the best match comes to the top, selected.
		keep := m.keep
		m.keep = ""
		if msg.ranked && m.list.cursor > 0 {
			keep = m.selected()
		}
		m.rows, m.scored, m.total = msg.res.IDs, msg.res.Scored, msg.total
		m.last, m.lastIDs = msg.key, msg.res.IDs
		m.list.cursor, m.list.offset, m.atEnd = 0, 0, false
		m.list.setLen(len(m.rows))
		if keep != "" {
			m.selectID(keep)
		}
		m.skipTaken(1)
		var cmds []tea.Cmd
		if !msg.res.Scored && msg.key.query.HasText() && len(m.rows) <= maxIdleRank && !msg.ranked {
			seq := m.seq
			cmds = append(cmds, m.c.tick(rankDelay, func(time.Time) tea.Msg { return rankTickMsg{seq: seq} }))
		}
		cmds = append(cmds, m.loadPreview())
		return tea.Batch(cmds...)
	case rankTickMsg:
		if msg.seq == m.seq && !m.searching && !m.scored {
			return m.rank()
		}
		return nil
	case marksChangedMsg:
		return nil
	case sumsSwappedMsg:
		return m.swapped(msg.old)
	case storeUpdatedMsg:
		if m.previewID != "" && slices.Contains(msg.IDs, m.previewID) {
			m.previewID = "" // re-read it
			return m.loadPreview()
		}
		return nil
	case leaseDeniedMsg:
		// Another reviewer has it open: in the To-review queue it is theirs.
		if m.queue == defaultQueue && m.last.sampled && m.selected() == msg.ID {
			return m.move(1)
		}
		return nil
	case tea.MouseWheelMsg:
		switch msg.Button {
		case tea.MouseWheelUp:
			return m.move(-3)
		case tea.MouseWheelDown:
			return m.move(3)
		}
		return nil
	case tea.MouseClickMsg:
		// Rows start below the tabs, the filter line and the column titles.
		if row := msg.Y - 1 - 3; row >= 0 && msg.Button == tea.MouseLeft && row < m.listHeight() && m.list.offset+row < len(m.rows) {
			m.atEnd = false
			m.list.cursor = m.list.offset + row
			m.list.clamp()
			return m.loadPreview()
		}
		return nil
	case tea.BackgroundColorMsg:
		m.input.SetStyles(inputStyles(msg.IsDark()))
		return nil
	case backMsg:
		return m.loadPreview() // the selection may have moved in the item screen
	case undoneMsg:
		if m.selectID(msg.ID) {
			return m.loadPreview()
		}
		return nil
	case previewMsg:
		if msg.id == m.previewID {
			m.preview, m.previewDiff, m.previewErr = msg.ev, msg.diff, msg.err
		}
		return nil
	case tea.PasteMsg:
		if m.Typing() {
			return m.updateInput(msg)
		}
		return nil
	case tea.KeyPressMsg:
		if m.Typing() {
			return m.typingKey(msg)
		}
		return m.key(msg)
	}
	if m.Typing() {
		var cmd tea.Cmd
		m.input, cmd = m.input.Update(msg)
		return cmd
	}
	return nil
}

func (m *inbox) updateInput(msg tea.Msg) tea.Cmd {
	before := m.input.Value()
	var cmd tea.Cmd
	m.input, cmd = m.input.Update(msg)
	if m.input.Value() != before {
		return tea.Batch(cmd, m.search())
	}
	return cmd
}

func (m *inbox) typingKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.Accept):
		m.input.Blur()
		if v := strings.TrimSpace(m.input.Value()); v != "" {
			m.history = append(slices.DeleteFunc(m.history, func(h string) bool { return h == v }), v)
		}
		m.hpos = len(m.history)
		return nil
	case key.Matches(msg, k.Back):
		m.input.Blur()
		m.hpos = len(m.history)
		if m.input.Value() != "" {
			m.input.SetValue("")
			return m.search()
		}
		return nil
	case msg.String() == "up" || msg.String() == "down":
		// Arrows recall earlier filters (j and k are text here).
		d := 1
		if msg.String() == "up" {
			d = -1
		}
		next := max(min(m.hpos+d, len(m.history)), 0)
		if next == m.hpos {
			return nil
		}
		m.hpos = next
		v := ""
		if next < len(m.history) {
			v = m.history[next]
		}
		m.input.SetValue(v)
		m.input.CursorEnd()
		return m.search()
	}
	return m.updateInput(msg)
}

func (m *inbox) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	switch {
	case key.Matches(msg, k.Up):
		return m.move(-1)
	case key.Matches(msg, k.Down):
		return m.move(1)
	case key.Matches(msg, k.PageUp):
		return m.move(-m.listHeight())
	case key.Matches(msg, k.PageDown):
		return m.move(m.listHeight())
	case key.Matches(msg, k.HalfUp):
		return m.move(-max(m.listHeight()/2, 1))
	case key.Matches(msg, k.HalfDown):
		return m.move(max(m.listHeight()/2, 1))
	case key.Matches(msg, k.Top):
		if m.atEnd && m.queue == defaultQueue {
			return m.search() // start over on what is still ungraded
		}
		return m.move(-len(m.rows) - 1)
	case key.Matches(msg, k.Bottom):
		return m.move(len(m.rows))
	case key.Matches(msg, k.PrevQueue):
		return m.setQueue(m.queue - 1)
	case key.Matches(msg, k.NextQueue):
		return m.setQueue(m.queue + 1)
	case key.Matches(msg, k.Filter):
		m.input.CursorEnd()
		m.hpos = len(m.history)
		return m.input.Focus()
	case key.Matches(msg, k.Back):
		if m.input.Value() != "" {
			m.input.SetValue("")
			return m.search()
		}
		return nil
	}
	id := m.selected()
	if id == "" {
		return nil
	}
	if key.Matches(msg, k.Open) {
		return cmdOf(OpenItemMsg{ID: id})
	}
	cmd, advance := gradeKey(m.c, m.ws, id, m.previewFor(id), msg)
	if advance {
		return tea.Batch(cmd, m.advance())
	}
	return cmd
}

// advance moves past the row just graded or skipped; past the last one
// the list is at its end.
func (m *inbox) advance() tea.Cmd {
	if m.list.cursor >= len(m.rows)-1 || !m.nextFree() {
		m.atEnd = true
		return m.loadPreview()
	}
	return m.loadPreview()
}

// nextFree moves the cursor to the next row that is not someone else's
// (in the To-review queue); false when there is none.
func (m *inbox) nextFree() bool {
	for i := m.list.cursor + 1; i < len(m.rows); i++ {
		if !m.takenRow(i) {
			m.list.cursor = i
			m.list.clamp()
			return true
		}
	}
	return false
}

func (m *inbox) takenRow(i int) bool {
	return m.queue == defaultQueue && m.ws.marks[m.rows[i]]&filter.Taken != 0
}

// skipTaken moves the cursor off a row that is someone else's, in
// direction d.
func (m *inbox) skipTaken(d int) {
	for m.list.cursor >= 0 && m.list.cursor < len(m.rows) && m.takenRow(m.list.cursor) {
		m.list.cursor += d
	}
	if m.list.cursor >= len(m.rows) && len(m.rows) > 0 {
		m.list.cursor = len(m.rows) - 1
		if m.takenRow(m.list.cursor) {
			m.atEnd = true
		}
	}
	m.list.clamp()
}

// previewFor is the loaded event of id if the preview holds it.
func (m *inbox) previewFor(id string) *loop.Event {
	if m.previewID == id {
		return m.preview
	}
	return nil
}

func userEdit(ev *loop.Event) string {
	if ev == nil || ev.Explicit == nil {
		return ""
	}
	return ev.Explicit.UserEdit
}

// referenceSeed is what the reference editor starts from: the draft's
// reference, the reviewer's saved one, the user's edit, or the output.
func referenceSeed(ws *workspace, id string, ev *loop.Event) string {
	if d := ws.Draft(id); d != nil && d.Reference != "" {
		return d.Reference
	}
	if l, ok := ws.Mine(id); ok && l.Reference != "" {
		return l.Reference
	}
	if s := userEdit(ev); s != "" {
		return s
	}
	if ev != nil && ev.Output != nil {
		return ev.Output.Text
	}
	return ""
}

func (m *inbox) setQueue(q int) tea.Cmd {
	n := len(m.queues())
	m.queue = (q + n) % n
	return m.search()
}

func (m *inbox) move(d int) tea.Cmd {
	if m.atEnd {
		m.atEnd = false
		if d > 0 {
			m.atEnd = true
			return nil
		}
		d++ // up from the end lands on the last row
	}
	m.list.move(d)
	dir := 1
	if d < 0 {
		dir = -1
	}
	m.skipTaken(dir)
	return m.loadPreview()
}

func (m *inbox) selectID(id string) bool {
	for i, r := range m.rows {
		if m.ws.items.ID(int(r)) == id {
			m.list.cursor, m.atEnd = i, false
			m.list.clamp()
			return true
		}
	}
	return false
}

// Next moves the selection past id (the item screen's grade and advance,
// and skip) and returns the item there.
func (m *inbox) Next(after string) (string, bool) {
	if m.selected() != after {
		m.selectID(after)
	}
	if !m.nextFree() {
		m.atEnd = true
		return "", false
	}
	return m.selected(), true
}

// Prev moves the selection before id (the item screen's [) and returns the
// item there.
func (m *inbox) Prev(before string) (string, bool) {
	if m.selected() != before {
		m.selectID(before)
	}
	if m.list.cursor == 0 {
		return "", false
	}
	m.list.move(-1)
	return m.selected(), true
}

func (m *inbox) previewVisible() bool { return m.width >= 120 }

// loadPreview reads the selected event for the preview pane, tagged with its
// id so a late answer for an item no longer selected is dropped.
func (m *inbox) loadPreview() tea.Cmd {
	id := m.selected()
	hold := m.holdSelected()
	if id == m.previewID {
		return hold
	}
	m.previewID, m.preview, m.previewDiff, m.previewErr = id, nil, nil, nil
	if id == "" || !m.previewVisible() {
		m.previewID = ""
		return hold
	}
	st := m.c.st
	return tea.Batch(hold, func() tea.Msg {
		ev, err := st.Event(id)
		return previewMsg{id: id, ev: ev, diff: editDiff(ev), err: err}
	})
}

// holdSelected leases the selected item while the To-review queue shows
// it, so no other reviewer is handed it meanwhile.
func (m *inbox) holdSelected() tea.Cmd {
	if m.queue != defaultQueue || !m.last.sampled {
		return m.ws.hold("")
	}
	return m.ws.hold(m.selected())
}

// View

func (m *inbox) View() string {
	s := m.c.styles
	if !m.ws.loaded {
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, s.Muted.Render("loading…"))
	}
	header := m.headerView()
	filterLine := m.input.View()
	switch {
	case m.filterErr != nil && !m.input.Focused():
		filterLine = s.StatusError.Render("✗ ") + m.input.Value() + s.StatusError.Render("  "+m.filterErr.Error())
	case !m.input.Focused() && m.input.Value() == "":
		filterLine = m.queueNote() + s.Subtle.Render("/ filter  ·  words  \"a phrase\"  seg:ent  model:11  reason:fact  grade:fail  thumb:down  set:gold")
	}
	listW := m.width
	var preview string
	if m.previewVisible() {
		listW = m.width * 3 / 5
		preview = m.previewView(m.width-listW-1, m.listHeight())
	}
	titles := m.columnTitles(listW)
	if m.filterErr != nil && m.input.Focused() {
		titles = fit(s.StatusError.Render("✗ "+m.filterErr.Error()), listW) // under the text being typed
	}
	list := titles + "\n" + m.listView(listW, m.listHeight())
	body := list
	if preview != "" {
		body = lipgloss.JoinHorizontal(lipgloss.Top, list, " ", preview)
	}
	return lipgloss.JoinVertical(lipgloss.Left, header, fit(filterLine, m.width), body)
}

// columnTitles is the legend line above the rows (? explains the glyphs).
func (m *inbox) columnTitles(w int) string {
	c := rowColumns(w, m.sampledView())
	var b strings.Builder
	b.WriteString("  " + pad("TIME", c.time) + " ")
	b.WriteString("▲▼ GRADE GR! ")
	if c.why > 0 {
		b.WriteString(pad("WHY", c.why) + " ")
	}
	if c.reasons > 0 {
		b.WriteString(pad("REASONS", c.reasons) + " ")
	}
	if c.segment > 0 {
		b.WriteString(pad("SEGMENT", c.segment) + " ")
	}
	if c.model > 0 {
		b.WriteString(pad("MODEL", c.model) + " ")
	}
	b.WriteString("TEXT")
	return m.c.styles.Label.Render(fit(b.String(), w))
}

func (m *inbox) sampledView() bool {
	return m.queue == defaultQueue && m.last.sampled
}

// queueNote says, in the To-review queue, whether it shows the sampled
// review queue or, that being empty, every ungraded item.
func (m *inbox) queueNote() string {
	s := m.c.styles
	if m.queue != defaultQueue || !m.last.ok {
		return ""
	}
	if m.last.sampled {
		return s.Accent.Render("your share of the sampled queue") + s.Subtle.Render("  ·  ")
	}
	return s.Flag.Render("queue empty — run `loupe sample`; showing ungraded") + s.Subtle.Render("  ·  ")
}

func (m *inbox) headerView() string {
	s := m.c.styles
	var tabs []string
	for i, q := range m.queues() {
		st := s.Tab
		if i == m.queue {
			st = s.TabActive
		}
		tabs = append(tabs, st.Render(q.name))
	}
	left := strings.Join(tabs, "")
	count := fmt.Sprintf("%s of %s", thousands(len(m.rows)), thousands(m.total))
	if m.sampledView() && m.input.Value() == "" {
		// Your position in your share of the queue, and what is left; it
		// moves as you and the others grade.
		left, done, total := m.ws.progress()
		switch {
		case m.atEnd && left > 0:
			count = fmt.Sprintf("%s / %s graded · %s left", thousands(done), thousands(total), thousands(left))
		case left == 0:
			count = fmt.Sprintf("%s / %s · all done", thousands(done), thousands(total))
		default:
			count = fmt.Sprintf("%s / %s · %s left", thousands(done+1), thousands(total), thousands(left-1))
		}
	}
	if m.queue == defaultQueue && m.last.ok && !m.last.sampled && m.input.Value() != "" {
		count = "ungraded · " + count // the queue note is hidden by the filter
	}
	if m.searching {
		count = "searching… " + count
	} else if m.input.Value() != "" && len(m.rows) > 0 {
		if m.scored {
			count = "ranked · " + count
		}
	}
	right := s.Title.Render(count)
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		// Narrow: drop tab padding to keep the count visible.
		left = ansi.Truncate(left, max(m.width-lipgloss.Width(right)-1, 0), "…")
		gap = max(m.width-lipgloss.Width(left)-lipgloss.Width(right), 1)
	}
	return left + strings.Repeat(" ", gap) + right
}

// listView renders only the visible rows: the list's cost is its height,
// not the number of items.
func (m *inbox) listView(w, h int) string {
	s := m.c.styles
	if len(m.rows) == 0 {
		msg := "nothing in this queue"
		if m.queue == defaultQueue {
			msg = "nothing left to review here: every item is graded (l/→ for the other queues)"
		}
		if v := m.input.Value(); v != "" {
			msg = fmt.Sprintf("no item in %s matches %q — esc clears the filter, l/→ tries another queue", m.queues()[m.queue].name, v)
		}
		if m.searching {
			msg = "searching…"
		}
		return lipgloss.Place(w, h, lipgloss.Center, lipgloss.Center, s.Muted.Render(ansi.Truncate(msg, w, "…")))
	}
	cols := rowColumns(w, m.sampledView())
	lines := make([]string, 0, h)
	from, to := m.list.visible()
	if m.atEnd && to == len(m.rows) && to-from == h {
		from++ // room for the end line
	}
	for i := from; i < to; i++ {
		lines = append(lines, m.rowView(m.rows[i], cols, i == m.list.cursor && !m.atEnd))
	}
	if m.atEnd {
		left, _, _ := m.ws.progress()
		end := "▸ end of the list — home goes back to the top"
		if m.queue == defaultQueue {
			end = "▸ end of the queue — all your items are graded"
			if left > 0 {
				end = fmt.Sprintf("▸ end of the queue — %d skipped or new item(s) left: home starts over on them", left)
			}
		}
		lines = append(lines, s.Cursor.Render(fit(end, w)))
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", w))
	}
	return strings.Join(lines, "\n")
}

type columns struct {
	width                                  int
	timeFmt                                string
	reasons, segment, model, snippet, time int
	why                                    int // the sampling rules, in the sampled queue
}

// rowColumns lays a row out. Below 100 columns the text gets the width
// first: the reasons, segment and model columns shrink and then drop out
// before the text goes under 40 cells.
func rowColumns(w int, sampled bool) columns {
	c := columns{width: w, timeFmt: "01-02 15:04", time: 11, reasons: 16, segment: 10, model: 14}
	if w < 100 {
		c = columns{width: w, timeFmt: "01-02", time: 5, reasons: 10, segment: 4, model: 10}
	}
	if sampled {
		c.why = 16
		if w < 100 {
			c.why = 8
		}
	}
	// cursor 2, time, thumb 2, grade 6, flags 3, then why, reasons,
	// segment, model with a space after each.
	used := func() int {
		u := 2 + c.time + 1 + 2 + 6 + 3
		for _, n := range []int{c.why, c.reasons, c.segment, c.model} {
			if n > 0 {
				u += n + 1
			}
		}
		return u
	}
	for _, drop := range []*int{&c.segment, &c.model, &c.reasons, &c.why} {
		if w-used() >= 40 {
			break
		}
		*drop = 0
	}
	c.snippet = max(w-used(), 0)
	return c
}

func (m *inbox) rowView(i int32, c columns, selected bool) string {
	s := m.c.styles
	sum := m.ws.items.At(int(i))
	mk := m.ws.Mark(i)
	var b strings.Builder
	if selected {
		b.WriteString(s.Cursor.Render("▸ "))
	} else {
		b.WriteString("  ")
	}
	b.WriteString(s.Muted.Render(pad(sum.Time.In(m.c.loc).Format(c.timeFmt), c.time)))
	b.WriteByte(' ')
	b.WriteString(thumbView(s, sum.Thumb))
	b.WriteByte(' ')
	b.WriteString(gradeCell(s, mk, m.ws.Draft(sum.ID) != nil))
	b.WriteString(flagsCell(s, mk, &sum))
	if c.why > 0 {
		q, _ := m.ws.Queued(sum.ID)
		b.WriteString(s.Accent.Render(pad(reasonsCell(q.Why, c.why), c.why)))
		b.WriteByte(' ')
	}
	if c.reasons > 0 {
		b.WriteString(pad(reasonsCell(sum.Reasons, c.reasons), c.reasons))
		b.WriteByte(' ')
	}
	if c.segment > 0 {
		b.WriteString(s.Muted.Render(pad(sum.Segment, c.segment)))
		b.WriteByte(' ')
	}
	if c.model > 0 {
		b.WriteString(s.Accent.Render(pad(sum.Model, c.model)))
		b.WriteByte(' ')
	}
	b.WriteString(pad(sum.Snippet, c.snippet))
	line := b.String()
	if selected {
		return s.RowSelected.Render(fit(line, c.width))
	}
	return fit(line, c.width)
}

func thumbView(s Styles, t loop.Thumb) string {
	switch t {
	case loop.ThumbUp:
		return s.ThumbUp.Render("▲")
	case loop.ThumbDown:
		return s.ThumbDown.Render("▼")
	}
	return " "
}

// gradeCell is 6 wide: the shown grade (the reviewer's own; another
// reviewer's, dimmed, only where blind grading allows), and * for a draft
// not graded yet.
func gradeCell(s Styles, mk filter.Mark, pending bool) string {
	g := ""
	st := s.Muted
	switch mk & filter.GradeMask {
	case filter.GradePass:
		g, st = "pass", s.Pass
	case filter.GradeFail:
		g, st = "fail", s.Fail
	case filter.GradeBorderline:
		g, st = "bord", s.Borderline
	}
	if g == "" {
		g, st = "  ·", s.Subtle
	} else if mk&filter.Mine == 0 {
		st = s.Muted
	}
	out := st.Render(pad(g, 4))
	if pending {
		out += s.Pending.Render("*")
	} else {
		out += " "
	}
	return out + " "
}

// flagsCell is 3 wide: G golden, R red-flag, ! policy violation or
// escalation.
func flagsCell(s Styles, mk filter.Mark, sum *loop.Summary) string {
	f := []byte("   ")
	if mk&filter.Golden != 0 {
		f[0] = 'G'
	}
	if mk&filter.RedFlag != 0 {
		f[1] = 'R'
	}
	if sum.PolicyViolation || sum.Escalated {
		f[2] = '!'
	}
	return s.Flag.Render(string(f))
}

func reasonsCell(rs []string, w int) string {
	if len(rs) == 0 {
		return ""
	}
	more := ""
	if len(rs) > 1 {
		more = fmt.Sprintf("+%d", len(rs)-1)
	}
	return ansi.Truncate(rs[0], w-len(more), "…") + more
}

func (m *inbox) previewView(w, h int) string {
	s := m.c.styles
	id := m.selected()
	if id == "" || w < 20 {
		return ""
	}
	inner := w - 4 // border and padding
	sum := m.ws.items.At(int(m.rows[m.list.cursor]))
	var lines []string
	add := func(parts ...string) { lines = append(lines, parts...) }
	add(s.PanelTitle.Render(ansi.Truncate(sum.ID, inner, "…")))
	add(s.Muted.Render(ansi.Truncate(strings.Join(nonEmpty(sum.Time.In(m.c.loc).Format("2006-01-02 15:04"), sum.Model, sum.Segment, sum.Task, sum.Locale), " · "), inner, "…")))
	add(m.summarySignals(&sum, inner))
	if q, ok := m.ws.Queued(sum.ID); ok {
		add(wrapLines(s.Accent.Render("sampled: "+queueWhy(q)), inner, 2)...)
	}
	add(labelsLine(m.c, m.ws, sum.ID, inner)...)
	add("")
	switch {
	case m.previewErr != nil:
		add(s.StatusError.Render(ansi.Truncate(m.previewErr.Error(), inner, "…")))
	case m.previewFor(id) == nil:
		add(s.Muted.Render("loading…"))
	default:
		ev := m.preview
		if ev.Input != nil && ev.Input.Text != "" {
			add(s.Section.Render("Input"))
			add(wrapLines(ev.Input.Text, inner, 8)...)
		}
		if ev.Output != nil && ev.Output.Text != "" {
			add(s.Section.Render("Output"))
			add(wrapLines(ev.Output.Text, inner, 12)...)
		}
		if m.previewDiff != nil {
			add(s.Section.Render("User edit"))
			add(wrapLines(wordDiff(s, m.previewDiff), inner, 6)...)
		}
	}
	if len(lines) > h-2 {
		lines = lines[:max(h-2, 0)]
	}
	return s.Panel.Width(w).Height(h).Render(strings.Join(lines, "\n"))
}

func (m *inbox) summarySignals(sum *loop.Summary, w int) string {
	s := m.c.styles
	var parts []string
	switch sum.Thumb {
	case loop.ThumbUp:
		parts = append(parts, s.ThumbUp.Render("▲ up"))
	case loop.ThumbDown:
		parts = append(parts, s.ThumbDown.Render("▼ down"))
	}
	if len(sum.Reasons) > 0 {
		parts = append(parts, strings.Join(sum.Reasons, ","))
	}
	for _, f := range []struct {
		on   bool
		name string
	}{{sum.PolicyViolation, "policy!"}, {sum.Escalated, "escalated"}, {sum.Abandoned, "abandoned"}, {sum.Edited, "edited"}} {
		if f.on {
			parts = append(parts, s.Flag.Render(f.name))
		}
	}
	return ansi.Truncate(strings.Join(parts, "  "), w, "…")
}

// labelsLine shows the current labels, the draft and set membership.
func labelsLine(c *common, ws *workspace, id string, w int) []string {
	s := c.styles
	var out []string
	ls := ws.Labels(id)
	var names []string
	for r := range ls {
		names = append(names, r)
	}
	sortStrings(names)
	for _, r := range names {
		l := ls[r]
		line := fmt.Sprintf("%s %s", gradeStyle(s, l.Grade).Render(string(l.Grade)), s.Muted.Render("by "+r))
		if len(l.Reasons) > 0 {
			line += " " + strings.Join(l.Reasons, ",")
		}
		out = append(out, ansi.Truncate(line, w, "…"))
	}
	if d := ws.Draft(id); d != nil {
		line := s.Pending.Render("draft:")
		if len(d.Reasons) > 0 {
			line += " " + strings.Join(d.Reasons, ",")
		}
		if d.Note != "" {
			line += " · note"
		}
		if d.Reference != "" {
			line += " · reference"
		}
		out = append(out, ansi.Truncate(line, w, "…"))
	}
	var sets []string
	if ws.InSet(loop.SetGolden, id) {
		sets = append(sets, "golden")
	}
	if ws.InSet(loop.SetRedFlag, id) {
		sets = append(sets, "red-flag")
	}
	if len(sets) > 0 {
		out = append(out, s.Flag.Render("in "+strings.Join(sets, ", ")))
	}
	return out
}

func gradeStyle(s Styles, g loop.Grade) lipgloss.Style {
	switch g {
	case loop.GradePass:
		return s.Pass
	case loop.GradeFail:
		return s.Fail
	case loop.GradeBorderline:
		return s.Borderline
	}
	return s.Muted
}

// queueWhy says why sampling picked an item (its rule names), for which
// day, and for whom when it is an overlap item.
func queueWhy(q loop.QueueItem) string {
	out := strings.Join(q.Why, ", ")
	if out == "" {
		out = "queued"
	}
	if q.Day != "" {
		out += " (" + q.Day + ")"
	}
	if len(q.Reviewers) > 0 {
		out += " · for " + strings.Join(q.Reviewers, " & ")
	}
	return out
}

// swapped follows a rebuilt list (live.go): the rows, indices into the old
// list, are mapped by id into the new one at once (an erased item drops
// out, the selection stays on its item), and the search runs again, since
// changed items may now match the filter or not and new ones may.
func (m *inbox) swapped(old *ilist.List) tea.Cmd {
	sel := ""
	if m.list.cursor >= 0 && m.list.cursor < len(m.rows) {
		sel = old.ID(int(m.rows[m.list.cursor]))
	}
	remap := func(rows []int32) []int32 {
		out := make([]int32, 0, len(rows))
		for _, r := range rows {
			if i, ok := m.ws.items.Find(old.ID(int(r))); ok {
				out = append(out, int32(i))
			}
		}
		return out
	}
	m.rows = remap(m.rows)
	if m.lastIDs != nil {
		m.lastIDs = remap(m.lastIDs)
	}
	m.list.setLen(len(m.rows))
	if sel != "" && !m.selectID(sel) {
		m.list.clamp()
	}
	m.keep = m.selected()
	return m.search()
}
