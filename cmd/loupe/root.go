package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

// Exit codes of the CLI contract.
const (
	exitOK       = 0
	exitCheck    = 1 // a check failed (gate regression, doctor not ready)
	exitUsage    = 2
	exitPartial  = 3 // input partly rejected (ingest)
	exitLocked   = 4 // store in use by another process
	exitInternal = 5 // I/O or internal error
)

// codeError carries an exit code with the error fang prints.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &codeError{code, err}
}

func usageErr(format string, a ...any) error {
	return withCode(exitUsage, fmt.Errorf(format, a...))
}

// silentExit ends the program with a code after the command printed its own
// report (ingest's summary before exit 3).
type silentExit struct{ code int }

func (e silentExit) Error() string { return fmt.Sprintf("exit %d", e.code) }

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var s silentExit
	if errors.As(err, &s) {
		return s.code
	}
	var c *codeError
	if errors.As(err, &c) {
		return c.code
	}
	var l *store.LockedError
	if errors.As(err, &l) {
		return exitLocked
	}
	if isUsage(err) {
		return exitUsage
	}
	return exitInternal
}

// isUsage recognises cobra's own argument and command errors.
func isUsage(err error) bool {
	m := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag",
		"accepts ", "requires at least", "requires at most", "invalid argument", "flag needs an argument",
		"required flag"} {
		if strings.Contains(m, p) {
			return true
		}
	}
	return false
}

// app holds the global flags and the store the command opened.
type app struct {
	storeDir string
	config   string
	reviewer string
	json     bool

	st *store.Store
}

func newRoot() (*cobra.Command, *app) {
	a := &app{}
	root := &cobra.Command{
		Use:   "loupe",
		Short: "Run an AI product's feedback loop from a terminal",
		Long: `loupe captures what users and your AI product did, keeps it privacy-safe,
lets people grade it against a rubric, curates golden and red-flag sets,
and gates new model versions against them.

With no command it opens the TUI on the store.`,
		Example: `  loupe gen --n 20000 --seed 1 | loupe ingest -
  loupe export events --out events.jsonl
  loupe forget --user u-48213`,
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if tuiCmd, _, err := cmd.Find([]string{"tui"}); err == nil && tuiCmd != cmd {
				return tuiCmd.RunE(tuiCmd, args)
			}
			return cmd.Help()
		},
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return withCode(exitUsage, fmt.Errorf("%w (see '%s --help')", err, c.CommandPath()))
	})
	f := root.PersistentFlags()
	f.StringVar(&a.storeDir, "store", envOr("LOUPE_STORE", defaultStore()), "store directory (env LOUPE_STORE)")
	f.StringVar(&a.config, "config", os.Getenv("LOUPE_CONFIG"), "config file (env LOUPE_CONFIG; default ./loupe.yaml when present)")
	f.StringVar(&a.reviewer, "reviewer", envOr("LOUPE_REVIEWER", loginName()), "your name on labels (env LOUPE_REVIEWER)")
	f.BoolVar(&a.json, "json", false, "print machine-readable JSON")

	root.AddCommand(
		newGenCmd(a),
		newIngestCmd(a),
		newExportCmd(a),
		newForgetCmd(a),
	)
	for _, c := range extraCommands {
		root.AddCommand(c(a))
	}
	registerCompletions(root)
	return root, a
}

// extraCommands lets other files register commands without touching newRoot.
var extraCommands []func(*app) *cobra.Command

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func defaultStore() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "loupe")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "share", "loupe")
	}
	return "loupe-data"
}

func loginName() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return os.Getenv("USER")
}

// open opens the store for this command, once.
func (a *app) open(ctx context.Context, holder string) (*store.Store, error) {
	if a.st != nil {
		return a.st, nil
	}
	st, err := store.Open(a.storeDir, store.Options{Holder: holder})
	if err != nil {
		var l *store.LockedError
		if errors.As(err, &l) {
			hint := "close it first, or point --store at another directory"
			if strings.Contains(l.Holder, "serve") {
				hint = "send events to its HTTP collector (POST /v1/events) or connect to its TUI over SSH"
			}
			return nil, withCode(exitLocked, fmt.Errorf("%w: %s", err, hint))
		}
		return nil, withCode(exitInternal, err)
	}
	a.st = st
	return st, nil
}

func (a *app) close() error {
	if a.st == nil {
		return nil
	}
	err := a.st.Close()
	a.st = nil
	return err
}
