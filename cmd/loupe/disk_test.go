package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// smallDisk mounts a tmpfs of the given size (CI runs as root; elsewhere the
// test needs root too, and says so instead of passing quietly).
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("the full-disk tests mount a tmpfs and need root, which CI has")
		}
		t.Skip("needs root to mount a tmpfs (CI runs it)")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Fatalf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}

// TestIngestFullDisk fills a small filesystem: ingest stops with exit 5 and
// says the disk is full and how much is needed, every event it counted as
// accepted is stored, and read-only commands still work on that store.
func TestIngestFullDisk(t *testing.T) {
	// Compressed, 60,000 events take about 35 MB: the disk must hold
	// less than that beside the store's reserve to fill part-way.
	disk := smallDisk(t, "96m")
	st := filepath.Join(disk, "store")
	in := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(in, genLines(t, "60000", "4"), 0o600); err != nil {
		t.Fatal(err)
	}

	s, r := ingestJSON(t, nil, "--store", st, in)
	if r.code != 5 {
		t.Fatalf("ingest on a full disk exited %d, want 5 (stderr %q)", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "disk full") || !strings.Contains(r.stderr, "MiB free") || !strings.Contains(r.stderr, "needs") {
		t.Fatalf("stderr does not say the disk is full and what is needed: %q", r.stderr)
	}
	t.Logf("accepted %d of 60000 before the disk filled", s.Accepted)
	if s.Accepted == 0 || s.Accepted >= 60000 {
		t.Fatalf("accepted %d of 60000: want the disk to fill part-way", s.Accepted)
	}

	ex := run(t, nil, "export", "events", "--store", st)
	if ex.code != 0 {
		t.Fatalf("export on a full disk exited %d: %s", ex.code, ex.stderr)
	}
	if n := bytes.Count([]byte(ex.stdout), []byte("\n")); n != s.Accepted {
		t.Fatalf("export has %d events, ingest acknowledged %d", n, s.Accepted)
	}
	tr := run(t, nil, "trends", "--json", "--store", st)
	if tr.code != 0 || !json.Valid([]byte(tr.stdout)) {
		t.Fatalf("trends on a full disk exited %d: %s", tr.code, tr.stderr)
	}

	// Ingest stops when its next commit would not fit beside the reserve,
	// and its close flushes the memtable (its log file goes): either can
	// leave room for smaller writes. Fill what is left, so that the disk
	// is full for what follows.
	var fs syscall.Statfs_t
	if err := syscall.Statfs(disk, &fs); err != nil {
		t.Fatal(err)
	}
	if free := int64(fs.Bavail) * int64(fs.Bsize); free > 1<<20 {
		if err := os.WriteFile(filepath.Join(disk, "ballast"), make([]byte, free-1<<20), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A second try is refused up front, with the same clear message, and
	// changes nothing.
	s2, r2 := ingestJSON(t, nil, "--store", st, in)
	if r2.code != 5 || !strings.Contains(r2.stderr, "disk full") || s2.Accepted != 0 {
		t.Fatalf("second ingest: exit %d, accepted %d, stderr %q", r2.code, s2.Accepted, r2.stderr)
	}
	g := run(t, nil, "grade", "--store", st, firstID(t, ex.stdout), "pass")
	if g.code != 5 || !strings.Contains(g.stderr, "disk full") {
		t.Fatalf("grade on a full disk: exit %d, stderr %q", g.code, g.stderr)
	}
}

func firstID(t *testing.T, jsonl string) string {
	t.Helper()
	line, _, _ := strings.Cut(jsonl, "\n")
	var e struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal([]byte(line), &e); err != nil || e.EventID == "" {
		t.Fatalf("no event id in %q", line)
	}
	return e.EventID
}

// TestServeFullDisk: on a full disk the collector answers 507 with
// Retry-After, /healthz says the disk is full, and serve keeps running.
func TestServeFullDisk(t *testing.T) {
	disk := smallDisk(t, "96m")
	st := filepath.Join(disk, "store")
	// Fill the filesystem to just under the store's reserve with a file
	// that is not the store's.
	s := startServe(t, nil, "--store", st, "--http", "127.0.0.1:0")
	var fs syscall.Statfs_t
	if err := syscall.Statfs(disk, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	if err := os.WriteFile(filepath.Join(disk, "ballast"), make([]byte, free-40<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	a := postEvents(t, s.http, serveEvent("full-1", "u1"))
	if a.code != http.StatusInsufficientStorage || a.retryAfter == "" || !strings.Contains(a.raw, "disk full") {
		t.Fatalf("post on a full disk: %d Retry-After %q %s", a.code, a.retryAfter, a.raw)
	}
	resp, err := http.Get(s.http + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "disk full") {
		t.Fatalf("healthz on a full disk: %d %s", resp.StatusCode, body)
	}
	// Room again: the same event is taken.
	os.Remove(filepath.Join(disk, "ballast"))
	if a = postEvents(t, s.http, serveEvent("full-1", "u1")); a.code != http.StatusOK || a.Accepted != 1 {
		t.Fatalf("post with room again: %d %s", a.code, a.raw)
	}
	s.stop(t)
}
