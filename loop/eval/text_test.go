package eval

import (
	"math"
	"reflect"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestTokenize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"  \t\n", nil},
		{"Don't panic!", []string{"don", "t", "panic"}},
		{"GPT-4o, v2.1", []string{"gpt", "4o", "v2", "1"}},
		{"Cafe\u0301 au lait", []string{"cafe\u0301", "au", "lait"}}, // combining acute stays in the word
		{"ÉCOLE Straße", []string{"école", "straße"}},
		{"你好世界", []string{"你", "好", "世", "界"}},
		{"東京タワーへ go", []string{"東", "京", "タ", "ワ", "ー", "へ", "go"}},
		{"[EMAIL] wrote", []string{"email", "wrote"}},
	} {
		if got := Tokenize(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Tokenize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExactMatch(t *testing.T) {
	for _, tc := range []struct {
		ref, hyp string
		want     float64
	}{
		{"Paris", "paris", 1},
		{"  New   York\n", "new york", 1},
		{"New York.", "New York", 0}, // punctuation is not normalised
		{"", "", 1},
		{"a", "", 0},
	} {
		if got := ExactMatch(tc.ref, tc.hyp); got != tc.want {
			t.Errorf("ExactMatch(%q, %q) = %v, want %v", tc.ref, tc.hyp, got, tc.want)
		}
	}
}

func TestTokenF1(t *testing.T) {
	for _, tc := range []struct {
		ref, hyp string
		want     float64
	}{
		{"the cat sat", "the cat sat", 1},
		{"the cat sat", "the cat", 0.8},           // P 1, R 2/3
		{"the cat sat", "a dog ran", 0},           // no overlap
		{"the the cat", "the the the", 2.0 / 3.0}, // repeats count once per occurrence: P 2/3, R 2/3
		{"", "", 1},
		{"x", "", 0},
		{"", "x", 0},
		{"Hello, World!", "hello world", 1},
	} {
		if got := TokenF1(tc.ref, tc.hyp); !near(got, tc.want, 1e-12) {
			t.Errorf("TokenF1(%q, %q) = %v, want %v", tc.ref, tc.hyp, got, tc.want)
		}
	}
}

// ROUGE-L reference values.
//   - rouge-score package tests (google-research/google-research,
//     rouge/rouge_scorer_test.py): testRougeLConsecutive,
//     testRougeLNonConsecutive, testRougeEmpty, and testRougeLAgainstRouge155
//     (fmeasure 0.51163 on the first line of rouge/testdata/target.txt and
//     prediction.txt, "ground truth" from ROUGE-1.5.5).
//   - Lin (2004), "ROUGE: A Package for Automatic Evaluation of Summaries",
//     section 3.1: S1 "police killed the gunman" scores 3/4 against
//     S2 "police kill the gunman" and 1/2 against S3 "the gunman kill police".
func TestRougeL(t *testing.T) {
	const (
		target155     = "ZfbCUIUuePaiLVUlCaUXxkpu XPeWing tUHfPMuZ',-Xd Y BrUgVJing M-HV.-DgdDaY.rFDJCRing Ht-LM EKBDXkME,yz'RBr q'wtion wIojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxer tKM L\n"
		prediction155 = "rFDJCRtion Ht-LM EKtDXkME,yz'RBr q'wer wrojNbN wL,b .a-'XdQggyFl jB-RPP'iyOIcUxi\n"
	)
	for _, tc := range []struct {
		name, ref, hyp string
		want, tol      float64
	}{
		{"consecutive", "testing one two", "testing one", 4.0 / 5.0, 1e-12},
		{"non-consecutive", "testing one two", "testing two", 4.0 / 5.0, 1e-12},
		{"empty hypothesis", "testing one two", "", 0, 0},
		{"empty reference", "", "w1", 0, 0},
		{"all non-word hypothesis", "w1 w2 w3 w4 w5", "/", 0, 0},
		{"ROUGE-1.5.5 line 0", target155, prediction155, 0.51163, 5e-6},
		{"Lin 2004 S2", "police killed the gunman", "police kill the gunman", 0.75, 1e-12},
		{"Lin 2004 S3", "police killed the gunman", "the gunman kill police", 0.5, 1e-12},
		{"identical", "a b c", "A, b. C!", 1, 1e-12},
	} {
		if got := RougeL(tc.ref, tc.hyp); !near(got, tc.want, tc.tol) {
			t.Errorf("%s: RougeL = %.6f, want %.6f", tc.name, got, tc.want)
		}
	}
}

func TestLCS(t *testing.T) {
	// rouge-score testLcsTable: LCS of [1 2 3 4 5] and [2 5 3 4] is 3.
	if got := lcs(strings.Fields("1 2 3 4 5"), strings.Fields("2 5 3 4")); got != 3 {
		t.Errorf("lcs = %d, want 3", got)
	}
	if got := lcs(strings.Fields("1 2 3 4 5"), strings.Fields("8 9")); got != 0 {
		t.Errorf("lcs = %d, want 0", got)
	}
}

// WER reference values from jiwer (github.com/jitsi/jiwer):
// tests/test_wer.py and tests/test_measures.py (test_input_gt_string_h_string,
// test_different_sentence_length, test_known_values, which takes its cases
// from Morris, Maier & Green 2004, "From WER and RIL to MER and WIL"), and
// tests/test_empty_ref.py for the empty-reference convention of jiwer 4.
func TestWER(t *testing.T) {
	for _, tc := range []struct {
		ref, hyp string
		want     float64
	}{
		{"This is a test", "This is a test", 0},
		{"This is a test", "", 1},
		{"This is a test", "This test", 0.5},
		{"i am a short ground truth", "i am a considerably longer and very much incorrect hypothesis", 7.0 / 6.0},
		// jiwer: the list form ["hello", "this", "sentence", "is fractured"]
		// vs ["this sentence"] is scored as the joined sentences: 0.6.
		{"hello this sentence is fractured", "this sentence", 0.6},
		{"X", "X", 0},
		{"X", "X X Y Y", 3},
		{"X Y X", "X Z", 2.0 / 3.0},
		{"X", "Y", 1},
		{"X", "Y Z", 2},
		{"", "", 0},
		{"", "hello", 1},
		{"", "0 1 2", 3},
		{"hello", "", 1},
		// README example
		{"hello world", "hello duck", 0.5},
	} {
		if got := WER(tc.ref, tc.hyp); !near(got, tc.want, 1e-15) {
			t.Errorf("WER(%q, %q) = %v, want %v", tc.ref, tc.hyp, got, tc.want)
		}
	}
}

// CER reference values from jiwer tests/test_cer.py (including the Morris et
// al. known values) and tests/test_empty_ref.py (test_cer_empty_ref).
func TestCER(t *testing.T) {
	for _, tc := range []struct {
		ref, hyp string
		want     float64
	}{
		{"This is a test", "This is a test", 0},
		{"This is a test", "", 14.0 / 14.0},
		{"This is a test", "This test", 5.0 / 14.0},
		{"X", "X", 0},
		{"X", "X X Y Y", 6},
		{"X Y X", "X Z", 3.0 / 5.0},
		{"X", "Y", 1},
		{"X", "Y Z", 3},
		{"", "", 0},
		{"", "a", 1},
		{"", "abd", 3},
		{"a", "", 1},
		{"abc", "", 1},
		// our normalisation: case and punctuation do not count
		{"Hello, world!", "hello world", 0},
	} {
		if got := CER(tc.ref, tc.hyp); !near(got, tc.want, 1e-15) {
			t.Errorf("CER(%q, %q) = %v, want %v", tc.ref, tc.hyp, got, tc.want)
		}
	}
}

func TestLevenshtein(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"kitten", "sitting", 3},
		{"flaw", "lawn", 2},
		{"", "abc", 3},
		{"abc", "", 3},
		{"same", "same", 0},
	} {
		if got := levenshtein([]rune(tc.a), []rune(tc.b)); got != tc.want {
			t.Errorf("levenshtein(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
