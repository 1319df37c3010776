// Package assign deals the review queue out to reviewers: a share of it
// (review.overlap) goes to every reviewer, so their agreement can be
// measured on the same items, and the rest is split so that each item is
// graded once. Who takes a split item is decided as reviewers work: the
// first to open it holds a lease on it, and once someone has graded it it
// is nobody else's.
//
// It is pure: the TUI hands it the queue, the labels and the leases.
package assign

import (
	"cmp"
	"hash/fnv"
	"math"
	"slices"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// Shared picks the queue items every reviewer grades: in each sampled day,
// the round(overlap × n) items with the lowest hash of their id, so the
// choice is exact, stable while a day's sample is, and independent of
// order. An item assigned to named reviewers by an older loupe sample
// (QueueItem.Reviewers) is shared among those.
func Shared(queue []loop.QueueItem, overlap float64) map[string]bool {
	out := map[string]bool{}
	byDay := map[string][]loop.QueueItem{}
	for _, q := range queue {
		if len(q.Reviewers) > 0 {
			out[q.EventID] = true
			continue
		}
		byDay[q.Day] = append(byDay[q.Day], q)
	}
	if !(overlap > 0) {
		return out
	}
	for _, items := range byDay {
		k := int(math.Round(min(overlap, 1) * float64(len(items))))
		type ranked struct {
			h  uint64
			id string
		}
		rs := make([]ranked, len(items))
		for i, q := range items {
			rs[i] = ranked{hash(q.EventID), q.EventID}
		}
		slices.SortFunc(rs, func(a, b ranked) int {
			if c := cmp.Compare(a.h, b.h); c != 0 {
				return c
			}
			return cmp.Compare(a.id, b.id)
		})
		for _, r := range rs[:k] {
			out[r.id] = true
		}
	}
	return out
}

func hash(id string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("overlap\x00"))
	h.Write([]byte(id))
	return h.Sum64()
}

// State is what decides whether a queue item is a reviewer's to take.
type State struct {
	// Shared: every reviewer grades it.
	Shared bool
	// Reviewers named on the queue item (an older sample's pair), if any.
	Reviewers []string
	// GradedBy are the reviewers with a current label on it.
	GradedBy []string
	// Lease is who has it open and until when ("" for nobody).
	LeasedBy   string
	LeaseUntil time.Time
}

// Mine reports whether reviewer may take the item now: a shared item is
// everyone's (or its named reviewers'); a split item is theirs unless
// another reviewer graded it or holds a live lease on it.
func Mine(s State, reviewer string, now time.Time) bool {
	if len(s.Reviewers) > 0 {
		return slices.Contains(s.Reviewers, reviewer)
	}
	if s.Shared {
		return true
	}
	for _, r := range s.GradedBy {
		if r != reviewer {
			return false
		}
	}
	return s.LeasedBy == "" || s.LeasedBy == reviewer || !s.LeaseUntil.After(now)
}

// LeaseTime is how long a reviewer holds an item they opened; viewing it
// renews the lease.
const LeaseTime = 10 * time.Minute
