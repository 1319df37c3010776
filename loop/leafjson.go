package loop

import (
	"bytes"
	"encoding/json"
	"errors"
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
// UTF-8, which json.Unmarshal replaces, a value of the wrong type, a unit
// with a key repeated or unknown) goes to json.Unmarshal, so the results
// never differ.
func unmarshalLeaf(v []byte, x any) error {
	if fastLeaf(v, x) {
		return nil
	}
	return json.Unmarshal(v, x)
}

// fastLeaf decodes v into x when it can do so exactly as json.Unmarshal
// would, and reports whether it did. It reads with the event decoder's
// scanner, whose syntax is JSON's; values with escapes or invalid UTF-8
// go to encoding/json, which reads those its own way (it replaces what
// it cannot decode).
func fastLeaf(v []byte, x any) bool {
	if bytes.IndexByte(v, '\\') >= 0 || !utf8.Valid(v) {
		return false
	}
	d := decoder{scanner: scanner{data: v}}
	// whole: the value was all of v (json.Unmarshal allows spaces around
	// it, and changes nothing when there is more).
	whole := func() bool {
		d.ws()
		return d.pos == len(v)
	}
	switch p := x.(type) {
	case *bool:
		var b bool
		switch {
		case d.literal("true") == nil:
			b = true
		case d.literal("false") == nil:
		default:
			return false
		}
		if whole() {
			*p = b
			return true
		}
	case *float64:
		if lit, err := d.scanner.number(); err == nil && whole() {
			if f, err := strconv.ParseFloat(string(lit), 64); err == nil {
				*p = f
				return true
			}
		}
	case *int:
		// 1.0 and 1e2 are numbers json.Unmarshal will not put in an int.
		if lit, err := d.scanner.number(); err == nil && !bytes.ContainsAny(lit, ".eE") && whole() {
			if n, err := strconv.ParseInt(string(lit), 10, 0); err == nil {
				*p = int(n)
				return true
			}
		}
	case *string:
		if d.kind() == "string" {
			if str, err := d.str(); err == nil && whole() {
				*p = strings.Clone(str)
				return true
			}
		}
	case *thumbUnit:
		if u, ok := d.unit(); ok && whole() {
			*p = u
			return true
		}
	}
	return false
}

// unitKeys are the thumb unit's keys, as thumbUnit's fields.
var unitKeys = []string{"thumb", "reason_codes", "reason_text"}

// errNotFast stops a read the fast path leaves to encoding/json.
var errNotFast = errors.New("loop: not a fast leaf")

// unit reads a thumb unit: its three keys at most once each (json.Unmarshal
// takes the last of repeated keys, and ignores others), in any order,
// values a string, an array of strings, or null, which leaves the field
// as it is.
func (d *decoder) unit() (thumbUnit, bool) {
	var out thumbUnit
	if d.kind() != "object" {
		return out, false
	}
	var seen [3]bool
	err := d.object(func(key string) error {
		k := slices.Index(unitKeys, key)
		if k < 0 || seen[k] {
			return errNotFast
		}
		seen[k] = true
		if d.null() {
			return nil
		}
		if want := [3]string{"string", "array", "string"}[k]; d.kind() != want {
			return errNotFast
		}
		if k == 1 {
			codes, err := d.strings(fpath{})
			if err != nil {
				return err
			}
			for i := range codes {
				codes[i] = strings.Clone(codes[i])
			}
			out.ReasonCodes = codes
			return nil
		}
		str, err := d.str()
		if err != nil {
			return err
		}
		if str = strings.Clone(str); k == 0 {
			out.Thumb = &str
		} else {
			out.ReasonText = str
		}
		return nil
	})
	return out, err == nil
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
