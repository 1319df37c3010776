package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// storedRE cuts the count of interactions stored in full from an export of
// aggregates: it is the one thing edge sampling changes there.
var storedRE = regexp.MustCompile(`"stored":[0-9]+,`)

func keepConfig(t *testing.T, share string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "loupe.yaml")
	// Rate guardrails only: latency tests run on the sketch's values (each
	// within 0.5%), which can move a latency p-value and so the
	// false-coverage-adjusted confidence of every alert's interval.
	y := "intake:\n  keep:\n    - {name: sample, kind: random, share: " + share + "}\n    - {kind: thumbs_down}\n    - {kind: escalated}\n" +
		"guardrails:\n  metrics:\n    - {metric: thumbs_down_rate, alert: 0.03, rollback: 0.05}\n    - {metric: escalation_rate, alert: 0.03, rollback: 0.05}\n    - {metric: abandon_rate, alert: 0.03, rollback: 0.05}\n"
	if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestIngestEdgeSampling: `loupe ingest` with intake.keep stores only what
// the rules pick, and its aggregates, trends and alerts are those of an
// ingest that kept everything: exact rates over every interaction.
func TestIngestEdgeSampling(t *testing.T) {
	dir := t.TempDir()
	lines := run(t, nil, "gen", "--n", "4000", "--seed", "17").stdout
	full, sampled := filepath.Join(dir, "full"), filepath.Join(dir, "sampled")
	cfg := keepConfig(t, "0.1")
	run(t, []byte(lines), "ingest", "--store", full, "-")
	_, r := ingestJSON(t, []byte(lines), "--store", sampled, "--config", cfg, "-")
	if r.code != 0 && r.code != exitPartial {
		t.Fatalf("ingest: exit %d: %s", r.code, r.stderr)
	}
	all, kept := exportMap(t, full), exportMap(t, sampled)
	if len(kept) == 0 || len(kept) > len(all)/2 {
		t.Fatalf("sampled store holds %d of %d events: want a sample", len(kept), len(all))
	}
	for id, l := range kept {
		if all[id] != l {
			t.Fatalf("kept event %s differs from the unsampled store's:\n got %s\nwant %s", id, l, all[id])
		}
	}
	fa := run(t, nil, "export", "aggregates", "--store", full).stdout
	sa := run(t, nil, "export", "aggregates", "--store", sampled).stdout
	if !strings.Contains(fa, `"interactions":`) || storedRE.ReplaceAllString(fa, "") != storedRE.ReplaceAllString(sa, "") {
		t.Fatalf("aggregates differ:\nsampled %s\n   full %s", sa, fa)
	}
	alerted := false
	for _, m := range []string{"thumbs_down_rate", "escalation_rate", "resolution_rate", "reason:factual_error"} {
		for _, by := range []string{"", "model", "segment"} {
			args := []string{"trends", "--json", "--metric", m, "--days", "60", "--config", cfg}
			if by != "" {
				args = append(args, "--by", by)
			}
			// The series and the alerts are over every interaction; the
			// late-signal counts are over the stored ones.
			part := func(store string) string {
				r := run(t, nil, append(args, "--store", store)...)
				var v struct {
					Series, Alerts json.RawMessage
				}
				if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 {
					t.Fatalf("trends %s: exit %d, %v: %.300s", strings.Join(args, " "), r.code, err, r.stderr)
				}
				return string(v.Series) + "\n" + string(v.Alerts)
			}
			f, s := part(full), part(sampled)
			alerted = alerted || strings.Contains(f, `"action":"roll_back"`)
			if f != s {
				t.Fatalf("trends %s: the sampled store differs from the full one:\nsampled %.2000s\n   full %.2000s", strings.Join(args, " "), s, f)
			}
		}
	}
	if !alerted {
		t.Fatal("no alert in the full store: the alerts comparison proves nothing")
	}
}

// TestServeEdgeSampling: the HTTP collector follows the same rules.
func TestServeEdgeSampling(t *testing.T) {
	dir := t.TempDir()
	st := filepath.Join(dir, "s")
	s := startServe(t, nil, "--store", st, "--http", "127.0.0.1:0", "--config", keepConfig(t, "0.05"))
	if a := postEvents(t, s.http, string(genLines(t, "600", "5"))); a.code != 200 {
		t.Fatalf("POST: %d %s", a.code, a.raw)
	}
	s.stop(t)
	ag := run(t, nil, "export", "aggregates", "--store", st).stdout
	total, stored := 0, 0
	for _, m := range regexp.MustCompile(`"interactions":([0-9]+),"stored":([0-9]+)`).FindAllStringSubmatch(ag, -1) {
		total += must(strconv.Atoi(m[1]))
		stored += must(strconv.Atoi(m[2]))
	}
	ev := exportMap(t, st)
	if total < 500 || stored != len(ev) || stored >= total/2 {
		t.Fatalf("collector with 5%% kept: %d interactions counted, %d stored (%d exported)", total, stored, len(ev))
	}
}

func must(n int, err error) int {
	if err != nil {
		panic(err)
	}
	return n
}
