package gen

import "math"

// ModelInfo describes one generated model version: the task it serves, the
// day offsets (from the first day of the span, inclusive) it is live, and
// whether it is the regressed one.
type ModelInfo struct {
	Version, Task string
	From, To      int // day offsets live, inclusive
	Regressed     bool
}

// ReasonCode is one code of the default taxonomy.
type ReasonCode struct{ Code, Description string }

// Reason code indices, in taxonomy order.
const (
	rFactual int8 = iota
	rMissing
	rTooLong
	rTone
	rUnsafe
	rFormatting
	rIrrelevant
	rMistranscription
	nReasons
)

var reasonCodes = [nReasons]ReasonCode{
	{"factual_error", "states something false or unsupported"},
	{"missing_info", "leaves out something the user needed"},
	{"too_long", "longer or wordier than the user wanted"},
	{"wrong_tone", "tone does not fit the user or the situation"},
	{"unsafe", "harmful or policy-violating content"},
	{"formatting", "broken or unsuitable layout or markup"},
	{"irrelevant", "off-topic answer or recommendation"},
	{"mistranscription", "speech-to-text got words wrong"},
}

// ReasonCodes returns the reason codes the generator uses, with one-line
// descriptions: the default taxonomy.
func ReasonCodes() []ReasonCode { return append([]ReasonCode(nil), reasonCodes[:]...) }

// version is a model version and the behaviour the generator gives it.
type version struct {
	name      string
	task      int
	regressed bool
	down      float64 // base thumbs-down rate
	factual   float64 // share of factual_error among thumbs-down (summarizer)
	latMed    float64 // median latency, ms
	latSigma  float64
	escal     float64 // support: escalation rate on bad answers
	resolve   float64 // support: resolution rate on good answers
	sttErr    float64 // transcription: per-word error rate on good answers
	relevance float64 // recommendations: click relevance of good lists
	hall      float64 // baseline hallucination score
}

// rollout is a product's release history: each ramp (as fractions of the
// span) moves users from one version to the next; a canary, when present,
// takes a share of users during the last third of the span.
type rollout struct {
	versions    []*version
	ramps       [][2]float64
	canary      *version
	canaryShare float64
}

var (
	sum09 = &version{name: "sum-2026.09", task: taskSum, down: 0.17, factual: 0.25, latMed: 1850, latSigma: 0.35, hall: 0.12}
	sum10 = &version{name: "sum-2026.10", task: taskSum, down: 0.14, factual: 0.22, latMed: 1500, latSigma: 0.32, hall: 0.10}
	sum11 = &version{name: "sum-2026.11", task: taskSum, regressed: true, down: 0.36, factual: 0.62, latMed: 1150, latSigma: 0.30, hall: 0.22}

	rec08 = &version{name: "rec-2026.08", task: taskRec, down: 0.21, latMed: 140, latSigma: 0.40, relevance: 0.46}
	rec10 = &version{name: "rec-2026.10", task: taskRec, down: 0.17, latMed: 95, latSigma: 0.35, relevance: 0.52}

	sup08 = &version{name: "sup-2026.08", task: taskSup, down: 0.25, latMed: 2400, latSigma: 0.45, escal: 0.42, resolve: 0.80, hall: 0.12}
	sup09 = &version{name: "sup-2026.09", task: taskSup, down: 0.21, latMed: 2100, latSigma: 0.42, escal: 0.34, resolve: 0.84, hall: 0.10}
	sup10 = &version{name: "sup-2026.10", task: taskSup, down: 0.18, latMed: 1750, latSigma: 0.40, escal: 0.27, resolve: 0.88, hall: 0.08}

	stt07 = &version{name: "stt-2026.07", task: taskSTT, down: 0.20, latMed: 900, latSigma: 0.35, sttErr: 0.06}
	stt10 = &version{name: "stt-2026.10", task: taskSTT, down: 0.14, latMed: 1050, latSigma: 0.35, sttErr: 0.03}
)

var rollouts = [nTasks]rollout{
	taskSum: {versions: []*version{sum09, sum10}, ramps: [][2]float64{{0.30, 0.40}}, canary: sum11, canaryShare: 0.4},
	taskRec: {versions: []*version{rec08, rec10}, ramps: [][2]float64{{0.45, 0.55}}},
	taskSup: {versions: []*version{sup08, sup09, sup10}, ramps: [][2]float64{{0.18, 0.26}, {0.60, 0.68}}},
	taskSTT: {versions: []*version{stt07, stt10}, ramps: [][2]float64{{0.55, 0.65}}},
}

// schedule is a rollout resolved to day offsets for a span of days.
type schedule struct {
	ro          *rollout
	ramps       [][2]int
	canaryStart int
}

func (ro *rollout) schedule(days int) schedule {
	s := schedule{ro: ro}
	for _, rp := range ro.ramps {
		a := int(math.Round(rp[0] * float64(days)))
		b := max(a, int(math.Round(rp[1]*float64(days))))
		s.ramps = append(s.ramps, [2]int{min(a, days-1), min(b, days-1)})
	}
	s.canaryStart = min(days-days/3, days-1)
	return s
}

// rampShare is the share of users moved to the new version on day d of a
// ramp over days [a, b]: it grows linearly and is complete after b.
func rampShare(d, a, b int) float64 {
	if d < a {
		return 0
	}
	if d > b {
		return 1
	}
	return float64(d-a+1) / float64(b-a+2)
}

// pick returns the version that serves user bucket h on day d. Users move
// monotonically from one version to the next; the canary is sticky per user.
func (s *schedule) pick(d int, h uint64) *version {
	b1 := float64(h>>40) / (1 << 24)
	b2 := float64(h&0xffffff) / (1 << 24)
	if s.ro.canary != nil && d >= s.canaryStart && b2 < s.ro.canaryShare {
		return s.ro.canary
	}
	v := s.ro.versions[0]
	for i, rp := range s.ramps {
		if b1 >= rampShare(d, rp[0], rp[1]) {
			break
		}
		v = s.ro.versions[i+1]
	}
	return v
}

// Models lists the generated model versions per product, with the days they
// are live for the default span of DefaultDays, and which one regresses.
func Models() []ModelInfo { return ModelsFor(DefaultDays) }

// ModelsFor is Models for a span of the given number of days.
func ModelsFor(days int) []ModelInfo {
	if days <= 0 {
		days = DefaultDays
	}
	var out []ModelInfo
	for t := range rollouts {
		ro := &rollouts[t]
		s := ro.schedule(days)
		for i, v := range ro.versions {
			from, to := 0, days-1
			if i > 0 {
				from = s.ramps[i-1][0]
			}
			if i < len(s.ramps) {
				to = s.ramps[i][1]
			}
			out = append(out, ModelInfo{Version: v.name, Task: taskNames[t], From: from, To: to, Regressed: v.regressed})
		}
		if ro.canary != nil {
			out = append(out, ModelInfo{Version: ro.canary.name, Task: taskNames[t], From: s.canaryStart, To: days - 1, Regressed: ro.canary.regressed})
		}
	}
	return out
}
