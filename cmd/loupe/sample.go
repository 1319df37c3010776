package main

import (
	"encoding/json"
	"fmt"
	"sort"
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
An overlap share goes to two reviewers so agreement can be measured.

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
			reviewers := cfg.Review.Reviewers
			if len(reviewers) == 0 {
				// Nobody configured: share overlap among those who grade.
				seen := map[string]bool{}
				for _, l := range d.labels {
					if !seen[l.Reviewer] {
						seen[l.Reviewer] = true
						reviewers = append(reviewers, l.Reviewer)
					}
				}
				sort.Strings(reviewers)
			}
			res, added, err := sampleDay(st, cfg, d, when, reviewers, dryRun)
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
			overlap := 0
			for _, it := range res.Items {
				if len(it.Reviewers) == 2 {
					overlap++
				}
			}
			if overlap > 0 {
				fmt.Fprintf(w, "%d items assigned to two reviewers for agreement\n", overlap)
			} else if cfg.Sampling.Overlap > 0 && len(reviewers) < 2 {
				fmt.Fprintln(w, "no overlap assigned: list two or more reviewers under review.reviewers in loupe.yaml")
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
func sampleDay(st *store.Store, cfg appConfig, d *reviewData, when time.Time, reviewers []string, dryRun bool) (sample.Result, int, error) {
	already := map[string]bool{}
	for _, l := range d.labels {
		already[l.EventID] = true
	}
	if err := st.Queued(func(it loop.QueueItem) error { already[it.EventID] = true; return nil }); err != nil {
		return sample.Result{}, 0, err
	}
	res := sample.Sample(when, cfg.Sampling.Seed, d.items, cfg.Sampling.Rules, already, cfg.Sampling.Overlap, reviewers)
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
