package ab

import "math"

// z975 is the 0.975 quantile of the standard normal distribution.
const z975 = 1.959963984540054

// normCDF is the standard normal CDF.
func normCDF(x float64) float64 { return 0.5 * math.Erfc(-x/math.Sqrt2) }

// normTwoSided is the two-sided p-value of a z statistic, 2(1 - Φ(|z|)),
// computed without cancellation.
func normTwoSided(z float64) float64 { return math.Erfc(math.Abs(z) / math.Sqrt2) }

// RegIncBeta is the regularized incomplete beta function I_x(a, b) for
// a, b > 0 and x in [0, 1], evaluated with the continued fraction of
// Numerical Recipes (Press et al., 3rd ed., §6.4) by the modified Lentz
// method, using the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) where the
// fraction converges faster. It returns NaN for arguments out of range.
func RegIncBeta(a, b, x float64) float64 {
	switch {
	case !(a > 0) || !(b > 0) || math.IsNaN(x) || x < 0 || x > 1:
		return math.NaN()
	case x == 0:
		return 0
	case x == 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

// betaCF evaluates the continued fraction of I_x(a, b).
func betaCF(a, b, x float64) float64 {
	const (
		maxIter = 100000
		eps     = 1e-15
		tiny    = 1e-300
	)
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + aa/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// StudentTCDF is P(T <= t) for Student's t distribution with df > 0 degrees
// of freedom (df = +Inf gives the standard normal), through
// P(|T| > |t|) = I_{df/(df+t²)}(df/2, 1/2).
func StudentTCDF(t, df float64) float64 {
	if math.IsNaN(t) || !(df > 0) {
		return math.NaN()
	}
	if math.IsInf(df, 1) {
		return normCDF(t)
	}
	tail := 0.5 * studentTwoSided(t, df)
	if t < 0 {
		return tail
	}
	return 1 - tail
}

// studentTwoSided is P(|T| > |t|), the two-sided p-value of t.
func studentTwoSided(t, df float64) float64 {
	if math.IsInf(df, 1) {
		return normTwoSided(t)
	}
	if math.IsInf(t, 0) {
		return 0
	}
	return RegIncBeta(df/2, 0.5, df/(df+t*t))
}

// StudentTQuantile is the t with StudentTCDF(t, df) = p, for p in (0, 1),
// found by bisection on the incomplete beta function (to about 1e-13
// relative precision).
func StudentTQuantile(p, df float64) float64 {
	switch {
	case math.IsNaN(p) || !(df > 0) || p <= 0 || p >= 1:
		return math.NaN()
	case p == 0.5:
		return 0
	case p < 0.5:
		return -StudentTQuantile(1-p, df)
	}
	target := 2 * (1 - p) // two-sided tail of the positive quantile
	if math.IsInf(df, 1) {
		return normQuantile(p)
	}
	// I_x(df/2, 1/2) rises with x from 0 to 1; solve I_x = target for x,
	// then t = sqrt(df (1-x) / x).
	lo, hi := 0.0, 1.0
	for i := 0; i < 2000 && hi-lo > 1e-15*hi; i++ {
		mid := lo + (hi-lo)/2
		if mid == lo || mid == hi {
			break
		}
		if RegIncBeta(df/2, 0.5, mid) < target {
			lo = mid
		} else {
			hi = mid
		}
	}
	x := lo + (hi-lo)/2
	return math.Sqrt(df * (1 - x) / x)
}

// normQuantile is the standard normal quantile, by bisection on normCDF.
func normQuantile(p float64) float64 {
	lo, hi := -40.0, 40.0
	for range 200 {
		mid := (lo + hi) / 2
		if normCDF(mid) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}
