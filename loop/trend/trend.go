package trend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
)

// Data is what every trend computation reads. Items are the stored
// summaries and Grades one grade per stored item (see Grades); Rest is the
// aggregates of the interactions edge sampling (intake.keep) did not store
// in full (store.Aggregates; nil or empty when every interaction was kept).
// Items and Rest count every interaction once between them, so every rate,
// reason share and latency percentile is over all interactions (latency
// within agg.Accuracy, the values in Rest being the sketch's), and an N is
// a number of interactions, stored or not. pass_rate is the exception:
// grades exist only for stored items, so it is over the stored sample.
type Data struct {
	Items  []loop.Summary
	Grades map[string]loop.Grade
	Rest   *agg.Table
}

// empty reports whether there is no interaction at all.
func (d Data) empty() bool { return len(d.Items) == 0 && d.Rest.Len() == 0 }

// Interactions is how many interactions d counts: the stored ones and
// those only in the aggregates.
func (d Data) Interactions() int { return len(d.Items) + int(d.Rest.Events()) }

// Newest is the time of the newest stored item, or the start of the
// newest aggregated day when that is a later day (a window ending at
// Newest covers both); zero when d is empty.
func (d Data) Newest() time.Time {
	var t time.Time
	for i := range d.Items {
		if d.Items[i].Time.After(t) {
			t = d.Items[i].Time
		}
	}
	if ks := d.Rest.Keys(); len(ks) > 0 {
		if k := ks[len(ks)-1]; t.IsZero() || k.Day > dayIndex(t) {
			t = k.Time()
		}
	}
	return t
}

// Point is a metric's value on one UTC day. N is the number of events the
// value is computed over (its denominator, or the events with a latency).
// A day without any such event has N == 0 and Value 0; every day of the
// window is present, and consumers treat N == 0 as a gap (Series.Values
// does). In JSON a gap's value is null.
type Point struct {
	Day   string  `json:"day"` // YYYY-MM-DD, UTC
	Value float64 `json:"value"`
	N     int     `json:"n"`
}

// MarshalJSON writes a gap's value as null, not 0.
func (p Point) MarshalJSON() ([]byte, error) {
	v := Num(p.Value)
	if p.N == 0 {
		v = Num(math.NaN())
	}
	return json.Marshal(struct {
		Day   string `json:"day"`
		Value Num    `json:"value"`
		N     int    `json:"n"`
	}{p.Day, v, p.N})
}

// marshal is json.Marshal without HTML escaping (">=" stays ">=").
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Num is a float64 that JSON writes as null when it is NaN or infinite
// (not applicable, or no data).
type Num float64

// MarshalJSON writes null for NaN and infinities.
func (v Num) MarshalJSON() ([]byte, error) {
	f := float64(v)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// Series is a metric's daily points for one key: a model version, segment or
// task, or "all". Last is the metric over the series' last GoalDays days of
// the window taken as one sample (see WindowValue), over LastN events; NaN
// (null in JSON) when those days have no data.
type Series struct {
	Key    string  `json:"key"`
	Points []Point `json:"points"`
	Last   float64 `json:"-"`
	LastN  int     `json:"last_n"`
}

// MarshalJSON writes Last as "last", null when NaN.
func (s Series) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Key    string  `json:"key"`
		Points []Point `json:"points"`
		Last   Num     `json:"last"`
		LastN  int     `json:"last_n"`
	}{s.Key, s.Points, Num(s.Last), s.LastN})
}

// Values returns the series' values with NaN for days without data, as
// Sparkline wants them.
func (s Series) Values() []float64 {
	out := make([]float64, len(s.Points))
	for i, p := range s.Points {
		if p.N == 0 {
			out[i] = math.NaN()
		} else {
			out[i] = p.Value
		}
	}
	return out
}

// Result is one metric's series: exactly the `loupe trends --json` shape.
type Result struct {
	Metric string   `json:"metric"`
	Series []Series `json:"series"`
}

// Dimensions a series can be split by.
const (
	ByAll     = ""
	ByModel   = "model"
	BySegment = "segment"
	ByTask    = "task"
)

// AllKey is the key of the single series when nothing splits them; NoneKey
// stands for an event without a segment or task.
const (
	AllKey  = "all"
	NoneKey = "(none)"
)

const dayLayout = "2006-01-02"

// dayIndex is t's UTC day as days since 1970-01-01: the day the
// aggregates key their cells by.
func dayIndex(t time.Time) int64 { return agg.DayOf(t) }

func dayString(d int64) string {
	return time.Unix(d*86400, 0).UTC().Format(dayLayout)
}

// keyFunc returns the function that reads a summary's key for by.
func keyFunc(by string) (func(*loop.Summary) string, error) {
	switch by {
	case ByAll:
		return func(*loop.Summary) string { return AllKey }, nil
	case ByModel:
		return func(s *loop.Summary) string { return orNone(s.Model) }, nil
	case BySegment:
		return func(s *loop.Summary) string { return orNone(s.Segment) }, nil
	case ByTask:
		return func(s *loop.Summary) string { return orNone(s.Task) }, nil
	}
	return nil, fmt.Errorf("unknown --by %q (want model, segment or task)", by)
}

func orNone(s string) string {
	if s == "" {
		return NoneKey
	}
	return s
}

// grid accumulates one metric per (key, day) cell over a run of days.
type grid struct {
	sp    spec
	first int64 // day index of column 0
	ndays int
	keys  []string
	index map[string]int
	// Per cell (row*ndays + col): events seen, metric denominator and
	// numerator, and for latency the values.
	ev, den, num []int32
	lat          [][]float32
}

func newGrid(sp spec, first int64, ndays int) *grid {
	return &grid{sp: sp, first: first, ndays: ndays, index: map[string]int{}}
}

func (g *grid) row(key string) int {
	// Few keys (model versions, segments, tasks): a scan beats hashing.
	if len(g.keys) <= 16 {
		for r, k := range g.keys {
			if k == key {
				return r
			}
		}
	} else if r, ok := g.index[key]; ok {
		return r
	}
	r := len(g.keys)
	g.keys = append(g.keys, key)
	g.index[key] = r
	g.ev = append(g.ev, make([]int32, g.ndays)...)
	g.den = append(g.den, make([]int32, g.ndays)...)
	g.num = append(g.num, make([]int32, g.ndays)...)
	return r
}

// add runs once over d, bucketing each interaction in the window by day
// and key.
func (g *grid) add(d Data, key func(*loop.Summary) string) {
	fill(d, []*grid{g}, []func(*loop.Summary) string{key})
}

// fill runs once over d's items and once over its aggregate cells and
// feeds every grid, grids[i] keyed by keys[i]. A cell is keyed as a
// summary with the cell's model, segment and task would be, and adds its
// counts where an item adds one (pass_rate: nothing, see spec.count), and
// for latency the sketch's values. Latency values are placed in two passes
// (count, then fill one shared backing array) so that no cell grows by
// appending.
func fill(d Data, grids []*grid, keys []func(*loop.Summary) string) {
	items, grades := d.Items, d.Grades
	type restVals struct {
		cell int
		vals []float32
	}
	type state struct {
		last    int64
		lastKey string
		lastRow int
		cells   []int32    // latency grids: cell per item, -1 when none
		rest    []restVals // latency grids: the aggregates' values per cell
	}
	st := make([]state, len(grids))
	for j, g := range grids {
		st[j] = state{last: g.first + int64(g.ndays) - 1, lastRow: -1}
		if g.sp.kind == kLatency {
			st[j].cells = make([]int32, len(items))
		}
	}
	for i := range items {
		s := &items[i]
		d := dayIndex(s.Time)
		for j, g := range grids {
			t := &st[j]
			if d < g.first || d > t.last {
				if t.cells != nil {
					t.cells[i] = -1
				}
				continue
			}
			k := keys[j](s)
			if t.lastRow < 0 || k != t.lastKey {
				t.lastKey, t.lastRow = k, g.row(k)
			}
			c := t.lastRow*g.ndays + int(d-g.first)
			g.ev[c]++
			if t.cells != nil {
				if s.LatencyMS >= 0 {
					g.den[c]++
					t.cells[i] = int32(c)
				} else {
					t.cells[i] = -1
				}
				continue
			}
			if in, hit := g.sp.observe(s, grades); in {
				g.den[c]++
				if hit {
					g.num[c]++
				}
			}
		}
	}
	if d.Rest.Len() > 0 {
		var as loop.Summary // what the key functions read of a cell
		d.Rest.Each(func(k agg.Key, cell *agg.Cell) {
			as.Model, as.Segment, as.Task = k.Model, k.Segment, k.Task
			var vals []float32
			valsDone := false
			for j, g := range grids {
				t := &st[j]
				if k.Day < g.first || k.Day > t.last {
					continue
				}
				c := g.row(keys[j](&as))*g.ndays + int(k.Day-g.first)
				g.ev[c] += int32(cell.Events)
				if t.cells != nil {
					if !valsDone {
						vals, valsDone = cell.Latency.AppendValues(nil), true
					}
					g.den[c] += int32(len(vals))
					t.rest = append(t.rest, restVals{c, vals})
					continue
				}
				in, hit := g.sp.count(cell)
				g.den[c] += int32(in)
				g.num[c] += int32(hit)
			}
		})
	}
	for j, g := range grids {
		t := &st[j]
		if t.cells == nil {
			continue
		}
		total := 0
		for _, n := range g.den {
			total += int(n)
		}
		all := make([]float32, total)
		g.lat = make([][]float32, len(g.den))
		off := 0
		for c, n := range g.den {
			g.lat[c] = all[off : off : off+int(n)]
			off += int(n)
		}
		for i, c := range t.cells {
			if c >= 0 {
				g.lat[c] = append(g.lat[c], items[i].LatencyMS)
			}
		}
		for _, r := range t.rest {
			g.lat[r.cell] = append(g.lat[r.cell], r.vals...)
		}
	}
}

// value is the metric over the given columns of one row, and its N.
func (g *grid) value(row int, cols []int) (float64, int) {
	base := row * g.ndays
	if g.sp.kind == kLatency {
		var vals []float32
		if len(cols) == 1 {
			vals = g.lat[base+cols[0]] // reordered in place; harmless
		} else {
			for _, c := range cols {
				vals = append(vals, g.lat[base+c]...)
			}
		}
		if len(vals) == 0 {
			return math.NaN(), 0
		}
		return quantile(vals, g.sp.q), len(vals)
	}
	var num, den int
	for _, c := range cols {
		num += int(g.num[base+c])
		den += int(g.den[base+c])
	}
	if den == 0 {
		return math.NaN(), 0
	}
	return float64(num) / float64(den), den
}

// cols returns the column indices for day indices [from, to], clipped to
// the grid.
func (g *grid) cols(from, to int64) []int {
	var out []int
	for d := max(from, g.first); d <= min(to, g.first+int64(g.ndays)-1); d++ {
		out = append(out, int(d-g.first))
	}
	return out
}

// Compute is metric per UTC day over the days days ending with end's UTC
// day, with each series' value over its last GoalDays days (Series.Last:
// the one definition of "the last week" every front end shows), one series per key of by ("model", "segment", "task", or "" for one
// series keyed "all"). Every series has a point for every day of the window
// (N == 0 where there is no data); series with no data at all in the window
// are left out; series are ordered by key.
//
// pass_rate reads d.Grades: one grade per event id (see Grades for the
// majority rule loupe uses); events not in it are ungraded, and so are the
// interactions only in d.Rest. Every other metric counts d.Rest too (see
// Data).
//
// It makes one pass over d's items and one over its aggregate cells and
// allocates per (key, day) cell, not per item (save the latency values of
// the latency metrics).
func Compute(metric string, by string, days int, end time.Time, d Data) (Result, error) {
	sp, err := parse(metric)
	if err != nil {
		return Result{}, err
	}
	key, err := keyFunc(by)
	if err != nil {
		return Result{}, err
	}
	if days < 1 {
		return Result{}, fmt.Errorf("days: must be at least 1, got %d", days)
	}
	endDay := dayIndex(end)
	g := newGrid(sp, endDay-int64(days)+1, days)
	g.add(d, key)

	res := Result{Metric: metric, Series: []Series{}}
	order := make([]int, len(g.keys))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return g.keys[order[a]] < g.keys[order[b]] })
	col := make([]int, 1)
	for _, r := range order {
		s := Series{Key: g.keys[r], Points: make([]Point, days)}
		total := 0
		for c := 0; c < days; c++ {
			col[0] = c
			v, n := g.value(r, col)
			if n == 0 {
				v = 0
			}
			s.Points[c] = Point{Day: dayString(g.first + int64(c)), Value: v, N: n}
			total += n
		}
		s.Last, s.LastN = g.value(r, g.cols(endDay-GoalDays+1, endDay))
		if total > 0 {
			res.Series = append(res.Series, s)
		}
	}
	return res, nil
}

// Goal is a target for a metric: Op is one of "<", "<=", ">", ">=".
type Goal struct {
	Metric string  `json:"metric"`
	Op     string  `json:"op"`
	Target float64 `json:"target"`
}

// WindowValue is metric over all events of the days days ending with end's
// UTC day, taken as one sample (not an average of days: a latency
// percentile is the percentile of every latency in the window), and its N.
// With no data, or an unknown metric, it is NaN and 0.
func WindowValue(metric string, d Data, days int, end time.Time) (float64, int) {
	sp, err := parse(metric)
	if err != nil || days < 1 {
		return math.NaN(), 0
	}
	endDay := dayIndex(end)
	gr := newGrid(sp, endDay-int64(days)+1, days)
	gr.add(d, func(*loop.Summary) string { return AllKey })
	if len(gr.keys) == 0 {
		return math.NaN(), 0
	}
	return gr.value(0, gr.cols(gr.first, endDay))
}

// GoalStatus is the goal metric over the days days ending with end's UTC
// day (WindowValue), and whether it meets the goal. With no data or an
// unknown metric, now is NaN and met is false; an unknown Op is never met.
func GoalStatus(g Goal, d Data, days int, end time.Time) (now float64, met bool) {
	now, n := WindowValue(g.Metric, d, days, end)
	if n == 0 {
		return math.NaN(), false
	}
	return now, g.Met(now)
}

// Met reports whether v meets the goal; an unknown Op and NaN never do.
func (g Goal) Met(v float64) bool {
	switch g.Op {
	case "<":
		return v < g.Target
	case "<=":
		return v <= g.Target
	case ">":
		return v > g.Target
	case ">=":
		return v >= g.Target
	}
	return false
}
