package eval

import (
	"math"
	"strings"
)

// bleuEpsilon is the count given to an n-gram order without any match
// (Chen & Cherry 2014, smoothing method 1; NLTK's default epsilon).
const bleuEpsilon = 0.1

// BLEU is corpus-level BLEU-4 of hyps against refs, paired by index (pairs
// past the shorter slice are ignored), tokenized by Tokenize: clipped n-gram
// counts for n = 1..4 are summed over the corpus, combined with uniform
// weights as a geometric mean, and multiplied by the brevity penalty
// exp(1 - r/c) when the total hypothesis length c is below the total
// reference length r. An order with no matching n-gram is smoothed with
// method 1 of Chen & Cherry (2014), epsilon = 0.1. The score is 0 when no
// unigram matches at all, and in [0, 1] (not 0–100 as in sacrebleu).
func BLEU(refs, hyps []string) float64 {
	n := min(len(refs), len(hyps))
	rt := make([][][]string, n)
	ht := make([][]string, n)
	for i := range n {
		rt[i] = [][]string{Tokenize(refs[i])}
		ht[i] = Tokenize(hyps[i])
	}
	return corpusBLEU(rt, ht, true)
}

// corpusBLEU follows NLTK's corpus_bleu with weights (0.25, 0.25, 0.25, 0.25):
// each hypothesis may have several references (counts clipped to the
// maximum count in any one reference; the closest reference length, the
// shorter on ties, for the brevity penalty). Per sentence the n-gram
// denominator is at least 1, as in NLTK. smooth selects method 1; without it
// an order with no match makes the score 0.
func corpusBLEU(refs [][][]string, hyps [][]string, smooth bool) float64 {
	const maxN = 4
	var num, den [maxN]float64
	hypLen, refLen := 0, 0
	for i, hyp := range hyps {
		rs := refs[i]
		for n := 1; n <= maxN; n++ {
			matched, total := modPrecision(rs, hyp, n)
			num[n-1] += float64(matched)
			den[n-1] += float64(max(1, total))
		}
		hypLen += len(hyp)
		refLen += closestRefLen(rs, len(hyp))
	}
	if num[0] == 0 {
		return 0
	}
	var logSum float64
	for n := range maxN {
		p := num[n] / den[n]
		if num[n] == 0 {
			if !smooth {
				return 0
			}
			p = bleuEpsilon / den[n]
		}
		logSum += 0.25 * math.Log(p)
	}
	return brevityPenalty(refLen, hypLen) * math.Exp(logSum)
}

// modPrecision returns the clipped n-gram matches of hyp against refs (each
// hypothesis n-gram counted at most as often as it occurs in any one
// reference) and the number of n-grams in hyp.
func modPrecision(refs [][]string, hyp []string, n int) (matched, total int) {
	counts := ngrams(hyp, n)
	maxRef := map[string]int{}
	for _, r := range refs {
		for g, c := range ngrams(r, n) {
			if _, ok := counts[g]; ok && c > maxRef[g] {
				maxRef[g] = c
			}
		}
	}
	for g, c := range counts {
		matched += min(c, maxRef[g])
		total += c
	}
	return matched, total
}

func ngrams(toks []string, n int) map[string]int {
	m := map[string]int{}
	for i := 0; i+n <= len(toks); i++ {
		m[strings.Join(toks[i:i+n], "\x00")]++
	}
	return m
}

func closestRefLen(refs [][]string, hypLen int) int {
	best := -1
	for _, r := range refs {
		l := len(r)
		if best < 0 {
			best = l
			continue
		}
		d, bd := abs(l-hypLen), abs(best-hypLen)
		if d < bd || (d == bd && l < best) {
			best = l
		}
	}
	return max(best, 0)
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func brevityPenalty(refLen, hypLen int) float64 {
	switch {
	case hypLen > refLen:
		return 1
	case hypLen == 0:
		return 0
	}
	return math.Exp(1 - float64(refLen)/float64(hypLen))
}
