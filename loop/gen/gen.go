// Package gen generates realistic synthetic feedback events for loupe's four
// worked examples — a document summarizer, product recommendations, a
// customer support agent and speech-to-text correction — as schema v1 JSON
// lines. Output is deterministic: the same Options give byte-identical lines.
//
// The data spans weeks with weekday and hour-of-day volume patterns, rolls
// out several model versions per product (one of which, sum-2026.11, is a
// regressed canary: see Models), covers every user segment, seven locales
// with non-English text, every consent case, and sprinkles PII and PII
// look-alikes into free text for the masker to deal with.
package gen

import (
	"errors"
	"math"
	"slices"
	"time"
)

// DefaultDays is the span used when Options.Days is zero.
const DefaultDays = 28

// DefaultEnd is the last day used when Options.End is zero. It is fixed so
// that output never depends on the clock.
var DefaultEnd = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// Options says what to generate.
type Options struct {
	N    int       // number of events
	Seed int64     // RNG seed
	Days int       // span in days (default 28)
	End  time.Time // last day (UTC); zero → 2026-11-20
}

// Span returns the half-open time range [from, to) that Generate's
// timestamps fall in: the Days whole UTC days ending with End's day.
func (o Options) Span() (from, to time.Time) {
	days := o.Days
	if days <= 0 {
		days = DefaultDays
	}
	end := o.End
	if end.IsZero() {
		end = DefaultEnd
	}
	y, m, d := end.UTC().Date()
	last := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return last.AddDate(0, 0, -(days - 1)), last.AddDate(0, 0, 1)
}

// Generate calls emit once per event, in timestamp order, with one JSON
// object (no trailing newline). The line is only valid during the call:
// emit must copy it to keep it. Generate stops at emit's first error and
// returns it. It does no I/O of its own.
func Generate(o Options, emit func(line []byte) error) error {
	g, err := o.generator(emit)
	if err != nil {
		return err
	}
	return g.run(emit)
}

// generator checks o and makes its generator.
func (o Options) generator(emit func([]byte) error) (*generator, error) {
	if o.N < 0 {
		return nil, errors.New("gen: N must be >= 0")
	}
	if o.Days < 0 {
		return nil, errors.New("gen: Days must be >= 0")
	}
	if emit == nil {
		return nil, errors.New("gen: nil emit")
	}
	from, to := o.Span()
	days := int(to.Sub(from) / (24 * time.Hour))
	return newGenerator(o.Seed, o.N, days, from), nil
}

const (
	taskSum = iota
	taskRec
	taskSup
	taskSTT
	nTasks
)

var taskNames = [nTasks]string{"summarization", "recommendation", "support", "transcription"}

const (
	segFree = iota
	segPro
	segEnterprise
	nSegments
)

var segNames = [nSegments]string{"free", "pro", "enterprise"}
var segCum = cumulative(60, 30, 10)

// Task mix per segment: free users lean on recommendations, enterprise on
// support and documents. Overall each task gets roughly a quarter.
var taskCum = [nSegments][]float64{
	segFree:       cumulative(22, 32, 24, 22),
	segPro:        cumulative(28, 20, 24, 28),
	segEnterprise: cumulative(31, 10, 33, 26),
}

// Volume by hour of day (UTC): a European and an American working-day peak
// and a smaller Asia-Pacific one. Index by time.Weekday for the day factor.
var hourFactor = func() (f [24]float64) {
	bump := func(h, mu, sd float64) float64 {
		d := math.Abs(h - mu)
		d = math.Min(d, 24-d)
		return math.Exp(-d * d / (2 * sd * sd))
	}
	for h := range f {
		x := float64(h)
		f[h] = 0.25 + 0.9*bump(x, 10, 3) + 1.0*bump(x, 17, 3.5) + 0.35*bump(x, 2, 2.5)
	}
	return f
}()

var weekdayFactor = [7]float64{0.55, 1.05, 1.0, 1.0, 0.97, 0.9, 0.62}

const dayMS = 24 * 3600 * 1000

// event is the generator's scratch record for one event; buffers are reused.
type event struct {
	task, loc, seg int
	user           int
	uhash          uint64
	model          *version
	pdown          float64 // this event's chance of a bad answer
	bad            bool

	in, out, edit, reason []byte
	refs                  [3][]byte
	nrefs                 int

	latency, conf, cost float64 // conf < 0: absent

	explicit bool
	thumb    int8 // 1 up, -1 down, 0 null
	rating   int  // 0: absent
	reasons  [2]int8
	nreasons int

	dwell                               float64 // < 0: absent
	abandoned, escalated, clicked, copy tri
	retries                             int // < 0: absent

	tox, hall, noise, lenRatio float64 // < 0: absent
	policy                     tri

	resolved, converted tri
	turns               int     // < 0: absent
	tts, bcost          float64 // < 0: absent

	exp  bool
	arm  string
	pos  int
	prop float64

	consent int8 // 0 missing, 1 analytics false, 2 training false, 3 training true
}

func (e *event) reset() {
	in, out, edit, reason, refs := e.in[:0], e.out[:0], e.edit[:0], e.reason[:0], e.refs
	*e = event{in: in, out: out, edit: edit, reason: reason, refs: refs}
	e.conf, e.dwell, e.tox, e.hall, e.noise, e.lenRatio = -1, -1, -1, -1, -1, -1
	e.retries, e.turns, e.tts, e.bcost = -1, -1, -1, -1
}

// ref starts a new context ref with prefix and returns it for appending.
// An event has at most len(e.refs) refs.
func (e *event) ref(prefix string) *[]byte {
	p := &e.refs[e.nrefs]
	*p = append((*p)[:0], prefix...)
	e.nrefs++
	return p
}

func (e *event) addReason(c int8) {
	if e.nreasons < len(e.reasons) && (e.nreasons == 0 || e.reasons[0] != c) {
		e.reasons[e.nreasons] = c
		e.nreasons++
	}
}

type generator struct {
	r       rng
	seed    uint64
	n, days int
	startMS int64
	startWD int

	userKey, idKey, sessKey, consentOff uint64
	idLetter                            byte
	pool                                int
	sched                               [nTasks]schedule

	f   facts
	e   event
	w   jw
	tmp []byte

	day       int
	dayPrefix []byte

	// split is set by Records: write leaves out what arrives later, and
	// signals queues it as separate records (see split.go).
	split bool
	sp    splitter
}

func newGenerator(seed int64, n, days int, start time.Time) *generator {
	s := uint64(seed)
	g := &generator{
		r:       rng{s: mix64(s ^ 0x6a09e667f3bcc908)},
		seed:    s,
		n:       n,
		days:    days,
		startMS: start.UnixMilli(),
		startWD: int(start.Weekday()),
		userKey: mix64(s ^ 0xbb67ae8584caa73b),
		idKey:   mix64(s ^ 0x3c6ef372fe94f82b),
		sessKey: mix64(s ^ 0xa54ff53a5f1d36f1),
		day:     -1,
	}
	g.consentOff = mix64(s^0x510e527fade682d1) % 100
	g.idLetter = hexDigits[10+mix64(s^0x1f83d9abfb41bd6b)%6]
	g.pool = min(max(n/15, 60), 90000)
	for t := range g.sched {
		g.sched[t] = rollouts[t].schedule(days)
	}
	return g
}

func (g *generator) run(emit func([]byte) error) error {
	// Hourly volume weights with a little day-to-day jitter and growth.
	nslots := g.days * 24
	cum := make([]float64, nslots+1)
	wr := rng{s: mix64(g.seed ^ 0x9b05688c2b3e6c1f)}
	for d := range g.days {
		jitter := 1 + 0.16*(wr.float()-0.5)
		growth := 1 + 0.25*float64(d)/float64(g.days)
		wd := weekdayFactor[(g.startWD+d)%7]
		for h := range 24 {
			s := d*24 + h
			cum[s+1] = cum[s] + wd*hourFactor[h]*jitter*growth
		}
	}
	total := cum[nslots]
	offs := make([]int32, 0, 64)
	prev, i := 0, 0
	for s := range nslots {
		upto := int(math.Round(float64(g.n) * cum[s+1] / total))
		if s == nslots-1 {
			upto = g.n
		}
		k := upto - prev
		prev = upto
		offs = offs[:0]
		for range k {
			offs = append(offs, int32(g.r.intn(3600*1000)))
		}
		slices.Sort(offs)
		base := g.startMS + int64(s)*3600*1000
		for _, o := range offs {
			ts := base + int64(o)
			line := g.event(i, ts)
			var err error
			if g.split {
				err = g.sp.arrive(g, i, ts, line, emit)
			} else {
				err = emit(line)
			}
			if err != nil {
				return err
			}
			i++
		}
	}
	if g.split {
		return g.sp.drain(emit, -1)
	}
	return nil
}

// userAt draws a user: a pool of users with skewed activity.
func (g *generator) userAt() int {
	return int(float64(g.pool) * math.Pow(g.r.float(), 1.6))
}

func (g *generator) event(i int, ts int64) []byte {
	e := &g.e
	e.reset()
	r := &g.r
	day := int((ts - g.startMS) / dayMS)

	e.user = g.userAt()
	h := mix64(g.userKey ^ uint64(e.user)*0x9e3779b97f4a7c15)
	e.uhash = h
	e.seg = pickFrom(segCum, h&0xffff)
	e.loc = pickFrom(localeCum, (h>>16)&0xffff)
	switch c := (uint64(e.user)*37 + g.consentOff) % 100; {
	case c < 2:
		e.consent = 1
	case c < 17:
		e.consent = 0
	case (h>>32)%100 < 55:
		e.consent = 3
	default:
		e.consent = 2
	}
	e.task = r.pickW(taskCum[e.seg])
	e.model = g.sched[e.task].pick(day, mix64(h^uint64(e.task+1)))

	p := e.model.down
	switch e.seg {
	case segFree:
		p -= 0.01
	case segEnterprise:
		p += 0.03
	}
	e.pdown = p
	e.bad = r.chance(p)

	switch e.task {
	case taskSum:
		g.summarize(e)
	case taskRec:
		g.recommend(e)
	case taskSup:
		g.support(e)
	default:
		g.transcribe(e)
	}
	g.feedback(e)
	if r.chance(0.065) {
		g.injectPII(e)
	}
	if r.chance(0.12) {
		g.injectLookalike(e)
	}
	return g.write(e, i, ts, day)
}

// pickFrom picks from a cumulative table with a 16-bit hash value.
func pickFrom(cum []float64, h uint64) int {
	x := float64(h) / 65536
	for i, c := range cum {
		if x < c {
			return i
		}
	}
	return len(cum) - 1
}

// feedback fills the explicit feedback common to all tasks: the thumb
// (absent on ~5%), reason codes already chosen by the task, and reason text.
func (g *generator) feedback(e *event) {
	r := &g.r
	e.explicit = true
	if r.chance(0.05) {
		// No thumb, but other signals. Sometimes the whole block is absent.
		if r.chance(0.4) {
			e.explicit = false
			e.rating, e.nreasons = 0, 0
			e.reason, e.edit = e.reason[:0], e.edit[:0]
			return
		}
		e.thumb = 0
		if !e.bad || r.chance(0.5) {
			e.nreasons = 0
			e.reason = e.reason[:0]
		}
		return
	}
	if e.bad {
		e.thumb = -1
	} else {
		e.thumb = 1
	}
}

func (g *generator) write(e *event, i int, ts int64, day int) []byte {
	w := &g.w
	w.b = append(w.b[:0], '{')
	w.comma = false

	w.key(`"event_id":`)
	w.b = g.appendID(w.b, i)

	w.key(`"timestamp":`)
	w.b = g.appendTime(w.b, ts, day)

	w.str(`"model_version":`, e.model.name)
	w.key(`"user_id":`)
	w.b = append(w.b, `"u-`...)
	w.b = appendPadded(w.b, 10000+(e.user*7919+int(g.consentOff)*131)%90000, 5)
	w.b = append(w.b, '"')
	w.key(`"session_id":`)
	w.b = append(w.b, `"s-`...)
	msInDay := ts - g.startMS - int64(day)*dayMS
	w.b = appendHex(w.b, mix64(g.sessKey^e.uhash^uint64(day*8+int(msInDay/(3*3600*1000)))), 12)
	w.b = append(w.b, '"')
	w.str(`"locale":`, localeNames[e.loc])
	w.str(`"user_segment":`, segNames[e.seg])
	w.str(`"task_type":`, taskNames[e.task])

	w.open(`"input":`)
	w.bytes(`"text":`, e.in)
	if e.nrefs > 0 {
		w.key(`"context_refs":`)
		w.b = append(w.b, '[')
		for j := range e.nrefs {
			if j > 0 {
				w.b = append(w.b, ',')
			}
			w.b = appendString(w.b, e.refs[j])
		}
		w.b = append(w.b, ']')
	}
	w.close()

	w.open(`"output":`)
	w.bytes(`"text":`, e.out)
	w.fixed(`"latency_ms":`, e.latency, 0)
	if e.conf >= 0 {
		w.fixed(`"confidence":`, clamp(e.conf, 0, 1), 3)
	}
	w.fixed(`"cost_usd":`, e.cost, 6)
	w.close()

	if g.split {
		// What the user, the client, judges and the business report later
		// arrives as signals.
		g.writeInlineChecks(e)
		g.writeTail(e)
		return w.b
	}
	if e.explicit {
		w.open(`"explicit_feedback":`)
		writeThumb(w, e.thumb)
		if e.rating > 0 {
			w.int(`"rating":`, e.rating)
		}
		writeReasons(w, e)
		if len(e.reason) > 0 {
			w.bytes(`"reason_text":`, e.reason)
		}
		if len(e.edit) > 0 {
			w.bytes(`"user_edit":`, e.edit)
		}
		w.close()
	}

	writeImplicit(w, e)

	w.open(`"automated_checks":`)
	if e.tox >= 0 {
		w.fixed(`"toxicity":`, clamp(e.tox, 0, 1), 3)
	}
	if e.hall >= 0 {
		w.fixed(`"hallucination":`, clamp(e.hall, 0, 1), 3)
	}
	w.tri(`"policy_violation":`, e.policy)
	if e.noise >= 0 {
		w.fixed(`"noise_level":`, clamp(e.noise, 0, 1), 3)
	}
	if e.lenRatio >= 0 {
		w.fixed(`"length_ratio":`, e.lenRatio, 3)
	}
	w.close()

	if e.resolved != absent || e.converted != absent || e.turns >= 0 || e.tts >= 0 || e.bcost >= 0 {
		w.open(`"business":`)
		w.tri(`"resolved":`, e.resolved)
		w.tri(`"converted":`, e.converted)
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
	}

	g.writeTail(e)
	return w.b
}

// writeTail writes the blocks logged with the answer after the feedback:
// the experiment and the consent, and closes the object.
func (g *generator) writeTail(e *event) {
	w := &g.w
	if e.exp {
		w.open(`"experiment":`)
		w.str(`"id":`, experimentID)
		w.str(`"arm":`, e.arm)
		w.int(`"position":`, e.pos)
		w.fixed(`"propensity":`, e.prop, 4)
		w.close()
	}

	if e.consent != 0 {
		w.open(`"consent":`)
		w.boolean(`"analytics":`, e.consent != 1)
		w.boolean(`"training":`, e.consent == 3)
		w.close()
	}
	w.b = append(w.b, '}')
}

// appendID appends event i's id, quoted.
func (g *generator) appendID(b []byte, i int) []byte {
	b = append(b, `"ev-`...)
	b = append(b, g.idLetter)
	b = appendHex(b, permute60(g.idKey+uint64(i)), 15)
	return append(b, '"')
}

// appendTime writes ts as a quoted RFC 3339 UTC timestamp with milliseconds.
func (g *generator) appendTime(b []byte, ts int64, day int) []byte {
	if day != g.day {
		g.day = day
		g.dayPrefix = time.UnixMilli(g.startMS+int64(day)*dayMS).UTC().AppendFormat(g.dayPrefix[:0], `"2006-01-02T`)
	}
	b = append(b, g.dayPrefix...)
	ms := int(ts - g.startMS - int64(day)*dayMS)
	b = appendPadded(b, ms/3600000, 2)
	b = append(b, ':')
	b = appendPadded(b, ms/60000%60, 2)
	b = append(b, ':')
	b = appendPadded(b, ms/1000%60, 2)
	b = append(b, '.')
	b = appendPadded(b, ms%1000, 3)
	return append(b, `Z"`...)
}

// permute60 is a bijection on 60-bit values, so event ids built from
// consecutive inputs never collide. Event ids are "ev-", a letter a–f and
// 15 hex digits: never a bare digit run that a PII masker could take for a
// card number.
func permute60(x uint64) uint64 {
	const mask = 1<<60 - 1
	x &= mask
	for range 2 {
		x = (x * 0x9e3779b97f4a7c15) & mask // odd multiplier: bijective mod 2^60
		x ^= x >> 29
		x = (x * 0xbf58476d1ce4e5b9) & mask
		x ^= x >> 32
	}
	return x
}

// writeImplicit writes the event's implicit feedback object.
func writeImplicit(w *jw, e *event) {
	w.open(`"implicit_feedback":`)
	if e.dwell >= 0 {
		w.fixed(`"dwell_ms":`, e.dwell, 0)
	}
	w.tri(`"abandoned":`, e.abandoned)
	w.tri(`"escalated":`, e.escalated)
	w.tri(`"clicked":`, e.clicked)
	w.tri(`"copied":`, e.copy)
	if e.retries >= 0 {
		w.int(`"retries":`, e.retries)
	}
	w.close()
}

// writeThumb writes the thumb: "up", "down" or null.
func writeThumb(w *jw, thumb int8) {
	w.key(`"thumb":`)
	switch thumb {
	case 1:
		w.b = append(w.b, `"up"`...)
	case -1:
		w.b = append(w.b, `"down"`...)
	default:
		w.b = append(w.b, "null"...)
	}
}

// writeReasons writes the event's reason codes, when it has any.
func writeReasons(w *jw, e *event) {
	if e.nreasons == 0 {
		return
	}
	w.key(`"reason_codes":`)
	w.b = append(w.b, '[')
	for j := range e.nreasons {
		if j > 0 {
			w.b = append(w.b, ',')
		}
		w.b = appendString(w.b, reasonCodes[e.reasons[j]].Code)
	}
	w.b = append(w.b, ']')
}
