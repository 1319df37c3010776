package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// These tests run the real binary, as a user or a script would.

var loupeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "loupe-cli")
	if err != nil {
		panic(err)
	}
	loupeBin = filepath.Join(dir, "loupe")
	if out, err := exec.Command("go", "build", "-o", loupeBin, ".").CombinedOutput(); err != nil {
		panic("build: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func run(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	return runIn(t, "", stdin, args...)
}

// runIn is run in a working directory ("" for the test's own).
func runIn(t *testing.T, dir string, stdin []byte, args ...string) result {
	t.Helper()
	cmd := exec.Command(loupeBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NO_COLOR=1", "LOUPE_REVIEWER=tester")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{o.String(), e.String(), code}
}

func genLines(t *testing.T, n, seed string) []byte {
	t.Helper()
	r := run(t, nil, "gen", "--whole", "--n", n, "--seed", seed)
	if r.code != 0 {
		t.Fatalf("gen: %d %s", r.code, r.stderr)
	}
	return []byte(r.stdout)
}

type summary struct {
	Read, Accepted, Duplicates, Rejected, Blank int
	Reasons                                     map[string]int
}

func ingestJSON(t *testing.T, stdin []byte, args ...string) (summary, result) {
	t.Helper()
	r := run(t, stdin, append([]string{"ingest", "--json"}, args...)...)
	var s summary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("ingest --json printed %q (stderr %q): %v", r.stdout, r.stderr, err)
	}
	return s, r
}

func TestIngestGeneratedTwice(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	data := genLines(t, "3000", "1")
	s, r := ingestJSON(t, data, "--store", st, "-")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if s.Read != 3000 || s.Accepted+s.Rejected != 3000 || s.Accepted < 2800 {
		t.Fatalf("first run: %+v", s)
	}
	if s.Rejected != s.Reasons["no_consent"] {
		t.Fatalf("generated data should only be rejected for consent: %+v", s)
	}
	s2, r := ingestJSON(t, data, "--store", st, "-")
	if r.code != 0 || s2.Accepted != 0 || s2.Duplicates != s.Accepted {
		t.Fatalf("second run: exit %d %+v", r.code, s2)
	}
	// Human summary.
	r = run(t, data[:len(data)/2], "ingest", "--store", st, "-")
	if !strings.Contains(r.stdout, "accepted") || !strings.Contains(r.stdout, "duplicates") {
		t.Errorf("summary line: %q", r.stdout)
	}
}

func TestIngestMalformed(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	rej := filepath.Join(dir, "rejects.jsonl")
	s, r := ingestJSON(t, nil, "--store", st, "--rejects", rej, "../../testdata/malformed.jsonl")
	if r.code != 3 {
		t.Fatalf("want exit 3, got %d: %s", r.code, r.stderr)
	}
	want := summary{Read: 22, Accepted: 6, Duplicates: 1, Rejected: 13, Blank: 2}
	if s.Read != want.Read || s.Accepted != want.Accepted || s.Duplicates != want.Duplicates ||
		s.Rejected != want.Rejected || s.Blank != want.Blank {
		t.Fatalf("got %+v, want %+v", s, want)
	}
	f, err := os.Open(rej)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	wantLines := map[int]string{4: "invalid_json", 5: "invalid_json", 6: "invalid_utf8", 7: "duplicate_key",
		8: "missing_field", 9: "invalid_field", 10: "invalid_field", 11: "invalid_field", 12: "invalid_field",
		13: "no_consent", 16: "conflict", 19: "invalid_json", 20: "invalid_field"}
	got := map[int]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rj struct {
			Line          int
			Reason, Error string
			Raw           *string
		}
		if err := json.Unmarshal(sc.Bytes(), &rj); err != nil {
			t.Fatal(err)
		}
		got[rj.Line] = rj.Reason
		if rj.Error == "" {
			t.Errorf("line %d: no error message", rj.Line)
		}
		if rj.Reason == "no_consent" && rj.Raw != nil {
			t.Errorf("consent withheld, yet the rejects file keeps its text: %q", *rj.Raw)
		}
		if rj.Raw != nil && strings.Contains(*rj.Raw, "@example.com") {
			t.Errorf("line %d: raw text not masked: %q", rj.Line, *rj.Raw)
		}
		if rj.Line == 9 && rj.Error != "output.latency_ms: must be >= 0" {
			t.Errorf("line 9 error %q", rj.Error)
		}
	}
	for l, reason := range wantLines {
		if got[l] != reason {
			t.Errorf("line %d: got reason %q, want %q", l, got[l], reason)
		}
	}
	if len(got) != len(wantLines) {
		t.Errorf("rejects file has %d lines, want %d: %v", len(got), len(wantLines), got)
	}
	// Exactly the valid, consented events are stored.
	r = run(t, nil, "export", "events", "--store", st)
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e struct {
			EventID string `json:"event_id"`
		}
		json.Unmarshal([]byte(l), &e)
		ids = append(ids, e.EventID)
	}
	if strings.Join(sorted(ids), ",") != "mal-1,mal-14,mal-18,mal-2,mal-21,mal-22" {
		t.Errorf("stored %v", ids)
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestOverlongLine(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	long := `{"event_id":"big","timestamp":"2026-11-01T00:00:00Z","model_version":"m","input":{"text":"` +
		strings.Repeat("call me at jane@example.com ", 50000) + `"}}`
	in := []byte(`{"event_id":"ok1","timestamp":"2026-11-01T00:00:00Z","model_version":"m"}` + "\n" + long + "\n" +
		`{"event_id":"ok2","timestamp":"2026-11-01T00:00:00Z","model_version":"m"}` + "\n")
	rej := filepath.Join(t.TempDir(), "r.jsonl")
	s, r := ingestJSON(t, in, "--store", st, "--rejects", rej, "-")
	if r.code != 3 || s.Accepted != 2 || s.Reasons["line_too_long"] != 1 {
		t.Fatalf("exit %d %+v", r.code, s)
	}
	b, _ := os.ReadFile(rej)
	if strings.Contains(string(b), "jane@example.com") || len(b) > 6<<10 {
		t.Errorf("reject of long line: %d bytes, masked=%v", len(b), !strings.Contains(string(b), "jane@"))
	}
}

func TestExportStableWithManifest(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	ingestJSON(t, genLines(t, "500", "3"), "--store", st, "-")
	a, b := filepath.Join(dir, "a.jsonl"), filepath.Join(dir, "b.jsonl")
	for _, out := range []string{a, b} {
		if r := run(t, nil, "export", "events", "--store", st, "--out", out); r.code != 0 {
			t.Fatalf("export: %d %s", r.code, r.stderr)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if !bytes.Equal(ab, bb) || len(ab) == 0 {
		t.Fatal("exports differ")
	}
	var m struct {
		Count  int
		SHA256 string
	}
	mb, _ := os.ReadFile(a + ".manifest.json")
	json.Unmarshal(mb, &m)
	if m.Count != bytes.Count(ab, []byte("\n")) || len(m.SHA256) != 64 {
		t.Errorf("manifest %+v", m)
	}
	if r := run(t, nil, "export", "nonsense", "--store", st); r.code != 2 {
		t.Errorf("unknown kind: exit %d", r.code)
	}
}

func TestForget(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	lines := `{"event_id":"f1","timestamp":"2026-11-01T00:00:00Z","model_version":"m","user_id":"u-gone","input":{"text":"mine"}}
{"event_id":"f2","timestamp":"2026-11-01T00:00:01Z","model_version":"m","user_id":"u-stays","input":{"text":"theirs"}}
`
	ingestJSON(t, []byte(lines), "--store", st, "-")
	r := run(t, nil, "forget", "--store", st, "--user", "u-gone", "--json")
	if r.code != 0 || strings.TrimSpace(r.stdout) != `{"erased":1}` {
		t.Fatalf("forget: %d %q %q", r.code, r.stdout, r.stderr)
	}
	r = run(t, nil, "export", "events", "--store", st)
	if strings.Contains(r.stdout, `"event_id":"f1"`) || !strings.Contains(r.stdout, `"event_id":"f2"`) || strings.Contains(r.stdout, "u-stays") {
		t.Errorf("after forget: %s", r.stdout)
	}
	if r := run(t, nil, "forget", "--store", st); r.code != 2 {
		t.Errorf("forget without --user: exit %d", r.code)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"ingest", "--nope"}, {"nosuchcommand"}, {"ingest", "/does/not/exist.jsonl"}, {"gen", "--days", "0"}} {
		r := run(t, nil, append(args, "--store", t.TempDir())...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
		if r.stderr == "" {
			t.Errorf("%v: no message", args)
		}
	}
}

func TestBackupRestoreExportsIdentical(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	ingestJSON(t, genLines(t, "300", "5"), "--store", a, "-")
	r := run(t, nil, "export", "events", "--store", a)
	id := strings.SplitN(strings.SplitN(r.stdout, `"event_id":"`, 2)[1], `"`, 2)[0]
	if r := run(t, nil, "grade", id, "fail", "--reason", "factual_error", "--store", a); r.code != 0 {
		t.Fatalf("grade: %s", r.stderr)
	}
	if r := run(t, nil, "set", "add", "golden", id, "--reference", "better", "--store", a); r.code != 0 {
		t.Fatalf("set add: %s", r.stderr)
	}
	bak := filepath.Join(dir, "x.bak")
	if r := run(t, nil, "backup", bak, "--store", a); r.code != 0 {
		t.Fatalf("backup: %s", r.stderr)
	}
	if r := run(t, nil, "restore", bak, "--store", b); r.code != 0 {
		t.Fatalf("restore: %s", r.stderr)
	}
	for _, kind := range []string{"events", "labels", "golden", "redflag"} {
		ra, rb := run(t, nil, "export", kind, "--store", a), run(t, nil, "export", kind, "--store", b)
		if ra.stdout != rb.stdout || (kind != "redflag" && ra.stdout == "") {
			t.Errorf("export %s differs after restore (%d vs %d bytes)", kind, len(ra.stdout), len(rb.stdout))
		}
	}
	if r := run(t, nil, "restore", bak, "--store", b); r.code == 0 || !strings.Contains(r.stderr, "not empty") {
		t.Errorf("restore into a non-empty store: %d %s", r.code, r.stderr)
	}
	// The restored store keeps the secret: forgetting a user still works.
	if r := run(t, nil, "forget", "--user", "nobody", "--store", b); r.code != 0 {
		t.Errorf("forget on restored store: %s", r.stderr)
	}
}

func TestStoreInUseExit4(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	ingestJSON(t, genLines(t, "10", "1"), "--store", st, "-")
	// A long ingest from stdin that never ends holds the store.
	cmd := exec.Command(loupeBin, "ingest", "--store", st, "-")
	in, _ := cmd.StdinPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { in.Close(); cmd.Wait() }()
	// Wait for it to hold the lock.
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(filepath.Join(st, "loupe.holder")); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := run(t, nil, "export", "events", "--store", st)
	if r.code != 4 || !strings.Contains(r.stderr, "loupe ingest (pid") {
		t.Fatalf("second process: exit %d, %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "badger") {
		t.Errorf("message leaks internals: %s", r.stderr)
	}
}

func TestTrainingExportsRespectConsent(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	ingestJSON(t, genLines(t, "2000", "4"), "--store", st, "-")
	r := run(t, nil, "export", "events", "--store", st)
	wantKTO, wantSFT := 0, 0
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e struct {
			Input    struct{ Text string }
			Output   struct{ Text string }
			Explicit struct {
				Thumb    *string
				UserEdit string `json:"user_edit"`
			} `json:"explicit_feedback"`
			Consent *struct{ Training *bool }
		}
		json.Unmarshal([]byte(l), &e)
		if e.Consent == nil || e.Consent.Training == nil || !*e.Consent.Training || e.Input.Text == "" || e.Output.Text == "" {
			continue
		}
		if e.Explicit.Thumb != nil {
			wantKTO++
		}
		if e.Explicit.UserEdit != "" {
			wantSFT++
		}
	}
	count := func(kind string) int {
		r := run(t, nil, "export", kind, "--store", st)
		if r.code != 0 {
			t.Fatalf("export %s: %s", kind, r.stderr)
		}
		if r.stdout == "" {
			return 0
		}
		return strings.Count(r.stdout, "\n")
	}
	if got := count("kto"); got != wantKTO || got == 0 {
		t.Errorf("kto: %d lines, want %d", got, wantKTO)
	}
	if got := count("sft"); got != wantSFT || got == 0 {
		t.Errorf("sft: %d lines, want %d", got, wantSFT)
	}
	r = run(t, nil, "export", "events", "--format", "csv", "--store", st)
	if !strings.HasPrefix(r.stdout, "event_id,timestamp,model_version") {
		t.Errorf("csv header: %.80s", r.stdout)
	}
	if r := run(t, nil, "export", "kto", "--format", "csv", "--store", st); r.code != 2 {
		t.Errorf("kto as csv: exit %d", r.code)
	}
}

func TestABFindsRegressionAndNoDifferenceBetweenLikeArms(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	ingestJSON(t, genLines(t, "20000", "1"), "--store", st, "-")
	type res struct {
		Diff, P float64
		Verdict string
	}
	ab := func(args ...string) res {
		r := run(t, nil, append([]string{"ab", "--json", "--store", st}, args...)...)
		if r.code != 0 {
			t.Fatalf("ab %v: %d %s", args, r.code, r.stderr)
		}
		var x res
		if err := json.Unmarshal([]byte(r.stdout), &x); err != nil {
			t.Fatal(err)
		}
		return x
	}
	reg := ab("--metric", "thumbs_down_rate", "--control", "sum-2026.10", "--treatment", "sum-2026.11")
	if reg.Diff < 0.1 || reg.P > 0.001 || !strings.Contains(reg.Verdict, "worse") {
		t.Errorf("regression not found: %+v", reg)
	}
	// The experiment's arms differ in ranking, not in what users think of
	// the answers: thumbs show no difference.
	aa := ab("--metric", "thumbs_down_rate", "--control", "control", "--treatment", "treatment")
	if aa.P < 0.05 || !strings.Contains(aa.Verdict, "no significant difference") {
		t.Errorf("like arms reported different: %+v", aa)
	}
	none := ab("--metric", "thumbs_down_rate", "--control", "nope", "--treatment", "nada")
	if !strings.Contains(none.Verdict, "not enough data") {
		t.Errorf("empty arms: %+v", none)
	}
}

func TestSampleDeterministicAndNeverTwice(t *testing.T) {
	data := genLines(t, "3000", "2")
	var first string
	for i := 0; i < 2; i++ {
		st := filepath.Join(t.TempDir(), "s")
		ingestJSON(t, data, "--store", st, "-")
		r := run(t, nil, "sample", "--json", "--store", st, "--day", "2026-11-19")
		if r.code != 0 || !strings.Contains(r.stdout, `"queued"`) {
			t.Fatalf("sample: %d %s %s", r.code, r.stdout, r.stderr)
		}
		if i == 0 {
			first = r.stdout
		} else if r.stdout != first {
			t.Fatalf("same day and seed, different sample:\n%s\n%s", first, r.stdout)
		}
		again := run(t, nil, "sample", "--json", "--store", st, "--day", "2026-11-19")
		if !strings.Contains(again.stdout, `"queued":0`) {
			t.Fatalf("second run queued again: %s", again.stdout)
		}
	}
	if strings.Contains(first, `"queued":0`) {
		t.Fatalf("nothing sampled: %s", first)
	}
}

func TestInitDoctorBlueprint(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "loupe.yaml")
	st := filepath.Join(dir, "s")
	if r := run(t, nil, "init", "--config", cfg); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	if r := run(t, nil, "init", "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("second init: %d %s", r.code, r.stderr)
	}
	ingestJSON(t, genLines(t, "500", "1"), "--store", st, "-")
	r := run(t, nil, "doctor", "--config", cfg, "--store", st)
	if r.code != 1 || !strings.Contains(r.stdout, "✗ golden set at target size") || !strings.Contains(r.stdout, "✓ goal and threshold set") {
		t.Fatalf("doctor: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// A broken config names its line.
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, []byte("\nbogus_key: 1\n")...), 0o644)
	r = run(t, nil, "doctor", "--config", cfg, "--store", st)
	if r.code != 2 || !strings.Contains(r.stderr, "loupe.yaml:") {
		t.Fatalf("bad config: %d %s", r.code, r.stderr)
	}
	r = run(t, nil, "blueprint", "--store", st)
	if r.code != 0 || !strings.Contains(r.stdout, "# Feedback loop blueprint") {
		t.Fatalf("blueprint: %d %s", r.code, r.stderr)
	}
}

func TestCommittedSampleIngests(t *testing.T) {
	s, r := ingestJSON(t, nil, "--store", filepath.Join(t.TempDir(), "s"), "../../testdata/sample.jsonl")
	if r.code != 0 || s.Read != 300 || s.Accepted+s.Reasons["no_consent"] != 300 {
		t.Fatalf("sample: exit %d %+v %s", r.code, s, r.stderr)
	}
}

// TestTrendsMatchesHandComputation recomputes thumbs_down_rate per model
// per UTC day straight from the exported JSONL and compares it with
// `loupe trends --json`; the text report names the injected regression.
func TestTrendsMatchesHandComputation(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	ingestJSON(t, genLines(t, "20000", "1"), "--store", st, "-")
	r := run(t, nil, "trends", "--json", "--metric", "thumbs_down_rate", "--by", "model", "--days", "28", "--store", st)
	if r.code != 0 {
		t.Fatalf("trends: %d %s", r.code, r.stderr)
	}
	var got struct {
		Metric string
		Series []struct {
			Key    string
			Points []struct {
				Day   string
				Value float64
				N     int
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	// By hand: down / (up + down) per (model, UTC day).
	type cell struct{ down, n int }
	hand := map[string]map[string]*cell{}
	ev := run(t, nil, "export", "events", "--store", st)
	for _, l := range strings.Split(strings.TrimSpace(ev.stdout), "\n") {
		var e struct {
			Timestamp    time.Time `json:"timestamp"`
			ModelVersion string    `json:"model_version"`
			Explicit     *struct {
				Thumb *string `json:"thumb"`
			} `json:"explicit_feedback"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		if e.Explicit == nil || e.Explicit.Thumb == nil {
			continue
		}
		day := e.Timestamp.UTC().Format("2006-01-02")
		if hand[e.ModelVersion] == nil {
			hand[e.ModelVersion] = map[string]*cell{}
		}
		c := hand[e.ModelVersion][day]
		if c == nil {
			c = &cell{}
			hand[e.ModelVersion][day] = c
		}
		c.n++
		if *e.Explicit.Thumb == "down" {
			c.down++
		}
	}
	if got.Metric != "thumbs_down_rate" || len(got.Series) != len(hand) {
		t.Fatalf("%s: %d series, by hand %d", got.Metric, len(got.Series), len(hand))
	}
	points := 0
	for _, s := range got.Series {
		for _, p := range s.Points {
			c := hand[s.Key][p.Day]
			if c == nil {
				if p.N != 0 {
					t.Errorf("%s %s: n=%d, none by hand", s.Key, p.Day, p.N)
				}
				continue
			}
			points++
			want := float64(c.down) / float64(c.n)
			if p.N != c.n || math.Abs(p.Value-want) > 1e-12 {
				t.Errorf("%s %s: %v (n=%d), by hand %v (n=%d)", s.Key, p.Day, p.Value, p.N, want, c.n)
			}
		}
	}
	if points < 100 {
		t.Fatalf("only %d points compared", points)
	}
	text := run(t, nil, "trends", "--metric", "thumbs_down_rate", "--store", st)
	if !strings.Contains(text.stdout, "worse on sum-2026.11 than on sum-2026.10") || !strings.Contains(text.stdout, "roll back to sum-2026.10") {
		t.Errorf("the injected regression is not named:\n%s", text.stdout)
	}
}

// TestGateFailsThenPasses follows the README: export the demo's sets, write
// a regressed candidate (gate fails, naming cases) and a fixed one (passes).
func TestGateFailsThenPasses(t *testing.T) {
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	cmd := exec.Command(loupeBin, "demo", "--build-only", "--events", "6000", "--dir", filepath.Join(cache, "demo"))
	cmd.Env = append(os.Environ(), "LOUPE_REVIEWER=tester")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("demo: %v", err)
	}
	st := strings.TrimSpace(string(out))
	gold, red := filepath.Join(dir, "golden.jsonl"), filepath.Join(dir, "redflag.jsonl")
	for kind, f := range map[string]string{"golden": gold, "redflag": red} {
		if r := run(t, nil, "export", kind, "--store", st, "--out", f); r.code != 0 {
			t.Fatalf("export %s: %s", kind, r.stderr)
		}
	}
	cand := func(q string) string {
		r := run(t, nil, "gen", "--candidate", q, "--sets", gold, "--sets", red)
		if r.code != 0 || r.stdout == "" {
			t.Fatalf("gen --candidate %s: %d %s", q, r.code, r.stderr)
		}
		f := filepath.Join(dir, q+".jsonl")
		os.WriteFile(f, []byte(r.stdout), 0o644)
		return f
	}
	bad, good := cand("regressed"), cand("fixed")
	junit := filepath.Join(dir, "gate.xml")
	r1 := run(t, nil, "gate", "--candidate", bad, "--redflag", red, "--golden", gold, "--junit", junit)
	if r1.code != 1 || !strings.Contains(r1.stdout, "must_not_contain") || !strings.Contains(r1.stdout, "gate: FAIL") {
		t.Fatalf("regressed candidate: exit %d\n%s%s", r1.code, r1.stdout, r1.stderr)
	}
	if b, _ := os.ReadFile(junit); !bytes.Contains(b, []byte("<failure")) {
		t.Errorf("JUnit report has no failure")
	}
	r2 := run(t, nil, "gate", "--candidate", bad, "--redflag", red, "--golden", gold)
	if r2.stdout != r1.stdout {
		t.Errorf("the same input gave a different report")
	}
	r3 := run(t, nil, "gate", "--candidate", good, "--redflag", red, "--golden", gold)
	if r3.code != 0 || !strings.Contains(r3.stdout, "gate: PASS") {
		t.Fatalf("fixed candidate: exit %d\n%s%s", r3.code, r3.stdout, r3.stderr)
	}
}

func TestForgetExpired(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	old := time.Now().UTC().AddDate(0, 0, -400).Format(time.RFC3339)
	recent := time.Now().UTC().AddDate(0, 0, -3).Format(time.RFC3339)
	lines := `{"event_id":"old","timestamp":"` + old + `","model_version":"m"}
{"event_id":"new","timestamp":"` + recent + `","model_version":"m"}
`
	ingestJSON(t, []byte(lines), "--store", st, "-")
	r := run(t, nil, "forget", "--expired", "--json", "--store", st)
	if r.code != 0 || strings.TrimSpace(r.stdout) != `{"erased":1,"signals_dropped":0}` {
		t.Fatalf("forget --expired: %d %q %s", r.code, r.stdout, r.stderr)
	}
	ev := run(t, nil, "export", "events", "--store", st)
	if strings.Contains(ev.stdout, `"old"`) || !strings.Contains(ev.stdout, `"new"`) {
		t.Fatalf("after expiry: %s", ev.stdout)
	}
	if r := run(t, nil, "forget", "--expired", "--user", "x", "--store", st); r.code != 2 {
		t.Errorf("--expired with --user: exit %d", r.code)
	}
}
