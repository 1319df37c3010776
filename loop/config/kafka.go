package config

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Kafka is where `loupe serve` consumes records from (the kafka section);
// no brokers means no Kafka source. Flags of serve override each key.
type Kafka struct {
	Brokers []string `yaml:"brokers"` // host:port seeds
	Topic   string   `yaml:"topic"`
	Group   string   `yaml:"group"` // consumer group
	// Rejects is the rejects file; empty means kafka-rejects.jsonl in the
	// store directory.
	Rejects string `yaml:"rejects"`

	TLS         bool   `yaml:"tls"`
	TLSCAFile   string `yaml:"tls_ca_file"`   // empty: the system's roots
	TLSCertFile string `yaml:"tls_cert_file"` // client certificate, with tls_key_file
	TLSKeyFile  string `yaml:"tls_key_file"`

	// SASLMechanism is "", "plain", "scram-sha-256" or "scram-sha-512".
	SASLMechanism string `yaml:"sasl_mechanism"`
	SASLUser      string `yaml:"sasl_user"`
	// The password is never in the file: it is read from the environment
	// variable SASLPasswordEnv, or from SASLPasswordFile when that is set.
	SASLPasswordEnv  string `yaml:"sasl_password_env"`
	SASLPasswordFile string `yaml:"sasl_password_file"`
}

// SASLMechanisms are the values sasl_mechanism takes.
var SASLMechanisms = []string{"plain", "scram-sha-256", "scram-sha-512"}

// DefaultKafka is the kafka section's default: no source.
func DefaultKafka() Kafka {
	return Kafka{Group: "loupe", SASLPasswordEnv: "LOUPE_KAFKA_PASSWORD"}
}

// kafkaTopic is a legal Kafka topic name.
var kafkaTopic = regexp.MustCompile(`^[A-Za-z0-9._-]{1,249}$`)

// KafkaTopics are the topics of a kafka topic setting: one, or several
// separated by commas (an OpenTelemetry Collector's Kafka exporter writes
// traces to otlp_spans and logs to otlp_logs), each a legal Kafka topic
// name, in order, none twice.
func KafkaTopics(topic string) ([]string, error) {
	var out []string
	for _, t := range strings.Split(topic, ",") {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if !kafkaTopic.MatchString(t) || t == "." || t == ".." {
			return nil, fmt.Errorf("%q: a Kafka topic is 1 to 249 of letters, digits, '.', '_' and '-' (several are separated by commas)", t)
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no topic")
	}
	return out, nil
}

func topicErr(topic string) error {
	_, err := KafkaTopics(topic)
	return err
}

// ValidateKafka checks a kafka section (also built from serve's flags);
// errors name the key under prefix ("kafka." for the file).
func ValidateKafka(k Kafka) []error {
	p := &problems{}
	k.validate(p, "")
	return p.errs
}

func (k Kafka) validate(p *problems, prefix string) {
	for i, b := range k.Brokers {
		host, port, err := net.SplitHostPort(b)
		if n, perr := strconv.Atoi(port); err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			p.add(fmt.Sprintf("%sbrokers[%d]", prefix, i), "%q: want host:port, e.g. kafka-1:9092", b)
		}
	}
	on := len(k.Brokers) > 0
	switch {
	case on && k.Topic == "":
		p.add(prefix+"topic", "missing: which topic holds the records (brokers are set)")
	case k.Topic != "" && topicErr(k.Topic) != nil:
		p.add(prefix+"topic", "%v", topicErr(k.Topic))
	case k.Topic != "" && !on:
		p.add(prefix+"brokers", "missing: topic %q is set but no broker to read it from", k.Topic)
	}
	if strings.TrimSpace(k.Group) == "" {
		p.add(prefix+"group", "empty: want a consumer group name (default loupe)")
	}
	if !k.TLS {
		for _, f := range [][2]string{{"tls_ca_file", k.TLSCAFile}, {"tls_cert_file", k.TLSCertFile}, {"tls_key_file", k.TLSKeyFile}} {
			if f[1] != "" {
				p.add(prefix+f[0], "set, but tls is false: set tls: true to use it")
			}
		}
	} else if (k.TLSCertFile == "") != (k.TLSKeyFile == "") {
		p.add(prefix+"tls_cert_file", "a client certificate needs both tls_cert_file and tls_key_file")
	}
	switch {
	case k.SASLMechanism == "":
		if k.SASLUser != "" || k.SASLPasswordFile != "" {
			p.add(prefix+"sasl_mechanism", "missing: sasl_user or sasl_password_file is set; want one of %s", strings.Join(SASLMechanisms, ", "))
		}
	case !contains(SASLMechanisms, k.SASLMechanism):
		p.add(prefix+"sasl_mechanism", "%q: want one of %s", k.SASLMechanism, strings.Join(SASLMechanisms, ", "))
	case k.SASLUser == "":
		p.add(prefix+"sasl_user", "missing: sasl_mechanism %s needs a user", k.SASLMechanism)
	case k.SASLPasswordFile == "" && k.SASLPasswordEnv == "":
		p.add(prefix+"sasl_password_env", "empty, and no sasl_password_file: where is the password?")
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
