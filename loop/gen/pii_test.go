package gen

import (
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop/pii"
)

// TestMaskerOnGeneratedPII runs the masker over every kind of PII the
// generator plants, in its carrier sentences, and over its look-alikes:
// each value must become one placeholder, with nothing of it left for the
// detectors here to find,
// and each look-alike must come back unchanged.
func TestMaskerOnGeneratedPII(t *testing.T) {
	g := newGenerator(11, 100, 28, DefaultEnd)
	for kind := range nPII {
		for i := range 300 {
			c := piiCarriers[kind][i%len(piiCarriers[kind])]
			text := c[0] + string(g.appendPIIValue(nil, kind)) + c[1]
			m, n := pii.Mask(text)
			// the value, all of it, becomes one placeholder
			mid, ok := strings.CutPrefix(m, c[0])
			mid, ok2 := strings.CutSuffix(mid, c[1])
			if n.Total() != 1 || textHasPII(m) || !ok || !ok2 || !strings.HasPrefix(mid, "[") || !strings.HasSuffix(mid, "]") || strings.Count(mid, "[") != 1 {
				t.Errorf("kind %d: %q masked as %q (%v)", kind, text, m, n.Map())
			}
		}
	}
	var e event
	for range 3000 {
		e.reset()
		g.injectLookalike(&e)
		for _, s := range [][]byte{e.in, e.out} {
			if m, n := pii.Mask(string(s)); m != string(s) {
				t.Errorf("look-alike %q masked as %q (%v)", s, m, n.Map())
			}
		}
	}
}
