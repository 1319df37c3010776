package loop

import (
	"math/rand/v2"
	"testing"
)

func mustEvent(t *testing.T, line string) *Event {
	t.Helper()
	in, err := DecodeEvent([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Prepare(in, func(string) string { return "00000000000000000000000000000000" })
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func mustSignals(t *testing.T, lines ...string) []*Signal {
	t.Helper()
	var out []*Signal
	for _, l := range lines {
		s, err := DecodeSignal([]byte(l))
		if err == nil {
			s, err = PrepareSignal(s)
		}
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		out = append(out, s)
	}
	return out
}

const e42 = `{"event_id":"e-42","timestamp":"2026-10-01T10:00:00Z","model_version":"rec-2026.10","task_type":"recommendation","input":{"text":"running shoes under $120"},"output":{"text":"...","latency_ms":640},"consent":{"analytics":true,"training":true}}`

func sig(id, ts, body string) string {
	return `{"kind":"signal","signal_id":"` + id + `","event_id":"e-42","timestamp":"` + ts + `",` + body + `}`
}

func TestMerge(t *testing.T) {
	cases := []struct {
		name  string
		event string
		sigs  []string
		want  string
	}{
		{
			name:  "DESIGN.md e-42: the second thumb replaces the first as a unit",
			event: e42,
			sigs: []string{
				sig("s-42-1", "2026-10-01T10:00:40Z", `"source":"user","explicit_feedback":{"thumb":"down","reason_codes":["irrelevant"]}`),
				sig("s-42-2", "2026-10-01T10:03:00Z", `"source":"user","explicit_feedback":{"thumb":"up"}`),
				sig("s-42-3", "2026-10-04T08:12:00Z", `"source":"shop","business":{"converted":true}`),
			},
			want: `{"event_id":"e-42","timestamp":"2026-10-01T10:00:00Z","model_version":"rec-2026.10","task_type":"recommendation","input":{"text":"running shoes under $120"},"output":{"text":"...","latency_ms":640},"explicit_feedback":{"thumb":"up"},"business":{"converted":true},"consent":{"analytics":true,"training":true}}`,
		},
		{
			name:  "a tie in time goes to the larger signal_id",
			event: e42,
			sigs: []string{
				sig("b", "2026-10-01T10:01:00Z", `"explicit_feedback":{"thumb":"down"}`),
				sig("a", "2026-10-01T10:01:00Z", `"explicit_feedback":{"thumb":"up"}`),
			},
			want: `{"event_id":"e-42","timestamp":"2026-10-01T10:00:00Z","model_version":"rec-2026.10","task_type":"recommendation","input":{"text":"running shoes under $120"},"output":{"text":"...","latency_ms":640},"explicit_feedback":{"thumb":"down"},"consent":{"analytics":true,"training":true}}`,
		},
		{
			name: "the interaction counts at its own time: an earlier signal loses to its value, a same-time one wins, absent fields are filled",
			event: `{"event_id":"e-42","timestamp":"2026-10-01T10:00:00Z","model_version":"m","explicit_feedback":{"thumb":"up"},` +
				`"implicit_feedback":{"dwell_ms":10},"consent":{"analytics":true,"training":true}}`,
			sigs: []string{
				sig("early", "2026-10-01T09:59:00Z", `"explicit_feedback":{"thumb":"down"},"business":{"resolved":true}`),
				sig("same", "2026-10-01T10:00:00Z", `"implicit_feedback":{"dwell_ms":20}`),
			},
			want: `{"event_id":"e-42","timestamp":"2026-10-01T10:00:00Z","model_version":"m","explicit_feedback":{"thumb":"up"},"implicit_feedback":{"dwell_ms":20},"business":{"resolved":true},"consent":{"analytics":true,"training":true}}`,
		},
		{
			name: "null clears; an object left empty goes; each automated check is its own field; training consent flips",
			event: `{"event_id":"e-42","timestamp":"2026-10-01T10:00:00Z","model_version":"m","implicit_feedback":{"clicked":true},` +
				`"automated_checks":{"toxicity":0.1},"consent":{"analytics":true,"training":true}}`,
			sigs: []string{
				sig("1", "2026-10-01T11:00:00Z", `"implicit_feedback":{"clicked":null},"automated_checks":{"judge":0.5}`),
				sig("2", "2026-10-01T12:00:00Z", `"automated_checks":{"groundedness":0.9,"toxicity":null},"consent":{"training":false}`),
			},
			want: `{"event_id":"e-42","timestamp":"2026-10-01T10:00:00Z","model_version":"m","automated_checks":{"extra":{"groundedness":0.9,"judge":0.5}},"consent":{"analytics":true,"training":false}}`,
		},
		{
			name:  "reason text alone replaces thumb and codes; masked counts add up",
			event: `{"event_id":"e-42","timestamp":"2026-10-01T10:00:00Z","model_version":"m","explicit_feedback":{"thumb":"down","reason_codes":["slow"],"rating":2}}`,
			sigs: []string{
				sig("1", "2026-10-01T11:00:00Z", `"explicit_feedback":{"reason_text":"write to jane.doe@example.com"}`),
			},
			want: `{"event_id":"e-42","timestamp":"2026-10-01T10:00:00Z","model_version":"m","explicit_feedback":{"rating":2,"reason_text":"write to [EMAIL]"},"masked":{"EMAIL":1}}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := mustEvent(t, c.event)
			before := string(AppendJSON(nil, ev))
			sigs := mustSignals(t, c.sigs...)
			rng := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				rng.Shuffle(len(sigs), func(i, j int) { sigs[i], sigs[j] = sigs[j], sigs[i] })
				got := string(AppendJSON(nil, Merge(ev, sigs)))
				if got != c.want {
					t.Fatalf("merged\n got %s\nwant %s", got, c.want)
				}
			}
			if after := string(AppendJSON(nil, ev)); after != before {
				t.Errorf("Merge changed its input:\n%s\n%s", before, after)
			}
		})
	}
}

func TestDecodeStoredRoundTrip(t *testing.T) {
	lines := []string{
		e42,
		`{"event_id":"x","timestamp":"2026-10-01T10:00:00.123456789Z","model_version":"m","user_id":"u","custom":{"a":[1,"jane.doe@example.com"]},` +
			`"input":{"text":"hi \"there\"\n","context_refs":["r"],"extra":{"k":1}},"output":{"text":"o","latency_ms":1e-7,"confidence":0.5,"cost_usd":12},` +
			`"explicit_feedback":{"thumb":"down","rating":2,"reason_codes":["a"],"reason_text":"t","user_edit":"e","z":null},` +
			`"implicit_feedback":{"dwell_ms":1,"abandoned":false,"escalated":true,"clicked":true,"copied":false,"retries":0},` +
			`"automated_checks":{"toxicity":0,"hallucination":1,"policy_violation":false,"judge":{"s":1}},` +
			`"business":{"resolved":true,"converted":false,"turns":3,"time_to_success_ms":5,"cost_usd":0.1},` +
			`"experiment":{"id":"x","arm":"b","position":0,"propensity":0.5},"consent":{"training":true},"label":{"grade":"pass","rubric_notes":"n"}}`,
	}
	for _, l := range lines {
		ev := mustEvent(t, l)
		b := AppendJSON(nil, ev)
		back, err := DecodeStored(b)
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		if b2 := AppendJSON(nil, back); string(b2) != string(b) {
			t.Errorf("round trip:\n%s\n%s", b, b2)
		}
	}
}
