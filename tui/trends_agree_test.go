package tui

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/loop/report"
	"github.com/loupe-dev/loupe/loop/trend"
)

// TestTrendsScreenAgreesWithReport: for the same metric and window the
// Trends screen shows, per model version, the value `loupe report` shows
// (and `loupe trends` prints: trend.Series.Last; cmd/loupe's
// TestTrendsAndReportAgree checks the CLI against the report), and the
// same goal value and alerts. Latency is the case that drifted: the screen
// showed the last day, the CLI the 7-day pool.
func TestTrendsScreenAgreesWithReport(t *testing.T) {
	st, _ := openStore(t, nEvents)
	seedReviewLoop(t, st)
	h := newHarness(t, st, 200, 60)
	tr := h.m.screens[screenTrends].(*trendsView)
	h.press("tab", "tab", "tab")
	if tr.ov == nil || tr.ov.end.IsZero() {
		t.Fatal("no overview")
	}
	var labels []loop.Label
	if err := st.AllLabels(func(l loop.Label) error { labels = append(labels, l); return nil }); err != nil {
		t.Fatal(err)
	}
	cfg := config.Default()
	rep := report.Build(report.Input{Config: cfg, Items: h.m.ws.items.Summaries(), Grades: tr.ov.grades, Labels: labels,
		Days: trendDays, End: tr.ov.end, Now: tr.ov.end})

	if rep.Goal.Now != tr.ov.goalNow || rep.Goal.Met != tr.ov.goalMet {
		t.Errorf("goal: screen %v %v, report %v %v", tr.ov.goalNow, tr.ov.goalMet, rep.Goal.Now, rep.Goal.Met)
	}
	if len(rep.Alerts) != len(tr.ov.alerts) {
		t.Fatalf("alerts: screen %d, report %d", len(tr.ov.alerts), len(rep.Alerts))
	}
	for i := range rep.Alerts {
		if rep.Alerts[i].ID != tr.ov.alerts[i].ID {
			t.Errorf("alert %d: screen %s, report %s", i, tr.ov.alerts[i].ID, rep.Alerts[i].ID)
		}
	}

	compared := 0
	for _, tb := range rep.Guardrails {
		tr.metric, tr.picked, tr.split = slices.Index(tr.metrics, tb.Metric), true, 0 // by model
		h.run(tr.computeDetail())
		v := plain(h.m)
		for _, row := range tb.Rows {
			want := trend.Format(tb.Metric, row.Value)
			// "  <key> <sparkline> <last 7d> <n>"
			cell := regexp.MustCompile(`\s` + regexp.QuoteMeta(want) + `\s+` + regexp.QuoteMeta(thousands(row.N)) + `(\s|$)`)
			found := false
			for _, line := range strings.Split(v, "\n") {
				if f := strings.Fields(line); len(f) >= 3 && f[0] == row.Key && cell.MatchString(line) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %s: report %s (n=%d), not on the screen:\n%s", tb.Metric, row.Key, want, row.N, v)
			}
			compared++
		}
	}
	if compared < 6 {
		t.Fatalf("only %d values compared", compared)
	}
}
