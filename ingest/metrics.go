package ingest

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
)

// durationBounds are the histogram's upper bounds in seconds.
var durationBounds = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// metrics are the collector's counters, written in the Prometheus text
// exposition format (version 0.0.4) by hand: a handful of series do not
// need a client library.
type metrics struct {
	mu         sync.Mutex
	accepted   int64
	signals    int64
	withdrawn  int64
	duplicates int64
	rejected   map[string]int64 // by reason code: a small fixed set
	codes      map[int]int64
	grpcCodes  map[string]int64 // OTLP/gRPC answers by status code name
	buckets    []int64          // per bound, not cumulative
	sum        float64
	count      int64
}

func newMetrics() *metrics {
	return &metrics{rejected: map[string]int64{}, codes: map[int]int64{}, grpcCodes: map[string]int64{}, buckets: make([]int64, len(durationBounds))}
}

func (m *metrics) events(s Summary) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.accepted += int64(s.Accepted)
	m.signals += int64(s.Signals)
	m.withdrawn += int64(s.Withdrawn)
	m.duplicates += int64(s.Duplicates)
	for r, n := range s.Reasons {
		m.rejected[r] += int64(n)
	}
}

func (m *metrics) request(code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.codes[code]++
	s := d.Seconds()
	for i, b := range durationBounds {
		if s <= b {
			m.buckets[i]++
			break
		}
	}
	m.sum += s
	m.count++
}

// grpcRequest counts an OTLP/gRPC request answered with code.
func (m *metrics) grpcRequest(code codes.Code) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.grpcCodes[code.String()]++
}

// WriteTo writes the exposition text; series come out in a stable order.
func (m *metrics) WriteTo(w io.Writer) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cw := &countWriter{w: w}
	p := func(format string, a ...any) { fmt.Fprintf(cw, format, a...) }

	p("# HELP loupe_events_accepted_total Events stored by the collector.\n")
	p("# TYPE loupe_events_accepted_total counter\n")
	p("loupe_events_accepted_total %d\n", m.accepted)

	p("# HELP loupe_signals_accepted_total Signals stored by the collector (pending ones too).\n")
	p("# TYPE loupe_signals_accepted_total counter\n")
	p("loupe_signals_accepted_total %d\n", m.signals)

	p("# HELP loupe_records_withdrawn_total Records dropped because their user withdrew consent.\n")
	p("# TYPE loupe_records_withdrawn_total counter\n")
	p("loupe_records_withdrawn_total %d\n", m.withdrawn)

	p("# HELP loupe_events_rejected_total Events the collector refused, by reason code.\n")
	p("# TYPE loupe_events_rejected_total counter\n")
	for _, r := range sortedKeys(m.rejected) {
		p("loupe_events_rejected_total{reason=%s} %d\n", labelValue(r), m.rejected[r])
	}

	p("# HELP loupe_events_duplicate_total Events already stored with the same content.\n")
	p("# TYPE loupe_events_duplicate_total counter\n")
	p("loupe_events_duplicate_total %d\n", m.duplicates)

	p("# HELP loupe_http_requests_total HTTP requests answered, by status code.\n")
	p("# TYPE loupe_http_requests_total counter\n")
	codes := make([]int, 0, len(m.codes))
	for c := range m.codes {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	for _, c := range codes {
		p("loupe_http_requests_total{code=\"%d\"} %d\n", c, m.codes[c])
	}

	p("# HELP loupe_http_request_duration_seconds Time to answer an HTTP request.\n")
	p("# TYPE loupe_http_request_duration_seconds histogram\n")
	var cum int64
	for i, b := range durationBounds {
		cum += m.buckets[i]
		p("loupe_http_request_duration_seconds_bucket{le=\"%s\"} %d\n", strconv.FormatFloat(b, 'g', -1, 64), cum)
	}
	p("loupe_http_request_duration_seconds_bucket{le=\"+Inf\"} %d\n", m.count)
	p("loupe_http_request_duration_seconds_sum %s\n", strconv.FormatFloat(m.sum, 'g', -1, 64))
	p("loupe_http_request_duration_seconds_count %d\n", m.count)

	p("# HELP loupe_grpc_requests_total OTLP/gRPC requests answered, by status code.\n")
	p("# TYPE loupe_grpc_requests_total counter\n")
	for _, c := range sortedKeys(m.grpcCodes) {
		p("loupe_grpc_requests_total{code=%s} %d\n", labelValue(c), m.grpcCodes[c])
	}
	return cw.n, cw.err
}

func sortedKeys(m map[string]int64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// labelValue quotes a label value with the format's three escapes.
func labelValue(s string) string {
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			b = append(b, `\\`...)
		case '"':
			b = append(b, `\"`...)
		case '\n':
			b = append(b, `\n`...)
		default:
			b = append(b, c)
		}
	}
	return string(append(b, '"'))
}

type countWriter struct {
	w   io.Writer
	n   int64
	err error
}

func (c *countWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
	return n, err
}

// writeSignalGauges adds the store's signal counts to the exposition.
func writeSignalGauges(w io.Writer, pending, dropped int) {
	fmt.Fprintf(w, "# HELP loupe_signals_pending Signals stored ahead of their interaction, waiting for it.\n")
	fmt.Fprintf(w, "# TYPE loupe_signals_pending gauge\n")
	fmt.Fprintf(w, "loupe_signals_pending %d\n", pending)
	fmt.Fprintf(w, "# HELP loupe_signals_dropped Pending signals dropped because their interaction never came (intake.pending_days).\n")
	fmt.Fprintf(w, "# TYPE loupe_signals_dropped_total counter\n")
	fmt.Fprintf(w, "loupe_signals_dropped_total %d\n", dropped)
}

// writeAggregateGauges adds the store's edge-sampling counts (intake.keep)
// to the exposition.
func writeAggregateGauges(w io.Writer, unkept, dropped int64) {
	fmt.Fprintf(w, "# HELP loupe_unkept_interactions Interactions edge sampling did not keep: counted in the aggregates, not stored in full.\n")
	fmt.Fprintf(w, "# TYPE loupe_unkept_interactions gauge\n")
	fmt.Fprintf(w, "loupe_unkept_interactions %d\n", unkept)
	fmt.Fprintf(w, "# HELP loupe_dropped_unkept_signals_total Signals for unkept interactions that carried nothing the aggregates count.\n")
	fmt.Fprintf(w, "# TYPE loupe_dropped_unkept_signals_total counter\n")
	fmt.Fprintf(w, "loupe_dropped_unkept_signals_total %d\n", dropped)
}
