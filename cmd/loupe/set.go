package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newSetCmd) }

func parseSetKind(s string) (loop.SetKind, error) {
	switch s {
	case "golden":
		return loop.SetGolden, nil
	case "redflag", "red-flag":
		return loop.SetRedFlag, nil
	}
	return "", usageErr("unknown set %q: want golden or redflag", s)
}

func newSetCmd(a *app) *cobra.Command {
	var e loop.SetEntry
	var maxLatency float64
	cmd := &cobra.Command{
		Use:   "set add|rm|ls golden|redflag [EVENT_ID]",
		Short: "Curate the golden and red-flag sets",
		Long: `Curate the sets that every new model version is checked against.

golden   items with a reference output (the user's edit, or one you write)
redflag  "never break" items: a reference plus assertions a candidate must
         meet (--must-contain, --must-not-contain, --regex, --max-latency-ms)

Without --reference, the user's edit of the output (if any) becomes the
reference. References and assertions are masked for PII like everything else.`,
		Example: `  loupe set add golden ev-1a2b
  loupe set add redflag ev-9f00 --must-not-contain "guaranteed returns" --max-latency-ms 3000
  loupe set ls redflag --json
  loupe set rm golden ev-1a2b`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageErr("set needs an action (add, rm, ls) and a set (golden, redflag)")
			}
			switch args[0] {
			case "add", "rm":
				if len(args) != 3 {
					return usageErr("set %s needs EVENT_ID", args[0])
				}
			case "ls":
				if len(args) != 2 {
					return usageErr("set ls takes no event id")
				}
			default:
				return usageErr("unknown set action %q: want add, rm or ls", args[0])
			}
			_, err := parseSetKind(args[1])
			return err
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			kind, _ := parseSetKind(args[1])
			for _, r := range e.Regex {
				if _, err := regexp.Compile(r); err != nil {
					return usageErr("--regex %q: %v", r, err)
				}
			}
			if cmd.Flags().Changed("max-latency-ms") {
				if maxLatency <= 0 {
					return usageErr("--max-latency-ms must be > 0")
				}
				e.MaxLatencyMS = &maxLatency
			}
			st, err := a.open(cmd.Context(), "loupe set")
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch args[0] {
			case "add":
				e.EventID, e.Kind, e.AddedBy, e.At = args[2], kind, a.reviewer, time.Now().UTC()
				if err := addToSet(st, &e); err != nil {
					return err
				}
				fmt.Fprintf(w, "%s added to the %s set\n", e.EventID, kind)
			case "rm":
				if err := st.RemoveSetEntry(kind, args[2]); err != nil {
					if errors.Is(err, store.ErrNotFound) {
						return withCode(exitUsage, err)
					}
					return withCode(exitInternal, err)
				}
				fmt.Fprintf(w, "%s removed from the %s set\n", args[2], kind)
			case "ls":
				var entries []loop.SetEntry
				if err := st.SetEntries(kind, func(e loop.SetEntry) error { entries = append(entries, e); return nil }); err != nil {
					return withCode(exitInternal, err)
				}
				if a.json {
					if entries == nil {
						entries = []loop.SetEntry{}
					}
					b, _ := json.Marshal(entries)
					fmt.Fprintln(w, string(b))
					return nil
				}
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "EVENT\tADDED BY\tASSERTIONS\tREFERENCE")
				for _, e := range entries {
					n := len(e.MustContain) + len(e.MustNotContain) + len(e.Regex)
					if e.MaxLatencyMS != nil {
						n++
					}
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", e.EventID, e.AddedBy, n, loop.OneLine(e.Reference, 60))
				}
				tw.Flush()
				fmt.Fprintf(w, "%d items in the %s set\n", len(entries), kind)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&e.Reference, "reference", "", "the reference output (default: the user's edit, if any)")
	f.StringArrayVar(&e.MustContain, "must-contain", nil, "red-flag assertion: the output must contain S (repeatable)")
	f.StringArrayVar(&e.MustNotContain, "must-not-contain", nil, "red-flag assertion: the output must not contain S (repeatable)")
	f.StringArrayVar(&e.Regex, "regex", nil, "red-flag assertion: the output must match this regular expression (repeatable)")
	f.Float64Var(&maxLatency, "max-latency-ms", 0, "red-flag assertion: the answer must take at most N ms")
	return cmd
}

// addToSet fills the reference from the user's edit when none was given,
// masks the entry and stores it.
func addToSet(st *store.Store, e *loop.SetEntry) error {
	ev, err := st.Event(e.EventID)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return withCode(exitUsage, fmt.Errorf("no event %q in %s", e.EventID, st.Dir()))
		}
		return withCode(exitInternal, err)
	}
	if e.Reference == "" && ev.Explicit != nil {
		e.Reference = ev.Explicit.UserEdit
	}
	loop.MaskSetEntry(e)
	if err := st.PutSetEntry(*e); err != nil {
		return withCode(exitInternal, err)
	}
	return nil
}
