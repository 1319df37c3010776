package inbox

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/loupe-dev/loupe/loop/columns"
	"github.com/loupe-dev/loupe/loop/filter"
)

// formatVersion numbers the layout AppendTo writes; Decode reads only its
// own. The size of nums is part of it: the rows are written as they lie in
// memory.
const formatVersion = 1<<32 | uint64(unsafe.Sizeof(nums{}))

// AppendTo appends the list's columns to b, for Decode to read back: the
// bytes of a persisted inbox (store's inbox snapshot). The id table is not
// written: Decode builds it again, with a seed of its own.
func (l *List) AppendTo(b []byte) ([]byte, error) {
	e := &columns.Encoder{B: b}
	if err := l.Encode(e); err != nil {
		return nil, err
	}
	return e.B, nil
}

// Encode is AppendTo to an encoder (which may hand the bytes on as they
// come: see columns.Encoder.Sink). It flushes the encoder.
func (l *List) Encode(e *columns.Encoder) error {
	e.U64(formatVersion)
	if err := e.Strings(l.ids); err != nil {
		return err
	}
	columns.PutFixed(e, l.times)
	columns.PutFixed(e, l.nums)
	columns.PutFixed(e, l.rl)
	e.U64(uint64(len(l.rlists)))
	for _, rs := range l.rlists {
		if err := e.Strings(rs); err != nil {
			return err
		}
	}
	if err := l.ix.AppendTo(e); err != nil {
		return err
	}
	return e.Flush()
}

// Decode reads a list AppendTo wrote. Its ids, snippets and columns are
// views of b, which must not change while the list is in use (the list
// keeps it alive). Anything that does not add up is an error, never a
// list that could index out of range.
func Decode(b []byte) (*List, error) {
	d := columns.NewDecoder(b)
	if v := d.U64(); d.Err() == nil && v != formatVersion {
		return nil, fmt.Errorf("inbox: format %#x, want %#x", v, formatVersion)
	}
	l := &List{ids: d.Strings()}
	// The id table needs only the ids: it fills on another core while
	// the rest is read.
	var wg sync.WaitGroup
	if d.Err() == nil {
		wg.Go(l.index)
	}
	defer wg.Wait()
	l.times, l.nums, l.rl = columns.GetFixed[int64](d), columns.GetFixed[nums](d), columns.GetFixed[uint32](d)
	nl := d.U64()
	if err := d.Err(); err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	if nl == 0 || nl > uint64(len(d.Rest()))/8 {
		return nil, errors.New("inbox: reason lists out of range")
	}
	l.rlists = make([][]string, nl)
	for i := range l.rlists {
		l.rlists[i] = d.Strings()
	}
	if d.Err() == nil && len(l.rlists[0]) != 0 {
		return nil, errors.New("inbox: reason list 0 is not empty")
	}
	l.rlists[0] = nil
	ix, err := filter.DecodeIndex(d)
	if err != nil {
		return nil, fmt.Errorf("inbox: %w", err)
	}
	l.ix = ix
	if len(d.Rest()) != 0 {
		return nil, fmt.Errorf("inbox: %d bytes after the columns", len(d.Rest()))
	}
	n := len(l.ids)
	if len(l.times) != n || len(l.nums) != n || len(l.rl) != n || ix.Len() != n {
		return nil, errors.New("inbox: columns of different lengths")
	}
	for _, k := range l.rl {
		if int(k) >= len(l.rlists) {
			return nil, errors.New("inbox: reason list code out of range")
		}
	}
	return l, nil
}

// before says item i of a comes before item j of b in list order: newest
// first, and among items of one instant the store's key order reversed
// (greater id first).
func before(a *List, i int, b *List, j int) bool {
	if a.times[i] != b.times[j] {
		return a.times[i] > b.times[j]
	}
	return strings.Compare(a.ids[i], b.ids[j]) > 0
}

// Upsert is base with the items of changed merged in: an item of changed
// replaces base's item of the same time and id, the others are inserted
// in list order. Both must be in list order (newest first, ties by id
// descending, as Reversed makes them). The result shares both lists'
// blocks; with nothing changed it is base itself.
func Upsert(base, changed *List) *List {
	if changed.Len() == 0 {
		return base
	}
	b := NewBuilder(base.Len() + changed.Len())
	i, j := 0, 0
	for i < base.Len() || j < changed.Len() {
		switch {
		case j == changed.Len():
			b.AddFrom(base, i)
			i++
		case i == base.Len() || before(changed, j, base, i):
			b.AddFrom(changed, j)
			j++
		case before(base, i, changed, j):
			b.AddFrom(base, i)
			i++
		default: // the same item: the changed one wins
			b.AddFrom(changed, j)
			i, j = i+1, j+1
		}
	}
	return b.List()
}

// Equal reports whether two lists hold the same items in the same order,
// field by field, and the same distinct values of each filter field (in
// any order: dictionary order depends on how a list was built). For tests
// of the store's snapshot against a full scan.
func Equal(a, b *List) error {
	if a.Len() != b.Len() {
		return fmt.Errorf("%d items, want %d", a.Len(), b.Len())
	}
	for i := 0; i < a.Len(); i++ {
		sa, sb := a.At(i), b.At(i)
		if fmt.Sprintf("%#v", sa) != fmt.Sprintf("%#v", sb) {
			return fmt.Errorf("item %d: %#v, want %#v", i, sa, sb)
		}
		if a.ix.Text(i) != b.ix.Text(i) {
			return fmt.Errorf("item %d: text %q, want %q", i, a.ix.Text(i), b.ix.Text(i))
		}
		if r, ok := b.Find(a.ids[i]); !ok || r != i {
			return fmt.Errorf("item %d (%s): found at %d, %v in the other", i, a.ids[i], r, ok)
		}
		if r, ok := a.Find(a.ids[i]); !ok || r != i {
			return fmt.Errorf("item %d (%s): found at %d, %v", i, a.ids[i], r, ok)
		}
	}
	return filter.SameValues(a.ix, b.ix)
}
