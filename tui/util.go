package tui

import (
	"sort"
	"strconv"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/loupe-dev/loupe/loop"
)

// pad cuts or pads plain or styled s to exactly w cells.
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	if isPlainASCII(s) {
		// Fast path for the common cell: one byte, one column.
		if len(s) > w {
			return s[:w-1] + "…"
		}
		return s + strings.Repeat(" ", w-len(s))
	}
	s = ansi.Truncate(s, w, "…")
	if n := ansi.StringWidth(s); n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// fit is pad for whole lines.
func fit(s string, w int) string { return pad(s, w) }

func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return s
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func nonEmpty(ss ...string) []string {
	out := ss[:0:0]
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

func sortStrings(ss []string) { sort.Strings(ss) }

// wrapLines word-wraps (possibly styled) text to width w, at most maxLines
// lines (0: no limit), the last cut marked with an ellipsis.
func wrapLines(text string, w, maxLines int) []string {
	if w <= 0 {
		return nil
	}
	wrapped := lipgloss.Wrap(text, w, " ")
	lines := strings.Split(wrapped, "\n")
	if maxLines > 0 && len(lines) > maxLines {
		lines = lines[:maxLines]
		lines[maxLines-1] = ansi.Truncate(lines[maxLines-1], w-1, "") + "…"
	}
	return lines
}

func outputText(ev *loop.Event) string {
	if ev == nil || ev.Output == nil {
		return ""
	}
	return ev.Output.Text
}

func inputText(ev *loop.Event) string {
	if ev == nil || ev.Input == nil {
		return ""
	}
	return ev.Input.Text
}

func splitLines(s string) []string { return strings.Split(s, "\n") }
func joinLines(ls []string) string { return strings.Join(ls, "\n") }
func repeat(s string, n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat(s, n)
}

// isPlainASCII reports whether s is printable ASCII without escapes, whose
// width is its length.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}
