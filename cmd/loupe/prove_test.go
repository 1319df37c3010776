package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// "Prove it": end-to-end tests of the claims loupe makes about crashes,
// privacy, concurrent reviewers and hostile input, run against the real
// binary on loopback.

// ---------------------------------------------------------------------------
// 1. kill -9 of `loupe serve` while batches are in flight.

// killServeRound starts serve on st, has workers goroutines POST the batches
// concurrently and SIGKILLs the server as soon as killAfter batches have been
// answered, while the others are in flight. It then checks the store: it
// opens, every event of every batch answered 200 is stored and identical to
// want (a reference ingest of the same lines), and every stored event is
// whole: identical to want, never a part.
func killServeRound(t *testing.T, st string, batches []ndBatch, want map[string]string, workers, killAfter int) {
	t.Helper()
	s := startServe(t, nil, append([]string{"--store", st, "--http", "127.0.0.1:0"}, noLimits...)...)
	client := httpClient(workers)
	status := make([]int, len(batches)) // 0: no answer
	answers := make([]summary, len(batches))
	var answered atomic.Int32
	var killed atomic.Bool
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(batches); i += workers {
				if killed.Load() {
					return
				}
				code, body, err := tryPost(client, s.http, batches[i].body)
				if err != nil {
					return // the server is gone
				}
				status[i] = code
				json.Unmarshal(body, &answers[i])
				if code == http.StatusOK && answered.Add(1) == int32(killAfter) {
					killed.Store(true)
					s.cmd.Process.Signal(syscall.SIGKILL)
				}
			}
		})
	}
	wg.Wait()
	if !killed.Load() {
		t.Fatalf("only %d batches answered, never killed: %s", answered.Load(), s.stderr)
	}
	select {
	case <-s.exited:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not die of SIGKILL within 20s")
	}

	got := exportMap(t, st) // fails unless the store opens
	for id, line := range got {
		if want[id] != line {
			t.Fatalf("stored event %s is not what an uninterrupted ingest stores:\n got %s\nwant %s", id, line, want[id])
		}
	}
	nAnswered, nLost := 0, 0
	for i, b := range batches {
		switch status[i] {
		case 0:
			nLost++
			continue
		case http.StatusOK:
			nAnswered++
		default:
			t.Errorf("batch %d answered %d", i, status[i])
			continue
		}
		n := 0
		for _, id := range b.ids {
			w, ok := want[id]
			if !ok {
				continue // rejected in the reference too (no consent)
			}
			n++
			if got[id] != w {
				t.Errorf("batch %d was answered 200 but event %s is not stored whole: %q", i, id, got[id])
			}
		}
		if a := answers[i]; a.Accepted+a.Duplicates != n {
			t.Errorf("batch %d: answer says %d accepted + %d duplicates, the reference stores %d of its events", i, a.Accepted, a.Duplicates, n)
		}
	}
	if nLost == 0 {
		t.Errorf("every batch was answered: the kill came too late to test anything")
	}
	t.Logf("killed with %d batches answered, %d not; %d of %d events stored", nAnswered, nLost, len(got), len(want))
}

// resendAll restarts serve on st, sends every batch again and checks the
// store then holds exactly want: re-sending after a crash is safe.
func resendAll(t *testing.T, st string, batches []ndBatch, want map[string]string) {
	t.Helper()
	before := len(exportMap(t, st))
	s := startServe(t, nil, append([]string{"--store", st, "--http", "127.0.0.1:0"}, noLimits...)...)
	client := httpClient(1)
	accepted := 0
	for i, b := range batches {
		code, body, err := tryPost(client, s.http, b.body)
		if err != nil || code != http.StatusOK {
			t.Fatalf("resend batch %d: %d %v %s", i, code, err, body)
		}
		var a summary
		json.Unmarshal(body, &a)
		accepted += a.Accepted
	}
	s.stop(t)
	got := exportMap(t, st)
	if len(got) != len(want) || accepted != len(want)-before {
		t.Fatalf("after resending: %d events (%d newly accepted, %d before), want %d", len(got), accepted, before, len(want))
	}
	for id, line := range want {
		if got[id] != line {
			t.Fatalf("after resending: event %s differs", id)
		}
	}
}

// killServeFixture generates the events, the reference store's export and
// the batches.
func killServeFixture(t *testing.T, dir string, workers, perWorker, size int) ([]ndBatch, map[string]string) {
	t.Helper()
	data := genLines(t, strconv.Itoa(workers*perWorker*size), "21")
	input := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(input, data, 0o644); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(dir, "ref")
	if r := run(t, nil, "ingest", "--store", ref, input); r.code != 0 {
		t.Fatalf("reference ingest: %d %s", r.code, r.stderr)
	}
	return makeBatches(t, nonEmptyLines(data), size), exportMap(t, ref)
}

// TestProveKill9ServeMidBatch: 8 clients POST NDJSON batches of 200
// generated events at once; serve is SIGKILLed after a quarter of the
// batches are answered. Every answered batch is on disk, nothing is
// half-written, and re-sending everything completes the store exactly.
//
// Long form: TestProveSoak (LOUPE_SOAK=1) repeats the kill 10 times on one
// store before re-sending.
func TestProveKill9ServeMidBatch(t *testing.T) {
	dir := t.TempDir()
	const workers, perWorker, size = 8, 6, 200
	batches, want := killServeFixture(t, dir, workers, perWorker, size)
	st := filepath.Join(dir, "s")
	killServeRound(t, st, batches, want, workers, len(batches)/4)
	resendAll(t, st, batches, want)
}

// TestProveSoak is the long form of the serve tests; it runs only with
// LOUPE_SOAK=1. LOUPE_SOAK_ROUNDS and LOUPE_SOAK_SECONDS shorten or lengthen
// it (defaults 10 kills, 60 s of load).
func TestProveSoak(t *testing.T) {
	if !soak() {
		t.Skip("long form: set LOUPE_SOAK=1 to run (10 kill -9 rounds of serve, then a minute of collector load watching RSS and /metrics)")
	}
	t.Run("kill-loop", func(t *testing.T) {
		dir := t.TempDir()
		const workers, perWorker, size = 8, 10, 200
		batches, want := killServeFixture(t, dir, workers, perWorker, size)
		st := filepath.Join(dir, "s")
		rounds := envInt("LOUPE_SOAK_ROUNDS", 10)
		for round := range rounds {
			// Kill at a different point each round: from early to late.
			killAfter := 1 + (round*7919)%(len(batches)*3/4)
			killServeRound(t, st, batches, want, workers, killAfter)
		}
		resendAll(t, st, batches, want)
	})
	t.Run("load-minute", func(t *testing.T) {
		dir := t.TempDir()
		st := filepath.Join(dir, "s")
		tmpl := nonEmptyLines(genLines(t, "2000", "31"))
		s := startServe(t, nil, append([]string{"--store", st, "--http", "127.0.0.1:0"}, noLimits...)...)
		pid := s.cmd.Process.Pid
		const workers, size = 4, 500
		client := httpClient(workers)
		d := time.Duration(envInt("LOUPE_SOAK_SECONDS", 60)) * time.Second
		stop := time.Now().Add(d)
		var accepted, requests atomic.Int64
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for n := 0; time.Now().Before(stop); n++ {
					var b strings.Builder
					off := (n * size) % len(tmpl)
					for i := range size {
						l := tmpl[(off+i)%len(tmpl)]
						b.WriteString(strings.Replace(l, `"event_id":"`, fmt.Sprintf(`"event_id":"w%d-%d-`, w, n), 1))
						b.WriteByte('\n')
					}
					code, body, err := tryPost(client, s.http, b.String())
					if err != nil || code != http.StatusOK {
						t.Errorf("worker %d request %d: %d %v %.200s", w, n, code, err, body)
						return
					}
					var a summary
					json.Unmarshal(body, &a)
					accepted.Add(int64(a.Accepted))
					requests.Add(1)
				}
			})
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		var maxRSS int64
		var lastAccepted float64
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for sampling := true; sampling; {
			select {
			case <-done:
				sampling = false
			case <-tick.C:
			}
			rss, err := rssBytes(pid)
			if err != nil {
				t.Fatalf("rss: %v", err)
			}
			maxRSS = max(maxRSS, rss)
			if rss > 1<<30 {
				t.Fatalf("serve RSS %d MiB after %d requests: over 1 GiB", rss>>20, requests.Load())
			}
			resp, err := http.Get(s.http + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			v, ok := metricValue(readAll(resp), "loupe_events_accepted_total")
			if !ok || v < lastAccepted {
				t.Fatalf("/metrics loupe_events_accepted_total %v (ok %v) went below %v", v, ok, lastAccepted)
			}
			lastAccepted = v
		}
		if lastAccepted != float64(accepted.Load()) {
			t.Errorf("/metrics says %v accepted, the clients were told %d", lastAccepted, accepted.Load())
		}
		s.stop(t)
		out := filepath.Join(dir, "events.jsonl")
		if r := run(t, nil, "export", "events", "--store", st, "--out", out); r.code != 0 {
			t.Fatalf("export: %d %s", r.code, r.stderr)
		}
		var m struct{ Count int64 }
		mb, _ := os.ReadFile(out + ".manifest.json")
		if err := json.Unmarshal(mb, &m); err != nil || m.Count != accepted.Load() {
			t.Errorf("export has %d events, the collector accepted %d (%v)", m.Count, accepted.Load(), err)
		}
		t.Logf("%v of load: %d requests, %d events accepted, max RSS %d MiB", d, requests.Load(), accepted.Load(), maxRSS>>20)
	})
}

func readAll(resp *http.Response) string {
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

// ---------------------------------------------------------------------------
// 2. Canary PII through every way in and every way out.

// canaryEvent plants the canaries in every free-text field of a consented
// (analytics and training) event; phrase, a harmless unique marker, goes
// into input.text so the event's bytes can be found on disk.
func canaryEvent(id, user, phrase string) string {
	txt := canaryText()
	return `{"event_id":"` + id + `","timestamp":"2026-11-01T00:00:00Z","model_version":"m","user_id":"` + user + `",` +
		`"session_id":"` + txt + `","input":{"text":"` + phrase + ` ` + txt + `","context_refs":["` + txt + `"]},` +
		`"output":{"text":"` + txt + `","latency_ms":120},"explicit_feedback":{"thumb":"down","reason_codes":["` + txt + `"],` +
		`"reason_text":"` + txt + `","user_edit":"better: ` + txt + `"},"label":{"grade":"fail","rubric_notes":"` + txt + `"},` +
		`"consent":{"analytics":true,"training":true},` +
		`"automated_checks":{"detector_note":"` + txt + `"},"custom":{"nested":["` + txt + `",{"` + canaries["email"] + `":1}]}}`
}

// TestProveCanaryEverywhere plants unique PII in every free-text field of
// events sent through `ingest` and through the collector, and in grade
// notes and references, set references and assertions; then writes every
// export (JSONL and CSV), a backup and a restored copy, and scans every
// file of all of it for the canaries. Then it forgets the canary user and
// checks no export holds anything of theirs.
func TestProveCanaryEverywhere(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "store")
	const user = "u-canary-9931" // one of needles(): it must never be stored raw
	const mine, theirs = "quokkalantern", "heronbystander"
	txt := canaryText()

	// In through ingest: two good events and canary-laden rejects.
	in := strings.Join([]string{
		canaryEvent("cv-i-1", user, mine+"-ingest"),
		canaryEvent("by-i-1", "u-bystander-1", theirs+"-ingest"),
		strings.Replace(canaryEvent("cv-bad-1", user, mine), `"m"`, `7`, 1),                           // wrong type
		strings.TrimSuffix(canaryEvent("cv-bad-2", user, mine), "}") + `,"output":{"latency_ms":-1}}`, // duplicate key
		`{"event_id":"cv-bad-3","timestamp":"bad ` + txt + `","model_version":"m"}`,
		`not json ` + txt,
	}, "\n") + "\n"
	rej := filepath.Join(dir, "rejects.jsonl")
	s, r := ingestJSON(t, []byte(in), "--store", st, "--rejects", rej, "-")
	if s.Accepted != 2 || s.Rejected != 4 {
		t.Fatalf("ingest: %+v %s", s, r.stderr)
	}

	// In through the collector; its answers and log are kept under dir.
	srv := startServe(t, nil, "--store", st, "--http", "127.0.0.1:0")
	for i, body := range []string{
		canaryEvent("cv-h-1", user, mine+"-collector") + "\n" + canaryEvent("by-h-1", "u-bystander-2", theirs+"-collector"),
		`{"event_id":"cv-h-bad","timestamp":"at ` + txt + `","model_version":"m","user_id":"` + user + `"}`,
		`[` + canaryEvent("cv-h-2", user, mine+"-array") + `,{"event_id":"cv-h-bad2","output":{"text":"` + txt + `"}}]`,
	} {
		code, ans, err := tryPost(httpClient(1), srv.http, body)
		if err != nil || code != http.StatusOK {
			t.Fatalf("POST %d: %d %v %s", i, code, err, ans)
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("http-answer-%d.json", i)), ans, 0o644)
	}
	srv.stop(t)
	os.WriteFile(filepath.Join(dir, "serve-stderr.log"), []byte(srv.stderr.String()), 0o644)
	if ids := storedIDs(t, st); strings.Join(ids, ",") != "by-h-1,by-i-1,cv-h-1,cv-h-2,cv-i-1" {
		t.Fatalf("stored %v", ids)
	}
	mineIDs := []string{"cv-h-1", "cv-h-2", "cv-i-1"}

	// Reviewers' free text: notes, references, set assertions.
	for _, id := range []string{"cv-i-1", "cv-h-1", "by-i-1", "by-h-1"} {
		for _, rv := range []string{"rev-a", "rev-b"} {
			if r := run(t, nil, "grade", id, "fail", "--note", "note "+txt, "--reference", "ref "+txt, "--reviewer", rv, "--store", st); r.code != 0 {
				t.Fatalf("grade %s: %d %s", id, r.code, r.stderr)
			}
		}
	}
	for _, a := range [][]string{
		{"golden", "cv-i-1", "--reference", "gold " + txt},
		{"golden", "by-i-1", "--reference", "gold " + txt},
		{"redflag", "cv-h-1", "--reference", "red " + txt, "--must-contain", txt, "--must-not-contain", "never " + txt},
		{"redflag", "by-h-1", "--reference", "red " + txt, "--must-contain", txt, "--must-not-contain", "never " + txt},
	} {
		if r := run(t, nil, append([]string{"set", "add", "--store", st}, a...)...); r.code != 0 {
			t.Fatalf("set add %v: %d %s", a[:2], r.code, r.stderr)
		}
	}
	if r := run(t, nil, "sample", "--store", st, "--day", "2026-11-01"); r.code != 0 {
		t.Fatalf("sample: %d %s", r.code, r.stderr)
	}
	// A blind comparison with a canary-laden candidate answer and note.
	cand := filepath.Join(t.TempDir(), "candidate.jsonl") // input, like the events: outside the scanned dir
	os.WriteFile(cand, []byte(`{"event_id":"cv-i-1","output":{"text":"cand `+txt+`"}}`+"\n"+
		`{"event_id":"by-i-1","output":{"text":"cand `+txt+`"}}`+"\n"), 0o644)
	for _, id := range []string{"cv-i-1", "by-i-1"} {
		if r := run(t, nil, "compare", "record", id, "--candidate", cand, "--choice", "candidate", "--note", "cmp "+txt, "--store", st); r.code != 0 {
			t.Fatalf("compare record %s: %d %s", id, r.code, r.stderr)
		}
	}

	// Out: every export kind, JSONL and (where it exists) CSV.
	exports := filepath.Join(dir, "exports")
	os.Mkdir(exports, 0o755)
	exportAll := func(st, prefix string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, kind := range exportKinds() {
			f := filepath.Join(exports, prefix+kind+".jsonl")
			if r := run(t, nil, "export", kind, "--store", st, "--out", f); r.code != 0 {
				t.Fatalf("export %s: %d %s", kind, r.code, r.stderr)
			}
			b, _ := os.ReadFile(f)
			out[kind] = string(b)
			if kind == "events" || kind == "labels" || kind == "golden" || kind == "redflag" {
				if r := run(t, nil, "export", kind, "--format", "csv", "--store", st, "--out", filepath.Join(exports, prefix+kind+".csv")); r.code != 0 {
					t.Fatalf("export %s csv: %d %s", kind, r.code, r.stderr)
				}
			}
		}
		return out
	}
	before := exportAll(st, "")
	for _, kind := range exportKinds() {
		if before[kind] == "" {
			t.Errorf("export %s is empty: nothing there to leak, the check proves nothing", kind)
		}
	}
	for _, typ := range []string{"EMAIL", "PHONE", "CARD", "IBAN", "SSN", "IP", "SECRET"} {
		for _, kind := range []string{"events", "labels", "golden", "redflag"} {
			if !strings.Contains(before[kind], "["+typ+"]") {
				t.Errorf("export %s has no [%s]: the canary was not there to mask", kind, typ)
			}
		}
	}

	// A backup, and a store restored from it.
	bak := filepath.Join(dir, "store.bak")
	if r := run(t, nil, "backup", bak, "--store", st); r.code != 0 {
		t.Fatalf("backup: %d %s", r.code, r.stderr)
	}
	restored := filepath.Join(dir, "restored")
	if r := run(t, nil, "restore", bak, "--store", restored); r.code != 0 {
		t.Fatalf("restore: %d %s", r.code, r.stderr)
	}
	if again := exportAll(restored, "restored-"); again["events"] != before["events"] || again["labels"] != before["labels"] {
		t.Errorf("the restored store exports differently")
	}

	scanForCanaries(t, dir)

	// Forget the canary user. Their events, labels and set entries leave
	// every export; the bystanders' stay.
	if hits := filesContaining(t, st, mine); len(hits) == 0 {
		t.Fatalf("%q is in no store file before forget: the byte scan below could not see anything", mine)
	}
	r = run(t, nil, "forget", "--user", user, "--json", "--store", st)
	if r.code != 0 || strings.TrimSpace(r.stdout) != fmt.Sprintf(`{"erased":%d}`, len(mineIDs)) {
		t.Fatalf("forget: %d %q %s", r.code, r.stdout, r.stderr)
	}
	after := exportAll(st, "after-forget-")
	for _, kind := range exportKinds() {
		for _, id := range mineIDs {
			if strings.Contains(after[kind], `"`+id+`"`) {
				t.Errorf("after forget, export %s still has %s", kind, id)
			}
		}
		if strings.Contains(after[kind], mine) {
			t.Errorf("after forget, export %s still has the user's text", kind)
		}
	}
	theirLabels := 0
	for _, l := range nonEmptyLines([]byte(before["labels"])) {
		if strings.Contains(l, `"event_id":"by-`) {
			theirLabels++
		}
	}
	for kind, n := range map[string]int{"events": 2, "labels": theirLabels, "golden": 1, "redflag": 1} {
		if got := len(nonEmptyLines([]byte(after[kind]))); got != n {
			t.Errorf("after forget, export %s has %d lines, want the bystanders' %d", kind, got, n)
		}
	}
	if ids := storedIDs(t, st); strings.Join(ids, ",") != "by-h-1,by-i-1" {
		t.Errorf("after forget: stored %v", ids)
	}
	if r := run(t, nil, "set", "ls", "golden", "--json", "--store", st); strings.Contains(r.stdout, "cv-") {
		t.Errorf("after forget, set ls golden: %s", r.stdout)
	}

	// What forget cannot promise at the byte level. It deletes the user's
	// keys, flattens the LSM tree and runs value-log GC, but Badger only
	// drops deleted bytes when a compaction rewrites the table holding them
	// and when GC rewrites a value-log file it finds at least half garbage:
	// a value-log file holding mostly live events (or the active one) keeps
	// the erased bodies until it is rewritten later, and a MANIFEST or WAL
	// may keep them for a while too. Backups and exports made before the
	// forget are copies forget never touches. So this is reported, not
	// failed: the exports above are the guarantee.
	if hits := filesContaining(t, st, mine); len(hits) > 0 {
		t.Logf("FINDING: after forget, the erased user's event text is still on disk in %s: %v", st, hits)
	} else {
		t.Logf("after forget, no store file holds the erased user's event text")
	}
	if hits := filesContaining(t, restored, mine); len(hits) > 0 {
		t.Logf("as expected, the store restored from the pre-forget backup still holds it: %v", hits)
	}
	if hits := filesContaining(t, st, theirs); len(hits) == 0 {
		t.Errorf("the bystanders' text is gone from the store files too")
	}
}

// ---------------------------------------------------------------------------
// 3. Consent withheld: nothing of the event anywhere.

// TestProveConsentWithheldNeverStored sends events with
// consent.analytics:false through ingest and the collector. Their unique
// phrase is in no store file, no rejects file, no HTTP answer and no log,
// while a consented control event's phrase is found (so the scan works).
func TestProveConsentWithheldNeverStored(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "store")
	const secretI, secretH, control = "velvetokapi-ingest", "velvetokapi-collector", "ambernarwhal-consented"
	ev := func(id, phrase, consent string) string {
		return `{"event_id":"` + id + `","timestamp":"2026-11-01T00:00:00Z","model_version":"m","user_id":"uid-` + phrase + `",` +
			`"session_id":"s-` + phrase + `","input":{"text":"` + phrase + `","context_refs":["` + phrase + `"]},` +
			`"output":{"text":"` + phrase + `"},"explicit_feedback":{"thumb":"down","reason_text":"` + phrase + `","user_edit":"` + phrase + `"},` +
			`"label":{"grade":"fail","rubric_notes":"` + phrase + `"},"custom":{"` + phrase + `":"` + phrase + `"},"consent":` + consent + `}`
	}
	noConsent := []string{`{"analytics":false}`, `{"analytics":false,"training":true}`, `{"training":true,"analytics":false}`}
	var in []string
	for i, c := range noConsent {
		in = append(in, ev(fmt.Sprintf("nc-i-%d", i), secretI, c))
	}
	// Consent withheld and invalid otherwise too: refused for the other
	// reason, still nothing of it kept (not even a quoted value).
	malformed := func(id, phrase string) []string {
		e := ev(id, phrase, `{"analytics":false}`)
		return []string{
			strings.Replace(e, `"output":{`, `"output":{"latency_ms":-1,`, 1),
			strings.Replace(e, `"2026-11-01T00:00:00Z"`, `"`+phrase+`"`, 1),
			strings.Replace(e, `"model_version":"m",`, ``, 1),
			strings.Replace(e, `"consent":{`, `"consent":{"training":true,"training":true,`, 1),
		}
	}
	in = append(in, malformed("nc-im", secretI)...)
	in = append(in, ev("ok-1", control, `{"analytics":true}`))
	rej := filepath.Join(dir, "rejects.jsonl")
	s, r := ingestJSON(t, []byte(strings.Join(in, "\n")+"\n"), "--store", st, "--rejects", rej, "-")
	if r.code != 3 || s.Accepted != 1 || s.Rejected != 7 || s.Reasons["no_consent"] != 3 || s.Reasons["invalid_field"] != 2 {
		t.Fatalf("ingest: exit %d %+v %s", r.code, s, r.stderr)
	}
	if b, _ := os.ReadFile(rej); len(nonEmptyLines(b)) != 7 || strings.Contains(string(b), `"raw"`) {
		t.Fatalf("rejects file: %s", b)
	}

	srv := startServe(t, nil, "--store", st, "--http", "127.0.0.1:0")
	var bodies []string
	for i, c := range noConsent {
		bodies = append(bodies, ev(fmt.Sprintf("nc-h-%d", i), secretH, c))
	}
	bodies = append(bodies, strings.Join(bodies, "\n")+"\n", "["+strings.Join(bodies, ",")+"]")
	// Malformed too (the answer quotes an invalid timestamp back to its
	// sender, masked: that case is left out, the answer is not storage).
	bad := malformed("nc-hm", secretH)
	bodies = append(bodies, bad[0]+"\n"+bad[2]+"\n"+bad[3]+"\n")
	for i, body := range bodies {
		code, ans, err := tryPost(httpClient(1), srv.http, body)
		var a postAnswer
		json.Unmarshal(ans, &a)
		if err != nil || code != http.StatusOK || a.Accepted != 0 || a.Rejected == 0 || (i < 5 && a.Rejected != a.Reasons["no_consent"]) {
			t.Fatalf("POST %d: %d %v %s", i, code, err, ans)
		}
		for _, p := range []string{secretH, "velvetokapi"} {
			if strings.Contains(string(ans), p) {
				t.Errorf("POST %d: the answer repeats the withheld event's text: %s", i, ans)
			}
		}
		os.WriteFile(filepath.Join(dir, fmt.Sprintf("http-answer-%d.json", i)), ans, 0o644)
	}
	srv.stop(t)
	os.WriteFile(filepath.Join(dir, "serve-stderr.log"), []byte(srv.stderr.String()), 0o644)

	if hits := filesContaining(t, st, control); len(hits) == 0 {
		t.Fatalf("the consented control event's text is in no store file: the scan cannot see anything")
	}
	for _, p := range []string{"velvetokapi"} {
		if hits := filesContaining(t, dir, p); len(hits) > 0 {
			t.Errorf("withheld event's text %q found in %v", p, hits)
		}
	}
	if ids := storedIDs(t, st); strings.Join(ids, ",") != "ok-1" {
		t.Errorf("stored %v", ids)
	}
}

// ---------------------------------------------------------------------------
// 4. Reviewers grading the same items at once.

// TestProveConcurrentReviewers: three reviewers (alice, bob, carol, named by
// their keys' comments) grade the same five items at the same moment over
// SSH. After shutdown every one of the 15 labels is stored under the right
// name, and agreement pairs each two reviewers over those five items.
func TestProveConcurrentReviewers(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	if s, r := ingestJSON(t, []byte(events("item", "u1", 8)), "--store", st, "-"); r.code != 0 || s.Accepted != 8 {
		t.Fatalf("ingest: %d %+v %s", r.code, s, r.stderr)
	}
	names := []string{"alice", "bob", "carol"}
	var keyLines strings.Builder
	signers := map[string]gossh.Signer{}
	for _, n := range names {
		signers[n] = sshKey(t)
		keyLines.WriteString(strings.TrimSpace(string(gossh.MarshalAuthorizedKey(signers[n].PublicKey()))) + " " + n + "\n")
	}
	keys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(keys, []byte(keyLines.String()), 0o600)
	s := startServe(t, nil, "--store", st, "--http", "off", "--ssh", "127.0.0.1:0", "--authorized-keys", keys)
	pem, err := os.ReadFile(filepath.Join(st, "ssh_host_ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	hk, err := gossh.ParsePrivateKey(pem)
	if err != nil {
		t.Fatal(err)
	}
	var clients []*sshTerm
	for _, n := range names {
		// The SSH user name is deliberately not the reviewer's name.
		c, err := sshDial(s.ssh, "reviewer", signers[n], hk.PublicKey())
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		clients = append(clients, c)
	}
	for _, c := range clients {
		c.waitFor(t, "kiwi")
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.keys(t, "ppppp"); c.keys(t, "q") })
	}
	wg.Wait()
	for _, c := range clients {
		c.wait(t)
	}
	s.stop(t)

	labels := exportLabels(t, st)
	byReviewer := map[string][]string{}
	for _, l := range labels {
		if l.Grade != "pass" {
			t.Errorf("label %+v: want pass", l)
		}
		byReviewer[l.Reviewer] = append(byReviewer[l.Reviewer], l.EventID)
	}
	if len(labels) != 15 || len(byReviewer) != 3 {
		t.Fatalf("%d labels by %d reviewers, want 15 by 3: %v", len(labels), len(byReviewer), byReviewer)
	}
	first := sorted(byReviewer["alice"])
	for _, n := range names {
		got := sorted(byReviewer[n])
		if len(got) != 5 || len(slices.Compact(slices.Clone(got))) != 5 || !slices.Equal(got, first) {
			t.Errorf("%s graded %v; alice graded %v", n, got, first)
		}
	}

	r := run(t, nil, "agreement", "--json", "--store", st)
	if r.code != 0 {
		t.Fatalf("agreement: %d %s", r.code, r.stderr)
	}
	var ag struct {
		Pairs []struct {
			A, B string
			N    int
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &ag); err != nil {
		t.Fatalf("agreement --json %q: %v", r.stdout, err)
	}
	pairs := map[string]int{}
	for _, p := range ag.Pairs {
		ab := []string{p.A, p.B}
		slices.Sort(ab)
		pairs[strings.Join(ab, "+")] = p.N
	}
	want := map[string]int{"alice+bob": 5, "alice+carol": 5, "bob+carol": 5}
	if fmt.Sprint(pairs) != fmt.Sprint(want) {
		t.Errorf("agreement pairs %v, want %v\n%s", pairs, want, r.stdout)
	}
}

// ---------------------------------------------------------------------------
// 5. Over-long and adversarial input.

// advCase is a kind of input line: make builds it from a unique event id;
// reason is the expected reject reason, "" for a line that is stored.
type advCase struct {
	name, reason string
	make         func(id string) string
}

const advTS = `"timestamp":"2026-11-01T00:00:00Z"`

func advEv(id, more string) string {
	return `{"event_id":"` + id + `",` + advTS + `,"model_version":"m"` + more + `}`
}

var advMalformed = []advCase{
	// invalid_json
	{"truncated", "invalid_json", func(id string) string { return strings.TrimSuffix(advEv(id, ""), "}") }},
	{"prose", "invalid_json", func(id string) string { return "not json " + id }},
	{"array", "invalid_json", func(id string) string { return "[" + advEv(id, "") + "]" }},
	{"string", "invalid_json", func(id string) string { return `"` + id + `"` }},
	{"null", "invalid_json", func(string) string { return "null" }},
	{"number", "invalid_json", func(string) string { return "12345" }},
	{"trailing-comma", "invalid_json", func(id string) string { return advEv(id, ",") }},
	{"trailing-data", "invalid_json", func(id string) string { return advEv(id, "") + " x" }},
	{"two-objects", "invalid_json", func(id string) string { return advEv(id, "") + advEv(id+"b", "") }},
	{"single-quotes", "invalid_json", func(id string) string { return `{'event_id':'` + id + `'}` }},
	{"nan", "invalid_json", func(id string) string { return advEv(id, `,"x":NaN`) }},
	{"leading-zero", "invalid_json", func(id string) string { return advEv(id, `,"x":01`) }},
	{"bad-literal", "invalid_json", func(id string) string { return advEv(id, `,"x":tru`) }},
	{"control-char", "invalid_json", func(id string) string { return advEv(id, ",\"input\":{\"text\":\"a\x01b\"}") }},
	{"raw-tab", "invalid_json", func(id string) string { return advEv(id, ",\"input\":{\"text\":\"a\tb\"}") }},
	{"bad-escape", "invalid_json", func(id string) string { return advEv(id, `,"input":{"text":"a\qb"}`) }},
	{"short-unicode", "invalid_json", func(id string) string { return advEv(id, `,"input":{"text":"a\u12"}`) }},
	{"deep-nesting", "invalid_json", func(id string) string {
		return advEv(id, `,"x":`+strings.Repeat("[", 200)+strings.Repeat("]", 200))
	}},
	{"unterminated-string", "invalid_json", func(id string) string { return `{"event_id":"` + id }},
	{"missing-colon", "invalid_json", func(id string) string { return `{"event_id" "` + id + `"}` }},
	// invalid_utf8
	{"utf8-ff", "invalid_utf8", func(id string) string { return advEv(id, ",\"input\":{\"text\":\"a\xffb\"}") }},
	{"utf8-overlong", "invalid_utf8", func(id string) string { return advEv(id, ",\"input\":{\"text\":\"\xc0\xaf\"}") }},
	{"utf8-surrogate", "invalid_utf8", func(id string) string { return advEv(id, ",\"input\":{\"text\":\"\xed\xa0\x80\"}") }},
	{"utf8-cut", "invalid_utf8", func(id string) string { return advEv(id, ",\"input\":{\"text\":\"\xe2\x82\"}") }},
	{"utf8-in-key", "invalid_utf8", func(id string) string { return advEv(id, ",\"k\xfe\":1") }},
	// duplicate_key
	{"dup-top", "duplicate_key", func(id string) string { return advEv(id, `,"model_version":"m2"`) }},
	{"dup-nested", "duplicate_key", func(id string) string { return advEv(id, `,"output":{"text":"a","text":"b"}`) }},
	{"dup-escaped", "duplicate_key", func(id string) string { return advEv(id, `,"event\u005fid":"other"`) }},
	{"dup-in-unknown", "duplicate_key", func(id string) string { return advEv(id, `,"custom":{"a":1,"a":2}`) }},
	{"dup-consent", "duplicate_key", func(id string) string {
		return advEv(id, `,"consent":{"analytics":true,"analytics":false}`)
	}},
	// missing_field
	{"no-id", "missing_field", func(string) string { return `{` + advTS + `,"model_version":"m"}` }},
	{"no-timestamp", "missing_field", func(id string) string { return `{"event_id":"` + id + `","model_version":"m"}` }},
	{"no-model", "missing_field", func(id string) string { return `{"event_id":"` + id + `",` + advTS + `}` }},
	{"empty-object", "missing_field", func(string) string { return `{}` }},
	{"null-timestamp", "invalid_field", func(id string) string { return `{"event_id":"` + id + `","timestamp":null,"model_version":"m"}` }},
	{"wrong-case-key", "missing_field", func(id string) string { return `{"Event_ID":"` + id + `",` + advTS + `,"model_version":"m"}` }},
	// invalid_field: wrong types
	{"id-number", "invalid_field", func(string) string { return `{"event_id":42,` + advTS + `,"model_version":"m"}` }},
	{"id-empty", "invalid_field", func(string) string { return advEv("", "") }},
	{"id-129", "invalid_field", func(id string) string { return advEv(id+"-"+strings.Repeat("x", 129), "") }},
	{"id-control", "invalid_field", func(id string) string { return advEv(id+`\u0001`, "") }},
	{"ts-prose", "invalid_field", func(id string) string {
		return `{"event_id":"` + id + `","timestamp":"yesterday","model_version":"m"}`
	}},
	{"ts-number", "invalid_field", func(id string) string {
		return `{"event_id":"` + id + `","timestamp":1700000000,"model_version":"m"}`
	}},
	{"ts-year", "invalid_field", func(id string) string {
		return `{"event_id":"` + id + `","timestamp":"1800-01-01T00:00:00Z","model_version":"m"}`
	}},
	{"ts-no-zone", "invalid_field", func(id string) string {
		return `{"event_id":"` + id + `","timestamp":"2026-11-01T00:00:00","model_version":"m"}`
	}},
	{"model-number", "invalid_field", func(id string) string { return `{"event_id":"` + id + `",` + advTS + `,"model_version":7}` }},
	{"model-empty", "invalid_field", func(id string) string { return `{"event_id":"` + id + `",` + advTS + `,"model_version":""}` }},
	{"user-number", "invalid_field", func(id string) string { return advEv(id, `,"user_id":42`) }},
	{"input-string", "invalid_field", func(id string) string { return advEv(id, `,"input":"text"`) }},
	{"text-number", "invalid_field", func(id string) string { return advEv(id, `,"input":{"text":5}`) }},
	{"refs-numbers", "invalid_field", func(id string) string { return advEv(id, `,"input":{"context_refs":[1]}`) }},
	{"latency-string", "invalid_field", func(id string) string { return advEv(id, `,"output":{"latency_ms":"5"}`) }},
	{"thumb-sideways", "invalid_field", func(id string) string { return advEv(id, `,"explicit_feedback":{"thumb":"sideways"}`) }},
	{"thumb-empty", "invalid_field", func(id string) string { return advEv(id, `,"explicit_feedback":{"thumb":""}`) }},
	{"thumb-bool", "invalid_field", func(id string) string { return advEv(id, `,"explicit_feedback":{"thumb":true}`) }},
	{"reason-empty", "invalid_field", func(id string) string { return advEv(id, `,"explicit_feedback":{"reason_codes":[""]}`) }},
	{"dwell-bool", "invalid_field", func(id string) string { return advEv(id, `,"implicit_feedback":{"dwell_ms":true}`) }},
	{"abandoned-string", "invalid_field", func(id string) string { return advEv(id, `,"implicit_feedback":{"abandoned":"yes"}`) }},
	{"consent-string", "invalid_field", func(id string) string { return advEv(id, `,"consent":{"analytics":"no"}`) }},
	{"grade-great", "invalid_field", func(id string) string { return advEv(id, `,"label":{"grade":"great"}`) }},
	{"experiment-array", "invalid_field", func(id string) string { return advEv(id, `,"experiment":[]`) }},
	// invalid_field: out of range
	{"latency-negative", "invalid_field", func(id string) string { return advEv(id, `,"output":{"latency_ms":-1}`) }},
	{"latency-huge", "invalid_field", func(id string) string { return advEv(id, `,"output":{"latency_ms":1e999}`) }},
	{"confidence-1.5", "invalid_field", func(id string) string { return advEv(id, `,"output":{"confidence":1.5}`) }},
	{"cost-negative", "invalid_field", func(id string) string { return advEv(id, `,"output":{"cost_usd":-0.01}`) }},
	{"rating-7", "invalid_field", func(id string) string { return advEv(id, `,"explicit_feedback":{"rating":7}`) }},
	{"rating-0", "invalid_field", func(id string) string { return advEv(id, `,"explicit_feedback":{"rating":0}`) }},
	{"rating-2.5", "invalid_field", func(id string) string { return advEv(id, `,"explicit_feedback":{"rating":2.5}`) }},
	{"retries-negative", "invalid_field", func(id string) string { return advEv(id, `,"implicit_feedback":{"retries":-1}`) }},
	{"retries-huge", "invalid_field", func(id string) string { return advEv(id, `,"implicit_feedback":{"retries":1e12}`) }},
	{"toxicity-2", "invalid_field", func(id string) string { return advEv(id, `,"automated_checks":{"toxicity":2}`) }},
	{"turns-1e400", "invalid_field", func(id string) string { return advEv(id, `,"business":{"turns":1e400}`) }},
	{"propensity-0", "invalid_field", func(id string) string { return advEv(id, `,"experiment":{"propensity":0}`) }},
	{"propensity-1.1", "invalid_field", func(id string) string { return advEv(id, `,"experiment":{"propensity":1.1}`) }},
	{"position-negative", "invalid_field", func(id string) string { return advEv(id, `,"experiment":{"position":-3}`) }},
	// pii_in_id
	{"id-email", "pii_in_id", func(id string) string { return advEv(id+"-jane.doe@example.com", "") }},
	// line_too_long (a few: each is over 1 MiB)
	{"long-text", "line_too_long", func(id string) string {
		return advEv(id, `,"input":{"text":"`+strings.Repeat("lorem ipsum ", (1<<20)/12+10)+`"}`)
	}},
	{"long-garbage", "line_too_long", func(string) string { return strings.Repeat("x", 1<<20+1) }},
}

var advValid = []advCase{
	{"minimal", "", func(id string) string { return advEv(id, "") }},
	{"full", "", func(id string) string {
		return advEv(id, `,"user_id":"u-`+id+`","input":{"text":"hi","context_refs":["a"]},"output":{"text":"yo","latency_ms":0,"confidence":1,"cost_usd":0},`+
			`"explicit_feedback":{"thumb":"up","rating":5,"reason_codes":["x"]},"implicit_feedback":{"dwell_ms":0,"retries":0},`+
			`"experiment":{"id":"e","arm":"a","position":0,"propensity":1},"consent":{"analytics":true,"training":false}`)
	}},
	{"nulls", "", func(id string) string {
		return advEv(id, `,"user_id":null,"input":null,"explicit_feedback":{"thumb":null,"rating":null},"consent":null`)
	}},
	{"escapes", "", func(id string) string { return advEv(id, `,"input":{"text":"\ud83d\ude00 \u00e9 \"q\" \\ \/"}`) }},
	{"lone-surrogate-escape", "", func(id string) string { return advEv(id, `,"input":{"text":"\ud800"}`) }},
	{"unknown-fields", "", func(id string) string { return advEv(id, `,"extra":{"a":[1,{"b":null}]},"output":{"mystery":true}`) }},
	{"nested-64", "", func(id string) string {
		return advEv(id, `,"x":`+strings.Repeat("[", 60)+strings.Repeat("]", 60))
	}},
	{"crlf", "", func(id string) string { return advEv(id, "") + "\r" }},
	{"spaces", "", func(id string) string { return "  \t" + advEv(id, "") + "  " }},
	{"exactly-1MiB", "", func(id string) string {
		l := advEv(id, `,"input":{"text":"`+"%s"+`"}`)
		return fmt.Sprintf(l, strings.Repeat("a", 1<<20-len(l)+2))
	}},
}

// TestProveAdversarialInput ingests a generated file of 2,100 malformed
// lines of every kind mixed with valid, blank, duplicate, conflicting and
// consent-withheld lines. The summary's counts match what was generated
// exactly, the rejects file has one line per refused line with its line
// number and the right reason, and exactly the valid events are stored.
func TestProveAdversarialInput(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	lineNo := 0
	wantReason := map[int]string{} // line -> reject reason
	withheld := map[int]bool{}     // lines that say consent.analytics is false
	wantIDs := map[string]string{} // stored id -> its line
	want := summary{Reasons: map[string]int{}}
	add := func(line, reason, id string) {
		lineNo++
		b.WriteString(line + "\n")
		withheld[lineNo] = strings.Contains(line, `"analytics":false`)
		want.Read++
		switch reason {
		case "":
			want.Accepted++
			wantIDs[id] = line
		case "blank":
			want.Blank++
		case "duplicate":
			want.Duplicates++
		default:
			want.Rejected++
			want.Reasons[reason]++
			wantReason[lineNo] = reason
		}
	}
	// Line 1 starts with a byte-order mark.
	add("\xef\xbb\xbf"+advEv("adv-bom", ""), "", "adv-bom")
	malformed, longLines := 0, 0
	for i := 0; malformed < 2100; i++ {
		c := advMalformed[i%len(advMalformed)]
		if c.reason == "line_too_long" {
			if longLines >= 4 {
				continue
			}
			longLines++
		}
		add(c.make(fmt.Sprintf("bad-%d", i)), c.reason, "")
		malformed++
		if i%2 == 0 {
			v := advValid[(i/2)%len(advValid)]
			if v.name == "exactly-1MiB" && i > 100 {
				v = advValid[0]
			}
			id := fmt.Sprintf("ok-%d", i)
			add(v.make(id), "", id)
		}
		switch i % 20 {
		case 3:
			add("", "blank", "")
			add(" \t\r", "blank", "")
		case 7: // the same line again: a duplicate
			id := fmt.Sprintf("ok-%d", i-1)
			if l, ok := wantIDs[id]; ok {
				add(l, "duplicate", "")
			}
		case 11: // same id, different content: a conflict
			add(advEv("adv-bom", `,"locale":"de-DE"`), "conflict", "")
		case 13:
			add(advEv(fmt.Sprintf("nc-%d", i), `,"consent":{"analytics":false}`), "no_consent", "")
		}
	}
	input := filepath.Join(dir, "adversarial.jsonl")
	if err := os.WriteFile(input, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	st, rej := filepath.Join(dir, "s"), filepath.Join(dir, "rejects.jsonl")
	start := time.Now()
	got, r := ingestJSON(t, nil, "--store", st, "--rejects", rej, input)
	t.Logf("%d lines (%d malformed, %d MiB) ingested in %v", want.Read, malformed, len(b.String())>>20, time.Since(start))
	if r.code != 3 {
		t.Errorf("exit %d, want 3: %s", r.code, r.stderr)
	}
	if got.Read != want.Read || got.Accepted != want.Accepted || got.Duplicates != want.Duplicates ||
		got.Rejected != want.Rejected || got.Blank != want.Blank || fmt.Sprint(got.Reasons) != fmt.Sprint(want.Reasons) {
		t.Errorf("summary\n got %+v\nwant %+v", got, want)
	}

	rb, err := os.ReadFile(rej)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[int]bool{}
	wrong := 0
	for _, l := range nonEmptyLines(rb) {
		var rj struct {
			Line          int
			Reason, Error string
			Raw           *string
		}
		if err := json.Unmarshal([]byte(l), &rj); err != nil {
			t.Fatalf("rejects line %q: %v", l, err)
		}
		if seen[rj.Line] {
			t.Errorf("line %d rejected twice", rj.Line)
		}
		seen[rj.Line] = true
		if w := wantReason[rj.Line]; rj.Reason != w {
			if wrong++; wrong <= 20 {
				t.Errorf("line %d: reason %q (%s), want %q", rj.Line, rj.Reason, rj.Error, w)
			}
		}
		if rj.Error == "" {
			t.Errorf("line %d: no error message", rj.Line)
		}
		// Nothing of a line whose user withheld consent is kept, even when
		// it was refused for another reason; every other line keeps raw.
		if (rj.Raw == nil) != withheld[rj.Line] {
			t.Errorf("line %d (%s): raw kept: %v, consent withheld: %v", rj.Line, rj.Reason, rj.Raw != nil, withheld[rj.Line])
		}
		if rj.Raw != nil && len(*rj.Raw) > 5<<10 {
			t.Errorf("line %d: raw of %d bytes", rj.Line, len(*rj.Raw))
		}
	}
	if wrong > 20 {
		t.Errorf("... %d lines with the wrong reason in all", wrong)
	}
	for l, reason := range wantReason {
		if !seen[l] {
			t.Errorf("line %d (%s) is not in the rejects file", l, reason)
		}
	}
	ids := storedIDs(t, st)
	var wantList []string
	for id := range wantIDs {
		wantList = append(wantList, id)
	}
	slices.Sort(wantList)
	if !slices.Equal(ids, wantList) {
		t.Errorf("stored %d events, want %d", len(ids), len(wantList))
	}
}
