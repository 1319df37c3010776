package pii

import "strings"

// Numbers: IPv4, SSN, card and phone numbers, and the dates and times that
// share their shapes. A candidate starts at a digit, '+' or '(' on a word
// boundary; it is cut into up to maxGroups digit groups joined by short
// separators, and the detectors look at those groups.

const (
	maxGroups   = 8
	maxGroupLen = 24
)

// Separator kinds between digit groups.
const (
	sNone   = iota
	sSpace  // " "
	sDash   // "-"
	sDot    // "."
	sSlash  // "/"
	sColon  // ":"
	sDashSp // " - ", "- ", " -"
	sOpen   // "(", " (" : the next group is in parentheses
	sClose  // ")", ") ", ")-" : the previous group was in parentheses
	sTab    // "\t"
	sWide   // "  ", "   "
)

type numTok struct {
	gs, ge [maxGroups]int   // digit group bounds
	sep    [maxGroups]uint8 // sep[k] precedes group k (k >= 1)
	n      int
	start  int  // span start, including a leading '+' or '('
	plus   bool // starts with '+'
	paren0 bool // first group in parentheses
}

func (t *numTok) glen(k int) int { return t.ge[k] - t.gs[k] }

func (t *numTok) val(s string, k int) int {
	v := 0
	for j := t.gs[k]; j < t.ge[k] && v < 1e8; j++ {
		v = v*10 + int(s[j]-'0')
	}
	return v
}

func isNumSep(c byte) bool {
	switch c {
	case ' ', '-', '.', '/', ':', '(', ')', '\t':
		return true
	}
	return false
}

func sepKind(sp string) uint8 {
	switch sp {
	case " ":
		return sSpace
	case "-":
		return sDash
	case ".":
		return sDot
	case "/":
		return sSlash
	case ":":
		return sColon
	case " - ", "- ", " -":
		return sDashSp
	case "(", " (":
		return sOpen
	case ")", ") ", ")-", ") -":
		return sClose
	case "\t":
		return sTab
	case "  ", "   ":
		return sWide
	}
	return sNone
}

// digit handles a digit seen by the main loop.
func (sc *scanner) digit(i int) int {
	s := sc.s
	j := i + 1
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if !sc.numStartOK(i) {
		if i-2 >= sc.lastEnd && isLetter(s[i-1]) && j-i >= 2 && isLetter(s[i-2]) && !(isUpper(s[i-1]) && isUpper(s[i-2])) && sc.tokenStart(i-2) {
			// an IBAN not all in capitals ("de89 3704 ...")
			if e := sc.iban(i - 2); e > 0 {
				sc.emit(i-2, e, IBAN)
				return e
			}
		}
		return j
	}
	if j-i < 7 {
		// a short number is something only when a separator and more
		// digits follow (a lone year, count or amount is not)
		k := j
		for k < len(s) && k-j < 3 && isNumSep(s[k]) {
			k++
		}
		if k == j || k >= len(s) || !isDigit(s[k]) {
			return j
		}
	}
	return sc.numeric(i)
}

// numStartOK reports whether a number may start at i: not inside a word, a
// decimal or thousands-grouped number, a dotted version, an identifier like
// ORD-123456, a time, a price or an e-mail domain.
func (sc *scanner) numStartOK(i int) bool {
	p := sc.vb(i - 1)
	switch {
	case isWordByte(p), p == '@', p == '$', p == '+':
		return false
	case p == '-' || p == '.' || p == '/':
		return !isWordByte(sc.vb(i - 2))
	case p == ',' || p == ':':
		q := sc.vb(i - 2)
		return !isDigit(q) && q != ':'
	}
	return true
}

func (sc *scanner) parseNum(p int, t *numTok) {
	s := sc.s
	n := len(s)
	j := p
	t.start = p
	if s[j] == '+' {
		t.plus = true
		j++
	}
	if j < n && s[j] == '(' {
		t.paren0 = true
		j++
	}
	cnt := 0
	for cnt < maxGroups {
		gs := j
		for j < n && isDigit(s[j]) && j-gs < maxGroupLen {
			j++
		}
		if j == gs {
			break
		}
		t.gs[cnt], t.ge[cnt] = gs, j
		cnt++
		if j+1 >= n || cnt == maxGroups {
			break
		}
		if c := s[j]; isDigit(s[j+1]) && (c == ' ' || c == '-' || c == '.') {
			// the common single-byte separators
			kind := uint8(sSpace)
			if c == '-' {
				kind = sDash
			} else if c == '.' {
				kind = sDot
			}
			t.sep[cnt] = kind
			j++
			continue
		}
		k := j
		for k < n && k-j < 3 && isNumSep(s[k]) {
			k++
		}
		if k == j || k >= n || !isDigit(s[k]) {
			break
		}
		kind := sepKind(s[j:k])
		if kind == sNone {
			break
		}
		t.sep[cnt] = kind
		j = k
	}
	t.n = cnt
	sc.steps += j - p + 1
}

// numRightOK reports whether a number may end at e: not followed by a word
// character, an '@', or a separator that continues it with more digits.
func (sc *scanner) numRightOK(e int) bool {
	s := sc.s
	if e >= len(s) {
		return true
	}
	c := s[e]
	if isWordByte(c) || c == '@' || c == '[' {
		return false
	}
	switch c {
	case '-', '.', ',', '/', ':':
		return e+1 >= len(s) || !isDigit(s[e+1]) && s[e+1] != '['
	}
	return true
}

func (sc *scanner) numeric(p int) int {
	var t numTok
	sc.parseNum(p, &t)
	if t.n == 0 {
		return p + 1
	}
	if t.n == 1 && t.glen(0) < 7 {
		// too short for anything: a lone number such as a year or a count
		if t.plus || t.paren0 {
			return p + 1
		}
		return t.ge[0]
	}
	if !t.plus && !t.paren0 {
		if e := sc.dateTime(&t); e > 0 {
			return e
		}
		if e := sc.ipv4(&t); e > 0 {
			sc.emit(p, e, IP)
			return e
		}
		if e := sc.ssn(&t); e > 0 {
			sc.emit(p, e, SSN)
			return e
		}
		if e := sc.card(&t); e > 0 {
			sc.emit(p, e, Card)
			return e
		}
	}
	if e := sc.phone(&t); e > 0 {
		sc.emit(t.start, e, Phone)
		return e
	}
	if t.plus || t.paren0 {
		return p + 1
	}
	return t.ge[0]
}

// dateTime returns the end of a date or time at the start of t, or 0.
// Dates and times are skipped as a whole so that no part of them is taken
// for a phone number.
func (sc *scanner) dateTime(t *numTok) int {
	s := sc.s
	if t.n >= 2 && t.sep[1] == sColon {
		// H:MM, HH:MM:SS, HH:MM:SS.fff
		if t.glen(0) <= 2 && t.glen(1) == 2 && t.val(s, 0) <= 24 && t.val(s, 1) <= 59 {
			k := 2
			if t.n > 2 && t.sep[2] == sColon && t.glen(2) == 2 && t.val(s, 2) <= 60 {
				k = 3
				if t.n > 3 && t.sep[3] == sDot && t.glen(3) <= 9 {
					k = 4
				}
			}
			e := t.ge[k-1]
			if e < len(s) && s[e] == ':' {
				return 0 // maybe IPv6
			}
			return e
		}
		return 0
	}
	if t.n >= 3 && t.sep[1] == t.sep[2] && (t.sep[1] == sDash || t.sep[1] == sSlash || t.sep[1] == sDot) &&
		(t.n == 3 || t.sep[3] != t.sep[1]) {
		l0, l1, l2 := t.glen(0), t.glen(1), t.glen(2)
		a, b, c := t.val(s, 0), t.val(s, 1), t.val(s, 2)
		if l0 == 4 && l1 <= 2 && l2 <= 2 && a >= 1000 && a <= 2999 && b >= 1 && b <= 12 && c >= 1 && c <= 31 {
			return t.ge[2] // YYYY-MM-DD
		}
		if l0 <= 2 && l1 <= 2 && (l2 == 4 || l2 == 2) && a >= 1 && b >= 1 &&
			((a <= 31 && b <= 12) || (a <= 12 && b <= 31)) {
			return t.ge[2] // DD.MM.YYYY, MM/DD/YY, ...
		}
	}
	return 0
}

// ipv4 returns the end of a dotted-quad IPv4 address at the start of t, or
// 0. Octets are 0-255 without leading zeros (as Python's ipaddress, which
// Presidio validates with); a longer dotted run (1.2.3.4.5, OIDs) and a
// preceding "version"/"build" word rule it out.
func (sc *scanner) ipv4(t *numTok) int {
	if t.n < 4 || t.sep[1] != sDot || t.sep[2] != sDot || t.sep[3] != sDot {
		return 0
	}
	s := sc.s
	for k := 0; k < 4; k++ {
		l := t.glen(k)
		if l > 3 || (l > 1 && s[t.gs[k]] == '0') || t.val(s, k) > 255 {
			return 0
		}
	}
	e := t.ge[3]
	if e < len(s) {
		c := s[e]
		if isWordByte(c) || c == '@' || c == '[' || (c == '.' && e+1 < len(s) && (isDigit(s[e+1]) || s[e+1] == '[')) {
			return 0
		}
	}
	if sc.versionContext(t.start) {
		return 0
	}
	return e
}

var versionWords = []string{"version", "ver", "v", "build", "release", "firmware", "fw", "rev", "revision", "patch", "update", "os", "windows", "android", "ios", "chrome", "kernel", "sdk", "api"}

// versionContext reports whether the word before p names a version.
func (sc *scanner) versionContext(p int) bool {
	s := sc.s
	j := p
	for k := 0; k < 3 && j > sc.lastEnd && (s[j-1] == ' ' || s[j-1] == ':' || s[j-1] == '#'); k++ {
		j--
	}
	e := j
	for j > sc.lastEnd && e-j < 10 && isLetter(s[j-1]) {
		j--
	}
	if j == e || e-j >= 10 {
		return false
	}
	var buf [10]byte
	w := buf[:0]
	for k := j; k < e; k++ {
		c := s[k]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		w = append(w, c)
	}
	for _, v := range versionWords {
		if string(w) == v {
			return true
		}
	}
	return false
}

// ssn returns the end of a US social security number at the start of t,
// or 0: AAA-GG-SSSS (dashes or spaces), or nine digits in one run with an
// SSN word ("SSN", "social security", ...) right before or after it (as
// Presidio's weak SSN pattern with its context words). Invalid areas (000,
// 666, 9xx), group 00, serial 0000, repeated digits and well-known sample
// numbers are rejected, as in Presidio's UsSsnRecognizer.
func (sc *scanner) ssn(t *numTok) int {
	s := sc.s
	var e int
	switch {
	case t.n >= 3 && t.glen(0) == 3 && t.glen(1) == 2 && t.glen(2) == 4 && t.sep[1] == t.sep[2] &&
		(t.sep[1] == sDash || t.sep[1] == sSpace):
		e = t.ge[2]
	case t.glen(0) == 9:
		e = t.ge[0]
	default:
		return 0
	}
	if !sc.numRightOK(e) {
		return 0
	}
	var d [9]byte
	n := 0
	same := true
	for k := 0; n < 9; k++ {
		for j := t.gs[k]; j < t.ge[k]; j++ {
			d[n] = s[j]
			if s[j] != d[0] {
				same = false
			}
			n++
		}
	}
	area, grp, ser := atoi(d[:3]), atoi(d[3:5]), atoi(d[5:])
	if area == 0 || area == 666 || area >= 900 || grp == 0 || ser == 0 || same {
		return 0
	}
	switch string(d[:]) {
	case "123456789", "078051120", "219099999", "457555462":
		return 0
	}
	if string(d[:8]) == "98765432" {
		return 0
	}
	if t.glen(0) == 9 && !sc.ssnContext(t.start, e) {
		return 0
	}
	return e
}

func atoi(d []byte) int {
	v := 0
	for _, c := range d {
		v = v*10 + int(c-'0')
	}
	return v
}

// ssnWords name a social security number; each is matched case-insensitively
// as a whole word.
var ssnWords = []string{"ssn", "ssns", "ssn#", "ss#", "social", "soc sec", "soc. sec"}

const ssnWindow = 40

// ssnContext reports whether an SSN word ends shortly before p (after the
// last emitted span and the last ']', a placeholder) or starts right after
// e.
func (sc *scanner) ssnContext(p, e int) bool {
	s := sc.s
	lo := max(p-ssnWindow, sc.lastEnd, 0)
	// an SSN just masked is context for the next one in a list ("SSNs: A,
	// B"), as its placeholder is in a second pass
	found := sc.lastType == SSN && sc.hit && lo == sc.lastEnd && listGap(s[lo:p])
	for j := lo; j < p; j++ {
		c := s[j]
		if c == ']' {
			found = j >= 4 && s[j-4:j] == "[SSN" && listGap(s[j+1:p])
			continue
		}
		if c == '\n' || (c == '.' || c == '!' || c == '?') && j+2 < p && s[j+1] == ' ' && isUpper(s[j+2]) {
			found = false // the end of a sentence
			continue
		}
		if c|0x20 == 's' && !isLetter(sc.vb(j-1)) {
			if l := ssnWordAt(s[j:p]); l > 0 {
				found = true
				j += l - 1
			}
		}
	}
	sc.steps += p - lo
	if found {
		return true
	}
	// "536221234 (SSN)"
	j := e
	for j < len(s) && j-e < 3 && (s[j] == ' ' || s[j] == '(' || s[j] == ',' || s[j] == '-') {
		j++
	}
	return j > e && j < len(s) && ssnWordAt(s[j:]) > 0
}

// listGap reports whether g separates the items of a list ("A, B", "A; B",
// "A / B", "A or B").
func listGap(g string) bool {
	if len(g) == 0 || len(g) > 6 {
		return false
	}
	switch strings.Trim(g, " ,;/&") {
	case "", "or", "and", "und", "oder", "y", "o", "e", "et", "ou":
		return true
	}
	return false
}

// ssnWordAt returns the length of the SSN word s starts with, or 0.
func ssnWordAt(s string) int {
	for _, w := range ssnWords {
		if hasPrefixFold(s, w) && (len(s) == len(w) || !isLetter(s[len(w)])) {
			return len(w)
		}
	}
	return 0
}

// card returns the end of a Luhn-valid payment card number at the start of
// t, or 0: 13-19 digits, either in one run or in groups (first group of 4,
// then groups of 4-6, the last of 1-6) with one kind of separator (a space,
// several spaces, a tab, a dash, " - ", a dot or a slash). The longest valid
// grouping wins.
func (sc *scanner) card(t *numTok) int {
	s := sc.s
	first := s[t.gs[0]]
	if first < '2' || first > '6' {
		return 0
	}
	for k := min(t.n, 6); k >= 1; k-- {
		d := 0
		for g := 0; g < k; g++ {
			d += t.glen(g)
		}
		if d < 13 || d > 19 {
			continue
		}
		if k > 1 {
			sp := t.sep[1]
			if !cardSep(sp) || t.glen(0) != 4 {
				continue
			}
			if (sp == sSpace || sp == sWide || sp == sTab) && sc.numTokenBefore(t.start) {
				continue // the tail of a longer spaced number (e.g. an IBAN)
			}
			ok := true
			for g := 1; g < k; g++ {
				l := t.glen(g)
				if t.sep[g] != sp || l > 6 || (g < k-1 && l < 4) {
					ok = false
					break
				}
			}
			if !ok {
				continue
			}
		}
		e := t.ge[k-1]
		if !sc.numRightOK(e) || !luhn(s, t, k) {
			continue
		}
		return e
	}
	return 0
}

func cardSep(k uint8) bool {
	switch k {
	case sSpace, sDash, sDot, sSlash, sTab, sWide, sDashSp:
		return true
	}
	return false
}

// luhn checks the Luhn (mod 10) checksum over the digits of the first k
// groups of t, rejecting runs of one repeated digit.
func luhn(s string, t *numTok, k int) bool {
	sum := 0
	dbl := false
	same := true
	c0 := s[t.gs[0]]
	for g := k - 1; g >= 0; g-- {
		for j := t.ge[g] - 1; j >= t.gs[g]; j-- {
			d := int(s[j] - '0')
			if s[j] != c0 {
				same = false
			}
			if dbl {
				d *= 2
				if d > 9 {
					d -= 9
				}
			}
			sum += d
			dbl = !dbl
		}
	}
	return sum%10 == 0 && !same
}

// numTokenBefore reports whether a token of letters of one case and digits
// holding a digit (such as "1234", "DE89" or "de89"), or an IBAN's
// four-letter bank code after its first group ("NL91 ABNA"), stands right
// before p, separated by spaces, a tab or " - ", so that a number at p
// would continue it.
func (sc *scanner) numTokenBefore(p int) bool {
	e := sc.sepBefore(p)
	if e < 0 {
		return false
	}
	ts, digit := sc.tokenBefore(e)
	if ts < 0 {
		return false
	}
	if digit {
		return sc.tokenBoundary(ts)
	}
	if e-ts != 4 {
		return false
	}
	e2 := sc.sepBefore(ts)
	if e2 < 0 {
		return false
	}
	ts2, d2 := sc.tokenBefore(e2)
	return ts2 >= 0 && d2 && e2-ts2 == 4 && isLetter(sc.vb(ts2)) && isLetter(sc.vb(ts2+1)) && sc.tokenBoundary(ts2)
}

// sepBefore returns the start of the separator (one to three spaces, a
// tab or " - ") that ends at p, or -1.
func (sc *scanner) sepBefore(p int) int {
	if sc.vb(p-1) == ' ' && sc.vb(p-2) == '-' && sc.vb(p-3) == ' ' {
		return p - 3
	}
	j := p
	for j > 0 && p-j < 3 && (sc.vb(j-1) == ' ' || sc.vb(j-1) == '\t') {
		j--
	}
	if j == p {
		return -1
	}
	return j
}

// tokenBefore returns the start of the token of two to seven letters of
// one case and digits that ends at e, or -1, and whether it holds a digit.
func (sc *scanner) tokenBefore(e int) (int, bool) {
	j := e
	digit, up, lo := false, false, false
	for j > 0 && e-j < 8 {
		c := sc.vb(j - 1)
		if !isDigit(c) && !isLetter(c) || up && isLower(c) || lo && isUpper(c) {
			break
		}
		digit = digit || isDigit(c)
		up, lo = up || isUpper(c), lo || isLower(c)
		j--
	}
	if e-j < 2 || e-j >= 8 {
		return -1, false
	}
	return j, digit
}

// tokenBoundary reports whether a token starting at ts stands on its own.
func (sc *scanner) tokenBoundary(ts int) bool {
	if ts == 0 {
		return true
	}
	c := sc.vb(ts - 1)
	return !isLower(c) && strings.IndexByte("-./:,_+#$", c) < 0
}
