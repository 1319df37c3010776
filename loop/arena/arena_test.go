package arena

import (
	"strings"
	"testing"
)

func TestCopy(t *testing.T) {
	a := New(64)
	src := []byte("hello")
	got := a.Copy(string(src[:]))
	src[0] = 'j' // the copy does not share the caller's bytes
	if got != "hello" {
		t.Fatalf("copy %q", got)
	}
	var all []string
	for i := range 100 {
		all = append(all, a.Copy(strings.Repeat(string(rune('a'+i%26)), 1+i%7)))
	}
	for i, s := range all { // a new block never moves the earlier copies
		if want := strings.Repeat(string(rune('a'+i%26)), 1+i%7); s != want {
			t.Fatalf("copy %d: %q, want %q", i, s, want)
		}
	}
	if a.Copy("") != "" || a.Copy(strings.Repeat("x", 40)) != strings.Repeat("x", 40) {
		t.Fatal("empty or long string")
	}
}
