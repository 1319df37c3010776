// Package loop is loupe's domain: the feedback event schema and its
// validation, consent, labels and the rules of the review loop. It does no
// I/O of its own and knows nothing of storage or terminals.
package loop

import (
	"encoding/json"
	"time"
)

// SchemaVersion is the version of the event schema this build reads.
const SchemaVersion = 1

// Thumb is the user's explicit thumb. ThumbNone means no thumb was given.
type Thumb int8

const (
	ThumbNone Thumb = 0
	ThumbUp   Thumb = 1
	ThumbDown Thumb = -1
)

func (t Thumb) String() string {
	switch t {
	case ThumbUp:
		return "up"
	case ThumbDown:
		return "down"
	}
	return ""
}

// Grade is a reviewer's verdict on an item against the rubric.
type Grade string

const (
	GradeNone       Grade = ""
	GradePass       Grade = "pass"
	GradeFail       Grade = "fail"
	GradeBorderline Grade = "borderline"
)

// ParseGrade accepts the three rubric grades by name.
func ParseGrade(s string) (Grade, bool) {
	switch Grade(s) {
	case GradePass, GradeFail, GradeBorderline:
		return Grade(s), true
	}
	return GradeNone, false
}

// Event is one stored feedback event: what the user and the product did for
// one model answer. Free text in it is always masked (see loop/pii) before it
// is stored; UserHash replaces the raw user id.
//
// Optional numbers are pointers so that "absent" and "zero" stay apart in
// exports and metrics.
type Event struct {
	EventID      string                     `json:"event_id"`
	Timestamp    time.Time                  `json:"timestamp"`
	ModelVersion string                     `json:"model_version"`
	UserHash     string                     `json:"user_hash,omitempty"`
	SessionID    string                     `json:"session_id,omitempty"`
	Locale       string                     `json:"locale,omitempty"`
	UserSegment  string                     `json:"user_segment,omitempty"`
	TaskType     string                     `json:"task_type,omitempty"`
	Input        *Input                     `json:"input,omitempty"`
	Output       *Output                    `json:"output,omitempty"`
	Explicit     *Explicit                  `json:"explicit_feedback,omitempty"`
	Implicit     *Implicit                  `json:"implicit_feedback,omitempty"`
	Checks       *Checks                    `json:"automated_checks,omitempty"`
	Business     *Business                  `json:"business,omitempty"`
	Experiment   *Experiment                `json:"experiment,omitempty"`
	Consent      *Consent                   `json:"consent,omitempty"`
	Label        *InitialLabel              `json:"label,omitempty"`
	Extra        map[string]json.RawMessage `json:"extra,omitempty"`
	// Masked counts, per PII type, what masking replaced in this event's
	// free text. Kept so reviewers see that something was redacted.
	Masked map[string]int `json:"masked,omitempty"`
}

type Input struct {
	Text        string                     `json:"text,omitempty"`
	ContextRefs []string                   `json:"context_refs,omitempty"`
	Extra       map[string]json.RawMessage `json:"extra,omitempty"`
}

type Output struct {
	Text       string                     `json:"text,omitempty"`
	LatencyMS  *float64                   `json:"latency_ms,omitempty"`
	Confidence *float64                   `json:"confidence,omitempty"`
	CostUSD    *float64                   `json:"cost_usd,omitempty"`
	Extra      map[string]json.RawMessage `json:"extra,omitempty"`
}

type Explicit struct {
	Thumb       *string                    `json:"thumb,omitempty"` // "up", "down"; nil when null or absent
	Rating      *int                       `json:"rating,omitempty"`
	ReasonCodes []string                   `json:"reason_codes,omitempty"`
	ReasonText  string                     `json:"reason_text,omitempty"`
	UserEdit    string                     `json:"user_edit,omitempty"`
	Extra       map[string]json.RawMessage `json:"extra,omitempty"`
}

type Implicit struct {
	DwellMS   *float64                   `json:"dwell_ms,omitempty"`
	Abandoned *bool                      `json:"abandoned,omitempty"`
	Escalated *bool                      `json:"escalated,omitempty"`
	Clicked   *bool                      `json:"clicked,omitempty"`
	Copied    *bool                      `json:"copied,omitempty"`
	Retries   *int                       `json:"retries,omitempty"`
	Extra     map[string]json.RawMessage `json:"extra,omitempty"`
}

// Checks are automated checks. Any further named check is kept in Extra.
type Checks struct {
	Toxicity        *float64                   `json:"toxicity,omitempty"`
	Hallucination   *float64                   `json:"hallucination,omitempty"`
	PolicyViolation *bool                      `json:"policy_violation,omitempty"`
	Extra           map[string]json.RawMessage `json:"extra,omitempty"`
}

type Business struct {
	Resolved        *bool                      `json:"resolved,omitempty"`
	Converted       *bool                      `json:"converted,omitempty"`
	Turns           *int                       `json:"turns,omitempty"`
	TimeToSuccessMS *float64                   `json:"time_to_success_ms,omitempty"`
	CostUSD         *float64                   `json:"cost_usd,omitempty"`
	Extra           map[string]json.RawMessage `json:"extra,omitempty"`
}

type Experiment struct {
	ID         string                     `json:"id,omitempty"`
	Arm        string                     `json:"arm,omitempty"`
	Position   *int                       `json:"position,omitempty"`
	Propensity *float64                   `json:"propensity,omitempty"`
	Extra      map[string]json.RawMessage `json:"extra,omitempty"`
}

// Consent as the user gave it. A nil *Consent on an event means consent was
// not recorded: usable for analytics and evaluation, never for training.
type Consent struct {
	Analytics *bool                      `json:"analytics,omitempty"`
	Training  *bool                      `json:"training,omitempty"`
	Extra     map[string]json.RawMessage `json:"extra,omitempty"`
}

// InitialLabel is a grade that arrived with the event (from an upstream tool).
type InitialLabel struct {
	Grade       Grade                      `json:"grade,omitempty"`
	RubricNotes string                     `json:"rubric_notes,omitempty"`
	Extra       map[string]json.RawMessage `json:"extra,omitempty"`
}

// ThumbValue is the event's thumb, ThumbNone when absent.
func (e *Event) ThumbValue() Thumb {
	if e.Explicit == nil || e.Explicit.Thumb == nil {
		return ThumbNone
	}
	switch *e.Explicit.Thumb {
	case "up":
		return ThumbUp
	case "down":
		return ThumbDown
	}
	return ThumbNone
}

// TrainingConsent reports whether the user explicitly allowed training use.
func (e *Event) TrainingConsent() bool {
	return e.Consent != nil && e.Consent.Training != nil && *e.Consent.Training
}

// Reasons returns the event's reason codes (never nil-panics).
func (e *Event) Reasons() []string {
	if e.Explicit == nil {
		return nil
	}
	return e.Explicit.ReasonCodes
}

// Label is one reviewer's grade of one event. A reviewer's later label on the
// same event replaces their earlier one; the earlier ones stay in history.
type Label struct {
	EventID   string    `json:"event_id"`
	Reviewer  string    `json:"reviewer"`
	Grade     Grade     `json:"grade"`
	Reasons   []string  `json:"reason_codes,omitempty"`
	Note      string    `json:"note,omitempty"`
	Reference string    `json:"reference,omitempty"`
	At        time.Time `json:"at"`
	// Deleted marks an undo: the reviewer withdrew their label.
	Deleted bool `json:"deleted,omitempty"`
}

// SetKind names a curated set.
type SetKind string

const (
	SetGolden  SetKind = "golden"
	SetRedFlag SetKind = "redflag"
)

// SetEntry is an event's membership in a curated set. Golden entries carry
// the reference output; red-flag entries add the assertions a candidate
// model's answer must meet.
type SetEntry struct {
	EventID        string    `json:"event_id"`
	Kind           SetKind   `json:"set"`
	Reference      string    `json:"reference,omitempty"`
	MustContain    []string  `json:"must_contain,omitempty"`
	MustNotContain []string  `json:"must_not_contain,omitempty"`
	Regex          []string  `json:"regex,omitempty"`
	MaxLatencyMS   *float64  `json:"max_latency_ms,omitempty"`
	AddedBy        string    `json:"added_by,omitempty"`
	At             time.Time `json:"at"`

	// Context filled in on export from the stored (masked) event, so that
	// `loupe eval` and `loupe gate` run on exported files alone: the
	// prompt, the current model's answer and where the item belongs. The
	// current answer is the gate's baseline.
	Input     string   `json:"input,omitempty"`
	Output    string   `json:"output,omitempty"`
	LatencyMS *float64 `json:"latency_ms,omitempty"`
	Model     string   `json:"model_version,omitempty"`
	Task      string   `json:"task_type,omitempty"`
	Segment   string   `json:"user_segment,omitempty"`
}

// WithContext returns the entry with the export context of its event.
func (s SetEntry) WithContext(e *Event) SetEntry {
	if e.Input != nil {
		s.Input = e.Input.Text
	}
	if e.Output != nil {
		s.Output, s.LatencyMS = e.Output.Text, e.Output.LatencyMS
	}
	s.Model, s.Task, s.Segment = e.ModelVersion, e.TaskType, e.UserSegment
	return s
}

// QueueItem is an event in the review queue: why sampling picked it, and
// the reviewers it is assigned to (two for the overlap share, else none:
// anyone may take it).
type QueueItem struct {
	EventID   string    `json:"event_id"`
	Day       string    `json:"day"` // the UTC day it was sampled for
	Why       []string  `json:"why"`
	Reviewers []string  `json:"reviewers,omitempty"`
	At        time.Time `json:"at"`
}

// AppendJSON appends it as encoding/json encodes it (the same fields and
// values; strings escaped by AppendJSON's rules for events), without
// reflection: `loupe serve` writes an item for about one arrival in four.
func (it *QueueItem) AppendJSON(b []byte) []byte {
	b = append(b, `{"event_id":`...)
	b = appendQuoted(b, it.EventID)
	b = append(b, `,"day":`...)
	b = appendQuoted(b, it.Day)
	b = append(b, `,"why":`...)
	b = appendStrings(b, it.Why)
	if len(it.Reviewers) > 0 {
		b = append(b, `,"reviewers":`...)
		b = appendStrings(b, it.Reviewers)
	}
	b = append(b, `,"at":"`...)
	b = it.At.AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}

// appendStrings appends ss as a JSON array, nil as null (as
// encoding/json writes a nil slice).
func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendQuoted(b, s)
	}
	return append(b, ']')
}
