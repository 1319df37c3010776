package loop

import (
	"fmt"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop/pii"
)

// NewLabel builds a reviewer's label with its free text masked, as every
// label must be before it is stored. It checks the grade and the reviewer.
func NewLabel(eventID, reviewer string, g Grade, reasons []string, note, reference string, at time.Time) (Label, error) {
	if _, ok := ParseGrade(string(g)); !ok {
		return Label{}, fmt.Errorf("grade %q: must be pass, fail or borderline", g)
	}
	reviewer = strings.TrimSpace(reviewer)
	if reviewer == "" {
		return Label{}, fmt.Errorf("reviewer: must not be empty (set --reviewer or LOUPE_REVIEWER)")
	}
	note, _ = pii.Mask(note)
	reference, _ = pii.Mask(reference)
	return Label{EventID: eventID, Reviewer: reviewer, Grade: g, Reasons: reasons,
		Note: note, Reference: reference, At: at.UTC()}, nil
}

// MaskSetEntry masks the free text a reviewer wrote into a set entry.
func MaskSetEntry(e *SetEntry) {
	e.Reference, _ = pii.Mask(e.Reference)
	for i := range e.MustContain {
		e.MustContain[i], _ = pii.Mask(e.MustContain[i])
	}
	for i := range e.MustNotContain {
		e.MustNotContain[i], _ = pii.Mask(e.MustNotContain[i])
	}
	for i := range e.Regex {
		e.Regex[i], _ = pii.Mask(e.Regex[i])
	}
}
