// Package agg holds exact per-day aggregates of interactions: for each UTC
// day, model version, segment and task, the counts every rate metric of
// package trend needs and a mergeable quantile sketch of the latencies.
//
// Edge sampling (intake.keep) stores only some interactions in full; the
// rest are folded into a Table here, so trends, alerts and the report stay
// exact over every interaction while the store holds only the sample. An
// interaction's contribution is a pure function of its merged summary, so
// a changed summary moves it exactly: Add(old, -1), then Add(new, +1).
//
// The package is pure computation and byte encoding; no I/O.
package agg

import (
	"cmp"
	"encoding/binary"
	"errors"
	"maps"
	"slices"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// Key identifies a cell: one UTC day (days since 1970-01-01), model
// version, segment and task, as the summary has them ("" when absent).
type Key struct {
	Day     int64
	Model   string
	Segment string
	Task    string
}

// Compare orders keys by day, then model, segment and task.
func (k Key) Compare(o Key) int {
	return cmp.Or(cmp.Compare(k.Day, o.Day), cmp.Compare(k.Model, o.Model),
		cmp.Compare(k.Segment, o.Segment), cmp.Compare(k.Task, o.Task))
}

// Time is the start of the key's day, UTC.
func (k Key) Time() time.Time { return time.Unix(k.Day*86400, 0).UTC() }

// DayOf is t's UTC day as days since 1970-01-01 (before 1970 too).
func DayOf(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// KeyOf is the cell a summary counts in.
func KeyOf(s *loop.Summary) Key {
	return Key{Day: DayOf(s.Time), Model: s.Model, Segment: s.Segment, Task: s.Task}
}

// Cell is what one cell's interactions add up to. Every field is a count
// of interactions; the rate metrics are ratios of two of them:
//
//	thumbs_down_rate       Down / Thumbed
//	escalation_rate        Escalated / Events
//	abandon_rate           Abandoned / Events
//	policy_violation_rate  Policy / Events
//	resolution_rate        Resolved / ResolvedSet
//	reason:<code>          Reasons[code] / Down
//
// and the latency percentiles are read from Latency. pass_rate needs
// grades, which exist only for interactions stored in full; it is not here.
type Cell struct {
	Events      int64
	Thumbed     int64 // with a thumb, up or down
	Down        int64 // thumbs-down
	Escalated   int64
	Abandoned   int64
	Policy      int64 // checks.policy_violation true
	ResolvedSet int64 // business.resolved present
	Resolved    int64 // business.resolved true
	Reasons     map[string]int64
	Latency     Sketch
}

// add adds (sign +1) or removes (sign -1) one summary's contribution.
func (c *Cell) add(s *loop.Summary, sign int64) {
	c.Events += sign
	if s.Thumb != loop.ThumbNone {
		c.Thumbed += sign
	}
	if s.Thumb == loop.ThumbDown {
		c.Down += sign
		// A code counted once per interaction, as trend's reason share
		// does (slices.Contains).
		for i, r := range s.Reasons {
			if slices.Contains(s.Reasons[:i], r) {
				continue
			}
			if c.Reasons == nil {
				c.Reasons = map[string]int64{}
			}
			c.Reasons[r] += sign
			if c.Reasons[r] == 0 {
				delete(c.Reasons, r)
			}
		}
	}
	if s.Escalated {
		c.Escalated += sign
	}
	if s.Abandoned {
		c.Abandoned += sign
	}
	if s.PolicyViolation {
		c.Policy += sign
	}
	if s.Resolved >= 0 {
		c.ResolvedSet += sign
		if s.Resolved == 1 {
			c.Resolved += sign
		}
	}
	if s.LatencyMS >= 0 {
		c.Latency.Add(float64(s.LatencyMS), sign)
	}
}

// Merge adds o's counts to c.
func (c *Cell) Merge(o *Cell) {
	c.Events += o.Events
	c.Thumbed += o.Thumbed
	c.Down += o.Down
	c.Escalated += o.Escalated
	c.Abandoned += o.Abandoned
	c.Policy += o.Policy
	c.ResolvedSet += o.ResolvedSet
	c.Resolved += o.Resolved
	for r, n := range o.Reasons {
		if c.Reasons == nil {
			c.Reasons = map[string]int64{}
		}
		c.Reasons[r] += n
		if c.Reasons[r] == 0 {
			delete(c.Reasons, r)
		}
	}
	c.Latency.Merge(&o.Latency)
}

// Empty reports whether every count is zero (the cell can be deleted).
func (c *Cell) Empty() bool {
	return c.Events == 0 && c.Thumbed == 0 && c.Down == 0 && c.Escalated == 0 &&
		c.Abandoned == 0 && c.Policy == 0 && c.ResolvedSet == 0 && c.Resolved == 0 &&
		len(c.Reasons) == 0 && c.Latency.Count() == 0
}

// Table is a set of cells.
type Table struct {
	cells map[Key]*Cell
}

// New returns an empty table.
func New() *Table { return &Table{cells: map[Key]*Cell{}} }

// Add adds (sign +1) or removes (sign -1) the contribution of one
// interaction, given its merged summary.
func (t *Table) Add(s *loop.Summary, sign int) {
	k := KeyOf(s)
	c := t.cells[k]
	if c == nil {
		c = &Cell{}
		t.cells[k] = c
	}
	c.add(s, int64(sign))
}

// Put sets a cell, replacing what the table had for k (a store's reader
// fills a table this way).
func (t *Table) Put(k Key, c Cell) { t.cells[k] = &c }

// MergeCell adds c to the table's cell k.
func (t *Table) MergeCell(k Key, c *Cell) {
	have := t.cells[k]
	if have == nil {
		have = &Cell{}
		t.cells[k] = have
	}
	have.Merge(c)
}

// Merge adds every cell of o.
func (t *Table) Merge(o *Table) {
	if o == nil {
		return
	}
	for k, c := range o.cells {
		t.MergeCell(k, c)
	}
}

// Len is the number of cells (including cells whose counts are all zero).
func (t *Table) Len() int {
	if t == nil {
		return 0
	}
	return len(t.cells)
}

// Get returns the cell for k, or nil.
func (t *Table) Get(k Key) *Cell {
	if t == nil {
		return nil
	}
	return t.cells[k]
}

// Keys returns the table's keys in Key order.
func (t *Table) Keys() []Key {
	if t == nil {
		return nil
	}
	return slices.SortedFunc(maps.Keys(t.cells), Key.Compare)
}

// Each calls fn for every cell in key order. fn must not modify t.
func (t *Table) Each(fn func(Key, *Cell)) {
	for _, k := range t.Keys() {
		fn(k, t.cells[k])
	}
}

// Events is the number of interactions the table counts.
func (t *Table) Events() int64 {
	if t == nil {
		return 0
	}
	var n int64
	for _, c := range t.cells {
		n += c.Events
	}
	return n
}

// Equal reports whether two tables hold the same non-empty cells.
func Equal(a, b *Table) bool {
	nonEmpty := func(t *Table) []Key {
		var ks []Key
		for _, k := range t.Keys() {
			if !t.cells[k].Empty() {
				ks = append(ks, k)
			}
		}
		return ks
	}
	ka, kb := nonEmpty(a), nonEmpty(b)
	if !slices.Equal(ka, kb) {
		return false
	}
	for _, k := range ka {
		if !a.cells[k].equal(b.cells[k]) {
			return false
		}
	}
	return true
}

func (c *Cell) equal(o *Cell) bool {
	return c.Events == o.Events && c.Thumbed == o.Thumbed && c.Down == o.Down &&
		c.Escalated == o.Escalated && c.Abandoned == o.Abandoned && c.Policy == o.Policy &&
		c.ResolvedSet == o.ResolvedSet && c.Resolved == o.Resolved &&
		maps.Equal(c.Reasons, o.Reasons) && c.Latency.equal(&o.Latency)
}

// Cell value encoding, version 1:
//
//	1 version · 8 uvarint counts (Events, Thumbed, Down, Escalated,
//	Abandoned, Policy, ResolvedSet, Resolved; zig-zag varints) ·
//	uvarint reason count, then each: uvarint length, code, varint count ·
//	the latency sketch (see Sketch.append).
const cellV1 = 1

var errBadCell = errors.New("agg: corrupt aggregate cell")

// AppendCell appends c's encoding to dst.
func AppendCell(dst []byte, c *Cell) []byte {
	dst = append(dst, cellV1)
	for _, n := range [...]int64{c.Events, c.Thumbed, c.Down, c.Escalated, c.Abandoned, c.Policy, c.ResolvedSet, c.Resolved} {
		dst = binary.AppendVarint(dst, n)
	}
	codes := slices.Sorted(maps.Keys(c.Reasons))
	dst = binary.AppendUvarint(dst, uint64(len(codes)))
	for _, r := range codes {
		dst = binary.AppendUvarint(dst, uint64(len(r)))
		dst = append(dst, r...)
		dst = binary.AppendVarint(dst, c.Reasons[r])
	}
	return c.Latency.append(dst)
}

// DecodeCell decodes a value written by AppendCell.
func DecodeCell(b []byte) (Cell, error) {
	var c Cell
	if len(b) == 0 || b[0] != cellV1 {
		return c, errBadCell
	}
	r := reader{b: b[1:]}
	for _, p := range [...]*int64{&c.Events, &c.Thumbed, &c.Down, &c.Escalated, &c.Abandoned, &c.Policy, &c.ResolvedSet, &c.Resolved} {
		*p = r.varint()
	}
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		return c, errBadCell
	}
	for range n {
		code := r.str()
		cnt := r.varint()
		if r.err {
			return c, errBadCell
		}
		if c.Reasons == nil {
			c.Reasons = map[string]int64{}
		}
		c.Reasons[code] = cnt
	}
	if err := c.Latency.decode(&r); err != nil || r.err || len(r.b) != 0 {
		return c, errBadCell
	}
	return c, nil
}

type reader struct {
	b   []byte
	err bool
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = true
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = true
		r.b = nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.err = true
		r.b = nil
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
