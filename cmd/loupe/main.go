// Command loupe runs an AI product's feedback loop from a terminal: ingest
// feedback, grade it, curate golden and red-flag sets, watch quality trends
// and gate releases. See `loupe --help`.
package main

import (
	"fmt"
	"time"

	"context"
	"errors"
	"github.com/charmbracelet/x/term"
	"io"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"charm.land/fang/v2"
)

// processStart is when main began: start-up measurements count from here.
var processStart = time.Now()

func main() {
	root, a := newRoot()
	if p := os.Getenv("LOUPE_CPUPROFILE"); p != "" {
		// For `make bench` and performance work: a CPU profile of the run.
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	v, c := versionInfo(debug.ReadBuildInfo())
	err := fang.Execute(context.Background(), root,
		fang.WithNotifySignal(os.Interrupt, syscall.SIGTERM),
		fang.WithVersion(v),
		fang.WithCommit(c),
		fang.WithErrorHandler(errorHandler),
	)
	// Close the store on every path, errors and signals included, so the
	// next process finds it clean.
	if cerr := a.close(); cerr != nil && err == nil {
		err = withCode(exitInternal, cerr)
	}
	pprof.StopCPUProfile()
	if p := os.Getenv("LOUPE_MEMPROFILE"); p != "" {
		// For performance work: where the run allocated (go tool pprof
		// -sample_index=alloc_space).
		if f, err := os.Create(p); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	os.Exit(exitCode(err))
}

// errorHandler prints errors for people on a terminal, styled but with the
// message as written (fang's default title-cases it, which mangles paths),
// and as one plain "loupe: ..." line for scripts. Commands that printed
// their own report exit silently.
func errorHandler(w io.Writer, styles fang.Styles, err error) {
	var s silentExit
	if errors.As(err, &s) {
		return
	}
	if !term.IsTerminal(os.Stderr.Fd()) {
		fmt.Fprintf(w, "loupe: %s\n", err)
		return
	}
	fmt.Fprintln(w, styles.ErrorHeader.String())
	fmt.Fprintln(w, styles.ErrorText.UnsetTransform().Render(err.Error()))
	fmt.Fprintln(w)
	if exitCode(err) == exitUsage {
		fmt.Fprintln(w, styles.ErrorText.UnsetTransform().Render("Try --help for usage."))
		fmt.Fprintln(w)
	}
}
