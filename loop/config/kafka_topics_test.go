package config

import (
	"strings"
	"testing"
)

func TestKafkaTopicNames(t *testing.T) {
	for in, want := range map[string]string{
		"a":                 "a",
		" a , b,a,, ":       "a,b",
		"otlp_spans,x.y-z_": "otlp_spans,x.y-z_",
	} {
		got, err := KafkaTopics(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("KafkaTopics(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, in := range []string{"", " , ", "a b", "a/b", "..", strings.Repeat("x", 250)} {
		if _, err := KafkaTopics(in); err == nil {
			t.Errorf("KafkaTopics(%q) took it", in)
		}
	}
}
