package eval

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
)

func cand(id, text string, lat *float64) Candidate {
	return Candidate{EventID: id, Output: CandidateOutput{Text: text, LatencyMS: lat}}
}

func TestEvaluate(t *testing.T) {
	cases := []Case{
		{Entry: loop.SetEntry{EventID: "s1", Reference: "the cat sat on the mat"}, Task: "summarization", Segment: "pro", Current: "a cat sat"},
		{Entry: loop.SetEntry{EventID: "s2", Reference: "refunds take five days"}, Task: "summarization", Segment: "free", Current: "refunds take five days"},
		// jiwer README, list form: ["hello world", "i like monthy python"] vs
		// ["hello duck", "i like python"]: 2 word edits over 6 words.
		{Entry: loop.SetEntry{EventID: "t1", Reference: "hello world"}, Task: "transcription", Segment: "pro"},
		{Entry: loop.SetEntry{EventID: "t2", Reference: "i like monthy python"}, Task: "transcription"},
		{Entry: loop.SetEntry{EventID: "r1", MustContain: []string{"sorry"}, MaxLatencyMS: f64(1000)}, Task: "support", Segment: "pro", Current: "Sorry!", CurrentLatencyMS: f64(500)},
		{Entry: loop.SetEntry{EventID: "r2", MustNotContain: []string{"password"}}, Task: "support", Segment: "enterprise"},
		{Entry: loop.SetEntry{EventID: "gone", Reference: "x"}, Task: "qa"},
		{Entry: loop.SetEntry{EventID: "also-gone"}},
	}
	cands := map[string]Candidate{
		"s1": cand("s1", "The cat sat on the mat.", nil),
		"s2": cand("s2", "refunds take days", nil),
		"t1": cand("t1", "hello duck", nil),
		"t2": cand("t2", "i like python", nil),
		"r1": cand("r1", "We are sorry.", f64(1200)),
		"r2": cand("r2", "no secrets here", nil),
		"x":  cand("x", "not in any case", nil),
	}
	rep := Evaluate(cases, cands)

	if !reflect.DeepEqual(rep.Missing, []string{"also-gone", "gone"}) {
		t.Errorf("Missing = %v", rep.Missing)
	}
	m := rep.Metrics
	if m.N != 6 || m.NReference != 4 || m.NTranscription != 2 || m.NAssertions != 2 {
		t.Errorf("counts = %+v", m)
	}
	// exact: no pair matches ("mat." vs "mat": punctuation is not normalised)
	wantExact := 0.0
	wantF1 := (1 + TokenF1("refunds take five days", "refunds take days") + 0.5 + TokenF1("i like monthy python", "i like python")) / 4
	wantRL := (1 + RougeL("refunds take five days", "refunds take days") + 0.5 + RougeL("i like monthy python", "i like python")) / 4
	if !near(m.Exact, wantExact, 1e-12) || !near(m.F1, wantF1, 1e-12) || !near(m.RougeL, wantRL, 1e-12) {
		t.Errorf("exact %v f1 %v rouge_l %v, want %v %v %v", m.Exact, m.F1, m.RougeL, wantExact, wantF1, wantRL)
	}
	wantBLEU := BLEU(
		[]string{"the cat sat on the mat", "refunds take five days", "hello world", "i like monthy python"},
		[]string{"The cat sat on the mat.", "refunds take days", "hello duck", "i like python"})
	if !near(m.BLEU, wantBLEU, 1e-12) || m.BLEU <= 0 {
		t.Errorf("bleu = %v, want %v", m.BLEU, wantBLEU)
	}
	if !near(m.WER, 2.0/6.0, 1e-12) {
		t.Errorf("wer = %v, want 1/3 (micro average)", m.WER)
	}
	// chars: "hello world" -> "hello duck": 5 edits ("world"->"duck": 4 subs + 1 del) over 11;
	// "i like monthy python" -> "i like python": 7 deletions over 20.
	if !near(m.CER, 12.0/31.0, 1e-12) {
		t.Errorf("cer = %v, want 12/31", m.CER)
	}
	if !near(m.Assertions, 0.5, 1e-12) { // r1 fails on latency, r2 passes
		t.Errorf("assertions = %v, want 0.5", m.Assertions)
	}

	sum := rep.ByTask["summarization"]
	if sum.N != 2 || sum.WER != NoData || sum.CER != NoData || sum.Assertions != NoData {
		t.Errorf("by_task summarization = %+v", sum)
	}
	sup := rep.ByTask["support"]
	if sup.N != 2 || sup.Exact != NoData || sup.BLEU != NoData || sup.Assertions != 0.5 {
		t.Errorf("by_task support = %+v", sup)
	}
	if _, ok := rep.ByTask["qa"]; ok {
		t.Errorf("a task with only missing candidates has no metrics")
	}
	if u := rep.BySegment[Unknown]; u.N != 1 {
		t.Errorf("by_segment unknown = %+v", u)
	}
	if p := rep.BySegment["pro"]; p.N != 3 {
		t.Errorf("by_segment pro = %+v", p)
	}

	b := rep.Baseline
	if b == nil {
		t.Fatal("no baseline")
	}
	if b.N != 6 || !near(b.Exact, 0.25, 1e-12) || b.Assertions != 1 || !near(b.WER, 1, 1e-12) {
		t.Errorf("baseline = %+v", *b)
	}

	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{`"metrics":{`, `"exact":`, `"f1":`, `"rouge_l":`, `"bleu":`, `"wer":`, `"cer":`, `"assertions":`, `"by_task":{`, `"by_segment":{`, `"baseline":{`, `"missing":["also-gone","gone"]`} {
		if !strings.Contains(string(js), k) {
			t.Errorf("JSON lacks %s: %s", k, js)
		}
	}
}

func TestEvaluateEmpty(t *testing.T) {
	rep := Evaluate(nil, nil)
	if rep.Baseline != nil || len(rep.Missing) != 0 || rep.Metrics.N != 0 {
		t.Errorf("empty report = %+v", rep)
	}
	for _, name := range MetricNames {
		if v, ok := rep.Metrics.Get(name); ok || v != NoData {
			t.Errorf("%s = %v, %v; want NoData", name, v, ok)
		}
	}
	js, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"metrics":{"n":0,"n_reference":0,"n_transcription":0,"n_assertions":0,"exact":null,"f1":null,"rouge_l":null,"bleu":null,"wer":null,"cer":null,"assertions":null},"by_task":{},"by_segment":{},"missing":[]}`; string(js) != want {
		t.Errorf("JSON = %s\nwant   %s", js, want)
	}
}

func TestMetricsGet(t *testing.T) {
	m := Metrics{Exact: 0.1, F1: 0.2, RougeL: 0.3, BLEU: 0.4, WER: 0.5, CER: 0.6, Assertions: 0.7}
	for i, name := range MetricNames {
		v, ok := m.Get(name)
		if !ok || !near(v, float64(i+1)/10, 1e-12) {
			t.Errorf("Get(%s) = %v %v", name, v, ok)
		}
	}
	if _, ok := m.Get("nope"); ok {
		t.Error("unknown metric reported ok")
	}
	if !LowerIsBetter(MetricWER) || !LowerIsBetter(MetricCER) || LowerIsBetter(MetricRougeL) {
		t.Error("LowerIsBetter")
	}
	if math.IsNaN(m.WER) {
		t.Error("nan")
	}
}

func TestMetricsJSONRoundTrip(t *testing.T) {
	m := Metrics{N: 3, NReference: 2, Exact: 0.5, F1: 0.25, RougeL: NoData, BLEU: 0, WER: NoData, CER: NoData, Assertions: 1}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"n":3,"n_reference":2,"n_transcription":0,"n_assertions":0,"exact":0.5,"f1":0.25,"rouge_l":null,"bleu":0,"wer":null,"cer":null,"assertions":1}`; string(b) != want {
		t.Fatalf("JSON = %s\nwant   %s", b, want)
	}
	var back Metrics
	if err := json.Unmarshal(b, &back); err != nil || back != m {
		t.Fatalf("back = %+v, %v", back, err)
	}
}
