package compare

import (
	"strings"
	"testing"
)

func TestReadJudgments(t *testing.T) {
	in := strings.Join([]string{
		`{"event_id":"e1","reviewer":"ann","candidate":"v2","answer_sha":"x","candidate_side":"left","choice":"left","outcome":"win","at":"2026-12-01T10:00:00Z","new_field":1}`,
		`{"event_id":"e1","reviewer":"ann","candidate":"v2","candidate_side":"left","choice":"left","outcome":"win"}`,
		`{"event_id":"e2","reviewer":"ann","candidate":"v2","candidate_side":"left","choice":"left","outcome":"loss"}`,
		`{"event_id":"e3","reviewer":"","candidate":"v2","candidate_side":"left","choice":"tie","outcome":"tie"}`,
		`{"event_id":"e4","reviewer":"ann","candidate":"v2","candidate_side":"up","choice":"tie","outcome":"tie"}`,
		`not json`,
		``,
		`{"event_id":"e5","reviewer":"bob","candidate":"v2","candidate_side":"right","choice":"left","outcome":"loss"}`,
	}, "\n")
	js, errs := ReadJudgments(strings.NewReader(in))
	if len(js) != 2 || js[0].EventID != "e1" || js[1].EventID != "e5" {
		t.Fatalf("took %+v", js)
	}
	want := []string{"line 2: event_id \"e1\": ann already judged v2 on line 1", "line 3: outcome \"loss\"", "line 4: reviewer", "line 5: candidate_side", "line 6: invalid JSON"}
	if len(errs) != len(want) {
		t.Fatalf("errors %v", errs)
	}
	for i, w := range want {
		if !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
		}
	}
}
