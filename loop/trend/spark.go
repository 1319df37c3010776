package trend

import (
	"math"
	"strings"
)

var bars = []rune("▁▂▃▄▅▆▇█")

// Sparkline draws values as one bar per value, ▁ (the lowest value) to █
// (the highest), scaled between the minimum and maximum of the values
// present. NaN and infinities are gaps, drawn as a space. When all present
// values are equal every bar is ▄ (a flat line, neither low nor high).
func Sparkline(values []float64) string {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		lo = min(lo, v)
		hi = max(hi, v)
	}
	var b strings.Builder
	b.Grow(len(values) * 3)
	for _, v := range values {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			b.WriteByte(' ')
		case hi == lo:
			b.WriteRune(bars[3])
		default:
			i := int(math.Round((v - lo) / (hi - lo) * float64(len(bars)-1)))
			b.WriteRune(bars[i])
		}
	}
	return b.String()
}
