package gen

import (
	"fmt"
	"strings"

	"github.com/loupe-dev/loupe/loop"
)

// Candidate qualities: what kind of new model version to imitate.
const (
	CandidateFixed     = "fixed"     // answers like the references, within limits
	CandidateRegressed = "regressed" // brings the red-flag content back, slower, with wrong facts
)

// Candidates writes a candidate file (one JSON line per set entry:
// {"event_id","output":{"text","latency_ms"}}) imitating a new model
// version's answers to the exported set entries, for trying `loupe eval` and
// `loupe gate`. Deterministic for the same entries.
func Candidates(entries []loop.SetEntry, quality string, emit func([]byte) error) error {
	if quality != CandidateFixed && quality != CandidateRegressed {
		return fmt.Errorf("candidate quality %q: want %s or %s", quality, CandidateFixed, CandidateRegressed)
	}
	var b []byte
	for _, e := range entries {
		text, lat := e.Output, 900.0
		if e.LatencyMS != nil {
			lat = *e.LatencyMS
		}
		if quality == CandidateFixed {
			if e.Reference != "" {
				text = e.Reference
			}
			for _, m := range e.MustNotContain {
				text = replaceFold(text, m, "")
			}
			for _, m := range e.MustContain {
				if !strings.Contains(strings.ToLower(text), strings.ToLower(m)) {
					text += " " + m
				}
			}
			if e.MaxLatencyMS != nil && lat > *e.MaxLatencyMS {
				lat = *e.MaxLatencyMS * 0.8
			}
		} else {
			text = garble(text, e.EventID)
			if len(e.MustNotContain) > 0 && stable(e.EventID, "regress") < 0.5 {
				text += " " + e.MustNotContain[0] + "."
			}
			lat *= 1.6
		}
		b = b[:0]
		b = append(b, `{"event_id":`...)
		b = appendString(b, e.EventID)
		b = append(b, `,"output":{"text":`...)
		b = appendString(b, strings.TrimSpace(text))
		b = append(b, `,"latency_ms":`...)
		b = append(b, fmt.Sprintf("%.0f", lat)...)
		b = append(b, "}}"...)
		if err := emit(b); err != nil {
			return err
		}
	}
	return nil
}

// garble changes facts the way a regressed summarizer does: digits shift
// and the last sentence goes missing.
func garble(s, id string) string {
	r := []rune(s)
	for i, c := range r {
		if c >= '0' && c <= '8' && stable(id, fmt.Sprint(i)) < 0.5 {
			r[i] = c + 1
		}
	}
	out := string(r)
	if i := strings.LastIndex(strings.TrimRight(out, ". "), ". "); i > 0 {
		out = out[:i+1]
	}
	return out
}

func replaceFold(s, old, repl string) string {
	if old == "" {
		return s
	}
	lo, lold := strings.ToLower(s), strings.ToLower(old)
	var b strings.Builder
	for {
		i := strings.Index(lo, lold)
		if i < 0 || len(lo) != len(s) {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, lo = s[i+len(old):], lo[i+len(old):]
	}
	b.WriteString(s)
	return b.String()
}
