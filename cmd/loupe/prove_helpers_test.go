package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/store"
)

// Helpers of prove_test.go.

// noLimits lifts the collector's rate limits: the tests that use it are
// about durability and load, not about rate limiting.
var noLimits = []string{"--user-rate", "1e9", "--user-burst", "1e9", "--client-rate", "1e9", "--client-burst", "1e9"}

// soak reports whether the long forms run (LOUPE_SOAK=1).
func soak() bool { return os.Getenv("LOUPE_SOAK") == "1" }

// envInt is an integer from the environment, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// nonEmptyLines splits JSONL into its non-empty lines.
func nonEmptyLines(b []byte) []string {
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

func eventIDOf(t *testing.T, line string) string {
	t.Helper()
	var e struct {
		EventID string `json:"event_id"`
	}
	if err := json.Unmarshal([]byte(line), &e); err != nil || e.EventID == "" {
		t.Fatalf("no event_id in %.120q: %v", line, err)
	}
	return e.EventID
}

// ndBatch is one NDJSON request body and the event ids in it.
type ndBatch struct {
	body string
	ids  []string
}

func makeBatches(t *testing.T, lines []string, size int) []ndBatch {
	t.Helper()
	var out []ndBatch
	for lo := 0; lo < len(lines); lo += size {
		hi := min(lo+size, len(lines))
		b := ndBatch{body: strings.Join(lines[lo:hi], "\n") + "\n"}
		for _, l := range lines[lo:hi] {
			b.ids = append(b.ids, eventIDOf(t, l))
		}
		out = append(out, b)
	}
	return out
}

// httpClient is a client with a bound on every request, for use from
// goroutines: tryPost reports errors instead of failing the test.
func httpClient(conns int) *http.Client {
	return &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns}}
}

func tryPost(c *http.Client, base, body string) (int, []byte, error) {
	req, err := http.NewRequest("POST", base+"/v1/events", strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	return resp.StatusCode, b, nil
}

// filesContaining lists the files under dir whose bytes contain needle,
// as they are or inside a compressed event body or table block
// (store.Plaintext): compression must not hide from this scan what sits
// on disk.
func filesContaining(t *testing.T, dir, needle string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(store.Plaintext(b), []byte(needle)) {
			rel, _ := filepath.Rel(dir, path)
			hits = append(hits, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// rssBytes is a process's resident set size from /proc/PID/status.
func rssBytes(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// metricValue reads one unlabelled sample from Prometheus text.
func metricValue(text, name string) (float64, bool) {
	for _, l := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(l, name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// labelRow is one line of `loupe export labels`.
type labelRow struct {
	EventID   string `json:"event_id"`
	Reviewer  string `json:"reviewer"`
	Grade     string `json:"grade"`
	Note      string `json:"note"`
	Reference string `json:"reference"`
}

func exportLabels(t *testing.T, st string) []labelRow {
	t.Helper()
	r := run(t, nil, "export", "labels", "--store", st)
	if r.code != 0 {
		t.Fatalf("export labels: %d %s", r.code, r.stderr)
	}
	var out []labelRow
	for _, l := range nonEmptyLines([]byte(r.stdout)) {
		var lb labelRow
		if err := json.Unmarshal([]byte(l), &lb); err != nil {
			t.Fatalf("label %q: %v", l, err)
		}
		out = append(out, lb)
	}
	return out
}
