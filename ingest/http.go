package ingest

// The HTTP collector: POST /v1/events takes feedback records over the
// network and puts them through the Pipeline (decode and validate, consent
// gate, PII masking, idempotent durable write), with per-user and
// per-client rate limits, plus /healthz and /metrics.

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/ingest/otlp"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/genai"
	"github.com/loupe-dev/loupe/store"
	"golang.org/x/sync/semaphore"
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
	// DefaultMemoryBudget allows sixteen 4 MiB bodies in flight, each
	// charged four times its size for what parsing it holds.
	DefaultMemoryBudget = 256 << 20
)

// bodyCost is what a body of n bytes is charged against the memory budget:
// the bytes themselves, the records cut from them and their decoded,
// masked and encoded forms.
func bodyCost(n int64) int64 { return 4 * n }

// RetryAfterDiskFull is the Retry-After, in seconds, of a 507 answer: a
// full disk is not freed in a second.
const RetryAfterDiskFull = 60

// CollectorOptions configure a Collector. The zero value gives the defaults and no
// token (open to anyone who can reach it).
type CollectorOptions struct {
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
	// OTLP is how POST /v1/traces and /v1/logs map GenAI traces; nil is
	// genai.DefaultMapping().
	OTLP *genai.Mapping
	// MemoryBudget bounds the memory of the request bodies being read
	// and parsed at once, in bytes; a request that finds the budget
	// spent within a second is answered 503 with Retry-After. Default
	// DefaultMemoryBudget.
	MemoryBudget int64
}

// Collector is the HTTP handler. Its methods are safe for concurrent use.
type Collector struct {
	p       *Pipeline
	o       CollectorOptions
	users   *buckets
	clients *buckets
	metrics *metrics
	mux     *http.ServeMux
	otlp    *OTLP
	bodies  *semaphore.Weighted // the memory budget of bodies in flight
}

// NewCollector returns a collector that feeds p.
func NewCollector(p *Pipeline, o CollectorOptions) *Collector {
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
	if o.MemoryBudget <= 0 {
		o.MemoryBudget = DefaultMemoryBudget
	}
	o.MemoryBudget = max(o.MemoryBudget, bodyCost(o.MaxBody))
	c := &Collector{
		p:       p,
		o:       o,
		users:   newBuckets(o.UserRate, o.UserBurst, o.MaxBuckets, o.Now),
		clients: newBuckets(o.ClientRate, o.ClientBurst, o.MaxBuckets, o.Now),
		metrics: newMetrics(),
		mux:     http.NewServeMux(),
		bodies:  semaphore.NewWeighted(o.MemoryBudget),
	}
	c.mux.HandleFunc("POST /v1/events", c.authorized(c.records(p)))
	c.mux.HandleFunc("POST /v1/signals", c.authorized(c.records(p.signals())))
	m := genai.DefaultMapping()
	if o.OTLP != nil {
		m = *o.OTLP
	}
	c.otlp = NewOTLP(p, m)
	c.mux.HandleFunc("POST /v1/traces", c.authorized(c.otlpTraces))
	c.mux.HandleFunc("POST /v1/logs", c.authorized(c.otlpLogs))
	c.mux.HandleFunc("GET /healthz", c.healthz)
	c.mux.HandleFunc("GET /metrics", c.authorized(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		c.metrics.WriteTo(w)
		if pending, dropped, err := c.p.st.SignalStats(); err == nil {
			writeSignalGauges(w, pending, dropped)
		}
		if unkept, dropped, err := c.p.st.AggregateStats(); err == nil {
			writeAggregateGauges(w, unkept, dropped)
		}
	}))
	return c
}

// ServeHTTP routes the request and counts it for /metrics.
// OTLP is the OpenTelemetry source POST /v1/traces and /v1/logs (and the
// OTLP/gRPC receiver) feed: give it to the process's other sources of
// OTLP (Kafka), so that one source assembles each trace.
func (c *Collector) OTLP() *OTLP { return c.otlp }

func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusWriter{ResponseWriter: w, code: http.StatusOK}
	c.mux.ServeHTTP(rec, r)
	c.metrics.request(rec.code, time.Since(start))
}

// Answer is the body of a POST /v1/events answer that got as far as the
// events: the ingest summary's keys plus the per-item errors.
type Answer struct {
	Summary
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
	if _, err := c.p.st.Has("\x00healthz"); err != nil {
		http.Error(w, "store unavailable: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	if err := c.p.st.CheckSpace(0); err != nil {
		w.Header().Set("Retry-After", strconv.Itoa(RetryAfterDiskFull))
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// records is the handler of POST /v1/events (interactions and signals)
// and POST /v1/signals (p refusing interactions).
func (c *Collector) records(p *Pipeline) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { c.handle(p, w, r) }
}

func (c *Collector) handle(p *Pipeline, w http.ResponseWriter, r *http.Request) {
	client := clientKey(r)
	// An empty client bucket is refused before the body is read.
	if ok, wait := c.clients.peek(client); !ok {
		c.tooMany(w, wait, "too many events from this client")
		return
	}
	// gzip is what HTTP shippers (Vector, Fluent Bit, OTel-style clients)
	// compress with; the inflated body is bounded by MaxBody too.
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	gz := enc == "gzip"
	if enc != "" && enc != "identity" && !gz {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody{Error: "Content-Encoding " + enc + " is not supported; send gzip or no encoding"})
		return
	}
	if r.ContentLength > c.o.MaxBody {
		c.tooLarge(w)
		return
	}
	// A full disk is said before the body is read: the client keeps it.
	if err := c.p.st.CheckSpace(int(max(r.ContentLength, 0))); err != nil {
		c.diskFull(w, err)
		return
	}
	// Bound the memory of bodies in flight: a body is charged for its
	// declared size, or the limit when it does not say (or may inflate
	// to it).
	cost := bodyCost(c.o.MaxBody)
	if r.ContentLength >= 0 && !gz {
		cost = bodyCost(max(r.ContentLength, 1))
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	err := c.bodies.Acquire(ctx, cost)
	cancel()
	if err != nil {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "the collector is reading as many bodies as its memory budget allows; send it again after Retry-After seconds", RetryAfter: 1})
		return
	}
	defer c.bodies.Release(cost)
	var body []byte
	if gz {
		body, err = otlp.ReadBody(r, w, c.o.MaxBody)
	} else {
		body, err = readBody(w, r, c.o.MaxBody)
	}
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) || errors.Is(err, otlp.ErrTooLarge) {
			c.tooLarge(w)
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody{Error: "reading the body: " + err.Error()})
		return
	}
	items, blank, err := split(body, r.Header.Get("Content-Type"), int(c.o.ClientBurst))
	body = nil // items hold what is needed of it
	if err != nil {
		var tm *tooManyItems
		if errors.As(err, &tm) {
			writeJSON(w, http.StatusRequestEntityTooLarge, errorBody{Error: err.Error()})
			return
		}
		writeJSON(w, http.StatusBadRequest, errorBody{Error: loop.MaskRaw([]byte(err.Error()), RawLimit)})
		return
	}
	n := len(items)
	if ok, wait := c.clients.take(client, float64(n)); !ok {
		c.tooMany(w, wait, "too many events from this client")
		return
	}

	ps := make([]prepared, len(items))
	if len(items) > 0 {
		in := make([]Item, len(items))
		for i, it := range items {
			in[i] = Item{Data: it.data, Source: "http", Line: it.index + 1}
		}
		ps = p.prepareAll(in)
	}
	ans := Answer{Summary: Summary{Read: len(items) + blank, Blank: blank, Reasons: map[string]int{}}, Errors: []ItemError{}}

	// Per-user limits, in body order, over the interactions that would be
	// stored; interactions without a user count against their client.
	// Signals carry no user (they name an interaction) and are sent by
	// backends for many users at once: only the client's bucket, taken
	// above for the whole body, bounds them.
	var keys []string
	var at []int
	for i := range ps {
		if ps[i].ok && !ps[i].signal {
			key := "c" + client
			if ps[i].userHash != "" {
				key = "u" + ps[i].userHash
			}
			keys = append(keys, key)
			at = append(at, i)
		}
	}
	allowed, wait := c.users.takeEach(keys)
	limited, passed := 0, 0
	for j, i := range at {
		if allowed[j] {
			passed++
			continue
		}
		limited++
		ps[i].ok = false
		ps[i].err = &loop.InputError{Reason: ReasonRateLimited,
			Msg: "too many events from this user; send it again after Retry-After seconds"}
	}

	outs, err := p.write(ps)
	if errors.Is(err, store.ErrDiskFull) {
		c.diskFull(w, err)
		return
	}
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
	for i, out := range outs {
		ans.count(out)
		if out.Status != Rejected {
			continue
		}
		e := out.Err
		if len(ans.Errors) >= c.o.MaxErrors {
			ans.ErrorsTruncated = true
			continue
		}
		ie := ItemError{Index: items[i].index, Reason: e.Reason, Error: loop.MaskRaw([]byte(e.Error()), RawLimit)}
		if out.EventID != "" && e.Reason != loop.ReasonPIIInID {
			ie.EventID = loop.MaskRaw([]byte(out.EventID), loop.MaxEventIDBytes)
		}
		ans.Errors = append(ans.Errors, ie)
	}
	c.metrics.events(ans.Summary)

	code := http.StatusOK
	if limited > 0 {
		ans.RetryAfter = retryAfter(wait)
		w.Header().Set("Retry-After", strconv.Itoa(ans.RetryAfter))
		if passed == 0 {
			code = http.StatusTooManyRequests // nothing got through
		}
	}
	writeJSON(w, code, ans)
}

func (c *Collector) tooMany(w http.ResponseWriter, wait time.Duration, msg string) {
	s := retryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(s))
	writeJSON(w, http.StatusTooManyRequests, errorBody{Error: msg + "; send it again after Retry-After seconds", RetryAfter: s})
}

// diskFull answers 507 Insufficient Storage: nothing of the body is
// stored, and sending it again once there is room is safe.
func (c *Collector) diskFull(w http.ResponseWriter, err error) {
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfterDiskFull))
	w.Header().Set("Connection", "close")
	writeJSON(w, http.StatusInsufficientStorage, errorBody{
		Error:      "nothing was stored: " + err.Error() + "; send the body again after Retry-After seconds",
		RetryAfter: RetryAfterDiskFull})
}

// readBody reads the whole body, at most max bytes, into one buffer of
// the declared size when there is one (io.ReadAll would grow and copy).
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	rd := http.MaxBytesReader(w, r.Body, max)
	if r.ContentLength <= 0 {
		return io.ReadAll(rd)
	}
	buf := make([]byte, r.ContentLength)
	n, err := io.ReadFull(rd, buf)
	if err == io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("the body ended after %d of the %d bytes its Content-Length announced", n, r.ContentLength)
	}
	if err != nil {
		return nil, err
	}
	// Nothing may follow the declared length.
	var one [1]byte
	if m, _ := rd.Read(one[:]); m > 0 {
		return nil, fmt.Errorf("the body is longer than its Content-Length")
	}
	return buf, nil
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
