package export

import (
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
