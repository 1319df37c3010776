package tui

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/viewport"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
)

// trendDays is the window of the Trends screen, as in `loupe trends`.
const trendDays = trend.DefaultDays

// goalDays is the window the goal is judged over, as in `loupe trends`.
const goalDays = trend.GoalDays

var splits = []string{trend.ByModel, trend.BySegment, trend.ByTask}

// trendsView is the loop's thermostat: the goal metric against its
// target, the guardrail alerts (naming the version to roll back to), one
// metric per day split by model version, segment or task, the key
// metrics, and why users turned thumbs down.
//
// Computing from every summary takes ~100 ms per metric at a million
// events, so it runs in commands tagged with a sequence number; the
// screen says "computing…" meanwhile, and labels changing (pass_rate reads
// grades) make it recompute.
type trendsView struct {
	c  *common
	ws *workspace

	width, height int
	shown         bool
	vp            viewport.Model

	metrics []string // the metrics [ and ] cycle through
	metric  int
	// picked: the reviewer chose the metric; until then the goal metric
	// is shown, or thumbs_down_rate while nothing is graded.
	picked bool
	split  int

	seq       int // tags overview computations
	computing bool
	dirty     bool
	ov        *trendOverview
	err       error

	dseq       int // tags detail computations
	dcomputing bool
	detail     *trend.Result
}

// trendOverview is what does not depend on the metric picked: the goal,
// the alerts, the key metrics and the thumbs-down reasons. grades and rest
// (the aggregates of the interactions edge sampling did not store in full,
// read with the labels) are kept for the detail computations.
type trendOverview struct {
	end        time.Time
	grades     map[string]loop.Grade
	rest       *agg.Table
	stored     int // the items computed over
	goalNow    float64
	goalMet    bool
	keys       []keyMetric
	alerts     []trend.Alert
	reasons    []trend.ReasonShare
	thumbsDown int
	late       []trend.LateDay // days signals revised after they ended
}

type keyMetric struct {
	metric string
	values []float64 // per day, NaN for gaps
	now    float64   // over the last goalDays days
}

type trendsMsg struct {
	seq int
	ov  *trendOverview
	err error
}

type trendDetailMsg struct {
	seq int
	res trend.Result
	err error
}

func newTrendsView(c *common, ws *workspace) *trendsView {
	metrics := slices.Clone(trend.Metrics)
	for _, rc := range c.taxonomy {
		metrics = append(metrics, trend.ReasonPrefix+rc.Code)
	}
	if !slices.Contains(metrics, c.goal.Metric) {
		metrics = append(metrics, c.goal.Metric)
	}
	vp := viewport.New()
	vp.KeyMap.Left.SetEnabled(false)
	vp.KeyMap.Right.SetEnabled(false)
	return &trendsView{c: c, ws: ws, metrics: metrics, metric: slices.Index(metrics, c.goal.Metric), dirty: true, vp: vp}
}

func (m *trendsView) Init() tea.Cmd { return nil }
func (m *trendsView) Title() string { return "Trends" }
func (m *trendsView) Typing() bool  { return false }

func (m *trendsView) SetSize(w, h int) {
	m.width, m.height = w, h
	m.refresh()
}

func (m *trendsView) ShortHelp() []key.Binding {
	k := m.c.keys
	return []key.Binding{k.Help, k.PrevMetric, k.NextMetric, k.Split, k.Down, k.Up, k.NextScreen}
}

func (m *trendsView) FullHelp() [][]key.Binding {
	k := m.c.keys
	return [][]key.Binding{
		{k.Up, k.Down, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.PrevMetric, k.NextMetric, k.Split},
		k.globalKeys(),
	}
}

func (m *trendsView) focus() tea.Cmd {
	m.shown = true
	return m.compute()
}

func (m *trendsView) blur() { m.shown = false }

func (m *trendsView) metricName() string { return m.metrics[m.metric] }

// compute starts the overview (and with it the detail) when labels changed
// since the last one and none is running.
func (m *trendsView) compute() tea.Cmd {
	if !m.dirty || m.computing || !m.ws.loaded {
		return nil
	}
	m.dirty, m.computing = false, true
	m.seq++
	seq, st, list := m.seq, m.c.st, m.ws.items
	goal := m.c.goal.Trend()
	pol := m.c.guards.Policy()
	m.refresh()
	return func() tea.Msg {
		ov, err := computeOverview(st, list.Summaries(), goal, pol)
		return trendsMsg{seq: seq, ov: ov, err: err}
	}
}

// computeDetail computes the picked metric split as picked, with the
// grades of the last overview.
func (m *trendsView) computeDetail() tea.Cmd {
	if m.ov == nil {
		return nil
	}
	m.dseq++
	m.dcomputing = true
	seq, list, ov := m.dseq, m.ws.items, m.ov
	metric, by := m.metricName(), splits[m.split]
	m.refresh()
	return func() tea.Msg {
		res, err := trend.Compute(metric, by, trendDays, ov.end, trend.Data{Items: list.Summaries(), Grades: ov.grades, Rest: ov.rest})
		return trendDetailMsg{seq: seq, res: res, err: err}
	}
}

// computeOverview reads the labels and the aggregates and computes
// everything but the detail, the independent parts in parallel.
func computeOverview(st *store.Store, items []loop.Summary, goal trend.Goal, pol trend.Policy) (*trendOverview, error) {
	var labels []loop.Label
	if err := st.AllLabels(func(l loop.Label) error { labels = append(labels, l); return nil }); err != nil {
		return nil, fmt.Errorf("reading labels: %w", err)
	}
	rest, err := st.Aggregates()
	if err != nil {
		return nil, fmt.Errorf("reading the aggregates: %w", err)
	}
	ov := &trendOverview{grades: trend.Grades(labels), rest: rest, stored: len(items)}
	d := trend.Data{Items: items, Grades: ov.grades, Rest: rest}
	ov.end = d.Newest()
	if ov.end.IsZero() {
		return ov, nil
	}
	ov.keys = make([]keyMetric, len(trend.Metrics))
	var wg sync.WaitGroup
	for i, metric := range trend.Metrics {
		wg.Go(func() {
			km := keyMetric{metric: metric, now: math.NaN()}
			if res, err := trend.Compute(metric, trend.ByAll, trendDays, ov.end, d); err == nil && len(res.Series) > 0 {
				km.values = res.Series[0].Values()
			}
			km.now, _ = trend.WindowValue(metric, d, goalDays, ov.end)
			ov.keys[i] = km
		})
	}
	wg.Go(func() { ov.goalNow, ov.goalMet = trend.GoalStatus(goal, d, goalDays, ov.end) })
	wg.Go(func() { ov.alerts = trend.Alerts(d, pol, ov.end) })
	wg.Go(func() { ov.reasons, ov.thumbsDown = trend.ReasonShares(d, trendDays, ov.end) })
	var lateErr error
	wg.Go(func() { ov.late, lateErr = trend.LateFromSignals(items, st.AllSignals, trendDays, ov.end) })
	wg.Wait()
	if lateErr != nil {
		return nil, fmt.Errorf("reading signals: %w", lateErr)
	}
	return ov, nil
}

func (m *trendsView) Update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case loadedMsg:
		if m.shown {
			return m.compute()
		}
	case itemChangedMsg, aggregatesChangedMsg:
		m.dirty = true
		if m.shown {
			return m.compute()
		}
	case trendsMsg:
		if msg.seq != m.seq {
			return nil
		}
		m.computing = false
		m.ov, m.err = msg.ov, msg.err
		if m.ov != nil && !m.picked {
			// Nothing graded yet: pass_rate has no data; show the users'
			// own verdict, as `loupe trends` does.
			m.metric = slices.Index(m.metrics, trend.DefaultMetric(m.c.goal.Metric, len(m.ov.grades)))
		}
		cmds := []tea.Cmd{m.computeDetail()}
		if m.shown {
			cmds = append(cmds, m.compute()) // labels changed while it ran
		}
		m.refresh()
		return tea.Batch(cmds...)
	case trendDetailMsg:
		if msg.seq != m.dseq {
			return nil
		}
		m.dcomputing = false
		if msg.err != nil {
			m.detail = nil
			m.refresh()
			return statusErr(msg.err.Error())
		}
		m.detail = &msg.res
		m.refresh()
	case tea.BackgroundColorMsg:
		m.refresh()
	case tea.KeyPressMsg:
		return m.key(msg)
	case tea.MouseWheelMsg:
		var cmd tea.Cmd
		m.vp, cmd = m.vp.Update(msg)
		return cmd
	}
	return nil
}

func (m *trendsView) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	n := len(m.metrics)
	switch {
	case key.Matches(msg, k.PrevMetric):
		m.metric, m.picked = (m.metric-1+n)%n, true
		return m.computeDetail()
	case key.Matches(msg, k.NextMetric):
		m.metric, m.picked = (m.metric+1)%n, true
		return m.computeDetail()
	case key.Matches(msg, k.Split):
		m.split = (m.split + 1) % len(splits)
		return m.computeDetail()
	case key.Matches(msg, k.Top):
		m.vp.GotoTop()
		return nil
	case key.Matches(msg, k.Bottom):
		m.vp.GotoBottom()
		return nil
	}
	var cmd tea.Cmd
	m.vp, cmd = m.vp.Update(msg)
	return cmd
}

// refresh re-renders the content into the viewport.
func (m *trendsView) refresh() {
	if m.width == 0 {
		return
	}
	m.vp.SetWidth(m.width)
	m.vp.SetHeight(max(m.height-1, 1))
	y := m.vp.YOffset()
	m.vp.SetContentLines(m.contentLines())
	m.vp.SetYOffset(y)
}

func (m *trendsView) View() string {
	s := m.c.styles
	if !m.ws.loaded {
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, s.Muted.Render("loading…"))
	}
	return lipgloss.JoinVertical(lipgloss.Left, m.headerLine(), m.vp.View())
}

func (m *trendsView) headerLine() string {
	s := m.c.styles
	left := s.Title.Render(m.metricName()) + s.Muted.Render(" by ") + s.Title.Render(splits[m.split])
	if m.ov != nil && !m.ov.end.IsZero() {
		from := m.ov.end.UTC().AddDate(0, 0, -trendDays+1)
		left += s.Muted.Render(fmt.Sprintf(" · %d days, %s – %s UTC", trendDays, from.Format("Jan 2"), m.ov.end.UTC().Format("Jan 2 2006")))
	}
	k := m.c.keys
	right := s.Subtle.Render(fmt.Sprintf("%s %s metric · %s split", k.PrevMetric.Help().Key, k.NextMetric.Help().Key, k.Split.Help().Key))
	if m.computing || m.dcomputing {
		right = s.Pending.Render("computing… ") + right
	}
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return fit(left, m.width)
	}
	return left + strings.Repeat(" ", gap) + right
}

func fmtValue(metric string, v float64) string { return trend.Format(metric, v) }

func fmtDelta(metric string, d float64) string { return trend.FormatDelta(metric, d) }

func goalOp(op string) string {
	switch op {
	case ">=":
		return "≥"
	case "<=":
		return "≤"
	}
	return op
}

// sparkScaled draws values on the common scale [lo, hi], so that series
// side by side compare: trend.Sparkline scales to the values it is given,
// so values are clamped to the scale, lo and hi go along, and their bars
// are cut off.
func sparkScaled(values []float64, lo, hi float64) string {
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return trend.Sparkline(values)
	}
	vs := make([]float64, 0, len(values)+2)
	for _, v := range values {
		if !math.IsNaN(v) {
			v = min(max(v, lo), hi)
		}
		vs = append(vs, v)
	}
	r := []rune(trend.Sparkline(append(vs, lo, hi)))
	return string(r[:len(values)])
}

// scaleRange is the common scale of series: the 5th to 95th percentile of
// their values, so that a day with a handful of events (0% or 100%) does
// not flatten every other day.
func scaleRange(series ...[]float64) (lo, hi float64) {
	var all []float64
	for _, vs := range series {
		for _, v := range vs {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				all = append(all, v)
			}
		}
	}
	if len(all) == 0 {
		return math.Inf(1), math.Inf(-1)
	}
	slices.Sort(all)
	q := func(p float64) float64 { return all[int(math.Round(p*float64(len(all)-1)))] }
	return q(0.05), q(0.95)
}

func (m *trendsView) contentLines() []string {
	s := m.c.styles
	w := m.width
	if m.err != nil {
		return []string{s.StatusError.Render("could not compute trends: " + m.err.Error())}
	}
	if m.ov == nil {
		return []string{"", s.Muted.Render("  computing…")}
	}
	if m.ov.end.IsZero() {
		return []string{"", s.Muted.Render("  no events yet: trends need data (loupe ingest, or loupe demo)")}
	}
	var out []string
	out = append(out, m.goalLines(w)...)
	if n := m.ov.rest.Events(); n > 0 {
		// Edge sampling: say what the numbers are over (only then, so a
		// store that keeps everything shows what it always did).
		stored := m.ov.stored
		out = append(out, s.Muted.Render(fmt.Sprintf("      edge sampling: %s interactions, %s stored in full · rates and latency over all, pass_rate over the stored",
			thousands(stored+int(n)), thousands(stored))))
	}
	if len(m.ov.late) > 0 {
		// Only when some signal did revise a past day: yesterday may
		// still move.
		out = append(out, s.Pending.Render(trend.LateLine(m.ov.late)))
	}
	shown := 3
	if m.height >= 40 {
		shown = 8
	}
	alerts, rest := m.alertLines(w, shown)
	out = append(out, alerts...)
	out = append(out, "")
	detail := m.detailLines()
	keys := m.keyMetricLines()
	reasons := m.reasonLines()
	if w >= 160 {
		lw := w * 11 / 20
		left := append(detail, append([]string{""}, reasons...)...)
		for i := range left {
			left[i] = fit(left[i], lw)
		}
		out = append(out, strings.Split(lipgloss.JoinHorizontal(lipgloss.Top, strings.Join(left, "\n"), "  ", strings.Join(keys, "\n")), "\n")...)
	} else {
		out = append(out, detail...)
		out = append(out, "")
		out = append(out, keys...)
		out = append(out, "")
		out = append(out, reasons...)
	}
	if len(rest) > 0 {
		out = append(out, "", s.Section.Render("More alerts"))
		out = append(out, rest...)
	}
	for i := range out {
		out[i] = fit(out[i], w)
	}
	return out
}

// goalLines is the thermostat: the goal metric now against its target.
func (m *trendsView) goalLines(w int) []string {
	s := m.c.styles
	g := m.c.goal
	ov := m.ov
	state := s.Fail.Render("✗ not met")
	if ov.goalMet {
		state = s.Pass.Render("✓ met")
	}
	line := s.Section.Render("Goal") + "  " + s.Title.Render(fmt.Sprintf("%s %s %s", g.Metric, goalOp(g.Op), fmtValue(g.Metric, g.Target))) +
		s.Muted.Render(fmt.Sprintf("   now %s", "")) + s.Title.Render(fmtValue(g.Metric, ov.goalNow)) + s.Muted.Render(fmt.Sprintf(" (last %d days)  ", goalDays)) + state
	if !ov.goalMet && !math.IsNaN(ov.goalNow) {
		line += s.Muted.Render("  " + strings.TrimPrefix(fmtDelta(g.Metric, math.Abs(g.Target-ov.goalNow)), "+") + " to go")
	}
	out := []string{line}
	if config.IsRate(g.Metric) && !math.IsNaN(ov.goalNow) {
		out = append(out, "      "+m.gauge(min(40, w-20), ov.goalNow, g.Target, ov.goalMet))
	}
	return out
}

// gauge draws now on a 0–100% scale with the target marked │.
func (m *trendsView) gauge(width int, now, target float64, met bool) string {
	s := m.c.styles
	if width < 10 {
		return ""
	}
	pos := func(v float64) int { return min(max(int(math.Round(v*float64(width))), 0), width) }
	n, t := pos(now), min(pos(target), width-1)
	var b strings.Builder
	fill := s.Fail
	if met {
		fill = s.Pass
	}
	for i := 0; i < width; i++ {
		switch {
		case i == t:
			b.WriteString(s.Title.Render("│"))
		case i < n:
			b.WriteString(fill.Render("█"))
		default:
			b.WriteString(s.Subtle.Render("░"))
		}
	}
	return b.String() + s.Muted.Render(fmt.Sprintf("  0–100%%, │ target %s", fmtValue(m.c.goal.Metric, target)))
}

// alertLines lists the alerts in trend.SortAlerts' order (rollbacks
// first); the first shown lines go on top, the rest at the bottom.
func (m *trendsView) alertLines(w, shown int) (top, rest []string) {
	s := m.c.styles
	as := m.ov.alerts
	if len(as) == 0 {
		return []string{s.Section.Render("Alerts") + "  " + s.Pass.Render("none") + s.Muted.Render(" — no significant worsening past a guardrail")}, nil
	}
	top = append(top, s.Section.Render(fmt.Sprintf("Alerts (%d)", len(as)))+s.Muted.Render(fmt.Sprintf("  significant at α=%g (Benjamini–Hochberg), interval shown", m.c.guards.Policy().AlphaOrDefault())))
	// One headline per version to roll back, naming the one to return to.
	var order []string
	deltas := map[string][]string{}
	to := map[string]string{}
	for _, a := range as {
		if a.Action != trend.ActionRollBack {
			continue
		}
		if _, ok := deltas[a.Key]; !ok {
			order = append(order, a.Key)
			to[a.Key] = a.RollbackTo
		}
		deltas[a.Key] = append(deltas[a.Key], a.Metric+" "+fmtDelta(a.Metric, a.Delta))
	}
	for _, k := range order {
		top = append(top, ansi.Truncate(s.StatusError.Render("⚠ ROLL BACK")+" "+s.Title.Render(strings.TrimPrefix(k, "model:"))+" → "+s.Title.Render(to[k])+
			s.Muted.Render("  "+strings.Join(deltas[k], " · ")), w, "…"))
	}
	for i, a := range as {
		line := "  " + m.alertLine(a)
		if i < shown {
			top = append(top, ansi.Truncate(line, w, "…"))
		} else {
			rest = append(rest, ansi.Truncate(line, w, "…"))
		}
	}
	if len(rest) > 0 {
		top = append(top, s.Muted.Render(fmt.Sprintf("  … %d more alerts at the bottom (j/↓ scrolls)", len(rest))))
	}
	return top, rest
}

func (m *trendsView) alertLine(a trend.Alert) string {
	s := m.c.styles
	level := s.Flag.Render(pad("WATCH", 9))
	if a.Action == trend.ActionRollBack {
		level = s.StatusError.Render(pad("ROLL BACK", 9))
	}
	key := strings.TrimPrefix(a.Key, "model:")
	if a.Key == trend.AllKey {
		key = "all events"
	}
	against := "prior window"
	if a.Kind == trend.KindVersion {
		against = a.RollbackTo
	}
	metric := a.Metric
	if m.width >= 120 {
		metric = pad(metric, 22)
	}
	out := level + " " + s.Title.Render(key) + " " + metric + " " + s.Fail.Render(fmtDelta(a.Metric, a.Delta)) + " " +
		fmt.Sprintf("%s vs %s", fmtValue(a.Metric, a.After), fmtValue(a.Metric, a.Before)) + s.Muted.Render(" on "+against+", "+a.Interval())
	if a.Action == trend.ActionRollBack {
		out += s.Muted.Render(" → roll back to ") + s.Title.Render(a.RollbackTo)
	}
	return out
}

// detailLines are the picked metric's sparklines, one per series, on one
// scale.
func (m *trendsView) detailLines() []string {
	s := m.c.styles
	metric, by := m.metricName(), splits[m.split]
	title := s.Section.Render(fmt.Sprintf("%s by %s", metric, by)) + s.Muted.Render(" · per UTC day, one scale (5th–95th percentile)")
	if m.detail == nil || m.detail.Metric != metric {
		return []string{title, s.Muted.Render("  computing…")}
	}
	lines := []string{title}
	series := m.detail.Series
	if len(series) == 0 {
		return append(lines, s.Muted.Render("  no data in the window"))
	}
	vals := make([][]float64, len(series))
	for i, sr := range series {
		vals[i] = sr.Values()
	}
	lo, hi := scaleRange(vals...)
	keyW := 8
	for _, sr := range series {
		keyW = max(keyW, min(len(sr.Key), 20))
	}
	window := fmt.Sprintf("last %dd", goalDays)
	lines = append(lines, s.Label.Render("  "+pad("", keyW)+" "+pad(fmt.Sprintf("%s … %s", fmtValue(metric, lo), fmtValue(metric, hi)), trendDays)+" "+fmt.Sprintf("%9s %7s", window, "n")))
	alerts := map[string]trend.Alert{}
	for _, a := range m.ov.alerts {
		if a.Metric != metric {
			continue
		}
		if _, ok := alerts[a.Key]; !ok { // the first is the most pressing
			alerts[a.Key] = a
		}
	}
	for i, sr := range series {
		now, n := sr.Last, sr.LastN
		line := "  " + s.Accent.Render(pad(sr.Key, keyW)) + " " + pad(sparkScaled(vals[i], lo, hi), trendDays) + " " +
			fmt.Sprintf("%9s %7s", fmtValue(metric, now), thousands(n))
		if a, ok := alerts[by+":"+sr.Key]; ok {
			tag := s.Flag.Render(" ▲ watch")
			if a.Action == trend.ActionRollBack {
				tag = s.Fail.Render(" ▲ roll back") + s.Muted.Render(" → "+a.RollbackTo)
			}
			line += tag
		}
		lines = append(lines, line)
	}
	return lines
}

// keyMetricLines are every fixed metric over all events.
func (m *trendsView) keyMetricLines() []string {
	s := m.c.styles
	lines := []string{s.Section.Render("Key metrics") + s.Muted.Render(" · all events, each on its own scale")}
	for _, km := range m.ov.keys {
		name := pad(km.metric, 22)
		if km.metric == m.c.goal.Metric {
			name = s.Title.Render(name)
		}
		spark := pad(trend.Sparkline(km.values), trendDays)
		if km.values == nil {
			spark = s.Subtle.Render(pad("  no data", trendDays))
		}
		lines = append(lines, "  "+name+" "+spark+" "+fmt.Sprintf("%9s", fmtValue(km.metric, km.now)))
	}
	return lines
}

// reasonLines are the thumbs-down reason codes as bars.
func (m *trendsView) reasonLines() []string {
	s := m.c.styles
	ov := m.ov
	lines := []string{s.Section.Render("Thumbs-down reasons") + s.Muted.Render(fmt.Sprintf(" · %s thumbs-down in %d days", thousands(ov.thumbsDown), trendDays))}
	if len(ov.reasons) == 0 {
		return append(lines, s.Muted.Render("  no reason codes given"))
	}
	barW := 30
	if m.width < 100 {
		barW = 20
	}
	top := ov.reasons[0].N
	for _, r := range ov.reasons {
		bar := strings.Repeat("█", max(int(math.Round(float64(r.N)/float64(top)*float64(barW))), 1))
		lines = append(lines, "  "+pad(r.Code, 18)+" "+s.ThumbDown.Render(pad(bar, barW))+" "+fmt.Sprintf("%5.1f%%  %s", 100*r.Share, thousands(r.N)))
	}
	return lines
}
