// Package genai maps OpenTelemetry GenAI traces to loupe records: the spans
// of one trace become one interaction, and gen_ai.evaluation.result events
// become judge signals. It is pure: the OTLP decoding lives in ingest/otlp,
// which hands this package spans already reduced to what the mapping needs.
//
// Every rule here is independent of the order in which spans arrive: spans
// are considered in a canonical order (start time, then span id), so a
// trace assembled from several requests, in any order, maps to the same
// interaction as the same spans in one request.
package genai

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/pii"
)

// Message is one chat message as a span carries it: its role and its text
// (the text parts joined by newlines). Masked counts what PII masking
// replaced in Text.
type Message struct {
	Role   string         `json:"role"`
	Text   string         `json:"text"`
	Masked map[string]int `json:"masked,omitempty"`
}

// Span is what the mapping needs of one OTLP span, or of one log record that
// carries a span's messages (Log set). Text in it is masked and the user id
// attribute is replaced by its keyed hash before it is stored (see Mask).
type Span struct {
	TraceID string `json:"trace_id"` // lowercase hex, 32 digits
	SpanID  string `json:"span_id"`  // lowercase hex; for a log record, "log-" + a digest
	Parent  string `json:"parent,omitempty"`
	Start   int64  `json:"start"` // Unix nanoseconds
	End     int64  `json:"end"`
	// Log marks a log record's fragment: its Start and End are the record's
	// time, and it takes no part in the trace's timing.
	Log bool `json:"log,omitempty"`
	// GenAI says the span carries gen_ai.* attributes or events.
	GenAI bool `json:"gen_ai,omitempty"`
	// Input is the chat history sent to the model, in order; Output the
	// model's answers (choices), in order.
	Input  []Message `json:"input,omitempty"`
	Output []Message `json:"output,omitempty"`
	// Attrs holds the configured attributes (see Attributes) found on the
	// span or its resource, span attributes winning. Values are masked; the
	// user id attributes hold the keyed hash of the id.
	Attrs         map[string]string `json:"attrs,omitempty"`
	RequestModel  string            `json:"request_model,omitempty"`
	ResponseModel string            `json:"response_model,omitempty"`
	InputTokens   *int64            `json:"input_tokens,omitempty"`
	OutputTokens  *int64            `json:"output_tokens,omitempty"`
}

// Attributes names the OpenTelemetry attributes each interaction field is
// read from, in order of preference. Each name is looked up on the span
// first, then on its resource.
type Attributes struct {
	ModelVersion []string `yaml:"model_version"`
	TaskType     []string `yaml:"task_type"`
	UserSegment  []string `yaml:"user_segment"`
	Locale       []string `yaml:"locale"`
	UserID       []string `yaml:"user_id"`
	SessionID    []string `yaml:"session_id"`
	// ConsentAnalytics and ConsentTraining override Consent per trace: a
	// boolean (or "true"/"false") attribute on any of its spans.
	ConsentAnalytics string `yaml:"consent_analytics"`
	ConsentTraining  string `yaml:"consent_training"`
}

// DefaultAttributes are the attribute names used when loupe.yaml names none.
func DefaultAttributes() Attributes {
	return Attributes{
		ModelVersion:     []string{"service.version", "gen_ai.response.model"},
		TaskType:         []string{"loupe.task_type", "gen_ai.operation.name"},
		UserSegment:      []string{"loupe.user_segment"},
		Locale:           []string{"loupe.locale", "user.locale"},
		UserID:           []string{"user.id", "enduser.id"},
		SessionID:        []string{"session.id", "gen_ai.conversation.id"},
		ConsentAnalytics: "loupe.consent.analytics",
		ConsentTraining:  "loupe.consent.training",
	}
}

// Names are every attribute name the mapping reads, so the decoder keeps
// those and drops the rest.
func (a Attributes) Names() []string {
	var out []string
	for _, l := range [][]string{a.ModelVersion, a.TaskType, a.UserSegment, a.Locale, a.UserID, a.SessionID} {
		out = append(out, l...)
	}
	for _, n := range []string{a.ConsentAnalytics, a.ConsentTraining} {
		if n != "" {
			out = append(out, n)
		}
	}
	return out
}

// IsUserID reports whether name is one of the user id attributes, whose
// values are hashed before they are kept.
func (a Attributes) IsUserID(name string) bool { return slices.Contains(a.UserID, name) }

// Mapping is how spans become interactions.
type Mapping struct {
	Attributes Attributes
	// Analytics and Training are the consent every OTLP interaction gets,
	// unless one of its spans overrides it (see Attributes).
	Analytics, Training bool
}

// DefaultMapping: the default attributes, analytics yes, training no.
func DefaultMapping() Mapping {
	return Mapping{Attributes: DefaultAttributes(), Analytics: true}
}

// UnknownModel is the model_version of an interaction none of whose spans
// names a model or a service version (the field is required).
const UnknownModel = "unknown"

// Mask masks every free-text value of s in place (messages, attribute
// values, the model names) and replaces the user id
// attributes with userHash of their value. Call it before s is stored.
func Mask(s *Span, a Attributes, userHash func(string) string) {
	for _, l := range [][]Message{s.Input, s.Output} {
		for i := range l {
			var c pii.Counts
			l[i].Text, c = pii.Mask(l[i].Text)
			l[i].Masked = c.Map()
		}
	}
	m := func(v string) string { out, _ := pii.Mask(v); return out }
	for k, v := range s.Attrs {
		if a.IsUserID(k) {
			s.Attrs[k] = userHash(v)
			continue
		}
		s.Attrs[k] = m(v)
	}
	s.RequestModel = m(s.RequestModel)
	s.ResponseModel = m(s.ResponseModel)
}

// Consent is what the trace's spans say about consent, nil where they say
// nothing.
func Consent(spans []Span, a Attributes) (analytics, training *bool) {
	sorted := canonical(spans)
	return boolAttr(sorted, a.ConsentAnalytics), boolAttr(sorted, a.ConsentTraining)
}

func boolAttr(spans []Span, name string) *bool {
	if name == "" {
		return nil
	}
	for _, s := range spans {
		switch strings.ToLower(s.Attrs[name]) {
		case "true":
			return ptr(true)
		case "false":
			return ptr(false)
		}
	}
	return nil
}

// HasGenAI reports whether any of spans is a GenAI span.
func HasGenAI(spans []Span) bool {
	return slices.ContainsFunc(spans, func(s Span) bool { return s.GenAI })
}

// Interaction maps the spans of one trace to its interaction. It returns nil
// when none of the spans is a GenAI span: such traces are not stored. The
// event is masked already (see Mask) and carries UserHash, not a user id.
// Spans may come in any order and hold the same span twice.
func Interaction(spans []Span, m Mapping) *loop.Event {
	if !HasGenAI(spans) {
		return nil
	}
	sorted := canonical(spans)
	a := m.Attributes
	ev := &loop.Event{EventID: sorted[0].TraceID}
	masked := map[string]int{}
	add := func(c map[string]int) {
		for k, v := range c {
			masked[k] += v
		}
	}

	var timed []Span // real spans, not log fragments
	for _, s := range sorted {
		if !s.Log {
			timed = append(timed, s)
		}
	}
	if len(timed) > 0 {
		ev.Timestamp = time.Unix(0, timed[0].Start).UTC()
	} else {
		ev.Timestamp = time.Unix(0, sorted[0].Start).UTC()
	}

	if in, ok := firstMessage(sorted, "user"); ok {
		ev.Input = &loop.Input{Text: in.Text}
		add(in.Masked)
	}
	out, ok := finalAnswer(sorted)
	if ok {
		ev.Output = &loop.Output{Text: out.Text}
		add(out.Masked)
	}
	if root, ok := localRoot(timed); ok && root.End >= root.Start {
		if ev.Output == nil {
			ev.Output = &loop.Output{}
		}
		ev.Output.LatencyMS = ptr(float64(root.End-root.Start) / 1e6)
	}

	ev.ModelVersion = attr(sorted, a.ModelVersion)
	if ev.ModelVersion == "" {
		ev.ModelVersion = firstOf(sorted, func(s Span) string { return s.ResponseModel })
	}
	if ev.ModelVersion == "" {
		ev.ModelVersion = firstOf(sorted, func(s Span) string { return s.RequestModel })
	}
	if ev.ModelVersion == "" {
		ev.ModelVersion = UnknownModel
	}
	ev.TaskType = attr(sorted, a.TaskType)
	ev.UserSegment = attr(sorted, a.UserSegment)
	ev.Locale = attr(sorted, a.Locale)
	ev.SessionID = attr(sorted, a.SessionID)
	ev.UserHash = attr(sorted, a.UserID)

	analytics, training := Consent(sorted, a)
	if analytics == nil {
		analytics = ptr(m.Analytics)
	}
	if training == nil {
		training = ptr(m.Training)
	}
	ev.Consent = &loop.Consent{Analytics: analytics, Training: training}

	if x := usage(sorted); x != nil {
		ev.Extra = map[string]json.RawMessage{"otel": x}
	}
	if len(masked) > 0 {
		ev.Masked = masked
	}
	return ev
}

// canonical returns the spans sorted by start time then span id, each span
// id once (the later copy of a duplicate is dropped: copies are the same).
func canonical(spans []Span) []Span {
	out := slices.Clone(spans)
	slices.SortStableFunc(out, func(a, b Span) int {
		return cmp.Or(cmp.Compare(a.Start, b.Start), cmp.Compare(a.SpanID, b.SpanID))
	})
	return slices.CompactFunc(out, func(a, b Span) bool { return a.SpanID == b.SpanID })
}

// firstMessage is the first message with role and text: in the earliest
// span that has one, the first in its history.
func firstMessage(sorted []Span, role string) (Message, bool) {
	for _, s := range sorted {
		for _, msg := range s.Input {
			if msg.Role == role && msg.Text != "" {
				return msg, true
			}
		}
	}
	return Message{}, false
}

// finalAnswer is the model's last answer: the first assistant choice of the
// span that ended last (ties: the later start, then the larger span id).
func finalAnswer(sorted []Span) (Message, bool) {
	var best *Span
	var msg Message
	for i := range sorted {
		s := &sorted[i]
		j := slices.IndexFunc(s.Output, func(m Message) bool { return m.Role == "assistant" && m.Text != "" })
		if j < 0 {
			continue
		}
		if best == nil || s.End > best.End || (s.End == best.End && (s.Start > best.Start || (s.Start == best.Start && s.SpanID > best.SpanID))) {
			best, msg = s, s.Output[j]
		}
	}
	return msg, best != nil
}

// localRoot is the span whose parent is not among the trace's spans (the
// entry point in this service); of several, the earliest.
func localRoot(timed []Span) (Span, bool) {
	ids := make(map[string]bool, len(timed))
	for _, s := range timed {
		ids[s.SpanID] = true
	}
	for _, s := range timed {
		if s.Parent == "" || !ids[s.Parent] {
			return s, true
		}
	}
	return Span{}, false
}

// attr is the value of the first of names found, each name tried over all
// spans in canonical order before the next name.
func attr(sorted []Span, names []string) string {
	for _, n := range names {
		if v := firstOf(sorted, func(s Span) string { return s.Attrs[n] }); v != "" {
			return v
		}
	}
	return ""
}

func firstOf(sorted []Span, f func(Span) string) string {
	for _, s := range sorted {
		if v := f(s); v != "" {
			return v
		}
	}
	return ""
}

// usage is the trace's token usage and models as the "otel" extra object.
// Tokens are summed over the spans that report usage and have no
// descendant that does, so an agent span that repeats its model calls'
// totals is not counted twice.
func usage(sorted []Span) json.RawMessage {
	parent := map[string]string{}
	for _, s := range sorted {
		parent[s.SpanID] = s.Parent
	}
	hasUsage := func(s Span) bool { return s.InputTokens != nil || s.OutputTokens != nil }
	covered := map[string]bool{} // spans with a descendant that reports usage
	for _, s := range sorted {
		if !hasUsage(s) {
			continue
		}
		seen := map[string]bool{s.SpanID: true}
		for p := parent[s.SpanID]; p != "" && !seen[p]; p = parent[p] {
			seen[p] = true
			covered[p] = true
		}
	}
	var in, out *int64
	sum := func(dst **int64, v *int64) {
		if v == nil {
			return
		}
		if *dst == nil {
			*dst = new(int64)
		}
		**dst += *v
	}
	for _, s := range sorted {
		if hasUsage(s) && !covered[s.SpanID] {
			sum(&in, s.InputTokens)
			sum(&out, s.OutputTokens)
		}
	}
	x := usageExtra{
		RequestModel:  firstOf(sorted, func(s Span) string { return s.RequestModel }),
		ResponseModel: lastOf(sorted, func(s Span) string { return s.ResponseModel }),
		InputTokens:   in,
		OutputTokens:  out,
	}
	if x == (usageExtra{}) {
		return nil
	}
	b, _ := json.Marshal(x)
	return b
}

// usageExtra is the "otel" object kept under the interaction's extra.
type usageExtra struct {
	RequestModel  string `json:"request_model,omitempty"`
	ResponseModel string `json:"response_model,omitempty"`
	InputTokens   *int64 `json:"input_tokens,omitempty"`
	OutputTokens  *int64 `json:"output_tokens,omitempty"`
}

func lastOf(sorted []Span, f func(Span) string) string {
	for i := len(sorted) - 1; i >= 0; i-- {
		if v := f(sorted[i]); v != "" {
			return v
		}
	}
	return ""
}

func ptr[T any](v T) *T { return &v }
