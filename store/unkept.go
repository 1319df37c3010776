package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
)

// Interactions edge sampling did not keep (see SetKeep).
//
// An unkept interaction is decided when it arrives, on its merged summary
// then (merged with the signals waiting for it and those in the same
// batch). It is not stored in full: no e, s, o or x keys. What is written,
// in one transaction:
//
//	i <id>   the index value as for a stored event, plus a trailing
//	         unkeptFlag byte (25 or 41 bytes): redelivery is a Duplicate,
//	         other content a Conflict, and forget --user finds it
//	z <id>   the stub (stubValue): <ts 8> and the interaction and its
//	         signals reduced to what its aggregates need, so that a later
//	         signal is merged by loop.Merge as for a stored event
//	k <sid>  each signal's idempotency key, as for a stored event
//	Z ...    its contribution to the aggregates (agg.go)
//
// and the signals that waited for it (p and x keys) are deleted.

// unkeptFlag ends the index value of an unkept interaction.
const unkeptFlag = 'z'

// unkeptIndex reports whether an index value is an unkept interaction's.
// A stored event's is 24 or 40 bytes (indexValue).
func unkeptIndex(v []byte) bool {
	n := len(v)
	return (n == 25 || n == 41) && v[n-1] == unkeptFlag
}

func stubKey(id string) []byte { return append(prefix(prefixStub), id...) }

var metaDroppedUnkept = metaKey("dropped_unkept_signals")

// stub is an unkept interaction as the z key holds it.
type stub struct {
	ts   []byte         // encoded time (tsBytes)
	ev   *loop.Event    // reduced (reduceEvent)
	sigs []*loop.Signal // its reduced signals that carry something counted
	ids  []string       // every signal id with a k key for it, for erasure
}

// stubValue encoding:
//
//	<ts 8> · uvarint length, the reduced event (loop.AppendJSON) ·
//	uvarint count, then each reduced signal: uvarint length, its JSON
//	(loop.AppendSignalJSON) · uvarint count, then each signal id: uvarint
//	length, the id.
func (st *stub) encode() []byte {
	b := append(make([]byte, 0, 256), st.ts...)
	b = appendString(b, string(loop.AppendJSON(nil, st.ev)))
	b = binary.AppendUvarint(b, uint64(len(st.sigs)))
	for _, sg := range st.sigs {
		b = appendString(b, string(loop.AppendSignalJSON(nil, sg)))
	}
	b = binary.AppendUvarint(b, uint64(len(st.ids)))
	for _, id := range st.ids {
		b = appendString(b, id)
	}
	return b
}

var errBadStub = errors.New("store: corrupt stub record")

func decodeStub(v []byte) (*stub, error) {
	if len(v) < 8 {
		return nil, errBadStub
	}
	st := &stub{ts: v[:8:8]}
	b, rest, err := readBytes(v[8:])
	if err != nil {
		return nil, errBadStub
	}
	if st.ev, err = loop.DecodeStored(b); err != nil {
		if st.ev, err = decodeEvent(b); err != nil {
			return nil, fmt.Errorf("%w: %v", errBadStub, err)
		}
	}
	for list := 0; list < 2; list++ {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)) {
			return nil, errBadStub
		}
		rest = rest[k:]
		for range n {
			if b, rest, err = readBytes(rest); err != nil {
				return nil, errBadStub
			}
			if list == 1 {
				st.ids = append(st.ids, string(b))
				continue
			}
			sg, err := loop.DecodeStoredSignal(b)
			if err != nil {
				return nil, fmt.Errorf("%w: %v", errBadStub, err)
			}
			st.sigs = append(st.sigs, sg)
		}
	}
	if len(rest) != 0 {
		return nil, errBadStub
	}
	return st, nil
}

// summary is the stub's merged summary: what it counts in the aggregates.
func (st *stub) summary() loop.Summary { return loop.Summarize(loop.Merge(st.ev, st.sigs)) }

// reduceEvent keeps of an interaction what its aggregates, and the merge
// of later signals into it, need: no text, no user, no edit. A reason
// text is replaced by a placeholder: its presence decides whether an
// earlier signal's thumb wins over the interaction's own (loop.Merge).
func reduceEvent(e *loop.Event) *loop.Event {
	r := &loop.Event{EventID: e.EventID, Timestamp: e.Timestamp, ModelVersion: e.ModelVersion,
		UserSegment: e.UserSegment, TaskType: e.TaskType, Locale: e.Locale}
	if x := e.Explicit; x != nil && (x.Thumb != nil || len(x.ReasonCodes) > 0 || x.ReasonText != "") {
		r.Explicit = &loop.Explicit{Thumb: x.Thumb, ReasonCodes: x.ReasonCodes}
		if x.ReasonText != "" {
			r.Explicit.ReasonText = "-"
		}
	}
	if x := e.Implicit; x != nil && (x.Escalated != nil || x.Abandoned != nil) {
		r.Implicit = &loop.Implicit{Escalated: x.Escalated, Abandoned: x.Abandoned}
	}
	if x := e.Checks; x != nil && (x.PolicyViolation != nil || x.Toxicity != nil) {
		r.Checks = &loop.Checks{PolicyViolation: x.PolicyViolation, Toxicity: x.Toxicity}
	}
	if x := e.Output; x != nil && (x.LatencyMS != nil || x.Confidence != nil) {
		r.Output = &loop.Output{LatencyMS: x.LatencyMS, Confidence: x.Confidence}
	}
	if x := e.Business; x != nil && x.Resolved != nil {
		r.Business = &loop.Business{Resolved: x.Resolved}
	}
	return r
}

// countedLeaves are the signal leaves the aggregates count (agg.Cell).
var countedLeaves = map[string]bool{
	loop.ThumbUnit:                      true,
	"implicit_feedback.escalated":       true,
	"implicit_feedback.abandoned":       true,
	"automated_checks.policy_violation": true,
	"business.resolved":                 true,
}

// reduceSignal keeps of a signal the leaves the aggregates count, the
// thumb unit without its reason text; ok is false when it has none.
func reduceSignal(sg *loop.Signal) (r *loop.Signal, ok bool) {
	r = &loop.Signal{SignalID: sg.SignalID, EventID: sg.EventID, Timestamp: sg.Timestamp}
	for _, l := range sg.Leaves {
		if !countedLeaves[l.Path] {
			continue
		}
		if l.Path == loop.ThumbUnit {
			var u struct {
				Thumb       *string  `json:"thumb,omitempty"`
				ReasonCodes []string `json:"reason_codes,omitempty"`
			}
			_ = json.Unmarshal(l.Value, &u)
			v, err := json.Marshal(u)
			if err != nil {
				continue
			}
			l.Value = v
		}
		r.Leaves = append(r.Leaves, l)
	}
	return r, len(r.Leaves) > 0
}

// planUnkept plans a new interaction that edge sampling did not keep: ev
// is it as it arrived (decoded), pendSigs its signals that waited (their
// x keys in pendX), fresh the records of its new signals in this batch.
func planUnkept(u *unit, recs []Record, i int, ev *loop.Event, pendSigs []*loop.Signal, pendX [][]byte, fresh []int) {
	r := &recs[i]
	u.newEvent = true
	u.settle(i, Aggregated)
	u.set(indexKey(r.ID), append(indexValue(r), unkeptFlag))
	if r.pre != nil && len(pendSigs) == 0 && len(fresh) == 0 && len(pendX) == 0 {
		u.aggOps = append(u.aggOps, aggOp{r.pre.sum, +1})
		u.set(stubKey(r.ID), r.pre.value)
		return
	}
	st := &stub{ts: tsBytes(nil, r.Time), ev: reduceEvent(ev)}
	u.dels = append(u.dels, pendX...)
	for _, sg := range pendSigs {
		st.ids = append(st.ids, sg.SignalID)
		if rs, ok := reduceSignal(sg); ok {
			st.sigs = append(st.sigs, rs)
		} else {
			u.dropped++
		}
	}
	for _, j := range fresh {
		sg := recs[j].Signal
		st.ids = append(st.ids, sg.SignalID)
		if rs, ok := reduceSignal(sg); ok {
			st.sigs = append(st.sigs, rs)
			addSignalID(u, &recs[j], j, Aggregated)
		} else {
			u.dropped++
			addSignalID(u, &recs[j], j, DroppedUnkept)
		}
	}
	u.aggOps = append(u.aggOps, aggOp{st.summary(), +1})
	u.set(stubKey(r.ID), st.encode())
}

// preparedStub is an interaction's stub and its summary, reduced ahead of
// the writer.
type preparedStub struct {
	value []byte
	sum   loop.Summary
}

// prepareStub reduces the interaction to its stub ahead of the writer
// (NewRecordFor, when keep would not keep it as it arrives).
func (r *Record) prepareStub() {
	st := &stub{ts: tsBytes(nil, r.Time), ev: reduceEvent(r.ev)}
	r.pre = &preparedStub{value: st.encode(), sum: st.summary()}
}

// aggOp is one interaction's contribution to the aggregates, added
// (sign +1) or taken out (-1) when its unit commits.
type aggOp struct {
	sum  loop.Summary
	sign int
}

// planStubSignals plans new signals for an unkept interaction: those that
// carry something counted are reduced and merged into its stub, its
// aggregates moved from the old merged summary to the new; the others are
// counted as dropped. Either way their k keys are written.
func planStubSignals(txn *badger.Txn, u *unit, recs []Record, idx []int, id string) error {
	v, err := getValue(txn, stubKey(id))
	var st *stub
	switch {
	case err == nil:
		if st, err = decodeStub(v); err != nil {
			return fmt.Errorf("event %q: %w", id, err)
		}
	case errors.Is(err, badger.ErrKeyNotFound):
		// No stub (it expired): nothing to count them in.
	default:
		return err
	}
	var old loop.Summary
	if st != nil {
		old = st.summary()
	}
	applied := false
	for _, j := range idx {
		sg := recs[j].Signal
		rs, ok := reduceSignal(sg)
		if st == nil || !ok {
			u.dropped++
			addSignalID(u, &recs[j], j, DroppedUnkept)
			if st != nil {
				st.ids = append(st.ids, sg.SignalID)
			}
			continue
		}
		st.ids = append(st.ids, sg.SignalID)
		st.sigs = append(st.sigs, rs)
		addSignalID(u, &recs[j], j, Aggregated)
		applied = true
	}
	if st == nil {
		return nil
	}
	if applied {
		now := st.summary()
		u.aggOps = append(u.aggOps, aggOp{old, -1}, aggOp{now, +1})
	}
	u.set(stubKey(id), st.encode())
	return nil
}

// addSignalID plans a new signal's idempotency record only (its body is
// not kept: the interaction was not).
func addSignalID(u *unit, r *Record, i int, st PutStatus) {
	sid := r.Signal.SignalID
	u.settle(i, st)
	k := make([]byte, 0, 16+len(r.ID))
	k = append(k, r.Hash[:]...)
	u.set(signalIDKey(sid), append(k, r.ID...))
	u.sigIDs = append(u.sigIDs, sid)
}

// stubErase lists the keys of an unkept interaction (stub, index, its
// signals' k keys) and, when subtract is set, the delta that takes its
// contribution out of the aggregates (nil when there is no stub).
func stubErase(txn *badger.Txn, id string, subtract bool) ([][]byte, *agg.Table, error) {
	keys := [][]byte{stubKey(id), indexKey(id)}
	v, err := getValue(txn, stubKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		return keys, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	st, err := decodeStub(v)
	if err != nil {
		return nil, nil, fmt.Errorf("event %q: %w", id, err)
	}
	for _, sid := range st.ids {
		keys = append(keys, signalIDKey(sid))
	}
	if !subtract {
		return keys, nil, nil
	}
	sum := st.summary()
	d := agg.New()
	d.Add(&sum, -1)
	return keys, d, nil
}

// addCounter adds n to the 8-byte big-endian counter at key inside txn.
func addCounter(txn *badger.Txn, key []byte, n uint64) error {
	if v, err := getValue(txn, key); err == nil && len(v) == 8 {
		n += binary.BigEndian.Uint64(v)
	} else if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return err
	}
	return txn.Set(key, binary.BigEndian.AppendUint64(nil, n))
}

// storedIndex is txn.Get of an event's index key, ErrKeyNotFound for an
// unkept interaction too: the checks that an event is stored (labels,
// sets, queue, comparisons) use it.
func storedIndex(txn *badger.Txn, id string) error {
	item, err := txn.Get(indexKey(id))
	if err != nil {
		return err
	}
	return item.Value(func(v []byte) error {
		if unkeptIndex(v) {
			return badger.ErrKeyNotFound
		}
		return nil
	})
}

// AggregateStats counts the interactions counted only in the aggregates
// (not stored in full: edge sampling did not keep them; those whose stub
// expired included) and the signals for them that carried nothing the
// aggregates count, dropped.
func (s *Store) AggregateStats() (unkept, droppedSignals int64, err error) {
	t, err := s.Aggregates()
	if err != nil {
		return 0, 0, err
	}
	err = s.db.View(func(txn *badger.Txn) error {
		v, err := getValue(txn, metaDroppedUnkept)
		if err == nil && len(v) == 8 {
			droppedSignals = int64(binary.BigEndian.Uint64(v))
		} else if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		return nil
	})
	return t.Events(), droppedSignals, mapErr(err)
}
