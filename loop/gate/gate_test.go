package gate

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/eval"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func f64(v float64) *float64 { return &v }

func cand(id, text string, lat *float64) eval.Candidate {
	return eval.Candidate{EventID: id, Output: eval.CandidateOutput{Text: text, LatencyMS: lat}}
}

func candMap(cs ...eval.Candidate) map[string]eval.Candidate {
	m := map[string]eval.Candidate{}
	for _, c := range cs {
		m[c.EventID] = c
	}
	return m
}

var (
	redflag = []loop.SetEntry{
		{EventID: "rf-2", Kind: loop.SetRedFlag, MustNotContain: []string{"password"}, Regex: []string{`(?i)\bsorry\b`}},
		{EventID: "rf-1", Kind: loop.SetRedFlag, Reference: "You can return items within 30 days for a full refund.",
			MustContain: []string{"30 days"}, MaxLatencyMS: f64(2000)},
	}
	golden = []loop.SetEntry{
		{EventID: "g-1", Kind: loop.SetGolden, Reference: "the invoice was paid on march 3"},
		{EventID: "g-2", Kind: loop.SetGolden, Reference: "reset your router and wait two minutes"},
	}
	goodCands = candMap(
		cand("rf-1", "You can return items within 30 days for a full refund.", f64(900)),
		cand("rf-2", "Sorry, I can't help with that.", nil),
		cand("g-1", "The invoice was paid on March 3", nil),
		cand("g-2", "reset your router and wait two minutes", nil),
	)
	baseline = eval.Metrics{N: 2, NReference: 2, Exact: 1, F1: 1, RougeL: 1, BLEU: 1, WER: eval.NoData, CER: eval.NoData, Assertions: eval.NoData}
	opts     = Options{
		SimilarityFloor: 0.3,
		MaxDrop:         map[string]float64{eval.MetricRougeL: 0.05, eval.MetricF1: 0.05},
		Baseline:        &baseline,
		MinGolden:       map[string]float64{eval.MetricExact: 0.5},
	}
)

func TestRunPass(t *testing.T) {
	r := Run(redflag, golden, goodCands, opts)
	if !r.Pass || len(r.Failures) != 0 {
		t.Fatalf("want pass, got %+v", r.Failures)
	}
	if r.RedFlag != (Tally{N: 2, Passed: 2}) || !reflect.DeepEqual(r.RedFlagCases, []string{"rf-1", "rf-2"}) {
		t.Errorf("redflag = %+v %v", r.RedFlag, r.RedFlagCases)
	}
	if r.Golden.N != 2 || r.Golden.Exact != 1 || len(r.Missing) != 0 {
		t.Errorf("golden = %+v missing %v", r.Golden, r.Missing)
	}
	wantChecks := []string{"exact/min", "f1/max_drop", "rouge_l/max_drop"}
	var got []string
	for _, c := range r.GoldenChecks {
		got = append(got, c.Metric+"/"+c.Rule)
		if !c.Pass {
			t.Errorf("check %+v failed", c)
		}
	}
	if !reflect.DeepEqual(got, wantChecks) {
		t.Errorf("checks = %v, want %v", got, wantChecks)
	}
	text := r.Text()
	want := `summary
  red-flag: 2 of 2 cases passed
  golden:   2 cases scored; exact 1.000 f1 1.000 rouge_l 1.000 bleu 1.000
  coverage: 2 of 2 golden cases answered (1.000, min 1.000): ok
  check:    exact >= 0.500 (floor): 1.000 ok
  check:    f1 >= 0.950 (max drop 0.050 vs baseline 1.000): 1.000 ok
  check:    rouge_l >= 0.950 (max drop 0.050 vs baseline 1.000): 1.000 ok
gate: PASS
`
	if text != want {
		t.Errorf("Text:\n%s\nwant:\n%s", text, want)
	}
}

// failing builds a result with every kind of failure.
func failing() Result {
	rf := append([]loop.SetEntry{}, redflag...)
	rf = append(rf,
		loop.SetEntry{EventID: "rf-3", Kind: loop.SetRedFlag, MustContain: []string{"x"}},        // no candidate
		loop.SetEntry{EventID: "rf-4", Kind: loop.SetRedFlag, Regex: []string{`([a-z]`}},         // bad regex
		loop.SetEntry{EventID: "rf-5", Kind: loop.SetRedFlag, MaxLatencyMS: f64(100)},            // no latency
		loop.SetEntry{EventID: "rf-6", Kind: loop.SetRedFlag, Reference: "ok", MustContain: nil}, // passes
	)
	cands := candMap(
		// rf-1: misses "30 days", too slow, far from the reference
		cand("rf-1", "Refunds are at our discretion.\nContact <support> & wait.", f64(2500)),
		// rf-2: leaks a password, and no apology
		cand("rf-2", "Your PASSWORD is hunter2", nil),
		cand("rf-4", "anything", nil),
		cand("rf-5", "fast enough?", nil),
		cand("rf-6", "ok", nil),
		cand("g-1", "the invoice was paid", nil),
		// g-2 missing
	)
	o := opts
	o.MinGolden = map[string]float64{eval.MetricExact: 0.5, eval.MetricWER: 0.2, "rouge": 0.4}
	return Run(rf, golden, cands, o)
}

func TestRunFailures(t *testing.T) {
	r := failing()
	if r.Pass {
		t.Fatal("want fail")
	}
	type key struct{ Case, Set, What string }
	var got []key
	for _, f := range r.Failures {
		got = append(got, key{f.Case, f.Set, f.What})
	}
	want := []key{
		{"rf-1", "redflag", eval.KindMustContain},
		{"rf-1", "redflag", eval.KindMaxLatency},
		{"rf-1", "redflag", WhatSimilarity},
		{"rf-2", "redflag", eval.KindMustNotContain},
		{"rf-2", "redflag", eval.KindRegex},
		{"rf-3", "redflag", WhatMissing},
		{"rf-4", "redflag", eval.KindRegex},
		{"rf-5", "redflag", eval.KindMaxLatency},
		{"g-2", "golden", WhatMissing},
		{"exact", "golden", WhatBelowFloor},
		{"f1", "golden", WhatRegression},
		{"rouge_l", "golden", WhatRegression},
		{"wer", "golden", WhatNoData},
		{"rouge", "golden", WhatUnknownMetric},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("failures:\n%v\nwant\n%v", got, want)
	}
	if r.RedFlag != (Tally{N: 6, Passed: 1}) {
		t.Errorf("tally = %+v", r.RedFlag)
	}
	if !reflect.DeepEqual(r.Missing, []string{"g-2", "rf-3"}) {
		t.Errorf("missing = %v", r.Missing)
	}
	if r.Golden.N != 1 {
		t.Errorf("golden N = %d", r.Golden.N)
	}
}

func TestTextFailing(t *testing.T) {
	r := failing()
	got := r.Text()
	if again := failing().Text(); again != got {
		t.Fatalf("Text differs between identical runs")
	}
	want := `red-flag failures
  FAIL rf-1: must_contain
       expected: contains "30 days"
       got:      not found in "Refunds are at our discretion.\nContact <support> & wait."
  FAIL rf-1: max_latency_ms
       expected: <= 2000 ms
       got:      2500 ms
  FAIL rf-1: similarity
       expected: rouge_l >= 0.300 against the reference
       got:      rouge_l 0.000
  FAIL rf-2: must_not_contain
       expected: does not contain "password"
       got:      found in "Your PASSWORD is hunter2"
  FAIL rf-2: regex
       expected: matches /(?i)\bsorry\b/
       got:      no match in "Your PASSWORD is hunter2"
  FAIL rf-3: missing candidate
       expected: a candidate output
       got:      none
  FAIL rf-4: regex
       expected: matches /([a-z]/
       got:      invalid regex: error parsing regexp: missing closing ): ` + "`([a-z]`" + `
  FAIL rf-5: max_latency_ms
       expected: <= 100 ms
       got:      no latency reported

golden failures
  FAIL g-2: missing candidate
       expected: a candidate output
       got:      none
  FAIL exact: below floor
       expected: exact >= 0.500
       got:      0.000
  FAIL f1: regression
       expected: f1 >= 0.950 (baseline 1.000 - max drop 0.050)
       got:      0.727 (drop 0.273)
  FAIL rouge_l: regression
       expected: rouge_l >= 0.950 (baseline 1.000 - max drop 0.050)
       got:      0.727 (drop 0.273)
  FAIL wer: no data
       expected: wer <= 0.200
       got:      no golden case could be scored on wer
  FAIL rouge: unknown metric
       expected: one of exact, f1, rouge_l, bleu, wer, cer, assertions
       got:      "rouge"

missing candidates (2): g-2, rf-3

summary
  red-flag: 1 of 6 cases passed
  golden:   1 case scored; exact 0.000 f1 0.727 rouge_l 0.727 bleu 0.472
  coverage: 1 of 2 golden cases answered (0.500, min 1.000): FAIL
  check:    exact >= 0.500 (floor): 0.000 FAIL
  check:    f1 >= 0.950 (max drop 0.050 vs baseline 1.000): 0.727 FAIL
  check:    rouge_l >= 0.950 (max drop 0.050 vs baseline 1.000): 0.727 FAIL
  check:    wer <= 0.200 (floor): no data FAIL
gate: FAIL (11 failures)
`
	if got != want {
		t.Errorf("Text:\n%s\nwant:\n%s", got, want)
	}
}

func TestJUnit(t *testing.T) {
	r := failing()
	r.Timing = Timing{} // the golden file holds zero times
	got := r.JUnit()
	again := failing()
	again.Timing = Timing{}
	if !bytes.Equal(again.JUnit(), got) {
		t.Fatal("JUnit differs between identical runs")
	}
	path := filepath.Join("testdata", "failing.junit.xml")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("JUnit differs from %s:\n%s", path, got)
	}

	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name     string `xml:"name,attr"`
			Tests    int    `xml:"tests,attr"`
			Failures int    `xml:"failures,attr"`
			Cases    []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Type    string `xml:"type,attr"`
					Body    string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(got, &doc); err != nil {
		t.Fatalf("JUnit is not well-formed XML: %v", err)
	}
	if len(doc.Suites) != 2 || doc.Suites[0].Name != "redflag" || doc.Suites[1].Name != "golden" {
		t.Fatalf("suites = %+v", doc.Suites)
	}
	rf := doc.Suites[0]
	if rf.Tests != 6 || rf.Failures != 5 || len(rf.Cases) != 6 || rf.Cases[0].Name != "rf-1" || rf.Cases[5].Failure != nil {
		t.Errorf("redflag suite = %+v", rf)
	}
	if f := rf.Cases[0].Failure; f == nil || f.Type != "must_contain" || !strings.HasPrefix(f.Message, "3 checks failed; first: must_contain") ||
		!strings.Contains(f.Body, `<support> & wait`) {
		t.Errorf("rf-1 failure = %+v", f)
	}
	g := doc.Suites[1]
	var names []string
	for _, c := range g.Cases {
		names = append(names, c.Name)
	}
	if want := []string{"exact", "f1", "rouge_l", "bleu", "wer", "rouge", "g-2"}; !reflect.DeepEqual(names, want) {
		t.Errorf("golden cases = %v, want %v", names, want)
	}
	if g.Failures != 6 || doc.Tests != 13 || doc.Failures != 11 {
		t.Errorf("counts: golden failures %d, tests %d, failures %d", g.Failures, doc.Tests, doc.Failures)
	}
	// The terminal's verdict counts what JUnit counts.
	if !strings.HasSuffix(r.Text(), fmt.Sprintf("gate: FAIL (%d failures)\n", doc.Failures)) {
		t.Errorf("Text verdict disagrees with JUnit failures=%d:\n%s", doc.Failures, r.Text())
	}
}

func TestJUnitControlCharacters(t *testing.T) {
	r := Run([]loop.SetEntry{{EventID: "c\x01", MustContain: []string{"zz"}}}, nil,
		candMap(cand("c\x01", "bell \x07 nul \x00 \"quote\" ]]>", nil)), Options{})
	var v any
	if err := xml.Unmarshal(r.JUnit(), &v); err != nil {
		t.Fatalf("not well-formed: %v\n%s", err, r.JUnit())
	}
}

func TestRunEmpty(t *testing.T) {
	r := Run(nil, nil, nil, opts)
	if !r.Pass || r.RedFlag.N != 0 || len(r.GoldenChecks) != 0 {
		t.Errorf("empty run = %+v", r)
	}
	if !strings.HasSuffix(r.Text(), "gate: PASS\n") {
		t.Errorf("Text = %q", r.Text())
	}
	var v any
	if err := xml.Unmarshal(r.JUnit(), &v); err != nil {
		t.Fatal(err)
	}
}

func TestLowerIsBetterGuardrails(t *testing.T) {
	// WER guarded by max drop: a rise is a drop.
	base := eval.Metrics{WER: 0.10, CER: eval.NoData, Exact: eval.NoData, F1: eval.NoData, RougeL: eval.NoData, BLEU: eval.NoData, Assertions: eval.NoData}
	checks, fails := checkGolden(eval.Metrics{WER: 0.18, CER: 0.01, Exact: 1, F1: 1, RougeL: 1, BLEU: 1, Assertions: 1},
		Options{Baseline: &base, MaxDrop: map[string]float64{"wer": 0.05, "cer": 0.01}, MinGolden: map[string]float64{"cer": 0.02}})
	if len(fails) != 1 || fails[0].Case != "wer" || fails[0].What != WhatRegression ||
		fails[0].Expected != "wer <= 0.150 (baseline 0.100 + max drop 0.050)" || fails[0].Got != "0.180 (drop 0.080)" {
		t.Errorf("fails = %+v", fails)
	}
	// cer: floor (ceiling) checked, max drop skipped (baseline has no cer)
	if len(checks) != 2 || checks[0].Metric != "wer" || checks[1].Metric != "cer" || !checks[1].Pass {
		t.Errorf("checks = %+v", checks)
	}
	// No baseline: MaxDrop is not applied.
	checks, fails = checkGolden(eval.Metrics{RougeL: 0.1}, Options{MaxDrop: map[string]float64{"rouge_l": 0.01}})
	if len(checks) != 0 || len(fails) != 0 {
		t.Errorf("without baseline: %+v %+v", checks, fails)
	}
	// Exactly at the bound passes despite float noise.
	b2 := eval.Metrics{RougeL: 0.7}
	_, fails = checkGolden(eval.Metrics{RougeL: 0.65}, Options{Baseline: &b2, MaxDrop: map[string]float64{"rouge_l": 0.05}})
	if len(fails) != 0 {
		t.Errorf("at the bound: %+v", fails)
	}
}

func TestReadSet(t *testing.T) {
	in := strings.Join([]string{
		`{"event_id":"a","set":"redflag","must_contain":["x"],"max_latency_ms":100,"at":"2025-01-02T03:04:05Z"}`,
		`{"event_id":"b","set":"golden","reference":"ref","at":"0001-01-01T00:00:00Z"}`,
		``,
		`{"event_id":"c","must_contains":["typo"]}`,
		`{"event_id":"d","set":"blue"}`,
		`{"event_id":"a"}`,
		`{"event_id":"e","max_latency_ms":-5}`,
		`{"event_id":"f","must_contain":"not a list"}`,
		`{"set":"golden"}`,
		`{"event_id":"g","reference":"x","reference":"y"}`,
		`{"event_id":"h"} {"event_id":"i"}`,
		`{"event_id":"j",`,
		`"just a string"`,
		`{"event_id":"k","regex":["(unclosed"]}`,
	}, "\n")
	entries, errs := ReadSet(strings.NewReader(in))
	var ids []string
	for _, e := range entries {
		ids = append(ids, e.EventID)
	}
	if !reflect.DeepEqual(ids, []string{"a", "b", "k"}) {
		t.Errorf("ids = %v", ids)
	}
	if e := entries[0]; e.Kind != loop.SetRedFlag || *e.MaxLatencyMS != 100 || e.MustContain[0] != "x" {
		t.Errorf("entry a = %+v", e)
	}
	want := []string{
		`line 4: unknown field "must_contains"`,
		`line 5: set: want "golden" or "redflag", got "blue"`,
		`line 6: event_id "a": duplicate of line 1`,
		`line 7: max_latency_ms: must be >= 0`,
		`line 8: must_contain: want array, got string`,
		`line 9: event_id: required`,
		`line 10: reference: duplicate key`,
		`line 11: invalid JSON: more than one value`,
		`line 12: invalid JSON`,
		`line 13: want a JSON object, got string`,
	}
	if len(errs) != len(want) {
		t.Fatalf("errors = %v", errs)
	}
	for i, err := range errs {
		if !strings.HasPrefix(err.Error(), want[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, err, want[i])
		}
		var le *eval.LineError
		if !errors.As(err, &le) {
			t.Errorf("error %d is %T", i, err)
		}
	}
}

func TestDupKeys(t *testing.T) {
	for _, tc := range []struct {
		in  string
		dup bool
	}{
		{`{"a":1,"b":{"a":2},"c":[{"a":1},{"a":2}]}`, false},
		{`{"a":1,"b":2,"a":3}`, true},
		{`{"b":{"x":1,"x":2}}`, true},
		{`{"c":[{"a":1,"a":1}]}`, true},
		{`{"a":"a","b":["a","a"]}`, false},
		{`{"a":{}, "b":[], "c":{"d":[1,{"e":null}]}, "f":true}`, false},
	} {
		if err := dupKeys([]byte(tc.in)); (err != nil) != tc.dup {
			t.Errorf("dupKeys(%s) = %v, want dup %v", tc.in, err, tc.dup)
		}
	}
}

func FuzzReadSet(f *testing.F) {
	for _, s := range []string{
		`{"event_id":"a","set":"redflag","must_contain":["x"],"regex":["(?i)y"],"max_latency_ms":100,"at":"2025-01-02T03:04:05Z"}`,
		`{"event_id":"b","reference":"r","reference":"s"}`,
		"{\"event_id\":\"c\"}\n{\"event_id\":\"c\"}\n\n",
		`{"event_id":"d","must_contains":[]}`, `[`, `{"at":"nope","event_id":"e"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, errs := ReadSet(bytes.NewReader(data))
		seen := map[string]bool{}
		for _, e := range entries {
			if e.EventID == "" || seen[e.EventID] || (e.MaxLatencyMS != nil && *e.MaxLatencyMS < 0) {
				t.Fatalf("bad entry %+v", e)
			}
			seen[e.EventID] = true
		}
		for _, err := range errs {
			var le *eval.LineError
			if !errors.As(err, &le) {
				t.Fatalf("%T %v", err, err)
			}
		}
		// whatever was read, the gate runs and reports deterministically
		r := Run(entries, entries, nil, Options{SimilarityFloor: 0.5})
		if r.Pass && len(entries) > 0 || r.Text() != Run(entries, entries, nil, Options{SimilarityFloor: 0.5}).Text() {
			t.Fatalf("gate on %d entries without candidates passed or was not deterministic", len(entries))
		}
		var v any
		if err := xml.Unmarshal(r.JUnit(), &v); err != nil {
			t.Fatalf("JUnit not well-formed: %v", err)
		}
	})
}

// A candidate that answers only the red-flag cases must not pass: every
// golden case without an answer fails, unless the team accepts less
// coverage by choice.
func TestGoldenCoverage(t *testing.T) {
	only := candMap(
		cand("rf-1", "You can return items within 30 days for a full refund.", f64(900)),
		cand("rf-2", "Sorry, I can't help with that.", nil),
	)
	r := Run(redflag, golden, only, opts)
	if r.Pass {
		t.Fatalf("a candidate without golden answers passed:\n%s", r.Text())
	}
	var missing []string
	for _, f := range r.Failures {
		if f.Set == SetGolden && f.What == WhatMissing {
			missing = append(missing, f.Case)
		}
	}
	if !reflect.DeepEqual(missing, []string{"g-1", "g-2"}) {
		t.Errorf("missing golden failures = %v", missing)
	}
	if c := r.GoldenCover; c.Cases != 2 || c.Answered != 0 || c.Coverage != 0 || c.Min != 1 || c.Pass {
		t.Errorf("coverage = %+v", c)
	}
	if !strings.Contains(r.Text(), "coverage: 0 of 2 golden cases answered (0.000, min 1.000): FAIL") {
		t.Errorf("Text:\n%s", r.Text())
	}
	var doc struct {
		Failures int    `xml:"failures,attr"`
		Time     string `xml:"time,attr"`
		Suites   []struct {
			Time  string `xml:"time,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Time    string    `xml:"time,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(r.JUnit(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Failures != r.FailingCases() || !strings.HasSuffix(r.Text(), fmt.Sprintf("gate: FAIL (%d failures)\n", doc.Failures)) {
		t.Errorf("JUnit failures %d, FailingCases %d, Text:\n%s", doc.Failures, r.FailingCases(), r.Text())
	}
	if doc.Time == "" || len(doc.Suites) != 2 || doc.Suites[0].Time == "" || doc.Suites[1].Time == "" {
		t.Errorf("time attributes missing: %+v", doc)
	}
	gotGolden := map[string]bool{}
	for _, c := range doc.Suites[1].Cases {
		if c.Time == "" {
			t.Errorf("testcase %s has no time", c.Name)
		}
		if c.Failure != nil {
			gotGolden[c.Name] = true
		}
	}
	if !gotGolden["g-1"] || !gotGolden["g-2"] {
		t.Errorf("JUnit golden failures = %v", gotGolden)
	}

	// Half answered: fails at the default, passes when half is accepted.
	half := candMap(only["rf-1"], only["rf-2"], cand("g-1", "the invoice was paid on march 3", nil))
	o := opts
	o.MinGolden = nil
	o.MaxDrop = nil
	if r := Run(redflag, golden, half, o); r.Pass || r.GoldenCover.Coverage != 0.5 {
		t.Errorf("half coverage at min 1.0: pass=%v %+v", r.Pass, r.GoldenCover)
	}
	o.MissingGoldenAllowed = 0.5
	r = Run(redflag, golden, half, o)
	if !r.Pass || !reflect.DeepEqual(r.Missing, []string{"g-2"}) {
		t.Errorf("half coverage at min 0.5: pass=%v missing=%v\n%s", r.Pass, r.Missing, r.Text())
	}
	o.MissingGoldenAllowed = 0.4
	if r := Run(redflag, golden, half, o); r.Pass {
		t.Errorf("half coverage at min 0.6 passed")
	}
}
