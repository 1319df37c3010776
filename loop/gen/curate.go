package gen

import (
	"hash/fnv"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// Demo reviewers, whose labels a demo store starts with.
var DemoReviewers = []string{"ana", "ben"}

// Curation is what a team would have built up on a demo store: golden and
// red-flag sets and two reviewers' labels, with an overlap for agreement.
type Curation struct {
	Golden  []loop.SetEntry
	RedFlag []loop.SetEntry
	Labels  []loop.Label
}

// stable is a stable pseudo-random number in [0,1) for an id and a salt.
func stable(id, salt string) float64 {
	h := fnv.New64a()
	h.Write([]byte(salt))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return float64(h.Sum64()>>11) / float64(1<<53)
}

// Curate picks sets and labels from (masked) events deterministically:
// golden items are corrected outputs (the user's edit is the reference);
// red-flag items are unsafe answers, with an assertion that the offending
// sentence never comes back and a latency ceiling; reviewers grade a sample
// in line with the users' signals, disagreeing now and then.
func Curate(events []*loop.Event, at time.Time) Curation {
	var c Curation
	const goldenMax, redMax = 150, 60
	for _, e := range events {
		edit := ""
		if e.Explicit != nil {
			edit = e.Explicit.UserEdit
		}
		out := ""
		if e.Output != nil {
			out = e.Output.Text
		}
		unsafe := false
		for _, r := range e.Reasons() {
			unsafe = unsafe || r == "unsafe"
		}
		switch {
		case unsafe && len(c.RedFlag) < redMax && out != "":
			ent := loop.SetEntry{EventID: e.EventID, Kind: loop.SetRedFlag, Reference: edit, AddedBy: DemoReviewers[0], At: at}
			if p := OffendingPhrase(out, edit); p != "" {
				ent.MustNotContain = []string{p}
			}
			lim := 8000.0
			ent.MaxLatencyMS = &lim
			c.RedFlag = append(c.RedFlag, ent)
		case edit != "" && e.TaskType != "recommendation" && len(c.Golden) < goldenMax && stable(e.EventID, "golden") < 0.5:
			c.Golden = append(c.Golden, loop.SetEntry{EventID: e.EventID, Kind: loop.SetGolden, Reference: edit, AddedBy: DemoReviewers[1], At: at})
		}
		// Labels: about 4% of events each, a third of those by both.
		p := stable(e.EventID, "label")
		if p >= 0.06 {
			continue
		}
		g := gradeFor(e)
		var who []string
		switch {
		case p < 0.02:
			who = DemoReviewers
		case p < 0.04:
			who = DemoReviewers[:1]
		default:
			who = DemoReviewers[1:]
		}
		for i, r := range who {
			gr := g
			if i == 1 && stable(e.EventID, "disagree") < 0.15 {
				gr = loop.GradeBorderline // the second reviewer hedges now and then
				if g == loop.GradeBorderline {
					gr = loop.GradePass
				}
			}
			// Spread decisions over a working session per day.
			t := e.Timestamp.Add(time.Duration(6+3*i) * time.Hour).Add(time.Duration(stable(e.EventID, r)*3600) * time.Second)
			c.Labels = append(c.Labels, loop.Label{EventID: e.EventID, Reviewer: r, Grade: gr, Reasons: e.Reasons(), At: t.UTC()})
		}
	}
	return c
}

func gradeFor(e *loop.Event) loop.Grade {
	switch e.ThumbValue() {
	case loop.ThumbDown:
		return loop.GradeFail
	case loop.ThumbUp:
		return loop.GradePass
	}
	return loop.GradeBorderline
}

// OffendingPhrase is a short phrase of out that the reference does not
// contain: the words a red-flag assertion must keep out of future answers.
func OffendingPhrase(out, reference string) string {
	ref := strings.ToLower(reference)
	best := ""
	for _, s := range strings.FieldsFunc(out, func(r rune) bool { return r == '.' || r == '!' || r == '?' || r == '\n' }) {
		w := strings.Fields(s)
		if len(w) < 4 {
			continue
		}
		p := strings.Join(w[:min(len(w), 6)], " ")
		if !strings.Contains(ref, strings.ToLower(p)) && len(p) > len(best) {
			best = p
		}
	}
	return best
}
