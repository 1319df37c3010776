package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// BenchmarkTUIStartup measures, through the real binary in a pty, the time
// from exec to the first frame, to the inbox loaded with its filter index
// built, and to the first result of a filter typed right then; then the
// latency of a bare word typed one character at a time (from writing the
// key to the answer, as the benchmark sees it); the anonymous RSS a second
// after that, and its peak while loading. It runs on the store named by
// LOUPE_BENCH_STORE; `make bench` builds a 1M-event one
// (scripts/bench-ingest.sh).
//
// LOUPE_BENCH_FRESH names a pristine copy of a store as a large ingest
// left it (never opened since): each run then copies it over
// LOUPE_BENCH_STORE first and measures the first open after an ingest.
// LOUPE_BENCH_BIN runs another build of loupe (an older commit, for
// before/after figures in one session).
func BenchmarkTUIStartup(b *testing.B) {
	dir := os.Getenv("LOUPE_BENCH_STORE")
	if dir == "" {
		b.Skip("set LOUPE_BENCH_STORE to a store directory (make bench builds one of 1M events)")
	}
	bin := loupeBin
	if p := os.Getenv("LOUPE_BENCH_BIN"); p != "" {
		bin = p
	}
	var first, loaded, loadCPU, filtered, word1, wordMax, rss, peak []float64
	for i := 0; i < b.N; i++ {
		if fresh := os.Getenv("LOUPE_BENCH_FRESH"); fresh != "" {
			b.StopTimer()
			if err := os.RemoveAll(dir); err != nil {
				b.Fatal(err)
			}
			if out, err := exec.Command("cp", "-a", fresh, dir).CombinedOutput(); err != nil {
				b.Fatalf("copy %s: %v: %s", fresh, err, out)
			}
			// The copy's pages go to disk now, not during the run.
			if out, err := exec.Command("sync").CombinedOutput(); err != nil {
				b.Fatalf("sync: %v: %s", err, out)
			}
			b.StartTimer()
		}
		r := startupOnce(b, bin, dir)
		first, loaded, filtered = append(first, r.first), append(loaded, r.loaded), append(filtered, r.filtered)
		loadCPU = append(loadCPU, r.loadCPU)
		word1, wordMax = append(word1, r.word1), append(wordMax, r.wordMax)
		rss, peak = append(rss, r.rss), append(peak, r.peak)
	}
	b.ReportMetric(median(first), "first-frame-ms")
	b.ReportMetric(median(loaded), "loaded-ms")
	b.ReportMetric(median(loadCPU), "loaded-cpu-ms")
	b.ReportMetric(median(filtered), "filter-ready-ms")
	b.ReportMetric(median(word1), "word-first-key-ms")
	b.ReportMetric(median(wordMax), "word-max-key-ms")
	b.ReportMetric(median(rss), "anon-rss-MB")
	b.ReportMetric(median(peak), "peak-anon-rss-MB")
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

type startup struct {
	first, loaded, filtered float64 // ms since exec (the TUI's own clock)
	// loadCPU is the process's CPU time (user + system, all threads) when
	// the benchmark saw it loaded: on a shared machine wall time says more
	// about the neighbours than about loupe.
	loadCPU        float64
	word1, wordMax float64 // ms from a key to its answer
	rss, peak      float64 // MB
}

// benchWord is typed one character at a time after the first filter.
const benchWord = "refund"

func startupOnce(b *testing.B, bin, dir string) (r startup) {
	trace := b.TempDir() + "/trace"
	cmd := exec.Command(bin, "tui", "--store", dir, "--reviewer", "bench")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color", "LOUPE_TRACE="+trace)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 160})
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		f.Close()
	}()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := f.Read(buf); err != nil {
				return
			}
		}
	}()
	// Peak anonymous memory while loading, sampled.
	stopPeak := make(chan struct{})
	peakDone := make(chan float64)
	go func() {
		top := 0.0
		for {
			top = max(top, anonRSS(cmd.Process.Pid))
			select {
			case <-stopPeak:
				peakDone <- top
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	// The TUI writes "<ms since exec> <milestone>" lines (LOUPE_TRACE).
	// count says how many of a milestone are there; wait returns the
	// time of the n-th.
	read := func(milestone string) []float64 {
		data, _ := os.ReadFile(trace)
		var at []float64
		for _, l := range strings.Split(string(data), "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[1] == milestone {
				v, _ := strconv.ParseFloat(f[0], 64)
				at = append(at, v)
			}
		}
		return at
	}
	wait := func(milestone string, n int) float64 {
		deadline := time.Now().Add(90 * time.Second)
		for {
			if at := read(milestone); len(at) >= n {
				return at[n-1]
			}
			if time.Now().After(deadline) {
				data, _ := os.ReadFile(trace)
				b.Fatalf("timed out waiting for %s #%d; trace: %q", milestone, n, data)
			}
			time.Sleep(time.Millisecond)
		}
	}
	r.first = wait("first-frame", 1)
	r.loaded = wait("loaded", 1)
	r.loadCPU = cpuMS(cmd.Process.Pid)
	f.Write([]byte("/seg:ent"))
	r.filtered = wait("filtered", 1)
	close(stopPeak)
	r.peak = <-peakDone
	// Let the seg:ent keystrokes settle, clear the filter, then type a
	// bare word key by key, each after the previous answer.
	time.Sleep(500 * time.Millisecond)
	f.Write([]byte("\x1b"))
	time.Sleep(300 * time.Millisecond)
	f.Write([]byte("/"))
	time.Sleep(100 * time.Millisecond)
	for i, c := range benchWord {
		n := len(read("filtered"))
		sent := time.Now()
		f.Write([]byte(string(c)))
		wait("filtered", n+1)
		ms := float64(time.Since(sent).Microseconds()) / 1000
		b.Logf("%q: %.1f ms", benchWord[:i+1], ms)
		if i == 0 {
			r.word1 = ms
		}
		r.wordMax = max(r.wordMax, ms)
	}
	// Memory in use: once loaded and filtering, after the load's garbage
	// has been handed back.
	time.Sleep(time.Second)
	r.rss = anonRSS(cmd.Process.Pid)
	return
}

// cpuMS is the process's user + system CPU time in ms (/proc/PID/stat,
// clock ticks of 10 ms).
func cpuMS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// Fields after the command name (which may hold spaces, in parens):
	// utime and stime are the 14th and 15th of the line.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.Atoi(f[11])
	s, _ := strconv.Atoi(f[12])
	return float64(u+s) * 10
}

// anonRSS is the process's anonymous resident memory in MB (RssAnon), not
// counting the file pages Badger maps.
func anonRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "RssAnon:") {
			kb, _ := strconv.Atoi(strings.Fields(l)[1])
			return float64(kb) / 1024
		}
	}
	return -1
}
