// Package sshd serves loupe's TUI over SSH with wish: every session gets its
// own model over the one shared store, named after the reviewer its key
// belongs to; the models follow each other's grades through store.Watch.
//
// Only public keys listed in the authorized-keys file get in. The file is
// read on every login, so adding or removing a reviewer needs no restart.
// The reviewer's name comes from the key's line, never from the user name
// the client sends: an environment="LOUPE_REVIEWER=name" option, else the
// key's comment. A key with neither is refused with a message saying so.
//
// A connection must finish its handshake within HandshakeTimeout, is cut
// after IdleTimeout without traffic, and connections past MaxConns are
// refused, so idle or half-open connections cannot pile up.
package sshd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"charm.land/ssh"
	"charm.land/wish/v2"
	"charm.land/wish/v2/activeterm"
	bm "charm.land/wish/v2/bubbletea"
	"github.com/loupe-dev/loupe/store"
	"github.com/loupe-dev/loupe/tui"
	gossh "golang.org/x/crypto/ssh"
)

// Options configure a Server.
type Options struct {
	// AuthorizedKeys is the authorized_keys file of the reviewers allowed
	// in (OpenSSH format). A key's environment="LOUPE_REVIEWER=name"
	// option, else its comment, is the reviewer's name.
	AuthorizedKeys string
	// HostKey is the server's private key file; generated (ed25519) when
	// it does not exist.
	HostKey string
	// TUI is the template of each session's TUI options (taxonomy,
	// rubric, goal, ...); the session sets Reviewer, and the SSH
	// middleware sets the program's input, output and terminal.
	TUI tui.Options
	// Logf reports logins, refused logins and session ends; nil is quiet.
	Logf func(format string, a ...any)

	// HandshakeTimeout bounds the time from accepting a connection to the
	// end of its key exchange and authentication; IdleTimeout cuts a
	// connection without traffic in either direction; MaxConns caps the
	// connections open at once, authenticated or not. Zero means the
	// Default; a negative timeout means none.
	HandshakeTimeout time.Duration
	IdleTimeout      time.Duration
	MaxConns         int
}

// Defaults of the limits in Options.
const (
	DefaultHandshakeTimeout = 30 * time.Second
	DefaultIdleTimeout      = 30 * time.Minute
	DefaultMaxConns         = 100
)

// ReviewerEnv is the authorized-keys environment variable that names a
// key's reviewer: environment="LOUPE_REVIEWER=alice" ssh-ed25519 AAAA...
const ReviewerEnv = "LOUPE_REVIEWER"

// nameHelp says how to name a key.
const nameHelp = `name it in the authorized keys: end its line with the name (ssh-ed25519 AAAA... alice) ` +
	`or start it with environment="` + ReviewerEnv + `=alice"`

// ErrAuthorizedKeys is wrapped by New's errors about the authorized-keys
// file (missing, unreadable, no key in it): the user's input, not an I/O
// failure of the server.
var ErrAuthorizedKeys = errors.New("authorized keys")

// Server is the SSH server of `loupe serve`.
type Server struct {
	st  *store.Store
	o   Options
	srv *ssh.Server

	mu       sync.Mutex
	conns    int // open connections, for MaxConns
	closing  bool
	programs map[*tea.Program]struct{}
	sessions sync.WaitGroup
}

// New prepares a server over st. It checks the authorized-keys file (it
// must list at least one key) and creates the host key if needed.
func New(st *store.Store, o Options) (*Server, error) {
	if o.AuthorizedKeys == "" {
		return nil, fmt.Errorf("%w: no file given; only reviewers whose public key is listed get in", ErrAuthorizedKeys)
	}
	keys, err := readAuthorized(o.AuthorizedKeys)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrAuthorizedKeys, err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: %s lists no public key; add a line like 'ssh-ed25519 AAAA... alice'", ErrAuthorizedKeys, o.AuthorizedKeys)
	}
	if o.HostKey == "" {
		return nil, errors.New("no host key path")
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	o.HandshakeTimeout = orDefault(o.HandshakeTimeout, DefaultHandshakeTimeout)
	o.IdleTimeout = orDefault(o.IdleTimeout, DefaultIdleTimeout)
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	s := &Server{st: st, o: o, programs: map[*tea.Program]struct{}{}}
	s.srv, err = wish.NewServer(
		wish.WithHostKeyPath(o.HostKey),
		wish.WithPublicKeyAuth(s.authorize),
		wish.WithMiddleware(
			// Last listed runs first: a PTY is required, then the
			// session's model is built, then the program runs.
			bm.MiddlewareWithProgramHandler(s.program),
			s.session,
			activeterm.Middleware(),
		),
	)
	if err != nil {
		return nil, fmt.Errorf("ssh server: %w", err)
	}
	s.srv.HandshakeTimeout = o.HandshakeTimeout
	s.srv.IdleTimeout = o.IdleTimeout
	s.srv.ConnCallback = s.admit
	s.srv.ConnectionFailedCallback = func(c net.Conn, err error) {
		s.o.Logf("ssh: connection from %s failed before login: %v", c.RemoteAddr(), err)
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0 // the ssh server's "none"
	}
	return d
}

// admit counts connections and refuses those past MaxConns, telling the
// client why in a line before the SSH version (RFC 4253 4.2 allows it).
func (s *Server) admit(_ ssh.Context, c net.Conn) net.Conn {
	s.mu.Lock()
	if s.conns >= s.o.MaxConns {
		s.mu.Unlock()
		s.o.Logf("ssh: refused a connection from %s: %d connections open (the limit)", c.RemoteAddr(), s.o.MaxConns)
		c.SetWriteDeadline(time.Now().Add(time.Second))
		io.WriteString(c, "loupe: too many connections, try again later\r\n")
		return nil
	}
	s.conns++
	s.mu.Unlock()
	return &countedConn{Conn: c, release: func() {
		s.mu.Lock()
		s.conns--
		s.mu.Unlock()
	}}
}

// countedConn gives its slot back once, on the first Close.
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// Serve accepts SSH connections on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(l)
	if errors.Is(err, ssh.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting connections, asks every session's TUI to quit
// (each finishes its writes still in flight) and waits for the sessions to
// end, or for ctx; then it cuts the connections left and waits a moment
// more for their models to be closed. After it returns no session touches
// the store.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for p := range s.programs {
		// Quit blocks until the program's loop takes it (or it ended).
		go p.Quit()
	}
	s.mu.Unlock()
	// Stop accepting: with a context already done, the server's own
	// Shutdown closes its listeners and returns without waiting for
	// connections (an ssh client may keep one open after its session).
	stopped, cancel := context.WithCancel(context.Background())
	cancel()
	s.srv.Shutdown(stopped)

	ended := make(chan struct{})
	go func() {
		s.sessions.Wait()
		close(ended)
	}()
	var err error
	select {
	case <-ended:
	case <-ctx.Done():
		err = fmt.Errorf("ssh sessions still open at the shutdown deadline were cut: %w", ctx.Err())
	}
	s.srv.Close() // the connections left; their sessions end and save
	select {
	case <-ended:
	case <-time.After(10 * time.Second):
		return errors.New("ssh sessions did not end within 10s of being cut")
	}
	return err
}

// authorize lets in the keys of the authorized-keys file and logs the
// others.
func (s *Server) authorize(ctx ssh.Context, key ssh.PublicKey) bool {
	_, ok := s.lookup(key)
	if !ok && key != nil {
		s.o.Logf("ssh: refused key %s (user %q) from %s: not in %s",
			gossh.FingerprintSHA256(key), ctx.User(), ctx.RemoteAddr(), s.o.AuthorizedKeys)
	}
	return ok
}

// lookup finds key in the authorized-keys file and returns the name its
// line gives (see keyName), "" when none.
func (s *Server) lookup(key ssh.PublicKey) (string, bool) {
	if key == nil {
		return "", false
	}
	keys, err := readAuthorized(s.o.AuthorizedKeys)
	if err != nil {
		s.o.Logf("ssh: %v", err)
		return "", false
	}
	for _, k := range keys {
		if ssh.KeysEqual(k.key, key) {
			return k.name, true
		}
	}
	return "", false
}

type authorizedKey struct {
	key  ssh.PublicKey
	name string
}

func readAuthorized(path string) ([]authorizedKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out []authorizedKey
	for len(b) > 0 {
		k, comment, options, rest, err := gossh.ParseAuthorizedKey(b)
		if err != nil {
			break // no more valid lines (invalid ones are skipped)
		}
		out = append(out, authorizedKey{key: k, name: keyName(options, comment)})
		b = rest
	}
	return out, nil
}

// keyName is the reviewer named by an authorized-keys line: its
// environment="LOUPE_REVIEWER=name" option, else its comment; "" when
// neither names anyone. Control characters are dropped and the length
// bounded, as the name is shown on screens and stored on labels.
func keyName(options []string, comment string) string {
	name := comment
	for _, o := range options {
		k, v, ok := strings.Cut(o, "=")
		if !ok || !strings.EqualFold(k, "environment") {
			continue
		}
		v = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		v = strings.ReplaceAll(v, `\"`, `"`)
		if n, ok := strings.CutPrefix(v, ReviewerEnv+"="); ok && strings.TrimSpace(n) != "" {
			name = n
			break
		}
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	if r := []rune(name); len(r) > 64 {
		name = string(r[:64])
	}
	return strings.TrimSpace(name)
}

type ctxKey struct{ name string }

var (
	modelKey   = &ctxKey{"loupe-model"}
	programKey = &ctxKey{"loupe-program"}
)

// session builds the session's model before the program runs and, once it
// has ended (quit, dropped connection or shutdown), stops its watch and
// finishes its writes.
func (s *Server) session(next ssh.Handler) ssh.Handler {
	return func(sess ssh.Session) {
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			wish.Fatalln(sess, "loupe is shutting down")
			return
		}
		s.sessions.Add(1)
		s.mu.Unlock()
		defer s.sessions.Done()

		name, ok := s.lookup(sess.PublicKey())
		if !ok {
			// Removed from the file between login and session.
			wish.Fatalln(sess, "your key is not in the authorized keys")
			return
		}
		if name == "" {
			// Never the client's user name: anyone could send any.
			s.o.Logf("ssh: refused key %s (user %q) from %s: no reviewer name in %s",
				gossh.FingerprintSHA256(sess.PublicKey()), sess.User(), sess.RemoteAddr(), s.o.AuthorizedKeys)
			wish.Fatalln(sess, "loupe: your key has no reviewer name; ask the admin to "+nameHelp)
			return
		}
		o := s.o.TUI
		o.Reviewer = name
		o.Input, o.Output, o.ProgramOptions = nil, nil, nil
		// The model follows the other sessions' changes (store.Watch).
		ch, stop := s.st.Watch()
		m := tui.New(s.st, o)
		sess.Context().SetValue(modelKey, tui.Watching(m, ch))
		s.o.Logf("ssh: %s connected from %s", name, sess.RemoteAddr())
		start := time.Now()

		next(sess)

		if p, ok := sess.Context().Value(programKey).(*tea.Program); ok {
			s.mu.Lock()
			delete(s.programs, p)
			s.mu.Unlock()
		}
		stop()
		if err := m.Close(); err != nil {
			s.o.Logf("ssh: %s: writes not saved: %v", name, err)
		}
		s.o.Logf("ssh: %s disconnected after %s", name, time.Since(start).Round(time.Second))
	}
}

// program makes the session's Bubble Tea program, with its input, output,
// window size and colour profile from the client's PTY (bm.MakeOptions).
func (s *Server) program(sess ssh.Session) *tea.Program {
	m, _ := sess.Context().Value(modelKey).(tea.Model)
	if m == nil {
		return nil
	}
	opts := append([]tea.ProgramOption{
		// The server owns the process's signals; a session ends by its
		// own keys, its connection or Shutdown.
		tea.WithoutSignalHandler(),
	}, bm.MakeOptions(sess)...)
	p := tea.NewProgram(m, opts...)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return nil
	}
	s.programs[p] = struct{}{}
	sess.Context().SetValue(programKey, p)
	return p
}
