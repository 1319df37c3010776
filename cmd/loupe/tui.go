package main

import (
	"fmt"
	"os"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/loupe-dev/loupe/tui"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newTUICmd) }

// haveTerminal reports whether the TUI can run: output to a terminal, and
// keys from stdin or, when stdin is a pipe, from the controlling terminal
// (as Bubble Tea reads them).
func haveTerminal() bool {
	if !term.IsTerminal(os.Stdout.Fd()) {
		return false
	}
	if term.IsTerminal(os.Stdin.Fd()) {
		return true
	}
	f, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	f.Close()
	return true
}

func newTUICmd(a *app) *cobra.Command {
	var ca candidateArgs // --compare FILE [--set ...] [--name N]: compare.go
	cmd := &cobra.Command{
		Use:   "tui [--compare FILE [--set golden|redflag|queue|all]]",
		Short: "Open the TUI on the store (also: loupe with no command)",
		Long: `Open the triage and labeling TUI on the store: browse the inbox, filter
with / (key:value tokens like seg:ent or reason:factual, and bare words),
open an item with enter and grade it with p/f/b. Press ? for every key.

With --compare FILE (a candidate file, as eval and gate read), it opens on
the Compare screen: blind side-by-side review of the candidate's answers
against the current model's over the items of --set (see loupe compare).`,
		Example: `  loupe tui
  loupe tui --compare cand-v2.jsonl --set golden`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := ca.tuiOptions(cmd.InOrStdin(), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			return runTUI(cmd, a, o)
		},
	}
	ca.tuiFlags(cmd)
	return cmd
}

func runTUI(cmd *cobra.Command, a *app, compare *tui.CompareOptions) error {
	if !haveTerminal() {
		return usageErr("no terminal to open the TUI in: run a subcommand instead ('loupe --help' lists them), " +
			"e.g. 'loupe ingest -', 'loupe export events' or 'loupe serve --ssh :2222' for the TUI over SSH")
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	st, err := a.open(cmd.Context(), "loupe tui")
	if err != nil {
		return err
	}
	if a.reviewer == "" {
		return usageErr("no reviewer name: set --reviewer or LOUPE_REVIEWER")
	}
	return tui.Run(cmd.Context(), st, tui.Options{
		Trace:    startupTrace(),
		Reviewer: a.reviewer,
		Config:   &cfg.Config,
		Compare:  compare,
	})
}

// startupTrace appends "<ms since start> <milestone>" lines to the file
// named by LOUPE_TRACE, for measuring start-up (make bench); nil otherwise.
// The TUI calls it from Update and View, so it only timestamps and hands
// the line to a goroutine that does the writing.
func startupTrace() func(string) {
	path := os.Getenv("LOUPE_TRACE")
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil
	}
	lines := make(chan string, 64)
	go func() {
		for l := range lines {
			f.WriteString(l)
		}
	}()
	return func(m string) {
		l := fmt.Sprintf("%.1f %s\n", float64(time.Since(processStart).Microseconds())/1000, m)
		select {
		case lines <- l:
		default: // never block the UI for a measurement
		}
	}
}
