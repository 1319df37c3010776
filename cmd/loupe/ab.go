package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/ab"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newABCmd) }

// abMetrics beyond the trend metrics: ranking feedback.
const (
	metricClickRate    = "click_rate"     // clicked / impressions, as observed
	metricIPWClickRate = "ipw_click_rate" // corrected for position bias with the logged propensity
)

// side is one arm's data for a metric.
type side struct {
	prop   ab.Prop
	values []float64
	clicks []ab.Click
}

func newABCmd(a *app) *cobra.Command {
	var metric, control, treatment, experiment string
	var minN int
	cmd := &cobra.Command{
		Use:   "ab --metric M --control A --treatment B",
		Short: "Compare two model versions or experiment arms on a metric",
		Long: `Compare a metric between two model versions or two experiment arms
(A and B match an event's model_version or its experiment.arm): the
difference with a 95% confidence interval and a p-value, and a verdict in
plain words that says when there is not enough data.

Rates use a two-proportion z-test (Newcombe's interval); latency
percentiles a bootstrap. For ranking feedback, click_rate is the observed
rate and ipw_click_rate weights each click by 1/propensity, so arms shown at
different positions compare fairly.

Metrics: ` + strings.Join(trend.Metrics, ", ") + `, reason:CODE, click_rate, ipw_click_rate.`,
		Example: `  loupe ab --metric thumbs_down_rate --control sum-2026.10 --treatment sum-2026.11
  loupe ab --metric ipw_click_rate --control control --treatment treatment --experiment rec-ranker-2026-11`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if metric == "" || control == "" || treatment == "" {
				return usageErr("--metric, --control and --treatment are required")
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if metric != metricClickRate && metric != metricIPWClickRate && !trend.Known(metric, cfg.ReasonCodes()) {
				return usageErr("unknown metric %q: want one of %s, reason:CODE, click_rate or ipw_click_rate", metric, strings.Join(trend.Metrics, ", "))
			}
			if control == treatment {
				return usageErr("--control and --treatment are both %q", control)
			}
			st, err := a.open(cmd.Context(), "loupe ab")
			if err != nil {
				return err
			}
			var grades map[string]loop.Grade
			if metric == trend.PassRate {
				var labels []loop.Label
				if err := st.AllLabels(func(l loop.Label) error { labels = append(labels, l); return nil }); err != nil {
					return withCode(exitInternal, err)
				}
				grades = trend.Grades(labels)
			}
			var c, t side
			err = st.Events(func(_ string, body []byte) error {
				var e loop.Event
				if err := json.Unmarshal(body, &e); err != nil {
					return err
				}
				inArm := func(name string) bool {
					if e.ModelVersion == name {
						return true
					}
					x := e.Experiment
					return x != nil && x.Arm == name && (experiment == "" || x.ID == experiment)
				}
				switch {
				case inArm(control):
					addObservation(&c, metric, &e, grades)
				case inArm(treatment):
					addObservation(&t, metric, &e, grades)
				}
				return nil
			})
			if err != nil {
				return withCode(exitInternal, err)
			}
			var r ab.Result
			switch {
			case metric == metricIPWClickRate:
				r = ab.BootstrapIPW(metric, c.clicks, t.clicks, 2000, 1)
			case metric == trend.LatencyP50 || metric == trend.LatencyP95:
				q := 0.5
				if metric == trend.LatencyP95 {
					q = 0.95
				}
				r = ab.Bootstrap(metric, c.values, t.values, ab.Quantile(q), 2000, 1)
			default:
				r = ab.TwoProportion(metric, c.prop, t.prop)
			}
			if !trend.IsLatency(metric) {
				r.Unit = ab.UnitPoints
			}
			r.Verdict = ab.Verdict(r, minN)
			if a.json {
				b, err := json.Marshal(r)
				if err != nil {
					return withCode(exitInternal, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			w := cmd.OutOrStdout()
			fmtV := func(v float64) string {
				if trend.IsLatency(metric) {
					return fmt.Sprintf("%.0f ms", v)
				}
				return fmt.Sprintf("%.2f%%", 100*v)
			}
			fmt.Fprintf(w, "%s (%s)\n", metric, r.Method)
			fmt.Fprintf(w, "  control    %-16s %10s  n=%d\n", control, fmtV(r.Control), r.NControl)
			fmt.Fprintf(w, "  treatment  %-16s %10s  n=%d\n", treatment, fmtV(r.Treatment), r.NTreatment)
			fmt.Fprintf(w, "  difference %s (95%% CI %s to %s), p = %.4g\n", fmtDiff(metric, r.Diff), fmtDiff(metric, r.Low), fmtDiff(metric, r.High), r.P)
			fmt.Fprintf(w, "\n%s\n", r.Verdict)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&metric, "metric", "", "metric to compare")
	f.StringVar(&control, "control", "", "model version or experiment arm A")
	f.StringVar(&treatment, "treatment", "", "model version or experiment arm B")
	f.StringVar(&experiment, "experiment", "", "only this experiment id, when A and B are arms")
	f.IntVar(&minN, "min-n", ab.DefaultMinN, "events per arm below which the verdict is 'not enough data'")
	return cmd
}

func fmtDiff(metric string, v float64) string {
	if trend.IsLatency(metric) {
		return fmt.Sprintf("%+.0f ms", v)
	}
	return fmt.Sprintf("%+.2f pp", 100*v)
}

// addObservation adds an event to a side, in the metric's own terms (the
// same definitions as loupe trends).
func addObservation(s *side, metric string, e *loop.Event, grades map[string]loop.Grade) {
	count := func(ok bool) {
		s.prop.N++
		if ok {
			s.prop.Success++
		}
	}
	b := func(p *bool) bool { return p != nil && *p }
	switch {
	case metric == trend.ThumbsDownRate:
		if th := e.ThumbValue(); th != loop.ThumbNone {
			count(th == loop.ThumbDown)
		}
	case metric == trend.PassRate:
		if g, ok := grades[e.EventID]; ok {
			count(g == loop.GradePass)
		}
	case metric == trend.EscalationRate:
		count(e.Implicit != nil && b(e.Implicit.Escalated))
	case metric == trend.AbandonRate:
		count(e.Implicit != nil && b(e.Implicit.Abandoned))
	case metric == trend.PolicyViolationRate:
		count(e.Checks != nil && b(e.Checks.PolicyViolation))
	case metric == trend.ResolutionRate:
		if e.Business != nil && e.Business.Resolved != nil {
			count(*e.Business.Resolved)
		}
	case metric == trend.LatencyP50 || metric == trend.LatencyP95:
		if e.Output != nil && e.Output.LatencyMS != nil {
			s.values = append(s.values, *e.Output.LatencyMS)
		}
	case strings.HasPrefix(metric, trend.ReasonPrefix):
		if e.ThumbValue() == loop.ThumbDown {
			code := strings.TrimPrefix(metric, trend.ReasonPrefix)
			has := false
			for _, r := range e.Reasons() {
				has = has || r == code
			}
			count(has)
		}
	case metric == metricClickRate || metric == metricIPWClickRate:
		if e.Implicit != nil && e.Implicit.Clicked != nil {
			count(*e.Implicit.Clicked)
			p := 1.0
			if e.Experiment != nil && e.Experiment.Propensity != nil {
				p = *e.Experiment.Propensity
			}
			s.clicks = append(s.clicks, ab.Click{Clicked: *e.Implicit.Clicked, Propensity: p})
		}
	}
}
