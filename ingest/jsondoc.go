package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/loupe-dev/loupe/loop"
)

// Records need not come one per line. A JSON document is read too, as
// people export and tools print them: a top-level array of records (`[{...},
// {...}]`, on one line or pretty-printed), or records one after another
// across lines (the output of `jq .`, a Kafka value written with
// indentation). jsonDoc cuts such a document into its values by brackets
// and strings, without decoding them; each goes through the pipeline as a
// JSONL line would and is judged on its own, so one broken record does not
// cost the others. A value is reported at the line where it starts.

// docForm is how an input holds its records.
type docForm int

const (
	formLines  docForm = iota // JSONL: one record per line
	formArray                 // a top-level JSON array of records
	formValues                // JSON values one after another, across lines
)

// formOf tells the form of an input by its start (BOM and leading space
// skipped): '[' is an array; a first line that is only '{' is records
// indented across lines (as jq, json.dumps(indent=...) and
// json.MarshalIndent print them); anything else is JSONL. The rule for
// indented records is strict on purpose: a JSONL file whose first line is
// cut short must stay lines, each judged on its own, not become one value
// that swallows the file. start may be only the first part of the input.
func formOf(start []byte) docForm {
	b := bytes.TrimLeft(bytes.TrimPrefix(start, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(b) == 0 {
		return formLines
	}
	switch b[0] {
	case '[':
		return formArray
	case '{':
		// Only spaces, then the line's end: told from the first bytes,
		// without scanning a one-line record to its end.
		if rest := bytes.TrimLeft(b[1:], " \t\r"); len(rest) > 0 && rest[0] == '\n' {
			return formValues
		}
	}
	return formLines
}

// documentOf is the jsonDoc that reads br when its start is a JSON
// document (formOf), with a leading BOM consumed, and the Summary.Form it
// is reported as; nil for JSONL, nothing consumed.
func documentOf(br *bufio.Reader) (*jsonDoc, string) {
	start, _ := br.Peek(64 << 10)
	f := formOf(start)
	if f == formLines {
		return nil, ""
	}
	if bytes.HasPrefix(start, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
	}
	name := FormValues
	if f == formArray {
		name = FormArray
	}
	return newJSONDoc(br, f), name
}

// jsonDoc reads the values of a document in formArray or formValues.
type jsonDoc struct {
	r       io.ByteScanner
	form    docForm
	line    int   // the line being read, 1-based
	n       int64 // bytes read
	started bool  // the array's '[' was read
	sep     bool  // an element was read: a ',' or ']' is due
	comma   bool  // the last thing read was a ','
	elems   int   // values read (array elements, or values)
	closed  bool  // the array's ']' was read, or a value cannot follow
	tail    bool  // past the array: what follows it was checked
	err     error
	max     int // the longest value kept whole; longer ones are cut (long)
}

func newJSONDoc(r io.ByteScanner, form docForm) *jsonDoc {
	return &jsonDoc{r: r, form: form, line: 1, max: loop.MaxLineBytes}
}

// docItem is one value of a document: its bytes (Data of an Item), the line
// where it starts, and whether it was cut at its limit (jsonDoc.max: long) or is
// not a value at all but a break in the document (bad: the message).
type docItem struct {
	data []byte
	line int
	elem int // 1-based place in the document; 0 for a break
	long bool
	bad  string
}

// readByte is the next byte, counting lines; ok is false at the end or on
// a read error (kept in d.err).
func (d *jsonDoc) readByte() (byte, bool) {
	c, err := d.r.ReadByte()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			d.err = err
		}
		return 0, false
	}
	d.n++
	if c == '\n' {
		d.line++
	}
	return c, true
}

func (d *jsonDoc) unread(c byte) {
	d.r.UnreadByte()
	d.n--
	if c == '\n' {
		d.line--
	}
}

// space skips white space; it returns the next byte, unread.
func (d *jsonDoc) space() (byte, bool) {
	for {
		c, ok := d.readByte()
		if !ok {
			return 0, false
		}
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		}
		d.unread(c)
		return c, true
	}
}

// next is the document's next value; io.EOF at its end. A read error of
// the underlying reader is returned as it is. Each value read consumes a
// byte at least, and a missing ',' is said once before one: a document of
// n bytes has at most 2n+1 values, however broken.
func (d *jsonDoc) next() (docItem, error) {
	for {
		if d.err != nil {
			return docItem{}, d.err
		}
		if d.closed {
			return d.trailer()
		}
		c, ok := d.space()
		if !ok {
			if d.err != nil {
				return docItem{}, d.err
			}
			d.closed, d.tail = true, true
			if d.form == formArray {
				return docItem{line: d.line, bad: "the JSON array is not closed: ']' missing at the end of the input"}, nil
			}
			return docItem{}, io.EOF
		}
		if d.form != formArray {
			return d.value(), nil
		}
		line := d.line
		switch {
		case !d.started:
			d.readByte() // '['
			d.started = true
			continue
		case c == ']':
			d.readByte()
			d.closed = true
			if d.comma {
				return docItem{line: line, bad: "a ',' with no element after it before the array's ']'"}, nil
			}
			continue
		case c == ',':
			d.readByte()
			if !d.sep {
				return docItem{line: line, bad: "a ',' with no element before it"}, nil
			}
			d.sep, d.comma = false, true
			continue
		case d.sep && c != '}':
			// A missing comma: said, and the value after it still read.
			d.sep = false
			return docItem{line: line, bad: fmt.Sprintf("want ',' or ']' after element %d of the JSON array, got %s", d.elems, describeByte(c))}, nil
		}
		d.sep, d.comma = true, false
		return d.value(), nil
	}
}

// trailer checks what follows a closed array: white space only.
func (d *jsonDoc) trailer() (docItem, error) {
	if d.tail || d.form != formArray {
		return docItem{}, io.EOF
	}
	d.tail = true
	if _, ok := d.space(); !ok {
		if d.err != nil {
			return docItem{}, d.err
		}
		return docItem{}, io.EOF
	}
	line := d.line
	for { // the rest is not records of the array: one break, skipped
		if _, ok := d.readByte(); !ok {
			break
		}
	}
	if d.err != nil {
		return docItem{}, d.err
	}
	return docItem{line: line, bad: "data after the JSON array's closing ']'"}, nil
}

// value reads one value: an object or array to its matching bracket
// (strings skipped), anything else to the next separator. A newline inside
// a string ends the string (JSON allows none there), and between indented
// records a '{' at the start of a line starts the next (newRecord), so
// that one broken record cannot swallow those after it; the record itself
// is rejected.
func (d *jsonDoc) value() docItem {
	d.elems++
	it := docItem{line: d.line, elem: d.elems}
	add := func(c byte) {
		if it.long {
			return
		}
		if len(it.data) == d.max {
			it.long = true
			return
		}
		it.data = append(it.data, c)
	}
	c, _ := d.readByte()
	switch c {
	case '}', ']':
		return docItem{line: it.line, elem: it.elem, bad: fmt.Sprintf("unexpected %s where a record starts", describeByte(c))}
	case ',':
		return docItem{line: it.line, elem: it.elem, bad: "a ',' between records: records one after another take no separator"}
	}
	if c != '{' && c != '[' {
		// A scalar: to the next separator; the pipeline says it is not a
		// record.
		for {
			add(c)
			var ok bool
			if c, ok = d.readByte(); !ok {
				return it
			}
			switch c {
			case ',', ']', ' ', '\t', '\r', '\n', '{', '[':
				d.unread(c)
				return it
			}
		}
	}
	add(c)
	depth, inStr := 1, false
	for depth > 0 {
		c, ok := d.readByte()
		if !ok {
			return it // cut short: the pipeline says where
		}
		add(c)
		switch {
		case inStr && c == '\\':
			if c, ok = d.readByte(); !ok {
				return it
			}
			add(c)
			if c == '\n' {
				inStr = false
				if d.form == formValues && d.newRecord() {
					return it
				}
			}
		case c == '\n':
			inStr = false
			if d.form == formValues && d.newRecord() {
				return it // broken: a record starts before it ended
			}
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return it
}

// newRecord reports, just after a newline inside a value, whether the
// next line starts with '{': indented records begin at the start of a
// line and what is inside them is indented, so a value that has not ended
// by then is broken and the record after it is read on its own.
func (d *jsonDoc) newRecord() bool {
	c, ok := d.readByte()
	if ok {
		d.unread(c)
	}
	return ok && c == '{'
}

// describeByte names a byte in a message: quoted when printable.
func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return strconv.Quote(string(rune(c)))
	}
	return fmt.Sprintf("byte 0x%02x", c)
}
