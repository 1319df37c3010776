package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// input is one file (or stdin) as ingest reads it: decompressed when it is
// gzip or zstd (told by its first bytes, not its name: `loupe ingest
// events.jsonl.gz`, or a compressed stream piped in), with the count of
// bytes read from the file itself, for the progress against its size.
type input struct {
	io.Reader
	read  atomic.Int64
	close func()
}

// countingReader counts what is read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// openInput wraps r, decompressing it when it starts as gzip or zstd
// does.
func openInput(r io.Reader) (*input, error) {
	in := &input{close: func() {}}
	br := bufio.NewReaderSize(countingReader{r, &in.read}, 64<<10)
	head, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br) // reads concatenated members too, as gzip -c a b does
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		in.Reader, in.close = decompressErr{zr, "gzip"}, func() { zr.Close() }
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return nil, fmt.Errorf("zstd: %w", err)
		}
		in.Reader, in.close = decompressErr{zr, "zstd"}, zr.Close
	default:
		in.Reader = br
	}
	return in, nil
}

// decompressErr names a decompressor's read errors: a file cut short reads
// as "unexpected EOF" otherwise, which does not say that it was the
// compressed data.
type decompressErr struct {
	r    io.Reader
	kind string
}

func (d decompressErr) Read(p []byte) (int, error) {
	n, err := d.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			err = fmt.Errorf("the %s data is cut short (%w): the file is incomplete", d.kind, err)
		} else {
			err = fmt.Errorf("the %s data is corrupt: %w", d.kind, err)
		}
	}
	return n, err
}
