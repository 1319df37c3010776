package doctor

import (
	"math"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop/config"
)

func TestCheckNamesEachMissingItem(t *testing.T) {
	c := config.Default()
	items := Check(c, false, Stats{Golden: 20, RedFlag: 3, GoalNow: math.NaN(), Kappa: math.NaN()})
	if Ready(items) {
		t.Fatal("defaults with small sets reported ready")
	}
	missing := map[string]bool{}
	for _, it := range items {
		if !it.OK {
			missing[it.Name] = true
			if it.Detail == "" {
				t.Errorf("%s: no detail", it.Name)
			}
		}
	}
	for _, want := range []string{"goal and threshold set", "schema documented", "consent reviewed", "golden set at target size", "red-flag set at target size", "evaluation plan"} {
		if !missing[want] {
			t.Errorf("%q not reported missing", want)
		}
	}
	if missing["rubric ready"] || missing["rollback criteria"] {
		t.Errorf("defaults have a rubric and rollback criteria: %v", missing)
	}

	c.Docs = config.Docs{SchemaDocumented: true, ConsentReviewed: true, EvaluationPlan: "loupe gate in CI"}
	items = Check(c, true, Stats{Golden: 150, RedFlag: 60})
	if !Ready(items) {
		t.Fatalf("complete setup not ready: %+v", items)
	}
	c.Guardrails.Metrics = nil
	if Ready(Check(c, true, Stats{Golden: 150, RedFlag: 60})) {
		t.Fatal("no rollback criteria, still ready")
	}
	c = config.Default()
	c.Taxonomy = c.Taxonomy[:3]
	for _, it := range Check(c, true, Stats{}) {
		if it.Name == "rubric ready" && (it.OK || !strings.Contains(it.Detail, "5 to 8")) {
			t.Errorf("3 codes: %+v", it)
		}
	}
}

func TestBlueprintUsesRealNumbers(t *testing.T) {
	c := config.Default()
	s := Stats{Events: 19608, Graded: 800, Labels: 1200, Reviewers: 2, Golden: 150, RedFlag: 60,
		Models: []string{"sum-2026.10", "sum-2026.11"}, GoalNow: 0.71, Kappa: 0.64,
		Alerts: []string{"thumbs_down_rate worse on sum-2026.11"}}
	md := Blueprint(c, s, Check(c, true, s))
	for _, want := range []string{"# Feedback loop blueprint", "pass_rate >= 0.8", "71.0% (not met)", "19608 events", "sum-2026.11",
		"`factual_error`", "Golden set: 150 items (target 100–300)", "κ 0.64", "⚠ thumbs_down_rate", "| latency_p95_ms | 500 ms worse"} {
		if !strings.Contains(md, want) {
			t.Errorf("blueprint lacks %q", want)
		}
	}
}
