package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestIngestCompressed: gzip (two members, as `cat a.gz b.gz` makes) and
// zstd files are read decompressed, told by their first bytes, from a file
// or stdin; a gzip file cut short stores what came before the cut and
// says that the compressed data is incomplete.
func TestIngestCompressed(t *testing.T) {
	dir := t.TempDir()
	data := genLines(t, "400", "8")
	half := bytes.IndexByte(data[len(data)/2:], '\n') + len(data)/2 + 1
	var gz bytes.Buffer
	for _, part := range [][]byte{data[:half], data[half:]} {
		w := gzip.NewWriter(&gz)
		w.Write(part)
		w.Close()
	}
	var zs bytes.Buffer
	zw, _ := zstd.NewWriter(&zs)
	zw.Write(data)
	zw.Close()
	plain, r := ingestJSON(t, data, "--store", filepath.Join(dir, "plain"), "-")
	if r.code != 0 || plain.Accepted < 380 {
		t.Fatalf("plain: exit %d %+v", r.code, plain)
	}
	gzFile := filepath.Join(dir, "events.jsonl.gz")
	os.WriteFile(gzFile, gz.Bytes(), 0o644)
	zsFile := filepath.Join(dir, "events.zst") // the name says nothing: the bytes do
	os.WriteFile(zsFile, zs.Bytes(), 0o644)
	for name, args := range map[string][]string{
		"gzip file":  {gzFile},
		"zstd file":  {zsFile},
		"gzip stdin": {"-"},
	} {
		var stdin []byte
		if args[0] == "-" {
			stdin = gz.Bytes()
		}
		s, r := ingestJSON(t, stdin, append([]string{"--store", filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))}, args...)...)
		if r.code != 0 || s.Read != plain.Read || s.Accepted != plain.Accepted || s.Rejected != plain.Rejected {
			t.Errorf("%s: exit %d %+v, want %+v: %s", name, r.code, s, plain, r.stderr)
		}
	}
	cut := filepath.Join(dir, "cut.jsonl.gz")
	os.WriteFile(cut, gz.Bytes()[:gz.Len()/3], 0o644)
	st := filepath.Join(dir, "cut")
	s, r := ingestJSON(t, nil, "--store", st, cut)
	if r.code != exitInternal || !strings.Contains(r.stderr, "gzip data is cut short") || s.Accepted == 0 || s.Accepted >= plain.Accepted {
		t.Fatalf("cut: exit %d %+v: %s", r.code, s, r.stderr)
	}
	// What came before the cut is stored: the whole file after it adds the rest.
	s2, r := ingestJSON(t, nil, "--store", st, gzFile)
	if r.code != 0 || s2.Duplicates != s.Accepted || s2.Accepted != plain.Accepted-s.Accepted {
		t.Fatalf("after the cut: exit %d %+v (cut run %+v)", r.code, s2, s)
	}
}

// A directory is not read as an empty input: ingest says so before it
// opens the store, and names a way to read its files.
func TestIngestDirectory(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	r := run(t, nil, "ingest", "--store", st, dir)
	if r.code != 2 || !strings.Contains(r.stderr, "is a directory: name its files") {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if _, err := os.Stat(st); !os.IsNotExist(err) {
		t.Fatalf("the store was created: %v", err)
	}
}
