package ingest

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
)

func submit(t *testing.T, p *Pipeline, lines ...string) ([]Outcome, Summary) {
	t.Helper()
	items := make([]Item, len(lines))
	for i, l := range lines {
		items[i] = Item{Data: []byte(l), Source: "test", Line: i + 1}
	}
	outs, sum, err := p.Submit(context.Background(), items)
	if err != nil {
		t.Fatal(err)
	}
	return outs, sum
}

func statuses(outs []Outcome) string {
	s := make([]string, len(outs))
	for i, o := range outs {
		s[i] = o.Status.String()
		if o.Err != nil {
			s[i] += ":" + o.Err.Reason
		}
	}
	return strings.Join(s, " ")
}

func stored(t *testing.T, st *store.Store) string {
	t.Helper()
	var b bytes.Buffer
	if err := st.Events(func(_ string, body []byte) error {
		b.Write(body)
		return b.WriteByte('\n')
	}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const (
	iA  = `{"event_id":"a","timestamp":"2026-10-01T10:00:00Z","model_version":"m","user_id":"u1","input":{"text":"canary-a-input"},"output":{"text":"canary-a-output"},"consent":{"analytics":true,"training":true}}`
	sA1 = `{"kind":"signal","signal_id":"a1","event_id":"a","timestamp":"2026-10-01T10:01:00Z","source":"user","explicit_feedback":{"thumb":"down","reason_codes":["factual_error"],"reason_text":"canary-a-reason"}}`
	sA2 = `{"kind":"signal","signal_id":"a2","event_id":"a","timestamp":"2026-10-02T10:00:00Z","source":"shop","business":{"converted":true}}`
	sAw = `{"kind":"signal","signal_id":"aw","event_id":"a","timestamp":"2026-10-03T10:00:00Z","consent":{"analytics":false}}`
	iB  = `{"event_id":"b","timestamp":"2026-10-01T11:00:00Z","model_version":"m","input":{"text":"b"}}`
)

func TestSignalsPendingThenMerged(t *testing.T) {
	st := openStore(t)
	p := New(st, PipelineOptions{})
	changes, stop := st.Watch()
	defer stop()

	outs, sum := submit(t, p, sA1, sA1)
	if got := statuses(outs); got != "pending duplicate" || sum.Signals != 1 || sum.Pending != 1 {
		t.Fatalf("early signal: %s %+v", got, sum)
	}
	if pending, _, _ := st.SignalStats(); pending != 1 {
		t.Fatalf("pending %d", pending)
	}
	if ok, _ := st.Has("a"); ok {
		t.Fatal("a pending signal made an event")
	}
	outs, _ = submit(t, p, iA, sA2)
	if got := statuses(outs); got != "accepted accepted" {
		t.Fatalf("interaction + signal: %s", got)
	}
	ev, err := st.Event("a")
	if err != nil {
		t.Fatal(err)
	}
	if ev.ThumbValue() != loop.ThumbDown || ev.Business == nil || ev.Business.Converted == nil || !*ev.Business.Converted {
		t.Fatalf("merged view %s", loop.AppendJSON(nil, ev))
	}
	sum2, err := st.Summary("a")
	if err != nil || sum2.Thumb != loop.ThumbDown {
		t.Fatalf("summary %+v %v", sum2, err)
	}
	orig, err := st.Original("a")
	if err != nil || orig.Explicit != nil || orig.Business != nil {
		t.Fatalf("original %+v %v", orig, err)
	}
	sigs, err := st.Signals("a")
	if err != nil || len(sigs) != 2 || sigs[0].SignalID != "a1" || sigs[1].Source != "shop" {
		t.Fatalf("signals %+v %v", sigs, err)
	}
	var all []string
	if err := st.AllSignals(func(s *loop.Signal) error { all = append(all, s.EventID+"/"+s.SignalID); return nil }); err != nil || strings.Join(all, ",") != "a/a1,a/a2" {
		t.Fatalf("AllSignals %v %v", all, err)
	}
	if pending, _, _ := st.SignalStats(); pending != 0 {
		t.Fatalf("still pending %d", pending)
	}
	// Redelivery changes nothing; other content under a used id conflicts,
	// and the interaction's idempotency is still its own content.
	before := stored(t, st)
	outs, _ = submit(t, p, iA, sA1, strings.Replace(sA2, "true", "false", 1), strings.Replace(iA, "canary-a-input", "x", 1))
	if got := statuses(outs); got != "duplicate duplicate rejected:conflict rejected:conflict" {
		t.Fatalf("redelivery: %s", got)
	}
	if outs[2].Err.Path != "signal_id" || outs[3].Err.Path != "event_id" {
		t.Errorf("conflict paths %q %q", outs[2].Err.Path, outs[3].Err.Path)
	}
	if after := stored(t, st); after != before {
		t.Errorf("redelivery changed the store:\n%s\n%s", before, after)
	}
	got := map[string]bool{}
	for len(changes) > 0 {
		c := <-changes
		if c.Updated {
			for _, id := range c.Events {
				got[id] = true
			}
		}
	}
	if !got["a"] {
		t.Errorf("no watch notification for the merged event")
	}
}

func TestSignalWithdrawsConsent(t *testing.T) {
	st := openStore(t)
	p := New(st, PipelineOptions{})
	submit(t, p, iA, sA1, iB)
	if err := st.PutLabel(loop.Label{EventID: "a", Reviewer: "ana", Grade: loop.GradeFail, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutSetEntry(loop.SetEntry{EventID: "a", Kind: loop.SetGolden, Reference: "ref"}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Enqueue([]loop.QueueItem{{EventID: "a", Day: "2026-10-01"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.PutDraft(store.Draft{EventID: "a", Reviewer: "ana", Note: "half-typed note"}); err != nil {
		t.Fatal(err)
	}
	outs, sum := submit(t, p, sAw)
	if got := statuses(outs); got != "accepted" || sum.Malformed() != 0 {
		t.Fatalf("withdrawal: %s %+v", got, sum)
	}
	if ok, _ := st.Has("a"); ok {
		t.Fatal("withdrawn event still stored")
	}
	if sigs, _ := st.Signals("a"); len(sigs) != 0 {
		t.Fatalf("signals kept: %v", sigs)
	}
	if ls, _ := st.Labels("a"); len(ls) != 0 {
		t.Fatalf("labels kept: %v", ls)
	}
	n := 0
	st.SetEntries(loop.SetGolden, func(loop.SetEntry) error { n++; return nil })
	st.Queued(func(loop.QueueItem) error { n++; return nil })
	st.Drafts("ana", func(store.Draft) error { n++; return nil })
	if n != 0 {
		t.Fatalf("%d set/queue/draft entries kept", n)
	}
	// Every later copy is dropped, and counted, without being an error.
	outs, sum = submit(t, p, iA, sA2, sA1, sAw, iB)
	if got := statuses(outs); got != "withdrawn withdrawn withdrawn withdrawn duplicate" {
		t.Fatalf("after withdrawal: %s", got)
	}
	if sum.Withdrawn != 4 || sum.Malformed() != 0 || sum.Rejected != 0 {
		t.Fatalf("summary %+v", sum)
	}
	// The tombstone survives a reopen.
	dir := st.Dir()
	st.Close()
	st2, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	outs, _ = submit(t, New(st2, PipelineOptions{}), iA)
	if got := statuses(outs); got != "withdrawn" {
		t.Fatalf("after reopen: %s", got)
	}
	if ev := stored(t, st2); strings.Contains(ev, `"a"`) || !strings.Contains(ev, `"b"`) {
		t.Fatalf("stored: %s", ev)
	}
}

func TestWithdrawalBeforeInteraction(t *testing.T) {
	st := openStore(t)
	p := New(st, PipelineOptions{})
	outs, _ := submit(t, p, sA1, sAw, iA, sA2)
	if got := statuses(outs); got != "pending accepted withdrawn withdrawn" {
		t.Fatalf("%s", got)
	}
	if pending, _, _ := st.SignalStats(); pending != 0 {
		t.Fatalf("pending %d after withdrawal", pending)
	}
	if n, _ := st.Count(); n != 0 {
		t.Fatalf("%d events stored", n)
	}
}

func TestExpirePending(t *testing.T) {
	st := openStore(t)
	p := New(st, PipelineOptions{})
	submit(t, p, sA1, sA2, iB)
	n, err := st.ExpirePending(time.Now().Add(-time.Hour))
	if err != nil || n != 0 {
		t.Fatalf("nothing is an hour old: %d %v", n, err)
	}
	if n, err = st.ExpirePending(time.Now().Add(time.Hour)); err != nil || n != 2 {
		t.Fatalf("expired %d %v", n, err)
	}
	pending, dropped, err := st.SignalStats()
	if err != nil || pending != 0 || dropped != 2 {
		t.Fatalf("stats %d %d %v", pending, dropped, err)
	}
	// Dropped means gone: the same signal is new again, and pending.
	outs, _ := submit(t, p, sA1)
	if got := statuses(outs); got != "pending" {
		t.Fatalf("resent: %s", got)
	}
	outs, _ = submit(t, p, iA)
	if got := statuses(outs); got != "accepted" {
		t.Fatalf("interaction: %s", got)
	}
	if ev, _ := st.Event("a"); ev.ThumbValue() != loop.ThumbDown || ev.Business != nil {
		t.Fatalf("merged %s", loop.AppendJSON(nil, ev))
	}
}

func TestSignalsOnlyEndpointPipeline(t *testing.T) {
	st := openStore(t)
	p := New(st, PipelineOptions{}).signals()
	outs, _ := submit(t, p, iA, sA1)
	if got := statuses(outs); got != "rejected:invalid_field pending" || outs[0].Err.Path != "kind" {
		t.Fatalf("%s %v", got, outs[0].Err)
	}
}

func TestOnStored(t *testing.T) {
	st := openStore(t)
	var got []string
	p := New(st, PipelineOptions{OnStored: func(chg []store.Changed) error {
		for _, c := range chg {
			got = append(got, c.Summary.ID)
		}
		return nil
	}})
	submit(t, p, sA1, iB)
	// a is stored, merged with both its signals, and withdrawn in the
	// same batch: it is gone, so not reported.
	submit(t, p, iA, sA2, iB, sAw)
	sB1 := `{"kind":"signal","signal_id":"b1","event_id":"b","timestamp":"2026-10-01T11:05:00Z","source":"user","explicit_feedback":{"thumb":"up"}}`
	submit(t, p, sB1)
	if strings.Join(got, ",") != "b,b" {
		t.Fatalf("OnStored saw %v", got)
	}
}

func TestForgetUserTakesSignals(t *testing.T) {
	st := openStore(t)
	p := New(st, PipelineOptions{})
	submit(t, p, iA, sA1, sA2, iB)
	if n, err := st.Forget(st.UserHash("u1")); err != nil || n != 1 {
		t.Fatalf("forget: %d %v", n, err)
	}
	if sigs, _ := st.Signals("a"); len(sigs) != 0 {
		t.Fatalf("signals kept: %v", sigs)
	}
	if _, err := st.Original("a"); err == nil {
		t.Fatal("original kept")
	}
	// Nothing of the event is left, not even its signals' idempotency:
	// the same records are new again (forget is not a withdrawal).
	outs, _ := submit(t, p, sA1)
	if got := statuses(outs); got != "pending" {
		t.Fatalf("after forget: %s", got)
	}
	outs, _ = submit(t, p, iA)
	if got := statuses(outs); got != "accepted" {
		t.Fatalf("after forget: %s", got)
	}
	if ev, _ := st.Event("a"); ev.ThumbValue() != loop.ThumbDown || ev.Business != nil {
		t.Fatalf("merged %s", loop.AppendJSON(nil, ev))
	}
}

const (
	iN  = `{"event_id":"n","timestamp":"2026-10-01T10:00:00Z","model_version":"m","input":{"text":"canary-n-input"},"consent":{"analytics":false,"training":false}}`
	iNy = `{"event_id":"n","timestamp":"2026-10-01T10:00:00Z","model_version":"m","input":{"text":"canary-n-input"},"consent":{"analytics":true,"training":false}}`
	sN1 = `{"kind":"signal","signal_id":"n1","event_id":"n","timestamp":"2026-10-01T09:59:00Z","explicit_feedback":{"thumb":"down","reason_text":"canary-n-before"}}`
	sN2 = `{"kind":"signal","signal_id":"n2","event_id":"n","timestamp":"2026-10-01T10:05:00Z","explicit_feedback":{"reason_text":"canary-n-after"}}`
)

// TestNoConsentDropsItsSignals: an interaction refused because its user
// withheld consent takes its signals with it, whichever arrives first and
// whether in one batch or several: nothing stays pending, and the refused
// line is still a no_consent reject.
func TestNoConsentDropsItsSignals(t *testing.T) {
	for _, tc := range []struct {
		name    string
		batches [][]string
		want    string
	}{
		{"before and after, one batch", [][]string{{sN1, iN, sN2}}, "pending rejected:no_consent withdrawn"},
		{"before and after, three batches", [][]string{{sN1}, {iN}, {sN2}}, "pending rejected:no_consent withdrawn"},
		{"interaction first", [][]string{{iN, sN1, sN2}}, "rejected:no_consent withdrawn withdrawn"},
		{"interaction last", [][]string{{sN1, sN2}, {iN}}, "pending pending rejected:no_consent"},
		{"refused twice", [][]string{{sN1, iN}, {iN, sN2}}, "pending rejected:no_consent rejected:no_consent withdrawn"},
		// A later copy that does consent is dropped as withdrawn: the
		// refusal stands as the user's choice, as a withdrawal does.
		{"consenting copy after", [][]string{{iN, iNy, sN1}}, "rejected:no_consent withdrawn withdrawn"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := openStore(t)
			p := New(st, PipelineOptions{})
			var got []string
			noConsent := 0
			for _, b := range tc.batches {
				outs, sum := submit(t, p, b...)
				got = append(got, statuses(outs))
				noConsent += sum.Reasons[loop.ReasonNoConsent]
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("outcomes %q, want %q", g, tc.want)
			}
			if want := strings.Count(tc.want, "no_consent"); noConsent != want {
				t.Errorf("no_consent counted %d, want %d", noConsent, want)
			}
			pending, dropped, err := st.SignalStats()
			if err != nil || pending != 0 || dropped != 0 {
				t.Fatalf("pending %d dropped %d %v: want nothing left waiting", pending, dropped, err)
			}
			if sigs, err := st.Signals("n"); err != nil || len(sigs) != 0 {
				t.Fatalf("signals kept: %v %v", sigs, err)
			}
			if n, _ := st.Count(); n != 0 {
				t.Fatalf("%d events stored", n)
			}
		})
	}
}

// TestNoConsentCopyOfStoredInteraction: a copy without consent of an
// interaction stored with it withdraws nothing (withdrawing is a signal's
// job): the stored event and its signals stay.
func TestNoConsentCopyOfStoredInteraction(t *testing.T) {
	st := openStore(t)
	p := New(st, PipelineOptions{})
	outs, _ := submit(t, p, iNy, sN1, iN, sN2)
	if got := statuses(outs); got != "accepted accepted rejected:no_consent accepted" {
		t.Fatalf("%s", got)
	}
	if sigs, err := st.Signals("n"); err != nil || len(sigs) != 2 {
		t.Fatalf("signals %d %v, want 2", len(sigs), err)
	}
	if ev := stored(t, st); !strings.Contains(ev, "canary-n-after") {
		t.Fatalf("stored: %s", ev)
	}
}
