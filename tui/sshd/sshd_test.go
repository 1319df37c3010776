package sshd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
	gossh "golang.org/x/crypto/ssh"
)

// These tests run the real server on loopback with real SSH clients that
// ask for a PTY, as `ssh` does.

func newKey(t *testing.T) gossh.Signer {
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

func authorizedLine(s gossh.Signer, comment string) string {
	l := strings.TrimSpace(string(gossh.MarshalAuthorizedKey(s.PublicKey())))
	if comment != "" {
		l += " " + comment
	}
	return l + "\n"
}

// seed stores n events whose text starts with "kiwi".
func seed(t *testing.T, st *store.Store, n int) []string {
	t.Helper()
	var evs []*loop.Event
	var ids []string
	for i := range n {
		id := fmt.Sprintf("ev-%02d", i)
		line := fmt.Sprintf(`{"event_id":%q,"timestamp":"2026-11-%02dT10:00:00Z","model_version":"m1",`+
			`"input":{"text":"kiwi question %d"},"output":{"text":"an answer"}}`, id, i+1, i)
		in, err := loop.DecodeEvent([]byte(line))
		if err != nil {
			t.Fatal(err)
		}
		e, err := loop.Prepare(in, st.UserHash)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
		ids = append(ids, id)
	}
	if _, err := st.PutEvents(evs); err != nil {
		t.Fatal(err)
	}
	return ids
}

// screen is what a client received, safe to read while it grows.
type screen struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *screen) count(sub string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Count(s.buf.String(), sub)
}

type client struct {
	conn *gossh.Client
	sess *gossh.Session
	in   io.WriteCloser
	out  *screen
	done chan error
}

func dial(addr, user string, key gossh.Signer, host gossh.PublicKey) (*client, error) {
	conn, err := gossh.Dial("tcp", addr, &gossh.ClientConfig{
		User:            user,
		Auth:            []gossh.AuthMethod{gossh.PublicKeys(key)},
		HostKeyCallback: gossh.FixedHostKey(host),
		Timeout:         10 * time.Second,
	})
	if err != nil {
		return nil, err
	}
	sess, err := conn.NewSession()
	if err != nil {
		conn.Close()
		return nil, err
	}
	c := &client{conn: conn, sess: sess, out: &screen{}, done: make(chan error, 1)}
	sess.Stdout = c.out
	sess.Stderr = c.out
	if c.in, err = sess.StdinPipe(); err != nil {
		conn.Close()
		return nil, err
	}
	if err := sess.RequestPty("xterm-256color", 40, 150, gossh.TerminalModes{}); err != nil {
		conn.Close()
		return nil, err
	}
	if err := sess.Shell(); err != nil {
		conn.Close()
		return nil, err
	}
	go func() { c.done <- sess.Wait() }()
	return c, nil
}

func (c *client) waitFor(t *testing.T, what string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for c.out.count(what) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %d× %q on screen after 20s; got %q", n, what, tail(c.out))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (c *client) send(t *testing.T, keys string) {
	t.Helper()
	for _, k := range keys {
		if _, err := io.WriteString(c.in, string(k)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond) // one key press at a time, like a person
	}
}

func (c *client) wait(t *testing.T) {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		t.Fatal("session did not end")
	}
	c.conn.Close()
}

func tail(s *screen) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buf.String()
	return b[max(0, len(b)-2000):]
}

type fixture struct {
	st   *store.Store
	srv  *Server
	addr string
	host gossh.PublicKey
	keys string
}

func start(t *testing.T, authorized string, opts ...func(*Options)) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "s"), store.Options{Holder: "loupe serve"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	keys := filepath.Join(dir, "authorized_keys")
	if err := os.WriteFile(keys, []byte(authorized), 0o600); err != nil {
		t.Fatal(err)
	}
	hostKey := filepath.Join(dir, "ssh_host_ed25519")
	o := Options{AuthorizedKeys: keys, HostKey: hostKey, Logf: t.Logf}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(st, o)
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(hostKey)
	if err != nil {
		t.Fatalf("host key not generated: %v", err)
	}
	hs, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		srv.Shutdown(context.Background())
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &fixture{st: st, srv: srv, addr: ln.Addr().String(), host: hs.PublicKey(), keys: keys}
}

func TestReviewersOverSSH(t *testing.T) {
	alice, bob, carol, mallory := newKey(t), newKey(t), newKey(t), newKey(t)
	f := start(t, "# reviewers\n"+authorizedLine(alice, "alice")+`environment="LOUPE_REVIEWER=bob" `+authorizedLine(bob, "")+authorizedLine(carol, "carol"))
	ids := seed(t, f.st, 6)

	// An unknown key is refused.
	if c, err := dial(f.addr, "mallory", mallory, f.host); err == nil {
		c.conn.Close()
		t.Fatal("a key not in the authorized keys got in")
	} else if !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("unknown key: %v", err)
	}

	a, err := dial(f.addr, "whoever", alice, f.host) // the comment names alice
	if err != nil {
		t.Fatal(err)
	}
	b, err := dial(f.addr, "alice", bob, f.host) // named by the key's option, whatever the user sent
	if err != nil {
		t.Fatal(err)
	}
	a.waitFor(t, "kiwi", 1)
	b.waitFor(t, "kiwi", 1)
	a.waitFor(t, "alice", 1) // the header names the reviewer
	b.waitFor(t, "bob", 1)

	// alice fails the top three; grading is blind, so bob's view does
	// not show her grades ("fail" is also in the help line, so count new
	// ones), while alice's does.
	before, mine := b.out.count("fail"), a.out.count("fail")
	a.send(t, "fff")
	a.waitFor(t, "fail", mine+1)
	time.Sleep(500 * time.Millisecond) // time for the change to reach bob
	if n := b.out.count("fail"); n != before {
		t.Fatalf("bob sees alice's grades before grading (%d new \"fail\")", n-before)
	}

	// Both grade the same items at once; both labels stay.
	var wg sync.WaitGroup
	wg.Go(func() { a.send(t, "jj") })
	wg.Go(func() { b.send(t, "bbb") })
	wg.Wait()
	a.send(t, "q")
	a.wait(t)

	// carol grades one item and her connection drops without quitting.
	c, err := dial(f.addr, "x", carol, f.host)
	if err != nil {
		t.Fatal(err)
	}
	c.waitFor(t, "kiwi", 1)
	n := c.out.count("pass")
	c.send(t, "p")
	c.waitFor(t, "pass", n+1)
	c.conn.Close()

	// bob is still connected: shutdown ends his session, his grades saved.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := f.srv.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	b.wait(t)

	got := map[string]string{}
	err = f.st.AllLabels(func(l loop.Label) error {
		got[l.Reviewer+" "+l.EventID] = string(l.Grade)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Newest first: ev-05, ev-04, ev-03 are the top three.
	want := map[string]string{
		"alice " + ids[5]: "fail", "alice " + ids[4]: "fail", "alice " + ids[3]: "fail",
		"bob " + ids[5]: "borderline", "bob " + ids[4]: "borderline", "bob " + ids[3]: "borderline",
		"carol " + ids[5]: "pass",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("labels\n got %v\nwant %v", got, want)
	}

	// After shutdown nobody gets in.
	if c, err := dial(f.addr, "alice", alice, f.host); err == nil {
		c.conn.Close()
		t.Error("connected after shutdown")
	}
}

func TestNeedsKeys(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(filepath.Join(dir, "s"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("# nobody yet\n"), 0o600)
	for _, path := range []string{"", filepath.Join(dir, "missing"), empty} {
		_, err := New(st, Options{AuthorizedKeys: path, HostKey: filepath.Join(dir, "hk")})
		if err == nil || !strings.Contains(err.Error(), "authorized keys") {
			t.Errorf("%q: %v", path, err)
		}
	}
}

func TestKeyName(t *testing.T) {
	for _, tc := range []struct {
		options []string
		comment string
		want    string
	}{
		{nil, "alice", "alice"},
		{nil, "", ""},
		{nil, "  carol  ", "carol"},
		{nil, "d\x1b[31mave", "d[31mave"},
		{nil, strings.Repeat("é", 80), strings.Repeat("é", 64)},
		{[]string{`environment="LOUPE_REVIEWER=bob"`}, "bob@laptop", "bob"},
		{[]string{`no-pty`, `Environment="LOUPE_REVIEWER=Eve Smith"`}, "", "Eve Smith"},
		{[]string{`environment="OTHER=x"`}, "", ""},
		{[]string{`environment="LOUPE_REVIEWER="`}, "fallback", "fallback"},
		{[]string{`environment="LOUPE_REVIEWER=o\"neil"`}, "", `o"neil`},
	} {
		if got := keyName(tc.options, tc.comment); got != tc.want {
			t.Errorf("keyName(%q, %q) = %q, want %q", tc.options, tc.comment, got, tc.want)
		}
	}
}

// The options loupe documents parse with x/crypto/ssh as OpenSSH writes
// them.
func TestAuthorizedKeysOptionParses(t *testing.T) {
	k := newKey(t)
	line := `environment="LOUPE_REVIEWER=alice",no-port-forwarding ` + authorizedLine(k, "")
	_, comment, options, _, err := gossh.ParseAuthorizedKey([]byte(line))
	if err != nil || keyName(options, comment) != "alice" {
		t.Fatalf("options %q comment %q err %v", options, comment, err)
	}
}

// A key without a name gets in no further than a message saying how to
// name it, whatever user name the client sends.
func TestNamelessKeyRefused(t *testing.T) {
	var logs logBuf
	nameless := newKey(t)
	f := start(t, authorizedLine(nameless, ""), func(o *Options) { o.Logf = logs.logf })
	c, err := dial(f.addr, "alice", nameless, f.host)
	if err != nil {
		t.Fatal(err)
	}
	c.wait(t)
	out := tail(c.out)
	if !strings.Contains(out, "no reviewer name") || !strings.Contains(out, `environment="LOUPE_REVIEWER=alice"`) || strings.Contains(out, "kiwi") {
		t.Errorf("nameless key: %q", out)
	}
	if !logs.contains("no reviewer name") {
		t.Errorf("refusal not logged: %s", logs.String())
	}
	n := 0
	f.st.AllLabels(func(loop.Label) error { n++; return nil })
	if n != 0 {
		t.Errorf("%d labels", n)
	}
}

// Unauthenticated connections cannot be held open: a connection that never
// finishes its handshake is closed; past MaxConns, connections are
// refused; a refused key is logged.
func TestConnectionLimits(t *testing.T) {
	var logs logBuf
	alice, mallory := newKey(t), newKey(t)
	f := start(t, authorizedLine(alice, "alice"), func(o *Options) {
		o.HandshakeTimeout = 300 * time.Millisecond
		o.MaxConns = 3
		o.Logf = logs.logf
	})

	// An idle connection that sends nothing is closed by the server.
	idle, err := net.Dial("tcp", f.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	closed := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, idle) // the server's version line, then EOF
		closed <- err
	}()
	select {
	case <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("an idle unauthenticated connection was still open after 20s")
	}

	// Fill the slots with raw connections, then one more is refused.
	f2 := start(t, authorizedLine(alice, "alice"), func(o *Options) {
		o.HandshakeTimeout = -1
		o.MaxConns = 2
		o.Logf = logs.logf
	})
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", f2.addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil { // admitted: the server says its version
			t.Fatal(err)
		}
		held = append(held, c)
	}
	if c, err := dial(f2.addr, "alice", alice, f2.host); err == nil {
		c.conn.Close()
		t.Fatal("a connection past the cap got in")
	}
	if !logs.contains("2 connections open (the limit)") {
		t.Errorf("cap refusal not logged: %s", logs.String())
	}
	// A slot freed is a slot usable.
	held[0].Close()
	var c *client
	for i := 0; ; i++ {
		if c, err = dial(f2.addr, "x", alice, f2.host); err == nil {
			break
		}
		if i > 200 {
			t.Fatalf("no slot after a connection closed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.waitFor(t, "alice", 1)
	c.send(t, "q")
	c.wait(t)

	// A key not in the file is refused and logged with its fingerprint.
	if c, err := dial(f.addr, "mallory", mallory, f.host); err == nil {
		c.conn.Close()
		t.Fatal("unknown key got in")
	}
	if !logs.contains("refused key " + gossh.FingerprintSHA256(mallory.PublicKey())) {
		t.Errorf("refused login not logged: %s", logs.String())
	}
}

type logBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *logBuf) logf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format+"\n", a...)
}

func (l *logBuf) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.b.String(), s)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
