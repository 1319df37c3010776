// Package ingest reads JSONL feedback into a store: lines are decoded,
// validated, consent-gated and masked in parallel (package loop), then
// written in order, in batches, by one writer (package store).
package ingest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"regexp"
	"runtime"
	"sync"

	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/store"
)

// Summary counts what happened to the input. The JSON keys are part of the
// CLI contract (`loupe ingest --json`).
type Summary struct {
	Read       int            `json:"read"`
	Accepted   int            `json:"accepted"`
	Duplicates int            `json:"duplicates"`
	Rejected   int            `json:"rejected"`
	Blank      int            `json:"blank"`
	Reasons    map[string]int `json:"reasons"`
}

// Add folds o into s.
func (s *Summary) Add(o Summary) {
	s.Read += o.Read
	s.Accepted += o.Accepted
	s.Duplicates += o.Duplicates
	s.Rejected += o.Rejected
	s.Blank += o.Blank
	for k, v := range o.Reasons {
		if s.Reasons == nil {
			s.Reasons = map[string]int{}
		}
		s.Reasons[k] += v
	}
}

// Malformed counts rejections caused by the input itself, i.e. all but
// consent withheld (a user's choice, not bad data).
func (s *Summary) Malformed() int { return s.Rejected - s.Reasons[loop.ReasonNoConsent] }

// Reject is one rejected input line. The JSON keys are part of the CLI
// contract (the rejects file). Raw is masked and cut to 4 KiB; it is empty
// when the user withheld consent, since nothing of such an event may be kept.
type Reject struct {
	File   string `json:"file,omitempty"`
	Line   int    `json:"line"`
	Reason string `json:"reason"`
	Error  string `json:"error"`
	Raw    string `json:"raw,omitempty"`
}

// RawLimit is how much of a rejected line a Reject keeps.
const RawLimit = 4 << 10

// Options for Run.
type Options struct {
	Name      string       // the input's name for rejects ("-" for stdin)
	OnReject  func(Reject) // called in line order; may be nil
	Progress  func(lines int, bytes int64)
	BatchSize int // events per store batch; default 1000
	Workers   int // default GOMAXPROCS
}

type line struct {
	n    int
	data []byte
	long bool // longer than loop.MaxLineBytes; data holds its start only
}

type result struct {
	rec store.Record
	ok  bool
	err *loop.InputError
}

type batch struct {
	lines []line
	res   []result
	done  chan struct{}
}

// Run ingests r into st. It returns what it counted even on error; the error
// is about reading or storing, never about a bad line (those are rejects).
func Run(ctx context.Context, st *store.Store, r io.Reader, o Options) (Summary, error) {
	if o.BatchSize <= 0 {
		o.BatchSize = 1000
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	sum := Summary{Reasons: map[string]int{}}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	work := make(chan *batch, o.Workers*2)
	ordered := make(chan *batch, o.Workers*2)
	var wg sync.WaitGroup
	for i := 0; i < o.Workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range work {
				process(b, st.UserHash)
			}
		}()
	}
	var readErr error
	go func() {
		defer close(ordered)
		defer close(work)
		readErr = readLines(ctx, r, o, &sum, func(b *batch) bool {
			select {
			case ordered <- b:
			case <-ctx.Done():
				return false
			}
			select {
			case work <- b:
				return true
			case <-ctx.Done():
				close(b.done) // never processed; the writer skips it
				return false
			}
		})
	}()

	var storeErr error
	for b := range ordered {
		<-b.done
		if storeErr != nil || ctx.Err() != nil {
			continue // drain
		}
		if err := write(st, b, &sum, o); err != nil {
			storeErr = err
			cancel()
		}
	}
	wg.Wait()
	if storeErr != nil {
		return sum, storeErr
	}
	if readErr != nil {
		return sum, readErr
	}
	return sum, context.Cause(ctx)
}

// readLines splits r into lines, counts blank ones and hands the rest out in
// batches. A line over the limit is skipped to its end and passed on marked.
func readLines(ctx context.Context, r io.Reader, o Options, sum *Summary, send func(*batch) bool) error {
	br := bufio.NewReaderSize(r, 256<<10)
	n := 0
	var total int64
	cur := &batch{done: make(chan struct{})}
	flush := func() bool {
		if len(cur.lines) == 0 {
			return true
		}
		ok := send(cur)
		cur = &batch{done: make(chan struct{})}
		if o.Progress != nil {
			o.Progress(n, total)
		}
		return ok
	}
	var long []byte
	for {
		if ctx.Err() != nil {
			return nil
		}
		chunk, err := br.ReadSlice('\n')
		total += int64(len(chunk))
		if errors.Is(err, bufio.ErrBufferFull) {
			// Part of a long line: keep what a long line may keep.
			if len(long) <= loop.MaxLineBytes {
				long = append(long, chunk...)
			}
			continue
		}
		if len(chunk) == 0 && err == io.EOF && long == nil {
			break
		}
		n++
		sum.Read++
		data := chunk
		isLong := false
		if long != nil {
			if len(long) <= loop.MaxLineBytes {
				long = append(long, chunk...)
			}
			data, long = long, nil
		}
		data = bytes.TrimSuffix(data, []byte("\n"))
		data = bytes.TrimSuffix(data, []byte("\r"))
		if n == 1 {
			data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // BOM
		}
		if len(data) > loop.MaxLineBytes {
			isLong = true
			data = data[:loop.MaxLineBytes]
		}
		if len(bytes.TrimSpace(data)) == 0 && !isLong {
			sum.Blank++
		} else {
			cur.lines = append(cur.lines, line{n: n, data: bytes.Clone(data), long: isLong})
			if len(cur.lines) >= o.BatchSize && !flush() {
				return nil
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			flush()
			return err
		}
	}
	flush()
	return nil
}

func process(b *batch, userHash func(string) string) {
	defer close(b.done)
	b.res = make([]result, len(b.lines))
	for i, l := range b.lines {
		if l.long {
			b.res[i] = result{err: &loop.InputError{Reason: loop.ReasonLineTooLong, Msg: "line is longer than 1 MiB; skipped"}}
			continue
		}
		in, err := loop.DecodeEvent(l.data)
		if err == nil {
			var ev *loop.Event
			if ev, err = loop.Prepare(in, userHash); err == nil {
				rec, rerr := store.NewRecord(ev)
				if rerr == nil {
					b.res[i] = result{rec: rec, ok: true}
					continue
				}
				err = &loop.InputError{Reason: loop.ReasonInvalidField, Msg: rerr.Error()}
			}
		}
		b.res[i] = result{err: err.(*loop.InputError)}
	}
}

func write(st *store.Store, b *batch, sum *Summary, o Options) error {
	var recs []store.Record
	for _, r := range b.res {
		if r.ok {
			recs = append(recs, r.rec)
		}
	}
	var status []store.PutStatus
	if len(recs) > 0 {
		var err error
		status, err = st.PutRecords(recs)
		if err != nil {
			// Count what did land before the failure, then stop.
			for _, s := range status {
				if s == store.Stored {
					sum.Accepted++
				}
			}
			return err
		}
	}
	next := 0 // status holds the stored records' outcomes in line order
	for i, r := range b.res {
		if r.ok {
			st := status[next]
			next++
			switch st {
			case store.Stored:
				sum.Accepted++
			case store.Duplicate:
				sum.Duplicates++
			case store.Conflict:
				reject(sum, o, b.lines[i], &loop.InputError{Reason: loop.ReasonConflict, Path: "event_id",
					Msg: "an event with this id and different content is already stored; the stored event was kept"})
			}
			continue
		}
		reject(sum, o, b.lines[i], r.err)
	}
	return nil
}

// consentWithheld finds "analytics": false in a line that was refused
// before its consent was read (malformed, or invalid elsewhere). It errs on
// the side of keeping less: at worst a rejects entry loses its raw text.
var consentWithheld = regexp.MustCompile(`"analytics"\s*:\s*false`)

func reject(sum *Summary, o Options, l line, err *loop.InputError) {
	sum.Rejected++
	sum.Reasons[err.Reason]++
	if o.OnReject == nil {
		return
	}
	msg := err.Error()
	withheld := err.Reason == loop.ReasonNoConsent || consentWithheld.Match(l.data)
	if withheld && err.Reason != loop.ReasonNoConsent {
		// A line refused for another reason whose user withheld consent:
		// keep why, but nothing of its content (messages may quote a value).
		msg = err.Reason + " (consent.analytics is false: nothing of the line is kept)"
		if err.Path != "" {
			msg = err.Path + ": " + msg
		}
	}
	rj := Reject{File: o.Name, Line: l.n, Reason: err.Reason, Error: loop.MaskRaw([]byte(msg), RawLimit)}
	if !withheld {
		data := l.data
		if l.long {
			// Cut at a space well before the limit so no entity is split
			// before masking.
			data = data[:min(len(data), 2*RawLimit)]
			if i := bytes.LastIndexAny(data, " \t,"); i > 0 {
				data = data[:i]
			}
		}
		rj.Raw = loop.MaskRaw(data, RawLimit)
	}
	o.OnReject(rj)
}
