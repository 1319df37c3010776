package store

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/agg"
)

// Aggregates of the interactions edge sampling did not keep (intake.keep).
//
// Interactions stored in full are counted by their summaries (s keys); the
// ones not kept are counted here, one cell per day, model version, segment
// and task:
//
//	Z <day 8> <model> 0x00 <segment> 0x00 <task>   agg.Cell (agg.AppendCell)
//
// day is days since 1970-01-01, big-endian with the sign bit flipped (as
// timestamps are), so a scan is in day order. Summaries plus these cells
// count every interaction exactly once: see loop/agg.

// aggKey is the key of cell k.
func aggKey(k agg.Key) []byte {
	b := make([]byte, 0, 11+len(k.Model)+len(k.Segment)+len(k.Task))
	b = append(b, prefixAggregate)
	b = binary.BigEndian.AppendUint64(b, uint64(k.Day)^(1<<63))
	b = append(b, k.Model...)
	b = append(b, sep)
	b = append(b, k.Segment...)
	b = append(b, sep)
	return append(b, k.Task...)
}

// parseAggKey is aggKey's inverse.
func parseAggKey(b []byte) (agg.Key, error) {
	if len(b) < 11 || b[0] != prefixAggregate {
		return agg.Key{}, fmt.Errorf("store: corrupt aggregate key %q", b)
	}
	k := agg.Key{Day: int64(binary.BigEndian.Uint64(b[1:9]) ^ (1 << 63))}
	parts := bytes.Split(b[9:], []byte{sep})
	if len(parts) != 3 {
		return agg.Key{}, fmt.Errorf("store: corrupt aggregate key %q", b)
	}
	k.Model, k.Segment, k.Task = string(parts[0]), string(parts[1]), string(parts[2])
	return k, nil
}

// Aggregates returns the cells of the interactions that edge sampling did
// not store in full (an empty table when everything was kept). Together
// with the stored summaries they count every interaction the store took.
func (s *Store) Aggregates() (*agg.Table, error) {
	t := agg.New()
	err := s.db.View(func(txn *badger.Txn) error {
		return scanPrefix(txn, prefix(prefixAggregate), true, func(k, v []byte) error {
			key, err := parseAggKey(k)
			if err != nil {
				return err
			}
			c, err := agg.DecodeCell(v)
			if err != nil {
				return fmt.Errorf("store: aggregate cell %+v: %w", key, err)
			}
			if !c.Empty() {
				t.Put(key, c)
			}
			return nil
		})
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return t, nil
}

// addAggregates adds delta's cells to the stored ones inside txn (read,
// add, write; an emptied cell is deleted). Callers hold putMu, the only
// writer of Z keys.
func addAggregates(txn *badger.Txn, delta *agg.Table) error {
	for _, k := range delta.Keys() {
		d := delta.Get(k)
		if d.Empty() {
			continue
		}
		key := aggKey(k)
		var c agg.Cell
		v, err := getValue(txn, key)
		switch {
		case err == nil:
			if c, err = agg.DecodeCell(v); err != nil {
				return fmt.Errorf("store: aggregate cell %+v: %w", k, err)
			}
		case err != badger.ErrKeyNotFound:
			return err
		}
		c.Merge(d)
		if c.Empty() {
			if err := deleteKeys(txn, key); err != nil {
				return err
			}
			continue
		}
		if err := txn.Set(key, agg.AppendCell(nil, &c)); err != nil {
			return err
		}
	}
	return nil
}

// KeepFunc decides, from an interaction's merged summary as it is when the
// interaction arrives, whether it is stored in full (true) or only counted
// in the aggregates. nil keeps everything.
type KeepFunc func(*loop.Summary) bool

// SetKeep sets the edge-sampling decision for the interactions stored from
// now on (nil: keep everything, the default).
func (s *Store) SetKeep(keep KeepFunc) {
	s.putMu.Lock()
	s.keep = keep
	if keep != nil {
		s.contentHashes.Store(true)
	}
	s.putMu.Unlock()
}
