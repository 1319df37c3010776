// Package doctor judges whether a team's feedback loop is ready to gate
// releases (the readiness checklist of `loupe doctor`) and writes the
// one-page loop blueprint (`loupe blueprint`). Pure: callers gather the
// numbers.
package doctor

import (
	"fmt"
	"strings"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/config"
)

// Stats are the store's real numbers the checklist and blueprint use.
type Stats struct {
	Events, Graded, Labels, Reviewers int
	Golden, RedFlag, Queued           int
	Models, Segments, Tasks           []string
	GoalNow                           float64 // the goal metric over the last trend.GoalDays days; NaN when unknown
	GoalMet                           bool
	Alerts                            []string
	Kappa                             float64 // mean Cohen's kappa over reviewer pairs; NaN when none
}

// Item is one line of the checklist.
type Item struct {
	Name string `json:"name"`
	OK   bool   `json:"ok"`
	// Detail says what is there, or what is missing and how to fix it.
	Detail string `json:"detail"`
}

// Check runs the readiness checklist. fromFile is false when the built-in
// defaults are in use (no loupe.yaml).
func Check(c config.Config, fromFile bool, s Stats) []Item {
	var out []Item
	add := func(name string, ok bool, okDetail, fix string) {
		d := okDetail
		if !ok {
			d = fix
		}
		out = append(out, Item{name, ok, d})
	}
	add("goal and threshold set", fromFile && c.Goal.Metric != "",
		"goal: "+c.Goal.String(),
		"no loupe.yaml: the built-in goal ("+c.Goal.String()+") is nobody's decision yet — run 'loupe init' and set goal:")
	add("schema documented", c.Docs.SchemaDocumented,
		"the event schema is documented (docs.schema_documented)",
		"document which events your product sends and their fields, then set docs.schema_documented: true")
	add("consent reviewed", c.Docs.ConsentReviewed,
		"consent flows reviewed (docs.consent_reviewed)",
		"review how consent.analytics and consent.training are collected, then set docs.consent_reviewed: true")
	rubricOK, rubricWhy := rubricReady(c)
	add("rubric ready", rubricOK, "rubric has criteria and examples for pass, fail and borderline; taxonomy has "+fmt.Sprint(len(c.Taxonomy))+" codes with examples",
		rubricWhy)
	g := c.Sets.Golden
	goldenOK := s.Golden >= g.Min && (g.Max == 0 || s.Golden <= g.Max)
	add("golden set at target size", goldenOK,
		fmt.Sprintf("golden set: %d items (target %s)", s.Golden, rangeStr(g)),
		fmt.Sprintf("golden set: %d items, target %s — add items with the TUI's g key or 'loupe set add golden ID'", s.Golden, rangeStr(g)))
	r := c.Sets.RedFlag
	add("red-flag set at target size", s.RedFlag >= r.Min,
		fmt.Sprintf("red-flag set: %d items (target %s)", s.RedFlag, rangeStr(r)),
		fmt.Sprintf("red-flag set: %d items, need %d more — add them with the TUI's r key or 'loupe set add redflag ID --must-not-contain ...'", s.RedFlag, max(0, r.Min-s.RedFlag)))
	add("evaluation plan", strings.TrimSpace(c.Docs.EvaluationPlan) != "",
		"evaluation plan: "+oneLine(c.Docs.EvaluationPlan),
		"write how each new model version is evaluated before release (docs.evaluation_plan), e.g. 'loupe gate in CI on every candidate'")
	rollbackOK, rb := rollbackReady(c)
	add("rollback criteria", rollbackOK, rb, "set guardrails with a rollback threshold for the goal metric ("+c.Goal.Metric+")")
	return out
}

// Ready reports whether every item is OK.
func Ready(items []Item) bool {
	for _, it := range items {
		if !it.OK {
			return false
		}
	}
	return true
}

func rubricReady(c config.Config) (bool, string) {
	if n := len(c.Taxonomy); n < 5 || n > 8 {
		return false, fmt.Sprintf("taxonomy has %d reason codes: keep 5 to 8 so reviewers can tell them apart", n)
	}
	for _, rc := range c.Taxonomy {
		if rc.Example == "" || rc.CounterExample == "" {
			return false, fmt.Sprintf("reason code %s needs an example and a counter-example", rc.Code)
		}
	}
	for _, g := range []loop.Grade{loop.GradePass, loop.GradeFail, loop.GradeBorderline} {
		cr, ok := c.Rubric.Criterion(g)
		if !ok || cr.Criteria == "" || len(cr.Examples) == 0 {
			return false, fmt.Sprintf("rubric: %s needs criteria and at least one example", g)
		}
	}
	return true, ""
}

func rollbackReady(c config.Config) (bool, string) {
	for _, g := range c.Guardrails.Metrics {
		if g.Metric == c.Goal.Metric && g.Rollback > 0 {
			return true, fmt.Sprintf("%s: alert at a %g drop, roll back at %g", g.Metric, g.Alert, g.Rollback)
		}
	}
	return false, ""
}

func rangeStr(t config.SetTarget) string {
	if t.Max == 0 {
		return fmt.Sprintf("≥ %d", t.Min)
	}
	return fmt.Sprintf("%d–%d", t.Min, t.Max)
}

func oneLine(s string) string { return loop.OneLine(s, 100) }
