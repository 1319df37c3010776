package gen

import "container/heap"

// Records generates the same interactions as Generate in the shape real
// products emit them: each interaction as it is logged when the model
// answers, and everything that happens afterwards as separate signal
// records (DESIGN.md, "Records that arrive in pieces"), in arrival order:
//
//   - the thumb, reason codes and reason text within minutes (source "user"),
//     sometimes after an earlier, opposite thumb the user took back;
//   - the user's edit minutes after that;
//   - dwell, clicks, copies, retries, abandonment and escalation when the
//     tab closes (source "client");
//   - a judge's hallucination score within the hour (source "judge");
//   - CSAT ratings within hours (source "survey"), support outcomes within
//     hours (source "support") and purchases one to three days later
//     (source "shop");
//   - a few consent changes days later: training consent withdrawn, and
//     rarely analytics consent withdrawn (the interaction must be erased).
//
// About 3% of interactions are logged late, after their first signals; about
// 3% of signals are delivered twice. Merging every signal into its
// interaction gives back Generate's event, except where consent was
// withdrawn. Output is deterministic, like Generate's.
func Records(o Options, emit func(line []byte) error) error {
	g, err := o.generator(emit)
	if err != nil {
		return err
	}
	g.split = true
	g.sp.key = mix64(uint64(o.Seed) ^ 0x243f6a8885a308d3)
	return g.run(emit)
}

// Signal sources, as a product would name them.
const (
	srcUser    = "user"
	srcClient  = "client"
	srcJudge   = "judge"
	srcSurvey  = "survey"
	srcSupport = "support"
	srcShop    = "shop"
)

const (
	minuteMS = 60 * 1000
	hourMS   = 60 * minuteMS
)

// arrival is one record waiting for its arrival time.
type arrival struct {
	at   int64  // ms
	seq  uint64 // tie-break: the order records were made
	line []byte
}

type arrivals []arrival

func (a arrivals) Len() int { return len(a) }
func (a arrivals) Less(i, j int) bool {
	if a[i].at != a[j].at {
		return a[i].at < a[j].at
	}
	return a[i].seq < a[j].seq
}
func (a arrivals) Swap(i, j int) { a[i], a[j] = a[j], a[i] }
func (a *arrivals) Push(x any)   { *a = append(*a, x.(arrival)) }
func (a *arrivals) Pop() any {
	old := *a
	x := old[len(old)-1]
	*a = old[:len(old)-1]
	return x
}

// splitter turns each generated event into records and releases them in
// arrival order. Every record of an event arrives at or after the event's
// timestamp, and events come in timestamp order, so a record whose arrival
// is at or before the current event's timestamp can be released.
type splitter struct {
	key  uint64
	seq  uint64
	q    arrivals
	w    jw
	free [][]byte

	pendingAt int64 // arrival of the signal being written
}

func (s *splitter) push(at int64, line []byte) {
	var b []byte
	if n := len(s.free); n > 0 {
		b, s.free = s.free[n-1][:0], s.free[:n-1]
	}
	b = append(b, line...)
	s.seq++
	heap.Push(&s.q, arrival{at: at, seq: s.seq, line: b})
}

// drain emits every queued record that arrives at or before upto (all of
// them when upto < 0).
func (s *splitter) drain(emit func([]byte) error, upto int64) error {
	for len(s.q) > 0 && (upto < 0 || s.q[0].at <= upto) {
		a := heap.Pop(&s.q).(arrival)
		if err := emit(a.line); err != nil {
			return err
		}
		s.free = append(s.free, a.line)
	}
	return nil
}

// arrive queues event i (its interaction line, already written) and its
// signals, then releases what has arrived by ts.
func (s *splitter) arrive(g *generator, i int, ts int64, line []byte, emit func([]byte) error) error {
	if err := s.drain(emit, ts-1); err != nil {
		return err
	}
	e := &g.e
	r := rng{s: mix64(s.key ^ uint64(i)*0x9e3779b97f4a7c15)}
	lag := int64(0)
	if r.chance(0.03) {
		// Logged late: the logging pipeline lagged behind the client.
		lag = int64(r.uniform(3, 20) * minuteMS)
	}
	s.push(ts+lag, line)

	k := 0 // signal number within the event, for its id
	sig := func(delay float64, source string) *jw {
		w := &s.w
		w.b = append(w.b[:0], '{')
		w.comma = false
		w.str(`"kind":`, "signal")
		w.key(`"signal_id":`)
		w.b = append(w.b, `"sg-`...)
		w.b = append(w.b, g.idLetter)
		w.b = appendHex(w.b, permute60((uint64(i)<<4|uint64(k))^s.key), 15)
		w.b = append(w.b, '"')
		k++
		w.key(`"event_id":`)
		w.b = g.appendID(w.b, i)
		at := ts + int64(max(delay, 1000))
		w.key(`"timestamp":`)
		w.b = g.appendTime(w.b, at, int((at-g.startMS)/dayMS))
		w.str(`"source":`, source)
		s.pendingAt = at
		return w
	}
	done := func(r *rng) {
		w := &s.w
		w.b = append(w.b, '}')
		s.push(s.pendingAt, w.b)
		if r.chance(0.03) {
			// Delivered twice: a client retry after a lost acknowledgement.
			s.push(s.pendingAt+int64(r.lognormal(10*minuteMS, 0.8)), w.b)
		}
	}

	thumbAt := r.lognormal(90*1000, 0.8)
	if e.explicit && (e.thumb != 0 || e.nreasons > 0 || len(e.reason) > 0) {
		if e.thumb != 0 && r.chance(0.03) {
			// A thumb the user took back: the later one replaces it whole.
			w := sig(thumbAt/3, srcUser)
			w.open(`"explicit_feedback":`)
			w.key(`"thumb":`)
			if e.thumb > 0 {
				w.b = append(w.b, `"down"`...)
			} else {
				w.b = append(w.b, `"up"`...)
			}
			w.close()
			done(&r)
		}
		w := sig(thumbAt, srcUser)
		w.open(`"explicit_feedback":`)
		writeThumb(w, e.thumb)
		writeReasons(w, e)
		if len(e.reason) > 0 {
			w.bytes(`"reason_text":`, e.reason)
		}
		w.close()
		done(&r)
	}
	if e.explicit && len(e.edit) > 0 {
		w := sig(thumbAt+r.lognormal(4*minuteMS, 0.5), srcUser)
		w.open(`"explicit_feedback":`)
		w.bytes(`"user_edit":`, e.edit)
		w.close()
		done(&r)
	}
	if e.explicit && e.rating > 0 {
		w := sig(r.lognormal(2*hourMS, 0.6), srcSurvey)
		w.open(`"explicit_feedback":`)
		w.int(`"rating":`, e.rating)
		w.close()
		done(&r)
	}
	if e.dwell >= 0 || e.abandoned != absent || e.escalated != absent || e.clicked != absent || e.copy != absent || e.retries >= 0 {
		delay := r.lognormal(30*1000, 0.6)
		if e.dwell >= 0 {
			delay = e.dwell + r.uniform(200, 2000)
		}
		w := sig(delay, srcClient)
		writeImplicit(w, e)
		done(&r)
	}
	if e.hall >= 0 {
		w := sig(r.lognormal(20*minuteMS, 0.7), srcJudge)
		w.open(`"automated_checks":`)
		w.fixed(`"hallucination":`, clamp(e.hall, 0, 1), 3)
		w.close()
		done(&r)
	}
	if e.resolved != absent || e.turns >= 0 || e.tts >= 0 || e.bcost >= 0 {
		w := sig(r.lognormal(3*hourMS, 0.6), srcSupport)
		w.open(`"business":`)
		w.tri(`"resolved":`, e.resolved)
		if e.turns >= 0 {
			w.int(`"turns":`, e.turns)
		}
		if e.tts >= 0 {
			w.fixed(`"time_to_success_ms":`, e.tts, 0)
		}
		if e.bcost >= 0 {
			w.fixed(`"cost_usd":`, e.bcost, 6)
		}
		w.close()
		done(&r)
	}
	if e.converted != absent {
		w := sig(r.uniform(24, 72)*hourMS, srcShop)
		w.open(`"business":`)
		w.tri(`"converted":`, e.converted)
		w.close()
		done(&r)
	}
	switch {
	case e.consent != 1 && r.chance(0.004):
		// Analytics consent withdrawn: the interaction must be erased.
		w := sig(r.uniform(24, 120)*hourMS, srcUser)
		w.open(`"consent":`)
		w.boolean(`"analytics":`, false)
		w.close()
		done(&r)
	case e.consent == 3 && r.chance(0.01):
		w := sig(r.uniform(24, 168)*hourMS, srcUser)
		w.open(`"consent":`)
		w.boolean(`"training":`, false)
		w.close()
		done(&r)
	}
	return nil
}

// writeInlineChecks writes the automated checks computed when the answer
// was made; the judge's hallucination score arrives later as a signal.
func (g *generator) writeInlineChecks(e *event) {
	w := &g.w
	w.open(`"automated_checks":`)
	if e.tox >= 0 {
		w.fixed(`"toxicity":`, clamp(e.tox, 0, 1), 3)
	}
	w.tri(`"policy_violation":`, e.policy)
	if e.noise >= 0 {
		w.fixed(`"noise_level":`, clamp(e.noise, 0, 1), 3)
	}
	if e.lenRatio >= 0 {
		w.fixed(`"length_ratio":`, e.lenRatio, 3)
	}
	w.close()
}
