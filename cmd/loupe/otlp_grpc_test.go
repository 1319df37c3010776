package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// The same app as TestServeOTLPWithSDK, its exporters set to OTLP/gRPC
// (OTEL_EXPORTER_OTLP_PROTOCOL=grpc), gzip on, sending to a `loupe serve`
// that has no HTTP collector at all: the store ends the same. Without the
// bearer token the export is refused and nothing is stored.
func TestServeOTLPGRPCWithSDK(t *testing.T) {
	st := filepath.Join(t.TempDir(), "s")
	s := startServe(t, []string{"LOUPE_TOKEN=grpc-secret"}, "--store", st, "--http", "off", "--otlp-grpc", "127.0.0.1:0")
	if s.grpc == "" || s.http != "" {
		t.Fatalf("listening lines: grpc %q http %q", s.grpc, s.http)
	}
	ctx := context.Background()

	// No token: UNAUTHENTICATED, which exporters do not retry.
	noTok, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(s.grpc), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithRetry(otlptracegrpc.RetryConfig{Enabled: false}))
	if err != nil {
		t.Fatal(err)
	}
	refused := tracetest.SpanStubs{{Name: "chat gpt-4o", Attributes: []attribute.KeyValue{attribute.String("gen_ai.operation.name", "chat")}}}
	if err := noTok.ExportSpans(ctx, refused.Snapshots()); status.Code(err) != codes.Unauthenticated {
		t.Errorf("export without the token: %v, want Unauthenticated", err)
	}
	noTok.Shutdown(ctx)

	traceID := exportShopTraceGRPC(t, s.grpc, "grpc-secret")
	s.stop(t)
	checkShopEvent(t, st, traceID)
}

// exportShopTraceGRPC is shopTrace exported over OTLP/gRPC to addr, gzip
// on, with the bearer token.
func exportShopTraceGRPC(t *testing.T, addr, token string) string {
	t.Helper()
	ctx := context.Background()
	hdr := map[string]string{"authorization": "Bearer " + token}
	texp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpoint(addr), otlptracegrpc.WithInsecure(),
		otlptracegrpc.WithCompressor("gzip"), otlptracegrpc.WithHeaders(hdr))
	if err != nil {
		t.Fatal(err)
	}
	lexp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(addr), otlploggrpc.WithInsecure(),
		otlploggrpc.WithCompressor("gzip"), otlploggrpc.WithHeaders(hdr))
	if err != nil {
		t.Fatal(err)
	}
	return shopTrace(t, texp, lexp)
}

// --otlp-grpc alone is something to serve; with everything off the usage
// error names it.
func TestServeNothingNamesOTLPGRPC(t *testing.T) {
	r := run(t, nil, "serve", "--store", filepath.Join(t.TempDir(), "s"), "--http", "off")
	if r.code != 2 || !strings.Contains(r.stderr, "--otlp-grpc ADDR") {
		t.Errorf("exit %d: %s", r.code, r.stderr)
	}
}
