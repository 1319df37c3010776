package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// compareFixture is a store with n golden items of generated events and a
// candidate file answering them (in other words than the current model),
// plus the events' training consent by id.
func compareFixture(t *testing.T, n int) (st, cand string, ids []string, training map[string]bool) {
	t.Helper()
	dir := t.TempDir()
	st = filepath.Join(dir, "s")
	ingestJSON(t, genLines(t, "200", "5"), "--store", st, "-")
	r := run(t, nil, "export", "events", "--store", st)
	training = map[string]bool{}
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var e struct {
			EventID string `json:"event_id"`
			Consent *struct {
				Training *bool `json:"training"`
			} `json:"consent"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		training[e.EventID] = e.Consent != nil && e.Consent.Training != nil && *e.Consent.Training
		if len(ids) < n {
			ids = append(ids, e.EventID)
			lines = append(lines, fmt.Sprintf(`{"event_id":%q,"output":{"text":"candidate v2 answer for %s, shorter and checked","latency_ms":400}}`, e.EventID, e.EventID))
		}
	}
	for _, id := range ids {
		if r := run(t, nil, "set", "add", "golden", id, "--store", st); r.code != 0 {
			t.Fatalf("set add: %d %s", r.code, r.stderr)
		}
	}
	cand = filepath.Join(dir, "cand-v2.jsonl")
	if err := os.WriteFile(cand, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return st, cand, ids, training
}

type compareJSON struct {
	Set       string `json:"set"`
	Items     int    `json:"items"`
	Candidate string `json:"candidate"`
	Interval  string `json:"interval"`
	Overall   struct {
		N, Wins, Losses, Ties int
		BothBad               int      `json:"both_bad"`
		WinRate               *float64 `json:"win_rate"`
		Low, High             *float64
		SignP                 *float64 `json:"sign_p"`
	} `json:"overall"`
	Reviewers []struct {
		Reviewer    string
		N           int
		Left, Right int
		LeftShare   *float64 `json:"left_share"`
		Biased      bool
	} `json:"reviewers"`
	Stale int `json:"stale"`
}

func compareResults(t *testing.T, args ...string) compareJSON {
	t.Helper()
	r := run(t, nil, append([]string{"compare", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("compare --json: %d %s", r.code, r.stderr)
	}
	var c compareJSON
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("compare --json printed %q: %v", r.stdout, err)
	}
	return c
}

// exactSignP is 2·Σ_{i<=min} C(n,i) / 2^n in big rationals.
func exactSignP(w, l int) float64 {
	n, k := w+l, min(w, l)
	if 2*k == n {
		return 1
	}
	sum := new(big.Int)
	for i := 0; i <= k; i++ {
		sum.Add(sum, new(big.Int).Binomial(int64(n), int64(i)))
	}
	f, _ := new(big.Rat).SetFrac(sum.Lsh(sum, 1), new(big.Int).Lsh(big.NewInt(1), uint(n))).Float64()
	return math.Min(1, f)
}

// wilsonByBisection inverts the score test |p̂-π| = z·sqrt(π(1-π)/n).
func wilsonByBisection(x float64, n int) (lo, hi float64) {
	const z = 1.959963984540054
	p := x / float64(n)
	f := func(pi float64) float64 { return math.Abs(p-pi) - z*math.Sqrt(pi*(1-pi)/float64(n)) }
	bis := func(a, b float64) float64 {
		for range 200 {
			m := (a + b) / 2
			if (f(m) > 0) == (f(a) > 0) {
				a = m
			} else {
				b = m
			}
		}
		return (a + b) / 2
	}
	return bis(0, p), bis(1, p)
}

func TestCompareRecordResultsUndoExportGate(t *testing.T) {
	st, cand, ids, training := compareFixture(t, 12)
	// 9 wins for the candidate, 1 loss, a tie and a both-bad.
	choices := []string{"candidate", "candidate", "candidate", "candidate", "candidate", "candidate", "candidate",
		"candidate", "candidate", "current", "tie", "both_bad"}
	sides := map[string]string{}
	for i, id := range ids {
		r := run(t, nil, "compare", "record", id, "--candidate", cand, "--choice", choices[i], "--store", st, "--json")
		if r.code != 0 {
			t.Fatalf("record %s: %d %s", id, r.code, r.stderr)
		}
		var j struct {
			CandidateSide string `json:"candidate_side"`
			Outcome       string
			Answer        *string
		}
		json.Unmarshal([]byte(r.stdout), &j)
		sides[id] = j.CandidateSide
		if j.Answer != nil {
			t.Errorf("record --json prints the answer text")
		}
	}
	// The same reviewer, event and candidate get the same side again.
	r := run(t, nil, "compare", "record", ids[0], "--candidate", cand, "--choice", "candidate", "--store", st, "--json")
	if !strings.Contains(r.stdout, `"candidate_side":"`+sides[ids[0]]+`"`) {
		t.Errorf("side changed on re-record: %s vs %s", r.stdout, sides[ids[0]])
	}
	for _, bad := range [][]string{
		{"compare", "record", ids[0], "--candidate", cand, "--choice", "maybe"},
		{"compare", "record", "no-such-event", "--candidate", cand, "--choice", "tie"},
		{"compare", "record", ids[0], "--candidate", cand, "--choice", "tie", "--reason", "not_a_code"},
		{"compare", "--candidate", cand, "--set", "sometimes"},
	} {
		if r := run(t, nil, append(bad, "--store", st)...); r.code != exitUsage || r.stderr == "" {
			t.Errorf("%v: exit %d %q, want 2 with a message", bad, r.code, r.stderr)
		}
	}
	c := compareResults(t, "--candidate", cand, "--store", st)
	o := c.Overall
	if c.Set != "golden" || c.Items != 12 || c.Candidate != "cand-v2" || c.Interval != "wilson_95" ||
		o.N != 12 || o.Wins != 9 || o.Losses != 1 || o.Ties != 1 || o.BothBad != 1 {
		t.Fatalf("results %+v", c)
	}
	lo, hi := wilsonByBisection(10, 12)
	if math.Abs(*o.WinRate-10.0/12) > 1e-12 || math.Abs(*o.Low-lo) > 1e-9 || math.Abs(*o.High-hi) > 1e-9 {
		t.Errorf("win rate %v [%v, %v], want %v [%v, %v]", *o.WinRate, *o.Low, *o.High, 10.0/12, lo, hi)
	}
	if want := exactSignP(9, 1); math.Abs(*o.SignP-want) > 1e-15 {
		t.Errorf("sign p %v, want %v", *o.SignP, want)
	}

	// Undo withdraws the last (the re-recorded ids[0]), then the one before.
	if r := run(t, nil, "compare", "undo", "--candidate", cand, "--store", st); r.code != 0 || !strings.Contains(r.stdout, ids[0]) {
		t.Fatalf("undo: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "compare", "undo", "--name", "cand-v2", "--store", st); r.code != 0 || !strings.Contains(r.stdout, ids[11]) {
		t.Fatalf("second undo: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if c := compareResults(t, "--candidate", cand, "--store", st); c.Overall.N != 10 || c.Overall.BothBad != 0 || c.Overall.Wins != 8 {
		t.Errorf("after two undos %+v", c.Overall)
	}

	// The exported file gates: 8 wins of 10 passes; a file where the
	// candidate loses fails, named in text and JUnit.
	dir := t.TempDir()
	exp := filepath.Join(dir, "cmp.jsonl")
	if r := run(t, nil, "export", "comparisons", "--out", exp, "--store", st); r.code != 0 {
		t.Fatalf("export comparisons: %d %s", r.code, r.stderr)
	}
	b, _ := os.ReadFile(exp)
	if n := strings.Count(string(b), "\n"); n != 10 || strings.Contains(string(b), `"answer"`) {
		t.Fatalf("export has %d lines (want 10), answer text present: %v", n, strings.Contains(string(b), `"answer"`))
	}
	if r := run(t, nil, "gate", "--candidate", cand, "--compare", exp); r.code != 0 || !strings.Contains(r.stdout, "compare:  cand-v2") {
		t.Errorf("gate on a winning candidate: %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var losing []string
	for i := range 20 {
		side := []string{"left", "right"}[i%2]
		choice := map[string]string{"left": "right", "right": "left"}[side] // the current model's side
		if i < 4 {
			choice = side
		}
		outcome := map[bool]string{true: "win", false: "loss"}[i < 4]
		losing = append(losing, fmt.Sprintf(`{"event_id":"e%d","reviewer":"r","candidate":"cand-v2","candidate_side":%q,"choice":%q,"outcome":%q}`, i, side, choice, outcome))
	}
	bad := filepath.Join(dir, "losing.jsonl")
	os.WriteFile(bad, []byte(strings.Join(losing, "\n")+"\n"), 0o644)
	junit := filepath.Join(dir, "gate.xml")
	// The answers of e0..e19 are not in the candidate file: judged against
	// the file they would be stale, so use a candidate of those ids.
	var cl []string
	for i := range 20 {
		cl = append(cl, fmt.Sprintf(`{"event_id":"e%d","output":{"text":"x"}}`, i))
	}
	cand2 := filepath.Join(dir, "cand-v2.jsonl")
	os.WriteFile(cand2, []byte(strings.Join(cl, "\n")+"\n"), 0o644)
	r = run(t, nil, "gate", "--candidate", cand2, "--compare", bad, "--junit", junit)
	if r.code != exitCheck {
		t.Errorf("gate on a losing candidate: exit %d, want 1\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Written without answer_sha, every judgment is stale against the file.
	if !strings.Contains(r.stdout, "FAIL cand-v2: no data") {
		t.Errorf("stale judgments must not count:\n%s", r.stdout)
	}
	// With the answers' hashes they count, and the candidate loses 4 to 16.
	for i := range losing {
		losing[i] = strings.Replace(losing[i], `"reviewer"`, `"answer_sha":"2d711642b726b04401627ca9fbac32f5","reviewer"`, 1)
	}
	os.WriteFile(bad, []byte(strings.Join(losing, "\n")+"\n"), 0o644)
	r = run(t, nil, "gate", "--candidate", cand2, "--compare", bad, "--junit", junit)
	x, _ := os.ReadFile(junit)
	if r.code != exitCheck || !strings.Contains(r.stdout, "FAIL cand-v2: loses significantly") ||
		!strings.Contains(string(x), `<testsuite name="compare" tests="1" failures="1"`) {
		t.Errorf("gate on a losing candidate: exit %d\n%s\n%s", r.code, r.stdout, x)
	}

	// export preference: the candidate's answer is chosen where it won,
	// only for events with training consent, with TRL's columns.
	r = run(t, nil, "export", "preference", "--store", st)
	if r.code != 0 {
		t.Fatalf("export preference: %d %s", r.code, r.stderr)
	}
	promptOf := map[string]string{}
	ev := run(t, nil, "export", "events", "--store", st)
	for _, l := range strings.Split(strings.TrimSpace(ev.stdout), "\n") {
		var e struct {
			EventID string `json:"event_id"`
			Input   *struct{ Text string }
		}
		json.Unmarshal([]byte(l), &e)
		if e.Input != nil {
			promptOf[e.Input.Text] = e.EventID
		}
	}
	wantPairs := 0
	for i, id := range ids[1:11] { // ids[0] and ids[11] were undone
		if training[id] && (choices[i+1] == "candidate" || choices[i+1] == "current") {
			wantPairs++
		}
	}
	got := 0
	sc := bufio.NewScanner(strings.NewReader(r.stdout))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var row map[string]any
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			t.Fatal(err)
		}
		for _, col := range []string{"prompt", "chosen", "rejected", "source"} {
			if _, ok := row[col].(string); !ok {
				t.Fatalf("row lacks %s: %v", col, row)
			}
		}
		id := promptOf[row["prompt"].(string)]
		if !training[id] {
			t.Errorf("preference row of %q, which has no training consent", id)
		}
		if row["source"] == "comparison" {
			got++
			if !strings.HasPrefix(row["chosen"].(string), "candidate v2 answer") && !strings.HasPrefix(row["rejected"].(string), "candidate v2 answer") {
				t.Errorf("comparison row without the candidate's answer: %v", row)
			}
		} else if row["source"] != "user_edit" && row["source"] != "reference" {
			t.Errorf("source %v", row["source"])
		}
	}
	if got != wantPairs || wantPairs == 0 {
		t.Errorf("%d comparison rows, want %d (decisive judgments of consented events)", got, wantPairs)
	}
}

// TestCompareTUIInPty drives the real binary's Compare screen through 30
// comparisons, then reads the results with compare --json.
func TestCompareTUIInPty(t *testing.T) {
	st, cand, _, _ := compareFixture(t, 30)
	cmd := exec.Command(loupeBin, "tui", "--compare", cand, "--store", st, "--reviewer", "pty-rev")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := &screen{}
	go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(teeReader{f, sc}) }()
	waitFor(t, "the Compare screen", func() bool { return sc.contains("2 · right") }, sc)
	keys := strings.Repeat("1", 12) + strings.Repeat("2", 10) + "=====" + "xxx"
	for _, k := range keys {
		if _, err := f.Write([]byte(string(k))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	waitFor(t, "the results", func() bool { return sc.contains("compared all 30") }, sc)
	f.Write([]byte("q"))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tui exit: %v", err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Signal(syscall.SIGKILL)
		t.Fatal("tui did not quit on q")
	}

	r := run(t, nil, "export", "comparisons", "--store", st)
	choices := map[string]int{}
	wins, losses := 0, 0
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var j struct {
			Reviewer, Choice, Outcome, Via string
			Side                           string `json:"candidate_side"`
		}
		if err := json.Unmarshal([]byte(l), &j); err != nil {
			t.Fatal(err)
		}
		if j.Reviewer != "pty-rev" || j.Via != "tui" {
			t.Errorf("comparison %s", l)
		}
		choices[j.Choice]++
		switch {
		case j.Choice == j.Side:
			wins++
		case j.Choice == "left" || j.Choice == "right":
			losses++
		}
	}
	if choices["left"] != 12 || choices["right"] != 10 || choices["tie"] != 5 || choices["both_bad"] != 3 {
		t.Fatalf("choices recorded %v, keys pressed 12×1 10×2 5×= 3×x", choices)
	}
	c := compareResults(t, "--candidate", cand, "--store", st)
	o := c.Overall
	if o.N != 30 || o.Wins != wins || o.Losses != losses || o.Ties != 5 || o.BothBad != 3 {
		t.Fatalf("results %+v, want %d wins %d losses", o, wins, losses)
	}
	lo, hi := wilsonByBisection(float64(wins)+4, 30)
	if math.Abs(*o.Low-lo) > 1e-9 || math.Abs(*o.High-hi) > 1e-9 {
		t.Errorf("interval [%v, %v], want [%v, %v]", *o.Low, *o.High, lo, hi)
	}
	if want := exactSignP(wins, losses); math.Abs(*o.SignP-want) > 1e-15 {
		t.Errorf("sign p %v, want %v", *o.SignP, want)
	}
	if len(c.Reviewers) != 1 || c.Reviewers[0].Left != 12 || c.Reviewers[0].Right != 10 {
		t.Errorf("reviewers %+v", c.Reviewers)
	}
}

// A candidate's answer and a reviewer's note are masked before they reach
// the store, like every other free text.
func TestCompareMasksAnswerAndNote(t *testing.T) {
	st, _, ids, _ := compareFixture(t, 1)
	cand := filepath.Join(t.TempDir(), "leaky.jsonl")
	os.WriteFile(cand, []byte(fmt.Sprintf(`{"event_id":%q,"output":{"text":"write to jane.doe.compare@example.com about it"}}`+"\n", ids[0])), 0o644)
	r := run(t, nil, "compare", "record", ids[0], "--candidate", cand, "--choice", "candidate", "--note", "she said call 415-555-0199", "--store", st)
	if r.code != 0 {
		t.Fatalf("record: %d %s", r.code, r.stderr)
	}
	run(t, nil, "compare", "--candidate", cand, "--store", st) // reopen and close: everything flushed
	for _, needle := range []string{"jane.doe.compare@example.com", "415-555-0199"} {
		if hits := filesContaining(t, st, needle); len(hits) > 0 {
			t.Errorf("%q reached the store unmasked: %v", needle, hits)
		}
	}
	if r := run(t, nil, "export", "comparisons", "--store", st); !strings.Contains(r.stdout, `"note":"she said call [PHONE]"`) {
		t.Errorf("the note is not stored masked: %s", r.stdout)
	}
	r = run(t, nil, "export", "preference", "--store", st)
	if strings.Contains(r.stdout, "jane.doe.compare@") {
		t.Error("export preference holds the unmasked answer")
	}
}
