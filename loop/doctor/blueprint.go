package doctor

import (
	"fmt"
	"math"
	"strings"

	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/loop/trend"
)

// Blueprint writes the one-page loop blueprint in Markdown: what the loop
// is for, what it captures, how it is graded, what it guards and how it
// stands today, from the config and the store's real numbers.
func Blueprint(c config.Config, s Stats, checklist []Item) string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Feedback loop blueprint\n\n")
	p("## Goal\n\n**%s** — ", c.Goal.String())
	if math.IsNaN(s.GoalNow) {
		p("no data yet.\n\n")
	} else {
		state := "not met"
		if s.GoalMet {
			state = "met"
		}
		p("last %d days: %s (%s).\n\n", trend.GoalDays, fmtVal(c.Goal.Metric, s.GoalNow), state)
	}
	p("## What we capture\n\n")
	p("%d events from %d model versions (%s), segments %s, tasks %s. ", s.Events, len(s.Models), strings.Join(s.Models, ", "),
		list(s.Segments), list(s.Tasks))
	p("Explicit feedback (thumbs, ratings, reason codes, corrections), implicit signals (dwell, abandonment, escalation, retries), automated checks and business outcomes, per event schema v1.\n\n")
	p("Privacy: events without analytics consent are never stored; free text is masked for PII before it is written; user ids are kept only as keyed hashes; training exports need `consent.training: true`")
	if c.Privacy.RetentionDays > 0 {
		p("; events older than %d days are erased by `loupe forget --expired`", c.Privacy.RetentionDays)
	}
	p(".\n\n")
	p("## How we grade\n\n")
	for _, g := range c.Rubric.Grades {
		p("- **%s**: %s\n", g.Grade, g.Criteria)
	}
	p("\nReason codes:\n\n| code | meaning |\n|---|---|\n")
	for _, rc := range c.Taxonomy {
		p("| `%s` | %s |\n", rc.Code, rc.Description)
	}
	p("\n%d items graded by %d reviewers (%d labels); %d waiting in the review queue.", s.Graded, s.Reviewers, s.Labels, s.Queued)
	if !math.IsNaN(s.Kappa) {
		p(" Agreement: mean Cohen's κ %.2f (recalibrate below %.2f).", s.Kappa, c.Review.MinKappa)
	}
	p("\n\nSampling each day:")
	for _, r := range c.Sampling.Rules {
		p(" %s (%s, %.0f%%);", r.Name, r.Kind, 100*r.Share)
	}
	p(" %.0f%% of the queue goes to every reviewer, to measure agreement.\n\n", 100*c.Review.Overlap)
	p("## What we guard\n\n")
	p("- Golden set: %d items (target %s)\n", s.Golden, rangeStr(c.Sets.Golden))
	p("- Red-flag set: %d items (target %s), each with assertions a new version must meet\n", s.RedFlag, rangeStr(c.Sets.RedFlag))
	p("- Release gate: `loupe gate` on the exported sets, in CI, for every candidate version\n\n")
	p("| metric | alert at | roll back at | window |\n|---|---|---|---|\n")
	for _, g := range c.Guardrails.Metrics {
		p("| %s | %s worse | %s worse | %d days |\n", g.Metric, fmtDelta(g.Metric, g.Alert), fmtDelta(g.Metric, g.Rollback), g.Window)
	}
	p("\nA change alerts only when it is significant: Benjamini–Hochberg at α = %g across every slice, at least %d events each side. "+
		"Roll back is said only of a model version against the version it replaced; any other worsening is watched.\n",
		c.Guardrails.Alpha, c.Guardrails.MinN)
	p("\n## Today\n\n")
	if len(s.Alerts) == 0 {
		p("No alerts.\n\n")
	} else {
		for _, a := range s.Alerts {
			p("- ⚠ %s\n", a)
		}
		p("\n")
	}
	ready := 0
	for _, it := range checklist {
		if it.OK {
			ready++
		}
	}
	p("Readiness: %d of %d (`loupe doctor`)\n\n", ready, len(checklist))
	for _, it := range checklist {
		mark := "x"
		if !it.OK {
			mark = " "
		}
		p("- [%s] %s — %s\n", mark, it.Name, it.Detail)
	}
	return b.String()
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "(none)"
	}
	return strings.Join(xs, ", ")
}

func fmtVal(metric string, v float64) string { return trend.Format(metric, v) }

func fmtDelta(metric string, v float64) string {
	if strings.HasPrefix(metric, "latency_") {
		return fmt.Sprintf("%g ms", v)
	}
	return fmt.Sprintf("%g pp", 100*v)
}
