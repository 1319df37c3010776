// Package columns writes columns of fixed-size values and of strings into
// one byte slice and reads them back as views of it: a decoded column of a
// million integers or strings is a slice header over the bytes (strings:
// one header each), not a copy, so a file read into one buffer is held
// once. Fixed-size values are written in the machine's own layout (little-
// endian only: Decode refuses another), each column 8-byte aligned, for
// caches a machine writes and reads itself, never for interchange. Pure
// memory; no I/O.
package columns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// Encoder appends columns to B, or, with Sink set, hands them to Sink in
// pieces of about a megabyte (large columns whole, without a copy), so
// that writing a file of columns does not first make all of it in memory.
type Encoder struct {
	B    []byte
	Sink func([]byte) error
	n    int64 // bytes handed to Sink
	err  error
}

// sinkChunk is how much B holds before it goes to Sink.
const sinkChunk = 1 << 20

// Err is the first error Sink returned (or a string too long to encode);
// nothing is handed to Sink after it.
func (e *Encoder) Err() error { return e.err }

// Flush hands what B holds to Sink.
func (e *Encoder) Flush() error {
	if e.Sink != nil && e.err == nil && len(e.B) > 0 {
		e.err = e.Sink(e.B)
		e.n += int64(len(e.B))
		e.B = e.B[:0]
	}
	return e.err
}

// write appends p, or hands it on.
func (e *Encoder) write(p []byte) {
	if e.Sink == nil || len(e.B)+len(p) <= sinkChunk {
		e.B = append(e.B, p...)
		return
	}
	if e.Flush() != nil {
		return
	}
	if len(p) < sinkChunk {
		e.B = append(e.B, p...)
		return
	}
	e.err = e.Sink(p)
	e.n += int64(len(p))
}

// U64 appends one value.
func (e *Encoder) U64(v uint64) { e.write(binary.LittleEndian.AppendUint64(make([]byte, 0, 8), v)) }

var zeros [8]byte

func (e *Encoder) pad() {
	if r := (e.n + int64(len(e.B))) % 8; r != 0 {
		e.write(zeros[:8-r])
	}
}

// PutFixed appends a column of fixed-size values (no pointers in T), as their
// bytes in memory: its length, then the values, padded to 8 bytes.
func PutFixed[T any](e *Encoder, s []T) {
	e.U64(uint64(len(s)))
	if len(s) > 0 {
		var z T
		e.write(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(z))))
	}
	e.pad()
}

// Strings appends a column of strings: their count, their lengths (uint32),
// then their bytes one after another, padded to 8 bytes.
func (e *Encoder) Strings(ss []string) error {
	e.U64(uint64(len(ss)))
	var l [4]byte
	for _, s := range ss {
		if uint64(len(s)) > 1<<32-1 {
			e.err = fmt.Errorf("columns: a string of %d bytes", len(s))
			return e.err
		}
		binary.LittleEndian.PutUint32(l[:], uint32(len(s)))
		e.write(l[:])
	}
	e.pad()
	for _, s := range ss {
		e.write(unsafe.Slice(unsafe.StringData(s), len(s)))
	}
	e.pad()
	return e.err
}

// ErrShort is the error of a decode that ran past the end of its bytes or
// found a length that cannot be.
var ErrShort = errors.New("columns: truncated or corrupt")

// littleEndian says this machine stores integers little-endian.
var littleEndian = func() bool { x := uint16(1); return *(*byte)(unsafe.Pointer(&x)) == 1 }()

// Decoder reads columns from b, in the order they were appended. After the
// first error every read returns zero values and Err says what was wrong.
type Decoder struct {
	b   []byte
	off int
	err error
}

// NewDecoder reads b. The views it returns share b: b must not change.
func NewDecoder(b []byte) *Decoder {
	d := &Decoder{b: b}
	if !littleEndian {
		d.err = errors.New("columns: a big-endian machine cannot read these columns")
	}
	return d
}

// Err is the first error met.
func (d *Decoder) Err() error { return d.err }

// Rest is what is left after the columns read so far.
func (d *Decoder) Rest() []byte {
	if d.err != nil {
		return nil
	}
	return d.b[d.off:]
}

func (d *Decoder) fail() {
	if d.err == nil {
		d.err = ErrShort
	}
}

// U64 reads one value.
func (d *Decoder) U64() uint64 {
	if d.err != nil || len(d.b)-d.off < 8 {
		d.fail()
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.off:])
	d.off += 8
	return v
}

// count reads a length of items of size bytes each that must fit in what
// is left.
func (d *Decoder) count(size int) int {
	n := d.U64()
	if d.err != nil || n > uint64(len(d.b)-d.off)/uint64(max(size, 1)) {
		d.fail()
		return 0
	}
	return int(n)
}

func (d *Decoder) skipPad() {
	d.off = min((d.off+7)&^7, len(d.b))
}

// GetFixed reads a column PutFixed appended: a view of the bytes when they are
// aligned for T, else a copy.
func GetFixed[T any](d *Decoder) []T {
	var z T
	size := int(unsafe.Sizeof(z))
	n := d.count(size)
	if d.err != nil {
		return nil
	}
	raw := d.b[d.off : d.off+n*size]
	d.off += n * size
	d.skipPad()
	if n == 0 {
		return []T{}
	}
	if uintptr(unsafe.Pointer(&raw[0]))%unsafe.Alignof(z) == 0 {
		return unsafe.Slice((*T)(unsafe.Pointer(&raw[0])), n)
	}
	out := make([]T, n)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), n*size), raw)
	return out
}

// Strings reads a column Strings appended, each string a view of the
// bytes.
func (d *Decoder) Strings() []string {
	n := d.count(4)
	if d.err != nil {
		return nil
	}
	lens := d.b[d.off : d.off+4*n]
	d.off += 4 * n
	d.skipPad()
	out := make([]string, n)
	at := d.off
	for i := range out {
		l := int(binary.LittleEndian.Uint32(lens[4*i:]))
		if l > len(d.b)-at {
			d.fail()
			return nil
		}
		if l > 0 {
			out[i] = unsafe.String(&d.b[at], l)
		}
		at += l
	}
	d.off = at
	d.skipPad()
	return out
}
