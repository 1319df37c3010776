// Package arena copies many small strings into a few large blocks: a
// million ids or snippets cost a few allocations instead of a million, a
// scan over them reads memory in order, and the garbage collector has few
// objects to track. Growing never copies what is already there: a full
// block is left as it is and a new one started. Pure memory; no I/O.
package arena

import (
	"strings"
	"unsafe"
)

// Strings copies strings into blocks of a fixed size. The zero value is
// not usable: make one with New.
type Strings struct {
	block []byte
	size  int
}

// New returns an arena of blocks of size bytes.
func New(size int) Strings { return Strings{size: size} }

// Copy returns a copy of s that lives in the arena (a string longer than an
// eighth of a block gets its own allocation, so a block is never mostly
// wasted). The copy stays valid as long as any string copied with it is
// referenced.
func (a *Strings) Copy(s string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > a.size/8 {
		return strings.Clone(s)
	}
	if len(a.block)+len(s) > cap(a.block) {
		a.block = make([]byte, 0, a.size)
	}
	at := len(a.block)
	a.block = append(a.block, s...)
	return unsafe.String(&a.block[at], len(s))
}
