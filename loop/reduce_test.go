package loop_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/gen"
	"github.com/loupe-dev/loupe/loop/sample"
)

func userHash(id string) string { return fmt.Sprintf("%032x", len(id)*7919) }

// reduceLines are generated interactions plus ones that put personal data
// in every field the reduction keeps.
func reduceLines(t *testing.T) [][]byte {
	t.Helper()
	lines := [][]byte{
		[]byte(`{"event_id":"r1","timestamp":"2026-11-01T10:00:00+02:00","model_version":"m-jane@example.com","user_id":"u1","locale":"de-DE","user_segment":"call +1 415 555 0100","task_type":"qa 4111 1111 1111 1111","input":{"text":"mail me at bob@example.org"},"output":{"text":"ok","latency_ms":12.5,"confidence":0.25},"explicit_feedback":{"thumb":"down","reason_codes":["bob@example.org","wrong"],"reason_text":"see 4111 1111 1111 1111","user_edit":"x"},"implicit_feedback":{"escalated":true,"abandoned":false},"automated_checks":{"toxicity":0.9,"policy_violation":true},"business":{"resolved":false}}`),
		[]byte(`{"event_id":"r2","timestamp":"2026-11-01T10:00:00Z","model_version":"m1"}`),
		[]byte(`{"event_id":"r3","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","explicit_feedback":{"reason_text":"only text"},"business":{"converted":true}}`),
	}
	if err := gen.Generate(gen.Options{N: 400, Seed: 9}, func(l []byte) error {
		lines = append(lines, bytes.Clone(l))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return lines
}

// PrepareReduced must give exactly what the full privacy step and the
// reduction give, the same refusals, and leave its input untouched for a
// later Prepare.
func TestPrepareReducedIsPrepareThenReduce(t *testing.T) {
	lines := append(reduceLines(t),
		[]byte(`{"event_id":"no","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","consent":{"analytics":false}}`),
		[]byte(`{"event_id":"jane@example.com","timestamp":"2026-11-01T10:00:00Z","model_version":"m1"}`))
	var rules []sample.Rule
	for _, k := range []string{sample.KindThumbsDown, sample.KindPolicy, sample.KindEscalated, sample.KindLowConfidence, sample.KindSuccesses} {
		rules = append(rules, sample.Rule{Kind: k, Name: k, Threshold: 0.5, Share: 1})
	}
	rules = append(rules, sample.Rule{Kind: sample.KindSegment, Name: "seg", Share: 1, Segments: []string{"pro", "enterprise"}},
		sample.Rule{Kind: sample.KindTask, Name: "task", Share: 1, Tasks: []string{"support"}}, sample.Rule{Kind: sample.KindRandom, Name: "r", Share: 0.3})
	for i, l := range lines {
		a, err := loop.DecodeEvent(l)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := loop.DecodeEvent(l)
		before := loop.AppendJSON(nil, &a.Event)
		red, user, rerr := loop.PrepareReduced(a, userHash)
		full, ferr := loop.Prepare(b, userHash)
		if (rerr == nil) != (ferr == nil) || (rerr != nil && rerr.Error() != ferr.Error()) {
			t.Fatalf("line %d: PrepareReduced says %v, Prepare %v", i, rerr, ferr)
		}
		if !bytes.Equal(before, loop.AppendJSON(nil, &a.Event)) {
			t.Fatalf("line %d: PrepareReduced changed its input", i)
		}
		if rerr != nil {
			var ie *loop.InputError
			if !errors.As(rerr, &ie) {
				t.Fatalf("line %d: %T", i, rerr)
			}
			continue
		}
		if user != full.UserHash {
			t.Errorf("line %d: user %q, Prepare gives %q", i, user, full.UserHash)
		}
		want := loop.AppendJSON(nil, loop.Reduce(full))
		if got := loop.AppendJSON(nil, red); !bytes.Equal(got, want) {
			t.Errorf("line %d: reduced\n got %s\nwant %s", i, got, want)
		}
		rs, fs := loop.Summarize(red), loop.Summarize(full)
		for _, r := range rules {
			if r.Matches(&rs) != r.Matches(&fs) {
				t.Errorf("line %d: rule %s decides %v on the reduction, %v on the event", i, r.Kind, r.Matches(&rs), r.Matches(&fs))
			}
		}
		if sample.Keep(rules).Keeps(&rs) != sample.Keep(rules).Keeps(&fs) {
			t.Errorf("line %d: keep decides otherwise on the reduction", i)
		}
	}
}

// reformat writes a JSON object again with its keys sorted and indented:
// another producer's copy of the same record.
func reformat(t *testing.T, l []byte) []byte {
	t.Helper()
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(l))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		t.Fatal(err)
	}
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(out, []byte("\n"), nil)
}

// The canonical form is equal exactly when the JSON form is: a reformatted
// copy is the same, any changed field is not.
func TestAppendCanonicalSameExactlyWhenJSONIs(t *testing.T) {
	decode := func(l []byte) *loop.Event {
		in, err := loop.DecodeEvent(l)
		if err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		return &in.Event
	}
	lines := reduceLines(t)
	seen := map[string]string{}
	for i, l := range lines {
		e := decode(l)
		c := string(loop.AppendCanonical(nil, e))
		if r := decode(reformat(t, l)); string(loop.AppendCanonical(nil, r)) != c {
			t.Fatalf("line %d: a reformatted copy has another canonical form", i)
		}
		j := string(loop.AppendJSON(nil, e))
		if prev, ok := seen[c]; ok && prev != j {
			t.Fatalf("line %d: two events with different JSON share a canonical form", i)
		}
		seen[c] = j
	}
	// Every kind of change: a text, a number, a flag, a list, an unknown field.
	base := decode(lines[0])
	c0 := string(loop.AppendCanonical(nil, base))
	down, yes, x, n := "up", true, 12.5000001, 3
	changes := map[string]func(e *loop.Event){
		"input text":    func(e *loop.Event) { e.Input.Text += " " },
		"empty text":    func(e *loop.Event) { e.Output.Text = "" },
		"latency":       func(e *loop.Event) { e.Output.LatencyMS = &x },
		"thumb":         func(e *loop.Event) { e.Explicit.Thumb = &down },
		"abandoned":     func(e *loop.Event) { e.Implicit.Abandoned = &yes },
		"reason codes":  func(e *loop.Event) { e.Explicit.ReasonCodes = e.Explicit.ReasonCodes[:1] },
		"code boundary": func(e *loop.Event) { e.Explicit.ReasonCodes = []string{"bob@example.org,wrong"} },
		"rating":        func(e *loop.Event) { e.Explicit.Rating = &n },
		"session":       func(e *loop.Event) { e.SessionID = "s" },
		"extra":         func(e *loop.Event) { e.Extra = map[string]json.RawMessage{"k": json.RawMessage(`1`)} },
		"time":          func(e *loop.Event) { e.Timestamp = e.Timestamp.Add(1) },
	}
	for name, change := range changes {
		e := decode(lines[0])
		change(e)
		if string(loop.AppendCanonical(nil, e)) == c0 {
			t.Errorf("%s: changed, same canonical form", name)
		}
	}
}
