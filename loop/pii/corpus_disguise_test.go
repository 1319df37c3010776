package pii

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// The disguise corpus: entities written the ways masking used to miss
// (split by invisible characters, with look-alike separators, lower-case
// IBANs, cards with unusual separators, bare SSNs next to an SSN word,
// internationalised e-mail addresses and apostrophes in local parts, webhook
// URLs), each class with look-alikes written the same way that must be kept.

// The disguise classes, in report order; "plain" is the main corpus.
var disguiseClasses = []string{"invisible", "confusable", "iban-lower", "iban-gaps", "card-seps", "ssn-bare", "email-intl", "email-apostrophe", "email-obfuscated", "webhook"}

var invisibles = []string{"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u202c", "\U000e0020"}

// sprinkle inserts one to three invisible characters at rune boundaries
// strictly inside v.
func (g *gen) sprinkle(v string) string {
	if len(v) < 2 {
		return v
	}
	for k := g.between(1, 3); k > 0; k-- {
		p := g.between(1, len(v)-1)
		for p < len(v) && !utf8.RuneStart(v[p]) {
			p++
		}
		if p >= len(v) {
			continue
		}
		v = v[:p] + g.pick(invisibles...) + v[p:]
	}
	return v
}

var (
	uSpaces = []string{"\u00a0", "\u2009", "\u202f", "\u3000", "\u2007"}
	uDashes = []string{"\u2010", "\u2011", "\u2012", "\u2013", "\u2212"}
)

// confuse replaces separators in v by Unicode look-alikes, and sometimes
// digits and '@' by their fullwidth forms.
func (g *gen) confuse(v string) string {
	sp, da := g.pick(uSpaces...), g.pick(uDashes...)
	full := g.chance(0.3)
	var b strings.Builder
	for _, r := range v {
		switch {
		case r == ' ':
			b.WriteString(sp)
		case r == '-':
			b.WriteString(da)
		case r == '@' && g.chance(0.3):
			b.WriteRune('＠')
		case full && r >= '0' && r <= '9':
			b.WriteRune(r - '0' + '０')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (g *gen) ibanValue() string {
	cc, bban := g.ibanParts()
	return cc + ibanCheck(cc, bban) + bban
}

var (
	intlLocals  = []string{"用户", "张伟", "たなか", "иван", "мария.петрова", "αλέξης", "अजय", "josé.garcía", "jürgen.müller", "zoë", "søren", "ñandú", "çağla", "박지민"}
	intlDomains = []string{"例子.广告", "пример.рф", "bücher.de", "xn--bcher-kva.de", "例え.テスト", "डाटामेल.भारत", "müller-bau.de", "correo.es", "παράδειγμα.ελ", "example.xn--p1ai", "한국.kr", "mail.example.com"}
	apoLocals   = []string{"o'brien.lia", "d'angelo", "o'neil", "l'oreal.support", "dell'acqua", "n'diaye.awa", "o\u2019connor", "mc'donald.j"}
)

func (g *gen) webhookURL() (string, string) {
	a := g.from(alnumSet, 24)
	switch g.r.IntN(8) {
	case 0, 1:
		return "slack", "https://hooks.slack.com/services/T" + g.from(upperSet+digitSet, 8) + "/B" + g.from(upperSet+digitSet, 10) + "/" + a
	case 2:
		return "discord", "https://" + g.pick("discord.com", "discordapp.com", "ptb.discord.com") + "/api/webhooks/" + g.nz(18) + "/" + g.from(b64urlSet, 68)
	case 3:
		return "teams", "https://" + g.pick("contoso", "acme", "fabrikam") + ".webhook.office.com/webhookb2/" + g.from(hexSet, 8) + "-" + g.from(hexSet, 4) + "-" + g.from(hexSet, 4) + "@" + g.from(hexSet, 8) + "/IncomingWebhook/" + g.from(hexSet, 32) + "/" + g.from(hexSet, 8)
	case 4:
		return "zapier", "https://hooks.zapier.com/hooks/catch/" + g.nz(7) + "/" + g.from(lowerSet+digitSet, 6) + "/"
	case 5:
		return "generic-hooks", "https://" + g.pick("chat.example.com", "mm.corp.io", "ci.example.org") + g.pick("/hooks/", "/api/webhooks/"+g.nz(3)+"/", "/webhook/") + g.from(lowerSet, 10) + g.from(digitSet, 4) + g.from(lowerSet, 8)
	case 6:
		return "query-key", g.from(alnumSet, g.between(20, 32))
	default:
		return "telegram", "https://api.telegram.org/bot" + g.nz(9) + ":" + g.from(b64urlSet, 35) + "/sendMessage"
	}
}

// disguised returns an entity (or, for look, a look-alike) of the class.
func (g *gen) disguised(class string, look bool) item {
	la := func(kind, v string) item { return item{typ: lookAlike, kind: kind, val: v} }
	switch class {
	case "invisible":
		if look {
			it := g.lookAlike()
			it.val = g.sprinkle(it.val)
			return it
		}
		it := g.item(Type(g.r.IntN(int(NumTypes))))
		it.val = g.sprinkle(it.val)
		return it
	case "confusable":
		if look {
			d := g.digits
			return la("confusable-"+"lookalike", g.confuse(g.pick(
				fmt.Sprintf("%d-%d", 2010+g.r.IntN(10), 2020+g.r.IntN(6)),
				fmt.Sprintf("%d-%02d-%02d", 2015+g.r.IntN(12), 1+g.r.IntN(12), 1+g.r.IntN(28)),
				"version "+fmt.Sprintf("%d.%d.%d", g.r.IntN(5), g.r.IntN(30), g.r.IntN(20)),
				"ORD-"+d(6), "1 299,00 €", "pages 12-15", d(3)+" "+d(3)+" users",
			)))
		}
		it := g.item([]Type{Email, Phone, Card, IBAN, SSN}[g.r.IntN(5)])
		it.val = g.confuse(it.val)
		return it
	case "iban-lower":
		if look {
			v := g.ibanValue()
			v = v[:2] + fmt.Sprintf("%02d", (int(v[2]-'0')*10+int(v[3]-'0')+1+g.r.IntN(90))%100) + v[4:]
			if mod97([]byte(v)) {
				v = v[:len(v)-1] + string(rune('0'+(int(v[len(v)-1]-'0')+1)%10))
			}
			return la("iban-lower-badcheck", strings.ToLower(g.pick(v, spaced4(v, " "))))
		}
		v := strings.ToLower(g.ibanValue())
		return item{typ: IBAN, kind: "lower", val: g.pick(v, spaced4(v, " "), spaced4(v, "-"))}
	case "iban-gaps":
		if look {
			return la("iban-gaps-hash", g.pick(spaced4(g.from(hexSet, 32), "  "), "REF  "+g.digits(4)+"  "+g.digits(4)))
		}
		return item{typ: IBAN, kind: "gaps", val: spaced4(g.ibanValue(), g.pick("  ", "\t", " - ", "   "))}
	case "card-seps":
		sep := g.pick(".", "\t", "/", "  ", "   ", " - ")
		num, brand := g.cardNumber()
		if look {
			for luhnValid(num) {
				num = num[:len(num)-1] + string(rune('0'+(int(num[len(num)-1]-'0')+1)%10))
			}
			if len(num) != 16 {
				// as in the main corpus: a longer invalid run may well
				// start with a valid card number
				return la("card-seps-luhn-invalid", num)
			}
			return la("card-seps-luhn-invalid", groupDigits(num, cardGroups(len(num), brand), sep))
		}
		return item{typ: Card, kind: brand + "-sep" + fmt.Sprintf("%q", sep), val: groupDigits(num, cardGroups(len(num), brand), sep)}
	case "ssn-bare":
		v := ""
		for {
			it := g.ssn()
			v = strings.NewReplacer("-", "", " ", "").Replace(it.val)
			if v != "123456789" && v[:8] != "98765432" {
				break
			}
		}
		if look {
			return item{typ: lookAlike, kind: "nine-digits", pre: g.pick("order ", "ticket ", "Tracking number ", "SR ", "invoice ", "account ", "ref. "), val: v}
		}
		return item{typ: SSN, kind: "bare", pre: g.pick("SSN ", "SSN: ", "my SSN is ", "Social Security number ", "social security no. ", "ss# ", "SSN#", "my social is "), val: v}
	case "email-intl":
		if look {
			return la("email-intl-like", g.pick("@ユーザー", "用户@例子", "@チーム", "価格@100円", "@пользователь", "x@例子", "タグ@"))
		}
		l := g.pick(intlLocals...)
		d := g.pick(intlDomains...)
		if !strings.ContainsFunc(l+d, func(r rune) bool { return r > 0x7f }) {
			d = "例子.广告"
		}
		return item{typ: Email, kind: "intl", val: l + "@" + d}
	case "email-apostrophe":
		if look {
			return la("apostrophe-like", g.pick("it's @home", "o'brien@localhost", "l'@", "d'accord @team"))
		}
		return item{typ: Email, kind: "apostrophe", val: g.pick(apoLocals...) + "@" + g.pick(domains...)}
	case "email-obfuscated":
		if look {
			return la("obfuscated-like", g.pick("meet me (at) noon", "prices [at] 9.99", "see (dot) points", "[AT] risk", "version 2 (dot) 1",
				"(at) home", "lunch (At) 12:30", "the [dot] matrix", "ready (at) the end. Next", "x (dot) y",
				"v1[.]2", "regex a(.)b", "see [@] mentions", "up 5%40 days", "tickets &#64; 5 each", "a%40b", "x&commat;y"))
		}
		at := g.pick(" (at) ", "(at)", " [at] ", "[at]", " (AT) ", " [ at ] ", "(At)", "[@]", "(@)", "%40", "&#64;", "&commat;")
		dot := g.pick(" (dot) ", "(dot)", " [dot] ", "[dot]", " (DOT) ", ".", "[.]", "(.)")
		it := g.email()
		local, domain, _ := strings.Cut(it.val, "@")
		if g.chance(0.5) {
			local = strings.ReplaceAll(local, ".", dot)
		}
		return item{typ: Email, kind: "obfuscated", val: local + at + strings.ReplaceAll(domain, ".", dot)}
	default: // webhook
		if look {
			return la("webhook-doc", g.pick("https://api.slack.com/messaging/webhooks", "https://hooks.slack.com/", "https://discord.com/developers/docs/resources/webhook",
				"https://example.com/docs/webhooks/getting-started", "https://github.com/org/repo/settings/hooks/new", "https://example.com/search?q=key&page=2",
				"https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook"))
		}
		kind, v := g.webhookURL()
		if kind == "query-key" {
			// only the value is the secret
			return item{typ: Secret, kind: kind, pre: "https://api.example.com/v1/notify?" + g.pick("key=", "sig=", "signature="), val: v}
		}
		return item{typ: Secret, kind: kind, val: v}
	}
}

// generateDisguiseCorpus builds n texts of one to three sentences, each
// entity or look-alike in one of the disguise classes.
func generateDisguiseCorpus(seed uint64, n int) []corpusText {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x51afd6ed4a7c15))}
	out := make([]corpusText, 0, n)
	for range n {
		var b strings.Builder
		var labels []label
		for k := range g.between(1, 3) {
			if k > 0 {
				b.WriteString(g.pick(" ", " ", "\n", " — "))
			}
			if g.chance(0.1) {
				b.WriteString(g.pick(fillers...))
				continue
			}
			class := g.pick(disguiseClasses...)
			it := g.disguised(class, g.chance(0.35))
			var text string
			var s, e int
			if class == "ssn-bare" {
				// the context word is part of the sentence, not a frame
				text, s, e = g.sentence(item{typ: lookAlike, kind: "ssn-frame", pre: it.pre, val: it.val})
			} else {
				text, s, e = g.sentence(it)
			}
			off := b.Len()
			b.WriteString(text)
			labels = append(labels, label{typ: it.typ, kind: it.kind, class: class, start: off + s, end: off + e})
		}
		out = append(out, corpusText{text: b.String(), labels: labels})
	}
	return out
}
