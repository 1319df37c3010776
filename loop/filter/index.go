package filter

import (
	"github.com/loupe-dev/loupe/loop/arena"
	"slices"
	"strings"
)

// Item is what the index needs of one inbox item. Grade and set membership
// change while reviewing, so they are not here but in Marks, handed to each
// search.
type Item struct {
	Text    string
	Model   string
	Segment string
	Task    string
	Locale  string
	Thumb   string // "up", "down" or "" (none)
	Reasons []string
}

// Mark holds an item's review state as bits: the grade in the low two bits,
// then flags. Queues select items by marks (see Request.Require/Exclude).
//
// Marks are per reviewer, and blind grading lives in them: the grade bits
// hold only what the reviewer may see (their own grade; before they grade,
// nobody else's unless they adjudicate), so a grade: filter can never
// reveal another reviewer's grade. VisibleGrade decides.
type Mark uint8

const (
	GradeNone       Mark = 0
	GradePass       Mark = 1
	GradeFail       Mark = 2
	GradeBorderline Mark = 3
	GradeMask       Mark = 3

	Mine     Mark = 1 << 2 // the reviewer has a current label on the item
	Golden   Mark = 1 << 3 // in the golden set
	RedFlag  Mark = 1 << 4 // in the red-flag set
	Disagree Mark = 1 << 5 // current labels from different reviewers differ
	// Taken: a queued item that is not this reviewer's to take now (another
	// reviewer graded it, or has it open, and it is not shared by all).
	Taken Mark = 1 << 6
)

// VisibleGrade is the grade bits an item shows to a reviewer: their own
// grade (mine); else, for an adjudicator, the latest other reviewer's;
// else none: grading is blind.
func VisibleGrade(mine Mark, adjudicator bool, latestOther Mark) Mark {
	if mine != GradeNone {
		return mine
	}
	if adjudicator {
		return latestOther
	}
	return GradeNone
}

var gradeValues = []string{"none", "pass", "fail", "borderline"}
var setValues = []string{"golden", "redflag"}
var setBits = []Mark{Golden, RedFlag}

// single-valued string columns, dictionary-encoded: there are few distinct
// models, segments, tasks, locales and thumbs, so a term is matched against
// each distinct value once and then items are checked by code.
const (
	colModel = iota
	colSegment
	colTask
	colLocale
	colThumb
	numCols
)

var colOf = [numFields]int{Model: colModel, Segment: colSegment, Task: colTask, Locale: colLocale, Thumb: colThumb}

type column struct {
	dict  []string
	codes []uint32
}

// Index is an immutable column store of items, built once after loading.
// It is safe for concurrent searches.
type Index struct {
	text []string
	// masks[i] says which ASCII letters and digits item i's text holds (see
	// charMask): a pattern byte absent from it rules the item out without
	// touching the text, and a one-letter pattern needs nothing else.
	masks []uint64
	cols  [numCols]column
	// Reasons, multi-valued: item i's codes are rcodes[roff[i]:roff[i+1]].
	rdict  []string
	roff   []uint32
	rcodes []uint32
}

// Len is the number of items.
func (ix *Index) Len() int {
	if ix == nil {
		return 0
	}
	return len(ix.text)
}

// Text is item i's text. Callers may keep it instead of their own copy:
// it shares the index's one allocation.
func (ix *Index) Text(i int) string { return ix.text[i] }

// Build makes an index of n items, item(i) giving the i-th.
func Build(n int, item func(i int) Item) *Index {
	b := NewBuilder(n)
	for i := 0; i < n; i++ {
		it := item(i)
		b.Add(&it)
	}
	return b.Index()
}

// textChunk is the size of the blocks item texts are copied into: all texts
// live in a few large blocks, in list order, so a scan over items reads
// memory sequentially instead of chasing a million small allocations
// (which costs more than the matching itself), and growing never copies
// what is already there.
const textChunk = 4 << 20

// Builder makes an Index one item at a time, copying what it keeps: an
// Item's strings need only live until Add returns (a store scan hands it
// views of its read buffer).
type Builder struct {
	ix   *Index
	maps [numCols + 1]map[string]uint32 // the last one: reasons
	text arena.Strings                  // where copied texts live
	// Field values repeat a handful of strings, often the previous item's:
	// comparing with it first spares most map lookups. (By content: the
	// caller's strings may be views of a buffer it reuses, so the same
	// pointer can hold another value.)
	last [numCols + 1]uint32
	// AddFrom's source indexes and where their dictionary codes went (-1:
	// not yet seen); a merge alternates between two sources.
	srcs []*sourceRemap
}

// sourceRemap is where the dictionary codes of one of AddFrom's source
// indexes went in the index being built.
type sourceRemap struct {
	src   *Index
	remap [numCols + 1][]int32
}

// NewBuilder starts an index expecting about n items (0: unknown).
func NewBuilder(n int) *Builder {
	b := &Builder{ix: &Index{text: make([]string, 0, n), masks: make([]uint64, 0, n), roff: make([]uint32, 1, n+1)},
		text: arena.New(textChunk)}
	for c := range b.ix.cols {
		b.ix.cols[c].codes = make([]uint32, 0, n)
	}
	for c := range b.maps {
		b.maps[c] = map[string]uint32{}
	}
	return b
}

// Len is the number of items added.
func (b *Builder) Len() int { return len(b.ix.text) }

// Add appends an item.
func (b *Builder) Add(it *Item) {
	ix := b.ix
	ix.text = append(ix.text, b.text.Copy(it.Text))
	ix.masks = append(ix.masks, charMask(it.Text))
	thumb := it.Thumb
	if thumb == "" {
		thumb = "none"
	}
	for c, v := range [numCols]string{it.Model, it.Segment, it.Task, it.Locale, thumb} {
		ix.cols[c].codes = append(ix.cols[c].codes, b.code(c, &ix.cols[c].dict, v))
	}
	for _, r := range it.Reasons {
		ix.rcodes = append(ix.rcodes, b.code(numCols, &ix.rdict, r))
	}
	ix.roff = append(ix.roff, uint32(len(ix.rcodes)))
}

// AddFrom appends item i of ix, sharing its text (an index is immutable,
// so the new one may point into the old one's blocks).
func (b *Builder) AddFrom(ix *Index, i int) {
	var sr *sourceRemap
	for _, r := range b.srcs {
		if r.src == ix {
			sr = r
			break
		}
	}
	if sr == nil {
		sr = &sourceRemap{src: ix}
		for c := range sr.remap {
			dict := ix.rdict
			if c < numCols {
				dict = ix.cols[c].dict
			}
			sr.remap[c] = slices.Repeat([]int32{-1}, len(dict))
		}
		b.srcs = append(b.srcs, sr)
	}
	out := b.ix
	out.text = append(out.text, ix.text[i])
	out.masks = append(out.masks, ix.masks[i])
	for c := range out.cols {
		out.cols[c].codes = append(out.cols[c].codes, b.from(sr, c, &out.cols[c].dict, ix.cols[c].dict, ix.cols[c].codes[i]))
	}
	for _, k := range ix.rcodes[ix.roff[i]:ix.roff[i+1]] {
		out.rcodes = append(out.rcodes, b.from(sr, numCols, &out.rdict, ix.rdict, k))
	}
	out.roff = append(out.roff, uint32(len(out.rcodes)))
}

// from is the code here of code k of the source dictionary srcDict.
func (b *Builder) from(sr *sourceRemap, c int, dict *[]string, srcDict []string, k uint32) uint32 {
	if r := sr.remap[c][k]; r >= 0 {
		return uint32(r)
	}
	r := b.code(c, dict, srcDict[k])
	sr.remap[c][k] = int32(r)
	return r
}

func (b *Builder) code(c int, dict *[]string, v string) uint32 {
	if k := b.last[c]; int(k) < len(*dict) && (*dict)[k] == v {
		return k
	}
	k, ok := b.maps[c][v] // no allocation for the lookup
	if !ok {
		v = strings.Clone(v) // v may be a view of a caller's buffer
		k = uint32(len(*dict))
		b.maps[c][v] = k
		*dict = append(*dict, v)
	}
	b.last[c] = k
	return k
}

// Index returns the index of the items added. The builder must not be
// used after.
func (b *Builder) Index() *Index {
	ix := b.ix
	b.ix = nil
	return ix
}

// Reversed is the index of the items of parts, one part after another,
// in reverse order: the last part's last item first. The parts are not
// changed; the result shares their texts. (A store scan in parallel key
// ranges gives parts in time order, oldest first; the inbox lists newest
// first.)
func Reversed(parts ...*Index) *Index {
	n, nr := 0, 0
	for _, p := range parts {
		n += p.Len()
		nr += len(p.rcodes)
	}
	r := &Index{text: make([]string, 0, n), masks: make([]uint64, 0, n), roff: make([]uint32, 1, n+1), rcodes: make([]uint32, 0, nr)}
	var colRemap [numCols][][]uint32
	for c := range r.cols {
		var dicts [][]string
		for _, p := range parts {
			dicts = append(dicts, p.cols[c].dict)
		}
		r.cols[c].dict, colRemap[c] = mergeDicts(dicts)
		r.cols[c].codes = make([]uint32, 0, n)
	}
	var rdicts [][]string
	for _, p := range parts {
		rdicts = append(rdicts, p.rdict)
	}
	var rremap [][]uint32
	r.rdict, rremap = mergeDicts(rdicts)
	for pi := len(parts) - 1; pi >= 0; pi-- {
		p := parts[pi]
		for j := p.Len() - 1; j >= 0; j-- {
			r.text = append(r.text, p.text[j])
			r.masks = append(r.masks, p.masks[j])
			for c := range r.cols {
				r.cols[c].codes = append(r.cols[c].codes, colRemap[c][pi][p.cols[c].codes[j]])
			}
			for _, k := range p.rcodes[p.roff[j]:p.roff[j+1]] {
				r.rcodes = append(r.rcodes, rremap[pi][k])
			}
			r.roff = append(r.roff, uint32(len(r.rcodes)))
		}
	}
	return r
}

// mergeDicts is the distinct values of dicts in first-seen order, and
// where each dictionary's codes went.
func mergeDicts(dicts [][]string) ([]string, [][]uint32) {
	var dict []string
	at := map[string]uint32{}
	remaps := make([][]uint32, len(dicts))
	for d, vs := range dicts {
		remaps[d] = make([]uint32, len(vs))
		for i, v := range vs {
			k, ok := at[v]
			if !ok {
				k = uint32(len(dict))
				at[v] = k
				dict = append(dict, v)
			}
			remaps[d][i] = k
		}
	}
	return dict, remaps
}

// Value is item i's value of a single-valued field (Model, Segment, Task,
// Locale; Thumb as "up", "down" or "").
func (ix *Index) Value(f Field, i int) string {
	c := colOf[f]
	v := ix.cols[c].dict[ix.cols[c].codes[i]]
	if c == colThumb && v == "none" {
		return ""
	}
	return v
}

// Values lists the distinct values of a field, for completion and help.
func (ix *Index) Values(f Field) []string {
	switch f {
	case Reason:
		return append([]string(nil), ix.rdict...)
	case Grade:
		return append([]string(nil), gradeValues...)
	case Set:
		return append([]string(nil), setValues...)
	case Text:
		return nil
	}
	return append([]string(nil), ix.cols[colOf[f]].dict...)
}

// Character masks: bits 0–25 lower-case a–z present, 26–51 upper-case A–Z
// present, 52–61 digits 0–9 present.
const (
	upperShift = 26
	digitShift = 52
	letterBits = 1<<26 - 1
)

func charMask(s string) uint64 {
	var m uint64
	for i := 0; i < len(s); i++ {
		m |= maskOf[s[i]]
	}
	return m
}

// maskOf is each byte's charMask bit (0 for all but letters and digits): a
// lookup instead of a switch per byte of a million texts.
var maskOf = func() (t [256]uint64) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = 1 << (c - 'a')
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = 1 << (upperShift + c - 'A')
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = 1 << (digitShift + c - '0')
	}
	return t
}()

// foldMask merges upper-case bits into lower-case ones: which letters (in
// any case) and digits are present.
func foldMask(m uint64) uint64 {
	return (m|m>>upperShift)&letterBits | m&(1023<<digitShift)
}
