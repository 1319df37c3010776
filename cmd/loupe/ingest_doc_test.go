package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIngestJSONDocument: `loupe ingest` of a JSON array file, as tools
// export them (pretty-printed, one broken record with an email address in
// it), and of records indented across lines on stdin (`jq .` output).
func TestIngestJSONDocument(t *testing.T) {
	dir := t.TempDir()
	var recs []map[string]any
	for _, l := range bytes.Split(bytes.TrimSpace(genLines(t, "60", "3")), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		if c, ok := m["consent"].(map[string]any); ok && c["analytics"] == false {
			continue
		}
		recs = append(recs, m)
	}
	recs = recs[:20]
	var parts []string
	for _, m := range recs {
		b, _ := json.MarshalIndent(m, "  ", "  ")
		parts = append(parts, "  "+string(b))
	}
	// Record 7 is cut off inside a string that holds an email address.
	parts[6] = strings.Replace(parts[6], `"model_version": "`, "\"model_version\": \"mail jo@example.com\n", 1)
	file := filepath.Join(dir, "export.json")
	if err := os.WriteFile(file, []byte("[\n"+strings.Join(parts, ",\n")+"\n]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(dir, "s")
	rej := filepath.Join(dir, "rejects.jsonl")
	s, r := ingestJSON(t, nil, "--store", st, "--rejects", rej, file)
	if r.code != 3 || s.Read != 20 || s.Accepted != 19 || s.Rejected != 1 {
		t.Fatalf("exit %d, %+v: %s", r.code, s, r.stderr)
	}
	b, err := os.ReadFile(rej)
	if err != nil {
		t.Fatal(err)
	}
	var rj struct {
		Line, Element int
		Reason, Raw   string
	}
	if err := json.Unmarshal(b, &rj); err != nil {
		t.Fatalf("rejects %q: %v", b, err)
	}
	if rj.Element != 7 || rj.Reason != "invalid_json" || strings.Contains(rj.Raw, "jo@example.com") || !strings.Contains(rj.Raw, recs[6]["event_id"].(string)) {
		t.Fatalf("reject %+v", rj)
	}
	if rj.Line != strings.Count(strings.Join(parts[:6], ",\n"), "\n")+3 {
		t.Fatalf("reject at line %d", rj.Line)
	}
	// The same records again, one indented value after another on stdin:
	// all duplicates but the one that was broken.
	var values bytes.Buffer
	for _, m := range recs {
		b, _ := json.MarshalIndent(m, "", "  ")
		values.Write(append(b, '\n'))
	}
	r = run(t, values.Bytes(), "ingest", "--store", st, "-")
	if r.code != 0 || !strings.Contains(r.stdout, "read 20 records (JSON across lines): 1 accepted, 19 duplicates, 0 rejected") {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
}
