package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
)

// writeAggregates writes tab's cells into the closed store at dir as
// store/agg.go lays them out (Z <day> <model> 0x00 <segment> 0x00 <task>):
// the readers are tested here on a store as edge sampling leaves it,
// whatever writes it.
func writeAggregates(t *testing.T, dir string, tab *agg.Table) {
	t.Helper()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithCompression(options.None).WithSyncWrites(true))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(txn *badger.Txn) error {
		var err error
		tab.Each(func(k agg.Key, c *agg.Cell) {
			key := []byte{'Z'}
			key = binary.BigEndian.AppendUint64(key, uint64(k.Day)^(1<<63))
			key = append(append(append(append(append(key, k.Model...), 0), k.Segment...), 0), k.Task...)
			if e := txn.Set(key, agg.AppendCell(nil, c)); e != nil && err == nil {
				err = e
			}
		})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// sampledStores ingests generated interactions twice: all of them into
// whole, and into sampled only those edge sampling would keep (every
// thumbs-down, and one in four of the rest by a hash of the id), with the
// others' aggregates written beside them. It returns the two stores, a
// config guarding rates only (latency from the aggregates is within 0.5%,
// which would move the significance of latency comparisons), and how many
// interactions the sampled store holds in full of how many.
func sampledStores(t *testing.T) (whole, sampled, cfg string, kept, all int) {
	t.Helper()
	dir := t.TempDir()
	whole, sampled = filepath.Join(dir, "whole"), filepath.Join(dir, "sampled")
	lines := genLines(t, "8000", "3")
	ingestJSON(t, lines, "--store", whole, "-")

	st, err := store.Open(whole, store.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{}
	rest := agg.New()
	err = st.Summaries(func(s loop.Summary) bool {
		all++
		h := fnv.New32a()
		h.Write([]byte(s.ID))
		if s.Thumb == loop.ThumbDown || h.Sum32()%4 == 0 {
			keep[s.ID] = true
			kept++
		} else {
			rest.Add(&s, 1)
		}
		return true
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	var keptLines bytes.Buffer
	for _, l := range bytes.Split(bytes.TrimSpace(lines), []byte("\n")) {
		var e struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		if keep[e.EventID] {
			keptLines.Write(append(l, '\n'))
		}
	}
	ingestJSON(t, keptLines.Bytes(), "--store", sampled, "-")
	writeAggregates(t, sampled, rest)
	if kept == 0 || kept == all || rest.Events() != int64(all-kept) {
		t.Fatalf("kept %d of %d, aggregated %d", kept, all, rest.Events())
	}

	cfg = filepath.Join(dir, "loupe.yaml")
	y := `guardrails:
  alpha: 0.05
  min_n: 30
  metrics:
    - metric: thumbs_down_rate
      alert: 0.02
      rollback: 0.04
    - metric: escalation_rate
      alert: 0.01
      rollback: 0.05
    - metric: reason:factual_error
      alert: 0.02
      rollback: 0.05
`
	if err := os.WriteFile(cfg, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	return whole, sampled, cfg, kept, all
}

// TestTrendsReportDoctorDailyOverSampleAndAggregates: trends (series,
// goal, alerts), the blueprint's alerts, the daily job's alerts and the
// report read the aggregates, so a store that keeps a quarter of its
// interactions in full shows every rate as the store that keeps all of
// them does, and says how many are stored in full.
func TestTrendsReportDoctorDailyOverSampleAndAggregates(t *testing.T) {
	whole, sampled, cfg, kept, all := sampledStores(t)
	for _, c := range [][]string{
		{"--metric", "thumbs_down_rate", "--by", "model"},
		{"--metric", "escalation_rate", "--by", "segment"},
		{"--metric", "reason:factual_error", "--by", "task"},
	} {
		args := append([]string{"trends", "--json", "--config", cfg}, c...)
		w := run(t, nil, append(args, "--store", whole)...)
		s := run(t, nil, append(args, "--store", sampled)...)
		if w.code != 0 || s.code != 0 {
			t.Fatalf("trends %v: %d %s / %d %s", c, w.code, w.stderr, s.code, s.stderr)
		}
		if w.stdout != s.stdout {
			t.Errorf("trends %v differs:\nall stored: %s\n   sampled: %s", c, w.stdout, s.stdout)
		}
		var out struct{ Alerts []trend.Alert }
		json.Unmarshal([]byte(w.stdout), &out)
		if c[1] == "thumbs_down_rate" && len(out.Alerts) == 0 {
			t.Fatal("no alerts: the comparison of alerts compares nothing")
		}
	}

	header := fmt.Sprintf("%d interactions, %d stored in full", all, kept)
	text := run(t, nil, "trends", "--metric", "thumbs_down_rate", "--config", cfg, "--store", sampled)
	if !strings.Contains(text.stdout, header) || !strings.Contains(text.stdout, "roll back to") {
		t.Errorf("trends on the sampled store lack %q or the rollback:\n%s", header, text.stdout)
	}
	if text := run(t, nil, "trends", "--metric", "thumbs_down_rate", "--config", cfg, "--store", whole); strings.Contains(text.stdout, "stored in full") {
		t.Errorf("trends on a store that keeps everything changed:\n%s", text.stdout)
	}

	// doctor's numbers (the blueprint prints its alerts and goal).
	today := func(store string) string {
		r := run(t, nil, "blueprint", "--config", cfg, "--store", store)
		_, after, _ := strings.Cut(r.stdout, "## Today")
		return after
	}
	if w, s := today(whole), today(sampled); w != s || !strings.Contains(w, "⚠") {
		t.Errorf("blueprint alerts differ or none:\nall stored: %s\n   sampled: %s", w, s)
	}

	// The daily job's alerts.
	daily := func(dir string) string {
		st, err := store.Open(dir, store.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		c, err := config.Load([]byte(mustRead(t, cfg)))
		if err != nil {
			t.Fatal(err)
		}
		d, err := loadReviewData(st)
		if err != nil {
			t.Fatal(err)
		}
		as, _, err := raiseAlerts(st, appConfig{Config: c, Path: cfg}, d, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(as)
		return string(b)
	}
	if w, s := daily(whole), daily(sampled); w != s || w == "null" {
		t.Errorf("the daily job's alerts differ:\nall stored: %s\n   sampled: %s", w, s)
	}

	// The report: the same numbers, and how many are stored in full.
	rw := run(t, nil, "report", "--format", "html", "--out", "-", "--config", cfg, "--store", whole)
	rs := run(t, nil, "report", "--format", "html", "--out", "-", "--config", cfg, "--store", sampled)
	if rw.code != 0 || rs.code != 0 {
		t.Fatalf("report: %d %s / %d %s", rw.code, rw.stderr, rs.code, rs.stderr)
	}
	if !strings.Contains(rs.stdout, header) || strings.Contains(rw.stdout, "stored in full") {
		t.Errorf("the sampled report lacks %q, or the full one has it", header)
	}
	for _, sec := range []string{"Alerts and what to do", "Guardrail metrics per model version", "Why users turned thumbs down", "Segments", "Golden and red-flag coverage"} {
		if w, s := section(rw.stdout, sec), section(rs.stdout, sec); w != s || w == "" {
			t.Errorf("report section %q differs:\nall stored: %s\n   sampled: %s", sec, w, s)
		}
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section is the HTML of the report's section titled title, up to the
// next section.
func section(html, title string) string {
	_, after, ok := strings.Cut(html, "<h2>"+title+"</h2>")
	if !ok {
		return ""
	}
	s, _, _ := strings.Cut(after, "</section>")
	return s
}
