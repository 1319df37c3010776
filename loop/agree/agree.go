// Package agree measures how far reviewers agree with each other and with
// themselves: Cohen's kappa for every pair of reviewers, Krippendorff's alpha
// (nominal, missing data allowed) over all of them, the same per reason code,
// the items they disagree on, blind re-grade consistency and labeling speed.
//
// It is pure computation on labels; it does no I/O.
//
// Conventions shared by every function here:
//
//   - An empty value ("") is missing data: it is never paired.
//   - With nothing to compare (no paired ratings, no pairable unit) a
//     coefficient is NaN. Report's JSON form writes such a value as null.
//   - When every rating falls in one and the same category, chance agreement
//     is total and the textbook formulas divide 0 by 0. Raters that agree on
//     every item have agreed perfectly, so the result is defined as 1.
package agree

import (
	"encoding/json"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// Rating is one rater's value for one item: a grade, or "1"/"0" for the
// presence or absence of a reason code.
type Rating struct {
	Item, Rater, Value string
	At                 time.Time
}

// Units turns ratings into the unit -> rater -> value form KrippendorffAlpha
// reads. When a rater rated an item more than once the latest rating wins
// (the later one in the slice on equal times). Empty values are dropped.
func Units(ratings []Rating) map[string]map[string]string {
	type key struct{ item, rater string }
	latest := make(map[key]Rating, len(ratings))
	for _, r := range ratings {
		k := key{r.Item, r.Rater}
		if old, ok := latest[k]; ok && r.At.Before(old.At) {
			continue
		}
		latest[k] = r
	}
	units := make(map[string]map[string]string)
	for k, r := range latest {
		if r.Value == "" {
			continue
		}
		u := units[k.item]
		if u == nil {
			u = make(map[string]string)
			units[k.item] = u
		}
		u[k.rater] = r.Value
	}
	return units
}

// CohenKappa is Cohen's (1960) kappa for two raters who rated the same items:
// a[i] and b[i] are their nominal ratings of item i. Positions where either
// value is empty, or beyond the shorter slice, are skipped; n is the number
// of pairs used.
//
//	kappa = (po - pe) / (1 - pe)
//
// po is the share of pairs that agree and pe the agreement expected from
// each rater's own category frequencies. n == 0 gives NaN. When pe == 1
// (both raters used one and the same category throughout, so they agree on
// every item) kappa is 1.
func CohenKappa(a, b []string) (kappa float64, n int) {
	po, pe, n := agreement(a, b)
	if n == 0 {
		return math.NaN(), 0
	}
	if pe >= 1 {
		return 1, n
	}
	return (po - pe) / (1 - pe), n
}

// agreement is the observed and chance agreement of two raters, over the
// n positions both rated.
func agreement(a, b []string) (po, pe float64, n int) {
	m := min(len(a), len(b))
	ca := make(map[string]int)
	cb := make(map[string]int)
	agree := 0
	for i := 0; i < m; i++ {
		if a[i] == "" || b[i] == "" {
			continue
		}
		n++
		ca[a[i]]++
		cb[b[i]]++
		if a[i] == b[i] {
			agree++
		}
	}
	if n == 0 {
		return 0, 0, 0
	}
	nn := float64(n)
	po = float64(agree) / nn
	// Sum in sorted key order so the result does not depend on map order
	// down to the last bit.
	keys := make([]string, 0, len(ca))
	for k := range ca {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		pe += float64(ca[k]) * float64(cb[k])
	}
	pe /= nn * nn
	return po, pe, n
}

// KrippendorffAlpha is Krippendorff's alpha for nominal data, as computed in
// Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability": units
// maps a unit (item) to the values its raters gave it; a rater missing from
// a unit, or an empty value, is missing data. Units with fewer than two
// values are not pairable and are left out.
//
//	alpha = 1 - (n-1) * sum_{c != k} o_ck / (n^2 - sum_c n_c^2)
//
// where o_ck is the coincidence matrix, n_c its marginals and n (returned as
// pairable) the number of pairable values. pairable == 0 gives NaN. When all
// pairable values are one category (no expected disagreement) alpha is 1.
func KrippendorffAlpha(units map[string]map[string]string) (alpha float64, pairable int) {
	// Unit order and rater order do not change the sums, but iterate units in
	// sorted order so float rounding is the same from run to run.
	ids := make([]string, 0, len(units))
	for id := range units {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var (
		nc       = make(map[string]float64) // marginals n_c
		disagree float64                    // sum over c != k of o_ck
		counts   = make(map[string]int)
	)
	for _, id := range ids {
		clear(counts)
		mu := 0
		for _, v := range units[id] {
			if v == "" {
				continue
			}
			counts[v]++
			mu++
		}
		if mu < 2 {
			continue
		}
		pairable += mu
		// Within a unit, o_ck gains n_uc * n_uk / (m_u - 1) for c != k and
		// n_uc * (n_uc - 1) / (m_u - 1) for c == k; the marginal gains n_uc.
		// The off-diagonal total is (m_u^2 - sum_c n_uc^2) / (m_u - 1).
		sq := 0
		for v, c := range counts {
			nc[v] += float64(c)
			sq += c * c
		}
		disagree += float64(mu*mu-sq) / float64(mu-1)
	}
	if pairable == 0 {
		return math.NaN(), 0
	}
	n := float64(pairable)
	vals := make([]string, 0, len(nc))
	for v := range nc {
		vals = append(vals, v)
	}
	sort.Strings(vals)
	expected := n * n
	for _, v := range vals {
		expected -= nc[v] * nc[v]
	}
	if expected <= 0 {
		return 1, pairable
	}
	return 1 - (n-1)*disagree/expected, pairable
}

// Pair is Cohen's kappa of two reviewers over the N items both rated,
// with its 95% interval. TooFew says N is under MinPairItems: the interval
// is then too wide to act on, so front ends show it with a "too few items"
// mark instead of advice to recalibrate.
type Pair struct {
	A      string  `json:"a"`
	B      string  `json:"b"`
	N      int     `json:"n"`
	Kappa  float64 `json:"kappa"`
	Low    float64 `json:"kappa_low"`
	High   float64 `json:"kappa_high"`
	TooFew bool    `json:"too_few"`
}

// MinPairItems is how many shared items a pair of reviewers needs before
// their kappa is worth acting on.
const MinPairItems = 20

// KappaInterval is the 95% confidence interval of Cohen's kappa for two
// raters' ratings a and b (as CohenKappa reads them), from the large-sample
// standard error of Cohen (1960):
//
//	se = sqrt(po (1 - po) / (n (1 - pe)^2))
//
// clamped to [-1, 1]. With no pairs both ends are NaN; when pe == 1 (kappa
// defined as 1) the interval is [1, 1].
func KappaInterval(a, b []string) (low, high float64) {
	po, pe, n := agreement(a, b)
	if n == 0 {
		return math.NaN(), math.NaN()
	}
	if pe >= 1 {
		return 1, 1
	}
	k := (po - pe) / (1 - pe)
	se := math.Sqrt(po*(1-po)/float64(n)) / (1 - pe)
	return max(k-1.96*se, -1), min(k+1.96*se, 1)
}

// ReasonAgreement is agreement on one reason code: whether each reviewer
// of an item marked it ("1") or not ("0").
type ReasonAgreement struct {
	Alpha float64 `json:"alpha"`
	Pairs []Pair  `json:"pairs"`
}

// Disagreement is an item whose current grades differ between reviewers.
type Disagreement struct {
	Item    string                `json:"item"`
	Ratings map[string]loop.Grade `json:"ratings"` // reviewer -> grade
}

// Report is the agreement among reviewers on their current labels.
type Report struct {
	// Pairs holds Cohen's kappa on grades for every two reviewers who
	// graded at least one item in common, ordered by A then B (A < B).
	Pairs []Pair `json:"pairs"`
	// Alpha is Krippendorff's alpha on grades over all reviewers; Units the
	// number of items graded by two or more reviewers, Pairable the number
	// of grades on those items.
	Alpha    float64 `json:"alpha"`
	Units    int     `json:"units"`
	Pairable int     `json:"pairable"`
	// ByReason holds, per reason code used in any current label, alpha and
	// pairwise kappa on the code's presence among the reviewers of an item.
	ByReason map[string]ReasonAgreement `json:"by_reason"`
	// Disagreements lists items whose reviewers gave different grades,
	// ordered by item.
	Disagreements []Disagreement `json:"disagreements"`
}

// jsonFloat writes NaN and infinities as null, since JSON cannot hold them.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(v)
}

// MarshalJSON writes an undefined alpha (NaN: nothing pairable) as null.
func (r Report) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Pairs         []Pair                     `json:"pairs"`
		Alpha         jsonFloat                  `json:"alpha"`
		Units         int                        `json:"units"`
		Pairable      int                        `json:"pairable"`
		ByReason      map[string]ReasonAgreement `json:"by_reason"`
		Disagreements []Disagreement             `json:"disagreements"`
	}{r.Pairs, jsonFloat(r.Alpha), r.Units, r.Pairable, r.ByReason, r.Disagreements})
}

// MarshalJSON writes an undefined alpha (NaN) as null.
func (r ReasonAgreement) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Alpha jsonFloat `json:"alpha"`
		Pairs []Pair    `json:"pairs"`
	}{jsonFloat(r.Alpha), r.Pairs})
}

// Current reduces label history to each reviewer's current label per item:
// the latest by At (the later one in the slice on equal times). A latest
// label that is Deleted (an undo) withdraws the reviewer's label. The result
// is ordered by event id, then reviewer.
func Current(labels []loop.Label) []loop.Label {
	type key struct{ item, rater string }
	latest := make(map[key]int, len(labels))
	for i, l := range labels {
		k := key{l.EventID, l.Reviewer}
		if j, ok := latest[k]; ok && l.At.Before(labels[j].At) {
			continue
		}
		latest[k] = i
	}
	out := make([]loop.Label, 0, len(latest))
	for _, i := range latest {
		if !labels[i].Deleted && labels[i].Grade != loop.GradeNone {
			out = append(out, labels[i])
		}
	}
	slices.SortFunc(out, func(a, b loop.Label) int {
		if c := strings.Compare(a.EventID, b.EventID); c != 0 {
			return c
		}
		return strings.Compare(a.Reviewer, b.Reviewer)
	})
	return out
}

// Compute builds the agreement report from labels. It expects each
// reviewer's current label per item; given history, it reduces it first
// (see Current). Output order is deterministic.
func Compute(labels []loop.Label) Report {
	cur := Current(labels)

	// Group by item (cur is sorted by item, then reviewer).
	type item struct {
		id     string
		labels []loop.Label
	}
	var items []item
	for i := 0; i < len(cur); {
		j := i
		for j < len(cur) && cur[j].EventID == cur[i].EventID {
			j++
		}
		items = append(items, item{cur[i].EventID, cur[i:j]})
		i = j
	}

	reviewerSet := map[string]bool{}
	reasonSet := map[string]bool{}
	for _, l := range cur {
		reviewerSet[l.Reviewer] = true
		for _, r := range l.Reasons {
			if r != "" {
				reasonSet[r] = true
			}
		}
	}
	reviewers := sortedKeys(reviewerSet)
	reasons := sortedKeys(reasonSet)

	rep := Report{ByReason: make(map[string]ReasonAgreement, len(reasons))}

	// Grades.
	grades := make(map[string]map[string]string)
	for _, it := range items {
		if len(it.labels) < 2 {
			continue
		}
		u := make(map[string]string, len(it.labels))
		differ := false
		for _, l := range it.labels {
			u[l.Reviewer] = string(l.Grade)
			if l.Grade != it.labels[0].Grade {
				differ = true
			}
		}
		grades[it.id] = u
		if differ {
			d := Disagreement{Item: it.id, Ratings: make(map[string]loop.Grade, len(it.labels))}
			for _, l := range it.labels {
				d.Ratings[l.Reviewer] = l.Grade
			}
			rep.Disagreements = append(rep.Disagreements, d)
		}
	}
	rep.Alpha, rep.Pairable = KrippendorffAlpha(grades)
	rep.Units = len(grades)
	rep.Pairs = pairs(reviewers, grades)

	// Reason codes: presence ("1") or absence ("0") among an item's raters.
	for _, code := range reasons {
		units := make(map[string]map[string]string, len(grades))
		for _, it := range items {
			if len(it.labels) < 2 {
				continue
			}
			u := make(map[string]string, len(it.labels))
			for _, l := range it.labels {
				v := "0"
				if slices.Contains(l.Reasons, code) {
					v = "1"
				}
				u[l.Reviewer] = v
			}
			units[it.id] = u
		}
		a, _ := KrippendorffAlpha(units)
		rep.ByReason[code] = ReasonAgreement{Alpha: a, Pairs: pairs(reviewers, units)}
	}
	if rep.Pairs == nil {
		rep.Pairs = []Pair{}
	}
	if rep.Disagreements == nil {
		rep.Disagreements = []Disagreement{}
	}
	return rep
}

// pairs computes Cohen's kappa for every two reviewers with items in common.
func pairs(reviewers []string, units map[string]map[string]string) []Pair {
	ids := make([]string, 0, len(units))
	for id := range units {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []Pair
	for i, a := range reviewers {
		for _, b := range reviewers[i+1:] {
			var va, vb []string
			for _, id := range ids {
				u := units[id]
				x, y := u[a], u[b]
				if x != "" && y != "" {
					va = append(va, x)
					vb = append(vb, y)
				}
			}
			if len(va) == 0 {
				continue
			}
			k, n := CohenKappa(va, vb)
			lo, hi := KappaInterval(va, vb)
			out = append(out, Pair{A: a, B: b, N: n, Kappa: k, Low: lo, High: hi, TooFew: n < MinPairItems})
		}
	}
	if out == nil {
		out = []Pair{}
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
