package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/sample"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newSampleCmd) }

func newSampleCmd(a *app) *cobra.Command {
	var day string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "sample [--day YYYY-MM-DD]",
		Short: "Fill the review queue from a day's events by the config's sampling rules",
		Long: `Pick a day's events for review by the sampling rules of loupe.yaml (a random
share, all thumbs-down, automated red flags, chosen segments, low confidence,
error-prone tasks, and always a share of successes), and add them to the
review queue: the TUI's "to review" queue shows each with why it was picked.
The review.overlap share of the queue goes to every reviewer (so agreement
can be measured) and the rest is split among them, as the TUI hands it out.

The same day and seed always give the same sample; items already queued or
graded are skipped, so running it twice adds nothing. The day defaults to
the newest event's UTC day.`,
		Example: `  loupe sample
  loupe sample --day 2026-11-19 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), "loupe sample")
			if err != nil {
				return err
			}
			d, err := loadReviewData(st)
			if err != nil {
				return withCode(exitInternal, err)
			}
			when := d.newest
			if day != "" {
				if when, err = time.Parse("2006-01-02", day); err != nil {
					return usageErr("--day %q: want YYYY-MM-DD", day)
				}
			}
			res, added, err := sampleDay(st, cfg, d, when, dryRun)
			if err != nil {
				return withCode(exitInternal, err)
			}
			dayStr := when.UTC().Format("2006-01-02")
			w := cmd.OutOrStdout()
			if a.json {
				b, _ := json.Marshal(map[string]any{"day": dayStr, "picked": len(res.Items), "queued": added, "per_rule": res.PerRule})
				fmt.Fprintln(w, string(b))
				return nil
			}
			fmt.Fprintf(w, "%s: %d events picked, %d added to the review queue\n", dayStr, len(res.Items), added)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "RULE\tKIND\tPICKED")
			for _, r := range cfg.Sampling.Rules {
				fmt.Fprintf(tw, "%s\t%s\t%d\n", r.Name, r.Kind, res.PerRule[r.Name])
			}
			tw.Flush()
			if cfg.Review.Overlap > 0 {
				fmt.Fprintf(w, "review.overlap %.0f%%: that share of the queue goes to every reviewer (for agreement), the rest to one each\n", 100*cfg.Review.Overlap)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&day, "day", "", "UTC day to sample, YYYY-MM-DD (default: the newest event's day)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "show what would be picked without queueing it")
	return cmd
}

// sampleDay picks a day's events by the config's rules, skipping events
// already graded or queued, and queues them unless dryRun.
func sampleDay(st *store.Store, cfg appConfig, d *reviewData, when time.Time, dryRun bool) (sample.Result, int, error) {
	already := map[string]bool{}
	for _, l := range d.labels {
		already[l.EventID] = true
	}
	if err := st.Queued(func(it loop.QueueItem) error { already[it.EventID] = true; return nil }); err != nil {
		return sample.Result{}, 0, err
	}
	// No fixed pairs: the TUI deals out the queue by review.overlap as
	// reviewers work (see loop/assign).
	res := sample.Sample(when, cfg.Sampling.Seed, d.items, cfg.Sampling.Rules, already, 0, nil)
	if dryRun {
		return res, 0, nil
	}
	items := make([]loop.QueueItem, len(res.Items))
	now := time.Now().UTC()
	day := when.UTC().Format("2006-01-02")
	for i, it := range res.Items {
		items[i] = loop.QueueItem{EventID: it.ID, Day: day, Why: it.Why, Reviewers: it.Reviewers, At: now}
	}
	added, err := st.Enqueue(items)
	return res, added, err
}
