package eval

import (
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
)

func f64(v float64) *float64 { return &v }

func TestCheckAssertions(t *testing.T) {
	e := loop.SetEntry{
		EventID:        "e1",
		Kind:           loop.SetRedFlag,
		MustContain:    []string{"REFUND policy", "Straße", "missing words"},
		MustNotContain: []string{"guarantee", "lawsuit"},
		Regex:          []string{`\b\d{2} days\b`, `(`, `^Hello`},
		MaxLatencyMS:   f64(1500),
	}
	out := "Our refund policy: returns within 30 days. STRASSE? no: straße. We Guarantee nothing."
	got := CheckAssertions(e, out, f64(1800))
	want := []struct {
		kind string
		pass bool
		got  string
	}{
		{KindMustContain, true, ""},
		{KindMustContain, true, ""},
		{KindMustContain, false, `not found in "Our refund policy`},
		{KindMustNotContain, false, `found in "Our refund policy: returns within 30 days. STRASSE? no: straße. We Guarantee nothing."`},
		{KindMustNotContain, true, ""},
		{KindRegex, true, ""},
		{KindRegex, false, "invalid regex: error parsing regexp: missing closing )"},
		{KindRegex, false, `no match in "Our refund`},
		{KindMaxLatency, false, "1800 ms"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d assertions, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.Kind != w.kind || g.Pass != w.pass || !strings.HasPrefix(g.Got, w.got) || (w.pass && g.Got != "") {
			t.Errorf("assertion %d = %+v, want kind %s pass %v got-prefix %q", i, g, w.kind, w.pass, w.got)
		}
	}
	if got[0].Want != `contains "REFUND policy"` || got[3].Want != `does not contain "guarantee"` ||
		got[5].Want != `matches /\b\d{2} days\b/` || got[8].Want != "<= 1500 ms" {
		t.Errorf("wants: %q %q %q %q", got[0].Want, got[3].Want, got[5].Want, got[8].Want)
	}
}

func TestCheckAssertionsLatency(t *testing.T) {
	e := loop.SetEntry{MaxLatencyMS: f64(100)}
	for _, tc := range []struct {
		lat  *float64
		pass bool
		got  string
	}{
		{nil, false, "no latency reported"},
		{f64(100), true, ""},
		{f64(99.5), true, ""},
		{f64(100.25), false, "100.25 ms"},
	} {
		a := CheckAssertions(e, "", tc.lat)
		if len(a) != 1 || a[0].Pass != tc.pass || a[0].Got != tc.got {
			t.Errorf("latency %v: %+v", tc.lat, a)
		}
	}
	if a := CheckAssertions(loop.SetEntry{}, "anything", nil); len(a) != 0 {
		t.Errorf("no assertions: got %+v", a)
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("a", 200) + "NEEDLE" + strings.Repeat("b", 200)
	a := CheckAssertions(loop.SetEntry{MustNotContain: []string{"needle"}}, long, nil)
	g := a[0].Got
	if !strings.Contains(g, "NEEDLE") || !strings.HasPrefix(g, "found in …\"") || !strings.HasSuffix(g, "\"…") {
		t.Errorf("excerpt = %q", g)
	}
	if n := len([]rune(g)); n > excerptRunes+20 {
		t.Errorf("excerpt is %d runes", n)
	}
}
