package eval

import (
	"strings"
	"testing"
)

// The NLTK BLEU examples (nltk/translate/bleu_score.py docstrings and
// nltk/test/unit/translate/test_bleu.py), from Papineni et al. (2002).
var (
	nltkHyp1  = strings.Fields("It is a guide to action which ensures that the military always obeys the commands of the party")
	nltkHyp2  = strings.Fields("he read the book because he was interested in world history")
	nltkRef1a = strings.Fields("It is a guide to action that ensures that the military will forever heed Party commands")
	nltkRef1b = strings.Fields("It is the guiding principle which guarantees the military forces always being under the command of the Party")
	nltkRef1c = strings.Fields("It is the practical guide for the army always to heed the directions of the party")
	nltkRef2a = strings.Fields("he was interested in world history because he read the book")
)

func TestCorpusBLEUAgainstNLTK(t *testing.T) {
	for _, tc := range []struct {
		name   string
		refs   [][][]string
		hyps   [][]string
		smooth bool
		want   float64
	}{
		// corpus_bleu docstring: 0.5920...
		{"corpus_bleu", [][][]string{{nltkRef1a, nltkRef1b, nltkRef1c}, {nltkRef2a}}, [][]string{nltkHyp1, nltkHyp2}, false, 0.5920},
		// sentence_bleu docstring: 0.5045...
		{"sentence_bleu", [][][]string{{nltkRef1a, nltkRef1b, nltkRef1c}}, [][]string{nltkHyp1}, false, 0.5045},
		// SmoothingFunction docstring: 0.4118... with method0 and method1
		{"one reference, method0", [][][]string{{nltkRef1a}}, [][]string{nltkHyp1}, false, 0.4118},
		{"one reference, method1", [][][]string{{nltkRef1a}}, [][]string{nltkHyp1}, true, 0.4118},
		// corpus_bleu docstring: (score1 + score2)/2 = 0.6223..., so
		// sentence_bleu([ref2a], hyp2) = 2*0.6223 - 0.5045 = 0.7401 (±2e-4).
		{"second sentence", [][][]string{{nltkRef2a}}, [][]string{nltkHyp2}, false, 0.7401},
	} {
		got := corpusBLEU(tc.refs, tc.hyps, tc.smooth)
		t.Logf("%s: %.10f", tc.name, got)
		ok := got >= tc.want && got < tc.want+1e-4 // NLTK prints "0.5920..." (ELLIPSIS)
		if tc.name == "second sentence" {
			ok = near(got, tc.want, 2e-4)
		}
		if !ok {
			t.Errorf("%s: BLEU = %.6f, want %.4f...", tc.name, got, tc.want)
		}
	}
}

func TestModifiedPrecisionAgainstNLTK(t *testing.T) {
	// test_bleu.py test_modified_precision (BLEU paper examples).
	refs := [][]string{strings.Fields("the cat is on the mat"), strings.Fields("there is a cat on the mat")}
	the := strings.Fields("the the the the the the the")
	if m, n := modPrecision(refs, the, 1); m != 2 || n != 7 { // 0.2857
		t.Errorf("unigram precision = %d/%d, want 2/7", m, n)
	}
	if m, _ := modPrecision(refs, the, 2); m != 0 {
		t.Errorf("bigram matches = %d, want 0", m)
	}
	refs3 := [][]string{nltkRef1a, nltkRef1b, nltkRef1c}
	ofThe := strings.Fields("of the")
	for n := 1; n <= 2; n++ {
		if m, d := modPrecision(refs3, ofThe, n); m != d {
			t.Errorf("'of the' %d-gram precision = %d/%d, want 1", n, m, d)
		}
	}
	hyp2 := strings.Fields("It is to insure the troops forever hearing the activity guidebook that party direct")
	for _, tc := range []struct {
		hyp  []string
		n    int
		want float64
	}{
		{nltkHyp1, 1, 0.94444444},
		{hyp2, 1, 0.57142857},
		{nltkHyp1, 2, 0.58823529},
		{hyp2, 2, 0.07692307},
	} {
		m, d := modPrecision(refs3, tc.hyp, tc.n)
		if got := float64(m) / float64(d); !near(got, tc.want, 1e-4) {
			t.Errorf("%d-gram precision = %v, want %v", tc.n, got, tc.want)
		}
	}
}

func TestBrevityPenaltyAgainstNLTK(t *testing.T) {
	a := func(n int) []string { return strings.Fields(strings.Repeat("a ", n)) }
	for _, tc := range []struct {
		refs   [][]string
		hypLen int
		want   float64
	}{
		{[][]string{a(12), a(15), a(17)}, 12, 1},
		{[][]string{a(28), a(28)}, 12, 0.2635971381157267},
		{[][]string{a(13), a(2)}, 12, 0.9200},
		{[][]string{a(13), a(11)}, 12, 1},
		{[][]string{a(11), a(8)}, 7, 0.8668}, // mteval-v13a.pl
		{[][]string{a(11), a(8), a(6), a(7)}, 7, 1},
	} {
		got := brevityPenalty(closestRefLen(tc.refs, tc.hypLen), tc.hypLen)
		if !near(got, tc.want, 1e-4) {
			t.Errorf("brevity penalty = %v, want %v", got, tc.want)
		}
	}
}

func TestBLEU(t *testing.T) {
	for _, tc := range []struct {
		name       string
		refs, hyps []string
		want, tol  float64
	}{
		{"identical", []string{"the quick brown fox jumps"}, []string{"The quick, brown fox jumps!"}, 1, 1e-12},
		{"no overlap", []string{"the candidate has no alignment"}, []string{"John loves Mary"}, 0, 0},
		{"empty hypothesis", []string{"a b c d"}, []string{""}, 0, 0},
		{"empty corpus", nil, nil, 0, 0},
		// Smoothing method 1 by its definition (NLTK SmoothingFunction.method1):
		// "let go it" vs "let it go": p1 = 3/3, p2 = 0/2 -> 0.1/2,
		// p3 = 0/1 -> 0.1/1, p4 = 0/max(1,0) -> 0.1; BP = 1;
		// BLEU = (1 * 0.05 * 0.1 * 0.1)^(1/4).
		{"method1 smoothing", []string{"let it go"}, []string{"let go it"}, 0.14953487812212204, 1e-12},
		// Unpaired tail is ignored.
		{"length mismatch", []string{"a b c d e", "x"}, []string{"a b c d e"}, 1, 1e-12},
	} {
		if got := BLEU(tc.refs, tc.hyps); !near(got, tc.want, tc.tol) {
			t.Errorf("%s: BLEU = %v, want %v", tc.name, got, tc.want)
		}
	}
}
