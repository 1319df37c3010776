package config

import "github.com/loupe-dev/loupe/loop/trend"

// Trend is the goal in loop/trend's terms.
func (g Goal) Trend() trend.Goal { return trend.Goal{Metric: g.Metric, Op: g.Op, Target: g.Target} }

// TrendGuardrails are the guardrails in loop/trend's terms (Window in days).
func TrendGuardrails(gs []Guardrail) []trend.Guardrail {
	out := make([]trend.Guardrail, len(gs))
	for i, g := range gs {
		out[i] = trend.Guardrail{Metric: g.Metric, Alert: g.Alert, Rollback: g.Rollback, Window: g.Window}
	}
	return out
}
