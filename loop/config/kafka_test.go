package config

import (
	"slices"
	"strings"
	"testing"
)

func TestKafkaSection(t *testing.T) {
	c, err := Load([]byte("kafka:\n  brokers: [k1:9092, 'k2:9093']\n  topic: app.records\n  tls: true\n  sasl_mechanism: scram-sha-512\n  sasl_user: loupe\n"))
	if err != nil {
		t.Fatal(err)
	}
	k := c.Kafka
	if !slices.Equal(k.Brokers, []string{"k1:9092", "k2:9093"}) || k.Topic != "app.records" || k.Group != "loupe" ||
		!k.TLS || k.SASLMechanism != "scram-sha-512" || k.SASLPasswordEnv != "LOUPE_KAFKA_PASSWORD" {
		t.Fatalf("kafka %+v", k)
	}
}

func TestKafkaErrorsHaveLines(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"brokers without topic", "kafka:\n  brokers: [k1:9092, nohost]\n",
			[]string{
				`loupe.yaml:1: kafka.topic: missing: which topic holds the records (brokers are set)`,
				`loupe.yaml:2: kafka.brokers[1]: "nohost": want host:port, e.g. kafka-1:9092`,
			}},
		{"topic without brokers", "kafka:\n  topic: a/b\n  group: ' '\n",
			[]string{
				`loupe.yaml:2: kafka.topic: "a/b": a Kafka topic is 1 to 249 of letters, digits, '.', '_' and '-' (several are separated by commas)`,
				`loupe.yaml:3: kafka.group: empty: want a consumer group name (default loupe)`,
			}},
		{"tls files without tls", "kafka:\n  brokers: [k:1]\n  topic: t\n  tls_ca_file: ca.pem\n",
			[]string{`loupe.yaml:4: kafka.tls_ca_file: set, but tls is false: set tls: true to use it`}},
		{"half a client cert", "kafka:\n  brokers: [k:1]\n  topic: t\n  tls: true\n  tls_key_file: k.pem\n",
			[]string{`loupe.yaml:1: kafka.tls_cert_file: a client certificate needs both tls_cert_file and tls_key_file`}},
		{"sasl", "kafka:\n  brokers: [k:1]\n  topic: t\n  sasl_mechanism: gssapi\n",
			[]string{`loupe.yaml:4: kafka.sasl_mechanism: "gssapi": want one of plain, scram-sha-256, scram-sha-512`}},
		{"sasl without user", "kafka:\n  brokers: [k:1]\n  topic: t\n  sasl_mechanism: plain\n",
			[]string{`loupe.yaml:1: kafka.sasl_user: missing: sasl_mechanism plain needs a user`}},
		{"unknown key", "kafka:\n  password: hunter2\n",
			[]string{`loupe.yaml:2: kafka.password: unknown key "password" (want one of brokers, topic, group, rejects, tls, tls_ca_file, tls_cert_file, tls_key_file, sasl_mechanism, sasl_user, sasl_password_env, sasl_password_file in kafka)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := messages(t, tt.src)
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}
