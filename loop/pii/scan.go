package pii

import (
	"math/bits"
	"strings"
)

// Character classes.
const (
	cDigit  = 1 << iota // 0-9
	cUpper              // A-Z
	cLower              // a-z
	cHex                // 0-9 A-F a-f
	cLocal              // e-mail local part: A-Za-z0-9 . _ % + -
	cIdent              // assignment key: A-Za-z0-9 _ . -
	cB64url             // A-Za-z0-9 _ -
	cTok                // bearer token: A-Za-z0-9 . _ ~ + / = -

	cAlnum  = cDigit | cUpper | cLower
	cLetter = cUpper | cLower
)

// Trigger kinds of the main loop.
const (
	tNone = iota
	tDigit
	tPlus
	tParen
	tAt
	tColon
	tEq
	tUnder
	tDash
	tUpper
	tLowerB
	tBracket
	tFold // lead byte of a rune the normalised view may change
)

var (
	cls  [256]uint8
	trig [256]uint8
)

func init() {
	for c := '0'; c <= '9'; c++ {
		cls[c] |= cDigit | cHex | cLocal | cIdent | cB64url | cTok
		trig[c] = tDigit
	}
	for c := 'A'; c <= 'Z'; c++ {
		cls[c] |= cUpper | cLocal | cIdent | cB64url | cTok
		trig[c] = tUpper
	}
	for c := 'a'; c <= 'z'; c++ {
		cls[c] |= cLower | cLocal | cIdent | cB64url | cTok
	}
	for _, c := range "abcdefABCDEF" {
		cls[c] |= cHex
	}
	for _, c := range "._%+-" {
		cls[c] |= cLocal
	}
	for _, c := range "_.-" {
		cls[c] |= cIdent
	}
	for _, c := range "_-" {
		cls[c] |= cB64url
	}
	for _, c := range "._~+/=-" {
		cls[c] |= cTok
	}
	trig['+'] = tPlus
	trig['('] = tParen
	trig['@'] = tAt
	trig[':'] = tColon
	trig['='] = tEq
	trig['_'] = tUnder
	trig['-'] = tDash
	trig['b'] = tLowerB
	trig['['] = tBracket
	for c := range foldLead {
		if foldLead[c] {
			trig[c] = tFold
		}
	}
}

func isDigit(c byte) bool  { return c-'0' < 10 }
func isUpper(c byte) bool  { return c-'A' < 26 }
func isLower(c byte) bool  { return c-'a' < 26 }
func isAlnum(c byte) bool  { return cls[c]&cAlnum != 0 }
func isLetter(c byte) bool { return cls[c]&cLetter != 0 }
func isHex(c byte) bool    { return cls[c]&cHex != 0 }

// isWordByte reports whether c continues a word for boundary purposes.
func isWordByte(c byte) bool { return cls[c]&cAlnum != 0 || c == '_' }

// isLatinLead reports whether c leads a two-byte UTF-8 sequence of a letter
// in the Latin-1 supplement .. Arabic blocks (U+00C0-U+07FF). Names and
// domains in European languages use these; CJK text (three-byte sequences)
// is never taken into an entity.
func isLatinLead(c byte) bool { return c >= 0xC3 && c <= 0xDF }
func isCont(c byte) bool      { return c&0xC0 == 0x80 }

// scanner is the state of one pass over a string.
type scanner struct {
	s        string
	lastEnd  int // end of the last emitted span
	lastType Type
	mask     bool
	hit      bool

	// normal says s is already the normalised view of a text; fold is set
	// when a direct pass meets a rune the normalised view changes, and
	// ends that pass
	normal bool
	fold   bool
	copied int
	b      strings.Builder
	spans  []Span
	counts Counts

	// phone context cache (positions are stored +1; 0 means none)
	ctxScan  int
	ctxKw    int
	ctxBrack int

	// the run of URL text last scanned by urlEnd
	urlFrom, urlTo int

	steps int // work done by candidate scans, for the linearity test
}

func (sc *scanner) emit(start, end int, t Type) {
	if sc.fold {
		return // this pass is given up
	}
	if !sc.normal && hasHigh(sc.s[start:end]) {
		// a span may hold a rune the main loop never saw: if the
		// normalised view would change it, the span is judged there
		for j := start; j < end; j++ {
			if c := sc.s[j]; c >= 0x80 && foldLead[c] && needFold(sc.s, j) {
				sc.fold = true
				return
			}
		}
	}
	if sc.mask {
		if !sc.hit {
			sc.b.Grow(len(sc.s) + 32)
		}
		sc.b.WriteString(sc.s[sc.copied:start])
		sc.b.WriteString(placeholders[t])
		sc.copied = end
	} else {
		sc.spans = append(sc.spans, Span{Start: start, End: end, Type: t})
	}
	sc.hit = true
	sc.counts[t]++
	sc.lastEnd = end
	sc.lastType = t
}

// vb returns the byte at j as it reads in the masked text: the last byte of
// an emitted span reads as the ']' of its placeholder and the bytes before
// it as letters. Every look-behind goes through vb or stops at lastEnd, so
// a second pass over masked text sees the same context as the first pass
// did, which keeps Mask idempotent.
func (sc *scanner) vb(j int) byte {
	if j < 0 {
		return ' '
	}
	if j >= sc.lastEnd {
		return sc.s[j]
	}
	if j == sc.lastEnd-1 {
		return ']'
	}
	return 'Z'
}

const hiBits = 0x8080808080808080

// hasHigh reports whether s holds a byte >= 0x80.
func hasHigh(s string) bool {
	var acc uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		acc |= uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
	}
	for ; i < len(s); i++ {
		acc |= uint64(s[i])
	}
	return acc&hiBits != 0
}

func (sc *scanner) run() {
	s := sc.s
	i := 0
	for {
		i = nextTrigger(s, i)
		if i >= len(s) {
			return
		}
		next := sc.dispatch(i)
		if next <= i {
			next = i + 1
		}
		i = next
	}
}

// skipNonASCII returns the end of the run of non-ASCII bytes at i:
// non-ASCII text starts no entity by itself. A direct pass stops (returns
// len(s) with sc.fold set) at the first rune the normalised view changes.
func (sc *scanner) skipNonASCII(i int) int {
	s := sc.s
	j := i
	if sc.normal {
		for j < len(s) && s[j] >= 0x80 {
			j++
		}
		return j
	}
	for j+8 <= len(s) {
		// eight non-ASCII bytes at a time; only lead bytes (bits 7 and 6
		// set) may start a foldable rune
		x := uint64(s[j]) | uint64(s[j+1])<<8 | uint64(s[j+2])<<16 | uint64(s[j+3])<<24 |
			uint64(s[j+4])<<32 | uint64(s[j+5])<<40 | uint64(s[j+6])<<48 | uint64(s[j+7])<<56
		if x&hiBits != hiBits {
			break
		}
		for m := x & (x << 1) & hiBits; m != 0; m &= m - 1 {
			k := j + bits.TrailingZeros64(m)/8
			if k+1 < len(s) && fold2[s[k]-0xC0]>>(s[k+1]&0x3F)&1 != 0 && needFold(s, k) {
				sc.fold = true
				return len(s)
			}
		}
		j += 8
	}
	for j < len(s) {
		c := s[j]
		if c < 0x80 {
			break
		}
		if c >= 0xC0 && j+1 < len(s) && fold2[c-0xC0]>>(s[j+1]&0x3F)&1 != 0 && needFold(s, j) {
			sc.fold = true
			return len(s)
		}
		j++
	}
	return j
}

// foldHere is called where a candidate scan is about to take the non-ASCII
// rune at j into an entity. In a direct pass over text that the
// normalised view would change there, it ends the pass, so that every
// entity is judged on the normalised view.
func (sc *scanner) foldHere(j int) bool {
	if !sc.normal && needFold(sc.s, j) {
		sc.fold = true
		return true
	}
	return false
}

// nextTrigger returns the index of the first trigger byte at or after i, or
// len(s).
func nextTrigger(s string, i int) int {
	for i+4 <= len(s) && trig[s[i]]|trig[s[i+1]]|trig[s[i+2]]|trig[s[i+3]] == tNone {
		i += 4
	}
	for i < len(s) && trig[s[i]] == tNone {
		i++
	}
	return i
}

// dispatch runs the detectors for the trigger byte at i and returns where
// the main loop resumes.
func (sc *scanner) dispatch(i int) int {
	s := sc.s
	n := len(s)
	switch trig[s[i]] {
	case tDigit:
		return sc.digit(i)
	case tPlus:
		if i+1 < n && isDigit(s[i+1]) {
			p := sc.vb(i - 1)
			if !isWordByte(p) && p != '+' && p != '-' && p != '.' {
				return sc.numeric(i)
			}
		}
	case tParen:
		if i+1 < n && isDigit(s[i+1]) && sc.tokenStart(i) {
			return sc.numeric(i)
		}
	case tAt:
		return sc.email(i)
	case tColon:
		if i+2 < n && s[i+1] == '/' && s[i+2] == '/' {
			if st, e := sc.webhook(i); e > 0 {
				sc.emit(st, e, Secret)
				return e
			}
		}
		if st, e := sc.ipv6(i); e > 0 {
			sc.emit(st, e, IP)
			return e
		}
		return sc.assign(i)
	case tEq:
		return sc.assign(i)
	case tUnder:
		return sc.underscore(i)
	case tDash:
		return sc.dash(i)
	case tUpper:
		return sc.upper(i)
	case tLowerB:
		if i+1 < n && s[i+1] == 'e' {
			return sc.bearer(i)
		}
	case tBracket:
		if l := placeholderLen(s[i:]); l > 0 {
			return i + l
		}
	case tFold:
		return sc.skipNonASCII(i)
	}
	return i + 1
}

// tokenStart reports whether a token may start at i: not inside a word and
// not joined by '-' or '.' to a preceding word (where it would be the tail
// of a host name, an identifier or the like).
func (sc *scanner) tokenStart(i int) bool {
	p := sc.vb(i - 1)
	if isWordByte(p) {
		return false
	}
	if p == '-' || p == '.' {
		return !isAlnum(sc.vb(i - 2))
	}
	return p != ':' || sc.vb(i-2) != ':' // not after "::" (an IPv6 prefix)
}

// endOK reports whether a token may end at e. A following '[' may start a
// placeholder, and whatever it replaced may have extended or broken this
// token, so a token that runs into one is not taken: a second pass over
// masked text must find nothing new.
func (sc *scanner) endOK(e int) bool {
	return e >= len(sc.s) || sc.s[e] != '['
}

// placeholderLen returns the length of the placeholder s starts with, or 0.
func placeholderLen(s string) int {
	if len(s) < 4 || s[0] != '[' {
		return 0
	}
	for _, p := range placeholders {
		if strings.HasPrefix(s, p) {
			return len(p)
		}
	}
	return 0
}

// hasPrefixFold reports whether s starts with the lower-case ASCII prefix p,
// ignoring ASCII case.
func hasPrefixFold(s, p string) bool {
	if len(s) < len(p) {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := s[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		if c != p[i] {
			return false
		}
	}
	return true
}
