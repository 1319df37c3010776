package eval

import (
	"sort"
	"strings"

	"github.com/loupe-dev/loupe/loop"
)

// NoData is the value of a metric that had no items to score (no case with
// a reference, no transcription case, no case with assertions). It keeps
// reports free of NaN, which JSON cannot carry.
const NoData = -1.0

// TaskTranscription is the task_type whose cases get WER and CER.
const TaskTranscription = "transcription"

// Unknown is the ByTask / BySegment key of cases without a task or segment.
const Unknown = "unknown"

// Metric names, as used in JSON, gate guardrails and MetricNames.
const (
	MetricExact      = "exact"
	MetricF1         = "f1"
	MetricRougeL     = "rouge_l"
	MetricBLEU       = "bleu"
	MetricWER        = "wer"
	MetricCER        = "cer"
	MetricAssertions = "assertions"
)

// MetricNames lists the metrics of Metrics in report order.
var MetricNames = []string{MetricExact, MetricF1, MetricRougeL, MetricBLEU, MetricWER, MetricCER, MetricAssertions}

// LowerIsBetter reports whether a smaller value of the named metric is
// better (the error rates wer and cer).
func LowerIsBetter(metric string) bool { return metric == MetricWER || metric == MetricCER }

// Case is one item to evaluate: a set entry (its reference and assertions),
// the event's task_type and user_segment for the breakdowns, and what the
// current model answered (the event's output.text and output.latency_ms) for
// the baseline. A nil CurrentLatencyMS is unknown: a max_latency_ms
// assertion then fails for the baseline.
type Case struct {
	Entry            loop.SetEntry
	Task, Segment    string
	Current          string
	CurrentLatencyMS *float64
}

// Metrics are aggregate scores over a set of cases, each in [0, 1] except
// WER and CER (which can exceed 1), or NoData (-1) when the metric had no
// items.
//
//   - N counts the cases scored (those with an output).
//   - Exact, F1, RougeL are means over the NReference cases with a
//     non-empty reference; BLEU is corpus BLEU over the same cases.
//   - WER, CER are micro-averaged over the NTranscription cases whose task is
//     "transcription" and that have a reference.
//   - Assertions is the share of the NAssertions cases with at least one
//     assertion whose assertions all passed.
type Metrics struct {
	N              int     `json:"n"`
	NReference     int     `json:"n_reference"`
	NTranscription int     `json:"n_transcription"`
	NAssertions    int     `json:"n_assertions"`
	Exact          float64 `json:"exact"`
	F1             float64 `json:"f1"`
	RougeL         float64 `json:"rouge_l"`
	BLEU           float64 `json:"bleu"`
	WER            float64 `json:"wer"`
	CER            float64 `json:"cer"`
	Assertions     float64 `json:"assertions"`
}

// Get returns the named metric (see MetricNames) and whether it has data.
// ok is false for an unknown name or a NoData value.
func (m Metrics) Get(name string) (v float64, ok bool) {
	switch name {
	case MetricExact:
		v = m.Exact
	case MetricF1:
		v = m.F1
	case MetricRougeL:
		v = m.RougeL
	case MetricBLEU:
		v = m.BLEU
	case MetricWER:
		v = m.WER
	case MetricCER:
		v = m.CER
	case MetricAssertions:
		v = m.Assertions
	default:
		return 0, false
	}
	return v, v != NoData
}

// Report is the outcome of Evaluate. Baseline holds the current model's
// metrics on the same scored cases, nil when no case carried a current
// output. Missing lists, sorted, the event ids of cases without a
// candidate; they are left out of every metric.
type Report struct {
	Metrics   Metrics            `json:"metrics"`
	ByTask    map[string]Metrics `json:"by_task"`
	BySegment map[string]Metrics `json:"by_segment"`
	Baseline  *Metrics           `json:"baseline,omitempty"`
	Missing   []string           `json:"missing"`
}

// Evaluate scores the candidates against the cases. A case is scored when
// cands has its event id; its reference metrics count when the entry has a
// reference (not blank), its assertions when it has any.
func Evaluate(cases []Case, cands map[string]Candidate) Report {
	rep := Report{ByTask: map[string]Metrics{}, BySegment: map[string]Metrics{}, Missing: []string{}}
	var all, base acc
	byTask, bySeg := map[string]*acc{}, map[string]*acc{}
	haveBase := false
	for _, c := range cases {
		cand, ok := cands[c.Entry.EventID]
		if !ok {
			rep.Missing = append(rep.Missing, c.Entry.EventID)
			continue
		}
		it := score(c, cand.Output.Text, cand.Output.LatencyMS)
		all.add(it)
		group(byTask, orUnknown(c.Task)).add(it)
		group(bySeg, orUnknown(c.Segment)).add(it)
		if c.Current != "" {
			haveBase = true
		}
		base.add(score(c, c.Current, c.CurrentLatencyMS))
	}
	sort.Strings(rep.Missing)
	rep.Metrics = all.metrics()
	for k, a := range byTask {
		rep.ByTask[k] = a.metrics()
	}
	for k, a := range bySeg {
		rep.BySegment[k] = a.metrics()
	}
	if haveBase {
		m := base.metrics()
		rep.Baseline = &m
	}
	return rep
}

func orUnknown(s string) string {
	if strings.TrimSpace(s) == "" {
		return Unknown
	}
	return s
}

func group(m map[string]*acc, k string) *acc {
	a := m[k]
	if a == nil {
		a = &acc{}
		m[k] = a
	}
	return a
}

// item is one scored case.
type item struct {
	hasRef              bool
	exact, f1, rougeL   float64
	refToks, hypToks    []string
	transcription       bool
	wordEdits, refWords int
	charEdits, refChars int
	hasAssert, allPass  bool
}

func score(c Case, out string, latency *float64) item {
	var it item
	ref := c.Entry.Reference
	if strings.TrimSpace(ref) != "" {
		it.hasRef = true
		it.refToks, it.hypToks = Tokenize(ref), Tokenize(out)
		it.exact = ExactMatch(ref, out)
		it.f1 = TokenF1(ref, out)
		it.rougeL = rougeLTokens(it.refToks, it.hypToks)
		if c.Task == TaskTranscription {
			it.transcription = true
			it.wordEdits, it.refWords = levenshtein(it.refToks, it.hypToks), len(it.refToks)
			rr, hr := []rune(charNorm(ref)), []rune(charNorm(out))
			it.charEdits, it.refChars = levenshtein(rr, hr), len(rr)
		}
	}
	if as := CheckAssertions(c.Entry, out, latency); len(as) > 0 {
		it.hasAssert, it.allPass = true, allPass(as)
	}
	return it
}

// acc accumulates items into Metrics.
type acc struct {
	n, nRef, nTr, nAs   int
	exact, f1, rougeL   float64
	refs                [][][]string
	hyps                [][]string
	wordEdits, refWords int
	charEdits, refChars int
	asPass              int
}

func (a *acc) add(it item) {
	a.n++
	if it.hasRef {
		a.nRef++
		a.exact += it.exact
		a.f1 += it.f1
		a.rougeL += it.rougeL
		a.refs = append(a.refs, [][]string{it.refToks})
		a.hyps = append(a.hyps, it.hypToks)
	}
	if it.transcription {
		a.nTr++
		a.wordEdits += it.wordEdits
		a.refWords += it.refWords
		a.charEdits += it.charEdits
		a.refChars += it.refChars
	}
	if it.hasAssert {
		a.nAs++
		if it.allPass {
			a.asPass++
		}
	}
}

func (a *acc) metrics() Metrics {
	m := Metrics{N: a.n, NReference: a.nRef, NTranscription: a.nTr, NAssertions: a.nAs,
		Exact: NoData, F1: NoData, RougeL: NoData, BLEU: NoData, WER: NoData, CER: NoData, Assertions: NoData}
	if a.nRef > 0 {
		n := float64(a.nRef)
		m.Exact, m.F1, m.RougeL = a.exact/n, a.f1/n, a.rougeL/n
		m.BLEU = corpusBLEU(a.refs, a.hyps, true)
	}
	if a.nTr > 0 {
		m.WER = errorRate(a.wordEdits, a.refWords)
		m.CER = errorRate(a.charEdits, a.refChars)
	}
	if a.nAs > 0 {
		m.Assertions = float64(a.asPass) / float64(a.nAs)
	}
	return m
}
