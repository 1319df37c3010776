package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

// exporters by kind; each writes JSONL lines to w in a stable order.
var exporters = map[string]func(st *store.Store, w func([]byte) error) error{
	"events": func(st *store.Store, w func([]byte) error) error {
		return st.Events(func(_ string, body []byte) error { return w(body) })
	},
	"labels": func(st *store.Store, w func([]byte) error) error {
		return st.AllLabels(func(l loop.Label) error { return writeJSON(w, l) })
	},
	"golden": func(st *store.Store, w func([]byte) error) error {
		return st.SetEntries(loop.SetGolden, func(e loop.SetEntry) error { return writeJSON(w, e) })
	},
	"redflag": func(st *store.Store, w func([]byte) error) error {
		return st.SetEntries(loop.SetRedFlag, func(e loop.SetEntry) error { return writeJSON(w, e) })
	},
}

func writeJSON(w func([]byte) error, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w(b)
}

func exportKinds() []string { return []string{"events", "labels", "golden", "redflag"} }

func newExportCmd(a *app) *cobra.Command {
	var out, format string
	cmd := &cobra.Command{
		Use:   "export " + strings.Join(exportKinds(), "|"),
		Short: "Export stored data as JSONL, in a stable order",
		Long: `Export what the store holds, as stored (masked), one JSON object per line.

events   every event, in time order
labels   every reviewer's current label, by event id then reviewer
golden   the golden set, by event id
redflag  the red-flag set, by event id

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
			if format != "jsonl" {
				return usageErr("--format %q: only jsonl is supported for now", format)
			}
			st, err := a.open(cmd.Context(), "loupe export")
			if err != nil {
				return err
			}
			return exportTo(cmd, st, args[0], out)
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "write to this file (and FILE.manifest.json) instead of stdout")
	cmd.Flags().StringVar(&format, "format", "jsonl", "output format: jsonl")
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

func exportTo(cmd *cobra.Command, st *store.Store, kind, out string) error {
	var dst io.Writer = cmd.OutOrStdout()
	var tmp *os.File
	if out != "" {
		var err error
		if tmp, err = os.CreateTemp(filepath.Dir(out), ".loupe-export-*"); err != nil {
			return withCode(exitInternal, fmt.Errorf("export to %s: %w", out, err))
		}
		defer os.Remove(tmp.Name()) // no-op after the rename
		dst = tmp
	}
	bw := bufio.NewWriterSize(dst, 256<<10)
	var h hash.Hash = sha256.New()
	n := 0
	err := exporters[kind](st, func(line []byte) error {
		n++
		h.Write(line)
		h.Write([]byte{'\n'})
		if _, err := bw.Write(line); err != nil {
			return err
		}
		return bw.WriteByte('\n')
	})
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
	m := Manifest{Kind: kind, Format: "jsonl", Count: n, SHA256: hex.EncodeToString(h.Sum(nil)), File: filepath.Base(out)}
	mb, _ := json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(out+".manifest.json", append(mb, '\n'), 0o644); err != nil {
		return withCode(exitInternal, err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "exported %d %s to %s (sha256 %s)\n", n, kind, out, m.SHA256[:12])
	return nil
}
