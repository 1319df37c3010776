package filter

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want []Term
	}{
		{"", nil},
		{"   ", nil},
		{"refund", []Term{{Text, "refund", false}}},
		{"seg:ent", []Term{{Segment, "ent", false}}},
		{"SEGMENT:Pro", []Term{{Segment, "Pro", false}}},
		{"reason:fact model:v3 late refund", []Term{{Reason, "fact", false}, {Model, "v3", false}, {Text, "late", false}, {Text, "refund", false}}},
		{"task:qa thumb:down grade:fail locale:de set:gold", []Term{{Task, "qa", false}, {Thumb, "down", false}, {Grade, "fail", false}, {Locale, "de", false}, {Set, "gold", false}}},
		{"seg:", nil}, // typing: no condition yet
		{"10:30", []Term{{Text, "10:30", false}}},       // unknown key: bare word
		{"http://x", []Term{{Text, "http://x", false}}}, // unknown key
		{":x", []Term{{Text, ":x", false}}},             // no key
		{`model:"gpt 4" x`, []Term{{Model, "gpt 4", true}, {Text, "x", false}}},
		{`"two words"`, []Term{{Text, "two words", true}}},
		{`"unterminated quote`, []Term{{Text, "unterminated quote", true}}},
		{"sgment:pro refund", []Term{{Text, "refund", false}}}, // unknown key: see TestUnknownKeys
		{"a\tb\nc", []Term{{Text, "a", false}, {Text, "b", false}, {Text, "c", false}}},
		{"reasons:x", []Term{{Reason, "x", false}}},
	}
	for _, tt := range tests {
		got := Parse(tt.in).Terms
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestUnknownKeys(t *testing.T) {
	for _, tt := range []struct {
		in      string
		unknown []string
	}{
		{"sgment:pro refund", []string{"sgment:pro"}},
		{"Colour:red seg:ent x:y", []string{"Colour:red", "x:y"}},
		{"10:30 http://x :x seg:ent", nil},
	} {
		q := Parse(tt.in)
		if !reflect.DeepEqual(q.Unknown, tt.unknown) {
			t.Errorf("Parse(%q).Unknown = %q, want %q", tt.in, q.Unknown, tt.unknown)
		}
		if err := q.UnknownError(); (err != nil) != (tt.unknown != nil) {
			t.Errorf("%q: UnknownError %v", tt.in, err)
		}
	}
	err := Parse("sgment:pro").UnknownError()
	if err == nil || !strings.Contains(err.Error(), `unknown filter key "sgment:"`) || !strings.Contains(err.Error(), "segment:") {
		t.Errorf("error %v", err)
	}
}

func TestQueryString(t *testing.T) {
	for _, s := range []string{"seg:ent refund", `model:"gpt 4" x`, "reason:fact grade:pass", `"late refund" "x"`} {
		q := Parse(s)
		if got := Parse(q.String()); !reflect.DeepEqual(got, q) {
			t.Errorf("round trip %q: %v != %v", s, got, q)
		}
	}
}

func TestNarrows(t *testing.T) {
	tests := []struct {
		prev, next string
		want       bool
	}{
		{"", "anything", true},
		{"ref", "refu", true},
		{"ref", "refund", true},
		{"rfd", "refund", true}, // subsequence
		{"refund", "ref", false},
		{"seg", "seg:", false}, // bare word became an empty field term
		{"seg:e", "seg:ent", true},
		{"seg:ent", "seg:ent late", true},
		{"seg:ent late", "seg:ent", false},
		{"model:v3", "task:v3", false},
		{"Ref", "refund", true}, // case-insensitive
	}
	for _, tt := range tests {
		if got := Parse(tt.next).Narrows(Parse(tt.prev)); got != tt.want {
			t.Errorf("%q narrows %q = %v, want %v", tt.next, tt.prev, got, tt.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"", "seg:ent refund", `model:"gpt 4"`, "a:b:c", `"`, "x:\"", "grade:pass 1", "Ꮚ:ꮚ ſ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q := Parse(s)
		for _, term := range q.Terms {
			if term.Value == "" {
				t.Fatalf("empty term value in %q", s)
			}
			if term.Field >= numFields {
				t.Fatalf("bad field %d", term.Field)
			}
			if utf8.ValidString(s) && strings.ContainsFunc(term.Value, func(r rune) bool { return r == '"' }) {
				t.Fatalf("quote left in value %q", term.Value)
			}
		}
		// A query always narrows itself, and rendering it gives it back.
		if !q.Narrows(q) {
			t.Fatalf("%q does not narrow itself", s)
		}
		if utf8.ValidString(s) {
			if again := Parse(q.String()); len(again.Terms) != len(q.Terms) {
				t.Fatalf("round trip of %q: %v -> %q -> %v", s, q, q.String(), again)
			}
		}
	})
}
