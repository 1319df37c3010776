package eval

import (
	"regexp"
	"strconv"

	"github.com/loupe-dev/loupe/loop"
)

// Assertion kinds, as they appear in Assertion.Kind.
const (
	KindMustContain    = "must_contain"
	KindMustNotContain = "must_not_contain"
	KindRegex          = "regex"
	KindMaxLatency     = "max_latency_ms"
)

// Assertion is the outcome of one assertion of a set entry on one output.
// Want says what was required; Got says what the output had when it failed
// (an excerpt of the text, the match found, the latency), and is empty on a
// pass.
type Assertion struct {
	Kind string `json:"kind"`
	Want string `json:"want"`
	Pass bool   `json:"pass"`
	Got  string `json:"got,omitempty"`
}

// excerptRunes bounds the text quoted in Assertion.Got.
const excerptRunes = 120

// CheckAssertions checks out (and latency, nil when unknown) against every
// assertion of e, in the order must_contain, must_not_contain, regex,
// max_latency_ms, each list in its own order:
//
//   - must_contain / must_not_contain: case-insensitive substring tests
//     (Unicode simple case folding). An empty string is always contained.
//   - regex: Go RE2 syntax, matched anywhere in out, case-sensitive unless
//     the pattern says (?i). A pattern that does not compile is a failure
//     whose Got carries the compile error.
//   - max_latency_ms: the latency must be known and <= the bound.
func CheckAssertions(e loop.SetEntry, out string, latency *float64) []Assertion {
	var as []Assertion
	for _, s := range e.MustContain {
		a := Assertion{Kind: KindMustContain, Want: "contains " + strconv.Quote(s)}
		if _, ok := findFold(out, s); ok {
			a.Pass = true
		} else {
			a.Got = "not found in " + quoteExcerpt(out, 0, len(out))
		}
		as = append(as, a)
	}
	for _, s := range e.MustNotContain {
		a := Assertion{Kind: KindMustNotContain, Want: "does not contain " + strconv.Quote(s)}
		if loc, ok := findFold(out, s); ok {
			a.Got = "found in " + quoteExcerpt(out, loc[0], loc[1])
		} else {
			a.Pass = true
		}
		as = append(as, a)
	}
	for _, p := range e.Regex {
		a := Assertion{Kind: KindRegex, Want: "matches /" + p + "/"}
		re, err := regexp.Compile(p)
		switch {
		case err != nil:
			a.Got = "invalid regex: " + err.Error()
		case re.MatchString(out):
			a.Pass = true
		default:
			a.Got = "no match in " + quoteExcerpt(out, 0, len(out))
		}
		as = append(as, a)
	}
	if e.MaxLatencyMS != nil {
		a := Assertion{Kind: KindMaxLatency, Want: "<= " + fmtMS(*e.MaxLatencyMS) + " ms"}
		switch {
		case latency == nil:
			a.Got = "no latency reported"
		case *latency <= *e.MaxLatencyMS:
			a.Pass = true
		default:
			a.Got = fmtMS(*latency) + " ms"
		}
		as = append(as, a)
	}
	return as
}

func fmtMS(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// findFold finds needle in s ignoring case and returns its byte range in s.
func findFold(s, needle string) ([]int, bool) {
	if needle == "" {
		return []int{0, 0}, true
	}
	loc := regexp.MustCompile("(?i)" + regexp.QuoteMeta(needle)).FindStringIndex(s)
	return loc, loc != nil
}

// quoteExcerpt quotes s[from:to] with some context, cut to about
// excerptRunes runes, with "…" where it was cut.
func quoteExcerpt(s string, from, to int) string {
	r := []rune(s)
	// rune offsets of the byte range
	rf, rt := len([]rune(s[:from])), len([]rune(s[:to]))
	start, end := 0, len(r)
	if len(r) > excerptRunes {
		ctx := max((excerptRunes-(rt-rf))/2, 10)
		start, end = max(rf-ctx, 0), min(rt+ctx, len(r))
		if end-start > excerptRunes {
			end = start + excerptRunes
		}
	}
	q := strconv.Quote(string(r[start:end]))
	if start > 0 {
		q = "…" + q
	}
	if end < len(r) {
		q += "…"
	}
	return q
}

// allPass reports whether every assertion passed.
func allPass(as []Assertion) bool {
	for _, a := range as {
		if !a.Pass {
			return false
		}
	}
	return true
}
