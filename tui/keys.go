package tui

import (
	"charm.land/bubbles/v2/key"
)

// KeyMap is every key the TUI answers to, in one place; the help screen is
// generated from it.
type KeyMap struct {
	Up, Down, PageUp, PageDown, Top, Bottom key.Binding
	HalfUp, HalfDown                        key.Binding
	PrevItem, NextItem                      key.Binding // the item screen walks its list
	PrevQueue, NextQueue                    key.Binding
	Open, Back, Filter, Accept              key.Binding
	NextScreen, PrevScreen                  key.Binding

	// Trends: the metric shown in detail and what its series are split by.
	PrevMetric, NextMetric, Split key.Binding

	Pass, Fail, Borderline key.Binding
	Reason                 key.Binding // 1–9; the digit picks the code
	Note, Reference        key.Binding
	Golden, RedFlag        key.Binding
	Undo, Skip             key.Binding
	Save                   key.Binding // finish the reference editor

	// Sets screen: add an entry, edit its reference and checks, remove it.
	AddEntry, EditEntry, RemoveEntry key.Binding

	Help, Quit, ForceQuit key.Binding
}

// DefaultKeyMap is the keymap of DESIGN.md.
func DefaultKeyMap() KeyMap {
	b := func(help, desc string, keys ...string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(help, desc))
	}
	return KeyMap{
		Up:         b("k/↑", "up", "k", "up"),
		Down:       b("j/↓", "down", "j", "down"),
		PageUp:     b("pgup", "page up", "pgup", "ctrl+b"),
		PageDown:   b("pgdn", "page down", "pgdown", "ctrl+f", "space"),
		Top:        b("home", "first", "home"),
		Bottom:     b("end/G", "last", "end", "G"),
		HalfUp:     b("ctrl+u", "half page up", "ctrl+u"),
		HalfDown:   b("ctrl+d", "half page down", "ctrl+d"),
		PrevItem:   b("[", "previous item", "["),
		NextItem:   b("]", "next item", "]"),
		PrevQueue:  b("h/←", "prev queue", "h", "left"),
		NextQueue:  b("l/→", "next queue", "l", "right"),
		Open:       b("enter", "open", "enter"),
		Back:       b("esc", "back", "esc"),
		Filter:     b("/", "filter", "/"),
		Accept:     b("enter", "done", "enter"),
		NextScreen: b("tab", "next screen", "tab"),
		PrevScreen: b("shift+tab", "prev screen", "shift+tab"),

		PrevMetric: b("[", "prev metric", "["),
		NextMetric: b("]/m", "next metric", "]", "m"),
		Split:      b("v", "split model/segment/task", "v"),

		Pass:       b("p", "pass", "p"),
		Fail:       b("f", "fail", "f"),
		Borderline: b("b", "borderline", "b"),
		Reason:     b("1-9", "toggle reason", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
		Note:       b("n", "note", "n"),
		Reference:  b("e", "reference", "e"),
		Golden:     b("g", "golden", "g"),
		RedFlag:    b("r", "red-flag", "r"),
		Undo:       b("u", "undo", "u"),
		Skip:       b("s", "skip", "s"),
		Save:       b("ctrl+s", "save", "ctrl+s"),

		AddEntry:    b("a", "add an entry", "a"),
		EditEntry:   b("e", "edit reference/checks", "e"),
		RemoveEntry: b("x", "remove the entry", "x", "delete"),

		Help:      b("?", "help", "?"),
		Quit:      b("q", "quit", "q"),
		ForceQuit: b("ctrl+c", "quit", "ctrl+c"),
	}
}

func (k KeyMap) gradeKeys() []key.Binding {
	return []key.Binding{k.Pass, k.Fail, k.Borderline, k.Reason, k.Note, k.Reference, k.Golden, k.RedFlag, k.Undo, k.Skip}
}

func (k KeyMap) globalKeys() []key.Binding {
	return []key.Binding{k.NextScreen, k.PrevScreen, k.Help, k.Quit}
}
