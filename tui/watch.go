package tui

import (
	"fmt"

	tea "charm.land/bubbletea/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
)

// Following other views of the same store: several SSH sessions of one
// `loupe serve` share a Store, and each session's model learns of the
// others' labels and set changes through store.Watch, and of changed
// merged views (new interactions, signals, erasures; see live.go).
//
// A change message only says what changed; the labels and set entries are
// then read back from the store in a command, because the watch channel
// drops changes when its reader is slow, and reading the truth makes a
// dropped message cost nothing but a late refresh.

// ChangeMsg carries changes made through the store (by this view or by
// others), as received from a store.Watch channel by WatchCmd.
type ChangeMsg struct {
	Changes []store.Change
}

// aggregatesChangedMsg says the aggregates of the interactions edge
// sampling did not store in full changed (a store.Change with Aggregates):
// the Trends screen reads them again, in the command that recomputes it
// (Update does no I/O).
type aggregatesChangedMsg struct{}

// WatchCmd waits for the next change on ch and returns it, with any others
// already queued, as a ChangeMsg; nil once ch is closed. Whoever handles a
// ChangeMsg issues WatchCmd again to keep following.
func WatchCmd(ch <-chan store.Change) tea.Cmd {
	return func() tea.Msg {
		c, ok := <-ch
		if !ok {
			return nil
		}
		msg := ChangeMsg{Changes: []store.Change{c}}
		for len(msg.Changes) < 256 {
			select {
			case c, ok := <-ch:
				if !ok {
					return msg
				}
				msg.Changes = append(msg.Changes, c)
			default:
				return msg
			}
		}
		return msg
	}
}

// Watching returns m following the changes on ch (from st.Watch() of the
// store m was built on): other reviewers' grades and set changes show up
// without a reload. The caller stops the watch after the program ends,
// which also ends the waiting command.
func Watching(m *Model, ch <-chan store.Change) tea.Model {
	return &watching{Model: m, ch: ch}
}

type watching struct {
	*Model
	ch   <-chan store.Change
	held []watchedMsg // read before the inbox loaded
}

// watchedMsg is the store's state of the changed items, read in a command.
type watchedMsg struct {
	seq    int                                        // the workspace's change seq when the read was asked for
	labels map[string][]loop.Label                    // event id → its current labels
	sets   map[loop.SetKind]map[string]*loop.SetEntry // kind → event id → entry, nil when out of the set
	leases map[string]*store.Lease                    // event id → its lease, nil when none
	err    error
}

func (w *watching) Init() tea.Cmd {
	return tea.Batch(w.Model.Init(), WatchCmd(w.ch))
}

func (w *watching) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case ChangeMsg:
		cmds := []tea.Cmd{readWatched(w.c.st, msg.Changes, w.ws.seq), WatchCmd(w.ch)}
		var updated []string
		aggregates := false
		for _, c := range msg.Changes {
			if c.Updated {
				updated = append(updated, c.Events...)
			}
			aggregates = aggregates || c.Aggregates
		}
		if len(updated) > 0 {
			cmds = append(cmds, w.ws.noteUpdated(updated), cmdOf(storeUpdatedMsg{IDs: updated}))
		}
		if aggregates {
			// One message for a batch of changes: the Trends screen
			// recomputes (reading the aggregates) at most once at a time.
			cmds = append(cmds, cmdOf(aggregatesChangedMsg{}))
		}
		return w, tea.Batch(cmds...)
	case watchedMsg:
		if msg.err != nil {
			return w, statusErr("refreshing after another reviewer's change: " + msg.err.Error())
		}
		if !w.ws.loaded {
			w.held = append(w.held, msg)
			return w, nil
		}
		return w, w.ws.applyWatched(msg)
	case loadedMsg:
		_, cmd := w.Model.Update(msg)
		cmds := []tea.Cmd{cmd}
		if w.ws.loaded {
			for _, h := range w.held {
				cmds = append(cmds, w.ws.applyWatched(h))
			}
			w.held = nil
			cmds = append(cmds, w.ws.startRebuild()) // changes noted while loading
		}
		return w, tea.Batch(cmds...)
	}
	_, cmd := w.Model.Update(msg)
	return w, cmd
}

// readLabelsCmd re-reads one item's labels, as if a change notice had come.
func readLabelsCmd(st *store.Store, id string, seq int) tea.Cmd {
	l := loop.Label{EventID: id}
	return readWatched(st, []store.Change{{EventID: id, Label: &l}}, seq)
}

// readWatched reads the current labels and set entries of the changed
// events.
func readWatched(st *store.Store, cs []store.Change, seq int) tea.Cmd {
	return func() tea.Msg {
		msg := watchedMsg{seq: seq, labels: map[string][]loop.Label{}, sets: map[loop.SetKind]map[string]*loop.SetEntry{}, leases: map[string]*store.Lease{}}
		for _, c := range cs {
			if c.Lease {
				msg.leases[c.EventID] = nil
			}
			if c.Label != nil {
				if _, done := msg.labels[c.EventID]; done {
					continue
				}
				ls, err := st.Labels(c.EventID)
				if err != nil {
					return watchedMsg{err: fmt.Errorf("labels of %s: %w", c.EventID, err)}
				}
				if ls == nil {
					ls = []loop.Label{}
				}
				msg.labels[c.EventID] = ls
			}
			if c.Set != "" {
				if msg.sets[c.Set] == nil {
					msg.sets[c.Set] = map[string]*loop.SetEntry{}
				}
				msg.sets[c.Set][c.EventID] = nil
			}
		}
		if len(msg.leases) > 0 {
			err := st.Leases(func(l store.Lease) error {
				if _, ok := msg.leases[l.EventID]; ok {
					msg.leases[l.EventID] = &l
				}
				return nil
			})
			if err != nil {
				return watchedMsg{err: fmt.Errorf("leases: %w", err)}
			}
		}
		for kind, ids := range msg.sets {
			err := st.SetEntries(kind, func(e loop.SetEntry) error {
				if _, ok := ids[e.EventID]; ok {
					ids[e.EventID] = &e
				}
				return nil
			})
			if err != nil {
				return watchedMsg{err: fmt.Errorf("%s set: %w", kind, err)}
			}
		}
		return msg
	}
}

// applyWatched takes the store's state of changed items into memory. What
// this view itself changed (its reviewer's label, a set toggle) stays as
// it is in memory while the write is in flight or when it was changed
// after the read was asked for: memory is then newer than what was read.
func (w *workspace) applyWatched(msg watchedMsg) tea.Cmd {
	ours := func(c *change) bool { return w.ours(c.key(), msg.seq) }
	var cmds []tea.Cmd
	for id, ls := range msg.labels {
		mine, hadMine := w.labels[id][w.c.reviewer]
		keepMine := ours(&change{id: id, isLabel: true})
		cur := map[string]loop.Label{}
		for _, l := range ls {
			if l.Reviewer == w.c.reviewer && keepMine {
				continue
			}
			cur[l.Reviewer] = l
		}
		if keepMine && hadMine {
			cur[w.c.reviewer] = mine
		}
		if len(cur) == 0 {
			delete(w.labels, id)
		} else {
			w.labels[id] = cur
		}
		w.refreshMark(id)
		cmds = append(cmds, cmdOf(itemChangedMsg{ID: id}))
	}
	for kind, entries := range msg.sets {
		if w.sets[kind] == nil {
			w.sets[kind] = map[string]loop.SetEntry{}
		}
		for id, e := range entries {
			if ours(&change{id: id, kind: kind}) {
				continue
			}
			if e == nil {
				delete(w.sets[kind], id)
			} else {
				w.sets[kind][id] = *e
			}
			w.refreshMark(id)
			cmds = append(cmds, cmdOf(itemChangedMsg{ID: id}))
		}
	}
	for id, l := range msg.leases {
		if id == w.held {
			continue // ours: memory knows best
		}
		if l == nil {
			delete(w.leases, id)
		} else {
			w.leases[id] = *l
		}
		w.refreshMark(id)
	}
	return tea.Batch(append(cmds, cmdOf(marksChangedMsg{}))...)
}
