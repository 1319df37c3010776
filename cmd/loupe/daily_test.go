package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/store"
)

// hookServer is a Slack-compatible webhook on loopback that records what
// it is sent; it answers 503 to the first request, so that the retry is
// exercised.
type hookServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
	texts    []string // delivered (answered 200)
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.requests++
		var body struct{ Text string }
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil || body.Text == "" || r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("webhook got %q (%s): %v", b, r.Header.Get("Content-Type"), err)
		}
		if h.requests == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.texts = append(h.texts, body.Text)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) delivered() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.texts...)
}

func waitForLog(t *testing.T, s *served, what string, n int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for strings.Count(s.stderr.String(), what) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in serve's log: %s", what, s.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServeDailyPostsAlertsOnce runs the real `loupe serve` with the daily
// job at start and the webhook on a loopback server: every alert is posted
// once (through a failed first attempt), a restart posts nothing again, the
// URL never shows in the log, and `loupe alerts` lists them as posted.
func TestServeDailyPostsAlertsOnce(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	ingestJSON(t, genLines(t, "20000", "1"), "--store", st, "-")
	hook := newHookServer(t)
	secret := "/services/T0000/B0000/s3cr3tXYZ"
	env := []string{"LOUPE_ALERTS_WEBHOOK=" + hook.URL + secret}

	s := startServe(t, env, "--http", "127.0.0.1:0", "--daily-now", "--store", st)
	waitForLog(t, s, "daily job: sampled", 1)
	s.stop(t)
	first := hook.delivered()
	if len(first) == 0 {
		t.Fatalf("nothing posted: %s", s.stderr)
	}
	seen := map[string]bool{}
	rollback := false
	for _, text := range first {
		if seen[text] {
			t.Errorf("posted twice: %s", text)
		}
		seen[text] = true
		if strings.HasPrefix(text, "loupe: ROLL BACK sum-2026.11 to sum-2026.10") {
			rollback = true
		}
	}
	if !rollback {
		t.Errorf("the planted regression was not posted: %q", first)
	}
	log := s.stderr.String()
	if strings.Contains(log, "s3cr3t") || strings.Contains(log, hook.URL) {
		t.Errorf("the webhook URL is in the log: %s", log)
	}

	// Restart: the same alerts are raised again but not posted again.
	s = startServe(t, env, "--http", "127.0.0.1:0", "--daily-now", "--store", st)
	waitForLog(t, s, "daily job: sampled", 1)
	s.stop(t)
	if again := hook.delivered(); len(again) != len(first) {
		t.Fatalf("after a restart %d posts, want still %d: %q", len(again), len(first), again[len(first):])
	}
	if !strings.Contains(s.stderr.String(), "(0 new), 0 posted") {
		t.Errorf("second run log: %s", s.stderr)
	}

	r := run(t, nil, "alerts", "--json", "--store", st)
	var list []struct {
		ID, Status string
		PostedAt   *time.Time `json:"posted_at"`
		Alert      struct{ Action, Key, RollbackTo string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || r.code != 0 {
		t.Fatalf("alerts --json: %d %v %s %s", r.code, err, r.stdout, r.stderr)
	}
	if len(list) != len(first) {
		t.Fatalf("%d alerts listed, %d posted", len(list), len(first))
	}
	for _, a := range list {
		if a.Status != "posted" || a.PostedAt == nil {
			t.Errorf("alert %s: %s", a.ID, a.Status)
		}
	}
	if r := run(t, nil, "alerts", "ack", list[0].ID, "--store", st); r.code != 0 || !strings.Contains(r.stdout, "acknowledged "+list[0].ID+" by tester") {
		t.Errorf("ack: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "alerts", "ack", "nope", "--store", st); r.code != exitUsage || !strings.Contains(r.stderr, `no alert "nope"`) {
		t.Errorf("ack nope: %d %s", r.code, r.stderr)
	}
}

func TestWebhookErrorsAreRedacted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	w := &webhook{url: "http://" + addr + "/services/T0/B0/s3cr3t", timeout: time.Second, retries: 1, backoff: time.Millisecond, client: &http.Client{}}
	err = w.post(context.Background(), "hello")
	if err == nil {
		t.Fatal("post to a closed port succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "s3cr3t") || strings.Contains(msg, addr) || !strings.Contains(msg, "2 attempts failed") {
		t.Errorf("error %q", msg)
	}
}

func TestNextDaily(t *testing.T) {
	at := time.Date(2026, 11, 20, 5, 59, 0, 0, time.UTC)
	if got := nextDaily("06:00", at); !got.Equal(time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("before: %v", got)
	}
	if got := nextDaily("06:00", at.Add(time.Minute)); !got.Equal(time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("at: %v", got)
	}
}

func TestServeRejectsABadWebhookWithoutShowingIt(t *testing.T) {
	cmd := exec.Command(loupeBin, "serve", "--http", "127.0.0.1:0", "--store", filepath.Join(t.TempDir(), "s"))
	cmd.Env = append(os.Environ(), "LOUPE_ALERTS_WEBHOOK=ftp://hooks.example/s3cr3t")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage {
		t.Fatalf("serve with a bad webhook: %v %s", err, out)
	}
	if strings.Contains(string(out), "s3cr3t") || !strings.Contains(string(out), "LOUPE_ALERTS_WEBHOOK: want an http:// or https:// URL") {
		t.Errorf("output %q", out)
	}
}

// TestRunDailySamplesAndRaisesOnce runs the daily job in process on a
// generated store at 06:00 the day after its last day: yesterday is
// sampled into the queue, the alerts are recorded; a second run adds
// nothing.
func TestRunDailySamplesAndRaisesOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	ingestJSON(t, genLines(t, "6000", "1"), "--store", dir, "-")
	st, err := store.Open(dir, store.Options{Holder: "daily test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := appConfig{Config: config.Default()}
	now := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	logf := func(f string, a ...any) { t.Logf(f, a...) }
	r, err := runDaily(context.Background(), st, cfg, nil, now, logf)
	if err != nil {
		t.Fatal(err)
	}
	if r.Day != "2026-11-20" || r.Queued == 0 || r.Alerts == 0 || r.New != r.Alerts {
		t.Fatalf("first run %+v", r)
	}
	queued := 0
	st.Queued(func(it loop.QueueItem) error {
		if it.Day != "2026-11-20" {
			t.Errorf("queued %s for %s", it.EventID, it.Day)
		}
		queued++
		return nil
	})
	if queued != r.Queued {
		t.Errorf("%d in the queue, run said %d", queued, r.Queued)
	}
	r2, err := runDaily(context.Background(), st, cfg, nil, now.Add(time.Minute), logf)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Queued != 0 || r2.New != 0 || r2.Alerts != r.Alerts {
		t.Fatalf("second run %+v after %+v", r2, r)
	}
}
