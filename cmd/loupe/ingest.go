package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/charmbracelet/x/term"
	"github.com/loupe-dev/loupe/ingest"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func newIngestCmd(a *app) *cobra.Command {
	var rejects, format string
	cmd := &cobra.Command{
		Use:   "ingest [FILE|-]...",
		Short: "Import feedback events and signals (JSONL) into the store",
		Long: `Import feedback records, one JSON object per line, from files or stdin ("-"):
interactions (event schema v1) and signals ("kind":"signal": late feedback,
outcomes and consent changes about an interaction, merged into it; see the
README), mixed in any order.

Each line is validated against event schema v1, events whose user withheld
analytics consent are dropped whole, free text is masked for PII and user ids
are replaced by a keyed hash before anything is written. Re-running the same
input stores nothing new: the same event_id with the same content counts as a
duplicate; with different content it is rejected as a conflict.

An input may also be a JSON document: an array of records ("[{...}, ...]",
compact or pretty-printed), or records indented across lines one after
another (jq's output). Each record is then judged on its own, and a
rejection names the line where it starts and its element. gzip and zstd
input (a .gz or .zst file, or a compressed stream on stdin) is read
decompressed.

With --format otlp each line is instead one OTLP export request as JSON
(ExportTraceServiceRequest or ExportLogsServiceRequest), what the
OpenTelemetry Collector's file exporter writes; GenAI traces become
interactions and evaluation results signals, mapped as "loupe serve" maps
POST /v1/traces and /v1/logs (see the README and loupe.yaml's otlp).

Exit status 3 when any line was malformed (all valid lines are still stored).
Events dropped for consent are counted under reasons.no_consent, records
dropped because consent was withdrawn later under withdrawn; both are a
user's choice, not bad input, and do not cause exit 3.`,
		Example: `  loupe ingest events.jsonl
  loupe gen --n 20000 --seed 1 | loupe ingest - --rejects rejects.jsonl
  loupe ingest --json day1.jsonl day2.jsonl
  loupe ingest export.json
  loupe ingest --format otlp traces.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				if term.IsTerminal(os.Stdin.Fd()) {
					return usageErr("no input: name JSONL files, or pipe events to 'loupe ingest -'")
				}
				args = []string{"-"}
			}
			if format != "jsonl" && format != "otlp" {
				return usageErr("--format %q: want jsonl or otlp", format)
			}
			// Check every input exists before writing anything.
			for _, f := range args {
				if f == "-" {
					continue
				}
				fi, err := os.Stat(f)
				if err != nil {
					return usageErr("input %s: %v", f, err)
				}
				if fi.IsDir() {
					return usageErr("input %s is a directory: name its files (loupe ingest %s)", f, filepath.Join(f, "*.jsonl"))
				}
			}
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), "loupe ingest")
			if err != nil {
				return err
			}
			var rw *rejectWriter
			if rejects == "-" {
				rw = newStdoutRejects(cmd.OutOrStdout())
				defer rw.close()
			} else if rejects != "" {
				if rw, err = newRejectWriter(rejects); err != nil {
					return withCode(exitInternal, err)
				}
				defer rw.close()
			}
			pipe := ingest.New(st, ingest.PipelineOptions{Keep: cfg.Intake.Keep})
			var otel *ingest.OTLP
			if format == "otlp" {
				otel = ingest.NewOTLP(pipe, cfg.OTLP.Mapping())
			}
			var total ingest.Summary
			total.Reasons = map[string]int{}
			start := time.Now()
			for _, name := range args {
				var r io.Reader = os.Stdin
				var size int64 = -1
				if name != "-" {
					f, err := os.Open(name)
					if err != nil {
						return withCode(exitInternal, fmt.Errorf("input %s: %w", name, err))
					}
					defer f.Close()
					if fi, err := f.Stat(); err == nil {
						size = fi.Size()
					}
					r = f
				}
				in, err := openInput(r)
				if err != nil {
					return withCode(exitInternal, fmt.Errorf("input %s: %w", name, err))
				}
				defer in.close()
				o := ingest.ReadOptions{Name: name}
				if rw != nil {
					o.OnReject = rw.write
				}
				p := newProgress(cmd.ErrOrStderr(), name, size)
				if p != nil {
					// Against the file's size: what was read of the file,
					// compressed or not.
					o.Progress = func(lines int, _ int64) { p.update(lines, in.read.Load()) }
				}
				var s ingest.Summary
				if otel != nil {
					s, err = otel.ReadOTLPFile(cmd.Context(), in, o)
				} else {
					s, err = pipe.ReadJSONL(cmd.Context(), in, o)
				}
				p.done() // before any summary: it shares the terminal line
				total.Add(s)
				if err != nil {
					printSummary(cmd, a, total, time.Since(start), rejects)
					if cmd.Context().Err() != nil {
						return withCode(exitInternal, fmt.Errorf("interrupted while reading %s; everything counted as accepted above is stored, re-run to finish", name))
					}
					if errors.Is(err, store.ErrDiskFull) {
						return withCode(exitInternal, fmt.Errorf("ingest of %s stopped: %w; everything counted as accepted above is stored, and re-running the same input after freeing space finishes it (stored records count as duplicates)", name, err))
					}
					return withCode(exitInternal, fmt.Errorf("ingest %s: %w", name, err))
				}
			}
			if rw != nil {
				if err := rw.close(); err != nil {
					return withCode(exitInternal, err)
				}
			}
			printSummary(cmd, a, total, time.Since(start), rejects)
			if total.Malformed() > 0 {
				return silentExit{exitPartial}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&rejects, "rejects", "", "write rejected lines (masked) to this JSONL file (- for stdout; the summary then goes to stderr)")
	cmd.Flags().StringVar(&format, "format", "jsonl", "input format: jsonl (loupe records) or otlp (OTLP JSON lines, as the collector's file exporter writes)")
	return cmd
}

func printSummary(cmd *cobra.Command, a *app, s ingest.Summary, d time.Duration, rejects string) {
	w := cmd.OutOrStdout()
	if rejects == "-" {
		w = cmd.ErrOrStderr() // stdout carries the rejected lines
	}
	if a.json {
		b, _ := json.Marshal(s)
		fmt.Fprintln(w, string(b))
		return
	}
	unit, form := "lines", ""
	switch s.Form {
	case ingest.FormArray:
		unit, form = "records", " (a JSON array)"
	case ingest.FormValues:
		unit, form = "records", " (JSON across lines)"
	}
	rate := ""
	if secs := d.Seconds(); secs > 0.05 && s.Read > 0 {
		rate = fmt.Sprintf(" in %.1fs (%.0f %s/s)", secs, float64(s.Read)/secs, unit)
	}
	fmt.Fprintf(w, "read %d %s%s%s: %d accepted, %d duplicates, %d rejected, %d blank\n",
		s.Read, unit, form, rate, s.Accepted, s.Duplicates, s.Rejected, s.Blank)
	if s.Signals > 0 || s.Withdrawn > 0 {
		fmt.Fprintf(w, "signals: %d stored (%d waiting for their interaction); %d records dropped, consent withdrawn\n",
			s.Signals, s.Pending, s.Withdrawn)
	}
	if s.Aggregated > 0 || s.Dropped > 0 {
		fmt.Fprintf(w, "edge sampling: %d records counted in the aggregates only (not kept in full); %d signals dropped, carrying nothing counted\n",
			s.Aggregated, s.Dropped)
	}
	if len(s.Reasons) > 0 {
		keys := make([]string, 0, len(s.Reasons))
		for k := range s.Reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = fmt.Sprintf("%s %d", k, s.Reasons[k])
		}
		fmt.Fprintf(w, "rejected by reason: %s\n", strings.Join(parts, ", "))
		if rejects != "" {
			if rejects == "-" {
				rejects = "stdout"
			}
			fmt.Fprintf(w, "rejected lines: %s\n", rejects)
		} else if s.Malformed() > 0 {
			fmt.Fprintln(w, "run again with --rejects FILE to see each rejected line and why")
		}
	}
}

// rejectWriter writes the rejects file atomically: to a temp file renamed
// into place on success, so a crash never leaves half a file behind.
type rejectWriter struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	enc  *json.Encoder
	err  error
}

// newStdoutRejects writes the rejected lines to w as they come.
func newStdoutRejects(w io.Writer) *rejectWriter {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &rejectWriter{path: "-", bw: bw, enc: enc}
}

func newRejectWriter(path string) (*rejectWriter, error) {
	f, err := os.CreateTemp(dirOf(path), ".loupe-rejects-*")
	if err != nil {
		return nil, fmt.Errorf("rejects file %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &rejectWriter{path: path, f: f, bw: bw, enc: enc}, nil
}

func (r *rejectWriter) write(rj ingest.Reject) {
	if r.err == nil {
		r.err = r.enc.Encode(rj)
	}
}

func (r *rejectWriter) close() error {
	if r.path == "-" {
		if r.err == nil {
			r.err = r.bw.Flush()
		}
		return r.err
	}
	if r.f == nil {
		return r.err
	}
	f := r.f
	r.f = nil
	if r.err == nil {
		r.err = r.bw.Flush()
	}
	if cerr := f.Close(); r.err == nil {
		r.err = cerr
	}
	if r.err == nil {
		r.err = os.Rename(f.Name(), r.path)
	}
	if r.err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("rejects file %s: %w", r.path, r.err)
	}
	return nil
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i+1]
	}
	return "."
}

// progress prints a one-line counter to a terminal's stderr for large
// inputs.
type progress struct {
	w     io.Writer
	name  string
	size  int64
	start time.Time
	last  time.Time
	shown bool
}

func newProgress(w io.Writer, name string, size int64) *progress {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(f.Fd()) {
		return nil
	}
	if size >= 0 && size < 8<<20 {
		return nil // small file: done before a progress line would help
	}
	return &progress{w: w, name: name, size: size, start: time.Now(), last: time.Now()}
}

func (p *progress) update(lines int, bytes int64) {
	now := time.Now()
	if now.Sub(p.last) < 250*time.Millisecond {
		return
	}
	p.last = now
	rate := float64(lines) / now.Sub(p.start).Seconds()
	if p.size > 0 {
		fmt.Fprintf(p.w, "\r\x1b[K%s: %d lines, %.0f%% (%.0f lines/s)", p.name, lines, 100*float64(bytes)/float64(p.size), rate)
	} else {
		fmt.Fprintf(p.w, "\r\x1b[K%s: %d lines (%.0f lines/s)", p.name, lines, rate)
	}
	p.shown = true
}

// done clears the progress line; safe on nil and to call twice.
func (p *progress) done() {
	if p != nil && p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.shown = false
	}
}
