package loop

import (
	"encoding/json"
	"reflect"
	"testing"
)

// leafCases are leaf values as signals carry them, and the forms around
// them that the fast path must hand to encoding/json.
var leafCases = []string{
	`true`, `false`, `null`, `TRUE`, ` true`, `true `, `1`, `0`, `-0`, `01`, `-`, `1.`, `.5`, `1.5`, `-2.25e3`,
	`1E+2`, `1e-7`, `1e`, `1e400`, `-1e400`, `9223372036854775807`, `9223372036854775808`,
	`-9223372036854775808`, `3.0`, `0x10`, `+1`, `Infinity`, `NaN`, `1_000`,
	`""`, `"up"`, `"a\"b"`, `"tab\there"`, "\"raw\ttab\"", `"\u00e9t\u00e9"`, `"été"`, "\"\xff\"", `"\ud800"`,
	`"unterminated`, `"a"b"`, `["x"]`, `{}`, `{"thumb":"down"}`, `{"thumb":null}`, `{"thumb":"up","reason_codes":["slow","wrong"],"reason_text":"meh"}`,
	`{"reason_codes":[]}`, `{"reason_codes":null}`, `{"reason_text":null}`, `{"thumb":"up","thumb":"down"}`,
	`{"thumb": "up"}`, `{"thumb":"up",}`, `{"thumb":"up"`, `{"reason_codes":["a",]}`, `{"reason_codes":["a"`,
	`{"reason_codes":[1]}`, `{"thumb":1}`, `{"other":"x"}`, `{"thumb":"a\u0041"}`, `{"reason_text":"x","reason_codes":["c"],"thumb":"down"}`,
	`{"reason_codes":["a","b"]}`, `{"reason_codes":["a" ,"b"]}`, `{"thumb":"up"}x`, `{,}`, `{"thumb"}`, `{"thumb":nul}`,
}

// unmarshalLeaf gives what json.Unmarshal gives, value and error alike,
// for every type a leaf is read into.
func TestUnmarshalLeafIsJSONUnmarshal(t *testing.T) {
	for _, c := range leafCases {
		checkLeaf(t, []byte(c))
	}
}

func FuzzUnmarshalLeaf(f *testing.F) {
	for _, c := range leafCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, v []byte) { checkLeaf(t, v) })
}

func checkLeaf(t *testing.T, v []byte) {
	t.Helper()
	for _, mk := range []func() any{
		func() any { return new(bool) },
		func() any { return new(float64) },
		func() any { return new(int) },
		func() any { return new(string) },
		func() any { return new(thumbUnit) },
	} {
		want, got := mk(), mk()
		werr := json.Unmarshal(v, want)
		gerr := unmarshalLeaf(v, got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("%T from %q: error %v, json.Unmarshal's %v", got, v, gerr, werr)
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("%T from %q: %#v, json.Unmarshal gives %#v", got, v, got, want)
		}
	}
}

// The fast path is taken for the forms the store writes, not only correct
// by falling back.
func TestUnmarshalLeafFastForms(t *testing.T) {
	var u thumbUnit
	for _, c := range []struct {
		v string
		x any
	}{
		{`true`, new(bool)}, {`-2.25e3`, new(float64)}, {`42`, new(int)}, {`"été"`, new(string)},
		{`{"thumb":"up","reason_codes":["slow","wrong"],"reason_text":"meh"}`, &u},
		{string(appendUnit(nil, &thumbUnit{ReasonCodes: []string{"a"}})), &u},
	} {
		if !fastLeaf([]byte(c.v), c.x) {
			t.Errorf("%q into %T: not on the fast path", c.v, c.x)
		}
	}
}

// UnitWithoutText keeps what the old encoding/json round trip kept: the
// thumb and the reason codes, read back the same.
func TestUnitWithoutText(t *testing.T) {
	for _, c := range leafCases {
		var old struct {
			Thumb       *string  `json:"thumb,omitempty"`
			ReasonCodes []string `json:"reason_codes,omitempty"`
		}
		_ = json.Unmarshal([]byte(c), &old)
		want, _ := json.Marshal(old)
		var w, g thumbUnit
		if err := json.Unmarshal(want, &w); err != nil {
			t.Fatal(err)
		}
		got := UnitWithoutText([]byte(c))
		if err := json.Unmarshal(got, &g); err != nil {
			t.Fatalf("%q: %q is not JSON: %v", c, got, err)
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("%q: %q reads %+v, the old form %q reads %+v", c, got, g, want, w)
		}
	}
}
