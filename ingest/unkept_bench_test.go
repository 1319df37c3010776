package ingest

import (
	"bytes"
	"testing"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
)

// BenchmarkPrepareUnkept is the CPU side of an interaction edge sampling
// does not keep: decoding, the content hash, the reduction and the stub,
// as the pipeline's workers do it (Pipeline.prepare).
func BenchmarkPrepareUnkept(b *testing.B) {
	data := genJSONL(b, 10000, 1)
	lines := bytes.Split(bytes.TrimSpace(data), []byte("\n"))
	st, err := store.Open(b.TempDir(), store.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	none := func(*loop.Summary) bool { return false }
	st.SetKeep(none)
	b.SetBytes(int64(len(data)) / int64(len(lines)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		in, err := loop.DecodeEvent(lines[i%len(lines)])
		i++
		if err != nil {
			b.Fatal(err)
		}
		st.RecordOf(in, none) // a withheld consent is an error, as in prepare

	}
}
