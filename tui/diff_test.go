package tui

import (
	"strings"
	"testing"
)

func TestDiffWords(t *testing.T) {
	tests := []struct {
		a, b string
		want string
	}{
		{"", "", ""},
		{"a b c", "a b c", "=a b c"},
		{"a b c", "a c", "=a|-b|=c"},
		{"a c", "a b c", "=a|+b|=c"},
		{"the cat sat", "the dog sat", "=the|-cat|+dog|=sat"},
		{"", "new text", "+new text"},
		{"old text", "", "-old text"},
		{"revenue rose 12% in Q3", "revenue rose 2% in Q3 overall", "=revenue rose|-12%|+2%|=in Q3|+overall"},
	}
	for _, tt := range tests {
		var got []string
		for _, o := range diffWords(tt.a, tt.b) {
			got = append(got, string(o.Kind)+strings.Join(o.Words, " "))
		}
		if g := strings.Join(got, "|"); g != tt.want {
			t.Errorf("diffWords(%q, %q) = %q, want %q", tt.a, tt.b, g, tt.want)
		}
	}
}

func TestDiffWordsHuge(t *testing.T) {
	a := strings.Repeat("w ", 3000)
	b := strings.Repeat("v ", 3000)
	ops := diffWords(a, b)
	if len(ops) != 2 || ops[0].Kind != '-' || ops[1].Kind != '+' {
		t.Fatalf("huge diff falls back to replace, got %d ops", len(ops))
	}
}
