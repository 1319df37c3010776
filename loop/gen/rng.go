package gen

import "math"

// rng is a small, fast SplitMix64 generator. It is defined here rather than
// taken from math/rand so that output stays byte-identical across Go
// releases: the generator's algorithm is part of the determinism contract.
type rng struct{ s uint64 }

// mix64 is the SplitMix64 finaliser, a bijection on uint64.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	return mix64(r.s)
}

// float returns a uniform float64 in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) * 0x1p-53 }

// intn returns a uniform int in [0, n); n must be in (0, 2^32).
func (r *rng) intn(n int) int { return int(((r.next() >> 32) * uint64(n)) >> 32) }

// between returns a uniform int in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

func (r *rng) uniform(lo, hi float64) float64 { return lo + (hi-lo)*r.float() }

func (r *rng) chance(p float64) bool { return r.float() < p }

// normal is an Irwin–Hall approximation of a standard normal: cheap, and
// bounded to ±3.46, which keeps generated values plausible.
func (r *rng) normal() float64 {
	return (r.float() + r.float() + r.float() + r.float() - 2) * 1.7320508075688772
}

func (r *rng) lognormal(median, sigma float64) float64 {
	return median * math.Exp(sigma*r.normal())
}

func pick[T any](r *rng, s []T) T { return s[r.intn(len(s))] }

// cumulative turns weights into a cumulative table for pickW.
func cumulative(w ...float64) []float64 {
	c := make([]float64, len(w))
	t := 0.0
	for i, x := range w {
		t += x
		c[i] = t
	}
	for i := range c {
		c[i] /= t
	}
	return c
}

// pickW returns an index drawn with the weights of cum (from cumulative).
func (r *rng) pickW(cum []float64) int {
	x := r.float()
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}
