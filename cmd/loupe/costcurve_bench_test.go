package main

import (
	"context"
	"os"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
	"github.com/loupe-dev/loupe/store"
)

// The benchmarks of the cost curves (scripts/cost-curve.sh): each runs on
// the store named by LOUPE_BENCH_STORE, whatever its size, so the script
// can measure the same things at 100k, 1M and 3M events.

// BenchmarkCostTUIOpen opens the real binary's TUI on the store in a pty,
// as BenchmarkTUIStartup does, and reports the first open apart from the
// later ones: run right after an ingest, the first open is the one that
// would pay for compaction left behind. (b.Loop runs the function once, so the first
// iteration is the first open; -benchtime 3x gives one first and two
// later opens.) first-open-cpu-ms and reopen-cpu-ms are the CPU time the
// TUI had used when its inbox was loaded and filterable.
func BenchmarkCostTUIOpen(b *testing.B) {
	dir := os.Getenv("LOUPE_BENCH_STORE")
	if dir == "" {
		b.Skip("set LOUPE_BENCH_STORE to a store directory (scripts/cost-curve.sh builds them)")
	}
	var first, loaded, filtered, rss, cpu, peak []float64
	for b.Loop() {
		r := startupOnce(b, loupeBin, dir)
		first, loaded, filtered, rss, cpu = append(first, r.first), append(loaded, r.loaded), append(filtered, r.filtered), append(rss, r.rss), append(cpu, r.loadCPU)
		peak = append(peak, r.peak)
	}
	b.ReportMetric(peak[0], "first-open-peak-anon-MB")
	b.ReportMetric(first[0], "first-open-first-frame-ms")
	b.ReportMetric(loaded[0], "first-open-loaded-ms")
	b.ReportMetric(filtered[0], "first-open-filter-ready-ms")
	b.ReportMetric(rss[0], "first-open-anon-rss-MB")
	b.ReportMetric(cpu[0], "first-open-cpu-ms")
	if len(first) > 1 {
		b.ReportMetric(median(loaded[1:]), "reopen-loaded-ms")
		b.ReportMetric(median(filtered[1:]), "reopen-filter-ready-ms")
		b.ReportMetric(median(rss[1:]), "reopen-anon-rss-MB")
		b.ReportMetric(median(cpu[1:]), "reopen-cpu-ms")
		b.ReportMetric(median(peak[1:]), "reopen-peak-anon-MB")
	}
}

// costQueries are the queries loop/filter's BenchmarkFilter1M types
// (benchQueries in loop/filter/search_test.go, which a test of another
// package cannot import): keep the two lists the same.
var costQueries = []string{
	"model:sup",
	"refund",
	"invoice late",
	"seg:ent refund late",
	"task:summ quarterly risks",
}

// BenchmarkCostFilter is BenchmarkFilter1M on a real store's summaries
// instead of synthetic items: it loads every summary, builds the filter
// index from them as the TUI does (tui's buildIndex), then types
// costQueries one character at a time, searching only the previous result
// whenever the query narrows, and reports per-keystroke p50/p95 (and p95
// over keystrokes with 3+ characters typed), and the p95 of the CPU time
// each keystroke's search used (all workers: less noisy than wall time on
// a loaded machine). load-ms and build-ms are the
// scan and the index build, once, in this process (not the TUI's start-up:
// BenchmarkCostTUIOpen measures that).
func BenchmarkCostFilter(b *testing.B) {
	dir := os.Getenv("LOUPE_BENCH_STORE")
	if dir == "" {
		b.Skip("set LOUPE_BENCH_STORE to a store directory (scripts/cost-curve.sh builds them)")
	}
	start := time.Now()
	// Read-write, as the TUI opens it: a read-only open refuses a store whose
	// last holder was killed (the pty benchmark kills its TUI) until a
	// writer has truncated the log.
	st, err := store.Open(dir, store.Options{Holder: "loupe bench"})
	if err != nil {
		b.Fatal(err)
	}
	var sums []loop.Summary
	err = st.Summaries(func(s loop.Summary) bool { sums = append(sums, s); return true })
	st.Close()
	if err != nil {
		b.Fatal(err)
	}
	if len(sums) == 0 {
		b.Fatalf("%s holds no summaries", dir)
	}
	loadMS := msSince(start)
	start = time.Now()
	ix := filter.Build(len(sums), func(i int) filter.Item {
		s := &sums[i]
		return filter.Item{Text: s.Snippet, Model: s.Model, Segment: s.Segment, Task: s.Task,
			Locale: s.Locale, Thumb: s.Thumb.String(), Reasons: s.Reasons}
	})
	buildMS := msSince(start)
	ctx := context.Background()
	var all, three, cpu []time.Duration
	matched := 0
	for b.Loop() {
		for _, query := range costQueries {
			var prev filter.Result
			var prevQ filter.Query
			for k := 1; k <= len(query); k++ {
				q := filter.Parse(query[:k])
				req := filter.Request{Query: q}
				if k > 1 && q.Narrows(prevQ) {
					req.Within = prev.IDs
				}
				c, t := cpuNow(), time.Now()
				res, err := ix.Search(ctx, req)
				d := time.Since(t)
				cpu = append(cpu, cpuNow()-c)
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, d)
				if k >= 3 {
					three = append(three, d)
				}
				if k == len(query) {
					matched += len(res.IDs)
				}
				prev, prevQ = res, q
			}
		}
	}
	b.ReportMetric(float64(len(sums)), "items")
	b.ReportMetric(loadMS, "load-ms")
	b.ReportMetric(buildMS, "build-ms")
	b.ReportMetric(durPct(all, 50), "p50-ms")
	b.ReportMetric(durPct(all, 95), "p95-ms")
	b.ReportMetric(durPct(three, 95), "p95-3plus-ms")
	b.ReportMetric(durPct(cpu, 95), "cpu-p95-ms")
	b.ReportMetric(float64(len(all))/float64(b.N), "keystrokes/op")
	// Nothing matched at all would mean the queries do not fit the
	// store's data (a different generator): then the latencies say little.
	if matched == 0 {
		b.Fatalf("none of %q matched any of the %d items", costQueries, len(sums))
	}
}

// cpuNow is the CPU time, user and system, this process has used (all its
// threads: the search splits its work across GOMAXPROCS workers).
func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func msSince(t time.Time) float64 { return float64(time.Since(t)) / float64(time.Millisecond) }

func durPct(ds []time.Duration, p int) float64 {
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)-1)*p/100]) / float64(time.Millisecond)
}
