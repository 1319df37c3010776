package store

import (
	"encoding/binary"
	"errors"
	"math"
	"time"
	"unsafe"

	"github.com/loupe-dev/loupe/loop"
)

// summaryCodec is version 1 of the summary value:
//
//	1 version · 1 thumb · 1 flags · 4 toxicity · 4 confidence ·
//	4 latency ms · 1 resolved ·
//	strings model, segment, task, locale, snippet (uvarint length + bytes) ·
//	uvarint reason count, then each reason as a string.
//
// The id and time live in the key, not the value.
const summaryV1 = 1

var errBadSummary = errors.New("store: corrupt summary record")

func encodeSummary(dst []byte, s *loop.Summary) []byte {
	flags := s.Flags()
	dst = append(dst, summaryV1, byte(s.Thumb), flags)
	dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(s.Toxicity))
	dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(s.Confidence))
	dst = binary.BigEndian.AppendUint32(dst, math.Float32bits(s.LatencyMS))
	dst = append(dst, byte(s.Resolved))
	for _, str := range [...]string{s.Model, s.Segment, s.Task, s.Locale, s.Snippet} {
		dst = appendString(dst, str)
	}
	dst = binary.AppendUvarint(dst, uint64(len(s.Reasons)))
	for _, r := range s.Reasons {
		dst = appendString(dst, r)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// decodeSummary fills s from a value; id and t come from the key. Strings are
// copied, so the value buffer may be reused.
func decodeSummary(v []byte, id string, t time.Time, s *loop.Summary) error {
	return decodeSummaryIn(v, id, t, s, nil)
}

// decodeSummaryIn is decodeSummary sharing categorical strings through in
// (nil: plain copies).
func decodeSummaryIn(v []byte, id string, t time.Time, s *loop.Summary, in interner) error {
	return decodeSummaryTo(v, id, t, s, in.bytes, func(b []byte) string { return string(b) }, nil)
}

// decodeSummaryView is decodeSummary without copying: s's strings are views
// of v and reasons' backing array is reused for s.Reasons, so s is only
// valid while v is (a scan that copies what it keeps, as the inbox's
// builder does).
func decodeSummaryView(v []byte, id string, t time.Time, s *loop.Summary, reasons []string) error {
	return decodeSummaryTo(v, id, t, s, viewOf, viewOf, reasons[:0])
}

func viewOf(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// decodeSummaryTo decodes v into s, making categorical strings (model,
// segment, task, locale, reasons) with cat and the snippet with text;
// reasons are appended to reasons (nil: a new slice).
func decodeSummaryTo(v []byte, id string, t time.Time, s *loop.Summary, cat, text func([]byte) string, reasons []string) error {
	if len(v) < 16 || v[0] != summaryV1 {
		return errBadSummary
	}
	*s = loop.Summary{ID: id, Time: t, Thumb: loop.Thumb(int8(v[1]))}
	s.SetFlags(v[2])
	s.Toxicity = math.Float32frombits(binary.BigEndian.Uint32(v[3:]))
	s.Confidence = math.Float32frombits(binary.BigEndian.Uint32(v[7:]))
	s.LatencyMS = math.Float32frombits(binary.BigEndian.Uint32(v[11:]))
	s.Resolved = int8(v[15])
	rest := v[16:]
	var err error
	for i, p := range [...]*string{&s.Model, &s.Segment, &s.Task, &s.Locale, &s.Snippet} {
		var b []byte
		if b, rest, err = readBytes(rest); err != nil {
			return err
		}
		if i < 4 {
			*p = cat(b)
		} else {
			*p = text(b)
		}
	}
	n, k := binary.Uvarint(rest)
	if k <= 0 || n > uint64(len(rest)) {
		return errBadSummary
	}
	rest = rest[k:]
	if n > 0 {
		if reasons == nil {
			reasons = make([]string, 0, n)
		}
		for range n {
			var b []byte
			if b, rest, err = readBytes(rest); err != nil {
				return err
			}
			reasons = append(reasons, cat(b))
		}
		s.Reasons = reasons
	}
	if len(rest) != 0 {
		return errBadSummary
	}
	return nil
}

func readBytes(b []byte) ([]byte, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, errBadSummary
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// tsBytes encodes t so that byte order is time order.
func tsBytes(dst []byte, t time.Time) []byte {
	return binary.BigEndian.AppendUint64(dst, uint64(t.UnixNano())^(1<<63))
}

func tsFrom(b []byte) time.Time {
	return time.Unix(0, int64(binary.BigEndian.Uint64(b)^(1<<63))).UTC()
}

// interner shares the few distinct values of a summary's categorical
// fields (model, segment, task, locale, reason codes) across a million
// summaries, instead of a copy each. A nil interner copies.
type interner map[string]string

func newInterner() interner { return interner{} }

func (in interner) bytes(b []byte) string {
	if in == nil {
		return string(b)
	}
	if v, ok := in[string(b)]; ok { // no allocation for the lookup
		return v
	}
	s := string(b)
	if len(in) < 1<<16 {
		in[s] = s
	}
	return s
}
