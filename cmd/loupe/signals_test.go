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
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/ingest"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/store"
)

// TestSignalsOrderIndependentThroughBinary is issue 10's first done-when:
// the same generated stream (`loupe gen`: interactions, their signals as
// separate records, some early, some redelivered, some withdrawals)
// ingested interactions-first, signals-first and shuffled with 10% of its
// lines redelivered gives three stores whose `export events`, `export
// labels` and `trends --json` are byte-identical.
//
// The three stores share one secret, as stores restored from one backup
// do (the pseudonyms and tombstones are keyed with it): an empty store is
// backed up once and restored into each. The same grades are recorded in
// each with the same `--at`, so nothing at all is normalised.
func TestSignalsOrderIndependentThroughBinary(t *testing.T) {
	dir := t.TempDir()
	var is, ss []string
	for _, l := range nonEmptyLines(genSplit(t, "800", "5")) {
		if strings.Contains(l, `"kind":"signal"`) {
			ss = append(ss, l)
		} else {
			is = append(is, l)
		}
	}
	if len(is) == 0 || len(ss) == 0 {
		t.Fatalf("gen gave %d interactions and %d signals", len(is), len(ss))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	shuffled := append(append([]string(nil), is...), ss...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for range len(shuffled) / 10 { // 10% redelivered
		l := shuffled[rng.IntN(len(shuffled))]
		at := rng.IntN(len(shuffled) + 1)
		shuffled = append(shuffled[:at], append([]string{l}, shuffled[at:]...)...)
	}
	orders := []struct {
		name  string
		lines []string
	}{
		{"interactions-first", append(append([]string(nil), is...), ss...)},
		{"signals-first", append(append([]string(nil), ss...), is...)},
		{"shuffled", shuffled},
	}
	// One secret for all three: restore one empty store's backup.
	bak := filepath.Join(dir, "empty.bak")
	if r := run(t, nil, "backup", bak, "--store", filepath.Join(dir, "empty")); r.code != 0 {
		t.Fatalf("backup: %d %s", r.code, r.stderr)
	}
	stores := map[string]string{}
	for _, o := range orders {
		st := filepath.Join(dir, o.name)
		if r := run(t, nil, "restore", bak, "--store", st); r.code != 0 {
			t.Fatalf("restore: %d %s", r.code, r.stderr)
		}
		stores[o.name] = st
		in := filepath.Join(dir, o.name+".jsonl")
		if err := os.WriteFile(in, []byte(strings.Join(o.lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		r := run(t, nil, "ingest", "--json", "--store", st, in)
		var s struct{ Accepted, Signals, Withdrawn, Rejected int }
		json.Unmarshal([]byte(r.stdout), &s)
		if r.code != 0 || s.Accepted == 0 || s.Signals == 0 {
			t.Fatalf("%s: ingest exit %d %s %s", o.name, r.code, r.stdout, r.stderr)
		}
		if o.name == "signals-first" && s.Withdrawn == 0 {
			t.Errorf("signals-first: no interaction was dropped for withdrawn consent: %s", r.stdout)
		}
	}
	export := func(st, name, kind string) string {
		t.Helper()
		f := filepath.Join(dir, name+"."+kind)
		if r := run(t, nil, "export", kind, "--store", st, "--out", f); r.code != 0 {
			t.Fatalf("export %s: %s", kind, r.stderr)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// The same grades on each store, by a script: two stored events.
	var graded []string
	for _, l := range nonEmptyLines([]byte(export(stores["interactions-first"], "pick", "events")))[:2] {
		graded = append(graded, eventIDOf(t, l))
	}
	outputs := map[string]map[string]string{}
	for _, o := range orders {
		st := stores[o.name]
		for _, id := range graded {
			if r := run(t, nil, "grade", id, "fail", "--reason", "factual_error", "--at", "2026-11-21T09:00:00Z", "--store", st); r.code != 0 {
				t.Fatalf("grade: %s", r.stderr)
			}
		}
		out := map[string]string{"events": export(st, o.name, "events"), "labels": export(st, o.name, "labels")}
		for _, m := range []string{"thumbs_down_rate", "pass_rate"} {
			r := run(t, nil, "trends", "--json", "--metric", m, "--store", st)
			if r.code != 0 {
				t.Fatalf("trends: %s", r.stderr)
			}
			out["trends "+m] = r.stdout
		}
		outputs[o.name] = out
	}
	want := outputs["interactions-first"]
	for _, s := range []string{`"thumb":"down"`, `"user_hash":"`} {
		if !strings.Contains(want["events"], s) {
			t.Fatalf("nothing to compare: no %s in\n%.400s", s, want["events"])
		}
	}
	if n := strings.Count(want["labels"], `"fail"`); n != 2 {
		t.Fatalf("%d fail labels, want 2:\n%s", n, want["labels"])
	}
	if strings.Contains(want["trends thumbs_down_rate"], `"late":[]`) {
		t.Fatalf("no late data in the generated stream's trends:\n%.400s", want["trends thumbs_down_rate"])
	}
	for name, got := range outputs {
		for k, v := range got {
			if v != want[k] {
				t.Errorf("%s: %s differs from interactions-first: %s", name, k, lineDiff(want[k], v))
			}
		}
	}
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
			b = store.Plaintext(b)
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

// TestTrendsCountLateSignalsThroughBinary: a signal dated two days after
// its interaction revises the interaction's day, and `trends` says so.
func TestTrendsCountLateSignalsThroughBinary(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	ev := func(id, ts string) string {
		return fmt.Sprintf(`{"event_id":%q,"timestamp":%q,"model_version":"m-1","task_type":"support","input":{"text":"where is my parcel"},"output":{"text":"on its way","latency_ms":300},"consent":{"analytics":true,"training":true}}`, id, ts)
	}
	interactions := strings.Join([]string{
		ev("late-1", "2026-11-10T10:00:00Z"), ev("late-2", "2026-11-10T11:00:00Z"), ev("late-3", "2026-11-11T09:00:00Z"),
	}, "\n") + "\n"
	if r := run(t, []byte(interactions), "ingest", "--store", st, "-"); r.code != 0 {
		t.Fatalf("ingest: %d %s", r.code, r.stderr)
	}
	late := func() string {
		t.Helper()
		r := run(t, nil, "trends", "--json", "--metric", "thumbs_down_rate", "--store", st)
		if r.code != 0 {
			t.Fatalf("trends: %d %s", r.code, r.stderr)
		}
		var out struct{ Late json.RawMessage }
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatal(err)
		}
		return string(out.Late)
	}
	if got := late(); got != "[]" {
		t.Fatalf("late before any signal: %s, want []", got)
	}
	// The same day (not late), and two days later (late).
	sigs := `{"kind":"signal","signal_id":"s-a","event_id":"late-1","timestamp":"2026-11-10T10:05:00Z","explicit_feedback":{"thumb":"up"}}
{"kind":"signal","signal_id":"s-b","event_id":"late-2","timestamp":"2026-11-12T08:00:00Z","business":{"converted":true}}
`
	if r := run(t, []byte(sigs), "ingest", "--store", st, "-"); r.code != 0 {
		t.Fatalf("ingest signals: %d %s", r.code, r.stderr)
	}
	if got, want := late(), `[{"day":"2026-11-10","signals":1,"events":1,"share":0.5}]`; got != want {
		t.Fatalf("late: %s, want %s", got, want)
	}
	r := run(t, nil, "trends", "--store", st)
	if want := "late data: 1 signal revised 1 past day after it ended (most recent 2026-11-10: 1); recent days may still move"; !strings.Contains(r.stdout, want) {
		t.Fatalf("trends text lacks %q:\n%s", want, r.stdout)
	}
}

// genSplit is `loupe gen` in its default shape: interactions and their
// signals as separate records, in arrival order.
func genSplit(t *testing.T, n, seed string) []byte {
	t.Helper()
	r := run(t, nil, "gen", "--n", n, "--seed", seed)
	if r.code != 0 {
		t.Fatalf("gen: %d %s", r.code, r.stderr)
	}
	return []byte(r.stdout)
}

// TestNoConsentTakesItsSignalsOffDisk: signals sent before and after an
// interaction whose user withheld consent are not kept, neither waiting
// nor on disk, in either order, and the refused line is a no_consent
// reject that does not fail the ingest.
func TestNoConsentTakesItsSignalsOffDisk(t *testing.T) {
	const canary = "wombatcanary"
	text := strings.Repeat(canary+" was here ", 30) // long: goes to the value log
	interaction := `{"event_id":"nc1","timestamp":"2026-11-01T10:00:00Z","model_version":"m","input":{"text":"hello"},"consent":{"analytics":false,"training":false}}`
	before := `{"kind":"signal","signal_id":"nc1-a","event_id":"nc1","timestamp":"2026-11-01T09:59:00Z","explicit_feedback":{"thumb":"down","reason_text":"` + text + `"}}`
	after := `{"kind":"signal","signal_id":"nc1-b","event_id":"nc1","timestamp":"2026-11-01T10:03:00Z","explicit_feedback":{"user_edit":"` + text + `"}}`
	bystander := `{"event_id":"nc2","timestamp":"2026-11-01T10:00:00Z","model_version":"m","input":{"text":"bystander walrus"},"consent":{"analytics":true,"training":true}}`
	for name, runs := range map[string][][]string{
		"signals first": {{bystander, before, after}, {interaction}},
		"around it":     {{bystander, before}, {interaction, after}},
		"after it":      {{bystander, interaction}, {before, after}},
	} {
		t.Run(name, func(t *testing.T) {
			st := filepath.Join(t.TempDir(), "s")
			noConsent := 0
			for _, lines := range runs {
				r := run(t, []byte(strings.Join(lines, "\n")+"\n"), "ingest", "--json", "--store", st, "-")
				var s struct{ Reasons map[string]int }
				json.Unmarshal([]byte(r.stdout), &s)
				if r.code != 0 {
					t.Fatalf("ingest: exit %d %s %s", r.code, r.stdout, r.stderr)
				}
				noConsent += s.Reasons["no_consent"]
			}
			if noConsent != 1 {
				t.Errorf("no_consent counted %d times, want 1", noConsent)
			}
			r := run(t, nil, "doctor", "--json", "--store", st)
			var d struct {
				Signals struct{ Pending, Dropped int }
			}
			if err := json.Unmarshal([]byte(r.stdout), &d); err != nil {
				t.Fatalf("doctor: %v %s", err, r.stdout)
			}
			if d.Signals.Pending != 0 || d.Signals.Dropped != 0 {
				t.Errorf("doctor: %d pending, %d dropped; want none", d.Signals.Pending, d.Signals.Dropped)
			}
			if hits := filesContaining(t, st, canary); len(hits) > 0 {
				t.Errorf("the refused interaction's signals are still in %v", hits)
			}
			if hits := filesContaining(t, st, "bystander walrus"); len(hits) == 0 {
				t.Errorf("the bystander is not on disk either: the scan sees nothing")
			}
		})
	}
}
