package pii

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
)

// The labelled corpus: a deterministic generator of feedback-like texts in
// several languages with PII entities of all seven types and look-alikes
// (strings that share their shapes but are not PII), each labelled with its
// byte span. TestCorpus measures per-type recall and precision and the
// look-alike survival rate against it.

const lookAlike = NumTypes // label type of a look-alike

type label struct {
	typ        Type
	kind       string // format or look-alike kind
	class      string // disguise class ("" in the main corpus: "plain")
	start, end int
}

func (l label) cls() string {
	if l.class == "" {
		return "plain"
	}
	return l.class
}

type corpusText struct {
	text   string
	labels []label
}

type gen struct{ r *rand.Rand }

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }
func (g *gen) between(lo, hi int) int   { return lo + g.r.IntN(hi-lo+1) }

func (g *gen) from(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.r.IntN(len(set))]
	}
	return string(b)
}

const (
	digitSet  = "0123456789"
	upperSet  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	lowerSet  = "abcdefghijklmnopqrstuvwxyz"
	alnumSet  = upperSet + lowerSet + digitSet
	b64urlSet = alnumSet + "-_"
	hexSet    = "0123456789abcdef"
)

func (g *gen) digits(n int) string { return g.from(digitSet, n) }

// nz returns n digits, the first not zero.
func (g *gen) nz(n int) string { return g.from("123456789", 1) + g.digits(n-1) }

// item is one generated entity or look-alike: the text inserted into a
// sentence is pre+val+post and the label covers val.
type item struct {
	typ            Type
	kind           string
	pre, val, post string
}

// ---- entities ----

var (
	firstNames = []string{"john", "maria", "jürgen", "chloé", "wei", "aiko", "lucas", "fatima", "olga", "pedro", "emma", "noah", "sofia", "liam", "zoë", "ana", "hiroshi", "mateo", "léa", "björn"}
	lastNames  = []string{"smith", "müller", "dubois", "garcia", "tanaka", "silva", "kowalski", "nguyen", "rossi", "johnson", "schmidt", "martin", "lopez", "sato", "costa", "brown", "jansen", "novak"}
	domains    = []string{"example.com", "gmail.com", "outlook.fr", "web.de", "mail.example.co.uk", "empresa.com.br", "yahoo.co.jp", "uni-heidelberg.de", "corp.acme.io", "proton.me", "example.org", "firma-müller.de", "post.example.net", "startup.ai", "xn--mller-kva.de", "t-online.de", "icloud.com", "hotmail.es"}
)

func asciiName(s string) string {
	r := strings.NewReplacer("ü", "u", "é", "e", "ë", "e", "ö", "o")
	return r.Replace(s)
}

func (g *gen) email() item {
	f, l := g.pick(firstNames...), g.pick(lastNames...)
	if !g.chance(0.15) { // most addresses are ASCII
		f, l = asciiName(f), asciiName(l)
	}
	var local, kind string
	switch g.r.IntN(7) {
	case 0:
		local, kind = f+"."+l, "first.last"
	case 1:
		local, kind = f+l+g.digits(g.between(1, 4)), "namedigits"
	case 2:
		local, kind = f[:1]+"."+l+"+"+g.pick("news", "shop", "ai", "test"), "plus-tag"
	case 3:
		local, kind = f+"_"+l, "underscore"
	case 4:
		local, kind = strings.ToUpper(f[:1])+f[1:]+"."+strings.ToUpper(l[:1])+l[1:], "capitalised"
	case 5:
		local, kind = g.pick("support", "info", "billing", "noreply", "admin", "hr"), "role"
	default:
		local, kind = f+"-"+l+"."+g.digits(2), "dash-dot"
	}
	d := g.pick(domains...)
	if g.chance(0.1) {
		d = strings.ToUpper(d[:1]) + d[1:]
	}
	return item{typ: Email, kind: kind, val: local + "@" + d}
}

func (g *gen) phone() item {
	d := g.digits
	nanp := func() (string, string) { return g.from("23456789", 1) + d(2), g.from("23456789", 1) + d(2) }
	switch g.r.IntN(37) {
	case 36:
		a, b := nanp()
		return item{typ: Phone, kind: "us-compact", val: a + b + d(4)}
	case 30:
		area := g.pick("30", "40", "89", "176", "151", "6221", "711")
		return item{typ: Phone, kind: "de-slash", val: "0" + area + "/" + g.nz(g.between(10-len(area), 11-len(area)))}
	case 31:
		return item{typ: Phone, kind: "ru+7", val: "+7 " + g.pick("495", "812", "916") + " " + d(3) + "-" + d(2) + "-" + d(2)}
	case 32:
		return item{typ: Phone, kind: "cn+86", val: "+86 1" + g.from("3589", 1) + d(1) + " " + d(4) + " " + d(4)}
	case 33:
		return item{typ: Phone, kind: "au", val: g.pick("+61 2 "+d(4)+" "+d(4), "(02) "+d(4)+" "+d(4), "+61 4"+d(2)+" "+d(3)+" "+d(3))}
	case 34:
		return item{typ: Phone, kind: "kr", val: g.pick("010-"+d(4)+"-"+d(4), "+82 10-"+d(4)+"-"+d(4))}
	case 35:
		a, b := nanp()
		return item{typ: Phone, kind: "us-ext", val: "+1 " + a + "-" + b + "-" + d(4), post: g.pick(" ext. ", " x", " ext ") + d(g.between(2, 4))}
	case 0:
		a, b := nanp()
		return item{typ: Phone, kind: "us+1", val: "+1 " + a + " " + b + " " + d(4)}
	case 1:
		a, b := nanp()
		return item{typ: Phone, kind: "us-paren", val: "(" + a + ") " + b + "-" + d(4)}
	case 2:
		a, b := nanp()
		return item{typ: Phone, kind: "us-dash", val: a + "-" + b + "-" + d(4)}
	case 3:
		a, b := nanp()
		return item{typ: Phone, kind: "us-dot", val: a + "." + b + "." + d(4)}
	case 4:
		a, b := nanp()
		return item{typ: Phone, kind: "us+1-dash", val: "+1-" + a + "-" + b + "-" + d(4)}
	case 5:
		a, b := nanp()
		return item{typ: Phone, kind: "us+1-paren", val: "+1 (" + a + ") " + b + "-" + d(4)}
	case 6:
		a, b := nanp()
		return item{typ: Phone, kind: "us-1-dash", val: "1-" + a + "-" + b + "-" + d(4)}
	case 7:
		return item{typ: Phone, kind: "uk+44", val: "+44 20 " + g.from("3789", 1) + d(3) + " " + d(4)}
	case 8:
		return item{typ: Phone, kind: "uk-national", val: "020 " + g.from("3789", 1) + d(3) + " " + d(4)}
	case 9:
		return item{typ: Phone, kind: "uk-mobile", val: g.pick("+44 7", "07") + d(3) + " " + d(6)}
	case 10:
		return item{typ: Phone, kind: "uk+44(0)", val: "+44 (0)20 " + d(4) + " " + d(4)}
	case 11:
		return item{typ: Phone, kind: "de+49", val: "+49 " + g.pick("30", "40", "89", "69", "221") + " " + g.nz(g.between(6, 8))}
	case 12:
		return item{typ: Phone, kind: "de-mobile", val: "01" + g.pick("51", "52", "60", "62", "70", "71", "76", "77") + " " + d(g.between(7, 8))}
	case 13:
		return item{typ: Phone, kind: "de+49-mobile", val: "+49 1" + g.pick("51", "52", "60", "62", "70", "71", "76", "77") + " " + d(g.between(7, 8))}
	case 14:
		return item{typ: Phone, kind: "de-national", val: "0" + g.pick("30", "40", "89", "69", "221", "711") + " " + g.nz(g.between(6, 8))}
	case 15:
		return item{typ: Phone, kind: "de+49(0)", val: "+49 (0)" + g.pick("30", "40", "89") + " " + g.nz(7)}
	case 16:
		return item{typ: Phone, kind: "fr+33", val: "+33 " + g.from("123456789", 1) + " " + d(2) + " " + d(2) + " " + d(2) + " " + d(2)}
	case 17:
		return item{typ: Phone, kind: "fr-national", val: "0" + g.from("1234567", 1) + " " + d(2) + " " + d(2) + " " + d(2) + " " + d(2)}
	case 18:
		return item{typ: Phone, kind: "fr-dots", val: "0" + g.from("1234567", 1) + "." + d(2) + "." + d(2) + "." + d(2) + "." + d(2)}
	case 19:
		return item{typ: Phone, kind: "jp+81", val: "+81 " + g.pick("3", "6", "90", "80") + "-" + d(4) + "-" + d(4)}
	case 20:
		return item{typ: Phone, kind: "jp-national", val: "0" + g.pick("3", "6", "90", "80", "70") + "-" + d(4) + "-" + d(4)}
	case 21:
		return item{typ: Phone, kind: "br+55", val: "+55 " + g.pick("11", "21", "31") + " 9" + d(4) + "-" + d(4)}
	case 22:
		return item{typ: Phone, kind: "br-paren", val: "(" + g.pick("11", "21", "31") + ") 9" + d(4) + "-" + d(4)}
	case 23:
		return item{typ: Phone, kind: "es+34", val: "+34 6" + d(2) + " " + d(3) + " " + d(3)}
	case 24:
		return item{typ: Phone, kind: "it+39", val: "+39 " + g.pick("06 "+d(4)+" "+d(4), "3"+d(2)+" "+d(3)+" "+d(4))}
	case 25:
		return item{typ: Phone, kind: "in+91", val: "+91 " + g.from("6789", 1) + d(4) + " " + d(5)}
	case 26:
		return item{typ: Phone, kind: "nl", val: g.pick("+31 6 "+d(8), "06-"+d(8), "+31 20 "+d(3)+" "+d(4))}
	case 27:
		return item{typ: Phone, kind: "ch-at", val: g.pick("+41 44 "+d(3)+" "+d(2)+" "+d(2), "+43 1 "+g.nz(6), "+41 79 "+d(3)+" "+d(2)+" "+d(2))}
	case 28:
		return item{typ: Phone, kind: "intl-compact", val: "+" + g.pick("1"+g.from("23456789", 1)+d(9), "4915"+d(9), "447"+d(9), "336"+d(8))}
	default:
		return item{typ: Phone, kind: "00-intl", val: "00" + g.pick("49 30 "+g.nz(7), "44 20 "+d(4)+" "+d(4), "33 1 "+d(2)+" "+d(2)+" "+d(2)+" "+d(2))}
	}
}

// luhnComplete appends the Luhn check digit to body.
func luhnComplete(body string) string {
	sum := 0
	dbl := true
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return body + string(rune('0'+(10-sum%10)%10))
}

func luhnValid(num string) bool {
	sum := 0
	dbl := false
	for i := len(num) - 1; i >= 0; i-- {
		v := int(num[i] - '0')
		if dbl {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		dbl = !dbl
	}
	return sum%10 == 0
}

func groupDigits(num string, sizes []int, sep string) string {
	var b strings.Builder
	p := 0
	for i, n := range sizes {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(num[p : p+n])
		p += n
	}
	return b.String()
}

func (g *gen) cardNumber() (num, brand string) {
	switch g.r.IntN(8) {
	case 0:
		return luhnComplete("4" + g.digits(14)), "visa"
	case 1:
		return luhnComplete("5" + g.from("12345", 1) + g.digits(13)), "mastercard"
	case 2:
		return luhnComplete(fmt.Sprint(2221+g.r.IntN(500)) + g.digits(11)), "mastercard2"
	case 3:
		return luhnComplete("3" + g.from("47", 1) + g.digits(12)), "amex"
	case 4:
		return luhnComplete(g.pick("6011", "65"+g.digits(2)) + g.digits(11)), "discover"
	case 5:
		return luhnComplete(fmt.Sprint(3528+g.r.IntN(62)) + g.digits(11)), "jcb"
	case 6:
		return luhnComplete("36" + g.digits(11)), "diners"
	default:
		return luhnComplete("4" + g.digits(17)), "visa19"
	}
}

func cardGroups(n int, brand string) []int {
	switch {
	case brand == "amex":
		return []int{4, 6, 5}
	case brand == "diners":
		return []int{4, 6, 4}
	case n == 19:
		return []int{4, 4, 4, 4, 3}
	}
	return []int{4, 4, 4, 4}
}

func (g *gen) card() item {
	num, brand := g.cardNumber()
	switch g.r.IntN(3) {
	case 0:
		return item{typ: Card, kind: brand + "-compact", val: num}
	case 1:
		return item{typ: Card, kind: brand + "-spaced", val: groupDigits(num, cardGroups(len(num), brand), " ")}
	default:
		return item{typ: Card, kind: brand + "-dashed", val: groupDigits(num, cardGroups(len(num), brand), "-")}
	}
}

// ibanFormats gives the BBAN layout per country: 'n' digit, 'a' letter, 'c' either.
var ibanFormats = map[string]string{
	"DE": "nnnnnnnnnnnnnnnnnn", "GB": "aaaannnnnnnnnnnnnn", "FR": "nnnnnnnnnncccccccccccnn", "ES": "nnnnnnnnnnnnnnnnnnnn",
	"IT": "annnnnnnnnncccccccccccc", "NL": "aaaannnnnnnnnn", "BE": "nnnnnnnnnnnn", "CH": "nnnnn" + "cccccccccccc",
	"AT": "nnnnnnnnnnnnnnnn", "PL": "nnnnnnnnnnnnnnnnnnnnnnnn", "PT": "nnnnnnnnnnnnnnnnnnnnn", "SE": "nnnnnnnnnnnnnnnnnnnn",
	"IE": "aaaannnnnnnnnnnnnn", "DK": "nnnnnnnnnnnnnn", "NO": "nnnnnnnnnnn", "FI": "nnnnnnnnnnnnnn", "LU": "nnnccccccccccccc",
	"BR": "nnnnnnnnnnnnnnnnnnnnnnnac", "CZ": "nnnnnnnnnnnnnnnnnnnn", "HU": "nnnnnnnnnnnnnnnnnnnnnnnn", "GR": "nnnnnnn" + "cccccccccccccccc",
	"RO": "aaaacccccccccccccccc", "HR": "nnnnnnnnnnnnnnnnn", "SA": "nn" + "cccccccccccccccccc", "MC": "nnnnnnnnnn" + "cccccccccccnn",
}

func ibanCheck(cc, bban string) string {
	rearranged := bban + cc + "00"
	r := 0
	for i := 0; i < len(rearranged); i++ {
		c := rearranged[i]
		if c >= '0' && c <= '9' {
			r = (r*10 + int(c-'0')) % 97
		} else {
			r = (r*100 + int(c-'A') + 10) % 97
		}
	}
	return fmt.Sprintf("%02d", 98-r)
}

func (g *gen) ibanParts() (cc, bban string) {
	ccs := make([]string, 0, len(ibanFormats))
	for k := range ibanFormats {
		ccs = append(ccs, k)
	}
	sort.Strings(ccs)
	cc = ccs[g.r.IntN(len(ccs))]
	f := ibanFormats[cc]
	b := make([]byte, len(f))
	for i := range f {
		switch f[i] {
		case 'n':
			b[i] = digitSet[g.r.IntN(10)]
		case 'a':
			b[i] = upperSet[g.r.IntN(26)]
		default:
			b[i] = (upperSet + digitSet + digitSet)[g.r.IntN(46)]
		}
	}
	return cc, string(b)
}

func spaced4(s string, sep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i += 4 {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i:min(i+4, len(s))])
	}
	return b.String()
}

func (g *gen) iban() item {
	cc, bban := g.ibanParts()
	iban := cc + ibanCheck(cc, bban) + bban
	if len(iban) != int(ibanLen[int(cc[0]-'A')*26+int(cc[1]-'A')]) {
		panic("bad IBAN format for " + cc)
	}
	switch g.r.IntN(5) {
	case 0, 1:
		return item{typ: IBAN, kind: cc + "-compact", val: iban}
	case 2, 3:
		return item{typ: IBAN, kind: cc + "-spaced", val: spaced4(iban, " ")}
	default:
		return item{typ: IBAN, kind: cc + "-dashed", val: spaced4(iban, "-")}
	}
}

func (g *gen) ssn() item {
	area := 1 + g.r.IntN(899)
	if area == 666 {
		area = 667
	}
	v := fmt.Sprintf("%03d-%02d-%04d", area, 1+g.r.IntN(99), 1+g.r.IntN(9999))
	if v[:3] == "078" || v == "123-45-6789" {
		v = "536" + v[3:]
	}
	if g.chance(0.25) {
		return item{typ: SSN, kind: "spaced", val: strings.ReplaceAll(v, "-", " ")}
	}
	return item{typ: SSN, kind: "dashed", val: v}
}

func (g *gen) ipv4() string {
	return fmt.Sprintf("%d.%d.%d.%d", 1+g.r.IntN(223), g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *gen) ipv6Groups() []string {
	gs := make([]string, 8)
	for i := range gs {
		if g.chance(0.3) {
			gs[i] = "0"
		} else {
			gs[i] = strings.TrimLeft(g.from(hexSet, g.between(1, 4)), "0")
			if gs[i] == "" {
				gs[i] = "0"
			}
		}
	}
	gs[0] = g.pick("2001", "2a00", "fe80", "2606", "2400", "fd12")
	gs[7] = g.digits(1) + g.from(hexSet, g.between(0, 3)) // keep a decimal digit in it
	return gs
}

func compressV6(gs []string) string {
	// longest run of zero groups (length >= 2) becomes "::"
	best, bl := -1, 1
	for i := 0; i < len(gs); {
		if gs[i] != "0" {
			i++
			continue
		}
		j := i
		for j < len(gs) && gs[j] == "0" {
			j++
		}
		if j-i > bl {
			best, bl = i, j-i
		}
		i = j
	}
	if best < 0 {
		return strings.Join(gs, ":")
	}
	return strings.Join(gs[:best], ":") + "::" + strings.Join(gs[best+bl:], ":")
}

func (g *gen) ip() item {
	switch g.r.IntN(10) {
	case 0, 1, 2:
		return item{typ: IP, kind: "v4", val: g.ipv4()}
	case 3:
		return item{typ: IP, kind: "v4-port", val: g.ipv4(), post: ":" + g.pick("8080", "443", "22", "5432")}
	case 4:
		return item{typ: IP, kind: "v4-url", pre: g.pick("http://", "https://"), val: g.ipv4(), post: g.pick("/", "/login", ":3000/api")}
	case 5:
		gs := g.ipv6Groups()
		for i := range gs {
			gs[i] = strings.Repeat("0", 4-len(gs[i])) + gs[i]
		}
		return item{typ: IP, kind: "v6-full", val: strings.Join(gs, ":")}
	case 6, 7:
		gs := g.ipv6Groups()
		gs[g.between(2, 4)], gs[5] = "0", "0"
		gs[3] = "0"
		gs[4] = "0"
		return item{typ: IP, kind: "v6-compressed", val: compressV6(gs)}
	case 8:
		return item{typ: IP, kind: "v6-special", val: g.pick("::1", "fe80::1", "::ffff:"+g.ipv4(), "64:ff9b::"+g.ipv4(), "fe80::"+g.from("123456789", 1)+g.from(hexSet, 2)+":"+g.from(hexSet, 4))}
	default:
		gs := g.ipv6Groups()
		gs[3], gs[4] = "0", "0"
		return item{typ: IP, kind: "v6-bracket-port", pre: "[", val: compressV6(gs), post: "]:" + g.pick("8080", "443")}
	}
}

func b64url(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func (g *gen) password() string {
	switch g.r.IntN(4) {
	case 0:
		return g.pick("hunter2", "letmein123", "Summer2024!", "P@ssw0rd", "qwerty12345", "Tr0ub4dor", "correcthorsebatterystaple", "s3cr3t")
	case 1:
		return g.from(alnumSet, g.between(8, 16))
	case 2:
		return g.from(lowerSet, g.between(5, 8)) + g.digits(g.between(2, 4)) + g.pick("!", "#", "$", "*", "?", "")
	default:
		return g.from(alnumSet+"!#$%*+-_.@^~", g.between(10, 24))
	}
}

func (g *gen) secret() item {
	switch g.r.IntN(18) {
	case 0:
		return item{typ: Secret, kind: "aws", val: g.pick("AKIA", "ASIA") + g.from(upperSet+"234567", 16)}
	case 1:
		return item{typ: Secret, kind: "github", val: g.pick("ghp_", "gho_", "ghu_", "ghs_", "ghr_") + g.from(alnumSet, 36)}
	case 2:
		return item{typ: Secret, kind: "github-pat", val: "github_pat_" + g.from(alnumSet, 22) + "_" + g.from(alnumSet, 59)}
	case 3:
		return item{typ: Secret, kind: "slack", val: g.pick("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-") + g.nz(12) + "-" + g.nz(12) + "-" + g.from(alnumSet, 24)}
	case 4:
		return item{typ: Secret, kind: "stripe", val: g.pick("sk_live_", "sk_test_", "pk_live_", "rk_live_") + g.from(alnumSet, g.between(24, 99))}
	case 5:
		return item{typ: Secret, kind: "openai", val: "sk-" + g.from(alnumSet, 48)}
	case 6:
		return item{typ: Secret, kind: "openai-proj", val: "sk-proj-" + g.from(b64urlSet, 120)}
	case 7:
		return item{typ: Secret, kind: "anthropic", val: "sk-ant-api03-" + g.from(b64urlSet, 93) + "AA"}
	case 8:
		return item{typ: Secret, kind: "google", val: "AIza" + g.from(b64urlSet, 35)}
	case 9:
		h := b64url(`{"alg":"` + g.pick("HS256", "RS256", "ES256") + `","typ":"JWT"}`)
		p := b64url(fmt.Sprintf(`{"sub":"%s","iat":%d,"name":"%s"}`, g.digits(10), 1700000000+g.r.IntN(1e8), g.pick(firstNames...)))
		return item{typ: Secret, kind: "jwt", val: h + "." + p + "." + g.from(b64urlSet, 43)}
	case 10:
		tok := g.from(alnumSet, g.between(24, 48))
		if g.chance(0.3) {
			tok = b64url(`{"alg":"HS256"}`) + "." + b64url(`{"sub":"`+g.digits(6)+`"}`) + "." + g.from(b64urlSet, 43)
		}
		return item{typ: Secret, kind: "bearer", pre: g.pick("Bearer ", "Authorization: Bearer ", "bearer "), val: tok}
	case 11:
		kind := g.pick("RSA ", "EC ", "OPENSSH ", "", "ENCRYPTED ")
		var b strings.Builder
		b.WriteString("-----BEGIN " + kind + "PRIVATE KEY-----\n")
		for i := 0; i < g.between(2, 6); i++ {
			b.WriteString(g.from(alnumSet+"+/", 64) + "\n")
		}
		b.WriteString(g.from(alnumSet+"+/", g.between(4, 40)) + "==\n")
		b.WriteString("-----END " + kind + "PRIVATE KEY-----")
		return item{typ: Secret, kind: "pem", val: b.String()}
	case 12:
		return item{typ: Secret, kind: "assign-password", pre: g.pick("password=", "password: ", "pwd=", "DB_PASSWORD=", "passwd: ", "Passwort: ", "mot de passe : ", "contraseña: ", "senha=", "password = "), val: g.password()}
	case 13:
		return item{typ: Secret, kind: "assign-key", pre: g.pick("api_key=", "API_KEY=", "apiKey: ", "x-api-key: ", "OPENAI_API_KEY=", "secret_key = ", "client_secret=", "access_token="), val: g.from(alnumSet, g.between(16, 40))}
	case 14:
		return item{typ: Secret, kind: "assign-json", pre: g.pick(`{"password": "`, `"api_key":"`, `"token": "`, `"client_secret": "`, `{"auth_token":"`), val: g.password(), post: `"`}
	case 15:
		return item{typ: Secret, kind: "assign-token", pre: g.pick("token=", "token: ", "secret: ", "auth=", "GITHUB_TOKEN=", "session_token="), val: g.from(b64urlSet, g.between(20, 40))}
	case 16:
		return item{typ: Secret, kind: "url-creds", pre: g.pick("postgres://", "mysql://", "https://", "redis://") + g.pick("admin", "app", "root", "deploy") + ":", val: g.from(alnumSet, g.between(8, 16)), post: "@" + g.pick("db.example.com", "10.1.2.3", "cache.internal") + g.pick(":5432/app", "/", "")}
	default:
		return item{typ: Secret, kind: "query", pre: g.pick("https://api.example.com/v1/data?api_key=", "?token=", "&access_token="), val: g.from(b64urlSet, g.between(20, 40)), post: g.pick("&page=2", "", "&lang=de")}
	}
}

// ---- look-alikes ----

func (g *gen) lookAlike() item {
	d := g.digits
	la := func(kind, v string) item { return item{typ: lookAlike, kind: kind, val: v} }
	switch g.r.IntN(34) {
	case 0:
		return la("version", fmt.Sprintf("v%d.%d.%d", g.r.IntN(5), g.r.IntN(30), g.r.IntN(20)))
	case 1:
		return la("version", fmt.Sprintf("%d.%d.%d", g.r.IntN(5), g.r.IntN(30), g.r.IntN(20)))
	case 2:
		return la("build", fmt.Sprintf("10.0.%d.%d", 10000+g.r.IntN(20000), g.r.IntN(5000)))
	case 3:
		return la("build", fmt.Sprintf("%d.%d.%d.%d", 1+g.r.IntN(130), g.r.IntN(10), 1000+g.r.IntN(7000), g.r.IntN(300)))
	case 4:
		return la("date-iso", fmt.Sprintf("%d-%02d-%02d", 2015+g.r.IntN(12), 1+g.r.IntN(12), 1+g.r.IntN(28)))
	case 5:
		return la("date-eu", fmt.Sprintf("%02d/%02d/%d", 1+g.r.IntN(28), 1+g.r.IntN(12), 2015+g.r.IntN(12)))
	case 6:
		return la("date-de", fmt.Sprintf("%02d.%02d.%d", 1+g.r.IntN(28), 1+g.r.IntN(12), 2015+g.r.IntN(12)))
	case 7:
		return la("date-slash", fmt.Sprintf("%d/%02d/%02d", 2015+g.r.IntN(12), 1+g.r.IntN(12), 1+g.r.IntN(28)))
	case 8:
		return la("time", fmt.Sprintf("%02d:%02d", g.r.IntN(24), g.r.IntN(60)))
	case 9:
		return la("time", fmt.Sprintf("%02d:%02d:%02d", g.r.IntN(24), g.r.IntN(60), g.r.IntN(60)))
	case 10:
		return la("time-ms", fmt.Sprintf("%02d:%02d:%02d.%03d", g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.r.IntN(1000)))
	case 11:
		return la("timestamp", fmt.Sprintf("%d-%02d-%02dT%02d:%02d:%02d%s", 2015+g.r.IntN(12), 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60), g.pick("Z", "+01:00", ".123Z", "-05:00", "")))
	case 12:
		return la("timestamp", fmt.Sprintf("%d-%02d-%02d %02d:%02d:%02d", 2015+g.r.IntN(12), 1+g.r.IntN(12), 1+g.r.IntN(28), g.r.IntN(24), g.r.IntN(60), g.r.IntN(60)))
	case 13:
		return la("price", g.pick(fmt.Sprintf("$%d,%03d.%02d", 1+g.r.IntN(99), g.r.IntN(1000), g.r.IntN(100)), fmt.Sprintf("€%d.%03d,%02d", 1+g.r.IntN(99), g.r.IntN(1000), g.r.IntN(100)), fmt.Sprintf("%d %03d,%02d kr", 1+g.r.IntN(99), g.r.IntN(1000), g.r.IntN(100)), fmt.Sprintf("£%d.%02d", g.r.IntN(500), g.r.IntN(100)), fmt.Sprintf("¥%d,%03d", 1+g.r.IntN(99), g.r.IntN(1000)), fmt.Sprintf("R$ %d.%03d,%02d", 1+g.r.IntN(99), g.r.IntN(1000), g.r.IntN(100)), fmt.Sprintf("%d,%02d €", g.r.IntN(2000), g.r.IntN(100))))
	case 14:
		return la("percent", g.pick(fmt.Sprintf("%d%%", g.r.IntN(101)), fmt.Sprintf("%d.%d%%", g.r.IntN(100), g.r.IntN(10)), fmt.Sprintf("%d,%d %%", g.r.IntN(100), g.r.IntN(10))))
	case 15:
		return la("uuid", fmt.Sprintf("%s-%s-4%s-%s%s-%s", g.from(hexSet, 8), g.from(hexSet, 4), g.from(hexSet, 3), g.from("89ab", 1), g.from(hexSet, 3), g.from(hexSet, 12)))
	case 16:
		return la("order", g.pick("ORD-"+d(6), "#"+g.nz(6), "INC"+d(7), "PO-"+d(4)+"-"+d(4), "A"+d(9), "order "+g.nz(8), "RMA"+d(6), "INV-"+d(4)+"-"+d(5)))
	case 17:
		return la("ticket", g.pick("ticket "+g.nz(8), "case #"+g.nz(7), "JIRA-"+d(4), "PROJ-"+d(5), "SR "+g.nz(9), "Ticket-Nr. "+g.nz(8)))
	case 18:
		n := g.pick("4", "5", "3", "6") + d([]int{15, 15, 14, 12, 18}[g.r.IntN(5)])
		for luhnValid(n) {
			n = n[:len(n)-1] + string(rune('0'+(int(n[len(n)-1]-'0')+1)%10))
		}
		switch g.r.IntN(3) {
		case 0:
			return la("luhn-invalid", n)
		case 1:
			if len(n) == 16 {
				return la("luhn-invalid", groupDigits(n, []int{4, 4, 4, 4}, " "))
			}
			return la("luhn-invalid", n)
		default:
			if len(n) == 16 {
				return la("luhn-invalid", groupDigits(n, []int{4, 4, 4, 4}, "-"))
			}
			return la("luhn-invalid", n)
		}
	case 19:
		return la("sha", g.pick(g.from(hexSet, 7), g.from(hexSet, 40), g.from(hexSet, 12), g.from(hexSet, 64)))
	case 20:
		return la("number", g.pick(fmt.Sprint(g.r.IntN(1000)), fmt.Sprintf("%d,%03d,%03d", 1+g.r.IntN(999), g.r.IntN(1000), g.r.IntN(1000)), fmt.Sprintf("%d.%d", g.r.IntN(100), g.r.IntN(100000)), fmt.Sprintf("%d.%03d.%03d", 1+g.r.IntN(999), g.r.IntN(1000), g.r.IntN(1000)), fmt.Sprintf("%d %03d %03d", 1+g.r.IntN(99), g.r.IntN(1000), g.r.IntN(1000))))
	case 21:
		return la("year", fmt.Sprint(1950+g.r.IntN(80)))
	case 22:
		return la("postal", g.pick(g.nz(5), "SW1A "+d(1)+"AA", fmt.Sprintf("%05d-%04d", g.r.IntN(99999), g.r.IntN(9999)), d(4)+" "+g.from(upperSet, 2), "K1A 0B"+d(1), g.nz(4), d(3)+"-"+d(4), "D-"+g.nz(5), "F-"+g.nz(5)))
	case 23:
		return la("duration", g.pick(fmt.Sprintf("%dh%02dm", g.r.IntN(10), g.r.IntN(60)), fmt.Sprintf("%d min", 1+g.r.IntN(120)), fmt.Sprintf("%d.%ds", g.r.IntN(60), g.r.IntN(10)), fmt.Sprintf("%dms", g.r.IntN(5000)), fmt.Sprintf("PT%dH%dM", g.r.IntN(10), g.r.IntN(60)), fmt.Sprintf("%d:%02d:%02d", g.r.IntN(3), g.r.IntN(60), g.r.IntN(60))))
	case 24:
		return la("model", g.pick("gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022", "gpt-3.5-turbo-0125", "llama-3.1-70b", "gemini-1.5-pro-002", "mistral-large-2407", "sk-learn", "text-embedding-3-small"))
	case 25:
		return la("resolution", g.pick("1920x1080", "3840x2160", "1280×720", "4K", "16:9", "2560 x 1440"))
	case 26:
		return la("isbn", g.pick("978-3-16-148410-0", "978-0-"+d(3)+"-"+d(5)+"-"+d(1), "ISBN 0-306-40615-2"))
	case 27:
		return la("range", fmt.Sprintf("%d-%d", 2010+g.r.IntN(10), 2020+g.r.IntN(6)))
	case 28:
		return la("coords", fmt.Sprintf("%d.%04d, %d.%04d", g.r.IntN(90), g.r.IntN(10000), g.r.IntN(180), g.r.IntN(10000)))
	case 29:
		return la("hex", g.pick("0x"+g.from(hexSet, 8), "#"+g.from(hexSet, 6), "0x"+g.from(hexSet, 16)))
	case 30:
		return la("mac-ish", g.pick("std::vector", "Foo::Bar::baz", "a::b", "::", "de:ad:be:ef", "http://localhost:3000"))
	case 31:
		return la("email-like", g.pick("@"+g.pick(firstNames...), "user@localhost", "icon@2x.png", "logo@3x.jpg", "name@host", "npm i react@18.2.0", "@types/node"))
	case 32:
		return la("ip-like", g.pick(fmt.Sprintf("%d.%d.%d", g.r.IntN(256), g.r.IntN(256), g.r.IntN(256)), fmt.Sprintf("%d.%d.%d.%d.%d", 1+g.r.IntN(9), g.r.IntN(9), g.r.IntN(9), g.r.IntN(9), g.r.IntN(9)), fmt.Sprintf("%d.%d.%d.%d", 256+g.r.IntN(700), g.r.IntN(256), g.r.IntN(256), g.r.IntN(256)), "1.3.6.1.4.1."+d(4)))
	default:
		return la("id-like", g.pick("session "+g.from(hexSet, 32), "req_"+g.from(alnumSet, 24), "user_id="+d(8), "trace-id: "+g.from(hexSet, 16), "commit "+g.from(hexSet, 40), "Build #"+d(5), "task-"+g.from(lowerSet, 6)))
	}
}

// ---- sentences ----

var templates = map[Type][]string{
	Email: {
		"You can reach me at {} if anything breaks.", "My email is {}.", "Send the invoice to {}", "{} is my work address, please use that one.",
		"The bot leaked my address ({}) in its answer.", "cc: {}", "I typed \"{}\" and it said the address was invalid.", "email me: <{}>",
		"Meine E-Mail-Adresse ist {}.", "Bitte schreiben Sie an {}, danke!", "Kontakt: {}", "Mon adresse e-mail est {}.", "Écrivez-moi à {} s'il vous plaît.",
		"Mi correo es {}, escríbeme.", "Meu e-mail é {}.", "メールアドレスは{}です。", "{}までご連絡ください。", "{}",
	},
	Phone: {
		"Call me at {} tomorrow.", "My number is {}.", "You can reach our office on {} between 9 and 5.", "{} is the support line.",
		"It dialed {} instead of the number I gave.", "Phone: {}", "(mobile {})", "The answer included my phone number {} which is private.",
		"Ruf mich unter {} an.", "Meine Handynummer ist {}.", "Telefon: {}", "Erreichbar unter {} (werktags).", "Appelez-moi au {} demain.",
		"Mon numéro est le {}.", "Tél. : {}", "Llámame al {}, por favor.", "Mi móvil es {}.", "Me liga no {} amanhã.", "Meu celular é {}.",
		"電話番号は{}です。", "{}に電話してください。", "whatsapp {}", "{}",
	},
	Card: {
		"My card {} was charged twice.", "It asked for my card number and I pasted {}.", "Card: {} exp 09/27", "the number {} should never be echoed",
		"{} wurde doppelt belastet.", "Meine Kreditkarte {} wurde abgelehnt.", "Ma carte {} a été débitée deux fois.", "Mi tarjeta {} fue rechazada.",
		"Meu cartão {} foi recusado.", "カード番号{}で支払いました。", "({})", "{}",
	},
	IBAN: {
		"Please refund to {}.", "IBAN: {}", "Wire it to {} (Deutsche Bank).", "Bitte überweisen Sie auf {}.", "Meine IBAN lautet {}.",
		"Mon IBAN est {}.", "Mi IBAN es {}", "O IBAN é {}.", "振込先IBANは{}です。", "account {} was debited", "{}",
	},
	SSN: {
		"My SSN is {}.", "Social security number {} was shown in the reply.", "SSN: {}", "It filled the form with {} as my social.",
		"Mi número de seguro social es {}.", "the applicant ({}) was approved", "{}",
	},
	IP: {
		"The server at {} keeps timing out.", "ping {} fails", "Requests from {} were blocked.", "Our VPN gateway is {}.", "connect to {} failed",
		"Der Server {} ist nicht erreichbar.", "L'adresse IP {} est bloquée.", "サーバー{}に接続できません。", "El servidor {} no responde.", "{}",
	},
	Secret: {
		"I accidentally pasted {} into the chat.", "The model echoed {} back to me!", "here is my config: {}", "curl -H '{}' fails",
		"Ich habe aus Versehen {} gepostet.", "J'ai collé {} par erreur.", "Pegué {} sin querer.", "{}を貼り付けてしまいました。", "{}",
	},
	lookAlike: {
		"It happened at {} again.", "See {} for details.", "The reply mentioned {} twice.", "Value: {}", "({})", "{} was wrong.",
		"Es ging um {}.", "Concernant {}, rien n'a changé.", "Sobre {}, nada.", "{}について質問しました。", "{}",
	},
}

var fillers = []string{
	"The answer was helpful but too long.", "It ignored my second question.", "Please make it shorter.", "Great job overall!",
	"Die Antwort war falsch.", "Das hat gut funktioniert.", "La réponse était incomplète.", "Merci pour l'aide.",
	"La respuesta fue correcta.", "A resposta foi ótima.", "回答は正確でした。", "ちょっと長すぎます。", "Rating: 4/5.", "Thumbs down :(",
}

// lookAlikeTemplates are used for look-alikes that read better in a
// specific frame.
var lookAlikeFrames = map[string][]string{
	"version":      {"Since version {} it crashes.", "Upgraded to {} yesterday.", "Auf {} aktualisiert."},
	"build":        {"Windows build {} is affected.", "OS build {}", "Firmware {}"},
	"price":        {"It quoted {} instead of the real price.", "Der Preis war {}.", "Le prix est de {}."},
	"order":        {"My order {} never arrived.", "Bestellung {} ist verschwunden.", "Commande {} annulée."},
	"ticket":       {"See {} in the tracker.", "I opened {} last week."},
	"luhn-invalid": {"Reference {} was not found.", "Tracking number {}", "Número de referencia {}"},
	"timestamp":    {"Logged at {}", "Zeitstempel: {}"},
	"duration":     {"It took {} to answer.", "Dauer: {}"},
	"postal":       {"I live in {} Berlin.", "Code postal {}", "ZIP {}"},
}

func (g *gen) item(t Type) item {
	switch t {
	case Email:
		return g.email()
	case Phone:
		return g.phone()
	case Card:
		return g.card()
	case IBAN:
		return g.iban()
	case SSN:
		return g.ssn()
	case IP:
		return g.ip()
	case Secret:
		return g.secret()
	}
	return g.lookAlike()
}

// sentence embeds it in a template and returns the text and the label's
// offsets within it.
func (g *gen) sentence(it item) (string, int, int) {
	var tpl string
	if f, ok := lookAlikeFrames[it.kind]; ok && it.typ == lookAlike && g.chance(0.5) {
		tpl = g.pick(f...)
	} else {
		tpl = g.pick(templates[it.typ]...)
	}
	ins := it.pre + it.val + it.post
	if g.chance(0.15) && it.typ != Secret {
		// wrap in brackets or quotes
		w := g.pick("()", "\"\"", "''", "«»", "[]", "「」")
		open, close := w[:len(w)/2], w[len(w)/2:]
		if w == "«»" || w == "「」" {
			r := []rune(w)
			open, close = string(r[0]), string(r[1])
		}
		ins = open + ins + close
		it.pre = open + it.pre
	}
	i := strings.Index(tpl, "{}")
	text := tpl[:i] + ins + tpl[i+2:]
	start := i + len(it.pre)
	return text, start, start + len(it.val)
}

// generateCorpus builds n texts of one to four sentences.
func generateCorpus(seed uint64, n int) []corpusText {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	out := make([]corpusText, 0, n)
	for range n {
		var b strings.Builder
		var labels []label
		ns := g.between(1, 4)
		for k := range ns {
			if k > 0 {
				b.WriteString(g.pick(" ", " ", " ", "\n", " — ", "  "))
			}
			if g.chance(0.2) {
				b.WriteString(g.pick(fillers...))
				continue
			}
			var t Type
			if g.chance(0.3) {
				t = lookAlike
			} else {
				t = Type(g.r.IntN(int(NumTypes)))
			}
			it := g.item(t)
			text, s, e := g.sentence(it)
			off := b.Len()
			b.WriteString(text)
			labels = append(labels, label{typ: it.typ, kind: it.kind, start: off + s, end: off + e})
		}
		out = append(out, corpusText{text: b.String(), labels: labels})
	}
	return out
}

type typeStats struct {
	entities, found int
	spans, correct  int
}

// classStats counts one disguise class: its entities and how many were
// found, its look-alikes and how many were kept, and the spans that fell on
// its labels (correct: on an entity of the span's type).
type classStats struct {
	entities, found int
	looks, kept     int
	spans, correct  int
}

type corpusResult struct {
	stats              [NumTypes]typeStats
	classes            map[string]*classStats
	unlabelledFP       int
	looks, lookSurvive int
	missed             map[Type][]string
	falsePos           map[Type][]string
	broken             []string
	missedKinds        map[string]int
	kindTotals         map[string]int
	brokenKinds        map[string]int
}

func evaluate(corpus []corpusText) *corpusResult {
	res := &corpusResult{classes: map[string]*classStats{}, missed: map[Type][]string{}, falsePos: map[Type][]string{}, missedKinds: map[string]int{}, kindTotals: map[string]int{}, brokenKinds: map[string]int{}}
	class := func(name string) *classStats {
		c := res.classes[name]
		if c == nil {
			c = &classStats{}
			res.classes[name] = c
		}
		return c
	}
	for _, ct := range corpus {
		spans := Find(ct.text)
		for _, l := range ct.labels {
			cs := class(l.cls())
			if l.typ == lookAlike {
				cs.looks++
				res.looks++
				res.kindTotals["~"+l.kind]++
				ok := true
				for _, sp := range spans {
					if sp.Start < l.end && sp.End > l.start {
						ok = false
					}
				}
				if ok {
					res.lookSurvive++
					cs.kept++
				} else {
					res.brokenKinds[l.kind]++
					res.broken = append(res.broken, fmt.Sprintf("%s %q in %q", l.kind, ct.text[l.start:l.end], ct.text))
				}
				continue
			}
			st := &res.stats[l.typ]
			st.entities++
			res.kindTotals[l.typ.String()+"/"+l.kind]++
			found := false
			for _, sp := range spans {
				if sp.Type == l.typ && sp.Start <= l.start && sp.End >= l.end {
					found = true
				}
			}
			cs.entities++
			if found {
				st.found++
				cs.found++
			} else {
				res.missedKinds[l.typ.String()+"/"+l.kind]++
				res.missed[l.typ] = append(res.missed[l.typ], fmt.Sprintf("%s %q in %q -> %v", l.kind, ct.text[l.start:l.end], ct.text, spans))
			}
		}
		for _, sp := range spans {
			st := &res.stats[sp.Type]
			st.spans++
			ok := false
			var on *label // the label the span falls on, an entity of its type first
			for i, l := range ct.labels {
				if sp.Start < l.end && sp.End > l.start {
					if l.typ == sp.Type {
						ok = true
						on = &ct.labels[i]
					} else if on == nil {
						on = &ct.labels[i]
					}
				}
			}
			if on != nil {
				cs := class(on.cls())
				cs.spans++
				if ok {
					cs.correct++
				}
			} else {
				res.unlabelledFP++
			}
			if ok {
				st.correct++
			} else {
				res.falsePos[sp.Type] = append(res.falsePos[sp.Type], fmt.Sprintf("%q in %q", ct.text[sp.Start:sp.End], ct.text))
			}
		}
	}
	return res
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

func (res *corpusResult) table() string {
	var b strings.Builder
	b.WriteString("| type | entities | recall | precision |\n|---|---:|---:|---:|\n")
	tot := typeStats{}
	for t := Type(0); t < NumTypes; t++ {
		st := res.stats[t]
		fmt.Fprintf(&b, "| %s | %d | %.4f | %.4f |\n", t, st.entities, ratio(st.found, st.entities), ratio(st.correct, st.spans))
		tot.entities += st.entities
		tot.found += st.found
		tot.spans += st.spans
		tot.correct += st.correct
	}
	fmt.Fprintf(&b, "| **all** | %d | %.4f | %.4f |\n", tot.entities, ratio(tot.found, tot.entities), ratio(tot.correct, tot.spans))
	fmt.Fprintf(&b, "\nLook-alikes (versions, dates, times, prices, UUIDs, order numbers, Luhn-invalid runs, hashes, ...): %d, survived unmasked: %.4f\n",
		res.looks, ratio(res.lookSurvive, res.looks))
	return b.String()
}

// classTable reports recall, precision and look-alikes kept per class, in
// the order given.
func (res *corpusResult) classTable(order []string) string {
	var b strings.Builder
	b.WriteString("| class | entities | recall | precision | look-alikes | kept |\n|---|---:|---:|---:|---:|---:|\n")
	for _, name := range order {
		c := res.classes[name]
		if c == nil {
			c = &classStats{}
		}
		fmt.Fprintf(&b, "| %s | %d | %.4f | %.4f | %d | %.4f |\n", name, c.entities, ratio(c.found, c.entities), ratio(c.correct, c.spans), c.looks, ratio(c.kept, c.looks))
	}
	if res.unlabelledFP > 0 {
		fmt.Fprintf(&b, "\nSpans on no label at all (false positives outside entities and look-alikes): %d\n", res.unlabelledFP)
	}
	return b.String()
}

func TestCorpus(t *testing.T) {
	corpus := generateCorpus(20240115, 6000)
	res := evaluate(corpus)
	total := 0
	for _, st := range res.stats {
		total += st.entities
	}
	if total < 5000 || res.looks < 2000 {
		t.Fatalf("corpus too small: %d entities, %d look-alikes", total, res.looks)
	}
	dis := generateDisguiseCorpus(20261201, 4000)
	dres := evaluate(dis)
	dres.classes["plain"] = res.classes["plain"]
	classes := append([]string{"plain"}, disguiseClasses...)
	tab := fmt.Sprintf("Main corpus (%d texts), per type:\n\n%s\nDisguise corpus (%d texts), per type:\n\n%s\nPer class (plain: the main corpus; the others: the disguise corpus):\n\n%s",
		len(corpus), res.table(), len(dis), dres.table(), dres.classTable(classes))
	checkClasses(t, dres, classes)
	if p := os.Getenv("PII_REPORT"); p != "" {
		if err := os.WriteFile(p, []byte(tab), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for ty := Type(0); ty < NumTypes; ty++ {
		st := res.stats[ty]
		minRecall := 0.95
		if ty == Card || ty == IBAN {
			minRecall = 0.99
		}
		if r := ratio(st.found, st.entities); r < minRecall {
			t.Errorf("%s recall %.4f < %.2f; missed e.g.:\n  %s", ty, r, minRecall, strings.Join(first(res.missed[ty], 8), "\n  "))
		}
		if p := ratio(st.correct, st.spans); p < 0.95 {
			t.Errorf("%s precision %.4f < 0.95; false positives e.g.:\n  %s", ty, p, strings.Join(first(res.falsePos[ty], 8), "\n  "))
		}
	}
	if s := ratio(res.lookSurvive, res.looks); s < 0.98 {
		t.Errorf("look-alike survival %.4f < 0.98; broken e.g.:\n  %s", s, strings.Join(first(res.broken, 10), "\n  "))
	}
	if t.Failed() || os.Getenv("PII_CORPUS_DEBUG") != "" {
		var ks []string
		for k, n := range res.missedKinds {
			ks = append(ks, fmt.Sprintf("%s %d/%d", k, n, res.kindTotals[k]))
		}
		for k, n := range res.brokenKinds {
			ks = append(ks, fmt.Sprintf("~%s broken %d/%d", k, n, res.kindTotals["~"+k]))
		}
		sort.Strings(ks)
		t.Logf("misses by format: %s", strings.Join(ks, ", "))
		for ty := Type(0); ty < NumTypes; ty++ {
			for _, m := range first(res.missed[ty], 3) {
				t.Logf("missed %s", m)
			}
			for _, m := range first(res.falsePos[ty], 3) {
				t.Logf("false positive %s: %s", ty, m)
			}
		}
		for _, m := range first(res.broken, 10) {
			t.Logf("broken look-alike %s", m)
		}
	}
	t.Logf("PII corpus (%d texts, seed 20240115):\n%s", len(corpus), tab)
}

// checkClasses holds every disguise class to the same bars as the main
// corpus: recall and precision at least 0.95 and look-alikes kept at least
// 0.98; it logs what was missed or broken.
func checkClasses(t *testing.T, res *corpusResult, classes []string) {
	t.Helper()
	for _, name := range classes {
		c := res.classes[name]
		if c == nil || c.entities == 0 || c.looks == 0 {
			t.Errorf("class %s: no entities or no look-alikes in the corpus", name)
			continue
		}
		if r := ratio(c.found, c.entities); r < 0.95 {
			t.Errorf("class %s: recall %.4f < 0.95", name, r)
		}
		if p := ratio(c.correct, c.spans); p < 0.95 {
			t.Errorf("class %s: precision %.4f < 0.95", name, p)
		}
		if k := ratio(c.kept, c.looks); k < 0.98 {
			t.Errorf("class %s: look-alikes kept %.4f < 0.98", name, k)
		}
	}
	if t.Failed() || os.Getenv("PII_CORPUS_DEBUG") != "" {
		for ty := Type(0); ty < NumTypes; ty++ {
			for _, m := range first(res.missed[ty], 5) {
				t.Logf("disguise corpus: missed %s", m)
			}
			for _, m := range first(res.falsePos[ty], 5) {
				t.Logf("disguise corpus: false positive %s: %s", ty, m)
			}
		}
		for _, m := range first(res.broken, 10) {
			t.Logf("disguise corpus: broken look-alike %s", m)
		}
	}
	for _, m := range res.broken {
		t.Logf("look-alike not kept: %s", m)
	}
}

func first(xs []string, n int) []string { return xs[:min(n, len(xs))] }
