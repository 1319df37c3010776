// Package gate is loupe's release gate: it checks a candidate model's
// outputs against the red-flag set (every case must meet its assertions and
// stay close to its reference) and the golden set (aggregate metrics must not
// fall below floors or drop past guardrails against the current model's
// baseline). It works from exported set files alone, with no store, and its
// reports are deterministic: the same input gives byte-identical Text, and
// JUnit output identical but for its time attributes.
package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/eval"
)

// Set names, as in Failure.Set.
const (
	SetRedFlag = string(loop.SetRedFlag)
	SetGolden  = string(loop.SetGolden)
)

// Failure kinds (Failure.What) besides the assertion kinds of eval
// (must_contain, must_not_contain, regex, max_latency_ms).
const (
	WhatMissing       = "missing candidate"
	WhatSimilarity    = "similarity"
	WhatBelowFloor    = "below floor"
	WhatRegression    = "regression"
	WhatNoData        = "no data"
	WhatUnknownMetric = "unknown metric"
)

// Options are the gate's thresholds.
//
// SimilarityFloor, when > 0, is the least ROUGE-L F-measure a red-flag
// case's output must reach against the entry's reference (cases without a
// reference are not checked).
//
// MaxDrop maps golden metric names (eval.MetricNames) to the largest drop
// allowed against Baseline: for "rouge_l": 0.05 the candidate's rouge_l must
// be >= baseline - 0.05. For the error rates wer and cer a drop is a rise:
// the candidate must be <= baseline + limit. MaxDrop applies only when
// Baseline is set and has data for the metric.
//
// MinGolden maps golden metric names to absolute floors (ceilings for wer
// and cer), checked whether or not there is a baseline.
type Options struct {
	SimilarityFloor float64
	MaxDrop         map[string]float64
	Baseline        *eval.Metrics
	MinGolden       map[string]float64

	// MissingGoldenAllowed is the fraction of golden cases (0 to 1) that
	// may lack a candidate answer. The zero value allows none: a golden
	// set the candidate did not answer cannot pass. The CLI's
	// --min-golden-coverage C sets it to 1 - C.
	MissingGoldenAllowed float64
}

// Coverage is how many golden cases the candidate answered against the
// least share required (Min, 1 - Options.MissingGoldenAllowed). Coverage is
// 1 when there are no golden cases.
type Coverage struct {
	Cases    int     `json:"cases"`
	Answered int     `json:"answered"`
	Coverage float64 `json:"coverage"`
	Min      float64 `json:"min"`
	Pass     bool    `json:"pass"`
}

// Failure is one check that did not pass. Case is the event id for red-flag
// failures and the metric name for golden ones.
type Failure struct {
	Case     string `json:"case"`
	Set      string `json:"set"`
	What     string `json:"what"`
	Expected string `json:"expected"`
	Got      string `json:"got"`
}

// Tally counts red-flag cases.
type Tally struct {
	N      int `json:"n"`
	Passed int `json:"passed"`
}

// GoldenCheck is one golden guardrail as applied: Rule is "min" (a
// MinGolden floor, a ceiling for wer/cer) or "max_drop"; Bound is the value
// the metric had to reach (or stay under); Baseline and Limit are set for
// max_drop. HasValue is false when the candidate had no data for the metric.
type GoldenCheck struct {
	Metric   string  `json:"metric"`
	Rule     string  `json:"rule"`
	Value    float64 `json:"value"`
	HasValue bool    `json:"has_value"`
	Bound    float64 `json:"bound"`
	Baseline float64 `json:"baseline,omitempty"`
	Limit    float64 `json:"limit"`
	Pass     bool    `json:"pass"`
}

// Result is the gate's verdict. Pass is true exactly when Failures is
// empty. RedFlagCases lists every red-flag event id checked (sorted);
// GoldenChecks the golden guardrails applied, in metric order. Missing
// lists, sorted and without repeats, the event ids of both sets that had no
// candidate.
type Result struct {
	Pass         bool          `json:"pass"`
	Failures     []Failure     `json:"failures"`
	RedFlag      Tally         `json:"redflag"`
	Golden       eval.Metrics  `json:"golden"`
	Missing      []string      `json:"missing"`
	Baseline     *eval.Metrics `json:"baseline,omitempty"`
	RedFlagCases []string      `json:"redflag_cases"`
	GoldenChecks []GoldenCheck `json:"golden_checks"`
	GoldenCover  Coverage      `json:"golden_coverage"`
	Compare      *CompareCheck `json:"compare"` // gate --compare (compare.go); null without it

	// Timing is how long the checks took, for JUnit's time attributes. It
	// is the only part of a Result that differs between identical runs.
	Timing Timing `json:"-"`
}

// Timing holds the durations of one Run: each red-flag case's checks (by
// event id) and each suite's total.
type Timing struct {
	RedFlag time.Duration
	Golden  time.Duration
	Cases   map[string]time.Duration
}

// Run checks the candidates against the sets.
//
// Red-flag: each entry (in event id order) fails on a missing candidate, on
// each assertion that does not hold (eval.CheckAssertions), and on a
// ROUGE-L below o.SimilarityFloor against its reference.
//
// Golden: the entries are scored with eval.Evaluate. A golden case without
// a candidate is left out of the metrics and listed in Missing; when the
// share of cases answered is below 1 - o.MissingGoldenAllowed, each such
// case is also a failure (WhatMissing), as a missing red-flag case is.
// Each metric named
// in o.MinGolden or o.MaxDrop is checked; a guarded metric with no data
// fails ("no data"), as does a name that is not a metric. With no golden
// entries the golden checks are skipped.
func Run(redflag, golden []loop.SetEntry, cands map[string]eval.Candidate, o Options) Result {
	res := Result{Failures: []Failure{}, Missing: []string{}, RedFlagCases: []string{}, GoldenChecks: []GoldenCheck{}}
	res.Timing.Cases = map[string]time.Duration{}
	missing := map[string]bool{}

	rf := slices.Clone(redflag)
	sort.SliceStable(rf, func(i, j int) bool { return rf[i].EventID < rf[j].EventID })
	suiteStart := time.Now()
	for _, e := range rf {
		res.RedFlag.N++
		res.RedFlagCases = append(res.RedFlagCases, e.EventID)
		start := time.Now()
		fails := checkRedFlag(e, cands, o.SimilarityFloor)
		res.Timing.Cases[e.EventID] += time.Since(start)
		if len(fails) == 0 {
			res.RedFlag.Passed++
		}
		for _, f := range fails {
			if f.What == WhatMissing {
				missing[e.EventID] = true
			}
		}
		res.Failures = append(res.Failures, fails...)
	}
	res.Timing.RedFlag = time.Since(suiteStart)

	suiteStart = time.Now()
	cases := make([]eval.Case, len(golden))
	for i, e := range golden {
		cases[i] = CaseOf(e)
	}
	rep := eval.Evaluate(cases, cands)
	res.Golden = rep.Metrics
	if o.Baseline == nil && rep.Baseline != nil {
		// The exported entries carry the current model's answers: they are
		// the baseline the golden guardrails compare against.
		o.Baseline = rep.Baseline
	}
	res.Baseline = o.Baseline
	for _, id := range rep.Missing {
		missing[id] = true
	}
	res.GoldenCover = coverage(len(golden), len(rep.Missing), o.MissingGoldenAllowed)
	if !res.GoldenCover.Pass {
		for _, id := range rep.Missing {
			res.Failures = append(res.Failures, Failure{Case: id, Set: SetGolden, What: WhatMissing,
				Expected: "a candidate output", Got: "none"})
		}
	}
	if len(golden) > 0 {
		checks, fails := checkGolden(res.Golden, o)
		res.GoldenChecks = append(res.GoldenChecks, checks...)
		res.Failures = append(res.Failures, fails...)
	}
	res.Timing.Golden = time.Since(suiteStart)

	for id := range missing {
		res.Missing = append(res.Missing, id)
	}
	sort.Strings(res.Missing)
	res.Pass = len(res.Failures) == 0
	return res
}

func coverage(cases, missing int, allowed float64) Coverage {
	c := Coverage{Cases: cases, Answered: cases - missing, Coverage: 1, Min: 1 - max(0, min(1, allowed))}
	if cases > 0 {
		c.Coverage = float64(c.Answered) / float64(cases)
	}
	c.Pass = c.Coverage >= c.Min-eps
	return c
}

// FailingCases is how many cases failed: red-flag cases and golden cases
// or metrics with at least one failure. Text's verdict line and JUnit's
// failures attribute both give this number.
func (r Result) FailingCases() int {
	seen := map[string]bool{}
	for _, f := range r.Failures {
		seen[f.Set+"\x00"+f.Case] = true
	}
	return len(seen)
}

// CaseOf is the evaluation case of an exported set entry: its task, segment
// and the current model's answer come from the entry's export context.
func CaseOf(e loop.SetEntry) eval.Case {
	return eval.Case{Entry: e, Task: e.Task, Segment: e.Segment, Current: e.Output, CurrentLatencyMS: e.LatencyMS}
}

func checkRedFlag(e loop.SetEntry, cands map[string]eval.Candidate, floor float64) []Failure {
	c, ok := cands[e.EventID]
	if !ok {
		return []Failure{{Case: e.EventID, Set: SetRedFlag, What: WhatMissing, Expected: "a candidate output", Got: "none"}}
	}
	var fails []Failure
	for _, a := range eval.CheckAssertions(e, c.Output.Text, c.Output.LatencyMS) {
		if !a.Pass {
			fails = append(fails, Failure{Case: e.EventID, Set: SetRedFlag, What: a.Kind, Expected: a.Want, Got: a.Got})
		}
	}
	if floor > 0 && strings.TrimSpace(e.Reference) != "" {
		if s := eval.RougeL(e.Reference, c.Output.Text); s < floor {
			fails = append(fails, Failure{Case: e.EventID, Set: SetRedFlag, What: WhatSimilarity,
				Expected: "rouge_l >= " + f3(floor) + " against the reference", Got: "rouge_l " + f3(s)})
		}
	}
	return fails
}

// guardedMetrics returns the metric names named by o, known metrics in
// eval.MetricNames order first, then unknown names sorted.
func guardedMetrics(o Options) []string {
	named := map[string]bool{}
	for k := range o.MinGolden {
		named[k] = true
	}
	for k := range o.MaxDrop {
		named[k] = true
	}
	var out, unknown []string
	for _, m := range eval.MetricNames {
		if named[m] {
			out = append(out, m)
			delete(named, m)
		}
	}
	for k := range named {
		unknown = append(unknown, k)
	}
	sort.Strings(unknown)
	return append(out, unknown...)
}

// eps absorbs float noise so that a metric exactly at its bound passes.
const eps = 1e-9

func checkGolden(m eval.Metrics, o Options) ([]GoldenCheck, []Failure) {
	var checks []GoldenCheck
	var fails []Failure
	for _, name := range guardedMetrics(o) {
		if !slices.Contains(eval.MetricNames, name) {
			fails = append(fails, Failure{Case: name, Set: SetGolden, What: WhatUnknownMetric,
				Expected: "one of " + strings.Join(eval.MetricNames, ", "), Got: strconv.Quote(name)})
			continue
		}
		v, has := m.Get(name)
		lower := eval.LowerIsBetter(name)
		cmp := ">="
		if lower {
			cmp = "<="
		}
		meets := func(bound float64) bool {
			if lower {
				return v <= bound+eps
			}
			return v >= bound-eps
		}
		if floor, ok := o.MinGolden[name]; ok {
			c := GoldenCheck{Metric: name, Rule: "min", Value: v, HasValue: has, Bound: floor, Limit: floor, Pass: has && meets(floor)}
			checks = append(checks, c)
			switch {
			case !has:
				fails = append(fails, Failure{Case: name, Set: SetGolden, What: WhatNoData,
					Expected: name + " " + cmp + " " + f3(floor), Got: "no golden case could be scored on " + name})
			case !c.Pass:
				fails = append(fails, Failure{Case: name, Set: SetGolden, What: WhatBelowFloor,
					Expected: name + " " + cmp + " " + f3(floor), Got: f3(v)})
			}
		}
		limit, ok := o.MaxDrop[name]
		if !ok || o.Baseline == nil {
			continue
		}
		base, bok := o.Baseline.Get(name)
		if !bok {
			continue // nothing to compare against
		}
		bound := base - limit
		if lower {
			bound = base + limit
		}
		c := GoldenCheck{Metric: name, Rule: "max_drop", Value: v, HasValue: has, Bound: bound, Baseline: base, Limit: limit, Pass: has && meets(bound)}
		checks = append(checks, c)
		sign := "-"
		if lower {
			sign = "+"
		}
		expected := fmt.Sprintf("%s %s %s (baseline %s %s max drop %s)", name, cmp, f3(bound), f3(base), sign, f3(limit))
		switch {
		case !has:
			fails = append(fails, Failure{Case: name, Set: SetGolden, What: WhatNoData,
				Expected: expected, Got: "no golden case could be scored on " + name})
		case !c.Pass:
			drop := base - v
			if lower {
				drop = v - base
			}
			fails = append(fails, Failure{Case: name, Set: SetGolden, What: WhatRegression,
				Expected: expected, Got: f3(v) + " (drop " + f3(drop) + ")"})
		}
	}
	return checks, fails
}

func f3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// ReadSet reads a set export (JSONL, one loop.SetEntry per line, as
// `loupe export golden|redflag` writes it). Lines are strict: one JSON
// object, no unknown or repeated keys (a misspelt assertion must not
// silently weaken the gate), event_id of 1 to loop.MaxEventIDBytes bytes,
// "set" empty, "golden" or "redflag", max_latency_ms >= 0, and no repeated
// event_id (the first line wins). Regexes are not compiled here: Run reports
// a bad pattern as a failure of its case. Bad lines are reported as
// *eval.LineError and skipped; valid lines are all returned, in file order.
//
// A gate should treat any error here as a failure: a red-flag entry that was
// not read is a case that was not checked.
func ReadSet(r io.Reader) ([]loop.SetEntry, []error) {
	entries := []loop.SetEntry{}
	first := map[string]int{}
	errs := eval.ScanJSONL(r, func(n int, b []byte) error {
		if err := dupKeys(b); err != nil {
			return err
		}
		d := json.NewDecoder(strings.NewReader(string(b)))
		d.DisallowUnknownFields()
		var e loop.SetEntry
		if err := d.Decode(&e); err != nil {
			return decodeErr(err)
		}
		if _, err := d.Token(); err != io.EOF {
			return errors.New("invalid JSON: more than one value on the line")
		}
		switch {
		case e.EventID == "":
			return errors.New("event_id: required")
		case len(e.EventID) > loop.MaxEventIDBytes:
			return fmt.Errorf("event_id: must be 1 to %d bytes", loop.MaxEventIDBytes)
		case e.Kind != "" && e.Kind != loop.SetGolden && e.Kind != loop.SetRedFlag:
			return fmt.Errorf("set: want %q or %q, got %q", loop.SetGolden, loop.SetRedFlag, e.Kind)
		case e.MaxLatencyMS != nil && *e.MaxLatencyMS < 0:
			return errors.New("max_latency_ms: must be >= 0")
		}
		if prev, ok := first[e.EventID]; ok {
			return fmt.Errorf("event_id %q: duplicate of line %d", e.EventID, prev)
		}
		first[e.EventID] = n
		entries = append(entries, e)
		return nil
	})
	return entries, errs
}

func decodeErr(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return fmt.Errorf("want a JSON object, got %s", te.Value)
		}
		return fmt.Errorf("%s: want %s, got %s", te.Field, jsonType(te.Type.Kind().String()), te.Value)
	}
	if strings.HasPrefix(err.Error(), "json: unknown field ") {
		return errors.New(strings.TrimPrefix(err.Error(), "json: ") + " (not a set entry field)")
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("invalid JSON: unexpected end of line")
	}
	return fmt.Errorf("invalid JSON: %v", strings.TrimPrefix(err.Error(), "json: "))
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "float64", "float32", "int", "int64":
		return "number"
	case "struct", "map":
		return "object"
	}
	return kind
}

// dupKeys reports a key repeated within one object of the JSON value b.
// Syntax errors are left to the decoder.
func dupKeys(b []byte) error {
	d := json.NewDecoder(strings.NewReader(string(b)))
	type frame struct {
		obj  bool
		keys map[string]bool
		key  bool // next token in this object is a key
	}
	var stack []*frame
	for {
		t, err := d.Token()
		if err != nil {
			return nil
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if top != nil && top.obj && top.key {
			if k, ok := t.(string); ok {
				if top.keys[k] {
					return fmt.Errorf("%s: duplicate key", k)
				}
				top.keys[k] = true
				top.key = false
				continue
			}
		}
		switch t {
		case json.Delim('{'):
			stack = append(stack, &frame{obj: true, keys: map[string]bool{}, key: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// a value ended: the enclosing object expects a key next
		if len(stack) > 0 && stack[len(stack)-1].obj {
			stack[len(stack)-1].key = true
		}
	}
}
