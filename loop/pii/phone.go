package pii

// Phone numbers. Presidio delegates to libphonenumber; this is a compact
// port of its leniency rules: a number is taken when its shape is
// unambiguous (international +CC with the country's national number length,
// 00CC, a national trunk prefix 0 followed by enough digits, an area code in
// parentheses, the North-American 3-3-4), or, for ambiguous shapes, when a
// phone word ("phone", "tel", "call", "Telefon", "téléphone", "電話", ...)
// stands shortly before it.

// nsnLen holds the shortest and longest national significant number for the
// country calling codes that are listed; others get a generic range.
var nsnLen [1000][2]uint8

func init() {
	for _, e := range []struct {
		cc       int
		min, max uint8
	}{
		{1, 10, 10}, {7, 10, 10}, {20, 8, 10}, {27, 9, 9}, {30, 10, 10}, {31, 9, 9}, {32, 8, 9},
		{33, 9, 9}, {34, 9, 9}, {36, 8, 9}, {39, 6, 11}, {40, 9, 9}, {41, 9, 9}, {43, 4, 13},
		{44, 9, 10}, {45, 8, 8}, {46, 7, 10}, {47, 8, 8}, {48, 9, 9}, {49, 6, 12}, {51, 8, 9},
		{52, 10, 10}, {53, 8, 8}, {54, 10, 11}, {55, 10, 11}, {56, 9, 9}, {57, 10, 10}, {58, 10, 10},
		{60, 8, 10}, {61, 9, 9}, {62, 8, 12}, {63, 8, 10}, {64, 8, 10}, {65, 8, 8}, {66, 8, 9},
		{81, 9, 10}, {82, 8, 10}, {84, 9, 10}, {86, 10, 11}, {90, 10, 10}, {91, 10, 10}, {92, 9, 10},
		{93, 9, 9}, {94, 9, 9}, {95, 8, 10}, {98, 10, 10}, {212, 9, 9}, {213, 9, 9}, {216, 8, 8},
		{234, 8, 10}, {254, 9, 9}, {351, 9, 9}, {352, 6, 11}, {353, 7, 9}, {354, 7, 9}, {358, 6, 11},
		{370, 8, 8}, {371, 8, 8}, {372, 7, 8}, {380, 9, 9}, {385, 8, 9}, {386, 8, 8}, {420, 9, 9},
		{421, 9, 9}, {852, 8, 8}, {886, 8, 9}, {961, 7, 8}, {962, 8, 9}, {965, 8, 8}, {966, 9, 9},
		{971, 8, 9}, {972, 8, 9}, {974, 8, 8},
	} {
		nsnLen[e.cc] = [2]uint8{e.min, e.max}
	}
}

// phone returns the end of a phone number starting at t.start, or 0. The
// longest acceptable grouping wins.
func (sc *scanner) phone(t *numTok) int {
	d := 0
	for k := 0; k < t.n; k++ {
		d += t.glen(k)
	}
	for k := t.n; k >= 1; k-- {
		if k < t.n {
			d -= t.glen(k)
		}
		if d < 7 || d > 15 {
			continue
		}
		if sc.phoneShape(t, k, d) && sc.numRightOK(t.ge[k-1]) {
			return t.ge[k-1]
		}
	}
	return 0
}

func (sc *scanner) phoneShape(t *numTok, k, d int) bool {
	s := sc.s
	if !t.plus && !t.paren0 && s[t.gs[0]] != '0' && k != 3 && k != 4 {
		// only the phone-word rule is left, and it wants groups of 2+
		for g := 0; g < k && k > 1; g++ {
			if t.glen(g) < 2 {
				return false
			}
		}
	}
	// separators: no '/' or ':'; dots only on their own; balanced parentheses
	dots, others := 0, 0
	inP := t.paren0
	parens := 0
	trunk0 := false
	for g := 0; g < k; g++ {
		if g > 0 {
			switch t.sep[g] {
			case sSlash:
				// German style 030/1234567: only after a trunk prefix
				if g != 1 || k != 2 || t.plus || t.paren0 || s[t.gs[0]] != '0' || t.glen(0) > 5 || t.glen(1) < 5 {
					return false
				}
				others++
			case sColon, sTab, sWide:
				return false
			case sDot:
				dots++
			case sOpen:
				if inP {
					return false
				}
				inP = true
				others++
			case sClose:
				if !inP {
					return false
				}
				inP = false
				others++
			default:
				if inP {
					return false
				}
				others++
			}
		}
		if inP {
			parens++
			if t.glen(g) > 5 || parens > 1 {
				return false
			}
			if t.glen(g) == 1 && s[t.gs[g]] == '0' {
				trunk0 = true
			}
		}
	}
	if inP || (dots > 0 && others > 0) {
		return false
	}
	// a neighbouring group of 3+ digits in the same space-separated run
	// means this is part of a longer number (e.g. a 16-digit run in fours)
	spaced := true
	for g := 1; g < k; g++ {
		spaced = spaced && t.sep[g] == sSpace
	}
	continued := spaced && k < t.n && t.sep[k] == sSpace && t.glen(k) >= 3
	if e := t.ge[k-1]; spaced && k == t.n && e+1 < len(s) && s[e] == ' ' && placeholderLen(s[e+1:]) > 0 {
		// what followed here was masked; it continued the run if it could
		// have made it a longer number, so stay with that verdict
		continued = true
	}
	if !t.plus && !t.paren0 && sc.numTokenBefore(t.start) {
		continued = true
	}

	if t.plus {
		return plusOK(s, t, k, d, trunk0)
	}
	if t.paren0 {
		if y := t.val(s, 0); t.glen(0) == 4 && y >= 1900 && y <= 2099 {
			return false // a year in parentheses
		}
		return k >= 2 && t.glen(0) >= 2 && d >= 9 && d <= 12 && t.glen(k-1) >= 4 && !continued
	}
	l0 := t.glen(0)
	g0 := s[t.gs[0]:t.ge[0]]
	if k >= 3 && l0 == 3 && t.glen(1) == 2 && t.glen(2) == 4 {
		return false // SSN shape
	}
	// North American 3-3-4 or 1-3-3-4
	if k == 3 && l0 == 3 && t.glen(1) == 3 && t.glen(2) == 4 && g0[0] >= '2' {
		return true
	}
	if k == 4 && g0 == "1" && t.glen(1) == 3 && t.glen(2) == 3 && t.glen(3) == 4 && s[t.gs[1]] >= '2' {
		return true
	}
	if dots > 0 && k < 4 {
		return false
	}
	if continued {
		return false
	}
	// 00 international prefix
	if len(g0) >= 2 && g0[0] == '0' && g0[1] == '0' {
		return k >= 2 && d >= 10
	}
	// national trunk prefix 0: 0176 12345678, 020 7946 0958, 01 23 45 67 89
	if g0[0] == '0' && l0 >= 2 && l0 <= 5 && k >= 2 && d >= 9 && d <= 12 && (k >= 3 || t.glen(1) >= 6) {
		for g := 1; g < k; g++ {
			if t.glen(g) < 2 {
				return false
			}
		}
		return true
	}
	// anything else needs a phone word before it
	if dots > 0 || d > 12 {
		return false
	}
	if k == 2 && l0 == 4 && t.glen(1) == 4 {
		a, b := t.val(s, 0), t.val(s, 1)
		if a >= 1900 && a <= 2099 && b >= 1900 && b <= 2099 {
			return false // year range
		}
	}
	for g := 0; g < k && k > 1; g++ {
		if t.glen(g) < 2 {
			return false
		}
	}
	return sc.phoneContext(t.start)
}

// plusOK checks an international number +CC NSN against the national
// number length of its country code.
func plusOK(s string, t *numTok, k, d int, trunk0 bool) bool {
	g0 := s[t.gs[0]:t.ge[0]]
	if g0[0] == '0' {
		return false
	}
	nsn := d
	if trunk0 {
		nsn--
	}
	if k >= 2 && len(g0) <= 3 {
		cc := 0
		for i := 0; i < len(g0); i++ {
			cc = cc*10 + int(g0[i]-'0')
		}
		nsn -= len(g0)
		if r := nsnLen[cc]; r[1] != 0 {
			return nsn >= int(r[0]) && nsn <= int(r[1])
		}
		return nsn >= 6 && nsn <= 12
	}
	// country code run together with the number: find it by prefix
	cc := 0
	for l := 1; l <= 3 && l <= len(g0); l++ {
		cc = cc*10 + int(g0[l-1]-'0')
		if r := nsnLen[cc]; r[1] != 0 {
			return nsn-l >= int(r[0]) && nsn-l <= int(r[1])
		}
	}
	return d >= 8 && d <= 15
}

// phoneWords are matched case-insensitively at the start of a word.
var phoneWords = []string{
	"phone", "tel", "call", "mobile", "cell", "fax", "whatsapp", "sms", "text me", "dial", "contact",
	"telefon", "handy", "mobil", "anruf", "rufnummer", "ruf ",
	"téléphone", "portable", "appel", "joindre",
	"teléfono", "telefono", "llam", "móvil", "movil", "celular", "telefone", "ligue", "ligar", "contato", "contacto",
	"電話", "携帯", "連絡先", "电话", "手机",
}

const phoneWindow = 48

// phoneContext reports whether a phone word starts within phoneWindow bytes
// before p, after the last emitted span and the last ']' (a placeholder).
// The text is scanned incrementally, so the total work stays linear.
func (sc *scanner) phoneContext(p int) bool {
	s := sc.s
	lo := max(p-phoneWindow, sc.lastEnd, 0)
	from := max(sc.ctxScan-12, lo)
	for j := from; j < p; j++ {
		c := s[j]
		if c == ']' {
			sc.ctxBrack = j + 1
			continue
		}
		if c < 0x80 && !isLetter(c) {
			continue
		}
		if c < 0x80 && isLetter(sc.vb(j-1)) {
			continue
		}
		if c >= 0x80 && isCont(c) {
			continue
		}
		for _, w := range phoneWords {
			if hasPrefixFold(s[j:p], w) {
				sc.ctxKw = j + 1
				break
			}
		}
	}
	sc.steps += p - from
	if p > sc.ctxScan {
		sc.ctxScan = p
	}
	return sc.ctxKw-1 >= lo && sc.ctxKw > sc.ctxBrack
}
