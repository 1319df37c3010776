package store

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// The inbox scan (two time halves at once, decoded without copies) holds
// exactly the store's summaries, newest first, whatever the times: spread,
// equal at the middle of the span, or all one instant.
func TestInboxIsTheSummariesNewestFirst(t *testing.T) {
	cases := map[string]func(i int) time.Time{
		"spread":      func(i int) time.Time { return t0.Add(time.Duration((i*7919)%600) * time.Minute) },
		"middle":      func(i int) time.Time { return t0.Add(time.Duration(min(i, 300)) * time.Minute) },
		"one instant": func(int) time.Time { return t0 },
	}
	for name, at := range cases {
		t.Run(name, func(t *testing.T) {
			st := openT(t)
			var evs []*loop.Event
			for i := 0; i < 600; i++ {
				e := ev(fmt.Sprintf("e%03d", i), at(i), fmt.Sprintf("text %d", i))
				e.TaskType = []string{"support", "code", ""}[i%3]
				e.Locale = []string{"en-US", "de-DE"}[i%2]
				if i%4 == 0 {
					e.Explicit.ReasonCodes = append(e.Explicit.ReasonCodes, "tone")
				}
				if i%5 == 0 {
					e.Explicit = nil
				}
				evs = append(evs, e)
			}
			if _, err := st.PutEvents(evs); err != nil {
				t.Fatal(err)
			}
			want, err := st.AllSummaries()
			if err != nil || len(want) != 600 {
				t.Fatalf("%d summaries, %v", len(want), err)
			}
			slices.Reverse(want)
			l, err := st.Inbox()
			if err != nil {
				t.Fatal(err)
			}
			if got := l.Summaries(); !reflect.DeepEqual(got, want) {
				t.Fatalf("inbox differs from the summaries: %d items, first %+v, want %+v", len(got), got[0], want[0])
			}
		})
	}
	l, err := openT(t).Inbox()
	if err != nil || l.Len() != 0 {
		t.Fatalf("empty store: %d items, %v", l.Len(), err)
	}
}
