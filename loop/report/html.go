package report

import (
	"fmt"
	"strings"
)

// The page's CSS: no web fonts, print-friendly (charts and tables do not
// break across pages, colours print).
const css = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2228; background: #fff;
  max-width: 820px; margin: 24px auto; padding: 0 16px; line-height: 1.45; font-size: 14px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #e3e6ea; padding-bottom: 4px; }
.meta { color: #5b636d; margin: 0 0 16px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eceef1; vertical-align: top; }
th { background: #f5f6f8; font-weight: 600; }
td.act-roll { color: #b01c1c; font-weight: 700; white-space: nowrap; }
td.act-watch { color: #8a5a00; font-weight: 700; white-space: nowrap; }
figure { margin: 12px 0; }
figcaption { font-weight: 600; font-size: 13px; margin-bottom: 4px; }
svg { max-width: 100%; height: auto; }
blockquote { margin: 6px 0; padding: 6px 10px; border-left: 3px solid #c9d3e0; background: #f7f9fb; font-size: 13px; }
blockquote .h { color: #5b636d; font-size: 12px; }
ul { margin: 6px 0; padding-left: 20px; }
@media print {
  body { margin: 0; max-width: none; font-size: 11pt; }
  h2 { break-after: avoid; }
  figure, table, blockquote, svg { break-inside: avoid; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
`

// HTML is the page as one self-contained HTML document: inline CSS and
// SVG, no scripts, no fonts or images from anywhere.
func (r Report) HTML() string {
	charts := map[string]Chart{}
	for _, c := range r.Charts(false) {
		charts[c.Name] = c
	}
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
	b.WriteString(`<meta name="viewport" content="width=device-width, initial-scale=1">` + "\n")
	fmt.Fprintf(&b, "<title>%s</title>\n<style>%s</style>\n</head>\n<body>\n", esc(r.title()), css)
	fmt.Fprintf(&b, "<h1>%s</h1>\n<p class=\"meta\">%s</p>\n", esc(r.title()), esc(r.meta()))
	for _, s := range r.sections() {
		fmt.Fprintf(&b, "<section>\n<h2>%s</h2>\n", esc(s.title))
		for _, bl := range s.blocks {
			switch {
			case bl.para != "":
				fmt.Fprintf(&b, "<p>%s</p>\n", esc(bl.para))
			case bl.chart != "":
				c := charts[bl.chart]
				fmt.Fprintf(&b, "<figure id=\"chart-%s\"><figcaption>%s</figcaption>%s</figure>\n", c.Name, esc(c.Title), c.SVG)
			case len(bl.head) > 0:
				b.WriteString("<table>\n<tr>")
				for _, h := range bl.head {
					fmt.Fprintf(&b, "<th>%s</th>", esc(h))
				}
				b.WriteString("</tr>\n")
				for _, row := range bl.rows {
					b.WriteString("<tr>")
					for i, c := range row {
						class := ""
						if i == 0 && bl.head[0] == "Action" {
							class = ` class="act-watch"`
							if c == "ROLL BACK" {
								class = ` class="act-roll"`
							}
						}
						fmt.Fprintf(&b, "<td%s>%s</td>", class, esc(c))
					}
					b.WriteString("</tr>\n")
				}
				b.WriteString("</table>\n")
			case len(bl.items) > 0:
				b.WriteString("<ul>\n")
				for _, it := range bl.items {
					fmt.Fprintf(&b, "<li>%s</li>\n", esc(it))
				}
				b.WriteString("</ul>\n")
			case len(bl.quotes) > 0:
				for _, q := range bl.quotes {
					fmt.Fprintf(&b, "<blockquote><div class=\"h\">%s</div><div><b>asked:</b> %s</div><div><b>answered:</b> %s</div></blockquote>\n",
						esc(q.head), esc(orDash(q.input)), esc(orDash(q.output)))
				}
			}
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return b.String()
}

func (r Report) title() string { return "Feedback loop results, " + r.From + " to " + r.To }

func (r Report) meta() string {
	events := fmt.Sprintf("%d events", r.Events)
	if r.Sampled {
		events = fmt.Sprintf("%d interactions, %d stored in full (edge sampling: rates and latency percentiles are over all of them, latency within 0.5%%; pass_rate over the stored ones)", r.Events, r.Stored)
	}
	return fmt.Sprintf("%d days, %s. Made by loupe report on %s. Days are UTC.", r.Days, events, r.Now.UTC().Format("2006-01-02 15:04 UTC"))
}
