package columns

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func encode(e *Encoder, ints []uint32, big []int64, ss []string) error {
	PutFixed(e, ints)
	if err := e.Strings(ss); err != nil {
		return err
	}
	PutFixed(e, big)
	e.U64(42)
	return e.Flush()
}

// Columns handed to a Sink in pieces are the bytes appended to B, and
// read back as they were written.
func TestSinkGivesTheSameBytes(t *testing.T) {
	ints := []uint32{1, 2, 3}
	big := make([]int64, 300_000) // a column larger than a chunk
	for i := range big {
		big[i] = int64(i) * -7
	}
	var ss []string
	for i := range 100_000 {
		ss = append(ss, strings.Repeat("x", i%13)+fmt.Sprint(i))
	}
	a := &Encoder{}
	if err := encode(a, ints, big, ss); err != nil {
		t.Fatal(err)
	}
	var sunk bytes.Buffer
	pieces := 0
	b := &Encoder{Sink: func(p []byte) error { pieces++; sunk.Write(p); return nil }}
	if err := encode(b, ints, big, ss); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.B, sunk.Bytes()) || pieces < 3 {
		t.Fatalf("%d bytes in %d pieces, want the %d appended", sunk.Len(), pieces, len(a.B))
	}
	d := NewDecoder(sunk.Bytes())
	gi, gs, gb := GetFixed[uint32](d), d.Strings(), GetFixed[int64](d)
	if v := d.U64(); d.Err() != nil || v != 42 || len(d.Rest()) != 0 {
		t.Fatalf("trailing value %d, %v, %d bytes left", v, d.Err(), len(d.Rest()))
	}
	if !slices.Equal(gi, ints) || !slices.Equal(gs, ss) || !slices.Equal(gb, big) {
		t.Fatal("columns read back differ")
	}
	// A failing sink: its error, and nothing more handed to it.
	calls := 0
	c := &Encoder{Sink: func(p []byte) error { calls++; return fmt.Errorf("disk full") }}
	if err := encode(c, ints, big, ss); err == nil || calls != 1 {
		t.Fatalf("failing sink: %v after %d calls", err, calls)
	}
}
