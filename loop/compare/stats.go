package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"sort"

	"github.com/loupe-dev/loupe/loop/agree"
)

// z95 is the standard normal quantile for a two-sided 95% interval.
const z95 = 1.959963984540054

// Wilson is the Wilson (1927) score interval at 95% for x successes in n
// trials. x may be fractional (ties counted as half a win). n == 0 gives
// NaN bounds.
//
//	centre = (p + z²/2n) / (1 + z²/n)
//	half   = z/(1 + z²/n) · sqrt(p(1-p)/n + z²/4n²)
func Wilson(x float64, n int) (lo, hi float64) {
	if n <= 0 {
		return math.NaN(), math.NaN()
	}
	nn := float64(n)
	p := x / nn
	z2 := z95 * z95
	den := 1 + z2/nn
	centre := (p + z2/(2*nn)) / den
	half := z95 / den * math.Sqrt(p*(1-p)/nn+z2/(4*nn*nn))
	return max(0, centre-half), min(1, centre+half)
}

// SignTest is the exact two-sided sign test of wins against losses (ties
// left out): the binomial probability, under Binomial(w+l, 1/2), of a split
// at least as uneven as the one seen,
//
//	p = min(1, 2 · P(X <= min(w, l)))
//
// which is what scipy.stats.binomtest(w, w+l, 0.5).pvalue gives. No
// decisive judgment (w+l == 0) gives NaN.
func SignTest(w, l int) float64 {
	n := w + l
	if n == 0 {
		return math.NaN()
	}
	k := min(w, l)
	if 2*k == n {
		return 1
	}
	var tail float64
	if n <= 5000 {
		// Exact: sum C(n, i) for i <= k as integers, divided by 2^n.
		sum, c := new(big.Int), big.NewInt(1)
		for i := 0; i <= k; i++ {
			if i > 0 {
				c.Mul(c, big.NewInt(int64(n-i+1)))
				c.Quo(c, big.NewInt(int64(i)))
			}
			sum.Add(sum, c)
		}
		q := new(big.Float).SetPrec(200).SetInt(sum)
		q.SetMantExp(q, -n)
		tail, _ = q.Float64()
	} else {
		// Past 5000 the integers get long; sum in log space instead
		// (relative error ~1e-12).
		lg := func(x int) float64 { v, _ := math.Lgamma(float64(x) + 1); return v }
		top := lg(n) - lg(k) - lg(n-k) // the largest term is the last
		s := 0.0
		for i := 0; i <= k; i++ {
			s += math.Exp(lg(n) - lg(i) - lg(n-i) - top)
		}
		tail = math.Exp(top + math.Log(s) - float64(n)*math.Ln2)
	}
	return min(1, 2*tail)
}

// Float is a number that JSON writes as null when it is not defined (NaN).
type Float float64

func (f Float) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

func (f *Float) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = Float(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Float(v)
	return nil
}

// Tally is the candidate's record over some judgments.
//
// WinRate counts a tie or a both-bad as half a win (neither answer was
// preferred) over all N; Low and High are its Wilson 95% interval.
// DecisiveWinRate leaves ties and both-bad out: wins / (wins + losses),
// with its own interval. SignP is the exact sign-test p-value of wins
// against losses. Undefined values (no judgments) are NaN, null in JSON.
type Tally struct {
	N               int   `json:"n"`
	Wins            int   `json:"wins"`
	Losses          int   `json:"losses"`
	Ties            int   `json:"ties"`
	BothBad         int   `json:"both_bad"`
	WinRate         Float `json:"win_rate"`
	Low             Float `json:"low"`
	High            Float `json:"high"`
	DecisiveWinRate Float `json:"decisive_win_rate"`
	DecisiveLow     Float `json:"decisive_low"`
	DecisiveHigh    Float `json:"decisive_high"`
	SignP           Float `json:"sign_p"`
}

func (t *Tally) add(o Outcome) {
	t.N++
	switch o {
	case Win:
		t.Wins++
	case Loss:
		t.Losses++
	case Tie:
		t.Ties++
	case BothBad:
		t.BothBad++
	}
}

func (t *Tally) finish() {
	nan := Float(math.NaN())
	t.WinRate, t.Low, t.High = nan, nan, nan
	t.DecisiveWinRate, t.DecisiveLow, t.DecisiveHigh = nan, nan, nan
	if t.N > 0 {
		x := float64(t.Wins) + float64(t.Ties+t.BothBad)/2
		t.WinRate = Float(x / float64(t.N))
		lo, hi := Wilson(x, t.N)
		t.Low, t.High = Float(lo), Float(hi)
	}
	if d := t.Wins + t.Losses; d > 0 {
		t.DecisiveWinRate = Float(float64(t.Wins) / float64(d))
		lo, hi := Wilson(float64(t.Wins), d)
		t.DecisiveLow, t.DecisiveHigh = Float(lo), Float(hi)
	}
	t.SignP = Float(SignTest(t.Wins, t.Losses))
}

// LosesSignificantly reports whether the candidate's win rate is below one
// half beyond doubt: the upper bound of its 95% interval is under 0.5.
func (t Tally) LosesSignificantly() bool {
	return t.N > 0 && float64(t.High) < 0.5
}

// WinsSignificantly reports whether the lower bound is above 0.5.
func (t Tally) WinsSignificantly() bool {
	return t.N > 0 && float64(t.Low) > 0.5
}

// BiasP is the p-value below which a reviewer's left-win share is flagged:
// the sign test says their left and right choices are not a coin toss.
const BiasP = 0.05

// ReviewerStat is how one reviewer chose. Left and Right count their
// decisive choices by the side they picked; LeftShare is Left / (Left +
// Right), NaN without decisive choices. Since the candidate's side is a
// fair coin, an unbiased reviewer's share is near 0.5 whatever the models'
// quality; Biased is set when the sign test of Left against Right gives
// p < BiasP.
type ReviewerStat struct {
	Reviewer  string `json:"reviewer"`
	N         int    `json:"n"`
	Left      int    `json:"left"`
	Right     int    `json:"right"`
	LeftShare Float  `json:"left_share"`
	SideP     Float  `json:"side_p"`
	Biased    bool   `json:"biased"`
}

// Pair is Cohen's kappa of two reviewers over the items both judged, on the
// four outcomes. Kappa is NaN (null) without shared items.
type Pair struct {
	A     string `json:"a"`
	B     string `json:"b"`
	N     int    `json:"n"`
	Kappa Float  `json:"kappa"`
}

// Results are a candidate's pairwise record. Every current judgment counts
// once (two reviewers of one item are two judgments). Stale counts
// judgments of an answer other than the candidate's present one, left out.
type Results struct {
	Candidate string           `json:"candidate"`
	Interval  string           `json:"interval"`
	Overall   Tally            `json:"overall"`
	ByTask    map[string]Tally `json:"by_task"`
	BySegment map[string]Tally `json:"by_segment"`
	Reviewers []ReviewerStat   `json:"reviewers"`
	Agreement []Pair           `json:"agreement"`
	Stale     int              `json:"stale"`
}

// IntervalName says which interval Results carry.
const IntervalName = "wilson_95"

// Unknown is the ByTask / BySegment key of judgments without one.
const Unknown = "unknown"

// Compute reduces judgments to the candidate's results. Judgments of other
// candidates and withdrawn ones are ignored; when answers is not nil (event
// id → AnswerHash of the candidate's present answer) a judgment of another
// answer, or of an event the candidate no longer answers, is stale.
// judgments are current ones: at most one per event, reviewer and
// candidate (the store's "c" records).
func Compute(judgments []Judgment, candidate string, answers map[string]string) Results {
	r := Results{Candidate: candidate, Interval: IntervalName, ByTask: map[string]Tally{}, BySegment: map[string]Tally{},
		Reviewers: []ReviewerStat{}, Agreement: []Pair{}}
	byRev := map[string]*ReviewerStat{}
	outcomes := map[string]map[string]string{} // reviewer → event → outcome
	for _, j := range judgments {
		if j.Candidate != candidate || j.Deleted {
			continue
		}
		if answers != nil && answers[j.EventID] != j.AnswerSHA {
			r.Stale++
			continue
		}
		r.Overall.add(j.Outcome)
		task, seg := j.Task, j.Segment
		if task == "" {
			task = Unknown
		}
		if seg == "" {
			seg = Unknown
		}
		t := r.ByTask[task]
		t.add(j.Outcome)
		r.ByTask[task] = t
		s := r.BySegment[seg]
		s.add(j.Outcome)
		r.BySegment[seg] = s

		rs := byRev[j.Reviewer]
		if rs == nil {
			rs = &ReviewerStat{Reviewer: j.Reviewer}
			byRev[j.Reviewer] = rs
			outcomes[j.Reviewer] = map[string]string{}
		}
		rs.N++
		switch j.Choice {
		case ChoseLeft:
			rs.Left++
		case ChoseRight:
			rs.Right++
		}
		outcomes[j.Reviewer][j.EventID] = string(j.Outcome)
	}
	r.Overall.finish()
	for k, t := range r.ByTask {
		t.finish()
		r.ByTask[k] = t
	}
	for k, t := range r.BySegment {
		t.finish()
		r.BySegment[k] = t
	}
	names := make([]string, 0, len(byRev))
	for n := range byRev {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		rs := byRev[n]
		rs.LeftShare, rs.SideP = Float(math.NaN()), Float(math.NaN())
		if d := rs.Left + rs.Right; d > 0 {
			rs.LeftShare = Float(float64(rs.Left) / float64(d))
			p := SignTest(rs.Left, rs.Right)
			rs.SideP = Float(p)
			rs.Biased = p < BiasP
		}
		r.Reviewers = append(r.Reviewers, *rs)
	}
	for i, a := range names {
		for _, b := range names[i+1:] {
			var xa, xb []string
			ids := make([]string, 0, len(outcomes[a]))
			for id := range outcomes[a] {
				if _, ok := outcomes[b][id]; ok {
					ids = append(ids, id)
				}
			}
			if len(ids) == 0 {
				continue
			}
			slices.Sort(ids)
			for _, id := range ids {
				xa, xb = append(xa, outcomes[a][id]), append(xb, outcomes[b][id])
			}
			k, n := agree.CohenKappa(xa, xb)
			r.Agreement = append(r.Agreement, Pair{A: a, B: b, N: n, Kappa: Float(k)})
		}
	}
	return r
}

// Rate formats a rate or share for people: three decimals, "–" when there
// is none (NaN). The CLI and the Compare screen both use it.
func (f Float) Rate() string {
	if f != f {
		return "–"
	}
	return fmt.Sprintf("%.3f", float64(f))
}

// PValue formats a p-value for people: four decimals, "< 0.0001" below
// that, "–" when there is none.
func (f Float) PValue() string {
	switch {
	case f != f:
		return "–"
	case f < 0.0001:
		return "< 0.0001"
	}
	return fmt.Sprintf("%.4f", float64(f))
}
