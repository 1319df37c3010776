package sample

import "github.com/loupe-dev/loupe/loop"

// Keep is edge sampling (intake.keep): which interactions the store keeps
// in full. The rest are only counted in the aggregates (package agg), so
// rates stay exact while the store holds the sample.
//
// An interaction is kept when any rule picks it: it matches the rule's kind
// (Rule.Matches) and falls in the rule's Share. Unlike the review queue's
// draw, the share depends on nothing but the rule's name and the event id
// (no seed, no day): every loupe process, on any machine, in any order,
// keeps the same interactions. A nil or empty Keep keeps everything.
type Keep []Rule

// Keeps reports whether the interaction with summary s is stored in full.
func (k Keep) Keeps(s *loop.Summary) bool {
	if len(k) == 0 {
		return true
	}
	for _, r := range k {
		if r.Matches(s) && keepHasher.pick(r.Name, s.ID, r.Share) {
			return true
		}
	}
	return false
}

// keepHasher's prefix is fixed: the keep draw must not change with a seed
// or a day.
var keepHasher = hasher{fnvAdd(fnvOffset, "loupe intake.keep")}
