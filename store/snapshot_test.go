package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/inbox"
)

// checkInbox asserts that Inbox (snapshot, delta, or scan: whatever the
// store has) is exactly the full scan.
func checkInbox(t *testing.T, st *Store, step string) *inbox.List {
	t.Helper()
	got, err := st.Inbox()
	if err != nil {
		t.Fatalf("%s: Inbox: %v", step, err)
	}
	var want *inbox.List
	if err := st.db.View(func(txn *badger.Txn) error {
		want, err = st.fullInbox(txn)
		return err
	}); err != nil {
		t.Fatalf("%s: full scan: %v", step, err)
	}
	if err := inbox.Equal(got, want); err != nil {
		t.Fatalf("%s: the inbox differs from a full scan: %v", step, err)
	}
	if _, ok := got.Find("no-such-id"); ok {
		t.Fatalf("%s: Find found an id never stored", step)
	}
	return got
}

// snapshotUsed says whether the store holds a snapshot the next open
// would use: its record valid and the file matching it.
func snapshotUsed(t *testing.T, st *Store) bool {
	t.Helper()
	var l *inbox.List
	if err := st.db.View(func(txn *badger.Txn) error { l, _ = st.readSnapshot(txn); return nil }); err != nil {
		t.Fatal(err)
	}
	return l != nil
}

// Random sequences of everything that changes summaries (ingest, late
// signals merged into them, OTLP replacements that move an interaction in
// time, consent withdrawals and refusals, forget --user, retention, edge
// sampling's stubs, label and set writes), with closes and reopens (each
// close writing a snapshot), reads that start from the last list, and
// snapshot files corrupted, truncated, replaced by an old one, or left
// without their record: after every step the inbox is exactly a full scan.
func TestInboxSnapshotIsAlwaysTheFullScan(t *testing.T) {
	seeds := 8
	if testing.Short() {
		seeds = 3
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { snapshotRun(t, uint64(seed)) })
	}
}

func snapshotRun(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 17))
	// Half the runs write a snapshot at every close with anything new,
	// half only after 40 new summaries (more opens merge a delta).
	defer func(n int) { snapCloseDelta = n }(snapCloseDelta)
	snapCloseDelta = []int{1, 40}[seed%2]
	dir := t.TempDir()
	path := filepath.Join(dir, snapFile)
	keep := r.IntN(2) == 0
	open := func() *Store {
		st, err := Open(dir, Options{Holder: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if keep {
			// Edge sampling: interactions without feedback mostly
			// become stubs, until a signal makes them kept.
			st.SetKeep(func(s *loop.Summary) bool { return s.Thumb != loop.ThumbNone || len(s.ID)%3 == 0 })
		}
		return st
	}
	st := open()
	defer func() { st.Close() }()
	users := []string{"u-ann", "u-bob", "u-cy", "u-dee"}
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	at := func() time.Time {
		// Few distinct instants: items of one instant are ordered by id.
		return day.Add(time.Duration(r.IntN(40)) * 30 * time.Minute)
	}
	var old []byte // an earlier snapshot file, to put back later
	sigN := 0
	usedOnce := false
	for step := range 120 {
		var name string
		switch op := r.IntN(100); {
		case op < 30:
			name = "ingest"
			var recs []Record
			for range 1 + r.IntN(25) {
				id := fmt.Sprintf("ev-%d", r.IntN(150))
				thumb := ""
				if r.IntN(3) == 0 {
					thumb = `,"explicit_feedback":{"thumb":"down","reason_codes":["tone"]}`
				}
				consent := ""
				if r.IntN(25) == 0 {
					consent = `,"consent":{"analytics":false}`
				}
				recs = append(recs, eventRec(t, st, fmt.Sprintf(`{"event_id":%q,"timestamp":%q,"model_version":"m%d","user_id":%q,"task_type":"qa","input":{"text":"question %d from %s"},"output":{"text":"answer %d"}%s%s}`,
					id, at().Format(time.RFC3339), r.IntN(3), users[r.IntN(len(users))], r.IntN(1000), id, r.IntN(9), thumb, consent)))
			}
			if _, err := st.PutRecords(recs); err != nil {
				t.Fatal(err)
			}
		case op < 45:
			name = "late signals"
			var recs []Record
			for range 1 + r.IntN(6) {
				sigN++
				body := []string{`"explicit_feedback":{"thumb":"up"}`, `"explicit_feedback":{"thumb":"down","reason_codes":["factual_error","format"]}`,
					`"implicit_feedback":{"escalated":true}`, `"business":{"resolved":true}`}[r.IntN(4)]
				recs = append(recs, signalRec(t, fmt.Sprintf(`{"kind":"signal","signal_id":"sig-%d","event_id":"ev-%d","timestamp":%q,%s}`,
					sigN, r.IntN(170), day.Add(30*time.Hour).Format(time.RFC3339), body)))
			}
			if _, err := st.PutRecords(recs); err != nil {
				t.Fatal(err)
			}
		case op < 50:
			name = "consent withdrawn"
			sigN++
			rec := signalRec(t, fmt.Sprintf(`{"kind":"signal","signal_id":"sig-%d","event_id":"ev-%d","timestamp":%q,"consent":{"analytics":false}}`,
				sigN, r.IntN(150), day.Add(31*time.Hour).Format(time.RFC3339)))
			if _, err := st.PutRecords([]Record{rec}); err != nil {
				t.Fatal(err)
			}
		case op < 55:
			name = "otlp replacement"
			id := fmt.Sprintf("tr-%d", r.IntN(8))
			if _, _, err := st.PutTrace(nil, []Record{derived(t, id, fmt.Sprintf("span text %d", r.IntN(100)), at())}); err != nil {
				t.Fatal(err)
			}
		case op < 59:
			name = "forget --user"
			if _, err := st.Forget(st.UserHash(users[r.IntN(len(users))])); err != nil {
				t.Fatal(err)
			}
		case op < 62:
			name = "retention"
			if _, err := st.ForgetBefore(day.Add(time.Duration(r.IntN(8)) * time.Hour)); err != nil {
				t.Fatal(err)
			}
		case op < 68:
			name = "labels and sets"
			l, _ := st.Inbox()
			if l.Len() > 0 {
				id := l.ID(r.IntN(l.Len()))
				if err := st.PutLabel(loop.Label{EventID: id, Reviewer: "rev", Grade: loop.GradeFail, At: day}); err != nil {
					t.Fatal(err)
				}
				if err := st.PutSetEntry(loop.SetEntry{Kind: loop.SetGolden, EventID: id, AddedBy: "rev"}); err != nil {
					t.Fatal(err)
				}
			}
		case op < 82:
			name = "close and reopen"
			if r.IntN(3) == 0 {
				// Hold the list over the close: the snapshot starts
				// from it instead of the file.
				checkInbox(t, st, "before close")
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			st = open()
			if snapshotUsed(t, st) {
				usedOnce = true
				if r.IntN(3) == 0 {
					old, _ = os.ReadFile(path)
				}
			}
		case op < 86:
			name = "snapshot corrupted"
			if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
				b[r.IntN(len(b))] ^= byte(1 + r.IntN(255))
				if err := os.WriteFile(path, b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		case op < 89:
			name = "snapshot truncated"
			if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
				if err := os.WriteFile(path, b[:r.IntN(len(b))], 0o600); err != nil {
					t.Fatal(err)
				}
			}
		case op < 92:
			name = "an old snapshot put back"
			if old != nil {
				if err := os.WriteFile(path, old, 0o600); err != nil {
					t.Fatal(err)
				}
			}
		case op < 95:
			name = "the record gone, the file left"
			if err := st.db.Update(func(txn *badger.Txn) error { return txn.Delete(metaInboxSnap) }); err != nil {
				t.Fatal(err)
			}
		default:
			name = "reopen without writing a snapshot"
			// As a killed process leaves it: no Close.
			st.closed.Do(func() {
				close(st.stopGC)
				<-st.gcDone
				st.db.Close()
			})
			st = open()
		}
		checkInbox(t, st, fmt.Sprintf("step %d (%s)", step, name))
	}
	// A last close writes a snapshot that the next open uses.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st = open()
	if l, _ := st.Inbox(); l.Len() > 0 && !snapshotUsed(t, st) {
		// A file damaged while nobody read it stays until an open
		// reads it (snapshotUsed did): that session's close writes a
		// good one.
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		st = open()
		if !snapshotUsed(t, st) {
			t.Fatal("no usable snapshot after a close that found it damaged")
		}
	}
	if !usedOnce {
		t.Log("(no reopen mid-run found a snapshot)")
	}
	checkInbox(t, st, "final")
}

// A snapshot is used, and current: a close after a large put writes one;
// an open then reads no summary from Badger (the delta is empty), and one
// summary written after is merged in.
func TestInboxSnapshotWrittenOnCloseAndMerged(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var evs []*loop.Event
	for i := range 500 {
		evs = append(evs, ev(fmt.Sprintf("e%04d", i), t0.Add(time.Duration(i)*time.Minute), fmt.Sprintf("text %d", i)))
	}
	if _, err := st.PutEvents(evs); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, snapFile)); err == nil {
		t.Fatal("a snapshot before any close")
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, snapFile))
	if err != nil {
		t.Fatalf("no snapshot after the close: %v", err)
	}
	st, err = Open(dir, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var m snapMeta
	st.db.View(func(txn *badger.Txn) error { m, _, _ = snapshotMeta(txn); return nil })
	if m.size != fi.Size() {
		t.Fatalf("record says %d bytes, file has %d", m.size, fi.Size())
	}
	st.db.View(func(txn *badger.Txn) error {
		if n := countSince(txn, m.ts, 1000); n != 0 {
			t.Errorf("%d summaries after the snapshot", n)
		}
		return nil
	})
	l := checkInbox(t, st, "after reopen")
	if l.Len() != 500 || l.ID(0) != "e0499" {
		t.Fatalf("%d items, first %s", l.Len(), l.ID(0))
	}
	if _, err := st.PutEvents([]*loop.Event{ev("late", t0.Add(90*time.Minute), "new one")}); err != nil {
		t.Fatal(err)
	}
	st.last.Store(nil) // from the file, not the list just made
	l = checkInbox(t, st, "after one more")
	if i, ok := l.Find("late"); !ok || l.ID(i) != "late" || l.Len() != 501 {
		t.Fatalf("the new summary is not merged: %d items", l.Len())
	}
	// One summary more is not worth a new file at close (snapCloseDelta):
	// the next open merges it again.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, err = Open(dir, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if s, err := st.InboxSnapshot(); err != nil || s == nil || s.Rows != 500 || s.Behind != 1 {
		t.Fatalf("after a close with one new summary: %+v, %v", s, err)
	}
	checkInbox(t, st, "one behind")
}

// After forget --user, the snapshot file holds nothing of that user: it
// is removed with the commit, and the next one is written without them.
func TestForgetLeavesNoSnippetInTheSnapshot(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for i := range 200 {
		user := "u-keep"
		if i%10 == 0 {
			user = "u-gone"
		}
		recs = append(recs, eventRec(t, st, fmt.Sprintf(`{"event_id":"e%d","timestamp":"2026-11-01T10:%02d:00Z","model_version":"m","user_id":%q,"input":{"text":"words of %s number %d"}}`,
			i, i%60, user, user, i)))
	}
	if _, err := st.PutRecords(recs); err != nil {
		t.Fatal(err)
	}
	st.Close()
	path := filepath.Join(dir, snapFile)
	// (The file is compressed: Plaintext decodes its frames, as the
	// privacy canaries read every file of a store.)
	if b, err := os.ReadFile(path); err != nil || !bytes.Contains(Plaintext(b), []byte("words of u-gone")) {
		t.Fatalf("the snapshot does not hold the user's snippets to begin with (%v)", err)
	}
	st, err = Open(dir, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Inbox(); err != nil { // the list held: the next snapshot may start from it
		t.Fatal(err)
	}
	// As a crash in the middle of writing a snapshot leaves it.
	if err := os.WriteFile(path+".tmp", []byte("words of u-gone number 0"), 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := st.Forget(st.UserHash("u-gone")); err != nil || n != 20 {
		t.Fatalf("forget: %d, %v", n, err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Fatal("the snapshot file is still there after forget")
	}
	if _, err := os.Stat(path + ".tmp"); err == nil {
		t.Fatal("a temporary snapshot a crash left is still there after forget")
	}
	if snapshotUsed(t, st) {
		t.Fatal("a snapshot is valid after forget")
	}
	l := checkInbox(t, st, "after forget")
	if l.Len() != 180 {
		t.Fatalf("%d items after forget", l.Len())
	}
	st.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("no snapshot written after forget: %v", err)
	}
	if b = Plaintext(b); bytes.Contains(b, []byte("u-gone")) || !bytes.Contains(b, []byte("words of u-keep")) {
		t.Fatal("the new snapshot holds the forgotten user's snippets, or not the others'")
	}
}

// Every delete in the store goes through deleteKeys: a bare txn.Delete of
// a summary key would leave a snapshot valid that holds the erased row.
func TestEveryDeleteGoesThroughDeleteKeys(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	bare := regexp.MustCompile(`\.Delete\(|DropPrefix\(|DropAll\(`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if !bare.MatchString(line) {
				continue
			}
			ok := f == "snapshot.go" && strings.Contains(line, "txn.Delete(") || // deleteKeys itself
				strings.Contains(line, "DropPrefix(flush)") // compact's flush of one meta key
			if !ok {
				t.Errorf("%s:%d: a delete outside deleteKeys: %s", f, i+1, strings.TrimSpace(line))
			}
		}
	}
}

// A long-running writer (serve) refreshes the snapshot from its
// maintenance tick once enough summaries were written since, and not
// before; the inbox stays the full scan throughout.
func TestMaintenanceRefreshesTheSnapshot(t *testing.T) {
	defer func(n int) { snapDeltaRefresh = n }(snapDeltaRefresh)
	snapDeltaRefresh = 5
	dir := t.TempDir()
	st, err := Open(dir, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	put := func(from, n int) {
		var evs []*loop.Event
		for i := from; i < from+n; i++ {
			evs = append(evs, ev(fmt.Sprintf("m%03d", i), t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("text %d", i)))
		}
		if _, err := st.PutEvents(evs); err != nil {
			t.Fatal(err)
		}
	}
	state := func() *SnapshotState {
		s, err := st.InboxSnapshot()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	put(0, 3)
	st.maintainSnapshot() // none yet: written whatever the delta
	if s := state(); s == nil || s.Rows != 3 || s.Behind != 0 {
		t.Fatalf("first tick: %+v", s)
	}
	put(3, 4)
	st.maintainSnapshot()
	if s := state(); s == nil || s.Rows != 3 || s.Behind != 4 {
		t.Fatalf("a tick with 4 written since: %+v", s)
	}
	checkInbox(t, st, "behind by 4")
	put(7, 1)
	st.maintainSnapshot()
	if s := state(); s == nil || s.Rows != 8 || s.Behind != 0 {
		t.Fatalf("a tick with 5 written since: %+v", s)
	}
	st.last.Store(nil)
	checkInbox(t, st, "refreshed")
}

// A restore whose Load was cut short closes (Badger then cannot start a
// transaction: the close must not try to write a snapshot), and a whole
// one closes with a snapshot of what was restored.
func TestRestoreClosesAndSnapshots(t *testing.T) {
	src := openT(t)
	var evs []*loop.Event
	for i := range 300 {
		evs = append(evs, ev(fmt.Sprintf("r%03d", i), t0.Add(time.Duration(i)*time.Second), fmt.Sprintf("restored text %d", i)))
	}
	if _, err := src.PutEvents(evs); err != nil {
		t.Fatal(err)
	}
	var bak bytes.Buffer
	if err := src.Backup(&bak); err != nil {
		t.Fatal(err)
	}
	cut, err := Open(t.TempDir(), Options{Holder: "test", ForRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := cut.Restore(bytes.NewReader(bak.Bytes()[:bak.Len()/2])); err == nil {
		t.Fatal("half a backup restored")
	}
	if err := cut.Close(); err != nil {
		t.Logf("close after a cut restore: %v", err)
	}
	dir := t.TempDir()
	whole, err := Open(dir, Options{Holder: "test", ForRestore: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := whole.Restore(bytes.NewReader(bak.Bytes())); err != nil {
		t.Fatal(err)
	}
	if err := whole.Close(); err != nil {
		t.Fatal(err)
	}
	st, err := Open(dir, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !snapshotUsed(t, st) {
		t.Fatal("no snapshot after a restore")
	}
	if l := checkInbox(t, st, "restored"); l.Len() != 300 {
		t.Fatalf("%d items restored", l.Len())
	}
}

// A snapshot of more than one frame reads back whole (the frames are
// decompressed in parallel, each into its place), and damaged frames or
// a damaged table are an error, never a panic or a wrong list.
func TestSnapshotFrames(t *testing.T) {
	dir := t.TempDir()
	st, err := Open(dir, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var recs []Record
	for i := range 40000 {
		recs = append(recs, eventRec(t, st, fmt.Sprintf(`{"event_id":"f%06d","timestamp":"2026-11-01T%02d:%02d:%02dZ","model_version":"m%d","input":{"text":"item %d says %s"}}`,
			i, i/3600%24, i/60%60, i%60, i%7, i, strings.Repeat(fmt.Sprintf("word%d ", i%97), 12))))
	}
	if _, err := st.PutRecords(recs); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(dir, snapFile))
	if err != nil {
		t.Fatal(err)
	}
	body := file[:len(file)-snapTrailer]
	frames := binary.LittleEndian.Uint32(body[len(body)-snapFooter:])
	raw, err := unframe(body)
	if err != nil || frames < 2 {
		t.Fatalf("%d frames, %v: want a snapshot of several", frames, err)
	}
	if len(file)*2 > len(raw) {
		t.Errorf("%d bytes on disk for %d of columns: not compressed", len(file), len(raw))
	}
	st, err = Open(dir, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if !snapshotUsed(t, st) {
		t.Fatal("the snapshot is not used")
	}
	if l := checkInbox(t, st, "frames"); l.Len() != 40000 {
		t.Fatalf("%d items", l.Len())
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		b := bytes.Clone(body)
		switch r.IntN(3) {
		case 0: // a byte of a frame
			b[r.IntN(len(b)-snapFooter)] ^= byte(1 + r.IntN(255))
		case 1: // a byte of the table or footer
			b[len(b)-snapFooter-8*int(frames)+r.IntN(snapFooter+8*int(frames)-8)] ^= byte(1 + r.IntN(255))
		default: // cut
			b = b[:r.IntN(len(b))]
		}
		if got, err := unframe(b); err == nil && !bytes.Equal(got, raw) {
			t.Fatal("damaged frames decoded to other columns without an error")
		}
	}
}
