package filter

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sahilm/fuzzy"
)

var fixture = []Item{
	{Text: "My order never arrived, I want a refund", Model: "support-v1", Segment: "enterprise", Task: "support", Locale: "en-US", Thumb: "down", Reasons: []string{"missing_info"}},
	{Text: "Summarize the quarterly report", Model: "sum-v2", Segment: "pro", Task: "summarization", Locale: "de-DE", Thumb: "up"},
	{Text: "Recommend running shoes", Model: "rec-1", Segment: "free", Task: "recommendation", Locale: "en-GB"},
	{Text: "Refund for invoice INV-22", Model: "support-v2", Segment: "free", Task: "support", Locale: "en-US", Thumb: "down", Reasons: []string{"factual_error", "too_long"}},
	{Text: "Transcribe the voicemail", Model: "asr-large", Segment: "enterprise", Task: "transcription", Locale: "fr-FR", Thumb: "down", Reasons: []string{"mistranscription"}},
	{Text: "Ünïcode Résumé please", Model: "sum-v2", Segment: "pro", Task: "summarization", Locale: "fr-FR"},
}

func search(t *testing.T, ix *Index, marks []Mark, q string, within []int32) Result {
	t.Helper()
	res, err := ix.Search(context.Background(), Request{Query: Parse(q), Marks: marks, Within: within, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSearch(t *testing.T) {
	ix := buildItems(fixture)
	marks := []Mark{GradeFail | Mine | RedFlag, GradePass | Golden, 0, GradeBorderline | Disagree, GradeFail, 0}
	tests := []struct {
		q    string
		want []int32 // as a set, unless ranked
	}{
		{"", []int32{0, 1, 2, 3, 4, 5}},
		{"seg:ent", []int32{0, 4}},
		{"seg:ENT", []int32{0, 4}},
		{"segment:pro", []int32{1, 5}},
		{"model:sup", []int32{0, 3}},
		{"model:supv2", []int32{3}},
		{"task:summ", []int32{1, 5}},
		{"thumb:down", []int32{0, 3, 4}},
		{"thumb:none", []int32{2, 5}},
		{"locale:fr", []int32{4, 5}},
		{"reason:fact", []int32{3}},
		{"reason:mis", []int32{0, 4}}, // missing_info, mistranscription
		{"reason:long reason:fact", []int32{3}},
		{"reason:nosuch", []int32{}},
		{"grade:fail", []int32{0, 4}},
		{"grade:pass", []int32{1}},
		{"grade:none", []int32{2, 5}},
		{"set:gold", []int32{1}},
		{"set:red", []int32{0}},
		{"set:zzz", []int32{}},
		{"refund", []int32{0, 3}},
		{"REFUND", []int32{0, 3}},
		{"rfnd", []int32{0, 3}},
		{"refund seg:free", []int32{3}},
		{"refund invoice", []int32{3}},
		{"résumé", []int32{5}},
		{"RÉSUMÉ", []int32{5}},
		{"zzz", []int32{}},
		{"model:nosuch refund", []int32{}},
		// Quoted: an exact phrase, ignoring case, never fuzzy.
		{`"a refund"`, []int32{0}},
		{`"A REFUND"`, []int32{0}},
		{`"rfnd"`, []int32{}},
		{`"refund for" seg:free`, []int32{3}},
		{`"résumé please"`, []int32{5}},
		{`model:"support-v"`, []int32{0, 3}},
		{`model:"supv2"`, []int32{}},
		{`reason:"too_long"`, []int32{3}},
	}
	for _, tt := range tests {
		got := search(t, ix, marks, tt.q, nil).IDs
		g := slices.Clone(got)
		slices.Sort(g)
		if len(g) == 0 && len(tt.want) == 0 {
			continue
		}
		if !slices.Equal(g, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestSearchQueues(t *testing.T) {
	ix := buildItems(fixture)
	marks := []Mark{GradeFail | Mine, GradePass | Golden, 0, GradeBorderline | Disagree, GradeFail, 0}
	for _, tt := range []struct {
		req, excl Mark
		want      []int32
	}{
		{0, Mine, []int32{1, 2, 3, 4, 5}},
		{Golden, 0, []int32{1}},
		{Disagree, 0, []int32{3}},
	} {
		res, err := ix.Search(context.Background(), Request{Marks: marks, Require: tt.req, Exclude: tt.excl})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.IDs, tt.want) {
			t.Errorf("require %b exclude %b: got %v want %v", tt.req, tt.excl, res.IDs, tt.want)
		}
	}
}

// The ranking is sahilm/fuzzy's: the same order fuzzy.Find gives.
func TestSearchRankedLikeSahilm(t *testing.T) {
	items := synth(3000, 7)
	ix := buildItems(items)
	texts := make([]string, len(items))
	for i := range items {
		texts[i] = items[i].Text
	}
	for _, q := range []string{"refund", "sum rep", "ordr", "Invoice", "k"} {
		res, err := ix.Search(context.Background(), Request{Query: Parse(q), SortLimit: -1})
		if err != nil {
			t.Fatal(err)
		}
		// Reference: every word through fuzzy.Find, scores summed.
		score := map[int]int{}
		count := map[int]int{}
		words := strings.Fields(q)
		for _, w := range words {
			for _, m := range fuzzy.Find(w, texts) {
				score[m.Index] += m.Score
				count[m.Index]++
			}
		}
		var want []int
		for i, c := range count {
			if c == len(words) {
				want = append(want, i)
			}
		}
		sort.Slice(want, func(a, b int) bool {
			if score[want[a]] != score[want[b]] {
				return score[want[a]] > score[want[b]]
			}
			return want[a] < want[b]
		})
		if len(want) != len(res.IDs) {
			t.Fatalf("%q: %d results, sahilm finds %d", q, len(res.IDs), len(want))
		}
		for k := range want {
			if int(res.IDs[k]) != want[k] || int(res.Scores[k]) != score[want[k]] {
				t.Fatalf("%q: rank %d is %d (score %d), want %d (score %d)", q, k, res.IDs[k], res.Scores[k], want[k], score[want[k]])
			}
		}
		if !res.Scored {
			t.Fatalf("%q: not scored", q)
		}
	}
}

func TestSearchSortLimit(t *testing.T) {
	ix := buildItems(synth(5000, 3))
	res, err := ix.Search(context.Background(), Request{Query: Parse("e"), SortLimit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if res.Scored || len(res.IDs) < 100 || !slices.IsSorted(res.IDs) {
		t.Fatalf("over the limit: want unscored, in list order; got scored=%v n=%d", res.Scored, len(res.IDs))
	}
}

// Searching within the previous result gives the same as searching all,
// whenever the new query narrows the old one.
func TestSearchWithinNarrowing(t *testing.T) {
	ix := buildItems(synth(20000, 11))
	query := "seg:ent refund late"
	var prev Result
	var prevQ Query
	for k := 1; k <= len(query); k++ {
		q := Parse(query[:k])
		var within []int32
		if k > 1 && q.Narrows(prevQ) {
			within = prev.IDs
		}
		full := search(t, ix, nil, query[:k], nil)
		inc := search(t, ix, nil, query[:k], within)
		a, b := slices.Clone(full.IDs), slices.Clone(inc.IDs)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			t.Fatalf("%q: incremental %d results, full %d", query[:k], len(b), len(a))
		}
		prev, prevQ = inc, q
	}
}

func TestSearchCancelled(t *testing.T) {
	ix := buildItems(synth(50000, 5))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := ix.Search(ctx, Request{Query: Parse("refund")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled search: err = %v", err)
	}
}

func TestPrefilter(t *testing.T) {
	for _, tt := range []struct {
		p, s string
		want bool
	}{
		{"abc", "xAxBxC", true},
		{"abc", "cba", false},
		{"a-1", "A - 1", true},
		{"ab", "Ba", false},
		{"ab", "aB", true},
		{"zz", "z", false},
		{"é", "É", true},
	} {
		q := Parse(tt.p)
		c := (&Index{}).compile(&Request{Query: q})
		if got := c.words[0].prefilter(tt.s, charMask(tt.s)); got != tt.want {
			t.Errorf("prefilter(%q, %q) = %v", tt.p, tt.s, got)
		}
	}
}

func TestValues(t *testing.T) {
	ix := buildItems(fixture)
	if got := ix.Values(Segment); !slices.Equal(got, []string{"enterprise", "pro", "free"}) {
		t.Errorf("segments: %v", got)
	}
	if got := ix.Values(Thumb); !slices.Contains(got, "none") {
		t.Errorf("thumbs: %v", got)
	}
	if ix.Len() != len(fixture) || ix.Text(2) != fixture[2].Text {
		t.Error("Len/Text")
	}
}

// Benchmarks: typing each query one character at a time, searching only the
// previous result whenever the query narrows; the per-keystroke latency is
// reported as p50/p95 (and p95 over keystrokes with 3+ characters typed).

var benchQueries = []string{
	"model:sup",                 // a field token
	"refund",                    // bare words, 3+ chars
	"invoice late",              // two bare words
	"seg:ent refund late",       // mixed
	"task:summ quarterly risks", // mixed
}

func benchFilter(b *testing.B, n int) {
	items := synth(n, 42)
	ix := buildItems(items)
	ctx := context.Background()
	var all, three []time.Duration
	b.ResetTimer()
	for b.Loop() {
		for _, query := range benchQueries {
			var prev Result
			var prevQ Query
			for k := 1; k <= len(query); k++ {
				q := Parse(query[:k])
				req := Request{Query: q}
				if k > 1 && q.Narrows(prevQ) {
					req.Within = prev.IDs
				}
				start := time.Now()
				res, err := ix.Search(ctx, req)
				d := time.Since(start)
				if err != nil {
					b.Fatal(err)
				}
				all = append(all, d)
				if k >= 3 {
					three = append(three, d)
				}
				prev, prevQ = res, q
			}
		}
	}
	b.StopTimer()
	b.ReportMetric(pct(all, 50), "p50-ms")
	b.ReportMetric(pct(all, 95), "p95-ms")
	b.ReportMetric(pct(three, 95), "p95-3plus-ms")
	b.ReportMetric(float64(len(all))/float64(b.N), "keystrokes/op")
}

func pct(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return float64(s[(len(s)-1)*p/100]) / float64(time.Millisecond)
}

func BenchmarkFilter100k(b *testing.B) { benchFilter(b, 100_000) }
func BenchmarkFilter1M(b *testing.B)   { benchFilter(b, 1_000_000) }

func BenchmarkBuild1M(b *testing.B) {
	items := synth(1_000_000, 42)
	for b.Loop() {
		buildItems(items)
	}
}

func ExampleParse() {
	fmt.Println(Parse(`seg:ent model:"gpt 4" refund`).Terms)
	// Output: [{segment ent false} {model gpt 4 true} {text refund false}]
}
