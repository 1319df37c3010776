package ingest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
)

// genRecords makes interactions and signals about them that exercise every
// merge rule: thumb units, nulls, ties in time (with each other and with
// the interaction), training consent flips, custom checks, withdrawals,
// and signals whose interaction never comes.
func genRecords(rng *rand.Rand, n int) []string {
	base := time.Date(2026, 10, 1, 10, 0, 0, 0, time.UTC)
	var out []string
	sid := 0
	thumbs := []string{`"up"`, `"down"`, `null`}
	for e := range n {
		id := fmt.Sprintf("e%03d", e)
		ts := base.Add(time.Duration(e) * time.Minute)
		if e%10 != 9 { // every tenth never arrives: its signals stay pending
			var b strings.Builder
			fmt.Fprintf(&b, `{"event_id":%q,"timestamp":%q,"model_version":"m%d","input":{"text":"question %d"},"output":{"text":"answer %d"}`,
				id, ts.Format(time.RFC3339), e%3, e, e)
			if rng.IntN(2) == 0 {
				fmt.Fprintf(&b, `,"explicit_feedback":{"thumb":%s,"reason_codes":["slow"]}`, thumbs[rng.IntN(2)])
			}
			if rng.IntN(2) == 0 {
				fmt.Fprintf(&b, `,"implicit_feedback":{"dwell_ms":%d,"clicked":true}`, rng.IntN(5000))
			}
			if rng.IntN(3) > 0 {
				fmt.Fprintf(&b, `,"consent":{"analytics":true,"training":%v}`, rng.IntN(2) == 0)
			}
			b.WriteString("}")
			out = append(out, b.String())
		}
		for range rng.IntN(6) {
			sid++
			// Few distinct times: ties between signals and with the
			// interaction are common.
			st := ts.Add(time.Duration(rng.IntN(4)-1) * time.Minute)
			var parts []string
			switch rng.IntN(7) {
			case 0:
				parts = append(parts, fmt.Sprintf(`"explicit_feedback":{"thumb":%s}`, thumbs[rng.IntN(3)]))
			case 1:
				parts = append(parts, fmt.Sprintf(`"explicit_feedback":{"thumb":%s,"reason_codes":["r%d"],"reason_text":"because %d"}`, thumbs[rng.IntN(3)], rng.IntN(3), sid))
			case 2:
				parts = append(parts, `"implicit_feedback":{"dwell_ms":null,"clicked":null}`)
			case 3:
				parts = append(parts, fmt.Sprintf(`"implicit_feedback":{"dwell_ms":%d},"business":{"converted":%v}`, rng.IntN(9000), rng.IntN(2) == 0))
			case 4:
				parts = append(parts, fmt.Sprintf(`"consent":{"training":%v}`, rng.IntN(2) == 0))
			case 5:
				parts = append(parts, fmt.Sprintf(`"automated_checks":{"judge_%d":%d,"toxicity":%s}`, rng.IntN(2), rng.IntN(10), []string{"0.1", "null"}[rng.IntN(2)]))
			case 6:
				if rng.IntN(4) == 0 {
					parts = append(parts, `"consent":{"analytics":false}`)
				} else {
					parts = append(parts, fmt.Sprintf(`"explicit_feedback":{"rating":%d,"user_edit":"edit %d"}`, 1+rng.IntN(5), sid))
				}
			}
			out = append(out, fmt.Sprintf(`{"kind":"signal","signal_id":"s%04d","event_id":%q,"timestamp":%q,"source":"t",%s}`,
				sid, id, st.Format(time.RFC3339), strings.Join(parts, ",")))
		}
	}
	return out
}

// snapshot is everything a reader of the store can see: the merged
// events, their summaries, the signals kept and the pending count.
func snapshot(t *testing.T, st *store.Store) string {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(stored(t, st))
	sums, err := st.AllSummaries()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, s := range sums {
		fmt.Fprintf(&b, "%+v\n", s)
		ids[s.ID] = true
	}
	for e := range 1000 {
		id := fmt.Sprintf("e%03d", e)
		sigs, err := st.Signals(id)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range sigs {
			b.Write(loop.AppendSignalJSON(nil, s))
			b.WriteByte('\n')
		}
	}
	pending, dropped, err := st.SignalStats()
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(&b, "pending %d dropped %d\n", pending, dropped)
	return b.String()
}

func TestOrderIndependence(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	recs := genRecords(rng, 150)
	var want string
	for round := range 8 {
		lines := append([]string(nil), recs...)
		switch round {
		case 0: // as generated
		case 1: // interactions first
			var is, ss []string
			for _, l := range lines {
				if strings.Contains(l, `"kind":"signal"`) {
					ss = append(ss, l)
				} else {
					is = append(is, l)
				}
			}
			lines = append(is, ss...)
		case 2: // signals first, newest first
			var is, ss []string
			for i := len(lines) - 1; i >= 0; i-- {
				if strings.Contains(lines[i], `"kind":"signal"`) {
					ss = append(ss, lines[i])
				} else {
					is = append(is, lines[i])
				}
			}
			lines = append(ss, is...)
		default: // shuffled, with redeliveries
			rng.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
			for i := range len(lines) / 5 {
				at := rng.IntN(len(lines) + 1)
				lines = append(lines[:at], append([]string{recs[(i*7)%len(recs)]}, lines[at:]...)...)
			}
		}
		st := openStore(t)
		p := New(st, PipelineOptions{})
		// Several submissions of random sizes: batches split anywhere.
		for len(lines) > 0 {
			k := min(len(lines), 1+rng.IntN(60))
			if round%2 == 0 {
				data := strings.Join(lines[:k], "\n") + "\n"
				s, err := p.ReadJSONL(context.Background(), strings.NewReader(data), ReadOptions{BatchSize: 1 + rng.IntN(20)})
				if err != nil || s.Malformed() > 0 {
					t.Fatalf("round %d: %+v %v", round, s, err)
				}
			} else {
				outs, _ := submit(t, p, lines[:k]...)
				for _, o := range outs {
					if o.Status == Rejected {
						t.Fatalf("round %d: rejected %v", round, o.Err)
					}
				}
			}
			lines = lines[k:]
		}
		got := snapshot(t, st)
		if round == 0 {
			want = got
			if !strings.Contains(got, `"thumb"`) || !strings.Contains(got, "pending ") || strings.Contains(got, "pending 0 ") {
				t.Fatalf("the generated records do not exercise the store:\n%s", got)
			}
			continue
		}
		if got != want {
			t.Fatalf("round %d stored a different result:\n%s", round, firstDiff(want, got))
		}
		st.Close()
	}
}

func firstDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("line %d:\nwant %s\n got %s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("lengths %d vs %d lines", len(al), len(bl))
}
