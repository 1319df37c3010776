// Package ab compares two model versions or experiment arms online: a
// difference with a 95% confidence interval and a two-sided p-value, for
// rates (TwoProportion), means (Welch) and any other statistic such as a
// latency percentile (Bootstrap), plus the inverse-propensity-weighted click
// rate for ranking feedback and a plain-words verdict.
//
// Differences are always treatment minus control. Every Result is free of
// NaN and infinities, so it encodes as JSON; degenerate inputs (an empty
// arm, a single observation for Welch) give P = 1, a zero-width interval at
// Diff, and a "not enough data" verdict.
package ab

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// Alpha is the significance level of verdicts; intervals are 1 - Alpha = 95%.
const Alpha = 0.05

// DefaultMinN is the per-arm sample size below which the constructors'
// verdicts say "not enough data". Call Verdict to apply another minimum.
const DefaultMinN = 100

// DefaultBootstrapIters is used when Bootstrap is given iters <= 0.
const DefaultBootstrapIters = 2000

// Methods, as in Result.Method.
const (
	MethodTwoProportion = "two_proportion"
	MethodWelch         = "welch"
	MethodBootstrap     = "bootstrap"
)

// Units, as in Result.Unit: proportions are reported in percentage points;
// metrics named *_ms in milliseconds.
const (
	UnitPoints = "points"
	UnitMS     = "ms"
)

// Prop is a count of successes (for example thumbs-down events) out of N.
type Prop struct {
	Success int `json:"success"`
	N       int `json:"n"`
}

// Result is one comparison. Control and Treatment are the arms' estimates
// (proportions as fractions, not percent), Diff = Treatment - Control, Low
// and High its 95% confidence interval, P the two-sided p-value. Stat is the
// test statistic (z for TwoProportion, t for Welch, 0 for Bootstrap) and DF
// the Welch–Satterthwaite degrees of freedom (Welch only).
type Result struct {
	Metric     string  `json:"metric"`
	Method     string  `json:"method"`
	Unit       string  `json:"unit,omitempty"`
	Control    float64 `json:"control"`
	Treatment  float64 `json:"treatment"`
	Diff       float64 `json:"diff"`
	Low        float64 `json:"low"`
	High       float64 `json:"high"`
	P          float64 `json:"p"`
	Stat       float64 `json:"stat"`
	DF         float64 `json:"df,omitempty"`
	NControl   int     `json:"n_control"`
	NTreatment int     `json:"n_treatment"`
	Verdict    string  `json:"verdict"`
}

// degenerate fills a result that could not be computed.
func degenerate(r Result) Result {
	r.Low, r.High, r.P, r.Stat, r.DF = r.Diff, r.Diff, 1, 0, 0
	r.Verdict = Verdict(r, DefaultMinN)
	return r
}

// TwoProportion compares two rates. The interval is Newcombe's hybrid score
// interval (Newcombe 1998, method 10: Wilson score intervals of each arm
// combined), which keeps its coverage near 0 and 1 where the Wald interval
// fails. The p-value is the two-sided pooled two-proportion z-test
// (equivalent to Pearson's chi-square test without continuity correction).
// Success is clamped to [0, N]. The verdict uses DefaultMinN.
func TwoProportion(metric string, c, t Prop) Result {
	c.Success, t.Success = min(max(c.Success, 0), max(c.N, 0)), min(max(t.Success, 0), max(t.N, 0))
	r := Result{Metric: metric, Method: MethodTwoProportion, Unit: UnitPoints, NControl: max(c.N, 0), NTreatment: max(t.N, 0)}
	if c.N <= 0 || t.N <= 0 {
		if c.N > 0 {
			r.Control = float64(c.Success) / float64(c.N)
		}
		if t.N > 0 {
			r.Treatment = float64(t.Success) / float64(t.N)
		}
		return degenerate(r)
	}
	nc, nt := float64(c.N), float64(t.N)
	pc, pt := float64(c.Success)/nc, float64(t.Success)/nt
	r.Control, r.Treatment, r.Diff = pc, pt, pt-pc

	lc, uc := wilson(c.Success, c.N)
	lt, ut := wilson(t.Success, t.N)
	r.Low = r.Diff - math.Sqrt((pt-lt)*(pt-lt)+(uc-pc)*(uc-pc))
	r.High = r.Diff + math.Sqrt((ut-pt)*(ut-pt)+(pc-lc)*(pc-lc))

	pool := float64(c.Success+t.Success) / (nc + nt)
	se := math.Sqrt(pool * (1 - pool) * (1/nc + 1/nt))
	if se > 0 {
		r.Stat = r.Diff / se
		r.P = normTwoSided(r.Stat)
	} else { // both arms all 0 or all 1: no difference
		r.P = 1
	}
	r.Verdict = Verdict(r, DefaultMinN)
	return r
}

// wilson is the 95% Wilson score interval of x successes in n.
func wilson(x, n int) (lo, hi float64) {
	nf := float64(n)
	p := float64(x) / nf
	z2 := z975 * z975
	den := 1 + z2/nf
	center := (p + z2/(2*nf)) / den
	half := z975 * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf)) / den
	return max(center-half, 0), min(center+half, 1)
}

// Welch compares two means with Welch's unequal-variances t-test: t =
// (mean_t - mean_c) / sqrt(s_t²/n_t + s_c²/n_c), with the Welch–Satterthwaite
// degrees of freedom, a two-sided p-value from the Student t distribution
// and the interval Diff ± t_{0.975, df} · se. Each arm needs at least two
// values. NaN and infinite values are dropped. The verdict uses DefaultMinN.
func Welch(metric string, c, t []float64) Result {
	c, t = finite(c), finite(t)
	r := Result{Metric: metric, Method: MethodWelch, Unit: unitFor(metric), NControl: len(c), NTreatment: len(t)}
	mc, vc := meanVar(c)
	mt, vt := meanVar(t)
	r.Control, r.Treatment, r.Diff = mc, mt, mt-mc
	if len(c) < 2 || len(t) < 2 {
		return degenerate(r)
	}
	nc, nt := float64(len(c)), float64(len(t))
	sc, st := vc/nc, vt/nt
	se := math.Sqrt(sc + st)
	if se == 0 {
		r.Low, r.High, r.DF = r.Diff, r.Diff, nc+nt-2
		r.P = 1
		if r.Diff != 0 { // two constant, different arms: certain
			r.P = 0
		}
		r.Verdict = Verdict(r, DefaultMinN)
		return r
	}
	r.DF = (sc + st) * (sc + st) / (sc*sc/(nc-1) + st*st/(nt-1))
	r.Stat = r.Diff / se
	r.P = studentTwoSided(r.Stat, r.DF)
	q := StudentTQuantile(1-Alpha/2, r.DF)
	r.Low, r.High = r.Diff-q*se, r.Diff+q*se
	r.Verdict = Verdict(r, DefaultMinN)
	return r
}

func finite(xs []float64) []float64 {
	out := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out = append(out, x)
		}
	}
	return out
}

// meanVar is the mean and the unbiased (n-1) variance, by Welford's method.
func meanVar(xs []float64) (mean, variance float64) {
	var m2 float64
	for i, x := range xs {
		d := x - mean
		mean += d / float64(i+1)
		m2 += d * (x - mean)
	}
	if len(xs) > 1 {
		variance = m2 / float64(len(xs)-1)
	}
	return mean, variance
}

// Mean is the arithmetic mean (0 for no values), a statistic for Bootstrap.
func Mean(xs []float64) float64 {
	m, _ := meanVar(xs)
	return m
}

// Quantile returns a statistic for Bootstrap: the q-quantile (0 <= q <= 1)
// by linear interpolation between order statistics (R's type 7, numpy's
// default), 0 for no values. The statistic sorts its argument in place.
func Quantile(q float64) func([]float64) float64 {
	return func(xs []float64) float64 {
		if len(xs) == 0 {
			return 0
		}
		slices.Sort(xs)
		return quantileSorted(xs, q)
	}
}

func quantileSorted(xs []float64, q float64) float64 {
	q = min(max(q, 0), 1)
	h := q * float64(len(xs)-1)
	i := int(h)
	if i >= len(xs)-1 {
		return xs[len(xs)-1]
	}
	return xs[i] + (h-float64(i))*(xs[i+1]-xs[i])
}

// Bootstrap compares any statistic of two samples (for example
// Quantile(0.95) for p95 latency; nil means Mean) by resampling each arm
// with replacement iters times (DefaultBootstrapIters when iters <= 0).
// Control and Treatment are stat of the samples themselves; Low and High
// are the 2.5th and 97.5th percentiles of the bootstrap differences (the
// percentile interval); P is the two-sided bootstrap p-value
// min(1, 2·(1 + #{d* on the far side of 0}) / (1 + iters)), so it is never
// below 2/(iters+1). The random stream is PCG seeded from seed: the same
// inputs and seed give the same Result on every platform. NaN and infinite
// values are dropped; stat may reorder the slice it is given but never sees
// the caller's slices. The verdict uses DefaultMinN.
func Bootstrap(metric string, c, t []float64, stat func([]float64) float64, iters int, seed int64) Result {
	if stat == nil {
		stat = Mean
	}
	if iters <= 0 {
		iters = DefaultBootstrapIters
	}
	c, t = finite(c), finite(t) // copies: stat may sort them
	r := Result{Metric: metric, Method: MethodBootstrap, Unit: unitFor(metric), NControl: len(c), NTreatment: len(t)}
	if len(c) == 0 || len(t) == 0 {
		if len(c) > 0 {
			r.Control = stat(slices.Clone(c))
		}
		if len(t) > 0 {
			r.Treatment = stat(slices.Clone(t))
		}
		return degenerate(r)
	}
	r.Control, r.Treatment = stat(slices.Clone(c)), stat(slices.Clone(t))
	r.Diff = r.Treatment - r.Control

	bc, bt := make([]float64, len(c)), make([]float64, len(t))
	resampleCI(&r, iters, seed, func(rng *rand.Rand) float64 {
		for j := range bc {
			bc[j] = c[rng.IntN(len(c))]
		}
		for j := range bt {
			bt[j] = t[rng.IntN(len(t))]
		}
		return stat(bt) - stat(bc)
	})
	r.Verdict = Verdict(r, DefaultMinN)
	return r
}

// Click is one impression of a ranked item: whether it was clicked and the
// probability with which the logging policy showed it there.
type Click struct {
	Clicked    bool    `json:"clicked"`
	Propensity float64 `json:"propensity"`
}

// MinPropensity is the floor propensities are clipped to in IPWClickRate,
// which bounds any one impression's weight at 100.
const MinPropensity = 0.01

// IPWClickRate is the inverse-propensity-weighted (Horvitz-Thompson) click
// rate, Σ clicked_i / p_i over n impressions, with each p_i clipped to
// [MinPropensity, 1] (a missing, zero, negative or NaN propensity counts as
// MinPropensity). Under the examination hypothesis (a click needs the item
// to be seen, with probability p at its position) it estimates the click
// rate had every item been seen, so arms shown at different positions
// compare fairly. It is unbiased but not bounded: a small sample can exceed
// 1. (The self-normalized form, Σ(c/p) / Σ(1/p), would not correct anything
// here: within an arm whose items share one position it is the raw rate.)
// n is the number of impressions; the rate is 0 when n is 0.
func IPWClickRate(c []Click) (rate float64, n int) {
	if len(c) == 0 {
		return 0, 0
	}
	var num float64
	for _, k := range c {
		p := k.Propensity
		if !(p >= MinPropensity) { // also catches NaN
			p = MinPropensity
		}
		if k.Clicked {
			num += 1 / min(p, 1)
		}
	}
	return num / float64(len(c)), len(c)
}

// Verdict says in plain words what r shows, given a minimum sample size per
// arm (at least 1; at least 2 for Welch):
//
//	not enough data: 12 and 9 events; need at least 100 per arm
//	treatment is worse: thumbs_down_rate up 6.1 points (95% CI 4.0 to 8.2), p < 0.001
//	treatment is better: resolution_rate up 3.2 points (95% CI 0.4 to 6.0), p = 0.026
//	treatment differs: my_score down 0.12 (95% CI -0.20 to -0.04), p = 0.003
//	no significant difference (p = 0.41)
//
// A difference is significant when P < Alpha. Better or worse follows
// HigherIsBetter; for a metric of unknown direction it says "differs".
func Verdict(r Result, minN int) string {
	need := max(minN, 1)
	if r.Method == MethodWelch {
		need = max(need, 2)
	}
	if r.NControl < need || r.NTreatment < need {
		return "not enough data: " + strconv.Itoa(r.NControl) + " and " + strconv.Itoa(r.NTreatment) +
			" events; need at least " + strconv.Itoa(need) + " per arm"
	}
	if !(r.P < Alpha) {
		return "no significant difference (" + fmtP(r.P) + ")"
	}
	word := "differs"
	if higher, known := HigherIsBetter(r.Metric); known {
		if (r.Diff > 0) == higher {
			word = "is better"
		} else {
			word = "is worse"
		}
	}
	dir := "up"
	if r.Diff < 0 {
		dir = "down"
	}
	var b strings.Builder
	b.WriteString("treatment " + word + ": " + r.Metric + " " + dir + " ")
	dec := decimals(r)
	b.WriteString(fmtVal(math.Abs(r.Diff), r.Unit, dec, true))
	b.WriteString(" (95% CI " + fmtVal(r.Low, r.Unit, dec, false) + " to " + fmtVal(r.High, r.Unit, dec, false) + "), ")
	b.WriteString(fmtP(r.P))
	return b.String()
}

func fmtP(p float64) string {
	if p < 0.001 {
		return "p < 0.001"
	}
	s := strconv.FormatFloat(p, 'g', 2, 64)
	if v, _ := strconv.ParseFloat(s, 64); (v < Alpha) != (p < Alpha) { // do not round across the threshold
		s = strconv.FormatFloat(p, 'g', 4, 64)
	}
	return "p = " + s
}

// decimals is how many decimals the difference and its interval are shown
// with: two significant digits of the largest of them (percentage points
// for proportions, never fewer than one decimal there).
func decimals(r Result) int {
	m := max(math.Abs(r.Diff), math.Abs(r.Low), math.Abs(r.High))
	if r.Unit == UnitPoints {
		m *= 100
	}
	d := 0
	if m > 0 {
		d = min(max(1-int(math.Floor(math.Log10(m))), 0), 8)
	}
	if r.Unit == UnitPoints {
		d = max(d, 1)
	}
	return d
}

// fmtVal formats a difference in the result's unit (proportions in
// percentage points) with dec decimals.
func fmtVal(v float64, unit string, dec int, withUnit bool) string {
	if unit == UnitPoints {
		v *= 100
	}
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if strings.Trim(s, "-0.") == "" {
		s = strings.TrimPrefix(s, "-")
	}
	if withUnit && unit != "" {
		s += " " + unit
	}
	return s
}

func unitFor(metric string) string {
	if strings.HasSuffix(metric, "_ms") {
		return UnitMS
	}
	return ""
}

var (
	lowerIsBetter = map[string]bool{
		"thumbs_down_rate": true, "escalation_rate": true, "abandon_rate": true,
		"policy_violation_rate": true, "latency_p50_ms": true, "latency_p95_ms": true,
		"latency_ms": true, "cost_usd": true, "wer": true, "cer": true,
		"toxicity": true, "hallucination": true, "retries": true,
	}
	higherIsBetter = map[string]bool{
		"pass_rate": true, "resolution_rate": true, "thumbs_up_rate": true,
		"click_rate": true, "ipw_click_rate": true, "ctr": true, "conversion_rate": true,
		"copy_rate": true, "rating": true, "csat": true,
		"exact": true, "f1": true, "rouge_l": true, "bleu": true, "assertions": true,
	}
)

// HigherIsBetter reports the direction of a metric: higher is true when a
// larger value is better, and known is false when loupe does not know the
// metric. Besides the named metrics of the design (thumbs_down_rate,
// pass_rate, escalation_rate, abandon_rate, policy_violation_rate,
// resolution_rate, latency_p50_ms, latency_p95_ms, the eval metrics), every
// reason:CODE share, *_ms latency and *cost* metric is lower-is-better.
func HigherIsBetter(metric string) (higher, known bool) {
	switch {
	case lowerIsBetter[metric]:
		return false, true
	case higherIsBetter[metric]:
		return true, true
	case strings.HasPrefix(metric, "reason:"), strings.HasSuffix(metric, "_ms"), strings.Contains(metric, "cost"):
		return false, true
	}
	return false, false
}

// BootstrapIPW compares the inverse-propensity-weighted click rates of two
// arms (see IPWClickRate): the difference with a percentile bootstrap 95%
// interval and p-value, resampling impressions. Deterministic per seed.
func BootstrapIPW(metric string, c, t []Click, iters int, seed int64) Result {
	if iters <= 0 {
		iters = DefaultBootstrapIters
	}
	r := Result{Metric: metric, Method: MethodBootstrap, Unit: unitFor(metric), NControl: len(c), NTreatment: len(t)}
	r.Control, _ = IPWClickRate(c)
	r.Treatment, _ = IPWClickRate(t)
	if len(c) == 0 || len(t) == 0 {
		return degenerate(r)
	}
	r.Diff = r.Treatment - r.Control
	bc, bt := make([]Click, len(c)), make([]Click, len(t))
	resampleCI(&r, iters, seed, func(rng *rand.Rand) float64 {
		for j := range bc {
			bc[j] = c[rng.IntN(len(c))]
		}
		for j := range bt {
			bt[j] = t[rng.IntN(len(t))]
		}
		a, _ := IPWClickRate(bt)
		b, _ := IPWClickRate(bc)
		return a - b
	})
	r.Verdict = Verdict(r, DefaultMinN)
	return r
}

// resampleCI fills r's percentile interval and p-value from iters
// bootstrap differences drawn by diff, on a PCG stream seeded from seed.
// The p-value is the two-sided share of differences on the far side of 0,
// never below 2/(iters+1).
func resampleCI(r *Result, iters int, seed int64, diff func(*rand.Rand) float64) {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x9e3779b97f4a7c15))
	diffs := make([]float64, iters)
	below, above := 0, 0
	for i := range diffs {
		d := diff(rng)
		if math.IsNaN(d) || math.IsInf(d, 0) {
			d = 0
		}
		diffs[i] = d
		if d <= 0 {
			below++
		}
		if d >= 0 {
			above++
		}
	}
	slices.Sort(diffs)
	r.Low, r.High = quantileSorted(diffs, Alpha/2), quantileSorted(diffs, 1-Alpha/2)
	r.P = min(1, 2*float64(1+min(below, above))/float64(1+iters))
}
