package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
)

const (
	// reducedLine carries personal data in its texts and in the fields a
	// stub keeps.
	reducedLine = `{"event_id":"a","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","user_id":"u1","user_segment":"pro bob@example.org","input":{"text":"write to jane@example.com please"},"output":{"text":"done, jane@example.com","latency_ms":120},"explicit_feedback":{"reason_codes":["slow"],"reason_text":"call 4111 1111 1111 1111"}}`
	// reducedCopy is reducedLine as another producer writes it.
	reducedCopy  = `{ "user_id":"u1", "model_version":"m1", "event_id":"a", "timestamp":"2026-11-01T10:00:00Z", "explicit_feedback":{"reason_text":"call 4111 1111 1111 1111","reason_codes":["slow"]}, "output":{"latency_ms":1.2e2,"text":"done, jane@example.com"}, "input":{"text":"write to jane@example.com please"}, "user_segment":"pro bob@example.org" }`
	reducedOther = `{"event_id":"a","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","user_id":"u1","user_segment":"pro bob@example.org","input":{"text":"write to jane@example.com now"},"output":{"text":"done, jane@example.com","latency_ms":120},"explicit_feedback":{"reason_codes":["slow"],"reason_text":"call 4111 1111 1111 1111"}}`
)

func keepDown(s *loop.Summary) bool { return s.Thumb == loop.ThumbDown }

// recordOf is RecordOf on a line, failing the test on an error.
func recordOf(t *testing.T, st *Store, line string, keep KeepFunc) Record {
	t.Helper()
	in, err := loop.DecodeEvent([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := st.RecordOf(in, keep)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func putOne(t *testing.T, st *Store, r Record) PutStatus {
	t.Helper()
	got, err := st.PutRecords([]Record{r})
	if err != nil {
		t.Fatal(err)
	}
	return got[0]
}

// An interaction reduced before masking is stored as a stub indexed by its
// content hash: copies of it (byte for byte, or written otherwise) are
// duplicates, other content a conflict, whatever form each copy's record
// takes, and nothing of its texts or its personal data is stored.
func TestReducedRecordStub(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	st.SetKeep(keepDown)
	r := recordOf(t, st, reducedLine, keepDown)
	if r.in == nil || r.Body != nil || !r.hasContent {
		t.Fatalf("not reduced: in %v, body %q", r.in != nil, r.Body)
	}
	if got := putOne(t, st, r); got != Aggregated {
		t.Fatalf("first copy: %v", got)
	}
	for name, c := range map[string]struct {
		line string
		want PutStatus
	}{
		"same bytes":     {reducedLine, Duplicate},
		"written anew":   {reducedCopy, Duplicate},
		"other content":  {reducedOther, Conflict},
		"masked in full": {reducedLine, Duplicate}, // keep nil below
	} {
		keep := KeepFunc(keepDown)
		if name == "masked in full" {
			keep = nil
		}
		if got := putOne(t, st, recordOf(t, st, c.line, keep)); got != c.want {
			t.Errorf("%s: %v, want %v", name, got, c.want)
		}
	}
	// Same records in one batch.
	got, err := st.PutRecords([]Record{recordOf(t, st, `{"event_id":"b","timestamp":"2026-11-01T10:00:00Z","model_version":"m1"}`, keepDown),
		recordOf(t, st, `{"model_version":"m1","event_id":"b","timestamp":"2026-11-01T10:00:00.000Z"}`, nil),
		recordOf(t, st, `{"event_id":"b","timestamp":"2026-11-01T10:00:00Z","model_version":"m2"}`, keepDown)})
	if err != nil || !slices.Equal(got, []PutStatus{Aggregated, Duplicate, Conflict}) {
		t.Fatalf("one batch: %v %v", got, err)
	}
	iv := rawValue(t, st, indexKey("a"))
	if !foldedIndex(iv) || !unkeptIndex(iv) || !bytes.Equal(indexUser(iv), mustHex(t, st.UserHash("u1"))) {
		t.Fatalf("index value %x: not a folded stub with its user", iv)
	}
	if err := st.db.View(func(txn *badger.Txn) error { _, err := getValue(txn, stubKey("a")); return err }); err != badger.ErrKeyNotFound {
		t.Fatalf("a folded stub has a z key too: %v", err)
	}
	sv := foldedStubValue(iv)
	for _, secret := range []string{"jane@", "bob@", "4111", "write to", "u1"} {
		if bytes.Contains(sv, []byte(secret)) || bytes.Contains(iv, []byte(secret)) {
			t.Errorf("%q stored in the stub %q", secret, sv)
		}
	}
	sb, err := decodeStub(sv)
	if err != nil || sb.ev.UserSegment != "pro [EMAIL]" || sb.ev.Explicit.ReasonText != "-" || *sb.ev.Output.LatencyMS != 120 {
		t.Fatalf("stub %+v %v", sb.ev, err)
	}
	// Reopened without edge sampling, the store still hashes content.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !st.needsContentHash() {
		t.Fatal("a store with stubs reopened does not hash content")
	}
	if got := putOne(t, st, recordOf(t, st, reducedCopy, nil)); got != Duplicate {
		t.Fatalf("after reopening: %v", got)
	}
}

// A reduced interaction that a signal merged into it makes kept is masked
// in full by the store and stored as the full path stores it; copies of
// it, reduced again, are duplicates of the stored event.
func TestReducedRecordKeptByItsSignal(t *testing.T) {
	for _, pending := range []bool{true, false} {
		st := openT(t)
		st.SetKeep(keepDown)
		down := signalRec(t, `{"kind":"signal","signal_id":"s1","event_id":"a","timestamp":"2026-11-01T10:01:00Z","explicit_feedback":{"thumb":"down"}}`)
		r := recordOf(t, st, reducedLine, keepDown)
		if r.in == nil {
			t.Fatal("not reduced")
		}
		var got []PutStatus
		var err error
		if pending {
			if putOne(t, st, down) != Pending {
				t.Fatal("signal not pending")
			}
			got, err = st.PutRecords([]Record{r})
		} else {
			got, err = st.PutRecords([]Record{r, down})
		}
		if err != nil || got[0] != Stored {
			t.Fatalf("pending %v: %v %v", pending, got, err)
		}
		e, err := st.Event("a")
		if err != nil {
			t.Fatal(err)
		}
		if e.Input.Text != "write to [EMAIL] please" || e.ThumbValue() != loop.ThumbDown || e.UserHash != st.UserHash("u1") {
			t.Fatalf("stored %+v", e)
		}
		if got := putOne(t, st, recordOf(t, st, reducedCopy, keepDown)); got != Duplicate {
			t.Errorf("pending %v: copy of the kept event: %v", pending, got)
		}
		if got := putOne(t, st, recordOf(t, st, reducedOther, keepDown)); got != Conflict {
			t.Errorf("pending %v: other content: %v", pending, got)
		}
	}
}

// Stubs written before content hashes (masked hash, JSON event) are still
// read, and copies reduced now are compared with them by masking in full.
func TestStubsOfBefore(t *testing.T) {
	st := openT(t)
	st.SetKeep(keepDown)
	// A stub as the store wrote it before: from a record masked in full,
	// without a content hash.
	full := prepLineAs(t, st, []byte(reducedLine), false)
	if full.hasContent {
		t.Fatal("the old path has a content hash")
	}
	if got := putOne(t, st, full); got != Aggregated {
		t.Fatalf("old stub: %v", got)
	}
	if iv := rawValue(t, st, indexKey("a")); !unkeptIndex(iv) || foldedIndex(iv) {
		t.Fatalf("index %x: not a stub of before", iv)
	}
	// Its value as the store wrote it before: the reduced event as JSON.
	sv := rawValue(t, st, stubKey("a"))
	sb, err := decodeStub(sv)
	if err != nil {
		t.Fatal(err)
	}
	old := append(slices.Clone(sv[:8]), nil...)
	old = appendString(old, string(loop.AppendJSON(nil, sb.ev)))
	old = binary.AppendUvarint(binary.AppendUvarint(old, 0), 0)
	ob, err := decodeStub(old)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := loop.AppendJSON(nil, ob.ev), loop.AppendJSON(nil, sb.ev); !bytes.Equal(a, b) {
		t.Fatalf("old form reads %s, new %s", a, b)
	}
	for _, c := range []struct {
		line string
		want PutStatus
	}{{reducedCopy, Duplicate}, {reducedOther, Conflict}} {
		if got := putOne(t, st, recordOf(t, st, c.line, keepDown)); got != c.want {
			t.Errorf("against a stub of before: %v, want %v", got, c.want)
		}
	}
}

// Every presence of every reduced field survives the binary stub.
func TestReducedCodecAllFields(t *testing.T) {
	up, x, y, z := "up", 0.0, -1.5, 1e300
	tr, fa := true, false
	bools := []*bool{nil, &tr, &fa}
	nums := []*float64{nil, &x, &y, &z}
	n := 0
	for i := range 3 * 3 * 3 * 3 * 4 * 4 {
		k := i
		pick := func(m int) int { v := k % m; k /= m; return v }
		e := &loop.Event{EventID: "e", Timestamp: t0, ModelVersion: "m", Locale: "fr-FR", UserSegment: "", TaskType: "qa"}
		esc, ab, pv, res := bools[pick(3)], bools[pick(3)], bools[pick(3)], bools[pick(3)]
		tox, lat := nums[pick(4)], nums[pick(4)]
		if esc != nil || ab != nil {
			e.Implicit = &loop.Implicit{Escalated: esc, Abandoned: ab}
		}
		if pv != nil || tox != nil {
			e.Checks = &loop.Checks{PolicyViolation: pv, Toxicity: tox}
		}
		if lat != nil {
			e.Output = &loop.Output{LatencyMS: lat, Confidence: tox}
		}
		if res != nil {
			e.Business = &loop.Business{Resolved: res}
		}
		if i%5 == 0 {
			e.Explicit = &loop.Explicit{Thumb: &up, ReasonCodes: []string{"a", ""}, ReasonText: "-"}
		} else if i%5 == 1 {
			e.Explicit = &loop.Explicit{ReasonText: "-"}
		}
		b := appendReduced(nil, e)
		back, rest, err := readReduced(b, t0)
		if err != nil || len(rest) != 0 {
			t.Fatalf("%+v: %v, %d left", e, err, len(rest))
		}
		if g, w := loop.AppendJSON(nil, back), loop.AppendJSON(nil, e); !bytes.Equal(g, w) {
			t.Fatalf("round trip\n got %s\nwant %s", g, w)
		}
		for cut := range len(b) {
			if _, rest, err := readReduced(b[:cut], t0); err == nil && len(rest) == 0 {
				t.Fatalf("%d of %d bytes read as whole", cut, len(b))
			}
		}
		n++
	}
	if n < 1000 {
		t.Fatalf("%d cases", n)
	}
}

func rawValue(t *testing.T, st *Store, key []byte) []byte {
	t.Helper()
	var v []byte
	err := st.db.View(func(txn *badger.Txn) error {
		var err error
		v, err = getValue(txn, key)
		return err
	})
	if err != nil {
		t.Fatalf("%q: %v", key, err)
	}
	return v
}

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Folded index values never read as another kind, and give back their
// stub, whatever its size, with and without a user.
func TestFoldStub(t *testing.T) {
	head := make([]byte, 40)
	for i := range head {
		head[i] = byte(i + 1)
	}
	for _, user := range []int{0, 16} {
		for n := 8; n < 80; n++ {
			sv := make([]byte, n)
			for i := range sv {
				sv[i] = byte(0x80 + i)
			}
			copy(sv, head[:8]) // a stub value starts with the index's time
			v := foldStub(head[:24+user], user, sv)
			if !foldedIndex(v) || !unkeptIndex(v) || len(v) < 43 {
				t.Fatalf("user %d, stub %d: %x not folded", user, n, v)
			}
			if got := foldedStubValue(v); !bytes.Equal(got, sv) {
				t.Fatalf("user %d, stub %d: back %x", user, n, got)
			}
			if u := indexUser(v); (user == 0) != (u == nil) || (u != nil && !bytes.Equal(u, head[24:40])) {
				t.Fatalf("user %d: indexUser %x", user, u)
			}
		}
	}
	// The other index values are not folded, even ending in the flag.
	for _, n := range []int{24, 25, 40, 41} {
		v := bytes.Repeat([]byte{foldedFlag}, n)
		v[n-3] = 16
		if foldedIndex(v) {
			t.Fatalf("a %d-byte index value reads as folded", n)
		}
	}
}

// hmacContentHash is the first content hash function, HMAC-SHA256, as the
// stores of before hold it: written out here so that a change to it, which
// would make every redelivery to those stores a conflict, fails.
func hmacContentHash(t *testing.T, st *Store, line string) []byte {
	t.Helper()
	in, err := loop.DecodeEvent([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	b := binary.AppendUvarint([]byte("content\x00"), uint64(len(in.UserID)))
	b = append(b, in.UserID...)
	m := hmac.New(sha256.New, st.secret)
	m.Write(loop.AppendCanonical(b, &in.Event))
	return m.Sum(nil)[:16]
}

// A store's folded stubs name the function of their content hashes: a new
// store's are XXH64 keyed, one of before (no name) keeps HMAC-SHA256, so
// that across an upgrade, a restart or a restore a redelivered copy is
// still a duplicate and other content still a conflict. A name this
// loupe does not know stops the open.
func TestContentHashVersions(t *testing.T) {
	check := func(t *testing.T, st *Store, what string) {
		t.Helper()
		for _, c := range []struct {
			line string
			want PutStatus
		}{{reducedCopy, Duplicate}, {reducedLine, Duplicate}, {reducedOther, Conflict}} {
			for _, keep := range []KeepFunc{keepDown, nil} {
				if got := putOne(t, st, recordOf(t, st, c.line, keep)); got != c.want {
					t.Errorf("%s: %v, want %v", what, got, c.want)
				}
			}
		}
	}
	reopen := func(t *testing.T, st *Store, dir string) *Store {
		t.Helper()
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		st, err := Open(dir, Options{Holder: "test"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	for _, legacy := range []bool{false, true} {
		name := map[bool]string{false: "new", true: "of before"}[legacy]
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := Open(dir, Options{Holder: "test"})
			if err != nil {
				t.Fatal(err)
			}
			st.contentV1.Store(legacy) // as a store of before was written
			st.SetKeep(keepDown)
			if got := putOne(t, st, recordOf(t, st, reducedLine, keepDown)); got != Aggregated {
				t.Fatalf("first copy: %v", got)
			}
			marker := rawValue(t, st, metaFoldedStubs)
			hashed := rawValue(t, st, indexKey("a"))[8:24]
			old := hmacContentHash(t, st, reducedLine)
			switch {
			case legacy && (len(marker) != 0 || !bytes.Equal(hashed, old)):
				t.Fatalf("of before: marker %q, hash %x, want none and %x", marker, hashed, old)
			case !legacy && (string(marker) != contentHashV2 || bytes.Equal(hashed, old)):
				t.Fatalf("new: marker %q, hash %x (HMAC %x)", marker, hashed, old)
			}
			check(t, st, "same process")
			st = reopen(t, st, dir)
			if st.contentV1.Load() != legacy {
				t.Fatalf("reopened: HMAC %v, want %v", st.contentV1.Load(), legacy)
			}
			check(t, st, "reopened")

			var backup bytes.Buffer
			if err := st.Backup(&backup); err != nil {
				t.Fatal(err)
			}
			rdir := t.TempDir()
			rs, err := Open(rdir, Options{Holder: "test", ForRestore: true})
			if err != nil {
				t.Fatal(err)
			}
			if err := rs.Restore(&backup); err != nil {
				t.Fatal(err)
			}
			if rs.contentV1.Load() != legacy || !rs.needsContentHash() {
				t.Fatalf("restored: HMAC %v, hashing %v", rs.contentV1.Load(), rs.needsContentHash())
			}
			check(t, rs, "restored")
			rs = reopen(t, rs, rdir)
			check(t, rs, "restored and reopened")
		})
	}
	t.Run("unknown", func(t *testing.T) {
		dir := t.TempDir()
		st, err := Open(dir, Options{Holder: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.db.Update(func(txn *badger.Txn) error { return txn.Set(metaFoldedStubs, []byte("blake9")) }); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if st, err = Open(dir, Options{Holder: "test"}); err == nil {
			st.Close()
			t.Fatal("a store of an unknown content hash opened")
		} else if !strings.Contains(err.Error(), `"blake9"`) || !strings.Contains(err.Error(), "newer loupe") {
			t.Fatalf("error does not say what: %v", err)
		}
	})
}
