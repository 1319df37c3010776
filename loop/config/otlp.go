package config

import (
	"fmt"
	"strings"

	"github.com/loupe-dev/loupe/loop/genai"
)

// OTLP is how OpenTelemetry GenAI traces (POST /v1/traces, /v1/logs and
// `loupe ingest --format otlp`) become interactions.
type OTLP struct {
	Attributes OTLPAttributes `yaml:"attributes"`
	Consent    OTLPConsent    `yaml:"consent"`
}

// OTLPAttributes name, for each interaction field, the attributes it is
// read from, in order of preference; each name is looked up on the span,
// then on its resource.
type OTLPAttributes struct {
	ModelVersion []string `yaml:"model_version"`
	TaskType     []string `yaml:"task_type"`
	UserSegment  []string `yaml:"user_segment"`
	Locale       []string `yaml:"locale"`
	UserID       []string `yaml:"user_id"`
	SessionID    []string `yaml:"session_id"`
}

// OTLPConsent is the consent OTLP interactions get (OpenTelemetry carries
// none), and the attributes that override it per trace.
type OTLPConsent struct {
	Analytics          bool   `yaml:"analytics"`
	Training           bool   `yaml:"training"`
	AnalyticsAttribute string `yaml:"analytics_attribute"`
	TrainingAttribute  string `yaml:"training_attribute"`
}

// DefaultOTLP is the built-in mapping: analytics yes, training no.
func DefaultOTLP() OTLP {
	a := genai.DefaultAttributes()
	return OTLP{
		Attributes: OTLPAttributes{
			ModelVersion: a.ModelVersion, TaskType: a.TaskType, UserSegment: a.UserSegment,
			Locale: a.Locale, UserID: a.UserID, SessionID: a.SessionID,
		},
		Consent: OTLPConsent{Analytics: true, AnalyticsAttribute: a.ConsentAnalytics, TrainingAttribute: a.ConsentTraining},
	}
}

// Mapping is the section as package genai takes it.
func (o OTLP) Mapping() genai.Mapping {
	a := o.Attributes
	return genai.Mapping{
		Attributes: genai.Attributes{
			ModelVersion: a.ModelVersion, TaskType: a.TaskType, UserSegment: a.UserSegment,
			Locale: a.Locale, UserID: a.UserID, SessionID: a.SessionID,
			ConsentAnalytics: o.Consent.AnalyticsAttribute, ConsentTraining: o.Consent.TrainingAttribute,
		},
		Analytics: o.Consent.Analytics,
		Training:  o.Consent.Training,
	}
}

func (o OTLP) validate(p *problems) {
	lists := []struct {
		name string
		v    []string
	}{
		{"model_version", o.Attributes.ModelVersion}, {"task_type", o.Attributes.TaskType},
		{"user_segment", o.Attributes.UserSegment}, {"locale", o.Attributes.Locale},
		{"user_id", o.Attributes.UserID}, {"session_id", o.Attributes.SessionID},
	}
	for _, l := range lists {
		seen := map[string]int{}
		for i, n := range l.v {
			path := fmt.Sprintf("otlp.attributes.%s[%d]", l.name, i)
			if first, dup := seen[n]; dup {
				p.add(path, "%q: already listed as otlp.attributes.%s[%d]", n, l.name, first)
			} else if badAttr(n) {
				p.add(path, "%q: want an attribute name such as user.id (no spaces)", n)
			}
			seen[n] = i
		}
	}
	for _, a := range []struct{ path, v string }{
		{"otlp.consent.analytics_attribute", o.Consent.AnalyticsAttribute},
		{"otlp.consent.training_attribute", o.Consent.TrainingAttribute},
	} {
		if a.v != "" && badAttr(a.v) {
			p.add(a.path, "%q: want an attribute name such as loupe.consent.training (no spaces), or \"\" for none", a.v)
		}
	}
}

func badAttr(n string) bool {
	return strings.TrimSpace(n) == "" || strings.ContainsAny(n, " \t\r\n")
}
