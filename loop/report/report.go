// Package report builds the one-page results summary `loupe report`
// writes for people who never open a terminal: the goal metric against its
// target with release markers, the guardrail metrics per model version,
// the reason codes and how they moved, segments, set coverage and the last
// gate, agreement, masked examples per top failure reason and the alerts
// with what to do. Build computes the page from data the caller gathered
// (through loop/trend, the same numbers `loupe trends` and the TUI show);
// HTML and Markdown render it, with charts drawn as SVG by this package.
// Pure: no I/O.
package report

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/loop/agree"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/loop/gate"
	"github.com/loupe-dev/loupe/loop/trend"
)

// Input is what Build needs. Items, Grades and Labels are the store's;
// Rest the aggregates of the interactions edge sampling did not store in
// full (store.Aggregates; nil or empty when all were kept); Golden and
// RedFlag its sets; Gate the last recorded gate result (nil when none
// was); Examples the masked events ExampleIDs asked for, by id.
type Input struct {
	Config   config.Config
	Items    []loop.Summary
	Grades   map[string]loop.Grade
	Rest     *agg.Table
	Labels   []loop.Label
	Golden   []loop.SetEntry
	RedFlag  []loop.SetEntry
	Gate     *GateRecord
	Examples map[string]Example
	Days     int       // the window, in days ending with End's UTC day
	End      time.Time // the window's last day
	Now      time.Time // when the report is made
	// Late is the window's days signals revised after they ended
	// (trend.LateFromSignals over the store's signals).
	Late []trend.LateDay
}

// GateRecord is a `loupe gate` result as recorded in the store.
type GateRecord struct {
	At     time.Time
	Result gate.Result
}

// Example is one masked event shown for a failure reason.
type Example struct {
	ID, Model, Task, Segment string
	Input, Output            string
}

// Report is the page.
type Report struct {
	Now      time.Time
	From, To string // YYYY-MM-DD
	Days     int
	Events   int // interactions in the window, stored in full or not
	// Stored is how many of Events are stored in full; Sampled says some
	// were not (edge sampling): rates are then over all of them, pass_rate
	// over the stored ones.
	Stored           int
	Sampled          bool
	Goal             trend.GoalReport
	Late             []trend.LateDay // days signals revised after they ended
	GoalSeries       trend.Series    // the goal metric per day over all events
	Releases         []Release
	Alerts           []trend.Alert
	Alpha            float64
	MinN             int
	Guardrails       []GuardrailTable
	Reasons          []trend.ReasonShare // over the window
	ThumbsDown       int
	Moves            []trend.ReasonMove // last GoalDays vs the GoalDays before
	Segments         []SegmentRow
	Sets             Sets
	Gate             *GateRecord
	Agreement        Agreement
	FailureExamples  []ReasonExamples
	DefaultedMetric  bool // the goal metric had no data: charts show DefaultMetric
	ChartMetric      string
	ChartMetricGoal  bool // the chart's metric is the goal's (a target line)
	GuardrailMetrics []string
}

// Release is a model version's first day in the window (versions already
// live on its first day are not releases within it).
type Release struct {
	Day   string
	Index int // day offset in the window
	Model string
	Task  string
}

// GuardrailTable is one guarded metric per model version over the last
// GoalDays days (trend.Series.Last, as `loupe trends` shows it).
type GuardrailTable struct {
	Metric string
	Rows   []KeyValue
}

// KeyValue is a metric's value for one key, over N events (NaN: no data).
type KeyValue struct {
	Key   string
	Value float64
	N     int
}

// SegmentRow is one user segment over the window.
type SegmentRow struct {
	Segment    string
	Events     int
	ThumbsDown KeyValue // thumbs_down_rate
	Pass       KeyValue // pass_rate
	Escalation KeyValue // escalation_rate
}

// Sets is golden and red-flag coverage against their targets, and golden
// items per task.
type Sets struct {
	Golden, RedFlag       int
	GoldenMin, GoldenMax  int
	RedFlagMin            int
	GoldenByTask, ByTask  []KeyValue // golden items per task; all events per task (window)
	RedFlagByTask         []KeyValue
	TasksWithoutGoldenSet []string
}

// Agreement is reviewer agreement over every label.
type Agreement struct {
	Reviewers int
	Pairs     []agree.Pair
	Alpha     float64 // Krippendorff's alpha; NaN when not computable
	Units     int
	MeanKappa float64 // NaN when no pair
	MinKappa  float64 // the config's bar
}

// ReasonExamples are the examples shown for one top failure reason.
type ReasonExamples struct {
	Code     string
	Share    float64
	N        int
	Examples []Example
}

// ExamplesPerReason and TopReasons: three examples for each of the three
// most frequent thumbs-down reasons.
const (
	ExamplesPerReason = 3
	TopReasons        = 3
)

// ExampleIDs is which events the caller should fetch for the examples: for
// each of the TopReasons most frequent thumbs-down reason codes of the
// window, the ExamplesPerReason most recent thumbs-down events carrying
// it (an event shown once).
// The reasons are ranked over every interaction (d.Rest included); the
// examples come from d.Items, the stored ones.
func ExampleIDs(d trend.Data, days int, end time.Time) map[string][]string {
	items := d.Items
	shares, _ := trend.ReasonShares(d, days, end)
	if len(shares) > TopReasons {
		shares = shares[:TopReasons]
	}
	last := end.UTC().Truncate(24*time.Hour).AddDate(0, 0, 1)
	first := last.AddDate(0, 0, -days)
	idx := make([]int, 0, len(items))
	for i := range items {
		s := &items[i]
		if s.Thumb == loop.ThumbDown && !s.Time.Before(first) && s.Time.Before(last) && len(s.Reasons) > 0 {
			idx = append(idx, i)
		}
	}
	slices.SortFunc(idx, func(a, b int) int {
		return cmp.Or(items[b].Time.Compare(items[a].Time), cmp.Compare(items[a].ID, items[b].ID))
	})
	out := map[string][]string{}
	used := map[string]bool{}
	for _, r := range shares {
		for _, i := range idx {
			if len(out[r.Code]) == ExamplesPerReason {
				break
			}
			s := &items[i]
			if !used[s.ID] && slices.Contains(s.Reasons, r.Code) {
				used[s.ID] = true
				out[r.Code] = append(out[r.Code], s.ID)
			}
		}
	}
	return out
}

// Build computes the page.
func Build(in Input) Report {
	days := in.Days
	if days < 1 {
		days = trend.DefaultDays
	}
	end := in.End.UTC()
	from := end.Truncate(24*time.Hour).AddDate(0, 0, -days+1)
	pol := in.Config.Guardrails.Policy()
	goal := in.Config.Goal.Trend()
	r := Report{Now: in.Now, From: from.Format("2006-01-02"), To: end.Format("2006-01-02"), Days: days,
		Alpha: pol.Alpha, MinN: pol.MinN}
	if r.Alpha == 0 {
		r.Alpha = trend.DefaultAlpha
	}
	if r.MinN == 0 {
		r.MinN = trend.DefaultMinN
	}
	last := end.Truncate(24*time.Hour).AddDate(0, 0, 1)
	for i := range in.Items {
		if t := in.Items[i].Time; !t.Before(from) && t.Before(last) {
			r.Events++
		}
	}
	r.Stored = r.Events
	fromDay, lastDay := agg.DayOf(from), agg.DayOf(last)
	in.Rest.Each(func(k agg.Key, c *agg.Cell) {
		if k.Day >= fromDay && k.Day < lastDay {
			r.Events += int(c.Events)
			r.Sampled = r.Sampled || c.Events > 0
		}
	})
	data := trend.Data{Items: in.Items, Grades: in.Grades, Rest: in.Rest}
	r.Goal = trend.GoalNow(goal, data, end)
	r.Late = in.Late
	r.ChartMetric = trend.DefaultMetric(goal.Metric, len(in.Grades))
	r.DefaultedMetric = r.ChartMetric != goal.Metric
	r.ChartMetricGoal = !r.DefaultedMetric
	if res, err := trend.Compute(r.ChartMetric, trend.ByAll, days, end, data); err == nil && len(res.Series) > 0 {
		r.GoalSeries = res.Series[0]
	} else {
		r.GoalSeries = trend.Series{Key: trend.AllKey, Last: math.NaN()}
	}
	r.Releases = releases(in, from, days)
	r.Alerts = trend.Alerts(data, pol, end)

	for _, g := range pol.Guards {
		r.GuardrailMetrics = append(r.GuardrailMetrics, g.Metric)
		res, err := trend.Compute(g.Metric, trend.ByModel, days, end, data)
		if err != nil {
			continue
		}
		t := GuardrailTable{Metric: g.Metric}
		for _, s := range res.Series {
			if s.LastN > 0 {
				t.Rows = append(t.Rows, KeyValue{s.Key, s.Last, s.LastN})
			}
		}
		r.Guardrails = append(r.Guardrails, t)
	}

	r.Reasons, r.ThumbsDown = trend.ReasonShares(data, days, end)
	r.Moves = trend.ReasonMoves(data, end)
	r.Segments = segments(in, days, end)
	r.Sets = sets(in, from, last)
	r.Gate = in.Gate
	r.Agreement = agreement(in)

	ids := ExampleIDs(data, days, end)
	for _, rs := range r.Reasons {
		if len(r.FailureExamples) == TopReasons {
			break
		}
		re := ReasonExamples{Code: rs.Code, Share: rs.Share, N: rs.N}
		for _, id := range ids[rs.Code] {
			if ex, ok := in.Examples[id]; ok {
				re.Examples = append(re.Examples, ex)
			}
		}
		r.FailureExamples = append(r.FailureExamples, re)
	}
	return r
}

// releases finds each model version's first day among the stored items
// and the aggregated cells (a cell's day counts from its start).
func releases(in Input, from time.Time, days int) []Release {
	type first struct {
		t    time.Time
		task string
	}
	seen := map[string]first{}
	for i := range in.Items {
		s := &in.Items[i]
		if f, ok := seen[s.Model]; !ok || s.Time.Before(f.t) {
			seen[s.Model] = first{s.Time, s.Task}
		}
	}
	in.Rest.Each(func(k agg.Key, c *agg.Cell) {
		if f, ok := seen[k.Model]; c.Events > 0 && (!ok || agg.DayOf(f.t) > k.Day) {
			seen[k.Model] = first{k.Time(), k.Task}
		}
	})
	var out []Release
	for m, f := range seen {
		d := int(f.t.UTC().Sub(from).Hours() / 24)
		if f.t.Before(from) || d <= 0 || d >= days {
			continue
		}
		out = append(out, Release{Day: f.t.UTC().Format("2006-01-02"), Index: d, Model: m, Task: f.task})
	}
	slices.SortFunc(out, func(a, b Release) int { return cmp.Or(cmp.Compare(a.Index, b.Index), cmp.Compare(a.Model, b.Model)) })
	return out
}

func segments(in Input, days int, end time.Time) []SegmentRow {
	get := func(metric string) map[string]KeyValue {
		m := map[string]KeyValue{}
		res, err := trend.Compute(metric, trend.BySegment, days, end, trend.Data{Items: in.Items, Grades: in.Grades, Rest: in.Rest})
		if err != nil {
			return m
		}
		for _, s := range res.Series {
			var num float64
			n := 0
			for _, p := range s.Points {
				num += p.Value * float64(p.N)
				n += p.N
			}
			v := math.NaN()
			if n > 0 {
				v = num / float64(n)
			}
			m[s.Key] = KeyValue{s.Key, v, n}
		}
		return m
	}
	down, pass, esc := get(trend.ThumbsDownRate), get(trend.PassRate), get(trend.EscalationRate)
	var out []SegmentRow
	for k, e := range esc { // escalation's denominator is every event
		row := SegmentRow{Segment: k, Events: e.N, Escalation: e, ThumbsDown: down[k], Pass: pass[k]}
		if _, ok := down[k]; !ok {
			row.ThumbsDown = KeyValue{k, math.NaN(), 0}
		}
		if _, ok := pass[k]; !ok {
			row.Pass = KeyValue{k, math.NaN(), 0}
		}
		out = append(out, row)
	}
	slices.SortFunc(out, func(a, b SegmentRow) int {
		return cmp.Or(cmp.Compare(b.Events, a.Events), cmp.Compare(a.Segment, b.Segment))
	})
	return out
}

func sets(in Input, from, last time.Time) Sets {
	c := in.Config.Sets
	s := Sets{Golden: len(in.Golden), RedFlag: len(in.RedFlag), GoldenMin: c.Golden.Min, GoldenMax: c.Golden.Max, RedFlagMin: c.RedFlag.Min}
	task := map[string]string{}
	all := map[string]int{}
	for i := range in.Items {
		it := &in.Items[i]
		t := it.Task
		if t == "" {
			t = trend.NoneKey
		}
		task[it.ID] = t
		if !it.Time.Before(from) && it.Time.Before(last) {
			all[t]++
		}
	}
	fromDay, lastDay := agg.DayOf(from), agg.DayOf(last)
	in.Rest.Each(func(k agg.Key, c *agg.Cell) {
		if k.Day >= fromDay && k.Day < lastDay && c.Events > 0 {
			all[cmp.Or(k.Task, trend.NoneKey)] += int(c.Events)
		}
	})
	count := func(es []loop.SetEntry) []KeyValue {
		m := map[string]int{}
		for _, e := range es {
			t, ok := task[e.EventID]
			if !ok {
				t = trend.NoneKey
			}
			m[t]++
		}
		return sortedCounts(m)
	}
	s.GoldenByTask, s.RedFlagByTask, s.ByTask = count(in.Golden), count(in.RedFlag), sortedCounts(all)
	has := map[string]bool{}
	for _, kv := range s.GoldenByTask {
		has[kv.Key] = true
	}
	for _, kv := range s.ByTask {
		if !has[kv.Key] {
			s.TasksWithoutGoldenSet = append(s.TasksWithoutGoldenSet, kv.Key)
		}
	}
	return s
}

func sortedCounts(m map[string]int) []KeyValue {
	out := make([]KeyValue, 0, len(m))
	for k, n := range m {
		out = append(out, KeyValue{k, float64(n), n})
	}
	slices.SortFunc(out, func(a, b KeyValue) int { return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Key, b.Key)) })
	return out
}

func agreement(in Input) Agreement {
	rep := agree.Compute(in.Labels)
	a := Agreement{Pairs: rep.Pairs, Alpha: rep.Alpha, Units: rep.Units, MeanKappa: math.NaN(), MinKappa: in.Config.Review.MinKappa}
	revs := map[string]bool{}
	for _, l := range in.Labels {
		revs[l.Reviewer] = true
	}
	a.Reviewers = len(revs)
	var sum float64
	n := 0
	for _, p := range rep.Pairs {
		if !math.IsNaN(p.Kappa) {
			sum += p.Kappa
			n++
		}
	}
	if n > 0 {
		a.MeanKappa = sum / float64(n)
	}
	return a
}
