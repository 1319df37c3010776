package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agree"
)

// agreementView is how far reviewers agree: Cohen's kappa per pair,
// Krippendorff's alpha overall and per reason code, each reviewer's
// consistency with themselves and speed, and the items they disagree on.
// It is computed from the store in a command when the screen comes to the
// front and again when labels change while it is shown.
type agreementView struct {
	c  *common
	ws *workspace

	width, height int
	shown         bool
	seq           int  // tags computations; older results are dropped
	computing     bool // a computation is running
	dirty         bool // labels changed since the shown result was asked for
	res           *agreeResult
	mine          []agree.Disagreement // rows() for a blind reviewer, nil: not computed
	err           error
	list          cursorList
}

type agreeResult struct {
	rep  agree.Report
	self map[string]agree.SelfStat
	rate map[string]agree.Rate
}

type agreementMsg struct {
	seq int
	res agreeResult
	err error
}

func newAgreementView(c *common, ws *workspace) *agreementView {
	return &agreementView{c: c, ws: ws, dirty: true}
}

func (m *agreementView) Init() tea.Cmd { return nil }
func (m *agreementView) Title() string { return "Agreement" }
func (m *agreementView) Typing() bool  { return false }

func (m *agreementView) SetSize(w, h int) {
	m.width, m.height = w, h
	m.list.setHeight(m.listHeight())
}

func (m *agreementView) ShortHelp() []key.Binding {
	k := m.c.keys
	return []key.Binding{k.Help, k.Open, k.Down, k.Up, k.NextScreen}
}

func (m *agreementView) FullHelp() [][]key.Binding {
	k := m.c.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Open},
		k.globalKeys(),
	}
}

func (m *agreementView) focus() tea.Cmd {
	m.shown = true
	return m.compute()
}

func (m *agreementView) blur() { m.shown = false }

// compute starts a computation when the result is out of date and none is
// running; one that is running is followed by another when it ends (see
// Update).
func (m *agreementView) compute() tea.Cmd {
	if !m.dirty || m.computing {
		return nil
	}
	m.dirty, m.computing = false, true
	m.seq++
	seq, st := m.seq, m.c.st
	return func() tea.Msg {
		var labels, history []loop.Label
		if err := st.AllLabels(func(l loop.Label) error { labels = append(labels, l); return nil }); err != nil {
			return agreementMsg{seq: seq, err: err}
		}
		if err := st.AllHistory(func(l loop.Label) error { history = append(history, l); return nil }); err != nil {
			return agreementMsg{seq: seq, err: err}
		}
		return agreementMsg{seq: seq, res: agreeResult{
			rep:  agree.Compute(labels),
			self: agree.SelfConsistency(history),
			rate: agree.Throughput(history),
		}}
	}
}

func (m *agreementView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case itemChangedMsg:
		// A label or set entry is durable (ours) or was read back after
		// another session changed it.
		m.dirty = true
		if m.shown {
			return m.compute()
		}
	case agreementMsg:
		if msg.seq != m.seq {
			return nil
		}
		m.computing = false
		keep := m.selected()
		m.res, m.err, m.mine = &msg.res, msg.err, nil
		if msg.err != nil {
			m.res = nil
		}
		m.list.setLen(len(m.rows()))
		m.list.setHeight(m.listHeight())
		if keep != "" {
			if i := slices.Index(m.ids(), keep); i >= 0 {
				m.list.cursor = i
				m.list.clamp()
			}
		}
		if m.shown {
			return m.compute() // labels changed while it ran
		}
	case tea.KeyPressMsg:
		if m.list.navKey(m.c.keys, msg) {
			return nil
		}
		if key.Matches(msg, m.c.keys.Open) {
			if id := m.selected(); id != "" {
				return cmdOf(OpenItemMsg{ID: id, nav: listNav{ids: m.ids, list: &m.list}})
			}
		}
	}
	return nil
}

// rows are the disagreements the reviewer may see: all of them for an
// adjudicator, else those on items they graded themselves (blind grading:
// the others' grades of an item show once you have graded it).
func (m *agreementView) rows() []agree.Disagreement {
	if m.res == nil {
		return nil
	}
	if m.c.adjudicator {
		return m.res.rep.Disagreements
	}
	if m.mine == nil {
		m.mine = []agree.Disagreement{}
		for _, d := range m.res.rep.Disagreements {
			if _, ok := d.Ratings[m.c.reviewer]; ok {
				m.mine = append(m.mine, d)
			}
		}
	}
	return m.mine
}

func (m *agreementView) ids() []string {
	rs := m.rows()
	out := make([]string, len(rs))
	for i, d := range rs {
		out[i] = d.Item
	}
	return out
}

func (m *agreementView) selected() string {
	rs := m.rows()
	if m.list.cursor < len(rs) {
		return rs[m.list.cursor].Item
	}
	return ""
}

// summaryLines are the statistics above the disagreements list.
func (m *agreementView) summaryLines() []string {
	s := m.c.styles
	w := m.width
	if m.res == nil {
		switch {
		case m.err != nil:
			return []string{s.StatusError.Render("could not compute agreement: " + m.err.Error())}
		default:
			return []string{s.Muted.Render("computing…")}
		}
	}
	r := m.res
	rep := r.rep
	var out []string
	add := func(ls ...string) {
		for _, l := range ls {
			out = append(out, fit(l, w))
		}
	}
	head := s.Section.Render("Grades") + "  " + s.Label.Render("Krippendorff's α ") + statStyle(s, rep.Alpha, m.c.minKappa).Render(fmtStat(rep.Alpha)) +
		s.Muted.Render(fmt.Sprintf("  over %d items graded by two or more (%d ratings)", rep.Units, rep.Pairable))
	if m.computing {
		head += s.Pending.Render("  computing…")
	}
	add(head)
	add(s.Section.Render("Pairs") + s.Muted.Render(fmt.Sprintf("  Cohen's κ · recalibrate below %.2f", m.c.minKappa)))
	if len(rep.Pairs) == 0 {
		add(s.Muted.Render("  no item has been graded by two reviewers yet"))
	}
	maxPairs := 4
	if m.height >= 40 {
		maxPairs = 10
	}
	for i, p := range rep.Pairs {
		if i == maxPairs {
			add(s.Muted.Render(fmt.Sprintf("  … %d more pairs", len(rep.Pairs)-maxPairs)))
			break
		}
		verdict := s.Pass.Render("✓")
		switch {
		case p.TooFew:
			verdict = s.Flag.Render(fmt.Sprintf("too few items (under %d)", agree.MinPairItems))
		case math.IsNaN(p.Kappa) || p.Kappa < m.c.minKappa:
			verdict = s.Fail.Render("recalibrate on the rubric")
		}
		add(fmt.Sprintf("  %s  κ %s %s  %s  %s", pad(p.A+" × "+p.B, 21),
			statStyle(s, p.Kappa, m.c.minKappa).Render(fmtStat(p.Kappa)), s.Muted.Render(fmt.Sprintf("[%s–%s]", fmtStat(p.Low), fmtStat(p.High))),
			s.Muted.Render(fmt.Sprintf("%5d items", p.N)), verdict))
	}
	if len(rep.ByReason) > 0 {
		codes := sortedKeys(rep.ByReason)
		parts := make([]string, len(codes))
		for i, c := range codes {
			a := rep.ByReason[c].Alpha
			parts[i] = c + " " + statStyle(s, a, m.c.minKappa).Render(fmtStat(a))
		}
		lines := wrapLines(strings.Join(parts, s.Subtle.Render(" · ")), max(w-14, 20), 2)
		for i, l := range lines {
			prefix := "              "
			if i == 0 {
				prefix = s.Section.Render("Reason codes") + "  "
			}
			add(prefix + l)
		}
	}
	if len(r.rate) > 0 || len(r.self) > 0 {
		add(s.Label.Render(fmt.Sprintf("  %-10s %7s %9s %9s  %s", "REVIEWER", "ITEMS", "PER MIN", "MEDIAN S", "SELF-CONSISTENCY (blind re-grades)")))
		names := sortedKeys(r.rate)
		for n := range r.self {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		for _, n := range names {
			rt := r.rate[n]
			sc := s.Muted.Render("–  no re-grades yet")
			if st, ok := r.self[n]; ok && st.N > 0 {
				sc = fmt.Sprintf("%.0f%% of %d  κ %s", 100*st.Agreement, st.N, fmtStat(st.Kappa))
			}
			name := pad(n, 10)
			if n == m.c.reviewer {
				name = s.Accent.Render(name)
			}
			add(fmt.Sprintf("  %s %7d %9.1f %9.1f  %s", name, rt.Items, rt.PerMinute, rt.MedianSeconds, sc))
		}
	}
	where := "  enter opens · also the inbox's Disagreements queue"
	if !m.c.adjudicator {
		where = "  on items you graded · enter opens"
	}
	add(s.Section.Render(fmt.Sprintf("Disagreements (%d)", len(m.rows()))) + s.Muted.Render(where))
	return out
}

func (m *agreementView) listHeight() int {
	return max(m.height-len(m.summaryLines()), 1)
}

func (m *agreementView) View() string {
	s := m.c.styles
	if !m.ws.loaded {
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, s.Muted.Render("loading…"))
	}
	lines := m.summaryLines()
	rows := m.rows()
	if m.res != nil && len(rows) == 0 {
		lines = append(lines, fit(s.Muted.Render("  none: every item graded twice got the same grade"), m.width))
	}
	from, to := m.list.visible()
	for i := from; i < to && i < len(rows); i++ {
		lines = append(lines, m.rowView(&rows[i], i == m.list.cursor))
	}
	return padLines(lines, m.width, m.height)
}

func (m *agreementView) rowView(d *agree.Disagreement, selected bool) string {
	s := m.c.styles
	var b strings.Builder
	if selected {
		b.WriteString(s.Cursor.Render("▸ "))
	} else {
		b.WriteString("  ")
	}
	b.WriteString(pad(d.Item, 20))
	b.WriteByte(' ')
	var parts []string
	for _, r := range sortedKeys(d.Ratings) {
		g := d.Ratings[r]
		parts = append(parts, s.Muted.Render(r+" ")+gradeStyle(s, g).Render(string(g)))
	}
	b.WriteString(pad(strings.Join(parts, "  "), 26))
	b.WriteByte(' ')
	if i, ok := m.ws.items.Find(d.Item); ok {
		sum := m.ws.items.At(int(i))
		b.WriteString(s.Accent.Render(pad(sum.Model, 12)) + " " + sum.Snippet)
	}
	line := fit(b.String(), m.width)
	if selected {
		return s.RowSelected.Render(line)
	}
	return line
}

func fmtStat(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

// statStyle colours a coefficient against the floor below which reviewers
// should recalibrate.
func statStyle(s Styles, v, floor float64) lipgloss.Style {
	switch {
	case math.IsNaN(v):
		return s.Muted
	case v < floor:
		return s.Fail
	}
	return s.Pass
}
