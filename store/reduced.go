package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
)

// Interactions reduced before they are masked.
//
// Under edge sampling most interactions are only counted. Masking and
// encoding their texts, only to throw the texts away, was most of what
// ingest spent on them. An interaction that keep does not take on its own
// content (the rules read only fields the reduction keeps, so the
// decision is the one the full event would get) is instead reduced first
// and only the reduction masked (loop.PrepareReduced); newReducedRecord
// makes its record. Its texts are never masked, encoded or compressed
// unless the store needs them: when a signal merged into it makes it kept
// after all, or when a stored copy has to be compared with it by the
// masked form's hash. Then complete does, in the store, what the pipeline
// skipped, from the decoded event the record holds in memory only.
//
// Content hash. A duplicate is found by a hash of the content. A stored
// event's index holds the hash of its masked JSON (Record.Hash), which a
// reduced record does not have. Its stub's index holds instead a keyed
// hash of the content as it arrived (contentHash, of
// loop.AppendCanonical), and holds the stub itself (foldStub in
// unkept.go). Whenever a store may hold such stubs (edge sampling on, or
// stubs found at open), every interaction record gets its content hash
// before it is masked, so any record can be compared with any stub.
//
// The hash is keyed with keys derived from the store's secret, so it
// cannot be matched without the store. It is XXH64 twice, with two keys:
// it only ever compares two copies of one event id, and a copy that
// matched when it should not would be counted a duplicate instead of
// rejected as a conflict, the stored stub untouched either way. A
// cryptographic MAC would protect nothing more: its key would live in
// the same store. The first stores hashed with HMAC-SHA256: with the
// canonical encoding it was a tenth of what an unkept interaction costs
// to ingest, half of that the MAC (BENCHMARKS.md). A store whose folded
// stubs hold those hashes keeps that function
// (metaFoldedStubs holds no version, contentV1), so that redelivery
// across an upgrade is still a duplicate.

var canonBufs = sync.Pool{New: func() any { return new([]byte) }}

// contentHash is the keyed hash of an interaction as it arrived, user id
// included, before masking (see above). It never leaves the store but in
// an index value.
func (s *Store) contentHash(in *loop.Incoming) (h [16]byte) {
	bp := canonBufs.Get().(*[]byte)
	b := append((*bp)[:0], "content\x00"...)
	b = binary.AppendUvarint(b, uint64(len(in.UserID)))
	b = append(b, in.UserID...)
	b = loop.AppendCanonical(b, &in.Event)
	if s.contentV1.Load() {
		var sum [sha256.Size]byte
		s.withMAC(func(m hash.Hash) {
			m.Write(b)
			m.Sum(sum[:0])
		})
		copy(h[:], sum[:16])
	} else {
		k := s.contentHashKeys()
		var d xxhash.Digest
		d.ResetWithSeed(k.k0)
		d.Write(b)
		binary.LittleEndian.PutUint64(h[:8], d.Sum64())
		d.ResetWithSeed(k.k1)
		d.Write(b)
		binary.LittleEndian.PutUint64(h[8:], d.Sum64())
	}
	*bp = b
	canonBufs.Put(bp)
	return h
}

// contentKeys are the two keys of the content hash and the secret they
// were derived from.
type contentKeys struct {
	secret []byte
	k0, k1 uint64
}

// contentHashKeys derives the content hash's keys from the store's secret
// (HMAC-SHA256 of a label), once per secret: Restore replaces it.
func (s *Store) contentHashKeys() *contentKeys {
	k := s.contentKeys.Load()
	if k != nil && bytes.Equal(k.secret, s.secret) {
		return k
	}
	var sum [sha256.Size]byte
	s.withMAC(func(m hash.Hash) {
		m.Write([]byte("loupe content hash keys\x00"))
		m.Sum(sum[:0])
	})
	k = &contentKeys{secret: s.secret, k0: binary.LittleEndian.Uint64(sum[:8]), k1: binary.LittleEndian.Uint64(sum[8:16])}
	s.contentKeys.Store(k)
	return k
}

// RecordOf makes the record of a decoded interaction (loop.DecodeEvent),
// as every intake does: through the privacy step (loop.Prepare) and
// encoded (NewRecord), or, when keep does not take it on its own
// content, reduced before it is masked (loop.PrepareReduced,
// newReducedRecord). It returns the user's pseudonym ("" when none). An
// error from the privacy step is its *loop.InputError (consent withheld,
// personal data in the id). in is the record's afterwards.
func (s *Store) RecordOf(in *loop.Incoming, keep KeepFunc) (Record, string, error) {
	var content [16]byte
	hashed := s.needsContentHash()
	if hashed {
		content = s.contentHash(in) // as it arrived: before masking
	}
	if keep != nil {
		// The rules read only fields the reduction keeps, so this is
		// the decision the full event would get.
		red, user, err := loop.PrepareReduced(in, s.UserHash)
		if err != nil {
			return Record{}, "", err
		}
		if sum := loop.Summarize(red); !keep(&sum) {
			r, err := newReducedRecord(in, red, sum, user, content)
			if err != nil {
				return Record{}, "", err
			}
			s.Prehash(&r)
			return r, user, nil
		}
	}
	ev, err := loop.Prepare(in, s.UserHash)
	if err != nil {
		return Record{}, "", err
	}
	r, sum, err := newRecord(ev)
	if err != nil {
		return Record{}, "", err
	}
	if hashed {
		r.setContentHash(content)
	}
	s.Prehash(&r)
	s.pickArrival(&r, &sum)
	return r, ev.UserHash, nil
}

// needsContentHash says the records of this store's interactions need
// their content hash (Record.setContentHash): edge sampling is on, or the
// store may hold stubs indexed by one.
func (s *Store) needsContentHash() bool { return s.contentHashes.Load() }

// metaFoldedStubs is set with the first stub folded into its index value
// (foldStub), which compares copies by content hash. Its value names the
// content hash function: contentHashV2, or none for HMAC-SHA256
// (contentV1).
var metaFoldedStubs = metaKey("folded_stubs")

// contentHashV2 is metaFoldedStubs' value in a store whose content hashes
// are XXH64 twice (contentHash).
const contentHashV2 = "xxh64x2"

// foldedMarker is the value metaFoldedStubs is written with.
func (s *Store) foldedMarker() []byte {
	if s.contentV1.Load() {
		return nil
	}
	return []byte(contentHashV2)
}

// findStubs notes, at open, whether the store may hold stubs: the marker
// of folded ones, or a z key.
func (s *Store) findStubs() error {
	return s.db.View(func(txn *badger.Txn) error {
		if it, err := txn.Get(metaFoldedStubs); err == nil {
			v, err := it.ValueCopy(nil)
			if err != nil {
				return err
			}
			switch string(v) {
			case "":
				s.contentV1.Store(true)
			case contentHashV2:
			default:
				return fmt.Errorf("the store's content hashes are of a function this loupe does not know (%q): it was written by a newer loupe", v)
			}
			s.foldedMarked.Store(true)
			s.contentHashes.Store(true)
			return nil
		} else if !errors.Is(err, badger.ErrKeyNotFound) {
			return err
		}
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixStub)
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		if it.Rewind(); it.Valid() {
			s.contentHashes.Store(true)
		}
		return nil
	})
}

// setContentHash gives r (an interaction's record) the content hash of the
// interaction as it arrived (contentHash).
func (r *Record) setContentHash(h [16]byte) { r.content, r.hasContent = h, true }

// newReducedRecord is the record of an interaction that keep did not take
// on its own content: red is it reduced and masked, and user its user's
// pseudonym (loop.PrepareReduced), sum red's summary (loop.Summarize),
// content its contentHash. in stays with
// the record, in memory only, for complete; the caller must not use it
// after. Nothing of in but red reaches the store unless the store
// completes the record, which masks it first.
func newReducedRecord(in *loop.Incoming, red *loop.Event, sum loop.Summary, user string, content [16]byte) (Record, error) {
	r := Record{ID: red.EventID, Time: red.Timestamp, ev: red, in: in}
	r.setContentHash(content)
	if user != "" {
		var err error
		if r.UserHash, err = hex.DecodeString(user); err != nil || len(r.UserHash) != 16 {
			return Record{}, fmt.Errorf("event %q: bad user hash", red.EventID)
		}
	}
	st := &stub{ts: tsBytes(nil, r.Time), ev: red}
	v := st.encode()
	r.pre = &preparedStub{value: v, sum: sum, index: foldedIndexValue(&r, v)}
	return r, nil
}

// complete makes a reduced record whole (see above): masked, encoded and
// compressed as NewRecord makes one. It keeps the content hash and the
// prepared stub. A record that is whole already is left as it is.
func (s *Store) complete(r *Record) error {
	if r.in == nil {
		return nil
	}
	in := r.in
	r.in = nil
	ev, err := loop.Prepare(in, s.UserHash)
	if err != nil {
		return fmt.Errorf("event %q: %w", r.ID, err) // PrepareReduced passed the same gate
	}
	full, err := NewRecord(ev)
	if err != nil {
		return err
	}
	full.content, full.hasContent, full.pre, full.tomb = r.content, r.hasContent, r.pre, r.tomb
	*r = full
	return nil
}

// sameContent reports whether two records of one interaction carry the
// same content: by content hash when both have one, else by the masked
// form's hash (completing a reduced record for it).
func (s *Store) sameContent(a, b *Record) (bool, error) {
	if a.hasContent && b.hasContent {
		return a.content == b.content, nil
	}
	if err := s.complete(a); err != nil {
		return false, err
	}
	if err := s.complete(b); err != nil {
		return false, err
	}
	return a.Hash == b.Hash, nil
}

// sameAsIndexed reports whether r carries the content of the interaction
// stored with index value v. A record without a content hash against a
// stub indexed by one reads as different content: it happens only for a
// store given stubs by another process after this one opened it.
func (s *Store) sameAsIndexed(r *Record, v []byte) (bool, error) {
	if len(v) < 24 {
		return false, nil
	}
	if foldedIndex(v) { // only folded stubs hold a content hash
		return r.hasContent && bytes.Equal(v[8:24], r.content[:]), nil
	}
	if err := s.complete(r); err != nil {
		return false, err
	}
	return bytes.Equal(v[8:24], r.Hash[:]), nil
}
