package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/loupe-dev/loupe/ingest/otlp"
	"github.com/loupe-dev/loupe/loop"
)

// MaxOTLPLine bounds one line of an OTLP JSON lines file: the collector's
// file exporter writes a whole export batch per line.
const MaxOTLPLine = 64 << 20

// ReasonOTLP is the reject reason of an OTLP line that could not be read,
// or some of whose spans or log records were refused.
const ReasonOTLP = "otlp_rejected"

// ReadOTLPFile reads OTLP JSON lines, what the OpenTelemetry Collector's
// file exporter writes: each line one ExportTraceServiceRequest or
// ExportLogsServiceRequest as JSON. Each line goes through Accept as a
// request to POST /v1/traces or /v1/logs would. Read counts lines;
// Accepted the interactions stored or replaced, Signals the judge signals
// (Pending of them ahead of their interaction), Withdrawn what consent
// withdrawn dropped; a line that cannot be read, or some of whose items
// were refused, counts as rejected (its valid items are still stored).
// o.BatchSize and o.Workers are not used.
func (o *OTLP) ReadOTLPFile(ctx context.Context, r io.Reader, ro ReadOptions) (Summary, error) {
	sum := Summary{Reasons: map[string]int{}}
	br := bufio.NewReaderSize(r, 1<<20)
	// A request pretty-printed (jq, a saved curl body), or an array of
	// them, is read by its values instead of its lines (jsonDoc).
	doc, form := documentOf(br)
	if doc != nil {
		doc.max = MaxOTLPLine
		sum.Form = form
	}
	var read int64
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		var line []byte
		var long bool
		var err error
		at, elem, bad := n, 0, ""
		if doc != nil {
			it, derr := doc.next()
			if errors.Is(derr, io.EOF) {
				break
			}
			if derr != nil {
				return sum, derr
			}
			line, long, at, elem, bad, read = it.data, it.long, it.line, it.elem, it.bad, doc.n
		} else {
			line, long, err = readLine(br, MaxOTLPLine)
			read += int64(len(line))
			if err == io.EOF && len(line) == 0 && !long {
				break
			}
			if err != nil && err != io.EOF {
				return sum, err
			}
		}
		sum.Read++
		line = bytes.TrimSuffix(line, []byte("\r"))
		if n == 1 {
			line = bytes.TrimPrefix(line, []byte("\xef\xbb\xbf"))
		}
		rejectLine := func(msg string, raw bool) {
			sum.Rejected++
			sum.Reasons[ReasonOTLP]++
			if ro.OnReject == nil {
				return
			}
			rj := Reject{File: ro.Name, Line: at, Element: elem, Reason: ReasonOTLP, Error: loop.MaskRaw([]byte(msg), RawLimit)}
			if raw {
				rj.Raw = loop.MaskRaw(line[:min(len(line), 2*RawLimit)], RawLimit)
			}
			ro.OnReject(rj)
		}
		switch {
		case bad != "":
			rejectLine(bad, false)
		case long:
			rejectLine(fmt.Sprintf("line is longer than %d MiB; skipped", MaxOTLPLine>>20), false)
		case len(bytes.TrimSpace(line)) == 0:
			sum.Blank++
		default:
			b, err := decodeOTLPLine(line, o.m.Attributes.Names())
			if err != nil {
				rejectLine(err.Error(), true)
				break
			}
			res, err := o.Accept(ctx, b)
			if err != nil {
				return sum, err
			}
			sum.Accepted += res.Interactions
			sum.Signals += res.Signals
			sum.Pending += res.Pending
			sum.Withdrawn += res.Withdrawn
			if res.Rejected > 0 {
				rejectLine(fmt.Sprintf("%d of %d items refused: %s", res.Rejected, res.Items, strings.Join(res.Errors, "; ")), false)
			}
		}
		if ro.Progress != nil {
			ro.Progress(n, read)
		}
		if err == io.EOF {
			break
		}
	}
	return sum, nil
}

// decodeOTLPLine reads one line as traces or logs, by its first key.
func decodeOTLPLine(line []byte, names []string) (otlp.Batch, error) {
	traces, ok := otlpJSONKind(line)
	if !ok {
		return otlp.Batch{}, errors.New("not an OTLP export request: want a JSON object with resourceSpans or resourceLogs (the collector's file exporter writes one per line)")
	}
	if traces {
		td, err := otlp.DecodeTraces(line, otlp.JSON)
		if err != nil {
			return otlp.Batch{}, err
		}
		return otlp.Traces(td, names), nil
	}
	ld, err := otlp.DecodeLogs(line, otlp.JSON)
	if err != nil {
		return otlp.Batch{}, err
	}
	return otlp.Logs(ld), nil
}

// otlpJSONKind reports whether v is OTLP JSON, an object whose first key
// is resourceSpans (traces) or resourceLogs (logs; also in their
// snake_case forms), and which.
func otlpJSONKind(v []byte) (traces, ok bool) {
	t := bytes.TrimLeft(v, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return false, false
	}
	key := bytes.TrimLeft(t[1:], " \t\r\n")
	for _, k := range []string{`"resourceSpans"`, `"resource_spans"`} {
		if bytes.HasPrefix(key, []byte(k)) {
			return true, true
		}
	}
	for _, k := range []string{`"resourceLogs"`, `"resource_logs"`} {
		if bytes.HasPrefix(key, []byte(k)) {
			return false, true
		}
	}
	return false, false
}

// readLine reads up to '\n'; a line over max is read to its end and
// reported long with only its start kept.
func readLine(br *bufio.Reader, max int) ([]byte, bool, error) {
	var out []byte
	long := false
	for {
		chunk, err := br.ReadSlice('\n')
		if len(out)+len(chunk) > max {
			long = true
		} else {
			out = append(out, chunk...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(out, []byte("\n")), long, err
	}
}
