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
// built, and to the first result of a filter typed right then, and the
// anonymous RSS a second after that. It runs on the store named by
// LOUPE_BENCH_STORE; `make bench` builds a 1M-event one
// (scripts/bench-ingest.sh).
func BenchmarkTUIStartup(b *testing.B) {
	dir := os.Getenv("LOUPE_BENCH_STORE")
	if dir == "" {
		b.Skip("set LOUPE_BENCH_STORE to a store directory (make bench builds one of 1M events)")
	}
	var first, loaded, filtered, rss []float64
	for i := 0; i < b.N; i++ {
		f, l, fl, r := startupOnce(b, dir)
		first, loaded, filtered, rss = append(first, f), append(loaded, l), append(filtered, fl), append(rss, r)
	}
	b.ReportMetric(median(first), "first-frame-ms")
	b.ReportMetric(median(loaded), "loaded-ms")
	b.ReportMetric(median(filtered), "filter-ready-ms")
	b.ReportMetric(median(rss), "anon-rss-MB")
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

func startupOnce(b *testing.B, dir string) (firstMS, loadedMS, filterMS, rssMB float64) {
	trace := b.TempDir() + "/trace"
	cmd := exec.Command(loupeBin, "tui", "--store", dir, "--reviewer", "bench")
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
	// The TUI writes "<ms since exec> <milestone>" lines (LOUPE_TRACE).
	wait := func(milestone string) float64 {
		deadline := time.Now().Add(90 * time.Second)
		for {
			data, _ := os.ReadFile(trace)
			for _, l := range strings.Split(string(data), "\n") {
				if f := strings.Fields(l); len(f) == 2 && f[1] == milestone {
					v, _ := strconv.ParseFloat(f[0], 64)
					return v
				}
			}
			if time.Now().After(deadline) {
				b.Fatalf("timed out waiting for %s; trace: %q", milestone, data)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	firstMS = wait("first-frame")
	loadedMS = wait("loaded")
	f.Write([]byte("/seg:ent"))
	filterMS = wait("filtered")
	// Memory in use: once loaded and filtering, after the load's garbage
	// has been handed back.
	time.Sleep(time.Second)
	rssMB = anonRSS(cmd.Process.Pid)
	return
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
