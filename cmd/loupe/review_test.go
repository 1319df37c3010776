package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	gossh "golang.org/x/crypto/ssh"
)

// The review issue's checks through the real binary: a TUI in a pty, two
// reviewers over real SSH sessions.

// tuiIn runs `loupe tui` as reviewer in a pty and returns a way to type.
func tuiIn(t *testing.T, st, reviewer string, args ...string) (*exec.Cmd, func(string), *screen) {
	t.Helper()
	cmd := exec.Command(loupeBin, append([]string{"tui", "--store", st, "--reviewer", reviewer}, args...)...)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close(); cmd.Process.Kill(); cmd.Wait() })
	sc := &screen{}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			sc.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	typ := func(keys string) {
		for _, k := range keys {
			f.Write([]byte(string(k)))
			time.Sleep(40 * time.Millisecond)
		}
	}
	return cmd, typ, sc
}

func waitExit(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("tui: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the TUI did not quit")
	}
}

// A note typed, q answered "keep", the TUI reopened: the note is there.
// r r on a red-flag item with checks asks, and the second r keeps it.
func TestTUIDraftKeptAndRedFlagChecksKept(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	if _, r := ingestJSON(t, []byte(events("item", "", 5)), "--store", st, "-"); r.code != 0 {
		t.Fatalf("ingest: %s", r.stderr)
	}
	if r := run(t, nil, "set", "add", "redflag", "item-2", "--must-not-contain", "way", "--max-latency-ms", "500", "--store", st); r.code != 0 {
		t.Fatalf("set add: %d %s", r.code, r.stderr)
	}
	cmd, typ, sc := tuiIn(t, st, "alice")
	waitFor(t, "the inbox", func() bool { return sc.contains("kiwi") }, sc)
	typ("/")
	typ("set:red\r")
	waitFor(t, "the red-flag item", func() bool { return sc.contains("in red-flag") }, sc)
	typ("r")
	waitFor(t, "the question", func() bool { return sc.contains("check(s)") }, sc)
	typ("r") // not y: keeps it
	waitFor(t, "kept", func() bool { return sc.contains("kept item-2") }, sc)
	typ("n")
	typ("tone is off\r")
	waitFor(t, "saved", func() bool { return sc.contains("saved") }, sc)
	typ("q")
	waitFor(t, "the quit question", func() bool { return sc.contains("ungraded draft") }, sc)
	typ("k")
	waitExit(t, cmd)

	r := run(t, nil, "set", "ls", "redflag", "--json", "--store", st)
	if r.code != 0 || !strings.Contains(r.stdout, `"must_not_contain":["way"]`) || !strings.Contains(r.stdout, `"max_latency_ms":500`) {
		t.Fatalf("red-flag checks after r r: %d %s %s", r.code, r.stdout, r.stderr)
	}

	cmd, typ, sc = tuiIn(t, st, "alice")
	waitFor(t, "the inbox", func() bool { return sc.contains("kiwi") }, sc)
	typ("/")
	typ("set:red\r")
	waitFor(t, "the red-flag item", func() bool { return sc.contains("in red-flag") }, sc)
	typ("n") // the note editor opens on the kept draft
	waitFor(t, "the note", func() bool { return sc.contains("tone is off") }, sc)
	typ("\r") // keep it as it is (a lone esc in a pty waits for its sequence)
	typ("q")
	waitFor(t, "the quit question", func() bool { return sc.contains("ungraded draft") }, sc)
	typ("k")
	waitExit(t, cmd)
}

// A red-flag case with a must-not-contain check made entirely on the Sets
// screen makes loupe gate fail on a candidate that violates it.
func TestSetsScreenRedFlagFailsGate(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	if _, r := ingestJSON(t, []byte(events("item", "", 3)), "--store", st, "-"); r.code != 0 {
		t.Fatalf("ingest: %s", r.stderr)
	}
	cmd, typ, sc := tuiIn(t, st, "alice")
	waitFor(t, "the inbox", func() bool { return sc.contains("kiwi") }, sc)
	typ("\t\t") // Sets
	waitFor(t, "the sets screen", func() bool { return sc.contains("no golden items yet") }, sc)
	typ("l") // red-flag
	typ("a")
	waitFor(t, "the form", func() bool { return sc.contains("Add to the red-flag set") }, sc)
	typ("item-1\t\t\t")
	typ("on its way")
	typ("\x13") // ctrl+s
	waitFor(t, "saved", func() bool { return sc.contains("saved") }, sc)
	typ("q")
	waitExit(t, cmd)

	rf := filepath.Join(dir, "rf.jsonl")
	if r := run(t, nil, "export", "redflag", "--out", rf, "--store", st); r.code != 0 {
		t.Fatalf("export: %s", r.stderr)
	}
	b, _ := os.ReadFile(rf)
	if !strings.Contains(string(b), `"must_not_contain":["on its way"]`) {
		t.Fatalf("exported red-flag set: %s", b)
	}
	cand := filepath.Join(dir, "cand.jsonl")
	os.WriteFile(cand, []byte(`{"event_id":"item-1","output":{"text":"it is on its way","latency_ms":100}}`+"\n"), 0o600)
	if r := run(t, nil, "gate", "--candidate", cand, "--redflag", rf); r.code != 1 {
		t.Fatalf("gate on a violating candidate: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	os.WriteFile(cand, []byte(`{"event_id":"item-1","output":{"text":"shipped","latency_ms":100}}`+"\n"), 0o600)
	if r := run(t, nil, "gate", "--candidate", cand, "--redflag", rf); r.code != 0 {
		t.Fatalf("gate on a good candidate: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

// Two reviewers over real SSH sessions on a 100-item queue with overlap
// 0.2: neither sees the other's grade before grading; 20 items end up
// graded by both, 80 by exactly one, and kappa is computed on the 20.
func TestTwoReviewersBlindWithOverlapOverSSH(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	if _, r := ingestJSON(t, []byte(events("item", "", 100)), "--store", st, "-"); r.code != 0 {
		t.Fatalf("ingest: %s", r.stderr)
	}
	cfg := filepath.Join(dir, "loupe.yaml")
	os.WriteFile(cfg, []byte("sampling:\n  rules:\n    - kind: random\n      share: 1\nreview:\n  overlap: 0.2\n"), 0o600)
	if r := run(t, nil, "sample", "--store", st, "--config", cfg); r.code != 0 || !strings.Contains(r.stdout, "100 added") {
		t.Fatalf("sample: %d %s %s", r.code, r.stdout, r.stderr)
	}
	alice, bob := sshKey(t), sshKey(t)
	line := func(k gossh.Signer, comment string) string {
		return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k.PublicKey()))) + comment + "\n"
	}
	keys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(keys, []byte(line(alice, " alice")+line(bob, " bob")), 0o600)
	s := startServe(t, nil, "--store", st, "--config", cfg, "--http", "off", "--ssh", "127.0.0.1:0", "--authorized-keys", keys)
	pem, err := os.ReadFile(filepath.Join(st, "ssh_host_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	hk, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	a, err := sshDial(s.ssh, "alice", alice, hk.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	b, err := sshDial(s.ssh, "bob", bob, hk.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	// The one who opens second may find the other's first item leased:
	// it is not counted among theirs while the lease holds.
	a.waitForAny(t, "1 / 100", "1 / 99")
	b.waitForAny(t, "1 / 100", "1 / 99")

	a.keys(t, strings.Repeat("f", 30)) // alice fails her first 30
	time.Sleep(time.Second)
	// Blind: bob's rows never show alice's fails (a grade cell in the fail
	// style), though his list holds the shared ones; alice's do.
	b.keys(t, "jjjjjjjjjjkkkkkkkkkk")
	time.Sleep(500 * time.Millisecond)
	failCell := "\x1b[38;5;203;1mfail"
	if !strings.Contains(a.out.String(), failCell) {
		t.Fatal("alice's own fails are not shown to her")
	}
	if strings.Contains(b.out.String(), failCell) {
		t.Fatal("bob sees alice's fail before grading")
	}
	b.keys(t, strings.Repeat("p", 110)) // bob passes all of his share
	b.waitFor(t, "all your items are graded")
	a.keys(t, strings.Repeat("f", 90))
	a.waitFor(t, "all your items are graded")
	a.keys(t, "q")
	b.keys(t, "q")
	a.wait(t)
	b.wait(t)
	s.stop(t)

	r := run(t, nil, "export", "labels", "--store", st)
	if r.code != 0 {
		t.Fatalf("export labels: %s", r.stderr)
	}
	by := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var lb struct {
			EventID  string `json:"event_id"`
			Reviewer string
		}
		if err := json.Unmarshal([]byte(l), &lb); err != nil {
			t.Fatal(err)
		}
		by[lb.EventID] = append(by[lb.EventID], lb.Reviewer)
	}
	both, one := 0, 0
	for _, rs := range by {
		switch len(rs) {
		case 2:
			both++
		case 1:
			one++
		}
	}
	if len(by) != 100 || both != 20 || one != 80 {
		t.Fatalf("items graded: %d, by both %d, by one %d; want 100, 20, 80", len(by), both, one)
	}
	r = run(t, nil, "agreement", "--json", "--store", st)
	var rep struct {
		Pairs []struct {
			A, B   string
			N      int
			TooFew bool `json:"too_few"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || len(rep.Pairs) != 1 || rep.Pairs[0].N != 20 || rep.Pairs[0].TooFew {
		t.Fatalf("agreement: %v %s", err, r.stdout)
	}
	t.Logf("agreement pair: %+v", rep.Pairs[0])
}
