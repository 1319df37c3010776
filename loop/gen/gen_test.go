package gen

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
)

func generate(t testing.TB, o Options) [][]byte {
	t.Helper()
	var lines [][]byte
	err := Generate(o, func(l []byte) error {
		lines = append(lines, bytes.Clone(l))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != o.N {
		t.Fatalf("got %d lines, want %d", len(lines), o.N)
	}
	return lines
}

func TestDeterministic(t *testing.T) {
	n := 3000
	if raceEnabled {
		n = 800
	}
	a := bytes.Join(generate(t, Options{N: n, Seed: 7}), []byte{'\n'})
	b := bytes.Join(generate(t, Options{N: n, Seed: 7}), []byte{'\n'})
	if !bytes.Equal(a, b) {
		t.Fatal("same options gave different output")
	}
	c := bytes.Join(generate(t, Options{N: n, Seed: 8}), []byte{'\n'})
	if bytes.Equal(a, c) {
		t.Fatal("different seeds gave the same output")
	}
	d := bytes.Join(generate(t, Options{N: n, Seed: 7, Days: 10}), []byte{'\n'})
	if bytes.Equal(a, d) {
		t.Fatal("different spans gave the same output")
	}
	// A pinned fingerprint: output must not drift between Go releases or
	// refactors without notice (update it when changing the generator).
	sum := sha256.Sum256(bytes.Join(generate(t, Options{N: 200, Seed: 1}), []byte{'\n'}))
	if got := hex.EncodeToString(sum[:8]); got != fingerprint {
		t.Errorf("output fingerprint %s, want %s", got, fingerprint)
	}
}

// fingerprint is the start of the SHA-256 of Options{N: 200, Seed: 1}.
const fingerprint = "e5edeb43f97e6691"

var (
	tsRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)
	idRE = regexp.MustCompile(`^ev-[a-f][0-9a-f]{15}$`)
)

// ev is the part of an event the tests look at.
type ev struct {
	EventID      string `json:"event_id"`
	Timestamp    string `json:"timestamp"`
	ModelVersion string `json:"model_version"`
	UserID       string `json:"user_id"`
	SessionID    string `json:"session_id"`
	Locale       string `json:"locale"`
	Segment      string `json:"user_segment"`
	Task         string `json:"task_type"`
	Input        *struct {
		Text string   `json:"text"`
		Refs []string `json:"context_refs"`
	} `json:"input"`
	Output *struct {
		Text       string   `json:"text"`
		LatencyMS  *float64 `json:"latency_ms"`
		Confidence *float64 `json:"confidence"`
		CostUSD    *float64 `json:"cost_usd"`
	} `json:"output"`
	Explicit *struct {
		Thumb       *string  `json:"thumb"`
		Rating      *int     `json:"rating"`
		ReasonCodes []string `json:"reason_codes"`
		ReasonText  string   `json:"reason_text"`
		UserEdit    string   `json:"user_edit"`
	} `json:"explicit_feedback"`
	Implicit *struct {
		DwellMS   *float64 `json:"dwell_ms"`
		Abandoned *bool    `json:"abandoned"`
		Escalated *bool    `json:"escalated"`
		Clicked   *bool    `json:"clicked"`
		Copied    *bool    `json:"copied"`
		Retries   *int     `json:"retries"`
	} `json:"implicit_feedback"`
	Checks *struct {
		Toxicity        *float64 `json:"toxicity"`
		Hallucination   *float64 `json:"hallucination"`
		PolicyViolation *bool    `json:"policy_violation"`
		NoiseLevel      *float64 `json:"noise_level"`
		LengthRatio     *float64 `json:"length_ratio"`
	} `json:"automated_checks"`
	Business *struct {
		Resolved  *bool    `json:"resolved"`
		Converted *bool    `json:"converted"`
		Turns     *int     `json:"turns"`
		TTS       *float64 `json:"time_to_success_ms"`
		CostUSD   *float64 `json:"cost_usd"`
	} `json:"business"`
	Experiment *struct {
		ID         string   `json:"id"`
		Arm        string   `json:"arm"`
		Position   *int     `json:"position"`
		Propensity *float64 `json:"propensity"`
	} `json:"experiment"`
	Consent *struct {
		Analytics *bool `json:"analytics"`
		Training  *bool `json:"training"`
	} `json:"consent"`
}

func (e *ev) thumb() string {
	if e.Explicit == nil || e.Explicit.Thumb == nil {
		return ""
	}
	return *e.Explicit.Thumb
}

// decode decodes every line into ev, refusing keys ev does not know: this
// catches misspelled field names anywhere in the event.
func decode(t *testing.T, lines [][]byte) []ev {
	t.Helper()
	out := make([]ev, len(lines))
	for i, l := range lines {
		dec := json.NewDecoder(bytes.NewReader(l))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out[i]); err != nil {
			t.Fatalf("line %d: %v\n%s", i, err, l)
		}
	}
	return out
}

func in01(p *float64) bool   { return p == nil || (*p >= 0 && *p <= 1) }
func nonNeg(p *float64) bool { return p == nil || *p >= 0 }

func TestEventsValid(t *testing.T) {
	o := Options{N: 20000, Seed: 1}
	if raceEnabled {
		o.N = 3000
	}
	lines := generate(t, o)
	for i, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatalf("line %d: %v\n%s", i, err, l)
		}
	}
	evs := decode(t, lines)
	from, to := o.Span()
	codes := map[string]bool{}
	for _, rc := range ReasonCodes() {
		codes[rc.Code] = true
	}
	models := map[string]ModelInfo{}
	for _, m := range Models() {
		models[m.Version] = m
	}
	seen := map[string]bool{}
	var prev time.Time
	for i := range evs {
		e := &evs[i]
		if !idRE.MatchString(e.EventID) || seen[e.EventID] {
			t.Fatalf("line %d: bad or duplicate event_id %q", i, e.EventID)
		}
		seen[e.EventID] = true
		if !tsRE.MatchString(e.Timestamp) {
			t.Fatalf("line %d: timestamp %q", i, e.Timestamp)
		}
		ts, err := time.Parse(time.RFC3339Nano, e.Timestamp)
		if err != nil {
			t.Fatal(err)
		}
		if ts.Before(prev) {
			t.Fatalf("line %d: timestamp %s before %s", i, ts, prev)
		}
		prev = ts
		if ts.Before(from) || !ts.Before(to) {
			t.Fatalf("line %d: timestamp %s outside [%s, %s)", i, ts, from, to)
		}
		mi, ok := models[e.ModelVersion]
		if !ok || mi.Task != e.Task {
			t.Fatalf("line %d: model %q for task %q not in Models()", i, e.ModelVersion, e.Task)
		}
		if day := int(ts.Sub(from) / (24 * time.Hour)); day < mi.From || day > mi.To {
			t.Fatalf("line %d: %s live on day %d, Models says %d..%d", i, mi.Version, day, mi.From, mi.To)
		}
		if e.UserID == "" || e.SessionID == "" || e.Locale == "" || e.Segment == "" {
			t.Fatalf("line %d: missing ids", i)
		}
		if e.Input == nil || e.Input.Text == "" || e.Output == nil || e.Output.Text == "" {
			t.Fatalf("line %d: missing input or output text", i)
		}
		if !nonNeg(e.Output.LatencyMS) || e.Output.LatencyMS == nil || !in01(e.Output.Confidence) || !nonNeg(e.Output.CostUSD) {
			t.Fatalf("line %d: output numbers out of range: %s", i, lines[i])
		}
		if x := e.Explicit; x != nil {
			if x.Thumb != nil && *x.Thumb != "up" && *x.Thumb != "down" {
				t.Fatalf("line %d: thumb %q", i, *x.Thumb)
			}
			if x.Rating != nil && (*x.Rating < 1 || *x.Rating > 5) {
				t.Fatalf("line %d: rating %d", i, *x.Rating)
			}
			for _, c := range x.ReasonCodes {
				if !codes[c] {
					t.Fatalf("line %d: unknown reason code %q", i, c)
				}
			}
		}
		if x := e.Implicit; x != nil && (!nonNeg(x.DwellMS) || (x.Retries != nil && *x.Retries < 0)) {
			t.Fatalf("line %d: implicit out of range", i)
		}
		if x := e.Checks; x != nil && (!in01(x.Toxicity) || !in01(x.Hallucination) || !in01(x.NoiseLevel)) {
			t.Fatalf("line %d: checks out of range", i)
		}
		if x := e.Business; x != nil && (!nonNeg(x.TTS) || !nonNeg(x.CostUSD) || (x.Turns != nil && *x.Turns < 0)) {
			t.Fatalf("line %d: business out of range", i)
		}
		if x := e.Experiment; x != nil {
			if x.ID == "" || x.Arm == "" || x.Position == nil || *x.Position < 0 || x.Propensity == nil || *x.Propensity <= 0 || *x.Propensity > 1 {
				t.Fatalf("line %d: experiment out of range: %s", i, lines[i])
			}
		}
		if e.Consent != nil && (e.Consent.Analytics == nil || e.Consent.Training == nil) {
			t.Fatalf("line %d: partial consent", i)
		}
		switch e.Task {
		case "transcription":
			if e.Checks == nil || e.Checks.NoiseLevel == nil || e.Output.Confidence == nil {
				t.Fatalf("line %d: transcription without noise level or confidence", i)
			}
		case "recommendation":
			if e.Experiment == nil || e.Implicit.Clicked == nil || e.Business == nil || e.Business.Converted == nil {
				t.Fatalf("line %d: recommendation without experiment, click or conversion", i)
			}
		case "support":
			if e.Business == nil || e.Business.Resolved == nil || e.Business.Turns == nil || e.Implicit.Escalated == nil {
				t.Fatalf("line %d: support without resolution, turns or escalation", i)
			}
		}
	}
}

func TestDistributions(t *testing.T) {
	seeds := []int64{1, 42}
	if raceEnabled {
		seeds = seeds[:1]
	}
	for _, seed := range seeds {
		o := Options{N: 20000, Seed: seed}
		evs := decode(t, generate(t, o))
		n := float64(len(evs))
		count := func(f func(*ev) bool) float64 {
			k := 0
			for i := range evs {
				if f(&evs[i]) {
					k++
				}
			}
			return float64(k)
		}
		share := func(f func(*ev) bool) float64 { return count(f) / n }

		for _, task := range taskNames {
			if s := share(func(e *ev) bool { return e.Task == task }); s < 0.15 || s > 0.35 {
				t.Errorf("seed %d: task %s share %.3f", seed, task, s)
			}
		}
		for _, seg := range segNames {
			if count(func(e *ev) bool { return e.Segment == seg }) == 0 {
				t.Errorf("seed %d: no %s segment", seed, seg)
			}
		}
		for _, loc := range localeNames {
			if count(func(e *ev) bool { return e.Locale == loc }) == 0 {
				t.Errorf("seed %d: no %s locale", seed, loc)
			}
		}
		for loc, script := range map[string]func(rune) bool{
			"de-DE": func(r rune) bool { return strings.ContainsRune("äöüß", r) },
			"fr-FR": func(r rune) bool { return strings.ContainsRune("éèàç", r) },
			"ja-JP": func(r rune) bool { return unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han) },
		} {
			if count(func(e *ev) bool { return e.Locale == loc && strings.IndexFunc(e.Input.Text+e.Output.Text, script) >= 0 }) == 0 {
				t.Errorf("seed %d: no %s text in %s events", seed, loc, loc)
			}
		}

		noAnalytics := share(func(e *ev) bool { return e.Consent != nil && !*e.Consent.Analytics })
		missing := share(func(e *ev) bool { return e.Consent == nil })
		trainYes := share(func(e *ev) bool { return e.Consent != nil && *e.Consent.Analytics && *e.Consent.Training })
		trainNo := share(func(e *ev) bool { return e.Consent != nil && *e.Consent.Analytics && !*e.Consent.Training })
		if noAnalytics < 0.01 || noAnalytics > 0.04 {
			t.Errorf("seed %d: analytics:false share %.4f", seed, noAnalytics)
		}
		if missing < 0.10 || missing > 0.20 || trainYes == 0 || trainNo == 0 {
			t.Errorf("seed %d: consent shares missing %.3f training yes %.3f no %.3f", seed, missing, trainYes, trainNo)
		}

		if s := share(func(e *ev) bool { return e.thumb() == "" }); s < 0.02 || s > 0.09 {
			t.Errorf("seed %d: share without a thumb %.3f", seed, s)
		}
		if count(func(e *ev) bool { return e.Explicit != nil && e.Explicit.Thumb == nil }) == 0 ||
			count(func(e *ev) bool { return e.Explicit == nil }) == 0 {
			t.Errorf("seed %d: want both null thumbs and absent explicit feedback", seed)
		}
		downs := count(func(e *ev) bool { return e.thumb() == "down" })
		if s := count(func(e *ev) bool { return e.thumb() == "down" && e.Explicit.ReasonText != "" }) / downs; s < 0.4 {
			t.Errorf("seed %d: reason text on %.3f of thumbs-down", seed, s)
		}
		for _, task := range []string{"summarization", "transcription"} {
			if count(func(e *ev) bool { return e.Task == task && e.thumb() == "down" && e.Explicit.UserEdit != "" }) == 0 {
				t.Errorf("seed %d: no user edits on thumbs-down %s", seed, task)
			}
		}
		if count(func(e *ev) bool {
			return e.Explicit != nil && len(e.Explicit.ReasonCodes) > 0 && e.Explicit.ReasonCodes[0] == "mistranscription"
		}) == 0 {
			t.Errorf("seed %d: no mistranscription reasons", seed)
		}

		if s := share(func(e *ev) bool { return hasPII(e) }); s < 0.03 || s > 0.12 {
			t.Errorf("seed %d: PII in %.4f of events", seed, s)
		}

		// The regressed model against its predecessor over the same days.
		from, _ := o.Span()
		reg, pred := regressedAndPredecessor(t)
		rate := func(model string) (float64, float64) {
			var up, down float64
			for i := range evs {
				e := &evs[i]
				ts, _ := time.Parse(time.RFC3339Nano, e.Timestamp)
				if e.ModelVersion != model || int(ts.Sub(from)/(24*time.Hour)) < reg.From {
					continue
				}
				switch e.thumb() {
				case "up":
					up++
				case "down":
					down++
				}
			}
			return down / (up + down), up + down
		}
		rr, nr := rate(reg.Version)
		rp, np := rate(pred.Version)
		if nr < 100 || np < 100 || rr < 1.5*rp {
			t.Errorf("seed %d: %s thumbs-down %.3f (n=%.0f) vs %s %.3f (n=%.0f)", seed, reg.Version, rr, nr, pred.Version, rp, np)
		}

		// Position bias: the top position is clicked more than the bottom ones.
		ctr := func(lo, hi int) float64 {
			var k, c float64
			for i := range evs {
				if x := evs[i].Experiment; x != nil && *x.Position >= lo && *x.Position <= hi {
					k++
					if *evs[i].Implicit.Clicked {
						c++
					}
				}
			}
			return c / k
		}
		if top, bottom := ctr(1, 1), ctr(5, 8); top < 1.5*bottom {
			t.Errorf("seed %d: click rate at position 1 %.3f vs 5–8 %.3f", seed, top, bottom)
		}
	}
}

func regressedAndPredecessor(t *testing.T) (reg, pred ModelInfo) {
	n := 0
	for _, m := range Models() {
		if m.Regressed {
			reg = m
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d regressed models, want 1", n)
	}
	for _, m := range Models() {
		if m.Task == reg.Task && !m.Regressed && m.From < reg.From && m.To >= reg.To && m.From >= pred.From {
			pred = m
		}
	}
	if pred.Version == "" {
		t.Fatal("regressed model has no predecessor live alongside it")
	}
	return reg, pred
}

func TestModels(t *testing.T) {
	reg, pred := regressedAndPredecessor(t)
	if reg.Version != "sum-2026.11" || pred.Version != "sum-2026.10" {
		t.Errorf("regressed %s, predecessor %s", reg.Version, pred.Version)
	}
	if reg.From < DefaultDays*2/3-1 || reg.To != DefaultDays-1 {
		t.Errorf("regressed model live days %d..%d, want the last third", reg.From, reg.To)
	}
	per := map[string]int{}
	for _, m := range Models() {
		per[m.Task]++
		if m.From < 0 || m.To >= DefaultDays || m.From > m.To {
			t.Errorf("%s live %d..%d", m.Version, m.From, m.To)
		}
	}
	for _, task := range taskNames {
		if per[task] < 2 {
			t.Errorf("task %s has %d versions", task, per[task])
		}
	}
	for _, days := range []int{1, 2, 3, 7, 90} {
		for _, m := range ModelsFor(days) {
			if m.From < 0 || m.To >= days || m.From > m.To {
				t.Errorf("days %d: %s live %d..%d", days, m.Version, m.From, m.To)
			}
		}
	}
}

func TestReasonCodes(t *testing.T) {
	want := []string{"factual_error", "missing_info", "too_long", "wrong_tone", "unsafe", "formatting", "irrelevant", "mistranscription"}
	got := ReasonCodes()
	if len(got) != len(want) {
		t.Fatalf("%d codes", len(got))
	}
	for i, rc := range got {
		if rc.Code != want[i] || rc.Description == "" {
			t.Errorf("code %d: %+v", i, rc)
		}
	}
	got[0].Code = "changed"
	if ReasonCodes()[0].Code != "factual_error" {
		t.Error("ReasonCodes exposes its backing array")
	}
}

func TestOptions(t *testing.T) {
	if err := Generate(Options{N: -1}, func([]byte) error { return nil }); err == nil {
		t.Error("negative N accepted")
	}
	generate(t, Options{N: 0})
	stop := errors.New("stop")
	k := 0
	err := Generate(Options{N: 100}, func([]byte) error {
		k++
		if k == 10 {
			return stop
		}
		return nil
	})
	if err != stop || k != 10 {
		t.Errorf("emit error: got %v after %d lines", err, k)
	}
	end := time.Date(2025, 2, 3, 17, 45, 0, 0, time.FixedZone("X", 3600))
	o := Options{N: 500, Seed: 3, Days: 1, End: end}
	from, to := o.Span()
	if !from.Equal(time.Date(2025, 2, 3, 0, 0, 0, 0, time.UTC)) || to.Sub(from) != 24*time.Hour {
		t.Fatalf("span %s..%s", from, to)
	}
	for _, l := range generate(t, o) {
		var e ev
		if err := json.Unmarshal(l, &e); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(e.Timestamp, "2025-02-03T") {
			t.Fatalf("timestamp %s outside the one day", e.Timestamp)
		}
	}
	// Tiny and long spans work.
	generate(t, Options{N: 50, Days: 2})
	generate(t, Options{N: 2000, Days: 365})
}

// PII detectors for the shapes the generator produces. Cards and IBANs
// must also pass their checksums, so the look-alikes are not counted.
var (
	emailRE   = regexp.MustCompile(`[\p{L}\p{M}0-9._%+'-]+@[\p{L}\p{M}0-9.-]+\.(?:[A-Za-z]{2,}|\p{L}{2,})`)
	secretRE  = regexp.MustCompile(`\b(sk-[A-Za-z0-9-]{20,}|ghp_[A-Za-z0-9]{36}|AKIA[A-Z2-7]{16})\b`)
	webhookRE = regexp.MustCompile(`https://(?:hooks\.slack\.com/services/|discord\.com/api/webhooks/|[a-z.]+/hooks/)[A-Za-z0-9/_-]{16,}`)
	ssnRE     = regexp.MustCompile(`\b\d{3}-\d{2}-\d{4}\b`)
	ssnBareRE = regexp.MustCompile(`(?i)\b(?:ssn|social security)\D{0,12}\b\d{9}\b`)
	phoneRE   = regexp.MustCompile(`\(\d{3}\) \d{3}-\d{4}|\b\d{3}[-.]\d{3}[-.]\d{4}\b|\+1 \d{3} \d{3} \d{4}|\+(44|49|33|34|55|81) \d[\d -]{6,}\d`)
	ipv4RE    = regexp.MustCompile(`\b(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\b`)
	ipv6RE    = regexp.MustCompile(`\b2[0-9a-f]{3}:[0-9a-f]{1,4}:[0-9a-f:]*[0-9a-f]\b`)
	cardRE    = regexp.MustCompile(`\b\d(?:(?: - |  |[ .\t/-])?\d){12,15}\b`)
	ibanRE    = regexp.MustCompile(`(?i)\b[A-Z]{2}\d{2}(?:(?: - |  |[ \t-])?[A-Z0-9]){10,30}\b`)

	// what masking sees through: invisible characters and typographic
	// apostrophes
	unveil = strings.NewReplacer("\u200b", "", "\u200c", "", "\u200d", "", "\u2060", "", "\ufeff", "", "\u00ad", "", "’", "'")
)

func luhnValid(s string) bool {
	var d []byte
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			d = append(d, s[i])
		}
	}
	if len(d) < 13 {
		return false
	}
	return luhnCheck(d[:len(d)-1]) == d[len(d)-1]
}

func ibanValid(s string) bool {
	s = strings.ToUpper(strings.NewReplacer(" ", "", "\t", "", "-", "").Replace(s))
	if len(s) < 15 {
		return false
	}
	rearranged := s[4:] + s[:4]
	rem := 0
	for _, c := range rearranged {
		switch {
		case c >= '0' && c <= '9':
			rem = (rem*10 + int(c-'0')) % 97
		case c >= 'A' && c <= 'Z':
			rem = (rem*100 + int(c-'A'+10)) % 97
		default:
			return false
		}
	}
	return rem == 1
}

func textHasPII(s string) bool {
	s = unveil.Replace(s)
	if strings.IndexByte(s, '@') >= 0 && emailRE.MatchString(s) {
		return true
	}
	if strings.Contains(s, "://") && webhookRE.MatchString(s) {
		return true
	}
	if (strings.Contains(s, "sk-") || strings.Contains(s, "ghp_") || strings.Contains(s, "AKIA")) && secretRE.MatchString(s) {
		return true
	}
	if hexColonHex(s) && ipv6RE.MatchString(s) {
		return true
	}
	// The numeric shapes need a long run of digits (or, for IPv4, three
	// dots between digits): skip the regular expressions on text without.
	digits, dots := numericRuns(s)
	if dots >= 3 {
		for _, m := range ipv4RE.FindAllString(s, -1) {
			if ipOK(m) {
				return true
			}
		}
	}
	if digits < 9 {
		return false
	}
	if ssnRE.MatchString(s) || ssnBareRE.MatchString(s) || phoneRE.MatchString(s) {
		return true
	}
	for _, m := range cardRE.FindAllString(s, -1) {
		if luhnValid(m) {
			return true
		}
	}
	for _, m := range ibanRE.FindAllString(s, -1) {
		if ibanValid(m) {
			return true
		}
	}
	return false
}

func hexColonHex(s string) bool {
	isHex := func(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' }
	for i := 1; i+1 < len(s); i++ {
		if s[i] == ':' && isHex(s[i-1]) && (isHex(s[i+1]) || s[i+1] == ':') {
			return true
		}
	}
	return false
}

// numericRuns returns the most digits and the most dots found in one run of
// digits joined by at most three of " .-()+/\t".
func numericRuns(s string) (maxDigits, maxDots int) {
	digits, dots, gap := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits++
			gap = 0
		case strings.IndexByte(" .-()+/\t", c) >= 0 && gap < 3:
			gap++
			if c == '.' {
				dots++
			}
			continue
		default:
			digits, dots, gap = 0, 0, 0
			continue
		}
		maxDigits = max(maxDigits, digits)
		maxDots = max(maxDots, dots)
	}
	return maxDigits, maxDots
}

func ipOK(s string) bool {
	for _, p := range strings.Split(s, ".") {
		if len(p) > 1 && p[0] == '0' || len(p) > 3 || p > "255" && len(p) == 3 {
			return false
		}
	}
	return true
}

func hasPII(e *ev) bool {
	texts := []string{e.Input.Text, e.Output.Text}
	if e.Explicit != nil {
		texts = append(texts, e.Explicit.ReasonText, e.Explicit.UserEdit)
	}
	for _, s := range texts {
		if textHasPII(s) {
			return true
		}
	}
	return false
}

func TestPIIValues(t *testing.T) {
	g := newGenerator(5, 100, 28, DefaultEnd)
	for kind := range nPII {
		for range 300 {
			v := string(g.appendPIIValue(nil, kind))
			c := piiCarriers[kind][0] // a bare SSN is PII only by its SSN word
			if !textHasPII(c[0] + v + c[1]) {
				t.Errorf("kind %d: %q not detected", kind, v)
			}
			switch kind {
			case piiCard:
				if !luhnValid(v) {
					t.Errorf("card %q fails Luhn", v)
				}
			case piiIBAN:
				if !ibanValid(v) {
					t.Errorf("IBAN %q fails mod 97", v)
				}
			}
		}
	}
	// Look-alikes must not look like PII.
	var e event
	for range 2000 {
		e.reset()
		g.injectLookalike(&e)
		if textHasPII(string(e.in) + string(e.out)) {
			t.Errorf("look-alike detected as PII: %q %q", e.in, e.out)
		}
	}
}

func TestNoPIIInCleanText(t *testing.T) {
	// With PII injection off, no event trips the detectors: the templates
	// themselves carry look-alikes only.
	n := 5000
	if raceEnabled {
		n = 1000
	}
	g := newGenerator(9, n, 28, DefaultEnd)
	for i := range n {
		e := &g.e
		e.reset()
		e.user = g.userAt()
		e.uhash = mix64(uint64(i))
		e.loc = i % nLocales
		e.task = i % nTasks
		e.model = rollouts[e.task].versions[0]
		e.pdown = 0.3
		e.bad = g.r.chance(0.3)
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
		for _, s := range [][]byte{e.in, e.out, e.reason, e.edit} {
			if textHasPII(string(s)) {
				t.Fatalf("clean text detected as PII: %q", s)
			}
		}
	}
}

func TestJSONHelpers(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\tnew\nline\r", "\x00\x01\x1f\x7f", "ünïcödé 日本語 €", `</script>&`,
		"a long clean ascii prefix of many words, then a \"quote\"", "exactly8", "exactly8\n", "日本語のテキストと\"引用\"と改行\nです", strings.Repeat("abcdefg\\", 9)} {
		b := appendString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil || got != s {
			t.Errorf("appendString(%q) = %s (%v)", s, b, err)
		}
		if c := appendText(nil, []byte(s)); !bytes.Equal(c, b) {
			t.Errorf("appendText(%q) = %s, appendString gives %s", s, c, b)
		}
		if n, want := runeCount([]byte(s)), len([]rune(s)); n != want {
			t.Errorf("runeCount(%q) = %d, want %d", s, n, want)
		}
	}
	for c := range 256 {
		for pos := range 8 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			want := c < 0x20 || c == '"' || c == '\\'
			if got := needsEscape8(binary.LittleEndian.Uint64(w)); got != want {
				t.Errorf("needsEscape8 with byte %#x at %d = %v", c, pos, got)
			}
		}
	}
	for _, c := range []struct {
		v    float64
		dec  int
		want string
	}{{0, 3, "0"}, {-1, 3, "0"}, {math.NaN(), 2, "0"}, {1, 3, "1"}, {0.5, 3, "0.5"}, {0.0004, 3, "0"}, {0.0005, 3, "0.001"},
		{12.3456, 2, "12.35"}, {0.000412, 6, "0.000412"}, {1999.6, 0, "2000"}, {0.9996, 3, "1"}} {
		if got := string(appendFixed(nil, c.v, c.dec)); got != c.want {
			t.Errorf("appendFixed(%v, %d) = %s, want %s", c.v, c.dec, got, c.want)
		}
	}
}

func TestTemplatesRender(t *testing.T) {
	var f facts
	for i := range f {
		f[i] = []byte("X")
	}
	check := func(ts ...tmpl) {
		for _, tm := range ts {
			s := string(render(nil, tm, &f))
			if strings.ContainsAny(s, "{}[]|") {
				t.Errorf("template left markup: %q", s)
			}
		}
	}
	for _, gn := range append(append([]*genre(nil), genresEN...), localGenres[deDE:]...) {
		check(gn.title, gn.lead, gn.key, gn.core1, gn.core2)
		check(gn.body...)
		check(gn.unsafe...)
	}
	for _, c := range supCases {
		check(c.user...)
		check(c.good, c.wrong)
	}
	check(sttEN...)
	for _, b := range sttLocal {
		check(b...)
	}
	check(recQueryEN...)
}

func BenchmarkGenerate(b *testing.B) {
	var bytes int64
	b.ReportAllocs()
	err := Generate(Options{N: b.N, Seed: 1}, func(l []byte) error {
		bytes += int64(len(l)) + 1
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(bytes / int64(max(b.N, 1)))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func TestPermute60(t *testing.T) {
	seen := map[uint64]bool{}
	for i := range uint64(200000) {
		v := permute60(12345 + i)
		if v >= 1<<60 || seen[v] {
			t.Fatalf("permute60 collision or overflow at %d", i)
		}
		seen[v] = true
	}
}
