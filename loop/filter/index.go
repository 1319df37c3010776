package filter

import (
	"strings"
	"unsafe"
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
	ix := &Index{text: make([]string, n), masks: make([]uint64, n), roff: make([]uint32, 1, n+1)}
	var maps [numCols]map[string]uint32
	for c := range ix.cols {
		ix.cols[c].codes = make([]uint32, n)
		maps[c] = map[string]uint32{}
	}
	rmap := map[string]uint32{}
	// All texts live in one string, in list order: a scan over items then
	// reads memory sequentially instead of chasing a million small
	// allocations (which costs more than the matching itself).
	var arena strings.Builder
	total := 0
	for i := 0; i < n; i++ {
		total += len(item(i).Text)
	}
	arena.Grow(total) // one allocation instead of doubling a ~100 MB buffer
	ends := make([]uint32, n)
	// Field values repeat a handful of strings, usually the very same
	// string (the store shares them): a short scan comparing data pointers
	// finds most before the map is asked.
	type seen struct {
		p    *byte
		n    int
		code uint32
	}
	var recent [numCols + 1][]seen
	code := func(c int, m map[string]uint32, dict *[]string, v string) uint32 {
		p := unsafe.StringData(v)
		for _, r := range recent[c] {
			if r.p == p && r.n == len(v) {
				return r.code
			}
		}
		k, ok := m[v]
		if !ok {
			k = uint32(len(*dict))
			m[v] = k
			*dict = append(*dict, v)
		}
		if len(recent[c]) < 32 {
			recent[c] = append(recent[c], seen{p, len(v), k})
		}
		return k
	}
	for i := 0; i < n; i++ {
		it := item(i)
		arena.WriteString(it.Text)
		ends[i] = uint32(arena.Len())
		ix.masks[i] = charMask(it.Text)
		thumb := it.Thumb
		if thumb == "" {
			thumb = "none"
		}
		for c, v := range [numCols]string{it.Model, it.Segment, it.Task, it.Locale, thumb} {
			ix.cols[c].codes[i] = code(c, maps[c], &ix.cols[c].dict, v)
		}
		for _, r := range it.Reasons {
			ix.rcodes = append(ix.rcodes, code(numCols, rmap, &ix.rdict, r))
		}
		ix.roff = append(ix.roff, uint32(len(ix.rcodes)))
	}
	all := arena.String()
	start := uint32(0)
	for i, end := range ends {
		ix.text[i] = all[start:end]
		start = end
	}
	return ix
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
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z':
			m |= 1 << (c - 'a')
		case c >= 'A' && c <= 'Z':
			m |= 1 << (upperShift + c - 'A')
		case c >= '0' && c <= '9':
			m |= 1 << (digitShift + c - '0')
		}
	}
	return m
}

// foldMask merges upper-case bits into lower-case ones: which letters (in
// any case) and digits are present.
func foldMask(m uint64) uint64 {
	return (m|m>>upperShift)&letterBits | m&(1023<<digitShift)
}
