package tui

import (
	"image/color"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textarea"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
)

// palette is the TUI's semantic colours for one background.
type palette struct {
	Text, Muted, Subtle, Accent, Border, SelBg color.Color
	Pass, Fail, Borderline, Warn, Error        color.Color
	Insert, Delete                             color.Color
}

func newPalette(isDark bool) palette {
	ld := lipgloss.LightDark(isDark)
	c := lipgloss.Color
	return palette{
		Text:       ld(c("#1F1F24"), c("#E6E6EA")),
		Muted:      ld(c("#6B6B78"), c("#9A9AA6")),
		Subtle:     ld(c("#A0A0AA"), c("#5E5E6A")),
		Accent:     ld(c("#5A3FD6"), c("#A48CFF")),
		Border:     ld(c("#C8C8D0"), c("#44444E")),
		SelBg:      ld(c("#E4DEFF"), c("#3A3360")),
		Pass:       ld(c("#1A7F37"), c("#4FD67A")),
		Fail:       ld(c("#C8232C"), c("#FF6B6B")),
		Borderline: ld(c("#9A6700"), c("#F2C14E")),
		Warn:       ld(c("#9A6700"), c("#F2C14E")),
		Error:      ld(c("#C8232C"), c("#FF6B6B")),
		Insert:     ld(c("#1A7F37"), c("#4FD67A")),
		Delete:     ld(c("#C8232C"), c("#FF6B6B")),
	}
}

// Styles are built once per background from the palette.
type Styles struct {
	isDark bool
	p      palette

	App, Header, Tab, TabActive, Muted, Subtle, Accent lipgloss.Style
	Title, Section, Label, Value                       lipgloss.Style
	Row, RowSelected, Cursor                           lipgloss.Style
	Pass, Fail, Borderline, ThumbUp, ThumbDown         lipgloss.Style
	Flag, Pending                                      lipgloss.Style
	Insert, Delete                                     lipgloss.Style
	Panel, PanelTitle                                  lipgloss.Style
	StatusInfo, StatusError, StatusBar                 lipgloss.Style
	ErrorBox                                           lipgloss.Style
	Help                                               help.Styles
}

// NewStyles builds the styles for a dark or light terminal background.
func NewStyles(isDark bool) Styles {
	p := newPalette(isDark)
	s := lipgloss.NewStyle
	st := Styles{isDark: isDark, p: p}
	st.App = s().Foreground(p.Text)
	st.Header = s().Bold(true).Foreground(p.Accent)
	st.Tab = s().Foreground(p.Muted).Padding(0, 1)
	st.TabActive = s().Foreground(p.Accent).Bold(true).Underline(true).Padding(0, 1)
	st.Muted = s().Foreground(p.Muted)
	st.Subtle = s().Foreground(p.Subtle)
	st.Accent = s().Foreground(p.Accent)
	st.Title = s().Bold(true).Foreground(p.Text)
	st.Section = s().Bold(true).Foreground(p.Accent)
	st.Label = s().Foreground(p.Muted)
	st.Value = s().Foreground(p.Text)
	st.Row = s()
	st.RowSelected = s().Background(p.SelBg).Bold(true)
	st.Cursor = s().Foreground(p.Accent).Bold(true)
	st.Pass = s().Foreground(p.Pass).Bold(true)
	st.Fail = s().Foreground(p.Fail).Bold(true)
	st.Borderline = s().Foreground(p.Borderline).Bold(true)
	st.ThumbUp = s().Foreground(p.Pass)
	st.ThumbDown = s().Foreground(p.Fail)
	st.Flag = s().Foreground(p.Warn).Bold(true)
	st.Pending = s().Foreground(p.Accent).Italic(true)
	st.Insert = s().Foreground(p.Insert).Underline(true)
	st.Delete = s().Foreground(p.Delete).Strikethrough(true)
	st.Panel = s().Border(lipgloss.RoundedBorder()).BorderForeground(p.Border).Padding(0, 1)
	st.PanelTitle = s().Bold(true).Foreground(p.Accent)
	st.StatusBar = s().Foreground(p.Muted)
	st.StatusInfo = s().Foreground(p.Pass)
	st.StatusError = s().Foreground(p.Error).Bold(true)
	st.ErrorBox = s().Border(lipgloss.RoundedBorder()).BorderForeground(p.Error).Padding(1, 2)
	st.Help = help.DefaultStyles(isDark)
	return st
}

// inputStyles and areaStyles are the bubbles defaults with a steady cursor:
// a blinking one repaints twice a second, which is wasted bandwidth over SSH.
func inputStyles(isDark bool) textinput.Styles {
	st := textinput.DefaultStyles(isDark)
	st.Cursor.Blink = false
	return st
}

func areaStyles(isDark bool) textarea.Styles {
	st := textarea.DefaultStyles(isDark)
	st.Cursor.Blink = false
	return st
}
