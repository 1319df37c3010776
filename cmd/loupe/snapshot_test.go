package main

import (
	"bytes"
	"encoding/json"
	"github.com/loupe-dev/loupe/store"
	"os"
	"path/filepath"
	"testing"
)

// doctorSnapshot is doctor --json's inbox_snapshot (nil for null).
func doctorSnapshot(t *testing.T, st string) *struct{ Rows, Behind int } {
	t.Helper()
	r := run(t, nil, "doctor", "--store", st, "--json")
	if r.code != 0 && r.code != 1 {
		t.Fatalf("doctor: exit %d: %s", r.code, r.stderr)
	}
	var out struct {
		Snap *struct{ Rows, Behind int } `json:"inbox_snapshot"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("doctor --json printed %q: %v", r.stdout, err)
	}
	return out.Snap
}

// Through the binary: ingest leaves a current inbox snapshot (doctor
// reports it, with nothing written since), holding the masked snippets;
// forget --user leaves one without that user's, and a store whose
// snapshot was damaged still lists everything and gets a good one back.
func TestInboxSnapshotThroughTheBinary(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	lines := `{"event_id":"s1","timestamp":"2026-11-01T00:00:00Z","model_version":"m","user_id":"u-gone","input":{"text":"zebra words of the gone user"}}
{"event_id":"s2","timestamp":"2026-11-01T00:00:01Z","model_version":"m","user_id":"u-stays","input":{"text":"yak words of the staying user, mail me at jo@example.com"}}
{"event_id":"s3","timestamp":"2026-11-01T00:00:02Z","model_version":"m","user_id":"u-stays","input":{"text":"yak again"}}
`
	if s, r := ingestJSON(t, []byte(lines), "--store", st, "-"); s.Accepted != 3 {
		t.Fatalf("ingest: %+v %s", s, r.stderr)
	}
	path := filepath.Join(st, "inbox.snap")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no inbox snapshot after ingest: %v", err)
	}
	// Compressed: store.Plaintext decodes it, as the privacy canaries do.
	if b = store.Plaintext(b); !bytes.Contains(b, []byte("zebra words")) || bytes.Contains(b, []byte("jo@example.com")) {
		t.Fatal("the snapshot does not hold the masked snippets")
	}
	if s := doctorSnapshot(t, st); s == nil || s.Rows != 3 || s.Behind != 0 {
		t.Fatalf("doctor after ingest: %+v", s)
	}
	if r := run(t, nil, "forget", "--store", st, "--user", "u-gone", "--json"); r.code != 0 {
		t.Fatalf("forget: %d %s", r.code, r.stderr)
	}
	b, err = os.ReadFile(path)
	if b = store.Plaintext(b); err != nil || bytes.Contains(b, []byte("zebra")) || !bytes.Contains(b, []byte("yak again")) {
		t.Fatalf("after forget the snapshot holds the user's snippet, or not the others' (%v)", err)
	}
	if s := doctorSnapshot(t, st); s == nil || s.Rows != 2 {
		t.Fatalf("doctor after forget: %+v", s)
	}
	// Damaged: doctor finds it out and its close writes a good one.
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if s := doctorSnapshot(t, st); s != nil {
		t.Fatalf("doctor on a damaged snapshot: %+v", s)
	}
	if s := doctorSnapshot(t, st); s == nil || s.Rows != 2 {
		t.Fatalf("doctor after a close that followed the damage: %+v", s)
	}
}
