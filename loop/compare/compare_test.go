package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

// Newcombe (1998), "Two-sided confidence intervals for the single
// proportion: comparison of seven methods", Statistics in Medicine 17,
// Table II, method 3 (Wilson score, no continuity correction).
func TestWilsonPublished(t *testing.T) {
	for _, c := range []struct {
		x, n   int
		lo, hi float64
	}{
		{81, 263, 0.2553, 0.3662},
		{15, 148, 0.0624, 0.1605},
		{0, 20, 0.0000, 0.1611},
		{1, 29, 0.0061, 0.1718},
	} {
		lo, hi := Wilson(float64(c.x), c.n)
		if !near(lo, c.lo, 5e-5) || !near(hi, c.hi, 5e-5) {
			t.Errorf("Wilson(%d, %d) = [%.5f, %.5f], Newcombe gives [%.4f, %.4f]", c.x, c.n, lo, hi, c.lo, c.hi)
		}
	}
	if lo, hi := Wilson(1, 0); !math.IsNaN(lo) || !math.IsNaN(hi) {
		t.Errorf("Wilson(1, 0) = %v, %v; want NaN", lo, hi)
	}
}

// scoreBound finds the Wilson bounds another way: the two proportions π
// at which the score statistic |p̂-π| / sqrt(π(1-π)/n) equals z, by
// bisection on each side of p̂.
func scoreBound(x float64, n int) (lo, hi float64) {
	p := x / float64(n)
	f := func(pi float64) float64 {
		return math.Abs(p-pi) - z95*math.Sqrt(pi*(1-pi)/float64(n))
	}
	bis := func(a, b float64) float64 { // f(a) > 0 >= f(b) or the reverse
		fa := f(a)
		for range 200 {
			m := (a + b) / 2
			if (f(m) > 0) == (fa > 0) {
				a, fa = m, f(m)
			} else {
				b = m
			}
		}
		return (a + b) / 2
	}
	return bis(0, p), bis(1, p)
}

func TestWilsonFractionalAgainstScoreInversion(t *testing.T) {
	for _, c := range []struct {
		x float64
		n int
	}{{16.5, 30}, {21, 30}, {2.5, 7}, {99.5, 140}} {
		lo, hi := Wilson(c.x, c.n)
		wlo, whi := scoreBound(c.x, c.n)
		if !near(lo, wlo, 1e-9) || !near(hi, whi, 1e-9) {
			t.Errorf("Wilson(%v, %d) = [%v, %v], score inversion gives [%v, %v]", c.x, c.n, lo, hi, wlo, whi)
		}
	}
}

// exactSign is the sign test by Pascal's triangle in big rationals, apart
// from SignTest's own code path.
func exactSign(w, l int) float64 {
	n := w + l
	row := []*big.Int{big.NewInt(1)}
	for i := 0; i < n; i++ {
		next := make([]*big.Int, len(row)+1)
		for j := range next {
			v := new(big.Int)
			if j < len(row) {
				v.Add(v, row[j])
			}
			if j > 0 {
				v.Add(v, row[j-1])
			}
			next[j] = v
		}
		row = next
	}
	lowTail, highTail := new(big.Int), new(big.Int)
	for i := 0; i <= n; i++ {
		if i <= min(w, l) {
			lowTail.Add(lowTail, row[i])
		}
		if i >= max(w, l) {
			highTail.Add(highTail, row[i])
		}
	}
	if min(w, l)*2 == n {
		return 1
	}
	r := new(big.Rat).SetFrac(new(big.Int).Add(lowTail, highTail), new(big.Int).Lsh(big.NewInt(1), uint(n)))
	f, _ := r.Float64()
	return math.Min(1, f)
}

func TestSignTestExact(t *testing.T) {
	// scipy.stats.binomtest(w, w+l, 0.5).pvalue, computed with Python's
	// fractions as sum(comb(n, i)) / 2**n.
	published := map[[2]int]float64{
		{20, 10}: 0.09873714670538902,
		{18, 12}: 0.361594608053565,
		{30, 0}:  1.862645149230957e-09,
		{7, 3}:   0.34375,
		{60, 40}: 0.05688793364098079,
		{14, 6}:  0.11531829833984375,
		{12, 3}:  0.03515625,
		{3, 3}:   1,
		{1, 0}:   1,
	}
	for wl, want := range published {
		got := SignTest(wl[0], wl[1])
		if !near(got, want, 1e-15*math.Max(1, want)) && math.Abs(got-want)/want > 1e-12 {
			t.Errorf("SignTest(%d, %d) = %v, want %v", wl[0], wl[1], got, want)
		}
		if mirror := SignTest(wl[1], wl[0]); mirror != got {
			t.Errorf("SignTest is not symmetric at %v: %v vs %v", wl, got, mirror)
		}
	}
	for w := 0; w <= 40; w += 3 {
		for l := 0; l <= 40; l += 7 {
			if w+l == 0 {
				continue
			}
			got, want := SignTest(w, l), exactSign(w, l)
			if math.Abs(got-want) > 1e-13*want {
				t.Errorf("SignTest(%d, %d) = %v, Pascal's triangle gives %v", w, l, got, want)
			}
		}
	}
	// The log-space path past 5000 agrees with exact integer arithmetic
	// (the triangle is too slow at this size).
	tail, c := new(big.Int), big.NewInt(1)
	for i := 0; i <= 2450; i++ {
		if i > 0 {
			c.Mul(c, big.NewInt(int64(5050-i+1)))
			c.Quo(c, big.NewInt(int64(i)))
		}
		tail.Add(tail, c)
	}
	want, _ := new(big.Rat).SetFrac(new(big.Int).Lsh(tail, 1), new(big.Int).Lsh(big.NewInt(1), 5050)).Float64()
	got := SignTest(2600, 2450)
	if math.Abs(got-want)/want > 1e-9 {
		t.Errorf("SignTest(2600, 2450) = %v, want %v", got, want)
	}
	if !math.IsNaN(SignTest(0, 0)) {
		t.Error("SignTest(0, 0) should be NaN")
	}
}

func TestSideForIsReproducibleAndBalanced(t *testing.T) {
	key := []byte("store secret")
	left := 0
	for i := range 2000 {
		id := fmt.Sprintf("evt-%d", i)
		s := SideFor(key, id, "alice", "cand-v2")
		if s != SideFor(key, id, "alice", "cand-v2") {
			t.Fatal("SideFor is not reproducible")
		}
		if s == Left {
			left++
		}
	}
	// A fair coin: 2000 tosses land within 1000 ± 4σ (σ ≈ 22).
	if left < 910 || left > 1090 {
		t.Errorf("%d of 2000 on the left: not balanced", left)
	}
	differs := func(f func(i int) Side) bool {
		for i := range 64 {
			if f(i) != SideFor(key, fmt.Sprintf("evt-%d", i), "alice", "cand-v2") {
				return true
			}
		}
		return false
	}
	if !differs(func(i int) Side { return SideFor(key, fmt.Sprintf("evt-%d", i), "bob", "cand-v2") }) {
		t.Error("the reviewer does not change the sides")
	}
	if !differs(func(i int) Side { return SideFor(key, fmt.Sprintf("evt-%d", i), "alice", "cand-v3") }) {
		t.Error("the candidate does not change the sides")
	}
	if !differs(func(i int) Side { return SideFor([]byte("other"), fmt.Sprintf("evt-%d", i), "alice", "cand-v2") }) {
		t.Error("the key does not change the sides")
	}
}

func TestOrder(t *testing.T) {
	key := []byte("k")
	ids := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
	o1 := Order(key, "alice", "c1", ids)
	if strings.Join(o1, "") != strings.Join(Order(key, "alice", "c1", ids), "") {
		t.Fatal("order not reproducible")
	}
	if strings.Join(o1, "") == strings.Join(ids, "") {
		t.Error("not shuffled")
	}
	if strings.Join(o1, "") == strings.Join(Order(key, "bob", "c1", ids), "") {
		t.Error("two reviewers get the same order")
	}
	seen := map[string]bool{}
	for _, id := range o1 {
		seen[id] = true
	}
	if len(seen) != len(ids) {
		t.Errorf("order lost items: %v", o1)
	}
}

func TestOutcomeAndChoiceAreInverse(t *testing.T) {
	for _, side := range []Side{Left, Right} {
		for _, c := range []Choice{ChoseLeft, ChoseRight, ChoseTie, ChoseBothBad} {
			if got := ChoiceFor(OutcomeOf(c, side), side); got != c {
				t.Errorf("side %s choice %s: round trip gives %s", side, c, got)
			}
		}
	}
	if OutcomeOf(ChoseLeft, Left) != Win || OutcomeOf(ChoseLeft, Right) != Loss ||
		OutcomeOf(ChoseRight, Right) != Win || OutcomeOf(ChoseRight, Left) != Loss {
		t.Error("left/right outcomes wrong")
	}
}

func ev(id, task, seg string) *loop.Event {
	return &loop.Event{EventID: id, TaskType: task, UserSegment: seg}
}

func TestNewJudgmentMasksAndValidates(t *testing.T) {
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	j, err := NewJudgment(Input{Event: ev("e1", "qa", "pro"), Reviewer: " alice ", Candidate: "v2",
		Answer: "mail me at jane@example.com", Side: Right, Choice: ChoseRight, Note: "call +1 415 555 0100", Via: ViaCLI, At: at})
	if err != nil {
		t.Fatal(err)
	}
	if j.Outcome != Win || j.Reviewer != "alice" || j.Task != "qa" || j.Segment != "pro" {
		t.Errorf("judgment %+v", j)
	}
	if strings.Contains(j.Answer, "jane@") || !strings.Contains(j.Answer, "[EMAIL]") {
		t.Errorf("answer not masked: %q", j.Answer)
	}
	if strings.Contains(j.Note, "555") {
		t.Errorf("note not masked: %q", j.Note)
	}
	if j.AnswerSHA != AnswerHash("mail me at jane@example.com") {
		t.Error("answer hash is not of the answer as given")
	}
	for _, bad := range []Input{
		{Event: ev("e1", "", ""), Reviewer: "", Candidate: "v2", Side: Left, Choice: ChoseTie},
		{Event: ev("e1", "", ""), Reviewer: "a", Candidate: "", Side: Left, Choice: ChoseTie},
		{Event: ev("e1", "", ""), Reviewer: "a", Candidate: "v\x002", Side: Left, Choice: ChoseTie},
		{Event: ev("e1", "", ""), Reviewer: "a", Candidate: "v2", Side: "up", Choice: ChoseTie},
		{Event: ev("e1", "", ""), Reviewer: "a", Candidate: "v2", Side: Left, Choice: "maybe"},
		{Reviewer: "a", Candidate: "v2", Side: Left, Choice: ChoseTie},
	} {
		if _, err := NewJudgment(bad); err == nil {
			t.Errorf("NewJudgment(%+v) took it", bad)
		}
	}
}

func TestNameOf(t *testing.T) {
	for in, want := range map[string]string{"/tmp/cand-v2.jsonl": "cand-v2", "x.json": "x", "plain": "plain", "-": "", ".jsonl": ".jsonl"} {
		if got := NameOf(in); got != want {
			t.Errorf("NameOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func judg(id, rev string, side Side, c Choice, task, seg string) Judgment {
	return Judgment{EventID: id, Reviewer: rev, Candidate: "v2", AnswerSHA: AnswerHash("a-" + id), CandidateSide: side,
		Choice: c, Outcome: OutcomeOf(c, side), Task: task, Segment: seg}
}

func TestComputeCountsIntervalsAndBreakdowns(t *testing.T) {
	var js []Judgment
	// 12 wins, 4 losses, 3 ties, 1 both bad for alice.
	choices := strings.Repeat("W", 12) + strings.Repeat("L", 4) + "TTTB"
	for i, c := range choices {
		side := []Side{Left, Right}[i%2]
		var ch Choice
		switch c {
		case 'W':
			ch = ChoiceFor(Win, side)
		case 'L':
			ch = ChoiceFor(Loss, side)
		case 'T':
			ch = ChoseTie
		case 'B':
			ch = ChoseBothBad
		}
		js = append(js, judg(fmt.Sprintf("e%02d", i), "alice", side, ch, []string{"qa", "summarization"}[i%2], "pro"))
	}
	// Another candidate and a withdrawal do not count.
	other := judg("e00", "alice", Left, ChoseLeft, "qa", "pro")
	other.Candidate = "v3"
	gone := judg("e99", "alice", Left, ChoseLeft, "qa", "pro")
	gone.Deleted = true
	js = append(js, other, gone)

	r := Compute(js, "v2", nil)
	o := r.Overall
	if o.N != 20 || o.Wins != 12 || o.Losses != 4 || o.Ties != 3 || o.BothBad != 1 {
		t.Fatalf("tally %+v", o)
	}
	if !near(float64(o.WinRate), 14.0/20, 1e-12) {
		t.Errorf("win rate %v, want 0.7 (ties and both-bad as half)", o.WinRate)
	}
	lo, hi := scoreBound(14, 20)
	if !near(float64(o.Low), lo, 1e-9) || !near(float64(o.High), hi, 1e-9) {
		t.Errorf("interval [%v, %v], want [%v, %v]", o.Low, o.High, lo, hi)
	}
	if !near(float64(o.DecisiveWinRate), 12.0/16, 1e-12) {
		t.Errorf("decisive win rate %v", o.DecisiveWinRate)
	}
	if want := exactSign(12, 4); !near(float64(o.SignP), want, 1e-15) {
		t.Errorf("sign p %v, want %v", o.SignP, want)
	}
	if r.ByTask["qa"].N != 10 || r.ByTask["summarization"].N != 10 || r.BySegment["pro"].N != 20 {
		t.Errorf("breakdowns %+v %+v", r.ByTask, r.BySegment)
	}
	if len(r.Reviewers) != 1 || r.Reviewers[0].Left+r.Reviewers[0].Right != 16 {
		t.Errorf("reviewers %+v", r.Reviewers)
	}
	// 0.7 of 20 is not beyond doubt either way: the interval holds 0.5.
	if o.LosesSignificantly() || o.WinsSignificantly() {
		t.Errorf("verdict wrong for [%v, %v]", o.Low, o.High)
	}

	// A stale answer is left out and counted.
	answers := map[string]string{}
	for _, j := range js {
		answers[j.EventID] = j.AnswerSHA
	}
	answers["e00"] = AnswerHash("a newer answer")
	if r := Compute(js, "v2", answers); r.Stale != 1 || r.Overall.N != 19 {
		t.Errorf("stale %d, n %d", r.Stale, r.Overall.N)
	}
}

func TestComputeSideBiasAndKappa(t *testing.T) {
	var js []Judgment
	for i := range 30 {
		id := fmt.Sprintf("e%02d", i)
		side := SideFor([]byte("k"), id, "lefty", "v2")
		js = append(js, judg(id, "lefty", side, ChoseLeft, "qa", "free"))
		// bob agrees with lefty on the outcome when the sides match, and
		// always prefers the candidate.
		bside := SideFor([]byte("k"), id, "bob", "v2")
		js = append(js, judg(id, "bob", bside, ChoiceFor(Win, bside), "qa", "free"))
	}
	r := Compute(js, "v2", nil)
	var lefty, bob ReviewerStat
	for _, s := range r.Reviewers {
		switch s.Reviewer {
		case "lefty":
			lefty = s
		case "bob":
			bob = s
		}
	}
	if lefty.LeftShare != 1 || !lefty.Biased || lefty.Left != 30 {
		t.Errorf("lefty %+v: want left share 1 flagged", lefty)
	}
	if bob.Biased {
		t.Errorf("bob %+v flagged, but he chose by content", bob)
	}
	if len(r.Agreement) != 1 || r.Agreement[0].N != 30 || r.Agreement[0].A != "bob" || r.Agreement[0].B != "lefty" {
		t.Fatalf("agreement %+v", r.Agreement)
	}
	// bob is constant (all wins): kappa's expected agreement equals the
	// share of lefty's wins, and observed agreement is the same share, so
	// kappa is 0.
	if k := float64(r.Agreement[0].Kappa); !near(k, 0, 1e-12) {
		t.Errorf("kappa %v, want 0", k)
	}
}

func TestResultsJSONNullWhenUndefined(t *testing.T) {
	r := Compute(nil, "v2", nil)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"win_rate":null`, `"low":null`, `"sign_p":null`, `"interval":"wilson_95"`, `"reviewers":[]`, `"agreement":[]`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
	var back Results
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(float64(back.Overall.WinRate)) {
		t.Errorf("round trip: %v %v", err, back.Overall.WinRate)
	}
}

func TestLast(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	a := judg("e1", "alice", Left, ChoseLeft, "", "")
	a.At = t0
	b := judg("e2", "alice", Left, ChoseLeft, "", "")
	b.At = t0.Add(time.Minute)
	c := judg("e3", "bob", Left, ChoseLeft, "", "")
	c.At = t0.Add(time.Hour)
	if got, ok := Last([]Judgment{a, b, c}, "alice", "v2"); !ok || got.EventID != "e2" {
		t.Errorf("Last = %v %v", got.EventID, ok)
	}
	if _, ok := Last([]Judgment{c}, "alice", "v2"); ok {
		t.Error("Last found one of bob's")
	}
}
