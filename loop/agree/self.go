package agree

import (
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// RegradeGap is how long after a reviewer first graded an item a new grade
// of the same item must come to count as a blind re-grade. Grades closer
// together than that belong to one sitting: the reviewer correcting a
// keystroke or undoing, and only the sitting's last grade is its verdict.
const RegradeGap = 30 * time.Minute

// SelfStat is one reviewer's consistency with themselves: N pairs of
// (first verdict, later verdict) on the same item, the share of them that
// agree, and Cohen's kappa between first and later verdicts.
type SelfStat struct {
	N         int     `json:"n"`
	Agreement float64 `json:"agreement"`
	Kappa     float64 `json:"kappa"`
}

// SelfConsistency measures how consistently each reviewer grades an item
// they see again blind (for example a golden item re-shown in the queue).
//
// A reviewer's labels on one item, ordered by time, fall into sittings: a
// new sitting starts when a label comes RegradeGap or more after the start
// of the current one. A sitting's verdict is its last grade; a sitting that
// ends with an undo (Deleted) has none. Each later verdict is paired with the
// first verdict. Reviewers with no pair are left out.
func SelfConsistency(history []loop.Label) map[string]SelfStat {
	type key struct{ rater, item string }
	groups := make(map[key][]loop.Label)
	for _, l := range history {
		k := key{l.Reviewer, l.EventID}
		groups[k] = append(groups[k], l)
	}
	keys := make([]key, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].rater != keys[j].rater {
			return keys[i].rater < keys[j].rater
		}
		return keys[i].item < keys[j].item
	})

	firsts := map[string][]string{}
	laters := map[string][]string{}
	for _, k := range keys {
		ls := groups[k]
		slices.SortStableFunc(ls, func(a, b loop.Label) int { return a.At.Compare(b.At) })
		var verdicts []loop.Grade
		var start time.Time
		var verdict loop.Grade
		open := false
		for _, l := range ls {
			if open && l.At.Sub(start) >= RegradeGap {
				verdicts = append(verdicts, verdict)
				open = false
			}
			if !open {
				open, start, verdict = true, l.At, loop.GradeNone
			}
			if l.Deleted {
				verdict = loop.GradeNone
			} else {
				verdict = l.Grade
			}
		}
		if open {
			verdicts = append(verdicts, verdict)
		}
		if len(verdicts) < 2 || verdicts[0] == loop.GradeNone {
			continue
		}
		for _, v := range verdicts[1:] {
			if v == loop.GradeNone {
				continue
			}
			firsts[k.rater] = append(firsts[k.rater], string(verdicts[0]))
			laters[k.rater] = append(laters[k.rater], string(v))
		}
	}
	out := make(map[string]SelfStat, len(firsts))
	for r, f := range firsts {
		l := laters[r]
		same := 0
		for i := range f {
			if f[i] == l[i] {
				same++
			}
		}
		k, n := CohenKappa(f, l)
		out[r] = SelfStat{N: n, Agreement: float64(same) / float64(n), Kappa: k}
	}
	return out
}

// SessionGap splits a reviewer's labeling into sessions: a pause longer
// than this between two labels ends the session.
const SessionGap = 10 * time.Minute

// Rate is a reviewer's labeling speed.
type Rate struct {
	// Items is the number of distinct items the reviewer labeled;
	// Decisions the number of labels (undo entries not counted).
	Items     int `json:"items"`
	Decisions int `json:"decisions"`
	// PerMinute is decisions per minute of active time. Active time is the
	// sum of the gaps between consecutive decisions within a session (a gap
	// over SessionGap splits sessions and is not counted), so PerMinute is
	// the timed decisions divided by active minutes; the first decision of
	// each session has no measured duration. 0 when no time was measured.
	PerMinute float64 `json:"per_minute"`
	// MedianSeconds is the median time a decision took: the median of those
	// in-session gaps. 0 when none was measured.
	MedianSeconds float64 `json:"median_seconds"`
}

// Throughput computes each reviewer's labeling speed from label history.
func Throughput(history []loop.Label) map[string]Rate {
	byRater := make(map[string][]loop.Label)
	for _, l := range history {
		if l.Deleted {
			continue
		}
		byRater[l.Reviewer] = append(byRater[l.Reviewer], l)
	}
	out := make(map[string]Rate, len(byRater))
	for r, ls := range byRater {
		slices.SortStableFunc(ls, func(a, b loop.Label) int {
			if c := a.At.Compare(b.At); c != 0 {
				return c
			}
			return strings.Compare(a.EventID, b.EventID)
		})
		items := make(map[string]struct{}, len(ls))
		var gaps []float64
		active := 0.0
		for i, l := range ls {
			items[l.EventID] = struct{}{}
			if i == 0 {
				continue
			}
			d := l.At.Sub(ls[i-1].At)
			if d > SessionGap {
				continue
			}
			s := d.Seconds()
			gaps = append(gaps, s)
			active += s
		}
		rate := Rate{Items: len(items), Decisions: len(ls)}
		if active > 0 {
			rate.PerMinute = float64(len(gaps)) / (active / 60)
		}
		if len(gaps) > 0 {
			sort.Float64s(gaps)
			m := len(gaps) / 2
			if len(gaps)%2 == 1 {
				rate.MedianSeconds = gaps[m]
			} else {
				rate.MedianSeconds = (gaps[m-1] + gaps[m]) / 2
			}
		}
		out[r] = rate
	}
	return out
}
