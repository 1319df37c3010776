package main

import (
	"bufio"
	"fmt"

	"github.com/loupe-dev/loupe/loop/gen"
	"github.com/spf13/cobra"
)

func newGenCmd(a *app) *cobra.Command {
	var o gen.Options
	cmd := &cobra.Command{
		Use:   "gen --n N --seed S [--days D]",
		Short: "Print realistic synthetic feedback events as JSONL",
		Long: `Generate synthetic feedback for the four worked examples (document
summarizer, product recommendations, customer support agent, speech-to-text
correction) over D days: several model versions, one of which regresses,
every segment, locale and consent case, some PII in free text and user edits
on part of the thumbs-down events. The same seed gives the same output.`,
		Example: `  loupe gen --n 20000 --seed 1 | loupe ingest -
  loupe gen --n 1000 --seed 7 --days 14 > sample.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.N < 0 {
				return usageErr("--n must be >= 0, got %d", o.N)
			}
			if o.Days < 1 {
				return usageErr("--days must be >= 1, got %d", o.Days)
			}
			w := bufio.NewWriterSize(cmd.OutOrStdout(), 256<<10)
			err := gen.Generate(o, func(line []byte) error {
				if err := cmd.Context().Err(); err != nil {
					return err
				}
				if _, err := w.Write(line); err != nil {
					return err
				}
				return w.WriteByte('\n')
			})
			if err == nil {
				err = w.Flush()
			}
			if err != nil {
				return withCode(exitInternal, fmt.Errorf("gen: %w", err))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&o.N, "n", 1000, "number of events")
	cmd.Flags().Int64Var(&o.Seed, "seed", 1, "random seed (same seed, same events)")
	cmd.Flags().IntVar(&o.Days, "days", 28, "days the events span, ending 2026-11-20")
	_ = a
	return cmd
}
