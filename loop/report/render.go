package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/loupe-dev/loupe/loop/trend"
)

// Chart is one chart of the page: Name is a file-name-safe id ("goal",
// "reasons", ...), SVG its drawing.
type Chart struct {
	Name, Title, SVG string
}

// Charts draws the page's charts; standalone charts carry the SVG
// namespace a separate .svg file needs.
func (r Report) Charts(standalone bool) []Chart {
	var out []Chart
	title := fmt.Sprintf("%s per UTC day, %s to %s", r.ChartMetric, r.From, r.To)
	out = append(out, Chart{"goal", title, lineChart(title, r.ChartMetric, r.GoalSeries, r.Goal.Target, r.ChartMetricGoal, r.Releases, standalone)})
	for _, g := range r.Guardrails {
		bars := make([]bar, len(g.Rows))
		for i, kv := range g.Rows {
			bars[i] = bar{Label: kv.Key, Value: kv.Value, Before: math.NaN(), Note: fmt.Sprintf("n=%d", kv.N)}
		}
		t := fmt.Sprintf("%s per model version, last %d days", g.Metric, trend.GoalDays)
		out = append(out, Chart{"guardrail-" + safeName(g.Metric), t, barChart(t, g.Metric, bars, false, standalone)})
	}
	var rb []bar
	for _, m := range r.Moves {
		rb = append(rb, bar{Label: m.Code, Value: m.After, Before: m.Before})
	}
	t := fmt.Sprintf("Reason codes: share of thumbs-down, last %d days (dark) vs the %d before (light)", trend.GoalDays, trend.GoalDays)
	out = append(out, Chart{"reasons", t, barChart(t, trend.ThumbsDownRate, rb, true, standalone)})
	var sb []bar
	for _, s := range r.Segments {
		sb = append(sb, bar{Label: s.Segment, Value: s.ThumbsDown.Value, Before: math.NaN(), Note: fmt.Sprintf("n=%d", s.ThumbsDown.N)})
	}
	t = "Thumbs-down rate per segment over the window"
	out = append(out, Chart{"segments", t, barChart(t, trend.ThumbsDownRate, sb, false, standalone)})
	return out
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// section is one part of the page, rendered by HTML and Markdown alike:
// paragraphs, a chart by name, tables.
type section struct {
	title  string
	blocks []block
}

type block struct {
	para   string   // a paragraph (plain text)
	chart  string   // a chart name
	head   []string // a table's header
	rows   [][]string
	items  []string // a bullet list
	quotes []quote  // examples
}

type quote struct{ head, input, output string }

func (r Report) sections() []section {
	var out []section

	// Goal.
	g := r.Goal
	state := "not met"
	if g.Met {
		state = "met"
	}
	gp := fmt.Sprintf("Goal: %s %s %s. Over the last %d days it is %s (n=%d): %s.", g.Metric, g.Op, trend.Format(g.Metric, g.Target),
		g.WindowDays, trend.Format(g.Metric, g.Now), g.N, state)
	if r.DefaultedMetric {
		gp += fmt.Sprintf(" Nothing is graded yet, so the chart shows %s, the users' own verdict.", r.ChartMetric)
	}
	gs := section{title: "Goal", blocks: []block{{para: gp}, {chart: "goal"}}}
	if len(r.Late) > 0 {
		// A metric counts on its interaction's day: say that recent days
		// may still move.
		line := trend.LateLine(r.Late)
		gs.blocks = append(gs.blocks, block{para: strings.ToUpper(line[:1]) + line[1:] + "."})
	}
	if len(r.Releases) > 0 {
		var items []string
		for _, rel := range r.Releases {
			items = append(items, fmt.Sprintf("%s: %s (%s) first seen", rel.Day, rel.Model, orDash(rel.Task)))
		}
		gs.blocks = append(gs.blocks, block{para: "Releases in the window (dotted lines):"}, block{items: items})
	}
	out = append(out, gs)

	// Alerts.
	as := section{title: "Alerts and what to do"}
	if len(r.Alerts) == 0 {
		as.blocks = append(as.blocks, block{para: fmt.Sprintf("None: no guarded metric got significantly worse (Benjamini–Hochberg at α=%g, at least %d events each side).", r.Alpha, r.MinN)})
	} else {
		as.blocks = append(as.blocks, block{para: fmt.Sprintf("Significant worsenings past a guardrail (Benjamini–Hochberg at α=%g across every slice, at least %d events each side). ROLL BACK names the version to return to; WATCH is a worsening no rollback fixes.", r.Alpha, r.MinN)})
		var rows [][]string
		for _, a := range r.Alerts {
			rows = append(rows, []string{a.Label(), a.Headline(), a.Interval(), fmt.Sprintf("n=%d vs %d", a.NAfter, a.NBefore), a.ID})
		}
		as.blocks = append(as.blocks, block{head: []string{"Action", "Alert", "Interval", "Sample", "Id"}, rows: rows})
	}
	out = append(out, as)

	// Guardrails per version.
	gr := section{title: "Guardrail metrics per model version"}
	gr.blocks = append(gr.blocks, block{para: fmt.Sprintf("Each guarded metric over the last %d days, per model version (the LAST %d DAYS of loupe trends).", trend.GoalDays, trend.GoalDays)})
	for _, t := range r.Guardrails {
		if len(t.Rows) == 0 {
			gr.blocks = append(gr.blocks, block{para: t.Metric + ": no data in the last days."})
			continue
		}
		gr.blocks = append(gr.blocks, block{chart: "guardrail-" + safeName(t.Metric)})
	}
	out = append(out, gr)

	// Reasons.
	rs := section{title: "Why users turned thumbs down"}
	if len(r.Reasons) == 0 {
		rs.blocks = append(rs.blocks, block{para: "No reason codes given in the window."})
	} else {
		rs.blocks = append(rs.blocks, block{para: fmt.Sprintf("%d thumbs-down in the window; the share carrying each reason code (one event may carry several).", r.ThumbsDown)}, block{chart: "reasons"})
		var rows [][]string
		for _, m := range r.Moves {
			rows = append(rows, []string{m.Code, trend.Format(trend.ThumbsDownRate, m.After), trend.Format(trend.ThumbsDownRate, m.Before), trend.FormatDelta(trend.ThumbsDownRate, m.After-m.Before)})
		}
		rs.blocks = append(rs.blocks, block{head: []string{"Reason", fmt.Sprintf("Last %d days", trend.GoalDays), fmt.Sprintf("%d days before", trend.GoalDays), "Moved"}, rows: rows})
	}
	out = append(out, rs)

	// Segments.
	ss := section{title: "Segments"}
	var srows [][]string
	for _, s := range r.Segments {
		srows = append(srows, []string{s.Segment, fmt.Sprint(s.Events), kv(trend.ThumbsDownRate, s.ThumbsDown), kv(trend.PassRate, s.Pass), kv(trend.EscalationRate, s.Escalation)})
	}
	if len(srows) == 0 {
		ss.blocks = append(ss.blocks, block{para: "No events in the window."})
	} else {
		ss.blocks = append(ss.blocks, block{chart: "segments"}, block{head: []string{"Segment", "Events", "Thumbs-down", "Pass rate (graded)", "Escalation"}, rows: srows})
	}
	out = append(out, ss)

	// Sets and gate.
	st := r.Sets
	sets := section{title: "Golden and red-flag coverage"}
	gmax := ""
	if st.GoldenMax > 0 {
		gmax = fmt.Sprintf("–%d", st.GoldenMax)
	}
	sets.blocks = append(sets.blocks, block{items: []string{
		fmt.Sprintf("Golden set: %d items (target %d%s)%s", st.Golden, st.GoldenMin, gmax, mark(st.Golden >= st.GoldenMin && (st.GoldenMax == 0 || st.Golden <= st.GoldenMax))),
		fmt.Sprintf("Red-flag set: %d items (target ≥ %d)%s", st.RedFlag, st.RedFlagMin, mark(st.RedFlag >= st.RedFlagMin)),
	}})
	var crow [][]string
	golden, red := map[string]int{}, map[string]int{}
	for _, k := range st.GoldenByTask {
		golden[k.Key] = k.N
	}
	for _, k := range st.RedFlagByTask {
		red[k.Key] = k.N
	}
	for _, k := range st.ByTask {
		crow = append(crow, []string{k.Key, fmt.Sprint(k.N), fmt.Sprint(golden[k.Key]), fmt.Sprint(red[k.Key])})
	}
	if len(crow) > 0 {
		sets.blocks = append(sets.blocks, block{head: []string{"Task", "Events in window", "Golden items", "Red-flag items"}, rows: crow})
	}
	if len(st.TasksWithoutGoldenSet) > 0 {
		sets.blocks = append(sets.blocks, block{para: "Tasks with no golden item: " + strings.Join(st.TasksWithoutGoldenSet, ", ") + "."})
	}
	if r.Gate == nil {
		sets.blocks = append(sets.blocks, block{para: "Last gate: none recorded (loupe gate --record stores its result for this report)."})
	} else {
		res := r.Gate.Result
		verdict := "FAIL"
		if res.Pass {
			verdict = "PASS"
		}
		p := fmt.Sprintf("Last gate, %s: %s — red-flag %d of %d passed, %d failures.", r.Gate.At.UTC().Format("2006-01-02 15:04 UTC"), verdict, res.RedFlag.Passed, res.RedFlag.N, len(res.Failures))
		sets.blocks = append(sets.blocks, block{para: p})
		var items []string
		for i, f := range res.Failures {
			if i == 5 {
				items = append(items, fmt.Sprintf("… and %d more", len(res.Failures)-5))
				break
			}
			items = append(items, fmt.Sprintf("%s %s: %s (expected %s, got %s)", f.Set, f.Case, f.What, clip(f.Expected, 60), clip(f.Got, 60)))
		}
		if len(items) > 0 {
			sets.blocks = append(sets.blocks, block{items: items})
		}
	}
	out = append(out, sets)

	// Agreement.
	ag := r.Agreement
	agr := section{title: "Reviewer agreement"}
	if len(ag.Pairs) == 0 {
		agr.blocks = append(agr.blocks, block{para: fmt.Sprintf("%d reviewers; no item graded by two of them yet, so agreement is unknown.", ag.Reviewers)})
	} else {
		agr.blocks = append(agr.blocks, block{para: fmt.Sprintf("%d reviewers, %d items graded by two or more. Mean Cohen's kappa %s (bar %.2f); Krippendorff's alpha %s.",
			ag.Reviewers, ag.Units, num(ag.MeanKappa), ag.MinKappa, num(ag.Alpha))})
		var rows [][]string
		for _, p := range ag.Pairs {
			rows = append(rows, []string{p.A + " & " + p.B, fmt.Sprint(p.N), num(p.Kappa) + mark(!math.IsNaN(p.Kappa) && p.Kappa >= ag.MinKappa)})
		}
		agr.blocks = append(agr.blocks, block{head: []string{"Pair", "Items", "Kappa"}, rows: rows})
	}
	out = append(out, agr)

	// Examples.
	exs := section{title: "Examples of the top failure reasons"}
	if len(r.FailureExamples) == 0 {
		exs.blocks = append(exs.blocks, block{para: "No thumbs-down with a reason code in the window."})
	}
	for _, re := range r.FailureExamples {
		exs.blocks = append(exs.blocks, block{para: fmt.Sprintf("%s — %d thumbs-down (%s). Text is masked as stored.", re.Code, re.N, trend.Format(trend.ThumbsDownRate, re.Share))})
		var qs []quote
		for _, e := range re.Examples {
			qs = append(qs, quote{head: fmt.Sprintf("%s · %s · %s · %s", e.ID, orDash(e.Model), orDash(e.Task), orDash(e.Segment)), input: clip(oneLine(e.Input), 280), output: clip(oneLine(e.Output), 280)})
		}
		exs.blocks = append(exs.blocks, block{quotes: qs})
	}
	out = append(out, exs)
	return out
}

func kv(metric string, v KeyValue) string {
	if v.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%s (n=%d)", trend.Format(metric, v.Value), v.N)
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.2f", v)
}

func mark(ok bool) string {
	if ok {
		return " ✓"
	}
	return " ✗"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
