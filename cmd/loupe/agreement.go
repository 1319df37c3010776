package main

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agree"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newAgreementCmd) }

func newAgreementCmd(a *app) *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:   "agreement",
		Short: "Agreement between reviewers, self-consistency, throughput and disagreements",
		Long: `How far reviewers agree: Cohen's kappa for each pair of reviewers on the
items both graded, Krippendorff's alpha (nominal) over everyone, per grade
and per reason code; each reviewer's consistency with themselves on items
they graded again later; reviewer throughput; and the items reviewers
disagree on, to adjudicate (the TUI's "disagreements" queue).

kappa and alpha are 1 for perfect agreement, 0 for chance level; "–" where
there is nothing to compare yet. Each pair's kappa comes with its 95%
interval; a pair with fewer than 20 shared items is marked "too few items".
Only current grades count: an undone grade is gone from the figures.`,
		Example: `  loupe agreement
  loupe agreement --json | jq '.pairs'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := a.open(cmd.Context(), "loupe agreement")
			if err != nil {
				return err
			}
			var labels, history []loop.Label
			if err := st.AllLabels(func(l loop.Label) error { labels = append(labels, l); return nil }); err != nil {
				return withCode(exitInternal, err)
			}
			if err := st.AllHistory(func(l loop.Label) error { history = append(history, l); return nil }); err != nil {
				return withCode(exitInternal, err)
			}
			rep := agree.Compute(labels)
			self := agree.SelfConsistency(history)
			rate := agree.Throughput(history)
			w := cmd.OutOrStdout()
			if a.json {
				if rep.Pairs == nil {
					rep.Pairs = []agree.Pair{}
				}
				if rep.Disagreements == nil {
					rep.Disagreements = []agree.Disagreement{}
				}
				// The report's own JSON (the CLI contract's pairs, alpha,
				// disagreements) plus self-consistency and throughput.
				rb, err := json.Marshal(rep)
				if err != nil {
					return withCode(exitInternal, err)
				}
				var out map[string]json.RawMessage
				json.Unmarshal(rb, &out)
				type selfJSON struct {
					N         int      `json:"n"`
					Agreement *float64 `json:"agreement"`
					Kappa     *float64 `json:"kappa"`
				}
				sj := map[string]selfJSON{}
				for n, s := range self {
					sj[n] = selfJSON{s.N, finite(s.Agreement), finite(s.Kappa)}
				}
				out["self_consistency"], _ = json.Marshal(sj)
				out["throughput"], _ = json.Marshal(rate)
				b, err := json.Marshal(out)
				if err != nil {
					return withCode(exitInternal, err)
				}
				fmt.Fprintln(w, string(b))
				return nil
			}
			fmt.Fprintf(w, "grades: alpha %s over %d items (%d pairable ratings)\n", fmtStat(rep.Alpha), rep.Units, rep.Pairable)
			if len(rep.Pairs) > 0 {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "\nREVIEWER A\tREVIEWER B\tITEMS\tKAPPA\t95% INTERVAL\t")
				for _, p := range rep.Pairs {
					mark := ""
					if p.TooFew {
						mark = fmt.Sprintf("too few items (under %d)", agree.MinPairItems)
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s–%s\t%s\n", p.A, p.B, p.N, fmtStat(p.Kappa), fmtStat(p.Low), fmtStat(p.High), mark)
				}
				tw.Flush()
			} else {
				fmt.Fprintln(w, "no item has been graded by two reviewers yet")
			}
			if len(rep.ByReason) > 0 {
				codes := make([]string, 0, len(rep.ByReason))
				for c := range rep.ByReason {
					codes = append(codes, c)
				}
				sort.Strings(codes)
				parts := make([]string, len(codes))
				for i, c := range codes {
					parts[i] = c + " " + fmtStat(rep.ByReason[c].Alpha)
				}
				fmt.Fprintf(w, "\nreason codes (alpha): %s\n", strings.Join(parts, ", "))
			}
			if len(rate) > 0 {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "\nREVIEWER\tITEMS\tPER MINUTE\tMEDIAN S/DECISION\tSELF-CONSISTENCY")
				names := make([]string, 0, len(rate))
				for n := range rate {
					names = append(names, n)
				}
				sort.Strings(names)
				for _, n := range names {
					r := rate[n]
					sc := "–"
					if s, ok := self[n]; ok && s.N > 0 {
						sc = fmt.Sprintf("%.0f%% of %d", 100*s.Agreement, s.N)
					}
					fmt.Fprintf(tw, "%s\t%d\t%.1f\t%.1f\t%s\n", n, r.Items, r.PerMinute, r.MedianSeconds, sc)
				}
				tw.Flush()
			}
			fmt.Fprintf(w, "\n%d disagreements", len(rep.Disagreements))
			if len(rep.Disagreements) == 0 {
				fmt.Fprintln(w)
				return nil
			}
			fmt.Fprintln(w, ":")
			for i, d := range rep.Disagreements {
				if limit > 0 && i == limit {
					fmt.Fprintf(w, "  … %d more (--limit 0 for all, or the TUI's disagreements queue)\n", len(rep.Disagreements)-limit)
					break
				}
				revs := make([]string, 0, len(d.Ratings))
				for r := range d.Ratings {
					revs = append(revs, r)
				}
				sort.Strings(revs)
				parts := make([]string, len(revs))
				for j, r := range revs {
					parts[j] = r + "=" + string(d.Ratings[r])
				}
				fmt.Fprintf(w, "  %s  %s\n", d.Item, strings.Join(parts, " "))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "disagreements to list (0 for all)")
	return cmd
}

func fmtStat(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.3f", v)
}

// finite is v, or nil (JSON null) where v is undefined.
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
