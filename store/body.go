package store

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Event bodies — the e (stored view) and o (original) values, masked JSON
// of 1–3 KB — are kept compressed:
//
//	0x02 · uvarint n · n bytes: an s2 block compressed with body.dict
//
// The dictionary (scripts/bodydict) is 64 KB of loupe's own generated,
// masked events: the schema's field names, common values and masking
// placeholders, which a lone 1 KB body cannot teach a compressor. It holds
// no one's data, so forgetting a user never has to touch it. s2, not
// zstd: with a dictionary zstd compressed generated bodies as well (0.28 of
// their size against s2's 0.28–0.30) but cost about seven times the CPU
// per body, each call restoring the dictionary's match tables.
//
// The length in front makes a body findable in raw bytes (see Plaintext).
// A value whose first byte is not a marker is plain JSON: stores written
// before bodies were compressed (a JSON object starts with '{') still
// read. A new dictionary would get a new marker, the old one kept to read
// what it compressed.
//
// This file is the only place bodies are encoded or decoded.
const bodyS2 = 0x02

//go:embed body.dict
var bodyDictData []byte

var bodyDict = sync.OnceValue(func() *s2.Dict {
	d := s2.MakeDict(bodyDictData, []byte(`{"event_id":"`))
	if d == nil {
		panic("store: body.dict is not a valid s2 dictionary") // built in, and tested
	}
	return d
})

// maxBody bounds what decoding one body may produce: an event line is at
// most 1 MiB (loop.MaxLineBytes), its stored form a little more.
const maxBody = 8 << 20

var errBadBody = errors.New("store: corrupt event body")

// compressBody appends the stored form of the JSON body js to dst.
func compressBody(dst, js []byte) []byte {
	// s2 wants room for the worst case (a little more than js); the
	// result is about a third of that. Compressing into a pooled scratch
	// and copying keeps the stored value's allocation to its size.
	sp := bodyScratch.Get().(*[]byte)
	if n := s2.MaxEncodedLen(len(js)); cap(*sp) < n {
		*sp = make([]byte, n)
	}
	blk := bodyDict().Encode((*sp)[:cap(*sp)], js)
	dst = slices.Grow(dst, 1+binary.MaxVarintLen32+len(blk))
	dst = binary.AppendUvarint(append(dst, bodyS2), uint64(len(blk)))
	dst = append(dst, blk...)
	if cap(*sp) <= 64<<10 { // an occasional huge body is not kept
		bodyScratch.Put(sp)
	}
	return dst
}

var bodyScratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// decompressBody returns the JSON of a stored body v, decoded into dst (reused
// when it is big enough). A plain JSON body (an older store) is returned
// as v itself, not copied: like v, it is only valid as long as v is.
func decompressBody(dst, v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != bodyS2 {
		return v, nil
	}
	n, k := binary.Uvarint(v[1:])
	if k <= 0 || n != uint64(len(v)-1-k) {
		return nil, errBadBody
	}
	blk := v[1+k:]
	if m, err := s2.DecodedLen(blk); err != nil || m > maxBody {
		return nil, errBadBody
	}
	out, err := bodyDict().Decode(dst[:0], blk)
	if err != nil {
		return nil, errBadBody
	}
	return out, nil
}

// bodyScan decodes the bodies of one scan into one reused buffer: each
// result is valid until the next call.
type bodyScan struct{ buf []byte }

func (r *bodyScan) decode(v []byte) ([]byte, error) {
	if len(v) == 0 || v[0] != bodyS2 {
		return v, nil
	}
	b, err := decompressBody(r.buf, v)
	if err == nil {
		r.buf = b
	}
	return b, err
}

// zstdMagic starts every zstd frame: Badger's compressed table blocks.
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

var blockDecoder = sync.OnceValue(func() *zstd.Decoder {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(64<<20))
	if err != nil {
		panic(err)
	}
	return d
})

// Plaintext returns b followed by the text compression hides in it: every
// event body found in b, decompressed, and every zstd frame (Badger's
// compressed table blocks) decompressed, with the bodies in those. A
// search of a store file's Plaintext for text that must never be stored
// (unmasked PII, an erased user's words) sees what a search of plain
// files used to: the privacy tests search it.
func Plaintext(b []byte) []byte {
	out := bytes.Clone(b)
	for off := 0; ; off++ {
		i := bytes.Index(b[off:], zstdMagic)
		if i < 0 {
			break
		}
		off += i
		if blk, _ := blockDecoder().DecodeAll(b[off:], nil); len(blk) > 0 {
			out = append(append(out, '\n'), blk...)
			out = appendBodies(out, blk)
		}
	}
	return appendBodies(out, b)
}

// appendBodies appends to out every stored body found in b, decoded.
func appendBodies(out, b []byte) []byte {
	for off := 0; ; off++ {
		i := bytes.IndexByte(b[off:], bodyS2)
		if i < 0 {
			return out
		}
		off += i
		n, k := binary.Uvarint(b[off+1:])
		if k <= 0 || n > uint64(len(b)-off-1-k) {
			continue
		}
		if js, err := decompressBody(nil, b[off:off+1+k+int(n)]); err == nil && len(js) > 0 && js[0] == '{' {
			out = append(append(out, '\n'), js...)
		}
	}
}
