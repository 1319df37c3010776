package tui

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/assign"
	"github.com/loupe-dev/loupe/loop/filter"
	ilist "github.com/loupe-dev/loupe/loop/inbox"
	"github.com/loupe-dev/loupe/store"
)

// Live refresh of the merged view. The store's watch says which
// interactions' stored views changed (new ones, signals merged, erasures);
// the TUI then re-reads their summaries in a command and builds a new list
// — summaries, filter index, id map — from the old one, which stays
// untouched (searches in flight read it). Update swaps the new list in and
// recomputes the marks. At most one rebuild runs at a time: changes that
// arrive meanwhile wait for the next, so a busy ingest costs one rebuild
// after another, never a pile of them.

type (
	// storeUpdatedMsg says the merged views of IDs changed in the store:
	// an open Item screen re-reads its item.
	storeUpdatedMsg struct{ IDs []string }
	// rebuiltMsg is a new list built from the old one and the store's
	// current summaries of the changed items.
	rebuiltMsg struct {
		items  *ilist.List
		queue  map[string]loop.QueueItem // the review queue, read again
		shared map[string]bool
		err    error
	}
	// sumsSwappedMsg says the workspace's list was replaced: indices into
	// the old one (old) are stale and are mapped by id.
	sumsSwappedMsg struct{ old *ilist.List }
)

// noteUpdated takes changed event ids and returns the rebuild to run, nil
// when one is already running (the ids wait for the next) or the inbox has
// not loaded yet (the load reads them, and they are rebuilt after it).
func (w *workspace) noteUpdated(ids []string) tea.Cmd {
	if w.dirty == nil {
		w.dirty = map[string]bool{}
	}
	for _, id := range ids {
		w.dirty[id] = true
	}
	return w.startRebuild()
}

func (w *workspace) startRebuild() tea.Cmd {
	if !w.loaded || w.rebuilding || len(w.dirty) == 0 {
		return nil
	}
	ids := make([]string, 0, len(w.dirty))
	for id := range w.dirty {
		ids = append(ids, id)
	}
	clear(w.dirty)
	w.rebuilding = true
	return rebuild(w.c.st, w.items, ids, w.c.cfg.Review.Overlap)
}

// rebuild reads the summaries of ids and builds the list that has them:
// changed ones replaced, new ones inserted in list order (newest first),
// erased ones (store.ErrNotFound) removed. old is only read. It
// reads the review queue again too: serve samples what lands, so a late
// thumbs-down enters To review while the reviewer watches.
func rebuild(st *store.Store, old *ilist.List, ids []string, overlap float64) tea.Cmd {
	return func() tea.Msg {
		changed := map[string]*loop.Summary{}
		erased := map[string]bool{}
		var added []loop.Summary
		for _, id := range ids {
			sum, err := st.Summary(id)
			if errors.Is(err, store.ErrNotFound) {
				erased[id] = true
				continue
			}
			if err != nil {
				return rebuiltMsg{err: fmt.Errorf("summary of %s: %w", id, err)}
			}
			if _, ok := old.Find(id); ok {
				changed[id] = &sum
			} else {
				added = append(added, sum)
			}
		}
		slices.SortFunc(added, func(a, b loop.Summary) int { return listOrder(a, b.Time, b.ID) })
		b := ilist.NewBuilder(old.Len() + len(added))
		j := 0
		for i := range old.Len() {
			id := old.ID(i)
			for j < len(added) && listOrder(added[j], old.Time(i), id) < 0 {
				b.Add(&added[j])
				j++
			}
			switch {
			case erased[id]:
			case changed[id] != nil:
				b.Add(changed[id])
			default:
				b.AddFrom(old, i)
			}
		}
		for ; j < len(added); j++ {
			b.Add(&added[j])
		}
		items := b.List()
		m := rebuiltMsg{items: items, queue: map[string]loop.QueueItem{}}
		var qs []loop.QueueItem
		err := st.Queued(func(q loop.QueueItem) error {
			m.queue[q.EventID] = q
			qs = append(qs, q)
			return nil
		})
		if err != nil {
			return rebuiltMsg{err: fmt.Errorf("the review queue: %w", err)}
		}
		m.shared = assign.Shared(qs, overlap)
		return m
	}
}

// listOrder compares a with the item of time bTime and id bID in the
// inbox's order: newest first, then by id descending (the store's order,
// reversed).
func listOrder(a loop.Summary, bTime time.Time, bID string) int {
	if c := bTime.Compare(a.Time); c != 0 {
		return c
	}
	return cmp.Compare(bID, a.ID)
}

// swap takes a rebuilt list: marks and the reviewer's queue rows are
// recomputed for it. It returns the messages that tell the screens, and
// the next rebuild when changes arrived meanwhile.
func (w *workspace) swap(msg rebuiltMsg) tea.Cmd {
	w.rebuilding = false
	if msg.err != nil {
		return tea.Batch(statusErr("refreshing changed items: "+msg.err.Error()), w.startRebuild())
	}
	old := w.items
	w.items, w.index, w.queue, w.shared = msg.items, msg.items.Index(), msg.queue, msg.shared
	w.marks, w.queueRows = marksFor(w.items, w.c.reviewer, w.c.adjudicator, w.labels, w.sets, w.queue, w.shared, w.leases, w.c.clock())
	w.marksGen++
	return tea.Batch(cmdOf(sumsSwappedMsg{old: old}), cmdOf(marksChangedMsg{}), w.startRebuild())
}

// marksFor computes every item's marks, and the rows of the queued items
// the reviewer may take.
func marksFor(items *ilist.List, reviewer string, adjudicator bool, labels map[string]map[string]loop.Label,
	sets map[loop.SetKind]map[string]loop.SetEntry, queue map[string]loop.QueueItem, shared map[string]bool,
	leases map[string]store.Lease, now time.Time) ([]filter.Mark, []int32) {
	// Only items with a label, a set entry or a queue entry have marks:
	// those are looked up by id, instead of a million map lookups for
	// the rest (a tenth of the start-up at 1M).
	marks := make([]filter.Mark, items.Len())
	mark := func(id string) (int, bool) {
		i, ok := items.Find(id)
		if ok {
			marks[i] = markOf(reviewer, adjudicator, labels[id], sets, id)
		}
		return i, ok
	}
	for id := range labels {
		mark(id)
	}
	for _, set := range sets {
		for id := range set {
			mark(id)
		}
	}
	var qrows []int32
	for id, q := range queue { // last: Taken is added to the mark
		i, ok := mark(id)
		if ok && (len(q.Reviewers) == 0 || slices.Contains(q.Reviewers, reviewer)) {
			qrows = append(qrows, int32(i))
			if taken(reviewer, q, shared[id], labels[id], leases[id], now) {
				marks[i] |= filter.Taken
			}
		}
	}
	slices.Sort(qrows)
	return marks, qrows
}
