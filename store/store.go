package store

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"
	"github.com/loupe-dev/loupe/loop"
)

// Sentinel errors. Callers match them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrClosed   = errors.New("store is closed")
)

// LockedError says the store directory is held by another process.
type LockedError struct {
	Dir    string
	Holder string // "loupe serve (pid 123, since 2026-11-26 10:00)", or "" when unknown
}

func (e *LockedError) Error() string {
	h := e.Holder
	if h == "" {
		h = "another process"
	}
	return fmt.Sprintf("store %s is in use by %s", e.Dir, h)
}

// PutStatus is what became of one event handed to PutEvents.
type PutStatus uint8

const (
	Stored    PutStatus = iota // new, written
	Duplicate                  // same id, same content: nothing written
	Conflict                   // same id, different content: rejected, stored event untouched
	Failed                     // new, but its write failed (PutEvents returned an error)
	Pending                    // a signal stored to wait for its interaction
	Withdrawn                  // dropped: consent for this event was withdrawn
	// Aggregated: a new interaction edge sampling did not keep, counted in
	// the aggregates (and kept as a stub, agg.go) but not stored in full; or
	// a new signal for such an interaction, applied to its aggregates.
	Aggregated
	// DroppedUnkept: a new signal for an interaction that was not kept that
	// carries nothing the aggregates count: counted, not stored.
	DroppedUnkept
)

// Options tune Open.
type Options struct {
	// ReadOnly opens without taking the write lock's exclusive form.
	ReadOnly bool
	// Holder describes this process in the holder file, so that a second
	// process can say who holds the store ("loupe tui").
	Holder string
	// ForRestore opens without creating the store secret, so that a
	// backup's own secret can be loaded (see Restore).
	ForRestore bool
	// FreeSpace reports the bytes free for the store's directory; default
	// statfs. Tests use it to play a full disk.
	FreeSpace func(dir string) (uint64, error)
}

// Store is an open loupe store. Its methods are safe for concurrent use.
type Store struct {
	db     *badger.DB
	dir    string
	secret []byte

	putMu sync.Mutex          // serialises PutEvents so the idempotency check is exact
	idf   *idFilter           // stored event ids, built on first put (guarded by putMu)
	sigf  *idFilter           // stored signal ids (k keys), likewise
	pendf *idFilter           // event ids with pending signals (p keys), likewise
	tombs map[string]struct{} // keyed hashes of withdrawn event ids, likewise
	keep  KeepFunc            // edge sampling: which new interactions are stored in full (nil: all)
	// arrivals picks the review-queue items of what PutRecords stores
	// (SetArrivals; nil: none). Atomic: RecordOf reads it in ingest's
	// workers.
	arrivals atomic.Pointer[ArrivalFunc]
	// contentHashes says interaction records need their content hash
	// (reduced.go): edge sampling was set, or stubs were found at open.
	contentHashes atomic.Bool
	// foldedMarked says metaFoldedStubs is set (reduced.go).
	foldedMarked atomic.Bool
	// contentV1 says the store's folded stubs hold content hashes of the
	// first function, HMAC-SHA256 (reduced.go), found at open.
	contentV1 atomic.Bool
	// contentKeys are the keys of the content hash, derived from the
	// secret (contentHashKeys).
	contentKeys atomic.Pointer[contentKeys]

	w watchers

	opts badger.Options

	userMACs sync.Pool // of *userMAC (withMAC)
	// erased says this session erased bytes that may still sit in the
	// active value-log file: Close then reopens the database to reclaim
	// them (see finishErase).
	erased atomic.Bool

	readOnly bool
	space    space // free-space checks before writes (space.go)

	// The inbox snapshot (snapshot.go): snapMu serialises writing and
	// removing the file; snapOnDisk says the file may exist; snapBad
	// says this session found it unusable; last is the last list made.
	snapMu     sync.Mutex
	snapOnDisk atomic.Bool
	snapBad    atomic.Bool
	last       atomic.Pointer[lastInbox]
	// loadFailed says a Restore's Load failed: see Restore.
	loadFailed atomic.Bool

	stopGC chan struct{}
	gcDone chan struct{}
	closed sync.Once
}

const holderFile = "loupe.holder"

// Open opens (creating if needed) the store in dir.
func Open(dir string, o Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	opts := badger.DefaultOptions(dir).
		WithLogger(nil).
		WithReadOnly(o.ReadOnly).
		// Events are 1–3 KB: keep them in the value log and only small
		// records (summaries, index, labels) in the LSM tree.
		WithValueThreshold(256).
		// Every commit is durable: a grade shown as saved is on disk.
		// Ingest commits in large batches, so the cost is per batch.
		WithSyncWrites(true).
		// Bound memory: two 32 MB memtables and modest caches instead of
		// Badger's 64 MB x5 memtables and 256 MB block cache.
		WithMemTableSize(32 << 20).
		WithNumMemtables(2).
		WithNumLevelZeroTables(4).
		WithNumLevelZeroTablesStall(8).
		WithBlockCacheSize(32 << 20).
		WithIndexCacheSize(16 << 20).
		WithValueLogFileSize(128 << 20).
		WithNumCompactors(2).
		WithNumGoroutines(4).
		// One writer at a time (PutRecords holds a mutex; labels are tiny),
		// so Badger need not track read sets for conflicts.
		WithDetectConflicts(false).
		// Compressed table blocks: the summaries, the index and the
		// bodies that compress under the value threshold take about 187
		// bytes per generated event in 32 KB blocks (199 in 16 KB, 233
		// in Badger's default 4 KB; the whole store 0.50, 0.51 and 0.54
		// of the JSONL; 1.33 before bodies were compressed). Level 1,
		// the fastest; blocks are compressed when memtables are flushed
		// and tables compacted, in Badger's goroutines, not in the
		// writer. A lookup reads a 32 KB block, which ingest seldom
		// does: new ids skip it (idFilter). The privacy tests read the
		// blocks with Plaintext.
		WithCompression(options.ZSTD).
		WithZSTDCompressionLevel(1).
		WithBlockSize(32 << 10)
	db, err := badger.Open(opts)
	if err != nil {
		if strings.Contains(err.Error(), "Cannot acquire directory lock") ||
			strings.Contains(err.Error(), "resource temporarily unavailable") {
			return nil, &LockedError{Dir: dir, Holder: readHolder(dir)}
		}
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	s := &Store{db: db, dir: dir, readOnly: o.ReadOnly, opts: opts, stopGC: make(chan struct{}), gcDone: make(chan struct{})}
	if _, err := os.Stat(filepath.Join(dir, snapFile)); err == nil {
		s.snapOnDisk.Store(true)
	}
	if !o.ReadOnly {
		// A snapshot a crash cut short (snapshot.go): it may hold what
		// was erased since.
		_ = os.Remove(filepath.Join(dir, snapFile+".tmp"))
	}
	s.space.free = statfsFree
	if o.FreeSpace != nil {
		s.space.free = o.FreeSpace
	}
	if !o.ReadOnly {
		h := o.Holder
		if h == "" {
			h = "loupe"
		}
		_ = os.WriteFile(filepath.Join(dir, holderFile),
			[]byte(fmt.Sprintf("%s\n%d\n%s\n", h, os.Getpid(), time.Now().Format(time.RFC3339))), 0o600)
	}
	if s.secret, err = s.loadSecret(o.ReadOnly || o.ForRestore); err != nil {
		db.Close()
		return nil, err
	}
	if o.ReadOnly {
		close(s.gcDone)
		return s, nil
	}
	if err := s.findStubs(); err != nil {
		db.Close()
		return nil, mapErr(err)
	}
	if !o.ForRestore {
		// An erasure whose reclaim a crash cut short: finish it.
		if err := s.db.View(func(txn *badger.Txn) error { _, err := txn.Get(metaErasePending); return err }); err == nil {
			s.compact()
			s.erased.Store(true)
		}
	}
	go s.gcLoop()
	return s, nil
}

func readHolder(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, holderFile))
	if err != nil {
		return ""
	}
	f := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(f) < 3 {
		return ""
	}
	return fmt.Sprintf("%s (pid %s, since %s)", f[0], f[1], f[2])
}

// Dir is the store's directory.
func (s *Store) Dir() string { return s.dir }

// Close stops background work and closes the database. Safe to call twice.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.stopGC)
		<-s.gcDone
		if !s.readOnly {
			s.settle(settleLimit) // settle.go
			// After the settling: the snapshot's scan then reads a
			// compacted tree. A failure leaves the old one, still
			// exact, or none: the next open scans.
			if !s.loadFailed.Load() {
				_ = s.refreshSnapshot(snapCloseDelta, true) // snapshot.go
			}
		}
		err = s.db.Close()
		if err == nil && s.erased.Load() {
			err = s.finishErase()
		}
		_ = os.Remove(filepath.Join(s.dir, holderFile))
	})
	return err
}

func (s *Store) gcLoop() {
	defer close(s.gcDone)
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-s.stopGC:
			return
		case <-t.C:
			if s.erased.Load() {
				s.compact()
			} else {
				s.reclaim()
			}
			s.maintainSnapshot()
		}
	}
}

// reclaim rewrites value-log files that are mostly garbage. Rewriting
// needs room for a whole value-log file before the old one is deleted.
func (s *Store) reclaim() {
	for i := 0; i < 8; i++ {
		if s.ensureSpace(int(s.db.Opts().ValueLogFileSize)) != nil {
			return
		}
		if s.db.RunValueLogGC(0.5) != nil {
			return
		}
	}
}

var metaSecret = metaKey("secret")

func (s *Store) loadSecret(readOnly bool) ([]byte, error) {
	var secret []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(metaSecret)
		if err != nil {
			return err
		}
		secret, err = it.ValueCopy(nil)
		return err
	})
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, badger.ErrKeyNotFound) {
		return nil, mapErr(err)
	}
	if readOnly {
		return nil, nil
	}
	secret = make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	err = s.db.Update(func(txn *badger.Txn) error { return txn.Set(metaSecret, secret) })
	return secret, mapErr(err)
}

// UserHash is the pseudonym of a raw user id in this store: HMAC-SHA256 with
// the store's own secret, so the same user links across events but the id
// cannot be recovered or matched against another store.
func (s *Store) UserHash(userID string) string {
	var sum [sha256.Size]byte
	s.withMAC(func(h hash.Hash) {
		h.Write([]byte(userID))
		h.Sum(sum[:0])
	})
	return hex.EncodeToString(sum[:16])
}

// withMAC calls fn with an HMAC-SHA256 keyed with the store's secret,
// reset and ready. Keyed hashes are reused: hmac.New (two hash states and
// the padded key) cost more than hashing a short id, once per ingested
// event. Each remembers its key: Restore replaces the secret.
func (s *Store) withMAC(fn func(h hash.Hash)) {
	m, _ := s.userMACs.Get().(*userMAC)
	if m == nil || !bytes.Equal(m.key, s.secret) {
		m = &userMAC{key: s.secret, h: hmac.New(sha256.New, s.secret)}
	}
	fn(m.h)
	m.h.Reset()
	s.userMACs.Put(m)
}

type userMAC struct {
	key []byte
	h   hash.Hash
}

func mapErr(err error) error {
	if errors.Is(err, badger.ErrDBClosed) {
		return ErrClosed
	}
	return err
}

// Record is an event encoded for storage. Encoding is the costly part of a
// put, so ingest builds records in parallel and hands them to PutRecords.
type Record struct {
	ID       string
	Time     time.Time
	Body     []byte   // the event as JSON
	Summary  []byte   // encoded loop.Summary
	stored   []byte   // Body as stored (compressBody), made with the record
	Hash     [16]byte // of Body: same id and hash is a duplicate
	UserHash []byte   // 16 bytes, or nil
	// Signal is set when the record is a signal (NewSignalRecord): ID is
	// then its event id, Time its timestamp, Body the stored signal.
	Signal *loop.Signal
	// Refused is set when the record stands for an interaction refused
	// because its user withheld consent (NewRefusalRecord): only ID is set.
	Refused bool
	// ev is the event NewRecord encoded, or a reduced record's reduction:
	// edge sampling reduces it to a stub without decoding Body again (nil:
	// it decodes Body).
	ev *loop.Event
	// pre is a reduced record's stub, made in a pipeline worker, for when
	// no signal is merged into it (nil: reduced by the writer).
	pre *preparedStub
	// content is the interaction's content hash, when hasContent
	// (reduced.go).
	content    [16]byte
	hasContent bool
	// tomb is the id's tombstone hash when Prehash made it (nil: the
	// writer computes it).
	tomb []byte
	// in is set on a reduced record (newReducedRecord): the interaction as
	// decoded, unmasked, until complete masks it. Body, Summary, Hash and
	// stored are unset until then.
	in *loop.Incoming
	// picked says RecordOf put the record's summary to the store's
	// arrivals, in a worker; queued is then the queue item it earned, as
	// stored (nil: none). The writer uses them when the event is stored
	// with that very summary (queueArrival).
	picked bool
	queued []byte
}

// NewRefusalRecord is the record of an interaction refused because its
// user withheld consent (consent.analytics false). When no interaction
// with that id is stored, PutRecords treats it as a consent withdrawal:
// the signals waiting for it are erased and a tombstone keeps any later
// one (or copy of the interaction) out; its status is then Stored, or
// Withdrawn when the id was already withdrawn. When the interaction is
// stored (the refused line is another copy of it), nothing is done and
// the status is Duplicate. Nothing of the refused record itself is kept.
func NewRefusalRecord(eventID string) Record { return Record{ID: eventID, Refused: true} }

// storedBody is an interaction record's body as stored.
func (r *Record) storedBody() []byte {
	if r.stored == nil {
		r.stored = compressBody(nil, r.Body)
	}
	return r.stored
}

// NewRecord encodes a (validated, masked) event for PutRecords. Under
// edge sampling, ingest makes its records with RecordOf instead, which
// reduces those it will not keep before they are masked.
func NewRecord(e *loop.Event) (Record, error) {
	r, _, err := newRecord(e)
	return r, err
}

// newRecord is NewRecord, also returning the event's summary.
func newRecord(e *loop.Event) (Record, loop.Summary, error) {
	b := loop.AppendJSON(make([]byte, 0, 2048), e)
	r := Record{ID: e.EventID, Time: e.Timestamp, Body: b, ev: e}
	sum := loop.Summarize(e)
	// Compressed here, in the caller's goroutine (ingest's parallel
	// workers), not under PutRecords' lock.
	r.stored = compressBody(nil, b)
	// The hash is of the JSON, not of its compressed form, so that
	// duplicates are found whatever form the stored copy has.
	h := sha256.Sum256(b)
	copy(r.Hash[:], h[:16])
	r.Summary = encodeSummary(nil, &sum)
	if e.UserHash != "" {
		var err error
		if r.UserHash, err = hex.DecodeString(e.UserHash); err != nil || len(r.UserHash) != 16 {
			return Record{}, sum, fmt.Errorf("event %q: bad user hash", e.EventID)
		}
	}
	return r, sum, nil
}

// PutEvents encodes and stores events; see PutRecords.
func (s *Store) PutEvents(evs []*loop.Event) ([]PutStatus, error) {
	recs := make([]Record, len(evs))
	for i, e := range evs {
		var err error
		if recs[i], err = NewRecord(e); err != nil {
			return nil, err
		}
	}
	return s.PutRecords(recs)
}
