package config

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/sample"
)

// messages loads src and returns each error's text.
func messages(t *testing.T, src string) []string {
	t.Helper()
	_, err := Load([]byte(src))
	if err == nil {
		return nil
	}
	var out []string
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			out = append(out, e.Error())
		}
	} else {
		out = append(out, err.Error())
	}
	return out
}

func TestTemplateIsDefault(t *testing.T) {
	c, err := Load(Template())
	if err != nil {
		t.Fatalf("Template does not load:\n%v", err)
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("Template loads to\n%+v\nwant Default\n%+v", c, Default())
	}
	if errs := Default().Validate(); len(errs) > 0 {
		t.Errorf("Default is invalid: %v", errs)
	}
	for _, src := range []string{"", "\n", "# nothing but comments\n", "---\n", "goal: ~\nsampling:\n"} {
		c, err := Load([]byte(src))
		if err != nil || !reflect.DeepEqual(c, Default()) {
			t.Errorf("%q: got %+v, %v; want Default", src, c, err)
		}
	}
}

func TestTemplateExplainsEverySection(t *testing.T) {
	lines := strings.Split(string(Template()), "\n")
	keys, _ := fieldsOf(reflect.TypeFor[Config]())
	found := 0
	for i, l := range lines {
		key, _, ok := strings.Cut(l, ":")
		if !ok || l == "" || l[0] == ' ' || l[0] == '#' {
			continue
		}
		if _, known := keys[key]; !known {
			t.Errorf("line %d: unexpected top-level key %q", i+1, key)
			continue
		}
		found++
		if i == 0 || !strings.HasPrefix(lines[i-1], "# ") {
			t.Errorf("line %d: section %s has no comment above it", i+1, key)
		}
	}
	if found != len(keys) {
		t.Errorf("template has %d sections, Config %d", found, len(keys))
	}
	for _, m := range MetricNames(Default())[:8] {
		if !bytes.Contains(Template(), []byte("#   "+m)) {
			t.Errorf("template does not explain metric %s", m)
		}
	}
	for _, k := range sample.Kinds() {
		if !bytes.Contains(Template(), []byte("#   "+k)) {
			t.Errorf("template does not explain rule kind %s", k)
		}
	}
}

func TestLoadErrorsHaveLines(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown top key", "goal:\n  metric: pass_rate\ngaol: 1\n",
			[]string{`loupe.yaml:3: gaol: unknown key "gaol" (want one of goal, taxonomy, rubric, sampling, guardrails, sets, privacy, intake, review, docs, alerts, schedule, otlp, kafka here)`}},
		{"unknown nested key", "sets:\n  golden:\n    min: 10\n    maximum: 20\n",
			[]string{`loupe.yaml:4: sets.golden.maximum: unknown key "maximum" (want one of min, max in sets.golden)`}},
		{"unknown key in a list item", "taxonomy:\n  - code: a\n    description: x\n  - code: b\n    descripton: y\n",
			[]string{
				`loupe.yaml:5: taxonomy[1].descripton: unknown key "descripton" (want one of code, description, example, counter_example in taxonomy[1])`,
			}},
		{"repeated key", "privacy:\n  retention_days: 30\n  retention_days: 40\n",
			[]string{`loupe.yaml:3: privacy.retention_days: repeated key (first at line 2)`}},
		{"guardrail metric", "guardrails:\n  - metric: pass_rate\n    alert: 0.02\n    rollback: 0.05\n  - metric: thumbs_up\n    alert: 0.02\n    rollback: 0.05\n",
			[]string{`loupe.yaml:5: guardrails[1].metric: unknown metric "thumbs_up" (want one of thumbs_down_rate, pass_rate, escalation_rate, abandon_rate, policy_violation_rate, resolution_rate, latency_p50_ms, latency_p95_ms, or reason:<code>)`}},
		{"guardrail order", "guardrails:\n  - metric: pass_rate\n    alert: 0.05\n    rollback: 0.02\n",
			[]string{`loupe.yaml:4: guardrails[0].rollback: 0.02: want at least the alert drop (0.05) and at most 1 for a rate`}},
		{"guardrail zero alert", "guardrails:\n  - metric: latency_p95_ms\n    alert: 0\n    rollback: 100\n    window_days: 0\n",
			[]string{
				`loupe.yaml:3: guardrails[0].alert: 0: want a drop above 0, in ms`,
				`loupe.yaml:5: guardrails[0].window_days: 0: want 1 to 366 days`,
			}},
		{"guardrail reason metric", "guardrails:\n  - metric: reason:made_up\n    alert: 0.1\n    rollback: 0.2\n",
			[]string{`loupe.yaml:2: guardrails[0].metric: unknown metric "reason:made_up": "made_up" is not a taxonomy code`}},
		{"duplicate guardrail", "guardrails:\n  - {metric: pass_rate, alert: 0.1, rollback: 0.2}\n  - {metric: pass_rate, alert: 0.1, rollback: 0.2}\n",
			[]string{`loupe.yaml:3: guardrails[1].metric: "pass_rate": already guarded by guardrails[0]`}},
		{"goal target", "# comment\ngoal:\n  metric: pass_rate\n  op: \">=\"\n  target: 80\n",
			[]string{`loupe.yaml:5: goal.target: 80: pass_rate is a fraction, want 0 to 1 (0.8 = 80%)`}},
		{"goal op", "goal:\n  metric: thumbs_down_rate\n  target: 0.1\n",
			[]string{`loupe.yaml:1: goal.op: thumbs_down_rate is better lower, so the goal wants "<="`}},
		{"goal bad op", "goal:\n  op: \"=>\"\n",
			[]string{`loupe.yaml:2: goal.op: "=>": want ">=" or "<="`}},
		{"goal metric", "goal: {metric: happiness, op: \">=\", target: 1}\n",
			[]string{`loupe.yaml:1: goal.metric: unknown metric "happiness" (want one of thumbs_down_rate, pass_rate, escalation_rate, abandon_rate, policy_violation_rate, resolution_rate, latency_p50_ms, latency_p95_ms, or reason:<code>)`}},
		{"taxonomy codes", "taxonomy:\n  - code: Factual Error\n    description: x\n  - code: ok\n  - code: ok\n    description: y\n",
			[]string{
				`loupe.yaml:2: taxonomy[0].code: "Factual Error": want snake_case (lower-case letters, digits, underscores), e.g. factual_error`,
				`loupe.yaml:4: taxonomy[1].description: missing: say in a sentence when reviewers should use "ok"`,
				`loupe.yaml:5: taxonomy[2].code: "ok": already used by taxonomy[1]`,
			}},
		{"taxonomy empty", "\ntaxonomy: []\n",
			[]string{`loupe.yaml:2: taxonomy: 0 codes: want 1 to 9 (the keys 1–9 toggle them; 5 to 8 work best)`}},
		{"taxonomy too long", "taxonomy:\n" + strings.Repeat("  - {code: a, description: d}\n", 1) +
			"  - {code: b, description: d}\n  - {code: c, description: d}\n  - {code: d, description: d}\n  - {code: e, description: d}\n" +
			"  - {code: f, description: d}\n  - {code: g, description: d}\n  - {code: h, description: d}\n  - {code: i, description: d}\n  - {code: j, description: d}\n",
			[]string{`loupe.yaml:1: taxonomy: 10 codes: want 1 to 9 (the keys 1–9 toggle them; 5 to 8 work best)`}},
		{"rubric criteria", "rubric:\n  fail:\n    examples: [a]\n",
			[]string{`loupe.yaml:2: rubric.fail.criteria: missing: say when an answer earns "fail"`}},
		{"rubric grade", "rubric:\n  great:\n    criteria: x\n",
			[]string{`loupe.yaml:2: rubric.great: unknown key "great" (want one of pass, borderline, fail in rubric)`}},
		{"rule kind", "sampling:\n  rules:\n    - kind: all\n",
			[]string{`loupe.yaml:3: sampling.rules[0].kind: "all": want one of random, thumbs_down, policy, escalated, segment, low_confidence, task, successes`}},
		{"rule share missing", "sampling:\n  rules:\n    - kind: thumbs_down\n    - kind: random\n",
			[]string{`loupe.yaml:4: sampling.rules[1].share: missing: kind random needs a share, e.g. 0.05 for 5%`}},
		{"rule fields", "sampling:\n  overlap: 1.5\n  rules:\n    - kind: segment\n      share: 2\n    - kind: thumbs_down\n      threshold: 0.3\n      tasks: [qa]\n    - name: thumbs_down\n      kind: low_confidence\n",
			[]string{
				`loupe.yaml:2: sampling.overlap: 1.5: want a share from 0 to 1 (deprecated: write it as review.overlap)`,
				`loupe.yaml:4: sampling.rules[0].segments: missing: list the segments to sample, e.g. [enterprise]`,
				`loupe.yaml:5: sampling.rules[0].share: 2: want a share from 0 to 1`,
				`loupe.yaml:7: sampling.rules[1].threshold: not used by kind thumbs_down`,
				`loupe.yaml:8: sampling.rules[1].tasks: not used by kind thumbs_down`,
				`loupe.yaml:9: sampling.rules[2].name: "thumbs_down": already used by sampling.rules[1]`,
				`loupe.yaml:9: sampling.rules[2].threshold: 0: want a confidence above 0 and at most 1`,
			}},
		{"no rules", "sampling:\n  rules: []\n",
			[]string{`loupe.yaml:2: sampling.rules: empty: nothing would ever be queued for review`}},
		{"sets", "sets:\n  golden:\n    min: 300\n    max: 100\n  redflag:\n    min: -1\n",
			[]string{
				`loupe.yaml:4: sets.golden.max: 100: want at least min (300), or 0 for no limit`,
				`loupe.yaml:6: sets.redflag.min: -1: want 0 or more`,
			}},
		{"review", "review:\n  reviewers: [ana, bo, ana]\n  min_kappa: 2\nprivacy:\n  retention_days: -5\n",
			[]string{
				`loupe.yaml:2: review.reviewers[2]: "ana": already listed as review.reviewers[0]`,
				`loupe.yaml:3: review.min_kappa: 2: want a kappa from 0 to 1 (0.6 is the usual bar)`,
				`loupe.yaml:5: privacy.retention_days: -5: want 0 (no limit) or more`,
			}},
		{"intake", "goal:\n  metric: pass_rate\nintake:\n  pending_days: 0\n",
			[]string{`loupe.yaml:4: intake.pending_days: 0: want 1 or more (days a signal waits for its interaction)`}},
		{"wrong types", "goal:\n  target: high\ndocs:\n  schema_documented: sure\nsets:\n  golden:\n    min: 1.5\nsampling:\n  seed: [1]\n",
			[]string{
				`loupe.yaml:2: goal.target: "high": want a number`,
				`loupe.yaml:4: docs.schema_documented: "sure": want true or false`,
				`loupe.yaml:7: sets.golden.min: "1.5": want a whole number`,
				`loupe.yaml:9: sampling.seed: want a whole number, got a list`,
			}},
		{"wrong shapes", "goal: pass_rate >= 0.8\ntaxonomy:\n  code: x\n",
			[]string{
				`loupe.yaml:1: goal: want a mapping of metric, op, target, got "pass_rate >= 0.8"`,
				`loupe.yaml:3: taxonomy: want a list, got a mapping`,
			}},
		{"otlp", "otlp:\n  attributes:\n    user_id: [user.id, user.id]\n    locale: [\"my locale\"]\n  consent:\n    analytics_attribute: \" \"\n",
			[]string{
				`loupe.yaml:3: otlp.attributes.user_id[1]: "user.id": already listed as otlp.attributes.user_id[0]`,
				`loupe.yaml:4: otlp.attributes.locale[0]: "my locale": want an attribute name such as user.id (no spaces)`,
				`loupe.yaml:6: otlp.consent.analytics_attribute: " ": want an attribute name such as loupe.consent.training (no spaces), or "" for none`,
			}},
		{"otlp consent type", "otlp:\n  consent:\n    training: maybe\n",
			[]string{`loupe.yaml:3: otlp.consent.training: "maybe": want true or false`}},
		{"not a mapping", "- a\n- b\n",
			[]string{`loupe.yaml:1: want a mapping of goal, taxonomy, rubric, sampling, guardrails, sets, privacy, intake, review, docs, alerts, schedule, otlp, kafka, got a list`}},
		{"alias", "review:\n  reviewers: &r [a, b]\ndocs:\n  evaluation_plan: *r\n",
			[]string{`loupe.yaml:4: docs.evaluation_plan: YAML aliases (*r) are not supported: write the value out`}},
		{"syntax", "goal:\n  metric: pass_rate\n   op: \">=\"\n",
			[]string{`loupe.yaml:3: YAML syntax: mapping values are not allowed in this context`}},
		{"two documents", "goal: {target: 0.7}\n---\ngoal: {target: 0.9}\n",
			[]string{`loupe.yaml:2: a second YAML document: keep the config in one (remove the ---)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := messages(t, tt.src)
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

func TestLoadErrorType(t *testing.T) {
	_, err := LoadNamed("conf/team.yaml", []byte("sets:\n  golden: {min: 5, max: 1}\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not an *Error", err)
	}
	if e.File != "conf/team.yaml" || e.Line != 2 || e.Path != "sets.golden.max" {
		t.Errorf("got %+v", e)
	}
	if !strings.HasPrefix(err.Error(), "conf/team.yaml:2: sets.golden.max: ") {
		t.Errorf("message %q", err)
	}
}

func TestValidateWithoutLines(t *testing.T) {
	c := Default()
	c.Guardrails.Metrics = append(c.Guardrails.Metrics, Guardrail{Metric: "thumbs_up", Alert: 0.1, Rollback: 0.2, Window: 7})
	errs := c.Validate()
	if len(errs) != 1 || errs[0].Error() != `guardrails.metrics[5].metric: unknown metric "thumbs_up" (want one of thumbs_down_rate, pass_rate, escalation_rate, abandon_rate, policy_violation_rate, resolution_rate, latency_p50_ms, latency_p95_ms, or reason:<code>)` {
		t.Errorf("got %v", errs)
	}
}

const custom = `
goal:
  metric: thumbs_down_rate
  op: "<="
  target: 0.1
taxonomy:
  - code: wrong_product
    description: Recommends a product that does not fit the query.
    example: Trail shoes asked, dress shoes shown.
    counter_example: A close variant of what was asked.
  - code: out_of_stock
    description: Recommends what cannot be bought.
rubric:
  fail:
    criteria: Nothing a user would click.
sampling:
  seed: 42
  overlap: 0.25
  rules:
    - kind: random
      share: 0.02
    - name: big_accounts
      kind: segment
      segments: [enterprise]
      share: 0.5
    - kind: task
      tasks: [recommendation, transcription]
    - kind: policy
      threshold: 0
guardrails:
  - metric: reason:out_of_stock
    alert: 0.02
    rollback: 0.04
  - metric: latency_p50_ms
    alert: 100
    rollback: 100
    window_days: 14
sets:
  golden: {min: 150}
review:
  reviewers: [ana, bo]
docs:
  schema_documented: true
  evaluation_plan: |
    Golden set nightly; gate on red flags.
`

func TestCustomFile(t *testing.T) {
	c, err := Load([]byte(custom))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	want.Goal = Goal{Metric: "thumbs_down_rate", Op: "<=", Target: 0.1}
	want.Taxonomy = []loop.ReasonCode{
		{Code: "wrong_product", Description: "Recommends a product that does not fit the query.",
			Example: "Trail shoes asked, dress shoes shown.", CounterExample: "A close variant of what was asked."},
		{Code: "out_of_stock", Description: "Recommends what cannot be bought."},
	}
	want.Rubric.Grades[2] = loop.GradeCriterion{Grade: loop.GradeFail, Criteria: "Nothing a user would click."}
	want.Review.Overlap = 0.25 // from the deprecated sampling.overlap
	want.Warnings = []string{"loupe.yaml:18: sampling.overlap: deprecated: read as review.overlap: 0.25; move it there"}
	want.Sampling = Sampling{Seed: 42, Rules: []sample.Rule{
		{Name: "random", Kind: "random", Share: 0.02},
		{Name: "big_accounts", Kind: "segment", Share: 0.5, Segments: []string{"enterprise"}},
		{Name: "task", Kind: "task", Share: 1, Tasks: []string{"recommendation", "transcription"}},
		{Name: "policy", Kind: "policy", Share: 1},
	}}
	want.Guardrails.Metrics = []Guardrail{
		{Metric: "reason:out_of_stock", Alert: 0.02, Rollback: 0.04, Window: 7},
		{Metric: "latency_p50_ms", Alert: 100, Rollback: 100, Window: 14},
	}
	want.Sets.Golden.Min = 150
	want.Review.Reviewers = []string{"ana", "bo"}
	want.Docs = Docs{SchemaDocumented: true, EvaluationPlan: "Golden set nightly; gate on red flags.\n"}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("loaded\n%+v\nwant\n%+v", c, want)
	}

	// And back: Marshal writes what Load reads.
	b, err := Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Load(b)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	c.Warnings = nil // written back as review.overlap: nothing to warn about
	if !reflect.DeepEqual(again, c) {
		t.Errorf("round trip changed the config:\n%s", b)
	}
	want2 := append(MetricNames(Default())[:8:8], "reason:wrong_product", "reason:out_of_stock")
	if got := MetricNames(c); !slices.Equal(got, want2) {
		t.Errorf("MetricNames = %v", got)
	}
}

func TestReviewSection(t *testing.T) {
	c, err := Load([]byte("review:\n  overlap: 0.3\n  roles:\n    adjudicator: [cy]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Review.Overlap != 0.3 || !c.Review.IsAdjudicator("cy") || c.Review.IsAdjudicator("ana") || len(c.Warnings) != 0 {
		t.Errorf("review %+v warnings %v", c.Review, c.Warnings)
	}
	if d := Default(); d.Review.Overlap != 0.2 || len(d.Review.Roles.Adjudicator) != 0 {
		t.Errorf("default review %+v", d.Review)
	}
	for _, tt := range []struct{ in, want string }{
		{"review:\n  overlap: 2\n", "loupe.yaml:2: review.overlap: 2: want a share from 0 to 1 (0.2 = 20% of the queue to every reviewer)"},
		{"review:\n  roles:\n    judge: [cy]\n", `loupe.yaml:3: review.roles.judge: unknown key "judge" (want one of adjudicator in review.roles)`},
		{"review:\n  roles:\n    adjudicator: [cy, cy]\n", `loupe.yaml:3: review.roles.adjudicator[1]: "cy": already listed as review.roles.adjudicator[0]`},
		{"sampling:\n  overlap: 0.1\nreview:\n  overlap: 0.3\n", "loupe.yaml:2: sampling.overlap: deprecated alias of review.overlap, which is also given (line 4): keep only review.overlap"},
	} {
		_, err := Load([]byte(tt.in))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q: %v, want %s", tt.in, err, tt.want)
		}
	}
}

func TestMarshalDefault(t *testing.T) {
	b, err := Marshal(Default())
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(b)
	if err != nil || !reflect.DeepEqual(c, Default()) {
		t.Fatalf("Marshal(Default) does not load back: %v\n%s", err, b)
	}
}

func TestGuardrailCheck(t *testing.T) {
	pass := Guardrail{Metric: "pass_rate", Alert: 0.03, Rollback: 0.05}
	down := Guardrail{Metric: "thumbs_down_rate", Alert: 0.03, Rollback: 0.05}
	lat := Guardrail{Metric: "latency_p95_ms", Alert: 500, Rollback: 1000}
	for _, tt := range []struct {
		g                 Guardrail
		baseline, current float64
		want              Breach
	}{
		{pass, 0.82, 0.80, BreachNone},
		{pass, 0.82, 0.79, BreachAlert},
		{pass, 0.82, 0.77, BreachRollback},
		{pass, 0.82, 0.95, BreachNone},
		{down, 0.10, 0.12, BreachNone},
		{down, 0.10, 0.14, BreachAlert},
		{down, 0.10, 0.16, BreachRollback},
		{down, 0.10, 0.01, BreachNone},
		{lat, 1200, 1800, BreachAlert},
		{lat, 1200, 2300, BreachRollback},
	} {
		if got := tt.g.Check(tt.baseline, tt.current); got != tt.want {
			t.Errorf("%s %v → %v: %v, want %v", tt.g.Metric, tt.baseline, tt.current, got, tt.want)
		}
	}
	if !(Goal{Metric: "pass_rate", Op: ">=", Target: 0.8}).Met(0.8) || (Goal{Metric: "thumbs_down_rate", Op: "<=", Target: 0.1}).Met(0.2) {
		t.Error("Goal.Met")
	}
}

func FuzzLoad(f *testing.F) {
	f.Add(Template())
	f.Add([]byte(custom))
	f.Add([]byte("goal: {metric: pass_rate, op: '>=', target: .nan}\n"))
	f.Add([]byte("sampling:\n  rules:\n    - kind: policy\n      threshold: .inf\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("review: {reviewers: [\"\\u0000\", \"x\\ty\"]}\n"))
	f.Add([]byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Load(data)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if errs := c.Validate(); len(errs) > 0 {
			t.Fatalf("Load accepted a config Validate rejects: %v", errs)
		}
		b, err := Marshal(c)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Load(b)
		if err != nil {
			t.Fatalf("Marshal output does not load: %v\n%s", err, b)
		}
		c.Warnings, again.Warnings = nil, nil // Marshal writes only current keys
		if !reflect.DeepEqual(again, c) {
			t.Fatalf("round trip changed the config:\n%s", b)
		}
	})
}

func TestGuardrailsMappingForm(t *testing.T) {
	src := "guardrails:\n  alpha: 0.01\n  min_n: 50\n  metrics:\n    - metric: pass_rate\n      alert: 0.02\n      rollback: 0.04\n"
	c, err := Load([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := Guardrails{Alpha: 0.01, MinN: 50, Metrics: []Guardrail{{Metric: "pass_rate", Alert: 0.02, Rollback: 0.04, Window: 7}}}
	if !reflect.DeepEqual(c.Guardrails, want) {
		t.Fatalf("guardrails = %+v, want %+v", c.Guardrails, want)
	}
	// Leaving out metrics keeps the default metrics, alpha alone changes.
	c, err = Load([]byte("guardrails:\n  alpha: 0.1\n"))
	if err != nil || c.Guardrails.Alpha != 0.1 || c.Guardrails.MinN != 30 || len(c.Guardrails.Metrics) != 5 {
		t.Fatalf("alpha only: %+v, %v", c.Guardrails, err)
	}
	// The list form keeps alpha and min_n at their defaults.
	c, err = Load([]byte("guardrails:\n  - {metric: pass_rate, alert: 0.1, rollback: 0.2}\n"))
	if err != nil || c.Guardrails.Alpha != 0.05 || c.Guardrails.MinN != 30 || len(c.Guardrails.Metrics) != 1 {
		t.Fatalf("list form: %+v, %v", c.Guardrails, err)
	}

	for _, tc := range []struct{ src, want string }{
		{"guardrails:\n  alpha: 0\n", `loupe.yaml:2: guardrails.alpha: 0: want a false-discovery rate above 0 and at most 0.5 (0.05 is usual)`},
		{"guardrails:\n  min_n: 0\n", `loupe.yaml:2: guardrails.min_n: 0: want 1 to 1000000 events each side (30 is usual)`},
		{"guardrails:\n  metrics:\n    - metric: pass_rate\n      alert: 0.02\n      rollback: 0.04\n    - metric: nope\n      alert: 1\n      rollback: 1\n",
			`loupe.yaml:6: guardrails.metrics[1].metric: unknown metric "nope" (want one of thumbs_down_rate, pass_rate, escalation_rate, abandon_rate, policy_violation_rate, resolution_rate, latency_p50_ms, latency_p95_ms, or reason:<code>)`},
		{"guardrails:\n  alfa: 1\n", `loupe.yaml:2: guardrails.alfa: unknown key "alfa" (want one of alpha, min_n, metrics in guardrails)`},
		{"guardrails:\n  - {metric: pass_rate, alert: 0.1, rollback: 0.2}\n  - {metric: pass_rate, alert: 0.1, rollback: 0.2}\n",
			`loupe.yaml:3: guardrails[1].metric: "pass_rate": already guarded by guardrails[0]`},
		{"schedule:\n  daily_at: 6am\n", `loupe.yaml:2: schedule.daily_at: "6am": want a UTC time of day as HH:MM, e.g. "06:00", or off`},
		{"alerts:\n  timeout_seconds: 0\n", `loupe.yaml:2: alerts.timeout_seconds: 0: want 1 to 300 seconds`},
	} {
		_, err := Load([]byte(tc.src))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

func TestWebhookIsNotEchoed(t *testing.T) {
	const secret = "ftp://hooks.example/T000/B000/XXXXsecretXXXX"
	_, err := Load([]byte("alerts:\n  webhook: " + secret + "\n"))
	if err == nil || strings.Contains(err.Error(), "secret") && strings.Contains(err.Error(), "XXXX") {
		t.Fatalf("error %v: want one that does not show the URL", err)
	}
	if !strings.Contains(err.Error(), "alerts.webhook: want an http:// or https:// URL") {
		t.Errorf("error %q", err)
	}
	c, err := Load([]byte("alerts:\n  webhook: https://hooks.example/T/B/x\nschedule:\n  daily_at: \"off\"\n"))
	if err != nil || c.Alerts.Webhook != "https://hooks.example/T/B/x" || !c.Schedule.Off() {
		t.Fatalf("%+v %v", c.Alerts, err)
	}
}

func TestIntakeKeep(t *testing.T) {
	c, err := Load([]byte("goal:\n  metric: pass_rate\nintake:\n  keep:\n    - {name: sample, kind: random, share: 0.05}\n    - {kind: thumbs_down}\n    - {kind: escalated}\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []sample.Rule{
		{Name: "sample", Kind: sample.KindRandom, Share: 0.05},
		{Name: "thumbs_down", Kind: sample.KindThumbsDown, Share: 1},
		{Name: "escalated", Kind: sample.KindEscalated, Share: 1},
	}
	if !reflect.DeepEqual(c.Intake.Keep, want) {
		t.Fatalf("keep = %+v, want %+v", c.Intake.Keep, want)
	}
	for in, w := range map[string]string{
		"    - {kind: random}\n":                                `loupe.yaml:5: intake.keep[0].share: missing: kind random needs a share`,
		"    - {kind: task}\n    - {name: x, kind: escalatd}\n": `loupe.yaml:6: intake.keep[1].kind: "escalatd": want one of random, thumbs_down, policy, escalated,`,
	} {
		_, err = Load([]byte("goal:\n  metric: pass_rate\nintake:\n  keep:\n" + in))
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Fatalf("error %v, want it to say %q", err, w)
		}
	}
	d, err := Load([]byte("goal:\n  metric: pass_rate\n"))
	if err != nil || len(d.Intake.Keep) != 0 {
		t.Fatalf("default keep = %v, %v; want empty (keep everything)", d.Intake.Keep, err)
	}
}
