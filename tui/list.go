package tui

import (
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// cursorList is the selection and scroll state of a list that renders only
// its visible rows (the Sets entries, the disagreements).
type cursorList struct {
	n              int // rows
	height         int // visible rows
	cursor, offset int
}

func (l *cursorList) setLen(n int) {
	l.n = n
	l.clamp()
}

func (l *cursorList) setHeight(h int) {
	l.height = max(h, 1)
	l.clamp()
}

func (l *cursorList) move(d int) {
	l.cursor += d
	l.clamp()
}

func (l *cursorList) clamp() {
	l.cursor = max(min(l.cursor, l.n-1), 0)
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+l.height {
		l.offset = l.cursor - l.height + 1
	}
	l.offset = max(min(l.offset, l.n-l.height), 0)
}

// visible is the range of rows on screen.
func (l *cursorList) visible() (from, to int) {
	return l.offset, min(l.offset+l.height, l.n)
}

// navKey moves the list on the movement keys and reports whether the key
// was one of them.
func (l *cursorList) navKey(k KeyMap, msg tea.KeyPressMsg) bool {
	switch {
	case key.Matches(msg, k.Up):
		l.move(-1)
	case key.Matches(msg, k.Down):
		l.move(1)
	case key.Matches(msg, k.PageUp):
		l.move(-l.height)
	case key.Matches(msg, k.PageDown):
		l.move(l.height)
	case key.Matches(msg, k.HalfUp):
		l.move(-max(l.height/2, 1))
	case key.Matches(msg, k.HalfDown):
		l.move(max(l.height/2, 1))
	case key.Matches(msg, k.Top):
		l.move(-l.n)
	case key.Matches(msg, k.Bottom):
		l.move(l.n)
	default:
		return false
	}
	return true
}

// padLines pads lines with blank ones to h lines of width w, or cuts them
// to h.
func padLines(lines []string, w, h int) string {
	if len(lines) > h {
		lines = lines[:max(h, 0)]
	}
	for len(lines) < h {
		lines = append(lines, strings.Repeat(" ", max(w, 0)))
	}
	return strings.Join(lines, "\n")
}

// listNav walks a screen's list for the item screen's grade-and-advance.
type listNav struct {
	ids  func() []string
	list *cursorList
}

func (n listNav) Prev(before string) (string, bool) {
	ids := n.ids()
	i := slices.Index(ids, before)
	if i <= 0 {
		return "", false
	}
	n.list.cursor = i - 1
	n.list.clamp()
	return ids[i-1], true
}

func (n listNav) Next(after string) (string, bool) {
	ids := n.ids()
	i := -1
	for j, id := range ids {
		if id == after {
			i = j
			break
		}
	}
	if i < 0 {
		i = n.list.cursor - 1 // it left the list: the row now under the cursor is next
	}
	if i+1 >= len(ids) {
		return "", false
	}
	n.list.cursor = i + 1
	n.list.clamp()
	return ids[i+1], true
}
