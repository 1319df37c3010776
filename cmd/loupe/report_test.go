package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop/trend"
)

// demoStore builds a demo store (generated events, labels, sets) in dir.
func demoStore(t *testing.T, dir string) string {
	t.Helper()
	cmd := exec.Command(loupeBin, "demo", "--build-only", "--dir", filepath.Join(dir, "demo"))
	cmd.Env = append(os.Environ(), "LOUPE_REVIEWER=tester")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// chromium finds the browser. In CI (CI=true) its absence fails the test:
// .ci/run installs it; on a dev machine without it the test skips.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (CI=true): .ci/run installs it with apt-get install -y chromium")
	}
	t.Skip("chromium not installed: apt-get install -y chromium to run the browser test")
	return ""
}

// browse runs headless chromium on a file with args, returning stdout.
func browse(t *testing.T, bin, file string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args = append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(), "--no-first-run"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(args, "file://"+file)...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.String())
	}
	return out.Bytes()
}

func screenshot(t *testing.T, bin, file string, w, h int) image.Image {
	t.Helper()
	shot := filepath.Join(t.TempDir(), "shot.png")
	browse(t, bin, file, "--screenshot="+shot, "--window-size="+itoa(w)+","+itoa(h))
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return img
}

func itoa(n int) string { return strconv.Itoa(n) }

// colorRows counts the pixels close to c and the rows they are in.
func colorRows(img image.Image, c [3]int) (pixels int, rows map[int]int) {
	rows = map[int]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			d := math.Abs(float64(r>>8)-float64(c[0])) + math.Abs(float64(g>>8)-float64(c[1])) + math.Abs(float64(bl>>8)-float64(c[2]))
			if d < 40 {
				pixels++
				rows[y]++
			}
		}
	}
	return pixels, rows
}

// luminanceStd is the standard deviation of the pixels' luminance: a blank
// page is 0.
func luminanceStd(img image.Image) float64 {
	var sum, sq, n float64
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 2 {
		for x := b.Min.X; x < b.Max.X; x += 2 {
			r, g, bl, _ := img.At(x, y).RGBA()
			l := 0.299*float64(r>>8) + 0.587*float64(g>>8) + 0.114*float64(bl>>8)
			sum += l
			sq += l * l
			n++
		}
	}
	m := sum / n
	return math.Sqrt(sq/n - m*m)
}

var (
	seriesBlue = [3]int{0x1f, 0x5f, 0xd6} // loop/report's colorSeries
	targetRed  = [3]int{0xd1, 0x2c, 0x2c} // colorTarget
)

// TestReportInBrowser writes the demo's report, checks it references
// nothing outside itself, opens it in headless Chromium and checks the
// screenshot: charts drawn (the series colour over many rows in several
// charts, the target line), titles in the DOM. The Markdown variant's
// charts render from their files beside it.
func TestReportInBrowser(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	st := demoStore(t, dir)
	page := filepath.Join(dir, "report.html")
	if r := run(t, nil, "report", "--store", st, "--out", page); r.code != 0 {
		t.Fatalf("report: %d %s", r.code, r.stderr)
	}
	html, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`(?i)<script|\b(src|href)\s*=|url\(|@import|https?://`).Find(html); m != nil {
		t.Fatalf("the page references something outside itself: %q", m)
	}

	dom := string(browse(t, bin, page, "--dump-dom"))
	for _, s := range []string{"<h1>Feedback loop results, 2026-10-24 to 2026-11-20</h1>", "<h2>Goal</h2>", "<h2>Alerts and what to do</h2>",
		"<h2>Guardrail metrics per model version</h2>", "<h2>Why users turned thumbs down</h2>", "<h2>Segments</h2>",
		"<h2>Golden and red-flag coverage</h2>", "<h2>Reviewer agreement</h2>", "<h2>Examples of the top failure reasons</h2>",
		"<figcaption>pass_rate per UTC day, 2026-10-24 to 2026-11-20</figcaption>", "ROLL BACK sum-2026.11 to sum-2026.10"} {
		if !strings.Contains(dom, s) {
			t.Errorf("rendered DOM lacks %q", s)
		}
	}

	img := screenshot(t, bin, page, 1200, 2000)
	if std := luminanceStd(img); std < 20 {
		t.Errorf("screenshot looks blank: luminance std %.1f", std)
	}
	blue, rows := colorRows(img, seriesBlue)
	red, _ := colorRows(img, targetRed)
	// The goal line, its points and the guardrail bars: thousands of
	// pixels of the series colour, spread over the page.
	lo, hi := math.MaxInt, 0
	for y := range rows {
		lo, hi = min(lo, y), max(hi, y)
	}
	t.Logf("series pixels %d over rows %d..%d (%d rows), target pixels %d", blue, lo, hi, len(rows), red)
	if blue < 5000 || len(rows) < 300 || hi-lo < 1000 {
		t.Errorf("charts not drawn: %d series pixels in %d rows (%d..%d)", blue, len(rows), lo, hi)
	}
	if red < 300 {
		t.Errorf("target line not drawn: %d pixels", red)
	}

	// Markdown: charts are files beside it, referenced by relative path,
	// and each renders on its own.
	md := filepath.Join(dir, "md", "pilot.md")
	os.MkdirAll(filepath.Dir(md), 0o755)
	if r := run(t, nil, "report", "--store", st, "--format", "md", "--out", md); r.code != 0 {
		t.Fatalf("report md: %d %s", r.code, r.stderr)
	}
	text, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	refs := regexp.MustCompile(`!\[[^\]]*\]\(([^)]+)\)`).FindAllStringSubmatch(string(text), -1)
	if len(refs) < 4 {
		t.Fatalf("%d chart references in the Markdown", len(refs))
	}
	for _, m := range refs {
		if filepath.IsAbs(m[1]) || strings.Contains(m[1], "/") {
			t.Errorf("reference %q is not relative to the Markdown", m[1])
		}
		if _, err := os.Stat(filepath.Join(filepath.Dir(md), m[1])); err != nil {
			t.Errorf("reference %q: %v", m[1], err)
		}
	}
	goal := screenshot(t, bin, filepath.Join(filepath.Dir(md), "pilot-goal.svg"), 800, 300)
	if n, _ := colorRows(goal, seriesBlue); n < 500 {
		t.Errorf("pilot-goal.svg renders %d series pixels", n)
	}
}

// TestTrendsAndReportAgree: for the same metric and window, `loupe trends
// --json` and the report show the same value per model version (the TUI
// side is tui's TestTrendsScreenAgreesWithReport).
func TestTrendsAndReportAgree(t *testing.T) {
	dir := t.TempDir()
	st := demoStore(t, dir)
	md := filepath.Join(dir, "r.md")
	if r := run(t, nil, "report", "--store", st, "--format", "md", "--out", md); r.code != 0 {
		t.Fatalf("report: %d %s", r.code, r.stderr)
	}
	for _, metric := range []string{trend.LatencyP95, trend.ThumbsDownRate, trend.PassRate} {
		r := run(t, nil, "trends", "--json", "--metric", metric, "--by", "model", "--store", st)
		var got struct {
			Series []struct {
				Key   string
				Last  *float64
				LastN int `json:"last_n"`
			}
			Goal   struct{ Now *float64 }
			Alerts []struct{ ID, Action string }
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
			t.Fatalf("trends: %d %v %s", r.code, err, r.stderr)
		}
		// Days before a version's release have no data: null, not 0.
		if !strings.Contains(r.stdout, `"value":null,"n":0`) || strings.Contains(r.stdout, `"value":0,"n":0`) {
			t.Errorf("trends --json: days without data are not null")
		}
		svg, err := os.ReadFile(filepath.Join(dir, "r-guardrail-"+metric+".svg"))
		if err != nil {
			t.Fatal(err)
		}
		compared := 0
		for _, s := range got.Series {
			if s.Last == nil {
				continue
			}
			// The bar's label: "<value> n=<n>".
			want := ">" + trend.Format(metric, *s.Last) + " n=" + itoa(s.LastN) + "<"
			if !strings.Contains(string(svg), ">"+s.Key+"<") || !strings.Contains(string(svg), want) {
				t.Errorf("%s %s: trends says %s, report chart lacks it", metric, s.Key, want)
			}
			compared++
		}
		if compared < 3 {
			t.Errorf("%s: only %d versions compared", metric, compared)
		}
		if metric == trend.PassRate {
			text, _ := os.ReadFile(md)
			if got.Goal.Now == nil || !strings.Contains(string(text), "it is "+trend.Format(metric, *got.Goal.Now)) {
				t.Errorf("goal now differs: trends %v", got.Goal.Now)
			}
			if len(got.Alerts) == 0 || !strings.Contains(string(text), got.Alerts[0].ID) {
				t.Errorf("alerts differ: trends %+v", got.Alerts)
			}
		}
	}
}

// TestReportShowsRecordedGate: gate --record stores its result; the
// report shows the last one; gate without --record touches no store.
func TestReportShowsRecordedGate(t *testing.T) {
	dir := t.TempDir()
	st := demoStore(t, dir)
	gold, red := filepath.Join(dir, "golden.jsonl"), filepath.Join(dir, "redflag.jsonl")
	for kind, f := range map[string]string{"golden": gold, "redflag": red} {
		if r := run(t, nil, "export", kind, "--store", st, "--out", f); r.code != 0 {
			t.Fatalf("export %s: %s", kind, r.stderr)
		}
	}
	r := run(t, nil, "gen", "--candidate", "regressed", "--sets", gold, "--sets", red)
	cand := filepath.Join(dir, "cand.jsonl")
	os.WriteFile(cand, []byte(r.stdout), 0o644)
	page := filepath.Join(dir, "r.html")
	if r := run(t, nil, "report", "--store", st, "--out", page); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if b, _ := os.ReadFile(page); !bytes.Contains(b, []byte("Last gate: none recorded")) {
		t.Error("a gate is shown before any was recorded")
	}
	if r := run(t, nil, "gate", "--candidate", cand, "--redflag", red, "--golden", gold, "--store", st); r.code != 1 {
		t.Fatalf("gate: %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, "report", "--store", st, "--out", page); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if b, _ := os.ReadFile(page); !bytes.Contains(b, []byte("Last gate: none recorded")) {
		t.Error("gate without --record recorded its result")
	}
	if r := run(t, nil, "gate", "--candidate", cand, "--redflag", red, "--golden", gold, "--record", "--store", st); r.code != 1 {
		t.Fatalf("gate --record: %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, "report", "--store", st, "--out", page); r.code != 0 {
		t.Fatal(r.stderr)
	}
	b, _ := os.ReadFile(page)
	if !regexp.MustCompile(`Last gate, \d{4}-\d\d-\d\d \d\d:\d\d UTC: FAIL — red-flag \d+ of \d+ passed, \d+ failures`).Match(b) {
		t.Errorf("recorded gate not shown:\n%s", b)
	}
}

func TestReportUsage(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--format", "pdf"}, `--format "pdf": want html or md`},
		{[]string{"--days", "0"}, `--days 0: want 1 to 3660`},
		{[]string{"--format", "md", "--out", "-"}, `give --out FILE.md`},
		{[]string{"--end", "yesterday"}, `--end "yesterday": want YYYY-MM-DD`},
	} {
		r := run(t, nil, append([]string{"report", "--store", st}, c.args...)...)
		if r.code != exitUsage || !strings.Contains(r.stderr, c.want) {
			t.Errorf("report %v: exit %d %q, want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}
