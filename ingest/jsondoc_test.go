package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
)

func TestFormOf(t *testing.T) {
	for _, c := range []struct {
		in   string
		want docForm
	}{
		{`{"event_id":"a"}` + "\n" + `{"event_id":"b"}`, formLines},
		{`{"event_id":"a"}`, formLines},
		{"\xef\xbb\xbf  \n[{\"event_id\":\"a\"}]", formArray},
		{"[\n  {\n", formArray},
		{"{\n  \"event_id\": \"a\"\n}\n", formValues},
		{"  \r\n{ \r\n \"event_id\": \"a\"}", formValues},
		// A first line cut short stays JSONL: each line judged on its own.
		{`{"event_id": "a",` + "\n" + `{"event_id":"b"}`, formLines},
		{"{oops\n" + `{"event_id":"b"}`, formLines},
		{`{"text": "unterminated` + "\n", formLines},
		{`not json` + "\n", formLines},
		{"", formLines},
		{"{", formLines}, // no line end in view: JSONL
	} {
		if got := formOf([]byte(c.in)); got != c.want {
			t.Errorf("formOf(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func docItems(t *testing.T, doc string) []docItem {
	t.Helper()
	d := newJSONDoc(strings.NewReader(doc), formOf([]byte(doc)))
	var out []docItem
	for i := 0; ; i++ {
		if i > 2*len(doc)+1 {
			t.Fatalf("more than 2n+1 values in %q: the reader loops", doc)
		}
		it, err := d.next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
}

func TestJSONDocBreaks(t *testing.T) {
	type want struct {
		data string
		line int
		elem int
		bad  string // a substring of the message
	}
	for _, c := range []struct {
		doc  string
		want []want
	}{
		{"[]", nil},
		{"  [ ]  \n", nil},
		{`[{"a":1},{"b":"x]}"}]`, []want{{`{"a":1}`, 1, 1, ""}, {`{"b":"x]}"}`, 1, 2, ""}}},
		{"[\n  {\"a\": 1},\n  {\"b\":\n 2}\n]\n", []want{{`{"a": 1}`, 2, 1, ""}, {"{\"b\":\n 2}", 3, 2, ""}}},
		{"{\n\"a\": 1\n}\n{\n\"b\": 2\n}", []want{{"{\n\"a\": 1\n}", 1, 1, ""}, {"{\n\"b\": 2\n}", 4, 2, ""}}},
		// A missing comma is said, and the element after it still read.
		{"[{\"a\":1}\n{\"b\":2}]", []want{{`{"a":1}`, 1, 1, ""}, {"", 2, 0, "want ',' or ']' after element 1"}, {`{"b":2}`, 2, 2, ""}}},
		{`[{"a":1},]`, []want{{`{"a":1}`, 1, 1, ""}, {"", 1, 0, "no element after it"}}},
		{`[,{"a":1}]`, []want{{"", 1, 0, "no element before it"}, {`{"a":1}`, 1, 1, ""}}},
		{`[{"a":1}] tail`, []want{{`{"a":1}`, 1, 1, ""}, {"", 1, 0, "data after the JSON array"}}},
		{"[{\"a\":1},\n{\"b\":2", []want{{`{"a":1}`, 1, 1, ""}, {`{"b":2`, 2, 2, ""}, {"", 2, 0, "not closed"}}},
		{`[{"a":1}`, []want{{`{"a":1}`, 1, 1, ""}, {"", 1, 0, "not closed"}}},
		// Scalars are values too: the pipeline says they are not records.
		{`[1, "x", null]`, []want{{"1", 1, 1, ""}, {`"x"`, 1, 2, ""}, {"null", 1, 3, ""}}},
		// A raw newline ends a string, so a broken record does not
		// swallow the next.
		{"[{\"a\": \"broken\n},\n{\"b\": 2}]", []want{{"{\"a\": \"broken\n}", 1, 1, ""}, {`{"b": 2}`, 3, 2, ""}}},
		{"{\n\"a\":1\n},\n{\n\"b\":2}", []want{{"{\n\"a\":1\n}", 1, 1, ""}, {"", 3, 2, "between records"}, {"{\n\"b\":2}", 4, 3, ""}}},
		{"[{\"a\":\"\\\"}\"}]", []want{{`{"a":"\"}"}`, 1, 1, ""}}},
		// Indented records: one left open ends where the next starts.
		{"{\n  \"a\": {\n    \"b\": 1\n}\n{\n  \"c\": 2\n}\n", []want{{"{\n  \"a\": {\n    \"b\": 1\n}\n", 1, 1, ""}, {"{\n  \"c\": 2\n}", 5, 2, ""}}},
	} {
		got := docItems(t, c.doc)
		if len(got) != len(c.want) {
			t.Errorf("%q: %d values, want %d: %+v", c.doc, len(got), len(c.want), got)
			continue
		}
		for i, w := range c.want {
			g := got[i]
			if string(g.data) != w.data || g.line != w.line || g.elem != w.elem || (w.bad == "") != (g.bad == "") || !strings.Contains(g.bad, w.bad) {
				t.Errorf("%q value %d: got data %q line %d elem %d bad %q; want %+v", c.doc, i, g.data, g.line, g.elem, g.bad, w)
			}
		}
	}
}

// TestJSONDocMatchesDecoder checks the reader against encoding/json on
// random arrays of records, compact and indented: the same values, in
// order, each at the line where it starts.
func TestJSONDocMatchesDecoder(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 9))
	lines := bytes.Split(bytes.TrimSpace(genJSONL(t, 300, 4)), []byte("\n"))
	for round := range 200 {
		recs := []json.RawMessage{}
		for range r.IntN(8) {
			recs = append(recs, lines[r.IntN(len(lines))])
		}
		var doc []byte
		var err error
		indent := round%2 == 1
		if indent {
			doc, err = json.MarshalIndent(recs, strings.Repeat(" ", r.IntN(3)), "\t")
		} else {
			doc, err = json.Marshal(recs)
		}
		if err != nil {
			t.Fatal(err)
		}
		got := docItems(t, string(doc))
		from := 0
		if len(got) != len(recs) {
			t.Fatalf("round %d: %d values, want %d", round, len(got), len(recs))
		}
		for i, it := range got {
			var a, b any
			if err := json.Unmarshal(it.data, &a); err != nil {
				t.Fatalf("round %d value %d: %v", round, i, err)
			}
			json.Unmarshal(recs[i], &b)
			if fmt.Sprint(a) != fmt.Sprint(b) || it.elem != i+1 || it.bad != "" {
				t.Fatalf("round %d value %d differs", round, i)
			}
			start := from + bytes.Index(doc[from:], it.data)
			from = start + len(it.data)
			if want := bytes.Count(doc[:start], []byte("\n")) + 1; it.line != want {
				t.Fatalf("round %d value %d at line %d, want %d", round, i, it.line, want)
			}
		}
	}
}

// TestJSONDocLong cuts a value over the line limit and goes on after it.
func TestJSONDocLong(t *testing.T) {
	big := `{"input":{"text":"` + strings.Repeat("x", loop.MaxLineBytes) + `"}}`
	got := docItems(t, "[\n"+big+",\n"+`{"a":1}`+"\n]")
	if len(got) != 2 || !got[0].long || len(got[0].data) != loop.MaxLineBytes || got[1].long || string(got[1].data) != `{"a":1}` || got[1].line != 3 {
		t.Fatalf("got %d values: long %v", len(got), got[0].long)
	}
}

func FuzzJSONDoc(f *testing.F) {
	for _, s := range []string{"[{\"a\":1},{\"b\":[2,{\"c\":\"]\"}]}]", "{\n\"a\": 1\n}\n{\"b\":2}", "[1,,]x", "[{\"a\":\"\\", "{\n}}}]]"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		form := formOf(doc)
		if form == formLines {
			doc, form = append([]byte("["), doc...), formArray
		}
		d := newJSONDoc(bytes.NewReader(doc), form)
		var elems []json.RawMessage
		broke := false
		for i := 0; ; i++ {
			if i > 2*len(doc)+1 {
				t.Fatalf("more than 2n+1 values: the reader loops")
			}
			it, err := d.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if it.bad != "" {
				broke = true
				continue
			}
			elems = append(elems, it.data)
		}
		// A document encoding/json reads as an array of objects is read
		// as its elements, unbroken.
		var want []json.RawMessage
		if form == formArray && json.Unmarshal(doc, &want) == nil && !broke {
			if len(want) != len(elems) {
				t.Fatalf("%d elements, encoding/json %d", len(elems), len(want))
			}
		} else if form == formArray && json.Unmarshal(doc, &want) == nil && broke && bytes.HasPrefix(bytes.TrimLeft(doc, " \t\r\n"), []byte("[")) {
			t.Fatalf("a valid array read as broken: %q", doc)
		}
	})
}

// TestReadJSONDocument puts a pretty-printed JSON array with a broken
// record and a missing comma through the pipeline: the others are
// stored, and the rejects name the line and element of each break.
func TestReadJSONDocument(t *testing.T) {
	lines := bytes.Split(bytes.TrimSpace(genJSONL(t, 40, 5)), []byte("\n"))
	var recs []map[string]any
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		if c, ok := m["consent"].(map[string]any); ok && c["analytics"] == false {
			continue
		}
		recs = append(recs, m)
		if len(recs) == 6 {
			break
		}
	}
	parts := make([]string, len(recs))
	for i, m := range recs {
		b, _ := json.MarshalIndent(m, "  ", "  ")
		parts[i] = "  " + string(b)
	}
	// Record 2 has an unterminated string; record 4 lacks its comma.
	parts[1] = strings.Replace(parts[1], `"model_version": "`, "\"model_version\": \"cut\n", 1)
	doc := "\xef\xbb\xbf[\n" + parts[0] + ",\n" + parts[1] + ",\n" + parts[2] + "\n" + parts[3] + ",\n" + parts[4] + ",\n" + parts[5] + "\n]\n"
	st := openStore(t)
	var rejects []Reject
	s, err := run(context.Background(), st, strings.NewReader(doc), ReadOptions{Name: "export.json", BatchSize: 2, OnReject: func(r Reject) { rejects = append(rejects, r) }})
	if err != nil {
		t.Fatal(err)
	}
	if s.Form != FormArray || s.Accepted != 5 || s.Rejected != 2 || s.Read != 7 {
		t.Fatalf("summary %+v", s)
	}
	if n, _ := st.Count(); n != 5 {
		t.Fatalf("stored %d, want 5", n)
	}
	startOf := func(i int) int { return strings.Count(doc[:strings.Index(doc, parts[i])], "\n") + 1 }
	if len(rejects) != 2 || rejects[0].Element != 2 || rejects[0].Line != startOf(1) || rejects[0].File != "export.json" ||
		rejects[1].Element != 0 || rejects[1].Line != startOf(3) || !strings.Contains(rejects[1].Error, "after element 3") {
		t.Fatalf("rejects %+v", rejects)
	}
	if !strings.Contains(rejects[0].Error, "control character") {
		t.Fatalf("the broken record's reject: %+v", rejects[0])
	}
}
