package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// `loupe serve` as a user runs it: the real binary on loopback ports, real
// HTTP and SSH clients, SIGTERM to stop, then other commands on the store.

type served struct {
	cmd      *exec.Cmd
	http     string // "http://127.0.0.1:PORT"
	ssh      string // "127.0.0.1:PORT"
	grpc     string // "127.0.0.1:PORT" (--otlp-grpc)
	stderr   *lockedBuf
	exited   chan struct{}
	exitCode int
}

type lockedBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var listenLine = regexp.MustCompile(`^(http|ssh|otlp-grpc): listening on (\S+)`)

// startServe runs `loupe serve args...` and waits for its listening lines.
func startServe(t testing.TB, env []string, args ...string) *served {
	t.Helper()
	cmd := exec.Command(loupeBin, append([]string{"serve"}, args...)...)
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1", "LOUPE_REVIEWER=tester", "LOUPE_TOKEN="), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &served{cmd: cmd, stderr: &lockedBuf{}, exited: make(chan struct{})}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		var ee *exec.ExitError
		if err := cmd.Wait(); errors.As(err, &ee) {
			s.exitCode = ee.ExitCode()
		} else if err != nil {
			s.exitCode = -1
		}
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			cmd.Process.Kill()
			<-s.exited
		}
	})
	timeout := time.After(20 * time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve ended before listening: %s", s.stderr)
			}
			if m := listenLine.FindStringSubmatch(l); m != nil {
				switch m[1] {
				case "http":
					s.http = "http://" + m[2]
				case "otlp-grpc":
					s.grpc = m[2]
				default:
					s.ssh = m[2]
				}
			}
			if strings.HasPrefix(l, "store: ") {
				go func() {
					for range lines {
					}
				}()
				return s
			}
		case <-timeout:
			t.Fatalf("serve printed no listening address in 20s: %s", s.stderr)
		}
	}
}

// stop sends SIGTERM and waits for a clean exit.
func (s *served) stop(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not stop within 30s of SIGTERM: %s", s.stderr)
	}
	if s.exitCode != 0 {
		t.Fatalf("serve exited %d: %s", s.exitCode, s.stderr)
	}
}

type postAnswer struct {
	code       int
	retryAfter string
	summary
	Errors []struct {
		Index  int
		Reason string
		Error  string
	}
	raw string
}

func postEvents(t *testing.T, url, body string, hdr ...string) postAnswer {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/v1/events", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := postAnswer{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After"), raw: string(b)}
	json.Unmarshal(b, &a)
	return a
}

func serveEvent(id, user string) string {
	u := ""
	if user != "" {
		u = `,"user_id":"` + user + `"`
	}
	return `{"event_id":"` + id + `","timestamp":"2026-11-20T10:00:00Z","model_version":"m1"` + u +
		`,"input":{"text":"kiwi: where is my order? mail me at jane.doe@example.com"},"output":{"text":"on its way"}}`
}

func events(prefix, user string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(serveEvent(fmt.Sprintf("%s-%d", prefix, i), user) + "\n")
	}
	return b.String()
}

func storedIDs(t *testing.T, st string) []string {
	t.Helper()
	r := run(t, nil, "export", "events", "--store", st)
	if r.code != 0 {
		t.Fatalf("export: %d %s", r.code, r.stderr)
	}
	var ids []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l == "" {
			continue
		}
		var e struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.EventID)
	}
	return sorted(ids)
}

func TestServeCollector(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	s := startServe(t, nil, "--store", st, "--http", "127.0.0.1:0")
	if s.http == "" || s.ssh != "" {
		t.Fatalf("listening: http %q ssh %q", s.http, s.ssh)
	}

	// A batch of valid, duplicate and malformed events.
	batch := serveEvent("v-1", "u1") + "\n" +
		serveEvent("v-2", "u2") + "\n" +
		serveEvent("v-1", "u1") + "\n" + // duplicate
		"\n" + // blank
		`{"event_id":"bad-1","timestamp":"yesterday","model_version":"m1"}` + "\n" +
		`{"event_id":"bad-2",` + "\n" +
		`{"event_id":"bad-3","timestamp":"2026-11-20T10:00:00Z","model_version":"m1","consent":{"analytics":false}}` + "\n" +
		serveEvent("v-3", "") + "\n"
	a := postEvents(t, s.http, batch)
	if a.code != 200 || a.Read != 8 || a.Accepted != 3 || a.Duplicates != 1 || a.Rejected != 3 || a.Blank != 1 {
		t.Fatalf("batch: %d %s", a.code, a.raw)
	}
	if a.Reasons["invalid_field"] != 1 || a.Reasons["invalid_json"] != 1 || a.Reasons["no_consent"] != 1 || len(a.Errors) != 3 {
		t.Errorf("reasons: %s", a.raw)
	}
	if strings.Contains(a.raw, "jane.doe@example.com") {
		t.Errorf("the answer repeats unmasked input: %s", a.raw)
	}
	if a = postEvents(t, s.http, serveEvent("v-2", "u2")); a.code != 200 || a.Duplicates != 1 {
		t.Fatalf("again: %d %s", a.code, a.raw)
	}
	if a = postEvents(t, s.http, "hello"); a.code != 400 {
		t.Fatalf("not JSON: %d %s", a.code, a.raw)
	}

	// One user floods: 20 get in at once, the rest wait; another user is
	// unaffected.
	a = postEvents(t, s.http, events("flood", "noisy", 30))
	if a.code != 200 || a.Accepted != 20 || a.Reasons["rate_limited"] != 10 || a.retryAfter == "" {
		t.Fatalf("flood: %d %q %s", a.code, a.retryAfter, a.raw)
	}
	a = postEvents(t, s.http, events("flood2", "noisy", 5))
	if a.code != http.StatusTooManyRequests || a.retryAfter == "" {
		t.Fatalf("flood again: %d %q %s", a.code, a.retryAfter, a.raw)
	}
	if a = postEvents(t, s.http, events("calm", "quiet", 3)); a.code != 200 || a.Accepted != 3 {
		t.Fatalf("another user: %d %s", a.code, a.raw)
	}

	// Past the 4 MiB limit: 413, and nothing of it stored.
	big := serveEvent("big-1", "u9") + "\n" + strings.Repeat(" ", 4<<20) + "\n"
	if a = postEvents(t, s.http, big); a.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("big: %d %s", a.code, a.raw)
	}

	for path, want := range map[string]string{"/healthz": "ok", "/metrics": "loupe_events_accepted_total 26"} {
		resp, err := http.Get(s.http + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("%s: %d %q", path, resp.StatusCode, b)
		}
	}

	// Other commands find the store held by serve and say where to go.
	r := run(t, []byte(serveEvent("cli-1", "u1")+"\n"), "ingest", "--store", st, "-")
	if r.code != 4 || !strings.Contains(r.stderr, "loupe serve (pid") || !strings.Contains(r.stderr, "POST /v1/events") {
		t.Errorf("ingest while serving: exit %d %q", r.code, r.stderr)
	}

	s.stop(t)
	want := []string{"calm-0", "calm-1", "calm-2", "v-1", "v-2", "v-3"}
	for i := range 20 {
		want = append(want, fmt.Sprintf("flood-%d", i))
	}
	if got, want := storedIDs(t, st), sorted(want); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("stored\n got %v\nwant %v", got, want)
	}
	if _, err := os.Stat(filepath.Join(st, "loupe.holder")); err == nil {
		t.Error("the store was not closed cleanly (holder file left)")
	}
}

func TestServeToken(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	s := startServe(t, []string{"LOUPE_TOKEN=tok-123"}, "--store", st, "--http", "127.0.0.1:0")
	if a := postEvents(t, s.http, serveEvent("t-1", "u")); a.code != 401 {
		t.Fatalf("no token: %d %s", a.code, a.raw)
	}
	if a := postEvents(t, s.http, serveEvent("t-1", "u"), "Authorization", "Bearer nope"); a.code != 401 {
		t.Fatalf("wrong token: %d", a.code)
	}
	if a := postEvents(t, s.http, serveEvent("t-2", "u"), "Authorization", "Bearer tok-123"); a.code != 200 || a.Accepted != 1 {
		t.Fatalf("token: %d %s", a.code, a.raw)
	}
	s.stop(t)
	if got := storedIDs(t, st); strings.Join(got, ",") != "t-2" {
		t.Errorf("stored %v", got)
	}
}

func TestServeUsage(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	for _, args := range [][]string{
		{"--http", "off"},
		{"--http", "", "--ssh", "127.0.0.1:0"},
		{"--http", "off", "--ssh", "127.0.0.1:0", "--authorized-keys", filepath.Join(st, "missing")},
		{"--max-body", "0"},
	} {
		r := run(t, nil, append([]string{"serve", "--store", st}, args...)...)
		if r.code != 2 {
			t.Errorf("serve %v: exit %d, %q", args, r.code, r.stderr)
		}
	}
}

// sshTerm is an SSH client session with a PTY, as `ssh` opens it.
type sshTerm struct {
	conn *gossh.Client
	in   io.WriteCloser
	out  *lockedBuf
	done chan error
}

func sshKey(t *testing.T) gossh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sshDial(addr, user string, key gossh.Signer, host gossh.PublicKey) (*sshTerm, error) {
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User: user, Auth: []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.FixedHostKey(host), Timeout: 10 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	sess, err := conn.NewSession()
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &sshTerm{conn: conn, out: &lockedBuf{}, done: make(chan error, 1)}
	sess.Stdout, sess.Stderr = c.out, c.out
	if c.in, err = sess.StdinPipe(); err == nil {
		if err = sess.RequestPty("xterm-256color", 40, 150, gossh.TerminalModes{}); err == nil {
			err = sess.Shell()
		}
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	go func() { c.done <- sess.Wait() }()
	return c, nil
}

func (c *sshTerm) waitFor(t *testing.T, what string) { t.Helper(); c.waitForAny(t, what) }

// waitForAny waits until one of whats is on screen.
func (c *sshTerm) waitForAny(t *testing.T, whats ...string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		o := c.out.String()
		for _, w := range whats {
			if strings.Contains(o, w) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("none of %q on screen after 20s: %q", whats, o[max(0, len(o)-1500):])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *sshTerm) keys(t *testing.T, keys string) {
	for _, k := range keys {
		if _, err := io.WriteString(c.in, string(k)); err != nil {
			t.Error(err)
			return
		}
		time.Sleep(30 * time.Millisecond)
	}
}

func (c *sshTerm) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Fatal("ssh session did not end")
	}
	c.conn.Close()
}

func TestServeSSH(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	if s, r := ingestJSON(t, []byte(events("item", "u1", 6)), "--store", st, "-"); r.code != 0 || s.Accepted != 6 {
		t.Fatalf("ingest: %d %+v %s", r.code, s, r.stderr)
	}
	alice, bob, mallory, nameless := sshKey(t), sshKey(t), sshKey(t), sshKey(t)
	line := func(k gossh.Signer, comment string) string {
		return strings.TrimSpace(string(gossh.MarshalAuthorizedKey(k.PublicKey()))) + comment + "\n"
	}
	keys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(keys, []byte(line(alice, " alice")+`environment="LOUPE_REVIEWER=bob" `+line(bob, "")+line(nameless, "")), 0o600)

	s := startServe(t, nil, "--store", st, "--http", "off", "--ssh", "127.0.0.1:0", "--authorized-keys", keys,
		"--ssh-handshake-timeout", "5s", "--ssh-idle-timeout", "10m", "--ssh-max-conns", "10")
	if s.ssh == "" || s.http != "" {
		t.Fatalf("listening: http %q ssh %q", s.http, s.ssh)
	}
	pem, err := os.ReadFile(filepath.Join(st, "ssh_host_ed25519"))
	if err != nil {
		t.Fatalf("host key not created in the store: %v", err)
	}
	hk, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	host := hk.PublicKey()

	if c, err := sshDial(s.ssh, "mallory", mallory, host); err == nil {
		c.conn.Close()
		t.Fatal("an unknown key got in")
	}

	a, err := sshDial(s.ssh, "someone", alice, host)
	if err != nil {
		t.Fatal(err)
	}
	b, err := sshDial(s.ssh, "alice", bob, host) // bob claims to be alice: his key names him
	if err != nil {
		t.Fatal(err)
	}
	// A key without a name is refused, with how to name it.
	if n, err := sshDial(s.ssh, "alice", nameless, host); err != nil {
		t.Fatal(err)
	} else {
		n.wait(t)
		if out := n.out.String(); !strings.Contains(out, "no reviewer name") || !strings.Contains(out, "LOUPE_REVIEWER") {
			t.Errorf("nameless key: %q", out)
		}
	}
	for i := 0; ; i++ { // the log reaches us through a pipe
		log := s.stderr.String()
		if strings.Contains(log, "refused key "+gossh.FingerprintSHA256(mallory.PublicKey())) && strings.Contains(log, "no reviewer name") {
			break
		}
		if i > 500 {
			t.Fatalf("refused logins not logged:\n%s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.waitFor(t, "kiwi")
	b.waitFor(t, "kiwi")
	// Both grade the top four at once, then quit.
	var wg sync.WaitGroup
	wg.Go(func() { a.keys(t, "pppp"); a.keys(t, "q") })
	wg.Go(func() { b.keys(t, "ffff"); b.keys(t, "q") })
	wg.Wait()
	a.wait(t)
	b.wait(t)

	// Other commands are pointed at the collector or SSH.
	r := run(t, nil, "grade", "item-0", "pass", "--store", st)
	if r.code != 4 || !strings.Contains(r.stderr, "SSH") {
		t.Errorf("grade while serving: %d %q", r.code, r.stderr)
	}
	s.stop(t)

	r = run(t, nil, "export", "labels", "--store", st)
	if r.code != 0 {
		t.Fatalf("export labels: %d %s", r.code, r.stderr)
	}
	got := map[string][]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var lb struct {
			EventID  string `json:"event_id"`
			Reviewer string
			Grade    string
		}
		if err := json.Unmarshal([]byte(l), &lb); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		got[lb.Reviewer+" "+lb.Grade] = append(got[lb.Reviewer+" "+lb.Grade], lb.EventID)
	}
	if len(got) != 2 || len(got["alice pass"]) != 4 || len(got["bob fail"]) != 4 ||
		strings.Join(sorted(got["alice pass"]), ",") != strings.Join(sorted(got["bob fail"]), ",") {
		t.Errorf("labels by reviewer and grade: %v", got)
	}
}
