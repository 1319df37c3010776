package trend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/gen"
)

var (
	day13 = time.Date(2025, 3, 14, 18, 0, 0, 0, time.UTC) // day index 13 from 2025-03-01
	guard = Guardrail{Metric: ThumbsDownRate, Alert: 0.05, Rollback: 0.15, Window: 7}
	pol   = Policy{Guards: []Guardrail{guard}}
)

func keys(as []Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Action+" "+a.Key+" vs "+a.Against)
	}
	return out
}

func TestAlertsRegressedVersion(t *testing.T) {
	// v1 from day 0 at 10% thumbs-down; v2 from day 7 at 30%, both live to
	// day 13. Both sides have 7 days x 20 events = 140 thumbs.
	items := append(rollout("v1", 0, 13, 20, 2), rollout("v2", 7, 13, 20, 6)...)
	got := Alerts(Data{Items: items}, pol, day13)
	want := []string{
		// +20 pp on v2 vs v1, over the 7 shared days: past rollback (15 pp).
		"roll_back model:v2 vs model:v1",
		// Everything, last 7 days (20%) vs the 7 before (10%): +10 pp, a
		// change across the slice: watched, never rolled back.
		"watch all vs 2025-03-01..2025-03-07",
		"watch segment:pro vs 2025-03-01..2025-03-07",
		"watch task:qa vs 2025-03-01..2025-03-07",
	}
	if strings.Join(keys(got), "\n") != strings.Join(want, "\n") {
		t.Fatalf("alerts:\n%s\nwant\n%s", strings.Join(keys(got), "\n"), strings.Join(want, "\n"))
	}
	a := got[0]
	if a.RollbackTo != "v1" || !near(a.Before, 0.1) || !near(a.After, 0.3) || a.NBefore != 140 || a.NAfter != 140 ||
		a.Metric != ThumbsDownRate || a.Kind != KindVersion || !near(a.Delta, 0.2) {
		t.Fatalf("model alert = %+v", a)
	}
	if !(a.Lo > 0 && a.Lo < a.Delta && a.Delta < a.Hi && a.Hi < 0.4) || !(a.Confidence > 0.95 && a.Confidence < 1) || !(a.Q < 0.05 && a.P <= a.Q) {
		t.Errorf("interval [%v, %v] at %v, p=%v q=%v", a.Lo, a.Hi, a.Confidence, a.P, a.Q)
	}
	for _, s := range []string{"v2", "v1", "30.0%", "10.0%", "+20.0 pp", "7 days both were live", "n=140 vs 140", "min 30", "roll back to v1", "interval"} {
		if !strings.Contains(a.Message, s) {
			t.Errorf("message %q lacks %q", a.Message, s)
		}
	}
	if h := a.Headline(); !strings.HasPrefix(h, "ROLL BACK v2 to v1: thumbs_down_rate +20.0 pp (30.0% vs 10.0%)") {
		t.Errorf("headline %q", h)
	}
	if got[1].RollbackTo != "" || !near(got[1].Before, 0.1) || !near(got[1].After, 0.2) || got[1].NAfter != 280 || got[1].Label() != "WATCH" {
		t.Errorf("window alert = %+v", got[1])
	}
	if h := got[1].Headline(); h != "WATCH all events: thumbs_down_rate +10.0 pp (20.0% vs 10.0%) against the previous 7 days" {
		t.Errorf("headline %q", h)
	}
	// IDs are stable and distinct.
	ids := map[string]bool{}
	for _, a := range got {
		ids[a.ID] = true
	}
	if len(ids) != len(got) || Alerts(Data{Items: items}, pol, day13)[0].ID != a.ID {
		t.Errorf("ids not distinct or not stable: %v", ids)
	}

	// Only an alert threshold: the version is watched against v1, not
	// rolled back.
	got = Alerts(Data{Items: items}, Policy{Guards: []Guardrail{{Metric: ThumbsDownRate, Alert: 0.15, Window: 7}}}, day13)
	if len(got) != 1 || got[0].Action != ActionWatch || got[0].Key != "model:v2" || got[0].RollbackTo != "v1" ||
		!strings.Contains(got[0].Message, "not the rollback threshold") {
		t.Fatalf("alerts = %+v", got)
	}
}

func TestAlertJSON(t *testing.T) {
	items := append(rollout("v1", 0, 13, 20, 2), rollout("v2", 7, 13, 20, 6)...)
	got := Alerts(Data{Items: items}, pol, day13)
	b, err := json.Marshal(got[:2])
	if err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back[0]["rollback_to"] != "v1" || back[1]["rollback_to"] != nil || back[0]["action"] != "roll_back" {
		t.Fatalf("json %s", b)
	}
	if !bytes.Contains(b, []byte(`"rollback_to":null`)) {
		t.Errorf("no null rollback_to in %s", b)
	}
	for _, k := range []string{"id", "kind", "metric", "key", "against", "before", "after", "n_before", "n_after", "delta", "lo", "hi", "confidence", "p", "q", "message"} {
		if _, ok := back[0][k]; !ok {
			t.Errorf("json lacks %q: %s", k, b)
		}
	}
}

func TestAlertsNeedSignificance(t *testing.T) {
	// 10% -> 20% is past the 5 pp guardrail, but on 5 a day (35 each side,
	// above min_n) it is noise: p ≈ 0.3.
	items := append(rollout("v1", 0, 13, 5, 0), rollout("v2", 7, 13, 5, 1)...)
	for i := range items {
		// v1: 1 down in 10 (days alternate), v2: 1 in 5.
		if strings.HasPrefix(items[i].ID, "v1-") && strings.HasSuffix(items[i].ID, "-0") && items[i].Time.Day()%2 == 0 {
			items[i].Thumb = down
		}
	}
	if got := Alerts(Data{Items: items}, pol, day13); len(got) != 0 {
		t.Fatalf("alerts on noise: %v", keys(got))
	}
}

func TestAlertsSmallSample(t *testing.T) {
	// 0% -> 100%, 2 events a day per version: 14 each side < min_n.
	items := append(rollout("v1", 0, 13, 2, 0), rollout("v2", 7, 13, 2, 2)...)
	if got := Alerts(Data{Items: items}, pol, day13); len(got) != 0 {
		t.Fatalf("alerts with n < %d: %+v", DefaultMinN, got)
	}
	// With min_n lowered to 10, the same data alerts.
	if got := Alerts(Data{Items: items}, Policy{MinN: 10, Guards: pol.Guards}, day13); len(got) == 0 || got[0].Action != ActionRollBack {
		t.Fatalf("min_n 10: %v", keys(got))
	}
}

func TestAlertsNoRegression(t *testing.T) {
	// v2 as good as v1: nothing.
	items := append(rollout("v1", 0, 13, 20, 6), rollout("v2", 7, 13, 20, 6)...)
	if got := Alerts(Data{Items: items}, pol, day13); len(got) != 0 {
		t.Fatalf("alerts = %v", keys(got))
	}
}

func TestAlertsCutover(t *testing.T) {
	// v1 days 0-6 only, v2 days 7-13 only: no shared day, so the 7 days
	// before the switch are compared with the 7 after.
	items := append(rollout("v1", 0, 6, 20, 2), rollout("v2", 7, 13, 20, 6)...)
	var a *Alert
	got := Alerts(Data{Items: items}, pol, day13)
	for i := range got {
		if got[i].Key == "model:v2" {
			a = &got[i]
		}
	}
	if a == nil || a.Against != "model:v1" || a.RollbackTo != "v1" || a.Action != ActionRollBack ||
		!strings.Contains(a.Message, "switch on 2025-03-08") || a.NBefore != 140 || a.NAfter != 140 {
		t.Fatalf("version alert = %+v", a)
	}
}

func TestAlertsRetiredVersion(t *testing.T) {
	// v2 regressed on days 2-5 but was replaced by v3 from day 6: v2 is no
	// longer live, so no version alert for it; v3 is as good as v1.
	items := append(rollout("v1", 0, 3, 20, 2), rollout("v2", 2, 5, 20, 8)...)
	items = append(items, rollout("v3", 6, 13, 20, 2)...)
	for _, a := range Alerts(Data{Items: items}, pol, day13) {
		if strings.HasPrefix(a.Key, "model:") || a.Action == ActionRollBack {
			t.Errorf("unexpected alert %+v", a)
		}
	}
}

func TestAlertsLowerIsWorse(t *testing.T) {
	// pass_rate drops from 90% on v1 to 60% on v2 over shared days.
	items := append(rollout("v1", 0, 13, 20, 0), rollout("v2", 7, 13, 20, 0)...)
	grades := map[string]loop.Grade{}
	for _, s := range items {
		var i, d int
		var m string
		fmt.Sscanf(strings.ReplaceAll(s.ID, "-", " "), "%s %d %d", &m, &d, &i)
		g := loop.GradePass
		if (m == "v1" && i >= 18) || (m == "v2" && i >= 12) {
			g = loop.GradeFail
		}
		grades[s.ID] = g
	}
	g := Policy{Guards: []Guardrail{{Metric: PassRate, Alert: 0.05, Rollback: 0.2, Window: 7}}}
	got := Alerts(Data{Items: items, Grades: grades}, g, day13)
	if len(got) == 0 || got[0].Key != "model:v2" || got[0].Action != ActionRollBack || !near(got[0].Before, 0.9) || !near(got[0].After, 0.6) {
		t.Fatalf("alerts = %+v", got)
	}
	if !strings.Contains(got[0].Message, "-30.0 pp") || !(got[0].Hi < 0) {
		t.Errorf("message = %q, interval [%v, %v]", got[0].Message, got[0].Lo, got[0].Hi)
	}
	// v2 better than v1 on pass_rate: no alert for v2.
	for s := range grades {
		if strings.HasPrefix(s, "v2") {
			grades[s] = loop.GradePass
		}
	}
	for _, a := range Alerts(Data{Items: items, Grades: grades}, g, day13) {
		if a.Key == "model:v2" {
			t.Errorf("v2 improved but alerted: %+v", a)
		}
	}
}

func TestAlertsComparesVersionsWithinTheirProductLine(t *testing.T) {
	// A speech model (good, 5%) ships after the summarizer v1 (10%), then
	// the summarizer v2 regresses (30%). v2 must be compared with v1, not
	// with the speech model that happens to be first seen just before it.
	speech := rollout("stt-1", 3, 13, 20, 1)
	for i := range speech {
		speech[i].Task = "transcription"
		speech[i].ID = "s" + speech[i].ID
	}
	items := append(append(rollout("v1", 0, 13, 20, 2), speech...), rollout("v2", 7, 13, 20, 6)...)
	got := Alerts(Data{Items: items}, pol, day13)
	var models []string
	for _, a := range got {
		if a.Kind == KindVersion {
			models = append(models, a.Key+" vs "+a.Against)
		}
	}
	if strings.Join(models, ",") != "model:v2 vs model:v1" {
		t.Fatalf("version alerts %v (all: %v)", models, keys(got))
	}
}

// world is a generated product with no real change: two product lines,
// one with an overlapping release and one with a hard cut-over, three
// segments, every behaviour the same for every version and every day. A
// regress > 0 makes "b2" that much more likely to get a thumbs-down and
// that many times slower.
func world(seed uint64, regress float64) []sum {
	r := rand.New(rand.NewPCG(seed, 99))
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	segs := []string{"free", "pro", "enterprise"}
	var out []sum
	for d := range 14 {
		for i := range 300 {
			task, model := "qa", "a1"
			if i%2 == 1 {
				task = "sum"
			}
			if task == "qa" && d >= 5 && r.IntN(2) == 0 {
				model = "a2"
			}
			if task == "sum" {
				model = "b1"
				if d >= 7 {
					model = "b2"
				}
			}
			pDown, lat := 0.15, math.Exp(6+0.5*r.NormFloat64())
			if model == "b2" {
				pDown += regress
				lat *= 1 + 2*regress
			}
			th := up
			if r.Float64() < pDown {
				th = down
			}
			s := sum{
				ID: fmt.Sprintf("w%d-%d", d, i), Time: base.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*time.Minute),
				Model: model, Segment: segs[r.IntN(3)], Task: task, Thumb: th,
				Escalated: r.Float64() < 0.05, PolicyViolation: r.Float64() < 0.01,
				LatencyMS: float32(lat), Resolved: -1, Confidence: -1,
			}
			if th == down && r.IntN(3) == 0 {
				s.Reasons = []string{"factual_error"}
			}
			out = append(out, s)
		}
	}
	return out
}

// anyChange guards every kind of metric with a threshold of (almost)
// nothing, so that only the significance test stands between noise and an
// alert.
var anyChange = Policy{Guards: []Guardrail{
	{Metric: ThumbsDownRate, Alert: 1e-9, Rollback: 1e-9},
	{Metric: EscalationRate, Alert: 1e-9, Rollback: 1e-9},
	{Metric: PolicyViolationRate, Alert: 1e-9, Rollback: 1e-9},
	{Metric: "reason:factual_error", Alert: 1e-9, Rollback: 1e-9},
	{Metric: LatencyP95, Alert: 1e-9, Rollback: 1e-9},
	{Metric: LatencyP50, Alert: 1e-9, Rollback: 1e-9},
}}

func TestAlertsFalseAlarmRate(t *testing.T) {
	// No real change anywhere: over many seeds, the share of seeds with
	// any alert at all (the family-wise rate, which Benjamini–Hochberg
	// bounds by alpha when nothing changed) stays at or below alpha, and
	// so does the share of the slices compared that alert.
	seeds := 200
	if testing.Short() {
		seeds = 60
	}
	for _, alpha := range []float64{0.05, 0.2} {
		p := anyChange
		p.Alpha = alpha
		withAlert, alerts, slices := 0, 0, 0
		for seed := range seeds {
			items := world(uint64(seed), 0)
			got := Alerts(Data{Items: items}, p, day13)
			if len(got) > 0 {
				withAlert++
			}
			alerts += len(got)
			// Slices compared per guardrail: 5 versions... counted from
			// the data: all + 3 segments + 2 tasks + 4 models windows, and
			// 2 version comparisons.
			slices += len(p.Guards) * (1 + 3 + 2 + 4 + 2)
		}
		rate := float64(withAlert) / float64(seeds)
		t.Logf("alpha %v: %d of %d seeds alerted (%.3f); %d alerts of %d slices", alpha, withAlert, seeds, rate, alerts, slices)
		if rate > alpha {
			t.Errorf("alpha %v: %d of %d seeds with a false alarm (%.3f > alpha)", alpha, withAlert, seeds, rate)
		}
		if share := float64(alerts) / float64(slices); share > alpha {
			t.Errorf("alpha %v: %.4f of slices alerted", alpha, share)
		}
	}
}

func TestAlertsFindPlantedRegression(t *testing.T) {
	// b2 replaces b1 with 10 pp more thumbs-down and 20% more latency:
	// found on (nearly) every seed, as a rollback to b1; an unchanged
	// version is rolled back no more often than false alarms allow.
	found, foundLat, wrong := 0, 0, 0
	seeds := 40
	for seed := range seeds {
		items := world(uint64(1000+seed), 0.1)
		for _, a := range Alerts(Data{Items: items}, anyChange, day13) {
			if a.Action == ActionRollBack && a.Key != "model:b2" {
				t.Logf("seed %d: rolled back an unchanged version: %s", seed, a.Message)
				wrong++
			}
			if a.Action == ActionRollBack && a.Key == "model:b2" && a.RollbackTo == "b1" {
				switch a.Metric {
				case ThumbsDownRate:
					found++
				case LatencyP95:
					foundLat++
				}
			}
		}
	}
	t.Logf("found the thumbs-down regression on %d of %d seeds, the latency one on %d", found, seeds, foundLat)
	if wrong > seeds/10 {
		t.Errorf("%d wrong rollbacks in %d seeds", wrong, seeds)
	}
	if found < seeds*9/10 || foundLat < seeds*9/10 {
		t.Errorf("planted regression found on %d (thumbs) and %d (latency) of %d seeds", found, foundLat, seeds)
	}
}

func TestAlertsDemoRegression(t *testing.T) {
	// The demo data: sum-2026.11 is a canary that regresses against
	// sum-2026.10. It is the one rollback, back to sum-2026.10.
	o := gen.Options{N: 20000, Seed: 1}
	var items []sum
	err := gen.Generate(o, func(line []byte) error {
		in, err := loop.DecodeEvent(bytes.Clone(line)) // the line is reused
		if err != nil {
			return err
		}
		e, err := loop.Prepare(in, func(u string) string { return u })
		if err != nil {
			return nil // consent withheld: not stored
		}
		items = append(items, loop.Summarize(e))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var reg gen.ModelInfo
	for _, m := range gen.Models() {
		if m.Regressed {
			reg = m
		}
	}
	_, to := o.Span()
	p := Policy{Guards: []Guardrail{
		{Metric: ThumbsDownRate, Alert: 0.03, Rollback: 0.05, Window: 7},
		{Metric: PolicyViolationRate, Alert: 0.005, Rollback: 0.01, Window: 7},
		{Metric: EscalationRate, Alert: 0.03, Rollback: 0.05, Window: 7},
		{Metric: LatencyP95, Alert: 500, Rollback: 1000, Window: 7},
	}}
	got := Alerts(Data{Items: items}, p, to.Add(-time.Hour))
	t.Logf("%d events, %d alerts", len(items), len(got))
	var rollbacks []string
	for _, a := range got {
		t.Log(a.Label(), a.Message)
		if a.Action == ActionRollBack {
			rollbacks = append(rollbacks, a.Key+" -> "+a.RollbackTo)
		}
	}
	if len(rollbacks) == 0 || rollbacks[0] != "model:"+reg.Version+" -> sum-2026.10" {
		t.Fatalf("rollbacks %v, want model:%s -> sum-2026.10 first", rollbacks, reg.Version)
	}
	for _, r := range rollbacks {
		if !strings.HasPrefix(r, "model:"+reg.Version+" ") {
			t.Errorf("rolled back %s, which did not regress", r)
		}
	}
	if len(got) > 5 {
		t.Errorf("%d alerts on the demo: want a few", len(got))
	}
}

func TestBH(t *testing.T) {
	// Benjamini & Hochberg's own example values, m = 15 at q = 0.05: the
	// four smallest are rejected.
	p := []float64{0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0}
	rej, q := bh(p, 0.05)
	n := 0
	for _, r := range rej {
		if r {
			n++
		}
	}
	if n != 4 || !rej[3] || rej[4] {
		t.Fatalf("rejected %d: %v", n, rej)
	}
	if !near(q[0], 0.0015) || !near(q[14], 1) || q[3] > 0.05 || q[4] <= 0.05 {
		t.Errorf("q = %v", q)
	}
}

func TestPropTests(t *testing.T) {
	// Fisher's exact test, the tea-tasting table [[3,1],[1,3]]: two-sided
	// p = 0.4857.
	if p := fisher(1, 4, 4, 8); math.Abs(p-0.4857) > 1e-4 {
		t.Errorf("fisher = %v", p)
	}
	// Pooled z-test: 20/100 vs 30/100, z = 1.633, p = 0.1025.
	if p := propTest(20, 100, 30, 100); math.Abs(p-0.1025) > 1e-3 {
		t.Errorf("z-test p = %v", p)
	}
	if p := propTest(0, 100, 0, 100); p != 1 {
		t.Errorf("no events p = %v", p)
	}
	// Newcombe's example (his table II, 56/70 vs 48/80): 0.0524 to 0.3339
	// for p1 - p2.
	lo, hi := propDiffInterval(48, 80, 56, 70, 0.95)
	if math.Abs(lo-0.0524) > 5e-4 || math.Abs(hi-0.3339) > 5e-4 {
		t.Errorf("Newcombe interval [%v, %v]", lo, hi)
	}
}
