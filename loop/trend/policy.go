package trend

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
)

// The trend policy every front end (`loupe trends`, the TUI's Trends
// screen, `loupe doctor`, `loupe report`) shares, so that they show the
// same number for the same metric and window.

// GoalDays is the window, in days ending with the newest day, that the goal
// is judged over and that a series' "last" value (Series.Last) covers.
const GoalDays = 7

// DefaultDays is the window of the trend charts when none is given.
const DefaultDays = 28

// DefaultMetric is the metric to show when none was picked: the goal
// metric, except that while nothing is graded pass_rate has no data, so the
// users' own verdict (thumbs_down_rate) is shown instead.
func DefaultMetric(goal string, graded int) string {
	if goal == PassRate && graded == 0 {
		return ThumbsDownRate
	}
	return goal
}

// Format writes a metric value: latency in whole milliseconds, shares as
// percentages with one decimal, and "–" for NaN (no data).
func Format(metric string, v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "–"
	case IsLatency(metric):
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

// FormatDelta writes a change with its sign: percentage points for shares,
// milliseconds for latency.
func FormatDelta(metric string, d float64) string {
	if math.IsNaN(d) || math.IsInf(d, 0) {
		return "–"
	}
	if IsLatency(metric) {
		return fmt.Sprintf("%+.0f ms", d)
	}
	return fmt.Sprintf("%+.1f pp", 100*d)
}

// FormatAbs is FormatDelta without the plus sign (for thresholds).
func FormatAbs(metric string, d float64) string {
	return strings.TrimPrefix(FormatDelta(metric, d), "+")
}

// ReasonShare is how many thumbs-down events of a window carry one reason
// code, and their share of the window's thumbs-down events (an event may
// carry several codes, so shares can add up to more than 1).
type ReasonShare struct {
	Code  string  `json:"code"`
	N     int     `json:"n"`
	Share float64 `json:"share"`
}

// ReasonShares counts the reason codes of the thumbs-down events of the
// days days ending with end's UTC day, most frequent first (ties by code),
// and returns them with the number of thumbs-down events in the window.
// An event counts once for a code it carries twice, as the reason:<code>
// metric and the aggregates count it. Interactions only in d.Rest count
// too (their Reasons counts).
func ReasonShares(d Data, days int, end time.Time) ([]ReasonShare, int) {
	last := dayIndex(end)
	return reasonShares(d, last-int64(days)+1, last)
}

func reasonShares(d Data, from, to int64) ([]ReasonShare, int) {
	counts := map[string]int{}
	n := 0
	for i := range d.Items {
		s := &d.Items[i]
		if s.Thumb != loop.ThumbDown {
			continue
		}
		if day := dayIndex(s.Time); day < from || day > to {
			continue
		}
		n++
		for j, r := range s.Reasons {
			if !slices.Contains(s.Reasons[:j], r) {
				counts[r]++
			}
		}
	}
	d.Rest.Each(func(k agg.Key, c *agg.Cell) {
		if k.Day < from || k.Day > to {
			return
		}
		n += int(c.Down)
		for r, m := range c.Reasons {
			counts[r] += int(m)
		}
	})
	out := make([]ReasonShare, 0, len(counts))
	for c, k := range counts {
		out = append(out, ReasonShare{Code: c, N: k, Share: float64(k) / float64(n)})
	}
	slices.SortFunc(out, func(a, b ReasonShare) int {
		if a.N != b.N {
			return cmp.Compare(b.N, a.N)
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return out, n
}

// ReasonMove is one reason code's share of thumbs-down events in the last
// GoalDays days against the GoalDays days before them.
type ReasonMove struct {
	Code   string  `json:"code"`
	Before float64 `json:"before"`
	After  float64 `json:"after"`
	NB     int     `json:"n_before"`
	NA     int     `json:"n_after"`
}

// ReasonMoves is how each reason code's share moved: the last GoalDays
// days ending with end's UTC day against the GoalDays before, ordered by
// the recent share (then by code). Shares of a window without thumbs-down
// events are 0.
func ReasonMoves(d Data, end time.Time) []ReasonMove {
	last := dayIndex(end)
	after, _ := reasonShares(d, last-GoalDays+1, last)
	before, _ := reasonShares(d, last-2*GoalDays+1, last-GoalDays)
	m := map[string]*ReasonMove{}
	var out []*ReasonMove
	get := func(c string) *ReasonMove {
		if r, ok := m[c]; ok {
			return r
		}
		r := &ReasonMove{Code: c}
		m[c] = r
		out = append(out, r)
		return r
	}
	for _, r := range after {
		x := get(r.Code)
		x.After, x.NA = r.Share, r.N
	}
	for _, r := range before {
		x := get(r.Code)
		x.Before, x.NB = r.Share, r.N
	}
	res := make([]ReasonMove, len(out))
	for i, r := range out {
		res[i] = *r
	}
	slices.SortStableFunc(res, func(a, b ReasonMove) int {
		if a.After != b.After {
			return cmp.Compare(b.After, a.After)
		}
		return cmp.Compare(a.Code, b.Code)
	})
	return res
}

// GoalReport is the goal and where the metric stands: over the last
// WindowDays days (GoalDays) it is Now, over N events (NaN and 0 with no
// data: null in JSON), and Met says whether that meets the target.
type GoalReport struct {
	Goal
	WindowDays int
	Now        float64
	N          int
	Met        bool
}

// MarshalJSON writes now as null when there is no data.
func (g GoalReport) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		Metric     string  `json:"metric"`
		Op         string  `json:"op"`
		Target     float64 `json:"target"`
		WindowDays int     `json:"window_days"`
		Now        Num     `json:"now"`
		N          int     `json:"n"`
		Met        bool    `json:"met"`
	}{g.Metric, g.Op, g.Target, g.WindowDays, Num(g.Now), g.N, g.Met})
}

// GoalNow is the goal judged over the GoalDays days ending with end's UTC
// day.
func GoalNow(g Goal, d Data, end time.Time) GoalReport {
	now, n := WindowValue(g.Metric, d, GoalDays, end)
	return GoalReport{Goal: g, WindowDays: GoalDays, Now: now, N: n, Met: n > 0 && g.Met(now)}
}
