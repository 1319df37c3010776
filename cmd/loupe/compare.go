package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/compare"
	"github.com/loupe-dev/loupe/loop/eval"
	"github.com/loupe-dev/loupe/loop/export"
	"github.com/loupe-dev/loupe/loop/gate"
	"github.com/loupe-dev/loupe/store"
	"github.com/loupe-dev/loupe/tui"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newCompareCmd) }

// candidateArgs are the flags naming the candidate under comparison.
type candidateArgs struct {
	file, name, set string
}

func (c *candidateArgs) flags(cmd *cobra.Command, withSet bool) {
	f := cmd.Flags()
	f.StringVar(&c.file, "candidate", "", "the candidate model's answers (JSONL, as eval and gate read)")
	f.StringVar(&c.name, "name", "", "the candidate's name in the store (default: the file's base name without .jsonl)")
	if withSet {
		f.StringVar(&c.set, "set", "golden", "which items: golden, redflag, queue or all")
	}
}

// candidate is a candidate file read for comparison.
type candidate struct {
	name    string
	cands   map[string]eval.Candidate
	answers map[string]string // event id → compare.AnswerHash of its answer
}

// resolveName is the candidate's name: --name, else the file's base name.
func (c *candidateArgs) resolveName() (string, error) {
	name := c.name
	if name == "" {
		name = compare.NameOf(c.file)
	}
	if name == "" {
		return "", usageErr("--name NAME is required when the candidate is read from stdin")
	}
	if err := compare.CheckName(name); err != nil {
		return "", usageErr("--name: %v", err)
	}
	return name, nil
}

func (c *candidateArgs) load(stdin io.Reader, w io.Writer) (*candidate, error) {
	if c.file == "" {
		return nil, usageErr("--candidate FILE is required")
	}
	name, err := c.resolveName()
	if err != nil {
		return nil, err
	}
	cands, err := readCandidates(stdin, c.file, w)
	if err != nil {
		return nil, err
	}
	out := &candidate{name: name, cands: cands, answers: make(map[string]string, len(cands))}
	for id, cd := range cands {
		out.answers[id] = compare.AnswerHash(cd.Output.Text)
	}
	return out, nil
}

func allComparisons(st *store.Store) ([]compare.Judgment, error) {
	var js []compare.Judgment
	err := st.Comparisons(func(j compare.Judgment) error { js = append(js, j); return nil })
	return js, err
}

// compareReport is `loupe compare --json`: the results over the items of
// the set, and how many of them there are and how many are judged.
type compareReport struct {
	Set   string `json:"set"`
	Items int    `json:"items"`
	compare.Results
}

func newCompareCmd(a *app) *cobra.Command {
	var ca candidateArgs
	cmd := &cobra.Command{
		Use:   "compare --candidate FILE [--set golden|redflag|queue|all] [--json]",
		Short: "Results of blind side-by-side review of a candidate against the current model",
		Long: `Reviewers compare a candidate model's answer with the current model's,
blind, in the TUI (loupe tui --compare FILE) or with 'loupe compare record'.
This prints what they found over the items of --set that the candidate
answers: the candidate's wins, losses, ties and both-bad; its win rate,
counting a tie or a both-bad as half a win, with a 95% Wilson score
interval, and the win rate without ties and both-bad; the exact two-sided
sign test (binomial, ties left out) of wins against losses; the same per
task and per segment; Cohen's kappa between reviewers on the items both
judged; and each reviewer's left-win share, flagged as a side bias when a
sign test of their left against right choices gives p < 0.05 (the
candidate's side is a coin toss, so an unbiased share is near one half).

Judgments of an answer other than the file's present one (the file was
regenerated) are stale: counted, not used.`,
		Example: `  loupe compare --candidate cand-v2.jsonl
  loupe compare --candidate cand-v2.jsonl --set all --json | jq .overall`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			set, err := compare.ParseItemSet(ca.set)
			if err != nil {
				return usageErr("%v", err)
			}
			c, err := ca.load(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), "loupe compare")
			if err != nil {
				return err
			}
			ids, err := st.CompareItems(set, c.answers)
			if err != nil {
				return withCode(exitInternal, err)
			}
			in := make(map[string]bool, len(ids))
			for _, id := range ids {
				in[id] = true
			}
			all, err := allComparisons(st)
			if err != nil {
				return withCode(exitInternal, err)
			}
			var js []compare.Judgment
			for _, j := range all {
				if in[j.EventID] {
					js = append(js, j)
				}
			}
			rep := compareReport{Set: string(set), Items: len(ids), Results: compare.Compute(js, c.name, c.answers)}
			if a.json {
				b, err := json.Marshal(rep)
				if err != nil {
					return withCode(exitInternal, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			printCompare(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	ca.flags(cmd, true)
	cmd.AddCommand(newCompareRecordCmd(a), newCompareUndoCmd(a))
	return cmd
}

func compareVerdict(t compare.Tally) string {
	switch {
	case t.N == 0:
		return "no comparisons yet"
	case t.LosesSignificantly():
		return "the candidate loses: the whole interval is below 0.5"
	case t.WinsSignificantly():
		return "the candidate wins: the whole interval is above 0.5"
	}
	return "no significant difference: the interval holds 0.5"
}

func printCompare(w io.Writer, r compareReport) {
	o := r.Overall
	fmt.Fprintf(w, "candidate %s against the current model: %d comparisons of the %d %s items it answers", r.Candidate, o.N, r.Items, r.Set)
	if r.Stale > 0 {
		fmt.Fprintf(w, " (%d stale, of an older answer)", r.Stale)
	}
	fmt.Fprint(w, "\n\n")
	fmt.Fprintf(w, "  wins %d · losses %d · ties %d · both bad %d\n", o.Wins, o.Losses, o.Ties, o.BothBad)
	fmt.Fprintf(w, "  win rate %s  95%% Wilson [%s, %s]  (ties and both-bad as half a win)\n", o.WinRate.Rate(), o.Low.Rate(), o.High.Rate())
	fmt.Fprintf(w, "  without ties %s  [%s, %s]  over %d decisive\n", o.DecisiveWinRate.Rate(), o.DecisiveLow.Rate(), o.DecisiveHigh.Rate(), o.Wins+o.Losses)
	fmt.Fprintf(w, "  sign test p %s  (exact binomial, two-sided, ties left out)\n", o.SignP.PValue())
	fmt.Fprintf(w, "  %s\n", compareVerdict(o))
	if len(r.ByTask) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BY\tN\tWINS\tLOSSES\tTIES\tBOTH BAD\tWIN RATE\t95% INTERVAL\tSIGN P")
		for _, g := range []struct {
			name string
			m    map[string]compare.Tally
		}{{"task", r.ByTask}, {"segment", r.BySegment}} {
			for _, k := range slices.Sorted(maps.Keys(g.m)) {
				t := g.m[k]
				fmt.Fprintf(tw, "%s:%s\t%d\t%d\t%d\t%d\t%d\t%s\t[%s, %s]\t%s\n", g.name, k, t.N, t.Wins, t.Losses, t.Ties, t.BothBad,
					t.WinRate.Rate(), t.Low.Rate(), t.High.Rate(), t.SignP.PValue())
			}
		}
		tw.Flush()
	}
	if len(r.Reviewers) > 0 {
		fmt.Fprintln(w)
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "REVIEWER\tN\tLEFT\tRIGHT\tLEFT-WIN SHARE\tSIDE P\t")
		for _, s := range r.Reviewers {
			flag := ""
			if s.Biased {
				flag = "SIDE BIAS: prefers the " + map[bool]string{true: "left", false: "right"}[s.Left > s.Right]
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\n", s.Reviewer, s.N, s.Left, s.Right, s.LeftShare.Rate(), s.SideP.PValue(), flag)
		}
		tw.Flush()
	}
	if len(r.Agreement) > 0 {
		fmt.Fprintln(w)
		for _, p := range r.Agreement {
			fmt.Fprintf(w, "  κ %s × %s  %s over %d shared items\n", p.A, p.B, p.Kappa.Rate(), p.N)
		}
	}
}

func newCompareRecordCmd(a *app) *cobra.Command {
	var ca candidateArgs
	var winner, note string
	var reasons []string
	cmd := &cobra.Command{
		Use:   "record EVENT_ID --candidate FILE --choice candidate|current|tie|both_bad [--reason CODE]... [--note TEXT]",
		Short: "Record a comparison from a script, as the TUI's Compare screen does",
		Long: `Record --reviewer's comparison of the candidate's answer to EVENT_ID with the
current model's, as the Compare screen would: the side the candidate would
have been shown on is assigned and recorded the same way, a later
comparison of the same event replaces the earlier one, and every one stays
in the comparison history ('loupe compare undo' withdraws the last). The
event must be stored and answered by the candidate; reason codes must be
in the taxonomy; the note is masked for PII. For importing judgments made
elsewhere, and for tests.`,
		Example: `  loupe compare record ev-1a2b --candidate cand-v2.jsonl --choice candidate
  loupe compare record ev-1a2b --candidate cand-v2.jsonl --choice current --reason factual_error --note "wrong year"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("compare record needs one EVENT_ID")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o, ok := compare.ParseWinner(winner)
			if !ok {
				return usageErr("--choice %q: want candidate, current, tie or both_bad", winner)
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if err := checkReasons(cfg.Taxonomy, reasons); err != nil {
				return err
			}
			c, err := ca.load(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			cd, ok := c.cands[args[0]]
			if !ok {
				return usageErr("the candidate %s has no answer for %q: only answered items can be compared", c.name, args[0])
			}
			st, err := a.open(cmd.Context(), "loupe compare record")
			if err != nil {
				return err
			}
			ev, err := st.Event(args[0])
			if err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return withCode(exitUsage, fmt.Errorf("no event %q in %s", args[0], st.Dir()))
				}
				return withCode(exitInternal, err)
			}
			side := compare.SideFor(st.SideKey(), ev.EventID, a.reviewer, c.name)
			j, err := compare.NewJudgment(compare.Input{Event: ev, Reviewer: a.reviewer, Candidate: c.name, Answer: cd.Output.Text,
				Side: side, Choice: compare.ChoiceFor(o, side), Reasons: reasons, Note: note, Via: compare.ViaCLI, At: time.Now()})
			if err != nil {
				return usageErr("%v", err)
			}
			if err := st.PutComparison(j); err != nil {
				return withCode(exitInternal, err)
			}
			if a.json {
				j.Answer = ""
				b, _ := json.Marshal(j)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s by %s (%s shown on the %s)\n", j.EventID, outcomeText(j.Outcome), j.Reviewer, c.name, side)
			return nil
		},
	}
	ca.flags(cmd, false)
	f := cmd.Flags()
	f.StringVar(&winner, "choice", "", "who was better: candidate, current, tie or both_bad")
	f.StringArrayVar(&reasons, "reason", nil, "reason code from the taxonomy (repeatable)")
	f.StringVar(&note, "note", "", "a note for other reviewers")
	return cmd
}

func outcomeText(o compare.Outcome) string {
	switch o {
	case compare.Win:
		return "candidate better"
	case compare.Loss:
		return "current better"
	case compare.Tie:
		return "tie"
	}
	return "both bad"
}

func checkReasons(tax []loop.ReasonCode, reasons []string) error {
	known := map[string]bool{}
	var names []string
	for _, rc := range tax {
		known[rc.Code] = true
		names = append(names, rc.Code)
	}
	for _, r := range reasons {
		if !known[r] {
			return usageErr("--reason %q is not in the taxonomy: want one of %s", r, strings.Join(names, ", "))
		}
	}
	return nil
}

func newCompareUndoCmd(a *app) *cobra.Command {
	var ca candidateArgs
	cmd := &cobra.Command{
		Use:   "undo (--candidate FILE | --name NAME)",
		Short: "Withdraw your last comparison of a candidate",
		Long: `Withdraw --reviewer's most recent comparison of the candidate (made in the TUI
or with 'compare record'): the item is unjudged again, and the withdrawal
is kept in the comparison history. Run it again to withdraw the one
before.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ca.file == "" && ca.name == "" {
				return usageErr("give --candidate FILE or --name NAME")
			}
			name, err := ca.resolveName()
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), "loupe compare undo")
			if err != nil {
				return err
			}
			j, err := st.UndoComparison(a.reviewer, name, time.Now())
			if err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return withCode(exitUsage, err)
				}
				return withCode(exitInternal, err)
			}
			if a.json {
				j.Answer = ""
				b, _ := json.Marshal(j)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: withdrew %s's comparison of %s (%s)\n", j.EventID, j.Reviewer, name, outcomeText(j.Outcome))
			return nil
		},
	}
	ca.flags(cmd, false)
	return cmd
}

// comparisonsExporter writes every current comparison, by event id,
// candidate and reviewer, without the candidate's answer text (the gate
// needs only outcomes).
func comparisonsExporter(st *store.Store, _ bool, emit func([]byte, []string) error) error {
	return st.Comparisons(func(j compare.Judgment) error {
		j.Answer = ""
		return emitOne(emit, false, j, nil)
	})
}

// preferenceExporter writes the preference pairs of events whose users
// consented to training, in time order: first the correction pair
// (source user_edit or reference), then the pairs reviewers' comparisons
// make (source comparison).
func preferenceExporter(st *store.Store, _ bool, emit func([]byte, []string) error) error {
	refs, err := references(st)
	if err != nil {
		return err
	}
	byEvent := map[string][]compare.Judgment{}
	if err := st.Comparisons(func(j compare.Judgment) error {
		byEvent[j.EventID] = append(byEvent[j.EventID], j)
		return nil
	}); err != nil {
		return err
	}
	return st.Events(func(_ string, body []byte) error {
		var e loop.Event
		if err := json.Unmarshal(body, &e); err != nil {
			return err
		}
		if p, ok := export.ToPreference(&e, refs); ok {
			if err := emitOne(emit, false, p, nil); err != nil {
				return err
			}
		}
		for _, p := range export.ComparisonPreferences(&e, byEvent[e.EventID]) {
			if err := emitOne(emit, false, p, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// gateCompare adds the pairwise check to a gate result: the judgments of
// the candidate in an exported comparison file, those of another answer
// than the candidate file's present one left out as stale.
func gateCompare(stdin io.Reader, res *gate.Result, path string, ca candidateArgs, cands map[string]eval.Candidate) error {
	name, err := ca.resolveName()
	if err != nil {
		return err
	}
	f, err := openIn(stdin, path)
	if err != nil {
		return usageErr("--compare: %v", err)
	}
	defer f.Close()
	js, errs := compare.ReadJudgments(f)
	if len(errs) > 0 {
		msgs := make([]string, 0, 6)
		for i, e := range errs {
			if i == 5 {
				msgs = append(msgs, fmt.Sprintf("… and %d more", len(errs)-5))
				break
			}
			msgs = append(msgs, e.Error())
		}
		// A gate must not pass on part of its evidence.
		return usageErr("--compare %s: %s", path, strings.Join(msgs, "; "))
	}
	answers := make(map[string]string, len(cands))
	for id, c := range cands {
		answers[id] = compare.AnswerHash(c.Output.Text)
	}
	res.AddCompare(compare.Compute(js, name, answers))
	return nil
}

// tuiFlags are loupe tui's flags for the Compare screen.
func (c *candidateArgs) tuiFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.file, "compare", "", "open the Compare screen on this candidate file")
	f.StringVar(&c.name, "name", "", "the candidate's name in the store (default: the file's base name without .jsonl)")
	f.StringVar(&c.set, "set", "golden", "with --compare, which items: golden, redflag, queue or all")
}

// tuiOptions are the Compare screen's options from loupe tui's flags; nil
// without --compare.
func (c *candidateArgs) tuiOptions(stdin io.Reader, w io.Writer) (*tui.CompareOptions, error) {
	if c.file == "" {
		if c.name != "" || c.set != "golden" {
			return nil, usageErr("--name and --set go with --compare FILE")
		}
		return nil, nil
	}
	if c.file == "-" {
		return nil, usageErr("--compare needs a file: the TUI reads its keys from the terminal, not stdin")
	}
	set, err := compare.ParseItemSet(c.set)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	cd, err := c.load(stdin, w)
	if err != nil {
		return nil, err
	}
	answers := make(map[string]string, len(cd.cands))
	for id, x := range cd.cands {
		answers[id] = x.Output.Text
	}
	return &tui.CompareOptions{Name: cd.name, Answers: answers, Set: set}, nil
}
