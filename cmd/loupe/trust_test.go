package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/loupe-dev/loupe/loop/export"
)

// Tests of issue 11's promises through the real binary: a gate that cannot
// pass on nothing, restores that survive kill -9, safe CSV, and "-" for
// stdin and stdout.

func writeFile(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A candidate that answers only the red-flag cases fails the gate: every
// unanswered golden case is a failure, in the text report and in JUnit,
// with the same count; --min-golden-coverage accepts less by choice.
func TestGateFailsOnUnansweredGolden(t *testing.T) {
	dir := t.TempDir()
	red := writeFile(t, filepath.Join(dir, "redflag.jsonl"),
		`{"event_id":"rf-1","set":"redflag","must_not_contain":["password"]}`+"\n")
	gold := writeFile(t, filepath.Join(dir, "golden.jsonl"),
		`{"event_id":"g-1","set":"golden","reference":"the invoice was paid","output":"the invoice was paid"}`+"\n"+
			`{"event_id":"g-2","set":"golden","reference":"reset the router","output":"reset the router"}`+"\n")
	onlyRed := []byte(`{"event_id":"rf-1","output":{"text":"I cannot share that."}}` + "\n")
	junit := filepath.Join(dir, "gate.xml")

	r := run(t, onlyRed, "gate", "--candidate", "-", "--redflag", red, "--golden", gold, "--junit", junit)
	if r.code != 1 || !strings.Contains(r.stdout, "FAIL g-1: missing candidate") || !strings.Contains(r.stdout, "FAIL g-2: missing candidate") ||
		!strings.Contains(r.stdout, "coverage: 0 of 2 golden cases answered") {
		t.Fatalf("red-flag-only candidate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Failures int    `xml:"failures,attr"`
		Time     string `xml:"time,attr"`
		Suites   []struct {
			Time  string `xml:"time,attr"`
			Cases []struct {
				Time string `xml:"time,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.stdout, fmt.Sprintf("gate: FAIL (%d failures)", doc.Failures)) || doc.Failures != 2 {
		t.Errorf("JUnit failures=%d, terminal:\n%s", doc.Failures, r.stdout)
	}
	timeRE := regexp.MustCompile(`^\d+\.\d{3}$`)
	if !timeRE.MatchString(doc.Time) {
		t.Errorf("testsuites time = %q", doc.Time)
	}
	for _, s := range doc.Suites {
		if !timeRE.MatchString(s.Time) {
			t.Errorf("testsuite time = %q", s.Time)
		}
		for _, c := range s.Cases {
			if !timeRE.MatchString(c.Time) {
				t.Errorf("testcase time = %q", c.Time)
			}
		}
	}

	half := append(onlyRed, []byte(`{"event_id":"g-1","output":{"text":"the invoice was paid"}}`+"\n")...)
	if r := run(t, half, "gate", "--candidate", "-", "--redflag", red, "--golden", gold); r.code != 1 {
		t.Errorf("half the golden set answered passed at the default coverage:\n%s", r.stdout)
	}
	r = run(t, half, "gate", "--candidate", "-", "--redflag", red, "--golden", gold, "--min-golden-coverage", "0.5")
	if r.code != 0 || !strings.Contains(r.stdout, "gate: PASS") || !strings.Contains(r.stdout, "missing candidates (1): g-2") {
		t.Errorf("--min-golden-coverage 0.5: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, half, "gate", "--candidate", "-", "--golden", gold, "--min-golden-coverage", "1.5"); r.code != 2 {
		t.Errorf("--min-golden-coverage 1.5: exit %d %s", r.code, r.stderr)
	}
	if r := run(t, half, "gate", "--candidate", "-", "--golden", "-"); r.code != 2 || !strings.Contains(r.stderr, "at most one") {
		t.Errorf("two stdin inputs: exit %d %s", r.code, r.stderr)
	}
	// --junit - puts the XML on stdout.
	r = run(t, half, "gate", "--candidate", "-", "--redflag", red, "--golden", gold, "--junit", "-")
	if r.code != 1 || !strings.HasPrefix(r.stdout, "<?xml") {
		t.Errorf("--junit -: exit %d\n%s", r.code, r.stdout)
	}
	if _, err := os.Stat("-"); err == nil {
		t.Errorf("a file named - was written")
	}
}

// CSV exports are safe to open in a spreadsheet and lossless: formula
// starters get a leading ', list cells are JSON arrays, and the set CSV
// carries the input and output its JSONL has. --out - is stdout.
func TestCSVExportGuardedAndLossless(t *testing.T) {
	st := filepath.Join(t.TempDir(), "store")
	ev := `{"event_id":"ev-csv-1","timestamp":"2026-11-08T04:33:09.144Z","model_version":"m-1","user_id":"u-1",` +
		`"input":{"text":"@SUM(A1) please"},"output":{"text":"=HYPERLINK(\"http://evil\",\"x\")","latency_ms":20},` +
		`"explicit_feedback":{"thumb":"down","reason_codes":["a;b","c"],"user_edit":"-2+3"},"consent":{"analytics":true,"training":true}}` + "\n"
	if r := run(t, []byte(ev), "ingest", "--store", st, "-"); r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, "set", "add", "redflag", "ev-csv-1", "--store", st, "--must-contain", "x;y", "--must-contain", "=z", "--reference", "+ref"); r.code != 0 {
		t.Fatalf("set add: %d %s", r.code, r.stderr)
	}
	dir := t.TempDir()
	csvOf := func(kind string) map[string]string {
		t.Helper()
		r := runIn(t, dir, nil, "export", kind, "--store", st, "--format", "csv", "--out", "-")
		if r.code != 0 {
			t.Fatalf("export %s: %d %s", kind, r.code, r.stderr)
		}
		recs, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
		if err != nil || len(recs) != 2 {
			t.Fatalf("export %s csv: %v %q", kind, err, r.stdout)
		}
		row := map[string]string{}
		for i, h := range recs[0] {
			c := recs[1][i]
			if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
				t.Errorf("%s %s = %q starts a formula", kind, h, c)
			}
			row[h] = export.Unguard(c)
		}
		return row
	}
	list := func(cell string) []string {
		l, err := export.ParseListCell(cell)
		if err != nil {
			t.Error(err)
		}
		return l
	}
	evs := csvOf("events")
	if got := list(evs["reason_codes"]); !reflect.DeepEqual(got, []string{"a;b", "c"}) {
		t.Errorf("reason_codes = %v", got)
	}
	if evs["output_text"] != `=HYPERLINK("http://evil","x")` || evs["user_edit"] != "-2+3" || evs["input_text"] != "@SUM(A1) please" {
		t.Errorf("events row = %v", evs)
	}
	rf := csvOf("redflag")
	if got := list(rf["must_contain"]); !reflect.DeepEqual(got, []string{"x;y", "=z"}) {
		t.Errorf("must_contain = %v", got)
	}
	if rf["input"] != "@SUM(A1) please" || rf["output"] != `=HYPERLINK("http://evil","x")` || rf["reference"] != "+ref" ||
		rf["model_version"] != "m-1" || rf["latency_ms"] != "20" {
		t.Errorf("redflag row = %v", rf)
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); err == nil {
		t.Errorf("export --out - wrote a file named -")
	}
}

// A restore killed part-way leaves no store behind, a retry just works
// (the leftover temporary directory is removed) and the restored store has
// every event and the secret; truncated backups are refused, old unframed
// backups still restore.
func TestRestoreSurvivesKillAndRefusesTruncated(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	lines := genLines(t, "6000", "9")
	s, _ := ingestJSON(t, lines, "--store", a, "-")
	var user struct {
		UserID string `json:"user_id"`
	}
	for _, l := range bytes.Split(lines, []byte("\n")) {
		if json.Unmarshal(l, &user); user.UserID != "" && bytes.Contains(l, []byte(`"analytics":true`)) {
			break
		}
	}
	bak := filepath.Join(dir, "full.bak")
	if r := run(t, nil, "backup", bak, "--store", a); r.code != 0 {
		t.Fatalf("backup: %s", r.stderr)
	}
	data, err := os.ReadFile(bak)
	if err != nil {
		t.Fatal(err)
	}

	// Feed half the backup through a pipe, so the restore is surely
	// part-way, then kill -9 it.
	cmd := exec.Command(loupeBin, "restore", "-", "--store", b)
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tmpDir := fmt.Sprintf("%s.restore-%d", b, cmd.Process.Pid)
	if _, err := in.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ { // the pipe is small: most of the half is read by now
		if _, err := os.Stat(filepath.Join(tmpDir, "MANIFEST")); err == nil {
			break
		}
		if i > 3000 {
			t.Fatalf("no restore directory %s appeared", tmpDir)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	in.Close()
	if _, err := os.Stat(b); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a killed restore left a store at %s (%v)", b, err)
	}
	if _, err := os.Stat(tmpDir); err != nil {
		t.Fatalf("expected the interrupted restore's directory %s: %v", tmpDir, err)
	}

	r := run(t, nil, "restore", bak, "--store", b)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("restored %d events", s.Accepted)) {
		t.Fatalf("retry after kill -9: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if left, _ := filepath.Glob(b + ".restore-*"); len(left) != 0 {
		t.Errorf("leftover restore directories: %v", left)
	}
	if ra, rb := run(t, nil, "export", "events", "--store", a), run(t, nil, "export", "events", "--store", b); ra.stdout != rb.stdout {
		t.Errorf("restored events differ")
	}
	// The secret came back: forgetting a user finds their events.
	r = run(t, nil, "forget", "--user", user.UserID, "--store", b, "--json")
	if r.code != 0 || strings.Contains(r.stdout, `"erased":0`) {
		t.Errorf("forget %s on the restored store: %d %s %s", user.UserID, r.code, r.stdout, r.stderr)
	}

	// Truncated anywhere, the end marker included, it is refused by name.
	for name, cut := range map[string]int{"half": len(data) / 2, "trailer": len(data) - 32, "one byte": len(data) - 1} {
		tb := writeFile(t, filepath.Join(dir, "cut.bak"), string(data[:cut]))
		c := filepath.Join(dir, "c")
		r := run(t, nil, "restore", tb, "--store", c)
		if r.code != 5 || !strings.Contains(r.stderr, "cut.bak") || !strings.Contains(r.stderr, "truncated") {
			t.Errorf("%s: truncated backup: exit %d %s", name, r.code, r.stderr)
		}
		if _, err := os.Stat(c); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: a refused restore left %s", name, c)
		}
		if left, _ := filepath.Glob(c + ".restore-*"); len(left) != 0 {
			t.Errorf("%s: leftover %v", name, left)
		}
	}

	// An existing empty directory is a new store; a non-empty one is not.
	empty := filepath.Join(dir, "empty")
	os.Mkdir(empty, 0o700)
	if r := run(t, nil, "restore", bak, "--store", empty); r.code != 0 {
		t.Errorf("restore into an empty directory: %d %s", r.code, r.stderr)
	}
	if r := run(t, nil, "restore", bak, "--store", empty); r.code != 2 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("restore into a restored store: %d %s", r.code, r.stderr)
	}

	// A backup from before the framing (a bare Badger stream) restores.
	old := writeFile(t, filepath.Join(dir, "old.bak"), string(data[8:len(data)-32]))
	r = run(t, nil, "restore", old, "--store", filepath.Join(dir, "o"))
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("restored %d events", s.Accepted)) {
		t.Errorf("old backup: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// The smaller promises of issue 11: --version, man, completion, no
// terminal, - for stdout on --rejects.
func TestVersionManCompletionNoTTY(t *testing.T) {
	// make build stamps the version and commit with -ldflags.
	stamped := filepath.Join(t.TempDir(), "loupe")
	b := exec.Command("go", "build", "-ldflags", "-X main.version=v9.9.9-test -X main.commit=abcdef1234567890", "-o", stamped, ".")
	if out, err := b.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(stamped, "--version").Output()
	if err != nil || !strings.Contains(string(out), "v9.9.9-test (abcdef1)") {
		t.Errorf("stamped --version: %q %v", out, err)
	}
	if r := run(t, nil, "--version"); r.code != 0 || !strings.HasPrefix(r.stdout, "loupe version ") {
		t.Errorf("--version: %d %q %q", r.code, r.stdout, r.stderr)
	}

	if r := run(t, nil, "man"); r.code != 0 || !strings.HasPrefix(r.stdout, ".TH LOUPE 1") || !strings.Contains(r.stdout, "export") {
		t.Errorf("man: %d %q %s", r.code, r.stdout[:min(200, len(r.stdout))], r.stderr)
	}

	for args, want := range map[string][]string{
		"export|":                  {"events", "labels", "golden", "redflag", "sft", "preference", "kto"},
		"export|events|--format|":  {"jsonl", "csv"},
		"set|":                     {"add", "rm", "ls"},
		"set|add|":                 {"golden", "redflag"},
		"trends|--metric|":         {"thumbs_down_rate", "pass_rate", "latency_p95_ms", "reason:factual_error"},
		"ab|--metric|":             {"thumbs_down_rate", "ipw_click_rate"},
		"trends|--by|":             {"model", "segment", "task"},
		"gen|--candidate|":         {"fixed", "regressed"},
		"gate|--max-drop|":         {"rouge_l=", "f1="},
		"eval|--set|":              {"golden", "redflag"},
		"export|redflag|--format|": {"csv"},
	} {
		r := run(t, nil, append([]string{"__complete"}, strings.Split(args, "|")...)...)
		got := strings.Split(r.stdout, "\n")
		for _, w := range want {
			if !slices.Contains(got, w) {
				t.Errorf("completion of %q: no %q in %q", args, w, r.stdout)
			}
		}
	}

	// No terminal: a usage error saying what to do, not a TTY error.
	cmd := exec.Command(loupeBin, "--store", filepath.Join(t.TempDir(), "s"))
	cmd.Env = append(os.Environ(), "NO_COLOR=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true} // no controlling terminal either
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), "subcommand") || strings.Contains(stderr.String(), "TTY") {
		t.Errorf("loupe without a terminal: %v %q", err, stderr.String())
	}

	// --config - : init writes the template to stdout, other commands read
	// it from stdin.
	tmpl := run(t, nil, "init", "--config", "-")
	if tmpl.code != 0 || !strings.HasPrefix(tmpl.stdout, "# loupe.yaml") {
		t.Errorf("init --config -: %d %q", tmpl.code, tmpl.stderr)
	}
	st := filepath.Join(t.TempDir(), "s")
	if r := run(t, []byte(tmpl.stdout), "trends", "--store", st, "--config", "-", "--metric", "pass_rate"); r.code != 0 {
		t.Errorf("trends --config - with the template: %d %s", r.code, r.stderr)
	}
	if r := run(t, []byte("goal: [\n"), "trends", "--store", st, "--config", "-"); r.code != 2 || !strings.Contains(r.stderr, "stdin:1") {
		t.Errorf("bad config on stdin: %d %s", r.code, r.stderr)
	}

	// --rejects - puts the rejected lines on stdout, the summary on stderr.
	r := run(t, []byte("{\"bad\":1}\n"), "ingest", "--store", filepath.Join(t.TempDir(), "s"), "-", "--rejects", "-")
	if r.code != 3 || !strings.Contains(r.stdout, `"reason":"missing_field"`) || !strings.Contains(r.stderr, "1 rejected") {
		t.Errorf("--rejects -: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// The ingest progress line is cleared before the summary prints, so the
// summary starts its own line on the terminal.
func TestIngestProgressClearedBeforeSummary(t *testing.T) {
	ptm, pts, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptm.Close()
	cmd := exec.Command(loupeBin, "ingest", "--store", filepath.Join(t.TempDir(), "s"), "-")
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "TERM=xterm-256color")
	cmd.Stdout, cmd.Stderr = pts, pts
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pts.Close()
	var term bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&term, ptm); close(copied) }()
	lines := bytes.SplitAfter(genLines(t, "300", "4"), []byte("\n"))
	// Pauses longer than the progress interval (250ms) between chunks make
	// sure a progress line is drawn.
	for i := range 3 {
		for _, l := range lines[i*100 : (i+1)*100] {
			in.Write(l)
		}
		time.Sleep(400 * time.Millisecond)
	}
	in.Close()
	cmd.Wait()
	<-copied
	out := term.String()
	if !strings.Contains(out, "lines/s)") {
		t.Fatalf("no progress line drawn: %q", out)
	}
	i := strings.Index(out, "read 300 lines")
	if i < 0 {
		t.Fatalf("no summary: %q", out)
	}
	if before := out[:i]; !strings.HasSuffix(before, "\r\x1b[K") {
		t.Errorf("the summary follows an uncleared progress line: %q", before[max(0, len(before)-80):])
	}
	if strings.Contains(out[i:], "\x1b[K") {
		t.Errorf("a clear after the summary erases it: %q", out[i:])
	}
}

func TestVersionInfoFallback(t *testing.T) {
	info := &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201192636-bb7857cea224+dirty"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "bb7857cea224853740a9caf1ca547db1a344a2e8"}}}
	if v, c := versionInfo(info, true); v != info.Main.Version || c != "bb7857cea224853740a9caf1ca547db1a344a2e8" {
		t.Errorf("from build info: %q %q", v, c)
	}
	if v, c := versionInfo(&debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, true); v != "devel" || c != "" {
		t.Errorf("without VCS information: %q %q", v, c)
	}
}
