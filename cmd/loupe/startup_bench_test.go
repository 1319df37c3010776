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
		f, l, fl, r, _ := startupOnce(b, dir)
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

// startupOnce also returns the CPU time (user and system) the TUI had used
// when the filter's first result came: on a loaded machine, the wall-clock
// figures mostly measure the load.
func startupOnce(b *testing.B, dir string) (firstMS, loadedMS, filterMS, rssMB, cpuMS float64) {
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
	cpuMS = cpuTime(cmd.Process.Pid)
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

// cpuTime is the CPU time, user and system, process pid has used so far,
// in ms (utime and stime in /proc/PID/stat, in clock ticks of 10 ms).
func cpuTime(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name, in parentheses, may hold spaces: count fields
	// after it (state is field 3, utime 14, stime 15).
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) * 10
}
