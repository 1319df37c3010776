package pii

// ibanLen is the IBAN length per country code (ISO 13616 registry), indexed
// by (c0-'A')*26 + (c1-'A'); 0 for codes without IBANs.
var ibanLen [26 * 26]uint8

func init() {
	for _, e := range []struct {
		cc string
		n  uint8
	}{
		{"AD", 24}, {"AE", 23}, {"AL", 28}, {"AT", 20}, {"AZ", 28}, {"BA", 20}, {"BE", 16}, {"BG", 22},
		{"BH", 22}, {"BI", 27}, {"BR", 29}, {"BY", 28}, {"CH", 21}, {"CR", 22}, {"CY", 28}, {"CZ", 24},
		{"DE", 22}, {"DJ", 27}, {"DK", 18}, {"DO", 28}, {"EE", 20}, {"EG", 29}, {"ES", 24}, {"FI", 18},
		{"FK", 18}, {"FO", 18}, {"FR", 27}, {"GB", 22}, {"GE", 22}, {"GI", 23}, {"GL", 18}, {"GR", 27},
		{"GT", 28}, {"HR", 21}, {"HU", 28}, {"IE", 22}, {"IL", 23}, {"IQ", 23}, {"IS", 26}, {"IT", 27},
		{"JO", 30}, {"KW", 30}, {"KZ", 20}, {"LB", 28}, {"LC", 32}, {"LI", 21}, {"LT", 20}, {"LU", 20},
		{"LV", 21}, {"LY", 25}, {"MC", 27}, {"MD", 24}, {"ME", 22}, {"MK", 19}, {"MN", 20}, {"MR", 27},
		{"MT", 31}, {"MU", 30}, {"NI", 28}, {"NL", 18}, {"NO", 15}, {"OM", 23}, {"PK", 24}, {"PL", 28},
		{"PS", 29}, {"PT", 25}, {"QA", 29}, {"RO", 24}, {"RS", 22}, {"RU", 33}, {"SA", 24}, {"SC", 31},
		{"SD", 18}, {"SE", 24}, {"SI", 19}, {"SK", 24}, {"SM", 27}, {"SO", 23}, {"ST", 25}, {"SV", 28},
		{"TL", 23}, {"TN", 24}, {"TR", 26}, {"UA", 29}, {"VA", 22}, {"VG", 24}, {"XK", 20}, {"YE", 30},
	} {
		ibanLen[int(e.cc[0]-'A')*26+int(e.cc[1]-'A')] = e.n
	}
}

const maxIBAN = 34

// iban returns the end of an IBAN starting at i (two letters and two
// digits already seen), or 0. The IBAN is written in one run or in groups
// of four separated by one kind of separator (one to three spaces, a tab,
// a dash or " - "); it is in capitals or, but for its first letter, in
// lower case; it must have its country's length and pass the ISO 7064
// mod-97 check.
func (sc *scanner) iban(i int) int {
	s := sc.s
	n := len(s)
	lower := isLower(s[i+1])
	want := int(ibanLen[int(upperOf(s[i])-'A')*26+int(upperOf(s[i+1])-'A')])
	if want == 0 {
		return 0
	}
	// the letters of the BBAN are in the case of the second letter
	caseBit := byte(0)
	if lower {
		caseBit = 'a' - 'A'
	}
	var buf [maxIBAN]byte
	buf[0], buf[1] = upperOf(s[i]), upperOf(s[i+1])
	cnt := 2
	j := i + 2
	for cnt < want && j < n {
		c := s[j]
		if isDigit(c) || c-caseBit-'A' < 26 {
			buf[cnt] = c
			if !isDigit(c) {
				buf[cnt] = c - caseBit
			}
			cnt++
			j++
			continue
		}
		if cnt%4 != 0 {
			break
		}
		k := j
		for k < n && k-j < 3 && (s[k] == ' ' || s[k] == '\t' || s[k] == '-') {
			k++
		}
		if k == j || k >= n || !(isDigit(s[k]) || s[k]-caseBit-'A' < 26) || !ibanSep(s[j:k]) {
			break
		}
		j = k
	}
	sc.steps += j - i + 1
	if cnt != want {
		return 0
	}
	if j < n && (isWordByte(s[j]) || s[j] == '@' || s[j] == '[') {
		return 0
	}
	if !mod97(buf[:cnt]) {
		return 0
	}
	return j
}

// ibanSep reports whether sp may separate the groups of an IBAN.
func ibanSep(sp string) bool {
	switch sp {
	case " ", "  ", "   ", "\t", "-", " - ":
		return true
	}
	return false
}

func upperOf(c byte) byte {
	if isLower(c) {
		return c - ('a' - 'A')
	}
	return c
}

// mod97 checks an IBAN's ISO 7064 MOD 97-10 check digits: with the first
// four characters moved to the end and letters as 10..35, the number
// leaves remainder 1.
func mod97(b []byte) bool {
	r := 0
	for k := 0; k < len(b); k++ {
		c := b[(k+4)%len(b)]
		if isDigit(c) {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return r == 1
}
