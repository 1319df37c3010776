// Package tui is loupe's terminal UI: an inbox of feedback items with fuzzy
// filtering, an item view, and keyboard grading against the rubric.
//
// The root Model only routes messages and lays screens out; each screen owns
// its state, keys and size; the workspace holds what they share (items,
// labels, drafts, undo). Update never does I/O: store calls run in commands
// whose results come back as messages tagged with what they belong to.
package tui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/store"
)

// Options configure a TUI session. The zero value works.
type Options struct {
	// Reviewer is who grades; default $LOUPE_REVIEWER, then $USER.
	Reviewer string
	// Input and Output default to the terminal (stdin, stdout).
	Input  io.Reader
	Output io.Writer
	// Config is the loupe.yaml in force: the taxonomy and rubric, the goal
	// and guardrails (the Trends screen), the set targets (the Sets
	// screen) and the review settings (overlap, roles, min_kappa). nil
	// means config.Default().
	Config *config.Config
	// Now is the clock for label times; default time.Now.
	Now func() time.Time
	// Location shows times in this zone; default time.Local.
	Location *time.Location
	// ProgramOptions are passed to tea.NewProgram by Run (an SSH session
	// adds its own).
	ProgramOptions []tea.ProgramOption
	// Compare, when set, adds the Compare screen and opens on it
	// (compare.go).
	Compare *CompareOptions
	// Trace, when set, is told of milestones ("first-frame", "loaded",
	// "filtered") as they happen, for measuring start-up (make bench).
	// It must not block.
	Trace func(milestone string)
}

// Screen indices, in the tab order of Model.screens.
const (
	screenInbox = iota
	screenItem
	screenSets
	screenTrends
	screenAgreement
)

// Model is the root Bubble Tea model.
type Model struct {
	traced  bool // the first frame has been reported to Options.Trace
	c       *common
	ws      *workspace
	inbox   *inbox
	item    *itemView
	screens []screen
	active  int
	// returnTo is the screen esc goes back to from the item screen: the
	// one the item was opened from.
	returnTo int

	// unwatch stops the store watch Run started (see watch.go).
	unwatch func()
	compare *compareView // compare.go; nil without Options.Compare

	width, height int
	help          *helpView
	editor        *editor
	confirm       *confirmBox

	status    string
	statusErr bool
	statusID  int

	fatal error
}

// statusTTL is how long a transient status message stays.
const statusTTL = 5 * time.Second

// New builds the root model on an open store.
func New(st *store.Store, o Options) *Model {
	cfg := config.Default()
	if o.Config != nil {
		cfg = *o.Config
	}
	c := &common{
		st:       st,
		reviewer: o.Reviewer,
		cfg:      cfg,
		taxonomy: cfg.Taxonomy,
		rubric:   cfg.Rubric,
		keys:     DefaultKeyMap(),
		styles:   NewStyles(true),
		loc:      o.Location,
		clock:    o.Now,
		tick:     tea.Tick,
		goal:     cfg.Goal,
		guards:   cfg.Guardrails,
		targets:  cfg.Sets,
		minKappa: cfg.Review.MinKappa,
		trace:    o.Trace,
	}
	if c.reviewer == "" {
		c.reviewer = os.Getenv("LOUPE_REVIEWER")
	}
	if c.reviewer == "" {
		c.reviewer = os.Getenv("USER")
	}
	if c.reviewer == "" {
		c.reviewer = "reviewer"
	}
	c.adjudicator = cfg.Review.IsAdjudicator(c.reviewer)
	if len(c.taxonomy) == 0 {
		c.taxonomy = loop.DefaultTaxonomy()
	}
	if len(c.rubric.Grades) == 0 {
		c.rubric = loop.DefaultRubric()
	}
	if c.loc == nil {
		c.loc = time.Local
	}
	if c.clock == nil {
		c.clock = time.Now
	}
	ws := newWorkspace(c)
	in := newInbox(c, ws)
	m := &Model{c: c, ws: ws, inbox: in, item: newItemView(c, ws, in), help: newHelpView(c)}
	// The one place screens are registered, in tab order (the screen*
	// constants index it). A new screen goes here and in the constants.
	m.screens = []screen{
		screenInbox:     m.inbox,
		screenItem:      m.item,
		screenSets:      newSetsView(c, ws),
		screenTrends:    newTrendsView(c, ws),
		screenAgreement: newAgreementView(c, ws),
	}
	m.addCompare(o.Compare) // compare.go
	return m
}

// Run opens the TUI on an open store and blocks until the user quits. Writes
// still in flight when the program stops are finished before it returns.
//
// It follows the store's changes (Watching): another view of the same store
// grading an item shows here too.
func Run(ctx context.Context, st *store.Store, o Options) error {
	m := New(st, o)
	ch, stop := st.Watch()
	m.unwatch = stop
	opts := []tea.ProgramOption{tea.WithContext(ctx)}
	if o.Input != nil {
		opts = append(opts, tea.WithInput(o.Input))
	}
	if o.Output != nil {
		opts = append(opts, tea.WithOutput(o.Output))
	}
	opts = append(opts, o.ProgramOptions...)
	_, err := tea.NewProgram(Watching(m, ch), opts...).Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		err = nil // cancelled by the caller: a normal end
	}
	return errors.Join(err, m.Close())
}

// Close cancels background searches and background computations, stops
// the store watch Run started and finishes pending writes. Run calls it; a
// caller driving the model itself (tests, SSH) calls it after the program
// ends.
//
// A note or reference still open in the editor (the connection dropped,
// the server shut down) is kept as the item's draft.
func (m *Model) Close() error {
	if m.inbox.cancel != nil {
		m.inbox.cancel()
	}
	if m.unwatch != nil {
		m.unwatch()
	}
	if e := m.editor; e != nil && e.changed() {
		m.editor = nil
		m.keepEdit(e.done())
	}
	errs := append(m.ws.flush(), m.flushCompare()...) // flushCompare: compare.go
	if err := m.ws.releaseHeld(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{load(m.c.st, m.c.reviewer, m.c.adjudicator, m.c.cfg.Review.Overlap, m.c.clock()), tea.RequestBackgroundColor}
	for _, s := range m.screens {
		cmds = append(cmds, s.Init())
	}
	return tea.Batch(cmds...)
}

func (m *Model) layout() {
	h := m.height - 2 // header and status bar
	if m.editor != nil {
		h -= m.editor.height()
		m.editor.setWidth(m.width)
	}
	for _, s := range m.screens {
		s.SetSize(m.width, max(h, 1))
	}
	m.help.SetSize(m.width, m.height-2)
}

func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if m.c.trace != nil {
		switch msg := msg.(type) {
		case loadedMsg:
			m.c.trace("loaded")
		case searchResultMsg:
			if !msg.key.query.Empty() && msg.err == nil {
				m.c.trace("filtered")
			}
		}
	}
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		m.layout()
		return m, nil
	case tea.BackgroundColorMsg:
		m.c.styles = NewStyles(msg.IsDark())
		return m, m.broadcast(msg)
	case confirmMsg:
		m.confirm = msg.box
		return m, nil
	case leaseMsg:
		return m, m.ws.leased(msg)
	case fatalMsg:
		m.fatal = msg.err
		return m, nil
	case statusMsg:
		m.status, m.statusErr = msg.Text, msg.Err
		m.statusID++
		id := m.statusID
		return m, m.c.tick(statusTTL, func(time.Time) tea.Msg { return statusExpiredMsg{id: id} })
	case statusExpiredMsg:
		if msg.id == m.statusID {
			m.status = ""
		}
		return m, nil
	case loadedMsg:
		if msg.err != nil {
			m.fatal = msg.err
			return m, nil
		}
		m.ws.setLoaded(msg)
		return m, tea.Batch(m.broadcast(msg), releaseLoadGarbage)
	case changeDoneMsg:
		return m, m.ws.done(msg)
	case OpenItemMsg:
		if m.active != screenItem {
			m.returnTo = m.active
		}
		m.activate(screenItem)
		return m, m.item.Update(msg)
	case backMsg:
		cmd := m.activate(m.returnTo)
		return m, tea.Batch(cmd, m.inbox.Update(msg))

	case editMsg:
		m.editor = newEditor(m.c, msg)
		m.layout()
		return m, m.editor.focus()
	case editDoneMsg:
		m.editor = nil
		m.layout()
		if msg.cancelled {
			return m, nil
		}
		return m, m.keepEdit(msg)
	case tea.KeyPressMsg:
		return m, m.key(msg)
	case tea.PasteMsg:
		if m.editor != nil {
			return m, m.editor.update(msg)
		}
		return m, m.screens[m.active].Update(msg)
	case tea.MouseMsg:
		if m.editor != nil || m.confirm != nil || m.help.shown {
			return m, nil
		}
		return m, m.screens[m.active].Update(msg)
	}
	if m.editor != nil {
		if cmd := m.editor.update(msg); cmd != nil {
			return m, tea.Batch(cmd, m.broadcast(msg))
		}
	}
	return m, m.broadcast(msg)
}

// broadcast hands a message to every screen; each takes what is tagged for
// it and ignores the rest.
func (m *Model) broadcast(msg tea.Msg) tea.Cmd {
	var cmds []tea.Cmd
	for _, s := range m.screens {
		cmds = append(cmds, s.Update(msg))
	}
	return tea.Batch(cmds...)
}

// keepEdit puts a finished note or reference where it belongs: the draft,
// or the label of a graded item without one.
func (m *Model) keepEdit(msg editDoneMsg) tea.Cmd {
	var cmd tea.Cmd
	if msg.reference {
		cmd = m.ws.SetReference(msg.id, msg.text)
	} else {
		cmd = m.ws.SetNote(msg.id, msg.text)
	}
	m.item.refresh()
	return cmd
}

func (m *Model) key(msg tea.KeyPressMsg) tea.Cmd {
	k := m.c.keys
	if b := m.confirm; b != nil {
		m.confirm = nil
		if key.Matches(msg, k.ForceQuit) {
			return tea.Quit // asked once already: a second ctrl+c means it
		}
		return b.answer(msg)
	}
	if key.Matches(msg, k.ForceQuit) {
		return m.quit()
	}
	if m.fatal != nil {
		if key.Matches(msg, k.Quit) || key.Matches(msg, k.Back) {
			return tea.Quit
		}
		return nil
	}
	if m.editor != nil {
		return m.editor.update(msg)
	}
	active := m.screens[m.active]
	if m.help.shown {
		if key.Matches(msg, k.Quit) {
			return m.quit()
		}
		m.help.key(msg)
		return nil
	}
	if !active.Typing() {
		switch {
		case key.Matches(msg, k.Quit):
			return m.quit()
		case key.Matches(msg, k.Help):
			m.help.show(active)
			return nil
		case key.Matches(msg, k.NextScreen):
			return m.nextScreen(1)
		case key.Matches(msg, k.PrevScreen):
			return m.nextScreen(-1)
		}
	}
	return active.Update(msg)
}

// quit ends the session, first asking what to do with what was typed and
// not graded: a note still in the editor, drafts made this session. Drafts
// are in the store already; "keep" leaves them there for next time.
func (m *Model) quit() tea.Cmd {
	e := m.editor
	if e != nil && !e.changed() {
		e = nil
	}
	ids := m.ws.unsaved()
	if e == nil && len(ids) == 0 {
		return tea.Quit
	}
	what := fmt.Sprintf("%d ungraded draft(s): %s", len(ids), strings.Join(ids[:min(len(ids), 2)], ", "))
	if len(ids) == 1 {
		what = "an ungraded draft on " + ids[0]
	}
	if e != nil {
		what = "your " + e.what() + " not kept yet"
	}
	return askCmd(&confirmBox{
		question: "Quit with " + what + "?",
		choices: []choice{
			{"k", "keep for later", func() tea.Cmd {
				var cmd tea.Cmd
				if e != nil {
					m.editor = nil
					cmd = m.keepEdit(e.done())
				}
				return tea.Sequence(cmd, tea.Quit)
			}},
			{"d", "discard", func() tea.Cmd {
				m.editor = nil
				return tea.Sequence(m.ws.discardDrafts(), tea.Quit)
			}},
		},
	})
}

// nextScreen cycles through the screens (d is +1 or -1); the item screen
// shows the inbox's selection.
func (m *Model) nextScreen(d int) tea.Cmd {
	n := len(m.screens)
	next := ((m.active+d)%n + n) % n
	if next == screenItem {
		m.activate(screenItem)
		m.returnTo = screenInbox
		if id := m.inbox.selected(); id != "" && id != m.item.id {
			return m.item.Update(OpenItemMsg{ID: id})
		}
		m.item.refresh()
		return nil
	}
	return m.activate(next)
}

// focuser is a screen that refreshes what it shows when it comes to the
// front (the Sets, Trends and Agreement screens read the store then), and
// keeps still while another screen is shown.
type focuser interface {
	focus() tea.Cmd
	blur()
}

// activate brings screen i to the front.
func (m *Model) activate(i int) tea.Cmd {
	if f, ok := m.screens[m.active].(focuser); ok && m.active != i {
		f.blur()
	}
	m.active = i
	if f, ok := m.screens[i].(focuser); ok {
		return f.focus()
	}
	return nil
}

func (m *Model) View() tea.View {
	if m.c.trace != nil && !m.traced {
		m.traced = true
		m.c.trace("first-frame")
	}
	v := tea.NewView(m.render())
	v.AltScreen = true
	v.MouseMode = tea.MouseModeCellMotion // wheel scrolls, a click selects
	v.WindowTitle = "loupe"
	return v
}

func (m *Model) render() string {
	s := m.c.styles
	if m.width == 0 || m.height == 0 {
		return "loading…"
	}
	if m.fatal != nil {
		box := s.ErrorBox.Width(min(m.width-4, 80)).Render(
			s.StatusError.Render("loupe cannot go on") + "\n\n" + m.fatal.Error() + "\n\n" + s.Muted.Render("press q to quit"))
		return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, box)
	}
	active := m.screens[m.active]
	var body string
	if m.help.shown {
		body = m.help.View()
	} else {
		body = active.View()
	}
	parts := []string{m.headerView(), body}
	if m.editor != nil {
		parts = append(parts, m.editor.view())
	}
	parts = append(parts, m.statusView())
	return lipgloss.JoinVertical(lipgloss.Left, parts...)
}

func (m *Model) headerView() string {
	s := m.c.styles
	left := s.Header.Render("loupe") + " "
	for i, sc := range m.screens {
		st := s.Tab
		if i == m.active && !m.help.shown {
			st = s.TabActive
		}
		left += st.Render(sc.Title())
	}
	if m.help.shown {
		left += s.TabActive.Render("Help")
	}
	who := m.c.reviewer
	if m.c.adjudicator {
		who += " (adjudicator)"
	}
	right := s.Muted.Render(who)
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return fit(left, m.width)
	}
	return left + strings.Repeat(" ", gap) + right
}

func (m *Model) statusView() string {
	s := m.c.styles
	if m.confirm != nil {
		return m.confirm.view(s, m.width)
	}
	if m.status != "" {
		st := s.StatusInfo
		if m.statusErr {
			st = s.StatusError
		}
		return fit(st.Render(m.status), m.width)
	}
	var bindings []key.Binding
	if m.editor != nil {
		bindings = m.editor.help()
	} else if m.help.shown {
		bindings = []key.Binding{m.c.keys.Down, m.c.keys.Up, m.c.keys.Back, m.c.keys.Quit}
	} else {
		bindings = m.screens[m.active].ShortHelp()
	}
	return fit(m.help.short(bindings), m.width)
}

// Compile-time checks.
var _ tea.Model = (*Model)(nil)
var _ screen = (*inbox)(nil)
var _ screen = (*itemView)(nil)
var _ screen = (*setsView)(nil)
var _ screen = (*trendsView)(nil)
var _ screen = (*agreementView)(nil)

// releaseLoadGarbage returns to the OS the memory that loading a large store
// used and dropped (iteration buffers, the chunks summaries were gathered
// in): otherwise Go keeps it, and a million-event inbox would hold twice
// its live heap. It runs once, as a command, after the load.
func releaseLoadGarbage() tea.Msg {
	debug.FreeOSMemory()
	return nil
}
