package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/eval"
	"github.com/loupe-dev/loupe/loop/gate"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newEvalCmd, newGateCmd) }

// readCandidates reads a candidate file; bad lines are reported on w and
// the valid ones are still used.
func readCandidates(stdin io.Reader, path string, w io.Writer) (map[string]eval.Candidate, error) {
	f, err := openIn(stdin, path)
	if err != nil {
		return nil, usageErr("candidate file: %v", err)
	}
	defer f.Close()
	path = displayName(path)
	cands, errs := eval.ReadCandidates(f)
	for i, e := range errs {
		if i == 10 {
			fmt.Fprintf(w, "%s: … and %d more bad lines\n", path, len(errs)-10)
			break
		}
		fmt.Fprintf(w, "%s: %v (line skipped)\n", path, e)
	}
	if len(cands) == 0 {
		return nil, usageErr("candidate file %s has no usable line: want {\"event_id\",\"output\":{\"text\",\"latency_ms\"}} per line", path)
	}
	return cands, nil
}

// storeSet reads a set from the store with each entry's export context.
func storeSet(st *store.Store, kind loop.SetKind) ([]loop.SetEntry, error) {
	var out []loop.SetEntry
	err := st.SetEntries(kind, func(e loop.SetEntry) error {
		ev, err := st.Event(e.EventID)
		if err != nil {
			return err
		}
		out = append(out, e.WithContext(ev))
		return nil
	})
	return out, err
}

func newEvalCmd(a *app) *cobra.Command {
	var candidate, set string
	cmd := &cobra.Command{
		Use:   "eval --candidate FILE [--set golden|redflag|FILE]",
		Short: "Offline metrics of a candidate model's answers against the references",
		Long: `Score a candidate model version's answers (a JSONL file, one line per item:
{"event_id","output":{"text","latency_ms"}}) against a set's references:
exact match, token F1, ROUGE-L (F-measure), corpus BLEU-4 (smoothing method 1
of Chen & Cherry 2014), WER and CER for transcription items, and the share of
items whose red-flag assertions all hold. Per task type and segment, and the
same metrics for the current model's answers, side by side.

--set takes golden or redflag (read from the store) or an exported set file
(no store needed).`,
		Example: `  loupe eval --candidate candidate.jsonl
  loupe eval --candidate candidate.jsonl --set redflag.jsonl --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if candidate == "" {
				return usageErr("--candidate FILE is required")
			}
			if err := oneStdin(map[string]string{"candidate": candidate, "set": set}); err != nil {
				return err
			}
			cands, err := readCandidates(cmd.InOrStdin(), candidate, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			var entries []loop.SetEntry
			switch set {
			case "golden", "redflag":
				st, err := a.open(cmd.Context(), "loupe eval")
				if err != nil {
					return err
				}
				kind, _ := parseSetKind(set)
				if entries, err = storeSet(st, kind); err != nil {
					return withCode(exitInternal, err)
				}
			default:
				if entries, err = readSetFile(cmd.InOrStdin(), set); err != nil {
					return err
				}
			}
			if len(entries) == 0 {
				return usageErr("the %s set is empty: add items with 'loupe set add' or the TUI's g and r keys", set)
			}
			cases := make([]eval.Case, len(entries))
			for i, e := range entries {
				cases[i] = gate.CaseOf(e)
			}
			rep := eval.Evaluate(cases, cands)
			if a.json {
				b, err := json.Marshal(rep)
				if err != nil {
					return withCode(exitInternal, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			printEval(cmd.OutOrStdout(), set, len(entries), rep)
			return nil
		},
	}
	cmd.Flags().StringVar(&candidate, "candidate", "", "the candidate model's answers (JSONL)")
	cmd.Flags().StringVar(&set, "set", "golden", "golden, redflag, or an exported set file")
	return cmd
}

func fmtEval(metric string, v float64) string {
	if v == eval.NoData {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

func printEval(w io.Writer, set string, n int, rep eval.Report) {
	fmt.Fprintf(w, "%d of %d items in %s answered by the candidate", rep.Metrics.N, n, set)
	if len(rep.Missing) > 0 {
		fmt.Fprintf(w, " (%d without an answer)", len(rep.Missing))
	}
	fmt.Fprint(w, "\n\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "METRIC\tCANDIDATE\tCURRENT\tCHANGE\t")
	for _, m := range eval.MetricNames {
		c, _ := rep.Metrics.Get(m)
		cur, change := "–", ""
		if rep.Baseline != nil {
			b, _ := rep.Baseline.Get(m)
			cur = fmtEval(m, b)
			if c != eval.NoData && b != eval.NoData {
				d := c - b
				better := d > 0
				if eval.LowerIsBetter(m) {
					better = d < 0
				}
				mark := ""
				switch {
				case d == 0:
				case better:
					mark = " better"
				default:
					mark = " worse"
				}
				change = fmt.Sprintf("%+.3f%s", d, mark)
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t\n", m, fmtEval(m, c), cur, change)
	}
	tw.Flush()
	if len(rep.ByTask) > 1 || len(rep.BySegment) > 1 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BY\tN\tF1\tROUGE-L\tBLEU\tWER\tASSERTIONS")
		for _, g := range []struct {
			name string
			m    map[string]eval.Metrics
		}{{"task", rep.ByTask}, {"segment", rep.BySegment}} {
			for _, k := range slices.Sorted(maps.Keys(g.m)) {
				m := g.m[k]
				fmt.Fprintf(tw, "%s:%s\t%d\t%s\t%s\t%s\t%s\t%s\n", g.name, k, m.N, fmtEval("f1", m.F1), fmtEval("rouge_l", m.RougeL),
					fmtEval("bleu", m.BLEU), fmtEval("wer", m.WER), fmtEval("assertions", m.Assertions))
			}
		}
		tw.Flush()
	}
	if len(rep.Missing) > 0 {
		fmt.Fprintf(w, "\nwithout an answer: %s\n", strings.Join(rep.Missing[:min(len(rep.Missing), 10)], ", "))
	}
}

func verdict(res gate.Result) error {
	if !res.Pass {
		return silentExit{exitCheck}
	}
	return nil
}

func newGateCmd(a *app) *cobra.Command {
	var candidate, redflag, golden, junit string
	var record bool
	var compareFile, compareName string // gate --compare (compare.go)
	var floor, minCover float64
	var maxDropFlag map[string]string
	cmd := &cobra.Command{
		Use:   "gate --candidate FILE [--redflag FILE] [--golden FILE] [--junit FILE] [--min-golden-coverage C]",
		Short: "Release gate: fail on any red-flag failure or golden regression",
		Long: `Check a candidate model version against exported set files, with no store,
so CI can run it. Exit status 1 when:

  - a red-flag item's answer breaks an assertion (must contain, must not
    contain, regex, max latency), has no answer, or falls below the
    similarity floor (ROUGE-L against its reference);
  - a golden case has no answer (below --min-golden-coverage, by default
    every golden case must be answered);
  - a golden metric drops past its guardrail against the current model's
    answers, which the exported files carry.

Any of the files may be - for stdin (one of them at a time).

The report names each failure: the item, what failed, expected and got. The
same input gives a byte-identical report; --junit writes JUnit XML for CI
(identical too, but for its time attributes). The verdict line's failure
count is the number of failing cases, as in the JUnit file.
--record also stores the result in the store (--store), where loupe report
shows the last one; without it gate never touches a store.`,
		Example: `  loupe export redflag --out redflag.jsonl
  loupe export golden --out golden.jsonl
  loupe gate --candidate candidate.jsonl --redflag redflag.jsonl --golden golden.jsonl --junit gate.xml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if candidate == "" {
				return usageErr("--candidate FILE is required")
			}
			if redflag == "" && golden == "" && compareFile == "" {
				return usageErr("give --redflag FILE, --golden FILE and/or --compare FILE (from 'loupe export redflag|golden|comparisons --out FILE')")
			}
			if minCover < 0 || minCover > 1 {
				return usageErr("--min-golden-coverage %v: want a share from 0 to 1 (1 = every golden case answered)", minCover)
			}
			if err := oneStdin(map[string]string{"candidate": candidate, "redflag": redflag, "golden": golden}); err != nil {
				return err
			}
			if compareFile == "-" && (candidate == "-" || redflag == "-" || golden == "-") { // compare.go
				return usageErr("--compare and another file flag all read stdin (-): give at most one of them as -")
			}
			maxDrop := map[string]float64{}
			for m, v := range maxDropFlag {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 0 {
					return usageErr("--max-drop %s=%s: want a number >= 0", m, v)
				}
				if !slices.Contains(eval.MetricNames, m) {
					return usageErr("--max-drop %s: unknown metric, want one of %s", m, strings.Join(eval.MetricNames, ", "))
				}
				maxDrop[m] = f
			}
			cands, err := readCandidates(cmd.InOrStdin(), candidate, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			var rf, gd []loop.SetEntry
			if redflag != "" {
				if rf, err = readSetFile(cmd.InOrStdin(), redflag); err != nil {
					return err
				}
			}
			if golden != "" {
				if gd, err = readSetFile(cmd.InOrStdin(), golden); err != nil {
					return err
				}
			}
			res := gate.Run(rf, gd, cands, gate.Options{SimilarityFloor: floor, MaxDrop: maxDrop,
				MissingGoldenAllowed: 1 - minCover})
			if compareFile != "" {
				if err := gateCompare(cmd.InOrStdin(), &res, compareFile, candidateArgs{file: candidate, name: compareName}, cands); err != nil {
					return err
				}
			}
			if record {
				b, err := json.Marshal(res)
				if err != nil {
					return withCode(exitInternal, err)
				}
				st, err := a.open(cmd.Context(), "loupe gate --record")
				if err != nil {
					return err
				}
				if err := st.PutGateResult(time.Now().UTC(), b); err != nil {
					return withCode(exitInternal, fmt.Errorf("--record: %w", err))
				}
			}
			if junit != "" {
				if err := writeOut(cmd.OutOrStdout(), junit, res.JUnit()); err != nil {
					return withCode(exitInternal, fmt.Errorf("--junit %s: %w", junit, err))
				}
				if junit == "-" {
					return verdict(res) // the report is the JUnit on stdout
				}
			}
			if a.json {
				b, err := json.Marshal(res)
				if err != nil {
					return withCode(exitInternal, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
			} else {
				fmt.Fprint(cmd.OutOrStdout(), res.Text())
			}
			return verdict(res)
		},
	}
	f := cmd.Flags()
	f.StringVar(&candidate, "candidate", "", "the candidate model's answers (JSONL)")
	f.StringVar(&redflag, "redflag", "", "exported red-flag set (loupe export redflag --out FILE)")
	f.StringVar(&golden, "golden", "", "exported golden set (loupe export golden --out FILE)")
	f.StringVar(&junit, "junit", "", "also write a JUnit XML report to this file (- for stdout, instead of the text report)")
	f.Float64Var(&minCover, "min-golden-coverage", 1.0,
		"least share of golden cases the candidate must answer (0 to 1); each unanswered case fails below it")
	f.StringVar(&compareFile, "compare", "", "exported comparisons (loupe export comparisons --out FILE): fail when the candidate loses significantly")
	f.StringVar(&compareName, "name", "", "the candidate's name in --compare (default: the candidate file's base name)")
	f.BoolVar(&record, "record", false, "also record the result in the store, for loupe report")
	f.Float64Var(&floor, "similarity-floor", 0.2, "minimum ROUGE-L of a red-flag answer against its reference (0 to disable)")
	f.StringToStringVar(&maxDropFlag, "max-drop", map[string]string{"rouge_l": "0.05", "f1": "0.05"},
		"golden guardrails: the most each metric may drop below the current model's")
	return cmd
}
