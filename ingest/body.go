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
// the array element or the NDJSON line (blank lines are counted, not kept).
type bodyItem struct {
	index int
	data  []byte
}

// bodyError says the body as a whole could not be read (answered 400).
type bodyError struct{ msg string }

func (e *bodyError) Error() string { return e.msg }

func badBody(format string, a ...any) error { return &bodyError{fmt.Sprintf(format, a...)} }

// tooManyItems says a body holds more records than one request may carry
// (answered 413). Splitting stops as soon as it knows: a hostile body of a
// few megabytes of tiny values must not become millions of items in memory.
type tooManyItems struct{ max int }

func (e *tooManyItems) Error() string {
	return fmt.Sprintf("more than %d records in one request; send at most %d at a time", e.max, e.max)
}

// ndjsonTypes are the content types that say "one JSON object per line".
var ndjsonTypes = map[string]bool{
	"application/x-ndjson":    true,
	"application/ndjson":      true,
	"application/jsonl":       true,
	"application/x-jsonlines": true,
	"application/jsonlines":   true,
}

// split cuts a body into at most maxItems records and counts its blank
// lines. The first non-space byte decides: '[' is a JSON array of records;
// '{' is one record, or NDJSON when the content type says so or a second
// value follows on a later line. Anything else, or an array that is not
// valid JSON, is unreadable: the caller answers 400. An element that is
// valid JSON but not a valid record is left to the pipeline, so it becomes
// a per-item error in a 200 answer. More than maxItems records is a
// *tooManyItems error, found while scanning.
func split(body []byte, contentType string, maxItems int) (items []bodyItem, blank int, err error) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, 0, badBody("empty body: send one JSON record, a JSON array of records, or NDJSON (one record per line)")
	}
	mt, _, _ := mime.ParseMediaType(contentType)
	switch trimmed[0] {
	case '[':
		items, err = splitArray(trimmed, maxItems)
		return items, 0, err
	case '{':
		if ndjsonTypes[strings.ToLower(mt)] {
			return splitLines(body, maxItems)
		}
		return splitObject(body, trimmed, maxItems)
	}
	return nil, 0, badBody("the body is not JSON: send one JSON record, a JSON array of records, or NDJSON (one record per line)")
}

func splitArray(b []byte, maxItems int) ([]bodyItem, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if _, err := dec.Token(); err != nil { // '['
		return nil, badBody("bad JSON array: %v", err)
	}
	var out []bodyItem
	for dec.More() {
		if len(out) == maxItems {
			return nil, &tooManyItems{maxItems}
		}
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

// splitObject reads one record, or NDJSON sent as application/json.
func splitObject(body, trimmed []byte, maxItems int) ([]bodyItem, int, error) {
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	var raw json.RawMessage
	err := dec.Decode(&raw)
	if err == nil {
		if rest := bytes.TrimSpace(trimmed[dec.InputOffset():]); len(rest) == 0 {
			return []bodyItem{{index: 0, data: raw}}, 0, nil
		}
	}
	// Records indented across lines, one after another (jsonDoc).
	if formOf(body) == formValues {
		items, err := splitValues(body, maxItems)
		return items, 0, err
	}
	// More follows, or the first value is broken: NDJSON if there are
	// several lines, each then judged on its own.
	items, blank, lerr := splitLines(body, maxItems)
	if lerr != nil || len(items) > 1 {
		return items, blank, lerr
	}
	if err != nil {
		return nil, 0, badBody("the body is not valid JSON: %v", syntaxMsg(err))
	}
	return nil, 0, badBody("data after the JSON record (send NDJSON with one record per line)")
}

// splitValues reads records indented across lines, one after another. A
// break between them makes the body unreadable, as a broken array does.
func splitValues(body []byte, maxItems int) ([]bodyItem, error) {
	d := newJSONDoc(bytes.NewReader(body), formValues)
	var out []bodyItem
	for {
		it, err := d.next()
		if err != nil { // io.EOF: a bytes.Reader has no other
			return out, nil
		}
		if it.bad != "" {
			return nil, badBody("bad JSON at line %d: %s", it.line, it.bad)
		}
		if len(out) == maxItems {
			return nil, &tooManyItems{maxItems}
		}
		out = append(out, bodyItem{index: len(out), data: it.data})
	}
}

// splitLines is NDJSON: like `loupe ingest`, a trailing \r is dropped and
// blank lines are counted, keeping nothing for them.
func splitLines(body []byte, maxItems int) ([]bodyItem, int, error) {
	var out []bodyItem
	blank := 0
	for i := 0; len(body) > 0; i++ {
		line := body
		if j := bytes.IndexByte(body, '\n'); j >= 0 {
			line, body = body[:j], body[j+1:]
		} else {
			body = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			blank++
			continue
		}
		if len(out) == maxItems {
			return nil, 0, &tooManyItems{maxItems}
		}
		out = append(out, bodyItem{index: i, data: line})
	}
	return out, blank, nil
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
