package report

import (
	"encoding/xml"
	"fmt"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/loop/trend"
)

// fixture: 14 days, v1 all along, v2 released on day 7 and worse;
// thumbs-down with reasons, some grades, two reviewers.
func fixture() Input {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var items []loop.Summary
	grades := map[string]loop.Grade{}
	var labels []loop.Label
	for d := range 14 {
		for i := range 40 {
			m := "v1"
			if d >= 7 && i%2 == 0 {
				m = "v2"
			}
			s := loop.Summary{ID: fmt.Sprintf("e%02d-%02d", d, i), Time: base.Add(time.Duration(d)*24*time.Hour + time.Duration(i)*time.Minute),
				Model: m, Segment: []string{"free", "pro"}[i%3%2], Task: "qa", Thumb: loop.ThumbUp,
				LatencyMS: float32(100 + 10*i), Resolved: -1, Confidence: -1}
			if i%10 == 0 || (m == "v2" && i%4 == 0) {
				s.Thumb, s.Reasons = loop.ThumbDown, []string{[]string{"factual_error", "too_long", "wrong_tone"}[i%3]}
			}
			items = append(items, s)
			if i%5 == 0 {
				g := loop.GradePass
				if s.Thumb == loop.ThumbDown {
					g = loop.GradeFail
				}
				grades[s.ID] = g
				labels = append(labels, loop.Label{EventID: s.ID, Reviewer: "ana", Grade: g, At: s.Time},
					loop.Label{EventID: s.ID, Reviewer: "bo", Grade: g, At: s.Time})
			}
		}
	}
	ex := map[string]Example{}
	for _, ids := range ExampleIDs(trend.Data{Items: items}, 14, base.AddDate(0, 0, 13)) {
		for _, id := range ids {
			ex[id] = Example{ID: id, Model: "v2", Task: "qa", Input: "What is <b>[email]</b>?", Output: "An *answer* | with | pipes"}
		}
	}
	return Input{Config: config.Default(), Items: items, Grades: grades, Labels: labels,
		Golden: []loop.SetEntry{{EventID: "e00-00", Kind: loop.SetGolden}}, Examples: ex,
		Days: 14, End: base.AddDate(0, 0, 13).Add(20 * time.Hour), Now: base.AddDate(0, 0, 14)}
}

func TestBuildUsesTrendNumbers(t *testing.T) {
	in := fixture()
	r := Build(in)
	if r.From != "2026-03-01" || r.To != "2026-03-14" || r.Events != 560 {
		t.Fatalf("window %s..%s, %d events", r.From, r.To, r.Events)
	}
	g := trend.GoalNow(in.Config.Goal.Trend(), trend.Data{Items: in.Items, Grades: in.Grades}, in.End)
	if r.Goal.Now != g.Now || r.Goal.N != g.N || r.Goal.Met != g.Met {
		t.Errorf("goal %+v, trend %+v", r.Goal, g)
	}
	// Every guardrail table is trend's LAST value per model version.
	for _, tb := range r.Guardrails {
		res, _ := trend.Compute(tb.Metric, trend.ByModel, 14, in.End, trend.Data{Items: in.Items, Grades: in.Grades})
		want := map[string]trend.Series{}
		for _, s := range res.Series {
			want[s.Key] = s
		}
		for _, row := range tb.Rows {
			if s := want[row.Key]; s.Last != row.Value || s.LastN != row.N {
				t.Errorf("%s/%s: report %v (n=%d), trends %v (n=%d)", tb.Metric, row.Key, row.Value, row.N, s.Last, s.LastN)
			}
		}
	}
	if len(r.Releases) != 1 || r.Releases[0].Model != "v2" || r.Releases[0].Day != "2026-03-08" || r.Releases[0].Index != 7 {
		t.Errorf("releases %+v", r.Releases)
	}
	if len(r.FailureExamples) != 3 || len(r.FailureExamples[0].Examples) != ExamplesPerReason {
		t.Errorf("examples %+v", r.FailureExamples)
	}
	if r.Agreement.Reviewers != 2 || len(r.Agreement.Pairs) != 1 || math.Abs(r.Agreement.MeanKappa-1) > 1e-9 {
		t.Errorf("agreement %+v", r.Agreement)
	}
	if r.Sets.Golden != 1 || r.Sets.GoldenByTask[0].Key != "qa" {
		t.Errorf("sets %+v", r.Sets)
	}
	var roll bool
	for _, a := range r.Alerts {
		roll = roll || a.Action == trend.ActionRollBack && a.Key == "model:v2" && a.RollbackTo == "v1"
	}
	if !roll {
		t.Errorf("no rollback of v2 in %+v", r.Alerts)
	}
}

var external = regexp.MustCompile(`(?i)<script|\b(src|href|xlink:href)\s*=|url\(|@import|https?://`)

func TestHTMLSelfContained(t *testing.T) {
	h := Build(fixture()).HTML()
	if m := external.FindString(h); m != "" {
		t.Fatalf("HTML has an external reference or script: %q", m)
	}
	for _, s := range []string{"<title>Feedback loop results, 2026-03-01 to 2026-03-14</title>", "@media print", "<svg", "ROLL BACK", "v2 to v1",
		"Why users turned thumbs down", "Segments", "Golden and red-flag coverage", "Reviewer agreement", "Examples of the top failure reasons",
		"Last gate: none recorded", "release v2 on 2026-03-08", "target 80.0%"} {
		if !strings.Contains(h, s) {
			t.Errorf("HTML lacks %q", s)
		}
	}
	// User text is escaped, never markup.
	if strings.Contains(h, "<b>[email]</b>") || !strings.Contains(h, "&lt;b&gt;[email]&lt;/b&gt;") {
		t.Error("example text not escaped")
	}
	// Every SVG is well-formed XML.
	for _, c := range Build(fixture()).Charts(true) {
		if err := xml.Unmarshal([]byte(c.SVG), new(struct{})); err != nil {
			t.Errorf("chart %s: %v", c.Name, err)
		}
		if !strings.Contains(c.SVG, `xmlns="http://www.w3.org/2000/svg"`) {
			t.Errorf("standalone chart %s lacks the SVG namespace", c.Name)
		}
	}
}

func TestMarkdownReferencesItsCharts(t *testing.T) {
	md, files := Build(fixture()).Markdown("pilot")
	refs := regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`).FindAllStringSubmatch(md, -1)
	if len(refs) != len(files) || len(files) < 4 {
		t.Fatalf("%d references, %d files", len(refs), len(files))
	}
	for _, m := range refs {
		if _, ok := files[m[1]]; !ok || strings.Contains(m[1], "/") {
			t.Errorf("reference %q: not a file beside the Markdown", m[1])
		}
	}
	if !strings.Contains(md, `An \*answer\* \| with \| pipes`) || strings.Contains(md, "<b>") {
		t.Error("example text not escaped for Markdown")
	}
}

func TestLineChartGaps(t *testing.T) {
	s := trend.Series{Points: []trend.Point{{Day: "2026-03-01", Value: 0.5, N: 3}, {Day: "2026-03-02", N: 0}, {Day: "2026-03-03", Value: 0.6, N: 2}, {Day: "2026-03-04", Value: 0.7, N: 2}}}
	svg := lineChart("t", trend.PassRate, s, 0.8, true, nil, false)
	// Day 2 has no data: the line breaks there (one polyline, for days 3-4),
	// and three points are drawn.
	if n := strings.Count(svg, "<polyline"); n != 1 {
		t.Errorf("%d polylines: %s", n, svg)
	}
	if n := strings.Count(svg, "<circle"); n != 3 {
		t.Errorf("%d points", n)
	}
}

func TestLateDataLine(t *testing.T) {
	in := fixture()
	if md, _ := Build(in).Markdown("p"); strings.Contains(md, "Late data") {
		t.Fatalf("late-data line without late signals:\n%s", md)
	}
	in.Late = []trend.LateDay{{Day: "2026-11-18", Signals: 5, Events: 3, Share: 0.1}, {Day: "2026-11-19", Signals: 2, Events: 2, Share: 0.05}}
	want := "Late data: 7 signals revised 2 past days after they ended (most recent 2026-11-19: 2); recent days may still move."
	r := Build(in)
	if md, _ := r.Markdown("p"); !strings.Contains(md, want) {
		t.Errorf("markdown lacks %q:\n%s", want, md)
	}
	if h := r.HTML(); !strings.Contains(h, want) {
		t.Errorf("html lacks %q", want)
	}
}

// sampled splits the fixture as edge sampling would store it: the
// thumbs-down items and every third other kept in full, the rest only in
// the aggregates; and the same interactions all stored, with the grades of
// the kept ones only (the others were never stored, so never graded).
func sampled(in Input) (kept, whole Input) {
	kept, whole = in, in
	kept.Items, kept.Grades, kept.Rest = nil, map[string]loop.Grade{}, agg.New()
	for i, s := range in.Items {
		if s.Thumb == loop.ThumbDown || i%3 == 0 {
			kept.Items = append(kept.Items, s)
			if g, ok := in.Grades[s.ID]; ok {
				kept.Grades[s.ID] = g
			}
		} else {
			kept.Rest.Add(&in.Items[i], 1)
		}
	}
	whole.Grades = kept.Grades
	return kept, whole
}

// TestBuildCountsAggregates: the page built from the stored sample and
// the aggregates shows what it shows with every interaction stored, and
// says how many are stored in full.
func TestBuildCountsAggregates(t *testing.T) {
	in := fixture()
	// Latency is compared apart: the aggregates hold it to 0.5%.
	var guards []config.Guardrail
	for _, g := range in.Config.Guardrails.Metrics {
		if !trend.IsLatency(g.Metric) {
			guards = append(guards, g)
		}
	}
	in.Config.Guardrails.Metrics = guards
	kept, whole := sampled(in)
	got, want := Build(kept), Build(whole)
	same := func(r Report) string {
		return fmt.Sprintf("%d|%+v|%+v|%+v|%+v|%+v|%+v|%d|%+v|%+v|%+v", r.Events, r.Goal, r.GoalSeries, r.Releases, r.Alerts,
			r.Guardrails, r.Reasons, r.ThumbsDown, r.Moves, r.Segments, r.Sets.ByTask)
	}
	if g, w := same(got), same(want); g != w {
		t.Errorf("from the sample and aggregates:\n%s\nfrom everything:\n%s", g, w)
	}
	if len(want.Alerts) == 0 || len(want.Guardrails) == 0 {
		t.Fatal("the fixture has no alerts or guardrail rows: the comparison compares nothing")
	}
	if want.Sampled || !got.Sampled || got.Events != 560 || got.Stored != len(kept.Items) || got.Stored >= got.Events {
		t.Errorf("sampled %v/%v, %d events, %d stored (kept %d)", got.Sampled, want.Sampled, got.Events, got.Stored, len(kept.Items))
	}
	line := fmt.Sprintf("560 interactions, %d stored in full", len(kept.Items))
	if md, _ := got.Markdown("p"); !strings.Contains(md, line) {
		t.Errorf("markdown lacks %q", line)
	}
	if md, _ := want.Markdown("p"); strings.Contains(md, "stored in full") || !strings.Contains(md, "560 events") {
		t.Errorf("without aggregates the page changed:\n%s", md)
	}

	// The latency guardrail's rows: the same N, values within 0.5%.
	kept, whole = sampled(fixture())
	gl, wl := Build(kept), Build(whole)
	for i, tb := range wl.Guardrails {
		if !trend.IsLatency(tb.Metric) {
			continue
		}
		for j, row := range tb.Rows {
			g := gl.Guardrails[i].Rows[j]
			if g.Key != row.Key || g.N != row.N || math.Abs(g.Value-row.Value) > (agg.Accuracy+1e-6)*row.Value {
				t.Errorf("%s %s: %v over %d, want %v over %d", tb.Metric, row.Key, g.Value, g.N, row.Value, row.N)
			}
		}
	}
}
