package pii

import (
	"strings"
	"testing"
)

// clean1KB is typical feedback text without PII: prose, numbers, a date, a
// version, a price and some code.
var clean1KB = func() string {
	parts := []string{
		"The assistant answered my question about the quarterly report, but the numbers in the second table were off by about 12%. ",
		"I asked it to summarise the meeting notes from 2024-03-14 and it skipped the action items entirely. ",
		"Version 2.14.0 of the app crashes when I paste a long document; the previous build (2.13.7) was fine. ",
		"Die Antwort war leider falsch: Der Preis beträgt 1.299,00 € und nicht 999 €. Bitte korrigieren. ",
		"La réponse était trop longue et ne citait aucune source, alors que j'avais demandé trois références. ",
		"回答は丁寧でしたが、質問の意図とは少し違っていました。もう少し短くしてほしいです。 ",
		"It suggested `for i := range items { total += i.Price }` which does not compile in Go 1.21. ",
		"Overall rating: 3 out of 5. Took about 45 seconds to respond, which is too slow for a chat. ",
	}
	var b strings.Builder
	for b.Len() < 1024 {
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	return b.String()[:1024]
}()

var pii1KB = func() string {
	s := clean1KB[:700]
	return s + " Contact me at jane.doe@example.com or +1 415 555 0132; card 4111 1111 1111 1111, " +
		"IBAN DE89 3704 0044 0532 0130 00, server 10.0.0.12, token ghp_1234567890abcdefghijABCDEFGHIJ123456, password=hunter2. " +
		"SSN 536-22-1234."
}()

func BenchmarkMaskClean1KB(b *testing.B) {
	b.SetBytes(int64(len(clean1KB)))
	b.ReportAllocs()
	for b.Loop() {
		Mask(clean1KB)
	}
}

func BenchmarkMaskWithPII1KB(b *testing.B) {
	b.SetBytes(int64(len(pii1KB)))
	b.ReportAllocs()
	for b.Loop() {
		Mask(pii1KB)
	}
}

func BenchmarkMaskAdversarial1MB(b *testing.B) {
	inputs := adversarialInputs(1 << 20)
	total := 0
	for _, in := range inputs {
		total += len(in.s)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		for _, in := range inputs {
			Mask(in.s)
		}
	}
}

// folded1KB is clean1KB as a phone keyboard writes it: typographic
// apostrophes and no-break spaces, so it is scanned on its normalised view.
var folded1KB = func() string {
	s := strings.NewReplacer("'", "\u2019", ": ", "\u00a0: ").Replace(clean1KB)
	return s[:1024]
}()

func BenchmarkMaskFolded1KB(b *testing.B) {
	b.SetBytes(int64(len(folded1KB)))
	b.ReportAllocs()
	for b.Loop() {
		Mask(folded1KB)
	}
}

// ascii1KB is English prose with numbers and versions, all ASCII.
var ascii1KB = func() string {
	p := "The assistant answered my question about the quarterly report, but the numbers in the second table were off by about 12%. " +
		"Version 2.14.0 of the app crashes when I paste a long document; the previous build (2.13.7) was fine. Overall rating: 3 out of 5. "
	return strings.Repeat(p, 8)[:1024]
}()

func BenchmarkMaskASCII1KB(b *testing.B) {
	b.SetBytes(int64(len(ascii1KB)))
	b.ReportAllocs()
	for b.Loop() {
		Mask(ascii1KB)
	}
}
