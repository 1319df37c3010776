package main

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// crashRounds is how many kill -9s the crash tests make: a few in `make
// test`, LOUPE_CRASH_ROUNDS=20 in `make soak`.
func crashRounds() int {
	if n, err := strconv.Atoi(os.Getenv("LOUPE_CRASH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 3
}

func exportMap(t *testing.T, st string) map[string]string {
	t.Helper()
	r := run(t, nil, "export", "events", "--store", st)
	if r.code != 0 {
		t.Fatalf("export from %s: exit %d: %s", st, r.code, r.stderr)
	}
	out := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l == "" {
			continue
		}
		i := strings.Index(l, `"event_id":"`) + len(`"event_id":"`)
		// Each store has its own HMAC secret, so user hashes differ
		// between stores by design: compare everything else.
		if j := strings.Index(l, `"user_hash":"`); j >= 0 {
			k := j + len(`"user_hash":"`)
			l = l[:k] + l[k+32:]
		}
		out[l[i:i+strings.IndexByte(l[i:], '"')]] = l
	}
	return out
}

// TestKill9DuringIngest kills a large ingest at random points. After each
// kill the store opens, every event in it is whole and byte-identical to
// what an uninterrupted ingest stores, and re-running the ingest completes
// it exactly.
func TestKill9DuringIngest(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "events.jsonl")
	n := "60000"
	if os.Getenv("LOUPE_CRASH_ROUNDS") != "" {
		n = "200000"
	}
	if err := os.WriteFile(input, genLines(t, n, "11"), 0o644); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "ref")
	start := time.Now()
	if r := run(t, nil, "ingest", "--store", ref, input); r.code != 0 {
		t.Fatalf("reference ingest: %d %s", r.code, r.stderr)
	}
	took := time.Since(start)
	want := exportMap(t, ref)

	st := filepath.Join(dir, "crashed")
	rng := rand.New(rand.NewPCG(1, 2))
	prev := 0
	for round := 0; round < crashRounds(); round++ {
		cmd := exec.Command(loupeBin, "ingest", "--store", st, input)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Somewhere between opening the store and the end of the run.
		time.Sleep(time.Duration(float64(took) * (0.05 + 0.85*rng.Float64())))
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		got := exportMap(t, st)
		for id, line := range got {
			if want[id] != line {
				t.Fatalf("round %d: event %s differs from an uninterrupted ingest:\n got %s\nwant %s", round, id, line, want[id])
			}
		}
		if len(got) < prev {
			t.Fatalf("round %d: %d events, fewer than the %d before", round, len(got), prev)
		}
		t.Logf("round %d: %d of %d events stored at the kill", round, len(got), len(want))
		prev = len(got)
	}
	if r := run(t, nil, "ingest", "--store", st, input); r.code != 0 {
		t.Fatalf("re-run after crashes: %d %s", r.code, r.stderr)
	}
	got := exportMap(t, st)
	if len(got) != len(want) {
		t.Fatalf("after re-run: %d events, want %d", len(got), len(want))
	}
	for id, line := range want {
		if got[id] != line {
			t.Fatalf("after re-run: event %s differs", id)
		}
	}
}
