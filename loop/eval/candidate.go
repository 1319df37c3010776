package eval

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/loupe-dev/loupe/loop"
)

// Candidate is one line of a candidate file: the new model's answer to the
// input of the event EventID.
//
//	{"event_id": "evt-1", "output": {"text": "...", "latency_ms": 812}}
type Candidate struct {
	EventID string          `json:"event_id"`
	Output  CandidateOutput `json:"output"`
}

// CandidateOutput is a candidate's answer. LatencyMS is nil when the file
// gave none (or null).
type CandidateOutput struct {
	Text      string   `json:"text"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
}

// LineError is a problem with one line of a JSONL input. Line counts from 1.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Err.Error() }
func (e *LineError) Unwrap() error { return e.Err }

// ScanJSONL calls fn with each non-blank line of r (line numbers from 1,
// without the line ending; a UTF-8 byte-order mark on line 1 is dropped).
// A line that is not valid UTF-8 or longer than loop.MaxLineBytes is
// reported and skipped without calling fn; an error from fn is reported
// against its line. Reading stops only at the end of r or on a read error,
// which is reported last. The errors are *LineError values, in line order.
func ScanJSONL(r io.Reader, fn func(line int, b []byte) error) []error {
	var errs []error
	br := bufio.NewReaderSize(r, 64<<10)
	var buf []byte
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br, &buf)
		if len(line) == 0 && !tooLong && err != nil {
			if err != io.EOF {
				errs = append(errs, &LineError{n, fmt.Errorf("read: %w", err)})
			}
			return errs
		}
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		switch {
		case tooLong:
			errs = append(errs, &LineError{n, fmt.Errorf("line longer than %d bytes", loop.MaxLineBytes)})
		case len(bytes.TrimSpace(line)) == 0:
		case !utf8.Valid(line):
			errs = append(errs, &LineError{n, errors.New("invalid UTF-8")})
		default:
			if ferr := fn(n, line); ferr != nil {
				errs = append(errs, &LineError{n, ferr})
			}
		}
		if err != nil {
			if err != io.EOF {
				errs = append(errs, &LineError{n, fmt.Errorf("read: %w", err)})
			}
			return errs
		}
	}
}

// readLine reads up to and including the next '\n' and returns the line
// without "\n" or "\r\n". A line past loop.MaxLineBytes is consumed to its end
// and reported as tooLong. err is non-nil at the end of input (io.EOF) or on
// a read error; line may still hold the last, unterminated line.
func readLine(br *bufio.Reader, buf *[]byte) (line []byte, tooLong bool, err error) {
	*buf = (*buf)[:0]
	for {
		frag, e := br.ReadSlice('\n')
		if !tooLong {
			if len(*buf)+len(frag) > loop.MaxLineBytes+2 { // room for "\r\n"
				tooLong = true
				*buf = (*buf)[:0]
			} else {
				*buf = append(*buf, frag...)
			}
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		line = bytes.TrimSuffix(*buf, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if !tooLong && len(line) > loop.MaxLineBytes {
			tooLong, line = true, nil
		}
		if tooLong {
			line = nil
		}
		return line, tooLong, e
	}
}

// ReadCandidates reads a candidate file (JSONL, one Candidate per line).
// Each line is checked strictly: it must be one JSON object with a string
// event_id of 1 to loop.MaxEventIDBytes bytes and an output object holding a
// string text; output.latency_ms, when present and not null, must be a
// finite number >= 0. Keys may not repeat within an object; other keys are
// ignored. A repeated event_id is an error and the first line wins. Bad
// lines are reported (as *LineError, naming the line and the field path)
// and skipped; every valid line is still taken.
func ReadCandidates(r io.Reader) (map[string]Candidate, []error) {
	cands := map[string]Candidate{}
	first := map[string]int{}
	errs := ScanJSONL(r, func(n int, b []byte) error {
		c, err := decodeCandidate(b)
		if err != nil {
			return err
		}
		if prev, ok := first[c.EventID]; ok {
			return fmt.Errorf("event_id %q: duplicate of line %d", c.EventID, prev)
		}
		first[c.EventID] = n
		cands[c.EventID] = c
		return nil
	})
	return cands, errs
}

func decodeCandidate(b []byte) (Candidate, error) {
	var c Candidate
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var haveID, haveOut, haveText bool
	err := object(d, "", func(key, path string) error {
		switch key {
		case "event_id":
			s, err := str(d, path)
			if err != nil {
				return err
			}
			if len(s) == 0 || len(s) > loop.MaxEventIDBytes {
				return fmt.Errorf("%s: must be 1 to %d bytes", path, loop.MaxEventIDBytes)
			}
			c.EventID, haveID = s, true
		case "output":
			haveOut = true
			return object(d, path, func(key, path string) error {
				switch key {
				case "text":
					s, err := str(d, path)
					c.Output.Text, haveText = s, err == nil
					return err
				case "latency_ms":
					v, err := num(d, path)
					if err != nil || v == nil {
						return err
					}
					if *v < 0 {
						return fmt.Errorf("%s: must be >= 0", path)
					}
					c.Output.LatencyMS = v
					return nil
				}
				return skip(d)
			})
		default:
			return skip(d)
		}
		return nil
	})
	if err != nil {
		return Candidate{}, err
	}
	if _, err := d.Token(); err != io.EOF {
		return Candidate{}, errors.New("invalid JSON: more than one value on the line")
	}
	switch {
	case !haveID:
		return Candidate{}, errors.New("event_id: required")
	case !haveOut:
		return Candidate{}, errors.New("output: required")
	case !haveText:
		return Candidate{}, errors.New("output.text: required")
	}
	return c, nil
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// object reads a JSON object, calling fn for each member with the decoder
// positioned at the value. Repeated keys are an error.
func object(d *json.Decoder, path string, fn func(key, path string) error) error {
	t, err := d.Token()
	if err != nil {
		return syntaxErr(err)
	}
	if t != json.Delim('{') {
		return typeErr(path, "object", t)
	}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return syntaxErr(err)
		}
		key := t.(string) // the decoder only yields strings in key position
		p := join(path, key)
		if seen[key] {
			return fmt.Errorf("%s: duplicate key", p)
		}
		seen[key] = true
		if err := fn(key, p); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil { // '}'
		return syntaxErr(err)
	}
	return nil
}

func str(d *json.Decoder, path string) (string, error) {
	t, err := d.Token()
	if err != nil {
		return "", syntaxErr(err)
	}
	s, ok := t.(string)
	if !ok {
		return "", typeErr(path, "string", t)
	}
	return s, nil
}

// num reads a number or null (nil).
func num(d *json.Decoder, path string) (*float64, error) {
	t, err := d.Token()
	if err != nil {
		return nil, syntaxErr(err)
	}
	switch v := t.(type) {
	case nil:
		return nil, nil
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s: number out of range", path)
		}
		return &f, nil
	}
	return nil, typeErr(path, "number", t)
}

// skip consumes one JSON value of any shape.
func skip(d *json.Decoder) error {
	depth := 0
	for {
		t, err := d.Token()
		if err != nil {
			return syntaxErr(err)
		}
		switch t {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func syntaxErr(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("invalid JSON: %v", err)
}

func typeErr(path, want string, got json.Token) error {
	g := "null"
	switch got.(type) {
	case string:
		g = "string"
	case json.Number, float64:
		g = "number"
	case bool:
		g = "boolean"
	case json.Delim:
		switch got {
		case json.Delim('{'):
			g = "object"
		case json.Delim('['):
			g = "array"
		default:
			g = "'" + got.(json.Delim).String() + "'"
		}
	}
	if path == "" {
		return fmt.Errorf("want a JSON %s, got %s", want, g)
	}
	return fmt.Errorf("%s: want %s, got %s", path, want, g)
}
