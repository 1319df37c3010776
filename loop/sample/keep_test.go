package sample

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

func TestKeep(t *testing.T) {
	if !(Keep(nil)).Keeps(&loop.Summary{ID: "a"}) {
		t.Fatal("no rules must keep everything")
	}
	k := Keep{
		{Name: "random", Kind: KindRandom, Share: 0.05},
		{Name: "down", Kind: KindThumbsDown, Share: 1},
		{Name: "esc", Kind: KindEscalated, Share: 1},
		{Name: "ent", Kind: KindSegment, Share: 1, Segments: []string{"enterprise"}},
		{Name: "policy", Kind: KindPolicy, Share: 1},
	}
	n, kept := 200000, 0
	for i := range n {
		s := loop.Summary{ID: fmt.Sprintf("ev-%d", i), Time: time.Unix(int64(i)*997, 0), Thumb: loop.ThumbUp}
		if k.Keeps(&s) {
			kept++
		}
		// Deterministic: the same answer again, whatever the time.
		s2 := s
		s2.Time = s.Time.Add(1000 * time.Hour)
		if k.Keeps(&s) != k.Keeps(&s2) {
			t.Fatal("the keep draw depends on the time")
		}
	}
	share := float64(kept) / float64(n)
	if se := math.Sqrt(0.05 * 0.95 / float64(n)); math.Abs(share-0.05) > 5*se {
		t.Fatalf("random 5%% kept %.4f", share)
	}
	for _, s := range []loop.Summary{
		{ID: "x1", Thumb: loop.ThumbDown},
		{ID: "x2", Escalated: true},
		{ID: "x3", Segment: "enterprise"},
		{ID: "x4", PolicyViolation: true},
	} {
		if !k.Keeps(&s) {
			t.Fatalf("%+v not kept", s)
		}
	}
	// A share of 0 keeps none of its matches; other rules still apply.
	none := Keep{{Name: "random", Kind: KindRandom, Share: 0}}
	if none.Keeps(&loop.Summary{ID: "y"}) {
		t.Fatal("share 0 kept an event")
	}
}
