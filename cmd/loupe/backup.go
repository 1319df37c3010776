package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"

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
secret for user hashes) as a Badger backup stream. Like the store, it holds
only masked data. Restore it with 'loupe restore FILE' into a new store.`,
		Example: `  loupe backup loupe-2026-11-26.bak`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("backup needs the FILE to write")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.open(cmd.Context(), "loupe backup")
			if err != nil {
				return err
			}
			out := args[0]
			tmp, err := os.CreateTemp(filepath.Dir(out), ".loupe-backup-*")
			if err != nil {
				return withCode(exitInternal, fmt.Errorf("backup to %s: %w", out, err))
			}
			defer os.Remove(tmp.Name())
			bw := bufio.NewWriterSize(tmp, 1<<20)
			err = st.Backup(bw)
			if err == nil {
				err = bw.Flush()
			}
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

func newRestoreCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:     "restore FILE",
		Short:   "Restore a backup into a new, empty store",
		Example: `  loupe restore --store /srv/loupe-restored loupe-2026-11-26.bak`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("restore needs the backup FILE")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return usageErr("backup file: %v", err)
			}
			defer f.Close()
			st, err := store.Open(a.storeDir, store.Options{Holder: "loupe restore", ForRestore: true})
			if err != nil {
				return err // exitCode maps a LockedError to 4, the rest to 5
			}
			a.st = st
			if err := st.Restore(bufio.NewReaderSize(f, 1<<20)); err != nil {
				return withCode(exitInternal, err)
			}
			n, _ := st.Count()
			fmt.Fprintf(cmd.OutOrStdout(), "restored %d events into %s\n", n, st.Dir())
			return nil
		},
	}
}
