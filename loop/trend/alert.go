package trend

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// Policy defaults (loupe.yaml's guardrails.alpha and guardrails.min_n).
const (
	// DefaultAlpha is the false-discovery rate Alerts controls across all
	// the comparisons it makes.
	DefaultAlpha = 0.05
	// DefaultMinN is the number of events (the metric's N) each side of a
	// comparison needs before it is tested at all: below it a difference is
	// noise, however large.
	DefaultMinN = 30
	// DefaultWindow is the comparison window, in days, of a guardrail whose
	// Window is not set.
	DefaultWindow = 7
)

// Guardrail is how much worse a metric may get. Alert and Rollback are
// worsenings in the metric's own units (a share for rates: 0.05 is five
// percentage points; milliseconds for latency). A significant worsening of
// at least Alert is reported; one of at least Rollback (when > 0), on a
// model version against the version it replaced, calls for rolling back.
// "Worse" is higher for thumbs_down_rate, escalation, abandon,
// policy-violation and reason rates and latency, lower for pass_rate and
// resolution_rate. Window is the number of days compared (DefaultWindow
// when < 1).
type Guardrail struct {
	Metric   string  `json:"metric"`
	Alert    float64 `json:"alert"`
	Rollback float64 `json:"rollback"`
	Window   int     `json:"window"`
}

// Policy is how Alerts decides: the guardrails, the false-discovery rate
// Alpha (DefaultAlpha when 0) and the minimum sample MinN per side
// (DefaultMinN when 0).
type Policy struct {
	Alpha  float64     `json:"alpha"`
	MinN   int         `json:"min_n"`
	Guards []Guardrail `json:"guardrails"`
}

// AlphaOrDefault is Alpha, or DefaultAlpha when it is not set.
func (p Policy) AlphaOrDefault() float64 { return p.alpha() }

func (p Policy) alpha() float64 {
	if p.Alpha > 0 && p.Alpha < 1 {
		return p.Alpha
	}
	return DefaultAlpha
}

func (p Policy) minN() int {
	if p.MinN > 0 {
		return p.MinN
	}
	return DefaultMinN
}

// Actions an alert recommends.
const (
	// ActionRollBack: a model version is worse than the version it
	// replaced by at least the rollback threshold; return to RollbackTo.
	ActionRollBack = "roll_back"
	// ActionWatch: a real worsening, but not one a rollback fixes (a drift
	// with no version change) or not past the rollback threshold.
	ActionWatch = "watch"
)

// Comparison kinds.
const (
	KindVersion = "version" // a model version against its predecessor
	KindWindow  = "window"  // the last Window days against the Window before
)

// Alert is a significant guardrail breach. Key is the series that got
// worse ("all", "model:<version>", "segment:<name>", "task:<name>");
// Against what it is compared with (the version it replaced,
// "model:<version>", or the previous window, "YYYY-MM-DD..YYYY-MM-DD").
// Before and After are the metric's values on each side, over NBefore and
// NAfter events; Delta is After − Before and [Lo, Hi] its interval at
// Confidence. P is the test's two-sided p-value and Q its
// Benjamini–Hochberg adjusted value over every comparison made.
// RollbackTo names the version to return to for ActionRollBack (and the
// predecessor of a version watched); empty for window drifts. ID is stable
// for the same breach from day to day (kind, metric, key and, for
// versions, the predecessor), so a breach is posted once.
type Alert struct {
	ID         string  `json:"id"`
	Action     string  `json:"action"`
	Kind       string  `json:"kind"`
	Metric     string  `json:"metric"`
	Key        string  `json:"key"`
	Against    string  `json:"against"`
	RollbackTo string  `json:"rollback_to"`
	Before     float64 `json:"before"`
	After      float64 `json:"after"`
	NBefore    int     `json:"n_before"`
	NAfter     int     `json:"n_after"`
	Delta      float64 `json:"delta"`
	Lo         float64 `json:"lo"`
	Hi         float64 `json:"hi"`
	Confidence float64 `json:"confidence"`
	P          float64 `json:"p"`
	Q          float64 `json:"q"`
	Message    string  `json:"message"`
}

// MarshalJSON writes rollback_to as null when there is none.
func (a Alert) MarshalJSON() ([]byte, error) {
	type plain Alert
	var to *string
	if a.RollbackTo != "" {
		to = &a.RollbackTo
	}
	return marshal(struct {
		plain
		RollbackTo *string `json:"rollback_to"`
	}{plain(a), to})
}

// Label is the action as people read it: "ROLL BACK" or "WATCH".
func (a Alert) Label() string {
	if a.Action == ActionRollBack {
		return "ROLL BACK"
	}
	return "WATCH"
}

// Headline is the alert in one line: what to do, to what, and why.
func (a Alert) Headline() string {
	key := strings.TrimPrefix(a.Key, "model:")
	if a.Key == AllKey {
		key = "all events"
	}
	change := fmt.Sprintf("%s %s (%s vs %s)", a.Metric, FormatDelta(a.Metric, a.Delta),
		Format(a.Metric, a.After), Format(a.Metric, a.Before))
	switch {
	case a.Action == ActionRollBack:
		return fmt.Sprintf("ROLL BACK %s to %s: %s", key, a.RollbackTo, change)
	case a.Kind == KindVersion:
		return fmt.Sprintf("WATCH %s against %s: %s", key, a.RollbackTo, change)
	}
	return fmt.Sprintf("WATCH %s: %s against the previous %d days", key, change, a.window())
}

// window is the comparison window of a drift, read off Against.
func (a Alert) window() int {
	from, to, ok := strings.Cut(a.Against, "..")
	f, err1 := time.Parse(dayLayout, from)
	t, err2 := time.Parse(dayLayout, to)
	if !ok || err1 != nil || err2 != nil {
		return DefaultWindow
	}
	return int(t.Sub(f).Hours()/24) + 1
}

// Interval writes [Lo, Hi] in the metric's unit with the confidence.
func (a Alert) Interval() string {
	return fmt.Sprintf("%s interval %s to %s", confPct(a.Confidence), FormatDelta(a.Metric, a.Lo), FormatDelta(a.Metric, a.Hi))
}

func confPct(c float64) string {
	s := fmt.Sprintf("%.1f", 100*c)
	return strings.TrimSuffix(s, ".0") + "%"
}

// side is one side of a comparison.
type side struct {
	x, n  int       // rates: numerator, denominator
	vals  []float32 // latency values
	value float64
}

// comparison is one test Alerts makes.
type comparison struct {
	gr                Guardrail
	sp                spec
	kind, key, versus string
	rollbackTo        string
	before, after     side
	note              string // what was compared, for the message
	p                 float64
}

// Alerts checks every guardrail two ways, on data up to end's UTC day:
//
//  1. Model versions. Versions are ordered within their product line (the
//     task they serve) by the day they were first seen; each version still
//     live (events in the last Window days) is compared with the version
//     first seen before it, over the days both had events. When they never
//     ran side by side (a hard cut-over), the predecessor's last Window
//     days before the new version's first day are compared with the new
//     version's first Window days.
//  2. Recent days. For every series (all events, each model version, each
//     segment, each task) the last Window days are compared with the
//     Window days before them.
//
// A comparison is tested only when both sides have at least MinN events:
// rates by a two-sided two-proportion test (Fisher's exact test for small
// counts), latency percentiles by the share of each side above the pooled
// percentile. Benjamini–Hochberg at Alpha over every comparison made (all
// guardrails, all slices) keeps the expected share of false alarms among
// the alerts at or below Alpha. A rejected comparison becomes an alert when
// the metric got worse by at least the guardrail's Alert; its interval is
// at the false-coverage-adjusted level 1 − R·Alpha/m (R alerts of m
// comparisons: Benjamini–Yekutieli), so that the intervals shown hold
// together. Only a version comparison past Rollback recommends rolling
// back, to the version it replaced; everything else is a watch. Unknown
// metrics are skipped. The order is SortAlerts'.
//
// Every side counts d.Rest too (see Data): a rate's counts add up, and a
// latency side's values include the sketch's, so its test and interval are
// within agg.Accuracy of those over the values themselves. pass_rate
// compares the stored sample only.
func Alerts(d Data, pol Policy, end time.Time) []Alert {
	if d.empty() || len(pol.Guards) == 0 {
		return nil
	}
	endDay := dayIndex(end)
	firstDay := endDay
	for i := range d.Items {
		if day := dayIndex(d.Items[i].Time); day < firstDay {
			firstDay = day
		}
	}
	if ks := d.Rest.Keys(); len(ks) > 0 && ks[0].Day < firstDay {
		firstDay = ks[0].Day
	}
	span := int(endDay-firstDay) + 1
	minN := pol.minN()

	var cs []comparison
	for _, gr := range pol.Guards {
		sp, err := parse(gr.Metric)
		if err != nil {
			continue
		}
		w := gr.Window
		if w < 1 {
			w = DefaultWindow
		}
		gr.Window = w
		recentFrom := endDay - int64(w) + 1
		beforeFrom := recentFrom - int64(w)
		against := dayString(beforeFrom) + ".." + dayString(recentFrom-1)

		// One pass feeds every grid: versions over all days (they need
		// their whole history), the rest over the two windows.
		dims := []string{ByModel, ByAll, BySegment, ByTask, ByModel}
		grids := make([]*grid, len(dims))
		keyFns := make([]func(*loop.Summary) string, len(dims))
		for i, by := range dims {
			keyFns[i], _ = keyFunc(by)
			if i == 0 {
				// Versions are compared within their product line: the
				// task they serve. A summarizer release is not the
				// successor of a speech-to-text one.
				keyFns[i] = func(s *loop.Summary) string { return s.Task + "\x00" + s.Model }
				grids[i] = newGrid(sp, firstDay, span)
			} else {
				grids[i] = newGrid(sp, beforeFrom, 2*w)
			}
		}
		fill(d, grids, keyFns)
		cs = append(cs, versionComparisons(gr, sp, grids[0], endDay)...)
		for i, by := range dims[1:] {
			g := grids[i+1]
			for r, k := range g.keys {
				key := k
				if by != ByAll {
					key = by + ":" + k
				}
				cs = append(cs, comparison{gr: gr, sp: sp, kind: KindWindow, key: key, versus: against,
					before: g.side(r, g.cols(beforeFrom, recentFrom-1)),
					after:  g.side(r, g.cols(recentFrom, endDay)),
					note:   fmt.Sprintf("the last %d days vs the %d days before", w, w)})
			}
		}
	}

	// Test what has the sample for it.
	var tested []comparison
	for _, c := range cs {
		if c.before.n < minN || c.after.n < minN {
			continue
		}
		if c.sp.kind == kLatency {
			c.p = quantileTest(c.before.vals, c.after.vals, c.sp.q)
		} else {
			c.p = propTest(c.before.x, c.before.n, c.after.x, c.after.n)
		}
		tested = append(tested, c)
	}
	alpha := pol.alpha()
	ps := make([]float64, len(tested))
	for i, c := range tested {
		ps[i] = c.p
	}
	reject, qs := bh(ps, alpha)
	r := 0
	for _, ok := range reject {
		if ok {
			r++
		}
	}
	if r == 0 {
		return nil
	}
	conf := 1 - float64(r)*alpha/float64(len(tested))

	var out []Alert
	for i, c := range tested {
		if !reject[i] {
			continue
		}
		worse := c.after.value - c.before.value
		if !HigherIsWorse(c.gr.Metric) {
			worse = -worse
		}
		if worse <= 0 || !reached(worse, c.gr.Alert) {
			continue
		}
		a := Alert{Kind: c.kind, Metric: c.gr.Metric, Key: c.key, Against: c.versus, RollbackTo: c.rollbackTo,
			Before: c.before.value, After: c.after.value, NBefore: c.before.n, NAfter: c.after.n,
			Delta: c.after.value - c.before.value, Confidence: conf, P: c.p, Q: qs[i], Action: ActionWatch}
		if c.sp.kind == kLatency {
			a.Lo, a.Hi = quantileDiffInterval(c.before.vals, c.after.vals, c.sp.q, conf)
		} else {
			a.Lo, a.Hi = propDiffInterval(c.before.x, c.before.n, c.after.x, c.after.n, conf)
		}
		if c.kind == KindVersion && c.gr.Rollback > 0 && reached(worse, c.gr.Rollback) {
			a.Action = ActionRollBack
		}
		a.ID = alertID(a)
		a.Message = message(a, c, alpha, minN)
		out = append(out, a)
	}
	SortAlerts(out)
	return out
}

// reached: a worsening of exactly the threshold reaches it, despite float
// rounding (0.82 - 0.79 is 0.0299999...), as in config.Guardrail.Check.
func reached(worse, limit float64) bool { return worse >= limit-1e-9*max(1, math.Abs(limit)) }

func alertID(a Alert) string {
	versus := "window"
	if a.Kind == KindVersion {
		versus = a.Against
	}
	h := sha256.Sum256([]byte(a.Kind + "\x00" + a.Metric + "\x00" + a.Key + "\x00" + versus))
	return hex.EncodeToString(h[:5])
}

func message(a Alert, c comparison, alpha float64, minN int) string {
	q := fmt.Sprintf("q=%.3f", a.Q)
	if a.Q < 0.001 {
		q = "q<0.001"
	}
	stats := fmt.Sprintf("%s (%s), %s, n=%d vs %d, %s (Benjamini–Hochberg at α=%g, min %d each side)",
		FormatDelta(a.Metric, a.Delta), a.Interval(), c.note, a.NAfter, a.NBefore, q, alpha, minN)
	if a.Kind == KindVersion {
		v, p := strings.TrimPrefix(a.Key, "model:"), a.RollbackTo
		m := fmt.Sprintf("%s worse on %s than on %s, the version it replaced: %s vs %s, %s", a.Metric, v, p,
			Format(a.Metric, a.After), Format(a.Metric, a.Before), stats)
		if a.Action == ActionRollBack {
			return m + fmt.Sprintf("; roll back to %s (past the rollback threshold %s)", p, FormatAbs(a.Metric, c.gr.Rollback))
		}
		return m + fmt.Sprintf("; watch: past the alert threshold %s, not the rollback threshold %s", FormatAbs(a.Metric, c.gr.Alert), FormatAbs(a.Metric, c.gr.Rollback))
	}
	what := "a drift of this version, with no release to roll back"
	if !strings.HasPrefix(a.Key, ByModel+":") {
		what = "a change across the whole slice, not one release (releases are compared version against version)"
	}
	return fmt.Sprintf("%s for %s: %s vs %s, %s; watch: %s", a.Metric, a.Key,
		Format(a.Metric, a.After), Format(a.Metric, a.Before), stats, what)
}

// SortAlerts orders alerts as every front end lists them: rollbacks first,
// then version watches, then drifts; within each by the metric's display
// order (Metrics, then reason metrics by name), key and against.
func SortAlerts(as []Alert) {
	rank := func(a Alert) int {
		switch {
		case a.Action == ActionRollBack:
			return 0
		case a.Kind == KindVersion:
			return 1
		}
		return 2
	}
	mi := func(m string) int {
		if i := slices.Index(Metrics, m); i >= 0 {
			return i
		}
		return len(Metrics)
	}
	slices.SortStableFunc(as, func(a, b Alert) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(mi(a.Metric), mi(b.Metric)),
			cmp.Compare(a.Metric, b.Metric), cmp.Compare(a.Key, b.Key), cmp.Compare(a.Against, b.Against))
	})
}

// side is one row's sample over cols: counts for rates, a copy of the
// values for latency, and the metric's value.
func (g *grid) side(row int, cols []int) side {
	var s side
	base := row * g.ndays
	if g.sp.kind == kLatency {
		for _, c := range cols {
			s.vals = append(s.vals, g.lat[base+c]...)
		}
		s.n = len(s.vals)
		s.value = math.NaN()
		if s.n > 0 {
			s.value = quantile(slices.Clone(s.vals), g.sp.q)
		}
		return s
	}
	for _, c := range cols {
		s.x += int(g.num[base+c])
		s.n += int(g.den[base+c])
	}
	s.value = math.NaN()
	if s.n > 0 {
		s.value = float64(s.x) / float64(s.n)
	}
	return s
}

// versionComparisons compares each live model version with its
// predecessor.
func versionComparisons(gr Guardrail, sp spec, g *grid, endDay int64) []comparison {
	w := gr.Window
	type version struct {
		row         int
		first, last int64 // first and last day with events
	}
	var vs []version
	for r := range g.keys {
		v := version{row: r, first: -1, last: -1}
		for c := 0; c < g.ndays; c++ {
			if g.ev[r*g.ndays+c] > 0 {
				if v.first < 0 {
					v.first = g.first + int64(c)
				}
				v.last = g.first + int64(c)
			}
		}
		if v.first >= 0 {
			vs = append(vs, v)
		}
	}
	line := func(v version) string { t, _, _ := strings.Cut(g.keys[v.row], "\x00"); return t }
	name := func(v version) string { _, m, _ := strings.Cut(g.keys[v.row], "\x00"); return m }
	sort.Slice(vs, func(i, j int) bool {
		if li, lj := line(vs[i]), line(vs[j]); li != lj {
			return li < lj
		}
		if vs[i].first != vs[j].first {
			return vs[i].first < vs[j].first
		}
		return g.keys[vs[i].row] < g.keys[vs[j].row]
	})
	var out []comparison
	for i := 1; i < len(vs); i++ {
		v, p := vs[i], vs[i-1]
		if line(v) != line(p) {
			continue // first version of its product line
		}
		if v.last < endDay-int64(w)+1 {
			continue // no longer live
		}
		var both []int
		for c := 0; c < g.ndays; c++ {
			if g.ev[v.row*g.ndays+c] > 0 && g.ev[p.row*g.ndays+c] > 0 {
				both = append(both, c)
			}
		}
		pcols, vcols := both, both
		note := fmt.Sprintf("over the %d days both were live", len(both))
		if len(both) == 0 {
			pcols = g.cols(v.first-int64(w), v.first-1)
			vcols = g.cols(v.first, v.first+int64(w)-1)
			note = fmt.Sprintf("%d days before vs %d days after the switch on %s", w, w, dayString(v.first))
		}
		out = append(out, comparison{gr: gr, sp: sp, kind: KindVersion,
			key: "model:" + name(v), versus: "model:" + name(p), rollbackTo: name(p),
			before: g.side(p.row, pcols), after: g.side(v.row, vcols), note: note})
	}
	return out
}
