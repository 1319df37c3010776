package assign

import (
	"fmt"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

func TestSharedExact(t *testing.T) {
	var q []loop.QueueItem
	for i := range 100 {
		q = append(q, loop.QueueItem{EventID: fmt.Sprintf("e%03d", i), Day: "2026-11-20"})
	}
	for i := range 7 {
		q = append(q, loop.QueueItem{EventID: fmt.Sprintf("f%d", i), Day: "2026-11-21"})
	}
	s := Shared(q, 0.2)
	day1, day2 := 0, 0
	for id := range s {
		if id[0] == 'e' {
			day1++
		} else {
			day2++
		}
	}
	if day1 != 20 || day2 != 1 { // round(0.2 × 7) = 1
		t.Fatalf("shared per day %d, %d", day1, day2)
	}
	// Order does not matter.
	rev := make([]loop.QueueItem, len(q))
	for i := range q {
		rev[len(q)-1-i] = q[i]
	}
	s2 := Shared(rev, 0.2)
	for id := range s {
		if !s2[id] {
			t.Fatalf("%s shared in one order only", id)
		}
	}
	if len(Shared(q, 0)) != 0 || len(Shared(q, 1)) != len(q) {
		t.Error("overlap 0 or 1")
	}
	if s := Shared([]loop.QueueItem{{EventID: "x", Reviewers: []string{"a", "b"}}}, 0); !s["x"] {
		t.Error("an item with named reviewers is shared")
	}
}

func TestMine(t *testing.T) {
	now := time.Unix(1000, 0)
	tests := []struct {
		s    State
		who  string
		want bool
	}{
		{State{Shared: true, GradedBy: []string{"bob"}}, "ann", true},
		{State{}, "ann", true},
		{State{GradedBy: []string{"bob"}}, "ann", false},
		{State{GradedBy: []string{"ann"}}, "ann", true},
		{State{LeasedBy: "bob", LeaseUntil: now.Add(time.Minute)}, "ann", false},
		{State{LeasedBy: "bob", LeaseUntil: now}, "ann", true}, // expired
		{State{LeasedBy: "ann", LeaseUntil: now.Add(time.Minute)}, "ann", true},
		{State{Reviewers: []string{"bob", "cy"}}, "ann", false},
		{State{Reviewers: []string{"bob", "ann"}}, "ann", true},
	}
	for i, tt := range tests {
		if got := Mine(tt.s, tt.who, now); got != tt.want {
			t.Errorf("%d: %+v for %s = %v", i, tt.s, tt.who, got)
		}
	}
}
