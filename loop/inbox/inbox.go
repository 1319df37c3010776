// Package inbox holds every stored interaction's summary in columns, as the
// TUI lists, filters and opens them: ids and snippets copied into a few large
// blocks, times as integers, models, segments, tasks, locales and reason
// lists as small codes into dictionaries. A million summaries then cost a
// fraction of a []loop.Summary (about 180 bytes of struct each, plus a
// string or two allocated per item) and hold almost no pointers for the
// garbage collector to trace. The categorical columns and the texts are the
// filter index's own (loop/filter): the list keeps them once.
package inbox

import (
	"github.com/loupe-dev/loupe/loop/arena"
	"hash/maphash"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/filter"
)

// List is an immutable list of summaries. It is safe for concurrent use.
type List struct {
	ids    []string // views of large blocks
	times  []int64  // Unix nanoseconds
	nums   []nums
	rl     []uint32   // item i's reason list is rlists[rl[i]]
	rlists [][]string // rlists[0] is the empty list (nil)
	ix     *filter.Index
	// byID finds an item by id: open addressing over rows (row+1, 0 for
	// an empty slot), hashed with seed. A map of a million strings would
	// cost about 50 MB and half a second to fill; this is 8 MB and a
	// tenth of that.
	byID []int32
	seed maphash.Seed

	sumsOnce sync.Once // Summaries, made on first use
	sums     []loop.Summary
}

// nums is the fixed-size part of a summary.
type nums struct {
	tox, conf, lat  float32
	thumb, resolved int8
	flags           uint8 // loop.Summary.Flags
}

// Len is the number of items.
func (l *List) Len() int {
	if l == nil {
		return 0
	}
	return len(l.ids)
}

// Find is the row of the item with id.
func (l *List) Find(id string) (int, bool) {
	if l.Len() == 0 {
		return 0, false
	}
	mask := uint64(len(l.byID) - 1)
	for h := maphash.String(l.seed, id) & mask; ; h = (h + 1) & mask {
		r := l.byID[h]
		if r == 0 {
			return 0, false
		}
		if l.ids[r-1] == id {
			return int(r - 1), true
		}
	}
}

// index fills byID. Ids are unique (the store's keys).
func (l *List) index() {
	size := 1
	for size < 2*len(l.ids) {
		size <<= 1
	}
	l.byID = make([]int32, size)
	l.seed = maphash.MakeSeed()
	mask := uint64(size - 1)
	for i, id := range l.ids {
		h := maphash.String(l.seed, id) & mask
		for l.byID[h] != 0 {
			h = (h + 1) & mask
		}
		l.byID[h] = int32(i + 1)
	}
}

// ID is item i's event id.
func (l *List) ID(i int) string { return l.ids[i] }

// Time is item i's time, in UTC.
func (l *List) Time(i int) time.Time { return time.Unix(0, l.times[i]).UTC() }

// Snippet is item i's snippet.
func (l *List) Snippet(i int) string { return l.ix.Text(i) }

// Index is the filter index of the list, item i of one being item i of the
// other.
func (l *List) Index() *filter.Index { return l.ix }

// At is item i's summary. Its strings and reasons are shared with the list:
// the caller must not change Reasons' elements.
func (l *List) At(i int) loop.Summary {
	n := &l.nums[i]
	s := loop.Summary{
		ID:         l.ids[i],
		Time:       l.Time(i),
		Thumb:      loop.Thumb(n.thumb),
		Model:      l.ix.Value(filter.Model, i),
		Segment:    l.ix.Value(filter.Segment, i),
		Task:       l.ix.Value(filter.Task, i),
		Locale:     l.ix.Value(filter.Locale, i),
		Reasons:    l.rlists[l.rl[i]],
		Snippet:    l.ix.Text(i),
		Toxicity:   n.tox,
		Confidence: n.conf,
		LatencyMS:  n.lat,
		Resolved:   n.resolved,
	}
	s.SetFlags(n.flags)
	return s
}

// Summaries is every item's summary, in list order, for computations that
// take a []loop.Summary (trends). It costs a Summary per item (about 180
// bytes), so it is made once, on the first call, and shared by every
// caller after: they must not change it.
func (l *List) Summaries() []loop.Summary {
	l.sumsOnce.Do(func() {
		l.sums = make([]loop.Summary, l.Len())
		for i := range l.sums {
			l.sums[i] = l.At(i)
		}
	})
	return l.sums
}

// idChunk is the size of the blocks ids are copied into.
const idChunk = 1 << 20

// Builder makes a List one summary at a time.
type Builder struct {
	l    *List
	ix   *filter.Builder
	ids  arena.Strings     // where copied ids live
	rmap map[string]uint32 // a reason list, joined by 0 bytes, to its code
	key  []byte
	// AddFrom's source lists and where their reason-list codes went (-1:
	// not yet seen); a merge alternates between two sources.
	srcs    []*List
	rlRemap [][]int32
}

// NewBuilder starts a list expecting about n items (0: unknown).
func NewBuilder(n int) *Builder {
	return &Builder{
		l: &List{ids: make([]string, 0, n), times: make([]int64, 0, n), nums: make([]nums, 0, n),
			rl: make([]uint32, 0, n), rlists: [][]string{nil}},
		ix:   filter.NewBuilder(n),
		ids:  arena.New(idChunk),
		rmap: map[string]uint32{},
	}
}

// Len is the number of summaries added.
func (b *Builder) Len() int { return len(b.l.ids) }

// Add appends s, copying what it keeps: s's strings need only live until
// Add returns (the store's scan hands it views of its read buffer).
func (b *Builder) Add(s *loop.Summary) {
	l := b.l
	l.ids = append(l.ids, b.ids.Copy(s.ID))
	l.times = append(l.times, s.Time.UnixNano())
	flags := s.Flags()
	l.nums = append(l.nums, nums{tox: s.Toxicity, conf: s.Confidence, lat: s.LatencyMS,
		thumb: int8(s.Thumb), resolved: s.Resolved, flags: flags})
	l.rl = append(l.rl, b.reasons(s.Reasons))
	b.ix.Add(&filter.Item{Text: s.Snippet, Model: s.Model, Segment: s.Segment, Task: s.Task,
		Locale: s.Locale, Thumb: s.Thumb.String(), Reasons: s.Reasons})
}

// AddFrom appends item i of l, sharing its id and text (a list is
// immutable, so the new one may point into the old one's blocks): a
// rebuild copies the unchanged items of the list it replaces this way,
// without decoding and encoding each again.
func (b *Builder) AddFrom(l *List, i int) {
	si := slices.Index(b.srcs, l)
	if si < 0 {
		si = len(b.srcs)
		b.srcs = append(b.srcs, l)
		b.rlRemap = append(b.rlRemap, slices.Repeat([]int32{-1}, len(l.rlists)))
	}
	remap := b.rlRemap[si]
	out := b.l
	out.ids = append(out.ids, l.ids[i])
	out.times = append(out.times, l.times[i])
	out.nums = append(out.nums, l.nums[i])
	k := l.rl[i]
	if remap[k] < 0 {
		remap[k] = int32(b.reasons(l.rlists[k]))
	}
	out.rl = append(out.rl, uint32(remap[k]))
	b.ix.AddFrom(l.ix, i)
}

func (b *Builder) reasons(rs []string) uint32 {
	if len(rs) == 0 {
		return 0
	}
	b.key = b.key[:0]
	for _, r := range rs {
		b.key = append(append(b.key, r...), 0)
	}
	if k, ok := b.rmap[string(b.key)]; ok { // no allocation for the lookup
		return k
	}
	k := uint32(len(b.l.rlists))
	list := make([]string, len(rs))
	for i, r := range rs {
		list[i] = strings.Clone(r)
	}
	b.l.rlists = append(b.l.rlists, list)
	b.rmap[string(b.key)] = k
	return k
}

// List returns the list of the summaries added, in the order added. The
// builder must not be used after.
func (b *Builder) List() *List {
	l := b.l
	l.ix = b.ix.Index()
	l.index()
	b.l, b.ix = nil, nil
	return l
}

// Reversed is the list of the items of parts, one part after another, in
// reverse order: the last part's last item first. The parts are not
// changed; the result shares their blocks.
func Reversed(parts ...*List) *List {
	n := 0
	ixs := make([]*filter.Index, len(parts))
	for i, p := range parts {
		n += p.Len()
		ixs[i] = p.ix
	}
	r := &List{ids: make([]string, 0, n), times: make([]int64, 0, n), nums: make([]nums, 0, n),
		rl: make([]uint32, 0, n), rlists: [][]string{nil}}
	for pi := len(parts) - 1; pi >= 0; pi-- {
		p := parts[pi]
		for j := p.Len() - 1; j >= 0; j-- {
			r.ids = append(r.ids, p.ids[j])
		}
	}
	// The id table needs only the ids: it fills on another core while
	// the rest is joined.
	var wg sync.WaitGroup
	wg.Go(r.index)
	r.ix = filter.Reversed(ixs...)
	at := map[string]uint32{}
	remaps := make([][]uint32, len(parts))
	for pi, p := range parts {
		remaps[pi] = make([]uint32, len(p.rlists))
		for k, list := range p.rlists[1:] {
			key := strings.Join(list, "\x00") + "\x00"
			c, ok := at[key]
			if !ok {
				c = uint32(len(r.rlists))
				at[key] = c
				r.rlists = append(r.rlists, list)
			}
			remaps[pi][k+1] = c
		}
	}
	for pi := len(parts) - 1; pi >= 0; pi-- {
		p := parts[pi]
		for j := p.Len() - 1; j >= 0; j-- {
			r.times = append(r.times, p.times[j])
			r.nums = append(r.nums, p.nums[j])
			r.rl = append(r.rl, remaps[pi][p.rl[j]])
		}
	}
	wg.Wait()
	return r
}
