package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/exp/golden"
)

// ascii renders a view the way an ASCII-profile terminal gets it: no
// colours, text attributes kept. Together with the fixed clock and UTC this
// makes the golden files stable.
func ascii(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.Ascii}
	if _, err := w.WriteString(s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Golden files of View().Content per screen and size; go test -update
// rewrites them.
func TestGolden(t *testing.T) {
	screens := []struct {
		name  string
		setup func(h *harness)
	}{
		{"inbox", func(h *harness) { h.press("j", "j") }},
		{"inbox_filtered", func(h *harness) {
			h.press("/")
			h.typeText("seg:ent refund")
			h.press("enter", "j", "1", "3")
		}},
		{"inbox_graded", func(h *harness) { h.press("p", "2", "f", "g", "b") }},
		{"item", func(h *harness) {
			h.m.inbox.selectID("evt-031")
			h.press("2", "f")
			h.m.inbox.selectID("evt-031")
			h.press("enter", "4")
		}},
		{"item_note", func(h *harness) {
			h.press("enter", "n")
			h.typeText("tone is off")
		}},
		{"help", func(h *harness) { h.press("?") }},
	}
	for _, size := range [][2]int{{80, 24}, {160, 45}} {
		for _, sc := range screens {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size[0], size[1]), func(t *testing.T) {
				st, _ := openStore(t, nEvents)
				h := newHarness(t, st, size[0], size[1])
				sc.setup(h)
				golden.RequireEqual(t, ascii(t, h.m.View().Content))
			})
		}
	}
}
