package ingest

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/store"
)

// allocated is how many bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// A 4 MB body of one event and four million newlines, and a 4 MB array of
// two million zeros, used to be parsed whole (an item per line or zero)
// before the item limit applied: hundreds of megabytes each. Now blank
// lines cost nothing kept and the limit stops the scan.
func TestHostileBodiesStayCheap(t *testing.T) {
	c := NewCollector(New(openStore(t), PipelineOptions{}), CollectorOptions{})
	newlines := ev("nl-1", "") + strings.Repeat("\n", 4<<20-200)
	zeros := "[" + strings.Repeat("0,", 2<<20-2) + "0]"

	var r response
	n := allocated(func() { r = post(t, c, newlines, "application/x-ndjson") })
	if r.code != http.StatusOK || r.ans.Accepted != 1 || r.ans.Blank < 4<<20-300 || r.ans.Read != r.ans.Blank+1 {
		t.Fatalf("newline body: %d %+v", r.code, r.ans.Summary)
	}
	if n > 48<<20 {
		t.Fatalf("a 4 MB body of newlines allocated %d MB", n>>20)
	}

	n = allocated(func() { r = post(t, c, zeros, "application/json") })
	if r.code != http.StatusRequestEntityTooLarge || !strings.Contains(r.body, "more than 10000 records") {
		t.Fatalf("array of zeros: %d %s", r.code, r.body)
	}
	if n > 48<<20 {
		t.Fatalf("a 4 MB array of zeros allocated %d MB", n>>20)
	}
	// The same limit holds for NDJSON records.
	r = post(t, c, strings.Repeat("{}\n", 10001), "application/x-ndjson")
	if r.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("10001 NDJSON records: %d %s", r.code, r.body)
	}
}

// blockingReader hands out a body slowly, so that requests stay in flight.
type blockingReader struct {
	release chan struct{}
	data    *strings.Reader
}

func (b *blockingReader) Read(p []byte) (int, error) {
	<-b.release
	return b.data.Read(p)
}

// The bodies being read at once are bounded by the memory budget: one over
// it waits, then gets 503 with Retry-After.
func TestMemoryBudgetBoundsBodiesInFlight(t *testing.T) {
	c := NewCollector(New(openStore(t), PipelineOptions{}), CollectorOptions{MaxBody: 1 << 20, MemoryBudget: 2 * bodyCost(1<<20)})
	release := make(chan struct{})
	var inFlight atomic.Int32
	done := make(chan int, 2)
	for i := range 2 {
		body := ev("mb-"+string(rune('a'+i)), "")
		req := httptest.NewRequest("POST", "/v1/events", &blockingReader{release: release, data: strings.NewReader(body)})
		req.ContentLength = 1 << 20 // declares the limit: charged in full
		go func() {
			inFlight.Add(1)
			rr := httptest.NewRecorder()
			c.ServeHTTP(rr, req)
			done <- rr.Code
		}()
	}
	for inFlight.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// Both budget shares are taken (the readers block); a third body waits
	// its second and is refused.
	deadline := time.Now().Add(5 * time.Second)
	var r response
	for time.Now().Before(deadline) {
		if r = post(t, c, ev("mb-c", ""), "application/json"); r.code == http.StatusServiceUnavailable {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r.code != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("third body while the budget is spent: %d %s", r.code, r.body)
	}
	close(release)
	for range 2 {
		<-done
	}
	if r = post(t, c, ev("mb-d", ""), "application/json"); r.code != http.StatusOK {
		t.Fatalf("after the budget is back: %d %s", r.code, r.body)
	}
}

// With the disk full the collector answers 507 with Retry-After before
// reading the body, /healthz says so, and nothing is stored; with room
// again the same body is taken.
func TestDiskFullAnswers507(t *testing.T) {
	st, free := storeWithFreeSpace(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{})

	free.Store(1 << 20)
	r := post(t, c, ev("df-1", ""), "application/json")
	if r.code != http.StatusInsufficientStorage || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "disk full") {
		t.Fatalf("post on a full disk: %d %v %s", r.code, r.header, r.body)
	}
	rr := httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("GET", "/healthz", nil))
	if rr.Code != http.StatusServiceUnavailable || !strings.Contains(rr.Body.String(), "disk full") {
		t.Fatalf("healthz on a full disk: %d %s", rr.Code, rr.Body)
	}
	if ok, _ := st.Has("df-1"); ok {
		t.Fatal("event stored on a full disk")
	}

	free.Store(1 << 40)
	if r = post(t, c, ev("df-1", ""), "application/json"); r.code != http.StatusOK || r.ans.Accepted != 1 {
		t.Fatalf("post with room again: %d %s", r.code, r.body)
	}
	rr = httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("GET", "/healthz", nil))
	if rr.Code != http.StatusOK {
		t.Fatalf("healthz with room again: %d", rr.Code)
	}
}

// storeWithFreeSpace opens a store whose free disk space is what the
// returned value holds (1 TiB at first): set it to fill the disk.
func storeWithFreeSpace(t *testing.T) (*store.Store, *atomic.Uint64) {
	t.Helper()
	free := &atomic.Uint64{}
	free.Store(1 << 40)
	st, err := store.Open(filepath.Join(t.TempDir(), "s"), store.Options{
		FreeSpace: func(string) (uint64, error) { return free.Load(), nil }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st, free
}
