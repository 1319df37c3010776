package gate

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop/compare"
)

func judgments(wins, losses, ties int) []compare.Judgment {
	var js []compare.Judgment
	add := func(n int, o compare.Outcome) {
		for range n {
			id := fmt.Sprintf("e%03d", len(js))
			side := []compare.Side{compare.Left, compare.Right}[len(js)%2]
			js = append(js, compare.Judgment{EventID: id, Reviewer: "ann", Candidate: "v2", CandidateSide: side,
				Choice: compare.ChoiceFor(o, side), Outcome: o})
		}
	}
	add(wins, compare.Win)
	add(losses, compare.Loss)
	add(ties, compare.Tie)
	return js
}

func TestGateCompare(t *testing.T) {
	for _, c := range []struct {
		name               string
		wins, losses, ties int
		pass               bool
	}{
		// 8 of 30: win rate 0.267, Wilson upper 0.444 < 0.5.
		{"loses", 8, 22, 0, false},
		// 12 of 30: upper 0.577, not significant.
		{"close", 12, 18, 0, true},
		{"wins", 22, 8, 0, true},
		// 10 wins 14 losses 6 ties: (10+3)/30 = 0.433, upper 0.608.
		{"ties count half", 10, 14, 6, true},
		{"none", 0, 0, 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := Run(nil, nil, nil, Options{})
			res.AddCompare(compare.Compute(judgments(c.wins, c.losses, c.ties), "v2", nil))
			if res.Pass != c.pass || res.Compare == nil || res.Compare.Pass != c.pass {
				t.Fatalf("pass %v (check %+v), want %v", res.Pass, res.Compare, c.pass)
			}
			text := res.Text()
			if !strings.Contains(text, "compare:  v2:") {
				t.Errorf("text lacks the compare summary:\n%s", text)
			}
			var doc junitSuites
			if err := xml.Unmarshal(res.JUnit(), &doc); err != nil {
				t.Fatal(err)
			}
			var suite *junitSuite
			for i := range doc.Suites {
				if doc.Suites[i].Name == SetCompare {
					suite = &doc.Suites[i]
				}
			}
			if suite == nil || len(suite.Cases) != 1 || suite.Cases[0].Name != "v2" {
				t.Fatalf("JUnit compare suite %+v", suite)
			}
			if failed := suite.Cases[0].Failure != nil; failed == c.pass {
				t.Errorf("JUnit failure %v, want pass %v", suite.Cases[0].Failure, c.pass)
			}
			if !c.pass && c.wins > 0 && (!strings.Contains(text, "FAIL v2: loses significantly") || !strings.Contains(text, "gate: FAIL")) {
				t.Errorf("text does not name the failure:\n%s", text)
			}
		})
	}
	// Without --compare the check is absent: null in JSON, no suite.
	res := Run(nil, nil, nil, Options{})
	if res.Compare != nil || strings.Contains(string(res.JUnit()), SetCompare) {
		t.Error("compare check present without AddCompare")
	}
}
