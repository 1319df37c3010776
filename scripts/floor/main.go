// Command floor measures the store's floor for ingest: Badger alone
// writing each line of a JSONL file as a value, with a WriteBatch, no
// parsing, validation or masking, under the options loupe's store uses
// (value threshold 256 B, synchronous writes, the same memtables). It prints
// one line: `floor: N lines in S s = R lines/s`.
//
// Usage: go run ./scripts/floor FILE STORE_DIR
package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: floor FILE STORE_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "floor:", err)
		os.Exit(1)
	}
}

func run(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	opts := badger.DefaultOptions(dir).WithLogger(nil).
		WithValueThreshold(256).WithSyncWrites(true).
		WithMemTableSize(32 << 20).WithNumMemtables(2).
		WithNumLevelZeroTables(4).WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(32 << 20).WithIndexCacheSize(16 << 20).
		WithValueLogFileSize(128 << 20).WithNumCompactors(2).
		WithDetectConflicts(false).WithCompression(options.None)
	db, err := badger.Open(opts)
	if err != nil {
		return err
	}
	start := time.Now()
	wb := db.NewWriteBatch()
	br := bufio.NewReaderSize(f, 256<<10)
	n := 0
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 1 {
			k := make([]byte, 9)
			k[0] = 'e'
			binary.BigEndian.PutUint64(k[1:], uint64(n))
			if err := wb.Set(k, line[:len(line)-1]); err != nil {
				return err
			}
			n++
		}
		if err != nil {
			break
		}
	}
	if err := wb.Flush(); err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Printf("floor: %d lines in %.2f s = %.0f lines/s\n", n, secs, float64(n)/secs)
	return nil
}
