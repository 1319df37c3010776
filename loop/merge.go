package loop

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Merge overlays an interaction with its signals and returns the merged
// view, the event every screen, export, trend, sample and gate sees: per
// leaf field the latest timestamp wins, ties going to the larger signal_id;
// the interaction's own values count at its own timestamp, below any
// signal of the same timestamp. A null clears; the thumb, reason codes and
// reason text travel as one unit (ThumbUnit). The result depends only on
// the set of signals, not their order. ev and sigs are not changed.
//
// The merged event's masked counts add up those of the interaction and of
// every signal. A feedback object that the signals leave empty is dropped.
func Merge(ev *Event, sigs []*Signal) *Event {
	m := cloneForMerge(ev)
	if len(sigs) == 0 {
		return m
	}
	order := slices.Clone(sigs)
	slices.SortFunc(order, compareSignals)
	touched := map[string]bool{}
	var masked map[string]int
	for _, s := range order {
		before := s.Timestamp.Before(ev.Timestamp)
		for _, l := range s.Leaves {
			if before && leafHas(ev, l.Path) {
				continue // the interaction's own value is later
			}
			applyLeaf(m, l)
			obj, _, _ := strings.Cut(l.Path, ".")
			touched[obj] = true
		}
		for k, n := range s.Masked {
			if masked == nil {
				masked = maps.Clone(m.Masked)
				if masked == nil {
					masked = map[string]int{}
				}
			}
			masked[k] += n
		}
	}
	if masked != nil {
		m.Masked = masked
	}
	dropEmpty(m, touched)
	return m
}

// compareSignals orders signals by timestamp, then signal id: the later
// one of two wins a field.
func compareSignals(a, b *Signal) int {
	if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
		return c
	}
	return strings.Compare(a.SignalID, b.SignalID)
}

// cloneForMerge copies ev deeply enough that applying leaves to the copy
// leaves ev alone: the objects signals write to, and their extra maps.
func cloneForMerge(ev *Event) *Event {
	m := *ev
	if v := ev.Explicit; v != nil {
		c := *v
		c.Extra = maps.Clone(v.Extra)
		m.Explicit = &c
	}
	if v := ev.Implicit; v != nil {
		c := *v
		c.Extra = maps.Clone(v.Extra)
		m.Implicit = &c
	}
	if v := ev.Checks; v != nil {
		c := *v
		c.Extra = maps.Clone(v.Extra)
		m.Checks = &c
	}
	if v := ev.Business; v != nil {
		c := *v
		c.Extra = maps.Clone(v.Extra)
		m.Business = &c
	}
	if v := ev.Consent; v != nil {
		c := *v
		c.Extra = maps.Clone(v.Extra)
		m.Consent = &c
	}
	return &m
}

// leafField reads and writes one known leaf of an event.
type leafField struct {
	has func(e *Event) bool
	set func(e *Event, v []byte) // nil v clears
}

func explicitOf(e *Event, create bool) *Explicit {
	if e.Explicit == nil && create {
		e.Explicit = &Explicit{}
	}
	return e.Explicit
}

func implicitOf(e *Event, create bool) *Implicit {
	if e.Implicit == nil && create {
		e.Implicit = &Implicit{}
	}
	return e.Implicit
}

func checksOf(e *Event, create bool) *Checks {
	if e.Checks == nil && create {
		e.Checks = &Checks{}
	}
	return e.Checks
}

func businessOf(e *Event, create bool) *Business {
	if e.Business == nil && create {
		e.Business = &Business{}
	}
	return e.Business
}

func consentOf(e *Event, create bool) *Consent {
	if e.Consent == nil && create {
		e.Consent = &Consent{}
	}
	return e.Consent
}

// opt is a leaf held in an optional (pointer) field of an object O.
func opt[O any, T any](obj func(*Event, bool) *O, field func(*O) **T) leafField {
	return leafField{
		has: func(e *Event) bool {
			o := obj(e, false)
			return o != nil && *field(o) != nil
		},
		set: func(e *Event, v []byte) {
			p := field(obj(e, true))
			if v == nil {
				*p = nil
				return
			}
			x := new(T)
			if unmarshalLeaf(v, x) == nil {
				*p = x
			}
		},
	}
}

// leafFields are the leaves the schema names; any other path is a field of
// the object's extra.
var leafFields = map[string]leafField{
	ThumbUnit: {
		has: func(e *Event) bool {
			x := e.Explicit
			return x != nil && (x.Thumb != nil || len(x.ReasonCodes) > 0 || x.ReasonText != "")
		},
		set: func(e *Event, v []byte) {
			var u thumbUnit
			_ = unmarshalLeaf(v, &u)
			x := explicitOf(e, true)
			x.Thumb, x.ReasonCodes, x.ReasonText = u.Thumb, u.ReasonCodes, u.ReasonText
		},
	},
	"explicit_feedback.rating": opt(explicitOf, func(o *Explicit) **int { return &o.Rating }),
	"explicit_feedback.user_edit": {
		has: func(e *Event) bool { return e.Explicit != nil && e.Explicit.UserEdit != "" },
		set: func(e *Event, v []byte) {
			x := explicitOf(e, true)
			x.UserEdit = ""
			if v != nil {
				_ = unmarshalLeaf(v, &x.UserEdit)
			}
		},
	},
	"implicit_feedback.dwell_ms":        opt(implicitOf, func(o *Implicit) **float64 { return &o.DwellMS }),
	"implicit_feedback.abandoned":       opt(implicitOf, func(o *Implicit) **bool { return &o.Abandoned }),
	"implicit_feedback.escalated":       opt(implicitOf, func(o *Implicit) **bool { return &o.Escalated }),
	"implicit_feedback.clicked":         opt(implicitOf, func(o *Implicit) **bool { return &o.Clicked }),
	"implicit_feedback.copied":          opt(implicitOf, func(o *Implicit) **bool { return &o.Copied }),
	"implicit_feedback.retries":         opt(implicitOf, func(o *Implicit) **int { return &o.Retries }),
	"automated_checks.toxicity":         opt(checksOf, func(o *Checks) **float64 { return &o.Toxicity }),
	"automated_checks.hallucination":    opt(checksOf, func(o *Checks) **float64 { return &o.Hallucination }),
	"automated_checks.policy_violation": opt(checksOf, func(o *Checks) **bool { return &o.PolicyViolation }),
	"business.resolved":                 opt(businessOf, func(o *Business) **bool { return &o.Resolved }),
	"business.converted":                opt(businessOf, func(o *Business) **bool { return &o.Converted }),
	"business.turns":                    opt(businessOf, func(o *Business) **int { return &o.Turns }),
	"business.time_to_success_ms":       opt(businessOf, func(o *Business) **float64 { return &o.TimeToSuccessMS }),
	"business.cost_usd":                 opt(businessOf, func(o *Business) **float64 { return &o.CostUSD }),
	"consent.analytics":                 opt(consentOf, func(o *Consent) **bool { return &o.Analytics }),
	"consent.training":                  opt(consentOf, func(o *Consent) **bool { return &o.Training }),
}

// extraOf is the extra map of a feedback object, created when asked.
func extraOf(e *Event, obj string, create bool) *map[string]json.RawMessage {
	switch obj {
	case "explicit_feedback":
		if o := explicitOf(e, create); o != nil {
			return &o.Extra
		}
	case "implicit_feedback":
		if o := implicitOf(e, create); o != nil {
			return &o.Extra
		}
	case "automated_checks":
		if o := checksOf(e, create); o != nil {
			return &o.Extra
		}
	case "business":
		if o := businessOf(e, create); o != nil {
			return &o.Extra
		}
	case "consent":
		if o := consentOf(e, create); o != nil {
			return &o.Extra
		}
	}
	return nil
}

func leafHas(e *Event, path string) bool {
	if f, ok := leafFields[path]; ok {
		return f.has(e)
	}
	obj, key, _ := strings.Cut(path, ".")
	x := extraOf(e, obj, false)
	if x == nil {
		return false
	}
	_, ok := (*x)[key]
	return ok
}

func applyLeaf(e *Event, l Leaf) {
	if f, ok := leafFields[l.Path]; ok {
		f.set(e, l.Value)
		return
	}
	obj, key, _ := strings.Cut(l.Path, ".")
	x := extraOf(e, obj, true)
	if x == nil {
		return
	}
	if l.Value == nil {
		delete(*x, key)
		return
	}
	if *x == nil {
		*x = map[string]json.RawMessage{}
	}
	(*x)[key] = l.Value
}

// dropEmpty removes the feedback objects signals emptied.
func dropEmpty(e *Event, touched map[string]bool) {
	if v := e.Explicit; touched["explicit_feedback"] && v != nil && v.Thumb == nil && v.Rating == nil &&
		len(v.ReasonCodes) == 0 && v.ReasonText == "" && v.UserEdit == "" && len(v.Extra) == 0 {
		e.Explicit = nil
	}
	if v := e.Implicit; touched["implicit_feedback"] && v != nil && v.DwellMS == nil && v.Abandoned == nil &&
		v.Escalated == nil && v.Clicked == nil && v.Copied == nil && v.Retries == nil && len(v.Extra) == 0 {
		e.Implicit = nil
	}
	if v := e.Checks; touched["automated_checks"] && v != nil && v.Toxicity == nil && v.Hallucination == nil &&
		v.PolicyViolation == nil && len(v.Extra) == 0 {
		e.Checks = nil
	}
	if v := e.Business; touched["business"] && v != nil && v.Resolved == nil && v.Converted == nil &&
		v.Turns == nil && v.TimeToSuccessMS == nil && v.CostUSD == nil && len(v.Extra) == 0 {
		e.Business = nil
	}
	if v := e.Consent; touched["consent"] && v != nil && v.Analytics == nil && v.Training == nil && len(v.Extra) == 0 {
		e.Consent = nil
	}
}
