package store

import (
	"hash/maphash"

	"github.com/dgraph-io/badger/v4"
)

// idFilter is a Bloom filter of the stored event ids. PutRecords consults
// it before the per-event index lookup: a new id (the common case at
// ingest) is certainly absent when the filter says so, which saves a Badger
// Get per event on the single writer's path. It has no false negatives:
// it is built from every index key on first use, and every id PutRecords
// stores is added after its commit; PutRecords is the only writer of index
// keys besides Restore, which drops the filter.
type idFilter struct {
	bits []uint64
	n    int // ids added
	seed maphash.Seed
}

const idFilterHashes = 4

// Each id's bits lie in one block of 8 words (a 64-byte cache line): a
// lookup on a filter of millions of ids costs one cache miss, not four,
// on the single writer's path. At 16 bits per id that raises the false
// positives only a little (0.27% against 0.24% at capacity).
const idFilterBlock = 8

func newIDFilter(capacity int) *idFilter {
	words := max(1<<17, capacity*16/64) // 16 bits per id
	words = (words + idFilterBlock - 1) / idFilterBlock * idFilterBlock
	return &idFilter{bits: make([]uint64, words), seed: maphash.MakeSeed()}
}

func (f *idFilter) positions(id string, fn func(word int, bit uint64) bool) bool {
	h := maphash.String(f.seed, id)
	blocks := uint64(len(f.bits) / idFilterBlock)
	base := int((h>>32)*blocks>>32) * idFilterBlock // h's high half, scaled to a block
	g := h * 0x9e3779b97f4a7c15                     // the bits within it: 9 per hash
	for i := range idFilterHashes {
		p := int(g>>(64-9*(i+1))) & (idFilterBlock*64 - 1)
		if !fn(base+p/64, 1<<(p%64)) {
			return false
		}
	}
	return true
}

func (f *idFilter) add(id string) {
	f.positions(id, func(w int, b uint64) bool { f.bits[w] |= b; return true })
	f.n++
}

func (f *idFilter) mayContain(id string) bool {
	return f.positions(id, func(w int, b uint64) bool { return f.bits[w]&b != 0 })
}

// full reports whether the filter holds so many ids that false positives
// stop saving lookups.
func (f *idFilter) full() bool { return f.n*16 > len(f.bits)*64 }

// ids returns the filter, building it from the index keys when there is
// none or it is full. Called with putMu held.
func (s *Store) ids() (*idFilter, error) {
	if s.idf != nil && !s.idf.full() {
		return s.idf, nil
	}
	var keys []string
	err := s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Prefix = prefix(prefixIndex)
		opt.PrefetchValues = false
		it := txn.NewIterator(opt)
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			keys = append(keys, string(it.Item().Key()[1:]))
		}
		return nil
	})
	if err != nil {
		return nil, mapErr(err)
	}
	f := newIDFilter(2*len(keys) + 1<<20)
	for _, k := range keys {
		f.add(k)
	}
	s.idf = f
	return f, nil
}
