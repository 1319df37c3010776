package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newTrendsCmd) }

// reviewData is what the review-loop commands compute from: every summary,
// every current label, and the aggregates of the interactions edge
// sampling did not store in full (rest; empty when all were kept).
type reviewData struct {
	items  []loop.Summary
	labels []loop.Label
	grades map[string]loop.Grade
	newest time.Time // of the stored items
	rest   *agg.Table
}

// trend is what loop/trend computes from: the stored items with their
// grades, and the aggregates of the rest.
func (d *reviewData) trend() trend.Data {
	return trend.Data{Items: d.items, Grades: d.grades, Rest: d.rest}
}

// stored says how many interactions are stored in full among all of
// them, for a header: "" when nothing was left out (no change to what
// loupe printed before edge sampling).
func (d *reviewData) stored() string {
	if d.rest.Events() == 0 {
		return ""
	}
	return fmt.Sprintf("%d interactions, %d stored in full (edge sampling: rates and latency over all, pass_rate over the stored)",
		d.trend().Interactions(), len(d.items))
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
	var err error
	if d.rest, err = st.Aggregates(); err != nil {
		return nil, fmt.Errorf("reading the aggregates: %w", err)
	}
	return d, nil
}

// trendsJSON is `loupe trends --json`: the series, the goal and the
// alerts (README documents it).
type trendsJSON struct {
	Metric string           `json:"metric"`
	By     string           `json:"by"`
	Days   int              `json:"days"`
	From   string           `json:"from"`
	To     string           `json:"to"`
	Series []trend.Series   `json:"series"`
	Goal   trend.GoalReport `json:"goal"`
	Alerts []trend.Alert    `json:"alerts"`
	Policy trendsPolicyJSON `json:"policy"`
	// Late lists the window's days that signals revised after they ended,
	// oldest first; [] when none did.
	Late []trend.LateDay `json:"late"`
}

type trendsPolicyJSON struct {
	Alpha float64 `json:"alpha"`
	MinN  int     `json:"min_n"`
}

func newTrendsCmd(a *app) *cobra.Command {
	var metric, by, endDay string
	var days int
	cmd := &cobra.Command{
		Use:   "trends [--metric M] [--by model|segment|task] [--days N]",
		Short: "Quality trends per UTC day, with sparklines, the goal and guardrail alerts",
		Long: `Show a metric per UTC day, split by model version, segment or task, as
sparklines, with each series' value over the last ` + fmt.Sprint(trend.GoalDays) + ` days, the goal against
its target over the same days, and the guardrail alerts: significant
worsenings (Benjamini–Hochberg at guardrails.alpha, at least
guardrails.min_n events each side) with their interval. ROLL BACK is said
only of a model version against the version it replaced, naming the
version to return to; any other worsening is a WATCH.

Metrics: ` + strings.Join(trend.Metrics, ", ") + `, and
reason:CODE (the share of thumbs-down events with that reason code). The
default is the goal metric, or thumbs_down_rate while nothing is graded.

The window ends on the day of the newest event unless --end says otherwise.
A metric counts on its interaction's day, so a signal dated on a later
day (a purchase, an overnight judge) revises a day that had ended: the
"late data" line counts them, so you know recent days may still move.

With edge sampling (intake.keep) the rates, reason shares and their N are
over every interaction, stored in full or only in the aggregates, and the
latency percentiles too, within 0.5%; pass_rate is over the stored ones
(only they can be graded). The header then says how many are stored in full.

--json prints the series (null for days without data), the goal, the
alerts and the late days; see the README for the shape.`,
		Example: `  loupe trends
  loupe trends --metric thumbs_down_rate --by model --json
  loupe trends --metric reason:factual_error --by task --days 14`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if metric != "" && !trend.Known(metric, cfg.ReasonCodes()) {
				return usageErr("--metric %q: want one of %s, or reason:CODE for a taxonomy code", metric, strings.Join(trend.Metrics, ", "))
			}
			switch by {
			case "", "model", "segment", "task":
			default:
				return usageErr("--by %q: want model, segment or task", by)
			}
			if days < 1 || days > 3660 {
				return usageErr("--days %d: want 1 to 3660", days)
			}
			var end time.Time
			if endDay != "" {
				if end, err = time.Parse("2006-01-02", endDay); err != nil {
					return usageErr("--end %q: want YYYY-MM-DD", endDay)
				}
			}
			st, err := a.open(cmd.Context(), "loupe trends")
			if err != nil {
				return err
			}
			d, err := loadReviewData(st)
			if err != nil {
				return withCode(exitInternal, err)
			}
			if metric == "" {
				metric = trend.DefaultMetric(cfg.Goal.Metric, len(d.grades))
			}
			data := d.trend()
			if end.IsZero() {
				end = data.Newest()
			}
			if end.IsZero() {
				end = time.Now()
			}
			res, err := trend.Compute(metric, by, days, end, data)
			if err != nil {
				return usageErr("%v", err)
			}
			pol := cfg.TrendPolicy()
			alerts := trend.Alerts(data, pol, end)
			goal := trend.GoalNow(cfg.TrendGoal(), data, end)
			late, err := trend.LateFromSignals(d.items, st.AllSignals, days, end)
			if err != nil {
				return withCode(exitInternal, fmt.Errorf("reading signals: %w", err))
			}
			if a.json {
				from := end.UTC().AddDate(0, 0, -days+1)
				out := trendsJSON{Metric: res.Metric, By: by, Days: days, From: from.Format("2006-01-02"), To: end.UTC().Format("2006-01-02"),
					Series: res.Series, Goal: goal, Alerts: alerts, Policy: trendsPolicyJSON{Alpha: cfg.Guardrails.Alpha, MinN: cfg.Guardrails.MinN}, Late: late}
				if out.Alerts == nil {
					out.Alerts = []trend.Alert{}
				}
				if out.Late == nil {
					out.Late = []trend.LateDay{}
				}
				if err := writeJSON(cmd.OutOrStdout(), out); err != nil {
					return withCode(exitInternal, err)
				}
				return nil
			}
			printTrends(cmd, res, goal, end, days, alerts, late, d.stored())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&metric, "metric", "", "metric to show (default: the goal metric, or thumbs_down_rate before anything is graded)")
	f.StringVar(&by, "by", "model", "split by model, segment or task (\"\" for one series)")
	f.IntVar(&days, "days", trend.DefaultDays, "days in the window")
	f.StringVar(&endDay, "end", "", "last day of the window, YYYY-MM-DD (default: the newest event's day)")
	return cmd
}

// printTrends prints the trends; stored (reviewData.stored) is a line on
// how many interactions are stored in full, "" for none.
func printTrends(cmd *cobra.Command, res trend.Result, goal trend.GoalReport, end time.Time, days int, alerts []trend.Alert, late []trend.LateDay, stored string) {
	w := cmd.OutOrStdout()
	from := end.AddDate(0, 0, -days+1)
	fmt.Fprintf(w, "%s per UTC day, %s to %s\n", res.Metric, from.Format("Jan 2"), end.Format("Jan 2 2006"))
	if stored != "" {
		fmt.Fprintln(w, stored)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "SERIES\tTREND\tLAST %d DAYS\tN\n", trend.GoalDays)
	for _, s := range res.Series {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", s.Key, trend.Sparkline(s.Values()), trend.Format(res.Metric, s.Last), s.LastN)
	}
	tw.Flush()
	state := "MET"
	if !goal.Met {
		state = "NOT MET"
	}
	fmt.Fprintf(w, "\ngoal: %s %s %s — last %d days %s: %s\n", goal.Metric, goal.Op, trend.Format(goal.Metric, goal.Target), goal.WindowDays, trend.Format(goal.Metric, goal.Now), state)
	fmt.Fprintln(w, trend.LateLine(late))
	if len(alerts) == 0 {
		fmt.Fprintln(w, "alerts: none (no significant worsening past a guardrail)")
		return
	}
	fmt.Fprintf(w, "alerts (%d):\n", len(alerts))
	for _, al := range alerts {
		fmt.Fprintf(w, "  %-9s  %s\n", al.Label(), al.Message)
	}
}
