// Package filter parses the inbox's filter syntax and matches it against a
// compact, column-oriented index of items, fast enough to run on every
// keystroke over a million items.
//
// A query is a list of whitespace-separated terms, all of which must match:
//
//	key:value   a field term; the field's value must fuzzy-match value
//	            (case-insensitive subsequence: seg:ent finds enterprise)
//	word        a bare word; the item's text must fuzzy-match it, and
//	            sahilm/fuzzy scores the match for ranking
//
//	"a phrase"  quoted: the text (or, as key:"value", the field) must
//	            contain it exactly, ignoring case; not fuzzy, not ranked
//
// Keys: reason, segment (seg), model, task, thumb, grade, locale, set. A
// token that looks like key:value with a key of letters that is none of
// these (sgment:pro) is not a term: Query.Unknown lists it, so a front end
// can say so. Other tokens with a colon (10:30, http://x) are bare words. A
// field term with an empty value matches everything.
//
// The package is pure: no I/O, no terminal.
package filter

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field names what a term matches against.
type Field uint8

const (
	Text    Field = iota // the item's text (bare words)
	Reason               // any of the item's reason codes
	Segment              // user segment
	Model                // model version
	Task                 // task type
	Thumb                // up, down, none
	Grade                // pass, fail, borderline, none
	Locale               // locale
	Set                  // golden, redflag
	numFields
)

var fieldNames = [numFields]string{"text", "reason", "segment", "model", "task", "thumb", "grade", "locale", "set"}

func (f Field) String() string {
	if f < numFields {
		return fieldNames[f]
	}
	return "?"
}

// keys maps every accepted key spelling to its field.
var keys = map[string]Field{
	"reason": Reason, "reasons": Reason,
	"segment": Segment, "seg": Segment,
	"model":  Model,
	"task":   Task,
	"thumb":  Thumb,
	"grade":  Grade,
	"locale": Locale,
	"set":    Set,
}

// Keys lists the field keys, for help text.
func Keys() []string {
	return []string{"reason", "segment", "seg", "model", "task", "thumb", "grade", "locale", "set"}
}

// Term is one condition of a query.
type Term struct {
	Field Field
	Value string // never empty in a parsed Query
	// Exact: the value was quoted, and must occur as written (ignoring
	// case) instead of fuzzily.
	Exact bool
}

// Query is a conjunction of terms. The zero Query matches everything.
type Query struct {
	Terms []Term
	// Unknown are the key:value tokens whose key is not a field key, in
	// the order typed; they add no condition.
	Unknown []string
}

// UnknownError says which keys of q are unknown, or is nil.
func (q Query) UnknownError() error {
	if len(q.Unknown) == 0 {
		return nil
	}
	return &UnknownKeyError{Tokens: q.Unknown}
}

// UnknownKeyError is a filter with key:value tokens of no known key.
type UnknownKeyError struct{ Tokens []string }

func (e *UnknownKeyError) Error() string {
	k, _, _ := strings.Cut(e.Tokens[0], ":")
	return fmt.Sprintf("unknown filter key %q (in %s): use one of reason: segment: model: task: thumb: grade: locale: set:, or quote it for text", k+":", e.Tokens[0])
}

// Empty reports whether the query matches everything.
func (q Query) Empty() bool { return len(q.Terms) == 0 }

// HasText reports whether the query has bare (unquoted) words, and so is
// ranked by score rather than kept in list order.
func (q Query) HasText() bool {
	for _, t := range q.Terms {
		if t.Field == Text && !t.Exact {
			return true
		}
	}
	return false
}

// String renders the query back in the filter syntax.
func (q Query) String() string {
	var b strings.Builder
	for i, t := range q.Terms {
		if i > 0 {
			b.WriteByte(' ')
		}
		v := t.Value
		if t.Exact || strings.ContainsFunc(v, func(r rune) bool { return r == '"' || unicode.IsSpace(r) }) {
			v = `"` + strings.ReplaceAll(v, `"`, "") + `"`
		} else if t.Field == Text && looksKeyed(v) {
			// A bare word with a colon that would read back as key:value
			// (typed as m"AAA:0): an empty quote pair after its first
			// letter keeps it a fuzzy bare word.
			_, n := utf8.DecodeRuneInString(v)
			v = v[:n] + `""` + v[n:]
		}
		if t.Field != Text {
			b.WriteString(t.Field.String())
			b.WriteByte(':')
		}
		b.WriteString(v)
	}
	return b.String()
}

// Parse reads a query. It never fails: a key:value token of an unknown
// key goes to Unknown, anything else that is not a known key:value token is
// a bare word.
func Parse(s string) Query {
	var q Query
	for len(s) > 0 {
		// Skip spaces.
		r, n := utf8.DecodeRuneInString(s)
		if unicode.IsSpace(r) {
			s = s[n:]
			continue
		}
		tok, rest := nextToken(s)
		s = rest
		if unknownKey(tok) {
			q.Unknown = append(q.Unknown, tok)
			continue
		}
		if t, ok := parseToken(tok); ok {
			q.Terms = append(q.Terms, t)
		}
	}
	return q
}

// nextToken cuts one token off s (which starts with a non-space): up to the
// next space outside double quotes.
func nextToken(s string) (tok, rest string) {
	inQuote := false
	for i, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
		case !inQuote && unicode.IsSpace(r):
			return s[:i], s[i:]
		}
	}
	return s, ""
}

// unknownKey reports whether tok is key:value with a key of letters that
// names no field (http://x and 10:30 are text, not keys).
func unknownKey(tok string) bool {
	if !looksKeyed(tok) {
		return false
	}
	_, known := keys[strings.ToLower(tok[:strings.IndexByte(tok, ':')])]
	return !known
}

// looksKeyed reports whether tok reads as key:value: letters (or _) before
// its first colon, and not a URL.
func looksKeyed(tok string) bool {
	i := strings.IndexByte(tok, ':')
	if i <= 0 || strings.HasPrefix(tok[i+1:], "//") {
		return false
	}
	for _, r := range tok[:i] {
		if !unicode.IsLetter(r) && r != '_' {
			return false
		}
	}
	return true
}

func parseToken(tok string) (Term, bool) {
	if i := strings.IndexByte(tok, ':'); i > 0 {
		if f, ok := keys[strings.ToLower(tok[:i])]; ok {
			v := unquote(tok[i+1:])
			if v == "" {
				return Term{}, false // "seg:" while typing: no condition yet
			}
			return Term{Field: f, Value: v, Exact: quoted(tok[i+1:])}, true
		}
	}
	v := unquote(tok)
	if v == "" {
		return Term{}, false
	}
	return Term{Field: Text, Value: v, Exact: quoted(tok)}, true
}

// quoted reports whether s starts with a double quote: "a phrase".
func quoted(s string) bool { return strings.HasPrefix(s, `"`) }

func unquote(s string) string {
	if !strings.Contains(s, `"`) {
		return s
	}
	return strings.TrimSpace(strings.ReplaceAll(s, `"`, ""))
}

// Narrows reports whether every item matching q also matches prev, so that a
// search for q may look only at prev's results. It holds when each of prev's
// terms has a term of the same field in q whose value contains prev's value
// as a (case-insensitive) subsequence: typing more only ever narrows.
func (q Query) Narrows(prev Query) bool {
	for _, pt := range prev.Terms {
		found := false
		for _, t := range q.Terms {
			if t.Field != pt.Field || t.Exact != pt.Exact {
				continue
			}
			if pt.Exact && strings.Contains(strings.ToLower(t.Value), strings.ToLower(pt.Value)) ||
				!pt.Exact && isSubsequenceFold(pt.Value, t.Value) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// isSubsequenceFold reports whether pattern is a case-insensitive
// subsequence of s (rune-wise, simple folding).
func isSubsequenceFold(pattern, s string) bool {
	pr := []rune(pattern)
	j := 0
	for _, r := range s {
		if j == len(pr) {
			break
		}
		if foldEq(r, pr[j]) {
			j++
		}
	}
	return j == len(pr)
}

func foldEq(a, b rune) bool {
	if a == b {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return lowerASCII(byte(a)) == lowerASCII(byte(b))
	}
	return unicode.ToLower(a) == unicode.ToLower(b) || unicode.ToUpper(a) == unicode.ToUpper(b)
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
