package tui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/loupe-dev/loupe/loop"
)

// The Item screen's timeline: the interaction and each signal of it, oldest
// first, with when it happened (in the view's location, and as an offset
// from the interaction), who sent it and what it set. The merged view above
// it is what they add up to.

func timelineLines(s Styles, loc *time.Location, ev *loop.Event, sigs []*loop.Signal, w int) []string {
	if ev == nil {
		return nil
	}
	at := ev.Timestamp.In(loc)
	// One time format for the whole list: clock times alone when
	// everything happened on the interaction's day.
	sameDay := true
	for _, sg := range sigs {
		if !sameDate(sg.Timestamp.In(loc), at) {
			sameDay = false
		}
	}
	timeFmt := "15:04:05"
	if !sameDay {
		timeFmt = "01-02 15:04"
	}
	type row struct{ when, off, src, what string }
	// In time order: a signal dated before its interaction (an early
	// judge, a clock ahead) comes above it; one of the same time below.
	rows := make([]row, 0, len(sigs)+1)
	offW, placed := 0, false
	for _, sg := range sigs {
		if !placed && !sg.Timestamp.Before(ev.Timestamp) {
			rows, placed = append(rows, row{when: at.Format(timeFmt), src: "interaction", what: ev.ModelVersion}), true
		}
		r := row{when: sg.Timestamp.In(loc).Format(timeFmt), off: offset(sg.Timestamp.Sub(ev.Timestamp)), src: sg.Source, what: leavesText(sg.Leaves)}
		offW = max(offW, len(r.off))
		rows = append(rows, r)
	}
	if !placed {
		rows = append(rows, row{when: at.Format(timeFmt), src: "interaction", what: ev.ModelVersion})
	}
	srcW := 0
	for _, r := range rows {
		srcW = max(srcW, ansi.StringWidth(r.src))
	}
	srcW = min(srcW, 16)
	out := make([]string, 0, len(rows))
	for _, r := range rows {
		src := s.Label.Render(pad(r.src, srcW))
		if r.src == "" {
			src = s.Subtle.Render(pad("(no source)", srcW))
		}
		prefix := s.Muted.Render(r.when) + "  "
		if offW > 0 {
			prefix += s.Muted.Render(pad(r.off, offW)) + "  "
		}
		prefix += src + "  "
		indent := len(r.when) + 2 + srcW + 2
		if offW > 0 {
			indent += offW + 2
		}
		if indent > w/2 {
			out = append(out, ansi.Truncate(prefix+r.what, w, "…"))
			continue
		}
		out = append(out, hang(prefix, r.what, indent, w)...)
	}
	if len(sigs) == 0 {
		out = append(out, s.Subtle.Render("no signals: everything above came with the interaction"))
	}
	return out
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// offset says how long after the interaction (or, for an early signal,
// before it) something happened, in its two largest units.
func offset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	d = d.Round(time.Second)
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	h, m, sec := int(d/time.Hour), int(d/time.Minute)%60, int(d/time.Second)%60
	var s string
	switch {
	case days > 0 && h > 0:
		s = fmt.Sprintf("%dd%dh", days, h)
	case days > 0:
		s = fmt.Sprintf("%dd", days)
	case h > 0 && m > 0:
		s = fmt.Sprintf("%dh%02dm", h, m)
	case h > 0:
		s = fmt.Sprintf("%dh", h)
	case m > 0 && sec > 0:
		s = fmt.Sprintf("%dm%02ds", m, sec)
	case m > 0:
		s = fmt.Sprintf("%dm", m)
	default:
		s = fmt.Sprintf("%ds", sec)
	}
	return sign + s
}

// leavesText says what a signal set, e.g. "thumb down · reasons irrelevant
// · converted · dwell 4.2s · training consent withdrawn".
func leavesText(ls []loop.Leaf) string {
	var parts []string
	for _, l := range ls {
		parts = append(parts, leafText(l)...)
	}
	return strings.Join(parts, " · ")
}

func leafText(l loop.Leaf) []string {
	if l.Path == loop.ThumbUnit {
		var u struct {
			Thumb       *string  `json:"thumb"`
			ReasonCodes []string `json:"reason_codes"`
			ReasonText  string   `json:"reason_text"`
		}
		if json.Unmarshal(l.Value, &u) != nil {
			return []string{"thumb " + string(l.Value)}
		}
		var p []string
		if u.Thumb != nil {
			p = append(p, "thumb "+*u.Thumb)
		}
		if len(u.ReasonCodes) > 0 {
			p = append(p, "reasons "+strings.Join(u.ReasonCodes, ","))
		}
		if u.ReasonText != "" {
			p = append(p, quoted(u.ReasonText))
		}
		if len(p) == 0 {
			return []string{"thumb cleared"}
		}
		return p
	}
	obj, field, _ := strings.Cut(l.Path, ".")
	name := strings.ReplaceAll(field, "_", " ")
	if l.Value == nil {
		if obj == "consent" {
			return []string{name + " consent cleared"}
		}
		return []string{name + " cleared"}
	}
	v := bytes.TrimSpace(l.Value)
	if obj == "consent" {
		switch string(v) {
		case "true":
			return []string{name + " consent given"}
		case "false":
			return []string{name + " consent withdrawn"}
		}
	}
	switch string(v) {
	case "true":
		return []string{name}
	case "false":
		return []string{"not " + name}
	}
	if f, err := strconv.ParseFloat(string(v), 64); err == nil {
		if ms, ok := strings.CutSuffix(field, "_ms"); ok {
			return []string{strings.ReplaceAll(ms, "_", " ") + " " + roughDur(f)}
		}
		return []string{name + " " + string(v)}
	}
	var str string
	if json.Unmarshal(v, &str) == nil {
		return []string{name + " " + quoted(str)}
	}
	return []string{name + " " + loop.OneLine(string(v), 80)}
}

// roughDur is a duration in milliseconds to the precision a reader wants
// in a timeline: tenths of a second below ten seconds, seconds above.
func roughDur(ms float64) string {
	d := time.Duration(ms * float64(time.Millisecond))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// quoted is free text on one line, quoted, cut at 60 characters with an
// ellipsis (the merged view above shows it whole).
func quoted(s string) string {
	one := loop.OneLine(s, 4*60)
	if r := []rune(one); len(r) > 60 {
		one = strings.TrimSpace(string(r[:59])) + "…"
	}
	return strconv.Quote(one)
}
