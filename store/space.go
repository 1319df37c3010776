package store

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	"github.com/dgraph-io/badger/v4"
)

// ErrDiskFull is matched (errors.Is) by every write refused because the
// store's filesystem has too little free space; the error itself is a
// *DiskFullError saying how much is free and how much is needed.
var ErrDiskFull = errors.New("disk full")

// DiskFullError says a write was refused before it started because the
// filesystem holding the store has less free space than the write and
// Badger's next files need. Nothing of the refused write is stored.
type DiskFullError struct {
	Dir  string
	Free uint64 // bytes available to loupe
	Need uint64 // bytes the write needed free
}

func (e *DiskFullError) Error() string {
	return fmt.Sprintf("disk full: %s has %s free, and a write needs %s free (the data itself plus room for the store's next memtable flush and compaction); free up space or move the store (--store) and try again",
		e.Dir, mib(e.Free), mib(e.Need))
}

func (e *DiskFullError) Is(target error) bool { return target == ErrDiskFull }

func mib(n uint64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Why a reserve at all: Badger writes its value log, memtable log and
// tables through memory maps. A write into a map that the filesystem cannot
// back does not return an error; the kernel kills the process with SIGBUS,
// possibly half-way through a table, and on tmpfs even reading a hole of a
// map then faults. So loupe never lets the disk get that full: a write goes
// ahead only when, after it, there is still room for the memtable to be
// flushed and for level 0 to be compacted, the writes Badger may start on
// its own at any time.

// spaceMargin is slack on top of the computed need, for Badger's manifest,
// the discard file, the holder file and page rounding.
const spaceMargin = 8 << 20

// space caches the level-0 size used in the reserve: reading it takes
// Badger's level locks, and commits come many per second.
type space struct {
	mu   sync.Mutex
	l0   uint64
	at   time.Time
	free func(dir string) (uint64, error) // statfs; replaced in tests
	full bool                             // the last check failed
}

func statfsFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

// reserve is what must stay free after a write: a memtable flush and a
// level-0 compaction writing everything level 0 holds before it deletes it.
func (s *Store) reserve() uint64 {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	if time.Since(s.space.at) > 250*time.Millisecond {
		var l0 int64
		for _, l := range s.db.Levels() {
			if l.Level == 0 {
				l0 = l.Size
			}
		}
		s.space.l0, s.space.at = uint64(max(l0, 0)), time.Now()
	}
	return 2*uint64(s.db.Opts().MemTableSize) + s.space.l0 + spaceMargin
}

// ensureSpace refuses, with a *DiskFullError, a write of about n bytes
// that would leave less than the reserve free. Values are written twice
// (the memtable log and, for large ones, the value log), hence 2n.
func (s *Store) ensureSpace(n int) error {
	if s.readOnly {
		return nil // Badger refuses writes itself
	}
	free, err := s.space.free(s.dir)
	if err != nil {
		// Not knowing is no reason to refuse: Badger will report real
		// I/O errors itself.
		return nil
	}
	need := 2*uint64(n) + s.reserve()
	s.space.mu.Lock()
	s.space.full = free < need
	s.space.mu.Unlock()
	if free < need {
		return &DiskFullError{Dir: s.dir, Free: free, Need: need}
	}
	return nil
}

// CheckSpace reports, with a *DiskFullError, whether a write of n bytes
// would be refused now. The collector uses it for /healthz and to answer
// 507 before reading a body; ingest and the TUI rely on the writes' own
// checks.
func (s *Store) CheckSpace(n int) error { return s.ensureSpace(n) }

// DiskFull reports whether the last write check found too little space.
func (s *Store) DiskFull() bool {
	s.space.mu.Lock()
	defer s.space.mu.Unlock()
	return s.space.full
}

// update is db.Update for the store's small writes (labels, sets, the
// queue, erasure), refused like a large one when the disk is too full.
func (s *Store) update(fn func(txn *badger.Txn) error) error {
	if err := s.ensureSpace(64 << 10); err != nil {
		return err
	}
	err := s.db.Update(fn)
	if err == nil {
		s.afterDeletes()
	}
	return err
}
