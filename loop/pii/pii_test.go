package pii

import (
	"strings"
	"sync"
	"testing"
	"unsafe"
)

type maskCase struct {
	in, want string
}

func runMaskCases(t *testing.T, cases []maskCase) {
	t.Helper()
	for _, c := range cases {
		got, _ := Mask(c.in)
		if got != c.want {
			t.Errorf("Mask(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
		checkInvariants(t, c.in)
	}
}

// same lists inputs that must come back unchanged.
func same(ins ...string) []maskCase {
	cs := make([]maskCase, len(ins))
	for i, s := range ins {
		cs[i] = maskCase{s, s}
	}
	return cs
}

func TestEmail(t *testing.T) {
	runMaskCases(t, []maskCase{
		{"mail john.doe+tag@example.co.uk now", "mail [EMAIL] now"},
		{"john@example.com", "[EMAIL]"},
		{"(Maria.Silva@Empresa.com.br)", "([EMAIL])"},
		{"<support@startup.ai>, thanks", "<[EMAIL]>, thanks"},
		{"Meine E-Mail: jürgen.müller@beispiel.de.", "Meine E-Mail: [EMAIL]."},
		{"Écrivez à chloé.dubois@outlook.fr s'il vous plaît", "Écrivez à [EMAIL] s'il vous plaît"},
		{"連絡先はtaro.sato@example.co.jpです。", "連絡先は[EMAIL]です。"},
		{"mailto:ops-team_2@mail.corp.example.org?subject=x", "mailto:[EMAIL]?subject=x"},
		{"a@b.co", "[EMAIL]"},
		{"ana@xn--mller-kva.de", "[EMAIL]"},
		{"415-555-0132@txt.att.net", "[EMAIL]"},
		{"two: a.b@c.de,x_y@z.io", "two: [EMAIL],[EMAIL]"},
	})
	runMaskCases(t, same(
		"@john mentioned it", "user@localhost", "icon@2x.png and logo@3x.JPG", "npm i react@18.2.0",
		"name@host", "@@@@", "a@b", "x@.com", "foo@bar.c0m", ".@example.com", "@types/node",
	))
}

func TestPhone(t *testing.T) {
	runMaskCases(t, []maskCase{
		{"call +1 415 555 0132 now", "call [PHONE] now"},
		{"(415) 555-0132", "[PHONE]"},
		{"415-555-0132", "[PHONE]"},
		{"+1 (415) 555-0132", "[PHONE]"},
		{"1-415-555-0132", "[PHONE]"},
		{"555.123.4567", "[PHONE]"},
		{"+44 20 7946 0958", "[PHONE]"},
		{"+44 (0)20 7946 0958", "[PHONE]"},
		{"020 7946 0958", "[PHONE]"},
		{"+49 30 123456", "[PHONE]"},
		{"Handy: 0176 12345678.", "Handy: [PHONE]."},
		{"Ruf mich unter 030 1234567 an", "Ruf mich unter [PHONE] an"},
		{"+33 1 23 45 67 89", "[PHONE]"},
		{"Appelez le 06 12 34 56 78 demain", "Appelez le [PHONE] demain"},
		{"+81 3-1234-5678", "[PHONE]"},
		{"電話番号は090-1234-5678です", "電話番号は[PHONE]です"},
		{"+55 11 91234-5678", "[PHONE]"},
		{"Me liga no (11) 91234-5678 amanhã", "Me liga no [PHONE] amanhã"},
		{"+34 612 345 678", "[PHONE]"},
		{"mi móvil es 612 345 678", "mi móvil es [PHONE]"},
		{"+91 98765 43210", "[PHONE]"},
		{"+4915112345678", "[PHONE]"},
		{"0049 30 1234567", "[PHONE]"},
		{"call me at 555-0132", "call me at [PHONE]"},
		{"Tel.: +41 44 668 18 00", "Tel.: [PHONE]"},
	})
	runMaskCases(t, same(
		"on 2024-01-15 at 12:30", "15/01/2024", "01.02.2024", "2024/01/15", "12:30:45", "09:15:00.123",
		"version 2.14.0", "$1,234.56", "€1.234,56", "1 299,00 kr", "ticket 48213377", "#123456", "ORD-123456",
		"INC0012345", "+15%", "it grew by +1,234 users", "1 299 000 users", "between 2019-2024", "year 2024",
		"ZIP 94103-1234", "02134-1234", "1920x1080", "978-3-16-148410-0", "10115 Berlin", "3.14159",
		"0123 4567 8901 2345", "order 4821-3377",
	))
}

func TestCard(t *testing.T) {
	runMaskCases(t, []maskCase{
		{"card 4111 1111 1111 1111 exp 09/27", "card [CARD] exp 09/27"},
		{"4111-1111-1111-1111", "[CARD]"},
		{"4111111111111111", "[CARD]"},
		{"Amex 3782 822463 10005.", "Amex [CARD]."},
		{"378282246310005", "[CARD]"},
		{"Diners 3056 930902 5904", "Diners [CARD]"},
		{"5555555555554444", "[CARD]"},
		{"2223003122003222", "[CARD]"},
		{"6011 1111 1111 1117", "[CARD]"},
		{"Meine Karte (5105 1051 0510 5100) wurde belastet", "Meine Karte ([CARD]) wurde belastet"},
		{"カード番号4111111111111111で支払いました", "カード番号[CARD]で支払いました"},
		{"4111 1111 1111 1111 2", "[CARD] 2"},
	})
	runMaskCases(t, same(
		"4111111111111112", "4111 1111 1111 1112", "1234567812345678", "0000000000000000",
		"4444444444444444", "41111111111111111111", "ref 4111-1111-1111-1111-22", "ORD-4111111111111111",
		"x4111111111111111", "4111111111111111.50", "7111111111111114",
	))
}

func TestIBAN(t *testing.T) {
	runMaskCases(t, []maskCase{
		{"IBAN DE89 3704 0044 0532 0130 00.", "IBAN [IBAN]."},
		{"DE89370400440532013000", "[IBAN]"},
		{"GB82 WEST 1234 5698 7654 32", "[IBAN]"},
		{"GB82WEST12345698765432", "[IBAN]"},
		{"FR14 2004 1010 0505 0001 3M02 606", "[IBAN]"},
		{"Mon IBAN est FR1420041010050500013M02606, merci", "Mon IBAN est [IBAN], merci"},
		{"NL91ABNA0417164300", "[IBAN]"},
		{"CH9300762011623852957", "[IBAN]"},
		{"ES91-2100-0418-4502-0005-1332", "[IBAN]"},
		{"振込先はDE89370400440532013000です", "振込先は[IBAN]です"},
		{"I want my deposit in DE89370400440532013000 2 days from today.", "I want my deposit in [IBAN] 2 days from today."},
	})
	runMaskCases(t, same(
		"DE89370400440532013001", "DE89 3704 0044 0532 0130 01", "DE8937040044053201300", "XX89370400440532013000",
		"DE893704004405320130000", "GB82WEST1234569876543", "de89370400440532013001", "AB12 CD34",
	))
}

func TestSSN(t *testing.T) {
	runMaskCases(t, []maskCase{
		{"ssn 536-22-1234", "ssn [SSN]"},
		{"SSN: 536 22 1234.", "SSN: [SSN]."},
		{"(001-01-0001)", "([SSN])"},
	})
	runMaskCases(t, same(
		"000-12-3456", "666-12-3456", "900-12-3456", "536-00-1234", "536-22-0000", "123-45-6789",
		"078-05-1120", "111-11-1111", "536-22-12345", "536-22-1234-5", "536.22.1234", "536-22 1234",
	))
}

func TestIP(t *testing.T) {
	runMaskCases(t, []maskCase{
		{"ip 192.168.1.10:8080,", "ip [IP]:8080,"},
		{"http://10.0.0.1/login", "http://[IP]/login"},
		{"10.0.0.0/8", "[IP]/8"},
		{"10.0.0.1-10.0.0.9", "[IP]-[IP]"},
		{"Der Server 203.0.113.7 ist down.", "Der Server [IP] ist down."},
		{"fe80::1", "[IP]"},
		{"2001:db8::8a2e:370:7334", "[IP]"},
		{"2001:0db8:85a3:0000:0000:8a2e:0370:7334", "[IP]"},
		{"::1", "[IP]"},
		{"::ffff:192.0.2.1", "[IP]"},
		{"[2001:db8::1]:443", "[[IP]]:443"},
		{"gateway 2a00:2b3::8b07.", "gateway [IP]."},
		{"サーバー192.168.0.1に接続できません", "サーバー[IP]に接続できません"},
	})
	runMaskCases(t, same(
		"10.0.19041.1234", "1.2.3.4.5", "256.1.1.1", "1.2.3", "version 1.2.3.4", "v1.2.3.4", "Build 4.2.1.7",
		"12:30:45", "std::vector", "Foo::Bar", "::", "de:ad:be:ef", "00:1A:2B:3C:4D:5E", "cafe::babe",
		"1.3.6.1.4.1.311", "192.168.01.1", "a1:b2", "16:9",
	))
}

func TestSecret(t *testing.T) {
	runMaskCases(t, []maskCase{
		{"AKIAIOSFODNN7EXAMPLE", "[SECRET]"},
		{"key ASIAY34FZKBOKMUTVV7A!", "key [SECRET]!"},
		{"ghp_1234567890abcdefghijABCDEFGHIJ123456", "[SECRET]"},
		{"github_pat_11ABCDEFG0123456789abc_defghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV", "[SECRET]"},
		{"xoxb-123456789012-1234567890123-abcdefABCDEFabcdef1234", "[SECRET]"},
		{"sk_live_4eC39HqLyjWDarjtT1zdp7dc", "[SECRET]"},
		{"pk_live_51H8abcdEFGH1234", "[SECRET]"},
		{"sk-proj-abc123DEF456ghi789JKL", "[SECRET]"},
		{"sk-ant-api03-abcdefghijklmnop1234", "[SECRET]"},
		{"sk-" + strings.Repeat("a1B2", 12), "[SECRET]"},
		{"AIzaSyA-1234567890abcdefghijklmnopqrstu", "[SECRET]"},
		{"Authorization: Bearer abcDEF1234567890xyz", "Authorization: Bearer [SECRET]"},
		{"bearer 0123456789abcdef0123", "bearer [SECRET]"},
		{"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U ok", "jwt [SECRET] ok"},
		{"password=hunter2&api_key=abc123 secret: s3cr3t", "password=[SECRET]&api_key=[SECRET] secret: [SECRET]"},
		{`{"password": "p@ss w0rd", "user":"x"}`, `{"password": "[SECRET]", "user":"x"}`},
		{"export OPENAI_API_KEY=sk-abc", "export OPENAI_API_KEY=[SECRET]"},
		{"DB_PASSWORD = 'x y z';", "DB_PASSWORD = '[SECRET]';"},
		{"dbPassword: hunter2", "dbPassword: [SECRET]"},
		{"Passwort: geheim123", "Passwort: [SECRET]"},
		{"mot de passe : azerty12", "mot de passe : [SECRET]"},
		{"contraseña: hola1234", "contraseña: [SECRET]"},
		{"パスワード: abc123です", "パスワード: [SECRET]です"},
		{"postgres://admin:s3cr3tpw@db.example.com/app", "postgres://admin:[SECRET]@db.example.com/app"},
		{"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nabc=\n-----END RSA PRIVATE KEY-----\nbye", "[SECRET]\nbye"},
		{"-----BEGIN OPENSSH PRIVATE KEY-----", "[SECRET]"},
	})
	runMaskCases(t, same(
		"sk-learn", "task_id", "ghp_short", "xoxb-1", "AKIA", "AKIAIOSFODNN7EXAMPLEX", "Bearer authentication",
		"Bearer token", "max_tokens=4096", "token_count: 512", "prompt_tokens: 12", "bypass=true",
		"-----BEGIN CERTIFICATE-----", "eyJhbGciOiJIUzI1NiJ9", "if a == b", "x := 1", "password",
		"the secret is out", "AIzaShort",
	))
}

func TestLookAlikes(t *testing.T) {
	runMaskCases(t, same(
		"v1.2.3", "2.14.0", "10.0.19041.1234", "2024-01-15", "15/01/2024", "01.02.2024", "2024/01/15",
		"12:30", "12:30:45", "09:15:00.123", "2024-01-15T10:30:00Z", "2024-01-15T10:30:00.123+01:00",
		"$1,234.56", "€1.234,56", "1 299,00 kr", "12.5%", "550e8400-e29b-41d4-a716-446655440000",
		"ORD-123456", "#123456", "ticket 48213377", "INC0012345", "4111111111111112",
		"da39a3ee5e6b4b0d3255bfef95601890afd80709", "a3f9c2e", "42", "1,000,000", "1999", "75008 Paris",
		"SW1A 1AA", "1h30m", "90 min", "claude-3-5-sonnet-20241022", "gpt-4o-2024-08-06",
		"Ticket-Nr. 48213377", "PO-2024-0001", "1.3.6.1.4.1", "0x7fffffff",
	))
}

func TestMultilingual(t *testing.T) {
	runMaskCases(t, []maskCase{
		{"Bitte überweisen Sie auf DE89 3704 0044 0532 0130 00 und rufen Sie mich unter 0176 12345678 an.",
			"Bitte überweisen Sie auf [IBAN] und rufen Sie mich unter [PHONE] an."},
		{"Écrivez-moi à léa.martin@example.fr ou appelez le +33 6 12 34 56 78.",
			"Écrivez-moi à [EMAIL] ou appelez le [PHONE]."},
		{"Meu cartão 4111 1111 1111 1111 foi recusado, meu celular é (11) 91234-5678.",
			"Meu cartão [CARD] foi recusado, meu celular é [PHONE]."},
		{"サーバー10.0.0.5のパスワード: hunter2 です。", "サーバー[IP]のパスワード: [SECRET] です。"},
		{"Mi número de seguro social es 536-22-1234, ¿es seguro?", "Mi número de seguro social es [SSN], ¿es seguro?"},
	})
}

func TestIdempotentPlaceholders(t *testing.T) {
	for ty := Type(0); ty < NumTypes; ty++ {
		p := ty.Placeholder()
		for _, s := range []string{p, "a " + p + " b", p + p, "(" + p + ")", p + "@x.com", "password=" + p, "Bearer " + p, p + ":8080"} {
			if got, c := Mask(s); got != s || c.Total() != 0 {
				t.Errorf("Mask(%q) = %q, %v", s, got, c)
			}
		}
	}
}

func TestAPI(t *testing.T) {
	names := []string{"EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "SECRET"}
	for i, n := range names {
		if Type(i).String() != n || Type(i).Placeholder() != "["+n+"]" {
			t.Errorf("Type(%d) = %q %q", i, Type(i).String(), Type(i).Placeholder())
		}
	}
	if NumTypes.String() != "Type(7)" {
		t.Errorf("NumTypes.String() = %q", NumTypes.String())
	}
	var c Counts
	if c.Map() != nil || c.Total() != 0 {
		t.Error("zero Counts")
	}
	_, c1 := Mask("a@b.co and c@d.co, 10.0.0.1")
	c.Add(c1)
	c.Add(c1)
	if c.Total() != 6 || c[Email] != 4 || c[IP] != 2 {
		t.Errorf("counts %v", c)
	}
	m := c.Map()
	if len(m) != 2 || m["EMAIL"] != 4 || m["IP"] != 2 {
		t.Errorf("Map() = %v", m)
	}
	spans := Find("x a@b.co 10.0.0.1")
	if len(spans) != 2 || spans[0] != (Span{2, 8, Email}) || spans[1] != (Span{9, 17, IP}) {
		t.Errorf("Find = %v", spans)
	}
	if Find("nothing here") != nil {
		t.Error("Find on clean text should be nil")
	}
}

func TestNoAllocWhenClean(t *testing.T) {
	if n := testing.AllocsPerRun(100, func() { Mask(clean1KB) }); n != 0 {
		t.Errorf("Mask on clean text allocates %v times", n)
	}
	in := clean1KB
	out, _ := Mask(in)
	if unsafe.StringData(out) != unsafe.StringData(in) || len(out) != len(in) {
		t.Error("Mask on clean text did not return its input")
	}
	if n := testing.AllocsPerRun(100, func() { Mask(pii1KB) }); n > 1 {
		t.Errorf("Mask on text with PII allocates %v times, want 1", n)
	}
}

func TestConcurrent(t *testing.T) {
	want, _ := Mask(pii1KB)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if got, _ := Mask(pii1KB); got != want {
					t.Error("concurrent Mask differs")
					return
				}
			}
		}()
	}
	wg.Wait()
}

// TestFuzzSeeds checks the invariants on the fuzz seeds and on the corpus,
// so they hold under plain go test too.
func TestFuzzSeeds(t *testing.T) {
	for _, s := range fuzzSeeds {
		checkInvariants(t, s)
	}
	for _, ct := range generateCorpus(7, 500) {
		checkInvariants(t, ct.text)
	}
}
