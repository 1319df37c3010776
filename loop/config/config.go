// Package config is loupe.yaml: the goal metric, the failure taxonomy and
// rubric, the sampling rules, the guardrails, the set targets and the
// privacy and review settings of one product's feedback loop.
//
// It does no I/O: Load takes the file's bytes, Template returns the
// commented file `loupe init` writes, and Default is what that file (or no
// file at all) means.
package config

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/sample"
)

// Config is one loupe.yaml.
type Config struct {
	Goal       Goal              `yaml:"goal"`
	Taxonomy   []loop.ReasonCode `yaml:"taxonomy"`
	Rubric     loop.Rubric       `yaml:"rubric"`
	Sampling   Sampling          `yaml:"sampling"`
	Guardrails Guardrails        `yaml:"guardrails"`
	Sets       SetTargets        `yaml:"sets"`
	Privacy    Privacy           `yaml:"privacy"`
	Intake     Intake            `yaml:"intake"`
	Review     Review            `yaml:"review"`
	Docs       Docs              `yaml:"docs"`
	Alerts     Alerts            `yaml:"alerts"`
	Schedule   Schedule          `yaml:"schedule"`
	OTLP       OTLP              `yaml:"otlp"`
	Kafka      Kafka             `yaml:"kafka"`

	// Warnings are what Load accepted but wants changed (a deprecated
	// key), each located like an Error; not part of the file.
	Warnings []string `yaml:"-"`
}

// Goal is the metric the loop exists to move and where it should be:
// Metric Op Target, e.g. pass_rate >= 0.8.
type Goal struct {
	Metric string  `yaml:"metric"`
	Op     string  `yaml:"op"` // ">=" or "<="
	Target float64 `yaml:"target"`
}

// Met reports whether value meets the goal.
func (g Goal) Met(value float64) bool {
	if g.Op == "<=" {
		return value <= g.Target
	}
	return value >= g.Target
}

func (g Goal) String() string { return fmt.Sprintf("%s %s %g", g.Metric, g.Op, g.Target) }

// Sampling is how `loupe sample` fills the review queue each day.
type Sampling struct {
	// Seed makes a different but still reproducible draw.
	Seed int64 `yaml:"seed"`
	// Overlap is the deprecated spelling of Review.Overlap, still read
	// (Load moves it there and warns); it is always 0 in a loaded Config.
	Overlap float64       `yaml:"overlap,omitempty"`
	Rules   []sample.Rule `yaml:"rules"`
}

// Guardrail says how much worse a metric may get before loupe raises an
// alert, and before it calls for a rollback.
//
// Alert and Rollback are absolute amounts in the metric's own unit, measured
// in its bad direction (see HigherIsBetter): for rates a fraction, so 0.05
// is 5 percentage points (pass_rate 0.82 → 0.77, or thumbs_down_rate 0.10 →
// 0.15); for latencies milliseconds. Window is the number of days of data
// compared with the baseline.
type Guardrail struct {
	Metric   string  `yaml:"metric"`
	Alert    float64 `yaml:"alert"`
	Rollback float64 `yaml:"rollback"`
	Window   int     `yaml:"window_days"`
}

// Guardrails are the guarded metrics and how sure loupe must be before it
// raises an alert: Alpha is the false-discovery rate across every slice
// compared (Benjamini–Hochberg), MinN the events each side of a comparison
// needs before it is tested. The file may also give guardrails as a plain
// list of metrics (the older form): Alpha and MinN then keep their
// defaults.
type Guardrails struct {
	Alpha   float64     `yaml:"alpha"`
	MinN    int         `yaml:"min_n"`
	Metrics []Guardrail `yaml:"metrics"`
}

// path is the key path of metric i (Load rewrites it to guardrails[i] for
// a file in the list form).
func (g Guardrails) path(i int) string { return fmt.Sprintf("guardrails.metrics[%d]", i) }

// Breach is how far past its guardrail a metric is.
type Breach int

const (
	BreachNone Breach = iota
	BreachAlert
	BreachRollback
)

func (b Breach) String() string {
	switch b {
	case BreachAlert:
		return "alert"
	case BreachRollback:
		return "rollback"
	}
	return "ok"
}

// Check compares current with baseline. A worsening of exactly the alert
// (or rollback) amount breaches it.
func (g Guardrail) Check(baseline, current float64) Breach {
	w := Worsening(g.Metric, baseline, current)
	// 0.82 - 0.79 is 0.0299999…: forgive float rounding at the boundary.
	reached := func(limit float64) bool { return w >= limit-1e-9*max(1, math.Abs(limit)) }
	switch {
	case reached(g.Rollback):
		return BreachRollback
	case reached(g.Alert):
		return BreachAlert
	}
	return BreachNone
}

// SetTargets are how many items the curated sets should hold.
type SetTargets struct {
	Golden  SetTarget `yaml:"golden"`
	RedFlag SetTarget `yaml:"redflag"`
}

// SetTarget is a size range; Max 0 means no upper limit.
type SetTarget struct {
	Min int `yaml:"min"`
	Max int `yaml:"max"`
}

// Privacy settings. The consent rules themselves are not settings: an event
// with consent.analytics false is never stored, and training exports only
// ever include events with consent.training true.
type Privacy struct {
	// RetentionDays is how long events are kept; 0 means no limit.
	RetentionDays int `yaml:"retention_days"`
}

// Intake settings: how records that arrive in pieces are taken in.
type Intake struct {
	// PendingDays is how long a signal whose interaction has not arrived
	// is kept waiting for it; then `forget --expired` (and serve's daily
	// run) drops it, counted.
	PendingDays int `yaml:"pending_days"`
	// Keep is edge sampling: the rules (the sampling rules' language)
	// that pick which interactions are stored in full. The others are
	// only counted in exact per-day aggregates, which trends, alerts and
	// the report read. Empty keeps everything.
	Keep []sample.Rule `yaml:"keep"`
}

// Review settings.
type Review struct {
	// Reviewers are the people who review. Optional: anyone with access
	// may review; listing them documents the team.
	Reviewers []string `yaml:"reviewers"`
	// MinKappa is the inter-rater agreement (Cohen's kappa) below which a
	// pair of reviewers should recalibrate on the rubric.
	MinKappa float64 `yaml:"min_kappa"`
	// Overlap is the share (0–1) of the review queue that goes to every
	// reviewer, so their agreement can be measured; the rest is split so
	// that each item is graded once.
	Overlap float64 `yaml:"overlap"`
	// Roles give reviewers more than the default role (grade blind).
	Roles Roles `yaml:"roles"`
}

// Roles lists reviewers by role.
type Roles struct {
	// Adjudicators see every reviewer's grade before grading and own the
	// Disagreements queue; other reviewers grade blind.
	Adjudicator []string `yaml:"adjudicator"`
}

// IsAdjudicator reports whether reviewer has the adjudicator role.
func (r Review) IsAdjudicator(reviewer string) bool {
	return slices.Contains(r.Roles.Adjudicator, reviewer)
}

// Docs records what the team has written down and checked; `loupe doctor`
// reads it.
type Docs struct {
	SchemaDocumented bool   `yaml:"schema_documented"`
	ConsentReviewed  bool   `yaml:"consent_reviewed"`
	EvaluationPlan   string `yaml:"evaluation_plan"`
}

// Default is the built-in configuration: what Template says, and what is
// used when there is no loupe.yaml.
func Default() Config {
	return Config{
		Goal:     Goal{Metric: "pass_rate", Op: ">=", Target: 0.8},
		Taxonomy: loop.DefaultTaxonomy(),
		Rubric:   loop.DefaultRubric(),
		Sampling: Sampling{Seed: 1, Rules: sample.DefaultRules()},
		Guardrails: Guardrails{Alpha: 0.05, MinN: 30, Metrics: []Guardrail{
			{Metric: "pass_rate", Alert: 0.03, Rollback: 0.05, Window: 7},
			{Metric: "thumbs_down_rate", Alert: 0.03, Rollback: 0.05, Window: 7},
			{Metric: "policy_violation_rate", Alert: 0.005, Rollback: 0.01, Window: 7},
			{Metric: "escalation_rate", Alert: 0.03, Rollback: 0.05, Window: 7},
			{Metric: "latency_p95_ms", Alert: 500, Rollback: 1000, Window: 7},
		}},
		Sets: SetTargets{
			Golden:  SetTarget{Min: 100, Max: 300},
			RedFlag: SetTarget{Min: 50},
		},
		Privacy:  Privacy{RetentionDays: 180},
		Intake:   Intake{PendingDays: 7},
		Review:   Review{MinKappa: 0.6, Overlap: 0.2},
		Alerts:   Alerts{TimeoutSeconds: 10, Retries: 3},
		Schedule: Schedule{DailyAt: "06:00"},
		OTLP:     DefaultOTLP(),
		Kafka:    DefaultKafka(),
	}
}

// The built-in metrics, in display order.
var baseMetrics = []string{
	"thumbs_down_rate", "pass_rate", "escalation_rate", "abandon_rate",
	"policy_violation_rate", "resolution_rate", "latency_p50_ms", "latency_p95_ms",
}

// ReasonMetricPrefix starts the metric of one reason code: reason:<code> is
// the share of thumbs-down events carrying that code.
const ReasonMetricPrefix = "reason:"

// MetricNames lists every metric name c knows: the built-in ones, then
// reason:<code> for each taxonomy code.
func MetricNames(c Config) []string {
	out := slices.Clone(baseMetrics)
	for _, rc := range c.Taxonomy {
		out = append(out, ReasonMetricPrefix+rc.Code)
	}
	return out
}

// HigherIsBetter reports whether a rise in metric is an improvement:
// pass_rate and resolution_rate. Every other metric (failure rates, reason
// shares, latencies) is better lower.
func HigherIsBetter(metric string) bool {
	return metric == "pass_rate" || metric == "resolution_rate"
}

// IsRate reports whether metric is a fraction in [0, 1] (every metric but
// the latencies, which are in milliseconds).
func IsRate(metric string) bool { return !strings.HasPrefix(metric, "latency_") }

// Worsening is how much worse current is than baseline, in the metric's
// unit: positive when it got worse, negative when it improved.
func Worsening(metric string, baseline, current float64) float64 {
	if HigherIsBetter(metric) {
		return baseline - current
	}
	return current - baseline
}

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// MaxReasonCodes is how many taxonomy codes the review keys 1–9 can toggle.
const MaxReasonCodes = 9

// Validate reports every problem in c, one error per problem, each naming
// the key path (guardrails[1].metric). Errors from Load also carry the
// line; errors from Validate on a Config built in code have none.
func (c Config) Validate() []error { return c.validate(nil) }

// problems collects validation errors; at maps a key path to its position.
type problems struct {
	at   func(path string) (file string, line int)
	errs []error
}

func (p *problems) add(path, format string, args ...any) {
	e := &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
	if p.at != nil {
		e.File, e.Line = p.at(path)
	}
	p.errs = append(p.errs, e)
}

// rules validates a list of rules in the sampling rules' language at path
// at (sampling.rules, intake.keep).
func (p *problems) rules(at string, rules []sample.Rule) {
	names := map[string]int{}
	for i, r := range rules {
		path := fmt.Sprintf("%s[%d]", at, i)
		if first, dup := names[r.Name]; dup {
			p.add(path+".name", "%q: already used by %s[%d]", r.Name, at, first)
		} else if r.Name == "" {
			p.add(path+".name", "missing")
		} else {
			names[r.Name] = i
		}
		if !slices.Contains(sample.Kinds(), r.Kind) {
			p.add(path+".kind", "%q: want one of %s", r.Kind, strings.Join(sample.Kinds(), ", "))
			continue
		}
		if !inUnit(r.Share) {
			p.add(path+".share", "%v: want a share from 0 to 1", r.Share)
		}
		switch r.Kind {
		case sample.KindPolicy:
			if !inUnit(r.Threshold) {
				p.add(path+".threshold", "%v: want a toxicity from 0 to 1 (0 = the policy_violation flag only)", r.Threshold)
			}
		case sample.KindLowConfidence:
			if !(r.Threshold > 0 && r.Threshold <= 1) {
				p.add(path+".threshold", "%v: want a confidence above 0 and at most 1", r.Threshold)
			}
		default:
			if r.Threshold != 0 {
				p.add(path+".threshold", "not used by kind %s", r.Kind)
			}
		}
		if r.Kind == sample.KindSegment && len(r.Segments) == 0 {
			p.add(path+".segments", "missing: list the segments to sample, e.g. [enterprise]")
		} else if r.Kind != sample.KindSegment && len(r.Segments) > 0 {
			p.add(path+".segments", "not used by kind %s", r.Kind)
		}
		if r.Kind == sample.KindTask && len(r.Tasks) == 0 {
			p.add(path+".tasks", "missing: list the task types to sample, e.g. [transcription]")
		} else if r.Kind != sample.KindTask && len(r.Tasks) > 0 {
			p.add(path+".tasks", "not used by kind %s", r.Kind)
		}
	}
}

func inUnit(x float64) bool { return x >= 0 && x <= 1 } // false for NaN

func (c Config) validate(at func(string) (string, int)) []error {
	p := &problems{at: at}
	metrics := MetricNames(c)
	known := func(path, m string) bool {
		if slices.Contains(metrics, m) {
			return true
		}
		if rest, ok := strings.CutPrefix(m, ReasonMetricPrefix); ok {
			p.add(path, "unknown metric %q: %q is not a taxonomy code", m, rest)
		} else {
			p.add(path, "unknown metric %q (want one of %s, or %s<code>)", m, strings.Join(baseMetrics, ", "), ReasonMetricPrefix)
		}
		return false
	}

	// goal
	g := c.Goal
	if known("goal.metric", g.Metric) {
		switch {
		case g.Op != ">=" && g.Op != "<=":
			p.add("goal.op", "%q: want \">=\" or \"<=\"", g.Op)
		case HigherIsBetter(g.Metric) && g.Op != ">=":
			p.add("goal.op", "%s is better higher, so the goal wants \">=\"", g.Metric)
		case !HigherIsBetter(g.Metric) && g.Op != "<=":
			p.add("goal.op", "%s is better lower, so the goal wants \"<=\"", g.Metric)
		}
		if IsRate(g.Metric) && !inUnit(g.Target) {
			p.add("goal.target", "%v: %s is a fraction, want 0 to 1 (0.8 = 80%%)", g.Target, g.Metric)
		} else if !IsRate(g.Metric) && !(g.Target > 0 && g.Target < 1e9) {
			p.add("goal.target", "%v: want a positive number of milliseconds", g.Target)
		}
	}

	// taxonomy
	if n := len(c.Taxonomy); n < 1 || n > MaxReasonCodes {
		p.add("taxonomy", "%d codes: want 1 to %d (the keys 1–9 toggle them; 5 to 8 work best)", n, MaxReasonCodes)
	}
	codes := map[string]int{}
	for i, rc := range c.Taxonomy {
		path := fmt.Sprintf("taxonomy[%d]", i)
		switch first, dup := codes[rc.Code]; {
		case !snakeCase.MatchString(rc.Code):
			p.add(path+".code", "%q: want snake_case (lower-case letters, digits, underscores), e.g. factual_error", rc.Code)
		case dup:
			p.add(path+".code", "%q: already used by taxonomy[%d]", rc.Code, first)
		default:
			codes[rc.Code] = i
		}
		if strings.TrimSpace(rc.Description) == "" {
			p.add(path+".description", "missing: say in a sentence when reviewers should use %q", rc.Code)
		}
	}

	// rubric
	for _, gr := range []loop.Grade{loop.GradePass, loop.GradeBorderline, loop.GradeFail} {
		if cr, ok := c.Rubric.Criterion(gr); !ok || strings.TrimSpace(cr.Criteria) == "" {
			p.add("rubric."+string(gr)+".criteria", "missing: say when an answer earns %q", gr)
		}
	}
	for _, cr := range c.Rubric.Grades {
		if _, ok := loop.ParseGrade(string(cr.Grade)); !ok {
			p.add("rubric", "unknown grade %q (want pass, borderline, fail)", cr.Grade)
		}
	}

	// sampling
	s := c.Sampling
	if s.Overlap != 0 {
		// Load moves a valid deprecated sampling.overlap to review.overlap.
		p.add("sampling.overlap", "%v: want a share from 0 to 1 (deprecated: write it as review.overlap)", s.Overlap)
	}
	if len(s.Rules) == 0 {
		p.add("sampling.rules", "empty: nothing would ever be queued for review")
	}
	p.rules("sampling.rules", s.Rules)

	// guardrails
	if a := c.Guardrails.Alpha; !(a > 0 && a <= 0.5) {
		p.add("guardrails.alpha", "%v: want a false-discovery rate above 0 and at most 0.5 (0.05 is usual)", a)
	}
	if n := c.Guardrails.MinN; n < 1 || n > 1_000_000 {
		p.add("guardrails.min_n", "%d: want 1 to 1000000 events each side (30 is usual)", n)
	}
	seen := map[string]int{}
	for i, gr := range c.Guardrails.Metrics {
		path := c.Guardrails.path(i)
		if first, dup := seen[gr.Metric]; dup {
			p.add(path+".metric", "%q: already guarded by %s", gr.Metric, c.Guardrails.path(first))
		} else if known(path+".metric", gr.Metric) {
			seen[gr.Metric] = i
		}
		unit := "ms"
		if IsRate(gr.Metric) {
			unit = "a fraction (0.05 = 5 points)"
		}
		switch {
		case !(gr.Alert > 0) || IsRate(gr.Metric) && gr.Alert > 1:
			p.add(path+".alert", "%v: want a drop above 0, in %s", gr.Alert, unit)
		case !(gr.Rollback >= gr.Alert) || IsRate(gr.Metric) && gr.Rollback > 1:
			p.add(path+".rollback", "%v: want at least the alert drop (%v) and at most 1 for a rate", gr.Rollback, gr.Alert)
		}
		if gr.Window < 1 || gr.Window > 366 {
			p.add(path+".window_days", "%d: want 1 to 366 days", gr.Window)
		}
	}

	// sets
	for _, t := range []struct {
		name string
		t    SetTarget
	}{{"golden", c.Sets.Golden}, {"redflag", c.Sets.RedFlag}} {
		if t.t.Min < 0 {
			p.add("sets."+t.name+".min", "%d: want 0 or more", t.t.Min)
		}
		if t.t.Max < 0 || t.t.Max > 0 && t.t.Max < t.t.Min {
			p.add("sets."+t.name+".max", "%d: want at least min (%d), or 0 for no limit", t.t.Max, t.t.Min)
		}
	}

	// privacy
	if c.Privacy.RetentionDays < 0 {
		p.add("privacy.retention_days", "%d: want 0 (no limit) or more", c.Privacy.RetentionDays)
	}

	// intake (signals)
	if c.Intake.PendingDays < 1 {
		p.add("intake.pending_days", "%d: want 1 or more (days a signal waits for its interaction)", c.Intake.PendingDays)
	}
	p.rules("intake.keep", c.Intake.Keep)

	// review
	revs := map[string]int{}
	for i, r := range c.Review.Reviewers {
		path := fmt.Sprintf("review.reviewers[%d]", i)
		if first, dup := revs[r]; dup {
			p.add(path, "%q: already listed as review.reviewers[%d]", r, first)
		} else if strings.TrimSpace(r) == "" {
			p.add(path, "empty name")
		} else {
			revs[r] = i
		}
	}
	if !inUnit(c.Review.MinKappa) {
		p.add("review.min_kappa", "%v: want a kappa from 0 to 1 (0.6 is the usual bar)", c.Review.MinKappa)
	}
	if !inUnit(c.Review.Overlap) {
		p.add("review.overlap", "%v: want a share from 0 to 1 (0.2 = 20%% of the queue to every reviewer)", c.Review.Overlap)
	}
	adj := map[string]int{}
	for i, r := range c.Review.Roles.Adjudicator {
		path := fmt.Sprintf("review.roles.adjudicator[%d]", i)
		if first, dup := adj[r]; dup {
			p.add(path, "%q: already listed as review.roles.adjudicator[%d]", r, first)
		} else if strings.TrimSpace(r) == "" {
			p.add(path, "empty name")
		} else {
			adj[r] = i
		}
	}

	c.validateAlerting(p)

	// otlp
	c.OTLP.validate(p)

	// kafka
	c.Kafka.validate(p, "kafka.")
	return p.errs
}
