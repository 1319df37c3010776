package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// peakRSS is a process's peak resident set size (VmHWM).
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

// TestCollectorMemoryUnderHostileBodies sends eight hostile 4 MB bodies at
// a time — one event plus four million newlines, and a JSON array of two
// million zeros — to the real binary; its peak RSS stays at or under 512 MB
// (it went past 10 GB when every line and zero became an item).
func TestCollectorMemoryUnderHostileBodies(t *testing.T) {
	s := startServe(t, nil, "--store", t.TempDir(), "--http", "127.0.0.1:0")
	bodies := []string{
		serveEvent("hb-1", "") + strings.Repeat("\n", 4<<20-300),
		"[" + strings.Repeat("0,", 2<<20-2) + "0]",
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
	var wg sync.WaitGroup
	codes := make(chan int, 64)
	for w := range 8 {
		wg.Go(func() {
			for i := range 4 {
				body := bodies[(w+i)%2]
				req, _ := http.NewRequest("POST", s.http+"/v1/events", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-ndjson")
				resp, err := client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
			}
		})
	}
	wg.Wait()
	close(codes)
	seen := map[int]int{}
	for c := range codes {
		seen[c]++
	}
	if seen[http.StatusOK] == 0 || seen[http.StatusRequestEntityTooLarge] == 0 {
		t.Fatalf("answers %v: want 200 for the newline bodies and 413 for the arrays", seen)
	}
	peak := peakRSS(t, s.cmd.Process.Pid)
	t.Logf("peak RSS under 32 hostile bodies, 8 at a time: %d MB (answers %v)", peak>>20, seen)
	if peak > 512<<20 {
		t.Fatalf("peak RSS %d MB, want <= 512 MB", peak>>20)
	}
	s.stop(t)
}
