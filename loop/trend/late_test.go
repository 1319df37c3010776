package trend

import (
	"encoding/json"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestLate(t *testing.T) {
	// Four interactions on 2026-11-18, two on 11-19, one on 11-20.
	items := []loop.Summary{
		{ID: "a", Time: at("2026-11-18T09:00:00Z")},
		{ID: "b", Time: at("2026-11-18T23:59:59Z")},
		{ID: "c", Time: at("2026-11-18T00:00:00Z")},
		{ID: "d", Time: at("2026-11-18T12:00:00Z")},
		{ID: "e", Time: at("2026-11-19T10:00:00Z")},
		{ID: "f", Time: at("2026-11-19T11:00:00Z")},
		{ID: "g", Time: at("2026-11-20T08:00:00Z")},
	}
	sig := func(id, ev, s string) LateSignal { return LateSignal{EventID: id, Event: at(ev), Signal: at(s)} }
	end := at("2026-11-20T08:00:00Z")
	tests := []struct {
		name string
		sigs []LateSignal
		days int
		end  time.Time
		want []LateDay
	}{
		{"none", nil, 28, end, nil},
		{"same day is not late", []LateSignal{
			sig("a", "2026-11-18T09:00:00Z", "2026-11-18T09:01:00Z"),
			sig("b", "2026-11-18T23:59:59Z", "2026-11-18T23:59:59Z"),
		}, 28, end, nil},
		{"before its interaction is not late", []LateSignal{
			sig("e", "2026-11-19T10:00:00Z", "2026-11-18T10:00:00Z"),
		}, 28, end, nil},
		{"one second past midnight UTC is late", []LateSignal{
			sig("b", "2026-11-18T23:59:59Z", "2026-11-19T00:00:00Z"),
		}, 28, end, []LateDay{{Day: "2026-11-18", Signals: 1, Events: 1, Share: 0.25}}},
		{"a zone other than UTC counts by UTC day", []LateSignal{
			// 2026-11-18T20:00-05:00 is 11-19 01:00 UTC: late.
			sig("a", "2026-11-18T09:00:00Z", "2026-11-18T20:00:00-05:00"),
			// 2026-11-19T01:00+02:00 is 11-18 23:00 UTC: not late.
			sig("d", "2026-11-18T12:00:00Z", "2026-11-19T01:00:00+02:00"),
		}, 28, end, []LateDay{{Day: "2026-11-18", Signals: 1, Events: 1, Share: 0.25}}},
		{"signals and events per day, oldest first", []LateSignal{
			sig("e", "2026-11-19T10:00:00Z", "2026-11-20T10:00:00Z"),
			sig("a", "2026-11-18T09:00:00Z", "2026-11-21T09:00:00Z"),
			sig("a", "2026-11-18T09:00:00Z", "2026-11-19T09:00:00Z"),
			sig("c", "2026-11-18T00:00:00Z", "2026-11-25T00:00:00Z"),
			sig("e", "2026-11-19T10:00:00Z", "2026-11-22T10:00:00Z"),
			sig("f", "2026-11-19T11:00:00Z", "2026-11-20T00:00:01Z"),
			sig("g", "2026-11-20T08:00:00Z", "2026-11-20T09:00:00Z"),
		}, 28, end, []LateDay{
			{Day: "2026-11-18", Signals: 3, Events: 2, Share: 0.5},
			{Day: "2026-11-19", Signals: 3, Events: 2, Share: 1},
		}},
		{"only the window's days", []LateSignal{
			sig("a", "2026-11-18T09:00:00Z", "2026-11-19T09:00:00Z"),
			sig("e", "2026-11-19T10:00:00Z", "2026-11-20T10:00:00Z"),
		}, 2, end, []LateDay{{Day: "2026-11-19", Signals: 1, Events: 1, Share: 0.5}}},
		{"a window ending before the revision still counts it", []LateSignal{
			sig("a", "2026-11-18T09:00:00Z", "2026-11-25T09:00:00Z"),
		}, 1, at("2026-11-18T00:00:00Z"), []LateDay{{Day: "2026-11-18", Signals: 1, Events: 1, Share: 0.25}}},
		{"an interaction missing from the items has no share", []LateSignal{
			sig("z", "2026-11-17T09:00:00Z", "2026-11-18T09:00:00Z"),
		}, 28, end, []LateDay{{Day: "2026-11-17", Signals: 1, Events: 1, Share: math.NaN()}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Late(tc.sigs, items, tc.days, tc.end)
			if len(got) != len(tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			for i := range got {
				g, w := got[i], tc.want[i]
				if g.Day != w.Day || g.Signals != w.Signals || g.Events != w.Events || !near(g.Share, w.Share) {
					t.Errorf("day %d: got %+v, want %+v", i, g, w)
				}
			}
		})
	}
}

func TestLateFromSignalsSkipsPending(t *testing.T) {
	items := []loop.Summary{{ID: "a", Time: at("2026-11-18T09:00:00Z")}, {ID: "b", Time: at("2026-11-18T10:00:00Z")}}
	sigs := []*loop.Signal{
		{SignalID: "1", EventID: "a", Timestamp: at("2026-11-20T09:00:00Z")},
		{SignalID: "2", EventID: "a", Timestamp: at("2026-11-18T09:30:00Z")},
		{SignalID: "3", EventID: "pending", Timestamp: at("2026-11-25T09:00:00Z")},
	}
	each := func(fn func(*loop.Signal) error) error {
		for _, s := range sigs {
			if err := fn(s); err != nil {
				return err
			}
		}
		return nil
	}
	got, err := LateFromSignals(items, each, 28, at("2026-11-20T00:00:00Z"))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0] != (LateDay{Day: "2026-11-18", Signals: 1, Events: 1, Share: 0.5}) {
		t.Fatalf("got %+v", got)
	}
	boom := errors.New("boom")
	if _, err := LateFromSignals(items, func(func(*loop.Signal) error) error { return boom }, 28, at("2026-11-20T00:00:00Z")); !errors.Is(err, boom) {
		t.Fatalf("error %v, want boom", err)
	}
}

func TestLateLineAndJSON(t *testing.T) {
	if got, want := LateLine(nil), "late data: no signal revised a day after it ended"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	one := []LateDay{{Day: "2026-11-19", Signals: 1, Events: 1, Share: 0.5}}
	if got, want := LateLine(one), "late data: 1 signal revised 1 past day after it ended (most recent 2026-11-19: 1); recent days may still move"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	days := []LateDay{
		{Day: "2026-11-10", Signals: 355, Events: 300, Share: 0.3},
		{Day: "2026-11-19", Signals: 57, Events: 40, Share: math.NaN()},
	}
	if got, want := LateLine(days), "late data: 412 signals revised 2 past days after they ended (most recent 2026-11-19: 57); recent days may still move"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	b, err := json.Marshal(days)
	if err != nil {
		t.Fatal(err)
	}
	if want := `[{"day":"2026-11-10","signals":355,"events":300,"share":0.3},{"day":"2026-11-19","signals":57,"events":40,"share":null}]`; string(b) != want {
		t.Errorf("json %s, want %s", b, want)
	}
}
