package main

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newTrendsCmd) }

// reviewData is what the review-loop commands compute from: every summary
// and every current label.
type reviewData struct {
	items  []loop.Summary
	labels []loop.Label
	grades map[string]loop.Grade
	newest time.Time
}

func loadReviewData(st *store.Store) (*reviewData, error) {
	d := &reviewData{}
	if err := st.Summaries(func(s loop.Summary) bool {
		d.items = append(d.items, s)
		if s.Time.After(d.newest) {
			d.newest = s.Time
		}
		return true
	}); err != nil {
		return nil, err
	}
	if err := st.AllLabels(func(l loop.Label) error { d.labels = append(d.labels, l); return nil }); err != nil {
		return nil, err
	}
	d.grades = trend.Grades(d.labels)
	return d, nil
}

func newTrendsCmd(a *app) *cobra.Command {
	var metric, by, endDay string
	var days int
	cmd := &cobra.Command{
		Use:   "trends [--metric M] [--by model|segment|task] [--days N]",
		Short: "Quality trends per UTC day, with sparklines and guardrail alerts",
		Long: `Show a metric per UTC day, split by model version, segment or task, as
sparklines, with the goal against its target and the alerts raised when a
metric crosses its guardrail against the previous model version or its
trailing window.

Metrics: ` + strings.Join(trend.Metrics, ", ") + `, and
reason:CODE (the share of thumbs-down events with that reason code).

The window ends on the day of the newest event unless --end says otherwise.`,
		Example: `  loupe trends
  loupe trends --metric thumbs_down_rate --by model --json
  loupe trends --metric reason:factual_error --by task --days 14`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			defaulted := metric == ""
			if defaulted {
				metric = cfg.Goal.Metric
			}
			if !trend.Known(metric, cfg.ReasonCodes()) {
				return usageErr("unknown metric %q: want one of %s, or reason:CODE", metric, strings.Join(trend.Metrics, ", "))
			}
			switch by {
			case "", "model", "segment", "task":
			default:
				return usageErr("--by %q: want model, segment or task", by)
			}
			if days < 1 {
				return usageErr("--days must be >= 1")
			}
			st, err := a.open(cmd.Context(), "loupe trends")
			if err != nil {
				return err
			}
			d, err := loadReviewData(st)
			if err != nil {
				return withCode(exitInternal, err)
			}
			if defaulted && metric == trend.PassRate && len(d.grades) == 0 {
				// Nothing graded yet: the goal metric has no data, so show
				// the users' own verdict instead.
				metric = trend.ThumbsDownRate
			}
			end := d.newest
			if endDay != "" {
				if end, err = time.Parse("2006-01-02", endDay); err != nil {
					return usageErr("--end %q: want YYYY-MM-DD", endDay)
				}
			}
			if end.IsZero() {
				end = time.Now()
			}
			res, err := trend.Compute(metric, by, days, end, d.items, d.grades)
			if err != nil {
				return usageErr("%v", err)
			}
			alerts := trend.Alerts(d.items, d.grades, cfg.TrendGuardrails(), end)
			if a.json {
				b, _ := json.Marshal(res)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			printTrends(cmd, res, d, cfg, end, days, alerts)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&metric, "metric", "", "metric to show (default: the goal metric, or thumbs_down_rate before anything is graded)")
	f.StringVar(&by, "by", "model", "split by model, segment or task (\"\" for one series)")
	f.IntVar(&days, "days", 28, "days in the window")
	f.StringVar(&endDay, "end", "", "last day of the window, YYYY-MM-DD (default: the newest event's day)")
	return cmd
}

func fmtMetric(metric string, v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if trend.IsLatency(metric) {
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f%%", 100*v)
}

func printTrends(cmd *cobra.Command, res trend.Result, d *reviewData, cfg appConfig, end time.Time, days int, alerts []trend.Alert) {
	w := cmd.OutOrStdout()
	from := end.AddDate(0, 0, -days+1)
	fmt.Fprintf(w, "%s per UTC day, %s to %s\n\n", res.Metric, from.Format("Jan 2"), end.Format("Jan 2 2006"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERIES\tTREND\tLAST 7 DAYS\tN")
	for _, s := range res.Series {
		vals := s.Values()
		var sum float64
		n := 0
		for _, p := range s.Points[max(0, len(s.Points)-7):] {
			sum += p.Value * float64(p.N)
			n += p.N
		}
		last := math.NaN()
		if n > 0 {
			last = sum / float64(n)
			if trend.IsLatency(res.Metric) {
				last = lastNonGap(vals)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", s.Key, trend.Sparkline(vals), fmtMetric(res.Metric, last), n)
	}
	tw.Flush()
	g := cfg.TrendGoal()
	now, met := trend.GoalStatus(g, d.items, d.grades, 7, end)
	state := "MET"
	if !met {
		state = "NOT MET"
	}
	fmt.Fprintf(w, "\ngoal: %s %s %s — last 7 days %s: %s\n", g.Metric, g.Op, fmtMetric(g.Metric, g.Target), fmtMetric(g.Metric, now), state)
	if len(alerts) == 0 {
		fmt.Fprintln(w, "alerts: none")
		return
	}
	fmt.Fprintf(w, "alerts (%d):\n", len(alerts))
	for _, al := range alerts {
		fmt.Fprintf(w, "  %s  %s\n", strings.ToUpper(al.Level), al.Message)
	}
}

func lastNonGap(v []float64) float64 {
	for i := len(v) - 1; i >= 0; i-- {
		if !math.IsNaN(v[i]) {
			return v[i]
		}
	}
	return math.NaN()
}
