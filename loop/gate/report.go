package gate

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop/eval"
)

// Text is the gate report for a terminal or a CI log: the failures (case,
// what failed, expected and got), the cases without a candidate, and a
// summary last. It depends only on r: the same result gives the same bytes.
func (r Result) Text() string {
	var b strings.Builder
	section := func(set, title string) {
		first := true
		for _, f := range r.Failures {
			if f.Set != set {
				continue
			}
			if first {
				fmt.Fprintf(&b, "%s\n", title)
				first = false
			}
			fmt.Fprintf(&b, "  FAIL %s: %s\n", f.Case, f.What)
			fmt.Fprintf(&b, "       expected: %s\n", oneLine(f.Expected))
			fmt.Fprintf(&b, "       got:      %s\n", oneLine(f.Got))
		}
		if !first {
			b.WriteString("\n")
		}
	}
	section(SetRedFlag, "red-flag failures")
	section(SetGolden, "golden failures")
	section(SetCompare, "pairwise comparison failures") // compare.go
	if len(r.Missing) > 0 {
		fmt.Fprintf(&b, "missing candidates (%d): %s\n\n", len(r.Missing), strings.Join(r.Missing, ", "))
	}

	b.WriteString("summary\n")
	fmt.Fprintf(&b, "  red-flag: %d of %d cases passed\n", r.RedFlag.Passed, r.RedFlag.N)
	fmt.Fprintf(&b, "  golden:   %d %s scored;%s\n", r.Golden.N, plural(r.Golden.N, "case", "cases"), metricLine(r.Golden))
	if c := r.GoldenCover; c.Cases > 0 {
		verdict := "ok"
		if !c.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(&b, "  coverage: %d of %d golden cases answered (%s, min %s): %s\n", c.Answered, c.Cases, f3(c.Coverage), f3(c.Min), verdict)
	}
	for _, c := range r.GoldenChecks {
		fmt.Fprintf(&b, "  check:    %s\n", checkLine(c))
	}
	if r.Compare != nil { // compare.go
		fmt.Fprintf(&b, "  compare:  %s\n", r.Compare.summary())
	}
	if r.Pass {
		b.WriteString("gate: PASS\n")
	} else {
		n := r.FailingCases()
		fmt.Fprintf(&b, "gate: FAIL (%d %s)\n", n, plural(n, "failure", "failures"))
	}
	return b.String()
}

func metricLine(m eval.Metrics) string {
	var b strings.Builder
	for _, name := range eval.MetricNames {
		if v, ok := m.Get(name); ok {
			fmt.Fprintf(&b, " %s %s", name, f3(v))
		}
	}
	if b.Len() == 0 {
		return " no metrics"
	}
	return b.String()
}

func checkLine(c GoldenCheck) string {
	cmp := ">="
	if eval.LowerIsBetter(c.Metric) {
		cmp = "<="
	}
	got := "no data"
	if c.HasValue {
		got = f3(c.Value)
	}
	verdict := "ok"
	if !c.Pass {
		verdict = "FAIL"
	}
	rule := "floor"
	if c.Rule == "max_drop" {
		rule = "max drop " + f3(c.Limit) + " vs baseline " + f3(c.Baseline)
	}
	return fmt.Sprintf("%s %s %s (%s): %s %s", c.Metric, cmp, f3(c.Bound), rule, got, verdict)
}

// secs is a JUnit time attribute: seconds with millisecond precision.
func secs(d time.Duration) string { return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// oneLine keeps a report line on one line.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", `\n`, "\n", `\n`, "\r", `\r`).Replace(s)
}

// xmlSafe replaces the runes XML 1.0 cannot carry (most control
// characters, surrogates, U+FFFE/U+FFFF) with U+FFFD. encoding/xml does the
// same for attributes and character data but not for CDATA sections.
func xmlSafe(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r',
			r >= 0x20 && r <= 0xD7FF,
			r >= 0xE000 && r <= 0xFFFD,
			r >= 0x10000 && r <= 0x10FFFF:
			return r
		}
		return '\uFFFD'
	}, s)
}

// JUnit XML (the common Ant/Jenkins/GitLab dialect).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Cases     []junitCase `xml:"testcase"`
	SystemOut string      `xml:"system-out,omitempty"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",cdata"`
}

// JUnit is the gate result as JUnit XML: a testsuite "redflag" with one
// testcase per red-flag case and a testsuite "golden" with one testcase per
// golden metric that had data or was guarded. A failing testcase holds one
// <failure> whose message is its first failure and whose body lists all of
// them. A golden case without a candidate is a testcase of the golden suite
// (named by its event id) when coverage fell short. The failures attributes
// count failing testcases, the number Text's verdict line gives. Times are
// seconds from r.Timing (per red-flag case; golden testcases are scored
// together, so only their suite has a time); apart from them the bytes depend
// only on r.
func (r Result) JUnit() []byte {
	byCase := map[string][]Failure{}
	for _, f := range r.Failures {
		k := f.Set + "\x00" + f.Case
		byCase[k] = append(byCase[k], f)
	}
	mk := func(set, name, out string) junitCase {
		c := junitCase{Name: name, Classname: "loupe.gate." + set, SystemOut: out, Time: secs(0)}
		if set == SetRedFlag {
			c.Time = secs(r.Timing.Cases[name])
		}
		fs := byCase[set+"\x00"+name]
		if len(fs) == 0 {
			return c
		}
		var body strings.Builder
		for _, f := range fs {
			fmt.Fprintf(&body, "%s\n  expected: %s\n  got:      %s\n", f.What, oneLine(f.Expected), oneLine(f.Got))
		}
		msg := fs[0].What + ": expected " + oneLine(fs[0].Expected) + ", got " + oneLine(fs[0].Got)
		if len(fs) > 1 {
			msg = fmt.Sprintf("%d checks failed; first: %s", len(fs), msg)
		}
		c.Failure = &junitFailure{Message: msg, Type: fs[0].What, Body: xmlSafe(body.String())}
		return c
	}

	red := junitSuite{Name: SetRedFlag, Time: secs(r.Timing.RedFlag)}
	for _, id := range r.RedFlagCases {
		red.Cases = append(red.Cases, mk(SetRedFlag, id, ""))
	}

	gold := junitSuite{Name: SetGolden, Time: secs(r.Timing.Golden)}
	guarded := map[string]bool{}
	for _, f := range r.Failures {
		if f.Set == SetGolden {
			guarded[f.Case] = true
		}
	}
	for _, c := range r.GoldenChecks {
		guarded[c.Metric] = true
	}
	names := append([]string{}, eval.MetricNames...)
	for _, f := range r.Failures { // unknown metric names, in failure order
		if f.Set == SetGolden && f.What == WhatUnknownMetric {
			names = append(names, f.Case)
		}
	}
	for _, name := range names {
		v, has := r.Golden.Get(name)
		if !has && !guarded[name] {
			continue
		}
		out := "no data"
		if has {
			out = name + " = " + f3(v)
		}
		gold.Cases = append(gold.Cases, mk(SetGolden, name, out))
	}
	for _, f := range r.Failures {
		if f.Set == SetGolden && f.What == WhatMissing {
			gold.Cases = append(gold.Cases, mk(SetGolden, f.Case, ""))
		}
	}
	if len(r.Missing) > 0 {
		gold.SystemOut = "missing candidates: " + strings.Join(r.Missing, ", ")
	}

	doc := junitSuites{Name: "loupe gate", Time: secs(r.Timing.RedFlag + r.Timing.Golden)}
	suites := []*junitSuite{&red, &gold}
	if cs := r.compareSuite(mk); cs != nil { // compare.go
		suites = append(suites, cs)
	}
	for _, s := range suites {
		s.Tests = len(s.Cases)
		for _, c := range s.Cases {
			if c.Failure != nil {
				s.Failures++
			}
		}
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Suites = append(doc.Suites, *s)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil { // cannot happen: only strings and ints
		panic(err)
	}
	return append(append([]byte(xml.Header), out...), '\n')
}
