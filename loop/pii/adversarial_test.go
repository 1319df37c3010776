package pii

import (
	"strings"
	"testing"
)

type advInput struct {
	name string
	s    string
}

func repeatTo(unit string, n int) string {
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

// adversarialInputs returns strings of about n bytes built to defeat
// backtracking and look-back scanners.
func adversarialInputs(n int) []advInput {
	return []advInput{
		{"at", repeatTo("@", n)},
		{"dots", repeatTo("a.", n)},
		{"digits-dash", repeatTo("1-", n)},
		{"digits-space", repeatTo("1 ", n)},
		{"digits", repeatTo("1234567890", n)},
		{"digit-groups", repeatTo("4111 ", n)},
		{"dotted", repeatTo("1.", n)},
		{"at-words", repeatTo("aaaa@", n)},
		{"at-dots", "x@" + repeatTo("a.", n)},
		{"colons", repeatTo(":", n)},
		{"hex-colons", repeatTo("1:", n)},
		{"hex-dcolons", repeatTo("ab::", n)},
		{"base64", repeatTo("eyJhbGciOiJIUzI1NiJ9", n)},
		{"jwt-parts", repeatTo("eyJabcdefghijk.", n)},
		{"underscores", repeatTo("ghp_", n)},
		{"dashes", repeatTo("-", n)},
		{"pem", repeatTo("-----BEGIN RSA PRIVATE KEY-----", n)},
		{"assign", repeatTo("password=", n)},
		{"assign-colon", repeatTo("token:", n)},
		{"quote", "password='" + repeatTo("a", n)},
		{"plus", repeatTo("+1 ", n)},
		{"paren", repeatTo("(1", n)},
		{"upper", repeatTo("DE89", n)},
		{"bearer", repeatTo("Bearer ", n)},
		{"local-long", repeatTo("a", n) + "@example.com"},
		{"phone-words", repeatTo("call 12 ", n)},
		{"brackets", repeatTo("[EMAIL", n)},
		{"latin", repeatTo("ü", n)},
		{"phone-ctx-digits", "call " + repeatTo("12 ", n)},
		{"phone-ctx-groups", repeatTo("tel 12 34 ", n)},
		{"cards", repeatTo("4111 1111 1111 1111 ", n)},
		{"phones", repeatTo("+1 415 555 0132 ", n)},
		{"emails", repeatTo("a@b.co ", n)},
		{"v6", repeatTo("::1 ", n)},
		{"ibans", repeatTo("DE89 3704 0044 0532 0130 00 ", n)},
		{"hex-long", repeatTo("deadbeef", n)},
		{"jwt-long", "eyJ" + repeatTo("a", n) + ".eyJ" + repeatTo("b", n/2)},
		{"dates", repeatTo("2024-01-15 ", n)},
		{"v4-runs", repeatTo("1.2.3.4.", n)},
		{"json-keys", repeatTo(`"password":"`, n)},
		{"url-creds", repeatTo("//u:p@", n)},
		{"urls", repeatTo("http://a/", n)},
		{"hook-urls", repeatTo("https://x.io/hooks/", n)},
		{"slack-urls", repeatTo("https://hooks.slack.com/services/T0/", n)},
	}
}

// TestAdversarialLinear masks 1 MB adversarial inputs and checks, with the
// scanner's work counter, that the work stays linear in the input size.
func TestAdversarialLinear(t *testing.T) {
	n := 1 << 20
	if testing.Short() || raceEnabled {
		n = 1 << 16 // the race detector makes every byte access slow
	}
	for _, in := range adversarialInputs(n) {
		var sc scanner
		sc.s = in.s
		sc.run()
		if sc.steps > 64*len(in.s) {
			t.Errorf("%s: %d steps for %d bytes", in.name, sc.steps, len(in.s))
		}
		t.Logf("%-14s %8d bytes %9d steps (%.1f/byte) %d spans", in.name, len(in.s), sc.steps, float64(sc.steps)/float64(len(in.s)), len(sc.spans))
		// and Mask itself must finish (it shares the scanner)
		Mask(in.s)
	}
}

func TestAdversarialQuotes(t *testing.T) {
	for _, unit := range []string{`password="a" `, "password='", "token=`x` ", `"secret": "`} {
		s := repeatTo(unit, 1<<16)
		var sc scanner
		sc.s = s
		sc.run()
		if sc.steps > 64*len(s) {
			t.Errorf("%q: %d steps for %d bytes", unit, sc.steps, len(s))
		}
	}
}
