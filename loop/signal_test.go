package loop

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRecordKind(t *testing.T) {
	for line, want := range map[string]string{
		`{"event_id":"a"}`:                              KindInteraction,
		`{"kind":"signal","event_id":"a"}`:              KindSignal,
		`{"event_id":"a","kind" : "signal"}`:            KindSignal,
		`{"kind":"interaction"}`:                        KindInteraction,
		`{"input":{"kind":"signal"},"kind":"x"}`:        KindInteraction,
		`{"input":{"kind":"signal"}}`:                   KindInteraction,
		`not json "kind"`:                               KindInteraction,
		`{"extra":"say \"kind\":\"signal\" in a text"}`: KindInteraction,
		`{"mankind":"x","kind":"signal"}`:               KindSignal,
		`{"event_id":"a","note":"of a kind"}`:           KindInteraction,
	} {
		if got := RecordKind([]byte(line)); got != want {
			t.Errorf("RecordKind(%s) = %s, want %s", line, got, want)
		}
	}
}

func TestDecodeSignalErrors(t *testing.T) {
	const head = `"kind":"signal","signal_id":"s1","event_id":"e1","timestamp":"2026-10-01T10:00:00Z"`
	cases := []struct {
		line, reason, path string
	}{
		{`{"kind":"signal","signal_id":"s1","timestamp":"2026-10-01T10:00:00Z","business":{"converted":true}}`, ReasonMissingField, "event_id"},
		{`{"kind":"signal","event_id":"e1","timestamp":"2026-10-01T10:00:00Z","business":{"converted":true}}`, ReasonMissingField, "signal_id"},
		{`{"kind":"signal","signal_id":"s1","event_id":"e1","business":{"converted":true}}`, ReasonMissingField, "timestamp"},
		{`{` + head + `}`, ReasonMissingField, ""},
		{`{` + head + `,"business":{}}`, ReasonInvalidField, "business"},
		{`{` + head + `,"business":null}`, ReasonInvalidField, "business"},
		{`{` + head + `,"business":{"converted":"yes"}}`, ReasonInvalidField, "business.converted"},
		{`{` + head + `,"implicit_feedback":{"dwell_ms":-1}}`, ReasonInvalidField, "implicit_feedback.dwell_ms"},
		{`{` + head + `,"explicit_feedback":{"thumb":"sideways"}}`, ReasonInvalidField, "explicit_feedback.thumb"},
		{`{` + head + `,"explicit_feedback":{"reason_codes":["a",""]}}`, ReasonInvalidField, "explicit_feedback.reason_codes[1]"},
		{`{` + head + `,"input":{"text":"hi"}}`, ReasonInvalidField, "input"},
		{`{` + head + `,"business":{"converted":true,"converted":false}}`, ReasonDuplicateKey, "business.converted"},
		{`{"kind":"signal","signal_id":"` + strings.Repeat("x", 129) + `","event_id":"e1","timestamp":"2026-10-01T10:00:00Z","business":{"converted":true}}`, ReasonInvalidField, "signal_id"},
		{`{"kind":"signal","signal_id":7,"event_id":"e1","timestamp":"2026-10-01T10:00:00Z","business":{"converted":true}}`, ReasonInvalidField, "signal_id"},
		{`{"kind":"signal","signal_id":"s1","event_id":"e1","timestamp":"yesterday","business":{"converted":true}}`, ReasonInvalidField, "timestamp"},
		{`{` + head + `,"masked":{"EMAIL":1},"business":{"converted":true}}`, ReasonInvalidField, "masked"},
		{`{` + head + `,"business":{"converted":true}} x`, ReasonInvalidJSON, ""},
	}
	for _, c := range cases {
		_, err := DecodeSignal([]byte(c.line))
		ie, ok := err.(*InputError)
		if !ok {
			t.Errorf("%s: err %v, want an InputError", c.line, err)
			continue
		}
		if ie.Reason != c.reason || ie.Path != c.path {
			t.Errorf("%s:\n got %s at %q (%v)\nwant %s at %q", c.line, ie.Reason, ie.Path, ie, c.reason, c.path)
		}
	}
	// An unknown kind is refused by the interaction decoder, at "kind".
	_, err := DecodeEvent([]byte(`{"kind":"sig","event_id":"e","timestamp":"2026-10-01T10:00:00Z","model_version":"m"}`))
	if ie, ok := err.(*InputError); !ok || ie.Reason != ReasonInvalidField || ie.Path != "kind" {
		t.Errorf("unknown kind: %v", err)
	}
	if _, err := DecodeEvent([]byte(`{"kind":"interaction","event_id":"e","timestamp":"2026-10-01T10:00:00Z","model_version":"m"}`)); err != nil {
		t.Errorf("kind interaction: %v", err)
	}
}

func leavesOf(t *testing.T, line string) map[string]string {
	t.Helper()
	s, err := DecodeSignal([]byte(line))
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	out := map[string]string{}
	for _, l := range s.Leaves {
		v := "CLEAR"
		if l.Value != nil {
			v = string(l.Value)
		}
		out[l.Path] = v
	}
	return out
}

func TestSignalLeaves(t *testing.T) {
	got := leavesOf(t, `{"kind":"signal","signal_id":"s","event_id":"e","timestamp":"2026-10-01T10:00:00Z",`+
		`"explicit_feedback":{"thumb":"down","reason_codes":["slow"],"rating":null,"user_edit":"better"},`+
		`"implicit_feedback":{"dwell_ms":1500,"clicked":null},`+
		`"automated_checks":{"toxicity":0.2,"judge_score":{ "v" : 4 }},"consent":{"training":false}}`)
	want := map[string]string{
		ThumbUnit:                      `{"thumb":"down","reason_codes":["slow"]}`,
		"explicit_feedback.rating":     "CLEAR",
		"explicit_feedback.user_edit":  `"better"`,
		"implicit_feedback.dwell_ms":   "1500",
		"implicit_feedback.clicked":    "CLEAR",
		"automated_checks.toxicity":    "0.2",
		"automated_checks.judge_score": `{"v":4}`,
		"consent.training":             "false",
	}
	if len(got) != len(want) {
		t.Errorf("leaves %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	// thumb: null clears the whole unit.
	if got := leavesOf(t, `{"kind":"signal","signal_id":"s","event_id":"e","timestamp":"2026-10-01T10:00:00Z","explicit_feedback":{"thumb":null}}`); got[ThumbUnit] != "{}" {
		t.Errorf("thumb null: %v", got)
	}
}

func TestSignalStoredRoundTrip(t *testing.T) {
	lines := []string{
		`{"kind":"signal","signal_id":"s","event_id":"e","timestamp":"2026-10-01T10:00:00.5Z","source":"user","explicit_feedback":{"thumb":"down","reason_codes":["a","b"],"reason_text":"mail me at jane.doe@example.com","user_edit":null}}`,
		`{"kind":"signal","signal_id":"s2","event_id":"e","timestamp":"2026-10-01T10:00:00Z","explicit_feedback":{"thumb":null},"business":{"converted":true,"order":{"id":"o-1","note":"call +1 415 555 0100"}}}`,
		`{"kind":"signal","signal_id":"s3","event_id":"e","timestamp":"2026-10-01T10:00:00Z","consent":{"analytics":true,"training":null}}`,
	}
	for _, line := range lines {
		s, err := DecodeSignal([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		if s, err = PrepareSignal(s); err != nil {
			t.Fatal(err)
		}
		b := AppendSignalJSON(nil, s)
		if strings.Contains(string(b), "jane.doe") || strings.Contains(string(b), "555 0100") {
			t.Errorf("unmasked text stored: %s", b)
		}
		if !json.Valid(b) {
			t.Fatalf("not JSON: %s", b)
		}
		back, err := DecodeStoredSignal(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if b2 := AppendSignalJSON(nil, back); string(b2) != string(b) {
			t.Errorf("round trip changed the signal:\n%s\n%s", b, b2)
		}
	}
}

func TestPrepareSignal(t *testing.T) {
	s, _ := DecodeSignal([]byte(`{"kind":"signal","signal_id":"s","event_id":"e","timestamp":"2026-10-01T10:00:00Z","explicit_feedback":{"reason_text":"I am jane.doe@example.com","user_edit":"card 4111 1111 1111 1111"}}`))
	s, err := PrepareSignal(s)
	if err != nil {
		t.Fatal(err)
	}
	if s.Masked["EMAIL"] != 1 || s.Masked["CARD"] != 1 {
		t.Errorf("masked counts %v", s.Masked)
	}
	u, _ := s.Leaf(ThumbUnit)
	e, _ := s.Leaf("explicit_feedback.user_edit")
	if !strings.Contains(string(u.Value), "[EMAIL]") || !strings.Contains(string(e.Value), "[CARD]") {
		t.Errorf("not masked: %s %s", u.Value, e.Value)
	}
	// A withdrawal keeps nothing but itself.
	w, _ := DecodeSignal([]byte(`{"kind":"signal","signal_id":"s","event_id":"e","timestamp":"2026-10-01T10:00:00Z","source":"me@example.com","explicit_feedback":{"reason_text":"secret text"},"consent":{"analytics":false}}`))
	if w, err = PrepareSignal(w); err != nil || !w.Withdraws() || len(w.Leaves) != 1 || w.Source != "" {
		t.Errorf("withdrawal %+v %v", w, err)
	}
	// Personal data in an id is refused.
	p, _ := DecodeSignal([]byte(`{"kind":"signal","signal_id":"jane.doe@example.com","event_id":"e","timestamp":"2026-10-01T10:00:00Z","business":{"converted":true}}`))
	if _, err := PrepareSignal(p); err == nil || err.(*InputError).Reason != ReasonPIIInID {
		t.Errorf("pii in signal_id: %v", err)
	}
}
