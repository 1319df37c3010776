package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

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
//	i <id>   the index value as for a stored event, with the content
//	         hash (reduced.go), holding the stub (foldStub): redelivery is
//	         a Duplicate, other content a Conflict, and forget --user finds
//	         it. The stub (stubValue) is the interaction and its signals
//	         reduced to what its aggregates need, so that a later signal
//	         is merged by loop.Merge as for a stored event.
//
// Stubs of before, and those of records made without a content hash
// (NewRecord), are two keys instead:
//
//	i <id>   the index value as for a stored event (the masked JSON's
//	         hash), plus a trailing unkeptFlag byte (25 or 41 bytes)
//	z <id>   the stub value
//
// Both forms are read everywhere. Either way, also:
//
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
	return (n == 25 || n == 41) && v[n-1] == unkeptFlag || foldedIndex(v)
}

// foldedFlag ends the index value of an unkept interaction that holds its
// stub (foldStub): one key per interaction instead of two, which is most
// of what a stub costs to write. Every stub with a content hash is written
// so; stubs of before have a z key.
const foldedFlag = 'F'

// foldStub is an unkept interaction's index value holding its stub: head
// (<ts 8> <content hash 16> <user hash 16 or none>), the stub value after
// its <ts 8>, zero bytes so that the whole is at least 43 bytes long
// (never the 24, 25, 40 or 41 bytes of the other index values), then
// <user hash length 0 or 16> <pad count> foldedFlag.
func foldStub(head []byte, userLen int, stubValue []byte) []byte {
	v := make([]byte, 0, len(head)+len(stubValue)+4)
	v = append(v, head...)
	v = append(v, stubValue[8:]...)
	pad := max(0, 43-3-len(v))
	for range pad {
		v = append(v, 0)
	}
	return append(v, byte(userLen), byte(pad), foldedFlag)
}

// foldedIndex reports whether an index value holds its stub (foldStub).
func foldedIndex(v []byte) bool {
	n := len(v)
	if n < 43 || v[n-1] != foldedFlag || (v[n-3] != 0 && v[n-3] != 16) {
		return false
	}
	return 24+int(v[n-3])+int(v[n-2]) <= n-3
}

// foldedStubValue is the stub value (<ts 8> first, as decodeStub reads)
// that a folded index value holds.
func foldedStubValue(v []byte) []byte {
	n := len(v)
	head, pad := 24+int(v[n-3]), int(v[n-2])
	return append(v[:8:8], v[head:n-3-pad]...)
}

// indexUser is the user hash an index value holds, nil when none.
func indexUser(v []byte) []byte {
	switch {
	case foldedIndex(v):
		if v[len(v)-3] == 16 {
			return v[24:40]
		}
		return nil
	case len(v) == 40 || len(v) == 41:
		return v[24:40]
	}
	return nil
}

// stubOf is the stub value of the unkept interaction id whose index value
// is iv: in iv when folded, else its z key (ErrKeyNotFound when it
// expired).
func stubOf(txn *badger.Txn, id string, iv []byte) ([]byte, error) {
	if foldedIndex(iv) {
		return foldedStubValue(iv), nil
	}
	return getValue(txn, stubKey(id))
}

// setStub plans the (new) stub value sv of an unkept interaction whose
// index value is iv: folded into it, or its z key.
func setStub(u *unit, id string, iv, sv []byte) {
	if foldedIndex(iv) {
		n := len(iv)
		u.set(indexKey(id), foldStub(iv[:24+int(iv[n-3])], int(iv[n-3]), sv))
		return
	}
	u.set(stubKey(id), sv)
}

func stubKey(id string) []byte { return append(prefix(prefixStub), id...) }

var metaDroppedUnkept = metaKey("dropped_unkept_signals")

// stub is an unkept interaction as its stub value holds it (in its index
// value, folded, or in its z key).
type stub struct {
	ts   []byte         // encoded time (tsBytes)
	ev   *loop.Event    // reduced (loop.Reduce)
	sigs []*loop.Signal // its reduced signals that carry something counted
	ids  []string       // every signal id with a k key for it, for erasure
}

// stubValue encoding:
//
//	<ts 8> · 0x00 0x02, the reduced event (appendReduced) · uvarint
//	count, then each reduced signal: uvarint length, its JSON
//	(loop.AppendSignalJSON) · uvarint count, then each signal id: uvarint
//	length, the id.
//
// Stubs written before have, after <ts 8>, the reduced event's JSON
// (loop.AppendJSON) with its uvarint length, never 0: both are read.
func (st *stub) encode() []byte {
	b := append(make([]byte, 0, 128), st.ts...)
	b = append(b, 0, stubBinary)
	b = appendReduced(b, st.ev)
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
	var b, rest []byte
	var err error
	if len(v) >= 10 && v[8] == 0 {
		if v[9] != stubBinary {
			return nil, fmt.Errorf("%w: unknown form %d", errBadStub, v[9])
		}
		if st.ev, rest, err = readReduced(v[10:], tsFrom(v[:8])); err != nil {
			return nil, err
		}
	} else {
		if b, rest, err = readBytes(v[8:]); err != nil {
			return nil, errBadStub
		}
		if st.ev, err = loop.DecodeStored(b); err != nil {
			if st.ev, err = decodeEvent(b); err != nil {
				return nil, fmt.Errorf("%w: %v", errBadStub, err)
			}
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
			l.Value = loop.UnitWithoutText(l.Value)
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
	if r.pre != nil && len(pendSigs) == 0 && len(fresh) == 0 && len(pendX) == 0 {
		u.aggOps = append(u.aggOps, aggOp{r.pre.sum, +1})
		setUnkept(u, r, r.pre.value, r.pre.index)
		return
	}
	st := &stub{ts: tsBytes(nil, r.Time), ev: loop.Reduce(ev)}
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
	setUnkept(u, r, st.encode(), nil)
}

// setUnkept plans the index and the stub value sv of a new unkept
// interaction: folded into one key when it has a content hash, else (a
// record made without one) the index and a z key as before. folded, when
// not nil, is foldedIndexValue(r, sv), made ahead of the writer.
func setUnkept(u *unit, r *Record, sv, folded []byte) {
	if !r.hasContent {
		u.set(indexKey(r.ID), append(indexValue(r), unkeptFlag))
		u.set(stubKey(r.ID), sv)
		return
	}
	if folded == nil {
		folded = foldedIndexValue(r, sv)
	}
	u.folded = true
	u.set(indexKey(r.ID), folded)
}

// foldedIndexValue is the index value of r, an unkept interaction with a
// content hash, holding its stub value sv (foldStub).
func foldedIndexValue(r *Record, sv []byte) []byte {
	return foldStub(indexValueWith(r, r.content), len(r.UserHash), sv)
}

// preparedStub is an interaction's stub and its summary, reduced ahead of
// the writer.
type preparedStub struct {
	value []byte
	sum   loop.Summary
	// index is foldedIndexValue of the record and value, for setUnkept.
	index []byte
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
func planStubSignals(txn *badger.Txn, u *unit, recs []Record, idx []int, id string, iv []byte) error {
	v, err := stubOf(txn, id, iv)
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
	setStub(u, id, iv, st.encode())
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
	iv, err := getValue(txn, indexKey(id))
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return nil, nil, err
	}
	keys := [][]byte{indexKey(id)}
	if !foldedIndex(iv) {
		keys = append(keys, stubKey(id))
	}
	v, err := stubOf(txn, id, iv)
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

// stubBinary is the stub form whose reduced event is appendReduced's.
const stubBinary = 2

// The reduced event's fields, as bits of appendReduced's presence word.
const (
	rExplicit = 1 << iota
	rThumb
	rReasonText
	rImplicit
	rEscalated
	rEscalatedTrue
	rAbandoned
	rAbandonedTrue
	rChecks
	rPolicy
	rPolicyTrue
	rToxicity
	rOutput
	rLatency
	rConfidence
	rBusiness
	rResolved
	rResolvedTrue
)

// appendReduced writes a reduced event (loop.Reduce) in binary: its id,
// model, locale, segment and task, a word saying which optional values it
// has, then those that are not booleans: the thumb, the reason codes
// (when it has explicit feedback), toxicity, latency and confidence as
// float64 bits. Its time is the stub's <ts 8>, so only its instant is
// kept; the aggregates count UTC days. A third of the JSON's size and of
// its cost.
func appendReduced(b []byte, e *loop.Event) []byte {
	var bits uint64
	flag := func(on bool, f uint64) {
		if on {
			bits |= f
		}
	}
	opt := func(v *bool, has, on uint64) {
		if v != nil {
			bits |= has
			flag(*v, on)
		}
	}
	if x := e.Explicit; x != nil {
		bits |= rExplicit
		flag(x.Thumb != nil, rThumb)
		flag(x.ReasonText != "", rReasonText)
	}
	if x := e.Implicit; x != nil {
		bits |= rImplicit
		opt(x.Escalated, rEscalated, rEscalatedTrue)
		opt(x.Abandoned, rAbandoned, rAbandonedTrue)
	}
	if x := e.Checks; x != nil {
		bits |= rChecks
		opt(x.PolicyViolation, rPolicy, rPolicyTrue)
		flag(x.Toxicity != nil, rToxicity)
	}
	if x := e.Output; x != nil {
		bits |= rOutput
		flag(x.LatencyMS != nil, rLatency)
		flag(x.Confidence != nil, rConfidence)
	}
	if x := e.Business; x != nil {
		bits |= rBusiness
		opt(x.Resolved, rResolved, rResolvedTrue)
	}
	for _, s := range [...]string{e.EventID, e.ModelVersion, e.Locale, e.UserSegment, e.TaskType} {
		b = appendString(b, s)
	}
	b = binary.AppendUvarint(b, bits)
	if x := e.Explicit; x != nil {
		if x.Thumb != nil {
			b = appendString(b, *x.Thumb)
		}
		b = binary.AppendUvarint(b, uint64(len(x.ReasonCodes)))
		for _, c := range x.ReasonCodes {
			b = appendString(b, c)
		}
	}
	num := func(v *float64) {
		if v != nil {
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(*v))
		}
	}
	if x := e.Checks; x != nil {
		num(x.Toxicity)
	}
	if x := e.Output; x != nil {
		num(x.LatencyMS)
		num(x.Confidence)
	}
	return b
}

// readReduced reads appendReduced's form, the event at time ts, and
// returns what follows it.
func readReduced(b []byte, ts time.Time) (*loop.Event, []byte, error) {
	bad := func(what string) (*loop.Event, []byte, error) {
		return nil, nil, fmt.Errorf("%w: reduced event: %s", errBadStub, what)
	}
	var strs [5]string
	for i := range strs {
		s, rest, err := readBytes(b)
		if err != nil {
			return bad("strings")
		}
		strs[i], b = string(s), rest
	}
	e := &loop.Event{EventID: strs[0], Timestamp: ts, ModelVersion: strs[1], Locale: strs[2],
		UserSegment: strs[3], TaskType: strs[4]}
	bits, k := binary.Uvarint(b)
	if k <= 0 || bits >= rResolvedTrue<<1 {
		return bad("fields")
	}
	b = b[k:]
	has := func(f uint64) bool { return bits&f != 0 }
	boolOf := func(h, on uint64) *bool {
		if !has(h) {
			return nil
		}
		v := has(on)
		return &v
	}
	if has(rExplicit) {
		x := &loop.Explicit{}
		if has(rThumb) {
			s, rest, err := readBytes(b)
			if err != nil {
				return bad("thumb")
			}
			t := string(s)
			x.Thumb, b = &t, rest
		}
		if has(rReasonText) {
			x.ReasonText = "-"
		}
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)) {
			return bad("reason codes")
		}
		b = b[k:]
		for range n {
			s, rest, err := readBytes(b)
			if err != nil {
				return bad("reason codes")
			}
			x.ReasonCodes, b = append(x.ReasonCodes, string(s)), rest
		}
		e.Explicit = x
	}
	num := func(f uint64) (*float64, bool) {
		if !has(f) {
			return nil, true
		}
		if len(b) < 8 {
			return nil, false
		}
		v := math.Float64frombits(binary.BigEndian.Uint64(b))
		b = b[8:]
		return &v, true
	}
	if has(rImplicit) {
		e.Implicit = &loop.Implicit{Escalated: boolOf(rEscalated, rEscalatedTrue), Abandoned: boolOf(rAbandoned, rAbandonedTrue)}
	}
	if has(rChecks) {
		tox, ok := num(rToxicity)
		if !ok {
			return bad("toxicity")
		}
		e.Checks = &loop.Checks{PolicyViolation: boolOf(rPolicy, rPolicyTrue), Toxicity: tox}
	}
	if has(rOutput) {
		lat, ok1 := num(rLatency)
		conf, ok2 := num(rConfidence)
		if !ok1 || !ok2 {
			return bad("output")
		}
		e.Output = &loop.Output{LatencyMS: lat, Confidence: conf}
	}
	if has(rBusiness) {
		e.Business = &loop.Business{Resolved: boolOf(rResolved, rResolvedTrue)}
	}
	return e, b, nil
}
