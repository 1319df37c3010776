// Package export turns stored events, labels and set entries into the rows
// of loupe's export formats: training data (sft, preference, kto) that
// respects consent, and flat CSV records. It is pure: the CLI does the I/O.
package export

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/compare"
)

// SFT is a supervised fine-tuning example.
type SFT struct {
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
}

// Preference is a pairwise example, the columns TRL's DPOTrainer reads
// (prompt, chosen, rejected), and where the pair came from: Source is
// SourceUserEdit or SourceReference (a correction preferred over what the
// model said) or SourceComparison (reviewers' blind choice between the
// current model's answer and a candidate's).
type Preference struct {
	Prompt   string `json:"prompt"`
	Chosen   string `json:"chosen"`
	Rejected string `json:"rejected"`
	Source   string `json:"source"`
}

// Preference sources.
const (
	SourceUserEdit   = "user_edit"
	SourceReference  = "reference"
	SourceComparison = "comparison"
)

// KTO is a binary-feedback example from a thumb.
type KTO struct {
	Prompt     string `json:"prompt"`
	Completion string `json:"completion"`
	Label      bool   `json:"label"`
}

// Trainable reports whether an event may be used as training data: only
// with explicit consent.training true, and only with a prompt and an output.
func Trainable(e *loop.Event) bool {
	return e.TrainingConsent() && e.Input != nil && e.Input.Text != "" && e.Output != nil && e.Output.Text != ""
}

// Correction is the best known answer for an event: a reviewer's reference
// (from the golden or red-flag set, else the latest label with one), else
// the user's own edit. refs maps event id to a reviewer reference.
func Correction(e *loop.Event, refs map[string]string) string {
	if r := refs[e.EventID]; r != "" {
		return r
	}
	if e.Explicit != nil {
		return e.Explicit.UserEdit
	}
	return ""
}

// ToSFT gives the SFT example of an event, if it has a correction.
func ToSFT(e *loop.Event, refs map[string]string) (SFT, bool) {
	if !Trainable(e) {
		return SFT{}, false
	}
	c := Correction(e, refs)
	if c == "" {
		return SFT{}, false
	}
	return SFT{Prompt: e.Input.Text, Completion: c}, true
}

// ToPreference gives the preference pair of an event whose output was
// corrected into something different.
func ToPreference(e *loop.Event, refs map[string]string) (Preference, bool) {
	if !Trainable(e) {
		return Preference{}, false
	}
	c := Correction(e, refs)
	if c == "" || strings.TrimSpace(c) == strings.TrimSpace(e.Output.Text) {
		return Preference{}, false
	}
	src := SourceUserEdit
	if refs[e.EventID] != "" {
		src = SourceReference
	}
	return Preference{Prompt: e.Input.Text, Chosen: c, Rejected: e.Output.Text, Source: src}, true
}

// ComparisonPreferences gives the preference pairs reviewers' blind
// comparisons make of an event: per candidate answer (candidate and answer
// hash), the side more of its current judgments preferred is chosen and
// the other rejected. Ties, both-bad and an even split give no pair, nor
// does an event without training consent. Pairs are ordered by candidate.
func ComparisonPreferences(e *loop.Event, js []compare.Judgment) []Preference {
	if !Trainable(e) {
		return nil
	}
	type answer struct {
		candidate, sha string
	}
	votes := map[answer]int{} // wins minus losses
	text := map[answer]string{}
	var order []answer
	for _, j := range js {
		if j.EventID != e.EventID || j.Deleted || j.Answer == "" {
			continue
		}
		a := answer{j.Candidate, j.AnswerSHA}
		if _, ok := text[a]; !ok {
			order = append(order, a)
			text[a] = j.Answer
		}
		switch j.Outcome {
		case compare.Win:
			votes[a]++
		case compare.Loss:
			votes[a]--
		}
	}
	sort.Slice(order, func(i, k int) bool {
		if order[i].candidate != order[k].candidate {
			return order[i].candidate < order[k].candidate
		}
		return order[i].sha < order[k].sha
	})
	var out []Preference
	for _, a := range order {
		cand, cur := text[a], e.Output.Text
		if strings.TrimSpace(cand) == strings.TrimSpace(cur) {
			continue
		}
		switch v := votes[a]; {
		case v > 0:
			out = append(out, Preference{Prompt: e.Input.Text, Chosen: cand, Rejected: cur, Source: SourceComparison})
		case v < 0:
			out = append(out, Preference{Prompt: e.Input.Text, Chosen: cur, Rejected: cand, Source: SourceComparison})
		}
	}
	return out
}

// ToKTO gives the thumb-labelled example of an event with a thumb.
func ToKTO(e *loop.Event) (KTO, bool) {
	if !Trainable(e) {
		return KTO{}, false
	}
	switch e.ThumbValue() {
	case loop.ThumbUp:
		return KTO{Prompt: e.Input.Text, Completion: e.Output.Text, Label: true}, true
	case loop.ThumbDown:
		return KTO{Prompt: e.Input.Text, Completion: e.Output.Text, Label: false}, true
	}
	return KTO{}, false
}

// CSV cells. Spreadsheets run a cell that starts with =, +, -, @, tab or
// carriage return as a formula (OWASP "CSV injection"), so every text cell
// that starts with one of them gets a leading apostrophe, which spreadsheets
// show as text. A cell that itself starts with an apostrophe gets one more,
// so the guard is reversible: Unguard strips exactly one leading
// apostrophe. List cells (reason codes, assertions) are JSON arrays of
// strings, `["a;b","c"]`, so any value survives the round trip. Numbers,
// booleans and times are written bare: they cannot start a formula.

// Guard makes a text cell safe to open in a spreadsheet.
func Guard(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + s
	}
	return s
}

// Unguard undoes Guard.
func Unguard(s string) string { return strings.TrimPrefix(s, "'") }

// ListCell is a list as a JSON array of strings ("[]" when empty).
func ListCell(l []string) string {
	if len(l) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(l) // strings only: cannot fail
	return string(b)
}

// ParseListCell reads a ListCell back.
func ParseListCell(s string) ([]string, error) {
	var l []string
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return nil, fmt.Errorf("list cell %q: want a JSON array of strings: %w", s, err)
	}
	return l, nil
}

// EventCSVHeader and EventCSV flatten an event for spreadsheets.
var EventCSVHeader = []string{"event_id", "timestamp", "model_version", "user_segment", "task_type", "locale",
	"thumb", "rating", "reason_codes", "latency_ms", "confidence", "escalated", "abandoned", "resolved",
	"policy_violation", "toxicity", "input_text", "output_text", "user_edit", "reason_text"}

func EventCSV(e *loop.Event) []string {
	g := Guard
	row := []string{g(e.EventID), e.Timestamp.Format(time.RFC3339Nano), g(e.ModelVersion), g(e.UserSegment), g(e.TaskType), g(e.Locale),
		e.ThumbValue().String(), "", ListCell(e.Reasons()), "", "", "", "", "", "", "", "", "", "", ""}
	if x := e.Explicit; x != nil {
		row[7] = optInt(x.Rating)
		row[18], row[19] = g(x.UserEdit), g(x.ReasonText)
	}
	if o := e.Output; o != nil {
		row[9], row[10], row[17] = optNum(o.LatencyMS), optNum(o.Confidence), g(o.Text)
	}
	if i := e.Implicit; i != nil {
		row[11], row[12] = optBool(i.Escalated), optBool(i.Abandoned)
	}
	if b := e.Business; b != nil {
		row[13] = optBool(b.Resolved)
	}
	if c := e.Checks; c != nil {
		row[14], row[15] = optBool(c.PolicyViolation), optNum(c.Toxicity)
	}
	if e.Input != nil {
		row[16] = g(e.Input.Text)
	}
	return row
}

var LabelCSVHeader = []string{"event_id", "reviewer", "grade", "reason_codes", "note", "reference", "at"}

func LabelCSV(l loop.Label) []string {
	g := Guard
	return []string{g(l.EventID), g(l.Reviewer), g(string(l.Grade)), ListCell(l.Reasons), g(l.Note), g(l.Reference), l.At.Format(time.RFC3339Nano)}
}

// SetCSVHeader has every field of a set export's JSONL line, the export
// context (the prompt, the current model's answer and where it belongs)
// included.
var SetCSVHeader = []string{"event_id", "set", "reference", "must_contain", "must_not_contain", "regex", "max_latency_ms", "added_by", "at",
	"input", "output", "latency_ms", "model_version", "task_type", "user_segment"}

func SetCSV(e loop.SetEntry) []string {
	g := Guard
	return []string{g(e.EventID), g(string(e.Kind)), g(e.Reference), ListCell(e.MustContain), ListCell(e.MustNotContain),
		ListCell(e.Regex), optNum(e.MaxLatencyMS), g(e.AddedBy), e.At.Format(time.RFC3339Nano),
		g(e.Input), g(e.Output), optNum(e.LatencyMS), g(e.Model), g(e.Task), g(e.Segment)}
}

func optNum(v *float64) string {
	if v == nil {
		return ""
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}

func optInt(v *int) string {
	if v == nil {
		return ""
	}
	return strconv.Itoa(*v)
}

func optBool(v *bool) string {
	if v == nil {
		return ""
	}
	return strconv.FormatBool(*v)
}
