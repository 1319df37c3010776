package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/loupe-dev/loupe/ingest"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/store"
)

// kafkaStateKey is where serve saves the Kafka source's counters (prefix K).
const kafkaStateKey = "state"

type kafkaFlags struct {
	brokers, topic, group, rejects string
	tls                            bool
	caFile, certFile, keyFile      string
	sasl, user, passwordFile       string
	sessionTimeout                 time.Duration
	maxBuffered                    int
}

func addKafkaFlags(fl *pflag.FlagSet, f *kafkaFlags) {
	fl.StringVar(&f.brokers, "kafka", "", "consume records from these Kafka brokers (comma-separated host:port; kafka.brokers in loupe.yaml)")
	fl.StringVar(&f.topic, "kafka-topic", "", "the Kafka topic holding interactions and signals; several separated by commas (otlp_spans,otlp_logs)")
	fl.StringVar(&f.group, "kafka-group", "", `the consumer group (default "loupe"; one per store)`)
	fl.StringVar(&f.rejects, "kafka-rejects", "", "rejects file of the Kafka source (default <store>/kafka-rejects.jsonl; - for stderr)")
	fl.BoolVar(&f.tls, "kafka-tls", false, "connect to Kafka with TLS")
	fl.StringVar(&f.caFile, "kafka-ca-file", "", "the CA certificates (PEM) for Kafka's TLS (default: the system's roots)")
	fl.StringVar(&f.certFile, "kafka-cert-file", "", "client certificate (PEM) for Kafka's TLS")
	fl.StringVar(&f.keyFile, "kafka-key-file", "", "client key (PEM) for Kafka's TLS")
	fl.StringVar(&f.sasl, "kafka-sasl", "", "the SASL mechanism: plain, scram-sha-256 or scram-sha-512")
	fl.StringVar(&f.user, "kafka-user", "", "the SASL user (password from env LOUPE_KAFKA_PASSWORD or --kafka-password-file)")
	fl.StringVar(&f.passwordFile, "kafka-password-file", "", "file holding the SASL password")
	fl.DurationVar(&f.sessionTimeout, "kafka-session-timeout", 0, "consumer group session timeout (default the client's 45s)")
	fl.MarkHidden("kafka-session-timeout")
	fl.IntVar(&f.maxBuffered, "kafka-max-buffered", 0, "records held per partition before its fetching pauses (default 8192)")
	fl.MarkHidden("kafka-max-buffered")
}

// kafkaSettings merges loupe.yaml's kafka section with the flags given.
func kafkaSettings(cmd *cobra.Command, cfg config.Kafka, f *kafkaFlags) (config.Kafka, error) {
	k := cfg
	set := func(name string) bool { return cmd.Flags().Changed(name) }
	if set("kafka") {
		k.Brokers = nil
		for _, b := range strings.Split(f.brokers, ",") {
			if b = strings.TrimSpace(b); b != "" {
				k.Brokers = append(k.Brokers, b)
			}
		}
	}
	str := map[string]*string{"kafka-topic": &k.Topic, "kafka-group": &k.Group, "kafka-rejects": &k.Rejects,
		"kafka-ca-file": &k.TLSCAFile, "kafka-cert-file": &k.TLSCertFile, "kafka-key-file": &k.TLSKeyFile,
		"kafka-sasl": &k.SASLMechanism, "kafka-user": &k.SASLUser, "kafka-password-file": &k.SASLPasswordFile}
	val := map[string]string{"kafka-topic": f.topic, "kafka-group": f.group, "kafka-rejects": f.rejects,
		"kafka-ca-file": f.caFile, "kafka-cert-file": f.certFile, "kafka-key-file": f.keyFile,
		"kafka-sasl": f.sasl, "kafka-user": f.user, "kafka-password-file": f.passwordFile}
	for name, p := range str {
		if set(name) {
			*p = val[name]
		}
	}
	if set("kafka-tls") {
		k.TLS = f.tls
	}
	if k.Group == "" {
		k.Group = ingest.DefaultKafkaGroup
	}
	if errs := config.ValidateKafka(k); len(errs) > 0 {
		return k, usageErr("kafka (loupe.yaml's kafka section and the --kafka flags): %v", errors.Join(errs...))
	}
	return k, nil
}

func kafkaTLS(k config.Kafka) (*tls.Config, error) {
	if !k.TLS {
		return nil, nil
	}
	c := &tls.Config{MinVersion: tls.VersionTLS12}
	if k.TLSCAFile != "" {
		pem, err := os.ReadFile(k.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka CA file: %w", err)
		}
		c.RootCAs = x509.NewCertPool()
		if !c.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka CA file %s: no PEM certificate in it", k.TLSCAFile)
		}
	}
	if k.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(k.TLSCertFile, k.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka client certificate: %w", err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// kafkaSASL builds the mechanism; the password is read here and never
// printed.
func kafkaSASL(k config.Kafka) (sasl.Mechanism, error) {
	if k.SASLMechanism == "" {
		return nil, nil
	}
	var pass string
	if k.SASLPasswordFile != "" {
		b, err := os.ReadFile(k.SASLPasswordFile)
		if err != nil {
			return nil, fmt.Errorf("kafka password file: %w", err)
		}
		pass = strings.TrimRight(string(b), "\r\n")
	} else {
		pass = os.Getenv(k.SASLPasswordEnv)
	}
	if pass == "" {
		return nil, usageErr("kafka: SASL %s needs a password: set env %s or --kafka-password-file", k.SASLMechanism, k.SASLPasswordEnv)
	}
	switch k.SASLMechanism {
	case "plain":
		return plain.Auth{User: k.SASLUser, Pass: pass}.AsMechanism(), nil
	case "scram-sha-256":
		return scram.Auth{User: k.SASLUser, Pass: pass}.AsSha256Mechanism(), nil
	default:
		return scram.Auth{User: k.SASLUser, Pass: pass}.AsSha512Mechanism(), nil
	}
}

// kafkaSource is serve's running Kafka consumer.
type kafkaSource struct {
	k      *ingest.Kafka
	st     *store.Store
	cancel context.CancelFunc
	done   chan struct{}
	closer io.Closer
}

// startKafka starts consuming when the settings name brokers; nil when they
// do not.
func startKafka(k config.Kafka, f *kafkaFlags, pipe *ingest.Pipeline, otlpSrc *ingest.OTLP, errOut io.Writer, logf func(string, ...any)) (*kafkaSource, error) {
	if len(k.Brokers) == 0 {
		return nil, nil
	}
	st := pipe.Store()
	tc, err := kafkaTLS(k)
	if err != nil {
		return nil, withCode(exitInternal, err)
	}
	mech, err := kafkaSASL(k)
	if err != nil {
		return nil, err
	}
	var rejects io.Writer
	var closer io.Closer
	switch path := k.Rejects; path {
	case "-":
		rejects = struct{ io.Writer }{errOut} // no Sync: stderr may be a pipe or a terminal
	default:
		if path == "" {
			path = filepath.Join(st.Dir(), "kafka-rejects.jsonl")
		}
		rf, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return nil, withCode(exitInternal, fmt.Errorf("kafka rejects file: %w", err))
		}
		rejects, closer = rf, rf
	}
	o := ingest.KafkaOptions{Brokers: k.Brokers, Topic: k.Topic, Group: k.Group, TLS: tc, SASL: mech,
		Rejects: rejects, Logf: logf, MaxBuffered: f.maxBuffered, OTLP: otlpSrc}
	if f.sessionTimeout > 0 {
		o.ClientOpts = append(o.ClientOpts, kgo.SessionTimeout(f.sessionTimeout), kgo.HeartbeatInterval(f.sessionTimeout/4))
	}
	kc, err := ingest.NewKafka(pipe, o)
	if err != nil {
		if closer != nil {
			closer.Close()
		}
		return nil, usageErr("%v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &kafkaSource{k: kc, st: st, cancel: cancel, done: make(chan struct{}), closer: closer}
	go func() {
		defer close(s.done)
		if err := kc.Run(ctx); err != nil {
			logf("kafka: stopped: %v", err)
		}
	}()
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.save()
			}
		}
	}()
	return s, nil
}

func (s *kafkaSource) save() error {
	b, err := json.Marshal(s.k.State())
	if err != nil {
		return err
	}
	return s.st.PutKafkaState(kafkaStateKey, b)
}

// stop finishes the batches in flight, commits their offsets, leaves the
// group and saves the counters; the store stays open.
func (s *kafkaSource) stop() error {
	s.cancel()
	<-s.done
	err := s.save()
	if s.closer != nil {
		if cerr := s.closer.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// withKafkaMetrics appends the Kafka source's series to the collector's
// GET /metrics answer (when the collector answered it: not on 401).
type withKafkaMetrics struct {
	h http.Handler
	k *ingest.Kafka
}

func (m withKafkaMetrics) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/metrics" {
		m.h.ServeHTTP(w, r)
		return
	}
	sw := &codeWriter{ResponseWriter: w, code: http.StatusOK}
	m.h.ServeHTTP(sw, r)
	if sw.code == http.StatusOK {
		m.k.WriteMetrics(w)
	}
}

type codeWriter struct {
	http.ResponseWriter
	code int
}

func (c *codeWriter) WriteHeader(code int) {
	c.code = code
	c.ResponseWriter.WriteHeader(code)
}

// lastKafkaState is what the last serve saved; nil when it never consumed
// from Kafka.
func lastKafkaState(st *store.Store) (*ingest.KafkaState, error) {
	b, err := st.KafkaState(kafkaStateKey)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var s ingest.KafkaState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("saved kafka state: %w", err)
	}
	return &s, nil
}

// kafkaSummary is doctor's line about the Kafka source.
func kafkaSummary(s *ingest.KafkaState) string {
	var lag int64
	known := 0
	for _, p := range s.Partitions {
		if p.Lag >= 0 {
			lag += p.Lag
			known++
		}
	}
	label := "topic"
	if strings.Contains(s.Topic, ",") {
		label = "topics"
	}
	return fmt.Sprintf("%s %s, group %s, as of %s: %d records (%d stored, %d duplicates, %d rejected), lag %d over %d partitions, %d store errors",
		label, s.Topic, s.Group, s.SavedAt.Format(time.RFC3339), s.Records, s.Accepted, s.Duplicates, s.Rejected, lag, known, s.StoreErrors)
}
