package config

import "github.com/loupe-dev/loupe/loop/trend"

// Trend is the goal in loop/trend's terms.
func (g Goal) Trend() trend.Goal { return trend.Goal{Metric: g.Metric, Op: g.Op, Target: g.Target} }

// Policy is the guardrails in loop/trend's terms (Window in days).
func (gs Guardrails) Policy() trend.Policy {
	out := trend.Policy{Alpha: gs.Alpha, MinN: gs.MinN, Guards: make([]trend.Guardrail, len(gs.Metrics))}
	for i, g := range gs.Metrics {
		out.Guards[i] = trend.Guardrail{Metric: g.Metric, Alert: g.Alert, Rollback: g.Rollback, Window: g.Window}
	}
	return out
}
