package trend

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
)

func near(got, want float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= 1e-9
}

type sum = loop.Summary

func ev(id, at, model, seg, task string, thumb loop.Thumb, lat float32, resolved int8, reasons ...string) sum {
	t, err := time.Parse(time.RFC3339Nano, at)
	if err != nil {
		panic(err)
	}
	return sum{ID: id, Time: t, Model: model, Segment: seg, Task: task, Thumb: thumb,
		Reasons: reasons, LatencyMS: lat, Resolved: resolved, Confidence: -1}
}

const (
	up   = loop.ThumbUp
	down = loop.ThumbDown
	none = loop.ThumbNone
)

// fixture: day 0 is 2025-03-10, day 1 2025-03-11 (UTC).
func fixture() []sum {
	e1 := ev("e1", "2025-03-10T08:00:00Z", "v1", "free", "qa", down, 100, 1, "factual_error")
	e1.Escalated = true
	e2 := ev("e2", "2025-03-10T09:00:00Z", "v1", "pro", "qa", up, 200, 0)
	e3 := ev("e3", "2025-03-10T10:00:00Z", "v2", "free", "summarization", down, 300, -1, "tone", "factual_error")
	e3.Abandoned, e3.PolicyViolation = true, true
	e4 := ev("e4", "2025-03-10T00:00:00Z", "v2", "", "summarization", none, -1, 1)
	// 01:00 at +02:00 is 23:00 UTC the day before: day 0.
	e10 := ev("e10", "2025-03-11T01:00:00+02:00", "v1", "pro", "qa", up, 600, -1)
	e5 := ev("e5", "2025-03-11T00:00:00Z", "v1", "free", "qa", down, 400, -1, "tone")
	e6 := ev("e6", "2025-03-11T12:00:00Z", "v1", "free", "qa", up, 500, -1)
	e6.Escalated = true
	e9 := ev("e9", "2025-03-11T23:59:59.999Z", "v2", "pro", "qa", down, 700, -1)
	// Outside a two-day window ending 2025-03-11.
	e7 := ev("e7", "2025-03-09T23:59:59Z", "v1", "free", "qa", down, 50, -1)
	e8 := ev("e8", "2025-03-12T00:00:00Z", "v1", "free", "qa", down, 50, -1)
	return []sum{e1, e2, e3, e4, e10, e5, e6, e9, e7, e8}
}

var fixtureGrades = map[string]loop.Grade{
	"e1": loop.GradePass, "e2": loop.GradeFail, "e3": loop.GradeBorderline,
	"e5": loop.GradePass, "e7": loop.GradePass, "nope": loop.GradeFail,
}

var fixtureEnd = time.Date(2025, 3, 11, 12, 0, 0, 0, time.UTC)

type pt struct {
	v float64
	n int
}

func checkSeries(t *testing.T, res Result, want map[string][]pt, days []string) {
	t.Helper()
	if len(res.Series) != len(want) {
		t.Fatalf("%s: %d series %+v, want keys %v", res.Metric, len(res.Series), res.Series, want)
	}
	prev := ""
	for _, s := range res.Series {
		if s.Key <= prev {
			t.Errorf("series not sorted: %q after %q", s.Key, prev)
		}
		prev = s.Key
		w, ok := want[s.Key]
		if !ok {
			t.Fatalf("%s: unexpected series %q", res.Metric, s.Key)
		}
		if len(s.Points) != len(w) {
			t.Fatalf("%s/%s: %d points, want %d", res.Metric, s.Key, len(s.Points), len(w))
		}
		for i, p := range s.Points {
			if p.Day != days[i] || p.N != w[i].n || !near(p.Value, w[i].v) {
				t.Errorf("%s/%s point %d = %+v, want {%s %v %d}", res.Metric, s.Key, i, p, days[i], w[i].v, w[i].n)
			}
		}
	}
}

func TestComputeEveryMetric(t *testing.T) {
	days := []string{"2025-03-10", "2025-03-11"}
	cases := []struct {
		metric string
		want   []pt
	}{
		// Day 0 thumbs: e1 down, e2 up, e3 down, e10 up. Day 1: e5 down, e6 up, e9 down.
		{ThumbsDownRate, []pt{{0.5, 4}, {2.0 / 3, 3}}},
		// Graded: day 0 e1 pass, e2 fail, e3 borderline; day 1 e5 pass.
		{PassRate, []pt{{1.0 / 3, 3}, {1, 1}}},
		// Every event counts: day 0 has 5 events, day 1 has 3.
		{EscalationRate, []pt{{0.2, 5}, {1.0 / 3, 3}}},
		{AbandonRate, []pt{{0.2, 5}, {0, 3}}},
		{PolicyViolationRate, []pt{{0.2, 5}, {0, 3}}},
		// Resolved set: day 0 e1 true, e2 false, e4 true; none on day 1.
		{ResolutionRate, []pt{{2.0 / 3, 3}, {0, 0}}},
		// Latencies day 0: 100 200 300 600 (e4 has none); day 1: 400 500 700.
		// p50: h = 1.5 -> 250; h = 1 -> 500.
		{LatencyP50, []pt{{250, 4}, {500, 3}}},
		// p95: h = 2.85 -> 300 + 0.85*300 = 555; h = 1.9 -> 500 + 0.9*200 = 680.
		{LatencyP95, []pt{{555, 4}, {680, 3}}},
		// Thumbs-down events: day 0 e1 (factual_error), e3 (tone,
		// factual_error); day 1 e5 (tone), e9 (none).
		{"reason:factual_error", []pt{{1, 2}, {0, 2}}},
		{"reason:tone", []pt{{0.5, 2}, {0.5, 2}}},
	}
	for _, c := range cases {
		t.Run(c.metric, func(t *testing.T) {
			res, err := Compute(c.metric, "", 2, fixtureEnd, Data{Items: fixture(), Grades: fixtureGrades})
			if err != nil {
				t.Fatal(err)
			}
			if res.Metric != c.metric {
				t.Errorf("metric = %q", res.Metric)
			}
			checkSeries(t, res, map[string][]pt{AllKey: c.want}, days)
		})
	}
}

func TestComputeBy(t *testing.T) {
	days := []string{"2025-03-10", "2025-03-11"}
	cases := []struct {
		metric, by string
		want       map[string][]pt
	}{
		{ThumbsDownRate, ByModel, map[string][]pt{
			"v1": {{1.0 / 3, 3}, {0.5, 2}}, // e1 d, e2 u, e10 u | e5 d, e6 u
			"v2": {{1, 1}, {1, 1}},         // e3 d | e9 d
		}},
		{ThumbsDownRate, BySegment, map[string][]pt{
			"free": {{1, 2}, {0.5, 2}}, // e1 d, e3 d | e5 d, e6 u
			"pro":  {{0, 2}, {1, 1}},   // e2 u, e10 u | e9 d
			// e4 has no segment and no thumb: no data, no series.
		}},
		{EscalationRate, BySegment, map[string][]pt{
			"free":  {{0.5, 2}, {0.5, 2}},
			"pro":   {{0, 2}, {0, 1}},
			NoneKey: {{0, 1}, {0, 0}}, // e4
		}},
		{ThumbsDownRate, ByTask, map[string][]pt{
			"qa":            {{1.0 / 3, 3}, {2.0 / 3, 3}},
			"summarization": {{1, 1}, {0, 0}},
		}},
		{PassRate, ByModel, map[string][]pt{
			"v1": {{0.5, 2}, {1, 1}}, // e1 P, e2 F | e5 P
			"v2": {{0, 1}, {0, 0}},   // e3 borderline
		}},
		{LatencyP50, ByModel, map[string][]pt{
			"v1": {{200, 3}, {450, 2}}, // 100 200 600 | 400 500
			"v2": {{300, 1}, {700, 1}},
		}},
	}
	for _, c := range cases {
		t.Run(c.metric+"/"+c.by, func(t *testing.T) {
			res, err := Compute(c.metric, c.by, 2, fixtureEnd, Data{Items: fixture(), Grades: fixtureGrades})
			if err != nil {
				t.Fatal(err)
			}
			checkSeries(t, res, c.want, days)
		})
	}
}

func TestComputeWindow(t *testing.T) {
	// One day: only 2025-03-11 (end's UTC day), through 23:59:59.999.
	res, err := Compute(ThumbsDownRate, "", 1, fixtureEnd, Data{Items: fixture()})
	if err != nil {
		t.Fatal(err)
	}
	checkSeries(t, res, map[string][]pt{AllKey: {{2.0 / 3, 3}}}, []string{"2025-03-11"})

	// Three days reach back to 2025-03-09: e7 at 23:59:59Z is in, e8 (the
	// next day after end) stays out.
	res, _ = Compute(ThumbsDownRate, "", 3, fixtureEnd, Data{Items: fixture()})
	checkSeries(t, res, map[string][]pt{AllKey: {{1, 1}, {0.5, 4}, {2.0 / 3, 3}}},
		[]string{"2025-03-09", "2025-03-10", "2025-03-11"})

	// end given in another zone: its UTC day counts. 2025-03-12T01:00+03:00
	// is 2025-03-11T22:00Z.
	east := time.FixedZone("east", 3*3600)
	res, _ = Compute(ThumbsDownRate, "", 1, time.Date(2025, 3, 12, 1, 0, 0, 0, east), Data{Items: fixture()})
	checkSeries(t, res, map[string][]pt{AllKey: {{2.0 / 3, 3}}}, []string{"2025-03-11"})

	// A window with no data: no series, but a valid (empty) result.
	res, _ = Compute(ThumbsDownRate, ByModel, 5, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), Data{Items: fixture()})
	if len(res.Series) != 0 || res.Series == nil {
		t.Fatalf("series = %#v, want empty non-nil", res.Series)
	}
}

func TestComputeErrors(t *testing.T) {
	for _, c := range []struct {
		metric, by string
		days       int
	}{
		{"bogus", "", 7},
		{"reason:", "", 7},
		{ThumbsDownRate, "locale", 7},
		{ThumbsDownRate, "", 0},
	} {
		if _, err := Compute(c.metric, c.by, c.days, fixtureEnd, Data{Items: fixture()}); err == nil {
			t.Errorf("Compute(%q, %q, %d): no error", c.metric, c.by, c.days)
		}
	}
}

func TestResultJSON(t *testing.T) {
	items := []sum{
		ev("a", "2025-03-11T10:00:00Z", "v1", "", "", down, -1, -1),
		ev("b", "2025-03-11T11:00:00Z", "v1", "", "", up, -1, -1),
	}
	res, err := Compute(ThumbsDownRate, ByModel, 2, fixtureEnd, Data{Items: items})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"metric":"thumbs_down_rate","series":[{"key":"v1","points":[{"day":"2025-03-10","value":null,"n":0},{"day":"2025-03-11","value":0.5,"n":2}],"last":0.5,"last_n":2}]}`
	if string(b) != want {
		t.Fatalf("json:\n%s\nwant\n%s", b, want)
	}
	v := res.Series[0].Values()
	if !math.IsNaN(v[0]) || v[1] != 0.5 {
		t.Fatalf("Values = %v", v)
	}
}

func TestKnown(t *testing.T) {
	codes := []string{"factual_error", "tone"}
	for m, want := range map[string]bool{
		ThumbsDownRate: true, PassRate: true, LatencyP95: true, ResolutionRate: true,
		"reason:tone": true, "reason:rude": false, "reason:": false, "tone": false, "": false,
	} {
		if got := Known(m, codes); got != want {
			t.Errorf("Known(%q) = %v, want %v", m, got, want)
		}
	}
}

func TestSparkline(t *testing.T) {
	nan := math.NaN()
	for _, c := range []struct {
		in   []float64
		want string
	}{
		{[]float64{0, 1, 2, 3, 4, 5, 6, 7}, "▁▂▃▄▅▆▇█"},
		{[]float64{7, 6, 5, 4, 3, 2, 1, 0}, "█▇▆▅▄▃▂▁"},
		{[]float64{0.1, nan, 0.3, math.Inf(1), 0.2}, "▁ █ ▅"},
		{[]float64{0.5, 0.5, nan}, "▄▄ "},
		{[]float64{nan, nan}, "  "},
		{nil, ""},
		{[]float64{100, 1000}, "▁█"},
	} {
		if got := Sparkline(c.in); got != c.want {
			t.Errorf("Sparkline(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestGoalStatus(t *testing.T) {
	// Two days: 4 of 7 thumbs down = 0.5714.
	now, met := GoalStatus(Goal{ThumbsDownRate, "<=", 0.5}, Data{Items: fixture()}, 2, fixtureEnd)
	if !near(now, 4.0/7) || met {
		t.Errorf("<= 0.5: now=%v met=%v", now, met)
	}
	if _, met := GoalStatus(Goal{ThumbsDownRate, ">", 0.5}, Data{Items: fixture()}, 2, fixtureEnd); !met {
		t.Error("> 0.5 not met")
	}
	// pass_rate over both days: e1 P, e2 F, e3 B, e5 P = 0.5.
	now, met = GoalStatus(Goal{PassRate, ">=", 0.5}, Data{Items: fixture(), Grades: fixtureGrades}, 2, fixtureEnd)
	if !near(now, 0.5) || !met {
		t.Errorf("pass_rate: now=%v met=%v", now, met)
	}
	// Latency p95 over one sample of both days: 100 200 300 400 500 600 700:
	// h = 5.7 -> 600 + 0.7*100 = 670.
	now, met = GoalStatus(Goal{LatencyP95, "<", 800}, Data{Items: fixture()}, 2, fixtureEnd)
	if !near(now, 670) || !met {
		t.Errorf("p95: now=%v met=%v", now, met)
	}
	if now, met := GoalStatus(Goal{ThumbsDownRate, "<", 1}, Data{}, 7, fixtureEnd); !math.IsNaN(now) || met {
		t.Errorf("no data: now=%v met=%v", now, met)
	}
	if _, met := GoalStatus(Goal{ThumbsDownRate, "~", 1}, Data{Items: fixture()}, 2, fixtureEnd); met {
		t.Error("unknown op met")
	}
}

func TestGrades(t *testing.T) {
	at := func(m int) time.Time { return fixtureEnd.Add(time.Duration(m) * time.Minute) }
	labels := []loop.Label{
		// e1: two pass, one fail -> pass.
		{EventID: "e1", Reviewer: "a", Grade: loop.GradePass, At: at(0)},
		{EventID: "e1", Reviewer: "b", Grade: loop.GradePass, At: at(1)},
		{EventID: "e1", Reviewer: "c", Grade: loop.GradeFail, At: at(2)},
		// e2: tie pass/fail -> the most recent (fail).
		{EventID: "e2", Reviewer: "a", Grade: loop.GradePass, At: at(0)},
		{EventID: "e2", Reviewer: "b", Grade: loop.GradeFail, At: at(5)},
		// e3: a's later label replaces the earlier one.
		{EventID: "e3", Reviewer: "a", Grade: loop.GradeFail, At: at(0)},
		{EventID: "e3", Reviewer: "a", Grade: loop.GradeBorderline, At: at(1)},
		// e4: undone -> ungraded.
		{EventID: "e4", Reviewer: "a", Grade: loop.GradeFail, At: at(0)},
		{EventID: "e4", Reviewer: "a", Deleted: true, At: at(1)},
	}
	got := Grades(labels)
	want := map[string]loop.Grade{"e1": loop.GradePass, "e2": loop.GradeFail, "e3": loop.GradeBorderline}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Grades = %v, want %v", got, want)
	}
}

// rollout builds thumbs events: for each day d in [from, to], n events of
// model with the first down of them thumbs-down.
func rollout(model string, from, to, n, downs int) []sum {
	base := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	var out []sum
	for d := from; d <= to; d++ {
		for i := range n {
			th := up
			if i < downs {
				th = down
			}
			out = append(out, sum{
				ID:    fmt.Sprintf("%s-%d-%d", model, d, i),
				Time:  base.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*time.Minute),
				Model: model, Segment: "pro", Task: "qa", Thumb: th,
				LatencyMS: -1, Resolved: -1, Confidence: -1,
			})
		}
	}
	return out
}

// synth makes n summaries over 30 days, 6 model versions, 3 segments, 5
// tasks, roughly as loupe gen does.
func synth(n int) ([]sum, map[string]loop.Grade) {
	r := rand.New(rand.NewPCG(1, 2))
	models := []string{"v1.0", "v1.1", "v1.2", "v2.0", "v2.1", "v2.2"}
	segs := []string{"free", "pro", "enterprise"}
	tasks := []string{"summarization", "qa", "recommendation", "support", "transcription"}
	reasons := [][]string{nil, {"factual_error"}, {"tone", "too_long"}, {"off_topic"}}
	base := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
	items := make([]sum, n)
	grades := make(map[string]loop.Grade, n/100)
	for i := range items {
		th := loop.Thumb(r.IntN(3) - 1)
		s := sum{
			ID:        fmt.Sprintf("ev-%08d", i),
			Time:      base.Add(time.Duration(r.Int64N(int64(30 * 24 * time.Hour)))),
			Model:     models[r.IntN(len(models))],
			Segment:   segs[r.IntN(len(segs))],
			Task:      tasks[r.IntN(len(tasks))],
			Thumb:     th,
			Escalated: r.IntN(20) == 0,
			Abandoned: r.IntN(15) == 0,
			LatencyMS: float32(200 + r.ExpFloat64()*400),
			Resolved:  int8(r.IntN(3) - 1),
		}
		if th == down {
			s.Reasons = reasons[r.IntN(len(reasons))]
		}
		items[i] = s
		if i%100 == 0 {
			grades[s.ID] = []loop.Grade{loop.GradePass, loop.GradeFail, loop.GradeBorderline}[r.IntN(3)]
		}
	}
	return items, grades
}

func BenchmarkTrends1M(b *testing.B) {
	items, grades := synth(1_000_000)
	benchTrends(b, Data{Items: items, Grades: grades})
}

// BenchmarkTrends1MSampled is the same million interactions with 5% stored
// in full and the rest in the aggregates (edge sampling): the cost of
// reading the table, latency values expanded from the sketches included.
func BenchmarkTrends1MSampled(b *testing.B) {
	items, grades := synth(1_000_000)
	d := Data{Grades: grades, Rest: agg.New()}
	for i := range items {
		if i%20 == 0 {
			d.Items = append(d.Items, items[i])
		} else {
			d.Rest.Add(&items[i], 1)
		}
	}
	benchTrends(b, d)
}

func benchTrends(b *testing.B, d Data) {
	end := time.Date(2025, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct{ metric, by string }{
		{ThumbsDownRate, ByModel},
		{ThumbsDownRate, ByAll},
		{PassRate, BySegment},
		{"reason:factual_error", ByTask},
		{LatencyP95, ByModel},
	} {
		b.Run(c.metric+"/"+c.by, func(b *testing.B) {
			cpu0 := cpuTime()
			for b.Loop() {
				if _, err := Compute(c.metric, c.by, 30, end, d); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, cpu0)
		})
	}
	b.Run("alerts", func(b *testing.B) {
		g := Policy{Guards: []Guardrail{{Metric: ThumbsDownRate, Alert: 0.05, Rollback: 0.1, Window: 7}}}
		cpu0 := cpuTime()
		for b.Loop() {
			Alerts(d, g, end)
		}
		reportCPU(b, cpu0)
	})
}

// reportCPU adds CPU milliseconds per operation (GC included) to the
// benchmark's output: on a shared, busy machine wall time overstates cost.
func reportCPU(b *testing.B, since time.Duration) {
	if d := cpuTime() - since; d > 0 {
		b.ReportMetric(float64(d.Microseconds())/1000/float64(b.N), "cpu-ms/op")
	}
}

func TestQuantileMatchesSort(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	ref := func(x []float32, q float64) float64 {
		s := slices.Clone(x)
		slices.Sort(s)
		h := float64(len(s)-1) * q
		lo := int(math.Floor(h))
		if lo >= len(s)-1 {
			return float64(s[len(s)-1])
		}
		return float64(s[lo]) + (h-float64(lo))*(float64(s[lo+1])-float64(s[lo]))
	}
	for trial := range 2000 {
		n := 1 + r.IntN(200)
		x := make([]float32, n)
		for i := range x {
			if trial%3 == 0 {
				x[i] = float32(r.IntN(5)) // many duplicates
			} else {
				x[i] = float32(r.Float64() * 1000)
			}
		}
		if trial%7 == 0 {
			slices.Sort(x) // sorted input
		}
		for _, q := range []float64{0, 0.5, 0.95, 1} {
			want := ref(x, q)
			if got := quantile(slices.Clone(x), q); got != want {
				t.Fatalf("quantile(%v, %v) = %v, want %v", x, q, got, want)
			}
		}
	}
}
