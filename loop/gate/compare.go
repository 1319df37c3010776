package gate

import (
	"fmt"

	"github.com/loupe-dev/loupe/loop/compare"
)

// The pairwise check (gate --compare): human blind comparisons of the
// candidate against the current model, from an exported comparison file.
const (
	SetCompare = "compare"
	WhatLoses  = "loses significantly"
)

// CompareCheck is the pairwise check as applied: the candidate's record
// over the exported judgments, and whether it passed. It fails when the
// candidate loses significantly, the upper bound of the Wilson 95%
// interval of its win rate (ties as half a win) being below 0.5, and when
// there is no judgment of the candidate at all.
type CompareCheck struct {
	Candidate string        `json:"candidate"`
	Interval  string        `json:"interval"`
	Tally     compare.Tally `json:"tally"`
	Stale     int           `json:"stale"`
	Pass      bool          `json:"pass"`
}

// AddCompare applies the pairwise check to r from a candidate's results
// (compare.Compute over the exported judgments).
func (r *Result) AddCompare(cr compare.Results) {
	c := &CompareCheck{Candidate: cr.Candidate, Interval: cr.Interval, Tally: cr.Overall, Stale: cr.Stale, Pass: true}
	t := cr.Overall
	switch {
	case t.N == 0:
		c.Pass = false
		r.Failures = append(r.Failures, Failure{Case: cr.Candidate, Set: SetCompare, What: WhatNoData,
			Expected: "comparisons of the candidate in the file", Got: fmt.Sprintf("none (%d stale)", cr.Stale)})
	case t.LosesSignificantly():
		c.Pass = false
		r.Failures = append(r.Failures, Failure{Case: cr.Candidate, Set: SetCompare, What: WhatLoses,
			Expected: "upper bound of the 95% Wilson interval of the win rate >= 0.500",
			Got:      compareLine(t)})
	}
	r.Compare = c
	r.Pass = len(r.Failures) == 0
}

func compareLine(t compare.Tally) string {
	return fmt.Sprintf("win rate %s [%s, %s] over %d comparisons (%d wins, %d losses, %d ties, %d both bad; sign test p %s)",
		f3(float64(t.WinRate)), f3(float64(t.Low)), f3(float64(t.High)), t.N, t.Wins, t.Losses, t.Ties, t.BothBad, fmtP(float64(t.SignP)))
}

func fmtP(p float64) string {
	if p != p {
		return "–"
	}
	if p < 0.0001 {
		return "< 0.0001"
	}
	return fmt.Sprintf("%.4f", p)
}

// compareSummary is the check's line in the report's summary.
func (c *CompareCheck) summary() string {
	v := "ok"
	if !c.Pass {
		v = "FAIL"
	}
	if c.Tally.N == 0 {
		return fmt.Sprintf("%s: no comparisons %s", c.Candidate, v)
	}
	return fmt.Sprintf("%s: %s %s", c.Candidate, compareLine(c.Tally), v)
}

// compareSuite is the JUnit testsuite of the pairwise check: one testcase,
// the candidate; nil without the check.
func (r Result) compareSuite(mk func(set, name, out string) junitCase) *junitSuite {
	if r.Compare == nil {
		return nil
	}
	s := &junitSuite{Name: SetCompare}
	s.Cases = append(s.Cases, mk(SetCompare, r.Compare.Candidate, r.Compare.summary()))
	return s
}
