package eval

import (
	"errors"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/loupe-dev/loupe/loop"
)

func TestReadCandidates(t *testing.T) {
	long := `{"event_id":"long","output":{"text":"` + strings.Repeat("x", loop.MaxLineBytes) + `"}}`
	in := strings.Join([]string{
		"\ufeff" + `{"event_id":"e1","output":{"text":"hello","latency_ms":812.5}}`,    // 1: BOM accepted
		`{"event_id":"e2","output":{"text":"","latency_ms":null},"model":"v2"}` + "\r", // 2: CRLF, unknown key ignored
		``,                                       // 3: blank
		`   `,                                    // 4: blank
		`{"event_id":"e3","output":{"text":"x"}`, // 5: truncated
		`{"event_id":"e4","output":{"text":42}}`, // 6: wrong type
		`{"event_id":"e5","output":{"text":"x","latency_ms":-1}}`, // 7: negative
		`{"event_id":"e1","output":{"text":"again"}}`,             // 8: duplicate id
		`{"output":{"text":"x"}}`,                                 // 9: no id
		`{"event_id":"e6"}`,                                       // 10: no output
		`{"event_id":"e7","output":{}}`,                           // 11: no text
		`{"event_id":"e8","event_id":"e9","output":{"text":"x"}}`, // 12: duplicate key
		"{\"event_id\":\"e10\",\"output\":{\"text\":\"\xff\"}}",   // 13: invalid UTF-8
		long,    // 14: too long
		`[1,2]`, // 15: not an object
		`{"event_id":"e11","output":{"text":"x"}} {}`,                  // 16: two values
		`{"event_id":"","output":{"text":"x"}}`,                        // 17: empty id
		`{"event_id":"e12","output":{"text":"x","latency_ms":"9"}}`,    // 18: string latency
		`{"event_id":"e13","output":{"text":"ok","latency_ms":1e400}}`, // 19: out of range
		`{"event_id":"e14","output":{"text":"last","latency_ms":0}}`,   // 20: valid, no final newline
	}, "\n")
	cands, errs := ReadCandidates(strings.NewReader(in))

	if len(cands) != 3 {
		t.Fatalf("got %d candidates, want 3: %v", len(cands), cands)
	}
	if c := cands["e1"]; c.Output.Text != "hello" || c.Output.LatencyMS == nil || *c.Output.LatencyMS != 812.5 {
		t.Errorf("e1 = %+v (the first line of a duplicate id wins)", c)
	}
	if c := cands["e2"]; c.Output.Text != "" || c.Output.LatencyMS != nil {
		t.Errorf("e2 = %+v", c)
	}
	if c := cands["e14"]; c.Output.Text != "last" || c.Output.LatencyMS == nil || *c.Output.LatencyMS != 0 {
		t.Errorf("e14 = %+v", c)
	}

	want := []string{
		"line 5: invalid JSON",
		"line 6: output.text: want string, got number",
		"line 7: output.latency_ms: must be >= 0",
		`line 8: event_id "e1": duplicate of line 1`,
		"line 9: event_id: required",
		"line 10: output: required",
		"line 11: output.text: required",
		"line 12: event_id: duplicate key",
		"line 13: invalid UTF-8",
		"line 14: line longer than",
		"line 15: want a JSON object, got array",
		"line 16: invalid JSON: more than one value",
		"line 17: event_id: must be 1 to 128 bytes",
		"line 18: output.latency_ms: want number, got string",
		"line 19: output.latency_ms: number out of range",
	}
	if len(errs) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(errs), len(want), errs)
	}
	for i, err := range errs {
		if !strings.HasPrefix(err.Error(), want[i]) {
			t.Errorf("error %d = %q, want prefix %q", i, err, want[i])
		}
		var le *LineError
		if !errors.As(err, &le) {
			t.Errorf("error %d is %T, want *LineError", i, err)
		}
	}
}

func TestReadCandidatesReadError(t *testing.T) {
	// The last line arrives together with io.EOF.
	er := iotest.DataErrReader(strings.NewReader(`{"event_id":"a","output":{"text":"x"}}` + "\n"))
	cands, errs := ReadCandidates(er)
	if len(cands) != 1 || len(errs) != 0 {
		t.Fatalf("DataErrReader: %v %v", cands, errs)
	}
	failing := iotest.ErrReader(errors.New("disk on fire"))
	_, errs = ReadCandidates(failing)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "disk on fire") {
		t.Fatalf("errs = %v", errs)
	}
}

func TestReadCandidatesEmpty(t *testing.T) {
	cands, errs := ReadCandidates(strings.NewReader(""))
	if len(cands) != 0 || len(errs) != 0 {
		t.Fatalf("got %v %v", cands, errs)
	}
}

func FuzzReadCandidates(f *testing.F) {
	for _, s := range []string{
		`{"event_id":"e1","output":{"text":"hello","latency_ms":812.5}}`,
		"\ufeff{\"event_id\":\"e1\",\"output\":{\"text\":\"a\"}}\r\n{\"event_id\":\"e1\",\"output\":{\"text\":\"b\"}}\n",
		`{"event_id":"e2","output":{"text":"x","latency_ms":null,"extra":[1,{"a":[]}]},"k":{}}`,
		`{"event_id":"e3","output":{"text":"x"}} trailing`,
		`{"event_id":"e4","event_id":"e4","output":{"text":"x"}}`,
		"\n\n  \n",
		`[`, `{"output":`, `"str"`, `null`, `{"event_id":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cands, errs := ReadCandidates(strings.NewReader(string(data)))
		lines := strings.Count(string(data), "\n") + 1
		if len(cands)+len(errs) > lines+1 { // +1: a read error is reported after the last line
			t.Fatalf("%d candidates + %d errors from %d lines", len(cands), len(errs), lines)
		}
		prev := 0
		for _, err := range errs {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %T %v is not a *LineError", err, err)
			}
			if le.Line < 1 || le.Line > lines || le.Line < prev {
				t.Fatalf("error line %d out of order or range (lines %d, previous %d)", le.Line, lines, prev)
			}
			prev = le.Line
		}
		for id, c := range cands {
			if id != c.EventID || id == "" || len(id) > loop.MaxEventIDBytes {
				t.Fatalf("bad candidate key %q for %+v", id, c)
			}
			if c.Output.LatencyMS != nil && !(*c.Output.LatencyMS >= 0) {
				t.Fatalf("negative latency %v", *c.Output.LatencyMS)
			}
		}
	})
}
