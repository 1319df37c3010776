package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/ingest"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/sample"
	"github.com/loupe-dev/loupe/store"
	"github.com/loupe-dev/loupe/tui"
	"github.com/loupe-dev/loupe/tui/sshd"
	"github.com/spf13/cobra"
	"google.golang.org/grpc"
)

func init() { extraCommands = append(extraCommands, newServeCmd) }

type serveFlags struct {
	http, ssh      string
	otlpGRPC       string
	authorizedKeys string
	hostKey        string
	token          string
	maxBody        int64
	userRate       float64
	userBurst      float64
	clientRate     float64
	clientBurst    float64
	grace          time.Duration
	kafka          kafkaFlags
	dailyNow       bool

	sshHandshake, sshIdle time.Duration
	sshMaxConns           int
}

func newServeCmd(a *app) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTP collector, OTLP/gRPC and the TUI over SSH from one process",
		Long: `Serve one store to the network: an HTTP collector that takes feedback
records (POST /v1/events: interactions and signals; POST /v1/signals:
signals only; one JSON record, a JSON array or NDJSON; the same validation,
consent gate and PII masking as ingest), and the TUI over SSH
for reviewers whose public keys are in the authorized-keys file. The key's
line names the reviewer, never the SSH user name: an option
environment="LOUPE_REVIEWER=alice" before the key, else the key's comment; a
key with neither is refused with a message saying so. A client must log in
within --ssh-handshake-timeout, a connection idle for --ssh-idle-timeout is
cut, and at most --ssh-max-conns are open at once; refused logins are logged.

The collector answers 200 with ingest's summary plus per-item errors, 400
for a body that is not JSON, 413 past --max-body, 429 with Retry-After when
a user's or a client's rate is exceeded, 401 without the bearer token
(--token or LOUPE_TOKEN; none set means open). GET /healthz and GET
/metrics (Prometheus text) are served too.

With --kafka BROKERS --kafka-topic T (or loupe.yaml's kafka section) it
also consumes a Kafka topic as a member of consumer group --kafka-group
(default loupe): each message value is one JSON record or NDJSON, or an
OTLP export request (traces or logs, protobuf or JSON: what an
OpenTelemetry Collector's Kafka exporter writes), taken through the same
steps; only committed transactions are read; offsets are committed only
once what the records carried is on disk, and bad records go to the rejects file with their
partition and offset. Consumer lag, records/s and rejects are on /metrics.

Each event whose merged view changes is put through the config's sampling
rules and queued if one picks it.

POST /v1/traces and POST /v1/logs speak OTLP/HTTP (protobuf or JSON, gzip
allowed): point an OpenTelemetry exporter here (OTEL_EXPORTER_OTLP_ENDPOINT)
and each GenAI trace becomes one interaction, its evaluation results judge
signals, mapped as loupe.yaml's otlp section says (see the README).
--otlp-grpc ADDR also receives OTLP/gRPC (TraceService and LogsService
Export, gzip allowed; the port exporters use is 4317:
OTEL_EXPORTER_OTLP_PROTOCOL=grpc OTEL_EXPORTER_OTLP_ENDPOINT=http://HOST:4317),
with the same token (metadata authorization: Bearer TOKEN), message limit
(--max-body), per-client rate and mapping; a trace's spans may come over
either. It answers UNAUTHENTICATED without the token, RESOURCE_EXHAUSTED
with RetryInfo when the client's rate is exceeded (without, for a message
over --max-body), UNAVAILABLE with RetryInfo when the store cannot write.

While serve runs it holds the store: other loupe commands on it point here.
At schedule.daily_at (UTC, default 06:00; off turns it off) serve runs the
daily job: it samples yesterday into the review queue, checks the
guardrails and posts each new alert once to alerts.webhook (or env
LOUPE_ALERTS_WEBHOOK), and expires old data (events past
privacy.retention_days, signals pending past intake.pending_days). --daily-now runs it at start
too.

SIGINT or SIGTERM stops it gracefully: in-flight requests and RPCs finish, SSH
sessions end with their grades saved, then the store is closed.`,
		Example: `  loupe serve --http 127.0.0.1:7070
  loupe serve --http 127.0.0.1:7070 --otlp-grpc 127.0.0.1:4317
  loupe serve --http :7070 --ssh :2222 --authorized-keys ~/.ssh/authorized_keys
  curl -H 'Content-Type: application/x-ndjson' --data-binary @events.jsonl http://127.0.0.1:7070/v1/events
  ssh -p 2222 localhost
  loupe serve --http 127.0.0.1:7070 --kafka kafka-1:9092,kafka-2:9092 --kafka-topic app.feedback`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runServe(cmd, a, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.http, "http", "127.0.0.1:7070", `HTTP collector address ("" or off: no collector)`)
	fl.StringVar(&f.otlpGRPC, "otlp-grpc", "", `address of the OTLP/gRPC receiver, e.g. 127.0.0.1:4317 ("" or off: none)`)
	fl.StringVar(&f.ssh, "ssh", "", `SSH address for the TUI, e.g. :2222 ("" or off: no SSH)`)
	fl.StringVar(&f.authorizedKeys, "authorized-keys", "", "public keys of the reviewers allowed in over SSH (OpenSSH authorized_keys)")
	fl.StringVar(&f.hostKey, "host-key", "", "SSH host key file (default <store>/ssh_host_ed25519, created on first start)")
	fl.StringVar(&f.token, "token", "", "bearer token the collector requires (prefer env LOUPE_TOKEN: flags show in ps)")
	fl.Int64Var(&f.maxBody, "max-body", ingest.DefaultMaxBody, "largest request body in bytes")
	fl.Float64Var(&f.userRate, "user-rate", ingest.DefaultUserRate, "events per second per user (per client for events without user_id)")
	fl.Float64Var(&f.userBurst, "user-burst", ingest.DefaultUserBurst, "events a user may send at once")
	fl.Float64Var(&f.clientRate, "client-rate", ingest.DefaultClientRate, "events per second per client address")
	fl.Float64Var(&f.clientBurst, "client-burst", ingest.DefaultClientBurst, "events a client may send at once (and per request)")
	fl.DurationVar(&f.sshHandshake, "ssh-handshake-timeout", sshd.DefaultHandshakeTimeout, "time an SSH client has to log in before it is cut (0: no limit)")
	fl.DurationVar(&f.sshIdle, "ssh-idle-timeout", sshd.DefaultIdleTimeout, "an SSH connection without traffic for this long is cut; the session's grades are saved (0: no limit)")
	fl.IntVar(&f.sshMaxConns, "ssh-max-conns", sshd.DefaultMaxConns, "most SSH connections open at once, logged in or not")
	fl.DurationVar(&f.grace, "shutdown-timeout", 10*time.Second, "how long a graceful stop waits for requests and sessions")
	addKafkaFlags(fl, &f.kafka)
	fl.BoolVar(&f.dailyNow, "daily-now", false, "also run the daily job once at start")
	return cmd
}

func off(addr string) bool { return addr == "" || addr == "off" }

// noneIfZero maps a flag's 0 ("no limit") to sshd's "none" (negative).
func noneIfZero(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func runServe(cmd *cobra.Command, a *app, f *serveFlags) error {
	switch {
	case f.sshMaxConns < 1:
		return usageErr("--ssh-max-conns %d: want at least 1", f.sshMaxConns)
	case f.sshHandshake < 0 || f.sshIdle < 0:
		return usageErr("--ssh-handshake-timeout and --ssh-idle-timeout: want a duration >= 0 (0: no limit)")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	kset, err := kafkaSettings(cmd, cfg.Kafka, &f.kafka)
	if err != nil {
		return err
	}
	if off(f.http) && off(f.otlpGRPC) && off(f.ssh) && len(kset.Brokers) == 0 {
		return usageErr("nothing to serve: give --http ADDR, --otlp-grpc ADDR, --ssh ADDR, --kafka BROKERS, or several")
	}
	if !off(f.ssh) && f.authorizedKeys == "" {
		return usageErr("--ssh needs --authorized-keys FILE: only reviewers whose public key it lists get in")
	}
	if f.maxBody <= 0 || f.userRate <= 0 || f.userBurst < 1 || f.clientRate <= 0 || f.clientBurst < 1 {
		return usageErr("--max-body and the rates must be > 0, the bursts >= 1")
	}
	token := f.token
	if token == "" {
		token = os.Getenv("LOUPE_TOKEN")
	}
	if err := checkWebhook(cfg); err != nil {
		return err
	}
	ctx := cmd.Context()
	st, err := a.open(ctx, "loupe serve")
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	logf := func(format string, args ...any) {
		fmt.Fprintf(cmd.ErrOrStderr(), time.Now().Format("15:04:05 ")+format+"\n", args...)
	}

	// One pipeline for every source: their writes share durable commits.
	pipe := ingest.New(st, ingest.PipelineOptions{Queue: sampleOnArrival(cfg), Keep: cfg.Intake.Keep})
	var sshSrv *sshd.Server
	var sshLn net.Listener
	if !off(f.ssh) {
		hostKey := f.hostKey
		if hostKey == "" {
			hostKey = filepath.Join(st.Dir(), "ssh_host_ed25519")
		}
		sshSrv, err = sshd.New(st, sshd.Options{
			AuthorizedKeys:   f.authorizedKeys,
			HostKey:          hostKey,
			TUI:              tui.Options{Config: &cfg.Config},
			Logf:             logf,
			HandshakeTimeout: noneIfZero(f.sshHandshake),
			IdleTimeout:      noneIfZero(f.sshIdle),
			MaxConns:         f.sshMaxConns,
		})
		if errors.Is(err, sshd.ErrAuthorizedKeys) {
			return usageErr("--authorized-keys: %v", err)
		} else if err != nil {
			return withCode(exitInternal, err)
		}
		if sshLn, err = net.Listen("tcp", f.ssh); err != nil {
			return withCode(exitInternal, fmt.Errorf("ssh: %w", err))
		}
		defer sshLn.Close()
	}
	var httpSrv *http.Server
	var httpLn net.Listener
	var grpcSrv *grpc.Server
	var grpcLn net.Listener
	// One collector for HTTP and OTLP/gRPC: a client's rate, the memory
	// budget and the metrics are shared by both, and its OpenTelemetry
	// source is Kafka's too, so that one source assembles each trace
	// whichever way its spans come.
	mapping := cfg.OTLP.Mapping()
	c := ingest.NewCollector(pipe, ingest.CollectorOptions{Token: token, MaxBody: f.maxBody, OTLP: &mapping,
		UserRate: f.userRate, UserBurst: f.userBurst, ClientRate: f.clientRate, ClientBurst: f.clientBurst})
	if !off(f.otlpGRPC) {
		if grpcLn, err = net.Listen("tcp", f.otlpGRPC); err != nil {
			return withCode(exitInternal, fmt.Errorf("otlp-grpc: %w", err))
		}
		defer grpcLn.Close()
		grpcSrv = ingest.NewOTLPGRPC(c).Server()
	}
	if !off(f.http) {
		if httpLn, err = net.Listen("tcp", f.http); err != nil {
			return withCode(exitInternal, fmt.Errorf("http: %w", err))
		}
		defer httpLn.Close()
		httpSrv = &http.Server{
			Handler:           http.Handler(c),
			ReadHeaderTimeout: 10 * time.Second,
			ReadTimeout:       time.Minute,
			WriteTimeout:      time.Minute,
			IdleTimeout:       2 * time.Minute,
			MaxHeaderBytes:    64 << 10,
		}
	}

	ks, err := startKafka(kset, &f.kafka, pipe, c.OTLP(), cmd.ErrOrStderr(), logf)
	if err != nil {
		return err
	}
	if ks != nil && httpSrv != nil {
		httpSrv.Handler = withKafkaMetrics{httpSrv.Handler, ks.k}
	}

	errc := make(chan error, 3)
	auth := "open: no token set"
	if token != "" {
		auth = "bearer token required"
	}
	if httpSrv != nil {
		go func() {
			if err := httpSrv.Serve(httpLn); !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("http: %w", err)
			}
		}()
		fmt.Fprintf(out, "http: listening on %s (POST /v1/events, POST /v1/signals, POST /v1/traces and /v1/logs (OTLP), GET /healthz, GET /metrics; %s)\n", httpLn.Addr(), auth)
	}
	if grpcSrv != nil {
		go func() {
			// nil once Stop or GracefulStop is called.
			if err := grpcSrv.Serve(grpcLn); err != nil {
				errc <- fmt.Errorf("otlp-grpc: %w", err)
			}
		}()
		fmt.Fprintf(out, "otlp-grpc: listening on %s (OTLP/gRPC TraceService and LogsService Export, gzip allowed; %s)\n", grpcLn.Addr(), auth)
	}
	if sshSrv != nil {
		go func() {
			if err := sshSrv.Serve(sshLn); err != nil {
				errc <- fmt.Errorf("ssh: %w", err)
			}
		}()
		fmt.Fprintf(out, "ssh: listening on %s (keys in %s)\n", sshLn.Addr(), f.authorizedKeys)
	}
	if ks != nil {
		group := kset.Group
		fmt.Fprintf(out, "kafka: consuming %s from %s as group %s\n", kset.Topic, strings.Join(kset.Brokers, ","), group)
	}
	dailyDone := startDaily(ctx, st, cfg, f.dailyNow, out, logf)
	fmt.Fprintf(out, "store: %s (Ctrl-C or SIGTERM stops)\n", st.Dir())

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-errc:
	}
	logf("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), f.grace)
	defer cancel()
	var errs []error
	if httpSrv != nil {
		if err := httpSrv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			httpSrv.Close()
		}
	}
	if grpcSrv != nil {
		// GracefulStop lets the RPCs in flight finish (what they
		// acknowledge is durable); past the timeout Stop cuts them, and
		// their exporters send them again.
		stopped := make(chan struct{})
		go func() { grpcSrv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-sctx.Done():
			grpcSrv.Stop()
			<-stopped
			errs = append(errs, fmt.Errorf("otlp-grpc shutdown: %w", sctx.Err()))
		}
	}
	if sshSrv != nil {
		if err := sshSrv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("ssh shutdown: %w", err))
		}
	}
	if ks != nil {
		if err := ks.stop(); err != nil {
			errs = append(errs, fmt.Errorf("kafka: %w", err))
		}
	}
	dailyDone()
	// Every request and session is done with the store: close it now, so a
	// failure to close is reported rather than lost at exit.
	if err := a.close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	if runErr != nil {
		errs = append([]error{runErr}, errs...)
	}
	if len(errs) > 0 {
		return withCode(exitInternal, errors.Join(errs...))
	}
	logf("stopped")
	return nil
}

// sampleOnArrival is the pipeline's queue of serve: each event whose
// stored view is new or changed (a late thumbs-down, say) is put through
// the config's sampling rules for its day, as "loupe sample --day" would,
// and queued if one picks it, in the same commit as the records. Graded
// and queued events are skipped: the queue never holds an item twice.
func sampleOnArrival(cfg appConfig) store.ArrivalFunc {
	pick := sample.NewPicker(cfg.Sampling.Seed, cfg.Sampling.Rules)
	return func(c *store.Changed) (loop.QueueItem, bool) {
		if c.Labelled {
			return loop.QueueItem{}, false
		}
		why := pick.Why(&c.Summary)
		if why == nil {
			return loop.QueueItem{}, false
		}
		return loop.QueueItem{EventID: c.Summary.ID, Day: c.Summary.Time.UTC().Format(time.DateOnly), Why: why, At: time.Now().UTC()}, true
	}
}
