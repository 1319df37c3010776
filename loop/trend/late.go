package trend

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// Late data: a metric counts on its interaction's UTC day, so a signal
// dated on a later day (a purchase three days on, a judge run overnight)
// revises a day that had already ended. Trends say how much of that there
// is, so a reader knows the most recent days may still move.

// LateSignal is one signal about a stored interaction: the interaction's
// id and time (the day its metrics count on) and the signal's own time.
type LateSignal struct {
	EventID string
	Event   time.Time
	Signal  time.Time
}

// LateDay is one UTC day that signals revised after it ended. Signals is
// how many signals dated on a later day are about that day's interactions,
// Events how many of the day's interactions they touched, Share Events
// over all of the day's interactions (NaN, null in JSON, when the day's
// interactions are not known).
type LateDay struct {
	Day     string  `json:"day"`
	Signals int     `json:"signals"`
	Events  int     `json:"events"`
	Share   float64 `json:"-"`
}

// MarshalJSON writes Share as "share", null when NaN.
func (d LateDay) MarshalJSON() ([]byte, error) {
	return marshal(struct {
		Day     string `json:"day"`
		Signals int    `json:"signals"`
		Events  int    `json:"events"`
		Share   Num    `json:"share"`
	}{d.Day, d.Signals, d.Events, Num(d.Share)})
}

// Late counts, per interaction day of the window of days ending on end's
// UTC day, the signals dated on a later UTC day and the interactions they
// touched; items (the stored summaries) give each day's interactions for
// the share. Signals are stored only for interactions stored in full, so
// with edge sampling the share is over the stored sample, not over the
// interactions only in the aggregates. Days nothing revised are left out; the rest come oldest
// first. A signal dated on or before its interaction's day revises
// nothing that had ended.
func Late(sigs []LateSignal, items []loop.Summary, days int, end time.Time) []LateDay {
	var c lateCounter
	for _, s := range sigs {
		c.add(s.EventID, s.Event, s.Signal)
	}
	return c.days(items, days, end)
}

// LateFromSignals is Late over the signals each yields (store.AllSignals
// fits), with each signal's interaction looked up in items by id; a signal
// whose interaction is not stored (pending) revises nothing yet.
func LateFromSignals(items []loop.Summary, each func(func(*loop.Signal) error) error, days int, end time.Time) ([]LateDay, error) {
	at := make(map[string]time.Time, len(items))
	for i := range items {
		at[items[i].ID] = items[i].Time
	}
	var c lateCounter
	err := each(func(sg *loop.Signal) error {
		if t, ok := at[sg.EventID]; ok {
			c.add(sg.EventID, t, sg.Timestamp)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c.days(items, days, end), nil
}

// lateCounter accumulates late signals per interaction day.
type lateCounter struct {
	per map[int64]*lateAcc
}

type lateAcc struct {
	signals int
	events  map[string]struct{}
}

func (c *lateCounter) add(eventID string, event, signal time.Time) {
	d := dayIndex(event)
	if dayIndex(signal) <= d {
		return
	}
	if c.per == nil {
		c.per = map[int64]*lateAcc{}
	}
	a := c.per[d]
	if a == nil {
		a = &lateAcc{events: map[string]struct{}{}}
		c.per[d] = a
	}
	a.signals++
	a.events[eventID] = struct{}{}
}

func (c *lateCounter) days(items []loop.Summary, days int, end time.Time) []LateDay {
	last := dayIndex(end)
	first := last - int64(days) + 1
	idx := make([]int64, 0, len(c.per))
	for d := range c.per {
		if d >= first && d <= last {
			idx = append(idx, d)
		}
	}
	if len(idx) == 0 {
		return nil
	}
	sort.Slice(idx, func(i, j int) bool { return idx[i] < idx[j] })
	total := make(map[int64]int, len(idx))
	for _, d := range idx {
		total[d] = 0
	}
	for i := range items {
		d := dayIndex(items[i].Time)
		if n, ok := total[d]; ok {
			total[d] = n + 1
		}
	}
	out := make([]LateDay, len(idx))
	for i, d := range idx {
		a := c.per[d]
		share := math.NaN()
		if n := total[d]; n > 0 {
			share = float64(len(a.events)) / float64(n)
		}
		out[i] = LateDay{Day: dayString(d), Signals: a.signals, Events: len(a.events), Share: share}
	}
	return out
}

// LateLine is the one line every front end prints about late data: how
// many signals revised how many past days, and the most recent of them.
func LateLine(days []LateDay) string {
	if len(days) == 0 {
		return "late data: no signal revised a day after it ended"
	}
	n := 0
	for _, d := range days {
		n += d.Signals
	}
	recent := days[len(days)-1]
	they := "they"
	if len(days) == 1 {
		they = "it"
	}
	return fmt.Sprintf("late data: %s revised %s after %s ended (most recent %s: %d); recent days may still move",
		plural(n, "signal"), plural(len(days), "past day"), they, recent.Day, recent.Signals)
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
