// Package trend turns event summaries and grades into daily quality series
// (what `loupe trends` prints), compares model versions and recent days
// against guardrails, and checks goals. It is pure computation; no I/O.
//
// Days are UTC calendar days. A window of N days ending at time end is the N
// UTC days up to and including end's UTC day.
package trend

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
	"github.com/loupe-dev/loupe/loop/agree"
)

// Metric names (DESIGN.md). Besides these, "reason:<code>" is the share of
// thumbs-down events that carry reason code <code>. With edge sampling every
// metric is over all interactions, stored in full or only aggregated,
// except pass_rate: grades exist only for stored items, so it is over the
// stored sample (see Data).
const (
	ThumbsDownRate      = "thumbs_down_rate"      // down / (up + down), events with a thumb
	PassRate            = "pass_rate"             // pass / graded (borderline counts as not pass); stored items only
	EscalationRate      = "escalation_rate"       // escalated / all events
	AbandonRate         = "abandon_rate"          // abandoned / all events
	PolicyViolationRate = "policy_violation_rate" // policy_violation / all events
	ResolutionRate      = "resolution_rate"       // resolved / events with business.resolved set
	LatencyP50          = "latency_p50_ms"        // median output.latency_ms, events with a latency
	LatencyP95          = "latency_p95_ms"        // 95th percentile output.latency_ms
	ReasonPrefix        = "reason:"
)

// Metrics lists the fixed metric names in display order.
var Metrics = []string{
	ThumbsDownRate, PassRate, EscalationRate, AbandonRate,
	PolicyViolationRate, ResolutionRate, LatencyP50, LatencyP95,
}

// Known reports whether metric is a fixed metric name or "reason:<code>"
// for a code in reasonCodes (the taxonomy).
func Known(metric string, reasonCodes []string) bool {
	if slices.Contains(Metrics, metric) {
		return true
	}
	code, ok := strings.CutPrefix(metric, ReasonPrefix)
	return ok && code != "" && slices.Contains(reasonCodes, code)
}

// HigherIsWorse reports the direction of metric: true for thumbs-down,
// escalation, abandon, policy-violation and reason rates and for latency;
// false for pass_rate and resolution_rate, where lower is worse.
func HigherIsWorse(metric string) bool {
	return metric != PassRate && metric != ResolutionRate
}

// IsLatency reports whether metric is measured in milliseconds rather than
// as a share.
func IsLatency(metric string) bool { return metric == LatencyP50 || metric == LatencyP95 }

type kind uint8

const (
	kThumbs kind = iota
	kPass
	kEscalation
	kAbandon
	kPolicy
	kResolution
	kLatency
	kReason
)

type spec struct {
	name   string
	kind   kind
	q      float64 // quantile for kLatency
	reason string  // code for kReason
}

func parse(metric string) (spec, error) {
	sp := spec{name: metric}
	switch metric {
	case ThumbsDownRate:
		sp.kind = kThumbs
	case PassRate:
		sp.kind = kPass
	case EscalationRate:
		sp.kind = kEscalation
	case AbandonRate:
		sp.kind = kAbandon
	case PolicyViolationRate:
		sp.kind = kPolicy
	case ResolutionRate:
		sp.kind = kResolution
	case LatencyP50:
		sp.kind, sp.q = kLatency, 0.50
	case LatencyP95:
		sp.kind, sp.q = kLatency, 0.95
	default:
		code, ok := strings.CutPrefix(metric, ReasonPrefix)
		if !ok || code == "" {
			return sp, fmt.Errorf("unknown metric %q (want one of %s, or reason:<code>)", metric, strings.Join(Metrics, ", "))
		}
		sp.kind, sp.reason = kReason, code
	}
	return sp, nil
}

// observe classifies one event for a rate metric: in when it counts in the
// denominator, hit when also in the numerator.
func (sp *spec) observe(s *loop.Summary, grades map[string]loop.Grade) (in, hit bool) {
	switch sp.kind {
	case kThumbs:
		return s.Thumb != loop.ThumbNone, s.Thumb == loop.ThumbDown
	case kPass:
		g := grades[s.ID]
		return g != loop.GradeNone, g == loop.GradePass
	case kEscalation:
		return true, s.Escalated
	case kAbandon:
		return true, s.Abandoned
	case kPolicy:
		return true, s.PolicyViolation
	case kResolution:
		return s.Resolved >= 0, s.Resolved == 1
	case kReason:
		if s.Thumb != loop.ThumbDown {
			return false, false
		}
		return true, slices.Contains(s.Reasons, sp.reason)
	}
	return false, false
}

// count is observe over an aggregate cell: how many of its interactions
// count in the denominator, and how many of those in the numerator.
// pass_rate counts none: grades exist only for stored items. Latency is
// read from the cell's sketch instead (see fill).
func (sp *spec) count(c *agg.Cell) (in, hit int64) {
	switch sp.kind {
	case kThumbs:
		return c.Thumbed, c.Down
	case kEscalation:
		return c.Events, c.Escalated
	case kAbandon:
		return c.Events, c.Abandoned
	case kPolicy:
		return c.Events, c.Policy
	case kResolution:
		return c.ResolvedSet, c.Resolved
	case kReason:
		return c.Down, c.Reasons[sp.reason]
	}
	return 0, 0
}

// quantile is the q-quantile of x by linear interpolation between closest
// ranks (R type 7, numpy's default): h = (n-1)q, the value h of the way
// through the sorted data. It reorders x: selection, not a full sort.
func quantile(x []float32, q float64) float64 {
	n := len(x)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * q
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return float64(slices.Max(x))
	}
	selectNth(x, lo)
	a := float64(x[lo])
	b := float64(slices.Min(x[lo+1:]))
	return a + (h-float64(lo))*(b-a)
}

// selectNth reorders x so that x[k] is the value a sort would put there,
// with nothing larger before it and nothing smaller after it (Hoare's
// quickselect with a median-of-three pivot, falling back to a full sort if
// the partitions keep coming out lopsided).
func selectNth(x []float32, k int) {
	lo, hi := 0, len(x)-1
	budget := 2 * bits.Len(uint(len(x)))
	for hi > lo {
		if budget == 0 {
			slices.Sort(x[lo : hi+1])
			return
		}
		budget--
		mid := lo + (hi-lo)/2
		if x[mid] < x[lo] {
			x[mid], x[lo] = x[lo], x[mid]
		}
		if x[hi] < x[lo] {
			x[hi], x[lo] = x[lo], x[hi]
		}
		if x[hi] < x[mid] {
			x[hi], x[mid] = x[mid], x[hi]
		}
		p := x[mid]
		i, j := lo, hi
		for i <= j {
			for x[i] < p {
				i++
			}
			for x[j] > p {
				j--
			}
			if i <= j {
				x[i], x[j] = x[j], x[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return // j < k < i: x[k] == p, in place
		}
	}
}

// Grades reduces label history to one grade per item for pass_rate: each
// reviewer's current label (latest; an undo withdraws it, see
// agree.Current), then the majority grade among the item's reviewers. A tie
// goes to the tied grade whose latest label is most recent (on equal times:
// pass, then fail, then borderline).
func Grades(labels []loop.Label) map[string]loop.Grade {
	cur := agree.Current(labels) // sorted by item, then reviewer
	out := make(map[string]loop.Grade)
	for i := 0; i < len(cur); {
		j := i
		count := map[loop.Grade]int{}
		latest := map[loop.Grade]int{}
		for j < len(cur) && cur[j].EventID == cur[i].EventID {
			g := cur[j].Grade
			count[g]++
			if k, ok := latest[g]; !ok || cur[j].At.After(cur[k].At) {
				latest[g] = j
			}
			j++
		}
		var best loop.Grade
		for _, g := range []loop.Grade{loop.GradePass, loop.GradeFail, loop.GradeBorderline} {
			if count[g] == 0 {
				continue
			}
			if best == loop.GradeNone || count[g] > count[best] ||
				(count[g] == count[best] && cur[latest[g]].At.After(cur[latest[best]].At)) {
				best = g
			}
		}
		if best != loop.GradeNone {
			out[cur[i].EventID] = best
		}
		i = j
	}
	return out
}
