package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/loupe-dev/loupe/store"
	"github.com/spf13/cobra"
)

func init() {
	extraCommands = append(extraCommands, newBackupCmd, newRestoreCmd)
}

func newBackupCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Write a full backup of the store to FILE",
		Long: `Write a full backup of the store (events, labels, sets and the store's
secret for user hashes) as a Badger backup stream, framed with a header and a
trailer that records its length, checksum and event count, so that a
truncated copy is refused on restore. Like the store, it holds only masked
data. Restore it with 'loupe restore FILE' into a new store. FILE - writes
to stdout.`,
		Example: `  loupe backup loupe-2026-11-26.bak
  loupe backup - | ssh backup-host 'cat > loupe.bak'`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("backup needs the FILE to write")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			out := args[0]
			if f, ok := cmd.OutOrStdout().(*os.File); ok && out == "-" && term.IsTerminal(f.Fd()) {
				return usageErr("backup -: stdout is a terminal; redirect it to a file or a pipe")
			}
			st, err := a.open(cmd.Context(), "loupe backup")
			if err != nil {
				return err
			}
			if out == "-" {
				bw := bufio.NewWriterSize(cmd.OutOrStdout(), 1<<20)
				if err := writeBackup(st, bw); err != nil {
					return withCode(exitInternal, fmt.Errorf("backup to stdout: %w", err))
				}
				return nil
			}
			tmp, err := os.CreateTemp(filepath.Dir(out), ".loupe-backup-*")
			if err != nil {
				return withCode(exitInternal, fmt.Errorf("backup to %s: %w", out, err))
			}
			defer os.Remove(tmp.Name())
			err = writeBackup(st, bufio.NewWriterSize(tmp, 1<<20))
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp.Name(), out)
			}
			if err != nil {
				return withCode(exitInternal, fmt.Errorf("backup to %s: %w", out, err))
			}
			fi, _ := os.Stat(out)
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %s to %s (%d bytes)\n", st.Dir(), out, fi.Size())
			return nil
		},
	}
}

// writeBackup writes the framed backup (see backupfmt.go) and flushes bw.
// The store is held by this process, so the count taken before the stream
// is the stream's.
func writeBackup(st *store.Store, bw *bufio.Writer) error {
	n, err := st.Count()
	if err != nil {
		return err
	}
	if _, err := bw.Write(backupMagic); err != nil {
		return err
	}
	body := newBodyWriter(bw)
	if err := st.Backup(body); err != nil {
		return err
	}
	if _, err := bw.Write(backupTrailer{bodyLen: body.n, events: uint64(n), crc: body.crc.Sum32()}.bytes()); err != nil {
		return err
	}
	return bw.Flush()
}

func newRestoreCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into a new, empty store",
		Long: `Restore a backup into a new store (--store, which must not exist or be empty).

The backup is loaded into a temporary directory beside the store,
<store>.restore-<pid>, checked (read to its end marker, checksum and event
count as recorded, the store secret present) and only then renamed into
place. An interrupted restore leaves no store, only the temporary directory,
which the next restore removes; a truncated or damaged file is refused. FILE
- reads stdin.`,
		Example: `  loupe restore --store /srv/loupe-restored loupe-2026-11-26.bak`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("restore needs the backup FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return restore(cmd, a.storeDir, args[0])
		},
	}
}

func restore(cmd *cobra.Command, target, file string) error {
	target, err := filepath.Abs(target)
	if err != nil {
		return withCode(exitInternal, err)
	}
	if ents, err := os.ReadDir(target); err == nil && len(ents) > 0 {
		return usageErr("store %s is not empty: restore needs a new store directory", target)
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return withCode(exitInternal, fmt.Errorf("store %s: %w", target, err))
	}
	f, err := openIn(cmd.InOrStdin(), file)
	if err != nil {
		return usageErr("backup file: %v", err)
	}
	defer f.Close()
	name := displayName(file)

	if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
		return withCode(exitInternal, err)
	}
	if err := removeStaleRestores(target); err != nil {
		return err
	}
	tmp := fmt.Sprintf("%s.restore-%d", target, os.Getpid())
	st, err := store.Open(tmp, store.Options{Holder: "loupe restore", ForRestore: true})
	if err != nil {
		os.RemoveAll(tmp)
		return withCode(exitInternal, err)
	}
	events, err := loadBackup(cmd, st, name, bufio.NewReaderSize(f, 1<<20))
	if cerr := st.Close(); err == nil && cerr != nil {
		err = withCode(exitInternal, cerr)
	}
	if err == nil {
		// An empty target directory is replaced (os.Rename will not).
		if rerr := os.Remove(target); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = withCode(exitInternal, fmt.Errorf("store %s: %w", target, rerr))
		} else if err = os.Rename(tmp, target); err != nil {
			err = withCode(exitInternal, fmt.Errorf("move the restored store into place: %w", err))
		}
	}
	if err != nil {
		os.RemoveAll(tmp)
		return err
	}
	syncDir(filepath.Dir(target))
	fmt.Fprintf(cmd.OutOrStdout(), "restored %d events into %s\n", events, target)
	return nil
}

// loadBackup loads a backup stream into st and checks that it is whole:
// read to its trailer, the length, checksum and event count as recorded,
// the store secret present. It returns the number of events.
func loadBackup(cmd *cobra.Command, st *store.Store, name string, r *bufio.Reader) (int, error) {
	head, err := r.Peek(len(backupMagic))
	if err != nil && len(head) == 0 {
		return 0, withCode(exitInternal, fmt.Errorf("backup file %s is empty", name))
	}
	framed := bytes.Equal(head, backupMagic)
	var body *bodyReader
	var src io.Reader = r
	if framed {
		r.Discard(len(backupMagic))
		body = newBodyReader(r)
		src = body
	} else {
		fmt.Fprintf(cmd.ErrOrStderr(), "loupe: %s has no end marker (a backup from before loupe framed them): only Badger's own framing can check it is whole\n", name)
	}
	lerr := st.Restore(src)
	var tr backupTrailer
	if framed {
		var terr error
		if tr, terr = body.finish(); terr != nil {
			if errors.Is(terr, errTruncated) {
				return 0, withCode(exitInternal, fmt.Errorf("backup file %s is %v; nothing was restored", name, terr))
			}
			return 0, withCode(exitInternal, fmt.Errorf("backup file %s: %v; nothing was restored", name, terr))
		}
	}
	if lerr != nil {
		if errors.Is(lerr, io.ErrUnexpectedEOF) || errors.Is(lerr, io.EOF) {
			return 0, withCode(exitInternal, fmt.Errorf("backup file %s is truncated or incomplete (%v); nothing was restored", name, lerr))
		}
		return 0, withCode(exitInternal, fmt.Errorf("backup file %s: %w; nothing was restored", name, lerr))
	}
	n, err := st.Count()
	if err != nil {
		return 0, withCode(exitInternal, err)
	}
	if framed && uint64(n) != tr.events {
		return 0, withCode(exitInternal, fmt.Errorf("backup file %s records %d events but %d were restored; nothing was restored", name, tr.events, n))
	}
	return n, nil
}

// removeStaleRestores removes what restores into target killed part-way
// left behind. A directory still locked by a live restore is not touched:
// that restore is refused instead.
func removeStaleRestores(target string) error {
	stale, _ := filepath.Glob(target + ".restore-*")
	for _, d := range stale {
		if strings.ContainsAny(strings.TrimPrefix(d, target+".restore-"), "/") {
			continue
		}
		if dirLocked(d) {
			return withCode(exitLocked, fmt.Errorf("another restore into %s is running (%s): wait for it or stop it", target, d))
		}
		if err := os.RemoveAll(d); err != nil {
			return withCode(exitInternal, fmt.Errorf("remove the interrupted restore %s: %w", d, err))
		}
	}
	return nil
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
