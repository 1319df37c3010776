package agg

import (
	"encoding/binary"
	"maps"
	"math"
	"slices"
)

// Accuracy is the sketch's relative accuracy: every quantile it returns is
// within this fraction of a value the exact quantile lies between (the
// DDSketch guarantee: Masson, Rim and Lee, VLDB 2019).
const Accuracy = 0.005

var (
	gamma    = (1 + Accuracy) / (1 - Accuracy)
	logGamma = math.Log(gamma)
)

// minValue is the smallest value the sketch tells apart from zero (a
// microsecond, in milliseconds); smaller values count in the zero bin.
const minValue = 1e-3

// Sketch is a DDSketch of non-negative values: counts per logarithmic bin,
// so two sketches merge by adding counts and a value is removed by
// subtracting one, exactly. Its memory grows with the spread of the values
// (about 460 bins per factor of 10), not with their number.
type Sketch struct {
	Zero int64
	Bins map[int32]int64
}

// index is the bin of v > minValue: ceil(log_gamma(v)).
func index(v float64) int32 { return int32(math.Ceil(math.Log(v) / logGamma)) }

// binValue is the value that stands for bin i: the point of
// (gamma^(i-1), gamma^i] within Accuracy of both ends.
func binValue(i int32) float64 { return 2 * math.Pow(gamma, float64(i)) / (gamma + 1) }

// Add counts v n times (n < 0 removes it). Negative values and NaN are
// ignored (a latency is never negative).
func (s *Sketch) Add(v float64, n int64) {
	if !(v >= 0) || n == 0 {
		return
	}
	if v <= minValue {
		s.Zero += n
		return
	}
	if s.Bins == nil {
		s.Bins = map[int32]int64{}
	}
	i := index(v)
	s.Bins[i] += n
	if s.Bins[i] == 0 {
		delete(s.Bins, i)
	}
}

// Merge adds o's counts.
func (s *Sketch) Merge(o *Sketch) {
	s.Zero += o.Zero
	for i, n := range o.Bins {
		if s.Bins == nil {
			s.Bins = map[int32]int64{}
		}
		s.Bins[i] += n
		if s.Bins[i] == 0 {
			delete(s.Bins, i)
		}
	}
}

// Count is the number of values counted.
func (s *Sketch) Count() int64 {
	n := s.Zero
	for _, c := range s.Bins {
		n += c
	}
	return n
}

// AppendValues appends every counted value as its bin's value, in
// ascending order: the sample a percentile, a quantile test or an interval
// can be computed on as if they were the values themselves, each within
// Accuracy. Bins with a negative count (more removed than added: a corrupt
// aggregate) contribute nothing.
func (s *Sketch) AppendValues(dst []float32) []float32 {
	for range s.Zero {
		dst = append(dst, 0)
	}
	for _, i := range slices.Sorted(maps.Keys(s.Bins)) {
		v := float32(binValue(i))
		for range s.Bins[i] {
			dst = append(dst, v)
		}
	}
	return dst
}

// Quantile is the q-quantile (0 ≤ q ≤ 1) of the counted values, by the
// nearest rank below (q·(n−1) rounded down, as DDSketch does): within
// Accuracy of the exact order statistic. NaN when the sketch is empty.
func (s *Sketch) Quantile(q float64) float64 {
	n := s.Count()
	if n <= 0 {
		return math.NaN()
	}
	rank := int64(q * float64(n-1))
	if rank < s.Zero {
		return 0
	}
	seen := s.Zero
	for _, i := range slices.Sorted(maps.Keys(s.Bins)) {
		seen += s.Bins[i]
		if seen > rank {
			return binValue(i)
		}
	}
	return binValue(slices.Max(slices.Collect(maps.Keys(s.Bins))))
}

func (s *Sketch) equal(o *Sketch) bool { return s.Zero == o.Zero && maps.Equal(s.Bins, o.Bins) }

// append encodes the sketch: varint zero count, uvarint bin count, then for
// each bin in index order the varint difference from the previous index
// (from 0 for the first) and the varint count.
func (s *Sketch) append(dst []byte) []byte {
	dst = binary.AppendVarint(dst, s.Zero)
	idx := slices.Sorted(maps.Keys(s.Bins))
	dst = binary.AppendUvarint(dst, uint64(len(idx)))
	prev := int32(0)
	for _, i := range idx {
		dst = binary.AppendVarint(dst, int64(i-prev))
		dst = binary.AppendVarint(dst, s.Bins[i])
		prev = i
	}
	return dst
}

func (s *Sketch) decode(r *reader) error {
	s.Zero = r.varint()
	n := r.uvarint()
	if r.err || n > uint64(len(r.b)) {
		return errBadCell
	}
	prev := int64(0)
	for range n {
		d := r.varint()
		c := r.varint()
		if r.err {
			return errBadCell
		}
		prev += d
		if prev < math.MinInt32 || prev > math.MaxInt32 {
			return errBadCell
		}
		if s.Bins == nil {
			s.Bins = map[int32]int64{}
		}
		s.Bins[int32(prev)] = c
	}
	return nil
}
