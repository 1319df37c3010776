package ingest

import (
	"testing"
	"time"

	"github.com/loupe-dev/loupe/store"
)

// A write returns once its own commit is durable, even while other
// writers' commits follow it: the caller that found the committer idle
// must not be kept committing the others' writes (a Kafka partition
// would stall behind the rest for as long as they keep coming).
func TestCommitterReturnsAfterOwnCommit(t *testing.T) {
	started := make(chan string, 4)
	release := make(chan struct{}, 4)
	c := &committer{putFn: func(recs []store.Record) ([]store.PutStatus, []store.Changed, error) {
		started <- recs[0].ID
		<-release
		return make([]store.PutStatus, len(recs)), nil, nil
	}}
	put := func(id string) chan error {
		done := make(chan error, 1)
		go func() {
			st, _, err := c.put([]store.Record{{ID: id}})
			if err == nil && len(st) != 1 {
				t.Errorf("%s: %d statuses for 1 record", id, len(st))
			}
			done <- err
		}()
		return done
	}
	aDone := put("a")
	if id := <-started; id != "a" {
		t.Fatalf("first commit is %q, want a", id)
	}
	bDone := put("b") // queued behind a's commit
	// Let b's put reach the queue before a's commit ends.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		c.mu.Lock()
		n := len(c.queue)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b's write never queued")
		}
	}
	release <- struct{}{} // a's commit is durable
	if id := <-started; id != "b" {
		t.Fatalf("second commit is %q, want b", id)
	}
	// b's commit is under way and held: a must have returned already.
	select {
	case err := <-aDone:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a's write did not return while b's commit was under way")
	}
	select {
	case <-bDone:
		t.Fatal("b's write returned before its commit was durable")
	default:
	}
	release <- struct{}{}
	if err := <-bDone; err != nil {
		t.Fatal(err)
	}
}
