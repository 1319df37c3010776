package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
)

// A loupe backup file is a Badger backup stream framed so that a truncated
// or damaged file is refused instead of restored in part:
//
//	header   8 bytes  "LOUPEBK\x01"
//	body     the Badger backup stream (DB.Backup: little-endian uint64
//	         length + protobuf KVList, repeated)
//	trailer 32 bytes  "LOUPEEND", body length (uint64 LE), events in the
//	         backup (uint64 LE), CRC-32C of the body (uint32 LE), CRC-32C
//	         of the trailer's first 28 bytes (uint32 LE)
//
// Backups written before this framing are a bare Badger stream. They still
// restore: their first 8 bytes are a KVList length, which can never equal
// the header (it would be 10^17 bytes). Only Badger's own framing checks
// them, so a bare stream cut at a record boundary cannot be told from a
// whole one.
var (
	backupMagic   = []byte("LOUPEBK\x01")
	backupEndMark = []byte("LOUPEEND")
	castagnoli    = crc32.MakeTable(crc32.Castagnoli)
)

const backupTrailerLen = 32

// backupTrailer is what the trailer records.
type backupTrailer struct {
	bodyLen uint64
	events  uint64
	crc     uint32
}

func (t backupTrailer) bytes() []byte {
	b := make([]byte, 0, backupTrailerLen)
	b = append(b, backupEndMark...)
	b = binary.LittleEndian.AppendUint64(b, t.bodyLen)
	b = binary.LittleEndian.AppendUint64(b, t.events)
	b = binary.LittleEndian.AppendUint32(b, t.crc)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func parseTrailer(b []byte) (backupTrailer, bool) {
	if len(b) != backupTrailerLen || !bytes.Equal(b[:8], backupEndMark) ||
		binary.LittleEndian.Uint32(b[28:]) != crc32.Checksum(b[:28], castagnoli) {
		return backupTrailer{}, false
	}
	return backupTrailer{
		bodyLen: binary.LittleEndian.Uint64(b[8:]),
		events:  binary.LittleEndian.Uint64(b[16:]),
		crc:     binary.LittleEndian.Uint32(b[24:]),
	}, true
}

// bodyWriter counts and checksums the body on its way to w.
type bodyWriter struct {
	w   io.Writer
	n   uint64
	crc hash.Hash32
}

func newBodyWriter(w io.Writer) *bodyWriter {
	return &bodyWriter{w: w, crc: crc32.New(castagnoli)}
}

func (b *bodyWriter) Write(p []byte) (int, error) {
	n, err := b.w.Write(p)
	b.n += uint64(n)
	b.crc.Write(p[:n])
	return n, err
}

// bodyReader passes on all but the last backupTrailerLen bytes of r, which
// it keeps as the trailer, counting and checksumming what it passes. It
// works on a pipe: the end is found by reading, not seeking.
type bodyReader struct {
	r   io.Reader
	buf []byte // unread bytes; the last backupTrailerLen are held back
	eof bool
	n   uint64
	crc hash.Hash32
}

func newBodyReader(r io.Reader) *bodyReader {
	return &bodyReader{r: r, buf: make([]byte, 0, 256<<10), crc: crc32.New(castagnoli)}
}

func (b *bodyReader) Read(p []byte) (int, error) {
	for len(b.buf) <= backupTrailerLen && !b.eof {
		if cap(b.buf)-len(b.buf) < 64<<10 {
			nb := make([]byte, len(b.buf), 256<<10) // compact: the consumed front is lost to the slice
			copy(nb, b.buf)
			b.buf = nb
		}
		n, err := b.r.Read(b.buf[len(b.buf):cap(b.buf)])
		b.buf = b.buf[:len(b.buf)+n]
		if errors.Is(err, io.EOF) {
			b.eof = true
		} else if err != nil {
			return 0, err
		}
	}
	avail := len(b.buf) - backupTrailerLen
	if avail <= 0 {
		return 0, io.EOF
	}
	k := copy(p, b.buf[:avail])
	b.crc.Write(p[:k])
	b.n += uint64(k)
	b.buf = b.buf[k:]
	return k, nil
}

// finish reads r to its end and checks the trailer against the body read.
func (b *bodyReader) finish() (backupTrailer, error) {
	if _, err := io.Copy(io.Discard, b); err != nil {
		return backupTrailer{}, err
	}
	t, ok := parseTrailer(b.buf)
	switch {
	case !ok:
		return t, errTruncated
	case t.bodyLen != b.n:
		return t, fmt.Errorf("%w: the trailer records %d bytes, the file holds %d", errTruncated, t.bodyLen, b.n)
	case t.crc != b.crc.Sum32():
		return t, errors.New("checksum mismatch: the backup is damaged")
	}
	return t, nil
}

var errTruncated = errors.New("truncated or incomplete: its end marker is missing")
