package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agree"
	"github.com/loupe-dev/loupe/loop/doctor"
	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newDoctorCmd, newBlueprintCmd) }

// gatherStats reads the numbers doctor and blueprint report.
func gatherStats(st *store.Store, cfg appConfig) (doctor.Stats, error) {
	d, err := loadReviewData(st)
	if err != nil {
		return doctor.Stats{}, err
	}
	s := doctor.Stats{Events: len(d.items), Labels: len(d.labels), Graded: len(d.grades), GoalNow: math.NaN(), Kappa: math.NaN()}
	models, segs, tasks, revs := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, it := range d.items {
		models[it.Model] = true
		if it.Segment != "" {
			segs[it.Segment] = true
		}
		if it.Task != "" {
			tasks[it.Task] = true
		}
	}
	for _, l := range d.labels {
		revs[l.Reviewer] = true
	}
	s.Models, s.Segments, s.Tasks, s.Reviewers = keysOf(models), keysOf(segs), keysOf(tasks), len(revs)
	count := func(kind loop.SetKind) (n int, err error) {
		err = st.SetEntries(kind, func(loop.SetEntry) error { n++; return nil })
		return
	}
	if s.Golden, err = count(loop.SetGolden); err != nil {
		return s, err
	}
	if s.RedFlag, err = count(loop.SetRedFlag); err != nil {
		return s, err
	}
	if err := st.Queued(func(loop.QueueItem) error { s.Queued++; return nil }); err != nil {
		return s, err
	}
	if data := d.trend(); data.Interactions() > 0 {
		s.GoalNow, s.GoalMet = trend.GoalStatus(cfg.TrendGoal(), data, trend.GoalDays, data.Newest())
		for _, a := range trend.Alerts(data, cfg.TrendPolicy(), data.Newest()) {
			s.Alerts = append(s.Alerts, a.Label()+": "+a.Message)
		}
	}
	rep := agree.Compute(d.labels)
	if len(rep.Pairs) > 0 {
		var sum float64
		n := 0
		for _, p := range rep.Pairs {
			if !math.IsNaN(p.Kappa) {
				sum += p.Kappa
				n++
			}
		}
		if n > 0 {
			s.Kappa = sum / float64(n)
		}
	}
	return s, nil
}

func keysOf(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func newDoctorCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "doctor",
		Short: "The readiness checklist: is this loop ready to gate releases?",
		Long: `Check that the loop is ready: goal and threshold set, event schema
documented, consent reviewed, rubric ready, golden and red-flag sets at
their target sizes, an evaluation plan, and rollback criteria. Each missing
item is named with what to do. Exit status 1 when anything is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), "loupe doctor")
			if err != nil {
				return err
			}
			s, err := gatherStats(st, cfg)
			if err != nil {
				return withCode(exitInternal, err)
			}
			items := doctor.Check(cfg.Config, cfg.Path != "", s)
			ready := doctor.Ready(items)
			pending, dropped, err := st.SignalStats()
			if err != nil {
				return withCode(exitInternal, err)
			}
			ks, err := lastKafkaState(st)
			if err != nil {
				return withCode(exitInternal, err)
			}
			// Edge sampling (intake.keep): what is counted but not kept.
			unkept, droppedUnkept, err := st.AggregateStats()
			if err != nil {
				return withCode(exitInternal, err)
			}
			snap, err := st.InboxSnapshot()
			if err != nil {
				return withCode(exitInternal, err)
			}
			w := cmd.OutOrStdout()
			if a.json {
				b, _ := json.Marshal(map[string]any{"ready": ready, "checks": items,
					"signals": map[string]int{"pending": pending, "dropped": dropped}, "kafka": ks,
					"edge_sampling":  map[string]int64{"unkept": unkept, "dropped_signals": droppedUnkept},
					"inbox_snapshot": snap})
				fmt.Fprintln(w, string(b))
			} else {
				for _, it := range items {
					mark := "✓"
					if !it.OK {
						mark = "✗"
					}
					fmt.Fprintf(w, "%s %-28s %s\n", mark, it.Name, it.Detail)
				}
				fmt.Fprintf(w, "\nsignals: %d pending (waiting for their interaction, up to intake.pending_days = %d), %d dropped (it never came)\n",
					pending, cfg.Intake.PendingDays, dropped)
				if unkept > 0 || droppedUnkept > 0 {
					fmt.Fprintf(w, "edge sampling: %d interactions counted in the aggregates only (not kept in full), %d signals for them dropped (nothing counted)\n",
						unkept, droppedUnkept)
				}
				missing := 0
				for _, it := range items {
					if !it.OK {
						missing++
					}
				}
				if ks != nil {
					fmt.Fprintf(w, "  %-28s %s\n", "kafka (last serve)", kafkaSummary(ks))
				}
				if snap != nil {
					fmt.Fprintf(w, "inbox snapshot: %d items, %d summaries written since (merged in at open)\n", snap.Rows, snap.Behind)
				} else {
					fmt.Fprintln(w, "inbox snapshot: none (the inbox opens by a full scan; the next close of a writer writes one)")
				}
				if ready {
					fmt.Fprintln(w, "\nready: this loop can gate releases")
				} else {
					fmt.Fprintf(w, "\nnot ready: %d of %d items missing\n", missing, len(items))
				}
			}
			if !ready {
				return silentExit{exitCheck}
			}
			return nil
		},
	}
}

func newBlueprintCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "blueprint",
		Short:   "The one-page loop blueprint in Markdown, from the config and the store's numbers",
		Example: `  loupe blueprint > BLUEPRINT.md`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), "loupe blueprint")
			if err != nil {
				return err
			}
			s, err := gatherStats(st, cfg)
			if err != nil {
				return withCode(exitInternal, err)
			}
			fmt.Fprint(cmd.OutOrStdout(), doctor.Blueprint(cfg.Config, s, doctor.Check(cfg.Config, cfg.Path != "", s)))
			return nil
		},
	}
}
