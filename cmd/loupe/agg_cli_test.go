package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/loupe-dev/loupe/ingest"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/store"
)

// edgeStats reads doctor --json's edge_sampling block.
func edgeStats(t *testing.T, dir string) (unkept, dropped int64) {
	t.Helper()
	r := run(t, nil, "doctor", "--json", "--store", dir)
	var out struct {
		Edge *struct {
			Unkept  int64 `json:"unkept"`
			Dropped int64 `json:"dropped_signals"`
		} `json:"edge_sampling"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Edge == nil {
		t.Fatalf("doctor --json: %v %s %s", err, r.stdout, r.stderr)
	}
	return out.Edge.Unkept, out.Edge.Dropped
}

// TestEdgeSamplingStoreThroughBinary fills a store with edge sampling on
// (the keep rule set in process), then works on it with the binary:
// doctor shows the counts, a process without sampling sees duplicates and
// still counts a late thumb into the aggregates, backup + restore keeps
// aggregates and stubs, forget --user erases a stub's contribution.
func TestEdgeSamplingStoreThroughBinary(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	lines := run(t, nil, "gen", "--n", "400", "--seed", "3").stdout
	lines += `{"event_id":"agg-u","timestamp":"2026-11-20T10:00:00Z","model_version":"m1","user_id":"u-agg","input":{"text":"hello"}}` + "\n"
	st, err := store.Open(a, store.Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	st.SetKeep(func(s *loop.Summary) bool { return s.Thumb == loop.ThumbDown })
	sum, err := ingest.New(st, ingest.PipelineOptions{}).ReadJSONL(context.Background(), bytes.NewReader([]byte(lines)), ingest.ReadOptions{Name: "-"})
	if err != nil || sum.Aggregated == 0 || sum.Dropped == 0 {
		t.Fatalf("ingest with sampling: %+v %v", sum, err)
	}
	unkept, dropped, err := st.AggregateStats()
	if err != nil || unkept == 0 {
		t.Fatal(unkept, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if u, d := edgeStats(t, a); u != unkept || d != dropped {
		t.Fatalf("doctor: %d unkept, %d dropped; the store has %d, %d", u, d, unkept, dropped)
	}
	// The rates over the sample plus the aggregates are those of a store
	// that kept everything (the read side counts the aggregates).
	full := filepath.Join(dir, "full")
	if r := run(t, []byte(lines), "ingest", "--store", full, "-"); r.code != 0 {
		t.Fatalf("full ingest: %d %s", r.code, r.stderr)
	}
	series := func(dir, metric string) string {
		r := run(t, nil, "trends", "--json", "--metric", metric, "--store", dir)
		var out struct {
			Series json.RawMessage `json:"series"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || r.code != 0 {
			t.Fatalf("trends %s: %d %v %s", metric, r.code, err, r.stderr)
		}
		return string(out.Series)
	}
	for _, m := range []string{"thumbs_down_rate", "escalation_rate", "abandon_rate", "policy_violation_rate", "resolution_rate"} {
		if got, want := series(a, m), series(full, m); got != want || len(want) < 100 {
			t.Errorf("trends %s over the sampled store differ from the full one:\n%.300s\n%.300s", m, got, want)
		}
	}
	// Everything again, through the binary (no sampling): duplicates.
	r := run(t, []byte(lines), "ingest", "--json", "--store", a, "-")
	var again ingest.Summary
	if err := json.Unmarshal([]byte(r.stdout), &again); err != nil || r.code != 0 || again.Duplicates+again.Withdrawn != again.Read-again.Blank || again.Duplicates == 0 {
		t.Fatalf("re-ingest: %d %s %s", r.code, r.stdout, r.stderr)
	}
	// A late thumb for the unkept interaction is counted, exit 0.
	thumb := `{"kind":"signal","signal_id":"agg-s","event_id":"agg-u","timestamp":"2026-11-20T10:05:00Z","explicit_feedback":{"thumb":"up"}}` + "\n"
	r = run(t, []byte(thumb), "ingest", "--json", "--store", a, "-")
	if r.code != 0 || !bytes.Contains([]byte(r.stdout), []byte(`"aggregated":1`)) {
		t.Fatalf("late thumb: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, nil, "export", "events", "--store", a); bytes.Contains([]byte(r.stdout), []byte(`"agg-u"`)) {
		t.Fatal("export lists an unkept interaction")
	}

	bak := filepath.Join(dir, "x.bak")
	if r := run(t, nil, "backup", bak, "--store", a); r.code != 0 {
		t.Fatalf("backup: %s", r.stderr)
	}
	if r := run(t, nil, "restore", bak, "--store", b); r.code != 0 {
		t.Fatalf("restore: %s", r.stderr)
	}
	tables := map[string]*agg.Table{}
	for _, d := range []string{a, b} {
		s, err := store.Open(d, store.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if tables[d], err = s.Aggregates(); err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	if tables[a].Events() != unkept || !agg.Equal(tables[a], tables[b]) {
		t.Fatalf("aggregates after restore: %d vs %d events", tables[a].Events(), tables[b].Events())
	}
	// The restored store still has the stubs: forget --user finds one
	// and takes its count out.
	if r := run(t, nil, "forget", "--user", "u-agg", "--store", b); r.code != 0 {
		t.Fatalf("forget: %s", r.stderr)
	}
	if u, _ := edgeStats(t, b); u != unkept-1 {
		t.Fatalf("after forget: %d unkept, want %d", u, unkept-1)
	}
}
