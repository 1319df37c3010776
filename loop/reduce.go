package loop

import "github.com/loupe-dev/loupe/loop/pii"

// Reduce keeps of an interaction what edge sampling's aggregates, and the
// merge of later signals into it, need: no text, no user, no edit. A
// reason text is replaced by a placeholder: its presence decides whether
// an earlier signal's thumb wins over the interaction's own (Merge). The
// result shares e's optional values; e is not changed.
func Reduce(e *Event) *Event {
	r := &Event{EventID: e.EventID, Timestamp: e.Timestamp, ModelVersion: e.ModelVersion,
		UserSegment: e.UserSegment, TaskType: e.TaskType, Locale: e.Locale}
	if x := e.Explicit; x != nil && (x.Thumb != nil || len(x.ReasonCodes) > 0 || x.ReasonText != "") {
		r.Explicit = &Explicit{Thumb: x.Thumb, ReasonCodes: x.ReasonCodes}
		if x.ReasonText != "" {
			r.Explicit.ReasonText = "-"
		}
	}
	if x := e.Implicit; x != nil && (x.Escalated != nil || x.Abandoned != nil) {
		r.Implicit = &Implicit{Escalated: x.Escalated, Abandoned: x.Abandoned}
	}
	if x := e.Checks; x != nil && (x.PolicyViolation != nil || x.Toxicity != nil) {
		r.Checks = &Checks{PolicyViolation: x.PolicyViolation, Toxicity: x.Toxicity}
	}
	if x := e.Output; x != nil && (x.LatencyMS != nil || x.Confidence != nil) {
		r.Output = &Output{LatencyMS: x.LatencyMS, Confidence: x.Confidence}
	}
	if x := e.Business; x != nil && x.Resolved != nil {
		r.Business = &Business{Resolved: x.Resolved}
	}
	return r
}

// PrepareReduced is Prepare for an interaction that edge sampling may only
// count: the same gate (consent withheld, personal data in the id: the
// same errors), then the event reduced (Reduce) and only what the
// reduction keeps masked, so its long texts are never scanned. It returns
// the reduced event and the user's keyed hash ("" when none). in is left
// as it was, so that Prepare can still take it when the interaction is
// stored in full after all. The reduced event's strings are what Prepare
// would have made them: masking is per field.
func PrepareReduced(in *Incoming, userHash func(string) string) (r *Event, user string, err error) {
	e := &in.Event
	if err := gate(e); err != nil {
		return nil, "", err
	}
	r = Reduce(e)
	m := func(s *string) {
		if *s != "" {
			*s, _ = pii.Mask(*s)
		}
	}
	m(&r.ModelVersion)
	m(&r.Locale)
	m(&r.UserSegment)
	m(&r.TaskType)
	if x := r.Explicit; x != nil && len(x.ReasonCodes) > 0 {
		x.ReasonCodes = append([]string(nil), x.ReasonCodes...)
		for i := range x.ReasonCodes {
			m(&x.ReasonCodes[i])
		}
	}
	if in.UserID != "" {
		user = userHash(in.UserID)
	}
	return r, user, nil
}
