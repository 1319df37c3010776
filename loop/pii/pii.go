// Package pii masks personal data and secrets in free text before it is
// stored. Every match is replaced with a typed placeholder ([EMAIL], [PHONE],
// [CARD], [IBAN], [SSN], [IP], [SECRET]) and counted per type.
//
// The detector is a hand-rolled single-pass scanner, not a set of regular
// expressions: the main loop looks only at a few cheap trigger bytes (digits,
// '+', '(', '@', ':', '=', '_', '-', '[', upper-case letters and 'b') and every
// candidate scan started from a trigger is bounded or consumes what it scans,
// so the work is linear in the input on any input. Checksums back the
// number types (Luhn for cards, ISO 7064 mod-97 for IBANs), and the
// look-alikes that share their shapes (dates, times, versions, prices, UUIDs,
// order numbers, hashes) are ruled out by shape and context, after the ideas
// of Microsoft Presidio's predefined recognizers.
//
// Mask is safe for concurrent use, allocates nothing when the text holds no
// match, and is idempotent: placeholders are never re-detected, so
// Mask(Mask(s)) == Mask(s).
package pii

import (
	"strconv"
	"strings"
)

// Type is the kind of a masked entity.
type Type uint8

// The entity types, in the order of Counts.
const (
	Email Type = iota
	Phone
	Card
	IBAN
	SSN
	IP
	Secret
	NumTypes
)

var typeNames = [NumTypes]string{"EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "SECRET"}

var placeholders = [NumTypes]string{"[EMAIL]", "[PHONE]", "[CARD]", "[IBAN]", "[SSN]", "[IP]", "[SECRET]"}

// String returns the upper-case name of the type ("EMAIL", "PHONE", ...).
func (t Type) String() string {
	if t < NumTypes {
		return typeNames[t]
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Placeholder returns the text that replaces an entity of this type, such as
// "[EMAIL]".
func (t Type) Placeholder() string {
	if t < NumTypes {
		return placeholders[t]
	}
	return "[PII]"
}

// Counts holds the number of masked entities per type, indexed by Type.
type Counts [NumTypes]int

// Add adds o to c.
func (c *Counts) Add(o Counts) {
	for i := range c {
		c[i] += o[i]
	}
}

// Total is the number of masked entities of all types.
func (c Counts) Total() int {
	n := 0
	for _, v := range c {
		n += v
	}
	return n
}

// Map returns the non-zero counts keyed by Type.String(), or nil when all
// counts are zero.
func (c Counts) Map() map[string]int {
	var m map[string]int
	for t, v := range c {
		if v == 0 {
			continue
		}
		if m == nil {
			m = make(map[string]int, 2)
		}
		m[Type(t).String()] = v
	}
	return m
}

// Span is one detected entity: the byte range s[Start:End] and its type.
type Span struct {
	Start, End int
	Type       Type
}

// Mask replaces every detected entity in s with its type's placeholder and
// returns the result with the counts per type. When nothing matched it
// returns s itself without allocating.
func Mask(s string) (string, Counts) {
	if obfuscatedAnywhere(s) {
		return maskFolded(s)
	}
	var sc scanner
	sc.s = s
	sc.mask = true
	sc.run()
	if sc.fold {
		return maskFolded(s)
	}
	if !sc.hit {
		return s, Counts{}
	}
	sc.b.WriteString(s[sc.copied:])
	return sc.b.String(), sc.counts
}

// maskFolded masks s by way of its normalised view.
func maskFolded(s string) (string, Counts) {
	spans, counts := findFolded(s)
	if len(spans) == 0 {
		return s, Counts{}
	}
	var b strings.Builder
	b.Grow(len(s) + 32)
	copied := 0
	for _, sp := range spans {
		b.WriteString(s[copied:sp.Start])
		b.WriteString(placeholders[sp.Type])
		copied = sp.End
	}
	b.WriteString(s[copied:])
	return b.String(), counts
}

// findFolded finds the entities of s on its normalised view and returns
// their spans in s.
func findFolded(s string) ([]Span, Counts) {
	f := normalize(s)
	g := unobfuscate(f.n)
	var sc scanner
	sc.s = g.n
	sc.normal = true
	sc.run()
	m, mg := spanMapper{f: f}, spanMapper{f: g}
	for i := range sc.spans {
		sp := &sc.spans[i]
		sp.Start = m.start(mg.start(sp.Start))
		sp.End = m.end(mg.end(sp.End))
	}
	return sc.spans, sc.counts
}

// Find returns the spans Mask would replace, in order and non-overlapping.
func Find(s string) []Span {
	if obfuscatedAnywhere(s) {
		spans, _ := findFolded(s)
		return spans
	}
	var sc scanner
	sc.s = s
	sc.run()
	if sc.fold {
		spans, _ := findFolded(s)
		return spans
	}
	return sc.spans
}
