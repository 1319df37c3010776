package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
)

func TestBodyRoundTrip(t *testing.T) {
	bodies := [][]byte{
		[]byte(`{}`),
		[]byte(`{"event_id":"a","timestamp":"2026-11-01T00:00:00Z","model_version":"m"}`),
		[]byte(`{"event_id":"ev-1","input":{"text":"` + strings.Repeat("héllo wörld ", 500) + `"}}`),
		[]byte(`{"event_id":"big","output":{"text":"` + strings.Repeat("x", 1<<20) + `"}}`),
	}
	for _, js := range bodies {
		for _, prefix := range [][]byte{nil, []byte("kept")} {
			v := compressBody(bytes.Clone(prefix), js)
			if !bytes.HasPrefix(v, prefix) {
				t.Fatalf("compressBody lost what dst held")
			}
			v = v[len(prefix):]
			if v[0] != bodyS2 {
				t.Fatalf("no marker: %x", v[:4])
			}
			got, err := decompressBody(nil, v)
			if err != nil || !bytes.Equal(got, js) {
				t.Fatalf("round trip of %d bytes: %v (got %d bytes)", len(js), err, len(got))
			}
		}
	}
}

// A realistic body must shrink: the dictionary is what makes a 1 KB body
// compress at all.
func TestBodyCompresses(t *testing.T) {
	js := loop.AppendJSON(nil, testEvent("ev-c", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "u1"))
	v := compressBody(nil, js)
	if len(v)*2 > len(js) {
		t.Fatalf("a %d-byte body took %d bytes stored; want at most half", len(js), len(v))
	}
}

func TestBodyCorrupt(t *testing.T) {
	v := compressBody(nil, []byte(`{"event_id":"a","input":{"text":"some words to compress, some words"}}`))
	for name, bad := range map[string][]byte{
		"truncated":  v[:len(v)-3],
		"longer":     append(bytes.Clone(v), 0),
		"bad length": append([]byte{bodyS2, 0xff, 0xff, 0xff, 0xff, 0xff}, v[2:]...),
		"garbage":    {bodyS2, 3, 0xff, 0xfe, 0xfd},
	} {
		if _, err := decompressBody(nil, bad); !errors.Is(err, errBadBody) {
			t.Errorf("%s: err %v, want errBadBody", name, err)
		}
	}
}

// testEvent is a consented event with free text, as ingest stores it.
func testEvent(id string, at time.Time, user string) *loop.Event {
	yes := true
	lat := 812.0
	return &loop.Event{EventID: id, Timestamp: at, ModelVersion: "sup-2026.08", UserHash: user,
		Locale: "en-US", UserSegment: "pro", TaskType: "support",
		Input:   &loop.Input{Text: "Hi, my invoice for October is missing the VAT number. Can you reissue it? Thanks."},
		Output:  &loop.Output{Text: "Of course. I've reissued the invoice with your VAT number; download it under Billing > Invoices.", LatencyMS: &lat},
		Consent: &loop.Consent{Analytics: &yes, Training: &yes}}
}

// Stores written before bodies were compressed hold plain JSON in e and
// o: every read path still reads them, and merging a signal into such an
// event works (its original is copied as it was, the new view compressed).
func TestPlainBodiesStillRead(t *testing.T) {
	st := openT(t)
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var recs []Record
	for _, id := range []string{"old-1", "old-2"} {
		r, err := NewRecord(testEvent(id, at, ""))
		if err != nil {
			t.Fatal(err)
		}
		r.stored = r.Body // as an older loupe wrote it
		recs = append(recs, r)
	}
	if _, err := st.PutRecords(recs); err != nil {
		t.Fatal(err)
	}
	raw := func(k []byte) []byte {
		t.Helper()
		var v []byte
		if err := st.db.View(func(txn *badger.Txn) error {
			var err error
			v, err = getValue(txn, k)
			return err
		}); err != nil {
			t.Fatalf("%q: %v", k, err)
		}
		return v
	}
	if v := raw(eventKey(at, "old-1")); v[0] != '{' {
		t.Fatalf("setup: e is not plain JSON: %q", v[:8])
	}
	ev, err := st.Event("old-1")
	if err != nil || ev.Input == nil || !strings.Contains(ev.Input.Text, "VAT number") {
		t.Fatalf("Event of a plain body: %+v, %v", ev, err)
	}
	n := 0
	if err := st.Events(func(id string, body []byte) error {
		if !bytes.HasPrefix(body, []byte(`{"event_id":"`+id)) {
			t.Errorf("Events gave %q for %s", body[:20], id)
		}
		n++
		return nil
	}); err != nil || n != 2 {
		t.Fatalf("Events: %d, %v", n, err)
	}
	// A signal for old-1: its plain e becomes its original.
	sg, err := loop.DecodeSignal([]byte(`{"kind":"signal","signal_id":"sig-1","event_id":"old-1","timestamp":"2026-11-01T10:01:00Z",` +
		`"explicit_feedback":{"thumb":"down","reason_text":"wrong invoice"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if sg, err = loop.PrepareSignal(sg); err != nil {
		t.Fatal(err)
	}
	if out, err := st.PutRecords([]Record{NewSignalRecord(sg)}); err != nil || out[0] != Stored {
		t.Fatalf("signal: %v %v", out, err)
	}
	if v := raw(originalKey("old-1")); v[0] != '{' {
		t.Errorf("the original was re-encoded: %q", v[:8])
	}
	if v := raw(eventKey(at, "old-1")); v[0] != bodyS2 {
		t.Errorf("the merged view is not compressed: %q", v[:8])
	}
	orig, err := st.Original("old-1")
	if err != nil || orig.Explicit != nil || !strings.Contains(orig.Input.Text, "VAT number") {
		t.Fatalf("Original: %+v, %v", orig, err)
	}
	ev, err = st.Event("old-1")
	if err != nil || ev.Explicit == nil || ev.Explicit.ReasonText != "wrong invoice" {
		t.Fatalf("merged Event: %+v, %v", ev, err)
	}
	// The same line again is a duplicate, whatever form the stored copy has.
	r, _ := NewRecord(testEvent("old-2", at, ""))
	if out, err := st.PutRecords([]Record{r}); err != nil || out[0] != Duplicate {
		t.Fatalf("re-put of a plain-stored event: %v %v", out, err)
	}
}

// Compressed bodies hide text from a byte search of the store's files:
// Plaintext must find it again there, and Contents in the logical store.
func TestPlaintextAndContentsSeeBodies(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const canary = "quokka-canary-7731"
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	var evs []*loop.Event
	for i := range 50 {
		e := testEvent("pt-"+string(rune('a'+i%26))+string(rune('a'+i/26)), at.Add(time.Duration(i)*time.Second), "")
		e.Input.Text += " " + canary + " " + strings.Repeat("padding words ", 30)
		evs = append(evs, e)
	}
	if _, err := st.PutEvents(evs); err != nil {
		t.Fatal(err)
	}
	found := false
	if err := st.Contents(func(k, v []byte) error {
		if k[0] == prefixEvent && bytes.Contains(v, []byte(canary)) {
			found = true
		}
		return nil
	}); err != nil || !found {
		t.Fatalf("Contents: found %v, %v", found, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	hits := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Only what Plaintext decoded counts: s2 may leave a first
		// occurrence as a literal in the raw bytes.
		hits += bytes.Count(Plaintext(b), []byte(canary)) - bytes.Count(b, []byte(canary))
	}
	if hits < len(evs) {
		t.Fatalf("Plaintext decoded the canary %d times from the store's files; %d events hold it", hits, len(evs))
	}
}

func BenchmarkBody(b *testing.B) {
	js := loop.AppendJSON(nil, testEvent("ev-b", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), "f07bc1c6d63b30611e9fbbb5db76a800"))
	v := compressBody(nil, js)
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(js)))
		for b.Loop() {
			compressBody(nil, js)
		}
		b.ReportMetric(float64(len(v))/float64(len(js)), "ratio")
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(js)))
		var buf []byte
		for b.Loop() {
			buf, _ = decompressBody(buf, v)
		}
	})
}
