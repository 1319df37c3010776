package compare

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/eval"
)

// ReadJudgments reads an exported comparison file (JSONL, one Judgment per
// line, as `loupe export comparisons` writes it). Each line must be one
// JSON object with event_id (1 to loop.MaxEventIDBytes bytes), reviewer,
// a valid candidate name, candidate_side left or right, a choice, and an
// outcome that agrees with the choice and side; withdrawn (deleted)
// judgments are not in an export and are refused. Keys it does not know
// are ignored (exports only ever gain fields). A second line for the same
// event, candidate and reviewer is an error and the first wins. Bad lines
// are reported (as *eval.LineError naming the line and the field) and
// skipped; every valid line is still taken.
func ReadJudgments(r io.Reader) ([]Judgment, []error) {
	var out []Judgment
	first := map[string]int{}
	errs := eval.ScanJSONL(r, func(n int, b []byte) error {
		var j Judgment
		d := json.NewDecoder(bytes.NewReader(b))
		if err := d.Decode(&j); err != nil {
			return fmt.Errorf("invalid JSON: %v", err)
		}
		if _, err := d.Token(); err != io.EOF {
			return errors.New("invalid JSON: more than one value on the line")
		}
		if err := check(j); err != nil {
			return err
		}
		k := j.EventID + "\x00" + j.Candidate + "\x00" + j.Reviewer
		if prev, ok := first[k]; ok {
			return fmt.Errorf("event_id %q: %s already judged %s on line %d", j.EventID, j.Reviewer, j.Candidate, prev)
		}
		first[k] = n
		out = append(out, j)
		return nil
	})
	return out, errs
}

func check(j Judgment) error {
	switch {
	case j.EventID == "" || len(j.EventID) > loop.MaxEventIDBytes:
		return fmt.Errorf("event_id: must be 1 to %d bytes", loop.MaxEventIDBytes)
	case j.Reviewer == "":
		return errors.New("reviewer: required")
	case j.Deleted:
		return errors.New("deleted: a withdrawn judgment does not belong in a comparison file")
	}
	if err := CheckName(j.Candidate); err != nil {
		return fmt.Errorf("candidate: %v", err)
	}
	if j.CandidateSide != Left && j.CandidateSide != Right {
		return fmt.Errorf("candidate_side %q: want left or right", j.CandidateSide)
	}
	if _, ok := ParseChoice(string(j.Choice)); !ok {
		return fmt.Errorf("choice %q: want left, right, tie or both_bad", j.Choice)
	}
	if want := OutcomeOf(j.Choice, j.CandidateSide); j.Outcome != want {
		return fmt.Errorf("outcome %q: choice %s with the candidate on the %s means %s", j.Outcome, j.Choice, j.CandidateSide, want)
	}
	return nil
}
