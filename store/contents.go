package store

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
)

// Contents calls fn with every key of the store and its value as loupe
// reads it — event bodies decompressed — in key order, until fn returns
// an error, which Contents returns. k and v are only valid during the
// call. It is how a check that nothing unmasked is stored (the privacy
// tests) sees the store's logical content; Plaintext sees its files.
func (s *Store) Contents(fn func(k, v []byte) error) error {
	return mapErr(s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		var bodies bodyScan
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			k := item.Key()
			err := item.Value(func(v []byte) error {
				if len(k) > 0 && (k[0] == prefixEvent || k[0] == prefixOriginal) {
					b, err := bodies.decode(v)
					if err != nil {
						return fmt.Errorf("key %q: %w", k, err)
					}
					v = b
				}
				return fn(k, v)
			})
			if err != nil {
				return err
			}
		}
		return nil
	}))
}
