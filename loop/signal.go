package loop

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/loupe-dev/loupe/loop/pii"
)

// Record kinds: the "kind" of an input line. Absent means an interaction.
const (
	KindInteraction = "interaction"
	KindSignal      = "signal"
)

// Signal is a record about an earlier interaction, keyed by EventID: a
// thumb, an edit, a dwell time, a purchase, a judge's score or a consent
// change that happened at Timestamp. After validation it is a list of leaf
// assignments, one per field it sets or clears (see Leaf); Merge overlays
// them on the interaction.
type Signal struct {
	SignalID  string // its idempotency key, 1–128 bytes
	EventID   string // the interaction it is about
	Timestamp time.Time
	Source    string // who sent it ("user", "shop", "judge"), may be ""
	// Leaves are sorted by Path, at most one per path, at least one.
	Leaves []Leaf
	// Masked counts, per PII type, what masking replaced in the signal's
	// free text (set by PrepareSignal).
	Masked map[string]int
}

// Leaf is one field a signal sets or clears. Path is "<object>.<field>",
// the object one of explicit_feedback, implicit_feedback, business,
// automated_checks, consent; a field the schema does not name (a custom
// check, say) is its own leaf and lands in the object's extra.
//
// thumb, reason_codes and reason_text of explicit_feedback are one leaf,
// ThumbUnit, whose value is an object holding those of the three that are
// set: a signal that sets any of them replaces all three.
type Leaf struct {
	Path string
	// Value is the field's JSON value; nil clears the field (the signal
	// gave null). The thumb unit is never nil: {} clears all three.
	Value json.RawMessage
}

// ThumbUnit is the path of the thumb, reason codes and reason text leaf.
const ThumbUnit = "explicit_feedback.thumb"

// signalObjects are the feedback objects a signal may carry, in the order
// a stored signal lists them.
var signalObjects = []string{"explicit_feedback", "implicit_feedback", "business", "automated_checks", "consent"}

// Withdraws reports whether the signal withdraws analytics consent: the
// interaction and everything about it is to be erased.
func (s *Signal) Withdraws() bool {
	if s == nil {
		return false
	}
	for _, l := range s.Leaves {
		if l.Path == "consent.analytics" {
			return string(l.Value) == "false"
		}
	}
	return false
}

// Leaf returns the signal's leaf at path.
func (s *Signal) Leaf(path string) (Leaf, bool) {
	i, ok := slices.BinarySearchFunc(s.Leaves, path, func(l Leaf, p string) int { return strings.Compare(l.Path, p) })
	if !ok {
		return Leaf{}, false
	}
	return s.Leaves[i], true
}

// RecordKind tells a signal line from an interaction line by its top-level
// "kind" (absent or unreadable: interaction, whose decoder then reports
// what is wrong). Lines without the word "kind" cost one byte search: for
// `kind"`, which every line with the key holds, and not `"kind"`, whose
// first byte starts every string of the line and so half the search's
// candidates (twice the time on a generated interaction).
func RecordKind(line []byte) string {
	if !bytes.Contains(line, []byte(`kind"`)) {
		return KindInteraction
	}
	s := scanner{data: line}
	if s.peek() != '{' {
		return KindInteraction
	}
	kind := KindInteraction
	stop := errors.New("stop")
	_ = s.object(func(key string) error {
		if key == "kind" {
			if s.kind() == "string" {
				if k, err := s.str(); err == nil && k == KindSignal {
					kind = KindSignal
				}
			}
			return stop
		}
		_, err := s.skip(1)
		return err
	})
	return kind
}

// DecodeSignal reads one signal line: {"kind":"signal", "signal_id",
// "event_id", "timestamp", "source"?, and one or more of the feedback
// objects}, with the interaction's field rules and field-path errors. In a
// signal an explicit null clears that field; a feedback object itself may
// not be null. Fields outside the feedback objects that a signal does not
// have are refused, so that nothing is silently ignored.
//
// The result still holds unmasked text: PrepareSignal it before storing.
func DecodeSignal(line []byte) (*Signal, error) { return decodeSignal(line, false) }

// DecodeStoredSignal reads a signal as the store keeps it (AppendSignalJSON,
// which adds the masked counts).
func DecodeStoredSignal(b []byte) (*Signal, error) { return decodeSignal(b, true) }

func decodeSignal(line []byte, stored bool) (*Signal, error) {
	if len(line) > MaxLineBytes {
		return nil, &InputError{Reason: ReasonLineTooLong, Msg: "line is longer than 1 MiB"}
	}
	if !utf8.Valid(line) {
		return nil, &InputError{Reason: ReasonInvalidUTF8, Msg: "invalid UTF-8"}
	}
	sig := &Signal{}
	d := decoder{scanner: scanner{data: line}, in: &Incoming{}}
	if d.peek() != '{' {
		return nil, &InputError{Reason: ReasonInvalidJSON, Msg: "not a JSON object (a signal is one JSON object per line)"}
	}
	b := &sigBuilder{}
	sawKind := false
	var noExtra map[string]json.RawMessage
	err := d.members(fpath{idx: -1}, &noExtra, func(key string, path fpath) (bool, error) {
		var err error
		switch key {
		case "kind":
			sawKind = true
			err = d.kindOf(path, KindSignal)
		case "signal_id":
			sig.SignalID, err = d.id(path)
		case "event_id":
			sig.EventID, err = d.id(path)
		case "timestamp":
			sig.Timestamp, err = d.timestamp(path)
		case "source":
			sig.Source, err = d.string(path)
		case "explicit_feedback":
			err = d.sigExplicit(path, b)
		case "implicit_feedback":
			v := &Implicit{}
			err = d.sigObject(path, b, func(k string, p fpath) (bool, error) { return d.implicitField(v, k, p) })
		case "business":
			v := &Business{}
			err = d.sigObject(path, b, func(k string, p fpath) (bool, error) { return d.businessField(v, k, p) })
		case "automated_checks":
			v := &Checks{}
			err = d.sigObject(path, b, func(k string, p fpath) (bool, error) { return d.checksField(v, k, p) })
		case "consent":
			v := &Consent{}
			err = d.sigObject(path, b, func(k string, p fpath) (bool, error) { return d.consentField(v, k, p) })
		case "masked":
			if !stored {
				return true, fieldErr(path, "not a signal field")
			}
			sig.Masked, err = d.counts(path)
		default:
			return true, fieldErr(path, "not a signal field (a signal has kind, signal_id, event_id, timestamp, source and "+
				strings.Join(signalObjects, ", ")+"; other fields belong to the interaction)")
		}
		return true, err
	})
	if err == nil {
		if d.ws(); d.pos != len(line) {
			err = d.fail("data after the signal object")
		}
	}
	if err != nil {
		return nil, classify(err)
	}
	switch {
	case !sawKind:
		return nil, &InputError{Reason: ReasonMissingField, Path: "kind", Msg: `required: "signal"`}
	case sig.SignalID == "":
		return nil, &InputError{Reason: ReasonMissingField, Path: "signal_id", Msg: "required"}
	case sig.EventID == "":
		return nil, &InputError{Reason: ReasonMissingField, Path: "event_id", Msg: "required"}
	case sig.Timestamp.IsZero():
		return nil, &InputError{Reason: ReasonMissingField, Path: "timestamp", Msg: "required"}
	case len(b.leaves) == 0:
		return nil, &InputError{Reason: ReasonMissingField, Path: "",
			Msg: "a signal needs at least one of " + strings.Join(signalObjects, ", ")}
	}
	slices.SortFunc(b.leaves, func(x, y Leaf) int { return strings.Compare(x.Path, y.Path) })
	sig.Leaves = b.leaves
	return sig, nil
}

type sigBuilder struct{ leaves []Leaf }

func (b *sigBuilder) add(path string, v []byte) {
	if v != nil {
		v = bytes.Clone(v)
	}
	b.leaves = append(b.leaves, Leaf{Path: path, Value: v})
}

// sigObject reads a feedback object of a signal: each member is a leaf,
// null clears it; field validates a known member (false: unknown, kept
// verbatim as its own leaf).
func (d *decoder) sigObject(path fpath, b *sigBuilder, field func(key string, p fpath) (bool, error)) error {
	return d.sigMembers(path, field, func(key string, v []byte) { b.add(path.key+"."+key, v) })
}

func (d *decoder) sigMembers(path fpath, field func(key string, p fpath) (bool, error), leaf func(key string, v []byte)) error {
	if k := d.kind(); k != "object" {
		if k == "null" {
			return fieldErr(path, "must be an object, got null (to clear a field, set that field to null)")
		}
		return d.typeErr(path, "an object", k)
	}
	var extra map[string]json.RawMessage
	n := 0
	err := d.members(path, &extra, func(key string, p fpath) (bool, error) {
		n++
		if d.null() {
			leaf(key, nil)
			return true, nil
		}
		d.ws()
		start := d.pos
		ok, err := field(key, p)
		if !ok || err != nil {
			return ok, err
		}
		leaf(key, d.data[start:d.pos])
		return true, nil
	})
	if err != nil {
		return err
	}
	for k, raw := range extra {
		var c bytes.Buffer
		if json.Compact(&c, raw) == nil {
			raw = c.Bytes()
		}
		leaf(k, raw)
	}
	if n == 0 {
		return fieldErr(path, "must set at least one field (null clears one)")
	}
	return nil
}

// thumbUnit is the value of the ThumbUnit leaf.
type thumbUnit struct {
	Thumb       *string  `json:"thumb,omitempty"`
	ReasonCodes []string `json:"reason_codes,omitempty"`
	ReasonText  string   `json:"reason_text,omitempty"`
}

func appendUnit(b []byte, u *thumbUnit) []byte {
	w := jw{b: b}
	w.open()
	if u.Thumb != nil {
		w.str("thumb", *u.Thumb)
	}
	w.optStrs("reason_codes", u.ReasonCodes)
	w.optStr("reason_text", u.ReasonText)
	w.close()
	return w.b
}

func (d *decoder) sigExplicit(path fpath, b *sigBuilder) error {
	v := &Explicit{}
	unit := false
	err := d.sigMembers(path, func(k string, p fpath) (bool, error) { return d.explicitField(v, k, p) },
		func(key string, raw []byte) {
			switch key {
			case "thumb", "reason_codes", "reason_text":
				unit = true // their values are in v (null left them unset)
			default:
				b.add("explicit_feedback."+key, raw)
			}
		})
	if err != nil {
		return err
	}
	if unit {
		u := thumbUnit{Thumb: v.Thumb, ReasonCodes: v.ReasonCodes, ReasonText: v.ReasonText}
		b.leaves = append(b.leaves, Leaf{Path: ThumbUnit, Value: appendUnit(nil, &u)})
	}
	return nil
}

// counts reads {"TYPE": n} masked counts of a stored record.
func (d *decoder) counts(path fpath) (map[string]int, error) {
	out := map[string]int{}
	var extra map[string]json.RawMessage
	err := d.members(path, &extra, func(key string, p fpath) (bool, error) {
		n, err := d.integer(p, 0, maxInt)
		if err == nil && n != nil {
			out[key] = *n
		}
		return true, err
	})
	return out, err
}

// PrepareSignal is Prepare for a signal: ids checked for personal data,
// every free text (source, reason text and codes, the user's edit, unknown
// fields) masked, the masked counts recorded. A signal withdrawing consent
// keeps only that leaf: nothing else of it is ever stored.
func PrepareSignal(s *Signal) (*Signal, error) {
	for _, f := range []struct{ path, v string }{{"signal_id", s.SignalID}, {"event_id", s.EventID}} {
		if spans := pii.Find(f.v); len(spans) > 0 {
			return nil, &InputError{Reason: ReasonPIIInID, Path: f.path,
				Msg: "looks like it contains personal data (" + spans[0].Type.String() + "); use an opaque id"}
		}
	}
	if s.Withdraws() {
		s.Leaves = []Leaf{{Path: "consent.analytics", Value: json.RawMessage("false")}}
		s.Source = ""
		s.Masked = nil
		return s, nil
	}
	var c pii.Counts
	mask := func(str string) string {
		if str == "" {
			return str
		}
		m, n := pii.Mask(str)
		c.Add(n)
		return m
	}
	s.Source = mask(s.Source)
	for i := range s.Leaves {
		l := &s.Leaves[i]
		if l.Value == nil {
			continue
		}
		switch {
		case l.Path == ThumbUnit:
			var u thumbUnit
			if unmarshalLeaf(l.Value, &u) == nil {
				u.ReasonText = mask(u.ReasonText)
				for j := range u.ReasonCodes {
					u.ReasonCodes[j] = mask(u.ReasonCodes[j])
				}
				l.Value = appendUnit(nil, &u)
			}
		case l.Path == "explicit_feedback.user_edit":
			var str string
			if unmarshalLeaf(l.Value, &str) == nil {
				l.Value = appendQuoted(nil, mask(str))
			}
		case leafFields[l.Path].set == nil:
			// A field the schema does not name: free text as far as
			// privacy goes.
			if bytes.IndexByte(l.Value, '"') >= 0 {
				var v any
				if json.Unmarshal(l.Value, &v) == nil {
					v = maskAny(v, &c)
					l.Value, _ = json.Marshal(v)
				}
			}
		}
	}
	// A key of an unknown field may itself hold PII.
	for i := range s.Leaves {
		l := &s.Leaves[i]
		obj, key, _ := strings.Cut(l.Path, ".")
		if leafFields[l.Path].set == nil {
			if mk := mask(key); mk != key {
				l.Path = obj + "." + mk
			}
		}
	}
	slices.SortStableFunc(s.Leaves, func(x, y Leaf) int { return strings.Compare(x.Path, y.Path) })
	s.Leaves = slices.CompactFunc(s.Leaves, func(x, y Leaf) bool { return x.Path == y.Path })
	s.Masked = c.Map()
	return s, nil
}

// AppendSignalJSON appends the signal as the store keeps it: a signal line
// that DecodeStoredSignal reads back into the same leaves, with the masked
// counts. Same leaves, same bytes: its hash is the signal's content.
func AppendSignalJSON(b []byte, s *Signal) []byte {
	w := jw{b: b}
	w.open()
	w.str("kind", KindSignal)
	w.str("signal_id", s.SignalID)
	w.str("event_id", s.EventID)
	w.key("timestamp")
	w.b = append(w.b, '"')
	w.b = s.Timestamp.AppendFormat(w.b, time.RFC3339Nano)
	w.b = append(w.b, '"')
	w.optStr("source", s.Source)
	for _, obj := range signalObjects {
		open := false
		for _, l := range s.Leaves {
			o, key, _ := strings.Cut(l.Path, ".")
			if o != obj {
				continue
			}
			if !open {
				w.key(obj)
				w.open()
				open = true
			}
			if l.Path == ThumbUnit {
				// Spread the unit; an empty one is written as a cleared thumb.
				var u thumbUnit
				_ = unmarshalLeaf(l.Value, &u)
				if u.Thumb == nil && len(u.ReasonCodes) == 0 && u.ReasonText == "" {
					w.key("thumb")
					w.b = append(w.b, "null"...)
					continue
				}
				if u.Thumb != nil {
					w.str("thumb", *u.Thumb)
				}
				w.optStrs("reason_codes", u.ReasonCodes)
				w.optStr("reason_text", u.ReasonText)
				continue
			}
			w.key(key)
			if l.Value == nil {
				w.b = append(w.b, "null"...)
			} else {
				w.b = append(w.b, l.Value...)
			}
		}
		if open {
			w.close()
		}
	}
	w.masked(s.Masked)
	w.close()
	return w.b
}
