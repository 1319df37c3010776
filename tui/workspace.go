package tui

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/assign"
	"github.com/loupe-dev/loupe/loop/filter"
	ilist "github.com/loupe-dev/loupe/loop/inbox"
	"github.com/loupe-dev/loupe/loop/pii"
	"github.com/loupe-dev/loupe/store"
)

// workspace is the review session's shared state: the loaded items, the
// reviewer's labels and drafts, set membership, the undo stack and the
// writes in flight. Both screens act on it; only Update (through the root
// model) touches it, and every store call runs in a tea.Cmd.
type workspace struct {
	c *common

	loaded bool
	items  *ilist.List   // list order: newest first
	index  *filter.Index // items.Index()
	// marks are copy-on-write: a search in flight keeps reading the slice
	// it was handed while a grade replaces ours.
	marks    []filter.Mark
	marksGen int

	labels map[string]map[string]loop.Label // event id → reviewer → current label
	sets   map[loop.SetKind]map[string]loop.SetEntry
	drafts map[string]*draft

	// queue is the store's review queue (why `loupe sample` picked each
	// item); queueRows the queued items this reviewer may take, in list
	// order: unassigned ones and those assigned to them.
	queue     map[string]loop.QueueItem
	queueRows []int32
	// shared are the queue items every reviewer grades (review.overlap);
	// the rest are split, each graded once (see loop/assign). leases say
	// who has a queue item open; held is the one this reviewer holds.
	shared map[string]bool
	leases map[string]store.Lease
	held   string
	heldAt time.Time

	// removed keeps set entries taken out in this session, so that adding
	// one back restores it as it was (its checks, who added it, when).
	removed map[string]loop.SetEntry

	undo    []*change
	seq     int
	latest  map[string]int // change key → seq of the newest change to it
	pending []*change      // issued, result not yet seen, in order
	last    chan struct{}  // done of the newest issued write

	// dirty are the items whose merged view changed in the store since the
	// rebuild in flight (rebuilding) started; see live.go.
	dirty      map[string]bool
	rebuilding bool
}

// draft is the reviewer's pending label on an item: reason codes, note and
// reference collected before the grade key saves them. Every change to it
// is written to the store at once (store.Draft), so nothing typed is lost
// to a quit, a dropped connection or a server shutdown. session marks the
// drafts touched in this session: quitting asks about those.
type draft struct {
	Reasons   []string
	Note      string
	Reference string
	session   bool
}

func (d *draft) empty() bool { return len(d.Reasons) == 0 && d.Note == "" && d.Reference == "" }

func newWorkspace(c *common) *workspace {
	done := make(chan struct{})
	close(done)
	return &workspace{
		c:       c,
		labels:  map[string]map[string]loop.Label{},
		sets:    map[loop.SetKind]map[string]loop.SetEntry{loop.SetGolden: {}, loop.SetRedFlag: {}},
		drafts:  map[string]*draft{},
		latest:  map[string]int{},
		shared:  map[string]bool{},
		leases:  map[string]store.Lease{},
		removed: map[string]loop.SetEntry{},
		last:    done,
	}
}

// Messages of the workspace.
type (
	loadedMsg struct {
		items  *ilist.List
		marks  []filter.Mark
		labels map[string]map[string]loop.Label
		sets   map[loop.SetKind]map[string]loop.SetEntry
		queue  map[string]loop.QueueItem
		qrows  []int32
		shared map[string]bool
		leases map[string]store.Lease
		drafts map[string]*draft
		undo   []*change
		err    error
	}
	// changeDoneMsg reports a write: err nil means it is durable.
	changeDoneMsg struct {
		seq   int
		err   error
		entry *loop.SetEntry // the set entry as stored
	}
	// leaseMsg is the answer to taking a lease on a queue item: err
	// wraps store.ErrLeased (with the holder's lease) when another
	// reviewer has it open.
	leaseMsg struct {
		id    string
		lease store.Lease
		err   error
	}
	// itemChangedMsg says an item's stored labels or sets changed.
	itemChangedMsg struct{ ID string }
	// marksChangedMsg says the review marks changed (a grade, a set).
	marksChangedMsg struct{}
	// undoneMsg says a change on ID was undone: the screens go back to it.
	undoneMsg struct{ ID string }
	// leaseDeniedMsg says another reviewer has ID open: the lists skip it.
	leaseDeniedMsg struct{ ID string }
)

// load reads everything the inbox needs. It runs as a command: the first
// frame never waits for it.
func load(st *store.Store, reviewer string, adjudicator bool, overlap float64, now time.Time) tea.Cmd {
	return func() tea.Msg {
		// Loading makes a few hundred MB that stay: collecting at every
		// doubling of a heap that only grows is wasted work. The load
		// makes little garbage (the columns are sized up front, nothing
		// is allocated per summary), so the peak stays near what is
		// kept. (No memory limit: a store of several million would then
		// collect without end while its list outgrows it.)
		defer debug.SetGCPercent(debug.SetGCPercent(400))
		var m loadedMsg
		// The list comes in columns, newest first, its filter index
		// built while the store was read.
		items, err := st.Inbox()
		if err != nil {
			return loadedMsg{err: fmt.Errorf("load summaries: %w", err)}
		}
		m.items = items
		m.labels = map[string]map[string]loop.Label{}
		err = st.AllLabels(func(l loop.Label) error {
			if m.labels[l.EventID] == nil {
				m.labels[l.EventID] = map[string]loop.Label{}
			}
			m.labels[l.EventID][l.Reviewer] = l
			return nil
		})
		if err != nil {
			return loadedMsg{err: fmt.Errorf("load labels: %w", err)}
		}
		if m.sets, err = readSets(st); err != nil {
			return loadedMsg{err: err}
		}
		m.queue = map[string]loop.QueueItem{}
		err = st.Queued(func(q loop.QueueItem) error {
			m.queue[q.EventID] = q
			return nil
		})
		if err != nil {
			return loadedMsg{err: fmt.Errorf("load the review queue: %w", err)}
		}
		qs := make([]loop.QueueItem, 0, len(m.queue))
		for _, q := range m.queue {
			qs = append(qs, q)
		}
		m.shared = assign.Shared(qs, overlap)
		m.leases = map[string]store.Lease{}
		if err := st.Leases(func(l store.Lease) error { m.leases[l.EventID] = l; return nil }); err != nil {
			return loadedMsg{err: fmt.Errorf("load the leases: %w", err)}
		}
		m.drafts = map[string]*draft{}
		err = st.Drafts(reviewer, func(d store.Draft) error {
			m.drafts[d.EventID] = &draft{Reasons: d.Reasons, Note: d.Note, Reference: d.Reference}
			return nil
		})
		if err != nil {
			return loadedMsg{err: fmt.Errorf("load your drafts: %w", err)}
		}
		if m.undo, err = loadUndo(st, reviewer, now); err != nil {
			return loadedMsg{err: fmt.Errorf("load your undo journal: %w", err)}
		}
		m.marks, m.qrows = marksFor(m.items, reviewer, adjudicator, m.labels, m.sets, m.queue, m.shared, m.leases, now)
		return m
	}
}

// taken reports whether a queued item is not reviewer's to take now:
// another reviewer graded it or has it open, and it is not shared.
func taken(reviewer string, q loop.QueueItem, shared bool, ls map[string]loop.Label, l store.Lease, now time.Time) bool {
	s := assign.State{Shared: shared, Reviewers: q.Reviewers, LeasedBy: l.Reviewer, LeaseUntil: l.Until}
	for r := range ls {
		s.GradedBy = append(s.GradedBy, r)
	}
	return !assign.Mine(s, reviewer, now)
}

// readSets reads both curated sets.
func readSets(st *store.Store) (map[loop.SetKind]map[string]loop.SetEntry, error) {
	sets := map[loop.SetKind]map[string]loop.SetEntry{}
	for _, k := range []loop.SetKind{loop.SetGolden, loop.SetRedFlag} {
		sets[k] = map[string]loop.SetEntry{}
		err := st.SetEntries(k, func(e loop.SetEntry) error {
			sets[k][e.EventID] = e
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load %s set: %w", k, err)
		}
	}
	return sets, nil
}

// setLoaded takes the loaded data: assignments only, the work was done in
// the load command.
func (w *workspace) setLoaded(m loadedMsg) {
	w.loaded = true
	w.items, w.index, w.marks, w.labels, w.sets = m.items, m.items.Index(), m.marks, m.labels, m.sets
	w.queue, w.queueRows, w.shared, w.leases = m.queue, m.qrows, m.shared, m.leases
	for id, d := range m.drafts {
		if w.drafts[id] == nil { // one made while loading is newer
			w.drafts[id] = d
		}
	}
	w.undo = append(m.undo, w.undo...)
	w.marksGen++
}

// Queued is why id was sampled for review, if it is in the queue.
func (w *workspace) Queued(id string) (loop.QueueItem, bool) {
	q, ok := w.queue[id]
	return q, ok
}

// queueLeft counts the reviewer's queued items they have not graded yet.
func (w *workspace) queueLeft() int {
	_, done, total := w.progress()
	return total - done
}

// progress is the reviewer's share of the queue: how many they graded of
// how many are theirs (shared items, split items nobody else took), and
// those left.
func (w *workspace) progress() (left, done, total int) {
	for _, i := range w.queueRows {
		mk := w.marks[i]
		switch {
		case mk&filter.Mine != 0:
			done++
			total++
		case mk&filter.Taken == 0:
			total++
		}
	}
	return total - done, done, total
}

var gradeMark = map[loop.Grade]filter.Mark{
	loop.GradePass: filter.GradePass, loop.GradeFail: filter.GradeFail, loop.GradeBorderline: filter.GradeBorderline,
}

// markOf computes an item's marks from its current labels and the sets.
// Grading is blind: until the reviewer has graded the item, nobody else's
// grade shows in its marks (so neither in the list nor through grade: or
// the Disagreements queue), unless they are an adjudicator.
func markOf(reviewer string, adjudicator bool, ls map[string]loop.Label, sets map[loop.SetKind]map[string]loop.SetEntry, id string) filter.Mark {
	var m filter.Mark
	l, graded := ls[reviewer]
	if graded {
		m |= filter.Mine
	}
	m |= filter.VisibleGrade(gradeMark[l.Grade], adjudicator, gradeMark[latestGrade(ls)])
	if graded || adjudicator {
		seen := loop.GradeNone
		for _, l := range ls {
			if seen != loop.GradeNone && l.Grade != seen {
				m |= filter.Disagree
			}
			seen = l.Grade
		}
	}
	if _, ok := sets[loop.SetGolden][id]; ok {
		m |= filter.Golden
	}
	if _, ok := sets[loop.SetRedFlag][id]; ok {
		m |= filter.RedFlag
	}
	return m
}

func latestGrade(ls map[string]loop.Label) loop.Grade {
	var best loop.Label
	for _, l := range ls {
		if best.Grade == "" || l.At.After(best.At) {
			best = l
		}
	}
	return best.Grade
}

// sees reports whether the reviewer may see others' labels on id: they
// graded it, or they adjudicate.
func (w *workspace) sees(id string) bool {
	_, graded := w.Mine(id)
	return graded || w.c.adjudicator
}

func (w *workspace) refreshMark(id string) {
	i, ok := w.items.Find(id)
	if !ok {
		return
	}
	m := markOf(w.c.reviewer, w.c.adjudicator, w.labels[id], w.sets, id)
	if q, ok := w.queue[id]; ok && taken(w.c.reviewer, q, w.shared[id], w.labels[id], w.leases[id], w.c.clock()) {
		m |= filter.Taken
	}
	if w.marks[i] == m {
		return
	}
	w.marks = slices.Clone(w.marks)
	w.marks[i] = m
	w.marksGen++
}

// Mark is item i's marks.
func (w *workspace) Mark(i int32) filter.Mark { return w.marks[i] }

// Mine is the reviewer's current label on id.
func (w *workspace) Mine(id string) (loop.Label, bool) {
	l, ok := w.labels[id][w.c.reviewer]
	return l, ok
}

// Labels are the current labels on id the reviewer may see, by reviewer:
// only their own until they have graded it (blind grading), all of them
// for an adjudicator.
func (w *workspace) Labels(id string) map[string]loop.Label {
	if w.sees(id) {
		return w.labels[id]
	}
	if l, ok := w.Mine(id); ok {
		return map[string]loop.Label{w.c.reviewer: l}
	}
	return nil
}

// InSet reports whether id is in the set.
func (w *workspace) InSet(k loop.SetKind, id string) bool {
	_, ok := w.sets[k][id]
	return ok
}

// Draft is the pending label on id, or nil.
func (w *workspace) Draft(id string) *draft { return w.drafts[id] }

func (w *workspace) draftFor(id string) *draft {
	if d := w.drafts[id]; d != nil {
		d.session = true
		return d
	}
	d := &draft{session: true}
	if l, ok := w.Mine(id); ok {
		d.Reasons = slices.Clone(l.Reasons)
		d.Note, d.Reference = l.Note, l.Reference
	}
	w.drafts[id] = d
	return d
}

// unsaved are the items with a draft made or changed in this session and
// not graded yet: what quitting asks about.
func (w *workspace) unsaved() []string {
	var ids []string
	for id, d := range w.drafts {
		if d.session && !d.empty() {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// discardDrafts drops the session's ungraded drafts, in memory and (in
// commands) in the store.
func (w *workspace) discardDrafts() tea.Cmd {
	var cmds []tea.Cmd
	for _, id := range w.unsaved() {
		delete(w.drafts, id)
		cmds = append(cmds, w.issue(&change{id: id, isDraft: true}))
	}
	return tea.Batch(cmds...)
}

// saveDraft writes id's draft as it is now (masked) in a command.
func (w *workspace) saveDraft(id string) tea.Cmd {
	d := w.drafts[id]
	if d == nil {
		return nil
	}
	if d.empty() {
		// Toggled back to nothing: no draft at all.
		delete(w.drafts, id)
		return w.issue(&change{id: id, isDraft: true})
	}
	c := &change{id: id, isDraft: true, draft: &store.Draft{EventID: id, Reviewer: w.c.reviewer,
		Reasons: slices.Clone(d.Reasons), Note: d.Note, Reference: d.Reference, At: w.c.now().UTC()}}
	return w.issue(c)
}

// ToggleReason toggles reason code n (1-based) of the taxonomy on id. On
// an item the reviewer has graded (and not drafted anew) it changes the
// saved label at once; otherwise the draft, which is saved as a draft.
func (w *workspace) ToggleReason(id string, n int) tea.Cmd {
	if n < 1 || n > len(w.c.taxonomy) {
		return statusErr(fmt.Sprintf("no reason code %d: the taxonomy has %d", n, len(w.c.taxonomy)))
	}
	code := w.c.taxonomy[n-1].Code
	toggle := func(rs []string) []string {
		rs = slices.Clone(rs)
		if i := slices.Index(rs, code); i >= 0 {
			return slices.Delete(rs, i, i+1)
		}
		return append(rs, code)
	}
	if l, ok := w.Mine(id); ok && w.drafts[id] == nil {
		return w.relabel(id, l.Grade, toggle(l.Reasons), l.Note, l.Reference)
	}
	d := w.draftFor(id)
	d.Reasons = toggle(d.Reasons)
	return w.saveDraft(id)
}

// SetNote and SetReference fill id's draft, or on a graded item without a
// draft, change the saved label.
func (w *workspace) SetNote(id, s string) tea.Cmd {
	if l, ok := w.Mine(id); ok && w.drafts[id] == nil {
		return w.relabel(id, l.Grade, l.Reasons, s, l.Reference)
	}
	w.draftFor(id).Note = s
	return w.saveDraft(id)
}

func (w *workspace) SetReference(id, s string) tea.Cmd {
	if l, ok := w.Mine(id); ok && w.drafts[id] == nil {
		return w.relabel(id, l.Grade, l.Reasons, l.Note, s)
	}
	w.draftFor(id).Reference = s
	return w.saveDraft(id)
}

// relabel replaces the reviewer's label on id, keeping its grade.
func (w *workspace) relabel(id string, g loop.Grade, reasons []string, note, ref string) tea.Cmd {
	l, err := loop.NewLabel(id, w.c.reviewer, g, reasons, note, ref, w.c.now())
	if err != nil {
		return statusErr(err.Error())
	}
	old, _ := w.Mine(id)
	c := &change{id: id, isLabel: true, before: &old, after: &l}
	w.undo = append(w.undo, c)
	return w.issue(c)
}

// change is one durable edit of the store, kept for undo.
type change struct {
	seq int
	id  string
	// A label change replaces the reviewer's current label (nil: none).
	isLabel       bool
	before, after *loop.Label
	// A draft change writes the draft (nil: deletes it). Not undoable.
	isDraft bool
	draft   *store.Draft
	// dropDraft: a label change that saves the draft deletes it.
	dropDraft bool
	// once: a grade of a split queue item, refused by the store when
	// another reviewer graded it meanwhile.
	once bool
	// A set change adds (after non-nil) or removes an item from a set.
	kind                loop.SetKind
	setBefore, setAfter *loop.SetEntry
	// userEdit: fill an added golden/red-flag entry's empty reference from
	// the event's user edit (read in the write, not in Update).
	userEdit bool
	// undoes is the change this one reverses, if it is an undo.
	undoes *change
	// jseq is the change's entry in the store's undo journal (0: none),
	// so that undo works after a restart.
	jseq uint64
	run  func() changeDoneMsg
}

func (c *change) key() string {
	if c.isDraft {
		return c.id + "\x00draft"
	}
	if c.isLabel {
		return c.id + "\x00label"
	}
	return c.id + "\x00set:" + string(c.kind)
}

// Grade records the reviewer's grade on id from its draft, at once in
// memory and durably in a command.
func (w *workspace) Grade(id string, g loop.Grade) tea.Cmd {
	d := w.draftFor(id)
	l, err := loop.NewLabel(id, w.c.reviewer, g, slices.Clone(d.Reasons), d.Note, d.Reference, w.c.now())
	if err != nil {
		return statusErr(err.Error())
	}
	var before *loop.Label
	if old, ok := w.Mine(id); ok {
		before = &old
	}
	_, drafted := w.drafts[id]
	delete(w.drafts, id)
	q, queued := w.queue[id]
	c := &change{id: id, isLabel: true, before: before, after: &l, dropDraft: drafted,
		once: queued && before == nil && !w.shared[id] && len(q.Reviewers) == 0}
	w.undo = append(w.undo, c)
	return w.issue(c)
}

// ToggleSet adds id to or removes it from a set. reference is the golden
// answer to keep (the draft's reference or the user's edit); when it is
// empty and the event has not been read yet, the write reads the user's
// edit itself. An entry removed earlier in the session comes back as it
// was: its checks, who added it and when.
func (w *workspace) ToggleSet(kind loop.SetKind, id, reference string, eventKnown bool) tea.Cmd {
	c := &change{id: id, kind: kind}
	if old, ok := w.sets[kind][id]; ok {
		c.setBefore = &old
		w.removed[c.key()] = old
	} else if old, ok := w.removed[c.key()]; ok {
		c.setAfter = &old
	} else {
		if d := w.drafts[id]; d != nil && d.Reference != "" {
			reference = d.Reference
		}
		e := loop.SetEntry{EventID: id, Kind: kind, Reference: reference, AddedBy: w.c.reviewer, At: w.c.now()}
		loop.MaskSetEntry(&e)
		c.setAfter = &e
		c.userEdit = reference == "" && !eventKnown
	}
	w.undo = append(w.undo, c)
	return w.issue(c)
}

// PutSetEntry adds or replaces a set entry as edited in the Sets screen's
// form (masked here, before it is written).
func (w *workspace) PutSetEntry(e loop.SetEntry) tea.Cmd {
	loop.MaskSetEntry(&e)
	c := &change{id: e.EventID, kind: e.Kind, setAfter: &e}
	if old, ok := w.sets[e.Kind][e.EventID]; ok {
		c.setBefore = &old
	}
	w.undo = append(w.undo, c)
	return w.issue(c)
}

// checksOf describes a set entry's checks, "" for none.
func checksOf(e loop.SetEntry) string {
	if assertions(&e) == 0 {
		return ""
	}
	return assertionSummary(&e)
}

// Undo reverses the newest change still on the stack: the reviewer's
// previous label comes back (or the label is withdrawn), a set toggle is
// toggled back.
func (w *workspace) Undo() tea.Cmd {
	if len(w.undo) == 0 {
		return statusInfo("nothing to undo")
	}
	orig := w.undo[len(w.undo)-1]
	w.undo = w.undo[:len(w.undo)-1]
	c := &change{id: orig.id, isLabel: orig.isLabel, kind: orig.kind, undoes: orig}
	if orig.isLabel {
		c.before = orig.after
		if orig.before != nil {
			l := *orig.before
			l.At = w.c.now()
			c.after = &l
		}
	} else {
		c.setBefore, c.setAfter = orig.setAfter, orig.setBefore
	}
	return tea.Batch(w.issue(c), statusInfo("undone: "+orig.describe()), cmdOf(undoneMsg{ID: orig.id}))
}

func (c *change) describe() string {
	switch {
	case c.isLabel && c.after != nil:
		return fmt.Sprintf("%s %s", c.after.Grade, c.id)
	case c.isLabel:
		return "label on " + c.id
	case c.setAfter != nil:
		return fmt.Sprintf("%s add %s", c.kind, c.id)
	default:
		return fmt.Sprintf("%s remove %s", c.kind, c.id)
	}
}

// apply puts a change's outcome (after) or its starting point (before) into
// memory.
func (w *workspace) apply(c *change, after bool) {
	if c.isDraft {
		return // memory already holds the draft
	}
	if c.isLabel {
		l := c.before
		if after {
			l = c.after
		}
		if l == nil {
			delete(w.labels[c.id], w.c.reviewer)
		} else {
			if w.labels[c.id] == nil {
				w.labels[c.id] = map[string]loop.Label{}
			}
			w.labels[c.id][w.c.reviewer] = *l
		}
	} else {
		e := c.setBefore
		if after {
			e = c.setAfter
		}
		if e == nil {
			delete(w.sets[c.kind], c.id)
		} else {
			w.sets[c.kind][c.id] = *e
		}
	}
	w.refreshMark(c.id)
}

// issue applies c in memory and returns the command that makes it durable.
// Writes run one after another in issue order (each waits for the one
// before), so a reviewer's quick grade-then-undo lands in that order.
func (w *workspace) issue(c *change) tea.Cmd {
	w.seq++
	c.seq = w.seq
	w.latest[c.key()] = c.seq
	if !c.isDraft {
		c.jseq = uint64(w.c.now().UnixNano())
	}
	w.apply(c, true)

	st, reviewer, now := w.c.st, w.c.reviewer, w.c.now()
	prev, done := w.last, make(chan struct{})
	w.last = done
	c.run = sync.OnceValue(func() changeDoneMsg {
		<-prev
		defer close(done)
		msg := changeDoneMsg{seq: c.seq}
		msg.entry, msg.err = write(st, c, reviewer, now)
		return msg
	})
	w.pending = append(w.pending, c)
	if c.isDraft {
		return func() tea.Msg { return c.run() }
	}
	return tea.Batch(
		func() tea.Msg { return c.run() },
		func() tea.Msg { return marksChangedMsg{} },
	)
}

// maxJournal is how many of a reviewer's changes of the day undo keeps
// across restarts.
const maxJournal = 200

// loadUndo reads the reviewer's undo journal: today's entries (in now's
// zone) become the undo stack, oldest first; older ones are dropped from
// the store.
func loadUndo(st *store.Store, reviewer string, now time.Time) ([]*change, error) {
	y, mo, d := now.Date()
	today := time.Date(y, mo, d, 0, 0, 0, 0, now.Location())
	var out []*change
	var old []uint64
	err := st.UndoJournal(reviewer, func(e store.UndoEntry) error {
		if e.At.Before(today) {
			old = append(old, e.Seq)
			return nil
		}
		c := &change{id: e.EventID, jseq: e.Seq, kind: e.Set, before: e.Before, after: e.After,
			setBefore: e.SetBefore, setAfter: e.SetAfter, isLabel: e.Set == ""}
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) > maxJournal {
		for _, c := range out[:len(out)-maxJournal] {
			old = append(old, c.jseq)
		}
		out = out[len(out)-maxJournal:]
	}
	for _, s := range old {
		if err := st.DropUndo(reviewer, s); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// journal keeps a durable change in the reviewer's undo journal, or takes
// an undone one out of it.
func journal(st *store.Store, c *change, reviewer string, now time.Time) error {
	switch {
	case c.isDraft:
		return nil
	case c.undoes != nil:
		if c.undoes.jseq == 0 {
			return nil
		}
		return st.DropUndo(reviewer, c.undoes.jseq)
	}
	e := store.UndoEntry{Seq: c.jseq, EventID: c.id, Before: c.before, After: c.after, SetBefore: c.setBefore, SetAfter: c.setAfter, At: now.UTC()}
	if !c.isLabel {
		e.Set = c.kind
	}
	return st.PushUndo(reviewer, e)
}

// write does a change's store call.
func write(st *store.Store, c *change, reviewer string, now time.Time) (*loop.SetEntry, error) {
	e, err := writeChange(st, c, reviewer, now)
	if err == nil && c.jseq != 0 {
		err = journal(st, c, reviewer, now)
	}
	return e, err
}

func writeChange(st *store.Store, c *change, reviewer string, now time.Time) (*loop.SetEntry, error) {
	if c.isDraft {
		if c.draft == nil {
			return nil, st.DeleteDraft(reviewer, c.id)
		}
		d := *c.draft
		d.Note, _ = pii.Mask(d.Note)
		d.Reference, _ = pii.Mask(d.Reference)
		return nil, st.PutDraft(d)
	}
	if c.isLabel {
		if c.after != nil {
			put := st.PutLabel
			if c.once {
				put = st.PutLabelOnce
			}
			if err := put(*c.after); err != nil {
				return nil, err
			}
			if c.dropDraft {
				return nil, st.DeleteDraft(reviewer, c.id)
			}
			return nil, nil
		}
		l := loop.Label{EventID: c.id, Reviewer: reviewer, At: now, Deleted: true}
		if c.before != nil {
			l.Grade = c.before.Grade
		}
		return nil, st.PutLabel(l)
	}
	if c.setAfter == nil {
		err := st.RemoveSetEntry(c.kind, c.id)
		if errors.Is(err, store.ErrNotFound) {
			err = nil // already out: the outcome we wanted
		}
		return nil, err
	}
	e := *c.setAfter
	if c.userEdit && e.Reference == "" {
		ev, err := st.Event(c.id)
		if err != nil {
			return nil, err
		}
		if ev.Explicit != nil {
			e.Reference = ev.Explicit.UserEdit
		}
	}
	loop.MaskSetEntry(&e)
	return &e, st.PutSetEntry(e)
}

// done takes a write's result. A failed write is reverted in memory (when
// nothing newer changed the same thing since) and reported, never lost
// silently.
func (w *workspace) done(msg changeDoneMsg) tea.Cmd {
	i := slices.IndexFunc(w.pending, func(c *change) bool { return c.seq == msg.seq })
	if i < 0 {
		return nil
	}
	c := w.pending[i]
	w.pending = slices.Delete(w.pending, i, i+1)
	if msg.err == nil {
		if msg.entry != nil && w.latest[c.key()] == c.seq {
			c.setAfter = msg.entry
			w.sets[c.kind][c.id] = *msg.entry
		}
		saved := statusSaved()
		switch {
		case c.isDraft:
			return saved
		case c.undoes != nil:
			saved = statusInfo("undone: " + c.undoes.describe() + " · saved")
		}
		return tea.Batch(saved, func() tea.Msg { return itemChangedMsg{ID: c.id} })
	}
	if c.isDraft {
		return statusErr(fmt.Sprintf("draft on %s not saved: %v", c.id, msg.err))
	}
	if w.latest[c.key()] == c.seq {
		w.apply(c, false)
	}
	if c.undoes != nil {
		w.undo = append(w.undo, c.undoes) // still undoable
	} else if j := slices.Index(w.undo, c); j >= 0 {
		w.undo = slices.Delete(w.undo, j, j+1)
	}
	return tea.Batch(
		statusErr(fmt.Sprintf("not saved, reverted (%s): %v", c.describe(), msg.err)),
		func() tea.Msg { return marksChangedMsg{} },
	)
}

// ours reports whether this view changed key after the read tagged seq
// was asked for, or has a write to it still in flight: memory is then
// newer than what was read, and keeps its state. (The watch and the Sets
// screen's re-read both ask.)
func (w *workspace) ours(key string, seq int) bool {
	return w.latest[key] > seq || slices.ContainsFunc(w.pending, func(p *change) bool { return p.key() == key })
}

// hold takes a lease on id when it is a split queue item of this
// reviewer's (so nobody else is handed it while it is open), renews it
// when half gone, and releases the one held before.
func (w *workspace) hold(id string) tea.Cmd {
	now := w.c.clock()
	if id == w.held && now.Sub(w.heldAt) < assign.LeaseTime/2 {
		return nil
	}
	var cmds []tea.Cmd
	st, reviewer := w.c.st, w.c.reviewer
	if prev := w.held; prev != "" && prev != id {
		delete(w.leases, prev)
		cmds = append(cmds, func() tea.Msg {
			if err := st.ReleaseLease(prev, reviewer); err != nil {
				return statusMsg{Text: "releasing " + prev + ": " + err.Error(), Err: true}
			}
			return nil
		})
	}
	w.held = ""
	q, queued := w.queue[id]
	if id == "" || !queued || w.shared[id] || len(q.Reviewers) > 0 {
		return tea.Batch(cmds...)
	}
	if _, graded := w.Mine(id); graded {
		return tea.Batch(cmds...)
	}
	w.held, w.heldAt = id, now
	until := now.Add(assign.LeaseTime)
	w.leases[id] = store.Lease{EventID: id, Reviewer: reviewer, Until: until}
	cmds = append(cmds, func() tea.Msg {
		l, err := st.TakeLease(id, reviewer, now, until, true)
		return leaseMsg{id: id, lease: l, err: err}
	})
	return tea.Batch(cmds...)
}

// leased takes a lease's answer. Denied: the item is another reviewer's
// now, and the screens move on.
func (w *workspace) leased(msg leaseMsg) tea.Cmd {
	if msg.err == nil {
		return nil
	}
	if msg.id == w.held {
		w.held = ""
	}
	if errors.Is(msg.err, store.ErrLeased) {
		if msg.lease.Until.IsZero() { // graded by them: the notice was missed
			if w.labels[msg.id] == nil {
				w.labels[msg.id] = map[string]loop.Label{}
			}
			if _, ok := w.labels[msg.id][msg.lease.Reviewer]; !ok {
				w.labels[msg.id][msg.lease.Reviewer] = loop.Label{EventID: msg.id, Reviewer: msg.lease.Reviewer}
			}
			w.refreshMark(msg.id)
			return tea.Batch(cmdOf(marksChangedMsg{}), cmdOf(leaseDeniedMsg{ID: msg.id}), readLabelsCmd(w.c.st, msg.id, w.seq))
		}
		w.leases[msg.id] = msg.lease
		w.refreshMark(msg.id)
		return tea.Batch(statusInfo(msg.id+" is open by another reviewer: it is theirs"), cmdOf(marksChangedMsg{}), cmdOf(leaseDeniedMsg{ID: msg.id}))
	}
	return statusErr("taking " + msg.id + ": " + msg.err.Error())
}

// releaseHeld ends this reviewer's lease (on close).
func (w *workspace) releaseHeld() error {
	if w.held == "" {
		return nil
	}
	id := w.held
	w.held = ""
	return w.c.st.ReleaseLease(id, w.c.reviewer)
}

// flush finishes every write still in flight (after the program has
// stopped, a command Bubble Tea never got to run is run here), so quitting
// right after a grade loses nothing.
func (w *workspace) flush() []error {
	var errs []error
	for _, c := range w.pending {
		if m := c.run(); m.err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.describe(), m.err))
		}
	}
	w.pending = nil
	return errs
}
