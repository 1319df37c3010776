package pii

import (
	"testing"
	"unicode/utf8"
)

// TestMaybeFoldCoversFoldRune checks that the quick filter lets every
// foldable rune through.
func TestMaybeFoldCoversFoldRune(t *testing.T) {
	var buf [4]byte
	for r := rune(0x80); r <= 0x10FFFF; r++ {
		if r >= 0xD800 && r <= 0xDFFF {
			continue
		}
		if k, _ := foldRune(r); k == fKeep {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		if !foldLead[buf[0]] || !maybeFold(buf[0], buf[1]) {
			t.Errorf("U+%04X (% x) is foldable but filtered out", r, buf[:n])
		}
	}
}

// TestMayFoldTable checks the main loop's table against maybeFold.
func TestMayFoldTable(t *testing.T) {
	for c := 0xC0; c <= 0xFF; c++ {
		for d := 0x80; d <= 0xBF; d++ {
			s := string([]byte{byte(c), byte(d)})
			if want := foldLead[c] && maybeFold(byte(c), byte(d)); mayFold(s, 0) != want {
				t.Fatalf("mayFold(% x) = %v, want %v", s, !want, want)
			}
		}
	}
	if !mayFold("\u200b", 0) || !mayFold("\u00a0", 0) || mayFold("é", 0) || mayFold("日", 0) {
		t.Fatal("mayFold wrong on samples")
	}
}
