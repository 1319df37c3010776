package loop

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"github.com/loupe-dev/loupe/loop/pii"
)

// Reject reasons: the reason codes of rejected input lines. Scripts count on
// these names (ingest --json "reasons", rejects files, the collector).
const (
	ReasonInvalidUTF8  = "invalid_utf8"
	ReasonInvalidJSON  = "invalid_json"
	ReasonDuplicateKey = "duplicate_key"
	ReasonMissingField = "missing_field"
	ReasonInvalidField = "invalid_field"
	ReasonLineTooLong  = "line_too_long"
	ReasonNoConsent    = "no_consent"
	ReasonConflict     = "conflict"
	ReasonPIIInID      = "pii_in_id"
)

// MaxLineBytes is the longest input line read; longer lines are rejected.
const MaxLineBytes = 1 << 20

// MaxEventIDBytes bounds event_id, the idempotency key.
const MaxEventIDBytes = 128

// InputError is why an input line was not taken: a reason code and a message
// that names the field path (`output.latency_ms: must be >= 0`).
type InputError struct {
	Reason string
	Path   string // "" for whole-line problems
	Msg    string
}

func (e *InputError) Error() string {
	if e.Path == "" {
		return e.Msg
	}
	return e.Path + ": " + e.Msg
}

func fieldErr(path fpath, msg string) error {
	return &InputError{Reason: ReasonInvalidField, Path: path.String(), Msg: msg}
}

// fpath is a field path built only when an error needs it: the parent
// object's path, the key, and an array index (or -1).
type fpath struct {
	parent, key string
	idx         int
}

func (p fpath) String() string {
	s := join(p.parent, p.key)
	if p.idx >= 0 {
		s += "[" + strconv.Itoa(p.idx) + "]"
	}
	return s
}

func (p fpath) child() string { return join(p.parent, p.key) }

// Incoming is a decoded, validated event before the privacy step: it still
// holds the raw user id and unmasked text, and must never be stored as is.
type Incoming struct {
	Event  Event
	UserID string

	// The event's objects and optional values live here, in the one
	// allocation of the Incoming, rather than in thirty small ones.
	input      Input
	output     Output
	explicit   Explicit
	implicit   Implicit
	checks     Checks
	business   Business
	experiment Experiment
	consent    Consent
	label      InitialLabel
	slab       slab
}

// slab hands out the optional numbers and flags of one event; past its
// size it falls back to the heap.
type slab struct {
	f      [12]float64
	i      [6]int
	b      [12]bool
	nf, ni int
	nb     int
}

func (s *slab) float(v float64) *float64 {
	if s.nf == len(s.f) {
		return &v
	}
	p := &s.f[s.nf]
	s.nf++
	*p = v
	return p
}

func (s *slab) int(v int) *int {
	if s.ni == len(s.i) {
		return &v
	}
	p := &s.i[s.ni]
	s.ni++
	*p = v
	return p
}

func (s *slab) bool(v bool) *bool {
	if s.nb == len(s.b) {
		return &v
	}
	p := &s.b[s.nb]
	s.nb++
	*p = v
	return p
}

// DecodeEvent reads one JSON line against schema v1. It checks UTF-8, JSON
// syntax, duplicate keys, types and every rule of the schema, and keeps
// unknown fields under "extra" of the object they appeared in.
//
// The event's strings may share memory with line: the caller must not
// change line afterwards.
func DecodeEvent(line []byte) (*Incoming, error) {
	if len(line) > MaxLineBytes {
		return nil, &InputError{Reason: ReasonLineTooLong, Msg: "line is longer than 1 MiB"}
	}
	if !utf8.Valid(line) {
		i := 0
		for i < len(line) {
			r, n := utf8.DecodeRune(line[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return nil, &InputError{Reason: ReasonInvalidUTF8, Msg: "invalid UTF-8 at byte " + strconv.Itoa(i+1)}
	}
	in := &Incoming{}
	d := decoder{scanner: scanner{data: line}, in: in}
	if d.peek() != '{' {
		if d.pos >= len(line) {
			return nil, &InputError{Reason: ReasonInvalidJSON, Msg: "empty line"}
		}
		return nil, &InputError{Reason: ReasonInvalidJSON, Msg: "not a JSON object (an event is one JSON object per line)"}
	}
	err := d.event(in)
	if err == nil {
		if d.ws(); d.pos != len(line) {
			err = d.fail("data after the event object")
		}
	}
	if err != nil {
		return nil, classify(err)
	}
	if err := validateRequired(&in.Event); err != nil {
		return nil, err
	}
	return in, nil
}

// DecodeStored reads an event as the store keeps it (AppendJSON of a
// prepared event) at DecodeEvent's speed; the store re-reads originals
// with it to merge signals into them. The result owns its memory.
func DecodeStored(b []byte) (*Event, error) {
	b = bytes.Clone(b)
	in := &Incoming{}
	d := decoder{scanner: scanner{data: b}, in: in, stored: true}
	if d.peek() != '{' {
		return nil, &InputError{Reason: ReasonInvalidJSON, Msg: "not a stored event"}
	}
	err := d.event(in)
	if err == nil {
		if d.ws(); d.pos != len(b) {
			err = d.fail("data after the event object")
		}
	}
	if err != nil {
		return nil, classify(err)
	}
	if err := validateRequired(&in.Event); err != nil {
		return nil, err
	}
	return &in.Event, nil
}

func classify(err error) error {
	var ie *InputError
	if errors.As(err, &ie) {
		return ie
	}
	var de *dupKeyError
	if errors.As(err, &de) {
		return &InputError{Reason: ReasonDuplicateKey, Path: de.path, Msg: "duplicate key " + strconv.Quote(de.key)}
	}
	return &InputError{Reason: ReasonInvalidJSON, Msg: "invalid JSON at " + err.Error()}
}

func validateRequired(e *Event) error {
	switch {
	case e.EventID == "":
		return &InputError{Reason: ReasonMissingField, Path: "event_id", Msg: "required"}
	case e.Timestamp.IsZero():
		return &InputError{Reason: ReasonMissingField, Path: "timestamp", Msg: "required"}
	case e.ModelVersion == "":
		return &InputError{Reason: ReasonMissingField, Path: "model_version", Msg: "required"}
	}
	return nil
}

type decoder struct {
	scanner
	in *Incoming // where objects and optional values are put
	// stored reads the form the store keeps (AppendJSON): unknown fields
	// under "extra", plus user_hash and masked.
	stored bool
}

// members reads an object at path, rejecting duplicate keys, and hands each
// key to fn, which returns false when it does not know the key; such values
// are kept raw in *extra.
func (d *decoder) members(at fpath, extra *map[string]json.RawMessage, fn func(key string, p fpath) (bool, error)) error {
	if k := d.kind(); k != "object" {
		return d.typeErr(at, "an object", k)
	}
	path := at.child()
	var seen [24]string
	n := 0
	var more map[string]struct{}
	return d.object(func(key string) error {
		dup := false
		for _, s := range seen[:n] {
			if s == key {
				dup = true
				break
			}
		}
		if !dup {
			if _, dup = more[key]; !dup {
				if n < len(seen) {
					seen[n] = key
					n++
				} else {
					if more == nil {
						more = map[string]struct{}{}
					}
					more[key] = struct{}{}
				}
			}
		}
		if dup {
			return &dupKeyError{key: key, path: join(path, key)}
		}
		if d.stored && key == "extra" {
			return d.object(func(k string) error {
				raw, err := d.skip(1)
				if err != nil {
					return err
				}
				if *extra == nil {
					*extra = map[string]json.RawMessage{}
				}
				(*extra)[k] = json.RawMessage(bytes.Clone(raw))
				return nil
			})
		}
		ok, err := fn(key, fpath{path, key, -1})
		if err != nil || ok {
			return err
		}
		raw, err := d.skip(1)
		if err != nil {
			return err
		}
		if *extra == nil {
			*extra = map[string]json.RawMessage{}
		}
		(*extra)[key] = json.RawMessage(bytes.Clone(raw))
		return nil
	})
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) typeErr(path fpath, want, got string) error {
	if got == "" {
		_, err := d.skip(0) // reports the syntax error at this spot
		if err != nil {
			return err
		}
	}
	return fieldErr(path, "must be "+want+", got "+got)
}

// null consumes a null and reports whether there was one: an optional field
// given as null counts as absent.
func (d *decoder) null() bool {
	if d.peek() == 'n' && d.literal("null") == nil {
		return true
	}
	return false
}

func (d *decoder) string(path fpath) (string, error) {
	if d.null() {
		return "", nil
	}
	if k := d.kind(); k != "string" {
		return "", d.typeErr(path, "a string", k)
	}
	return d.str()
}

func (d *decoder) strings(path fpath) ([]string, error) {
	if d.null() {
		return nil, nil
	}
	if k := d.kind(); k != "array" {
		return nil, d.typeErr(path, "an array of strings", k)
	}
	d.pos++
	out := []string{}
	if d.peek() == ']' {
		d.pos++
		return out, nil
	}
	for i := 0; ; i++ {
		p := path
		p.idx = i
		if k := d.kind(); k != "string" {
			return nil, d.typeErr(p, "a string", k)
		}
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		if d.peek() == ',' {
			d.pos++
			continue
		}
		return out, d.expect(']')
	}
}

// number reads a number, or null (present false).
func (d *decoder) number(path fpath) (v float64, present bool, err error) {
	if d.null() {
		return 0, false, nil
	}
	if k := d.kind(); k != "number" {
		return 0, false, d.typeErr(path, "a number", k)
	}
	lit, err := d.scanner.number()
	if err != nil {
		return 0, false, err
	}
	f, err := strconv.ParseFloat(unsafe.String(&lit[0], len(lit)), 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false, fieldErr(path, "number out of range")
	}
	return f, true, nil
}

// numberIn reads a number within [lo, hi]; hi may be +Inf.
func (d *decoder) numberIn(path fpath, lo, hi float64) (*float64, error) {
	f, ok, err := d.number(path)
	if err != nil || !ok {
		return nil, err
	}
	if f < lo {
		return nil, fieldErr(path, "must be >= "+fmtNum(lo))
	}
	if f > hi {
		return nil, fieldErr(path, "must be <= "+fmtNum(hi))
	}
	return d.in.slab.float(f), nil
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func (d *decoder) integer(path fpath, lo, hi int) (*int, error) {
	f, ok, err := d.number(path)
	if err != nil || !ok {
		return nil, err
	}
	if f != math.Trunc(f) {
		return nil, fieldErr(path, "must be an integer")
	}
	if f < float64(lo) {
		return nil, fieldErr(path, "must be >= "+strconv.Itoa(lo))
	}
	if f > float64(hi) {
		return nil, fieldErr(path, "must be <= "+strconv.Itoa(hi))
	}
	return d.in.slab.int(int(f)), nil
}

func (d *decoder) boolean(path fpath) (*bool, error) {
	if d.null() {
		return nil, nil
	}
	switch d.kind() {
	case "boolean":
		v := d.data[d.pos] == 't'
		if v {
			return d.in.slab.bool(v), d.literal("true")
		}
		return d.in.slab.bool(v), d.literal("false")
	default:
		return nil, d.typeErr(path, "true or false", d.kind())
	}
}

var inf = math.Inf(1)

const maxInt = math.MaxInt32

func (d *decoder) event(in *Incoming) error {
	e := &in.Event
	return d.members(fpath{idx: -1}, &e.Extra, func(key string, path fpath) (bool, error) {
		var err error
		switch key {
		case "kind":
			err = d.kindOf(path, KindInteraction)
		case "event_id":
			e.EventID, err = d.id(path)
		case "timestamp":
			e.Timestamp, err = d.timestamp(path)
		case "model_version":
			if d.kind() != "string" {
				return true, d.typeErr(path, "a string", d.kind())
			}
			if e.ModelVersion, err = d.str(); err == nil && e.ModelVersion == "" {
				err = fieldErr(path, "must not be empty")
			}
		case "user_id":
			in.UserID, err = d.string(path)
		case "session_id":
			e.SessionID, err = d.string(path)
		case "locale":
			e.Locale, err = d.string(path)
		case "user_segment":
			e.UserSegment, err = d.string(path)
		case "task_type":
			e.TaskType, err = d.string(path)
		case "input":
			err = d.input(path, &e.Input)
		case "output":
			err = d.output(path, &e.Output)
		case "explicit_feedback":
			err = d.explicit(path, &e.Explicit)
		case "implicit_feedback":
			err = d.implicit(path, &e.Implicit)
		case "automated_checks":
			err = d.checks(path, &e.Checks)
		case "business":
			err = d.business(path, &e.Business)
		case "experiment":
			err = d.experiment(path, &e.Experiment)
		case "consent":
			err = d.consent(path, &e.Consent)
		case "label":
			err = d.label(path, &e.Label)
		case "user_hash":
			if !d.stored {
				return false, nil
			}
			e.UserHash, err = d.string(path)
		case "masked":
			if !d.stored {
				return false, nil
			}
			e.Masked, err = d.counts(path)
		default:
			return false, nil
		}
		return true, err
	})
}

// id reads an idempotency key: 1 to 128 bytes without control characters
// (and so without NUL, which the store's keys rely on).
func (d *decoder) id(path fpath) (string, error) {
	if d.kind() != "string" {
		return "", d.typeErr(path, "a string", d.kind())
	}
	id, err := d.str()
	if err != nil {
		return "", err
	}
	if len(id) == 0 || len(id) > MaxEventIDBytes {
		return "", fieldErr(path, "must be 1 to 128 bytes")
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] == 0x7f {
			return "", fieldErr(path, "must not contain control characters")
		}
	}
	return id, nil
}

func (d *decoder) timestamp(path fpath) (time.Time, error) {
	if d.kind() != "string" {
		return time.Time{}, d.typeErr(path, "an RFC 3339 string", d.kind())
	}
	s, err := d.str()
	if err != nil {
		return time.Time{}, err
	}
	t, perr := time.Parse(time.RFC3339Nano, s)
	if perr != nil {
		return time.Time{}, fieldErr(path, "must be RFC 3339 (like 2026-11-02T14:03:22Z), got "+quoteInput(s, 40))
	}
	if t.Year() < 1900 || t.Year() > 2200 {
		return time.Time{}, fieldErr(path, "year must be between 1900 and 2200")
	}
	return t.UTC(), nil
}

// kindOf reads a record's "kind" and checks it is want.
func (d *decoder) kindOf(path fpath, want string) error {
	if d.kind() != "string" {
		return d.typeErr(path, `"interaction" or "signal"`, d.kind())
	}
	k, err := d.str()
	if err != nil {
		return err
	}
	switch k {
	case want:
		return nil
	case KindInteraction, KindSignal:
		return fieldErr(path, "is "+strconv.Quote(k)+" but the record was read as "+strconv.Quote(want))
	}
	return fieldErr(path, `must be "interaction" or "signal", got `+quoteInput(k, 20))
}

// quoteInput quotes a piece of input for an error message: masked first,
// then cut, so a message never carries PII, nor a fragment of it.
func quoteInput(s string, n int) string {
	s, _ = pii.Mask(s)
	return strconv.Quote(cut(s, n))
}

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func (d *decoder) input(path fpath, dst **Input) error {
	if d.null() {
		return nil
	}
	v := &d.in.input
	*dst = v
	return d.members(path, &v.Extra, func(key string, p fpath) (bool, error) {
		var err error
		switch key {
		case "text":
			v.Text, err = d.string(p)
		case "context_refs":
			v.ContextRefs, err = d.strings(p)
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) output(path fpath, dst **Output) error {
	if d.null() {
		return nil
	}
	v := &d.in.output
	*dst = v
	return d.members(path, &v.Extra, func(key string, p fpath) (bool, error) {
		var err error
		switch key {
		case "text":
			v.Text, err = d.string(p)
		case "latency_ms":
			v.LatencyMS, err = d.numberIn(p, 0, inf)
		case "confidence":
			v.Confidence, err = d.numberIn(p, 0, 1)
		case "cost_usd":
			v.CostUSD, err = d.numberIn(p, 0, inf)
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) explicit(path fpath, dst **Explicit) error {
	if d.null() {
		return nil
	}
	v := &d.in.explicit
	*dst = v
	return d.members(path, &v.Extra, func(key string, p fpath) (bool, error) { return d.explicitField(v, key, p) })
}

// explicitField reads one known member of explicit into v; false for an unknown key.
func (d *decoder) explicitField(v *Explicit, key string, p fpath) (bool, error) {
	var err error
	switch key {
	case "thumb":
		var s string
		if d.kind() != "string" && d.kind() != "null" {
			return true, d.typeErr(p, `"up", "down" or null`, d.kind())
		}
		if s, err = d.string(p); err == nil && s != "" {
			if s != "up" && s != "down" {
				return true, fieldErr(p, `must be "up", "down" or null, got `+quoteInput(s, 20))
			}
			v.Thumb = &s
		} else if err == nil {
			// An empty string is neither up nor down.
			if d.data[d.pos-1] == '"' {
				return true, fieldErr(p, `must be "up", "down" or null, got ""`)
			}
		}
	case "rating":
		v.Rating, err = d.integer(p, 1, 5)
	case "reason_codes":
		v.ReasonCodes, err = d.strings(p)
		for i, c := range v.ReasonCodes {
			if c == "" {
				p.idx = i
				return true, fieldErr(p, "must not be empty")
			}
		}
	case "reason_text":
		v.ReasonText, err = d.string(p)
	case "user_edit":
		v.UserEdit, err = d.string(p)
	default:
		return false, nil
	}
	return true, err
}

func (d *decoder) implicit(path fpath, dst **Implicit) error {
	if d.null() {
		return nil
	}
	v := &d.in.implicit
	*dst = v
	return d.members(path, &v.Extra, func(key string, p fpath) (bool, error) { return d.implicitField(v, key, p) })
}

// implicitField reads one known member of implicit into v; false for an unknown key.
func (d *decoder) implicitField(v *Implicit, key string, p fpath) (bool, error) {
	var err error
	switch key {
	case "dwell_ms":
		v.DwellMS, err = d.numberIn(p, 0, inf)
	case "abandoned":
		v.Abandoned, err = d.boolean(p)
	case "escalated":
		v.Escalated, err = d.boolean(p)
	case "clicked":
		v.Clicked, err = d.boolean(p)
	case "copied":
		v.Copied, err = d.boolean(p)
	case "retries":
		v.Retries, err = d.integer(p, 0, maxInt)
	default:
		return false, nil
	}
	return true, err
}

func (d *decoder) checks(path fpath, dst **Checks) error {
	if d.null() {
		return nil
	}
	v := &d.in.checks
	*dst = v
	return d.members(path, &v.Extra, func(key string, p fpath) (bool, error) { return d.checksField(v, key, p) })
}

// checksField reads one known member of automated_checks into v; false for an unknown key.
func (d *decoder) checksField(v *Checks, key string, p fpath) (bool, error) {
	var err error
	switch key {
	case "toxicity":
		v.Toxicity, err = d.numberIn(p, 0, 1)
	case "hallucination":
		v.Hallucination, err = d.numberIn(p, 0, 1)
	case "policy_violation":
		v.PolicyViolation, err = d.boolean(p)
	default:
		return false, nil
	}
	return true, err
}

func (d *decoder) business(path fpath, dst **Business) error {
	if d.null() {
		return nil
	}
	v := &d.in.business
	*dst = v
	return d.members(path, &v.Extra, func(key string, p fpath) (bool, error) { return d.businessField(v, key, p) })
}

// businessField reads one known member of business into v; false for an unknown key.
func (d *decoder) businessField(v *Business, key string, p fpath) (bool, error) {
	var err error
	switch key {
	case "resolved":
		v.Resolved, err = d.boolean(p)
	case "converted":
		v.Converted, err = d.boolean(p)
	case "turns":
		v.Turns, err = d.integer(p, 0, maxInt)
	case "time_to_success_ms":
		v.TimeToSuccessMS, err = d.numberIn(p, 0, inf)
	case "cost_usd":
		v.CostUSD, err = d.numberIn(p, 0, inf)
	default:
		return false, nil
	}
	return true, err
}

func (d *decoder) experiment(path fpath, dst **Experiment) error {
	if d.null() {
		return nil
	}
	v := &d.in.experiment
	*dst = v
	return d.members(path, &v.Extra, func(key string, p fpath) (bool, error) {
		var err error
		switch key {
		case "id":
			v.ID, err = d.string(p)
		case "arm":
			v.Arm, err = d.string(p)
		case "position":
			v.Position, err = d.integer(p, 0, maxInt)
		case "propensity":
			if v.Propensity, err = d.numberIn(p, 0, 1); err == nil && v.Propensity != nil && *v.Propensity == 0 {
				err = fieldErr(p, "must be > 0")
			}
		default:
			return false, nil
		}
		return true, err
	})
}

func (d *decoder) consent(path fpath, dst **Consent) error {
	if d.null() {
		return nil
	}
	v := &d.in.consent
	*dst = v
	return d.members(path, &v.Extra, func(key string, p fpath) (bool, error) { return d.consentField(v, key, p) })
}

// consentField reads one known member of consent into v; false for an unknown key.
func (d *decoder) consentField(v *Consent, key string, p fpath) (bool, error) {
	var err error
	switch key {
	case "analytics":
		v.Analytics, err = d.boolean(p)
	case "training":
		v.Training, err = d.boolean(p)
	default:
		return false, nil
	}
	return true, err
}

func (d *decoder) label(path fpath, dst **InitialLabel) error {
	if d.null() {
		return nil
	}
	v := &d.in.label
	*dst = v
	return d.members(path, &v.Extra, func(key string, p fpath) (bool, error) {
		var err error
		switch key {
		case "grade":
			var s string
			if s, err = d.string(p); err == nil && s != "" {
				g, ok := ParseGrade(s)
				if !ok {
					return true, fieldErr(p, `must be "pass", "fail" or "borderline", got `+quoteInput(s, 20))
				}
				v.Grade = g
			}
		case "rubric_notes":
			v.RubricNotes, err = d.string(p)
		default:
			return false, nil
		}
		return true, err
	})
}
