package tui

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
)

// helpView is the help screen (?): every key of the screen it was opened
// on, the inbox legend, the filter syntax and the reason codes, laid out in
// columns that fit the terminal (two at 80 columns), scrolling when it is
// taller than the terminal. It also renders the short help of the status
// line.
type helpView struct {
	c             *common
	shown         bool
	screen        screen
	width, height int
	offset        int
	bar           help.Model
}

func newHelpView(c *common) *helpView {
	return &helpView{c: c, bar: help.New()}
}

func (h *helpView) SetSize(w, ht int) {
	h.width, h.height = w, max(ht, 1)
	h.bar.SetWidth(w)
}

func (h *helpView) show(s screen) { h.shown, h.screen, h.offset = true, s, 0 }

func (h *helpView) key(msg tea.KeyPressMsg) {
	k := h.c.keys
	switch {
	case key.Matches(msg, k.Help), key.Matches(msg, k.Back):
		h.shown = false
	case key.Matches(msg, k.Down):
		h.offset = min(h.offset+1, max(len(h.lines())-h.height, 0))
	case key.Matches(msg, k.Up):
		h.offset = max(0, h.offset-1)
	case key.Matches(msg, k.PageDown), key.Matches(msg, k.HalfDown):
		h.offset = min(h.offset+h.height/2, max(len(h.lines())-h.height, 0))
	case key.Matches(msg, k.PageUp), key.Matches(msg, k.HalfUp):
		h.offset = max(0, h.offset-h.height/2)
	}
}

// short is the one-line help of the status bar.
func (h *helpView) short(bs []key.Binding) string {
	h.bar.Styles = h.c.styles.Help
	return h.bar.ShortHelpView(bs)
}

func (h *helpView) View() string {
	s := h.c.styles
	lines := h.lines()
	if len(lines) > h.height {
		off := min(h.offset, len(lines)-h.height)
		rest := len(lines) - off - h.height + 1
		lines = lines[off:]
		if len(lines) > h.height {
			lines = append(lines[:h.height-1], fit(s.Muted.Render(fmt.Sprintf("  … %d more lines: j/↓ scrolls", rest)), h.width))
		}
	}
	return padLines(lines, h.width, h.height)
}

// lines is the whole help screen fitted to the width.
func (h *helpView) lines() []string {
	s := h.c.styles
	k := h.c.keys
	colW := 38
	cols := max(h.width/colW, 1)
	var lines []string
	add := func(ls ...string) {
		for _, l := range ls {
			lines = append(lines, fit(l, h.width))
		}
	}
	title := "Keys"
	if h.screen != nil {
		title += " — " + h.screen.Title()
	}
	add(s.Section.Render(title))
	var entries []string
	if h.screen != nil {
		for _, group := range h.screen.FullHelp() {
			for _, b := range group {
				if !b.Enabled() {
					continue
				}
				entries = append(entries, s.Title.Render(pad(b.Help().Key, 11))+" "+pad(b.Help().Desc, colW-13))
			}
		}
	}
	for i := 0; i < len(entries); i += cols {
		add(strings.Join(entries[i:min(i+cols, len(entries))], " "))
	}
	add("", s.Section.Render("Inbox columns"),
		"  ▲ ▼ the user's thumb · pass fail bord your grade (others' only",
		"  after you graded, or as adjudicator) · * a draft, not graded yet",
		"  G golden · R red-flag · ! policy violation or escalation",
		"", s.Section.Render("Filter (/)  ↑/↓ recall earlier filters"),
		"  key:value matches a field fuzzily (seg:ent finds enterprise):",
		"  reason: segment: (seg:) model: task: thumb: grade: locale: set:",
		"  bare words fuzzy-match the text and rank it;",
		`  "a phrase" in quotes must appear exactly (also key:"value")`,
		"", s.Section.Render("Reason codes ("+k.Reason.Help().Key+")"))
	for i, rc := range h.c.taxonomy {
		if i >= 9 {
			break
		}
		add("  " + s.Title.Render(string(rune('1'+i))) + " " + rc.Code + s.Muted.Render("  "+ansi.Truncate(rc.Description, max(h.width-len(rc.Code)-7, 0), "…")))
	}
	return lines
}
