package store

import (
	"errors"

	"github.com/dgraph-io/badger/v4"
)

func kafkaKey(name string) []byte { return append([]byte{prefixKafka}, name...) }

// PutKafkaState records a Kafka source's last known counters (JSON, no
// PII) under name, so that doctor can show them while serve is not running.
func (s *Store) PutKafkaState(name string, v []byte) error {
	return mapErr(s.db.Update(func(txn *badger.Txn) error { return txn.Set(kafkaKey(name), v) }))
}

// KafkaState returns what PutKafkaState recorded under name; ErrNotFound
// when nothing was.
func (s *Store) KafkaState(name string) ([]byte, error) {
	var out []byte
	err := s.db.View(func(txn *badger.Txn) error {
		it, err := txn.Get(kafkaKey(name))
		if err != nil {
			return err
		}
		out, err = it.ValueCopy(nil)
		return err
	})
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, ErrNotFound
	}
	return out, mapErr(err)
}
