package main

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/store"
)

// Canary values: unique PII planted in every free-text field. None of them
// may appear in any file loupe writes: the store, exports, rejects.
var canaries = map[string]string{
	"email":  "canary.zq81@example.org",
	"phone":  "+1 415 555 0199",
	"card":   "4539 1488 0343 6467",
	"iban":   "DE89 3704 0044 0532 0130 00",
	"ssn":    "536-22-8471",
	"ip":     "203.0.113.77",
	"secret": "sk-proj-CanaryQ1w2E3r4T5y6U7i8O9p0AsDfGhJkL",
	// Addresses written to get past filters, URL-encoded (as in a link), as
	// an HTML character reference.
	"email (obfuscated)": "canary.obf41 (at) example (dot) org",
	"email (in a URL)":   "canary.url42%40example.org",
	"email (HTML)":       "canary.ent43&#64;example.org",
}

// needles are the byte strings searched for: each canary and, for digit
// entities, its digits alone (a leak may drop the separators).
func needles() []string {
	var out []string
	for _, v := range canaries {
		out = append(out, v)
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, v)
		if len(digits) >= 9 {
			out = append(out, digits)
		}
	}
	return append(out, "u-canary-9931") // the raw user id
}

func canaryText() string {
	var b strings.Builder
	for k, v := range canaries {
		b.WriteString(k + ": " + v + ". ")
	}
	return b.String()
}

func TestCanaryNeverReachesDisk(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "store")
	txt := strings.ReplaceAll(canaryText(), `"`, ``)
	line := func(id, extra string) string {
		return `{"event_id":"` + id + `","timestamp":"2026-11-01T00:00:00Z","model_version":"m","user_id":"u-canary-9931",` +
			`"session_id":"` + txt + `","input":{"text":"` + txt + `","context_refs":["` + txt + `"]},` +
			`"output":{"text":"` + txt + `"},"explicit_feedback":{"thumb":"down","reason_codes":["` + txt + `"],` +
			`"reason_text":"` + txt + `","user_edit":"` + txt + `"},"label":{"grade":"fail","rubric_notes":"` + txt + `"},` +
			`"automated_checks":{"detector_note":"` + txt + `"},"custom":{"nested":["` + txt + `",{"` + canaries["email"] + `":1}]}` + extra + `}`
	}
	input := strings.Join([]string{
		line("c1", ""),
		line("c2", `,"output":{"latency_ms":-1}`),                             // rejected: duplicate key
		line("c3", `,"consent":{"analytics":false}`),                          // rejected: no consent
		strings.Replace(line("c4", ""), `"m"`, `7`, 1),                        // rejected: wrong type
		`{"event_id":"c5","timestamp":"bad ` + txt + `","model_version":"m"}`, // rejected
		`not json ` + txt,
	}, "\n") + "\n"
	rej := filepath.Join(dir, "rejects.jsonl")
	s, r := ingestJSON(t, []byte(input), "--store", st, "--rejects", rej, "-")
	if s.Accepted != 1 || s.Rejected != 5 {
		t.Fatalf("ingest: %+v %s", s, r.stderr)
	}
	for _, kind := range []string{"events", "labels", "golden", "redflag"} {
		if r := run(t, nil, "export", kind, "--store", st, "--out", filepath.Join(dir, kind+".jsonl")); r.code != 0 {
			t.Fatalf("export %s: %s", kind, r.stderr)
		}
	}
	// The planted text must have been there to mask: the stored event
	// carries masked counts of every type.
	ev, _ := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	for _, typ := range []string{"EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "SECRET"} {
		if !bytes.Contains(ev, []byte(`"`+typ+`":`)) || !bytes.Contains(ev, []byte("["+typ+"]")) {
			t.Errorf("stored event has no %s placeholder or count", typ)
		}
	}
	scanForCanaries(t, dir)
}

// scanForCanaries reads every file under dir and fails on any canary: in
// the bytes as they are, in what compression hides in them (every event
// body and table block, decompressed: store.Plaintext), and in the logical
// content of every store under dir (each key and decoded value, read
// through the store). Compression alone would make a byte scan pass.
func scanForCanaries(t *testing.T, dir string) {
	t.Helper()
	files, stores := 0, 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if _, err := os.Stat(filepath.Join(path, "MANIFEST")); err == nil {
				stores++
				scanStoreContents(t, path)
			}
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		plain := store.Plaintext(b)
		for _, n := range needles() {
			if bytes.Contains(plain, []byte(n)) {
				t.Errorf("%s contains canary %q", path, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 5 || stores == 0 {
		t.Fatalf("scanned only %d files and %d stores", files, stores)
	}
}

// scanStoreContents opens the store in dir read-only and fails on any
// canary in any key or value as loupe reads it. It also checks that the
// scan saw event bodies, so that it cannot pass by seeing nothing.
func scanStoreContents(t *testing.T, dir string) {
	t.Helper()
	st, err := store.Open(dir, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("open %s to scan it: %v", dir, err)
	}
	defer st.Close()
	bodies := 0
	err = st.Contents(func(k, v []byte) error {
		if k[0] == 'e' && bytes.HasPrefix(v, []byte(`{"event_id":`)) {
			bodies++
		}
		for _, n := range needles() {
			if bytes.Contains(k, []byte(n)) || bytes.Contains(v, []byte(n)) {
				t.Errorf("store %s: key %q holds canary %q", dir, k, n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scan %s: %v", dir, err)
	}
	if bodies == 0 {
		t.Fatalf("store %s: the scan read no event body", dir)
	}
}
