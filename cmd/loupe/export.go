package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/loupe-dev/loupe/loop/agg"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop/export"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

// exporter writes one kind of export as records in a stable order. emit
// takes one JSON object (jsonl) or one CSV row.
type exporter struct {
	csvHeader []string
	run       func(st *store.Store, csv bool, emit func(json []byte, row []string) error) error
}

var exporters = map[string]exporter{
	"events": {export.EventCSVHeader, func(st *store.Store, csv bool, emit func([]byte, []string) error) error {
		return st.Events(func(_ string, body []byte) error {
			if !csv {
				return emit(body, nil)
			}
			var e loop.Event
			if err := json.Unmarshal(body, &e); err != nil {
				return err
			}
			return emit(nil, export.EventCSV(&e))
		})
	}},
	"labels": {export.LabelCSVHeader, func(st *store.Store, csv bool, emit func([]byte, []string) error) error {
		return st.AllLabels(func(l loop.Label) error { return emitOne(emit, csv, l, export.LabelCSV(l)) })
	}},
	"golden":      {export.SetCSVHeader, setExporter(loop.SetGolden)},
	"redflag":     {export.SetCSVHeader, setExporter(loop.SetRedFlag)},
	"sft":         {nil, trainingExporter(func(e *loop.Event, refs map[string]string) (any, bool) { return export.ToSFT(e, refs) })},
	"preference":  {nil, preferenceExporter},  // compare.go: corrections and comparisons
	"comparisons": {nil, comparisonsExporter}, // compare.go
	"aggregates":  {nil, aggregatesExporter},
	"kto":         {nil, trainingExporter(func(e *loop.Event, _ map[string]string) (any, bool) { return export.ToKTO(e) })},
}

func emitOne(emit func([]byte, []string) error, csv bool, v any, row []string) error {
	if csv {
		return emit(nil, row)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return emit(b, nil)
}

func setExporter(kind loop.SetKind) func(*store.Store, bool, func([]byte, []string) error) error {
	return func(st *store.Store, csv bool, emit func([]byte, []string) error) error {
		return st.SetEntries(kind, func(e loop.SetEntry) error {
			ev, err := st.Event(e.EventID)
			if err != nil {
				return err
			}
			e = e.WithContext(ev)
			return emitOne(emit, csv, e, export.SetCSV(e))
		})
	}
}

// trainingExporter walks events in time order and emits the training
// examples of those whose users consented to training.
func trainingExporter(conv func(*loop.Event, map[string]string) (any, bool)) func(*store.Store, bool, func([]byte, []string) error) error {
	return func(st *store.Store, _ bool, emit func([]byte, []string) error) error {
		refs, err := references(st)
		if err != nil {
			return err
		}
		return st.Events(func(_ string, body []byte) error {
			var e loop.Event
			if err := json.Unmarshal(body, &e); err != nil {
				return err
			}
			v, ok := conv(&e, refs)
			if !ok {
				return nil
			}
			return emitOne(emit, false, v, nil)
		})
	}
}

// references collects reviewer-written references: set entries first, then
// the most recent label reference of an event.
func references(st *store.Store) (map[string]string, error) {
	refs := map[string]string{}
	at := map[string]time.Time{}
	err := st.AllLabels(func(l loop.Label) error {
		if l.Reference != "" && l.At.After(at[l.EventID]) {
			refs[l.EventID], at[l.EventID] = l.Reference, l.At
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, kind := range []loop.SetKind{loop.SetRedFlag, loop.SetGolden} {
		if err := st.SetEntries(kind, func(e loop.SetEntry) error {
			if e.Reference != "" {
				refs[e.EventID] = e.Reference
			}
			return nil
		}); err != nil {
			return nil, err
		}
	}
	return refs, nil
}

func exportKinds() []string {
	return []string{"events", "labels", "golden", "redflag", "sft", "preference", "kto", "comparisons", "aggregates"}
}

func newExportCmd(a *app) *cobra.Command {
	var out, format string
	cmd := &cobra.Command{
		Use:   "export " + strings.Join(exportKinds(), "|"),
		Short: "Export stored data as JSONL, in a stable order",
		Long: `Export what the store holds, as stored (masked), one JSON object per line.

events      every event, in time order
labels      every reviewer's current label, by event id then reviewer
golden      the golden set, by event id
redflag     the red-flag set, by event id
sft         {"prompt","completion"}: corrections (reviewer references, else
            user edits) of events whose users gave consent.training: true
preference  {"prompt","chosen","rejected","source"}: the correction chosen
            over the model's output (source user_edit or reference), and
            the answer reviewers preferred in blind comparisons with a
            candidate (source comparison; ties, both-bad and even splits
            left out), same consent rule
kto         {"prompt","completion","label"}: thumbs up (true) and down
            (false), same consent rule
comparisons every reviewer's current blind comparison of a candidate with
            the current model, by event id, candidate, reviewer: the file
            'loupe gate --compare' reads
aggregates  exact daily counts of every interaction, by day, model version,
            segment and task, whether stored in full or only counted (edge
            sampling, intake.keep): the counts behind every rate, how many
            were stored, and latency p50/p95 (within 0.5%)

Events without a consent object are never exported as training data.
--format csv works for events, labels, golden and redflag. Text cells that
a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR)
get a leading ' (and a cell starting with ' one more); list cells are JSON
arrays, ["a;b","c"]. Set CSVs carry the same fields as their JSONL.

The order is stable, so the same store exports byte-identical files. With
--out, the file is written atomically and a manifest FILE.manifest.json
records the count and the sha256 of the file.`,
		Example: `  loupe export events --out events.jsonl
  loupe export labels | jq .grade`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("export needs one kind: %s", strings.Join(exportKinds(), ", "))
			}
			if _, ok := exporters[args[0]]; !ok {
				return usageErr("unknown export kind %q: want one of %s", args[0], strings.Join(exportKinds(), ", "))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case format != "jsonl" && format != "csv":
				return usageErr("--format %q: want jsonl or csv", format)
			case format == "csv" && exporters[args[0]].csvHeader == nil:
				return usageErr("--format csv is for events, labels, golden and redflag; %s is JSONL only", args[0])
			}
			st, err := a.open(cmd.Context(), "loupe export")
			if err != nil {
				return err
			}
			return exportTo(cmd, st, args[0], format, out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write to this file (and FILE.manifest.json) instead of stdout (- is stdout)")
	cmd.Flags().StringVar(&format, "format", "jsonl", "output format: jsonl or csv")
	return cmd
}

// Manifest describes an export file so sets diff and verify cleanly.
type Manifest struct {
	Kind   string `json:"kind"`
	Format string `json:"format"`
	Count  int    `json:"count"`
	SHA256 string `json:"sha256"`
	File   string `json:"file"`
}

func exportTo(cmd *cobra.Command, st *store.Store, kind, format, out string) error {
	var dst io.Writer = cmd.OutOrStdout()
	var tmp *os.File
	if out == "-" {
		out = "" // stdout, and no manifest
	}
	if out != "" {
		var err error
		if tmp, err = os.CreateTemp(filepath.Dir(out), ".loupe-export-*"); err != nil {
			return withCode(exitInternal, fmt.Errorf("export to %s: %w", out, err))
		}
		defer os.Remove(tmp.Name()) // no-op after the rename
		dst = tmp
	}
	bw := bufio.NewWriterSize(dst, 256<<10)
	h := sha256.New()
	out2 := io.MultiWriter(bw, h)
	ex := exporters[kind]
	var cw *csv.Writer
	var err error
	if format == "csv" {
		cw = csv.NewWriter(out2)
		err = cw.Write(ex.csvHeader)
	}
	n := 0
	if err == nil {
		err = ex.run(st, cw != nil, func(line []byte, row []string) error {
			n++
			if cw != nil {
				return cw.Write(row)
			}
			if _, err := out2.Write(line); err != nil {
				return err
			}
			_, err := out2.Write([]byte{'\n'})
			return err
		})
	}
	if cw != nil && err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		if tmp != nil {
			tmp.Close()
		}
		return withCode(exitInternal, fmt.Errorf("export %s: %w", kind, err))
	}
	if tmp == nil {
		return nil
	}
	if err := tmp.Sync(); err != nil {
		return withCode(exitInternal, err)
	}
	if err := tmp.Close(); err != nil {
		return withCode(exitInternal, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return withCode(exitInternal, fmt.Errorf("export to %s: %w", out, err))
	}
	m := Manifest{Kind: kind, Format: format, Count: n, SHA256: hex.EncodeToString(h.Sum(nil)), File: filepath.Base(out)}
	mb, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(out+".manifest.json", append(mb, '\n'), 0o644); err != nil {
		return withCode(exitInternal, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "exported %d %s to %s (sha256 %s)\n", n, kind, out, m.SHA256[:12])
	return nil
}

// aggregatesExporter writes one line per (day, model, segment, task) over
// every interaction: the stored summaries plus the aggregates of those not
// kept in full.
func aggregatesExporter(st *store.Store, _ bool, emit func([]byte, []string) error) error {
	all, err := st.Aggregates()
	if err != nil {
		return err
	}
	stored := agg.New()
	if err := st.Summaries(func(s loop.Summary) bool {
		stored.Add(&s, 1)
		return true
	}); err != nil {
		return err
	}
	all.Merge(stored)
	for _, r := range agg.Rows(all, stored) {
		if err := emitOne(emit, false, r, nil); err != nil {
			return err
		}
	}
	return nil
}
