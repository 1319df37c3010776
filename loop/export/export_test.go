package export

import (
	"reflect"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/compare"
)

func ptr[T any](v T) *T { return &v }

func event(id string, consent *loop.Consent, thumb string, edit string) *loop.Event {
	e := &loop.Event{EventID: id, Input: &loop.Input{Text: "prompt " + id}, Output: &loop.Output{Text: "output " + id}, Consent: consent}
	e.Explicit = &loop.Explicit{UserEdit: edit}
	if thumb != "" {
		e.Explicit.Thumb = ptr(thumb)
	}
	return e
}

func TestTrainingRespectsConsent(t *testing.T) {
	yes := &loop.Consent{Analytics: ptr(true), Training: ptr(true)}
	no := &loop.Consent{Analytics: ptr(true), Training: ptr(false)}
	cases := []struct {
		e          *loop.Event
		sft, pref  bool
		kto, label bool
	}{
		{event("a", yes, "down", "fixed"), true, true, true, false},
		{event("b", no, "down", "fixed"), false, false, false, false},
		{event("c", nil, "up", ""), false, false, false, false}, // consent not recorded: never training data
		{event("d", yes, "up", ""), false, false, true, true},
		{event("e", yes, "", "output e"), true, false, false, false}, // edit equal to output: no preference pair
	}
	for _, c := range cases {
		_, sft := ToSFT(c.e, nil)
		p, pref := ToPreference(c.e, nil)
		k, kto := ToKTO(c.e)
		if sft != c.sft || pref != c.pref || kto != c.kto || (kto && k.Label != c.label) {
			t.Errorf("%s: sft %v pref %v kto %v/%v", c.e.EventID, sft, pref, kto, k.Label)
		}
		if pref && (p.Chosen != "fixed" || p.Rejected != "output a") {
			t.Errorf("%s: preference %+v", c.e.EventID, p)
		}
	}
	// A reviewer's reference wins over the user's edit.
	s, _ := ToSFT(event("a", yes, "down", "fixed"), map[string]string{"a": "reviewed"})
	if s.Completion != "reviewed" {
		t.Errorf("reference not preferred: %+v", s)
	}
}

func TestEventCSVWidth(t *testing.T) {
	row := EventCSV(event("a", nil, "down", "x"))
	if len(row) != len(EventCSVHeader) || row[6] != "down" || row[18] != "x" {
		t.Errorf("row %v", row)
	}
}

func TestGuard(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"+1+1", "'+1+1"}, {"-2+3", "'-2+3"}, {"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"}, {"\rx", "'\rx"}, {"'quoted", "''quoted"},
		{"plain", "plain"}, {"", ""}, {" =not first", " =not first"},
	} {
		if got := Guard(c.in); got != c.want {
			t.Errorf("Guard(%q) = %q, want %q", c.in, got, c.want)
		}
		if back := Unguard(Guard(c.in)); back != c.in {
			t.Errorf("Unguard(Guard(%q)) = %q", c.in, back)
		}
	}
}

// Every text cell of every CSV export is guarded, and list cells come back
// as the lists they were, separators inside values included.
func TestCSVRowsGuardedAndListsRoundTrip(t *testing.T) {
	evil := "=cmd|' /C calc'!A0"
	e := event("=id", nil, "down", evil)
	e.ModelVersion, e.TaskType, e.Input.Text, e.Output.Text = "+m", "@t", "-in", "\tout"
	e.Explicit.ReasonCodes = []string{"a;b", "c"}
	e.Explicit.ReasonText = "\rwhy"
	l := loop.Label{EventID: "=id", Reviewer: "@alice", Grade: loop.GradeFail, Reasons: []string{"a;b", "c"}, Note: "=1+1", Reference: "-ref"}
	se := loop.SetEntry{EventID: "=id", Kind: loop.SetRedFlag, Reference: "+ref", MustContain: []string{"a;b", "c", "=x"},
		MustNotContain: []string{`"q",`}, AddedBy: "@bob", Input: "=in", Output: "-out", Model: "+m", Task: "@t", Segment: "=s",
		LatencyMS: ptr(12.5)}
	rows := map[string][]string{"event": EventCSV(e), "label": LabelCSV(l), "set": SetCSV(se)}
	for name, row := range rows {
		for i, cell := range row {
			if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
				t.Errorf("%s cell %d = %q starts a formula", name, i, cell)
			}
		}
	}
	check := func(name, cell string, want []string) {
		got, err := ParseListCell(cell)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s list %q -> %v %v, want %v", name, cell, got, err, want)
		}
	}
	check("event reasons", rows["event"][8], []string{"a;b", "c"})
	check("label reasons", rows["label"][3], []string{"a;b", "c"})
	check("set must_contain", rows["set"][3], []string{"a;b", "c", "=x"})
	check("set must_not_contain", rows["set"][4], []string{`"q",`})
	check("set regex", rows["set"][5], []string{})
	if got := Unguard(rows["event"][18]); got != evil {
		t.Errorf("user_edit = %q", got)
	}
	// The set CSV carries the JSONL's export context.
	s := rows["set"]
	if len(s) != len(SetCSVHeader) {
		t.Fatalf("set row has %d cells, header %d", len(s), len(SetCSVHeader))
	}
	byName := map[string]string{}
	for i, h := range SetCSVHeader {
		byName[h] = Unguard(s[i])
	}
	for k, want := range map[string]string{"input": "=in", "output": "-out", "model_version": "+m", "task_type": "@t",
		"user_segment": "=s", "latency_ms": "12.5"} {
		if byName[k] != want {
			t.Errorf("set csv %s = %q, want %q", k, byName[k], want)
		}
	}
}

func TestComparisonPreferences(t *testing.T) {
	yes := &loop.Consent{Analytics: ptr(true), Training: ptr(true)}
	no := &loop.Consent{Analytics: ptr(true), Training: ptr(false)}
	j := func(id, rev, cand, answer string, o compare.Outcome) compare.Judgment {
		return compare.Judgment{EventID: id, Reviewer: rev, Candidate: cand, AnswerSHA: compare.AnswerHash(answer), Answer: answer, Outcome: o}
	}
	js := []compare.Judgment{
		j("a", "ann", "v2", "better a", compare.Win),
		j("a", "bob", "v2", "better a", compare.Win),
		j("a", "cy", "v2", "better a", compare.Loss), // outvoted
		j("a", "ann", "v1", "worse a", compare.Loss),
		j("a", "ann", "v0", "tied a", compare.Tie),
		j("a", "ann", "vb", "bad a", compare.BothBad),
		j("a", "ann", "vs", "split a", compare.Win),
		j("a", "bob", "vs", "split a", compare.Loss),
	}
	got := ComparisonPreferences(event("a", yes, "", ""), js)
	if len(got) != 2 {
		t.Fatalf("pairs %+v, want v1 and v2 only", got)
	}
	// By candidate: v1 (lost: the current output chosen), then v2 (won).
	if got[0] != (Preference{Prompt: "prompt a", Chosen: "output a", Rejected: "worse a", Source: SourceComparison}) ||
		got[1] != (Preference{Prompt: "prompt a", Chosen: "better a", Rejected: "output a", Source: SourceComparison}) {
		t.Errorf("pairs %+v", got)
	}
	for _, e := range []*loop.Event{event("a", no, "", ""), event("a", nil, "", "")} {
		if got := ComparisonPreferences(e, js); len(got) != 0 {
			t.Errorf("no training consent, yet pairs %+v", got)
		}
	}
	if p, _ := ToPreference(event("a", yes, "down", "fixed"), nil); p.Source != SourceUserEdit {
		t.Errorf("source %q", p.Source)
	}
	if p, _ := ToPreference(event("a", yes, "down", "fixed"), map[string]string{"a": "ref"}); p.Source != SourceReference || p.Chosen != "ref" {
		t.Errorf("reference pair %+v", p)
	}
}
