package genai

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// EvaluationEvent is the name of the event (a span event, or a log
// record's event name) that reports a judge's result.
const EvaluationEvent = "gen_ai.evaluation.result"

// Evaluation is one gen_ai.evaluation.result: a judge's score of the
// interaction of its trace.
type Evaluation struct {
	TraceID string // lowercase hex
	SpanID  string // the span it belongs to, "" when none
	// Origin tells the same result's copies from other results: "event"
	// and the span event's index, or "log" and the record's identity.
	Origin      string
	Time        int64 // Unix nanoseconds
	Name        string
	Score       *float64
	Label       string
	Explanation string
}

// SourceJudge is the source of the signals evaluations become.
const SourceJudge = "judge"

// SignalID derives the signal's id from the result's identity, so that a
// redelivered result is a duplicate and a new one (another time, another
// name) is a signal of its own.
func (e Evaluation) SignalID() string {
	h := sha256.New()
	for _, s := range []string{e.TraceID, e.SpanID, e.Origin, strconv.FormatInt(e.Time, 10), e.Name} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return "otel-eval-" + hex.EncodeToString(h.Sum(nil)[:16])
}

// Check validates what the signal needs.
func (e Evaluation) Check() error {
	switch {
	case len(e.TraceID) != 32:
		return fmt.Errorf("%s has no trace id: it cannot be attached to an interaction", EvaluationEvent)
	case e.Name == "":
		return fmt.Errorf("%s without gen_ai.evaluation.name", EvaluationEvent)
	case e.Score == nil && e.Label == "":
		return fmt.Errorf("%s %q has neither gen_ai.evaluation.score.value nor gen_ai.evaluation.score.label", EvaluationEvent, e.Name)
	case e.Score != nil && (math.IsNaN(*e.Score) || math.IsInf(*e.Score, 0)):
		return fmt.Errorf("%s %q: gen_ai.evaluation.score.value is not a finite number", EvaluationEvent, e.Name)
	}
	return nil
}

// Signal is the result as a signal record (DESIGN.md's wire format):
// automated_checks.<name> is the score, <name>_label the label and
// <name>_explanation the explanation, each a field of its own so that a
// later judge run replaces each. The pipeline validates and masks it like
// any signal.
func (e Evaluation) Signal() []byte {
	checks := map[string]any{}
	if e.Score != nil {
		checks[e.Name] = *e.Score
	}
	if e.Label != "" {
		checks[e.Name+"_label"] = e.Label
	}
	if e.Explanation != "" {
		checks[e.Name+"_explanation"] = e.Explanation
	}
	rec := struct {
		Kind      string         `json:"kind"`
		SignalID  string         `json:"signal_id"`
		EventID   string         `json:"event_id"`
		Timestamp string         `json:"timestamp"`
		Source    string         `json:"source"`
		Checks    map[string]any `json:"automated_checks"`
	}{"signal", e.SignalID(), e.TraceID, time.Unix(0, e.Time).UTC().Format(time.RFC3339Nano), SourceJudge, checks}
	b, _ := json.Marshal(rec)
	return b
}
