package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/store"
)

// common is what every screen shares, built once per Model (per SSH
// session later): no package-level state.
type common struct {
	trace    func(string) // Options.Trace, or nil
	st       *store.Store
	reviewer string
	// cfg is the config in force; adjudicator: the reviewer has that role
	// and sees every grade (everyone else grades blind).
	cfg         config.Config
	adjudicator bool
	taxonomy    []loop.ReasonCode
	rubric      loop.Rubric
	keys        KeyMap
	styles      Styles
	loc         *time.Location
	clock       func() time.Time
	lastNow     time.Time
	// tick is tea.Tick; tests replace it so timers never block them.
	tick func(time.Duration, func(time.Time) tea.Msg) tea.Cmd

	// From the config: the goal, the guardrails, the set targets, the
	// agreement floor.
	goal     config.Goal
	guards   config.Guardrails
	targets  config.SetTargets
	minKappa float64
}

// now is the clock, made strictly increasing: label history is keyed by
// time, so two labels of one reviewer must never share an instant.
func (c *common) now() time.Time {
	t := c.clock()
	if !t.After(c.lastNow) {
		t = c.lastNow.Add(time.Microsecond)
	}
	c.lastNow = t
	return t
}

// screen is one page of the TUI. It owns its state, keys and size; the root
// model routes messages to it and lays it out.
type screen interface {
	Init() tea.Cmd
	Update(msg tea.Msg) tea.Cmd
	View() string
	SetSize(width, height int)
	Title() string
	// Typing reports whether a text input has focus, so that q and the
	// other global keys are typed rather than obeyed.
	Typing() bool
	ShortHelp() []key.Binding
	FullHelp() [][]key.Binding
}

// Messages between screens and the root.
type (
	// OpenItemMsg opens an item in the item screen. nav is the list it
	// was opened from, which grade-and-advance walks (nil: the inbox).
	OpenItemMsg struct {
		ID  string
		nav navigator
	}
	// backMsg returns to the inbox.
	backMsg struct{}
	// editMsg opens the note or reference editor on an item.
	editMsg struct {
		ID        string
		Reference bool // else note
		Initial   string
	}
	// statusMsg is a transient message for the status bar.
	statusMsg struct {
		Text string
		Err  bool
	}
	statusExpiredMsg struct{ id int }
	// fatalMsg replaces the screen with an error view.
	fatalMsg struct{ err error }
)

func statusInfo(s string) tea.Cmd {
	return func() tea.Msg { return statusMsg{Text: s} }
}

// statusSaved says a write is durable; it replaces whatever hint was
// shown before.
func statusSaved() tea.Cmd { return statusInfo("saved") }

func statusErr(s string) tea.Cmd {
	return func() tea.Msg { return statusMsg{Text: s, Err: true} }
}

func cmdOf(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }
