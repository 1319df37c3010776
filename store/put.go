package store

import (
	"bytes"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
)

// PutRecords stores interactions idempotently by event id and signals by
// signal id, and reports, per record, whether it was stored, a duplicate,
// a conflict, a pending signal (its interaction is not stored yet) or
// withdrawn (consent for its event was withdrawn). Records are applied in
// order, as if one at a time. A refusal (NewRefusalRecord) withdraws
// consent for an event that is not stored.
//
// An interaction with signals is stored as the merged view (loop.Merge) in
// its e and s records, its original under o; a signal for a stored
// interaction rewrites that merged view. Each event's keys — the
// interaction, its signals, the merged records — are written in one
// transaction, so a crash leaves an event as it was before or after.
// When an error is returned, records whose status is Failed were not
// written.
func (s *Store) PutRecords(recs []Record) ([]PutStatus, error) {
	out, _, err := s.put(recs, false)
	return out, err
}

// Changed is an event whose stored view (the interaction merged with its
// signals) a PutRecordsChanged call made new or changed: its summary as it
// is now stored, whether anyone has labelled it, and the index of the
// call's first record of it.
type Changed struct {
	Summary  loop.Summary
	Labelled bool
	Record   int
}

// PutRecordsChanged is PutRecords, also returning the events whose stored
// view it made new or changed (interactions edge sampling did not keep
// have none), as they now are: what `loupe serve` samples into the review
// queue as records arrive, without reading them back.
func (s *Store) PutRecordsChanged(recs []Record) ([]PutStatus, []Changed, error) {
	return s.put(recs, true)
}

func (s *Store) put(recs []Record, want bool) ([]PutStatus, []Changed, error) {
	s.putMu.Lock()
	defer s.putMu.Unlock()
	out := make([]PutStatus, len(recs))
	for i := range out {
		out[i] = Failed
	}
	// A refusal with no earlier record of its id in the batch does what
	// it would do in order if applied before everything else: what it
	// reads (is the interaction stored? which signals wait for it?) no
	// earlier record changes, and the records of its id after it see its
	// tombstone. Such refusals are applied first, together in one
	// transaction, so that the run around them is not cut into one commit
	// (and one sync) per refusal: a stream where one interaction in forty
	// withholds consent would otherwise commit about ten times per
	// thousand records.
	var alone []int
	if batchRefusals {
		alone = firstRefusals(recs)
	}
	if len(alone) == 0 {
		return s.putOrdered(recs, out, want)
	}
	if err := s.refuseAll(recs, alone, out); err != nil {
		return out, nil, mapErr(err)
	}
	rest := make([]Record, 0, len(recs)-len(alone))
	at := make([]int, 0, len(recs)-len(alone))
	for i, j := 0, 0; i < len(recs); i++ {
		if j < len(alone) && alone[j] == i {
			j++
			continue
		}
		rest = append(rest, recs[i])
		at = append(at, i)
	}
	sub := make([]PutStatus, len(rest))
	for i := range sub {
		sub[i] = Failed
	}
	_, chg, err := s.putOrdered(rest, sub, want)
	for j, i := range at {
		out[i] = sub[j]
	}
	for k := range chg {
		chg[k].Record = at[chg[k].Record]
	}
	return out, chg, err
}

// batchRefusals is off only in the test that compares the two ways.
var batchRefusals = true

// firstRefusals are the indexes, ascending, of the refusals in recs with
// no record of their id before them.
func firstRefusals(recs []Record) []int {
	var seen map[string]bool
	var first []int
	for i := range recs {
		if recs[i].Refused && seen == nil {
			seen = make(map[string]bool, len(recs))
			for j := range i {
				seen[recs[j].ID] = true
			}
		}
		if seen == nil {
			continue
		}
		if recs[i].Refused && !seen[recs[i].ID] {
			first = append(first, i)
		}
		seen[recs[i].ID] = true
	}
	return first
}

// putOrdered applies recs in order (see PutRecords), cutting them into
// runs at each withdrawal and refusal, which put applies on their own.
// With want, it also returns what changed (PutRecordsChanged).
func (s *Store) putOrdered(recs []Record, out []PutStatus, want bool) ([]PutStatus, []Changed, error) {
	var changed []string
	var chg []Changed
	aggChanged := false
	defer func() {
		s.notifyUpdated(changed)
		if aggChanged {
			s.notify(Change{Aggregates: true})
		}
	}()
	run := func(from, to int) error {
		units, ag, err := s.putRun(recs[from:to], out[from:to])
		aggChanged = aggChanged || ag
		for _, u := range units {
			changed = append(changed, u.id)
		}
		if want && err == nil {
			err = s.changedOf(units, from, &chg)
		}
		return err
	}
	start := 0
	for i := range recs {
		if !recs[i].Refused && (recs[i].Signal == nil || !recs[i].Signal.Withdraws()) {
			continue
		}
		if err := run(start, i); err != nil {
			return out, chg, mapErr(err)
		}
		if recs[i].Refused {
			if err := s.refuseAll(recs, []int{i}, out); err != nil {
				return out, chg, mapErr(err)
			}
			start = i + 1
			continue
		}
		erased, ag, err := s.withdraw(recs[i], &out[i])
		aggChanged = aggChanged || ag
		if err != nil {
			return out, chg, mapErr(err)
		}
		if erased {
			changed = append(changed, recs[i].ID)
			// What the run before wrote of it is gone.
			chg = slices.DeleteFunc(chg, func(c Changed) bool { return c.Summary.ID == recs[i].ID })
		}
		start = i + 1
	}
	err := run(start, len(recs))
	// Erased bytes are reclaimed by the background loop and at Close
	// (finishErase), not here: a stream with many withdrawals would
	// otherwise compact the whole database once per batch.
	return out, chg, mapErr(err)
}

// changedOf appends to chg the summaries the committed units wrote (a
// unit of an interaction not kept writes none), base being the index in
// the call of the run's first record. Whether an event is labelled is
// looked up only for events stored before: nobody can have labelled one
// that was not.
func (s *Store) changedOf(units []*unit, base int, chg *[]Changed) error {
	first := len(*chg)
	old := false
	for _, u := range units {
		k := u.summaryAt()
		if k < 0 {
			continue
		}
		c := Changed{Record: base + u.recs[0]}
		if err := decodeSummary(u.vals[k], u.id, tsFrom(u.keys[k][1:9]), &c.Summary); err != nil {
			return fmt.Errorf("summary of %q: %w", u.id, err)
		}
		c.Labelled = !u.newEvent // to be looked up
		old = old || !u.newEvent
		*chg = append(*chg, c)
	}
	if !old {
		return nil
	}
	return s.db.View(func(txn *badger.Txn) error {
		it := labelSeeker(txn)
		defer it.Close()
		for i := first; i < len(*chg); i++ {
			if c := &(*chg)[i]; c.Labelled {
				c.Labelled = hasLabel(it, c.Summary.ID)
			}
		}
		return nil
	})
}

// unit is what one event's records write in one transaction.
type unit struct {
	id   string
	keys [][]byte
	vals [][]byte
	dels [][]byte
	// what the records it settles become once it commits
	recs   []int
	status []PutStatus
	// filter updates after the commit
	newEvent bool
	sigIDs   []string
	pending  bool
	changed  bool // the stored event (merged view) is new or changed
	// edge sampling (unkept.go): what the commit adds to the aggregates,
	// and the signals for unkept interactions it drops
	aggOps  []aggOp // edge sampling: contributions to the aggregates (unkept.go)
	dropped uint64
	folded  bool // it writes a stub folded into the index (foldStub)
}

func (u *unit) set(k, v []byte) {
	if u.keys == nil {
		u.keys, u.vals = make([][]byte, 0, 4), make([][]byte, 0, 4)
	}
	u.keys = append(u.keys, k)
	u.vals = append(u.vals, v)
}

// summaryAt is the index in u.keys of the summary u writes (the last
// planned, which the commit stores), -1 when it writes none (an
// interaction edge sampling did not keep, signals kept pending).
func (u *unit) summaryAt() int {
	for k := len(u.keys) - 1; k >= 0; k-- {
		if key := u.keys[k]; len(key) >= 9 && key[0] == prefixSummary {
			return k
		}
	}
	return -1
}

func (u *unit) settle(i int, st PutStatus) {
	u.recs = append(u.recs, i)
	u.status = append(u.status, st)
}

// mergeJob is an event whose merged view is to be (re)computed.
type mergeJob struct {
	u        *unit
	ts       time.Time
	orig     []byte   // the interaction as it arrived (masked JSON, or stored form: see run)
	stored   [][]byte // its stored signals
	fresh    []*loop.Signal
	userHash []byte
	// decide: a new interaction under edge sampling, stored in full or
	// not once its merged summary is known (see decideJob)
	decide *decision
	// complete, when set, makes the interaction's reduced record (the
	// decision's) whole (reduced.go): the merge starts with its body. It
	// is called only when keep, given the reduced interaction merged with
	// its signals, keeps it: the rules read only what the reduction keeps,
	// so that is the decision the whole one would get, and an interaction
	// not kept is never masked, encoded or merged in full.
	complete func() error
	keep     KeepFunc
	// results
	body, summary []byte
	sum           loop.Summary // decoded summary, when deciding
	ev            *loop.Event  // the decoded interaction, when deciding
	sigs          []*loop.Signal
	err           error
}

// decision is what planInteraction leaves to decideJob: the records of a
// new interaction and its fresh signals, the x keys of those that waited.
type decision struct {
	recs  []Record
	i     int
	fresh []int
	pendX [][]byte
}

// putRun stores records none of which withdraws consent. It returns the ids
// of events whose stored view changed, and whether the aggregates did.
func (s *Store) putRun(recs []Record, out []PutStatus) ([]*unit, bool, error) {
	if len(recs) == 0 {
		return nil, false, nil
	}
	known, err := s.ids()
	if err != nil {
		return nil, false, err
	}
	sigs, err := s.sigIDs()
	if err != nil {
		return nil, false, err
	}
	pend, err := s.pendingIDs()
	if err != nil {
		return nil, false, err
	}
	tombs, err := s.tombstones()
	if err != nil {
		return nil, false, err
	}
	// One unit per event written, in first-seen order; allocated together.
	units := make(map[string]*unit, len(recs))
	pool := make([]unit, 0, len(recs))
	var order []*unit
	unitOf := func(id string) *unit {
		u := units[id]
		if u == nil {
			pool = append(pool, unit{id: id})
			u = &pool[len(pool)-1]
			units[id] = u
			order = append(order, u)
		}
		return u
	}
	newEv := make(map[string]int, len(recs)) // event id -> record of its new interaction
	var seenSig map[string]int               // signal id -> record of its new signal
	var newSigs map[string][]int             // event id -> records of its new signals
	var jobs []*mergeJob
	now := time.Now()
	err = s.db.View(func(txn *badger.Txn) error {
		// Classify each record.
		for i := range recs {
			r := &recs[i]
			if len(tombs) > 0 {
				if _, gone := tombs[string(s.tombOf(r))]; gone {
					out[i] = Withdrawn
					continue
				}
			}
			if r.Signal == nil {
				if j, ok := newEv[r.ID]; ok {
					same, err := s.sameContent(&recs[j], r)
					if err != nil {
						return err
					}
					out[i] = sameOr(same)
					continue
				}
				if known.mayContain(r.ID) {
					v, err := getValue(txn, indexKey(r.ID))
					if err == nil {
						same, err := s.sameAsIndexed(r, v)
						if err != nil {
							return err
						}
						out[i] = sameOr(same)
						continue
					}
					if !errors.Is(err, badger.ErrKeyNotFound) {
						return err
					}
				}
				newEv[r.ID] = i
				continue
			}
			sid := r.Signal.SignalID
			if j, ok := seenSig[sid]; ok {
				out[i] = sameOr(recs[j].Hash == r.Hash)
				continue
			}
			if sigs.mayContain(sid) {
				v, err := getValue(txn, signalIDKey(sid))
				if err == nil {
					out[i] = sameOr(len(v) >= 16 && bytes.Equal(v[:16], r.Hash[:]))
					continue
				}
				if !errors.Is(err, badger.ErrKeyNotFound) {
					return err
				}
			}
			if seenSig == nil {
				seenSig, newSigs = map[string]int{}, map[string][]int{}
			}
			seenSig[sid] = i
			newSigs[r.ID] = append(newSigs[r.ID], i)
		}
		// Plan each event's writes, in record order.
		for i := range recs {
			r := &recs[i]
			if j, ok := newEv[r.ID]; ok && j == i {
				if err := s.planInteraction(txn, unitOf(r.ID), recs, i, newSigs[r.ID], pend, &jobs); err != nil {
					return err
				}
				continue
			}
			if r.Signal == nil {
				continue
			}
			idx := newSigs[r.ID]
			if len(idx) == 0 || idx[0] != i {
				continue // not new, or planned with the first of its event
			}
			if _, ok := newEv[r.ID]; ok {
				continue // planned with its interaction
			}
			if err := s.planSignals(txn, unitOf(r.ID), recs, idx, known, now, &jobs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	if err := runMerges(jobs); err != nil {
		return nil, false, err
	}
	for _, j := range jobs {
		if j.decide != nil && !s.decideJob(j) {
			continue // not kept: no e, s
		}
		j.u.set(eventKey(j.ts, j.u.id), j.body)
		j.u.set(summaryKey(j.ts, j.u.id), j.summary)
	}
	if fn := s.arrivals.Load(); fn != nil {
		if err := s.queueArrivals(*fn, recs, order); err != nil {
			return nil, false, err
		}
	}
	// Commit in groups of whole events.
	var changed []*unit
	aggChanged := false
	var group []*unit
	size := 0
	for n, u := range order {
		group = append(group, u)
		for k := range u.keys {
			size += len(u.keys[k]) + min(len(u.vals[k]), 32)
		}
		size += 16 * len(u.dels)
		if size < 1<<20 && len(group) < 2000 && n < len(order)-1 {
			continue
		}
		if err := s.commitGroup(group); err != nil {
			return changed, aggChanged, err
		}
		for _, g := range group {
			for k, i := range g.recs {
				out[i] = g.status[k]
			}
			if g.newEvent {
				known.add(g.id)
			}
			for _, sid := range g.sigIDs {
				sigs.add(sid)
			}
			if g.pending {
				pend.add(g.id)
			}
			if g.changed {
				changed = append(changed, g)
			}
			if len(g.aggOps) > 0 {
				aggChanged = true
			}
		}
		group, size = group[:0], 0
	}
	return changed, aggChanged, nil
}

func sameOr(same bool) PutStatus {
	if same {
		return Duplicate
	}
	return Conflict
}

func getValue(txn *badger.Txn, k []byte) ([]byte, error) {
	item, err := txn.Get(k)
	if err != nil {
		return nil, err
	}
	return item.ValueCopy(nil)
}

// indexValue is <ts 8> <hash 16> <user hash 16 or nothing>.
func indexValue(r *Record) []byte { return indexValueWith(r, r.Hash) }

// indexValueWith is indexValue holding hash h instead of r.Hash.
func indexValueWith(r *Record, h [16]byte) []byte {
	idx := tsBytes(make([]byte, 0, 40), r.Time)
	idx = append(idx, h[:]...)
	return append(idx, r.UserHash...)
}

// planInteraction plans a new interaction: stored as is, or merged with the
// signals that arrived before it (stored pending, or new in this batch).
// Under edge sampling (s.keep set) it is stored so only when keep says so
// of its merged summary; otherwise it is planned as unkept (unkept.go).
func (s *Store) planInteraction(txn *badger.Txn, u *unit, recs []Record, i int, fresh []int, pend *idFilter, jobs *[]*mergeJob) error {
	r := &recs[i]
	if r.in != nil && s.keep == nil {
		// Reduced for a keep that is no longer set: made whole here.
		if err := s.complete(r); err != nil {
			return err
		}
	}
	var stored, pendX [][]byte
	if pend.mayContain(r.ID) {
		if err := scanPrefix(txn, idPrefix(prefixSignal, r.ID), true, func(k, v []byte) error {
			stored = append(stored, v)
			pendX = append(pendX, k)
			return nil
		}); err != nil {
			return err
		}
		if err := scanPrefix(txn, idPrefix(prefixPending, r.ID), false, func(k, _ []byte) error {
			u.dels = append(u.dels, k)
			return nil
		}); err != nil {
			return err
		}
	}
	if s.keep != nil {
		if len(stored) == 0 && len(fresh) == 0 && r.pre != nil {
			planUnkept(u, recs, i, r.ev, nil, nil, nil) // decided and reduced by a worker
			return nil
		}
		if len(stored) == 0 && len(fresh) == 0 {
			var sum loop.Summary
			if err := decodeSummary(r.Summary, r.ID, r.Time, &sum); err != nil {
				return err
			}
			if !s.keep(&sum) {
				ev := r.ev
				if ev == nil {
					var err error
					if ev, err = decodeBody(r.Body); err != nil {
						return err
					}
				}
				planUnkept(u, recs, i, ev, nil, nil, nil)
				return nil
			}
		} else {
			// Decided once the merged summary is known (decideJob).
			job := &mergeJob{u: u, ts: r.Time, orig: r.Body, stored: stored, userHash: r.UserHash,
				decide: &decision{recs: recs, i: i, fresh: fresh, pendX: pendX}}
			if r.in != nil {
				// Reduced: made whole by the merge's worker, so that the
				// merged view is decided on, and stored from, the event
				// masked in full.
				job.complete = func() error { return s.complete(r) }
				job.keep = s.keep
			}
			for _, j := range fresh {
				job.fresh = append(job.fresh, recs[j].Signal)
			}
			*jobs = append(*jobs, job)
			return nil
		}
	}
	planStored(u, recs, i, fresh, len(stored)+len(fresh) > 0)
	if len(stored) == 0 && len(fresh) == 0 {
		u.set(eventKey(r.Time, r.ID), r.storedBody())
		u.set(summaryKey(r.Time, r.ID), r.Summary)
		return nil
	}
	job := &mergeJob{u: u, ts: r.Time, orig: r.Body, stored: stored, userHash: r.UserHash}
	for _, j := range fresh {
		job.fresh = append(job.fresh, recs[j].Signal)
	}
	*jobs = append(*jobs, job)
	return nil
}

// planStored plans the keys of a new interaction stored in full, but for
// its merged view: its index, its fresh signals, its original when it has
// signals.
func planStored(u *unit, recs []Record, i int, fresh []int, hasSignals bool) {
	r := &recs[i]
	u.newEvent, u.changed = true, true
	u.settle(i, Stored)
	u.set(indexKey(r.ID), indexValue(r))
	for _, j := range fresh {
		addSignal(u, &recs[j], j, Stored)
	}
	if hasSignals {
		u.set(originalKey(r.ID), r.storedBody())
	}
}

// decideJob applies edge sampling to a merged new interaction: it reports
// whether it is kept (its merged view is then written as for any), after
// planning its keys either way.
func (s *Store) decideJob(j *mergeJob) bool {
	d := j.decide
	if s.keep(&j.sum) {
		planStored(j.u, d.recs, d.i, d.fresh, true)
		return true
	}
	pendSigs := j.sigs[:len(j.stored)]
	planUnkept(j.u, d.recs, d.i, j.ev, pendSigs, d.pendX, d.fresh)
	return false
}

func decodeBody(b []byte) (*loop.Event, error) {
	ev, err := loop.DecodeStored(b)
	if err != nil {
		// Not the fast form (an older store?): the struct tags read it.
		return decodeEvent(b)
	}
	return ev, nil
}

// planSignals plans the new signals of one event whose interaction is not
// in this batch: merged into the stored interaction, or kept pending.
func (s *Store) planSignals(txn *badger.Txn, u *unit, recs []Record, idx []int, known *idFilter, now time.Time, jobs *[]*mergeJob) error {
	id := recs[idx[0]].ID
	var iv []byte
	if known.mayContain(id) {
		var err error
		iv, err = getValue(txn, indexKey(id))
		if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
	}
	if len(iv) < 24 {
		// Early signals: kept until their interaction comes.
		u.pending = true
		for _, j := range idx {
			addSignal(u, &recs[j], j, Pending)
			u.set(pendingKey(id, recs[j].Signal.SignalID), tsBytes(nil, now))
		}
		return nil
	}
	if unkeptIndex(iv) {
		return planStubSignals(txn, u, recs, idx, id, iv)
	}
	ts := tsFrom(iv)
	job := &mergeJob{u: u, ts: ts}
	if len(iv) >= 40 {
		job.userHash = iv[24:40]
	}
	orig, err := getValue(txn, originalKey(id))
	if errors.Is(err, badger.ErrKeyNotFound) {
		// Its first signals: what e holds is the original (copied as
		// stored; the merge decodes it).
		if orig, err = getValue(txn, eventKey(ts, id)); err != nil {
			return err
		}
		u.set(originalKey(id), orig)
	} else if err != nil {
		return err
	} else {
		if err := scanPrefix(txn, idPrefix(prefixSignal, id), true, func(_, v []byte) error {
			job.stored = append(job.stored, v)
			return nil
		}); err != nil {
			return err
		}
	}
	job.orig = orig
	u.changed = true
	for _, j := range idx {
		addSignal(u, &recs[j], j, Stored)
		job.fresh = append(job.fresh, recs[j].Signal)
	}
	*jobs = append(*jobs, job)
	return nil
}

// addSignal plans a new signal's own keys: its body and idempotency record.
func addSignal(u *unit, r *Record, i int, st PutStatus) {
	sid := r.Signal.SignalID
	u.settle(i, st)
	u.set(signalKey(r.ID, sid), r.Body)
	k := make([]byte, 0, 16+len(r.ID))
	k = append(k, r.Hash[:]...)
	u.set(signalIDKey(sid), append(k, r.ID...))
	u.sigIDs = append(u.sigIDs, sid)
}

// scanPrefix calls fn with every key (and, with values, value) under p;
// both are copies.
func scanPrefix(txn *badger.Txn, p []byte, values bool, fn func(k, v []byte) error) error {
	opt := badger.DefaultIteratorOptions
	opt.Prefix = p
	opt.PrefetchValues = false
	it := txn.NewIterator(opt)
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		item := it.Item()
		var v []byte
		if values {
			var err error
			if v, err = item.ValueCopy(nil); err != nil {
				return err
			}
		}
		if err := fn(item.KeyCopy(nil), v); err != nil {
			return err
		}
	}
	return nil
}

// runMerges computes the merged views, in parallel when there are many.
func runMerges(jobs []*mergeJob) error {
	workers := min(runtime.GOMAXPROCS(0), len(jobs)/32)
	if workers <= 1 {
		for _, j := range jobs {
			j.run()
		}
	} else {
		var wg sync.WaitGroup
		next := make(chan *mergeJob)
		for range workers {
			wg.Go(func() {
				for j := range next {
					j.run()
				}
			})
		}
		for _, j := range jobs {
			next <- j
		}
		close(next)
		wg.Wait()
	}
	for _, j := range jobs {
		if j.err != nil {
			return j.err
		}
	}
	return nil
}

func (j *mergeJob) run() {
	sigs := make([]*loop.Signal, 0, len(j.stored)+len(j.fresh))
	for _, b := range j.stored {
		sg, err := loop.DecodeStoredSignal(b)
		if err != nil {
			j.err = err
			return
		}
		sigs = append(sigs, sg)
	}
	sigs = append(sigs, j.fresh...)
	if j.complete != nil {
		red := j.decide.recs[j.decide.i].ev
		if sum := loop.Summarize(loop.Merge(red, sigs)); !j.keep(&sum) {
			// Not kept (decideJob plans its stub from red): no body.
			j.sum, j.ev, j.sigs = sum, red, sigs
			return
		}
		if err := j.complete(); err != nil {
			j.err = err
			return
		}
		j.orig = j.decide.recs[j.decide.i].Body
	}
	orig, err := decompressBody(nil, j.orig)
	if err != nil {
		j.err = err
		return
	}
	ev, err := loop.DecodeStored(orig)
	if err != nil {
		// Not the fast form (an older store?): the struct tags read it.
		if ev, err = decodeEvent(orig); err != nil {
			j.err = err
			return
		}
	}
	m := loop.Merge(ev, sigs)
	j.body = compressBody(nil, loop.AppendJSON(make([]byte, 0, len(orig)+256), m))
	sum := loop.Summarize(m)
	j.summary = encodeSummary(nil, &sum)
	if j.decide != nil {
		j.sum, j.ev, j.sigs = sum, ev, sigs
	}
}

// commitGroup writes the keys of whole events in one transaction, halving
// the group when Badger finds the transaction too big.
func (s *Store) commitGroup(group []*unit) error {
	n := 0
	for _, u := range group {
		for k := range u.keys {
			n += len(u.keys[k]) + len(u.vals[k])
		}
	}
	if err := s.ensureSpace(n); err != nil {
		return err
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	split := func(err error) error {
		if errors.Is(err, badger.ErrTxnTooBig) && len(group) > 1 {
			txn.Discard()
			h := len(group) / 2
			if err := s.commitGroup(group[:h]); err != nil {
				return err
			}
			return s.commitGroup(group[h:])
		}
		return err
	}
	var delta *agg.Table
	var dropped uint64
	deleted, folded := false, false
	for _, u := range group {
		deleted = deleted || len(u.dels) > 0
		folded = folded || u.folded
		if err := deleteKeys(txn, u.dels...); err != nil {
			return split(err)
		}
		for k := range u.keys {
			if err := txn.Set(u.keys[k], u.vals[k]); err != nil {
				return split(err)
			}
		}
		for i := range u.aggOps {
			if delta == nil {
				delta = agg.New()
			}
			delta.Add(&u.aggOps[i].sum, u.aggOps[i].sign)
		}
		dropped += u.dropped
	}
	// Edge sampling: the aggregates and the dropped count move in the same
	// transaction as the stubs (unkept.go).
	if delta != nil {
		if err := addAggregates(txn, delta); err != nil {
			return split(err)
		}
	}
	if dropped > 0 {
		if err := addCounter(txn, metaDroppedUnkept, dropped); err != nil {
			return split(err)
		}
	}
	mark := folded && !s.foldedMarked.Load()
	if mark {
		// With the first stub indexed by a content hash: an open finds
		// it (findStubs) without reading the index.
		if err := txn.Set(metaFoldedStubs, s.foldedMarker()); err != nil {
			return split(err)
		}
	}
	if err := txn.Commit(); err != nil {
		return err
	}
	if mark {
		s.foldedMarked.Store(true)
	}
	if deleted {
		s.afterDeletes()
	}
	return nil
}

// sortedUnique sorts ids and drops repeats.
func sortedUnique(ids []string) []string {
	sort.Strings(ids)
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}
