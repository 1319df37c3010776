package sample

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

var day = time.Date(2025, 3, 14, 0, 0, 0, 0, time.UTC)

// population builds n summaries spread over day with a mix of signals.
func population(n int, d time.Time) []loop.Summary {
	out := make([]loop.Summary, n)
	segs := []string{"free", "pro", "enterprise"}
	tasks := []string{"summarization", "qa", "support", "transcription"}
	for i := range out {
		s := loop.Summary{
			ID:         fmt.Sprintf("ev-%06d", i),
			Time:       d.Add(time.Duration(i) * (24 * time.Hour) / time.Duration(n)),
			Segment:    segs[i%len(segs)],
			Task:       tasks[i%len(tasks)],
			Confidence: -1,
			Resolved:   -1,
		}
		switch i % 10 {
		case 0:
			s.Thumb = loop.ThumbDown
		case 1, 2, 3:
			s.Thumb = loop.ThumbUp
		case 4:
			s.Resolved = 1
		}
		if i%7 == 0 {
			s.Confidence = float32(i%100) / 100
		}
		out[i] = s
	}
	return out
}

func ids(r Result) []string {
	var out []string
	for _, it := range r.Items {
		out = append(out, it.ID)
	}
	return out
}

func TestDeterministicAndOrderIndependent(t *testing.T) {
	items := population(5000, day)
	rules := DefaultRules()
	revs := []string{"ana", "bo", "cy"}
	a := Sample(day, 7, items, rules, nil, 0.2, revs)

	shuffled := slices.Clone(items)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	b := Sample(day.Add(13*time.Hour), 7, shuffled, rules, nil, 0.2, revs)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same day, seed and events gave different samples")
	}
	if len(a.Items) == 0 {
		t.Fatal("empty sample")
	}
	c := Sample(day, 8, items, rules, nil, 0.2, revs)
	if reflect.DeepEqual(ids(a), ids(c)) {
		t.Error("a different seed gave the same sample")
	}
}

func TestDifferentDayDifferentRandomPicks(t *testing.T) {
	rules := []Rule{{Name: "random", Kind: KindRandom, Share: 0.1}}
	next := day.AddDate(0, 0, 1)
	// The same ids on two days: only the day differs in the hash.
	a := Sample(day, 1, population(3000, day), rules, nil, 0, nil)
	b := Sample(next, 1, population(3000, next), rules, nil, 0, nil)
	if len(a.Items) == 0 || len(b.Items) == 0 {
		t.Fatal("empty sample")
	}
	common := 0
	inA := make(map[string]bool)
	for _, id := range ids(a) {
		inA[id] = true
	}
	for _, id := range ids(b) {
		if inA[id] {
			common++
		}
	}
	// Independent 10% draws share about 10% of their picks.
	if frac := float64(common) / float64(len(b.Items)); frac > 0.25 {
		t.Errorf("days share %.0f%% of their random picks; want about 10%%", frac*100)
	}
}

func TestOnlyTheUTCDay(t *testing.T) {
	rules := []Rule{{Name: "all", Kind: KindRandom, Share: 1}}
	items := []loop.Summary{
		{ID: "before", Time: day.Add(-time.Nanosecond)},
		{ID: "first", Time: day},
		{ID: "last", Time: day.Add(24*time.Hour - time.Nanosecond)},
		{ID: "after", Time: day.Add(24 * time.Hour)},
	}
	// 01:00 on the 15th in UTC+3 is the 14th in UTC.
	local := time.Date(2025, 3, 15, 1, 0, 0, 0, time.FixedZone("UTC+3", 3*3600))
	got := ids(Sample(local, 1, items, rules, nil, 0, nil))
	if want := []string{"first", "last"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func f32(v float32) float32 { return v }

func TestEachRule(t *testing.T) {
	at := day.Add(time.Hour)
	items := []loop.Summary{
		{ID: "down", Time: at, Thumb: loop.ThumbDown, Confidence: -1, Resolved: -1},
		{ID: "up", Time: at, Thumb: loop.ThumbUp, Confidence: -1, Resolved: -1},
		{ID: "resolved", Time: at, Confidence: -1, Resolved: 1},
		{ID: "down_resolved", Time: at, Thumb: loop.ThumbDown, Confidence: -1, Resolved: 1},
		{ID: "violation", Time: at, PolicyViolation: true, Confidence: -1, Resolved: -1},
		{ID: "toxic", Time: at, Toxicity: 0.7, Confidence: -1, Resolved: -1},
		{ID: "mild", Time: at, Toxicity: 0.2, Confidence: -1, Resolved: -1},
		{ID: "unsure", Time: at, Confidence: f32(0.1), Resolved: -1},
		{ID: "sure", Time: at, Confidence: f32(0.9), Resolved: -1},
		{ID: "ent", Time: at, Segment: "enterprise", Confidence: -1, Resolved: -1},
		{ID: "stt", Time: at, Task: "transcription", Confidence: -1, Resolved: -1},
	}
	tests := []struct {
		rule Rule
		want []string
	}{
		{Rule{Name: "r", Kind: KindRandom, Share: 1}, []string{"down", "down_resolved", "ent", "mild", "resolved", "stt", "sure", "toxic", "unsure", "up", "violation"}},
		{Rule{Name: "r", Kind: KindRandom, Share: 0}, nil},
		{Rule{Name: "r", Kind: KindThumbsDown, Share: 1}, []string{"down", "down_resolved"}},
		{Rule{Name: "r", Kind: KindPolicy, Share: 1, Threshold: 0.5}, []string{"toxic", "violation"}},
		{Rule{Name: "r", Kind: KindPolicy, Share: 1, Threshold: 0.1}, []string{"mild", "toxic", "violation"}},
		{Rule{Name: "r", Kind: KindPolicy, Share: 1}, []string{"violation"}},
		{Rule{Name: "r", Kind: KindLowConfidence, Share: 1, Threshold: 0.4}, []string{"unsure"}},
		{Rule{Name: "r", Kind: KindSegment, Share: 1, Segments: []string{"enterprise", "pro"}}, []string{"ent"}},
		{Rule{Name: "r", Kind: KindTask, Share: 1, Tasks: []string{"transcription"}}, []string{"stt"}},
		{Rule{Name: "r", Kind: KindSuccesses, Share: 1}, []string{"resolved", "up"}},
		{Rule{Name: "r", Kind: "nonsense", Share: 1}, nil},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%v/%v", tt.rule.Kind, tt.rule.Share, tt.rule.Threshold), func(t *testing.T) {
			res := Sample(day, 1, items, []Rule{tt.rule}, nil, 0, nil)
			got := ids(res)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("picked %v, want %v", got, tt.want)
			}
			if res.PerRule["r"] != len(tt.want) {
				t.Errorf("PerRule = %v, want r:%d", res.PerRule, len(tt.want))
			}
		})
	}
}

func TestSharesAreRoughlyRight(t *testing.T) {
	items := population(20000, day)
	for _, tt := range []struct {
		rule  Rule
		match int
	}{
		{Rule{Name: "random", Kind: KindRandom, Share: 0.05}, 20000},
		{Rule{Name: "successes", Kind: KindSuccesses, Share: 0.3}, 8000}, // 3 up + 1 resolved per 10
		{Rule{Name: "seg", Kind: KindSegment, Share: 0.5, Segments: []string{"pro"}}, 20000 / 3},
	} {
		got := Sample(day, 3, items, []Rule{tt.rule}, nil, 0, nil).PerRule[tt.rule.Name]
		want := tt.rule.Share * float64(tt.match)
		sd := math.Sqrt(want * (1 - tt.rule.Share))
		if math.Abs(float64(got)-want) > 5*sd {
			t.Errorf("%s: picked %d, want about %.0f", tt.rule.Name, got, want)
		}
	}
}

func TestWhyListsAndNoDuplicates(t *testing.T) {
	at := day.Add(time.Hour)
	items := []loop.Summary{
		{ID: "a", Time: at, Thumb: loop.ThumbDown, Toxicity: 0.9, Confidence: 0.1, Resolved: -1},
		{ID: "b", Time: at.Add(time.Minute), Thumb: loop.ThumbDown, Confidence: -1, Resolved: -1},
		{ID: "a", Time: at, Thumb: loop.ThumbDown, Toxicity: 0.9, Confidence: 0.1, Resolved: -1}, // repeated id
		{ID: "c", Time: at.Add(-time.Minute), Confidence: 0.9, Resolved: -1},
	}
	rules := []Rule{
		{Name: "everything", Kind: KindRandom, Share: 1},
		{Name: "thumbs_down", Kind: KindThumbsDown, Share: 1},
		{Name: "policy", Kind: KindPolicy, Share: 1, Threshold: 0.5},
		{Name: "low_confidence", Kind: KindLowConfidence, Share: 1, Threshold: 0.4},
	}
	res := Sample(day, 1, items, rules, nil, 0, nil)
	want := []Item{
		{ID: "c", Why: []string{"everything"}},
		{ID: "a", Why: []string{"everything", "thumbs_down", "policy", "low_confidence"}},
		{ID: "b", Why: []string{"everything", "thumbs_down"}},
	}
	if !reflect.DeepEqual(res.Items, want) {
		t.Errorf("items = %+v\nwant    %+v", res.Items, want)
	}
	wantPer := map[string]int{"everything": 3, "thumbs_down": 2, "policy": 1, "low_confidence": 1}
	if !maps.Equal(res.PerRule, wantPer) {
		t.Errorf("PerRule = %v, want %v", res.PerRule, wantPer)
	}
}

func TestPerRuleHasEveryRule(t *testing.T) {
	res := Sample(day, 1, nil, DefaultRules(), nil, 0.1, []string{"a", "b"})
	if len(res.PerRule) != len(DefaultRules()) || res.Items == nil || len(res.Items) != 0 {
		t.Errorf("empty input: %+v", res)
	}
}

func TestAlreadySkipped(t *testing.T) {
	items := population(1000, day)
	rules := []Rule{{Name: "down", Kind: KindThumbsDown, Share: 1}}
	first := Sample(day, 1, items, rules, nil, 0, nil)
	already := make(map[string]bool)
	for i, id := range ids(first) {
		if i%2 == 0 {
			already[id] = true
		}
	}
	second := Sample(day, 1, items, rules, already, 0, nil)
	for _, id := range ids(second) {
		if already[id] {
			t.Fatalf("%s was already queued", id)
		}
	}
	if len(second.Items)+len(already) != len(first.Items) || second.PerRule["down"] != len(second.Items) {
		t.Errorf("second run: %d items (+%d already), first %d", len(second.Items), len(already), len(first.Items))
	}
}

func TestOverlap(t *testing.T) {
	items := population(4000, day)
	rules := []Rule{{Name: "random", Kind: KindRandom, Share: 0.5}}
	revs := []string{"ana", "bo", "cy", "bo", ""}
	res := Sample(day, 1, items, rules, nil, 0.1, revs)
	n, load := 0, map[string]int{}
	for _, it := range res.Items {
		if it.Reviewers == nil {
			continue
		}
		n++
		if len(it.Reviewers) != 2 || it.Reviewers[0] == it.Reviewers[1] {
			t.Fatalf("%s: reviewers %v, want two distinct", it.ID, it.Reviewers)
		}
		for _, r := range it.Reviewers {
			if !slices.Contains([]string{"ana", "bo", "cy"}, r) {
				t.Fatalf("%s: unknown reviewer %q", it.ID, r)
			}
			load[r]++
		}
	}
	if want := int(math.Round(0.1 * float64(len(res.Items)))); n != want {
		t.Errorf("%d overlap items of %d, want %d", n, len(res.Items), want)
	}
	for r, c := range load {
		if exp := float64(2*n) / 3; math.Abs(float64(c)-exp) > 0.25*exp {
			t.Errorf("reviewer %s has %d overlap items, want about %.0f", r, c, exp)
		}
	}

	for _, revs := range [][]string{nil, {"solo"}, {"solo", "solo"}} {
		res := Sample(day, 1, items, rules, nil, 0.5, revs)
		for _, it := range res.Items {
			if it.Reviewers != nil {
				t.Fatalf("reviewers %v: item %s assigned %v", revs, it.ID, it.Reviewers)
			}
		}
	}
	all := Sample(day, 1, items, rules, nil, 1, []string{"a", "b"})
	for _, it := range all.Items {
		if len(it.Reviewers) != 2 {
			t.Fatalf("overlap 1: %s has reviewers %v", it.ID, it.Reviewers)
		}
	}
}

func TestDefaultRules(t *testing.T) {
	names := map[string]bool{}
	for _, r := range DefaultRules() {
		if names[r.Name] || !slices.Contains(Kinds(), r.Kind) || !(r.Share > 0 && r.Share <= 1) {
			t.Errorf("bad default rule %+v", r)
		}
		names[r.Name] = true
	}
}

func BenchmarkSample(b *testing.B) {
	items := population(100000, day)
	rules := DefaultRules()
	for b.Loop() {
		Sample(day, 1, items, rules, nil, 0.1, []string{"a", "b", "c"})
	}
}

// Picker picks, one event at a time, exactly what Sample picks of each
// event's own UTC day, with the same reasons, whatever the time zone of
// the event's time.
func TestPickerIsSampleOfEachDay(t *testing.T) {
	rules := append(DefaultRules(), Rule{Name: "random", Kind: KindRandom, Share: 0.2},
		Rule{Name: "pro", Kind: KindSegment, Segments: []string{"pro"}, Share: 0.5})
	pop := append(population(2000, day), population(2000, day.AddDate(0, 0, 1))...)
	for i := range pop {
		pop[i].ID = fmt.Sprintf("ev-%06d", i)
		if i%3 == 0 {
			pop[i].Time = pop[i].Time.In(time.FixedZone("UTC-7", -7*3600))
		}
	}
	want := map[string][]string{}
	for _, d := range []time.Time{day, day.AddDate(0, 0, 1)} {
		for _, it := range Sample(d, 7, pop, rules, nil, 0, nil).Items {
			want[it.ID] = it.Why
		}
	}
	p := NewPicker(7, rules)
	got := map[string][]string{}
	for i := range pop {
		if why := p.Why(&pop[i]); why != nil {
			got[pop[i].ID] = why
		}
	}
	if len(want) < 100 || !maps.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("Picker picked %d, Sample %d (or with other reasons)", len(got), len(want))
	}
	if NewPicker(7, nil).Why(&pop[0]) != nil {
		t.Fatal("no rules picked something")
	}
}

// The day's hash prefix is that of its DateOnly form, for every year.
func TestHasherDayIsDateOnly(t *testing.T) {
	for _, d := range []time.Time{day, time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(999, 12, 31, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 9, 0, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(12345, 6, 7, 0, 0, 0, 0, time.UTC)} {
		var b [8]byte
		b[0] = 7
		want := fnvAdd(fnvAdd(fnvOffset, string(b[:])), d.Format(time.DateOnly))
		if got := newHasher(7, d).prefix; got != want {
			t.Errorf("%s: prefix %x, want %x", d.Format(time.DateOnly), got, want)
		}
	}
}
