package loop

import "testing"

func BenchmarkDecodeEvent(b *testing.B) {
	line := []byte(validLine)
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		if _, err := DecodeEvent(line); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodePrepare(b *testing.B) {
	line := []byte(validLine)
	hash := func(s string) string { return "0123456789abcdef0123456789abcdef" }
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		in, err := DecodeEvent(line)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Prepare(in, hash); err != nil {
			b.Fatal(err)
		}
	}
}
