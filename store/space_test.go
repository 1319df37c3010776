package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
)

// TestWritesRefusedWhenSpaceShort fakes the free space: a put that would
// leave less than the reserve is refused whole with ErrDiskFull, nothing of
// it stored, and the same put goes through once space is back.
func TestWritesRefusedWhenSpaceShort(t *testing.T) {
	st, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	free := uint64(1 << 40)
	st.space.free = func(string) (uint64, error) { return free, nil }

	ev := &loop.Event{EventID: "e-1", ModelVersion: "m"}
	free = st.reserve() // the event itself no longer fits
	_, err = st.PutEvents([]*loop.Event{ev})
	var df *DiskFullError
	if !errors.Is(err, ErrDiskFull) || !errors.As(err, &df) || df.Need <= df.Free {
		t.Fatalf("put with too little space: %v", err)
	}
	if !strings.Contains(err.Error(), "MiB free") || !st.DiskFull() {
		t.Fatalf("error %q / DiskFull %v", err, st.DiskFull())
	}
	if ok, _ := st.Has("e-1"); ok {
		t.Fatal("refused event was stored")
	}
	if err := st.PutLabel(loop.Label{EventID: "e-1", Reviewer: "r", Grade: loop.GradePass}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("label with too little space: %v", err)
	}

	free = 1 << 40
	if _, err := st.PutEvents([]*loop.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Has("e-1"); !ok || st.DiskFull() {
		t.Fatal("event not stored once space was back")
	}
}
