package loop

import (
	"encoding/binary"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// scanner is a small strict JSON reader over one line. It exists because the
// schema asks for what encoding/json does not give: duplicate keys rejected,
// unknown fields kept verbatim, wrong types reported with their field path,
// and all of it at ingest speed (no reflection, one pass).
type scanner struct {
	data []byte
	pos  int
}

type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string { return "byte " + strconv.Itoa(e.pos+1) + ": " + e.msg }

func (s *scanner) fail(msg string) error { return &syntaxError{s.pos, msg} }

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, 0 at the end.
func (s *scanner) peek() byte {
	s.ws()
	if s.pos >= len(s.data) {
		return 0
	}
	return s.data[s.pos]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of input, want '" + string(c) + "'")
		}
		return s.fail("want '" + string(c) + "', got " + quoteByte(s.data[s.pos]))
	}
	s.pos++
	return nil
}

func quoteByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return "'" + string(c) + "'"
	}
	return "byte 0x" + strconv.FormatUint(uint64(c), 16)
}

// kind of the next value, for type errors: "string", "number", "object",
// "array", "boolean", "null", or "" at a syntax error.
func (s *scanner) kind() string {
	switch c := s.peek(); {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || (c >= '0' && c <= '9'):
		return "number"
	}
	return ""
}

// str reads a string. The line was checked to be valid UTF-8 before.
func (s *scanner) str() (string, error) {
	if err := s.expect('"'); err != nil {
		return "", err
	}
	start := s.pos
	for s.pos < len(s.data) {
		s.pos = plainRun(s.data, s.pos)
		if s.pos >= len(s.data) {
			break
		}
		c := s.data[s.pos]
		switch {
		case c == '"':
			// No escapes: the string shares the line's memory instead of
			// copying it (DecodeEvent's callers never change a line once
			// decoded), which saves an allocation per field at ingest.
			v := ""
			if s.pos > start {
				v = unsafe.String(&s.data[start], s.pos-start)
			}
			s.pos++
			return v, nil
		case c == '\\':
			return s.strSlow(start)
		case c < 0x20:
			return "", s.fail("control character in string")
		}
		s.pos++
	}
	return "", s.fail("unterminated string")
}

func (s *scanner) strSlow(start int) (string, error) {
	// Sized for the whole string (escapes only shorten it), so that
	// copying its runs never grows the buffer.
	buf := make([]byte, 0, escapedLen(s.data, s.pos)+s.pos-start)
	buf = append(buf, s.data[start:s.pos]...)
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			// buf is this string's own and is never written again.
			return unsafe.String(unsafe.SliceData(buf), len(buf)), nil
		case c < 0x20:
			return "", s.fail("control character in string")
		case c != '\\':
			// Copy the run up to the next quote, backslash or control byte.
			j := plainRun(s.data, s.pos+1)
			buf = append(buf, s.data[s.pos:j]...)
			s.pos = j
			continue
		}
		if s.pos+1 >= len(s.data) {
			return "", s.fail("unterminated string")
		}
		e := s.data[s.pos+1]
		s.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return "", s.fail("bad \\u escape")
			}
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if s.pos+1 < len(s.data) && s.data[s.pos] == '\\' && s.data[s.pos+1] == 'u' {
					save := s.pos
					s.pos += 2
					if lo, ok := s.hex4(); ok {
						if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
							r2 = d
						} else {
							s.pos = save
						}
					} else {
						s.pos = save
					}
				}
				r = r2
			}
			buf = utf8.AppendRune(buf, r)
		default:
			return "", s.fail("bad escape '\\" + string(e) + "'")
		}
	}
	return "", s.fail("unterminated string")
}

// escapedLen is the length of the rest of a string from b[i] to its
// closing quote (or to the end of b), escapes counted as written.
func escapedLen(b []byte, i int) int {
	j := i
	for j < len(b) {
		j = plainRun(b, j)
		if j >= len(b) || b[j] == '"' {
			break
		}
		if b[j] == '\\' {
			j++
		}
		j++
	}
	return min(j, len(b)) - i
}

func (s *scanner) hex4() (rune, bool) {
	if s.pos+4 > len(s.data) {
		return 0, false
	}
	var r rune
	for _, c := range s.data[s.pos : s.pos+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.pos += 4
	return r, true
}

// number reads a JSON number and returns its literal text.
func (s *scanner) number() ([]byte, error) {
	s.ws()
	start := s.pos
	if s.pos < len(s.data) && s.data[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	if s.pos < len(s.data) && s.data[s.pos] == '0' {
		s.pos++
	} else if digits() == 0 {
		return nil, s.fail("invalid number")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return nil, s.fail("invalid number")
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return nil, s.fail("invalid number")
		}
	}
	return s.data[start:s.pos], nil
}

func (s *scanner) literal(word string) error {
	s.ws()
	if len(s.data)-s.pos < len(word) || string(s.data[s.pos:s.pos+len(word)]) != word {
		return s.fail("invalid literal")
	}
	s.pos += len(word)
	return nil
}

// skip reads any value, checking its syntax and its objects for duplicate
// keys, and returns its raw bytes.
func (s *scanner) skip(depth int) ([]byte, error) {
	if depth > 64 {
		return nil, s.fail("nested too deeply")
	}
	s.ws()
	start := s.pos
	var err error
	switch s.kind() {
	case "string":
		_, err = s.str()
	case "number":
		_, err = s.number()
	case "boolean":
		if s.data[s.pos] == 't' {
			err = s.literal("true")
		} else {
			err = s.literal("false")
		}
	case "null":
		err = s.literal("null")
	case "array":
		s.pos++
		if s.peek() == ']' {
			s.pos++
			break
		}
		for {
			if _, err = s.skip(depth + 1); err != nil {
				return nil, err
			}
			if s.peek() == ',' {
				s.pos++
				continue
			}
			err = s.expect(']')
			break
		}
	case "object":
		var seen map[string]struct{}
		err = s.object(func(key string) error {
			if seen == nil {
				seen = map[string]struct{}{}
			}
			if _, dup := seen[key]; dup {
				return dupKey(key)
			}
			seen[key] = struct{}{}
			_, err := s.skip(depth + 1)
			return err
		})
	default:
		if s.pos >= len(s.data) {
			return nil, s.fail("unexpected end of input")
		}
		return nil, s.fail("unexpected " + quoteByte(s.data[s.pos]))
	}
	if err != nil {
		return nil, err
	}
	return s.data[start:s.pos], nil
}

type dupKeyError struct{ key, path string }

func (e *dupKeyError) Error() string { return "duplicate key " + strconv.Quote(e.key) }

func dupKey(k string) error { return &dupKeyError{key: k} }

// object reads an object, calling member for each key with the scanner
// positioned at the value; member must consume the value.
func (s *scanner) object(member func(key string) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if s.peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.peek() != '"' {
			return s.fail("want a key string")
		}
		k, err := s.str()
		if err != nil {
			return err
		}
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := member(k); err != nil {
			return err
		}
		switch s.peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			if s.pos >= len(s.data) {
				return s.fail("unexpected end of input, want ',' or '}'")
			}
			return s.fail("want ',' or '}', got " + quoteByte(s.data[s.pos]))
		}
	}
}

const (
	ones   = 0x0101010101010101
	highs  = 0x8080808080808080
	quotes = '"' * ones
	slashs = '\\' * ones
	spaces = 0x20 * ones
)

// plainRun is the index of the first quote, backslash or control byte in
// b at or after i (len(b) when none): a string's plain run, tested eight
// bytes at a time. A word is skipped only when none of its bytes can be
// one of those (the tests may flag a word that has none, never miss one).
func plainRun(b []byte, i int) int {
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q, bs := x^quotes, x^slashs
		if ((q-ones)&^q|(bs-ones)&^bs|(x-spaces)&^x)&highs == 0 {
			continue
		}
		for j := i; j < i+8; j++ {
			if c := b[j]; c == '"' || c == '\\' || c < 0x20 {
				return j
			}
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c == '"' || c == '\\' || c < 0x20 {
			return i
		}
	}
	return i
}
