package otlp

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/collector/pdata/ptrace"
	"go.opentelemetry.io/collector/pdata/ptrace/ptraceotlp"
)

// Encoding is an OTLP/HTTP body encoding.
type Encoding int

const (
	Protobuf Encoding = iota
	JSON
)

// ContentType is the media type of e.
func (e Encoding) ContentType() string {
	if e == JSON {
		return "application/json"
	}
	return "application/x-protobuf"
}

// ErrTooLarge is a body (after inflating) over the limit.
var ErrTooLarge = errors.New("body too large")

// UnsupportedError is a content type or encoding OTLP/HTTP does not have.
type UnsupportedError struct{ Msg string }

func (e *UnsupportedError) Error() string { return e.Msg }

// RequestEncoding reads the body's encoding from its Content-Type.
func RequestEncoding(contentType string) (Encoding, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch strings.ToLower(mt) {
	case "application/x-protobuf", "application/protobuf":
		return Protobuf, nil
	case "application/json":
		return JSON, nil
	}
	return 0, &UnsupportedError{fmt.Sprintf("Content-Type %q is not OTLP/HTTP: send application/x-protobuf or application/json", contentType)}
}

// ReadBody reads the request body, inflating gzip, and refuses one whose
// bytes on the wire or inflated exceed max (ErrTooLarge): a small body
// that inflates to gigabytes is stopped at max.
func ReadBody(r *http.Request, w http.ResponseWriter, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, ErrTooLarge
	}
	var rd io.Reader = http.MaxBytesReader(w, r.Body, max)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, tooLargeOr(err, fmt.Errorf("gzip body: %w", err))
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, &UnsupportedError{"Content-Encoding " + enc + " is not supported: send gzip or no encoding"}
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(rd, max+1))
	if err != nil {
		return nil, tooLargeOr(err, fmt.Errorf("reading the body: %w", err))
	}
	if n > max {
		return nil, ErrTooLarge
	}
	return buf.Bytes(), nil
}

func tooLargeOr(err, other error) error {
	var mb *http.MaxBytesError
	if errors.As(err, &mb) {
		return ErrTooLarge
	}
	return other
}

// DecodeTraces reads an ExportTraceServiceRequest.
func DecodeTraces(body []byte, e Encoding) (ptrace.Traces, error) {
	req := ptraceotlp.NewExportRequest()
	if err := unmarshal(req, body, e, "ExportTraceServiceRequest"); err != nil {
		return ptrace.Traces{}, err
	}
	return req.Traces(), nil
}

// DecodeLogs reads an ExportLogsServiceRequest.
func DecodeLogs(body []byte, e Encoding) (plog.Logs, error) {
	req := plogotlp.NewExportRequest()
	if err := unmarshal(req, body, e, "ExportLogsServiceRequest"); err != nil {
		return plog.Logs{}, err
	}
	return req.Logs(), nil
}

// request is what pdata's OTLP export requests have in common.
type request interface {
	UnmarshalJSON([]byte) error
	UnmarshalProto([]byte) error
}

// unmarshal reads body into req in encoding e; the error names the message.
func unmarshal(req request, body []byte, e Encoding, message string) error {
	var err error
	if e == JSON {
		err = req.UnmarshalJSON(body)
	} else {
		err = req.UnmarshalProto(body)
	}
	if err != nil {
		return fmt.Errorf("not an OTLP %s (%s): %v", message, e.name(), err)
	}
	return nil
}

func (e Encoding) name() string {
	if e == JSON {
		return "JSON"
	}
	return "protobuf"
}

// TracesResponse encodes an ExportTraceServiceResponse; rejected > 0 sets
// its partial_success.
func TracesResponse(e Encoding, rejected int, msg string) ([]byte, error) {
	resp := ptraceotlp.NewExportResponse()
	if rejected > 0 || msg != "" {
		ps := resp.PartialSuccess()
		ps.SetRejectedSpans(int64(rejected))
		ps.SetErrorMessage(msg)
	}
	if e == JSON {
		return resp.MarshalJSON()
	}
	return resp.MarshalProto()
}

// LogsResponse encodes an ExportLogsServiceResponse.
func LogsResponse(e Encoding, rejected int, msg string) ([]byte, error) {
	resp := plogotlp.NewExportResponse()
	if rejected > 0 || msg != "" {
		ps := resp.PartialSuccess()
		ps.SetRejectedLogRecords(int64(rejected))
		ps.SetErrorMessage(msg)
	}
	if e == JSON {
		return resp.MarshalJSON()
	}
	return resp.MarshalProto()
}
