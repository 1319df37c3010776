package loop

import (
	"slices"
	"testing"
)

func TestDefaultTaxonomy(t *testing.T) {
	want := []string{"factual_error", "missing_info", "too_long", "wrong_tone", "unsafe", "formatting", "irrelevant", "mistranscription"}
	var got []string
	for _, rc := range DefaultTaxonomy() {
		got = append(got, rc.Code)
		if rc.Description == "" || rc.Example == "" || rc.CounterExample == "" {
			t.Errorf("%s: incomplete entry %+v", rc.Code, rc)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("codes = %v, want %v", got, want)
	}
	if len(got) > 9 {
		t.Fatal("more codes than hotkeys 1-9")
	}
}

func TestDefaultRubric(t *testing.T) {
	r := DefaultRubric()
	for _, g := range []Grade{GradePass, GradeBorderline, GradeFail} {
		c, ok := r.Criterion(g)
		if !ok || c.Criteria == "" || len(c.Examples) == 0 {
			t.Errorf("%s: missing or incomplete criterion %+v", g, c)
		}
	}
	if _, ok := r.Criterion(GradeNone); ok {
		t.Error("criterion for no grade")
	}
}
