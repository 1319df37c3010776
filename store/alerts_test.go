package store

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestAlertsRaisePostAck(t *testing.T) {
	st := openT(t)
	t0 := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	fresh, err := st.RaiseAlerts(map[string]json.RawMessage{"a1": json.RawMessage(`{"n":1}`), "a2": json.RawMessage(`{"n":2}`)}, t0)
	if err != nil || len(fresh) != 2 {
		t.Fatalf("first raise: %v %v", fresh, err)
	}
	if err := st.MarkAlertPosted("a1", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	// Raised again the next day with a new value: not new, state kept.
	t1 := t0.Add(24 * time.Hour)
	fresh, err = st.RaiseAlerts(map[string]json.RawMessage{"a1": json.RawMessage(`{"n":3}`)}, t1)
	if err != nil || len(fresh) != 0 {
		t.Fatalf("second raise: %v %v", fresh, err)
	}
	if _, err := st.AckAlert("a1", "ana", t1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AckAlert("a1", "bo", t1.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.AckAlert("zz", "ana", t1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("ack unknown: %v", err)
	}
	got := map[string]AlertRecord{}
	if err := st.Alerts(func(r AlertRecord) error { got[r.ID] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	a1 := got["a1"]
	if len(got) != 2 || string(a1.Alert) != `{"n":3}` || !a1.FirstSeen.Equal(t0) || !a1.LastSeen.Equal(t1) ||
		!a1.PostedAt.Equal(t0.Add(time.Second)) || a1.AckedBy != "ana" || !a1.AckedAt.Equal(t1) {
		t.Fatalf("a1 = %+v", a1)
	}
	if a2 := got["a2"]; !a2.PostedAt.IsZero() || !a2.AckedAt.IsZero() {
		t.Fatalf("a2 = %+v", a2)
	}
}

func TestGateResults(t *testing.T) {
	st := openT(t)
	if _, _, ok, err := st.LastGateResult(); ok || err != nil {
		t.Fatalf("empty: %v %v", ok, err)
	}
	t0 := time.Date(2026, 11, 20, 6, 0, 0, 0, time.UTC)
	for i, s := range []string{`{"pass":true}`, `{"pass":false}`} {
		if err := st.PutGateResult(t0.Add(time.Duration(i)*time.Hour), json.RawMessage(s)); err != nil {
			t.Fatal(err)
		}
	}
	at, res, ok, err := st.LastGateResult()
	if !ok || err != nil || string(res) != `{"pass":false}` || !at.Equal(t0.Add(time.Hour)) {
		t.Fatalf("last = %v %s %v %v", at, res, ok, err)
	}
}
