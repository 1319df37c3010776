package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/report"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newReportCmd) }

func newReportCmd(a *app) *cobra.Command {
	var days int
	var out, format, endDay string
	cmd := &cobra.Command{
		Use:   "report [--days N] [--out FILE] [--format html|md]",
		Short: "A one-page results summary to share: HTML with charts, or Markdown with SVG charts",
		Long: `Write the loop's results on one page for people who never open a
terminal: the goal metric against its target per day with release
markers, the alerts and what to do, the guardrail metrics per model
version, why users turned thumbs down and how that moved, segments, golden
and red-flag coverage with the last recorded gate (loupe gate --record),
reviewer agreement, and three masked examples for each top failure reason.

The numbers are those of loupe trends and the TUI's Trends screen: with
edge sampling (intake.keep) they are over every interaction, stored in full
or only in the aggregates (latency within 0.5%), save pass_rate, over the
stored ones; the page then says how many are stored in full.

--format html (the default) writes one self-contained file: inline SVG and
CSS, no scripts, nothing loaded from the network, printable. --format md
writes Markdown for pull requests and wikis, with each chart as an SVG file
beside it (FILE-goal.svg, ...), referenced by relative path. The window
ends on the newest event's day unless --end says otherwise.`,
		Example: `  loupe report --out results.html
  loupe report --days 14 --format md --out docs/pilot.md
  loupe report --out - > results.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case "html", "md":
			default:
				return usageErr("--format %q: want html or md", format)
			}
			if days < 1 || days > 3660 {
				return usageErr("--days %d: want 1 to 3660", days)
			}
			if out == "" {
				out = "loupe-report." + format
			}
			if format == "md" && out == "-" {
				return usageErr("--format md writes its charts as SVG files beside the Markdown: give --out FILE.md")
			}
			var end time.Time
			if endDay != "" {
				var err error
				if end, err = time.Parse("2006-01-02", endDay); err != nil {
					return usageErr("--end %q: want YYYY-MM-DD", endDay)
				}
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), "loupe report")
			if err != nil {
				return err
			}
			in, err := reportInput(st, cfg, days, end)
			if err != nil {
				return withCode(exitInternal, err)
			}
			r := report.Build(in)
			if format == "html" {
				if err := writeReport(cmd, out, []byte(r.HTML())); err != nil {
					return err
				}
				if out != "-" {
					fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", out)
				}
				return nil
			}
			prefix := strings.TrimSuffix(filepath.Base(out), filepath.Ext(out))
			md, files := r.Markdown(prefix)
			dir := filepath.Dir(out)
			for name, svg := range files {
				if err := writeReport(cmd, filepath.Join(dir, name), []byte(svg)); err != nil {
					return err
				}
			}
			if err := writeReport(cmd, out, []byte(md)); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s and %d charts beside it\n", out, len(files))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&days, "days", trend.DefaultDays, "days in the window")
	f.StringVar(&out, "out", "", `output file ("-" for stdout, html only; default loupe-report.html or .md)`)
	f.StringVar(&format, "format", "html", "html (one self-contained page) or md (Markdown with SVG charts beside it)")
	f.StringVar(&endDay, "end", "", "last day of the window, YYYY-MM-DD (default: the newest event's day)")
	return cmd
}

// writeReport writes b to path whole or not at all (writeOut: a temporary
// file renamed into place); "-" is stdout.
func writeReport(cmd *cobra.Command, path string, b []byte) error {
	if path != "-" {
		dir := filepath.Dir(path)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			return withCode(exitInternal, fmt.Errorf("--out %s: directory %s does not exist", path, dir))
		}
	}
	if err := writeOut(cmd.OutOrStdout(), path, b); err != nil {
		return withCode(exitInternal, fmt.Errorf("--out %s: %w", path, err))
	}
	return nil
}

// reportInput gathers what the report needs from the store.
func reportInput(st *store.Store, cfg appConfig, days int, end time.Time) (report.Input, error) {
	d, err := loadReviewData(st)
	if err != nil {
		return report.Input{}, err
	}
	if end.IsZero() {
		end = d.trend().Newest()
	}
	if end.IsZero() {
		end = time.Now()
	}
	in := report.Input{Config: cfg.Config, Items: d.items, Grades: d.grades, Rest: d.rest, Labels: d.labels,
		Days: days, End: end, Now: time.Now(), Examples: map[string]report.Example{}}
	if in.Late, err = trend.LateFromSignals(d.items, st.AllSignals, days, end); err != nil {
		return in, fmt.Errorf("reading signals: %w", err)
	}
	if err := st.SetEntries(loop.SetGolden, func(e loop.SetEntry) error { in.Golden = append(in.Golden, e); return nil }); err != nil {
		return in, err
	}
	if err := st.SetEntries(loop.SetRedFlag, func(e loop.SetEntry) error { in.RedFlag = append(in.RedFlag, e); return nil }); err != nil {
		return in, err
	}
	at, res, ok, err := st.LastGateResult()
	if err != nil {
		return in, err
	}
	if ok {
		g := &report.GateRecord{At: at}
		if err := json.Unmarshal(res, &g.Result); err != nil {
			return in, fmt.Errorf("recorded gate result: %w", err)
		}
		in.Gate = g
	}
	for _, ids := range report.ExampleIDs(d.trend(), days, end) {
		for _, id := range ids {
			e, err := st.Event(id) // masked at ingest
			if err != nil {
				return in, err
			}
			ex := report.Example{ID: id, Model: e.ModelVersion, Task: e.TaskType, Segment: e.UserSegment}
			if e.Input != nil {
				ex.Input = e.Input.Text
			}
			if e.Output != nil {
				ex.Output = e.Output.Text
			}
			in.Examples[id] = ex
		}
	}
	return in, nil
}
