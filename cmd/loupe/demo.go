package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"

	"github.com/loupe-dev/loupe/ingest"
	"github.com/loupe-dev/loupe/loop/gen"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newDemoCmd) }

func demoDir() string {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		return filepath.Join(d, "loupe", "demo")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "loupe", "demo")
	}
	return filepath.Join(os.TempDir(), "loupe-demo")
}

func newDemoCmd(a *app) *cobra.Command {
	var n int
	var fresh, buildOnly bool
	var dir string
	cmd := &cobra.Command{
		Use:   "demo [--events N] [--fresh]",
		Short: "Build a demo store from generated events and open the TUI on it",
		Long: `Build a demo store of generated feedback in its own directory (never your
real store) and open the TUI on it. The store is kept between runs; --fresh
builds it again.`,
		Example: `  loupe demo
  loupe demo --events 200000 --fresh`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 {
				return usageErr("--events must be >= 1, got %d", n)
			}
			if fresh {
				if err := os.RemoveAll(dir); err != nil {
					return withCode(exitInternal, err)
				}
			}
			a.storeDir = dir
			st, err := a.open(cmd.Context(), "loupe demo")
			if err != nil {
				return err
			}
			if c, err := st.Count(); err != nil {
				return withCode(exitInternal, err)
			} else if c == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "building a demo store of %d events in %s …\n", n, dir)
				pr, pw := io.Pipe()
				go func() {
					w := bufio.NewWriterSize(pw, 256<<10)
					// As a product emits them: interactions, and their
					// feedback, outcomes and judges' scores as later signals.
					err := gen.Records(gen.Options{N: n, Seed: 1, Days: 28}, func(line []byte) error {
						w.Write(line)
						return w.WriteByte('\n')
					})
					if err == nil {
						err = w.Flush()
					}
					pw.CloseWithError(err)
				}()
				s, err := ingest.New(st, ingest.PipelineOptions{}).ReadJSONL(cmd.Context(), pr, ingest.ReadOptions{Name: "demo"})
				if err != nil {
					return withCode(exitInternal, fmt.Errorf("demo: %w", err))
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "%d events stored with %d signals merged in (%d dropped: consent withheld or withdrawn; %d signals still waiting for their interaction)\n",
					s.Accepted, s.Signals, s.Rejected+s.Withdrawn, s.Pending)
				c, err := curateDemo(st)
				if err == nil {
					err = sampleDemo(st, a)
				}
				if err != nil {
					return withCode(exitInternal, fmt.Errorf("demo: %w", err))
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "curated %d golden and %d red-flag items; %d labels from reviewers %s\n",
					len(c.Golden), len(c.RedFlag), len(c.Labels), strings.Join(gen.DemoReviewers, " and "))
			}
			if buildOnly {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\n", dir)
				return nil
			}
			return runTUI(cmd, a, nil)
		},
	}
	cmd.Flags().BoolVar(&buildOnly, "build-only", false, "build the demo store, print its directory and exit (for scripts)")
	cmd.Flags().IntVar(&n, "events", 20000, "number of generated events")
	cmd.Flags().BoolVar(&fresh, "fresh", false, "delete and rebuild the demo store")
	cmd.Flags().StringVar(&dir, "dir", demoDir(), "where the demo store lives")
	return cmd
}

// curateDemo gives a demo store what a team would have built up: sets and
// two reviewers' labels (see gen.Curate).
func curateDemo(st *store.Store) (gen.Curation, error) {
	var evs []*loop.Event
	var newest time.Time
	err := st.Events(func(_ string, body []byte) error {
		var e loop.Event
		if err := json.Unmarshal(body, &e); err != nil {
			return err
		}
		if e.Timestamp.After(newest) {
			newest = e.Timestamp
		}
		evs = append(evs, &e)
		return nil
	})
	if err != nil {
		return gen.Curation{}, err
	}
	c := gen.Curate(evs, newest)
	for _, e := range append(c.Golden, c.RedFlag...) {
		loop.MaskSetEntry(&e)
		if err := st.PutSetEntry(e); err != nil {
			return c, err
		}
	}
	return c, st.PutLabels(c.Labels)
}

// sampleDemo fills the demo's review queue from its last three days.
func sampleDemo(st *store.Store, a *app) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	d, err := loadReviewData(st)
	if err != nil || len(d.items) == 0 {
		return err
	}
	for back := 2; back >= 0; back-- {
		if _, _, err := sampleDay(st, cfg, d, d.newest.AddDate(0, 0, -back), false); err != nil {
			return err
		}
	}
	return nil
}
