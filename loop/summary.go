package loop

import (
	"strings"
	"time"
	"unicode/utf8"
)

// SnippetLen is how many bytes of text a Summary keeps for the inbox row and
// for bare-word filtering.
const SnippetLen = 120

// Summary is the compact per-event record the inbox lists and filters: all
// that a row shows, without the event's full text. The store keeps one per
// event so that a million of them load fast.
type Summary struct {
	ID      string
	Time    time.Time
	Thumb   Thumb
	Model   string
	Segment string
	Task    string
	Locale  string
	Reasons []string
	Snippet string // masked, one line
	// Flags from automated checks and implicit signals, for queues.
	PolicyViolation bool
	Escalated       bool
	Abandoned       bool
	Edited          bool // the user corrected the output
	Toxicity        float32
	Confidence      float32 // -1 when absent
	LatencyMS       float32 // -1 when absent
	Resolved        int8    // business.resolved: -1 absent, 0 false, 1 true
}

// Summarize builds the Summary of a (masked) event.
func Summarize(e *Event) Summary {
	s := Summary{
		ID:         e.EventID,
		Time:       e.Timestamp,
		Thumb:      e.ThumbValue(),
		Model:      e.ModelVersion,
		Segment:    e.UserSegment,
		Task:       e.TaskType,
		Locale:     e.Locale,
		Confidence: -1,
		LatencyMS:  -1,
		Resolved:   -1,
	}
	if e.Explicit != nil {
		s.Reasons = e.Explicit.ReasonCodes
		s.Edited = e.Explicit.UserEdit != ""
	}
	if e.Checks != nil {
		if e.Checks.PolicyViolation != nil {
			s.PolicyViolation = *e.Checks.PolicyViolation
		}
		if e.Checks.Toxicity != nil {
			s.Toxicity = float32(*e.Checks.Toxicity)
		}
	}
	if e.Implicit != nil {
		s.Escalated = e.Implicit.Escalated != nil && *e.Implicit.Escalated
		s.Abandoned = e.Implicit.Abandoned != nil && *e.Implicit.Abandoned
	}
	if e.Output != nil && e.Output.Confidence != nil {
		s.Confidence = float32(*e.Output.Confidence)
	}
	if e.Output != nil && e.Output.LatencyMS != nil {
		s.LatencyMS = float32(*e.Output.LatencyMS)
	}
	if e.Business != nil && e.Business.Resolved != nil {
		s.Resolved = 0
		if *e.Business.Resolved {
			s.Resolved = 1
		}
	}
	text := ""
	if e.Input != nil {
		text = e.Input.Text
	}
	if text == "" && e.Output != nil {
		text = e.Output.Text
	}
	s.Snippet = OneLine(text, SnippetLen)
	return s
}

// OneLine folds whitespace runs to single spaces and cuts s to at most max
// bytes on a rune boundary.
func OneLine(s string, max int) string {
	var b strings.Builder
	b.Grow(min(len(s), max))
	space := false
	for _, r := range s {
		if r == '\n' || r == '\r' || r == '\t' || r == ' ' {
			space = b.Len() > 0
			continue
		}
		n := utf8.RuneLen(r)
		if n < 0 {
			n = 3
		}
		extra := 0
		if space {
			extra = 1
		}
		if b.Len()+extra+n > max {
			break
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Flags packs the summary's four booleans into the byte the store's summary
// codec and the inbox's columns keep (bit 0 policy violation, 1 escalated,
// 2 abandoned, 3 edited: stored values depend on this order).
func (s *Summary) Flags() uint8 {
	var f uint8
	for i, b := range [...]bool{s.PolicyViolation, s.Escalated, s.Abandoned, s.Edited} {
		if b {
			f |= 1 << i
		}
	}
	return f
}

// SetFlags sets the four booleans from a byte Flags made.
func (s *Summary) SetFlags(f uint8) {
	s.PolicyViolation, s.Escalated, s.Abandoned, s.Edited = f&1 != 0, f&2 != 0, f&4 != 0, f&8 != 0
}
