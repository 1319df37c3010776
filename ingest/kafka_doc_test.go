package ingest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/loupe-dev/loupe/loop"
)

// TestKafkaJSONDocuments: values that are JSON documents rather than
// NDJSON, as producers write them: an array of records (as loupe's HTTP API
// takes), a record indented across lines, and an indented array with a
// broken record. Every valid record is stored; the rejects name the
// offset, the line where the record starts and its element.
func TestKafkaJSONDocuments(t *testing.T) {
	rec := func(id string) map[string]any {
		return map[string]any{"event_id": id, "timestamp": "2026-11-01T10:00:00Z", "model_version": "m1",
			"input": map[string]any{"text": "hi"}, "output": map[string]any{"text": "yo"}}
	}
	compact, _ := json.Marshal([]any{rec("arr-1"), rec("arr-2"), rec("arr-3")})
	indented, _ := json.MarshalIndent(rec("indented-1"), "", "  ")
	a, _ := json.MarshalIndent(rec("doc-1"), "  ", "  ")
	b, _ := json.MarshalIndent(rec("doc-2"), "  ", "  ")
	c, _ := json.MarshalIndent(rec("doc-3"), "  ", "  ")
	broken := strings.Replace(string(b), `"model_version": "`, "\"model_version\": \"cut\n", 1)
	brokenArray := "[\n  " + string(a) + ",\n  " + broken + ",\n  " + string(c) + "\n]"
	st, k, rej, _ := consumeValues(t, [][]byte{compact, indented, []byte(brokenArray), []byte("[]")})

	var ids []string
	st.Summaries(func(s loop.Summary) bool {
		ids = append(ids, s.ID)
		return true
	})
	sort.Strings(ids)
	if got := strings.Join(ids, " "); got != "arr-1 arr-2 arr-3 doc-1 doc-3 indented-1" {
		t.Fatalf("stored %s", got)
	}
	s := k.State()
	if s.Records != 4 || s.Accepted != 6 || s.Rejected != 1 {
		t.Fatalf("state %+v", s)
	}
	var r KafkaReject
	if err := json.Unmarshal([]byte(strings.TrimSpace(rej.b.String())), &r); err != nil {
		t.Fatalf("rejects %q: %v", rej.b.String(), err)
	}
	wantLine := strings.Count(brokenArray[:strings.Index(brokenArray, broken)], "\n") + 1
	if r.Offset != 2 || r.Element != 2 || r.Line != wantLine || r.Reason != loop.ReasonInvalidJSON || !strings.Contains(r.Raw, "doc-2") {
		t.Fatalf("reject %+v, want offset 2, element 2, line %d", r, wantLine)
	}
}

// TestKafkaConnectEnvelope: values as Kafka Connect's JsonConverter writes
// them with schemas.enable (its default), the record as the payload, an
// object or a string holding one, are stored as the record; a loupe
// record whose first key happens to be "schema" is read as it is.
func TestKafkaConnectEnvelope(t *testing.T) {
	rec := `{"event_id":"%s","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","input":{"text":"hi"},"output":{"text":"yo"}}`
	obj := `{"schema":{"type":"struct","optional":false},"payload":` + fmt.Sprintf(rec, "connect-1") + `}`
	str, _ := json.Marshal(fmt.Sprintf(rec, "connect-2"))
	strEnv := `{"schema":{"type":"string","optional":false},"payload":` + string(str) + `}`
	own := `{"schema":"v1","event_id":"own-1","timestamp":"2026-11-01T10:00:00Z","model_version":"m1","input":{"text":"hi"},"output":{"text":"yo"}}`
	notRecord := `{"schema":{"type":"int32"},"payload":42}`
	st, k, rej, _ := consumeValues(t, [][]byte{[]byte(obj), []byte(strEnv), []byte(own), []byte(notRecord)})
	var ids []string
	st.Summaries(func(s loop.Summary) bool {
		ids = append(ids, s.ID)
		return true
	})
	sort.Strings(ids)
	if got := strings.Join(ids, " "); got != "connect-1 connect-2 own-1" {
		t.Fatalf("stored %s; state %+v; rejects %s", got, k.State(), rej.b.String())
	}
	if s := k.State(); s.Rejected != 1 {
		t.Fatalf("state %+v: want the envelope of a number rejected", s)
	}
}
