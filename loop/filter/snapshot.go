package filter

import (
	"errors"
	"fmt"
	"slices"

	"github.com/loupe-dev/loupe/loop/columns"
)

// AppendTo appends the index's columns to e, for DecodeIndex to read back
// (a persisted inbox: see store's inbox snapshot).
func (ix *Index) AppendTo(e *columns.Encoder) error {
	if err := e.Strings(ix.text); err != nil {
		return err
	}
	columns.PutFixed(e, ix.masks)
	for c := range ix.cols {
		if err := e.Strings(ix.cols[c].dict); err != nil {
			return err
		}
		columns.PutFixed(e, ix.cols[c].codes)
	}
	if err := e.Strings(ix.rdict); err != nil {
		return err
	}
	columns.PutFixed(e, ix.roff)
	columns.PutFixed(e, ix.rcodes)
	return nil
}

// DecodeIndex reads an index AppendTo wrote. Its texts and columns are
// views of d's bytes. Every code and offset is checked, so that no bytes
// can make a search go out of range.
func DecodeIndex(d *columns.Decoder) (*Index, error) {
	ix := &Index{text: d.Strings(), masks: columns.GetFixed[uint64](d)}
	for c := range ix.cols {
		ix.cols[c].dict = d.Strings()
		ix.cols[c].codes = columns.GetFixed[uint32](d)
	}
	ix.rdict = d.Strings()
	ix.roff = columns.GetFixed[uint32](d)
	ix.rcodes = columns.GetFixed[uint32](d)
	if err := d.Err(); err != nil {
		return nil, err
	}
	n := len(ix.text)
	if len(ix.masks) != n || len(ix.roff) != n+1 || ix.roff[0] != 0 || int(ix.roff[n]) != len(ix.rcodes) {
		return nil, errors.New("filter index: columns of different lengths")
	}
	for c := range ix.cols {
		if len(ix.cols[c].codes) != n || !codesUnder(ix.cols[c].codes, len(ix.cols[c].dict)) {
			return nil, fmt.Errorf("filter index: column %d out of range", c)
		}
	}
	for i := 1; i <= n; i++ {
		if ix.roff[i] < ix.roff[i-1] {
			return nil, errors.New("filter index: reason offsets out of order")
		}
	}
	if !codesUnder(ix.rcodes, len(ix.rdict)) {
		return nil, errors.New("filter index: reason codes out of range")
	}
	return ix, nil
}

func codesUnder(codes []uint32, n int) bool {
	for _, k := range codes {
		if int(k) >= n {
			return false
		}
	}
	return true
}

// SameValues reports whether two indexes hold the same items in the same
// order: texts, masks, field values and reasons item by item, and the same
// distinct values of each field in any order (dictionary order depends on
// how an index was built). For tests of indexes built different ways.
func SameValues(a, b *Index) error {
	if a.Len() != b.Len() {
		return fmt.Errorf("filter index: %d items, want %d", a.Len(), b.Len())
	}
	for i := 0; i < a.Len(); i++ {
		if a.text[i] != b.text[i] || a.masks[i] != b.masks[i] {
			return fmt.Errorf("filter index: item %d: text %q mask %x, want %q %x", i, a.text[i], a.masks[i], b.text[i], b.masks[i])
		}
		for c := range a.cols {
			if va, vb := a.cols[c].dict[a.cols[c].codes[i]], b.cols[c].dict[b.cols[c].codes[i]]; va != vb {
				return fmt.Errorf("filter index: item %d: column %d %q, want %q", i, c, va, vb)
			}
		}
		ra, rb := a.rcodes[a.roff[i]:a.roff[i+1]], b.rcodes[b.roff[i]:b.roff[i+1]]
		if len(ra) != len(rb) {
			return fmt.Errorf("filter index: item %d: %d reasons, want %d", i, len(ra), len(rb))
		}
		for k := range ra {
			if a.rdict[ra[k]] != b.rdict[rb[k]] {
				return fmt.Errorf("filter index: item %d: reason %q, want %q", i, a.rdict[ra[k]], b.rdict[rb[k]])
			}
		}
	}
	for _, f := range []Field{Model, Segment, Task, Locale, Thumb, Reason} {
		va, vb := a.Values(f), b.Values(f)
		slices.Sort(va)
		slices.Sort(vb)
		if !slices.Equal(va, vb) {
			return fmt.Errorf("filter index: values of field %d: %q, want %q", f, va, vb)
		}
	}
	return nil
}
