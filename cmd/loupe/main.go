// Command loupe runs an AI product's feedback loop from a terminal: ingest
// feedback, grade it, curate golden and red-flag sets, watch quality trends
// and gate releases. See `loupe --help`.
package main

import (
	"context"
	"errors"
	"io"
	"os"
	"runtime/pprof"
	"syscall"

	"charm.land/fang/v2"
)

func main() {
	root, a := newRoot()
	if p := os.Getenv("LOUPE_CPUPROFILE"); p != "" {
		// For `make bench` and performance work: a CPU profile of the run.
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	err := fang.Execute(context.Background(), root,
		fang.WithNotifySignal(os.Interrupt, syscall.SIGTERM),
		fang.WithoutManpage(),
		fang.WithErrorHandler(errorHandler),
	)
	// Close the store on every path, errors and signals included, so the
	// next process finds it clean.
	if cerr := a.close(); cerr != nil && err == nil {
		err = withCode(exitInternal, cerr)
	}
	pprof.StopCPUProfile()
	os.Exit(exitCode(err))
}

// errorHandler prints errors through fang, except the silent exits of
// commands that already printed their report.
func errorHandler(w io.Writer, styles fang.Styles, err error) {
	var s silentExit
	if errors.As(err, &s) {
		return
	}
	fang.DefaultErrorHandler(w, styles, err)
}
