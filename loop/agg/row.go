package agg

import (
	"math"
	"time"
)

// Row is one cell as `loupe export aggregates` writes it: a day, model
// version, segment and task, and what every interaction of it adds up to,
// whether stored in full or not. Latency percentiles are null without a
// latency; they come from the cell's sketch (within Accuracy).
type Row struct {
	Day          string           `json:"day"` // YYYY-MM-DD, UTC
	Model        string           `json:"model_version"`
	Segment      string           `json:"user_segment"`
	Task         string           `json:"task_type"`
	Interactions int64            `json:"interactions"`
	Stored       int64            `json:"stored"` // of them, stored in full
	Thumbed      int64            `json:"thumbed"`
	ThumbsDown   int64            `json:"thumbs_down"`
	Reasons      map[string]int64 `json:"reasons"` // per code, among thumbs-down
	Escalated    int64            `json:"escalated"`
	Abandoned    int64            `json:"abandoned"`
	Policy       int64            `json:"policy_violations"`
	ResolvedSet  int64            `json:"resolved_known"`
	Resolved     int64            `json:"resolved"`
	LatencyN     int64            `json:"latency_n"`
	LatencyP50   *float64         `json:"latency_p50_ms"`
	LatencyP95   *float64         `json:"latency_p95_ms"`
}

// Rows lists every non-empty cell of all in key order; stored (may be nil)
// counts the interactions of each cell stored in full.
func Rows(all, stored *Table) []Row {
	var out []Row
	all.Each(func(k Key, c *Cell) {
		if c.Empty() {
			return
		}
		r := Row{
			Day: k.Time().Format(time.DateOnly), Model: k.Model, Segment: k.Segment, Task: k.Task,
			Interactions: c.Events, Thumbed: c.Thumbed, ThumbsDown: c.Down, Reasons: c.Reasons,
			Escalated: c.Escalated, Abandoned: c.Abandoned, Policy: c.Policy,
			ResolvedSet: c.ResolvedSet, Resolved: c.Resolved, LatencyN: c.Latency.Count(),
		}
		if r.Reasons == nil {
			r.Reasons = map[string]int64{}
		}
		if s := stored.Get(k); s != nil {
			r.Stored = s.Events
		}
		if r.LatencyN > 0 {
			p50, p95 := round(c.Latency.Quantile(0.5)), round(c.Latency.Quantile(0.95))
			r.LatencyP50, r.LatencyP95 = &p50, &p95
		}
		out = append(out, r)
	})
	return out
}

// round keeps three decimals: the sketch is only good to Accuracy, and
// fewer digits make exports diff cleanly.
func round(v float64) float64 { return math.Round(v*1000) / 1000 }
