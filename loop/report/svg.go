package report

import (
	"fmt"
	"html"
	"math"
	"strings"

	"github.com/loupe-dev/loupe/loop/trend"
)

// The charts: small SVG of our own. No Go chart library fits a page that
// must be self-contained, printable and byte-stable: the maintained ones
// (go-echarts, gonum/plot) render through JavaScript or raster/SVG backends
// with embedded fonts, and two chart kinds (a daily line with a target and
// release markers, horizontal bars) are a few dozen lines of string
// building.

// Chart colours (also what the browser test looks for in the screenshot).
const (
	colorSeries  = "#1f5fd6"
	colorBefore  = "#9dbcf2"
	colorTarget  = "#d12c2c"
	colorRelease = "#7a7f87"
	colorGrid    = "#e3e6ea"
	colorText    = "#333a42"
)

const chartFont = `font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"`

func esc(s string) string { return html.EscapeString(s) }

// svgOpen starts an SVG of w×h with a title (for screen readers and
// tooltips); standalone adds the namespace a separate .svg file needs.
func svgOpen(b *strings.Builder, w, h int, title string, standalone bool) {
	ns := ""
	if standalone {
		ns = ` xmlns="http://www.w3.org/2000/svg"`
	}
	fmt.Fprintf(b, `<svg%s viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" %s font-size="11">`, ns, w, h, w, h, esc(title), chartFont)
	fmt.Fprintf(b, `<title>%s</title>`, esc(title))
}

// lineChart draws one metric per day: the series (gaps where a day has no
// data), the target as a dashed line, and a dotted line per release.
func lineChart(title, metric string, s trend.Series, target float64, showTarget bool, rel []Release, standalone bool) string {
	const w, h, ml, mr, mt, mb = 760, 260, 56, 16, 18, 40
	var b strings.Builder
	svgOpen(&b, w, h, title, standalone)
	n := len(s.Points)
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range s.Points {
		if p.N > 0 {
			lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
		}
	}
	if showTarget {
		lo, hi = math.Min(lo, target), math.Max(hi, target)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	if trend.IsLatency(metric) {
		lo = 0
	} else {
		pad := math.Max((hi-lo)*0.15, 0.02)
		lo, hi = math.Max(0, lo-pad), math.Min(1, hi+pad)
	}
	if hi <= lo {
		hi = lo + 1
	}
	if trend.IsLatency(metric) {
		hi *= 1.1
	}
	pw, ph := float64(w-ml-mr), float64(h-mt-mb)
	x := func(i int) float64 {
		if n <= 1 {
			return float64(ml) + pw/2
		}
		return float64(ml) + pw*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 { return float64(mt) + ph*(1-(v-lo)/(hi-lo)) }
	// Grid and y labels.
	for i := 0; i <= 4; i++ {
		v := lo + (hi-lo)*float64(i)/4
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s"/>`, ml, w-mr, y(v), y(v), colorGrid)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">%s</text>`, ml-6, y(v)+4, colorText, esc(trend.Format(metric, v)))
	}
	// x labels: first, middle, last day.
	if n > 0 {
		for _, i := range []int{0, n / 2, n - 1} {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle" fill="%s">%s</text>`, x(i), h-mb+16, colorText, esc(s.Points[i].Day[5:]))
		}
	}
	// Releases.
	for k, r := range rel {
		xx := x(r.Index)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%d" y2="%d" stroke="%s" stroke-width="1.5" stroke-dasharray="2 3"><title>%s</title></line>`,
			xx, xx, mt, h-mb, colorRelease, esc("release "+r.Model+" on "+r.Day))
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="%s" font-size="10">%s</text>`, xx+3, mt+10+12*(k%4), colorRelease, esc(r.Model))
	}
	// Target.
	if showTarget {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2" stroke-dasharray="6 4"/>`, ml, w-mr, y(target), y(target), colorTarget)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end" fill="%s">target %s</text>`, w-mr, y(target)-5, colorTarget, esc(trend.Format(metric, target)))
	}
	// Series, broken at gaps.
	var seg []string
	flush := func() {
		if len(seg) > 1 {
			fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2.5" points="%s"/>`, colorSeries, strings.Join(seg, " "))
		}
		seg = seg[:0]
	}
	for i, p := range s.Points {
		if p.N == 0 {
			flush()
			continue
		}
		seg = append(seg, fmt.Sprintf("%.1f,%.1f", x(i), y(p.Value)))
	}
	flush()
	for i, p := range s.Points {
		if p.N > 0 {
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"><title>%s: %s (n=%d)</title></circle>`, x(i), y(p.Value), colorSeries, p.Day, esc(trend.Format(metric, p.Value)), p.N)
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

// bar is one row of a bar chart: Value (and Before, when the chart
// compares) in the metric's unit; NaN is no bar.
type bar struct {
	Label         string
	Value, Before float64
	Note          string
}

// barChart draws horizontal bars, one row per bar; compare adds a lighter
// bar for Before under each.
func barChart(title, metric string, bars []bar, compare, standalone bool) string {
	const w, ml, mr, row = 760, 190, 120, 26
	h := 24 + row*max(len(bars), 1)
	var b strings.Builder
	svgOpen(&b, w, h, title, standalone)
	top := 0.0
	for _, r := range bars {
		for _, v := range []float64{r.Value, r.Before} {
			if !math.IsNaN(v) {
				top = math.Max(top, v)
			}
		}
	}
	if top == 0 {
		top = 1
	}
	pw := float64(w - ml - mr)
	for i, r := range bars {
		y0 := 12 + i*row
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" fill="%s">%s</text>`, ml-8, y0+14, colorText, esc(clip(r.Label, 28)))
		hgt := 16
		if compare {
			hgt = 9
			if !math.IsNaN(r.Before) {
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="8" fill="%s"><title>%s before: %s</title></rect>`, ml, y0+11, math.Max(1, pw*r.Before/top), colorBefore, esc(r.Label), esc(trend.Format(metric, r.Before)))
			}
		}
		if !math.IsNaN(r.Value) {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %s</title></rect>`, ml, y0+2, math.Max(1, pw*r.Value/top), hgt, colorSeries, esc(r.Label), esc(trend.Format(metric, r.Value)))
		}
		label := trend.Format(metric, r.Value)
		if compare {
			label += " (was " + trend.Format(metric, r.Before) + ")"
		}
		if r.Note != "" {
			label += " " + r.Note
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`, w-mr+6, y0+14, colorText, esc(label))
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
