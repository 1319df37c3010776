package gen

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"
	"testing"
	"time"
)

type record = map[string]any

func records(t *testing.T, o Options) [][]byte {
	t.Helper()
	var out [][]byte
	if err := Records(o, func(l []byte) error { out = append(out, bytes.Clone(l)); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRecordsMergeBackToEvents checks the split stream against Generate:
// overlaying each interaction's signals in timestamp order (the thumb,
// reason codes and reason text as one unit) gives back the whole event,
// except where consent was withdrawn.
func TestRecordsMergeBackToEvents(t *testing.T) {
	o := Options{N: 3000, Seed: 5}
	whole := map[string]record{}
	if err := Generate(o, func(l []byte) error {
		var r record
		if err := json.Unmarshal(l, &r); err != nil {
			return err
		}
		whole[r["event_id"].(string)] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	lines := records(t, o)
	inter := map[string]record{}
	sigs := map[string][]record{}
	byID := map[string][]byte{}
	var redelivered, early, withdrawn, flips int
	seenInteraction := map[string]bool{}
	for n, l := range lines {
		var r record
		if err := json.Unmarshal(l, &r); err != nil {
			t.Fatalf("line %d: %v", n+1, err)
		}
		id := r["event_id"].(string)
		if r["kind"] == nil {
			if inter[id] != nil {
				t.Fatalf("interaction %s emitted twice", id)
			}
			inter[id] = r
			seenInteraction[id] = true
			continue
		}
		if r["kind"] != "signal" {
			t.Fatalf("line %d: kind %v", n+1, r["kind"])
		}
		sid := r["signal_id"].(string)
		if prev, ok := byID[sid]; ok {
			if !bytes.Equal(prev, l) {
				t.Fatalf("signal id %s reused with other content", sid)
			}
			redelivered++
			continue
		}
		byID[sid] = l
		if !seenInteraction[id] {
			early++
		}
		ts, _ := time.Parse(time.RFC3339, r["timestamp"].(string))
		its, _ := time.Parse(time.RFC3339, whole[id]["timestamp"].(string))
		if ts.Before(its) {
			t.Fatalf("signal %s happened before its interaction", sid)
		}
		if c, ok := r["consent"].(map[string]any); ok && c["analytics"] == false {
			withdrawn++
		}
		sigs[id] = append(sigs[id], r)
	}
	if len(inter) != len(whole) {
		t.Fatalf("%d interactions, want %d", len(inter), len(whole))
	}
	if redelivered == 0 || early == 0 || withdrawn == 0 {
		t.Fatalf("want some redelivered (%d), early (%d) and withdrawn (%d) records", redelivered, early, withdrawn)
	}
	for id, base := range inter {
		ss := sigs[id]
		sort.Slice(ss, func(i, j int) bool {
			a, b := ss[i]["timestamp"].(string), ss[j]["timestamp"].(string)
			if a != b {
				return a < b
			}
			return ss[i]["signal_id"].(string) < ss[j]["signal_id"].(string)
		})
		gone := false
		for _, s := range ss {
			for _, obj := range []string{"explicit_feedback", "implicit_feedback", "business", "automated_checks", "consent"} {
				v, ok := s[obj].(map[string]any)
				if !ok {
					continue
				}
				if obj == "consent" && v["analytics"] == false {
					gone = true
				}
				dst, _ := base[obj].(map[string]any)
				if dst == nil {
					dst = map[string]any{}
					base[obj] = dst
				}
				if _, ok := v["thumb"]; ok && obj == "explicit_feedback" {
					if _, had := dst["thumb"]; had {
						flips++
					}
					delete(dst, "thumb")
					delete(dst, "reason_codes")
					delete(dst, "reason_text")
				}
				for k, x := range v {
					dst[k] = x
				}
			}
		}
		if gone {
			continue
		}
		want := whole[id]
		if ex, ok := want["explicit_feedback"].(map[string]any); ok {
			if ex["thumb"] == nil {
				delete(ex, "thumb") // null and absent are the same
			}
			if len(ex) == 0 {
				delete(want, "explicit_feedback")
			}
		}
		if ex, ok := base["explicit_feedback"].(map[string]any); ok && ex["thumb"] == nil {
			delete(ex, "thumb")
		}
		if c, ok := base["consent"].(map[string]any); ok {
			if wc, ok := want["consent"].(map[string]any); ok && c["training"] != wc["training"] {
				c["training"] = wc["training"] // training consent withdrawn later
			}
		}
		if im, ok := want["implicit_feedback"].(map[string]any); ok && len(im) == 0 {
			delete(want, "implicit_feedback")
		}
		if !reflect.DeepEqual(base, want) {
			a, _ := json.Marshal(base)
			b, _ := json.Marshal(want)
			t.Fatalf("event %s merged back differs:\n got %s\nwant %s", id, a, b)
		}
	}
	if flips == 0 {
		t.Fatal("want some thumbs taken back and replaced")
	}
}

func TestRecordsDeterministic(t *testing.T) {
	o := Options{N: 500, Seed: 9}
	a, b := records(t, o), records(t, o)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same options, different records")
	}
}
