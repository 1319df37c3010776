// Package ingest is loupe's intake: the one Pipeline that every source of
// records goes through (see Pipeline), the JSONL reader of `loupe ingest`
// (ReadJSONL) and the HTTP collector of `loupe serve` (Collector). Records
// are decoded, validated, consent-gated and masked (package loop), then
// written idempotently and durably (package store). Everything here that
// does I/O lives in this package, so that package loop stays pure.
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
	// Signals counts the signals stored (Accepted counts interactions);
	// Pending how many of them were stored ahead of their interaction, to
	// be applied when it comes; Withdrawn the records dropped because
	// their user withdrew consent for the event (not an error).
	Signals   int `json:"signals"`
	Pending   int `json:"pending"`
	Withdrawn int `json:"withdrawn"`
	// Edge sampling (intake.keep): Aggregated counts the records (new
	// interactions and signals) counted in the aggregates but not stored
	// in full, Dropped the signals for such interactions that carried
	// nothing the aggregates count. Neither is an error.
	Aggregated int `json:"aggregated"`
	Dropped    int `json:"dropped"`
	// Form is how the input held its records when it was not JSONL:
	// FormArray or FormValues (jsonDoc); Read then counts records, not
	// lines.
	Form string `json:"form,omitempty"`
}

// The forms of a JSON document (Summary.Form).
const (
	FormArray  = "json_array"
	FormValues = "json_values"
)

// Add folds o into s.
func (s *Summary) Add(o Summary) {
	s.Read += o.Read
	s.Accepted += o.Accepted
	s.Duplicates += o.Duplicates
	s.Rejected += o.Rejected
	s.Blank += o.Blank
	s.Signals += o.Signals
	s.Pending += o.Pending
	s.Withdrawn += o.Withdrawn
	s.Aggregated += o.Aggregated
	s.Dropped += o.Dropped
	if o.Form != "" {
		s.Form = o.Form
	}
	for k, v := range o.Reasons {
		if s.Reasons == nil {
			s.Reasons = map[string]int{}
		}
		s.Reasons[k] += v
	}
}

// count folds one outcome into s. Read counts every item but blank ones,
// which readers count themselves as they see them; Submit's items are all
// counted.
func (s *Summary) count(o Outcome) {
	switch o.Status {
	case Accepted:
		if o.Signal {
			s.Signals++
		} else {
			s.Accepted++
		}
	case Pending:
		s.Signals++
		s.Pending++
	case Withdrawn:
		s.Withdrawn++
	case Aggregated:
		s.Aggregated++
	case Dropped:
		s.Dropped++
	case Duplicate:
		s.Duplicates++
	case Blank:
		s.Blank++
	case Rejected:
		s.Rejected++
		if s.Reasons == nil {
			s.Reasons = map[string]int{}
		}
		s.Reasons[o.Err.Reason]++
	}
}

// Malformed counts rejections caused by the input itself, i.e. all but
// consent withheld (a user's choice, not bad data).
func (s *Summary) Malformed() int { return s.Rejected - s.Reasons[loop.ReasonNoConsent] }

// Reject is one rejected input line. The JSON keys are part of the CLI
// contract (the rejects file). Raw is masked and cut to 4 KiB; it is empty
// when the user withheld consent, since nothing of such an event may be kept.
type Reject struct {
	File string `json:"file,omitempty"`
	Line int    `json:"line"`
	// Element is the record's 1-based place in a JSON document (an
	// array's element); 0, and left out, for JSONL.
	Element int    `json:"element,omitempty"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
	Raw     string `json:"raw,omitempty"`
}

// RawLimit is how much of a rejected line a Reject keeps.
const RawLimit = 4 << 10

// ReadOptions are the options of ReadJSONL.
type ReadOptions struct {
	Name      string       // the input's name for rejects ("-" for stdin)
	OnReject  func(Reject) // called in line order; may be nil
	Progress  func(lines int, bytes int64)
	BatchSize int // records per store batch; default 1000
	Workers   int // default GOMAXPROCS
}

type batch struct {
	items []Item
	res   []prepared
	done  chan struct{}
}

// ReadJSONL puts the JSONL stream r through the pipeline: one reader cuts
// it into batches of lines, workers decode, validate and mask batches in
// parallel, and one writer stores them in line order. It returns what it
// counted even on error; the error is about reading or storing, never
// about a bad line (those are rejects).
func (p *Pipeline) ReadJSONL(ctx context.Context, r io.Reader, o ReadOptions) (Summary, error) {
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
				b.res = make([]prepared, len(b.items))
				for i := range b.items {
					b.res[i] = p.prepare(b.items[i])
				}
				close(b.done)
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
		outs, err := p.write(b.res)
		for i, out := range outs {
			sum.count(out)
			if out.Status == Rejected && o.OnReject != nil {
				o.OnReject(NewReject(b.items[i], out.Err))
			}
		}
		if err != nil {
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
func readLines(ctx context.Context, r io.Reader, o ReadOptions, sum *Summary, send func(*batch) bool) error {
	br := bufio.NewReaderSize(r, 256<<10)
	n := 0
	var total int64
	cur := &batch{done: make(chan struct{})}
	flush := func() bool {
		if len(cur.items) == 0 {
			return true
		}
		ok := send(cur)
		cur = &batch{done: make(chan struct{})}
		if o.Progress != nil {
			o.Progress(n, total)
		}
		return ok
	}
	if d, form := documentOf(br); d != nil {
		sum.Form = form
		return readDocument(ctx, d, o, sum, func(it Item) bool {
			cur.items = append(cur.items, it)
			return len(cur.items) < o.BatchSize || flush()
		}, func(lines int, bytes int64) { n, total = lines, bytes }, flush)
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
			cur.items = append(cur.items, Item{Data: bytes.Clone(data), Source: o.Name, Line: n, Long: isLong})
			if len(cur.items) >= o.BatchSize && !flush() {
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

// readDocument is readLines for an input that is a JSON document
// (jsonDoc): each value one item, at the line where it starts; sum.Read
// counts the values. add takes an item (false: stop), at tells the
// progress where the reader is, flush sends the last batch.
func readDocument(ctx context.Context, d *jsonDoc, o ReadOptions, sum *Summary, add func(Item) bool, at func(lines int, bytes int64), flush func() bool) error {
	for ctx.Err() == nil {
		v, err := d.next()
		if errors.Is(err, io.EOF) {
			break
		}
		at(d.line, d.n)
		if err != nil {
			flush()
			return err
		}
		sum.Read++
		if !add(Item{Data: v.data, Source: o.Name, Line: v.line, Element: v.elem, Long: v.long, Bad: v.bad}) {
			return nil
		}
	}
	flush()
	return nil
}

// consentWithheld finds "analytics": false in a line that was refused
// before its consent was read (malformed, or invalid elsewhere). It errs on
// the side of keeping less: at worst a rejects entry loses its raw text.
var consentWithheld = regexp.MustCompile(`"analytics"\s*:\s*false`)

// NewReject is the rejects-file entry of an item refused with err: the
// message and the raw record masked (nothing of the record when its user
// withheld consent) and cut to RawLimit.
func NewReject(it Item, err *loop.InputError) Reject {
	msg := err.Error()
	withheld := err.Reason == loop.ReasonNoConsent || consentWithheld.Match(it.Data)
	if withheld && err.Reason != loop.ReasonNoConsent {
		// A line refused for another reason whose user withheld consent:
		// keep why, but nothing of its content (messages may quote a value).
		msg = err.Reason + " (consent.analytics is false: nothing of the line is kept)"
		if err.Path != "" {
			msg = err.Path + ": " + msg
		}
	}
	rj := Reject{File: it.Source, Line: it.Line, Element: it.Element, Reason: err.Reason, Error: loop.MaskRaw([]byte(msg), RawLimit)}
	if !withheld {
		data := it.Data
		if it.Long {
			// Cut at a space well before the limit so no entity is split
			// before masking.
			data = data[:min(len(data), 2*RawLimit)]
			if i := bytes.LastIndexAny(data, " \t,"); i > 0 {
				data = data[:i]
			}
		}
		rj.Raw = loop.MaskRaw(data, RawLimit)
	}
	return rj
}
