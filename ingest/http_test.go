package ingest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/store"
)

func openStore(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "s"), store.Options{Holder: "loupe test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// clock is a settable clock for the rate limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func ev(id, user string) string {
	u := ""
	if user != "" {
		u = `,"user_id":"` + user + `"`
	}
	return `{"event_id":"` + id + `","timestamp":"2026-11-01T10:00:00Z","model_version":"m1"` + u +
		`,"input":{"text":"hello"},"output":{"text":"hi there"}}`
}

type response struct {
	code   int
	header http.Header
	body   string
	ans    Answer
}

func post(t testing.TB, h http.Handler, body, contentType string, hdr ...string) response {
	t.Helper()
	req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	r := response{code: rr.Code, header: rr.Header(), body: rr.Body.String()}
	if r.code == http.StatusOK || r.code == http.StatusTooManyRequests {
		json.Unmarshal(rr.Body.Bytes(), &r.ans)
	}
	return r
}

func TestBodyKinds(t *testing.T) {
	tests := []struct {
		name, body, ctype string
		code              int
		read, accepted    int
		rejected, blank   int
	}{
		{"one event", ev("a1", "u1"), "application/json", 200, 1, 1, 0, 0},
		{"pretty one event", "{\n  \"event_id\": \"a2\",\n  \"timestamp\": \"2026-11-01T10:00:00Z\",\n  \"model_version\": \"m\"\n}\n", "application/json", 200, 1, 1, 0, 0},
		{"pretty events one after another", "{\n  \"event_id\": \"a3\",\n  \"timestamp\": \"2026-11-01T10:00:00Z\",\n  \"model_version\": \"m\"\n}\n{\n  \"event_id\": \"a4\",\n  \"timestamp\": \"2026-11-01T10:00:00Z\",\n  \"model_version\": \"m\"\n}\n", "application/json", 200, 2, 2, 0, 0},
		{"pretty events with a comma between", "{\n  \"event_id\": \"a5\"\n},\n{\n  \"event_id\": \"a6\"\n}\n", "application/json", 400, 0, 0, 0, 0},
		{"array", "[" + ev("b1", "u1") + "," + ev("b2", "u2") + "]", "application/json", 200, 2, 2, 0, 0},
		{"empty array", " [ ] ", "application/json", 200, 0, 0, 0, 0},
		{"array of non-objects", `[1, "x", {"event_id":"c1"}]`, "application/json", 200, 3, 0, 3, 0},
		{"ndjson", ev("d1", "u1") + "\n\n" + ev("d2", "u2") + "\r\n{broken\n", "application/x-ndjson", 200, 4, 2, 1, 1},
		{"ndjson sent as json", ev("e1", "u1") + "\n" + ev("e2", "u2") + "\n", "application/json", 200, 2, 2, 0, 0},
		{"ndjson without type, broken first line", "{oops\n" + ev("f1", "u1"), "", 200, 2, 1, 1, 0},
		{"bom", "\xef\xbb\xbf" + ev("g1", "u1"), "application/json", 200, 1, 1, 0, 0},
		{"bad array", "[" + ev("h1", "u1") + ",", "application/json", 400, 0, 0, 0, 0},
		{"bad array element", `[{"event_id": }]`, "application/json", 400, 0, 0, 0, 0},
		{"after array", "[] x", "application/json", 400, 0, 0, 0, 0},
		{"not json", "event_id=1", "text/plain", 400, 0, 0, 0, 0},
		{"empty", "  \n ", "application/json", 400, 0, 0, 0, 0},
		{"one broken object", `{"event_id": "x", `, "application/json", 400, 0, 0, 0, 0},
		{"object and trailing junk", ev("i1", "u1") + " junk", "application/json", 400, 0, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := NewCollector(New(openStore(t), PipelineOptions{}), CollectorOptions{})
			r := post(t, c, tc.body, tc.ctype)
			if r.code != tc.code {
				t.Fatalf("code %d, want %d: %s", r.code, tc.code, r.body)
			}
			if tc.code != 200 {
				var e errorBody
				if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error == "" {
					t.Fatalf("error answer %q", r.body)
				}
				return
			}
			a := r.ans
			if a.Read != tc.read || a.Accepted != tc.accepted || a.Rejected != tc.rejected || a.Blank != tc.blank {
				t.Fatalf("got %+v, want read %d accepted %d rejected %d blank %d", a.Summary, tc.read, tc.accepted, tc.rejected, tc.blank)
			}
			if len(a.Errors) != a.Rejected {
				t.Errorf("%d errors for %d rejected", len(a.Errors), a.Rejected)
			}
			if !strings.Contains(r.body, `"reasons":{`) || !strings.Contains(r.body, `"errors":[`) {
				t.Errorf("reasons and errors must always be present: %s", r.body)
			}
		})
	}
}

func TestCountsAndErrors(t *testing.T) {
	st := openStore(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{})
	if r := post(t, c, ev("k1", "u1"), ""); r.code != 200 || r.ans.Accepted != 1 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	lines := []string{
		ev("k2", "u2"), // 0: new
		ev("k1", "u1"), // 1: duplicate of the stored one
		ev("k2", "u2"), // 2: duplicate within the body
		`{"event_id":"k1","timestamp":"2026-11-01T10:00:00Z","model_version":"other"}`,                           // 3: conflict
		`{"event_id":"k3","timestamp":"2026-11-01T10:00:00Z","model_version":"m","consent":{"analytics":false}}`, // 4: no consent
		`{"event_id":"k4","timestamp":"jane.doe@example.com","model_version":"m"}`,                               // 5: bad field holding PII
		`{"event_id":"k5","model_version":"m"}`,                                                                  // 6: missing
		`{"event_id":"mail jane.doe@example.com","timestamp":"2026-11-01T10:00:00Z","model_version":"m"}`,        // 7: PII in id
		`{"event_id":"k6","event_id":"k6"}`,                                                                      // 8: duplicate key
		"{\"event_id\":\"k7\xff\"}",                                                                              // 9: invalid UTF-8
		`{"event_id":"k8","timestamp":"2026-11-01T10:00:00Z","model_version":"m","output":{"latency_ms":-1}}`,    // 10
	}
	r := post(t, c, strings.Join(lines, "\n"), "application/x-ndjson")
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	a := r.ans
	if a.Read != 11 || a.Accepted != 1 || a.Duplicates != 2 || a.Rejected != 8 {
		t.Fatalf("%+v", a.Summary)
	}
	want := map[int]string{3: "conflict", 4: "no_consent", 5: "invalid_field", 6: "missing_field", 7: "pii_in_id",
		8: "duplicate_key", 9: "invalid_utf8", 10: "invalid_field"}
	for _, e := range a.Errors {
		if want[e.Index] != e.Reason {
			t.Errorf("item %d: reason %q, want %q (%s)", e.Index, e.Reason, want[e.Index], e.Error)
		}
		if e.Error == "" {
			t.Errorf("item %d: no message", e.Index)
		}
		delete(want, e.Index)
	}
	if len(want) != 0 {
		t.Errorf("missing errors: %v", want)
	}
	if strings.Contains(r.body, "jane.doe@example.com") {
		t.Errorf("the answer repeats unmasked input: %s", r.body)
	}
	if a.Errors[0].EventID != "k1" || a.Errors[0].Index != 3 {
		t.Errorf("first error %+v", a.Errors[0])
	}
	// Only k1 and k2 are stored; k1 untouched by the conflict.
	for id, want := range map[string]bool{"k1": true, "k2": true, "k3": false, "k4": false, "k8": false} {
		if got, _ := st.Has(id); got != want {
			t.Errorf("Has(%s) = %v", id, got)
		}
	}
	e, err := st.Event("k1")
	if err != nil || e.ModelVersion != "m1" {
		t.Errorf("k1 after conflict: %v %v", e, err)
	}
}

func TestErrorsCapped(t *testing.T) {
	c := NewCollector(New(openStore(t), PipelineOptions{}), CollectorOptions{MaxErrors: 3})
	r := post(t, c, "[1,2,3,4,5]", "")
	if r.code != 200 || r.ans.Rejected != 5 || len(r.ans.Errors) != 3 || !r.ans.ErrorsTruncated {
		t.Fatalf("%d %s", r.code, r.body)
	}
}

func TestBodyLimit(t *testing.T) {
	st := openStore(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{MaxBody: 1 << 10})
	big := "[" + strings.Repeat(ev("x", "u")+",", 20) + ev("y", "u") + "]"
	if r := post(t, c, big, "application/json"); r.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("with Content-Length: %d %s", r.code, r.body)
	}
	// Without a Content-Length (chunked), the reader stops at the limit.
	req := httptest.NewRequest("POST", "/v1/events", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	rr := httptest.NewRecorder()
	c.ServeHTTP(rr, req)
	if rr.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("chunked: %d %s", rr.Code, rr.Body)
	}
	if ok, _ := st.Has("x"); ok {
		t.Error("an event of a refused body was stored")
	}
	if r := post(t, c, ev("small", "u"), ""); r.code != 200 {
		t.Fatalf("small body: %d", r.code)
	}
}

func TestUserRateLimit(t *testing.T) {
	clk := newClock()
	st := openStore(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{UserRate: 1, UserBurst: 3, Now: clk.now})
	batch := func(prefix, user string, n int) string {
		var b []string
		for i := range n {
			b = append(b, ev(fmt.Sprintf("%s-%d", prefix, i), user))
		}
		return strings.Join(b, "\n")
	}
	r := post(t, c, batch("a", "alice", 5), "")
	if r.code != 200 || r.ans.Accepted != 3 || r.ans.Reasons[ReasonRateLimited] != 2 || r.header.Get("Retry-After") != "1" {
		t.Fatalf("first: %d %v %s", r.code, r.header, r.body)
	}
	if ok, _ := st.Has("a-3"); ok {
		t.Error("a rate-limited event was stored")
	}
	r = post(t, c, batch("b", "alice", 2), "")
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.ans.Accepted != 0 {
		t.Fatalf("flood: %d %v %s", r.code, r.header, r.body)
	}
	// Another user is not affected.
	if r = post(t, c, batch("c", "bob", 3), ""); r.code != 200 || r.ans.Accepted != 3 {
		t.Fatalf("bob: %d %s", r.code, r.body)
	}
	// In a mixed body, alice's events wait and bob's... bob is empty too;
	// carol's get in: the answer is 200 with alice's refused.
	r = post(t, c, batch("d", "alice", 1)+"\n"+batch("e", "carol", 1), "")
	if r.code != 200 || r.ans.Accepted != 1 || r.ans.Reasons[ReasonRateLimited] != 1 {
		t.Fatalf("mixed: %d %s", r.code, r.body)
	}
	clk.advance(2 * time.Second)
	if r = post(t, c, batch("f", "alice", 3), ""); r.code != 200 || r.ans.Accepted != 2 {
		t.Fatalf("after 2s: %d %s", r.code, r.body)
	}
	// Events without a user id share their client's bucket.
	r = post(t, c, batch("g", "", 4), "")
	if r.code != 200 || r.ans.Accepted != 3 {
		t.Fatalf("anonymous: %d %s", r.code, r.body)
	}
	// Invalid events take no user tokens.
	clk.advance(time.Hour)
	r = post(t, c, `{"event_id":"h"}`+"\n"+batch("h", "dave", 3), "")
	if r.code != 200 || r.ans.Accepted != 3 || r.ans.Rejected != 1 {
		t.Fatalf("invalid first: %d %s", r.code, r.body)
	}
}

func TestClientRateLimit(t *testing.T) {
	clk := newClock()
	c := NewCollector(New(openStore(t), PipelineOptions{}), CollectorOptions{ClientRate: 10, ClientBurst: 10, Now: clk.now})
	many := func(prefix string, n int) string {
		var b []string
		for i := range n {
			b = append(b, ev(fmt.Sprintf("%s-%d", prefix, i), fmt.Sprintf("u%d", i)))
		}
		return "[" + strings.Join(b, ",") + "]"
	}
	if r := post(t, c, many("a", 11), ""); r.code != http.StatusRequestEntityTooLarge {
		t.Fatalf("over the burst: %d %s", r.code, r.body)
	}
	if r := post(t, c, many("b", 8), ""); r.code != 200 || r.ans.Accepted != 8 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	r := post(t, c, many("c", 5), "")
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") != "1" {
		t.Fatalf("want 429 Retry-After 1: %d %v %s", r.code, r.header, r.body)
	}
	clk.advance(300 * time.Millisecond) // 2 + 3 tokens
	if r := post(t, c, many("c", 5), ""); r.code != 200 || r.ans.Accepted != 5 {
		t.Fatalf("%d %s", r.code, r.body)
	}
	// Empty bucket: refused before the body is read.
	r = post(t, c, "not even json", "")
	if r.code != http.StatusTooManyRequests {
		t.Fatalf("empty bucket: %d", r.code)
	}
	// Another client is not affected.
	req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(many("d", 3)))
	req.RemoteAddr = "198.51.100.7:4000"
	rr := httptest.NewRecorder()
	c.ServeHTTP(rr, req)
	if rr.Code != 200 {
		t.Fatalf("other client: %d %s", rr.Code, rr.Body)
	}
}

func TestBuckets(t *testing.T) {
	clk := newClock()
	b := newBuckets(2, 4, 100, clk.now)
	for i := range 4 {
		if ok, _ := b.take("k", 1); !ok {
			t.Fatalf("take %d refused", i)
		}
	}
	ok, wait := b.take("k", 1)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("empty: %v %v", ok, wait)
	}
	if ok, wait := b.take("k", 9); ok || wait != 2*time.Second {
		t.Fatalf("more than the burst waits for a full bucket: %v %v", ok, wait)
	}
	clk.advance(time.Second)
	if ok, _ := b.take("k", 3); ok {
		t.Fatal("only 2 tokens after 1s")
	}
	if ok, _ := b.take("k", 2); !ok {
		t.Fatal("2 tokens after 1s")
	}
	clk.advance(time.Hour)
	if ok, _ := b.take("k", 5); ok {
		t.Fatal("refill is capped at the burst")
	}
	got, _ := b.takeEach([]string{"a", "a", "a", "a", "a", "b"})
	if fmt.Sprint(got) != "[true true true true false true]" {
		t.Fatalf("takeEach %v", got)
	}
	if retryAfter(1) != 1 || retryAfter(1500*time.Millisecond) != 2 {
		t.Error("retryAfter rounds up to whole seconds, at least 1")
	}
}

func TestBucketsBounded(t *testing.T) {
	clk := newClock()
	b := newBuckets(2, 4, 1000, clk.now)
	// Many keys over time: idle ones are full again and swept.
	for i := range 50_000 {
		b.take(fmt.Sprint(i), 1)
		if i%100 == 0 {
			clk.advance(time.Second)
		}
	}
	if n := b.size(); n > 1000 {
		t.Fatalf("%d buckets held, bound 1000", n)
	}
	// A burst of distinct keys at one instant still stays bounded.
	for i := range 5000 {
		b.take(fmt.Sprint("burst", i), 1)
	}
	if n := b.size(); n > 1000 {
		t.Fatalf("%d buckets held, bound 1000", n)
	}
	// Once idle past burst/rate, every bucket goes at the next sweep.
	clk.advance(sweepEvery + time.Second)
	b.take("new", 1)
	if n := b.size(); n != 1 {
		t.Fatalf("%d buckets after everything went idle", n)
	}
}

func TestToken(t *testing.T) {
	c := NewCollector(New(openStore(t), PipelineOptions{}), CollectorOptions{Token: "s3cret"})
	if r := post(t, c, ev("t1", "u"), ""); r.code != 401 || r.header.Get("WWW-Authenticate") == "" {
		t.Fatalf("no token: %d", r.code)
	}
	if r := post(t, c, ev("t1", "u"), "", "Authorization", "Bearer wrong"); r.code != 401 {
		t.Fatalf("wrong token: %d", r.code)
	}
	if r := post(t, c, ev("t1", "u"), "", "Authorization", "Bearer s3cret"); r.code != 200 || r.ans.Accepted != 1 {
		t.Fatalf("token: %d %s", r.code, r.body)
	}
	rr := httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	if rr.Code != 401 {
		t.Errorf("metrics without token: %d", rr.Code)
	}
	rr = httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("GET", "/healthz", nil))
	if rr.Code != 200 || rr.Body.String() != "ok\n" {
		t.Errorf("healthz is open: %d %q", rr.Code, rr.Body)
	}
}

func TestHealthzClosedStore(t *testing.T) {
	st := openStore(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{})
	st.Close()
	rr := httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("GET", "/healthz", nil))
	if rr.Code != http.StatusServiceUnavailable {
		t.Fatalf("healthz on a closed store: %d", rr.Code)
	}
	if r := post(t, c, ev("z", "u"), ""); r.code != http.StatusServiceUnavailable {
		t.Fatalf("post on a closed store: %d %s", r.code, r.body)
	}
}

func TestMethods(t *testing.T) {
	c := NewCollector(New(openStore(t), PipelineOptions{}), CollectorOptions{})
	rr := httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("GET", "/v1/events", nil))
	if rr.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET /v1/events: %d", rr.Code)
	}
	rr = httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("POST", "/v1/events", strings.NewReader("x")))
	if rr.Code != 400 {
		t.Errorf("%d", rr.Code)
	}
	req := httptest.NewRequest("POST", "/v1/events", strings.NewReader(ev("g", "u")))
	req.Header.Set("Content-Encoding", "br")
	rr = httptest.NewRecorder()
	c.ServeHTTP(rr, req)
	if rr.Code != http.StatusUnsupportedMediaType {
		t.Errorf("br: %d", rr.Code)
	}
}

// TestGzipBody: a gzip body is inflated, bounded by MaxBody after
// inflating; one that is not gzip is refused with 400.
func TestGzipBody(t *testing.T) {
	st := openStore(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{MaxBody: 64 << 10})
	gzipped := func(b []byte) string {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write(b)
		w.Close()
		return buf.String()
	}
	if r := post(t, c, gzipped([]byte(ev("gz1", "u1")+"\n"+ev("gz2", "u2"))), "application/x-ndjson", "Content-Encoding", "gzip"); r.code != 200 || r.ans.Accepted != 2 {
		t.Fatalf("gzip body: %d %s", r.code, r.body)
	}
	if n, _ := st.Count(); n != 2 {
		t.Fatalf("stored %d", n)
	}
	// 1 MiB of spaces inflates past the 64 KiB limit from a few KB.
	if r := post(t, c, gzipped(append([]byte(ev("gz3", "u3")), bytes.Repeat([]byte(" "), 1<<20)...)), "application/json", "Content-Encoding", "gzip"); r.code != 413 {
		t.Fatalf("gzip bomb: %d %s", r.code, r.body)
	}
	if r := post(t, c, ev("gz4", "u4"), "application/json", "Content-Encoding", "gzip"); r.code != 400 || !strings.Contains(r.body, "gzip") {
		t.Fatalf("not gzip: %d %s", r.code, r.body)
	}
	if n, _ := st.Count(); n != 2 {
		t.Fatalf("stored %d after the refused bodies", n)
	}
}

var seriesLine = regexp.MustCompile(`^[a-z_]+(\{[a-z]+="[^"]*"\})? [0-9.e+-]+$`)

func TestMetrics(t *testing.T) {
	c := NewCollector(New(openStore(t), PipelineOptions{}), CollectorOptions{})
	post(t, c, ev("m1", "u")+"\n"+ev("m1", "u")+"\n{bad\n"+`{"event_id":"m2"}`, "")
	post(t, c, "nope", "")
	rr := httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	if rr.Code != 200 || !strings.HasPrefix(rr.Header().Get("Content-Type"), "text/plain; version=0.0.4") {
		t.Fatalf("%d %v", rr.Code, rr.Header())
	}
	text := rr.Body.String()
	for _, want := range []string{
		"loupe_events_accepted_total 1\n",
		"loupe_events_duplicate_total 1\n",
		`loupe_events_rejected_total{reason="invalid_json"} 1` + "\n",
		`loupe_events_rejected_total{reason="missing_field"} 1` + "\n",
		`loupe_http_requests_total{code="200"} 1` + "\n",
		`loupe_http_requests_total{code="400"} 1` + "\n",
		`loupe_http_request_duration_seconds_bucket{le="+Inf"} 2` + "\n",
		"loupe_http_request_duration_seconds_count 2\n",
		"# TYPE loupe_http_request_duration_seconds histogram\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	var last int64 = -1
	for sc.Scan() {
		l := sc.Text()
		if strings.HasPrefix(l, "# HELP ") || strings.HasPrefix(l, "# TYPE ") {
			continue
		}
		if !seriesLine.MatchString(l) {
			t.Errorf("not an exposition line: %q", l)
		}
		if strings.HasPrefix(l, "loupe_http_request_duration_seconds_bucket") {
			var n int64
			fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &n)
			if n < last {
				t.Errorf("buckets must be cumulative: %q", l)
			}
			last = n
		}
	}
	if labelValue("a\"b\\c\nd") != `"a\"b\\c\nd"` {
		t.Error(labelValue("a\"b\\c\nd"))
	}
}

func postPath(t testing.TB, h http.Handler, path, body string) response {
	t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-ndjson")
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	r := response{code: rr.Code, header: rr.Header(), body: rr.Body.String()}
	json.Unmarshal(rr.Body.Bytes(), &r.ans)
	return r
}

func TestSignalsEndpoint(t *testing.T) {
	st := openStore(t)
	c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{UserRate: 1, UserBurst: 1})
	if r := post(t, c, ev("e1", "alice"), ""); r.ans.Accepted != 1 {
		t.Fatalf("interaction: %s", r.body)
	}
	var b []string
	for i := range 5 {
		b = append(b, fmt.Sprintf(`{"kind":"signal","signal_id":"s%d","event_id":"e1","timestamp":"2026-11-01T10:0%d:00Z","implicit_feedback":{"dwell_ms":%d}}`, i, i+1, i))
	}
	b = append(b, ev("e2", "bob"), `{"kind":"signal","signal_id":"s9","event_id":"e1","timestamp":"2026-11-01T10:00:00Z","business":{"converted":"yes"}}`)
	r := postPath(t, c, "/v1/signals", strings.Join(b, "\n"))
	// Signals are bounded by the client's bucket only, not the user's.
	if r.code != 200 || r.ans.Signals != 5 || r.ans.Rejected != 2 || len(r.ans.Errors) != 2 {
		t.Fatalf("signals: %d %s", r.code, r.body)
	}
	if e := r.ans.Errors[0]; e.Index != 5 || e.Reason != "invalid_field" || !strings.HasPrefix(e.Error, "kind: ") {
		t.Errorf("interaction on /v1/signals: %+v", e)
	}
	if e := r.ans.Errors[1]; e.Index != 6 || !strings.HasPrefix(e.Error, "business.converted: ") {
		t.Errorf("bad signal: %+v", e)
	}
	got, err := st.Event("e1")
	if err != nil || got.Implicit == nil || *got.Implicit.DwellMS != 4 {
		t.Fatalf("merged: %+v %v", got, err)
	}
	// An early signal on /v1/events is pending, and /metrics says so.
	r = post(t, c, `{"kind":"signal","signal_id":"p1","event_id":"later","timestamp":"2026-11-01T10:00:00Z","business":{"resolved":true}}`, "")
	if r.ans.Pending != 1 {
		t.Fatalf("early signal: %s", r.body)
	}
	rr := httptest.NewRecorder()
	c.ServeHTTP(rr, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"loupe_signals_accepted_total 6", "loupe_signals_pending 1", "loupe_signals_dropped_total 0"} {
		if !strings.Contains(rr.Body.String(), want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
