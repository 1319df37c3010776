// Package compare is blind pairwise review of a candidate model against the
// current one: which side each answer is shown on, what a reviewer's choice
// means for the candidate, and the statistics of many choices (win rate
// with a Wilson score interval, an exact sign test, agreement between
// reviewers, side bias). It is pure: the store and the screens do the I/O.
package compare

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/pii"
)

// Side is where the candidate's answer is shown: left (key 1) or right
// (key 2). The current model's answer is on the other side.
type Side string

const (
	Left  Side = "left"
	Right Side = "right"
)

// Choice is what the reviewer pressed.
type Choice string

const (
	ChoseLeft    Choice = "left"     // 1: the left answer is better
	ChoseRight   Choice = "right"    // 2: the right answer is better
	ChoseTie     Choice = "tie"      // =: as good as each other
	ChoseBothBad Choice = "both_bad" // x: neither is acceptable
)

// Outcome is what a choice means for the candidate.
type Outcome string

const (
	Win     Outcome = "win"  // the candidate's answer was preferred
	Loss    Outcome = "loss" // the current answer was preferred
	Tie     Outcome = "tie"
	BothBad Outcome = "both_bad"
)

// ParseChoice reads a choice as pressed (left, right, tie, both_bad).
func ParseChoice(s string) (Choice, bool) {
	switch c := Choice(s); c {
	case ChoseLeft, ChoseRight, ChoseTie, ChoseBothBad:
		return c, true
	}
	return "", false
}

// ParseWinner reads a choice given by who won, as scripts record it:
// candidate, current, tie or both_bad.
func ParseWinner(s string) (Outcome, bool) {
	switch s {
	case "candidate":
		return Win, true
	case "current":
		return Loss, true
	case "tie":
		return Tie, true
	case "both_bad":
		return BothBad, true
	}
	return "", false
}

// OutcomeOf is what choice c means for a candidate shown on side.
func OutcomeOf(c Choice, side Side) Outcome {
	switch c {
	case ChoseTie:
		return Tie
	case ChoseBothBad:
		return BothBad
	case ChoseLeft:
		if side == Left {
			return Win
		}
		return Loss
	}
	if side == Right {
		return Win
	}
	return Loss
}

// ChoiceFor is the key a reviewer would have pressed for outcome o with the
// candidate shown on side (the inverse of OutcomeOf).
func ChoiceFor(o Outcome, side Side) Choice {
	switch o {
	case Tie:
		return ChoseTie
	case BothBad:
		return ChoseBothBad
	case Win:
		if side == Left {
			return ChoseLeft
		}
		return ChoseRight
	}
	if side == Left {
		return ChoseRight
	}
	return ChoseLeft
}

// keyedHash is HMAC-SHA256 over length-prefixed fields, so that no two
// different field lists hash alike ("ab","c" vs "a","bc").
func keyedHash(key []byte, fields ...string) []byte {
	m := hmac.New(sha256.New, key)
	var n [4]byte
	for _, f := range fields {
		binary.BigEndian.PutUint32(n[:], uint32(len(f)))
		m.Write(n[:])
		m.Write([]byte(f))
	}
	return m.Sum(nil)
}

// SideFor is the side the candidate's answer is shown on to reviewer for
// eventID: a keyed hash of the event, the reviewer and the candidate's
// name. It looks random (a reviewer cannot tell the sides apart without the
// key, the store's own) but is reproducible: the same store shows the same
// sides every time. The side is also recorded with each judgment.
func SideFor(key []byte, eventID, reviewer, candidate string) Side {
	if keyedHash(key, "side", candidate, reviewer, eventID)[0]&1 == 0 {
		return Left
	}
	return Right
}

// Order is ids in a deterministic shuffled order for reviewer and
// candidate: sorted by a keyed hash, so the order looks random, is the same
// on every run, and differs between reviewers (each meets the items in
// another order, so fatigue does not land on the same items).
func Order(key []byte, reviewer, candidate string, ids []string) []string {
	type kv struct {
		h  []byte
		id string
	}
	hs := make([]kv, len(ids))
	for i, id := range ids {
		hs[i] = kv{keyedHash(key, "order", candidate, reviewer, id), id}
	}
	slices.SortFunc(hs, func(a, b kv) int {
		if c := strings.Compare(string(a.h), string(b.h)); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.id
	}
	return out
}

// AnswerHash identifies the exact candidate answer a judgment was about, so
// that a judgment of an older answer (the candidate file was regenerated)
// is not counted for a new one.
func AnswerHash(text string) string {
	h := sha256.Sum256([]byte(text))
	return hex.EncodeToString(h[:16])
}

// MaxNameBytes bounds a candidate's name.
const MaxNameBytes = 128

// CheckName validates a candidate's name: 1 to MaxNameBytes bytes, no
// control characters (it is part of store keys and of reports).
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameBytes {
		return fmt.Errorf("candidate name %q: must be 1 to %d bytes", name, MaxNameBytes)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return fmt.Errorf("candidate name %q: must not contain control characters", name)
		}
	}
	return nil
}

// NameOf is the default name of a candidate read from a file: its base
// name without the .jsonl (or .json) extension ("cand-v2.jsonl" is
// "cand-v2"). It is "" for stdin ("-"), which needs a name given.
func NameOf(path string) string {
	if path == "-" || path == "" {
		return ""
	}
	b := filepath.Base(path)
	for _, ext := range []string{".jsonl", ".json"} {
		if s, ok := strings.CutSuffix(b, ext); ok && s != "" {
			return s
		}
	}
	return b
}

// Via says how a judgment was made.
const (
	ViaTUI = "tui"
	ViaCLI = "cli"
)

// Judgment is one reviewer's blind comparison of the candidate's answer to
// an event with the current model's answer. A reviewer's later judgment of
// the same event and candidate replaces the earlier one (which stays in
// history); a Deleted judgment is an undo, withdrawing it.
type Judgment struct {
	EventID   string `json:"event_id"`
	Reviewer  string `json:"reviewer"`
	Candidate string `json:"candidate"`
	// AnswerSHA is AnswerHash of the candidate's answer as judged.
	AnswerSHA     string    `json:"answer_sha"`
	CandidateSide Side      `json:"candidate_side"`
	Choice        Choice    `json:"choice"`
	Outcome       Outcome   `json:"outcome"`
	Reasons       []string  `json:"reason_codes,omitempty"`
	Note          string    `json:"note,omitempty"`
	Task          string    `json:"task_type,omitempty"`
	Segment       string    `json:"user_segment,omitempty"`
	Via           string    `json:"via,omitempty"`
	At            time.Time `json:"at"`
	Deleted       bool      `json:"deleted,omitempty"`
	// Answer is the candidate's answer as judged, masked. The store keeps
	// it for the preference export; the exported comparison file leaves
	// it out (the gate needs only outcomes).
	Answer string `json:"answer,omitempty"`
}

// Input is what NewJudgment needs. Event is the stored (masked) event the
// comparison is about; Answer the candidate's answer as read from its file.
type Input struct {
	Event     *loop.Event
	Reviewer  string
	Candidate string
	Answer    string
	Side      Side
	Choice    Choice
	Reasons   []string
	Note      string
	Via       string
	At        time.Time
}

// NewJudgment builds and checks a judgment, its free text (the note, the
// candidate's answer) masked for PII as everything stored must be. Reasons
// are checked against the taxonomy by the caller.
func NewJudgment(in Input) (Judgment, error) {
	if in.Event == nil || in.Event.EventID == "" {
		return Judgment{}, errors.New("comparison: no event")
	}
	rev := strings.TrimSpace(in.Reviewer)
	if rev == "" {
		return Judgment{}, errors.New("reviewer: must not be empty (set --reviewer or LOUPE_REVIEWER)")
	}
	if err := CheckName(in.Candidate); err != nil {
		return Judgment{}, err
	}
	if in.Side != Left && in.Side != Right {
		return Judgment{}, fmt.Errorf("candidate side %q: want left or right", in.Side)
	}
	if _, ok := ParseChoice(string(in.Choice)); !ok {
		return Judgment{}, fmt.Errorf("choice %q: want left, right, tie or both_bad", in.Choice)
	}
	note, _ := pii.Mask(in.Note)
	answer, _ := pii.Mask(in.Answer)
	return Judgment{
		EventID: in.Event.EventID, Reviewer: rev, Candidate: in.Candidate,
		AnswerSHA: AnswerHash(in.Answer), CandidateSide: in.Side,
		Choice: in.Choice, Outcome: OutcomeOf(in.Choice, in.Side),
		Reasons: slices.Clone(in.Reasons), Note: note,
		Task: in.Event.TaskType, Segment: in.Event.UserSegment,
		Via: in.Via, At: in.At.UTC(), Answer: answer,
	}, nil
}

// Withdrawal is the undo of j at time at: the record that withdraws it.
func Withdrawal(j Judgment, at time.Time) Judgment {
	w := j
	w.Deleted, w.At, w.Answer, w.Note = true, at.UTC(), "", ""
	return w
}

// Last is the judgment of reviewer on candidate made most recently among
// current (not withdrawn) ones: what an undo withdraws. ok is false when
// there is none.
func Last(current []Judgment, reviewer, candidate string) (Judgment, bool) {
	var best Judgment
	ok := false
	for _, j := range current {
		if j.Deleted || j.Reviewer != reviewer || j.Candidate != candidate {
			continue
		}
		if !ok || j.At.After(best.At) || (j.At.Equal(best.At) && j.EventID > best.EventID) {
			best, ok = j, true
		}
	}
	return best, ok
}

// ItemSet names which items a comparison session covers.
type ItemSet string

const (
	SetGolden  ItemSet = "golden"  // the golden set (default)
	SetRedFlag ItemSet = "redflag" // the red-flag set
	SetQueue   ItemSet = "queue"   // the review queue
	SetAll     ItemSet = "all"     // every stored event
)

// ParseItemSet reads --set.
func ParseItemSet(s string) (ItemSet, error) {
	switch ItemSet(s) {
	case SetGolden, SetRedFlag, SetQueue, SetAll:
		return ItemSet(s), nil
	case "red-flag":
		return SetRedFlag, nil
	}
	return "", fmt.Errorf("--set %q: want golden, redflag, queue or all", s)
}
