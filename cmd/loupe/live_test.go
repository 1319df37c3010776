package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	gossh "golang.org/x/crypto/ssh"
)

// waitText waits until the session's screen output after mark, its escape
// sequences taken out, holds each of what; it returns the output's length
// then.
func (c *sshTerm) waitText(t *testing.T, mark int, what ...string) int {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		o := c.out.String()
		seen := ansi.Strip(o[min(mark, len(o)):])
		missing := ""
		for _, w := range what {
			if !strings.Contains(seen, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return len(o)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q on screen after 30s: %q", missing, ansi.Strip(o[max(0, len(o)-3000):]))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The done-when: a thumbs-down signal sent to a running serve for
// an interaction ingested an hour earlier shows in an SSH session's inbox
// row and in the item's timeline (no reload), enters the review queue, and
// changes that day's thumbs_down_rate.
func TestLateThumbsDownShowsLiveInTUI(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	cfg := filepath.Join(dir, "loupe.yaml")
	os.WriteFile(cfg, []byte("sampling:\n  rules:\n    - name: thumbs_down\n      kind: thumbs_down\n      share: 1\n"), 0o600)
	at := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	ev := fmt.Sprintf(`{"event_id":"live-1","timestamp":%q,"model_version":"m-live","input":{"text":"quokka: which tent fits four?"},"output":{"text":"The Trailhead 4."}}`+"\n",
		at.Format(time.RFC3339))
	// An older one with a thumb up, so the day has a rate before: 0 of 1.
	ev += fmt.Sprintf(`{"event_id":"live-0","timestamp":%q,"model_version":"m-live","input":{"text":"wombat: is it waterproof?"},"output":{"text":"Yes."},"explicit_feedback":{"thumb":"up"}}`+"\n",
		at.Add(-time.Minute).Format(time.RFC3339))
	if r := run(t, []byte(ev), "ingest", "--store", st, "--config", cfg, "-"); r.code != 0 {
		t.Fatalf("ingest: %s", r.stderr)
	}
	trend := func() string {
		return run(t, nil, "trends", "--json", "--metric", "thumbs_down_rate", "--store", st, "--config", cfg).stdout
	}
	if before := trend(); !strings.Contains(before, `"value":0,`) {
		t.Fatalf("thumbs_down_rate before: %s", before)
	}

	alice := sshKey(t)
	keys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(keys, []byte(strings.TrimSpace(string(gossh.MarshalAuthorizedKey(alice.PublicKey())))+" alice\n"), 0o600)
	s := startServe(t, nil, "--store", st, "--config", cfg, "--http", "127.0.0.1:0", "--ssh", "127.0.0.1:0", "--authorized-keys", keys)
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
	mark := a.waitText(t, 0, "quokka")
	if strings.Contains(ansi.Strip(a.out.String()), "rrelevant") {
		t.Fatal("the reason shows before the signal was sent")
	}

	sig := fmt.Sprintf(`{"kind":"signal","signal_id":"live-1-thumb","event_id":"live-1","timestamp":%q,"source":"user","explicit_feedback":{"thumb":"down","reason_codes":["irrelevant"]}}`+"\n",
		time.Now().UTC().Format(time.RFC3339))
	if code, body := postTo(t, s.http+"/v1/signals", sig); code != 200 || !strings.Contains(body, `"signals":1`) {
		t.Fatalf("POST /v1/signals: %d %s", code, body)
	}
	// The inbox row (its thumb and grade cells) and the preview beside it;
	// serve sampled it, so it is in To review now, and the header counts it.
	mark = a.waitText(t, mark, "▼   ·", "▼ down  irrelevant", "1 / 1 · 0 left", "sampled: thumbs_down")
	a.keys(t, "\r")
	mark = a.waitText(t, mark, "Timeline", "interaction  m-live", "+1h", "user         thumb down · reasons irrelevant")

	// A second signal while the item is open: its timeline follows.
	sig2 := fmt.Sprintf(`{"kind":"signal","signal_id":"live-1-shop","event_id":"live-1","timestamp":%q,"source":"shop","business":{"converted":true}}`+"\n",
		time.Now().UTC().Format(time.RFC3339))
	if code, body := postTo(t, s.http+"/v1/signals", sig2); code != 200 || !strings.Contains(body, `"signals":1`) {
		t.Fatalf("POST /v1/signals: %d %s", code, body)
	}
	a.waitText(t, mark, "shop         converted")
	a.keys(t, "q")
	a.wait(t)
	s.stop(t)

	if after := trend(); !strings.Contains(after, `"value":0.5,`) {
		t.Errorf("the late thumbs-down did not change its day's thumbs_down_rate: %s", after)
	}
	if r := run(t, nil, "blueprint", "--store", st, "--config", cfg); !strings.Contains(r.stdout, "1 waiting in the review queue") {
		t.Errorf("the late thumbs-down was not queued: %s", r.stdout)
	}
}
