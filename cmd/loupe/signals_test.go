package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/ingest"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/store"
)

// splitRecords turns generated events into what a product really sends:
// the interaction when the model answers, then its feedback as signals at
// realistic delays (thumb in minutes, dwell when the tab closes, business
// outcomes days later), some consent changes, and some withdrawals.
func splitRecords(t *testing.T, gen []byte) (interactions, signals []string) {
	t.Helper()
	delays := map[string]time.Duration{
		"explicit_feedback": 3 * time.Minute,
		"implicit_feedback": 40 * time.Second,
		"business":          52 * time.Hour,
	}
	for n, line := range nonEmptyLines(gen) {
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatal(err)
		}
		var id, ts string
		json.Unmarshal(m["event_id"], &id)
		json.Unmarshal(m["timestamp"], &ts)
		at, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Fatal(err)
		}
		sig := func(sid string, d time.Duration, body string) {
			signals = append(signals, fmt.Sprintf(`{"kind":"signal","signal_id":%q,"event_id":%q,"timestamp":%q,"source":"test",%s}`,
				id+"-"+sid, id, at.Add(d).Format(time.RFC3339Nano), body))
		}
		for _, obj := range []string{"explicit_feedback", "implicit_feedback", "business"} {
			raw, ok := m[obj]
			if !ok || string(raw) == "null" || string(raw) == "{}" {
				continue
			}
			if n%3 == 0 && obj == "explicit_feedback" {
				continue // some feedback arrives with the interaction
			}
			delete(m, obj)
			sig(obj[:4], delays[obj], fmt.Sprintf("%q:%s", obj, raw))
		}
		switch {
		case n%40 == 7:
			sig("withdraw", 30*time.Hour, `"consent":{"analytics":false}`)
		case n%9 == 4:
			sig("train", 5*time.Hour, `"consent":{"training":true}`)
		case n%11 == 5:
			sig("thumbfix", 10*time.Minute, `"explicit_feedback":{"thumb":"down","reason_codes":["factual_error"]}`)
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		interactions = append(interactions, string(b))
	}
	return interactions, signals
}

func TestSignalsOrderIndependentThroughBinary(t *testing.T) {
	dir := t.TempDir()
	is, ss := splitRecords(t, genLines(t, "800", "5"))
	rng := rand.New(rand.NewPCG(3, 4))
	shuffled := append(append([]string(nil), is...), ss...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for range len(shuffled) / 10 { // 10% redelivered
		l := shuffled[rng.IntN(len(shuffled))]
		at := rng.IntN(len(shuffled) + 1)
		shuffled = append(shuffled[:at], append([]string{l}, shuffled[at:]...)...)
	}
	orders := map[string][]string{
		"interactions-first": append(append([]string(nil), is...), ss...),
		"signals-first":      append(append([]string(nil), ss...), is...),
		"shuffled":           shuffled,
	}
	outputs := map[string]map[string]string{}
	for name, lines := range orders {
		st := filepath.Join(dir, name)
		in := filepath.Join(dir, name+".jsonl")
		if err := os.WriteFile(in, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := run(t, nil, "ingest", "--json", "--store", st, in)
		var s struct{ Accepted, Signals, Withdrawn, Rejected int }
		json.Unmarshal([]byte(r.stdout), &s)
		if r.code != 0 || s.Accepted == 0 || s.Signals == 0 {
			t.Fatalf("%s: ingest exit %d %s %s", name, r.code, r.stdout, r.stderr)
		}
		if name == "signals-first" && s.Withdrawn == 0 {
			t.Errorf("signals-first: no interaction was dropped for withdrawn consent: %s", r.stdout)
		}
		// The same grades on each store, by a script.
		for _, id := range []string{eventIDOf(t, is[1]), eventIDOf(t, is[2])} {
			if r := run(t, nil, "grade", id, "fail", "--reason", "factual_error", "--store", st); r.code != 0 {
				t.Fatalf("grade: %s", r.stderr)
			}
		}
		out := map[string]string{}
		for _, kind := range []string{"events", "labels"} {
			f := filepath.Join(dir, name+"."+kind)
			if r := run(t, nil, "export", kind, "--store", st, "--out", f); r.code != 0 {
				t.Fatalf("export %s: %s", kind, r.stderr)
			}
			b, _ := os.ReadFile(f)
			out[kind] = string(b)
		}
		// A label carries the time it was given, which differs from store
		// to store here, and each store pseudonymizes user ids with its own
		// secret: those are compared up to renaming (the same user must
		// still get one pseudonym within a store); nothing else may differ.
		out["labels"] = gradedAt.ReplaceAllString(out["labels"], `"at":"…"`)
		out["events"] = renameUsers(out["events"])
		for _, m := range []string{"thumbs_down_rate", "pass_rate"} {
			r := run(t, nil, "trends", "--json", "--metric", m, "--store", st)
			if r.code != 0 {
				t.Fatalf("trends: %s", r.stderr)
			}
			out["trends "+m] = r.stdout
		}
		outputs[name] = out
	}
	want := outputs["interactions-first"]
	if !strings.Contains(want["events"], `"thumb":"down"`) || !strings.Contains(want["labels"], `"fail"`) {
		t.Fatalf("nothing to compare:\n%.400s", want["events"])
	}
	for name, got := range outputs {
		for k, v := range got {
			if v != want[k] {
				t.Errorf("%s: %s differs from interactions-first: %s", name, k, lineDiff(want[k], v))
			}
		}
	}
}

var (
	gradedAt = regexp.MustCompile(`"at":"[^"]*"`)
	userHash = regexp.MustCompile(`"user_hash":"[0-9a-f]{32}"`)
)

// renameUsers replaces each user pseudonym by its order of first
// appearance.
func renameUsers(s string) string {
	seen := map[string]int{}
	return userHash.ReplaceAllStringFunc(s, func(h string) string {
		n, ok := seen[h]
		if !ok {
			n = len(seen)
			seen[h] = n
		}
		return fmt.Sprintf(`"user_hash":"user-%d"`, n)
	})
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\nwant %.600s\n got %.600s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("%d vs %d lines", len(al), len(bl))
}

func TestBadSignalsRejectedWithPathAndLine(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	lines := []string{
		`{"event_id":"e1","timestamp":"2026-11-01T10:00:00Z","model_version":"m"}`,
		`{"kind":"signal","signal_id":"s1","event_id":"e1","timestamp":"2026-11-01T10:01:00Z","explicit_feedback":{"thumb":"down"}}`,
		`{"kind":"signal","signal_id":"s2","timestamp":"2026-11-01T10:01:00Z","explicit_feedback":{"thumb":"down"}}`,
		`{"kind":"feedback","signal_id":"s3","event_id":"e1","timestamp":"2026-11-01T10:01:00Z","explicit_feedback":{"thumb":"down"}}`,
		`{"kind":"signal","signal_id":"s4","event_id":"e1","timestamp":"2026-11-01T10:01:00Z","implicit_feedback":{"dwell_ms":"long"}}`,
		`{"kind":"signal","signal_id":"s1","event_id":"e1","timestamp":"2026-11-01T10:01:00Z","explicit_feedback":{"thumb":"up"}}`,
		`{"kind":"signal","signal_id":"s5","event_id":"e1","timestamp":"2026-11-01T10:02:00Z","business":{"converted":true}}`,
		`{"kind":"signal","signal_id":"s6","event_id":"e2","timestamp":"2026-11-01T10:02:00Z","business":{"resolved":true}}`,
	}
	rej := filepath.Join(dir, "rejects.jsonl")
	r := run(t, []byte(strings.Join(lines, "\n")+"\n"), "ingest", "--json", "--store", st, "--rejects", rej, "-")
	if r.code != 3 {
		t.Fatalf("exit %d, want 3: %s %s", r.code, r.stdout, r.stderr)
	}
	var s map[string]any
	json.Unmarshal([]byte(r.stdout), &s)
	if s["accepted"] != 1.0 || s["signals"] != 3.0 || s["pending"] != 1.0 || s["rejected"] != 4.0 {
		t.Errorf("summary %s", r.stdout)
	}
	b, _ := os.ReadFile(rej)
	want := []struct {
		line         int
		reason, path string
	}{
		{3, "missing_field", "event_id: "},
		{4, "invalid_field", "kind: "},
		{5, "invalid_field", "implicit_feedback.dwell_ms: "},
		{6, "conflict", "signal_id: "},
	}
	got := nonEmptyLines(b)
	if len(got) != len(want) {
		t.Fatalf("rejects:\n%s", b)
	}
	for i, w := range want {
		var rj struct {
			Line          int
			Reason, Error string
		}
		json.Unmarshal([]byte(got[i]), &rj)
		if rj.Line != w.line || rj.Reason != w.reason || !strings.HasPrefix(rj.Error, w.path) {
			t.Errorf("reject %d: %s, want line %d %s %s…", i, got[i], w.line, w.reason, w.path)
		}
	}
	ev := run(t, nil, "export", "events", "--store", st)
	if !strings.Contains(ev.stdout, `"explicit_feedback":{"thumb":"down"},"business":{"converted":true}`) {
		t.Errorf("valid signals not merged: %s", ev.stdout)
	}
}

func TestWithdrawalLeavesNoByteOnDisk(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	const canary = "quokkacanary"
	text := strings.Repeat(canary+" says hello ", 30) // long: goes to the value log
	interaction := `{"event_id":"w1","timestamp":"2026-11-01T10:00:00Z","model_version":"m","user_id":"u-w",` +
		`"input":{"text":"` + text + `"},"output":{"text":"` + canary + ` out"},"consent":{"analytics":true,"training":true}}`
	lines := []string{
		interaction,
		`{"event_id":"w2","timestamp":"2026-11-01T10:00:00Z","model_version":"m","input":{"text":"bystander walrus"}}`,
		`{"kind":"signal","signal_id":"w1-t","event_id":"w1","timestamp":"2026-11-01T10:01:00Z","explicit_feedback":{"thumb":"down","reason_text":"` + canary + ` reason","user_edit":"` + canary + ` edit"}}`,
	}
	if r := run(t, []byte(strings.Join(lines, "\n")+"\n"), "ingest", "--store", st, "-"); r.code != 0 {
		t.Fatalf("ingest: %s", r.stderr)
	}
	if r := run(t, nil, "grade", "w1", "fail", "--note", canary+" note", "--store", st); r.code != 0 {
		t.Fatalf("grade: %s", r.stderr)
	}
	if hits := filesContaining(t, st, canary); len(hits) == 0 {
		t.Fatal("the canary is on no store file before the withdrawal: the scan could not see anything")
	}
	withdraw := `{"kind":"signal","signal_id":"w1-w","event_id":"w1","timestamp":"2026-11-02T10:00:00Z","consent":{"analytics":false}}`
	r := run(t, []byte(withdraw+"\n"), "ingest", "--json", "--store", st, "-")
	if r.code != 0 {
		t.Fatalf("withdrawal: %d %s", r.code, r.stderr)
	}
	if hits := filesContaining(t, st, canary); len(hits) > 0 {
		t.Errorf("after the withdrawal the interaction's text is still in %v", hits)
	}
	if hits := filesContaining(t, st, "bystander walrus"); len(hits) == 0 {
		t.Errorf("the bystander's text is gone too")
	}
	// A redelivered copy, and its signals, are dropped and counted; they
	// are the user's choice, not bad input: exit 0.
	r = run(t, []byte(strings.Join(lines, "\n")+"\n"+withdraw+"\n"), "ingest", "--json", "--store", st, "-")
	var s struct{ Accepted, Duplicates, Withdrawn, Rejected int }
	json.Unmarshal([]byte(r.stdout), &s)
	if r.code != 0 || s.Withdrawn != 3 || s.Duplicates != 1 || s.Accepted != 0 {
		t.Fatalf("redelivery: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	if hits := filesContaining(t, st, canary); len(hits) > 0 {
		t.Errorf("after the redelivery the text is in %v", hits)
	}
	ev := run(t, nil, "export", "events", "--store", st)
	if strings.Contains(ev.stdout, `"w1"`) {
		t.Errorf("withdrawn event exported: %s", ev.stdout)
	}
	if hits := filesContaining(t, st, "w1"); len(hits) > 0 {
		// The tombstone is a keyed hash: not even the id is kept.
		for _, h := range hits {
			b, _ := os.ReadFile(filepath.Join(st, h))
			if strings.Contains(string(b), `"w1"`) || strings.Contains(string(b), "w1-t") {
				t.Errorf("%s still names the withdrawn event", h)
			}
		}
	}
}

func postTo(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/x-ndjson", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeLateThumbsDownIsQueuedAndCounted(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	cfg := filepath.Join(dir, "loupe.yaml")
	os.WriteFile(cfg, []byte("sampling:\n  rules:\n    - name: thumbs_down\n      kind: thumbs_down\n      share: 1\n"), 0o600)
	early := `{"event_id":"late-a","timestamp":"2026-11-20T10:00:00Z","model_version":"m1","input":{"text":"q"},"output":{"text":"a"},"explicit_feedback":{"thumb":"up"}}
{"event_id":"late-b","timestamp":"2026-11-20T11:00:00Z","model_version":"m1","input":{"text":"q"},"output":{"text":"a"}}
`
	if r := run(t, []byte(early), "ingest", "--store", st, "--config", cfg, "-"); r.code != 0 {
		t.Fatalf("ingest: %s", r.stderr)
	}
	trend := func() string {
		r := run(t, nil, "trends", "--json", "--metric", "thumbs_down_rate", "--store", st, "--config", cfg)
		return r.stdout
	}
	if before := trend(); !strings.Contains(before, `"value":0,`) {
		t.Fatalf("before: %s", before)
	}
	s := startServe(t, nil, "--http", "127.0.0.1:0", "--store", st, "--config", cfg)
	code, body := postTo(t, s.http+"/v1/signals",
		`{"kind":"signal","signal_id":"late-a-1","event_id":"late-a","timestamp":"2026-11-20T11:00:00Z","source":"user","explicit_feedback":{"thumb":"down","reason_codes":["factual_error"]}}`+"\n"+
			`{"event_id":"late-c","timestamp":"2026-11-20T10:00:00Z","model_version":"m1"}`+"\n")
	if code != 200 || !strings.Contains(body, `"signals":1`) || !strings.Contains(body, `"reason":"invalid_field"`) {
		t.Fatalf("POST /v1/signals: %d %s", code, body)
	}
	code, body = postTo(t, s.http+"/v1/events",
		`{"kind":"signal","signal_id":"late-d-1","event_id":"late-d","timestamp":"2026-11-20T11:00:00Z","business":{"resolved":true}}`+"\n")
	if code != 200 || !strings.Contains(body, `"pending":1`) {
		t.Fatalf("POST /v1/events with a signal: %d %s", code, body)
	}
	resp, err := http.Get(s.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"loupe_signals_accepted_total 2", "loupe_signals_pending 1", "loupe_signals_dropped_total 0"} {
		if !strings.Contains(string(m), want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, m)
		}
	}
	s.stop(t)
	if after := trend(); !strings.Contains(after, `"value":1,`) {
		t.Errorf("the late thumbs-down did not revise its day: %s", after)
	}
	if r := run(t, nil, "blueprint", "--store", st, "--config", cfg); !strings.Contains(r.stdout, "1 waiting in the review queue") {
		t.Errorf("the late thumbs-down was not queued: %s", r.stdout)
	}
	r := run(t, nil, "doctor", "--json", "--store", st, "--config", cfg)
	if !strings.Contains(r.stdout, `"signals":{"dropped":0,"pending":1}`) {
		t.Errorf("doctor --json: %s", r.stdout)
	}
}

// serve's daily job drops signals that waited past intake.pending_days.
func TestDailyJobDropsStalePendingSignals(t *testing.T) {
	st, err := store.Open(t.TempDir(), store.Options{Holder: "signals test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p := ingest.New(st, ingest.PipelineOptions{})
	_, sum, err := p.Submit(context.Background(), []ingest.Item{{Data: []byte(
		`{"kind":"signal","signal_id":"p-1","event_id":"never","timestamp":"2026-11-20T10:00:00Z","business":{"resolved":true}}`)}})
	if err != nil || sum.Pending != 1 {
		t.Fatalf("%+v %v", sum, err)
	}
	cfg := appConfig{Config: config.Default()}
	logf := func(string, ...any) {}
	r, err := runDaily(context.Background(), st, cfg, nil, time.Now().AddDate(0, 0, 6), logf)
	if err != nil || r.Dropped != 0 {
		t.Fatalf("six days later: %+v %v", r, err)
	}
	r, err = runDaily(context.Background(), st, cfg, nil, time.Now().AddDate(0, 0, 8), logf)
	if err != nil || r.Dropped != 1 {
		t.Fatalf("eight days later: %+v %v", r, err)
	}
	if pending, dropped, _ := st.SignalStats(); pending != 0 || dropped != 1 {
		t.Fatalf("stats %d %d", pending, dropped)
	}
}
