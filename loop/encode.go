package loop

import (
	"encoding/binary"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the event as JSON, the form it is stored and exported
// in. It writes what encoding/json would for the struct tags (same keys, same
// order, map keys sorted, RFC 3339 times) without reflection or HTML
// escaping: ingest encodes every event, and this is several times faster.
// TestAppendJSONMatchesEncodingJSON holds the two to the same meaning.
func AppendJSON(b []byte, e *Event) []byte {
	w := jw{b: b}
	w.event(e)
	return w.b
}

// AppendCanonical appends the event in a form made to be hashed, not read:
// AppendJSON's fields in AppendJSON's order, but every string written as
// its length and its bytes instead of quoted and escaped. Two events have
// the same canonical form exactly when AppendJSON writes them alike (a
// reformatted copy of a record, keys in another order, encodes the same),
// and it costs a fraction of AppendJSON on long texts. Numbers are written
// as their float64 bits.
func AppendCanonical(b []byte, e *Event) []byte {
	w := jw{b: b, raw: true}
	w.event(e)
	return w.b
}

func (w *jw) event(e *Event) {
	w.open()
	w.str("event_id", e.EventID)
	w.key("timestamp")
	w.b = append(w.b, '"')
	w.b = e.Timestamp.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
	w.str("model_version", e.ModelVersion)
	w.optStr("user_hash", e.UserHash)
	w.optStr("session_id", e.SessionID)
	w.optStr("locale", e.Locale)
	w.optStr("user_segment", e.UserSegment)
	w.optStr("task_type", e.TaskType)
	if v := e.Input; v != nil {
		w.key("input")
		w.open()
		w.optStr("text", v.Text)
		w.optStrs("context_refs", v.ContextRefs)
		w.extra(v.Extra)
		w.close()
	}
	if v := e.Output; v != nil {
		w.key("output")
		w.open()
		w.optStr("text", v.Text)
		w.optNum("latency_ms", v.LatencyMS)
		w.optNum("confidence", v.Confidence)
		w.optNum("cost_usd", v.CostUSD)
		w.extra(v.Extra)
		w.close()
	}
	if v := e.Explicit; v != nil {
		w.key("explicit_feedback")
		w.open()
		if v.Thumb != nil {
			w.str("thumb", *v.Thumb)
		}
		w.optInt("rating", v.Rating)
		w.optStrs("reason_codes", v.ReasonCodes)
		w.optStr("reason_text", v.ReasonText)
		w.optStr("user_edit", v.UserEdit)
		w.extra(v.Extra)
		w.close()
	}
	if v := e.Implicit; v != nil {
		w.key("implicit_feedback")
		w.open()
		w.optNum("dwell_ms", v.DwellMS)
		w.optBool("abandoned", v.Abandoned)
		w.optBool("escalated", v.Escalated)
		w.optBool("clicked", v.Clicked)
		w.optBool("copied", v.Copied)
		w.optInt("retries", v.Retries)
		w.extra(v.Extra)
		w.close()
	}
	if v := e.Checks; v != nil {
		w.key("automated_checks")
		w.open()
		w.optNum("toxicity", v.Toxicity)
		w.optNum("hallucination", v.Hallucination)
		w.optBool("policy_violation", v.PolicyViolation)
		w.extra(v.Extra)
		w.close()
	}
	if v := e.Business; v != nil {
		w.key("business")
		w.open()
		w.optBool("resolved", v.Resolved)
		w.optBool("converted", v.Converted)
		w.optInt("turns", v.Turns)
		w.optNum("time_to_success_ms", v.TimeToSuccessMS)
		w.optNum("cost_usd", v.CostUSD)
		w.extra(v.Extra)
		w.close()
	}
	if v := e.Experiment; v != nil {
		w.key("experiment")
		w.open()
		w.optStr("id", v.ID)
		w.optStr("arm", v.Arm)
		w.optInt("position", v.Position)
		w.optNum("propensity", v.Propensity)
		w.extra(v.Extra)
		w.close()
	}
	if v := e.Consent; v != nil {
		w.key("consent")
		w.open()
		w.optBool("analytics", v.Analytics)
		w.optBool("training", v.Training)
		w.extra(v.Extra)
		w.close()
	}
	if v := e.Label; v != nil {
		w.key("label")
		w.open()
		w.optStr("grade", string(v.Grade))
		w.optStr("rubric_notes", v.RubricNotes)
		w.extra(v.Extra)
		w.close()
	}
	w.extra(e.Extra)
	w.masked(e.Masked)
	w.close()
}

// jw writes one JSON object level at a time; first tracks whether the
// current object still needs no comma. raw writes strings as their length
// and bytes (AppendCanonical), not as JSON.
type jw struct {
	b     []byte
	first bool
	raw   bool
}

// quote writes s as a JSON string, or raw.
func (w *jw) quote(s string) {
	if w.raw {
		w.b = binary.AppendUvarint(w.b, uint64(len(s)))
		w.b = append(w.b, s...)
		return
	}
	w.b = appendQuoted(w.b, s)
}

func (w *jw) open() {
	w.b = append(w.b, '{')
	w.first = true
}

func (w *jw) close() {
	w.b = append(w.b, '}')
	w.first = false
}

func (w *jw) key(k string) {
	if !w.first {
		w.b = append(w.b, ',')
	}
	w.first = false
	w.quote(k)
	w.b = append(w.b, ':')
}

func (w *jw) str(k, v string) {
	w.key(k)
	w.quote(v)
}

func (w *jw) optStr(k, v string) {
	if v != "" {
		w.str(k, v)
	}
}

func (w *jw) optStrs(k string, v []string) {
	if len(v) == 0 {
		return
	}
	w.key(k)
	w.b = append(w.b, '[')
	for i, s := range v {
		if i > 0 {
			w.b = append(w.b, ',')
		}
		w.quote(s)
	}
	w.b = append(w.b, ']')
}

func (w *jw) optNum(k string, v *float64) {
	if v != nil {
		w.key(k)
		if w.raw {
			// Its bits: one value, one form, as its shortest JSON is.
			w.b = binary.BigEndian.AppendUint64(w.b, math.Float64bits(*v))
			return
		}
		w.b = appendFloat(w.b, *v)
	}
}

func (w *jw) optInt(k string, v *int) {
	if v != nil {
		w.key(k)
		w.b = strconv.AppendInt(w.b, int64(*v), 10)
	}
}

func (w *jw) optBool(k string, v *bool) {
	if v != nil {
		w.key(k)
		w.b = strconv.AppendBool(w.b, *v)
	}
}

// masked writes the masked-counts object, in key order, when there are any.
func (w *jw) masked(m map[string]int) {
	if len(m) == 0 {
		return
	}
	w.key("masked")
	w.open()
	for _, k := range slices.Sorted(maps.Keys(m)) {
		w.key(k)
		w.b = strconv.AppendInt(w.b, int64(m[k]), 10)
	}
	w.close()
}

func (w *jw) extra(m map[string]json.RawMessage) {
	if len(m) == 0 {
		return
	}
	w.key("extra")
	w.open()
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		w.key(k)
		w.b = append(w.b, m[k]...)
	}
	w.close()
}

// appendFloat formats like encoding/json: shortest form, exponent only
// outside [1e-6, 1e21).
func appendFloat(b []byte, f float64) []byte {
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

const hexDigits = "0123456789abcdef"

// appendQuoted writes s as a JSON string: quotes, backslashes and control
// characters escaped, invalid UTF-8 replaced, U+2028 and U+2029 escaped so the
// output is also safe inside JavaScript.
func appendQuoted(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
