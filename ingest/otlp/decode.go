// Package otlp reads OpenTelemetry data (OTLP traces and logs, decoded with
// the collector's pdata) into what loupe's GenAI mapping needs: spans
// reduced to their messages, timing and the configured attributes, and
// gen_ai.evaluation.result events (see package loop/genai). It does no I/O
// of its own beyond reading request bodies handed to it.
package otlp

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/loupe-dev/loupe/loop/genai"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/ptrace"
)

// Batch is what one OTLP request carries, decoded.
type Batch struct {
	// Spans holds every readable span, GenAI or not, unmasked: the caller
	// decides which to keep (see genai.Span.GenAI) and masks them
	// (genai.Mask) before anything is stored.
	Spans []genai.Span
	// Evaluations are the gen_ai.evaluation.result events and records.
	Evaluations []genai.Evaluation
	// Items counts the spans (or log records) in the request.
	Items int
	// Rejected counts the spans or log records refused; Errors says why
	// (the first few).
	Rejected int
	Errors   []string
}

const maxErrors = 10

func (b *Batch) reject(format string, args ...any) {
	b.Rejected++
	if len(b.Errors) < maxErrors {
		b.Errors = append(b.Errors, fmt.Sprintf(format, args...))
	}
}

// Traces decodes the spans of td. names are the attributes to keep (see
// genai.Attributes.Names).
func Traces(td ptrace.Traces, names []string) Batch {
	var b Batch
	rss := td.ResourceSpans()
	for i := 0; i < rss.Len(); i++ {
		rs := rss.At(i)
		res := rs.Resource().Attributes()
		sss := rs.ScopeSpans()
		for j := 0; j < sss.Len(); j++ {
			spans := sss.At(j).Spans()
			for k := 0; k < spans.Len(); k++ {
				b.Items++
				sp := spans.At(k)
				if sp.TraceID().IsEmpty() || sp.SpanID().IsEmpty() {
					b.reject("span %q: trace_id and span_id must be set (16 and 8 bytes, not all zero)", clip(sp.Name()))
					continue
				}
				s, evals := span(sp, res, names)
				b.Spans = append(b.Spans, s)
				b.Evaluations = append(b.Evaluations, evals...)
			}
		}
	}
	return b
}

func span(sp ptrace.Span, res pcommon.Map, names []string) (genai.Span, []genai.Evaluation) {
	attrs := sp.Attributes()
	s := genai.Span{
		TraceID: hexID(sp.TraceID()),
		SpanID:  hexSpan(sp.SpanID()),
		Start:   int64(sp.StartTimestamp()),
		End:     int64(sp.EndTimestamp()),
		Attrs:   keep(attrs, res, names),
	}
	if p := sp.ParentSpanID(); !p.IsEmpty() {
		s.Parent = hexSpan(p)
	}
	attrs.Range(func(k string, _ pcommon.Value) bool {
		if strings.HasPrefix(k, "gen_ai.") {
			s.GenAI = true
			return false
		}
		return true
	})
	s.Input, s.Output = attrMessages(attrs)
	s.RequestModel = str(attrs, "gen_ai.request.model")
	s.ResponseModel = str(attrs, "gen_ai.response.model")
	s.InputTokens = integer(attrs, "gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")
	s.OutputTokens = integer(attrs, "gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")

	var evals []genai.Evaluation
	events := sp.Events()
	for i := 0; i < events.Len(); i++ {
		ev := events.At(i)
		name := ev.Name()
		if !strings.HasPrefix(name, "gen_ai.") {
			continue
		}
		s.GenAI = true
		if name == genai.EvaluationEvent {
			e := evaluation(ev.Attributes())
			e.TraceID, e.SpanID = s.TraceID, s.SpanID
			e.Origin = "event:" + strconv.Itoa(i)
			e.Time = int64(ev.Timestamp())
			if e.Time == 0 {
				e.Time = s.End
			}
			evals = append(evals, e)
			continue
		}
		in, out := eventMessages(name, ev.Attributes(), pcommon.NewValueEmpty())
		s.Input = append(s.Input, in...)
		s.Output = append(s.Output, out...)
	}
	return s, evals
}

// Logs decodes the log records of ld: gen_ai.evaluation.result records
// become evaluations; records with a GenAI message event name
// (gen_ai.user.message, gen_ai.choice, gen_ai.client.inference.operation.details,
// ...) become log fragments of their span; other records are counted and
// left alone.
func Logs(ld plog.Logs) Batch {
	var b Batch
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		sls := rls.At(i).ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			recs := sls.At(j).LogRecords()
			for k := 0; k < recs.Len(); k++ {
				b.Items++
				lr := recs.At(k)
				name := lr.EventName()
				if name == "" {
					name = str(lr.Attributes(), "event.name")
				}
				if !strings.HasPrefix(name, "gen_ai.") {
					continue
				}
				if lr.TraceID().IsEmpty() {
					b.reject("log record %q has no trace_id: loupe attaches GenAI records to the interaction of their trace", clip(name))
					continue
				}
				t := int64(lr.Timestamp())
				if t == 0 {
					t = int64(lr.ObservedTimestamp())
				}
				trace := hexID(lr.TraceID())
				spanID := ""
				if !lr.SpanID().IsEmpty() {
					spanID = hexSpan(lr.SpanID())
				}
				if name == genai.EvaluationEvent {
					e := evaluation(lr.Attributes())
					if e.Name == "" && lr.Body().Type() == pcommon.ValueTypeMap {
						e = evaluation(lr.Body().Map())
					}
					e.TraceID, e.SpanID, e.Time = trace, spanID, t
					e.Origin = "log:" + strconv.FormatInt(int64(lr.ObservedTimestamp()), 10)
					b.Evaluations = append(b.Evaluations, e)
					continue
				}
				in, out := eventMessages(name, lr.Attributes(), lr.Body())
				if len(in) == 0 && len(out) == 0 {
					continue
				}
				// The fragment's id orders records of the same instant by
				// their place in the request and tells copies apart from
				// other records.
				h := sha256.New()
				fmt.Fprintf(h, "%s\x00%s\x00%d\x00%d\x00%s", trace, spanID, t, lr.ObservedTimestamp(), name)
				b.Spans = append(b.Spans, genai.Span{
					TraceID: trace,
					SpanID:  fmt.Sprintf("log-%06d-%s", k, hex.EncodeToString(h.Sum(nil)[:8])),
					Parent:  spanID,
					Start:   t, End: t,
					Log: true, GenAI: true,
					Input: in, Output: out,
				})
			}
		}
	}
	return b
}

// attrMessages reads a span's messages from its attributes: the current
// gen_ai.input.messages / gen_ai.output.messages, else the older
// gen_ai.prompt / gen_ai.completion, plain or indexed
// (gen_ai.prompt.0.role, gen_ai.prompt.0.content, ...).
func attrMessages(attrs pcommon.Map) (in, out []genai.Message) {
	in = fromAttr(attrs, "user", "gen_ai.input.messages", "gen_ai.prompt")
	if in == nil {
		in = indexed(attrs, "gen_ai.prompt.", "user")
	}
	out = fromAttr(attrs, "assistant", "gen_ai.output.messages", "gen_ai.completion")
	if out == nil {
		out = indexed(attrs, "gen_ai.completion.", "assistant")
	}
	return in, out
}

func fromAttr(attrs pcommon.Map, role string, keys ...string) []genai.Message {
	for _, k := range keys {
		if v, ok := attrs.Get(k); ok {
			if msgs := genai.Messages(v.AsRaw(), role); msgs != nil {
				return msgs
			}
		}
	}
	return nil
}

// indexed reads prefix N.role / prefix N.content attributes in N order.
func indexed(attrs pcommon.Map, prefix, role string) []genai.Message {
	byN := map[int]*genai.Message{}
	attrs.Range(func(k string, v pcommon.Value) bool {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			return true
		}
		num, field, ok := strings.Cut(rest, ".")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 {
			return true
		}
		m := byN[n]
		if m == nil {
			m = &genai.Message{Role: role}
			byN[n] = m
		}
		switch field {
		case "role":
			m.Role = strings.ToLower(v.AsString())
		case "content":
			m.Text = v.AsString()
		}
		return true
	})
	if len(byN) == 0 {
		return nil
	}
	ns := make([]int, 0, len(byN))
	for n := range byN {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	out := make([]genai.Message, 0, len(ns))
	for _, n := range ns {
		out = append(out, *byN[n])
	}
	return out
}

// eventRoles are the GenAI message events of the v1.28–v1.36 conventions
// and the role of their message; gen_ai.choice is the model's answer.
var eventRoles = map[string]string{
	"gen_ai.system.message":    "system",
	"gen_ai.user.message":      "user",
	"gen_ai.assistant.message": "assistant",
	"gen_ai.tool.message":      "tool",
}

// eventMessages reads a GenAI event (span event or log record): its
// content is in the body (log records), or in an attribute: content,
// gen_ai.event.content (a JSON string), message, or the older
// gen_ai.content.prompt / gen_ai.content.completion events' gen_ai.prompt
// and gen_ai.completion. gen_ai.client.inference.operation.details carries
// gen_ai.input.messages and gen_ai.output.messages.
func eventMessages(name string, attrs pcommon.Map, body pcommon.Value) (in, out []genai.Message) {
	content := func(role string) []genai.Message {
		if body.Type() != pcommon.ValueTypeEmpty {
			if msgs := genai.Messages(body.AsRaw(), role); msgs != nil {
				return msgs
			}
		}
		return fromAttr(attrs, role, "gen_ai.event.content", "content", "message", "gen_ai.prompt", "gen_ai.completion")
	}
	switch name {
	case "gen_ai.choice", "gen_ai.content.completion":
		return nil, force(content("assistant"), "assistant")
	case "gen_ai.content.prompt":
		return content("user"), nil
	case "gen_ai.client.inference.operation.details":
		return attrMessages(attrs)
	}
	if role, ok := eventRoles[name]; ok {
		return force(content(role), role), nil
	}
	return nil, nil
}

// force gives every message the event's role: the event's name says it.
func force(msgs []genai.Message, role string) []genai.Message {
	for i := range msgs {
		msgs[i].Role = role
	}
	return msgs
}

func evaluation(attrs pcommon.Map) genai.Evaluation {
	e := genai.Evaluation{
		Name:        str(attrs, "gen_ai.evaluation.name"),
		Label:       str(attrs, "gen_ai.evaluation.score.label"),
		Explanation: str(attrs, "gen_ai.evaluation.explanation"),
	}
	if v, ok := attrs.Get("gen_ai.evaluation.score.value"); ok {
		switch v.Type() {
		case pcommon.ValueTypeDouble:
			e.Score = ptr(v.Double())
		case pcommon.ValueTypeInt:
			e.Score = ptr(float64(v.Int()))
		case pcommon.ValueTypeStr:
			if f, err := strconv.ParseFloat(v.Str(), 64); err == nil {
				e.Score = &f
			}
		}
	}
	return e
}

// keep returns the named attributes, span ones winning over the resource's.
func keep(attrs, res pcommon.Map, names []string) map[string]string {
	var out map[string]string
	for _, n := range names {
		v, ok := attrs.Get(n)
		if !ok {
			v, ok = res.Get(n)
		}
		if !ok {
			continue
		}
		s := v.AsString()
		if s == "" {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[n] = s
	}
	return out
}

func str(attrs pcommon.Map, key string) string {
	if v, ok := attrs.Get(key); ok {
		return v.AsString()
	}
	return ""
}

func integer(attrs pcommon.Map, keys ...string) *int64 {
	for _, k := range keys {
		v, ok := attrs.Get(k)
		if !ok {
			continue
		}
		switch v.Type() {
		case pcommon.ValueTypeInt:
			return ptr(v.Int())
		case pcommon.ValueTypeDouble:
			return ptr(int64(v.Double()))
		case pcommon.ValueTypeStr:
			if n, err := strconv.ParseInt(v.Str(), 10, 64); err == nil {
				return &n
			}
		}
	}
	return nil
}

func hexID(id pcommon.TraceID) string  { return hex.EncodeToString(id[:]) }
func hexSpan(id pcommon.SpanID) string { return hex.EncodeToString(id[:]) }

// clip shortens a name for an error message (names are not masked data,
// but keep messages short).
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

func ptr[T any](v T) *T { return &v }
