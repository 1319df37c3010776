package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newGradeCmd) }

func newGradeCmd(a *app) *cobra.Command {
	var reasons []string
	var note, reference, at string
	cmd := &cobra.Command{
		Use:   "grade EVENT_ID pass|fail|borderline",
		Short: "Record your label on an event (for scripts)",
		Long: `Record a label on an event as --reviewer, exactly as the TUI's grade keys do:
your later label on the same event replaces your earlier one, and every
label stays in the event's history. The write is durable when the command
returns. Notes and references are masked for PII like everything else.

--at records when the grade was given (RFC 3339), for grades imported from
another tool; by default it is now.`,
		Example: `  loupe grade ev-1a2b pass
  loupe grade ev-1a2b fail --reason factual_error --reason missing_info --note "wrong year"
  loupe grade ev-1a2b pass --at 2026-11-20T09:30:00Z`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usageErr("grade needs EVENT_ID and a grade (pass, fail or borderline)")
			}
			if _, ok := loop.ParseGrade(args[1]); !ok {
				return usageErr("grade %q: want pass, fail or borderline", args[1])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			known := map[string]bool{}
			var names []string
			for _, rc := range cfg.Taxonomy {
				known[rc.Code] = true
				names = append(names, rc.Code)
			}
			for _, r := range reasons {
				if !known[r] {
					return usageErr("--reason %q is not in the taxonomy: want one of %s", r, strings.Join(names, ", "))
				}
			}
			when := time.Now()
			if at != "" {
				if when, err = time.Parse(time.RFC3339Nano, at); err != nil {
					return usageErr("--at %q: want an RFC 3339 time such as 2026-11-20T09:30:00Z", at)
				}
			}
			l, err := loop.NewLabel(args[0], a.reviewer, loop.Grade(args[1]), reasons, note, reference, when.UTC())
			if err != nil {
				return usageErr("%v", err)
			}
			st, err := a.open(cmd.Context(), "loupe grade")
			if err != nil {
				return err
			}
			if err := st.PutLabel(l); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return withCode(exitUsage, fmt.Errorf("no event %q in %s", args[0], st.Dir()))
				}
				return withCode(exitInternal, err)
			}
			if a.json {
				b, _ := json.Marshal(l)
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s by %s\n", l.EventID, l.Grade, l.Reviewer)
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&reasons, "reason", nil, "reason code from the taxonomy (repeatable)")
	cmd.Flags().StringVar(&note, "note", "", "a note for other reviewers")
	cmd.Flags().StringVar(&reference, "reference", "", "the output the model should have given")
	cmd.Flags().StringVar(&at, "at", "", "when the grade was given, RFC 3339 (default now; for imported grades)")
	return cmd
}
