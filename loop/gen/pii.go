package gen

import "strings"

// PII and look-alikes sprinkled into free text. The PII is realistic in
// shape and validity (Luhn-valid cards, mod-97-valid IBANs, plausible SSNs)
// so the masker is exercised; the look-alikes (order and ticket numbers,
// versions, dates, prices, UUIDs, Luhn-invalid digit runs) must survive it.

const (
	piiEmail = iota
	piiPhoneUS
	piiPhoneIntl
	piiCard
	piiIBAN
	piiSSN
	piiIPv4
	piiIPv6
	piiSecret
	// PII in disguise: the ways of writing it that masking once missed
	piiInvisible // split by zero-width and other invisible characters
	piiIBANLower // a lower-case IBAN, or one with wide gaps between groups
	piiCardSep   // a card grouped with dots, slashes, tabs, wide gaps or " - "
	piiSSNBare   // nine digits right after an SSN word
	piiEmailIntl // a non-ASCII local part or an internationalised domain
	piiEmailApos // an apostrophe in the local part
	piiWebhook   // a webhook URL with its secret
	nPII
)

var piiCum = cumulative(26, 11, 11, 10, 9, 6, 9, 5, 13, 3, 2, 2, 2, 2, 2, 2)

var piiCarriers = [nPII][][2]string{
	piiEmail:     {{"You can reach me at ", "."}, {"Please reply to ", " instead."}, {"Contact: ", ""}, {"(cc ", ")"}},
	piiPhoneUS:   {{"Call me back on ", "."}, {"My number is ", "."}, {"Phone: ", ""}},
	piiPhoneIntl: {{"Call me back on ", "."}, {"Mobile: ", ""}, {"Best number to reach me: ", "."}},
	piiCard:      {{"I paid with card ", "."}, {"Card used: ", ""}, {"The charge was on my card ", ", exp 09/28."}},
	piiIBAN:      {{"Please refund to IBAN ", "."}, {"My IBAN is ", " for the transfer."}, {"Bank details: ", ""}},
	piiSSN:       {{"My SSN is ", " if you need to verify."}, {"SSN: ", ""}},
	piiIPv4:      {{"My IP was ", " when it failed."}, {"Requests from ", " are blocked."}, {"client ip=", ""}},
	piiIPv6:      {{"My IP was ", " when it failed."}, {"Source address ", "."}},
	piiSecret:    {{"Here's the API key we use: ", ""}, {"Token ", " stopped working."}, {"export KEY=", ""}},
	piiInvisible: {{"You can reach me at ", "."}, {"I paid with card ", "."}, {"Contact: ", ""}},
	piiIBANLower: {{"Please refund to iban ", "."}, {"My IBAN is ", " for the transfer."}},
	piiCardSep:   {{"I paid with card ", "."}, {"Card used: ", ""}},
	piiSSNBare:   {{"My SSN is ", " if you need to verify."}, {"SSN: ", ""}, {"Social security number ", "."}},
	piiEmailIntl: {{"You can reach me at ", "."}, {"Contact: ", ""}},
	piiEmailApos: {{"Please reply to ", " instead."}, {"(cc ", ")"}},
	piiWebhook:   {{"Our alerts go to ", " but nothing arrives."}, {"webhook: ", ""}},
}

var (
	invisibleChars = []string{"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"}
	intlLocals     = []string{"用户", "たなか", "иван", "мария", "josé.garcía", "jürgen", "søren", "αλέξης"}
	intlDomains    = []string{"例子.广告", "пример.рф", "bücher.de", "xn--bcher-kva.de", "例え.テスト", "müller-bau.de"}
	aposLocals     = []string{"o'brien.lia", "d'angelo", "o'neil", "dell'acqua", "n'diaye.awa", "o’connor"}
	cardSeps       = []string{".", "/", "\t", "  ", " - "}
)

// appendDisguised appends one PII value of a disguised kind.
func (g *generator) appendDisguised(b []byte, kind int) []byte {
	r := &g.r
	switch kind {
	case piiInvisible:
		v := g.appendPIIValue(nil, pick(r, []int{piiEmail, piiCard, piiPhoneUS}))
		// one to three invisible characters between ASCII bytes
		for range r.between(1, 3) {
			p := r.between(1, len(v)-1)
			if v[p-1] >= 0x80 || v[p] >= 0x80 {
				continue // not inside an invisible character inserted before
			}
			v = append(v[:p], append([]byte(pick(r, invisibleChars)), v[p:]...)...)
		}
		return append(b, v...)
	case piiIBANLower:
		v := string(g.appendIBAN(nil))
		if r.chance(0.5) {
			return append(b, strings.ToLower(v)...)
		}
		// wide gaps between the groups of four
		v = strings.ReplaceAll(v, " ", "")
		sep := pick(r, []string{"  ", "\t", " - "})
		for i := 0; i < len(v); i += 4 {
			if i > 0 {
				b = append(b, sep...)
			}
			b = append(b, v[i:min(i+4, len(v))]...)
		}
		return b
	case piiCardSep:
		v := string(g.appendCard(nil, true))
		d := strings.NewReplacer(" ", "", "-", "").Replace(v)
		sep := pick(r, cardSeps)
		if len(d) == 15 {
			return append(b, d[:4]+sep+d[4:10]+sep+d[10:]...)
		}
		return append(b, d[:4]+sep+d[4:8]+sep+d[8:12]+sep+d[12:]...)
	case piiSSNBare:
		v := g.appendPIIValue(nil, piiSSN)
		return append(b, strings.ReplaceAll(string(v), "-", "")...)
	case piiEmailIntl:
		b = append(b, pick(r, intlLocals)...)
		b = append(b, '@')
		return append(b, pick(r, intlDomains)...)
	case piiEmailApos:
		b = append(b, pick(r, aposLocals)...)
		b = append(b, '@')
		return append(b, pick(r, piiDomains)...)
	default: // webhook
		switch r.intn(3) {
		case 0:
			b = append(b, "https://hooks.slack.com/services/T"...)
			b = g.chars(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 8)
			b = append(b, "/B"...)
			b = g.chars(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 10)
			b = append(b, '/')
			return g.chars(b, base62, 24)
		case 1:
			b = append(b, "https://discord.com/api/webhooks/1"...)
			b = g.digits(b, 17)
			b = append(b, '/')
			return g.chars(b, base62+"-_", 68)
		default:
			b = append(b, "https://chat.example.com/hooks/"...)
			b = g.chars(b, "abcdefghijklmnopqrstuvwxyz", 8)
			b = g.digits(b, 4)
			return g.chars(b, "abcdefghijklmnopqrstuvwxyz", 10)
		}
	}
}

var (
	piiFirst   = []string{"maria", "james", "priya", "lukas", "sophie", "diego", "yuki", "ana", "tom", "elena", "sam", "hannah", "kenji", "claire", "rafael", "olivia", "noah", "lea", "mateo", "aiko"}
	piiLast    = []string{"okafor", "whitfield", "raman", "brandt", "marchand", "alvarez", "tanaka", "souza", "harrington", "petrova", "osei", "kowalski", "mori", "dubois", "costa", "chen", "nguyen", "schmidt", "garcia", "silva"}
	piiDomains = []string{"gmail.com", "outlook.com", "yahoo.co.uk", "gmx.de", "orange.fr", "proton.me", "icloud.com", "northwind-logistics.com", "uol.com.br", "docomo.ne.jp", "telefonica.es"}
	usAreas    = []int{212, 415, 312, 646, 206, 617, 512, 303, 404, 718}
)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func (g *generator) digits(b []byte, n int) []byte {
	for range n {
		b = append(b, byte('0'+g.r.intn(10)))
	}
	return b
}

func (g *generator) chars(b []byte, alphabet string, n int) []byte {
	for range n {
		b = append(b, alphabet[g.r.intn(len(alphabet))])
	}
	return b
}

// appendPIIValue appends one PII value of the given kind.
func (g *generator) appendPIIValue(b []byte, kind int) []byte {
	r := &g.r
	if kind > piiSecret {
		return g.appendDisguised(b, kind)
	}
	switch kind {
	case piiEmail:
		first, last := pick(r, piiFirst), pick(r, piiLast)
		switch r.intn(4) {
		case 0:
			b = append(b, first...)
			b = append(b, '.')
			b = append(b, last...)
		case 1:
			b = append(b, first[0])
			b = append(b, last...)
			b = g.digits(b, 2)
		case 2:
			b = append(b, first...)
			b = append(b, "+billing"...)
		default:
			b = append(b, first...)
			b = append(b, '_')
			b = append(b, last...)
		}
		b = append(b, '@')
		return append(b, pick(r, piiDomains)...)
	case piiPhoneUS:
		area := pick(r, usAreas)
		ex := r.between(201, 989)
		switch r.intn(4) {
		case 0:
			b = append(b, '(')
			b = appendPadded(b, area, 3)
			b = append(b, ") "...)
			b = appendPadded(b, ex, 3)
			b = append(b, '-')
		case 1:
			b = appendPadded(b, area, 3)
			b = append(b, '-')
			b = appendPadded(b, ex, 3)
			b = append(b, '-')
		case 2:
			b = append(b, "+1 "...)
			b = appendPadded(b, area, 3)
			b = append(b, ' ')
			b = appendPadded(b, ex, 3)
			b = append(b, ' ')
		default:
			b = appendPadded(b, area, 3)
			b = append(b, '.')
			b = appendPadded(b, ex, 3)
			b = append(b, '.')
		}
		return g.digits(b, 4)
	case piiPhoneIntl:
		switch r.intn(8) {
		case 0:
			b = append(b, "+44 20 7"...)
			b = g.digits(b, 3)
			b = append(b, ' ')
			return g.digits(b, 4)
		case 1:
			b = append(b, "+44 7700 9"...)
			return g.digits(b, 5)
		case 2:
			b = append(b, "+49 30 "...)
			return g.digits(b, 8)
		case 3:
			b = append(b, "+49 151 "...)
			return g.digits(b, 8)
		case 4:
			b = append(b, "+33 6 "...)
			for i := range 4 {
				if i > 0 {
					b = append(b, ' ')
				}
				b = g.digits(b, 2)
			}
			return b
		case 5:
			b = append(b, "+34 6"...)
			b = g.digits(b, 2)
			b = append(b, ' ')
			b = g.digits(b, 3)
			b = append(b, ' ')
			return g.digits(b, 3)
		case 6:
			b = append(b, "+55 11 9"...)
			b = g.digits(b, 4)
			b = append(b, '-')
			return g.digits(b, 4)
		default:
			b = append(b, "+81 90-"...)
			b = g.digits(b, 4)
			b = append(b, '-')
			return g.digits(b, 4)
		}
	case piiCard:
		return g.appendCard(b, true)
	case piiIBAN:
		return g.appendIBAN(b)
	case piiSSN:
		area := r.between(1, 899)
		if area == 666 {
			area = 667
		}
		b = appendPadded(b, area, 3)
		b = append(b, '-')
		b = appendPadded(b, r.between(1, 99), 2)
		b = append(b, '-')
		return appendPadded(b, r.between(1, 9999), 4)
	case piiIPv4:
		if r.chance(0.2) {
			b = append(b, "192.168."...)
		} else {
			a := r.between(11, 223)
			if a == 127 {
				a = 128
			}
			b = appendPadded(b, a, 1)
			b = append(b, '.')
			b = appendPadded(b, r.intn(256), 1)
			b = append(b, '.')
		}
		b = appendPadded(b, r.intn(256), 1)
		b = append(b, '.')
		return appendPadded(b, r.between(1, 254), 1)
	case piiIPv6:
		b = append(b, pick(r, []string{"2a02:8108", "2600:1700", "2001:16b8", "2406:da14", "2a01:cb00"})...)
		groups := 6
		if r.chance(0.5) {
			groups = r.between(1, 3)
			b = append(b, ':')
			for range 4 - groups {
				b = append(b, ':')
				b = appendHexShort(b, r.intn(0x10000))
			}
			b = append(b, ':')
			b = appendHexShort(b, r.intn(0x10000))
			return b
		}
		for range groups {
			b = append(b, ':')
			b = appendHexShort(b, r.intn(0x10000))
		}
		return b
	default: // secrets
		switch r.intn(4) {
		case 0:
			b = append(b, "sk-proj-"...)
			return g.chars(b, base62, 48)
		case 1:
			b = append(b, "sk-"...)
			return g.chars(b, base62, 48)
		case 2:
			b = append(b, "ghp_"...)
			return g.chars(b, base62, 36)
		default:
			b = append(b, "AKIA"...)
			return g.chars(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16)
		}
	}
}

func appendHexShort(b []byte, v int) []byte {
	d := 1
	for v>>(4*d) > 0 && d < 4 {
		d++
	}
	return appendHex(b, uint64(v), d)
}

// luhnCheck returns the Luhn check digit for the digits in d (without it).
func luhnCheck(d []byte) byte {
	sum := 0
	double := true
	for i := len(d) - 1; i >= 0; i-- {
		x := int(d[i] - '0')
		if double {
			x *= 2
			if x > 9 {
				x -= 9
			}
		}
		sum += x
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// appendCard appends a 15- or 16-digit card number; valid says whether the
// Luhn check digit is right (invalid ones are look-alikes).
func (g *generator) appendCard(b []byte, valid bool) []byte {
	r := &g.r
	var d [16]byte
	n := 16
	switch r.intn(5) {
	case 0, 1:
		d[0] = '4'
		for i := 1; i < 15; i++ {
			d[i] = byte('0' + r.intn(10))
		}
	case 2, 3:
		d[0], d[1] = '5', byte('1'+r.intn(5))
		for i := 2; i < 15; i++ {
			d[i] = byte('0' + r.intn(10))
		}
	default:
		n = 15
		d[0], d[1] = '3', pick(r, []byte{'4', '7'})
		for i := 2; i < 14; i++ {
			d[i] = byte('0' + r.intn(10))
		}
	}
	c := luhnCheck(d[:n-1])
	if !valid {
		c = '0' + (c-'0'+1+byte(r.intn(9)))%10
	}
	d[n-1] = c
	if !valid {
		return append(b, d[:n]...)
	}
	switch r.intn(3) {
	case 0:
		return append(b, d[:n]...)
	default:
		sep := byte(' ')
		if r.chance(0.3) {
			sep = '-'
		}
		if n == 15 {
			b = append(b, d[:4]...)
			b = append(b, sep)
			b = append(b, d[4:10]...)
			b = append(b, sep)
			return append(b, d[10:15]...)
		}
		for i := 0; i < 16; i += 4 {
			if i > 0 {
				b = append(b, sep)
			}
			b = append(b, d[i:i+4]...)
		}
		return b
	}
}

// IBAN layouts: country and BBAN pattern (9 = digit, A = letter).
var ibanFormats = [][2]string{
	{"DE", "999999999999999999"},
	{"GB", "AAAA99999999999999"},
	{"FR", "99999999999999999999999"},
	{"ES", "99999999999999999999"},
	{"NL", "AAAA9999999999"},
}

// ibanMod97 computes the ISO 7064 mod-97 remainder of an IBAN's check string.
func ibanMod97(s []byte) int {
	rem := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		}
	}
	return rem
}

func (g *generator) appendIBAN(b []byte) []byte {
	r := &g.r
	f := pick(r, ibanFormats)
	var raw [34]byte
	n := 0
	for i := range len(f[1]) {
		if f[1][i] == 'A' {
			raw[n] = byte('A' + r.intn(26))
		} else {
			raw[n] = byte('0' + r.intn(10))
		}
		n++
	}
	check := append(append(raw[:n:n], f[0]...), '0', '0')
	cd := 98 - ibanMod97(check)
	var iban [34]byte
	m := copy(iban[:], f[0])
	iban[m], iban[m+1] = byte('0'+cd/10), byte('0'+cd%10)
	m += 2
	m += copy(iban[m:], raw[:n])
	if r.chance(0.5) {
		return append(b, iban[:m]...)
	}
	for i := 0; i < m; i += 4 {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, iban[i:min(i+4, m)]...)
	}
	return b
}

// injectPII appends a sentence carrying one PII value to one free-text field.
func (g *generator) injectPII(e *event) {
	r := &g.r
	kind := r.pickW(piiCum)
	c := pick(r, piiCarriers[kind])
	t := append(g.tmp[:0], c[0]...)
	t = g.appendPIIValue(t, kind)
	t = append(t, c[1]...)
	g.tmp = t
	switch x := r.float(); {
	case x < 0.15 && e.explicit && len(e.reason) > 0:
		e.reason = appendSentence(e.reason, t)
	case x < 0.25 && e.explicit && len(e.edit) > 0:
		e.edit = appendSentence(e.edit, t)
	case x < 0.4:
		e.out = appendSentence(e.out, t)
		if e.explicit && len(e.edit) > 0 {
			e.edit = appendSentence(e.edit, t)
		}
	default:
		e.in = appendSentence(e.in, t)
	}
}

// appendSentence appends s to text as a further sentence.
func appendSentence(text, s []byte) []byte {
	if n := len(text); n > 0 {
		if c := text[n-1]; c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			text = append(text, '.')
		}
		text = append(text, ' ')
	}
	return append(text, s...)
}

var lookalikeCarriers = [][2]string{
	{"Order ", " is affected."}, // ORD-
	{"I'm on app version ", "."},
	{"Since ", "."}, // ISO date
	{"It was ", " at checkout."},
	{"Request ID: ", ""},
	{"See ticket ", "."},
	{"Reference number ", "."}, // Luhn-invalid digit run
	{"Build ", " on staging."},
	{"Tracking number ", "."},         // nine digits without an SSN word
	{"Reference ", " was not found."}, // Luhn-invalid, grouped with dots
	{"See ", " for the setup."},       // webhook documentation, no secret
}

// injectLookalike appends something PII-shaped that is not PII.
func (g *generator) injectLookalike(e *event) {
	r := &g.r
	k := r.intn(len(lookalikeCarriers))
	t := append(g.tmp[:0], lookalikeCarriers[k][0]...)
	switch k {
	case 0:
		t = append(t, "ORD-"...)
		t = g.digits(t, 6)
	case 1:
		t = appendPadded(t, r.between(1, 12), 1)
		t = append(t, '.')
		t = appendPadded(t, r.between(0, 30), 1)
		t = append(t, '.')
		t = appendPadded(t, r.between(0, 15), 1)
	case 2:
		t = append(t, "2026-"...)
		t = appendPadded(t, r.between(1, 11), 2)
		t = append(t, '-')
		t = appendPadded(t, r.between(1, 28), 2)
	case 3:
		t = appendMoney(t, enUS, r.between(100, 250000), false)
	case 4:
		u := r.next()
		v := r.next()
		t = appendHex(t, u>>32, 8)
		t = append(t, '-')
		t = appendHex(t, u>>16, 4)
		t = append(t, "-4"...)
		t = appendHex(t, u, 3)
		t = append(t, '-')
		t = append(t, "89ab"[v>>62])
		t = appendHex(t, v>>48, 3)
		t = append(t, '-')
		t = appendHex(t, v, 12)
	case 5:
		if r.chance(0.5) {
			t = append(t, "TCK-"...)
			t = g.digits(t, 5)
		} else {
			t = append(t, "INC00"...)
			t = g.digits(t, 5)
		}
	case 6:
		t = g.appendCard(t, false)
	case 7:
		t = append(t, "2026.11."...)
		t = appendPadded(t, r.between(0, 40), 1)
	case 8:
		t = appendPadded(t, r.between(100000000, 899999999), 9)
	case 9:
		d := g.appendCard(nil, false)
		for i := 0; i < len(d); i += 4 {
			if i > 0 {
				t = append(t, '.')
			}
			t = append(t, d[i:min(i+4, len(d))]...)
		}
	default:
		t = append(t, pick(r, []string{"https://api.slack.com/messaging/webhooks", "https://discord.com/developers/docs/resources/webhook", "https://example.com/docs/hooks/setup"})...)
	}
	t = append(t, lookalikeCarriers[k][1]...)
	g.tmp = t
	if r.chance(0.3) {
		e.out = appendSentence(e.out, t)
		if e.explicit && len(e.edit) > 0 {
			e.edit = appendSentence(e.edit, t)
		}
	} else {
		e.in = appendSentence(e.in, t)
	}
}
