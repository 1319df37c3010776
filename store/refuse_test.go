package store

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// twinStores are two empty stores with the same secret (so the same user
// hashes and tombstone keys): one made, closed and copied.
func twinStores(t *testing.T) (*Store, *Store) {
	t.Helper()
	a := filepath.Join(t.TempDir(), "a")
	st, err := Open(a, Options{Holder: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	b := filepath.Join(t.TempDir(), "b")
	if err := os.CopyFS(b, os.DirFS(a)); err != nil {
		t.Fatal(err)
	}
	var out [2]*Store
	for i, dir := range []string{a, b} {
		if out[i], err = Open(dir, Options{Holder: "test"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { out[i].Close() })
	}
	return out[0], out[1]
}

func contentsOf(t *testing.T, st *Store) map[string]string {
	t.Helper()
	m := map[string]string{}
	if err := st.Contents(func(k, v []byte) error {
		m[string(k)] = string(v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestBatchedRefusalsChangeNothing: PutRecords applies the refusals with
// no earlier record of their id in the batch first, together, instead of
// cutting the batch at each. Whatever the
// batch sizes, with refusals redelivered inside a batch (which keeps them
// in order) and across batches, every record's status and every key and
// value are those of the batch cut at each refusal.
func TestBatchedRefusalsChangeNothing(t *testing.T) {
	for _, keep := range []KeepFunc{nil, sampleKeep} {
		t.Run(fmt.Sprintf("keep=%v", keep != nil), func(t *testing.T) {
			batched, cut := twinStores(t)
			batched.SetKeep(keep)
			cut.SetKeep(keep)
			// Each store gets its own records: PutRecords may change
			// the ones it is handed.
			var recs, recs1 []Record
			refusals := 0
			r := rand.New(rand.NewPCG(5, 9))
			for _, l := range genLines(t, 1200, 23) {
				rec := prepLine(t, batched, l)
				recs, recs1 = append(recs, rec), append(recs1, prepLine(t, cut, l))
				if rec.Refused {
					refusals++
					if r.IntN(4) == 0 { // redelivered at once
						recs, recs1 = append(recs, rec), append(recs1, rec)
					}
				}
			}
			if refusals < 10 {
				t.Fatalf("only %d refusals in the generated records", refusals)
			}
			var sizes []int
			for n := 0; n < len(recs); {
				sizes = append(sizes, 1+r.IntN(700))
				n += sizes[len(sizes)-1]
			}
			firsts := 0
			put := func(st *Store, recs []Record) []PutStatus {
				var got []PutStatus
				i := 0
				for _, b := range batchesOf(recs, func() int { i++; return sizes[i-1] }) {
					if batchRefusals {
						firsts += len(firstRefusals(b))
					}
					st, err := st.PutRecords(b)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, st...)
				}
				return got
			}
			got := put(batched, recs)
			batchRefusals = false
			want := put(cut, recs1)
			batchRefusals = true
			if firsts < refusals/2 {
				t.Fatalf("%d of %d refusals applied first: the test does not try the batched way", firsts, refusals)
			}
			for i := range recs {
				if got[i] != want[i] {
					t.Errorf("record %d (%s, refused %v): %v, cut at each refusal %v", i, recs[i].ID, recs[i].Refused, got[i], want[i])
				}
			}
			a, b := contentsOf(t, batched), contentsOf(t, cut)
			for k, v := range b {
				if w, ok := a[k]; !ok {
					t.Errorf("key %q only when cut", k)
				} else if !bytes.Equal([]byte(v), []byte(w)) {
					t.Errorf("key %q differs", k)
				}
			}
			for k := range a {
				if _, ok := b[k]; !ok {
					t.Errorf("key %q only when batched", k)
				}
			}
		})
	}
}
