package loop

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

const validLine = `{"event_id":"ev-1","timestamp":"2026-11-02T14:03:22.123Z","model_version":"sum-2026.10",` +
	`"user_id":"u-1","session_id":"s-1","locale":"en-US","user_segment":"pro","task_type":"summarization",` +
	`"input":{"text":"Summarize this.","context_refs":["doc-1"]},` +
	`"output":{"text":"A summary.","latency_ms":812,"confidence":0.91,"cost_usd":0.0021},` +
	`"explicit_feedback":{"thumb":"down","rating":2,"reason_codes":["factual_error"],"reason_text":"wrong date","user_edit":"A better summary."},` +
	`"implicit_feedback":{"dwell_ms":5400,"abandoned":false,"escalated":false,"clicked":true,"copied":false,"retries":1},` +
	`"automated_checks":{"toxicity":0.01,"hallucination":0.4,"policy_violation":false,"noise_level":0.2},` +
	`"business":{"resolved":true,"converted":false,"turns":3,"time_to_success_ms":1200,"cost_usd":0.01},` +
	`"experiment":{"id":"exp-1","arm":"treatment","position":2,"propensity":0.25},` +
	`"consent":{"analytics":true,"training":false},` +
	`"label":{"grade":"fail","rubric_notes":"dates wrong"},"source":"web"}`

func TestDecodeValid(t *testing.T) {
	in, err := DecodeEvent([]byte(validLine))
	if err != nil {
		t.Fatalf("valid line rejected: %v", err)
	}
	e := in.Event
	if e.EventID != "ev-1" || e.ModelVersion != "sum-2026.10" || in.UserID != "u-1" {
		t.Errorf("ids: %+v", e)
	}
	if e.Timestamp.UnixMilli() != 1793628202123 {
		t.Errorf("timestamp %v", e.Timestamp)
	}
	if *e.Output.LatencyMS != 812 || *e.Output.Confidence != 0.91 {
		t.Errorf("output %+v", e.Output)
	}
	if e.ThumbValue() != ThumbDown || *e.Explicit.Rating != 2 || e.Explicit.ReasonCodes[0] != "factual_error" {
		t.Errorf("explicit %+v", e.Explicit)
	}
	if *e.Implicit.Retries != 1 || !*e.Implicit.Clicked {
		t.Errorf("implicit %+v", e.Implicit)
	}
	if string(e.Checks.Extra["noise_level"]) != "0.2" {
		t.Errorf("unknown check not kept: %v", e.Checks.Extra)
	}
	if string(e.Extra["source"]) != `"web"` {
		t.Errorf("unknown top-level field not kept: %v", e.Extra)
	}
	if *e.Experiment.Position != 2 || *e.Experiment.Propensity != 0.25 {
		t.Errorf("experiment %+v", e.Experiment)
	}
	if e.TrainingConsent() || e.Label.Grade != GradeFail {
		t.Errorf("consent/label %+v %+v", e.Consent, e.Label)
	}
}

func TestDecodeMinimalAndNulls(t *testing.T) {
	in, err := DecodeEvent([]byte(`{"event_id":"a","timestamp":"2026-01-02T03:04:05+02:00","model_version":"m","explicit_feedback":{"thumb":null},"output":null}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.Event.ThumbValue() != ThumbNone || in.Event.Output != nil {
		t.Errorf("nulls: %+v", in.Event)
	}
	if in.Event.Timestamp.Location().String() != "UTC" || in.Event.Timestamp.Hour() != 1 {
		t.Errorf("timestamp not normalised to UTC: %v", in.Event.Timestamp)
	}
}

func TestDecodeEscapes(t *testing.T) {
	in, err := DecodeEvent([]byte(`{"event_id":"a\u00e9\ud83d\ude00","timestamp":"2026-01-02T03:04:05Z","model_version":"m","input":{"text":"line\nbreak \"q\" \\ \/"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.Event.EventID != "aé😀" || in.Event.Input.Text != "line\nbreak \"q\" \\ /" {
		t.Errorf("got %q %q", in.Event.EventID, in.Event.Input.Text)
	}
}

func TestDecodeRejects(t *testing.T) {
	base := `"event_id":"e","timestamp":"2026-01-02T03:04:05Z","model_version":"m"`
	cases := []struct {
		name, line, reason, msg string
	}{
		{"not json", `hello`, ReasonInvalidJSON, "not a JSON object"},
		{"array", `[1,2]`, ReasonInvalidJSON, "not a JSON object"},
		{"truncated", `{` + base + `,"input":{"text":"abc`, ReasonInvalidJSON, "unterminated string"},
		{"trailing", `{` + base + `} x`, ReasonInvalidJSON, "data after the event object"},
		{"trailing comma", `{` + base + `,}`, ReasonInvalidJSON, "want a key string"},
		{"bad utf8", `{` + base + `,"input":{"text":"a` + "\xff" + `"}}`, ReasonInvalidUTF8, "invalid UTF-8 at byte"},
		{"control char", `{` + base + `,"input":{"text":"a` + "\x01" + `"}}`, ReasonInvalidJSON, "control character"},
		{"dup top", `{` + base + `,"event_id":"f"}`, ReasonDuplicateKey, `event_id: duplicate key "event_id"`},
		{"dup nested", `{` + base + `,"output":{"text":"a","text":"b"}}`, ReasonDuplicateKey, `output.text: duplicate key "text"`},
		{"dup in extra", `{` + base + `,"x":{"k":1,"k":2}}`, ReasonDuplicateKey, `duplicate key "k"`},
		{"missing id", `{"timestamp":"2026-01-02T03:04:05Z","model_version":"m"}`, ReasonMissingField, "event_id: required"},
		{"missing ts", `{"event_id":"e","model_version":"m"}`, ReasonMissingField, "timestamp: required"},
		{"missing model", `{"event_id":"e","timestamp":"2026-01-02T03:04:05Z"}`, ReasonMissingField, "model_version: required"},
		{"empty id", `{"event_id":"","timestamp":"2026-01-02T03:04:05Z","model_version":"m"}`, ReasonInvalidField, "event_id: must be 1 to 128 bytes"},
		{"long id", `{"event_id":"` + strings.Repeat("x", 129) + `","timestamp":"2026-01-02T03:04:05Z","model_version":"m"}`, ReasonInvalidField, "event_id: must be 1 to 128 bytes"},
		{"id type", `{"event_id":7,"timestamp":"2026-01-02T03:04:05Z","model_version":"m"}`, ReasonInvalidField, "event_id: must be a string, got number"},
		{"bad ts", `{"event_id":"e","timestamp":"yesterday","model_version":"m"}`, ReasonInvalidField, "timestamp: must be RFC 3339"},
		{"negative latency", `{` + base + `,"output":{"latency_ms":-1}}`, ReasonInvalidField, "output.latency_ms: must be >= 0"},
		{"latency string", `{` + base + `,"output":{"latency_ms":"12"}}`, ReasonInvalidField, "output.latency_ms: must be a number, got string"},
		{"confidence", `{` + base + `,"output":{"confidence":1.5}}`, ReasonInvalidField, "output.confidence: must be <= 1"},
		{"thumb", `{` + base + `,"explicit_feedback":{"thumb":"sideways"}}`, ReasonInvalidField, `explicit_feedback.thumb: must be "up", "down" or null`},
		{"thumb empty", `{` + base + `,"explicit_feedback":{"thumb":""}}`, ReasonInvalidField, `explicit_feedback.thumb: must be "up", "down" or null`},
		{"thumb bool", `{` + base + `,"explicit_feedback":{"thumb":true}}`, ReasonInvalidField, `explicit_feedback.thumb: must be`},
		{"rating", `{` + base + `,"explicit_feedback":{"rating":6}}`, ReasonInvalidField, "explicit_feedback.rating: must be <= 5"},
		{"rating frac", `{` + base + `,"explicit_feedback":{"rating":2.5}}`, ReasonInvalidField, "explicit_feedback.rating: must be an integer"},
		{"reason codes type", `{` + base + `,"explicit_feedback":{"reason_codes":["a",3]}}`, ReasonInvalidField, "explicit_feedback.reason_codes[1]: must be a string, got number"},
		{"bool type", `{` + base + `,"implicit_feedback":{"abandoned":"yes"}}`, ReasonInvalidField, "implicit_feedback.abandoned: must be true or false, got string"},
		{"retries", `{` + base + `,"implicit_feedback":{"retries":-2}}`, ReasonInvalidField, "implicit_feedback.retries: must be >= 0"},
		{"toxicity", `{` + base + `,"automated_checks":{"toxicity":2}}`, ReasonInvalidField, "automated_checks.toxicity: must be <= 1"},
		{"turns", `{` + base + `,"business":{"turns":-1}}`, ReasonInvalidField, "business.turns: must be >= 0"},
		{"propensity 0", `{` + base + `,"experiment":{"propensity":0}}`, ReasonInvalidField, "experiment.propensity: must be > 0"},
		{"position", `{` + base + `,"experiment":{"position":-1}}`, ReasonInvalidField, "experiment.position: must be >= 0"},
		{"consent type", `{` + base + `,"consent":{"analytics":1}}`, ReasonInvalidField, "consent.analytics: must be true or false, got number"},
		{"grade", `{` + base + `,"label":{"grade":"meh"}}`, ReasonInvalidField, `label.grade: must be "pass", "fail" or "borderline"`},
		{"input type", `{` + base + `,"input":"text"}`, ReasonInvalidField, "input: must be an object, got string"},
		{"huge number", `{` + base + `,"output":{"latency_ms":1e999}}`, ReasonInvalidField, "output.latency_ms: number out of range"},
		{"bad number", `{` + base + `,"output":{"latency_ms":01}}`, ReasonInvalidJSON, "want ',' or '}'"},
		{"empty", `   `, ReasonInvalidJSON, "empty line"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeEvent([]byte(c.line))
			var ie *InputError
			if !errors.As(err, &ie) {
				t.Fatalf("want rejection, got %v", err)
			}
			if ie.Reason != c.reason || !strings.Contains(ie.Error(), c.msg) {
				t.Errorf("got %s %q, want %s containing %q", ie.Reason, ie.Error(), c.reason, c.msg)
			}
		})
	}
}

func TestDecodeTooLong(t *testing.T) {
	line := []byte(`{"event_id":"e","timestamp":"2026-01-02T03:04:05Z","model_version":"m","input":{"text":"` + strings.Repeat("a", MaxLineBytes) + `"}}`)
	_, err := DecodeEvent(line)
	var ie *InputError
	if !errors.As(err, &ie) || ie.Reason != ReasonLineTooLong {
		t.Fatalf("got %v", err)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(validLine))
	f.Add([]byte(`{"event_id":"a","timestamp":"2026-01-02T03:04:05Z","model_version":"m"}`))
	f.Add([]byte(`{"a":[1,{"b":null}],"c":"\ud800"}`))
	f.Add([]byte(`{"event_id":"a","event_id":"b"}`))
	f.Add([]byte("\xef\xbb\xbf{}"))
	f.Fuzz(func(t *testing.T, line []byte) {
		in, err := DecodeEvent(line)
		if err != nil {
			var ie *InputError
			if !errors.As(err, &ie) || ie.Reason == "" || ie.Error() == "" {
				t.Fatalf("error without reason: %v", err)
			}
			return
		}
		e := in.Event
		if e.EventID == "" || len(e.EventID) > MaxEventIDBytes || e.ModelVersion == "" || e.Timestamp.IsZero() {
			t.Fatalf("accepted an event that breaks a required rule: %+v", e)
		}
		if e.Output != nil && e.Output.LatencyMS != nil && *e.Output.LatencyMS < 0 {
			t.Fatalf("negative latency accepted")
		}
		want, err := json.Marshal(&e)
		if err != nil {
			t.Fatalf("accepted event does not marshal: %v", err)
		}
		if got := AppendJSON(nil, &e); !sameJSON(t, got, want) {
			t.Fatalf("AppendJSON differs:\n got %s\nwant %s", got, want)
		}
	})
}

func TestErrorMessagesCarryNoPII(t *testing.T) {
	_, err := DecodeEvent([]byte(`{"event_id":"e","timestamp":"call 203.0.113.77 or jane@example.com","model_version":"m"}`))
	if err == nil || strings.Contains(err.Error(), "203.0.113") || strings.Contains(err.Error(), "jane@") {
		t.Fatalf("error leaks input: %v", err)
	}
}

func TestMaskRawScrubsUserID(t *testing.T) {
	got := MaskRaw([]byte(`{"user_id" : "u-\"7\"", "x": 1, "user_id":"second", "user_id": 5`), 4096)
	want := `{"user_id" : "[USER]", "x": 1, "user_id":"[USER]", "user_id": 5`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if got := MaskRaw([]byte(`{"user_id":"unterminated`), 100); strings.Contains(got, "unterminated") {
		t.Fatalf("unterminated id kept: %s", got)
	}
}

// plainRun finds the first quote, backslash or control byte wherever it
// sits in a word and whatever surrounds it.
func TestPlainRun(t *testing.T) {
	for n := range 40 {
		for at := range n + 1 {
			for _, c := range []byte{'"', '\\', 0, 0x1f, '\n'} {
				for _, fill := range []byte{'a', 0x20, 0x21, 0x5b, 0x5d, 0x7f, 0x80, 0xff} {
					b := bytes.Repeat([]byte{fill}, n)
					want := n
					if at < n {
						b[at] = c
						want = at
					}
					for from := 0; from <= min(at, n); from++ {
						if got := plainRun(b, from); got != want {
							t.Fatalf("%q from %d: %d, want %d", b, from, got, want)
						}
					}
				}
			}
		}
	}
}

// escapedLen reaches the closing quote past escaped quotes and
// backslashes, or the end of an unterminated string.
func TestEscapedLen(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{
		{`abc"`, 3},
		{`a\"b"x"`, 4},
		{`a\\"b"`, 3},
		{`\u00e9 long plain run past eight bytes\n"`, 40},
		{`unterminated \`, 14},
		{`unterminated`, 12},
		{`"`, 0},
	} {
		if got := escapedLen([]byte(c.in), 0); got != c.want {
			t.Errorf("escapedLen(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}
