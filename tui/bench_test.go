package tui

import (
	"fmt"
	"slices"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/loupe-dev/loupe/loop"
)

// BenchmarkGradeDurable is the durable commit of one grade: store.PutLabel
// on a real store (Badger, SyncWrites), p50/p99 per commit.
func BenchmarkGradeDurable(b *testing.B) {
	st, _ := openStore(b, 200)
	ds := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		l, err := loop.NewLabel(fmt.Sprintf("evt-%03d", i%200), "alice", loop.GradeFail, []string{"too_long"}, "note", "", t0.Add(time.Duration(i)))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if err := st.PutLabel(l); err != nil {
			b.Fatal(err)
		}
		ds = append(ds, time.Since(start))
		i++
	}
	b.ReportMetric(pctMS(ds, 50), "p50-ms")
	b.ReportMetric(pctMS(ds, 99), "p99-ms")
}

// BenchmarkGradeKeyToScreen is a grade key in Update plus the next View:
// what the reviewer waits for before the next item shows (the write runs
// in a command, not here).
func BenchmarkGradeKeyToScreen(b *testing.B) {
	st, _ := openStore(b, 2000)
	h := newHarness(b, st, 200, 50)
	ds := make([]time.Duration, 0, b.N)
	keys := []tea.KeyPressMsg{keyMsg("p"), keyMsg("f"), keyMsg("b")}
	i := 0
	for b.Loop() {
		if h.m.inbox.atEnd || h.m.inbox.list.cursor >= len(h.m.inbox.rows)-1 {
			h.press("home")
		}
		start := time.Now()
		h.m.Update(keys[i%3])
		_ = h.m.View()
		ds = append(ds, time.Since(start))
		i++
	}
	b.StopTimer()
	h.m.Close()
	b.ReportMetric(pctMS(ds, 50), "p50-ms")
	b.ReportMetric(pctMS(ds, 99), "p99-ms")
}

func pctMS(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)-1)*p/100]) / float64(time.Millisecond)
}

// BenchmarkLiveRebuild is the command a merged-view change costs an open
// session: one changed summary read, the list, filter index and id map
// rebuilt from the old ones, over 20,000 items.
func BenchmarkLiveRebuild(b *testing.B) {
	st, _ := openStore(b, 20000)
	h := newHarness(b, st, 120, 40)
	ws := h.m.ws
	for b.Loop() {
		msg := rebuild(st, ws.items, []string{"evt-100"}, 0.2)().(rebuiltMsg)
		if msg.err != nil || msg.items.Len() != 20000 {
			b.Fatal(msg.err, msg.items.Len())
		}
	}
}
