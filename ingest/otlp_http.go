package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/ingest/otlp"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
)

// OTLP/HTTP (POST /v1/traces, POST /v1/logs). The answers follow the OTLP
// specification: 200 with an Export*ServiceResponse whose partial_success
// counts and explains what was refused; a google.rpc.Status body with 400
// (unreadable: do not retry), 413 (too large, also after inflating gzip),
// 415 (not protobuf or JSON); 429 or 503 with Retry-After when sending the
// same request again later is right (rate limit; the store could not
// write). Everything accepted is durable before the answer.

// retryStore is the Retry-After of a request whose write failed.
const retryStore = 5 * time.Second

func (c *Collector) otlpTraces(w http.ResponseWriter, r *http.Request) { c.otlpExport(w, r, true) }
func (c *Collector) otlpLogs(w http.ResponseWriter, r *http.Request)   { c.otlpExport(w, r, false) }

func (c *Collector) otlpExport(w http.ResponseWriter, r *http.Request, traces bool) {
	enc, err := otlp.RequestEncoding(r.Header.Get("Content-Type"))
	if err != nil {
		otlpError(w, otlp.JSON, http.StatusUnsupportedMediaType, err.Error())
		return
	}
	client := clientKey(r)
	if ok, wait := c.clients.peek(client); !ok {
		c.otlpRetry(w, enc, http.StatusTooManyRequests, wait, "too many spans and log records from this client")
		return
	}
	if r.ContentLength > c.o.MaxBody {
		w.Header().Set("Connection", "close")
		otlpError(w, enc, http.StatusRequestEntityTooLarge, fmt.Sprintf(
			"the body is larger than %d bytes; send smaller batches (the exporter's batch size)", c.o.MaxBody))
		return
	}
	// A full disk is said before the body is read: the exporter keeps it
	// and retries (503 is retryable in OTLP; 507 is not).
	if err := c.p.st.CheckSpace(int(max(r.ContentLength, 0))); err != nil {
		c.otlpRetry(w, enc, http.StatusServiceUnavailable, RetryAfterDiskFull*time.Second, "nothing was stored: "+err.Error())
		return
	}
	// The memory budget of bodies in flight, as for /v1/events; a gzip
	// body may inflate to the limit.
	cost := bodyCost(c.o.MaxBody)
	if r.ContentLength >= 0 && r.Header.Get("Content-Encoding") == "" {
		cost = bodyCost(max(r.ContentLength, 1))
	}
	ctx, cancel := context.WithTimeout(r.Context(), time.Second)
	err = c.bodies.Acquire(ctx, cost)
	cancel()
	if err != nil {
		c.otlpRetry(w, enc, http.StatusServiceUnavailable, time.Second, "the collector is reading as many bodies as its memory budget allows")
		return
	}
	defer c.bodies.Release(cost)
	body, err := otlp.ReadBody(r, w, c.o.MaxBody)
	var unsup *otlp.UnsupportedError
	switch {
	case errors.Is(err, otlp.ErrTooLarge):
		w.Header().Set("Connection", "close")
		otlpError(w, enc, http.StatusRequestEntityTooLarge, fmt.Sprintf(
			"the body is larger than %d bytes (after inflating gzip); send smaller batches (the exporter's batch size)", c.o.MaxBody))
		return
	case errors.As(err, &unsup):
		otlpError(w, enc, http.StatusUnsupportedMediaType, err.Error())
		return
	case err != nil:
		otlpError(w, enc, http.StatusBadRequest, err.Error())
		return
	}
	var b otlp.Batch
	if traces {
		td, err := otlp.DecodeTraces(body, enc)
		if err != nil {
			otlpError(w, enc, http.StatusBadRequest, loop.MaskRaw([]byte(err.Error()), RawLimit))
			return
		}
		b = otlp.Traces(td, c.otlp.m.Attributes.Names())
	} else {
		ld, err := otlp.DecodeLogs(body, enc)
		if err != nil {
			otlpError(w, enc, http.StatusBadRequest, loop.MaskRaw([]byte(err.Error()), RawLimit))
			return
		}
		b = otlp.Logs(ld)
	}
	if float64(b.Items) > c.o.ClientBurst {
		otlpError(w, enc, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("%d items in one request; send at most %d at a time", b.Items, int(c.o.ClientBurst)))
		return
	}
	if ok, wait := c.clients.take(client, float64(b.Items)); !ok {
		c.otlpRetry(w, enc, http.StatusTooManyRequests, wait, "too many spans and log records from this client")
		return
	}
	res, err := c.otlp.Accept(r.Context(), b)
	if err != nil {
		// Nothing is reported stored; the same request again is safe:
		// spans are keyed by id, signals by their derived id.
		wait := retryStore
		if errors.Is(err, store.ErrDiskFull) {
			wait = RetryAfterDiskFull * time.Second
		}
		c.otlpRetry(w, enc, http.StatusServiceUnavailable, wait, "storing failed: "+err.Error()+"; the same request again is safe")
		return
	}
	c.metrics.events(Summary{Accepted: res.Interactions, Signals: res.Signals, Withdrawn: res.Withdrawn})
	msg := strings.Join(res.Errors, "; ")
	var out []byte
	if traces {
		out, err = otlp.TracesResponse(enc, res.Rejected, msg)
	} else {
		out, err = otlp.LogsResponse(enc, res.Rejected, msg)
	}
	if err != nil {
		otlpError(w, enc, http.StatusInternalServerError, "encoding the answer: "+err.Error())
		return
	}
	writeOTLP(w, enc, http.StatusOK, out)
}

func (c *Collector) otlpRetry(w http.ResponseWriter, enc otlp.Encoding, code int, wait time.Duration, msg string) {
	s := retryAfter(wait)
	w.Header().Set("Retry-After", strconv.Itoa(s))
	otlpError(w, enc, code, fmt.Sprintf("%s; send it again after %d s (Retry-After)", msg, s))
}

// otlpError answers with a google.rpc.Status in the request's encoding.
func otlpError(w http.ResponseWriter, enc otlp.Encoding, code int, msg string) {
	st := &status.Status{Code: grpcCode(code), Message: msg}
	var b []byte
	var err error
	if enc == otlp.JSON {
		b, err = json.Marshal(map[string]any{"code": st.Code, "message": st.Message})
	} else {
		b, err = proto.Marshal(st)
	}
	if err != nil {
		b = []byte(msg)
	}
	writeOTLP(w, enc, code, b)
}

// grpcCode is the gRPC status code matching an HTTP answer, as OTLP maps
// them.
func grpcCode(httpCode int) int32 {
	switch httpCode {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType:
		return 3 // INVALID_ARGUMENT
	case http.StatusRequestEntityTooLarge:
		return 11 // OUT_OF_RANGE
	case http.StatusTooManyRequests:
		return 8 // RESOURCE_EXHAUSTED
	case http.StatusServiceUnavailable:
		return 14 // UNAVAILABLE
	case http.StatusUnauthorized:
		return 16 // UNAUTHENTICATED
	}
	return 13 // INTERNAL
}

func writeOTLP(w http.ResponseWriter, enc otlp.Encoding, code int, b []byte) {
	w.Header().Set("Content-Type", enc.ContentType())
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(code)
	w.Write(b)
}
