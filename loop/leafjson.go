package loop

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// unmarshalLeaf is json.Unmarshal of a signal leaf's value into x, with
// the same result, but without reflection for the forms leaves take: a
// boolean, a number, a string without escapes, and the thumb unit. Merging
// and storing signals reads their leaves several times each, and
// encoding/json was most of what a signal of an interaction edge sampling
// did not keep cost the store's writer. Anything else (escapes, invalid
// UTF-8, which json.Unmarshal replaces, odd spacing in a unit, a value of
// the wrong type) goes to json.Unmarshal, so the results never differ.
func unmarshalLeaf(v []byte, x any) error {
	if fastLeaf(v, x) {
		return nil
	}
	return json.Unmarshal(v, x)
}

// fastLeaf decodes v into x when it can do so exactly as json.Unmarshal
// would, and reports whether it did.
func fastLeaf(v []byte, x any) bool {
	switch p := x.(type) {
	case *bool:
		switch string(v) {
		case "true":
			*p = true
			return true
		case "false":
			*p = false
			return true
		}
	case *float64:
		if plainNumber(v, true) {
			if f, err := strconv.ParseFloat(string(v), 64); err == nil {
				*p = f
				return true
			}
		}
	case *int:
		if plainNumber(v, false) {
			if n, err := strconv.ParseInt(string(v), 10, 0); err == nil {
				*p = int(n)
				return true
			}
		}
	case *string:
		if s, ok := plainString(v); ok {
			*p = strings.Clone(s)
			return true
		}
	case *thumbUnit:
		return fastUnit(v, p)
	}
	return false
}

// plainNumber reports whether v is a JSON number (an integer unless
// frac): what strconv reads exactly as encoding/json does.
func plainNumber(v []byte, frac bool) bool {
	i := 0
	if i < len(v) && v[i] == '-' {
		i++
	}
	if i == len(v) || v[i] < '0' || v[i] > '9' || (v[i] == '0' && i+1 < len(v) && v[i+1] >= '0' && v[i+1] <= '9') {
		return false
	}
	for i < len(v) && v[i] >= '0' && v[i] <= '9' {
		i++
	}
	if !frac {
		return i == len(v)
	}
	if i < len(v) && v[i] == '.' {
		i++
		d := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		i++
		if i < len(v) && (v[i] == '+' || v[i] == '-') {
			i++
		}
		d := i
		for i < len(v) && v[i] >= '0' && v[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(v)
}

// plainString is the content of v when v is a JSON string with no escapes
// and no control characters, in valid UTF-8; it shares v's memory.
func plainString(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	in := v[1 : len(v)-1]
	if bytes.IndexByte(in, '\\') >= 0 || bytes.IndexByte(in, '"') >= 0 || !utf8.Valid(in) {
		return "", false
	}
	for _, c := range in {
		if c < 0x20 {
			return "", false
		}
	}
	return string(in), true
}

// fastUnit reads a thumb unit as appendUnit writes it: {"thumb":...,
// "reason_codes":[...],"reason_text":...}, each key at most once, in any
// order, each value a plain string (or null, or for reason_codes an array
// of plain strings), no spaces. It leaves u alone when it returns false.
func fastUnit(v []byte, u *thumbUnit) bool {
	if len(v) < 2 || v[0] != '{' || v[len(v)-1] != '}' {
		return false
	}
	var out thumbUnit
	var seen [3]bool
	rest := v[1 : len(v)-1]
	// value starts key k's value: false when the key came before; null
	// when the value is null, which leaves the field as it is, and is
	// consumed.
	value := func(k int) (null, ok bool) {
		if seen[k] {
			return false, false
		}
		seen[k] = true
		after, null := bytes.CutPrefix(rest, []byte("null"))
		if null {
			rest = after
		}
		return null, true
	}
	for len(rest) > 0 {
		var key string
		var ok bool
		if key, rest, ok = cutString(rest); !ok || len(rest) == 0 || rest[0] != ':' {
			return false
		}
		rest = rest[1:]
		k := slices.Index([]string{"thumb", "reason_codes", "reason_text"}, key)
		if k < 0 {
			return false
		}
		null, ok := value(k)
		if !ok {
			return false
		}
		if !null {
			switch k {
			case 0:
				var s string
				if s, rest, ok = cutString(rest); !ok {
					return false
				}
				s = strings.Clone(s)
				out.Thumb = &s
			case 1:
				if out.ReasonCodes, rest, ok = cutStrings(rest); !ok {
					return false
				}
			case 2:
				var s string
				if s, rest, ok = cutString(rest); !ok {
					return false
				}
				out.ReasonText = strings.Clone(s)
			}
		}
		if len(rest) > 0 {
			if rest[0] != ',' || len(rest) == 1 {
				return false
			}
			rest = rest[1:]
		}
	}
	*u = out
	return true
}

// cutStrings cuts an array of plain strings off the front of b (an empty
// one is an empty slice, not nil, as json.Unmarshal makes it).
func cutStrings(b []byte) (out []string, rest []byte, ok bool) {
	if len(b) == 0 || b[0] != '[' {
		return nil, b, false
	}
	rest = b[1:]
	out = []string{}
	for len(rest) > 0 && rest[0] != ']' {
		var s string
		if s, rest, ok = cutString(rest); !ok {
			return nil, b, false
		}
		out = append(out, strings.Clone(s))
		if len(rest) > 1 && rest[0] == ',' && rest[1] != ']' {
			rest = rest[1:]
		} else if len(rest) == 0 || rest[0] != ']' {
			return nil, b, false
		}
	}
	if len(rest) == 0 {
		return nil, b, false
	}
	return out, rest[1:], true
}

// cutString cuts a plain string (plainString) off the front of b.
func cutString(b []byte) (s string, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != '"' {
		return "", b, false
	}
	end := bytes.IndexByte(b[1:], '"')
	if end < 0 {
		return "", b, false
	}
	s, ok = plainString(b[:end+2])
	return s, b[end+2:], ok
}

// UnitWithoutText is a thumb unit leaf's value (ThumbUnit) with its
// reason text dropped and its thumb and reason codes kept: what a stub
// keeps of a signal's explicit feedback.
func UnitWithoutText(v []byte) []byte {
	var u thumbUnit
	_ = unmarshalLeaf(v, &u)
	u.ReasonText = ""
	return appendUnit(nil, &u)
}
