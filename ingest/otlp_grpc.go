package ingest

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/ingest/otlp"
	"github.com/loupe-dev/loupe/store"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	_ "google.golang.org/grpc/encoding/gzip" // registers the gzip compressor: exporters may compress requests
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/tap"
	"google.golang.org/protobuf/types/known/durationpb"
)

// OTLP/gRPC (opentelemetry.proto.collector.trace.v1.TraceService/Export and
// ...logs.v1.LogsService/Export), the same intake as OTLP/HTTP: the
// collector's bearer token, body limit, per-client rate limit, memory
// budget (charged before a message is read), metrics and OpenTelemetry
// source. The answers follow the OTLP
// specification for gRPC: OK with partial_success counting and explaining
// what was refused; UNAUTHENTICATED without the token; RESOURCE_EXHAUSTED
// with a google.rpc.RetryInfo when the client's bucket is empty (without
// one, not to be retried, for a message over the limit, also after
// inflating gzip, or more items than a bucket holds); UNAVAILABLE with a
// RetryInfo when the store cannot write. Everything acknowledged is
// durable before the answer.

// grpcMaxStreams bounds the RPCs one connection has open at once: with the
// message limit, what a connection can make the receiver hold. Exporters
// queue calls past it (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS).
const grpcMaxStreams = 16

// OTLPGRPC is the OTLP/gRPC receiver of a Collector. Its methods are safe
// for concurrent use.
type OTLPGRPC struct {
	c *Collector
}

// NewOTLPGRPC returns the OTLP/gRPC receiver sharing c's options, rate
// buckets (per client address, whichever protocol it uses), memory budget,
// metrics and OpenTelemetry source, so that one source assembles each
// trace whether its spans come over HTTP or gRPC.
func NewOTLPGRPC(c *Collector) *OTLPGRPC { return &OTLPGRPC{c: c} }

// Server returns a gRPC server with the trace and logs services
// registered: messages are bounded by the collector's MaxBody (after
// inflating gzip), the bearer token and the client's rate are checked
// before a message is read.
func (g *OTLPGRPC) Server() *grpc.Server {
	s := grpc.NewServer(
		grpc.MaxRecvMsgSize(int(g.c.o.MaxBody)),
		grpc.MaxConcurrentStreams(grpcMaxStreams),
		grpc.InTapHandle(g.tap),
		grpc.StatsHandler(grpcStats{g.c.metrics}),
	)
	ptraceotlp.RegisterGRPCServer(s, &grpcTraces{g: g})
	plogotlp.RegisterGRPCServer(s, &grpcLogs{g: g})
	return s
}

// tap runs before a stream is created, so before its message is read: a
// caller without the token, or whose bucket is empty, costs no more than
// its headers. It runs on the connection's reader: nothing here blocks.
func (g *OTLPGRPC) tap(ctx context.Context, info *tap.Info) (context.Context, error) {
	if tok := g.c.o.Token; tok != "" {
		got := info.Header.Get("authorization")
		if len(got) != 1 || subtle.ConstantTimeCompare([]byte(got[0]), []byte("Bearer "+tok)) != 1 {
			g.c.metrics.grpcRequest(codes.Unauthenticated)
			return ctx, status.Error(codes.Unauthenticated,
				"missing or wrong bearer token (metadata authorization: Bearer TOKEN; OTEL_EXPORTER_OTLP_HEADERS=\"Authorization=Bearer TOKEN\")")
		}
	}
	if ok, wait := g.c.clients.peek(peerKey(ctx)); !ok {
		g.c.metrics.grpcRequest(codes.ResourceExhausted)
		return ctx, retryStatus(codes.ResourceExhausted, wait, "too many spans and log records from this client")
	}
	// The memory budget, shared with HTTP, is charged before gRPC reads
	// the message, for the largest one it may be (its size is not known
	// yet): the messages being read and stored at once are bounded
	// however many connections there are. It is given back when the
	// stream ends, whichever way it ends.
	cost := bodyCost(g.c.o.MaxBody)
	if !g.c.bodies.TryAcquire(cost) {
		g.c.metrics.grpcRequest(codes.Unavailable)
		return ctx, retryStatus(codes.Unavailable, time.Second, "the collector is reading as many requests as its memory budget allows")
	}
	context.AfterFunc(ctx, func() { g.c.bodies.Release(cost) })
	return ctx, nil
}

type grpcTraces struct {
	ptraceotlp.UnimplementedGRPCServer
	g *OTLPGRPC
}

func (s *grpcTraces) Export(ctx context.Context, req ptraceotlp.ExportRequest) (ptraceotlp.ExportResponse, error) {
	td := req.Traces()
	var m ptrace.ProtoMarshaler
	res, err := s.g.export(ctx, m.TracesSize(td), func() otlp.Batch {
		return otlp.Traces(td, s.g.c.otlp.m.Attributes.Names())
	})
	resp := ptraceotlp.NewExportResponse()
	if err != nil {
		return resp, err
	}
	if msg := strings.Join(res.Errors, "; "); res.Rejected > 0 || msg != "" {
		ps := resp.PartialSuccess()
		ps.SetRejectedSpans(int64(res.Rejected))
		ps.SetErrorMessage(msg)
	}
	return resp, nil
}

type grpcLogs struct {
	plogotlp.UnimplementedGRPCServer
	g *OTLPGRPC
}

func (s *grpcLogs) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	ld := req.Logs()
	var m plog.ProtoMarshaler
	res, err := s.g.export(ctx, m.LogsSize(ld), func() otlp.Batch { return otlp.Logs(ld) })
	resp := plogotlp.NewExportResponse()
	if err != nil {
		return resp, err
	}
	if msg := strings.Join(res.Errors, "; "); res.Rejected > 0 || msg != "" {
		ps := resp.PartialSuccess()
		ps.SetRejectedLogRecords(int64(res.Rejected))
		ps.SetErrorMessage(msg)
	}
	return resp, nil
}

// export stores what one request carries (size bytes of protobuf, already
// decoded by gRPC within the message limit, its memory budget charged by
// tap), in the steps and order of Collector.otlpExport.
func (g *OTLPGRPC) export(ctx context.Context, size int, decode func() otlp.Batch) (OTLPResult, error) {
	c := g.c
	// A full disk is said before anything is converted: the exporter
	// keeps the request and retries (UNAVAILABLE is retryable in OTLP).
	if err := c.p.st.CheckSpace(size); err != nil {
		return OTLPResult{}, retryStatus(codes.Unavailable, RetryAfterDiskFull*time.Second, "nothing was stored: "+err.Error())
	}
	b := decode()
	if float64(b.Items) > c.o.ClientBurst {
		// Never fits in a bucket: RESOURCE_EXHAUSTED without RetryInfo
		// is not retried, as for a message over the size limit.
		return OTLPResult{}, status.Errorf(codes.ResourceExhausted,
			"%d items in one request; send at most %d at a time (the exporter's batch size)", b.Items, int(c.o.ClientBurst))
	}
	if ok, wait := c.clients.take(peerKey(ctx), float64(b.Items)); !ok {
		return OTLPResult{}, retryStatus(codes.ResourceExhausted, wait, "too many spans and log records from this client")
	}
	res, err := c.otlp.Accept(ctx, b)
	if err != nil {
		// Nothing is reported stored; the same request again is safe:
		// spans are keyed by id, signals by their derived id.
		wait := retryStore
		if errors.Is(err, store.ErrDiskFull) {
			wait = RetryAfterDiskFull * time.Second
		}
		return OTLPResult{}, retryStatus(codes.Unavailable, wait, "storing failed: "+err.Error()+"; the same request again is safe")
	}
	c.metrics.events(Summary{Accepted: res.Interactions, Signals: res.Signals, Withdrawn: res.Withdrawn})
	return res, nil
}

// retryStatus is a status error with a google.rpc.RetryInfo detail, the
// OTLP exporters' Retry-After.
func retryStatus(code codes.Code, wait time.Duration, msg string) error {
	s := retryAfter(wait)
	st := status.New(code, fmt.Sprintf("%s; send it again after %d s (RetryInfo)", msg, s))
	if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(s) * time.Second)}); err == nil {
		st = d
	}
	return st.Err()
}

// peerKey is the caller's address without its port, as clientKey is for
// HTTP: the same client shares one bucket over both protocols.
func peerKey(ctx context.Context) string {
	p, ok := peer.FromContext(ctx)
	if !ok || p.Addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(p.Addr.String())
	if err != nil {
		return p.Addr.String()
	}
	return host
}

// grpcStats counts every RPC's status for /metrics; the ones the tap
// refuses never become an RPC and are counted there.
type grpcStats struct{ m *metrics }

func (grpcStats) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (grpcStats) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (grpcStats) HandleConn(context.Context, stats.ConnStats)                       {}

func (s grpcStats) HandleRPC(_ context.Context, rs stats.RPCStats) {
	if end, ok := rs.(*stats.End); ok {
		s.m.grpcRequest(status.Code(end.Error))
	}
}
