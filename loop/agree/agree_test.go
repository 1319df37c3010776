package agree

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

func near(got, want, tol float64) bool {
	if math.IsNaN(want) {
		return math.IsNaN(got)
	}
	return math.Abs(got-want) <= tol
}

// table expands a contingency table of two raters into paired ratings:
// cells[i][j] items rated cats[i] by A and cats[j] by B.
func table(cats []string, cells [][]int) (a, b []string) {
	for i, row := range cells {
		for j, n := range row {
			for range n {
				a = append(a, cats[i])
				b = append(b, cats[j])
			}
		}
	}
	return a, b
}

// runs builds a rating slice from (value, count) runs, as sklearn's tests
// write np.array([0]*40 + [1]*60).
func runs(parts ...any) []string {
	var out []string
	for i := 0; i < len(parts); i += 2 {
		for range parts[i+1].(int) {
			out = append(out, parts[i].(string))
		}
	}
	return out
}

func TestCohenKappaPublished(t *testing.T) {
	yn := []string{"yes", "no"}
	cases := []struct {
		name    string
		a, b    []string
		want    float64
		tol     float64
		wantN   int
		comment string
	}{
		{
			name: "wikipedia 50 proposals",
			// Wikipedia, "Cohen's kappa", simple example: A and B both yes
			// 20, A yes B no 5, A no B yes 10, both no 15. po = 0.7,
			// pe = 0.5, kappa = 0.4.
			a: nil, b: nil, want: 0.4, tol: 1e-12, wantN: 50,
		},
		{
			// Wikipedia, "Same percentages but different numbers", first
			// table: 45/15/25/15 -> 0.1304.
			name: "wikipedia 45/15/25/15", want: 0.1304, tol: 5e-5, wantN: 100,
		},
		{
			// Same section, second table: 25/35/5/35 -> 0.2593.
			name: "wikipedia 25/35/5/35", want: 0.2593, tol: 5e-5, wantN: 100,
		},
		{
			// scikit-learn test_cohen_kappa: y1 = [0]*40 + [1]*60,
			// y2 = [0]*20 + [1]*20 + [0]*10 + [1]*50 -> 0.348 (3 decimals).
			name: "sklearn binary",
			a:    runs("0", 40, "1", 60),
			b:    runs("0", 20, "1", 20, "0", 10, "1", 50),
			want: 0.348, tol: 5e-4, wantN: 100,
		},
		{
			// scikit-learn test_cohen_kappa: y1 = [0]*46 + [1]*44 + [2]*10,
			// y2 = [0]*52 + [1]*32 + [2]*16 -> 0.8013 (4 decimals).
			name: "sklearn three classes",
			a:    runs("0", 46, "1", 44, "2", 10),
			b:    runs("0", 52, "1", 32, "2", 16),
			want: 0.8013, tol: 5e-5, wantN: 100,
		},
		{
			// scikit-learn test_cohen_kappa: y1 = [0]*46 + [1]*44 + [2]*10,
			// y2 = [0]*50 + [1]*40 + [2]*10 -> 0.9315 (4 decimals).
			name: "sklearn three classes 2",
			a:    runs("0", 46, "1", 44, "2", 10),
			b:    runs("0", 50, "1", 40, "2", 10),
			want: 0.9315, tol: 5e-5, wantN: 100,
		},
	}
	cases[0].a, cases[0].b = table(yn, [][]int{{20, 5}, {10, 15}})
	cases[1].a, cases[1].b = table(yn, [][]int{{45, 15}, {25, 15}})
	cases[2].a, cases[2].b = table(yn, [][]int{{25, 35}, {5, 35}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, n := CohenKappa(c.a, c.b)
			if n != c.wantN || !near(k, c.want, c.tol) {
				t.Fatalf("CohenKappa = %.6f, n=%d; want %.4f, n=%d", k, n, c.want, c.wantN)
			}
			// Kappa is symmetric.
			k2, _ := CohenKappa(c.b, c.a)
			if !near(k2, k, 1e-12) {
				t.Fatalf("not symmetric: %v vs %v", k, k2)
			}
		})
	}
}

// The interval of the Wikipedia example (po 0.7, pe 0.5, kappa 0.4, n 50):
// se = sqrt(0.7 * 0.3 / 50) / 0.5 = 0.12961, so 0.4 ± 0.25403.
func TestKappaInterval(t *testing.T) {
	a, b := table([]string{"yes", "no"}, [][]int{{20, 5}, {10, 15}})
	lo, hi := KappaInterval(a, b)
	if !near(lo, 0.14597, 1e-4) || !near(hi, 0.65403, 1e-4) {
		t.Errorf("interval [%v, %v], want [0.146, 0.654]", lo, hi)
	}
	if lo, hi := KappaInterval([]string{"x", "x"}, []string{"x", "x"}); lo != 1 || hi != 1 {
		t.Errorf("one category: [%v, %v]", lo, hi)
	}
	if lo, _ := KappaInterval(nil, nil); !math.IsNaN(lo) {
		t.Errorf("no pairs: %v", lo)
	}
	// Enough shared items: no mark.
	var ls []loop.Label
	for i := range MinPairItems {
		g := loop.GradePass
		if i%3 == 0 {
			g = loop.GradeFail
		}
		ls = append(ls, lab(fmt.Sprint("e", i), "ann", g, 0), lab(fmt.Sprint("e", i), "bob", g, 1))
	}
	if p := Compute(ls).Pairs[0]; p.N != MinPairItems || p.TooFew || p.Kappa != 1 {
		t.Errorf("pair %+v", p)
	}
}

func TestCohenKappaEdges(t *testing.T) {
	cases := []struct {
		name  string
		a, b  []string
		want  float64
		wantN int
	}{
		{"perfect", []string{"pass", "fail", "borderline", "pass"}, []string{"pass", "fail", "borderline", "pass"}, 1, 4},
		{"single category, all agree", []string{"pass", "pass", "pass"}, []string{"pass", "pass", "pass"}, 1, 3},
		{"complete disagreement", []string{"pass", "fail"}, []string{"fail", "pass"}, -1, 2},
		// One rater constant, the other not: pe = po, kappa 0.
		{"one rater constant", []string{"pass", "pass", "pass", "pass"}, []string{"pass", "fail", "pass", "fail"}, 0, 4},
		{"no overlap: empty", nil, nil, math.NaN(), 0},
		{"no overlap: missing values", []string{"pass", "", "fail"}, []string{"", "fail", ""}, math.NaN(), 0},
		{"missing values skipped", []string{"pass", "", "fail", "fail"}, []string{"pass", "pass", "fail", ""}, 1, 2},
		{"unequal lengths use the shorter", []string{"pass", "fail", "fail"}, []string{"pass", "fail"}, 1, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k, n := CohenKappa(c.a, c.b)
			if n != c.wantN || !near(k, c.want, 1e-12) {
				t.Fatalf("CohenKappa = %v, n=%d; want %v, n=%d", k, n, c.want, c.wantN)
			}
		})
	}
}

// matrix turns reliability data laid out as in the papers (one row per
// coder, one column per unit, "" or "." for missing) into units.
func matrix(rows ...string) map[string]map[string]string {
	units := map[string]map[string]string{}
	for ci, row := range rows {
		for ui, v := range strings.Fields(row) {
			if v == "." {
				continue
			}
			id := string(rune('A' + ui))
			if units[id] == nil {
				units[id] = map[string]string{}
			}
			units[id][string(rune('a'+ci))] = v
		}
	}
	return units
}

func TestKrippendorffAlphaPublished(t *testing.T) {
	cases := []struct {
		name     string
		units    map[string]map[string]string
		want     float64
		tol      float64
		pairable int
	}{
		{
			// Krippendorff (2011), "Computing Krippendorff's Alpha-
			// Reliability", C: nominal data, any number of observers, missing
			// data. 4 observers, 12 units; unit 12 has a single value and is
			// not pairable. alpha = 0.743 (n = 40 pairable values).
			name: "krippendorff 2011 4 observers 12 units",
			units: matrix(
				"1 2 3 3 2 1 4 1 2 . . .",
				"1 2 3 3 2 2 4 1 2 5 . 3",
				". 3 3 3 2 3 4 2 2 5 1 .",
				"1 2 3 3 2 4 4 1 2 5 1 .",
			),
			want: 0.743, tol: 5e-4, pairable: 40,
		},
		{
			// Krippendorff (2011), A: binary data, two observers, no missing
			// data. 10 units; alpha = 1 - 19*4/(14*6) = 0.095.
			name: "krippendorff 2011 binary 2 observers",
			units: matrix(
				"0 1 0 0 0 0 0 0 1 0",
				"1 1 1 0 0 1 0 0 0 0",
			),
			want: 0.095, tol: 5e-4, pairable: 20,
		},
		{
			// Krippendorff (2011), B: nominal data, two observers, no
			// missing data. 12 units, values a-e; alpha = 0.692.
			name: "krippendorff 2011 nominal 2 observers",
			units: matrix(
				"a a b b d c c c e d d a",
				"b a b b b c c c e d d d",
			),
			want: 0.692, tol: 5e-4, pairable: 24,
		},
		{
			// Wikipedia, "Krippendorff's alpha", computational example: 3
			// coders, 15 units, missing data; nominal alpha = 0.691
			// (0.691358 in the fast-krippendorff test suite).
			name: "wikipedia 3 coders 15 units",
			units: matrix(
				". . . . . 3 4 1 2 1 1 3 3 . 3",
				"1 . 2 1 3 3 4 3 . . . . . . .",
				". . 2 1 3 4 4 . 2 1 1 3 3 . 4",
			),
			want: 0.691358, tol: 5e-7, pairable: 26,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, n := KrippendorffAlpha(c.units)
			if n != c.pairable || !near(a, c.want, c.tol) {
				t.Fatalf("alpha = %.6f, pairable=%d; want %.4f, %d", a, n, c.want, c.pairable)
			}
		})
	}
}

func TestKrippendorffAlphaEdges(t *testing.T) {
	cases := []struct {
		name     string
		units    map[string]map[string]string
		want     float64
		pairable int
	}{
		{"perfect", matrix("1 2 3 4", "1 2 3 4", "1 2 3 4"), 1, 12},
		{"single category", matrix("pass pass pass", "pass pass pass"), 1, 6},
		{"no units", nil, math.NaN(), 0},
		{"no overlap", matrix("1 . 2 .", ". 2 . 1"), math.NaN(), 0},
		{"empty values are missing", map[string]map[string]string{"u": {"a": "", "b": "x"}}, math.NaN(), 0},
		// Two coders, Wikipedia 20/5/10/15 table: alpha works out to 0.4 too
		// (1 - 99*30/(100^2 - 55^2 - 45^2)).
		{"wikipedia kappa table as alpha", func() map[string]map[string]string {
			a, b := table([]string{"yes", "no"}, [][]int{{20, 5}, {10, 15}})
			u := map[string]map[string]string{}
			for i := range a {
				u[string(rune(0x100+i))] = map[string]string{"A": a[i], "B": b[i]}
			}
			return u
		}(), 0.4, 100},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, n := KrippendorffAlpha(c.units)
			if n != c.pairable || !near(a, c.want, 1e-12) {
				t.Fatalf("alpha = %v, pairable=%d; want %v, %d", a, n, c.want, c.pairable)
			}
		})
	}
}

func TestUnits(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	u := Units([]Rating{
		{Item: "e1", Rater: "ann", Value: "fail", At: t0.Add(time.Hour)},
		{Item: "e1", Rater: "ann", Value: "pass", At: t0}, // older, loses
		{Item: "e1", Rater: "bob", Value: "pass", At: t0},
		{Item: "e2", Rater: "bob", Value: "", At: t0},
	})
	want := map[string]map[string]string{"e1": {"ann": "fail", "bob": "pass"}}
	if !reflect.DeepEqual(u, want) {
		t.Fatalf("Units = %v, want %v", u, want)
	}
}

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

func lab(item, rater string, g loop.Grade, min int, reasons ...string) loop.Label {
	return loop.Label{EventID: item, Reviewer: rater, Grade: g, Reasons: reasons, At: t0.Add(time.Duration(min) * time.Minute)}
}

func TestCompute(t *testing.T) {
	const P, F, B = loop.GradePass, loop.GradeFail, loop.GradeBorderline
	labels := []loop.Label{
		lab("e1", "ann", P, 0),
		lab("e1", "bob", P, 1),
		lab("e1", "cat", P, 2),
		lab("e2", "ann", F, 0, "factual_error"),
		lab("e2", "bob", F, 1, "factual_error", "tone"),
		lab("e2", "cat", B, 2, "tone"),
		lab("e3", "ann", F, 0, "factual_error"),
		lab("e3", "bob", P, 1),
		lab("e4", "ann", P, 0), // single rater: not pairable
		// History: cat first failed e5, then changed her mind.
		lab("e5", "cat", F, 0),
		lab("e5", "cat", P, 3),
		lab("e5", "bob", P, 1),
		// dan graded e6 then undid it: no current label.
		lab("e6", "dan", F, 0),
		{EventID: "e6", Reviewer: "dan", Deleted: true, At: t0.Add(time.Minute)},
		lab("e6", "ann", P, 0),
	}
	rep := Compute(labels)

	// Grades on multi-rater items:
	// e1 ann P bob P cat P; e2 ann F bob F cat B; e3 ann F bob P; e5 bob P cat P.
	wantPairs := []Pair{
		{A: "ann", B: "bob", N: 3},
		{A: "ann", B: "cat", N: 2},
		{A: "bob", B: "cat", N: 3},
	}
	if len(rep.Pairs) != len(wantPairs) {
		t.Fatalf("pairs = %+v", rep.Pairs)
	}
	for i, p := range rep.Pairs {
		if p.A != wantPairs[i].A || p.B != wantPairs[i].B || p.N != wantPairs[i].N {
			t.Fatalf("pair %d = %+v, want %+v", i, p, wantPairs[i])
		}
	}
	// ann/bob: (P,P) (F,F) (F,P): po = 2/3; ann P1 F2, bob P2 F1:
	// pe = (1*2 + 2*1)/9 = 4/9; kappa = (6/9 - 4/9) / (5/9) = 0.4.
	if !near(rep.Pairs[0].Kappa, 0.4, 1e-12) {
		t.Errorf("ann/bob kappa = %v, want 0.4", rep.Pairs[0].Kappa)
	}
	// Three shared items are far too few: marked, with a wide interval
	// (se = sqrt(2/3 * 1/3 / 3) / (5/9) = 0.4899; 0.4 ± 0.96, clamped).
	if p := rep.Pairs[0]; !p.TooFew || !near(p.Low, -0.5602, 1e-3) || p.High != 1 {
		t.Errorf("ann/bob interval %+v", p)
	}
	// ann/cat: (P,P) (F,B): po = 1/2, pe = (1*1)/4 = 1/4, kappa = 1/3.
	if !near(rep.Pairs[1].Kappa, 1.0/3, 1e-12) {
		t.Errorf("ann/cat kappa = %v, want 1/3", rep.Pairs[1].Kappa)
	}
	// Alpha by hand: units e1 (P,P,P), e2 (F,F,B), e3 (F,P), e5 (P,P).
	// n = 10; n_P = 6, n_F = 3, n_B = 1. Off-diagonal coincidences:
	// e2 (9-5)/2 = 2, e3 (4-2)/1 = 2 -> 4.
	// alpha = 1 - 9*4 / (100 - 36 - 9 - 1) = 1 - 36/54 = 1/3.
	if rep.Units != 4 || rep.Pairable != 10 || !near(rep.Alpha, 1.0/3, 1e-12) {
		t.Errorf("alpha = %v units=%d pairable=%d, want 1/3, 4, 10", rep.Alpha, rep.Units, rep.Pairable)
	}
	// Disagreements: e2 and e3, sorted.
	if len(rep.Disagreements) != 2 || rep.Disagreements[0].Item != "e2" || rep.Disagreements[1].Item != "e3" {
		t.Fatalf("disagreements = %+v", rep.Disagreements)
	}
	if want := map[string]loop.Grade{"ann": F, "bob": F, "cat": B}; !reflect.DeepEqual(rep.Disagreements[0].Ratings, want) {
		t.Errorf("e2 ratings = %v, want %v", rep.Disagreements[0].Ratings, want)
	}
	// Reasons: factual_error among raters of e1,e2,e3,e5:
	// e1 (0,0,0) e2 (1,1,0) e3 (1,0) e5 (0,0). n = 10, n_1 = 3, n_0 = 7.
	// Off-diagonal: e2 (9-5)/2 = 2, e3 2 -> 4. alpha = 1 - 9*4/(100-9-49) = 1 - 36/42.
	fe, ok := rep.ByReason["factual_error"]
	if !ok || !near(fe.Alpha, 1-36.0/42, 1e-12) {
		t.Errorf("factual_error alpha = %+v, want %v", fe, 1-36.0/42)
	}
	// tone: e2 (0,1,1), everything else 0: n_1 = 2, n_0 = 8; off-diagonal
	// e2 2. alpha = 1 - 9*2/(100-4-64) = 1 - 18/32.
	if tone := rep.ByReason["tone"]; !near(tone.Alpha, 1-18.0/32, 1e-12) || len(tone.Pairs) != 3 {
		t.Errorf("tone = %+v, want alpha %v and 3 pairs", tone, 1-18.0/32)
	}
	if len(rep.ByReason) != 2 {
		t.Errorf("ByReason keys = %v", rep.ByReason)
	}

	// Deterministic: same input in another order, same report.
	rev := make([]loop.Label, len(labels))
	for i := range labels {
		rev[len(labels)-1-i] = labels[i]
	}
	if a, b := mustJSON(t, rep), mustJSON(t, Compute(rev)); a != b {
		t.Errorf("order-dependent:\n%s\n%s", a, b)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestReportJSON(t *testing.T) {
	// Nothing pairable: alpha is NaN in Go and null in JSON; lists are [].
	rep := Compute([]loop.Label{lab("e1", "ann", loop.GradePass, 0)})
	if !math.IsNaN(rep.Alpha) {
		t.Fatalf("alpha = %v, want NaN", rep.Alpha)
	}
	got := mustJSON(t, rep)
	want := `{"pairs":[],"alpha":null,"units":0,"pairable":0,"by_reason":{},"disagreements":[]}`
	if got != want {
		t.Fatalf("json = %s\nwant   %s", got, want)
	}

	rep = Compute([]loop.Label{
		lab("e1", "ann", loop.GradePass, 0),
		lab("e1", "bob", loop.GradeFail, 0, "tone"),
	})
	got = mustJSON(t, rep)
	var back map[string]any
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"pairs", "alpha", "disagreements"} {
		if _, ok := back[k]; !ok {
			t.Errorf("json lacks %q: %s", k, got)
		}
	}
	p := back["pairs"].([]any)[0].(map[string]any)
	for _, k := range []string{"a", "b", "n", "kappa"} {
		if _, ok := p[k]; !ok {
			t.Errorf("pair lacks %q: %s", k, got)
		}
	}
}

func TestSelfConsistency(t *testing.T) {
	const P, F = loop.GradePass, loop.GradeFail
	day := 24 * 60
	h := []loop.Label{
		// ann: g1 pass, re-shown a day later: pass. g2 fail then pass.
		lab("g1", "ann", P, 0),
		lab("g1", "ann", P, day),
		lab("g2", "ann", F, 5),
		lab("g2", "ann", P, day+5),
		// g3: a correction within the same sitting is not a re-grade;
		// the sitting's verdict is its last grade (pass), re-grade pass.
		lab("g3", "ann", F, 10),
		lab("g3", "ann", P, 11),
		lab("g3", "ann", P, day+10),
		// g4: re-shown twice: pairs (fail, fail) and (fail, pass).
		lab("g4", "ann", F, 20),
		lab("g4", "ann", F, day+20),
		lab("g4", "ann", P, 2*day+20),
		// bob: one item, re-grade undone: no pair, bob left out.
		lab("g1", "bob", P, 0),
		lab("g1", "bob", F, day),
		{EventID: "g1", Reviewer: "bob", Deleted: true, At: t0.Add(time.Duration(day+1) * time.Minute)},
		// cat graded once only.
		lab("g1", "cat", P, 0),
	}
	got := SelfConsistency(h)
	if len(got) != 1 {
		t.Fatalf("reviewers = %v, want only ann", got)
	}
	s := got["ann"]
	// Pairs (first, later): g1 (P,P) g2 (F,P) g3 (P,P) g4 (F,F) g4 (F,P).
	// Agreement 3/5. firsts P,F,P,F,F (P2 F3), laters P,P,P,F,P (P4 F1):
	// pe = (2*4 + 3*1)/25 = 11/25, po = 15/25; kappa = (4/25)/(14/25) = 2/7.
	if s.N != 5 || !near(s.Agreement, 0.6, 1e-12) || !near(s.Kappa, 2.0/7, 1e-12) {
		t.Fatalf("ann = %+v, want N=5 agreement 0.6 kappa 2/7", s)
	}
}

func TestThroughput(t *testing.T) {
	sec := func(item string, s int) loop.Label {
		return loop.Label{EventID: item, Reviewer: "ann", Grade: loop.GradePass, At: t0.Add(time.Duration(s) * time.Second)}
	}
	h := []loop.Label{
		sec("e1", 0),
		sec("e2", 10),
		sec("e3", 30),
		// 20-minute pause: new session, the gap is not counted.
		sec("e4", 30+1200),
		sec("e4", 30+1200+5), // re-grade of e4: a decision, not a new item
		// An undo is not a decision.
		{EventID: "e4", Reviewer: "ann", Deleted: true, At: t0.Add(1300 * time.Second)},
		{EventID: "e9", Reviewer: "bob", Grade: loop.GradeFail, At: t0},
	}
	got := Throughput(h)
	a := got["ann"]
	// Gaps 10, 20, 5 s: median 10, active 35 s, 3 timed decisions ->
	// 3 / (35/60) = 5.142857 per minute.
	if a.Items != 4 || a.Decisions != 5 || !near(a.MedianSeconds, 10, 1e-12) || !near(a.PerMinute, 3/(35.0/60), 1e-9) {
		t.Fatalf("ann = %+v", a)
	}
	if b := got["bob"]; b.Items != 1 || b.Decisions != 1 || b.PerMinute != 0 || b.MedianSeconds != 0 {
		t.Fatalf("bob = %+v", b)
	}
	// Even number of gaps: median is the mean of the middle two.
	h2 := []loop.Label{sec("a", 0), sec("b", 4), sec("c", 10), sec("d", 20), sec("e", 40)}
	if m := Throughput(h2)["ann"].MedianSeconds; m != 8 {
		t.Fatalf("median = %v, want 8 (gaps 4 6 10 20)", m)
	}
}
