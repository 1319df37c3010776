package main

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/gate"

	"github.com/loupe-dev/loupe/loop/gen"
	"github.com/spf13/cobra"
)

func newGenCmd(a *app) *cobra.Command {
	var o gen.Options
	var candidate string
	var sets []string
	var whole bool
	cmd := &cobra.Command{
		Use:   "gen [--n N] [--seed S] [--days D]",
		Short: "Print realistic synthetic feedback events as JSONL",
		Long: `Generate synthetic feedback for the four worked examples (document
summarizer, product recommendations, customer support agent, speech-to-text
correction) over D days: several model versions, one of which regresses,
every segment, locale and consent case, some PII in free text and user edits
on part of the thumbs-down events. The same seed gives the same output.

Records come as a product emits them: each interaction when the model
answered, and what happened after as signals (kind "signal") in arrival
order: thumbs within minutes, edits, dwell, judges' scores, CSAT within
hours, purchases one to three days later, some before their interaction is
logged, some delivered twice, a few consent withdrawals. --whole writes each
interaction with all its feedback on one line instead.

With --candidate, it writes a candidate file instead: a new model version's
answers to the items of exported set files, to try 'loupe eval' and 'loupe
gate'. "regressed" brings red-flag content back and gets facts wrong;
"fixed" answers like the references, within the assertions.`,
		Example: `  loupe gen --n 20000 --seed 1 | loupe ingest -
  loupe gen --n 1000 --seed 7 --days 14 > sample.jsonl
  loupe gen --candidate regressed --sets golden.jsonl --sets redflag.jsonl > candidate.jsonl`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if candidate != "" {
				return genCandidates(cmd, candidate, sets)
			}
			if o.N < 0 {
				return usageErr("--n must be >= 0, got %d", o.N)
			}
			if o.Days < 1 {
				return usageErr("--days must be >= 1, got %d", o.Days)
			}
			w := bufio.NewWriterSize(cmd.OutOrStdout(), 256<<10)
			generate := gen.Records
			if whole {
				generate = gen.Generate
			}
			err := generate(o, func(line []byte) error {
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
	cmd.Flags().BoolVar(&whole, "whole", false, "one line per interaction with all its feedback, instead of interactions and their later signals as separate records")
	cmd.Flags().StringVar(&candidate, "candidate", "", "write a candidate file instead: fixed or regressed")
	cmd.Flags().StringArrayVar(&sets, "sets", nil, "exported set file (golden or redflag JSONL) to answer, with --candidate (repeatable)")
	_ = a
	return cmd
}

func genCandidates(cmd *cobra.Command, quality string, files []string) error {
	if quality != gen.CandidateFixed && quality != gen.CandidateRegressed {
		return usageErr("--candidate %q: want fixed or regressed", quality)
	}
	if len(files) == 0 {
		return usageErr("--candidate needs --sets FILE: export them with 'loupe export golden --out golden.jsonl'")
	}
	var entries []loop.SetEntry
	if n := len(files) - len(slices.DeleteFunc(slices.Clone(files), func(f string) bool { return f == "-" })); n > 1 {
		return usageErr("--sets - (stdin) can be given only once")
	}
	for _, f := range files {
		es, err := readSetFile(cmd.InOrStdin(), f)
		if err != nil {
			return err
		}
		entries = append(entries, es...)
	}
	w := bufio.NewWriter(cmd.OutOrStdout())
	err := gen.Candidates(entries, quality, func(line []byte) error {
		w.Write(line)
		return w.WriteByte('\n')
	})
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return withCode(exitInternal, err)
	}
	return nil
}

// readSetFile reads an exported set file; any bad line is an error naming
// it, since a set entry that was not read is a case that was not checked.
func readSetFile(stdin io.Reader, path string) ([]loop.SetEntry, error) {
	f, err := openIn(stdin, path)
	if err != nil {
		return nil, usageErr("set file: %v", err)
	}
	defer f.Close()
	path = displayName(path)
	es, errs := gate.ReadSet(f)
	if len(errs) > 0 {
		msgs := make([]string, 0, len(errs))
		for i, e := range errs {
			if i == 5 {
				msgs = append(msgs, fmt.Sprintf("… and %d more", len(errs)-5))
				break
			}
			msgs = append(msgs, path+": "+e.Error())
		}
		return nil, usageErr("%s", strings.Join(msgs, "\n"))
	}
	return es, nil
}
