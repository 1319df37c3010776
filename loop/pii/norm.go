package pii

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text in disguise: PII split by invisible characters (zero-width spaces,
// joiners, soft hyphens, bidi controls, tag characters) or written with
// look-alike separators (no-break and other Unicode spaces, Unicode dashes,
// fullwidth digits and '@'). The scanner matches on a normalised view of
// such text, in which invisible characters are removed and look-alikes are
// folded to their ASCII counterparts, and the spans it finds there are
// mapped back to the original text, so that the whole original entity,
// invisible characters included, is replaced.
//
// An address written to get past filters, "jo (at) example (dot) com" or
// "jo[at]example[dot]com", or defanged, "jo[@]example[.]com", reads as
// jo@example.com there too: "(at)", "[at]" and "[@]" (any case, spaces
// inside allowed) fold to '@', "(dot)", "[dot]" and "[.]" to '.', with the
// spaces around them. Only what then matches an entity is masked, so
// "meet (at) noon" stays as it is.
//
// Text without any such character never gets a normalised copy: the main
// loop sees the lead bytes of the foldable characters as triggers and, on
// the first that really is one, gives up the direct pass (see needFold).

// Fold kinds of a rune.
const (
	fKeep   = iota // not touched
	fRemove        // invisible: left out of the normalised view
	fASCII         // replaced by one ASCII byte
)

// fold2 holds, per lead byte 0xC0-0xFF, a bit per second byte (by its low
// six bits) for which maybeFold holds: the main loop's test.
var fold2 [64]uint64

// mayFold reports whether the sequence at s[j] (a byte >= 0x80) may
// encode a foldable rune.
func mayFold(s string, j int) bool {
	c := s[j]
	return c >= 0xC0 && j+1 < len(s) && fold2[c-0xC0]>>(s[j+1]&0x3F)&1 != 0
}

// foldLead marks the lead bytes of UTF-8 sequences that may encode a
// foldable rune; every other byte is kept as it is.
var foldLead [256]bool

func init() {
	for _, c := range []byte{0xC2, 0xCA, 0xCD, 0xD8, 0xD9, 0xDB, 0xDC, 0xE0, 0xE1, 0xE2, 0xE3, 0xEF, 0xF0, 0xF3} {
		foldLead[c] = true
	}
	for c := 0xC0; c <= 0xFF; c++ {
		for d := 0x80; d <= 0xBF; d++ {
			if foldLead[c] && maybeFold(byte(c), byte(d)) {
				fold2[c-0xC0] |= 1 << (d & 0x3F)
			}
		}
	}
}

// foldRune returns how r reads in the normalised view.
func foldRune(r rune) (kind int, b byte) {
	switch {
	case r < 0x80:
		return fKeep, 0
	case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
		return fASCII, byte(r - 0xFEE0)
	case r >= 0x0660 && r <= 0x0669: // Arabic-Indic digits
		return fASCII, byte('0' + r - 0x0660)
	case r >= 0x06F0 && r <= 0x06F9: // extended Arabic-Indic digits
		return fASCII, byte('0' + r - 0x06F0)
	case r >= 0x0966 && r <= 0x096F: // Devanagari digits
		return fASCII, byte('0' + r - 0x0966)
	}
	switch r {
	case 0x00A0, 0x1680, 0x202F, 0x205F, 0x3000:
		return fASCII, ' '
	case 0x0085, 0x2028, 0x2029:
		return fASCII, '\n'
	case 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2043, 0x2212, 0xFE58, 0xFE63:
		return fASCII, '-'
	case 0x2018, 0x2019, 0x201B, 0x02BC, 0x2032:
		return fASCII, '\''
	case 0x201C, 0x201D, 0x201F:
		return fASCII, '"'
	case 0x2024, 0xFE52:
		return fASCII, '.'
	case 0x2044, 0x2215:
		return fASCII, '/'
	case 0xFE6B:
		return fASCII, '@'
	case 0xFE55:
		return fASCII, ':'
	case 0xFE62:
		return fASCII, '+'
	case 0x034F, 0x115F, 0x1160, 0x3164, 0xFFA0, 0x180B, 0x180C, 0x180D, 0x180F:
		return fRemove, 0 // combining grapheme joiner, Hangul fillers, Mongolian selectors
	}
	if r >= 0x2000 && r < 0x2070 { // general punctuation
		switch {
		case r <= 0x200A:
			return fASCII, ' '
		case r <= 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2060 && r != 0x2065:
			return fRemove, 0 // zero-width, bidi and invisible operators
		}
		return fKeep, 0
	}
	if r >= 0x2070 && r < 0xFE00 {
		return fKeep, 0 // no format characters here (CJK punctuation, kana, ...)
	}
	if r >= 0xFE00 && r <= 0xFE0F || r >= 0xE0100 && r <= 0xE01EF { // variation selectors
		return fRemove, 0
	}
	if unicode.Is(unicode.Cf, r) {
		return fRemove, 0 // zero-width, soft hyphen, bidi controls, BOM, tags, ...
	}
	return fKeep, 0
}

// maybeFold reports whether the UTF-8 sequence with lead byte c and second
// byte d may encode a foldable rune: a quick filter before decoding, so that
// letters of scripts that share a lead byte with a foldable rune (Japanese
// kana, most CJK, the euro sign) cost only a comparison or two.
func maybeFold(c, d byte) bool {
	switch c {
	case 0xC2:
		return d == 0x85 || d == 0xA0 || d == 0xAD
	case 0xCA:
		return d == 0xBC
	case 0xCD, 0xDC:
		return d == 0x8F
	case 0xD8:
		return d <= 0x85 || d == 0x9C
	case 0xD9:
		return d >= 0xA0 && d <= 0xA9
	case 0xDB:
		return d == 0x9D || d >= 0xB0 && d <= 0xB9
	case 0xE0:
		return d == 0xA2 || d == 0xA3 || d == 0xA5
	case 0xE1:
		return d == 0x85 || d == 0x9A || d == 0xA0
	case 0xE2:
		return d == 0x80 || d == 0x81 || d == 0x88
	case 0xE3:
		return d == 0x80 || d == 0x85
	case 0xEF:
		return d >= 0xB8 && d != 0xBA
	case 0xF0:
		return d == 0x91 || d == 0x93 || d == 0x9B || d == 0x9D
	case 0xF3:
		return d == 0xA0
	}
	return false
}

// foldAt reports how the rune starting at s[i] reads in the normalised
// view, and its length in bytes.
func foldAt(s string, i int) (kind int, b byte, size int) {
	c := s[i]
	if c < 0x80 || !foldLead[c] || i+1 >= len(s) || !maybeFold(c, s[i+1]) {
		return fKeep, 0, 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size <= 1 {
		return fKeep, 0, 1
	}
	kind, b = foldRune(r)
	return kind, b, size
}

// cjkPunct reports whether s[i:] starts with CJK punctuation other than the
// ideographic space (U+3001-U+303F: 、。「」...), common in Japanese and
// Chinese text and never folded.
func cjkPunct(s string, i int) bool {
	return s[i] == 0xE3 && i+2 < len(s) && s[i+1] == 0x80 && s[i+2] != 0x80
}

// needFold reports whether the rune at s[i] is one the normalised view
// changes. It is called at the trigger bytes of the direct pass.
func needFold(s string, i int) bool {
	if i+1 >= len(s) || !maybeFold(s[i], s[i+1]) || cjkPunct(s, i) {
		return false
	}
	k, _, _ := foldAt(s, i)
	return k != fKeep
}

// foldEdit records one changed rune: the normalised bytes [n, n+nlen) (nlen
// 0 or 1) stand for the original bytes [o, o+olen).
type foldEdit struct {
	n, o       int
	nlen, olen int
}

// folded is the normalised view of a text and what it takes to map its
// offsets back.
type folded struct {
	s     string // the original text
	n     string // the normalised view
	edits []foldEdit
}

func normalize(s string) *folded {
	f := &folded{s: s}
	b := make([]byte, 0, len(s))
	last := 0 // s[last:i] is copied as it is
	for i := 0; i < len(s); {
		c := s[i]
		if c < 0x80 || !foldLead[c] {
			i++
			continue
		}
		kind, ab, size := foldAt(s, i)
		if kind == fKeep {
			i += size
			continue
		}
		b = append(b, s[last:i]...)
		e := foldEdit{n: len(b), o: i, olen: size}
		if kind == fASCII {
			b = append(b, ab)
			e.nlen = 1
		}
		f.edits = append(f.edits, e)
		i += size
		last = i
	}
	b = append(b, s[last:]...)
	f.n = string(b)
	return f
}

// unobfuscate is the second step of the normalised view, over the first's
// text (normalize): the obfuscated '@' and '.' folded (see obfuscated),
// with the spaces around them. It runs on the first step's text so that
// invisible characters and look-alike spaces, already removed or folded
// there, neither hide nor make one.
func unobfuscate(s string) *folded {
	f := &folded{s: s}
	var b []byte
	last := 0 // s[last:i] is copied as it is
	fold := func(st, end int, c byte) {
		if b == nil {
			b = make([]byte, 0, len(s))
		}
		b = append(b, s[last:st]...)
		f.edits = append(f.edits, foldEdit{n: len(b), o: st, nlen: 1, olen: end - st})
		b = append(b, c)
		last = end
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '(', '[':
			if olen, c := obfuscated(s, i); olen > 0 {
				// "jo [at] x [dot] com" reads jo@x.com
				st, end := i, i+olen
				for st > last && s[st-1] == ' ' {
					st--
				}
				for end < len(s) && s[end] == ' ' {
					end++
				}
				fold(st, end, c)
				i = end
				continue
			}
		case '%', '&':
			if olen, c := obfuscated(s, i); olen > 0 {
				// jo%40example.com (in a URL), jo&#64;example.com
				fold(i, i+olen, c)
				i += olen
				continue
			}
		}
		i++
	}
	if b == nil {
		f.n = s
		return f
	}
	b = append(b, s[last:]...)
	f.n = string(b)
	return f
}

// spanMapper maps spans of the normalised view, given in increasing order,
// back to the original text.
type spanMapper struct {
	f *folded
	k int // edits[:k] lie wholly before the last position mapped
	d int // original minus normalised offset after edits[:k]
}

// advance moves past the edits that end at or before normalised offset p.
func (m *spanMapper) advance(p int) {
	ed := m.f.edits
	for m.k < len(ed) && ed[m.k].n+ed[m.k].nlen <= p {
		e := ed[m.k]
		m.d = e.o + e.olen - (e.n + e.nlen)
		m.k++
	}
}

// start maps the normalised offset of a span's first byte. Invisible
// characters right before it stay outside the span.
func (m *spanMapper) start(p int) int {
	m.advance(p)
	if m.k < len(m.f.edits) {
		if e := m.f.edits[m.k]; e.nlen == 1 && e.n == p {
			return e.o
		}
	}
	return p + m.d
}

// end maps the normalised end offset q (exclusive) of a span: the original
// end of the rune that gave its last byte.
func (m *spanMapper) end(q int) int {
	m.advance(q - 1)
	if m.k < len(m.f.edits) {
		if e := m.f.edits[m.k]; e.nlen == 1 && e.n == q-1 {
			return e.o + e.olen
		}
	}
	return q - 1 + m.d + 1
}

// obfuscated returns the length of an obfuscated '@' or '.' at s[i]:
// "(at)", "[at]", "(dot)" or "[dot]", in any case, or defanged, "[@]",
// "[.]", "(.)", with spaces allowed inside the brackets, or an encoded '@'
// (encodedAt); and the byte it stands for. 0 when there is none.
func obfuscated(s string, i int) (int, byte) {
	var closing byte
	switch s[i] {
	case '%', '&':
		return encodedAt(s[i:]), '@'
	case '(':
		closing = ')'
	case '[':
		closing = ']'
	default:
		return 0, 0
	}
	j := i + 1
	for j < len(s) && s[j] == ' ' {
		j++
	}
	var b byte
	switch {
	case hasPrefixFold(s[j:], "at"):
		b, j = '@', j+2
	case hasPrefixFold(s[j:], "dot"):
		b, j = '.', j+3
	case j < len(s) && (s[j] == '@' || s[j] == '.'): // defanged: jo[@]example[.]com, 10[.]0[.]0[.]1
		b, j = s[j], j+1
	default:
		return 0, 0
	}
	for j < len(s) && s[j] == ' ' {
		j++
	}
	if j >= len(s) || s[j] != closing {
		return 0, 0
	}
	return j + 1 - i, b
}

// encodedAt returns the length of an '@' encoded at the start of s: URL
// encoding ("%40", as a mailto link or a query parameter carries an email
// address) or an HTML character reference ("&#64;", "&#x40;",
// "&commat;"). 0 when there is none. The '.' of an address is never
// encoded in a URL (it is unreserved), so only '@' is folded.
func encodedAt(s string) int {
	for _, e := range [...]string{"%40", "&#64;", "&#x40;", "&#X40;", "&commat;"} {
		if strings.HasPrefix(s, e) {
			return len(e)
		}
	}
	return 0
}

// obfuscatedAnywhere reports whether unobfuscate may change s: such text
// is masked by way of the normalised view from the start (a direct pass
// does not stop at every byte: a detector may have read past it).
func obfuscatedAnywhere(s string) bool {
	for _, c := range [...]byte{'(', '[', '%', '&'} {
		for i := 0; ; i++ {
			j := strings.IndexByte(s[i:], c)
			if j < 0 {
				break
			}
			i += j
			if l, _ := obfuscated(s, i); l > 0 {
				return true
			}
		}
	}
	return false
}
