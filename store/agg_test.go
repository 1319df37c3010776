package store

import (
	"testing"

	"github.com/loupe-dev/loupe/loop/agg"
)

func TestAggKeyRoundTrip(t *testing.T) {
	for _, k := range []agg.Key{
		{Day: 20423, Model: "m-1", Segment: "pro", Task: "qa"},
		{Day: -3, Model: "", Segment: "", Task: ""},
		{Day: 0, Model: "v2", Segment: "", Task: "summarize"},
	} {
		got, err := parseAggKey(aggKey(k))
		if err != nil || got != k {
			t.Fatalf("%+v: got %+v, %v", k, got, err)
		}
	}
	// Keys sort by day first, earlier days before later ones.
	a, b := aggKey(agg.Key{Day: -1, Model: "z"}), aggKey(agg.Key{Day: 1, Model: "a"})
	if string(a) >= string(b) {
		t.Fatal("aggregate keys do not sort by day")
	}
	if _, err := parseAggKey([]byte("Zshort")); err == nil {
		t.Fatal("a short key parsed")
	}
}
