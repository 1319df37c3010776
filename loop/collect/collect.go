// Package collect is loupe's HTTP collector: POST /v1/events takes feedback
// events over the network and puts them through the same steps as `loupe
// ingest` (decode and validate, consent gate, PII masking, idempotent
// durable write), with per-user and per-client rate limits, plus /healthz
// and /metrics. It is the one part of loop/ that does I/O.
package collect

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/loupe-dev/loupe/ingest"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
)

// ReasonRateLimited is the reject reason of an event refused because its
// user's token bucket was empty; sending it again later is fine.
const ReasonRateLimited = "rate_limited"

// Defaults of Options.
const (
	DefaultMaxBody     = 4 << 20
	DefaultUserRate    = 2
	DefaultUserBurst   = 20
	DefaultClientRate  = 2000
	DefaultClientBurst = 10000
	DefaultMaxErrors   = 1000
	DefaultMaxBuckets  = 100_000
)

// Options configure a Collector. The zero value gives the defaults and no
// token (open to anyone who can reach it).
type Options struct {
	// Token, when set, is the bearer token every request to /v1/events
	// and /metrics must carry (Authorization: Bearer TOKEN).
	Token string
	// MaxBody is the largest request body in bytes.
	MaxBody int64
	// UserRate and UserBurst bound each user's events (per second, and at
	// once); events without a user_id count against their client's
	// address instead.
	UserRate, UserBurst float64
	// ClientRate and ClientBurst bound each client's (remote IP's) events.
	ClientRate, ClientBurst float64
	// MaxErrors bounds the per-item errors listed in an answer.
	MaxErrors int
	// MaxBuckets bounds the token buckets kept per kind.
	MaxBuckets int
	// Now is the clock of the rate limits; default time.Now.
	Now func() time.Time
}

// Store is what the collector needs of the store; *store.Store has it.
type Store interface {
	UserHash(userID string) string
	PutRecords([]store.Record) ([]store.PutStatus, error)
	Has(id string) (bool, error)
}

var _ Store = (*store.Store)(nil)

// Collector is the HTTP handler. Its methods are safe for concurrent use.
type Collector struct {
	st      Store
	o       Options
	users   *buckets
	clients *buckets
	metrics *metrics
	commit  *committer
	mux     *http.ServeMux
}

// New returns a collector over st.
func New(st Store, o Options) *Collector {
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.UserRate <= 0 {
		o.UserRate = DefaultUserRate
	}
	if o.UserBurst < 1 {
		o.UserBurst = DefaultUserBurst
	}
	if o.ClientRate <= 0 {
		o.ClientRate = DefaultClientRate
	}
	if o.ClientBurst < 1 {
		o.ClientBurst = DefaultClientBurst
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = DefaultMaxErrors
	}
	if o.MaxBuckets <= 0 {
		o.MaxBuckets = DefaultMaxBuckets
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &Collector{
		st:      st,
		o:       o,
		users:   newBuckets(o.UserRate, o.UserBurst, o.MaxBuckets, o.Now),
		clients: newBuckets(o.ClientRate, o.ClientBurst, o.MaxBuckets, o.Now),
		metrics: newMetrics(),
		commit:  &committer{st: st},
		mux:     http.NewServeMux(),
	}
	c.mux.HandleFunc("POST /v1/events", c.authorized(c.events))
	c.mux.HandleFunc("GET /healthz", c.healthz)
	c.mux.HandleFunc("GET /metrics", c.authorized(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		c.metrics.WriteTo(w)
	}))
	return c
}

// ServeHTTP routes the request and counts it for /metrics.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	c.mux.ServeHTTP(rec, r)
	c.metrics.request(rec.code, time.Since(start))
}

// Answer is the body of a POST /v1/events answer that got as far as the
// events: the ingest summary's keys plus the per-item errors.
type Answer struct {
	ingest.Summary
	Errors []ItemError `json:"errors"`
	// ErrorsTruncated says more items failed than Errors lists.
	ErrorsTruncated bool `json:"errors_truncated,omitempty"`
	// RetryAfter is set when events were rate limited: seconds until the
	// user's bucket has room again (also the Retry-After header).
	RetryAfter int `json:"retry_after,omitempty"`
}

// ItemError is why one event of the body was refused. Index is its 0-based
// place in the body (the array element, or the NDJSON line). Nothing in it
// repeats unmasked input.
type ItemError struct {
	Index   int    `json:"index"`
	EventID string `json:"event_id,omitempty"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
}

// errorBody is the answer when the request as a whole was refused.
type errorBody struct {
	Error      string `json:"error"`
	RetryAfter int    `json:"retry_after,omitempty"`
}

func (c *Collector) authorized(h http.HandlerFunc) http.HandlerFunc {
	if c.o.Token == "" {
		return h
	}
	want := []byte("Bearer " + c.o.Token)
	return func(w http.ResponseWriter, r *http.Request) {
		got := []byte(r.Header.Get("Authorization"))
		if subtle.ConstantTimeCompare(got, want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="loupe"`)
			writeJSON(w, http.StatusUnauthorized, errorBody{Error: "missing or wrong bearer token (Authorization: Bearer TOKEN)"})
			return
		}
		h(w, r)
	}
}

func (c *Collector) healthz(w http.ResponseWriter, _ *http.Request) {
	if _, err := c.st.Has("\x00healthz"); err != nil {
		http.Error(w, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// result is one item after decoding and the privacy step.
type result struct {
	rec     store.Record
	userKey string // the rate limit key: user hash, else the client
	ok      bool
	err     *loop.InputError
	id      string // the event id when it was read, for errors
}

func (c *Collector) events(w http.ResponseWriter, r *http.Request) {
	client := clientKey(r)
	// An empty client bucket is refused before the body is read.
	if ok, wait := c.clients.peek(client); !ok {
		c.tooMany(w, wait, "too many events from this client")
		return
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "Content-Encoding " + enc + " is not supported; send the body uncompressed"})
		return
	}
	if r.ContentLength > c.o.MaxBody {
		c.tooLarge(w)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, c.o.MaxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			c.tooLarge(w)
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "reading the body: " + err.Error()})
		return
	}
	items, err := split(body, r.Header.Get("Content-Type"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: loop.MaskRaw([]byte(err.Error()), ingest.RawLimit)})
		return
	}
	n := 0
	for _, it := range items {
		if !it.blank {
			n++
		}
	}
	if float64(n) > c.o.ClientBurst {
		writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{
			Error: fmt.Sprintf("%d events in one request; send at most %d at a time", n, int(c.o.ClientBurst))})
		return
	}
	if ok, wait := c.clients.take(client, float64(n)); !ok {
		c.tooMany(w, wait, "too many events from this client")
		return
	}

	res := c.decode(items, client)
	ans := Answer{Summary: ingest.Summary{Read: len(items), Reasons: map[string]int{}}, Errors: []ItemError{}}
	reject := func(it item, id string, e *loop.InputError) {
		ans.Rejected++
		ans.Reasons[e.Reason]++
		if len(ans.Errors) >= c.o.MaxErrors {
			ans.ErrorsTruncated = true
			return
		}
		ie := ItemError{Index: it.index, Reason: e.Reason, Error: loop.MaskRaw([]byte(e.Error()), ingest.RawLimit)}
		if id != "" && e.Reason != loop.ReasonPIIInID {
			ie.EventID = loop.MaskRaw([]byte(id), loop.MaxEventIDBytes)
		}
		ans.Errors = append(ans.Errors, ie)
	}

	// Per-user limits, in body order, over the events that would be stored.
	var keys []string
	var at []int
	for i := range res {
		if res[i].ok {
			keys = append(keys, res[i].userKey)
			at = append(at, i)
		}
	}
	allowed, wait := c.users.takeEach(keys)
	var recs []store.Record
	var recAt []int
	limited := 0
	for j, i := range at {
		if allowed[j] {
			recs = append(recs, res[i].rec)
			recAt = append(recAt, i)
			continue
		}
		limited++
		res[i].ok = false
		res[i].err = &loop.InputError{Reason: ReasonRateLimited,
			Msg: "too many events from this user; send it again after Retry-After seconds"}
	}

	status := map[int]store.PutStatus{}
	if len(recs) > 0 {
		st, err := c.commit.put(recs)
		if err != nil {
			code := http.StatusInternalServerError
			if errors.Is(err, store.ErrClosed) {
				code = http.StatusServiceUnavailable
			}
			// Nothing is reported stored: sending the same body again is
			// safe, events that did land come back as duplicates.
			writeJSON(w, code, errorBody{Error: "storing events: " + err.Error() + "; send the body again"})
			return
		}
		for j, i := range recAt {
			status[i] = st[j]
		}
	}
	for i, it := range items {
		if it.blank {
			ans.Blank++
			continue
		}
		rs := &res[i]
		if !rs.ok {
			reject(it, rs.id, rs.err)
			continue
		}
		switch status[i] {
		case store.Stored:
			ans.Accepted++
		case store.Duplicate:
			ans.Duplicates++
		case store.Conflict:
			reject(it, rs.id, &loop.InputError{Reason: loop.ReasonConflict, Path: "event_id",
				Msg: "an event with this id and different content is already stored; the stored event was kept"})
		}
	}
	c.metrics.events(ans.Accepted, ans.Duplicates, ans.Reasons)

	code := http.StatusOK
	if limited > 0 {
		ans.RetryAfter = retryAfter(wait)
		w.Header().Set("Retry-After", strconv.Itoa(ans.RetryAfter))
		if len(recs) == 0 {
			code = http.StatusTooManyRequests // nothing got through
		}
	}
	writeJSON(w, code, ans)
}

// decode runs each item through DecodeEvent, Prepare and NewRecord, in
// parallel for big bodies.
func (c *Collector) decode(items []item, client string) []result {
	res := make([]result, len(items))
	one := func(i int) {
		it := items[i]
		if it.blank {
			return
		}
		in, err := loop.DecodeEvent(it.data)
		if err != nil {
			res[i].err = asInputError(err)
			return
		}
		res[i].id = in.Event.EventID
		ev, err := loop.Prepare(in, c.st.UserHash)
		if err != nil {
			res[i].err = asInputError(err)
			return
		}
		rec, err := store.NewRecord(ev)
		if err != nil {
			res[i].err = &loop.InputError{Reason: loop.ReasonInvalidField, Msg: err.Error()}
			return
		}
		key := "c" + client
		if ev.UserHash != "" {
			key = "u" + ev.UserHash
		}
		res[i] = result{rec: rec, userKey: key, ok: true, id: ev.EventID}
	}
	workers := min(runtime.GOMAXPROCS(0), len(items)/256)
	if workers <= 1 {
		for i := range items {
			one(i)
		}
		return res
	}
	var wg sync.WaitGroup
	chunk := (len(items) + workers - 1) / workers
	for lo := 0; lo < len(items); lo += chunk {
		hi := min(lo+chunk, len(items))
		wg.Go(func() {
			for i := lo; i < hi; i++ {
				one(i)
			}
		})
	}
	wg.Wait()
	return res
}

func asInputError(err error) *loop.InputError {
	var ie *loop.InputError
	if errors.As(err, &ie) {
		return ie
	}
	return &loop.InputError{Reason: loop.ReasonInvalidJSON, Msg: err.Error()}
}

func (c *Collector) tooMany(w http.ResponseWriter, wait time.Duration, msg string) {
	s := retryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(s))
	writeJSON(w, http.StatusTooManyRequests, errorBody{Error: msg + "; send it again after Retry-After seconds", RetryAfter: s})
}

func (c *Collector) tooLarge(w http.ResponseWriter) {
	// The rest of the body is not read: close the connection after.
	w.Header().Set("Connection", "close")
	writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{
		Error: fmt.Sprintf("the body is larger than %d bytes; send fewer events per request", c.o.MaxBody)})
}

// clientKey is the client's address without its port. Behind a proxy every
// client shares the proxy's address; loupe does not trust forwarding headers.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"encoding the answer failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// statusWriter remembers the status code for the metrics.
type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.code, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(p []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(p)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
