package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func alertKey(id string) []byte { return append([]byte{prefixAlert}, id...) }

// AlertRecord is a guardrail alert as the store keeps it: the alert itself
// (loop/trend's JSON, refreshed each time it is raised again), when it was
// first and last raised, when it was posted to the webhook and when and by
// whom it was acknowledged (zero times: not yet).
type AlertRecord struct {
	ID        string          `json:"id"`
	Alert     json.RawMessage `json:"alert"`
	FirstSeen time.Time       `json:"first_seen"`
	LastSeen  time.Time       `json:"last_seen"`
	PostedAt  time.Time       `json:"posted_at"`
	AckedAt   time.Time       `json:"acked_at"`
	AckedBy   string          `json:"acked_by"`
}

// RaiseAlerts records alerts (id → alert JSON) raised at now in one
// commit: an id not seen before is added, one seen before gets its alert
// and LastSeen refreshed (its posted and acknowledged state kept). It
// returns the ids that are new.
func (s *Store) RaiseAlerts(alerts map[string]json.RawMessage, now time.Time) ([]string, error) {
	var fresh []string
	err := s.update(func(txn *badger.Txn) error {
		fresh = fresh[:0]
		for id, body := range alerts {
			if id == "" {
				return errors.New("alert without an id")
			}
			rec := AlertRecord{ID: id, FirstSeen: now}
			it, err := txn.Get(alertKey(id))
			switch {
			case err == nil:
				if err := it.Value(func(b []byte) error { return json.Unmarshal(b, &rec) }); err != nil {
					return fmt.Errorf("alert %s: %w", id, err)
				}
			case errors.Is(err, badger.ErrKeyNotFound):
				fresh = append(fresh, id)
			default:
				return err
			}
			rec.Alert, rec.LastSeen = body, now
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			if err := txn.Set(alertKey(id), b); err != nil {
				return err
			}
		}
		return nil
	})
	return fresh, mapErr(err)
}

// updateAlert applies fn to the stored record of id; ErrNotFound when
// there is none.
func (s *Store) updateAlert(id string, fn func(*AlertRecord)) (AlertRecord, error) {
	var rec AlertRecord
	err := s.update(func(txn *badger.Txn) error {
		it, err := txn.Get(alertKey(id))
		if errors.Is(err, badger.ErrKeyNotFound) {
			return fmt.Errorf("alert %q: %w", id, ErrNotFound)
		} else if err != nil {
			return err
		}
		if err := it.Value(func(b []byte) error { return json.Unmarshal(b, &rec) }); err != nil {
			return err
		}
		fn(&rec)
		b, err := json.Marshal(rec)
		if err != nil {
			return err
		}
		return txn.Set(alertKey(id), b)
	})
	return rec, mapErr(err)
}

// MarkAlertPosted records that alert id reached the webhook at at.
func (s *Store) MarkAlertPosted(id string, at time.Time) error {
	_, err := s.updateAlert(id, func(r *AlertRecord) { r.PostedAt = at })
	return err
}

// AckAlert records that by acknowledged alert id at at (the first
// acknowledgement stands); ErrNotFound for an unknown id.
func (s *Store) AckAlert(id, by string, at time.Time) (AlertRecord, error) {
	return s.updateAlert(id, func(r *AlertRecord) {
		if r.AckedAt.IsZero() {
			r.AckedAt, r.AckedBy = at, by
		}
	})
}

// Alerts calls fn with every stored alert, by id.
func (s *Store) Alerts(fn func(AlertRecord) error) error {
	return s.scanJSON([]byte{prefixAlert}, func(b []byte) error {
		var r AlertRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return err
		}
		return fn(r)
	})
}

// PutGateResult records a `loupe gate` result (its JSON) at at.
func (s *Store) PutGateResult(at time.Time, result json.RawMessage) error {
	k := tsBytes([]byte{prefixGateResult}, at)
	return mapErr(s.update(func(txn *badger.Txn) error { return txn.Set(k, result) }))
}

// LastGateResult is the most recent recorded gate result and when it was
// recorded; ok is false when none was.
func (s *Store) LastGateResult() (at time.Time, result json.RawMessage, ok bool, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		opt := badger.DefaultIteratorOptions
		opt.Reverse = true
		opt.Prefix = []byte{prefixGateResult}
		it := txn.NewIterator(opt)
		defer it.Close()
		// Seek past every R key: prefix then 0xff.
		it.Seek([]byte{prefixGateResult, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
		if !it.Valid() {
			return nil
		}
		k := it.Item().KeyCopy(nil)
		at = tsFrom(k[1:9])
		result, err = it.Item().ValueCopy(nil)
		ok = err == nil
		return err
	})
	return at, result, ok, mapErr(err)
}
