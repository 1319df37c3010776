package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"weak"

	"github.com/dgraph-io/badger/v4"
	"github.com/klauspost/compress/zstd"
	"github.com/loupe-dev/loupe/loop/columns"
	"github.com/loupe-dev/loupe/loop/inbox"
)

// The inbox snapshot: the inbox's columns as one file in the store
// directory (inbox.snap), so that opening a million-item inbox is one
// sequential read, plus the summaries written since, instead of a scan of
// the whole summary range that decodes every summary again.
//
// The file says which Badger version (read timestamp T) it was built at.
// What changed after T is found by version: an iterator with SinceTs T
// returns exactly the summary keys written after T (and skips the tables
// older than T without reading them). Deletions cannot be found that way
// (compaction may drop their tombstones), so the snapshot's validity is
// kept in Badger, transactionally:
//
//   - m inbox_snap holds T, the file's size and checksum. It is written
//     once the file is in place; a file without it (or not matching it)
//     is not used.
//   - every transaction that deletes a summary key (deleteKeys, the one
//     helper every delete goes through) also deletes m inbox_snap and
//     sets m summary_deleted, whose Badger version is then the time of the
//     last deletion: a snapshot built at T is valid only while that
//     version is at most T. The version check is what makes a snapshot
//     written concurrently with a deletion safe; deleting m inbox_snap is
//     what tells the next writer to remove the stale file.
//
// After a commit that deleted summaries the file is removed (afterDeletes),
// so that forgetting a user does not leave their snippets in it. Anything
// wrong with the file (missing, short, bad checksum, another format) means
// the full scan, never an error.
const snapFile = "inbox.snap"

var (
	metaInboxSnap  = metaKey("inbox_snap")
	metaSummaryDel = metaKey("summary_deleted")
)

// snapMagic starts the file; snapVersion is its layout (the columns carry
// their own format number too, see inbox.Decode).
var snapMagic = []byte("LOUPEINB")

const (
	snapVersion = 2  // 2: the columns in zstd frames (1: plain)
	snapHeader  = 32 // magic, version, T, rows
	snapTrailer = 8  // crc32c of all before it, 4 bytes of padding
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// snapCloseDelta is how many summaries written since the snapshot make a
// closing writer write a new one; fewer are merged in at each open, which
// costs less than rewriting a million-item file at the close of every
// small ingest; unless the tables an open's delta scan would read hold
// snapStaleKeys keys or more (compaction spreads new versions into
// tables of old keys).
var snapCloseDelta = 2000

const snapStaleKeys = 200_000

// snapDeltaRefresh is how many summaries written since the snapshot make a
// long-running writer (serve) write a new one at its next maintenance
// tick: the delta an open merges stays small.
var snapDeltaRefresh = 20000

// snapMeta is m inbox_snap's value.
type snapMeta struct {
	ts   uint64
	size int64
	crc  uint32
}

func (m snapMeta) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, m.ts)
	b = binary.BigEndian.AppendUint64(b, uint64(m.size))
	return binary.BigEndian.AppendUint32(b, m.crc)
}

// snapshotMeta is the current snapshot's record as txn sees it, and
// whether it is valid: present, and no summary deleted after it was built.
func snapshotMeta(txn *badger.Txn) (snapMeta, bool, error) {
	v, err := getValue(txn, metaInboxSnap)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return snapMeta{}, false, nil
	}
	if err != nil {
		return snapMeta{}, false, err
	}
	if len(v) != 20 {
		return snapMeta{}, false, nil
	}
	m := snapMeta{ts: binary.BigEndian.Uint64(v), size: int64(binary.BigEndian.Uint64(v[8:])), crc: binary.BigEndian.Uint32(v[16:])}
	if m.ts >= txn.ReadTs() {
		return snapMeta{}, false, nil
	}
	item, err := txn.Get(metaSummaryDel)
	if err == nil && item.Version() > m.ts {
		return m, false, nil
	}
	if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return snapMeta{}, false, err
	}
	return m, true, nil
}

// deleteKeys deletes keys in txn. Every delete in the store goes through
// it: a summary key among them invalidates the inbox snapshot in the same
// transaction (see snapFile).
func deleteKeys(txn *badger.Txn, keys ...[]byte) error {
	for _, k := range keys {
		if len(k) > 0 && k[0] == prefixSummary {
			if err := txn.Delete(metaInboxSnap); err != nil {
				return err
			}
			if err := txn.Set(metaSummaryDel, nil); err != nil {
				return err
			}
			break
		}
	}
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// afterDeletes runs after a commit that may have deleted summaries: when
// the snapshot's record is gone, so goes the file, so that nothing erased
// stays in it.
func (s *Store) afterDeletes() {
	if !s.snapOnDisk.Load() {
		return
	}
	err := s.db.View(func(txn *badger.Txn) error {
		_, ok, err := snapshotMeta(txn)
		if err == nil && !ok {
			s.snapMu.Lock()
			s.removeSnapshot()
			s.snapMu.Unlock()
		}
		return err
	})
	_ = err // a failed check leaves the file to the next writer: it is not used
}

// removeSnapshot removes the file, and a temporary one a crash left.
// Called with snapMu held.
func (s *Store) removeSnapshot() {
	path := filepath.Join(s.dir, snapFile)
	_ = os.Remove(path + ".tmp")
	if err := os.Remove(path); err == nil || errors.Is(err, os.ErrNotExist) {
		s.snapOnDisk.Store(false)
	}
}

// readSnapshot is the snapshot's list and T, when txn sees a valid one
// whose file matches it; nil otherwise.
func (s *Store) readSnapshot(txn *badger.Txn) (*inbox.List, uint64) {
	m, ok, err := snapshotMeta(txn)
	if err != nil || !ok {
		return nil, 0
	}
	l, err := readSnapshotFile(filepath.Join(s.dir, snapFile), m)
	if err != nil {
		s.snapBad.Store(true) // the next writer's Close writes a good one
		return nil, 0
	}
	return l, m.ts
}

func readSnapshotFile(path string, m snapMeta) (*inbox.List, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() != m.size || m.size < snapFooter+snapTrailer {
		return nil, fmt.Errorf("%s: %d bytes, want %d", path, fi.Size(), m.size)
	}
	file := make([]byte, m.size)
	if err := readHalves(f, file); err != nil {
		return nil, err
	}
	body := file[:len(file)-snapTrailer]
	if crc := crc32.Checksum(body, castagnoli); crc != m.crc || crc != binary.LittleEndian.Uint32(file[len(body):]) {
		return nil, fmt.Errorf("%s: bad checksum", path)
	}
	// One buffer that the list's strings and columns point into: held
	// once, for as long as the list.
	b, err := unframe(body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	file = nil
	if len(b) < snapHeader || !bytes.Equal(b[:8], snapMagic) || binary.LittleEndian.Uint64(b[8:]) != snapVersion ||
		binary.LittleEndian.Uint64(b[16:]) != m.ts {
		return nil, fmt.Errorf("%s: not a snapshot of this version", path)
	}
	// Decode checks every offset and code itself, so damaged bytes cannot
	// make it fail worse than with an error.
	l, err := inbox.Decode(b[snapHeader:])
	if err != nil {
		return nil, err
	}
	if uint64(l.Len()) != binary.LittleEndian.Uint64(b[24:]) {
		return nil, fmt.Errorf("%s: row count differs", path)
	}
	return l, nil
}

// The file's columns are cut into frames of snapFrame bytes, each
// compressed on its own with zstd at its fastest, so that an open
// decompresses them on every core at once: a quarter of the bytes on disk
// (the snapshot would otherwise be a third of a store's size) for about a
// tenth of a second at a million items. After the frames comes a footer:
// each frame's raw and compressed sizes, the frame count, the raw size and
// snapFrameMagic; then the trailer.
const (
	snapFrame  = 4 << 20
	snapFooter = 24 // frame count, padding, raw size, magic (besides the table)
)

var snapFrameMagic = []byte("LOUPEINZ")

var (
	snapEncoder = sync.OnceValue(func() *zstd.Encoder {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err)
		}
		return e
	})
	snapDecoder = sync.OnceValue(func() *zstd.Decoder {
		d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithDecoderMaxMemory(2*snapFrame))
		if err != nil {
			panic(err)
		}
		return d
	})
)

// unframe decompresses body (frames and footer) into one buffer of the
// raw size, the frames decompressed in parallel straight into place.
func unframe(body []byte) ([]byte, error) {
	if len(body) < snapFooter || !bytes.Equal(body[len(body)-8:], snapFrameMagic) {
		return nil, errors.New("not a snapshot of this version")
	}
	foot := body[len(body)-snapFooter:]
	n := int(binary.LittleEndian.Uint32(foot))
	raw := binary.LittleEndian.Uint64(foot[8:])
	table := len(body) - snapFooter - 8*n
	if n <= 0 || table < 0 || raw > uint64(n)*snapFrame {
		return nil, errors.New("bad frame table")
	}
	type frame struct{ at, comp, from, to int }
	frames := make([]frame, n)
	at, from := 0, 0
	for i := range frames {
		r := int(binary.LittleEndian.Uint32(body[table+8*i:]))
		c := int(binary.LittleEndian.Uint32(body[table+8*i+4:]))
		if r > snapFrame || c > table-at {
			return nil, errors.New("bad frame table")
		}
		frames[i] = frame{at, c, from, from + r}
		at, from = at+c, from+r
	}
	if at != table || uint64(from) != raw {
		return nil, errors.New("bad frame table")
	}
	b := make([]byte, raw)
	d := snapDecoder()
	workers := min(runtime.GOMAXPROCS(0), n)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				fr := frames[i]
				dst := b[fr.from:fr.from:fr.to]
				out, err := d.DecodeAll(body[fr.at:fr.at+fr.comp], dst)
				if err == nil && (len(out) != fr.to-fr.from || (len(out) > 0 && &out[0] != &b[fr.from])) {
					err = errors.New("frame of the wrong size")
				}
				if err != nil {
					errs[w] = fmt.Errorf("frame %d: %w", i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return b, nil
}

// framer cuts what it is given into frames, compresses each and hands it
// to out, and writes the footer at close.
type framer struct {
	out   func([]byte) error
	buf   []byte
	comp  []byte
	table []byte
	n     uint32
	raw   uint64
}

func (z *framer) write(p []byte) error {
	for len(p) > 0 {
		if z.buf == nil {
			z.buf = make([]byte, 0, snapFrame)
		}
		k := min(len(p), snapFrame-len(z.buf))
		z.buf = append(z.buf, p[:k]...)
		p = p[k:]
		if len(z.buf) == snapFrame {
			if err := z.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (z *framer) flush() error {
	if len(z.buf) == 0 {
		return nil
	}
	z.comp = snapEncoder().EncodeAll(z.buf, z.comp[:0])
	z.table = binary.LittleEndian.AppendUint32(z.table, uint32(len(z.buf)))
	z.table = binary.LittleEndian.AppendUint32(z.table, uint32(len(z.comp)))
	z.n++
	z.raw += uint64(len(z.buf))
	z.buf = z.buf[:0]
	return z.out(z.comp)
}

func (z *framer) close() error {
	if err := z.flush(); err != nil {
		return err
	}
	f := binary.LittleEndian.AppendUint32(z.table, z.n)
	f = append(f, 0, 0, 0, 0)
	f = binary.LittleEndian.AppendUint64(f, z.raw)
	return z.out(append(f, snapFrameMagic...))
}

// readHalves fills b from f, the two halves at once: most of a read from
// the page cache is the kernel faulting the new buffer's pages in, which
// two cores do in half the time.
func readHalves(f *os.File, b []byte) error {
	h := len(b) / 2 &^ 4095
	errs := make(chan error, 1)
	go func() {
		_, err := f.ReadAt(b[h:], int64(h))
		errs <- err
	}()
	_, err := f.ReadAt(b[:h], 0)
	return errors.Join(err, <-errs)
}

// writeSnapshot writes l, built at read timestamp ts, as the snapshot:
// the file first (under a temporary name, renamed when whole), then its
// record in Badger. The columns go to the file as they are encoded, not
// made in memory first. Called with snapMu held.
//
// The file is not synced: the record (a synced Badger write) holds its
// size and checksum, so a file a crash left short or stale is found out
// and not used (the open scans, the next close writes a good one). A
// sync would add half a second to the close of every writer for a cache.
func (s *Store) writeSnapshot(l *inbox.List, ts uint64) error {
	if err := s.ensureSpace(l.Len() * 256); err != nil {
		return err
	}
	path := filepath.Join(s.dir, snapFile)
	tmp := path + ".tmp"
	size, crc, err := writeColumns(tmp, l, ts)
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	// A summary deleted since ts: the snapshot is stale already, and may
	// hold what was erased. (Checked under snapMu, which afterDeletes
	// takes to remove the file: a deletion either comes before this check
	// or removes the file after the rename.)
	stale := false
	if err := s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(metaSummaryDel)
		stale = err == nil && item.Version() > ts
		if errors.Is(err, badger.ErrKeyNotFound) {
			err = nil
		}
		return err
	}); err != nil || stale {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	s.snapOnDisk.Store(true)
	err = s.db.Update(func(txn *badger.Txn) error {
		return txn.Set(metaInboxSnap, snapMeta{ts: ts, size: size, crc: crc}.encode())
	})
	if err == nil {
		s.snapBad.Store(false)
	}
	return mapErr(err)
}

// writeColumns writes the snapshot file of l at ts to path: header,
// columns, and the checksum of both. It returns the file's size and
// checksum.
func writeColumns(path string, l *inbox.List, ts uint64) (int64, uint32, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	var crc uint32
	var size int64
	z := &framer{out: func(p []byte) error {
		crc = crc32.Update(crc, castagnoli, p)
		size += int64(len(p))
		_, err := bw.Write(p)
		return err
	}}
	e := &columns.Encoder{Sink: z.write}
	h := make([]byte, snapHeader)
	copy(h, snapMagic)
	binary.LittleEndian.PutUint64(h[8:], snapVersion)
	binary.LittleEndian.PutUint64(h[16:], ts)
	binary.LittleEndian.PutUint64(h[24:], uint64(l.Len()))
	e.B = h
	if err := l.Encode(e); err != nil {
		return 0, 0, err
	}
	if err := z.close(); err != nil {
		return 0, 0, err
	}
	t := binary.LittleEndian.AppendUint32(nil, crc)
	if _, err := bw.Write(append(t, 0, 0, 0, 0)); err != nil {
		return 0, 0, err
	}
	if err := bw.Flush(); err != nil {
		return 0, 0, err
	}
	return size + snapTrailer, crc, f.Close()
}

// refreshSnapshot writes a new snapshot when at least minDelta summaries
// were written since the current one (or any, when an open's delta scan
// would read many tables: keysSince), or there is none valid (then only
// if any summary is stored; else the stale file goes).
//
// closing says the store is closing (no write can come after): the
// memtable is then flushed first and one more version committed, so that
// every table holding summaries is older than the snapshot's T and the
// next open's delta scan skips them all without reading a block. (A
// memtable flushed at close would otherwise hold the last summaries of an
// ingest under a newer version than theirs and be read in full.)
func (s *Store) refreshSnapshot(minDelta int, closing bool) error {
	s.snapMu.Lock()
	defer s.snapMu.Unlock()
	build, err := s.snapshotDue(minDelta)
	if err != nil || !build {
		return err
	}
	// The snapshot is a cache: on a disk too full for a memtable flush and
	// the file, none is written (the next open scans). Flushing anyway
	// would have Badger build tables in mapped files on a full disk, which
	// a write fault there ends with SIGBUS.
	if s.ensureSpace(s.summaryCountHint()*64) != nil {
		return nil
	}
	if closing {
		s.flushMemtable()
		if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaSnapEpoch, nil) }); err != nil {
			return mapErr(err)
		}
	}
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	l, err := s.inboxAt(txn)
	if err != nil {
		return err
	}
	return s.writeSnapshot(l, txn.ReadTs())
}

// metaSnapEpoch is written just before a closing writer's snapshot (see
// refreshSnapshot); its value is empty.
var metaSnapEpoch = metaKey("inbox_snap_epoch")

// snapshotDue says whether refreshSnapshot should write a snapshot; when
// none is due and none is valid, it removes the stale file and record.
func (s *Store) snapshotDue(minDelta int) (bool, error) {
	txn := s.db.NewTransaction(false)
	defer txn.Discard()
	m, ok, err := snapshotMeta(txn)
	if err != nil {
		return false, mapErr(err)
	}
	if ok && !s.snapBad.Load() {
		fi, err := os.Stat(filepath.Join(s.dir, snapFile))
		ok = err == nil && fi.Size() == m.size
	}
	if ok && !s.snapBad.Load() {
		n := countSince(txn, m.ts, minDelta)
		return n >= minDelta || n > 0 && s.keysSince(m.ts) >= snapStaleKeys, nil
	}
	if countSince(txn, 0, 1) > 0 {
		return true, nil
	}
	s.removeSnapshot()
	if m.size != 0 {
		return false, mapErr(s.db.Update(func(txn *badger.Txn) error { return deleteKeys(txn, metaInboxSnap) }))
	}
	return false, nil
}

// keysSince is how many keys the tables that may hold summaries written
// after ts hold: about what an open's delta scan reads (it skips the
// other tables whole).
func (s *Store) keysSince(ts uint64) int {
	n := 0
	for _, t := range s.db.Tables() {
		if t.MaxVersion > ts && len(t.Left) > 0 && len(t.Right) > 0 && t.Left[0] <= prefixSummary && t.Right[0] >= prefixSummary {
			n += int(t.KeyCount)
		}
	}
	return n
}

// flushMemtable writes Badger's memtables to tables: Badger flushes them
// for DropPrefix when the prefix has data, so a key is written to drop.
func (s *Store) flushMemtable() {
	flush := metaKey("flush")
	if err := s.db.Update(func(txn *badger.Txn) error { return txn.Set(flush, nil) }); err == nil {
		_ = s.db.DropPrefix(flush)
	}
}

// countSince counts the summary keys written after version ts, up to
// limit.
func countSince(txn *badger.Txn, ts uint64, limit int) int {
	opt := badger.IteratorOptions{Prefix: prefix(prefixSummary), SinceTs: ts}
	it := txn.NewIterator(opt)
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid() && n < limit; it.Next() {
		n++
	}
	return n
}

// lastInbox is the last list Inbox made, and the read timestamp it was
// made at, held weakly: while its caller keeps it, the next Inbox (or
// snapshot) starts from it instead of the file.
type lastInbox struct {
	l  weak.Pointer[inbox.List]
	ts uint64
}

// inboxAt is the inbox as txn sees it: a snapshot (the last list made, or
// the file) with the summaries written since merged in, or else the full
// scan.
func (s *Store) inboxAt(txn *badger.Txn) (*inbox.List, error) {
	base, ts := s.recentInbox(txn)
	if base == nil {
		base, ts = s.readSnapshot(txn)
	}
	var l *inbox.List
	if base != nil {
		delta, err := scanSince(txn, ts)
		if err != nil {
			return nil, err
		}
		l = inbox.Upsert(base, delta)
	} else {
		var err error
		if l, err = s.fullInbox(txn); err != nil {
			return nil, err
		}
	}
	s.last.Store(&lastInbox{l: weak.Make(l), ts: txn.ReadTs()})
	return l, nil
}

// recentInbox is the last list made, when it is still held, was made at or
// before txn's view and no summary was deleted after it.
func (s *Store) recentInbox(txn *badger.Txn) (*inbox.List, uint64) {
	li := s.last.Load()
	if li == nil || li.ts > txn.ReadTs() {
		return nil, 0
	}
	l := li.l.Value()
	if l == nil {
		return nil, 0
	}
	item, err := txn.Get(metaSummaryDel)
	if err == nil && item.Version() > li.ts || err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
		return nil, 0
	}
	return l, li.ts
}

// scanSince is the summaries written after version ts, in list order.
func scanSince(txn *badger.Txn, ts uint64) (*inbox.List, error) {
	l, err := scanInbox(txn, prefix(prefixSummary), nil, 0, ts)
	if err != nil {
		return nil, err
	}
	return inbox.Reversed(l), nil
}

// maintainSnapshot is serve's (any long-running writer's) periodic
// refresh, from the maintenance loop: off the write path, it reads a
// consistent view while writes go on.
func (s *Store) maintainSnapshot() {
	_ = s.refreshSnapshot(snapDeltaRefresh, false) // a failed refresh leaves the old snapshot, still exact
}

// SnapshotState is what the inbox snapshot holds, for doctor.
type SnapshotState struct {
	Rows int `json:"rows"` // items in the file
	// Behind is how many summaries were written after it (an open merges
	// them in); a close writes a current one.
	Behind int `json:"behind"`
}

// InboxSnapshot reports the inbox snapshot an open would use, or nil when
// there is none (none written yet, summaries deleted since, or the file
// damaged: the next open scans every summary, and this writer's close
// writes a good one). It reads and checks the whole file.
func (s *Store) InboxSnapshot() (*SnapshotState, error) {
	var st *SnapshotState
	err := s.db.View(func(txn *badger.Txn) error {
		l, ts := s.readSnapshot(txn)
		if l != nil {
			st = &SnapshotState{Rows: l.Len(), Behind: countSince(txn, ts, 1<<30)}
		}
		return nil
	})
	return st, mapErr(err)
}
