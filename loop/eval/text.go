package eval

import (
	"strings"
	"unicode"
)

// Tokenize lowercases s and returns its words: maximal runs of Unicode
// letters, digits and combining marks. Every other rune separates words and
// is dropped. Han, Hiragana and Katakana runes are returned one per token.
func Tokenize(s string) []string {
	var toks []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			toks = append(toks, b.String())
			b.Reset()
		}
	}
	for _, r := range s {
		switch {
		case isIdeograph(r):
			flush()
			toks = append(toks, string(unicode.ToLower(r)))
		case isWordRune(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return toks
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r)
}

func isIdeograph(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r))
}

// normSpace lowercases s, collapses runs of whitespace to one space and trims.
func normSpace(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// ExactMatch is 1 when ref and hyp are equal after lowercasing and collapsing
// whitespace, else 0.
func ExactMatch(ref, hyp string) float64 {
	if normSpace(ref) == normSpace(hyp) {
		return 1
	}
	return 0
}

// TokenF1 is the SQuAD-style F1 of the bags of tokens of ref and hyp: the
// harmonic mean of the shares of hyp's and ref's tokens that the other holds
// (counting repeats). When either side has no tokens it is 1 if both have
// none, else 0.
func TokenF1(ref, hyp string) float64 {
	rt, ht := Tokenize(ref), Tokenize(hyp)
	if len(rt) == 0 || len(ht) == 0 {
		if len(rt) == len(ht) {
			return 1
		}
		return 0
	}
	counts := make(map[string]int, len(rt))
	for _, t := range rt {
		counts[t]++
	}
	same := 0
	for _, t := range ht {
		if counts[t] > 0 {
			counts[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	p := float64(same) / float64(len(ht))
	r := float64(same) / float64(len(rt))
	return 2 * p * r / (p + r)
}

// RougeL is the ROUGE-L F-measure of hyp against ref: with L the length of
// the longest common token subsequence, precision L/len(hyp), recall
// L/len(ref), and F = 2PR/(P+R) (beta = 1). It is 0 when either side has no
// tokens.
func RougeL(ref, hyp string) float64 {
	return rougeLTokens(Tokenize(ref), Tokenize(hyp))
}

func rougeLTokens(rt, ht []string) float64 {
	if len(rt) == 0 || len(ht) == 0 {
		return 0
	}
	l := lcs(rt, ht)
	if l == 0 {
		return 0
	}
	p := float64(l) / float64(len(ht))
	r := float64(l) / float64(len(rt))
	return 2 * p * r / (p + r)
}

// lcs is the length of the longest common subsequence, in O(len(a)*len(b))
// time and O(len(b)) space.
func lcs(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for i := range a {
		for j := range b {
			switch {
			case a[i] == b[j]:
				cur[j+1] = prev[j] + 1
			case prev[j+1] >= cur[j]:
				cur[j+1] = prev[j+1]
			default:
				cur[j+1] = cur[j]
			}
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// levenshtein is the edit distance (unit-cost insertions, deletions and
// substitutions) between a and b.
func levenshtein[T comparable](a, b []T) int {
	if len(a) == 0 {
		return len(b)
	}
	if len(b) == 0 {
		return len(a)
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := range a {
		cur[0] = i + 1
		for j := range b {
			cost := 1
			if a[i] == b[j] {
				cost = 0
			}
			cur[j+1] = min(prev[j]+cost, prev[j+1]+1, cur[j]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// errorRate is edits / refLen, or the bare edit count for an empty reference.
func errorRate(edits, refLen int) float64 {
	if refLen == 0 {
		return float64(edits)
	}
	return float64(edits) / float64(refLen)
}

// WER is the word error rate of hyp against ref: the word-level Levenshtein
// distance over the number of reference words, both tokenized by Tokenize.
// With an empty reference it is the number of hypothesis words.
func WER(ref, hyp string) float64 {
	rt := Tokenize(ref)
	return errorRate(levenshtein(rt, Tokenize(hyp)), len(rt))
}

// CER is the character error rate of hyp against ref: the rune-level
// Levenshtein distance over the number of reference runes. Both sides are
// first lowercased, every rune that is not a letter, digit or mark becomes a
// space, and whitespace is collapsed and trimmed, so case and punctuation do
// not count but word breaks do. With an empty reference it is the number of
// hypothesis runes.
func CER(ref, hyp string) float64 {
	rr := []rune(charNorm(ref))
	return errorRate(levenshtein(rr, []rune(charNorm(hyp))), len(rr))
}

func charNorm(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !isWordRune(r) }), " ")
}
