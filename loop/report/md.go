package report

import (
	"fmt"
	"strings"
)

// Markdown is the page as Markdown for pull requests and wikis, with each
// chart an SVG file beside it: files maps a file name (prefix + "-" +
// chart name + ".svg") to its content, and the Markdown refers to each by
// that relative name.
func (r Report) Markdown(prefix string) (md string, files map[string]string) {
	files = map[string]string{}
	names := map[string]string{}
	for _, c := range r.Charts(true) {
		f := prefix + "-" + c.Name + ".svg"
		files[f] = c.SVG
		names[c.Name] = f
	}
	titles := map[string]string{}
	for _, c := range r.Charts(true) {
		titles[c.Name] = c.Title
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n%s\n", r.title(), r.meta())
	for _, s := range r.sections() {
		fmt.Fprintf(&b, "\n## %s\n\n", s.title)
		for _, bl := range s.blocks {
			switch {
			case bl.para != "":
				fmt.Fprintf(&b, "%s\n\n", mdEsc(bl.para))
			case bl.chart != "":
				fmt.Fprintf(&b, "**%s**\n\n![%s](%s)\n\n", mdEsc(titles[bl.chart]), mdEsc(titles[bl.chart]), names[bl.chart])
			case len(bl.head) > 0:
				b.WriteString("| " + strings.Join(mdCells(bl.head), " | ") + " |\n")
				b.WriteString("|" + strings.Repeat(" --- |", len(bl.head)) + "\n")
				for _, row := range bl.rows {
					b.WriteString("| " + strings.Join(mdCells(row), " | ") + " |\n")
				}
				b.WriteString("\n")
			case len(bl.items) > 0:
				for _, it := range bl.items {
					fmt.Fprintf(&b, "- %s\n", mdEsc(it))
				}
				b.WriteString("\n")
			case len(bl.quotes) > 0:
				for _, q := range bl.quotes {
					fmt.Fprintf(&b, "> %s  \n> **asked:** %s  \n> **answered:** %s\n\n", mdEsc(q.head), mdEsc(orDash(q.input)), mdEsc(orDash(q.output)))
				}
			}
		}
	}
	return b.String(), files
}

var mdReplacer = strings.NewReplacer(`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "<", "&lt;", ">", "&gt;", "|", `\|`, "#", `\#`)

// mdEsc escapes text so that Markdown shows it as written (user text must
// not become links, images or HTML).
func mdEsc(s string) string { return mdReplacer.Replace(s) }

func mdCells(cs []string) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = mdEsc(c)
	}
	return out
}
