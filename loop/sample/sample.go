// Package sample fills the daily "to review" queue from the day's events by
// a list of rules: a random share of everything, every thumbs-down, policy
// hits, low-confidence answers, chosen segments and task types, and a share
// of successes so the queue is not all failures.
//
// Selection is deterministic: whether a rule with a share picks an event
// depends only on a hash of (seed, day, rule name, event id), never on the
// order the events arrive in or on a random number generator's state. The
// same day, seed and events always give the same queue, so a re-run of
// `loupe sample` is idempotent, and a different day draws a fresh sample.
package sample

import (
	"cmp"
	"encoding/binary"
	"math"
	"slices"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// Rule kinds.
const (
	// KindRandom picks a Share of all the day's events.
	KindRandom = "random"
	// KindThumbsDown picks (a Share of) the events with a thumbs-down.
	KindThumbsDown = "thumbs_down"
	// KindPolicy picks (a Share of) the events flagged as a policy violation
	// or with toxicity >= Threshold; a Threshold of 0 uses the flag only.
	KindPolicy = "policy"
	// KindSegment picks (a Share of) the events from the listed Segments.
	KindSegment = "segment"
	// KindLowConfidence picks (a Share of) the events whose output
	// confidence is below Threshold; events without a confidence are never
	// picked.
	KindLowConfidence = "low_confidence"
	// KindTask picks (a Share of) the events of the listed Tasks, for the
	// task types known to go wrong.
	KindTask = "task"
	// KindEscalated picks (a Share of) the events handed to a human
	// (implicit.escalated).
	KindEscalated = "escalated"
	// KindSuccesses picks a Share of the successes — thumbs-up, or resolved
	// without a thumbs-down — so reviewers also see what good looks like and
	// pass rates are not measured on failures alone.
	KindSuccesses = "successes"
)

// Kinds lists every rule kind, in the order the docs present them.
func Kinds() []string {
	return []string{KindRandom, KindThumbsDown, KindPolicy, KindEscalated, KindSegment, KindLowConfidence, KindTask, KindSuccesses}
}

// Rule is one way an event gets into the review queue.
//
// Share is the fraction (0–1) of the matching events to pick: 1 picks every
// match, 0 none. Threshold is used by KindPolicy (toxicity at or above it)
// and KindLowConfidence (confidence below it); Segments and Tasks by
// KindSegment and KindTask. Name is what the queue shows as the reason an
// item was picked; names should be unique.
type Rule struct {
	Name      string   `yaml:"name"`
	Kind      string   `yaml:"kind"`
	Share     float64  `yaml:"share"`
	Segments  []string `yaml:"segments,omitempty"`
	Tasks     []string `yaml:"tasks,omitempty"`
	Threshold float64  `yaml:"threshold,omitempty"`
}

// DefaultRules are the built-in rules: a 5% random sample, every
// thumbs-down, every policy hit (toxicity >= 0.5), every answer with
// confidence below 0.4, and 3% of successes.
func DefaultRules() []Rule {
	return []Rule{
		{Name: "random", Kind: KindRandom, Share: 0.05},
		{Name: "thumbs_down", Kind: KindThumbsDown, Share: 1},
		{Name: "policy", Kind: KindPolicy, Share: 1, Threshold: 0.5},
		{Name: "low_confidence", Kind: KindLowConfidence, Share: 1, Threshold: 0.4},
		{Name: "successes", Kind: KindSuccesses, Share: 0.03},
	}
}

// Matches reports whether s is the kind of event r looks for, before its
// Share is applied. An unknown kind matches nothing.
func (r Rule) Matches(s *loop.Summary) bool {
	switch r.Kind {
	case KindRandom:
		return true
	case KindThumbsDown:
		return s.Thumb == loop.ThumbDown
	case KindPolicy:
		// Absent toxicity reads as 0, so a threshold of 0 means the flag only.
		return s.PolicyViolation || (r.Threshold > 0 && float64(s.Toxicity) >= r.Threshold)
	case KindEscalated:
		return s.Escalated
	case KindSegment:
		return slices.Contains(r.Segments, s.Segment)
	case KindLowConfidence:
		return s.Confidence >= 0 && float64(s.Confidence) < r.Threshold
	case KindTask:
		return slices.Contains(r.Tasks, s.Task)
	case KindSuccesses:
		return s.Thumb == loop.ThumbUp || (s.Thumb != loop.ThumbDown && s.Resolved == 1)
	}
	return false
}

// Item is one queued event and why it was queued.
type Item struct {
	ID string
	// Why names, in rule order, every rule that picked the event.
	Why []string
	// Reviewers is set only on overlap items: the two reviewers who should
	// both grade it, so that their agreement can be measured.
	Reviewers []string
}

// Result is a day's sample.
type Result struct {
	// Items in event time order (then id); each event at most once.
	Items []Item
	// PerRule counts the items each rule picked, by rule name; an item
	// picked by several rules counts for each. Every rule has an entry.
	PerRule map[string]int
}

// Sample picks the review queue for day (the UTC calendar day that day falls
// on) from items, by rules. Events outside that day, events in already (ids
// queued or reviewed before), and repeated ids are skipped, so no event is
// queued twice. An event several rules pick appears once, with every rule's
// name in Why.
//
// overlap is the share of the picked items assigned to two reviewers, drawn
// from reviewers, so inter-rater agreement can be measured; it is exact
// (rounded to the nearest item), and which items and which pair are chosen
// is deterministic. With fewer than two distinct reviewers no item is
// assigned.
func Sample(day time.Time, seed int64, items []loop.Summary, rules []Rule, already map[string]bool, overlap float64, reviewers []string) Result {
	y, m, d := day.UTC().Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(0, 0, 1)
	h := newHasher(seed, start)

	res := Result{Items: []Item{}, PerRule: make(map[string]int, len(rules))}
	for _, r := range rules {
		res.PerRule[r.Name] += 0
	}
	type picked struct {
		at time.Time
		it Item
	}
	var out []picked
	seen := make(map[string]bool)
	for i := range items {
		s := &items[i]
		if s.Time.Before(start) || !s.Time.Before(end) || already[s.ID] || seen[s.ID] {
			continue
		}
		seen[s.ID] = true
		why := h.why(rules, s, res.PerRule)
		if why != nil {
			out = append(out, picked{s.Time, Item{ID: s.ID, Why: why}})
		}
	}
	slices.SortFunc(out, func(a, b picked) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.it.ID, b.it.ID)
	})
	for _, p := range out {
		res.Items = append(res.Items, p.it)
	}
	assignOverlap(h, res.Items, overlap, reviewers)
	return res
}

// why names, in rule order, the rules that pick s with hasher h, counting
// each in perRule when it is not nil.
func (h hasher) why(rules []Rule, s *loop.Summary, perRule map[string]int) []string {
	var why []string
	for _, r := range rules {
		if !r.Matches(s) || !h.pick(r.Name, s.ID, r.Share) {
			continue
		}
		if !slices.Contains(why, r.Name) {
			why = append(why, r.Name)
		}
		if perRule != nil {
			perRule[r.Name]++
		}
	}
	return why
}

// Picker is Sample one event at a time: the rules that pick an event in
// its own day's sample. `loupe serve` samples records with it as they
// arrive. A Picker is not changed by use, so goroutines may share one.
type Picker struct {
	seed  int64
	rules []Rule
}

// NewPicker returns the Picker of Sample's seed and rules.
func NewPicker(seed int64, rules []Rule) Picker { return Picker{seed, rules} }

// Why names, in rule order, every rule that picks s in Sample of its UTC
// day (with nothing already queued); nil when none does.
func (p Picker) Why(s *loop.Summary) []string {
	if len(p.rules) == 0 {
		return nil
	}
	y, m, d := s.Time.UTC().Date()
	return newHasher(p.seed, time.Date(y, m, d, 0, 0, 0, 0, time.UTC)).why(p.rules, s, nil)
}

// assignOverlap gives round(overlap × len(items)) of the items two distinct
// reviewers each. The items are those with the lowest overlap hash, so the
// choice does not depend on item order; the pair comes from the same hash.
func assignOverlap(h hasher, items []Item, overlap float64, reviewers []string) {
	var names []string
	for _, r := range reviewers {
		if r != "" && !slices.Contains(names, r) {
			names = append(names, r)
		}
	}
	n := len(names)
	if n < 2 || !(overlap > 0) {
		return
	}
	k := int(math.Round(min(overlap, 1) * float64(len(items))))
	if k == 0 {
		return
	}
	type ranked struct {
		key uint64
		i   int
	}
	rank := make([]ranked, len(items))
	for i := range items {
		rank[i] = ranked{h.sum("\x00overlap", items[i].ID), i}
	}
	slices.SortFunc(rank, func(a, b ranked) int {
		if c := cmp.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(items[a.i].ID, items[b.i].ID)
	})
	for _, r := range rank[:k] {
		a := int(r.key % uint64(n))
		b := (a + 1 + int((r.key/uint64(n))%uint64(n-1))) % n
		items[r.i].Reviewers = []string{names[a], names[b]}
	}
}

// hasher holds the FNV-1a state after the (seed, day) prefix.
type hasher struct{ prefix uint64 }

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newHasher(seed int64, day time.Time) hasher {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(seed))
	h := fnvAdd(fnvOffset, string(b[:]))
	y, m, d := day.Date()
	if y < 0 || y > 9999 {
		return hasher{fnvAdd(h, day.Format(time.DateOnly))}
	}
	// day.Format(time.DateOnly), without its cost per arrival
	date := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + m/10), byte('0' + m%10), '-', byte('0' + d/10), byte('0' + d%10)}
	return hasher{fnvAdd(h, string(date[:]))}
}

func fnvAdd(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// sum hashes salt and id after the prefix, then mixes the bits (FNV alone
// leaves the last bytes poorly spread, and ids often differ only there).
func (h hasher) sum(salt, id string) uint64 {
	x := fnvAdd(h.prefix, salt)
	x = fnvAdd(x, "\x00")
	x = fnvAdd(x, id)
	// splitmix64 finaliser
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// pick reports whether the rule named salt takes id at the given share.
func (h hasher) pick(salt, id string, share float64) bool {
	if share >= 1 {
		return true
	}
	if !(share > 0) {
		return false
	}
	u := float64(h.sum(salt, id)>>11) / (1 << 53)
	return u < share
}
