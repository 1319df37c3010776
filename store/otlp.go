package store

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
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
		if err := deleteKeys(txn, keys...); err != nil {
			return err
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
// The signals about the interaction (stored, or pending until now) are
// merged into the new version as into any interaction (loop.Merge), its
// original kept under o. A trace whose consent was withdrawn (a
// tombstone) is Withdrawn: neither its spans nor its interaction are
// stored, and spans kept from before are erased. It returns the ids whose
// stored view changed.
func (s *Store) PutTrace(spans []SpanBody, recs []Record) ([]PutStatus, []string, error) {
	s.putMu.Lock()
	defer s.putMu.Unlock()
	out := make([]PutStatus, len(recs))
	known, err := s.ids()
	if err != nil {
		return out[:0], nil, err
	}
	tombs, err := s.tombstones()
	if err != nil {
		return out[:0], nil, err
	}
	gone := func(id string) bool {
		if len(tombs) == 0 {
			return false
		}
		_, ok := tombs[string(s.tombHash(id))]
		return ok
	}
	var keys, vals, dels [][]byte
	var changed []string
	for _, sp := range spans {
		if gone(sp.TraceID) {
			continue
		}
		keys = append(keys, spanKey(sp.TraceID, sp.SpanID))
		vals = append(vals, sp.Body)
	}
	err = s.db.View(func(txn *badger.Txn) error {
		for i, r := range recs {
			marker := idPrefix(prefixSpan, r.ID)
			if gone(r.ID) {
				out[i] = Withdrawn
				if err := scanPrefix(txn, marker, false, func(k, _ []byte) error {
					dels = append(dels, k)
					return nil
				}); err != nil {
					return err
				}
				continue
			}
			_, merr := txn.Get(marker)
			derived := merr == nil
			if merr != nil && !errors.Is(merr, badger.ErrKeyNotFound) {
				return merr
			}
			var old []byte
			if known.mayContain(r.ID) {
				v, err := getValue(txn, indexKey(r.ID))
				if err != nil && !errors.Is(err, badger.ErrKeyNotFound) {
					return err
				}
				old = v
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
			// The signals about it: merged into the new version.
			var sigs []*loop.Signal
			if err := scanPrefix(txn, idPrefix(prefixSignal, r.ID), true, func(_, v []byte) error {
				sg, err := loop.DecodeStoredSignal(v)
				if err != nil {
					return err
				}
				sigs = append(sigs, sg)
				return nil
			}); err != nil {
				return err
			}
			if err := scanPrefix(txn, idPrefix(prefixPending, r.ID), false, func(k, _ []byte) error {
				dels = append(dels, k) // no longer waiting
				return nil
			}); err != nil {
				return err
			}
			body, sum := r.storedBody(), r.Summary
			if len(sigs) > 0 {
				var ev loop.Event
				if err := json.Unmarshal(r.Body, &ev); err != nil {
					return err
				}
				m := loop.Merge(&ev, sigs)
				body = compressBody(nil, loop.AppendJSON(make([]byte, 0, len(r.Body)+256), m))
				ms := loop.Summarize(m)
				sum = encodeSummary(nil, &ms)
				keys = append(keys, originalKey(r.ID))
				vals = append(vals, r.storedBody())
			} else {
				dels = append(dels, originalKey(r.ID))
			}
			keys = append(keys, eventKey(r.Time, r.ID), summaryKey(r.Time, r.ID), indexKey(r.ID), marker)
			vals = append(vals, body, sum, indexValue(&r), nil)
			out[i] = Failed // until the commit
		}
		return nil
	})
	if err != nil {
		return out[:0], nil, mapErr(err)
	}
	n := 0
	for i := range keys {
		n += len(keys[i]) + len(vals[i])
	}
	if err := s.ensureSpace(n + 16*len(dels)); err != nil {
		return out, nil, err
	}
	txn := s.db.NewTransaction(true)
	defer txn.Discard()
	if err := deleteKeys(txn, dels...); err != nil {
		return out, nil, mapErr(err)
	}
	for i := range keys {
		if err := txn.Set(keys[i], vals[i]); err != nil {
			return out, nil, mapErr(err)
		}
	}
	if err := txn.Commit(); err != nil {
		return out, nil, mapErr(err)
	}
	if len(dels) > 0 {
		s.afterDeletes()
	}
	for i, r := range recs {
		if out[i] == Failed {
			out[i] = Stored
			known.add(r.ID)
			changed = append(changed, r.ID)
		}
	}
	s.notifyUpdated(changed)
	return out, changed, nil
}
