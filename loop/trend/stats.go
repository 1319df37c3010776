package trend

import (
	"math"
	"slices"
)

// The statistics behind Alerts: two-sided tests of "before and after are
// the same", intervals for the difference, and Benjamini–Hochberg.

// zFor is the two-sided standard normal quantile for confidence conf:
// zFor(0.95) ≈ 1.96.
func zFor(conf float64) float64 { return math.Sqrt2 * math.Erfinv(conf) }

// propTest is the two-sided p-value that x1/n1 and x2/n2 are draws of the
// same proportion: the pooled z-test when every expected cell count is at
// least 5, else Fisher's exact test (rare events such as policy
// violations, where the normal approximation is poor).
func propTest(x1, n1, x2, n2 int) float64 {
	if n1 == 0 || n2 == 0 {
		return 1
	}
	k, n := x1+x2, n1+n2
	p := float64(k) / float64(n)
	if k == 0 || k == n {
		return 1
	}
	minExp := math.Min(math.Min(float64(n1)*p, float64(n1)*(1-p)), math.Min(float64(n2)*p, float64(n2)*(1-p)))
	if minExp < 5 {
		return fisher(x2, n2, k, n)
	}
	se := math.Sqrt(p * (1 - p) * (1/float64(n1) + 1/float64(n2)))
	z := (float64(x2)/float64(n2) - float64(x1)/float64(n1)) / se
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// fisher is the two-sided p-value of Fisher's exact test: x successes in a
// sample of m drawn from n items of which k are successes, summing the
// probabilities of every table no more likely than the one seen.
func fisher(x, m, k, n int) float64 {
	lc := func(a, b int) float64 {
		la, _ := math.Lgamma(float64(a + 1))
		lb, _ := math.Lgamma(float64(b + 1))
		lab, _ := math.Lgamma(float64(a - b + 1))
		return la - lb - lab
	}
	logp := func(i int) float64 { return lc(k, i) + lc(n-k, m-i) - lc(n, m) }
	lo, hi := max(0, m-(n-k)), min(k, m)
	obs := logp(x)
	var p float64
	for i := lo; i <= hi; i++ {
		if l := logp(i); l <= obs+1e-7 {
			p += math.Exp(l)
		}
	}
	return math.Min(p, 1)
}

// wilson is the Wilson score interval for x/n at normal quantile z.
func wilson(x, n int, z float64) (lo, hi float64) {
	if n == 0 {
		return 0, 1
	}
	fn, fx := float64(n), float64(x)
	z2 := z * z
	c := (fx + z2/2) / (fn + z2)
	h := z / (fn + z2) * math.Sqrt(fx*(fn-fx)/fn+z2/4)
	return math.Max(0, c-h), math.Min(1, c+h)
}

// propDiffInterval is Newcombe's hybrid score interval for x2/n2 − x1/n1
// (his method 10, from the two Wilson intervals): it behaves at rates near
// 0 or 1 and small counts, where the Wald interval does not.
func propDiffInterval(x1, n1, x2, n2 int, conf float64) (lo, hi float64) {
	z := zFor(conf)
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	l1, u1 := wilson(x1, n1, z)
	l2, u2 := wilson(x2, n2, z)
	d := p2 - p1
	return d - math.Sqrt((p2-l2)*(p2-l2)+(u1-p1)*(u1-p1)), d + math.Sqrt((u2-p2)*(u2-p2)+(p1-l1)*(p1-l1))
}

// quantileTest is the two-sided p-value that a and b have the same
// q-quantile: the share of each above the pooled q-quantile, compared as
// proportions (Mood's median test, generalized to any quantile). It is
// distribution-free: latencies are skewed and heavy-tailed.
func quantileTest(a, b []float32, q float64) float64 {
	pooled := make([]float32, 0, len(a)+len(b))
	pooled = append(append(pooled, a...), b...)
	t := float32(quantile(pooled, q))
	above := func(x []float32) int {
		n := 0
		for _, v := range x {
			if v > t {
				n++
			}
		}
		return n
	}
	return propTest(above(a), len(a), above(b), len(b))
}

// quantileDiffInterval is an approximate interval for quantile(b, q) −
// quantile(a, q): each quantile's standard error is read off its
// distribution-free order-statistic interval (ranks nq ± z√(nq(1−q))), and
// the two are combined as independent normals.
func quantileDiffInterval(a, b []float32, q, conf float64) (lo, hi float64) {
	z := zFor(conf)
	se := func(x []float32) float64 {
		s := slices.Clone(x)
		slices.Sort(s)
		n := float64(len(s))
		w := z * math.Sqrt(n*q*(1-q))
		l := int(math.Max(0, math.Floor(n*q-w)))
		h := int(math.Min(n-1, math.Ceil(n*q+w)))
		return float64(s[h]-s[l]) / 2 / z
	}
	d := quantile(slices.Clone(b), q) - quantile(slices.Clone(a), q)
	sa, sb := se(a), se(b)
	h := z * math.Sqrt(sa*sa+sb*sb)
	return d - h, d + h
}

// bh is Benjamini–Hochberg at level alpha over p: which hypotheses are
// rejected, and each one's adjusted p-value (q-value): the smallest level
// at which BH would reject it.
func bh(p []float64, alpha float64) (reject []bool, q []float64) {
	m := len(p)
	idx := make([]int, m)
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case p[a] < p[b]:
			return -1
		case p[a] > p[b]:
			return 1
		}
		return 0
	})
	q = make([]float64, m)
	reject = make([]bool, m)
	run := 1.0
	for r := m; r >= 1; r-- {
		i := idx[r-1]
		run = math.Min(run, p[i]*float64(m)/float64(r))
		q[i] = run
	}
	for i := range p {
		reject[i] = q[i] <= alpha
	}
	return reject, q
}
