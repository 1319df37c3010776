package trend

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// MinSample is the number of events (the metric's N) each side of a
// comparison needs before Alerts will raise anything: below it a difference
// is noise.
const MinSample = 30

// DefaultWindow is the comparison window, in days, of a guardrail whose
// Window is not set.
const DefaultWindow = 7

// Guardrail is how much worse a metric may get. Alert and Rollback are
// worsenings in the metric's own units (a share for rates: 0.05 is five
// percentage points; milliseconds for latency): a worsening of at least
// Alert raises an "alert", one of at least Rollback (when > 0) calls for a
// "rollback". "Worse" is higher for thumbs_down_rate, escalation, abandon,
// policy-violation and reason rates and latency, lower for pass_rate and
// resolution_rate. Window is the number of days compared (DefaultWindow
// when < 1).
type Guardrail struct {
	Metric   string  `json:"metric"`
	Alert    float64 `json:"alert"`
	Rollback float64 `json:"rollback"`
	Window   int     `json:"window"`
}

// Alert is a guardrail breach. Key is the series that got worse ("all",
// "model:<version>", "segment:<name>", "task:<name>"); Against what it is
// compared with (the previous model version, "model:<version>", or the
// previous window, "YYYY-MM-DD..YYYY-MM-DD"). Before and After are the
// metric's values on each side, over NBefore and NAfter events. Rollback
// names the model version to roll back to when Key is a model version
// compared with its predecessor.
type Alert struct {
	Metric   string  `json:"metric"`
	Key      string  `json:"key"`
	Against  string  `json:"against"`
	Before   float64 `json:"before"`
	After    float64 `json:"after"`
	NBefore  int     `json:"n_before"`
	NAfter   int     `json:"n_after"`
	Level    string  `json:"level"` // "alert" or "rollback"
	Rollback string  `json:"rollback,omitempty"`
	Message  string  `json:"message"`
}

// Alert levels.
const (
	LevelAlert    = "alert"
	LevelRollback = "rollback"
)

// Alerts checks every guardrail two ways, on data up to end's UTC day:
//
//  1. Model versions. Versions are ordered by the day they were first seen;
//     each version that is still live (has events in the last Window days)
//     is compared with the version first seen before it, over the days both
//     had events. When they never ran side by side (a hard cut-over), the
//     predecessor's last Window days before the new version's first day are
//     compared with the new version's first Window days.
//  2. Recent days. For every series (all events, each model version, each
//     segment, each task) the last Window days are compared with the Window
//     days before them.
//
// A comparison raises an alert only when both sides have at least MinSample
// events and the metric got worse by at least the guardrail's Alert (and by
// more than zero). Unknown metrics are skipped. The result is ordered:
// rollbacks first, then by metric, key and against.
func Alerts(items []loop.Summary, grades map[string]loop.Grade, guards []Guardrail, end time.Time) []Alert {
	if len(items) == 0 || len(guards) == 0 {
		return nil
	}
	endDay := dayIndex(end)
	firstDay := endDay
	for i := range items {
		if d := dayIndex(items[i].Time); d < firstDay {
			firstDay = d
		}
	}
	span := int(endDay-firstDay) + 1

	var out []Alert
	for _, gr := range guards {
		sp, err := parse(gr.Metric)
		if err != nil {
			continue
		}
		w := gr.Window
		if w < 1 {
			w = DefaultWindow
		}
		recentFrom := endDay - int64(w) + 1
		beforeFrom := recentFrom - int64(w)
		against := dayString(beforeFrom) + ".." + dayString(recentFrom-1)

		// One pass feeds all four grids: models over all days (versions
		// need their whole history), the rest over the two windows.
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
		fill(items, grades, grids, keyFns)
		out = append(out, versionAlerts(gr, w, grids[0], endDay)...)

		for i, by := range dims {
			if i == 0 {
				continue // the version lineage grid, done above
			}
			g := grids[i]
			for r, k := range g.keys {
				before, nb := g.value(r, g.cols(beforeFrom, recentFrom-1))
				after, na := g.value(r, g.cols(recentFrom, endDay))
				key := k
				if by != ByAll {
					key = by + ":" + k
				}
				if a, ok := judge(gr, key, against, before, after, nb, na); ok {
					a.Message = fmt.Sprintf("%s for %s: %s in the last %d days vs %s in the %d days before (%s), n=%d vs %d (min %d each side)",
						gr.Metric, key, format(gr.Metric, after), w, format(gr.Metric, before), w,
						formatDelta(gr.Metric, after-before), na, nb, MinSample)
					a.Message += levelNote(a, gr)
					out = append(out, a)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Level == LevelRollback) != (b.Level == LevelRollback) {
			return a.Level == LevelRollback
		}
		if a.Metric != b.Metric {
			return a.Metric < b.Metric
		}
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		return a.Against < b.Against
	})
	return out
}

// versionAlerts compares each live model version with its predecessor.
func versionAlerts(gr Guardrail, w int, g *grid, endDay int64) []Alert {
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
	var out []Alert
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
		span := fmt.Sprintf("over the %d days both were live", len(both))
		if len(both) == 0 {
			pcols = g.cols(v.first-int64(w), v.first-1)
			vcols = g.cols(v.first, v.first+int64(w)-1)
			span = fmt.Sprintf("%d days before vs %d days after the switch on %s", w, w, dayString(v.first))
		}
		before, nb := g.value(p.row, pcols)
		after, na := g.value(v.row, vcols)
		vName, pName := name(v), name(p)
		a, ok := judge(gr, "model:"+vName, "model:"+pName, before, after, nb, na)
		if !ok {
			continue
		}
		a.Rollback = pName
		a.Message = fmt.Sprintf("%s worse on %s than on %s: %s vs %s (%s), %s, n=%d vs %d (min %d each side)",
			gr.Metric, vName, pName, format(gr.Metric, after), format(gr.Metric, before),
			formatDelta(gr.Metric, after-before), span, na, nb, MinSample)
		if a.Level == LevelRollback {
			a.Message += fmt.Sprintf("; roll back to %s (rollback threshold %s)", pName, formatAbs(gr.Metric, gr.Rollback))
		} else {
			a.Message += fmt.Sprintf("; alert threshold %s, rollback candidate %s", formatAbs(gr.Metric, gr.Alert), pName)
		}
		out = append(out, a)
	}
	return out
}

// judge decides whether after is enough worse than before to alert.
func judge(gr Guardrail, key, against string, before, after float64, nb, na int) (Alert, bool) {
	if nb < MinSample || na < MinSample || math.IsNaN(before) || math.IsNaN(after) {
		return Alert{}, false
	}
	worse := after - before
	if !HigherIsWorse(gr.Metric) {
		worse = -worse
	}
	// A worsening of exactly the threshold reaches it, despite float
	// rounding (0.82 - 0.79 is 0.0299999...), as in config.Guardrail.Check.
	reached := func(limit float64) bool { return worse >= limit-1e-9*max(1, math.Abs(limit)) }
	if worse <= 0 || !reached(gr.Alert) {
		return Alert{}, false
	}
	level := LevelAlert
	if gr.Rollback > 0 && reached(gr.Rollback) {
		level = LevelRollback
	}
	return Alert{Metric: gr.Metric, Key: key, Against: against, Before: before, After: after,
		NBefore: nb, NAfter: na, Level: level}, true
}

func levelNote(a Alert, gr Guardrail) string {
	if a.Level == LevelRollback {
		return fmt.Sprintf("; past the rollback threshold %s", formatAbs(gr.Metric, gr.Rollback))
	}
	return fmt.Sprintf("; past the alert threshold %s", formatAbs(gr.Metric, gr.Alert))
}

// format writes a metric value: latency in ms, shares as percentages.
func format(metric string, v float64) string {
	if IsLatency(metric) {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func formatDelta(metric string, d float64) string {
	if IsLatency(metric) {
		return fmt.Sprintf("%+.0f ms", d)
	}
	return fmt.Sprintf("%+.1f pp", 100*d)
}

func formatAbs(metric string, d float64) string {
	return strings.TrimPrefix(formatDelta(metric, d), "+")
}
