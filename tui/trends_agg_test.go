package tui

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
)

// storeWithAggregates is a closed store at a temp dir holding the trend
// events with the thumbs-down ones and every third other stored in full,
// and the aggregates of the rest written as store/agg.go lays them out
// (edge sampling's write side, whatever writes it). It returns the dir,
// every interaction's summary and how many are stored.
func storeWithAggregates(t *testing.T) (dir string, all []loop.Summary, stored int) {
	t.Helper()
	dir = t.TempDir()
	st, err := store.Open(dir, store.Options{Holder: "loupe tui test"})
	if err != nil {
		t.Fatal(err)
	}
	var kept []*loop.Event
	rest := agg.New()
	for i, e := range trendEvents() {
		s := loop.Summarize(e)
		all = append(all, s)
		if s.Thumb == loop.ThumbDown || i%3 == 0 {
			kept = append(kept, e)
		} else {
			rest.Add(&s, 1)
		}
	}
	if _, err := st.PutEvents(kept); err != nil {
		t.Fatal(err)
	}
	st.Close()
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil).WithCompression(options.None).WithSyncWrites(true))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(txn *badger.Txn) error {
		for _, k := range rest.Keys() {
			key := binary.BigEndian.AppendUint64([]byte{'Z'}, uint64(k.Day)^(1<<63))
			key = append(append(append(append(append(key, k.Model...), 0), k.Segment...), 0), k.Task...)
			if err := txn.Set(key, agg.AppendCell(nil, rest.Get(k))); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	return dir, all, len(kept)
}

// TestTrendsCountAggregates: the Trends screen reads the aggregates with
// the labels, so its numbers are over every interaction, and it says how
// many are stored in full.
func TestTrendsCountAggregates(t *testing.T) {
	dir, all, stored := storeWithAggregates(t)
	st, err := store.Open(dir, store.Options{Holder: "loupe tui test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := newHarness(t, st, 160, 45)
	h.press("tab", "tab", "tab")
	v := plain(h.m)
	want := fmt.Sprintf("edge sampling: %d interactions, %d stored in full", len(all), stored)
	if !strings.Contains(v, want) {
		t.Fatalf("trends lack %q:\n%s", want, v)
	}
	ov := h.m.screens[screenTrends].(*trendsView).ov
	whole := trend.Data{Items: all}
	end := whole.Newest()
	for _, km := range ov.keys {
		if km.metric == trend.PassRate {
			continue // no grades here
		}
		w, _ := trend.WindowValue(km.metric, whole, goalDays, end)
		ok := km.now == w || math.IsNaN(km.now) && math.IsNaN(w)
		if trend.IsLatency(km.metric) {
			ok = math.Abs(km.now-w) <= (agg.Accuracy+1e-6)*w
		}
		if !ok {
			t.Errorf("%s now %v, over every interaction %v", km.metric, km.now, w)
		}
	}
	if got, w := trend.Alerts(trend.Data{Items: all}, h.m.c.guards.Policy(), end), ov.alerts; len(w) == 0 || len(got) != len(w) || got[0].ID != w[0].ID || got[0].NAfter != w[0].NAfter {
		t.Errorf("alerts over every interaction %+v, on screen %+v", got, w)
	}
}

// TestTrendsRecomputeOnAggregatesChange: a store change that says the
// aggregates moved makes the Trends screen read them again (in a command,
// as the harness runs them), and later on when it is not shown.
func TestTrendsRecomputeOnAggregatesChange(t *testing.T) {
	dir, _, _ := storeWithAggregates(t)
	st, err := store.Open(dir, store.Options{Holder: "loupe tui test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	h := newHarness(t, st, 160, 45)
	closed := make(chan store.Change)
	close(closed)
	h.root = Watching(h.m, closed)
	tv := h.m.screens[screenTrends].(*trendsView)
	h.press("tab", "tab", "tab")
	seq, ov := tv.seq, tv.ov
	if ov == nil || ov.rest.Events() == 0 {
		t.Fatal("the overview did not read the aggregates")
	}
	h.send(ChangeMsg{Changes: []store.Change{{Updated: true}}})
	if tv.seq != seq {
		t.Fatal("recomputed without an aggregates change")
	}
	h.send(ChangeMsg{Changes: []store.Change{{Aggregates: true}, {Aggregates: true}}})
	if tv.seq != seq+1 || tv.ov == ov || tv.computing || tv.ov.rest.Events() != ov.rest.Events() {
		t.Fatalf("after an aggregates change: seq %d (was %d), computing %v", tv.seq, seq, tv.computing)
	}
	// Not shown: noted, and computed when the screen comes back.
	h.press("tab")
	h.send(ChangeMsg{Changes: []store.Change{{Aggregates: true}}})
	if tv.seq != seq+1 || !tv.dirty {
		t.Fatalf("hidden: seq %d, dirty %v", tv.seq, tv.dirty)
	}
	h.press("shift+tab")
	if tv.seq != seq+2 || tv.dirty {
		t.Fatalf("shown again: seq %d, dirty %v", tv.seq, tv.dirty)
	}
}
