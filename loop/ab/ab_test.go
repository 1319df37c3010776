package ab

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func assertFinite(t *testing.T, r Result) {
	t.Helper()
	for _, v := range []float64{r.Control, r.Treatment, r.Diff, r.Low, r.High, r.P, r.Stat, r.DF} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("non-finite value in %+v", r)
		}
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("JSON: %v", err)
	}
}

func TestRegIncBetaClosedForms(t *testing.T) {
	for _, x := range []float64{1e-6, 0.01, 0.2, 0.5, 0.77, 0.999} {
		for _, a := range []float64{0.5, 1, 2.5, 7, 40} {
			// I_x(a, 1) = x^a and I_x(1, b) = 1 - (1-x)^b
			if got, want := RegIncBeta(a, 1, x), math.Pow(x, a); !near(got, want, 1e-13) {
				t.Errorf("I_%v(%v, 1) = %v, want %v", x, a, got, want)
			}
			if got, want := RegIncBeta(1, a, x), 1-math.Pow(1-x, a); !near(got, want, 1e-13) {
				t.Errorf("I_%v(1, %v) = %v, want %v", x, a, got, want)
			}
			// symmetry I_x(a, b) = 1 - I_{1-x}(b, a)
			if got, want := RegIncBeta(a, 3.5, x), 1-RegIncBeta(3.5, a, 1-x); !near(got, want, 1e-13) {
				t.Errorf("symmetry at x=%v a=%v: %v vs %v", x, a, got, want)
			}
		}
	}
	for _, a := range []float64{0.5, 3, 50, 1e4} {
		// lgamma of large arguments loses ~1e-11 to cancellation
		if got := RegIncBeta(a, a, 0.5); !near(got, 0.5, 1e-10) {
			t.Errorf("I_0.5(%v, %v) = %v, want 0.5", a, a, got)
		}
	}
	// I_x(1/2, 1/2) = (2/π) asin(√x), the arcsine distribution.
	for _, x := range []float64{0.1, 0.3, 0.9} {
		if got, want := RegIncBeta(0.5, 0.5, x), 2/math.Pi*math.Asin(math.Sqrt(x)); !near(got, want, 1e-13) {
			t.Errorf("I_%v(1/2, 1/2) = %v, want %v", x, got, want)
		}
	}
	if !math.IsNaN(RegIncBeta(0, 1, 0.5)) || !math.IsNaN(RegIncBeta(1, 1, 1.5)) || RegIncBeta(2, 3, 0) != 0 || RegIncBeta(2, 3, 1) != 1 {
		t.Error("edge cases")
	}
}

func TestStudentTCDFClosedForms(t *testing.T) {
	for _, x := range []float64{-30, -3, -1, -0.25, 0, 0.5, 1, 2, 10, 1e3} {
		// df = 1 is the Cauchy distribution; df = 2 has F(t) = 1/2 + t / (2 sqrt(2 + t²)).
		if got, want := StudentTCDF(x, 1), 0.5+math.Atan(x)/math.Pi; !near(got, want, 1e-13) {
			t.Errorf("T1(%v) = %v, want %v", x, got, want)
		}
		if got, want := StudentTCDF(x, 2), 0.5+x/(2*math.Sqrt(2+x*x)); !near(got, want, 1e-13) {
			t.Errorf("T2(%v) = %v, want %v", x, got, want)
		}
	}
	if got := StudentTCDF(1, 1); !near(got, 0.75, 1e-15) {
		t.Errorf("T1(1) = %v, want 0.75", got)
	}
	// Large df approaches the normal.
	if got, want := StudentTCDF(1.959963984540054, 1e7), 0.975; !near(got, want, 1e-6) {
		t.Errorf("T(1.96, 1e7) = %v", got)
	}
	if got := StudentTCDF(1.5, math.Inf(1)); !near(got, normCDF(1.5), 1e-15) {
		t.Errorf("T(1.5, inf) = %v", got)
	}
}

// Upper critical values of Student's t, from the NIST/SEMATECH e-Handbook of
// Statistical Methods, section 1.3.6.7.2 ("Critical Values of the Student's
// t Distribution"): P(T > t) = alpha for df degrees of freedom, t given to 3
// decimals (some entries are off by one in the last digit: the table's
// 4.143 for df 10, alpha 0.001 is 4.1437; its 318.313 for df 1, alpha 0.001
// is tan(0.499π) = 318.3088 and is left out).
var nistT = []struct {
	df, alpha, t float64
}{
	{1, 0.10, 3.078}, {1, 0.025, 12.706},
	{2, 0.05, 2.920}, {2, 0.025, 4.303},
	{5, 0.05, 2.015}, {5, 0.001, 5.893},
	{10, 0.10, 1.372}, {10, 0.05, 1.812}, {10, 0.025, 2.228}, {10, 0.01, 2.764}, {10, 0.005, 3.169}, {10, 0.001, 4.143},
	{17, 0.025, 2.110}, {20, 0.005, 2.845}, {30, 0.025, 2.042},
	{40, 0.05, 1.684}, {60, 0.025, 2.000}, {100, 0.025, 1.984}, {100, 0.001, 3.174},
}

func TestStudentTAgainstNIST(t *testing.T) {
	for _, tc := range nistT {
		// the table's t has 3 decimals
		q := StudentTQuantile(1-tc.alpha, tc.df)
		if !near(q, tc.t, 0.0011) {
			t.Errorf("t(%v; df %v) = %.6f, table %.3f", 1-tc.alpha, tc.df, q, tc.t)
		}
		// and the tail at the rounded t is alpha up to the rounding (density * 0.0005)
		tail := 1 - StudentTCDF(tc.t, tc.df)
		if !near(tail, tc.alpha, 0.0005*0.4+1e-9) || !near(tail/tc.alpha, 1, 0.05) {
			t.Errorf("P(T > %v; df %v) = %.6f, want %v", tc.t, tc.df, tail, tc.alpha)
		}
		if q2 := StudentTQuantile(tc.alpha, tc.df); !near(q2, -q, 1e-12) {
			t.Errorf("quantile symmetry: %v vs %v", q2, q)
		}
	}
	if q := StudentTQuantile(0.975, math.Inf(1)); !near(q, z975, 1e-9) {
		t.Errorf("normal quantile = %v", q)
	}
	for _, p := range []float64{0.6, 0.9, 0.999, 0.999999} {
		for _, df := range []float64{0.7, 1, 3.3, 17.9, 250, 1e6} {
			if got := StudentTCDF(StudentTQuantile(p, df), df); !near(got, p, 1e-9) {
				t.Errorf("CDF(quantile(%v, df %v)) = %v", p, df, got)
			}
		}
	}
}

// Two-proportion z-test examples.
//   - Stat Trek, "Hypothesis Test: Difference in Proportions", example 1:
//     p1 = 0.38 of n1 = 100, p2 = 0.51 of n2 = 200; pooled p = 0.467,
//     SE = 0.061, z = -2.13, two-tailed P-value = 0.034 (from z rounded to
//     2.13 and a table, so checked to ±0.001).
//   - A worked answer computed in Excel (wizedu.com question 363496):
//     9/31 vs 8/30, z = 0.20601333, p = 0.8368.
func TestTwoProportionZTest(t *testing.T) {
	r := TwoProportion("rate", Prop{Success: 102, N: 200}, Prop{Success: 38, N: 100})
	assertFinite(t, r)
	if !near(r.Stat, -2.13, 0.005) || !near(r.P, 0.034, 0.001) {
		t.Errorf("Stat Trek example: z = %v, p = %v; want -2.13, 0.034", r.Stat, r.P)
	}
	if !near(r.Diff, -0.13, 1e-12) || r.Control != 0.51 || r.Treatment != 0.38 {
		t.Errorf("estimates = %+v", r)
	}
	r = TwoProportion("rate", Prop{Success: 8, N: 30}, Prop{Success: 9, N: 31})
	if !near(r.Stat, 0.20601333, 5e-9) || !near(r.P, 0.8368, 5e-5) {
		t.Errorf("9/31 vs 8/30: z = %.8f, p = %.5f; want 0.20601333, 0.8368", r.Stat, r.P)
	}
}

// Newcombe's hybrid score interval, checked against the values Newcombe
// (1998, Statistics in Medicine 17:873-890, method 10) reports and the
// propint R package reproduces in its tests (github.com/m-Py/propint,
// tests: "ci.two.indep.props produces the results reported in Newcombe1998"):
// 56/70 - 48/80 -> 0.0524 to 0.3339; 9/10 - 3/10 -> 0.1705 to 0.8090.
func TestTwoProportionNewcombe(t *testing.T) {
	for _, tc := range []struct {
		t, c       Prop
		low, high  float64
		wantPSmall bool
	}{
		{Prop{56, 70}, Prop{48, 80}, 0.0524, 0.3339, true},
		{Prop{9, 10}, Prop{3, 10}, 0.1705, 0.8090, true},
	} {
		r := TwoProportion("rate", tc.c, tc.t)
		assertFinite(t, r)
		if !near(r.Low, tc.low, 1e-4) || !near(r.High, tc.high, 1e-4) {
			t.Errorf("%v - %v: CI %.4f to %.4f, want %.4f to %.4f", tc.t, tc.c, r.Low, r.High, tc.low, tc.high)
		}
		// swapping the arms mirrors the interval
		s := TwoProportion("rate", tc.t, tc.c)
		if !near(s.Low, -r.High, 1e-12) || !near(s.High, -r.Low, 1e-12) || !near(s.P, r.P, 1e-15) {
			t.Errorf("mirror: %+v vs %+v", s, r)
		}
	}
}

func TestTwoProportionEdges(t *testing.T) {
	for _, tc := range []struct {
		c, t Prop
	}{
		{Prop{0, 0}, Prop{5, 10}},
		{Prop{0, 50}, Prop{0, 50}},
		{Prop{50, 50}, Prop{50, 50}},
		{Prop{0, 50}, Prop{50, 50}},
		{Prop{-3, 10}, Prop{20, 10}}, // clamped
	} {
		r := TwoProportion("m", tc.c, tc.t)
		assertFinite(t, r)
		if r.Low > r.Diff || r.High < r.Diff || r.P < 0 || r.P > 1 {
			t.Errorf("%v vs %v: %+v", tc.c, tc.t, r)
		}
	}
	if r := TwoProportion("m", Prop{0, 50}, Prop{0, 50}); r.P != 1 || r.Diff != 0 {
		t.Errorf("all zero: %+v", r)
	}
	if r := TwoProportion("m", Prop{0, 0}, Prop{5, 10}); r.P != 1 || r.Verdict != "not enough data: 0 and 10 events; need at least 100 per arm" {
		t.Errorf("empty arm: %+v", r)
	}
}

// Welch's t-test against R's t.test (Welch is R's default), as quoted in a
// stats.stackexchange answer on Welch confidence intervals:
//
//	ts1 = c(11,9,10,11,10,12,9,11,12,9); ts2 = c(11,13,10,13,12,9,11,12,12,11)
//	t.test(ts1, ts2): t = -1.8325, df = 17.9, p-value = 0.08356,
//	95 percent confidence interval: -2.1469104 0.1469104
//
// Here ts1 is the control and ts2 the treatment, so the signs flip.
func TestWelchAgainstR(t *testing.T) {
	ts1 := []float64{11, 9, 10, 11, 10, 12, 9, 11, 12, 9}
	ts2 := []float64{11, 13, 10, 13, 12, 9, 11, 12, 12, 11}
	r := Welch("score", ts1, ts2)
	assertFinite(t, r)
	if r.Control != 10.4 || !near(r.Treatment, 11.4, 1e-12) || !near(r.Diff, 1, 1e-12) {
		t.Errorf("means = %v %v", r.Control, r.Treatment)
	}
	if !near(r.Stat, 1.8325, 5e-5) || !near(r.DF, 17.9, 0.05) || !near(r.P, 0.08356, 5e-6) {
		t.Errorf("t = %.5f, df = %.3f, p = %.6f; want 1.8325, 17.9, 0.08356", r.Stat, r.DF, r.P)
	}
	if !near(r.Low, -0.1469104, 5e-7) || !near(r.High, 2.1469104, 5e-7) {
		t.Errorf("CI = %.7f to %.7f; want -0.1469104 to 2.1469104", r.Low, r.High)
	}
	if r.NControl != 10 || r.NTreatment != 10 || r.Verdict != "not enough data: 10 and 10 events; need at least 100 per arm" {
		t.Errorf("verdict = %q", r.Verdict)
	}
	if v := Verdict(r, 10); v != "no significant difference (p = 0.084)" {
		t.Errorf("Verdict(10) = %q", v)
	}
}

func TestWelchEdges(t *testing.T) {
	r := Welch("m", []float64{1}, []float64{2, 3})
	assertFinite(t, r)
	if r.P != 1 || Verdict(r, 1) != "not enough data: 1 and 2 events; need at least 2 per arm" {
		t.Errorf("one value: %+v %q", r, Verdict(r, 1))
	}
	r = Welch("m", []float64{5, 5, 5}, []float64{7, 7, math.NaN(), math.Inf(1)})
	assertFinite(t, r)
	if r.P != 0 || r.Diff != 2 || r.NTreatment != 2 {
		t.Errorf("constant arms: %+v", r)
	}
	r = Welch("m", []float64{5, 5}, []float64{5, 5})
	if r.P != 1 {
		t.Errorf("identical constants: %+v", r)
	}
	// Large samples: df large, still finite and sensible.
	rng := rand.New(rand.NewPCG(1, 2))
	c, tr := make([]float64, 200000), make([]float64, 150000)
	for i := range c {
		c[i] = rng.NormFloat64() * 3
	}
	for i := range tr {
		tr[i] = rng.NormFloat64()*5 + 0.1
	}
	r = Welch("latency_ms", c, tr)
	assertFinite(t, r)
	if r.DF < 1e5 || r.P > 1e-6 || r.Low > 0.1 || r.High < 0.1 {
		t.Errorf("large: %+v", r)
	}
}

func TestBootstrap(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	c, tr := make([]float64, 200), make([]float64, 150)
	for i := range c {
		c[i] = 800 + rng.ExpFloat64()*200
	}
	for i := range tr {
		tr[i] = 1300 + rng.ExpFloat64()*200
	}
	cc, tc := append([]float64{}, c...), append([]float64{}, tr...)
	p95 := Quantile(0.95)
	a := Bootstrap("latency_p95_ms", c, tr, p95, 1000, 42)
	b := Bootstrap("latency_p95_ms", c, tr, p95, 1000, 42)
	assertFinite(t, a)
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("same seed, different results:\n%+v\n%+v", a, b)
	}
	if !reflect.DeepEqual(c, cc) || !reflect.DeepEqual(tr, tc) {
		t.Fatal("Bootstrap modified its inputs")
	}
	if d := Bootstrap("latency_p95_ms", c, tr, p95, 1000, 43); d.Low == a.Low && d.High == a.High {
		t.Errorf("different seeds gave the same interval %v..%v", d.Low, d.High)
	}
	if a.Control != Quantile(0.95)(append([]float64{}, c...)) || !near(a.Diff, a.Treatment-a.Control, 1e-9) {
		t.Errorf("point estimates: %+v", a)
	}
	if !(a.Low <= a.Diff && a.Diff <= a.High) || a.Low <= 0 || a.P >= Alpha || a.Unit != UnitMS {
		t.Errorf("shifted p95: %+v", a)
	}
	if !strings.HasPrefix(a.Verdict, "treatment is worse: latency_p95_ms up ") {
		t.Errorf("verdict = %q", a.Verdict)
	}

	// The same values in another order: no difference at all.
	rev := append([]float64{}, c...)
	slices.Reverse(rev)
	same := Bootstrap("score", c, rev, nil, 1000, 1)
	if !near(same.Diff, 0, 1e-9) || same.P < 0.5 || same.Low > 0 || same.High < 0 {
		t.Errorf("same values: %+v", same)
	}
	// A clear shift in the mean agrees with Welch.
	w, bm := Welch("score", c, tr), Bootstrap("score", c, tr, nil, 1000, 1)
	if !near(bm.Diff, w.Diff, 1e-9) || !near(bm.Low, w.Low, 0.15*w.Diff) || !near(bm.High, w.High, 0.15*w.Diff) {
		t.Errorf("bootstrap mean %+v vs welch %+v", bm, w)
	}
	// Defaults and degenerate input.
	if r := Bootstrap("m", nil, []float64{1, 2}, nil, 0, 1); r.P != 1 || r.NControl != 0 || r.Treatment != 1.5 {
		t.Errorf("empty arm: %+v", r)
	}
}

func TestQuantileAndMean(t *testing.T) {
	xs := []float64{15, 20, 35, 40, 50}
	for _, tc := range []struct{ q, want float64 }{
		{0, 15}, {0.25, 20}, {0.5, 35}, {0.4, 29}, {0.95, 48}, {1, 50},
	} { // numpy.percentile(xs, 100q) (linear)
		if got := Quantile(tc.q)(append([]float64{}, xs...)); !near(got, tc.want, 1e-12) {
			t.Errorf("Quantile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if Quantile(0.5)(nil) != 0 || Mean(nil) != 0 || Mean(xs) != 32 {
		t.Error("empty / mean")
	}
}

func TestIPWClickRate(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    []Click
		want  float64
		wantN int
	}{
		{"empty", nil, 0, 0},
		// clicks at p 0.5 and 0.1 of 4 impressions: (2 + 10) / 4
		{"weighted", []Click{{true, 0.5}, {false, 0.5}, {true, 0.1}, {false, 1}}, 3, 4},
		// all seen (p = 1): the plain click rate
		{"seen", []Click{{true, 1}, {false, 1}, {false, 1}, {true, 1}}, 0.5, 4},
		// 10 impressions at p 0.5, one click: 0.2 of the items seen were clicked
		{"half seen", append([]Click{{true, 0.5}}, make([]Click, 9)...), 0.2, 10},
		// clipped: 0.001 counts as 0.01 (weight 100); 1.7 as 1; unclicked ones add nothing
		{"clipped", []Click{{true, 0.001}, {false, 0}, {false, math.NaN()}, {true, 1.7}}, 101.0 / 4, 4},
	} {
		got, n := IPWClickRate(tc.in)
		if !near(got, tc.want, 1e-12) || n != tc.wantN {
			t.Errorf("%s: %v, %d; want %v, %d", tc.name, got, n, tc.want, tc.wantN)
		}
	}
}

func TestVerdict(t *testing.T) {
	for _, tc := range []struct {
		r    Result
		minN int
		want string
	}{
		{Result{Metric: "thumbs_down_rate", Method: MethodTwoProportion, Unit: UnitPoints, Diff: 0.061, Low: 0.040, High: 0.082, P: 0.0002, NControl: 5000, NTreatment: 5100}, 100,
			"treatment is worse: thumbs_down_rate up 6.1 points (95% CI 4.0 to 8.2), p < 0.001"},
		{Result{Metric: "thumbs_down_rate", Method: MethodTwoProportion, Unit: UnitPoints, Diff: 0.004, Low: -0.01, High: 0.02, P: 0.41, NControl: 500, NTreatment: 500}, 100,
			"no significant difference (p = 0.41)"},
		{Result{Metric: "thumbs_down_rate", Method: MethodTwoProportion, Unit: UnitPoints, NControl: 12, NTreatment: 9}, 100,
			"not enough data: 12 and 9 events; need at least 100 per arm"},
		{Result{Metric: "resolution_rate", Unit: UnitPoints, Diff: 0.032, Low: 0.004, High: 0.06, P: 0.0261, NControl: 900, NTreatment: 900}, 100,
			"treatment is better: resolution_rate up 3.2 points (95% CI 0.4 to 6.0), p = 0.026"},
		{Result{Metric: "thumbs_down_rate", Unit: UnitPoints, Diff: -0.02, Low: -0.035, High: -0.005, P: 0.0049, NControl: 900, NTreatment: 900}, 100,
			"treatment is better: thumbs_down_rate down 2.0 points (95% CI -3.5 to -0.5), p = 0.0049"},
		{Result{Metric: "latency_p95_ms", Unit: UnitMS, Diff: -120.4, Low: -180, High: -61.2, P: 0.0005, NControl: 300, NTreatment: 300}, 100,
			"treatment is better: latency_p95_ms down 120 ms (95% CI -180 to -61), p < 0.001"},
		{Result{Metric: "my_score", Diff: -0.12, Low: -0.2, High: -0.04, P: 0.003, NControl: 300, NTreatment: 300}, 100,
			"treatment differs: my_score down 0.12 (95% CI -0.20 to -0.04), p = 0.003"},
		{Result{Metric: "reason:factual_error", Unit: UnitPoints, Diff: 0.05, Low: 0.01, High: 0.09, P: 0.0499, NControl: 300, NTreatment: 300}, 100,
			"treatment is worse: reason:factual_error up 5.0 points (95% CI 1.0 to 9.0), p = 0.0499"},
		{Result{Metric: "x", P: 0.05, NControl: 3, NTreatment: 3}, 0,
			"no significant difference (p = 0.05)"},
	} {
		if got := Verdict(tc.r, tc.minN); got != tc.want {
			t.Errorf("Verdict = %q\n        want %q", got, tc.want)
		}
	}
}

func TestHigherIsBetter(t *testing.T) {
	for _, tc := range []struct {
		m             string
		higher, known bool
	}{
		{"thumbs_down_rate", false, true}, {"pass_rate", true, true}, {"escalation_rate", false, true},
		{"abandon_rate", false, true}, {"policy_violation_rate", false, true}, {"resolution_rate", true, true},
		{"latency_p50_ms", false, true}, {"latency_p95_ms", false, true}, {"reason:factual_error", false, true},
		{"ttfb_ms", false, true}, {"cost_usd", false, true}, {"ipw_click_rate", true, true}, {"mystery", false, false},
	} {
		if h, k := HigherIsBetter(tc.m); h != tc.higher || k != tc.known {
			t.Errorf("HigherIsBetter(%s) = %v %v", tc.m, h, k)
		}
	}
}

func TestBootstrapIPWCorrectsPositionBias(t *testing.T) {
	// Both arms have the same true relevance (20% click when examined);
	// treatment was shown at worse positions (examined 30% vs 90%), so its
	// raw click rate is far lower while its IPW rate is the same.
	var c, tr []Click
	for i := 0; i < 4000; i++ {
		c = append(c, Click{Clicked: i%50 < 9, Propensity: 0.9})   // 18% = 0.9 * 0.2
		tr = append(tr, Click{Clicked: i%50 < 3, Propensity: 0.3}) // 6% = 0.3 * 0.2
	}
	r := BootstrapIPW("ipw_click_rate", c, tr, 500, 1)
	if math.Abs(r.Control-0.2) > 1e-9 || math.Abs(r.Treatment-0.2) > 1e-9 || r.P < 0.05 {
		t.Fatalf("IPW: %+v", r)
	}
	if r2 := BootstrapIPW("ipw_click_rate", c, tr, 500, 1); r2 != r {
		t.Fatal("not deterministic")
	}
}
