package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strings"
)

// bodyItem is one record's bytes in a request body, at its 0-based position:
// the array element or the NDJSON line (blank lines keep their place).
type bodyItem struct {
	index int
	data  []byte
	blank bool
}

// bodyError says the body as a whole could not be read (answered 400).
type bodyError struct{ msg string }

func (e *bodyError) Error() string { return e.msg }

func badBody(format string, a ...any) error { return &bodyError{fmt.Sprintf(format, a...)} }

// ndjsonTypes are the content types that say "one JSON object per line".
var ndjsonTypes = map[string]bool{
	"application/x-ndjson":    true,
	"application/ndjson":      true,
	"application/jsonl":       true,
	"application/x-jsonlines": true,
	"application/jsonlines":   true,
}

// split cuts a body into events. The first non-space byte decides: '[' is
// a JSON array of events; '{' is one event, or NDJSON when the content type
// says so or a second value follows on a later line. Anything else, or an
// array that is not valid JSON, is unreadable: the caller answers 400. An
// element that is valid JSON but not a valid event is left to DecodeEvent,
// so it becomes a per-bodyItem error in a 200 answer.
func split(body []byte, contentType string) ([]bodyItem, error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, badBody("empty body: send one JSON event, a JSON array of events, or NDJSON (one event per line)")
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch trimmed[0] {
	case '[':
		return splitArray(trimmed)
	case '{':
		if ndjsonTypes[strings.ToLower(mt)] {
			return splitLines(body), nil
		}
		return splitObject(body, trimmed)
	}
	return nil, badBody("the body is not JSON: send one JSON event, a JSON array of events, or NDJSON (one event per line)")
}

func splitArray(b []byte) ([]bodyItem, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // '['
		return nil, badBody("bad JSON array: %v", err)
	}
	var out []bodyItem
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, badBody("bad JSON array at element %d: %v", len(out), syntaxMsg(err))
		}
		out = append(out, bodyItem{index: len(out), data: raw})
	}
	if _, err := dec.Token(); err != nil { // ']'
		return nil, badBody("bad JSON array after element %d: %v", len(out), syntaxMsg(err))
	}
	if rest := bytes.TrimSpace(b[dec.InputOffset():]); len(rest) > 0 {
		return nil, badBody("data after the JSON array")
	}
	return out, nil
}

// splitObject reads one event, or NDJSON sent as application/json.
func splitObject(body, trimmed []byte) ([]bodyItem, error) {
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var raw json.RawMessage
	err := dec.Decode(&raw)
	if err == nil {
		if rest := bytes.TrimSpace(trimmed[dec.InputOffset():]); len(rest) == 0 {
			return []bodyItem{{index: 0, data: raw}}, nil
		}
	}
	// More follows, or the first value is broken: NDJSON if there are
	// several lines, each then judged on its own.
	items := splitLines(body)
	nonBlank := 0
	for _, it := range items {
		if !it.blank {
			nonBlank++
		}
	}
	if nonBlank > 1 {
		return items, nil
	}
	if err != nil {
		return nil, badBody("the body is not valid JSON: %v", syntaxMsg(err))
	}
	return nil, badBody("data after the JSON event (send NDJSON with one event per line)")
}

// splitLines is NDJSON: like `loupe ingest`, a trailing \r is dropped and
// blank lines are counted.
func splitLines(body []byte) []bodyItem {
	var out []bodyItem
	for i := 0; len(body) > 0; i++ {
		line := body
		if j := bytes.IndexByte(body, '\n'); j >= 0 {
			line, body = body[:j], body[j+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		out = append(out, bodyItem{index: i, data: line, blank: len(bytes.TrimSpace(line)) == 0})
	}
	return out
}

func syntaxMsg(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s (byte %d)", se.Error(), se.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the body ends in the middle of a value"
	}
	return err.Error()
}
