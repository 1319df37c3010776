package trend

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
)

// aggFixture is n random interactions over 21 days: two product lines
// ("chat" with v1 then v2, which is worse; "sum" with s1), three segments
// and none, and a drift in escalations over the last week, so that the
// guardrails have something to find.
func aggFixture(r *rand.Rand, n int) ([]loop.Summary, map[string]loop.Grade) {
	start := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	items := make([]loop.Summary, n)
	grades := map[string]loop.Grade{}
	for i := range items {
		day := r.IntN(21)
		s := loop.Summary{
			ID:         fmt.Sprintf("e%05d", i),
			Time:       start.AddDate(0, 0, day).Add(time.Duration(r.IntN(86400)) * time.Second),
			Segment:    []string{"", "free", "pro", "team"}[r.IntN(4)],
			Task:       []string{"chat", "chat", "sum", ""}[r.IntN(4)],
			LatencyMS:  -1,
			Confidence: -1,
			Resolved:   int8(r.IntN(3) - 1),
		}
		worse := 0.0
		switch {
		case s.Task != "chat":
			s.Model = "s1"
		case day < 10 || (day < 14 && r.IntN(2) == 0):
			s.Model = "v1"
		default:
			s.Model, worse = "v2", 0.15
		}
		switch x := r.Float64(); {
		case x < 0.2+worse:
			s.Thumb = loop.ThumbDown
		case x < 0.6:
			s.Thumb = loop.ThumbUp
		}
		if s.Thumb == loop.ThumbDown && r.IntN(3) > 0 {
			// Duplicates too: an event counts once per code.
			s.Reasons = []string{"wrong", "slow", "tone", "wrong"}[r.IntN(2) : 2+r.IntN(3)]
		}
		s.Escalated = r.Float64() < 0.1+0.1*float64(max(0, day-13))/7
		s.Abandoned = r.IntN(8) == 0
		s.PolicyViolation = r.IntN(40) == 0
		if r.IntN(5) > 0 {
			s.LatencyMS = float32(5 + r.ExpFloat64()*400*(1+worse))
		}
		if r.IntN(4) == 0 {
			grades[s.ID] = []loop.Grade{loop.GradePass, loop.GradeFail, loop.GradeBorderline}[r.IntN(3)]
		}
		items[i] = s
	}
	return items, grades
}

// split keeps each item with probability keep: the kept ones and their
// grades, and a table of the rest, as edge sampling stores them.
func split(r *rand.Rand, items []loop.Summary, grades map[string]loop.Grade, keep float64) (Data, Data) {
	var kept []loop.Summary
	kg := map[string]loop.Grade{}
	rest := agg.New()
	for i := range items {
		if r.Float64() < keep {
			kept = append(kept, items[i])
			if g, ok := grades[items[i].ID]; ok {
				kg[items[i].ID] = g
			}
		} else {
			rest.Add(&items[i], 1)
		}
	}
	return Data{Items: kept, Grades: kg, Rest: rest}, Data{Items: items, Grades: kg}
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// closeLatency: a latency from the aggregates is its sketch bin's value,
// within agg.Accuracy of the value itself (and float32 rounding).
func closeLatency(got, want float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) == math.IsNaN(got)
	}
	return math.Abs(got-want) <= (agg.Accuracy+1e-6)*math.Abs(want)
}

var aggMetrics = append(append([]string{}, Metrics...), ReasonPrefix+"wrong", ReasonPrefix+"slow", ReasonPrefix+"tone")

// TestSampleAndAggregatesEqualEverything is the contract edge sampling
// relies on: computing on the kept interactions plus the aggregates of the
// others gives what computing on every interaction gives (with the grades
// of the kept ones: the others have none): exactly for every rate, within
// agg.Accuracy for latency percentiles.
func TestSampleAndAggregatesEqualEverything(t *testing.T) {
	for seed := range uint64(4) {
		r := rand.New(rand.NewPCG(seed, 16))
		items, grades := aggFixture(r, 3000)
		keep := []float64{0.05, 0.3, 0.7, 1}[seed]
		sampled, whole := split(r, items, grades, keep)
		if keep < 1 && sampled.Rest.Events() == 0 {
			t.Fatal("nothing aggregated: the test would test nothing")
		}
		if got, want := sampled.Interactions(), len(items); got != want {
			t.Errorf("seed %d: Interactions = %d, want %d", seed, got, want)
		}
		end := whole.Newest()
		if got := sampled.Newest(); dayIndex(got) != dayIndex(end) {
			t.Errorf("seed %d: Newest = %v, want the day of %v", seed, got, end)
		}
		for _, m := range aggMetrics {
			for _, by := range []string{ByAll, ByModel, BySegment, ByTask} {
				got, err := Compute(m, by, 28, end, sampled)
				if err != nil {
					t.Fatal(err)
				}
				want, _ := Compute(m, by, 28, end, whole)
				if !IsLatency(m) {
					if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
						t.Fatalf("seed %d keep %g: Compute(%s, %q):\n got %s\nwant %s", seed, keep, m, by, g, w)
					}
					continue
				}
				sameLatency(t, fmt.Sprintf("seed %d: Compute(%s, %q)", seed, m, by), got, want)
			}
			gv, gn := WindowValue(m, sampled, GoalDays, end)
			wv, wn := WindowValue(m, whole, GoalDays, end)
			if gn != wn || (IsLatency(m) && !closeLatency(gv, wv)) || (!IsLatency(m) && !(gv == wv || math.IsNaN(gv) && math.IsNaN(wv))) {
				t.Errorf("seed %d: WindowValue(%s) = %v over %d, want %v over %d", seed, m, gv, gn, wv, wn)
			}
			goal := Goal{Metric: m, Op: "<", Target: 0.3}
			if g, w := GoalNow(goal, sampled, end), GoalNow(goal, whole, end); !IsLatency(m) && jsonOf(t, g) != jsonOf(t, w) {
				t.Errorf("seed %d: GoalNow(%s) = %s, want %s", seed, m, jsonOf(t, g), jsonOf(t, w))
			}
		}
		gs, gn := ReasonShares(sampled, 28, end)
		ws, wn := ReasonShares(whole, 28, end)
		if gn != wn || jsonOf(t, gs) != jsonOf(t, ws) || len(ws) == 0 {
			t.Errorf("seed %d: ReasonShares = %s over %d, want %s over %d", seed, jsonOf(t, gs), gn, jsonOf(t, ws), wn)
		}
		if g, w := jsonOf(t, ReasonMoves(sampled, end)), jsonOf(t, ReasonMoves(whole, end)); g != w {
			t.Errorf("seed %d: ReasonMoves = %s, want %s", seed, g, w)
		}

		var guards []Guardrail
		for _, m := range aggMetrics {
			if !IsLatency(m) {
				guards = append(guards, Guardrail{Metric: m, Alert: 0.01, Rollback: 0.05, Window: 7})
			}
		}
		pol := Policy{Guards: guards}
		ga, wa := Alerts(sampled, pol, end), Alerts(whole, pol, end)
		if len(wa) == 0 {
			t.Fatalf("seed %d: no alerts on the whole data: the fixture lost its regressions", seed)
		}
		if g, w := jsonOf(t, ga), jsonOf(t, wa); g != w {
			t.Errorf("seed %d keep %g: Alerts:\n got %s\nwant %s", seed, keep, g, w)
		}
	}
}

// sameLatency: the same series, days and N; values within agg.Accuracy.
func sameLatency(t *testing.T, what string, got, want Result) {
	t.Helper()
	if len(got.Series) != len(want.Series) {
		t.Fatalf("%s: %d series, want %d", what, len(got.Series), len(want.Series))
	}
	for i, ws := range want.Series {
		gs := got.Series[i]
		if gs.Key != ws.Key || gs.LastN != ws.LastN || !closeLatency(gs.Last, ws.Last) {
			t.Fatalf("%s: series %s last %v over %d, want %s %v over %d", what, gs.Key, gs.Last, gs.LastN, ws.Key, ws.Last, ws.LastN)
		}
		for j, wp := range ws.Points {
			gp := gs.Points[j]
			if gp.Day != wp.Day || gp.N != wp.N || !closeLatency(gp.Value, wp.Value) {
				t.Fatalf("%s: %s %s = %v over %d, want %v over %d", what, ws.Key, wp.Day, gp.Value, gp.N, wp.Value, wp.N)
			}
		}
	}
}

// TestLatencyAlertFromAggregates: a release that doubles latency is found
// to roll back whether its interactions are stored or only aggregated, with
// the same sample sizes and values within agg.Accuracy.
func TestLatencyAlertFromAggregates(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	items, grades := aggFixture(r, 4000)
	for i := range items {
		if items[i].Model == "v2" && items[i].LatencyMS >= 0 {
			items[i].LatencyMS *= 2
		}
	}
	sampled, whole := split(r, items, grades, 0.1)
	end := whole.Newest()
	pol := Policy{Guards: []Guardrail{{Metric: LatencyP50, Alert: 50, Rollback: 100}, {Metric: LatencyP95, Alert: 50, Rollback: 100}}}
	ga, wa := Alerts(sampled, pol, end), Alerts(whole, pol, end)
	find := func(as []Alert, metric string) *Alert {
		for i := range as {
			if as[i].Metric == metric && as[i].Key == "model:v2" && as[i].Action == ActionRollBack {
				return &as[i]
			}
		}
		return nil
	}
	for _, m := range []string{LatencyP50, LatencyP95} {
		g, w := find(ga, m), find(wa, m)
		if w == nil {
			t.Fatalf("%s: no rollback of v2 on the whole data: %s", m, jsonOf(t, wa))
		}
		if g == nil {
			t.Fatalf("%s: no rollback of v2 from the sample and aggregates: %s", m, jsonOf(t, ga))
		}
		if g.ID != w.ID || g.NBefore != w.NBefore || g.NAfter != w.NAfter || g.RollbackTo != w.RollbackTo ||
			!closeLatency(g.Before, w.Before) || !closeLatency(g.After, w.After) {
			t.Errorf("%s: got %s\nwant %s", m, jsonOf(t, g), jsonOf(t, w))
		}
	}
}

// TestEmptyRestChangesNothing: a nil table and an empty one give the same
// bytes as no table at all, and pass_rate never reads the aggregates.
func TestEmptyRestChangesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	items, grades := aggFixture(r, 800)
	end := Data{Items: items}.Newest()
	for _, m := range aggMetrics {
		a, _ := Compute(m, ByModel, 28, end, Data{Items: items, Grades: grades})
		b, _ := Compute(m, ByModel, 28, end, Data{Items: items, Grades: grades, Rest: agg.New()})
		if jsonOf(t, a) != jsonOf(t, b) {
			t.Errorf("%s: an empty table changed the result", m)
		}
	}
	// pass_rate over (kept, table of the rest) is pass_rate over the kept
	// alone: the aggregated interactions have no grades.
	sampled, _ := split(r, items, grades, 0.5)
	a, _ := Compute(PassRate, ByAll, 28, end, sampled)
	b, _ := Compute(PassRate, ByAll, 28, end, Data{Items: sampled.Items, Grades: sampled.Grades})
	if jsonOf(t, a) != jsonOf(t, b) || len(a.Series) == 0 {
		t.Errorf("pass_rate read the aggregates: %s vs %s", jsonOf(t, a), jsonOf(t, b))
	}
}

// TestNewestCoversAggregatedDays: when the newest day has only aggregated
// interactions (none kept), the window still ends on it.
func TestNewestCoversAggregatedDays(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 11, d, 15, 0, 0, 0, time.UTC) }
	kept := []loop.Summary{{ID: "a", Time: day(3), Thumb: loop.ThumbDown, LatencyMS: -1, Resolved: -1}}
	rest := agg.New()
	rest.Add(&loop.Summary{ID: "b", Time: day(5), Thumb: loop.ThumbUp, LatencyMS: -1, Resolved: -1}, 1)
	d := Data{Items: kept, Rest: rest}
	if got, want := d.Newest(), time.Date(2026, 11, 5, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("Newest = %v, want %v", got, want)
	}
	if got := (Data{Items: kept}).Newest(); !got.Equal(day(3)) {
		t.Fatalf("Newest without aggregates = %v, want the item's time %v", got, day(3))
	}
	if (Data{}).Newest() != (time.Time{}) {
		t.Fatal("Newest of nothing is not zero")
	}
	res, _ := Compute(ThumbsDownRate, ByAll, 3, d.Newest(), d)
	if len(res.Series) != 1 || res.Series[0].Points[0].N != 1 || res.Series[0].Points[2].N != 1 ||
		res.Series[0].Points[2].Value != 0 || res.Series[0].LastN != 2 || res.Series[0].Last != 0.5 {
		t.Fatalf("got %s", jsonOf(t, res))
	}
}
