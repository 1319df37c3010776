package tui

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
	"github.com/loupe-dev/loupe/store"
)

// workspace is the review session's shared state: the loaded items, the
// reviewer's labels and drafts, set membership, the undo stack and the
// writes in flight. Both screens act on it; only Update (through the root
// model) touches it, and every store call runs in a tea.Cmd.
type workspace struct {
	c *common

	loaded bool
	sums   []loop.Summary // list order: newest first
	index  *filter.Index
	byID   map[string]int32
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

	undo    []*change
	seq     int
	latest  map[string]int // change key → seq of the newest change to it
	pending []*change      // issued, result not yet seen, in order
	last    chan struct{}  // done of the newest issued write
}

// draft is the reviewer's pending label on an item: reason codes, note and
// reference collected before the grade key saves them.
type draft struct {
	Reasons   []string
	Note      string
	Reference string
}

func newWorkspace(c *common) *workspace {
	done := make(chan struct{})
	close(done)
	return &workspace{
		c:      c,
		byID:   map[string]int32{},
		labels: map[string]map[string]loop.Label{},
		sets:   map[loop.SetKind]map[string]loop.SetEntry{loop.SetGolden: {}, loop.SetRedFlag: {}},
		drafts: map[string]*draft{},
		latest: map[string]int{},
		last:   done,
	}
}

// Messages of the workspace.
type (
	loadedMsg struct {
		sums   []loop.Summary
		index  *filter.Index
		byID   map[string]int32
		marks  []filter.Mark
		labels map[string]map[string]loop.Label
		sets   map[loop.SetKind]map[string]loop.SetEntry
		queue  map[string]loop.QueueItem
		qrows  []int32
		err    error
	}
	// changeDoneMsg reports a write: err nil means it is durable.
	changeDoneMsg struct {
		seq   int
		err   error
		entry *loop.SetEntry // the set entry as stored
	}
	// itemChangedMsg says an item's stored labels or sets changed.
	itemChangedMsg struct{ ID string }
	// marksChangedMsg says the review marks changed (a grade, a set).
	marksChangedMsg struct{}
	// undoneMsg says a change on ID was undone: the screens go back to it.
	undoneMsg struct{ ID string }
)

// load reads everything the inbox needs. It runs as a command: the first
// frame never waits for it.
func load(st *store.Store, reviewer string) tea.Cmd {
	return func() tea.Msg {
		var m loadedMsg
		// The store shares the few distinct models, segments, tasks and
		// locales across summaries.
		sums, err := st.AllSummaries()
		if err != nil {
			return loadedMsg{err: fmt.Errorf("load summaries: %w", err)}
		}
		m.sums = sums
		slices.Reverse(m.sums)
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
		m.index = filter.Build(len(m.sums), func(i int) filter.Item {
			s := &m.sums[i]
			return filter.Item{Text: s.Snippet, Model: s.Model, Segment: s.Segment, Task: s.Task,
				Locale: s.Locale, Thumb: s.Thumb.String(), Reasons: s.Reasons}
		})
		m.byID = make(map[string]int32, len(m.sums))
		m.marks = make([]filter.Mark, len(m.sums))
		for i := range m.sums {
			m.sums[i].Snippet = m.index.Text(i) // one shared allocation
			id := m.sums[i].ID
			m.byID[id] = int32(i)
			m.marks[i] = markOf(reviewer, m.labels[id], m.sets, id)
			if q, ok := m.queue[id]; ok && assignedTo(q, reviewer) {
				m.qrows = append(m.qrows, int32(i))
			}
		}
		return m
	}
}

// assignedTo reports whether reviewer may take a queued item: anyone may
// take an unassigned one; an overlap item (two reviewers, for agreement)
// only the two it is assigned to.
func assignedTo(q loop.QueueItem, reviewer string) bool {
	return len(q.Reviewers) == 0 || slices.Contains(q.Reviewers, reviewer)
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
	w.sums, w.index, w.byID, w.marks, w.labels, w.sets = m.sums, m.index, m.byID, m.marks, m.labels, m.sets
	w.queue, w.queueRows = m.queue, m.qrows
	w.marksGen++
}

// Queued is why id was sampled for review, if it is in the queue.
func (w *workspace) Queued(id string) (loop.QueueItem, bool) {
	q, ok := w.queue[id]
	return q, ok
}

// queueLeft counts the reviewer's queued items they have not graded yet.
func (w *workspace) queueLeft() int {
	n := 0
	for _, i := range w.queueRows {
		if w.marks[i]&filter.Mine == 0 {
			n++
		}
	}
	return n
}

var gradeMark = map[loop.Grade]filter.Mark{
	loop.GradePass: filter.GradePass, loop.GradeFail: filter.GradeFail, loop.GradeBorderline: filter.GradeBorderline,
}

// markOf computes an item's marks from its current labels and the sets.
func markOf(reviewer string, ls map[string]loop.Label, sets map[loop.SetKind]map[string]loop.SetEntry, id string) filter.Mark {
	var m filter.Mark
	if l, ok := ls[reviewer]; ok {
		m |= filter.Mine | gradeMark[l.Grade]
	} else if g := latestGrade(ls); g != "" {
		m |= gradeMark[g]
	}
	seen := loop.GradeNone
	for _, l := range ls {
		if seen != loop.GradeNone && l.Grade != seen {
			m |= filter.Disagree
		}
		seen = l.Grade
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

func (w *workspace) refreshMark(id string) {
	i, ok := w.byID[id]
	if !ok {
		return
	}
	m := markOf(w.c.reviewer, w.labels[id], w.sets, id)
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

// Labels are the current labels on id, by reviewer.
func (w *workspace) Labels(id string) map[string]loop.Label { return w.labels[id] }

// InSet reports whether id is in the set.
func (w *workspace) InSet(k loop.SetKind, id string) bool {
	_, ok := w.sets[k][id]
	return ok
}

// Draft is the pending label on id, or nil.
func (w *workspace) Draft(id string) *draft { return w.drafts[id] }

func (w *workspace) draftFor(id string) *draft {
	if d := w.drafts[id]; d != nil {
		return d
	}
	d := &draft{}
	if l, ok := w.Mine(id); ok {
		d.Reasons = slices.Clone(l.Reasons)
		d.Note, d.Reference = l.Note, l.Reference
	}
	w.drafts[id] = d
	return d
}

// ToggleReason toggles reason code n (1-based) of the taxonomy on id's draft.
func (w *workspace) ToggleReason(id string, n int) tea.Cmd {
	if n < 1 || n > len(w.c.taxonomy) {
		return statusErr(fmt.Sprintf("no reason code %d: the taxonomy has %d", n, len(w.c.taxonomy)))
	}
	code := w.c.taxonomy[n-1].Code
	d := w.draftFor(id)
	if i := slices.Index(d.Reasons, code); i >= 0 {
		d.Reasons = slices.Delete(d.Reasons, i, i+1)
	} else {
		d.Reasons = append(d.Reasons, code)
	}
	shown := "none"
	if len(d.Reasons) > 0 {
		shown = strings.Join(d.Reasons, ", ")
	}
	return statusInfo(fmt.Sprintf("%s draft reasons: %s (p/f/b saves)", id, shown))
}

// SetNote and SetReference fill id's draft.
func (w *workspace) SetNote(id, s string)      { w.draftFor(id).Note = s }
func (w *workspace) SetReference(id, s string) { w.draftFor(id).Reference = s }

// change is one durable edit of the store, kept for undo.
type change struct {
	seq int
	id  string
	// A label change replaces the reviewer's current label (nil: none).
	isLabel       bool
	before, after *loop.Label
	// A set change adds (after non-nil) or removes an item from a set.
	kind                loop.SetKind
	setBefore, setAfter *loop.SetEntry
	// userEdit: fill an added golden/red-flag entry's empty reference from
	// the event's user edit (read in the write, not in Update).
	userEdit bool
	// undoes is the change this one reverses, if it is an undo.
	undoes *change
	run    func() changeDoneMsg
}

func (c *change) key() string {
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
	delete(w.drafts, id)
	c := &change{id: id, isLabel: true, before: before, after: &l}
	w.undo = append(w.undo, c)
	return w.issue(c)
}

// ToggleSet adds id to or removes it from a set. reference is the golden
// answer to keep (the draft's reference or the user's edit); when it is
// empty and the event has not been read yet, the write reads the user's
// edit itself.
func (w *workspace) ToggleSet(kind loop.SetKind, id, reference string, eventKnown bool) tea.Cmd {
	c := &change{id: id, kind: kind}
	if old, ok := w.sets[kind][id]; ok {
		c.setBefore = &old
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
	return tea.Batch(
		func() tea.Msg { return c.run() },
		func() tea.Msg { return marksChangedMsg{} },
	)
}

// write does a change's store call.
func write(st *store.Store, c *change, reviewer string, now time.Time) (*loop.SetEntry, error) {
	if c.isLabel {
		if c.after != nil {
			return nil, st.PutLabel(*c.after)
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
		return func() tea.Msg { return itemChangedMsg{ID: c.id} }
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
