package gen

import (
	"encoding/binary"
	"strconv"
)

const hexDigits = "0123456789abcdef"

var needEscape = func() (t [256]bool) {
	for i := range 0x20 {
		t[i] = true
	}
	t['"'] = true
	t['\\'] = true
	return t
}()

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// needsEscape8 reports whether any of the 8 bytes in x is below 0x20, a
// quote or a backslash (SWAR: a zero byte test on transformed words).
func needsEscape8(x uint64) bool {
	hasZero := func(v uint64) uint64 { return (v - lsb) & ^v & msb }
	less := (x - 0x20*lsb) & ^x & msb
	return less|hasZero(x^('"'*lsb))|hasZero(x^('\\'*lsb)) != 0
}

// runeCount counts the runes of valid UTF-8 text (bytes that do not
// continue a sequence), eight ASCII bytes at a time.
func runeCount(b []byte) int {
	n, i := 0, 0
	for ; i+8 <= len(b); i += 8 {
		if binary.LittleEndian.Uint64(b[i:])&msb == 0 {
			n += 8
			continue
		}
		for _, c := range b[i : i+8] {
			if c&0xc0 != 0x80 {
				n++
			}
		}
	}
	for _, c := range b[i:] {
		if c&0xc0 != 0x80 {
			n++
		}
	}
	return n
}

// appendText is appendString for byte slices: clean 8-byte words are
// copied without looking at each byte.
func appendText(b []byte, s []byte) []byte {
	b = append(b, '"')
	start, i := 0, 0
	for i < len(s) {
		if i+8 <= len(s) && !needsEscape8(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
			continue
		}
		if c := s[i]; needEscape[c] {
			b = append(b, s[start:i]...)
			b = appendEscapedByte(b, c)
			start = i + 1
		}
		i++
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendString appends s as a JSON string.
func appendString[S ~string | ~[]byte](b []byte, s S) []byte {
	b = append(b, '"')
	b = appendEscaped(b, s)
	return append(b, '"')
}

// appendEscaped appends the JSON escape of s without quotes. The generator
// only produces valid UTF-8, so only quotes, backslashes and control
// characters need escaping.
func appendEscaped[S ~string | ~[]byte](b []byte, s S) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !needEscape[c] {
			continue
		}
		b = append(b, s[start:i]...)
		b = appendEscapedByte(b, c)
		start = i + 1
	}
	return append(b, s[start:]...)
}

func appendEscapedByte(b []byte, c byte) []byte {
	switch c {
	case '"':
		return append(b, '\\', '"')
	case '\\':
		return append(b, '\\', '\\')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
}

var pow10 = [...]uint64{1, 10, 100, 1000, 10000, 100000, 1000000}

// appendFixed appends a non-negative v rounded to dec decimals, without
// trailing zeros (0.5, 12, 0.000412).
func appendFixed(b []byte, v float64, dec int) []byte {
	if !(v > 0) { // also catches NaN
		return append(b, '0')
	}
	p := pow10[dec]
	n := uint64(v*float64(p) + 0.5)
	b = strconv.AppendUint(b, n/p, 10)
	f := n % p
	if f == 0 {
		return b
	}
	d := dec
	for f%10 == 0 {
		f /= 10
		d--
	}
	var tmp [8]byte
	for i := d - 1; i >= 0; i-- {
		tmp[i] = byte('0' + f%10)
		f /= 10
	}
	b = append(b, '.')
	return append(b, tmp[:d]...)
}

func appendHex(b []byte, v uint64, digits int) []byte {
	for i := digits - 1; i >= 0; i-- {
		b = append(b, hexDigits[(v>>(uint(i)*4))&15])
	}
	return b
}

// appendPadded appends v in decimal, left-padded with zeros to width.
func appendPadded(b []byte, v int, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for v > 0 || i == len(tmp) {
		i--
		tmp[i] = byte('0' + v%10)
		v /= 10
	}
	for len(tmp)-i < width {
		i--
		tmp[i] = '0'
	}
	return append(b, tmp[i:]...)
}

// jw writes one JSON object by hand; keys are trusted constants.
type jw struct {
	b     []byte
	comma bool
}

// key writes a key given already quoted with its colon: `"name":`.
func (w *jw) key(k string) {
	if w.comma {
		w.b = append(w.b, ',')
	}
	w.b = append(w.b, k...)
	w.comma = true
}

func (w *jw) open(k string) {
	w.key(k)
	w.b = append(w.b, '{')
	w.comma = false
}

func (w *jw) close() {
	w.b = append(w.b, '}')
	w.comma = true
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.b = appendString(w.b, v)
}

func (w *jw) bytes(k string, v []byte) {
	w.key(k)
	w.b = appendText(w.b, v)
}

func (w *jw) fixed(k string, v float64, dec int) {
	w.key(k)
	w.b = appendFixed(w.b, v, dec)
}

func (w *jw) int(k string, v int) {
	w.key(k)
	w.b = strconv.AppendInt(w.b, int64(v), 10)
}

func (w *jw) boolean(k string, v bool) {
	w.key(k)
	if v {
		w.b = append(w.b, "true"...)
	} else {
		w.b = append(w.b, "false"...)
	}
}

// tri is an optional bool: absent, false or true.
type tri int8

const (
	absent tri = iota
	no
	yes
)

func triOf(v bool) tri {
	if v {
		return yes
	}
	return no
}

func (w *jw) tri(k string, v tri) {
	if v != absent {
		w.boolean(k, v == yes)
	}
}
