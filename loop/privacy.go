package loop

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/loupe-dev/loupe/loop/pii"
)

// Prepare turns a decoded event into the one that may be stored: the consent
// gate first (analytics withheld: rejected, nothing kept), then every free
// text field masked, the user id replaced by its keyed hash (userHash), and
// the masked counts recorded on the event. in is not usable afterwards.
func Prepare(in *Incoming, userHash func(string) string) (*Event, error) {
	e := &in.Event
	if err := gate(e); err != nil {
		return nil, err
	}
	var c pii.Counts
	m := func(s *string) {
		if *s == "" {
			return
		}
		var n pii.Counts
		*s, n = pii.Mask(*s)
		c.Add(n)
	}
	m(&e.SessionID)
	m(&e.ModelVersion)
	m(&e.Locale)
	m(&e.UserSegment)
	m(&e.TaskType)
	maskExtra(e.Extra, &c)
	if v := e.Input; v != nil {
		m(&v.Text)
		for i := range v.ContextRefs {
			m(&v.ContextRefs[i])
		}
		maskExtra(v.Extra, &c)
	}
	if v := e.Output; v != nil {
		m(&v.Text)
		maskExtra(v.Extra, &c)
	}
	if v := e.Explicit; v != nil {
		m(&v.ReasonText)
		m(&v.UserEdit)
		for i := range v.ReasonCodes {
			m(&v.ReasonCodes[i])
		}
		maskExtra(v.Extra, &c)
	}
	if v := e.Implicit; v != nil {
		maskExtra(v.Extra, &c)
	}
	if v := e.Checks; v != nil {
		maskExtra(v.Extra, &c)
	}
	if v := e.Business; v != nil {
		maskExtra(v.Extra, &c)
	}
	if v := e.Experiment; v != nil {
		m(&v.ID)
		m(&v.Arm)
		maskExtra(v.Extra, &c)
	}
	if v := e.Consent; v != nil {
		maskExtra(v.Extra, &c)
	}
	if v := e.Label; v != nil {
		m(&v.RubricNotes)
		maskExtra(v.Extra, &c)
	}
	if in.UserID != "" {
		e.UserHash = userHash(in.UserID)
		in.UserID = ""
	}
	e.Masked = c.Map()
	return e, nil
}

// gate refuses an event whose user withheld consent, or whose id looks
// like personal data.
func gate(e *Event) error {
	if e.Consent != nil && e.Consent.Analytics != nil && !*e.Consent.Analytics {
		return &InputError{Reason: ReasonNoConsent, Path: "consent.analytics",
			Msg: "false: the user withheld consent, so nothing of the event is stored"}
	}
	if spans := pii.Find(e.EventID); len(spans) > 0 {
		return &InputError{Reason: ReasonPIIInID, Path: "event_id",
			Msg: "looks like it contains personal data (" + spans[0].Type.String() + "); use an opaque id"}
	}
	return nil
}

// maskExtra masks every string (keys too) inside unknown fields: an unknown
// field is still free text as far as privacy goes.
func maskExtra(extra map[string]json.RawMessage, c *pii.Counts) {
	for k, raw := range extra {
		if bytes.IndexByte(raw, '"') < 0 && len(pii.Find(k)) == 0 {
			continue // numbers, booleans, null: nothing to mask
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			continue // cannot happen: the scanner checked it
		}
		v = maskAny(v, c)
		b, _ := json.Marshal(v)
		mk, n := pii.Mask(k)
		c.Add(n)
		if mk != k {
			delete(extra, k)
		}
		extra[mk] = b
	}
}

func maskAny(v any, c *pii.Counts) any {
	switch x := v.(type) {
	case string:
		s, n := pii.Mask(x)
		c.Add(n)
		return s
	case []any:
		for i := range x {
			x[i] = maskAny(x[i], c)
		}
	case map[string]any:
		for k, val := range x {
			val = maskAny(val, c)
			mk, n := pii.Mask(k)
			c.Add(n)
			if mk != k {
				delete(x, k)
			}
			x[mk] = val
		}
	}
	return v
}

// MaskRaw masks an input line for a rejects file or an error message: any
// invalid UTF-8 is replaced first, then PII is masked, then the result is
// cut to max bytes on a rune boundary (after masking, so that no cut can
// leave part of an entity unmasked).
func MaskRaw(line []byte, max int) string {
	s := string(bytes.ToValidUTF8(line, []byte("\uFFFD")))
	s = scrubUserIDs(s)
	s, _ = pii.Mask(s)
	if len(s) > max {
		s = cut(s, max)
	}
	return s
}

// scrubUserIDs replaces the string value of every "user_id" key in a line
// that may not even be valid JSON: a rejected line still must not keep a raw
// user id, which only ever gets stored as a keyed hash.
func scrubUserIDs(s string) string {
	const key = `"user_id"`
	var b strings.Builder
	for {
		i := strings.Index(s, key)
		if i < 0 {
			break
		}
		j := i + len(key)
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == ':') {
			j++
		}
		if j >= len(s) || s[j] != '"' {
			b.WriteString(s[:j])
			s = s[j:]
			continue
		}
		k := j + 1
		for k < len(s) && s[k] != '"' {
			if s[k] == '\\' {
				k++
			}
			k++
		}
		b.WriteString(s[:j])
		b.WriteString(`"[USER]"`)
		if k >= len(s) {
			s = ""
			break
		}
		s = s[k+1:]
	}
	if b.Len() == 0 {
		return s
	}
	b.WriteString(s)
	return b.String()
}
