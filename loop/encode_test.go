package loop

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("AppendJSON wrote invalid JSON: %v\n%s", err, a)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

func TestAppendJSONMatchesEncodingJSON(t *testing.T) {
	lines := []string{
		validLine,
		`{"event_id":"a<b>&\u2028","timestamp":"2026-01-02T03:04:05.000000001Z","model_version":"m","output":{"latency_ms":1e-7,"cost_usd":1e22,"confidence":0},"x":{"k":[1,"\u0001"]},"explicit_feedback":{"thumb":null}}`,
		`{"event_id":"b","timestamp":"2026-01-02T03:04:05Z","model_version":"m","input":{"text":"tab\there \"q\" \\ \u00e9 \ud83d\ude00"}}`,
	}
	for _, l := range lines {
		in, err := DecodeEvent([]byte(l))
		if err != nil {
			t.Fatal(err)
		}
		in.Event.Masked = map[string]int{"EMAIL": 2, "CARD": 1}
		want, _ := json.Marshal(&in.Event)
		got := AppendJSON(nil, &in.Event)
		if !sameJSON(t, got, want) {
			t.Errorf("AppendJSON differs from encoding/json:\n got %s\nwant %s", got, want)
		}
		var back Event
		if err := json.Unmarshal(got, &back); err != nil || !reflect.DeepEqual(back.Timestamp, in.Event.Timestamp) {
			t.Errorf("round trip: %v %v", err, back.Timestamp)
		}
	}
}

func BenchmarkAppendJSON(b *testing.B) {
	in, _ := DecodeEvent([]byte(validLine))
	buf := make([]byte, 0, 4096)
	for b.Loop() {
		buf = AppendJSON(buf[:0], &in.Event)
	}
}

func BenchmarkMarshalJSON(b *testing.B) {
	in, _ := DecodeEvent([]byte(validLine))
	for b.Loop() {
		json.Marshal(&in.Event)
	}
}

func TestAppendQuotedMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "plain", "q\"b\\s/", "\x00\x01\x1f\x7f", "tab\tnl\nret\r", "日本語 é ü", "\u2028x\u2029", "\xe2\x80", "bad \xff byte", "\xe2\x80\xa8\xe2\x80\xa9\xe2\x82\xac"} {
		want, _ := json.Marshal(s)
		var a, b string
		if err := json.Unmarshal(appendQuoted(nil, s), &a); err != nil {
			t.Fatalf("%q: invalid JSON %s", s, appendQuoted(nil, s))
		}
		json.Unmarshal(want, &b)
		if a != b {
			t.Errorf("%q: got %q, encoding/json %q", s, a, b)
		}
	}
}

// QueueItem.AppendJSON is valid JSON that decodes to the same item as
// encoding/json's form of it, for every field shape and awkward strings.
func TestQueueItemAppendJSON(t *testing.T) {
	at := time.Date(2026, 12, 2, 5, 6, 7, 891000000, time.FixedZone("x", 3600))
	odd := "quote\" back\\ nl\n tab\t ctl\x01 <&> \u2028 é 😀 bad\xff"
	for _, it := range []QueueItem{
		{},
		{EventID: "e-1", Day: "2026-12-02", Why: []string{"thumbs_down", "random"}, At: at},
		{EventID: odd, Day: odd, Why: []string{}, Reviewers: []string{"ann", odd}, At: at.UTC()},
		{EventID: "e-2", Why: []string{odd}, Reviewers: []string{}, At: time.Unix(0, 1)},
	} {
		b := it.AppendJSON(nil)
		if !json.Valid(b) {
			t.Fatalf("not JSON: %s", b)
		}
		var got, want QueueItem
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		std, _ := json.Marshal(it)
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("AppendJSON %s\ndecodes to %#v\nencoding/json %s\ndecodes to %#v", b, got, std, want)
		}
	}
}
