package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// screen collects what a process in a pty prints.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Contains(s.buf.String(), sub)
}

// startTUI runs the real binary's TUI in a pty of 120x40.
func startTUI(t *testing.T, st string) (*exec.Cmd, *os.File, *screen) {
	t.Helper()
	cmd := exec.Command(loupeBin, "tui", "--store", st, "--reviewer", "crash-tester")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	sc := &screen{}
	go func() { _, _ = bytes.NewBuffer(nil).ReadFrom(teeReader{f, sc}) }()
	return cmd, f, sc
}

type teeReader struct {
	f  *os.File
	sc *screen
}

func (r teeReader) Read(p []byte) (int, error) {
	n, err := r.f.Read(p)
	r.sc.Write(p[:n])
	return n, err
}

func waitFor(t *testing.T, what string, cond func() bool, sc *screen) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			sc.mu.Lock()
			out := sc.buf.String()
			sc.mu.Unlock()
			t.Fatalf("timed out waiting for %s; the screen had %d bytes: %q", what, len(out), out[max(0, len(out)-2000):])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestKill9AfterGradeKeepsLabels grades in the real TUI, kills it with
// SIGKILL right after, and finds every label on disk after restart.
func TestKill9AfterGradeKeepsLabels(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	ingestJSON(t, genLines(t, "300", "9"), "--store", st, "-")
	cmd, f, sc := startTUI(t, st)
	defer f.Close()
	// Rows show model versions; the renderer draws only changed cells, so
	// look for a short run that is always written whole.
	waitFor(t, "the inbox rows", func() bool { return sc.contains("-2026.") }, sc)
	time.Sleep(300 * time.Millisecond)
	for _, k := range []string{"p", "f", "b"} {
		if _, err := f.Write([]byte(k)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(80 * time.Millisecond)
	}
	time.Sleep(400 * time.Millisecond) // "right after": well under a person's next action
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	// The store opens after the crash and holds the three labels.
	r := run(t, nil, "export", "labels", "--store", st)
	if r.code != 0 {
		t.Fatalf("export after kill -9: %d %s", r.code, r.stderr)
	}
	got := strings.Count(r.stdout, `"reviewer":"crash-tester"`)
	if got != 3 {
		t.Fatalf("%d labels after kill -9, want 3:\n%s", got, r.stdout)
	}
	for _, g := range []string{`"grade":"pass"`, `"grade":"fail"`, `"grade":"borderline"`} {
		if !strings.Contains(r.stdout, g) {
			t.Errorf("missing %s", g)
		}
	}
}
