package filter

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"github.com/sahilm/fuzzy"
)

// Request is one search over an Index.
type Request struct {
	Query Query
	// Marks are the items' review marks, indexed like the Index; nil means
	// all zero. A search only reads them: hand it a slice nobody writes
	// (copy on write).
	Marks []Mark
	// Require and Exclude select a queue: an item's marks must hold every
	// Require bit and no Exclude bit.
	Require, Exclude Mark
	// Within restricts the search to these items (a previous result, when
	// the new query narrows the old one). nil searches every item.
	Within []int32
	// Workers splits the work; 0 means GOMAXPROCS.
	Workers int
	// SortLimit bounds the sahilm/fuzzy work per search, in items times bare
	// words: with more survivors than that, they stay in list order and
	// Result.Scored is false. (fzf once had the same knob, --sort=MAX:
	// ranking a quarter of a million matches of a two-letter query costs
	// many frames and tells the reader little; a caller can rank later, when
	// typing pauses, with SortLimit < 0 over the unranked result.)
	// 0 means DefaultSortLimit; < 0 means no limit.
	SortLimit int
}

// DefaultSortLimit is Request.SortLimit's default: about 8 ms of scoring on
// two cores.
const DefaultSortLimit = 16000

// Result is what a search found.
type Result struct {
	// IDs are the matching items, best first when Scored, else in the order
	// of Within (or of the index).
	IDs []int32
	// Scores are sahilm/fuzzy scores (the sum over bare words), parallel to
	// IDs, when Scored.
	Scores []int32
	Scored bool
}

// compiled is a query turned into per-distinct-value tables.
type compiled struct {
	cols    [numCols][]bool // nil: no term on the column
	reasons [][]bool        // one table per reason term: any code must be true
	grades  []bool          // nil: no grade term
	sets    []Mark          // one bit set per set term: marks&m != 0
	words   []word
	phrases []string // quoted bare words, lower-cased: substrings of the text
	require Mark
	exclude Mark
	none    bool // some term can match nothing: empty result
}

type word struct {
	pat   string
	lower []byte // ASCII-lowered pattern; nil when it has non-ASCII runes
	runes []rune // lowered runes, for the non-ASCII path
	need  uint64 // folded charMask of the pattern: letters and digits it needs
	// exact: the mask test alone decides (a one-letter or one-digit word).
	exact bool
}

// matchDict returns which dictionary values fuzzy-match v (sahilm/fuzzy, so
// a field term matches exactly what a bare word would on that text).
func matchDict(v string, dict []string) []bool {
	ok := make([]bool, len(dict))
	for _, m := range fuzzy.FindNoSort(v, dict) {
		ok[m.Index] = true
	}
	return ok
}

// matchTerm is matchDict, or for a quoted value a case-insensitive
// substring test.
func matchTerm(t Term, dict []string) []bool {
	if !t.Exact {
		return matchDict(t.Value, dict)
	}
	ok := make([]bool, len(dict))
	v := strings.ToLower(t.Value)
	for i, d := range dict {
		ok[i] = strings.Contains(strings.ToLower(d), v)
	}
	return ok
}

// containsFold reports whether s contains lower (already lower-cased),
// ignoring case.
func containsFold(s, lower string) bool {
	if isASCII(s) && isASCII(lower) {
		n := len(lower)
		if n == 0 {
			return true
		}
		for i := 0; i+n <= len(s); i++ {
			if lowerASCII(s[i]) != lower[0] {
				continue
			}
			j := 1
			for j < n && lowerASCII(s[i+j]) == lower[j] {
				j++
			}
			if j == n {
				return true
			}
		}
		return false
	}
	return strings.Contains(strings.ToLower(s), lower)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

func and(a, b []bool) []bool {
	if a == nil {
		return b
	}
	for i := range a {
		a[i] = a[i] && b[i]
	}
	return a
}

func (ix *Index) compile(r *Request) *compiled {
	c := &compiled{require: r.Require, exclude: r.Exclude}
	for _, t := range r.Query.Terms {
		switch t.Field {
		case Text:
			if t.Exact {
				c.phrases = append(c.phrases, strings.ToLower(t.Value))
				continue
			}
			w := word{pat: t.Value}
			ascii := true
			for i := 0; i < len(t.Value); i++ {
				if t.Value[i] >= utf8.RuneSelf {
					ascii = false
					break
				}
			}
			if ascii {
				w.lower = []byte(strings.ToLower(t.Value))
				w.need = foldMask(charMask(t.Value))
				w.exact = len(w.lower) == 1 && w.need != 0
			} else {
				w.runes = []rune(strings.ToLower(t.Value))
			}
			c.words = append(c.words, w)
		case Reason:
			tab := matchTerm(t, ix.rdict)
			if !slices.Contains(tab, true) {
				c.none = true
			}
			c.reasons = append(c.reasons, tab)
		case Grade:
			c.grades = and(c.grades, matchTerm(t, gradeValues))
		case Set:
			var m Mark
			for i, ok := range matchTerm(t, setValues) {
				if ok {
					m |= setBits[i]
				}
			}
			if m == 0 {
				c.none = true
			}
			c.sets = append(c.sets, m)
		default:
			col := colOf[t.Field]
			c.cols[col] = and(c.cols[col], matchTerm(t, ix.cols[col].dict))
		}
	}
	for _, tab := range c.cols {
		if tab != nil && !slices.Contains(tab, true) {
			c.none = true
		}
	}
	if c.grades != nil && !slices.Contains(c.grades, true) {
		c.none = true
	}
	return c
}

// keep reports whether item i passes everything but the bare words.
func (ix *Index) keep(c *compiled, i int, marks []Mark) bool {
	var m Mark
	if marks != nil {
		m = marks[i]
	}
	if m&c.require != c.require || m&c.exclude != 0 {
		return false
	}
	if c.grades != nil && !c.grades[m&GradeMask] {
		return false
	}
	for _, s := range c.sets {
		if m&s == 0 {
			return false
		}
	}
	for col, tab := range c.cols {
		if tab != nil && !tab[ix.cols[col].codes[i]] {
			return false
		}
	}
	if len(c.reasons) > 0 {
		codes := ix.rcodes[ix.roff[i]:ix.roff[i+1]]
		for _, tab := range c.reasons {
			found := false
			for _, k := range codes {
				if tab[k] {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
	}
	for _, p := range c.phrases {
		if !containsFold(ix.text[i], p) {
			return false
		}
	}
	if len(c.words) > 0 {
		m := ix.masks[i]
		f := foldMask(m)
		for k := range c.words {
			w := &c.words[k]
			if f&w.need != w.need {
				return false
			}
			if !w.exact && !w.prefilter(ix.text[i], m) {
				return false
			}
		}
	}
	return true
}

// prefilter is a cheap necessary condition for a fuzzy match: the pattern is
// a case-insensitive subsequence of s. For ASCII patterns it works on bytes,
// finding each next pattern byte with two memchr-style scans (lower and
// upper case), as fzf does.
// The text's charMask m tells which case of a letter occurs at all, so most
// letters need one scan, not two.
func (w *word) prefilter(s string, m uint64) bool {
	if w.lower == nil {
		return prefilterRunes(w.runes, s)
	}
	i := 0
	for _, c := range w.lower {
		rest := s[i:]
		var j int
		if c >= 'a' && c <= 'z' {
			bit := uint64(1) << (c - 'a')
			hasLower, hasUpper := m&bit != 0, m&(bit<<upperShift) != 0
			j = -1
			if hasLower {
				j = strings.IndexByte(rest, c)
			}
			if hasUpper {
				limit := rest
				if j >= 0 {
					limit = rest[:j]
				}
				if u := strings.IndexByte(limit, c-('a'-'A')); u >= 0 {
					j = u
				}
			}
		} else {
			j = strings.IndexByte(rest, c)
		}
		if j < 0 {
			return false
		}
		i += j + 1
	}
	return true
}

func prefilterRunes(p []rune, s string) bool {
	j := 0
	for _, r := range s {
		if j == len(p) {
			return true
		}
		if r == p[j] || unicode.ToLower(r) == p[j] {
			j++
		}
	}
	return j == len(p)
}

// checkEvery is how many items a worker handles between checks for
// cancellation.
const checkEvery = 2048

// Search runs a request. It returns ctx's error, and no result, when ctx is
// cancelled before it is done (a newer keystroke superseded it).
func (ix *Index) Search(ctx context.Context, r Request) (Result, error) {
	c := ix.compile(&r)
	if c.none {
		return Result{IDs: []int32{}}, ctx.Err()
	}
	n := ix.Len()
	if r.Within != nil {
		n = len(r.Within)
	}
	workers := r.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// Phase 1: cheap filters and the byte prefilter, in parallel chunks.
	chunks := splitChunks(n, workers)
	found := make([][]int32, len(chunks))
	err := parallel(ctx, workers, len(chunks), func(ci int) error {
		lo, hi := chunks[ci][0], chunks[ci][1]
		out := make([]int32, 0, hi-lo)
		for base := lo; base < hi; base += checkEvery {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			end := min(base+checkEvery, hi)
			if r.Within != nil {
				for _, id := range r.Within[base:end] {
					if ix.keep(c, int(id), r.Marks) {
						out = append(out, id)
					}
				}
			} else {
				for id := base; id < end; id++ {
					if ix.keep(c, id, r.Marks) {
						out = append(out, int32(id))
					}
				}
			}
		}
		found[ci] = out
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	total := 0
	for _, f := range found {
		total += len(f)
	}
	limit := r.SortLimit
	if limit == 0 {
		limit = DefaultSortLimit
	}
	if len(c.words) == 0 || (limit > 0 && total*len(c.words) > limit) {
		ids := make([]int32, 0, total)
		for _, f := range found {
			ids = append(ids, f...)
		}
		return Result{IDs: ids}, nil
	}
	// Phase 2: sahilm/fuzzy scores the survivors (and has the last word on
	// whether they match), again in parallel.
	scored := make([][]hit, len(found))
	err = parallel(ctx, workers, len(found), func(ci int) error {
		scored[ci] = ix.score(ctx, c.words, found[ci])
		return ctx.Err()
	})
	if err != nil {
		return Result{}, err
	}
	var hits []hit
	for _, s := range scored {
		hits = append(hits, s...)
	}
	// Best score first; ties keep list order (hits are in list order now).
	for k := range hits {
		hits[k].pos = int32(k)
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.score != b.score {
			return int(b.score - a.score)
		}
		return int(a.pos - b.pos)
	})
	res := Result{IDs: make([]int32, len(hits)), Scores: make([]int32, len(hits)), Scored: true}
	for k, h := range hits {
		res.IDs[k], res.Scores[k] = h.id, h.score
	}
	return res, nil
}

type hit struct {
	id, score, pos int32
}

// score runs sahilm/fuzzy for each word over the items ids, keeping those
// every word matches, with the sum of their scores.
func (ix *Index) score(ctx context.Context, words []word, ids []int32) []hit {
	hits := make([]hit, len(ids))
	for k, id := range ids {
		hits[k] = hit{id: id}
	}
	for _, w := range words {
		if ctx.Err() != nil || len(hits) == 0 {
			return nil
		}
		ms := fuzzy.FindFromNoSort(w.pat, hitSource{ix, hits})
		next := hits[:0]
		// Matches come back in source order, so this compacts in place.
		for _, m := range ms {
			h := hits[m.Index]
			h.score += int32(m.Score)
			next = append(next, h)
		}
		hits = next
	}
	return hits
}

type hitSource struct {
	ix   *Index
	hits []hit
}

func (s hitSource) String(i int) string { return s.ix.text[s.hits[i].id] }
func (s hitSource) Len() int            { return len(s.hits) }

// splitChunks cuts [0,n) into about 4 chunks per worker (so a slow chunk
// does not hold the others back), each at least 1024 items.
func splitChunks(n, workers int) [][2]int {
	want := workers * 4
	size := max((n+want-1)/want, 1024)
	var out [][2]int
	for lo := 0; lo < n; lo += size {
		out = append(out, [2]int{lo, min(lo+size, n)})
	}
	return out
}

// parallel runs fn for 0..jobs-1 on up to workers goroutines and returns the
// first error.
func parallel(ctx context.Context, workers, jobs int, fn func(int) error) error {
	if jobs == 0 {
		return ctx.Err()
	}
	if jobs == 1 || workers == 1 {
		for j := 0; j < jobs; j++ {
			if err := fn(j); err != nil {
				return err
			}
		}
		return nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for w := 0; w < min(workers, jobs); w++ {
		wg.Go(func() {
			for {
				j := int(next.Add(1) - 1)
				if j >= jobs {
					return
				}
				if err := fn(j); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}
