package store

import (
	"bytes"
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// OTLP span assembly. The spans of one trace arrive over several requests
// (children end, and are exported, before their parents), so the spans
// loupe keeps of a trace are stored, masked and reduced to what the GenAI
// mapping needs, under
//
//	y <trace id> 0x00 <span id>   one span (JSON genai.Span)
//	y <trace id> 0x00             marker: the trace's interaction is derived
//	                              from its spans, so a later version of the
//	                              spans may replace it
//
// and after each request the interaction of every trace it touched is
// derived again from all its spans and replaces the previous version.

// SpanBody is one stored span of a trace.
type SpanBody struct {
	TraceID string
	SpanID  string // never empty
	Body    []byte
}

func spanKey(traceID, spanID string) []byte {
	return append(idPrefix(prefixSpan, traceID), spanID...)
}

// TraceSpans returns the bodies of the stored spans of trace, in span id
// order.
func (s *Store) TraceSpans(trace string) ([][]byte, error) {
	var out [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		p := idPrefix(prefixSpan, trace)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 16})
		defer it.Close()
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			if len(it.Item().Key()) == len(p) {
				continue // the marker
			}
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return out, mapErr(err)
}

// DeleteTrace removes every stored span of trace and its marker (consent
// withdrawn, or the interaction erased). The interaction itself is not
// touched.
func (s *Store) DeleteTrace(trace string) error {
	s.putMu.Lock()
	defer s.putMu.Unlock()
	return mapErr(s.deleteTrace(trace))
}

func (s *Store) deleteTrace(trace string) error {
	var keys [][]byte
	err := s.db.View(func(txn *badger.Txn) error {
		p := idPrefix(prefixSpan, trace)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
		defer it.Close()
		for it.Seek(p); it.ValidForPrefix(p); it.Next() {
			keys = append(keys, it.Item().KeyCopy(nil))
		}
		return nil
	})
	if err != nil || len(keys) == 0 {
		return err
	}
	return s.update(func(txn *badger.Txn) error {
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutTrace stores spans and the interactions derived from them in one
// durable transaction: the spans and the interaction they give land
// together or not at all. Each record replaces the stored version of its
// interaction when that was derived from spans too (PutTrace marks it so);
// an interaction with that id from another source (a JSONL record) is left
// alone and reported as a Conflict. An unchanged record is a Duplicate.
func (s *Store) PutTrace(spans []SpanBody, recs []Record) ([]PutStatus, error) {
	s.putMu.Lock()
	defer s.putMu.Unlock()
	out := make([]PutStatus, len(recs))
	known, err := s.ids()
	if err != nil {
		return out[:0], err
	}
	var keys, vals [][]byte
	var dels [][]byte
	for _, sp := range spans {
		keys = append(keys, spanKey(sp.TraceID, sp.SpanID))
		vals = append(vals, sp.Body)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for i, r := range recs {
			marker := idPrefix(prefixSpan, r.ID)
			_, merr := txn.Get(marker)
			derived := merr == nil
			if merr != nil && !errors.Is(merr, badger.ErrKeyNotFound) {
				return merr
			}
			var old []byte
			if known.mayContain(r.ID) {
				item, err := txn.Get(indexKey(r.ID))
				switch {
				case err == nil:
					if old, err = item.ValueCopy(nil); err != nil {
						return err
					}
				case !errors.Is(err, badger.ErrKeyNotFound):
					return err
				}
			}
			if old != nil {
				if len(old) >= 24 && bytes.Equal(old[8:24], r.Hash[:]) {
					out[i] = Duplicate
					continue
				}
				if !derived {
					out[i] = Conflict
					continue
				}
				// The previous version's keys carry its timestamp.
				ts := old[:8]
				dels = append(dels, timedKey(prefixEvent, ts, r.ID), timedKey(prefixSummary, ts, r.ID))
			}
			idx := tsBytes(nil, r.Time)
			idx = append(idx, r.Hash[:]...)
			idx = append(idx, r.UserHash...)
			keys = append(keys, eventKey(r.Time, r.ID), summaryKey(r.Time, r.ID), indexKey(r.ID), marker)
			vals = append(vals, r.Body, r.Summary, idx, nil)
			out[i] = Failed // until the commit
		}
		return nil
	})
	if err != nil {
		return out[:0], mapErr(err)
	}
	n := 0
	for i := range keys {
		n += len(keys[i]) + len(vals[i])
	}
	if err := s.ensureSpace(n); err != nil {
		return out, err
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	for _, k := range dels {
		if err := txn.Delete(k); err != nil {
			return out, mapErr(err)
		}
	}
	for i := range keys {
		if err := txn.Set(keys[i], vals[i]); err != nil {
			return out, mapErr(err)
		}
	}
	if err := txn.Commit(); err != nil {
		return out, mapErr(err)
	}
	for i, r := range recs {
		if out[i] == Failed {
			out[i] = Stored
			known.add(r.ID)
		}
	}
	return out, nil
}
