package ingest

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"

	"github.com/loupe-dev/loupe/ingest/otlp"
	"github.com/loupe-dev/loupe/loop"
	"github.com/loupe-dev/loupe/loop/config"
	"github.com/loupe-dev/loupe/loop/genai"
)

// DefaultKafkaGroup is the consumer group of a Kafka source that names none.
const DefaultKafkaGroup = "loupe"

// KafkaOptions configure a Kafka source.
type KafkaOptions struct {
	Brokers []string // host:port seeds
	// Topic is the topic consumed, or several separated by commas (an
	// OpenTelemetry Collector's Kafka exporter writes traces and logs to
	// two: otlp_spans and otlp_logs).
	Topic string
	Group string // consumer group; default DefaultKafkaGroup

	TLS  *tls.Config    // nil: plaintext
	SASL sasl.Mechanism // nil: no authentication

	// Rejects receives one JSON line (KafkaReject) per refused record or
	// NDJSON line. When it has a Sync method, it is synced before the
	// offsets of the records it names are committed. Nil: counted only.
	Rejects io.Writer

	// MaxBuffered bounds the records held per partition (queued and being
	// stored); past it the partition's fetching pauses until its worker has
	// caught up. Default 8192.
	MaxBuffered int
	// MaxBufferedBytes bounds the same by the records' value bytes.
	// Default 32 MiB.
	MaxBufferedBytes int64
	// BatchSize is the most items handed to one Submit. Default 2000.
	BatchSize int
	// CommitInterval is how often the offsets of durable records are
	// committed. Default 1s.
	CommitInterval time.Duration
	// AssignWait is how long after the start a source that has no
	// partition says why (watchAssignment). Default 10s.
	AssignWait time.Duration
	// Logf reports connection trouble and store errors; may be nil.
	Logf func(format string, args ...any)
	// OTLP takes the values that are OTLP export requests, traces or
	// logs, as the OpenTelemetry Collector's Kafka exporter writes them
	// (encoding otlp_proto, its default, or otlp_json). Nil: a source of
	// its own on the pipeline with the default mapping, when the
	// submitter is a *Pipeline. Give the collector's (Collector.OTLP) when
	// both run, so that one source assembles each trace.
	OTLP *OTLP
	// ClientOpts are added to the client's options (tests).
	ClientOpts []kgo.Opt
}

// KafkaReject is one refused Kafka record (or one line of an NDJSON
// record). The JSON keys are part of the CLI contract (the Kafka rejects
// file). Line is the 1-based line within the record's value. Raw is masked
// and cut to RawLimit; empty when the user withheld consent.
type KafkaReject struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Offset    int64  `json:"offset"`
	Line      int    `json:"line"`
	// Element is the record's 1-based place in a value that is a JSON
	// array (or records across lines); left out for NDJSON.
	Element int    `json:"element,omitempty"`
	Reason  string `json:"reason"`
	Error   string `json:"error"`
	Raw     string `json:"raw,omitempty"`
}

// Kafka consumes one topic as a member of a consumer group and hands every
// record to a Submitter. Each assigned partition has its own worker, so
// partitions are stored in parallel and in offset order each. An offset is
// marked for commit only once Submit has returned for its record (and the
// rejects it caused are synced), so delivery is at least once; the store's
// idempotent ids make the result exactly once.
type Kafka struct {
	o   KafkaOptions
	sub Submitter

	// topics are the topics of o.Topic.
	topics []string

	mu    sync.Mutex
	parts map[tp]*kpart
	// known keeps the last offsets of partitions no longer assigned, so
	// that metrics and the saved state still show them.
	known map[tp]partState

	rejMu sync.Mutex

	// caughtUp asks Run to commit now: a partition's worker stored up to
	// the end it last saw (see storeLoop).
	caughtUp chan struct{}

	m kafkaCounters
}

type kafkaCounters struct {
	records     atomic.Int64 // Kafka records done (stored or refused)
	items       atomic.Int64 // JSON records in them
	accepted    atomic.Int64
	duplicates  atomic.Int64
	signals     atomic.Int64
	withdrawn   atomic.Int64
	blank       atomic.Int64
	storeErrors atomic.Int64
	pauses      atomic.Int64

	mu      sync.Mutex
	reasons map[string]int64
	rate    rateRing
}

// tp names one partition of one topic.
type tp struct {
	topic string
	part  int32
}

// NewKafka returns a Kafka source; Run starts it.
func NewKafka(sub Submitter, o KafkaOptions) (*Kafka, error) {
	if len(o.Brokers) == 0 {
		return nil, errors.New("kafka: no brokers")
	}
	topics, err := config.KafkaTopics(o.Topic)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	o.Topic = strings.Join(topics, ",")
	if o.Group == "" {
		o.Group = DefaultKafkaGroup
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = 8192
	}
	if o.MaxBufferedBytes <= 0 {
		o.MaxBufferedBytes = 32 << 20
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 2000
	}
	if o.CommitInterval <= 0 {
		o.CommitInterval = time.Second
	}
	if o.AssignWait <= 0 {
		o.AssignWait = 10 * time.Second
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
	}
	if p, ok := sub.(*Pipeline); ok && o.OTLP == nil {
		o.OTLP = NewOTLP(p, genai.DefaultMapping())
	}
	k := &Kafka{o: o, sub: sub, topics: topics, parts: map[tp]*kpart{}, known: map[tp]partState{}, caughtUp: make(chan struct{}, 1)}
	k.m.reasons = map[string]int64{}
	return k, nil
}

// kpart is one assigned partition: a queue the poll loop fills and a worker
// that empties it into Submit.
type kpart struct {
	k     *Kafka
	cl    *kgo.Client
	topic string
	id    int32

	mu     sync.Mutex
	queue  []*kgo.Record
	held   int   // records queued plus being stored
	bytes  int64 // their values' bytes
	paused bool

	wake chan struct{}
	quit chan struct{}
	done chan struct{}

	hwm  atomic.Int64 // the partition's high watermark at the last fetch; -1 unknown
	next atomic.Int64 // the offset after the last durable record; -1 unknown
}

type partState struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Next      int64  `json:"next_offset"`
	HWM       int64  `json:"high_watermark"`
	Lag       int64  `json:"lag"`
}

// Run consumes until ctx is done, then stops the workers once their
// current batch is durable, commits what is marked and leaves the group.
func (k *Kafka) Run(ctx context.Context) error {
	opts := []kgo.Opt{
		kgo.SeedBrokers(k.o.Brokers...),
		kgo.ConsumerGroup(k.o.Group),
		kgo.ConsumeTopics(k.topics...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// A transactional producer's aborted records never happened:
		// read only committed ones. The transaction markers are kept
		// (and skipped in stage) so that a partition's marked offset
		// moves past them and a caught-up group commits the topic's end,
		// which a marker usually is; without them the committed offset
		// would stay at the last marker and show as lag forever.
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.KeepControlRecords(),
		// Commit only offsets marked once their records are durable.
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(k.o.CommitInterval),
		// Rebalances happen between polls, never while a poll's records
		// are being handed to the workers.
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(k.assigned),
		kgo.OnPartitionsRevoked(k.revoked),
		kgo.OnPartitionsLost(k.lost),
		// Bound what one fetch buffers; pausing bounds the rest.
		kgo.FetchMaxBytes(16 << 20),
		kgo.FetchMaxPartitionBytes(2 << 20),
		kgo.FetchMaxWait(500 * time.Millisecond),
	}
	if k.o.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(k.o.TLS))
	}
	if k.o.SASL != nil {
		opts = append(opts, kgo.SASL(k.o.SASL))
	}
	opts = append(opts, k.o.ClientOpts...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	if err := cl.Ping(pctx); err != nil && ctx.Err() == nil {
		hint := ""
		if k.o.TLS != nil || k.o.SASL != nil {
			hint = " (a broker that closes the connection may refuse the TLS or SASL settings)"
		}
		k.o.Logf("kafka: no broker of %v answers yet: %v%s; retrying", k.o.Brokers, err, hint)
	}
	cancel()

	k.m.mu.Lock()
	k.m.rate.add(time.Now(), k.m.records.Load())
	k.m.mu.Unlock()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				k.m.mu.Lock()
				k.m.rate.add(now, k.m.records.Load())
				k.m.mu.Unlock()
				k.learnEnds(ctx, cl)
			}
		}
	}()

	go k.watchAssignment(ctx, cl)

	// A partition that has stored everything up to its end commits at
	// once instead of at the next tick of the commit interval: a caught-up
	// consumer shows no lag, and a restart redelivers nothing. At most
	// ten times a second, so that a trickle of records cannot turn into a
	// commit per record.
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-k.caughtUp:
			}
			if err := cl.CommitMarkedOffsets(ctx); err != nil && ctx.Err() == nil {
				k.o.Logf("kafka: commit: %v", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()

	lastErr := time.Time{}
	for ctx.Err() == nil {
		fetches := cl.PollRecords(ctx, 4*k.o.BatchSize)
		if fetches.IsClientClosed() {
			break
		}
		fetches.EachError(func(t string, p int32, err error) {
			if ctx.Err() != nil || errors.Is(err, context.Canceled) {
				return
			}
			if time.Since(lastErr) > 10*time.Second {
				lastErr = time.Now()
				k.o.Logf("kafka: fetch %s/%d: %v", t, p, err)
			}
		})
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			k.mu.Lock()
			p := k.parts[tp{fp.Topic, fp.Partition}]
			k.mu.Unlock()
			if p != nil {
				p.push(fp.Records, fp.HighWatermark)
			}
		})
		cl.AllowRebalance()
	}

	// Stop: finish the batches in flight, commit, leave.
	k.mu.Lock()
	all := make([]tp, 0, len(k.parts))
	for id := range k.parts {
		all = append(all, id)
	}
	k.mu.Unlock()
	k.stop(all)
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.CommitMarkedOffsets(cctx); err != nil {
		k.o.Logf("kafka: commit on stop: %v", err)
	}
	cl.CloseAllowingRebalance()
	return nil
}

// watchAssignment says, once, why a topic is not being consumed when the
// group has given this process none of its partitions a few seconds after
// the start: the topic does not exist (a typo in --kafka-topic, or not
// created yet), the credentials may not read it, or the group's other
// members hold all its partitions. Otherwise a misnamed topic would look
// like a quiet one.
func (k *Kafka) watchAssignment(ctx context.Context, cl *kgo.Client) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(k.o.AssignWait):
	}
	k.mu.Lock()
	var idle []string
	for _, t := range k.topics {
		has := false
		for id := range k.parts {
			has = has || id.topic == t
		}
		if !has {
			idle = append(idle, t)
		}
	}
	k.mu.Unlock()
	if len(idle) == 0 {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	td, err := kadm.NewClient(cl).ListTopics(lctx, idle...)
	if err != nil {
		return // the brokers' trouble is logged where it happens
	}
	for _, t := range idle {
		d, ok := td[t]
		switch {
		case !ok || errors.Is(d.Err, kerr.UnknownTopicOrPartition):
			k.o.Logf("kafka: topic %s does not exist on the brokers: check --kafka-topic; it is consumed once it is created", t)
		case d.Err != nil:
			k.o.Logf("kafka: topic %s: %v", t, d.Err)
		default:
			k.o.Logf("kafka: the group %s has given this process none of the %d partitions of %s yet: its other members may hold them all", k.o.Group, len(d.Partitions), t)
		}
	}
}

// learnEnds asks the brokers for the end of each assigned partition that
// no fetch has told of yet: one caught up at assignment (a restart that
// finds nothing new) gets no records, and franz-go hands no empty fetch
// on, so its lag would stay unknown.
func (k *Kafka) learnEnds(ctx context.Context, cl *kgo.Client) {
	k.mu.Lock()
	var unknown []*kpart
	for _, p := range k.parts {
		if p.hwm.Load() < 0 {
			unknown = append(unknown, p)
		}
	}
	k.mu.Unlock()
	if len(unknown) == 0 {
		return
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(lctx, k.topics...)
	if err != nil {
		return // the next tick asks again
	}
	for _, p := range unknown {
		if o, ok := ends.Lookup(p.topic, p.id); ok && o.Err == nil {
			p.hwm.CompareAndSwap(-1, o.Offset)
		}
	}
}

func (k *Kafka) assigned(_ context.Context, cl *kgo.Client, assigned map[string][]int32) {
	for _, t := range k.topics {
		if ids := assigned[t]; len(ids) > 0 {
			k.o.Logf("kafka: group %s gave this process partitions %v of %s", k.o.Group, ids, t)
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, id := range tps(assigned) {
		if k.parts[id] != nil {
			continue
		}
		p := &kpart{k: k, cl: cl, topic: id.topic, id: id.part, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
		p.hwm.Store(-1)
		p.next.Store(-1)
		if s, ok := k.known[id]; ok {
			p.hwm.Store(s.HWM)
		}
		k.parts[id] = p
		go p.run()
	}
}

// tps lists the partitions of a franz-go assignment.
func tps(m map[string][]int32) []tp {
	var out []tp
	for t, ids := range m {
		for _, id := range ids {
			out = append(out, tp{t, id})
		}
	}
	return out
}

// revoked stops the revoked partitions' workers once their current batch is
// durable and commits the marked offsets, so that the partition's next
// owner starts after them.
func (k *Kafka) revoked(ctx context.Context, cl *kgo.Client, revoked map[string][]int32) {
	k.stop(tps(revoked))
	if err := cl.CommitMarkedOffsets(ctx); err != nil && ctx.Err() == nil {
		k.o.Logf("kafka: commit on revoke: %v", err)
	}
}

// lost stops the workers without committing: the group has moved on.
func (k *Kafka) lost(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
	k.stop(tps(lost))
}

func (k *Kafka) stop(ids []tp) {
	var stopped []*kpart
	k.mu.Lock()
	for _, id := range ids {
		if p := k.parts[id]; p != nil {
			delete(k.parts, id)
			close(p.quit)
			stopped = append(stopped, p)
		}
	}
	k.mu.Unlock()
	for _, p := range stopped {
		<-p.done
		p.mu.Lock()
		if p.paused {
			p.cl.ResumeFetchPartitions(map[string][]int32{p.topic: {p.id}})
		}
		p.mu.Unlock()
		k.mu.Lock()
		k.known[tp{p.topic, p.id}] = p.state()
		k.mu.Unlock()
	}
}

// push queues a fetch's records; past MaxBuffered it pauses the partition.
// It never blocks, so the poll loop cannot stall a rebalance.
func (p *kpart) push(recs []*kgo.Record, hwm int64) {
	p.hwm.Store(hwm)
	if len(recs) == 0 {
		return
	}
	p.next.CompareAndSwap(-1, recs[0].Offset)
	p.mu.Lock()
	p.queue = append(p.queue, recs...)
	p.held += len(recs)
	p.bytes += valueBytes(recs)
	if (p.held >= p.k.o.MaxBuffered || p.bytes >= p.k.o.MaxBufferedBytes) && !p.paused {
		p.paused = true
		p.k.m.pauses.Add(1)
		p.cl.PauseFetchPartitions(map[string][]int32{p.topic: {p.id}})
	}
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// take removes up to n items' worth of records from the queue.
func (p *kpart) take(n int) []*kgo.Record {
	p.mu.Lock()
	defer p.mu.Unlock()
	i, items := 0, 0
	for i < len(p.queue) && (i == 0 || items+itemCount(p.queue[i]) <= n) {
		items += itemCount(p.queue[i])
		i++
	}
	out := p.queue[:i:i]
	p.queue = p.queue[i:]
	if len(p.queue) == 0 {
		p.queue = nil
	}
	return out
}

// done releases a stored batch and resumes fetching once half the room is
// free again.
func valueBytes(recs []*kgo.Record) int64 {
	var n int64
	for _, r := range recs {
		n += int64(len(r.Value))
	}
	return n
}

func (p *kpart) release(batch []*kgo.Record) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held -= len(batch)
	p.bytes -= valueBytes(batch)
	if p.paused && p.held <= p.k.o.MaxBuffered/2 && p.bytes <= p.k.o.MaxBufferedBytes/2 {
		p.paused = false
		p.cl.ResumeFetchPartitions(map[string][]int32{p.topic: {p.id}})
	}
}

// itemCount is the most items a record holds: its lines (NDJSON), none
// for a transaction marker, one for a value that is not JSON (an OTLP
// protobuf request, whose bytes are not lines).
func itemCount(r *kgo.Record) int {
	if r.Attrs.IsControl() {
		return 0
	}
	v := r.Value
	t := bytes.TrimLeft(bytes.TrimPrefix(v, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) > 0 && t[0] == '[' {
		return bytes.Count(t, []byte{','}) + 1 // at least one ',' per element after the first
	}
	if len(v) > 0 && v[0] != 0 && (len(t) == 0 || t[0] != '{') {
		return 1
	}
	return bytes.Count(v, []byte{'\n'}) + 1
}

// run stores the partition's batches in offset order. It prepares the
// next batch (decoding, masking: CPU) while the last one is being written
// (storeLoop), when the submitter is a Stager: otherwise the partitions'
// workers, whose writes the pipeline merges into shared commits, would
// all wait on each commit together and then all prepare together,
// leaving the writer idle half the time.
func (p *kpart) run() {
	defer close(p.done)
	ready := make(chan *staged, 1)
	stored := make(chan struct{})
	go func() {
		defer close(stored)
		p.storeLoop(ready)
	}()
	defer func() {
		close(ready)
		<-stored
	}()
	k := p.k
	for {
		batch := p.take(k.o.BatchSize)
		if len(batch) == 0 {
			select {
			case <-p.quit:
				return
			case <-p.wake:
				continue
			}
		}
		s := k.stage(p.topic, p.id, batch)
		select {
		case ready <- s:
		case <-p.quit:
			return
		}
	}
}

// storeLoop writes the staged batches in order, retrying a failed one
// until it is stored or the partition stops, and marks each for commit
// once it is durable. After quit it stores nothing more: what was not
// marked is delivered again to the partition's next owner.
func (p *kpart) storeLoop(ready <-chan *staged) {
	k := p.k
	for s := range ready {
		select {
		case <-p.quit:
			continue // drained: not marked
		default:
		}
		wait := 100 * time.Millisecond
		for {
			err := k.store(s)
			if err == nil {
				break
			}
			k.m.storeErrors.Add(1)
			k.o.Logf("kafka: %s/%d, offsets %d-%d not stored, retrying in %s: %v",
				p.topic, p.id, s.batch[0].Offset, s.batch[len(s.batch)-1].Offset, wait, err)
			select {
			case <-p.quit:
				return // not marked: the next owner (or restart) redelivers
			case <-time.After(wait):
			}
			wait = min(2*wait, 30*time.Second)
		}
		last := s.batch[len(s.batch)-1]
		p.cl.MarkCommitRecords(last)
		p.next.Store(last.Offset + 1)
		p.release(s.batch)
		if last.Offset+1 >= p.hwm.Load() {
			select {
			case k.caughtUp <- struct{}{}:
			default:
			}
		}
	}
}

func (p *kpart) state() partState {
	s := partState{Topic: p.topic, Partition: p.id, Next: p.next.Load(), HWM: p.hwm.Load()}
	if s.Next < 0 {
		// Nothing stored since the partition was assigned: where the
		// group's committed offset is (a restart that found nothing new).
		if o, ok := p.cl.CommittedOffsets()[p.topic][p.id]; ok && o.Offset >= 0 {
			s.Next = o.Offset
		}
	}
	switch {
	case s.Next >= 0 && s.HWM >= 0:
		s.Lag = max(0, s.HWM-s.Next)
	case s.HWM == 0:
		s.Lag = 0 // a partition never written to
	default:
		s.Lag = -1
	}
	return s
}

// itemRef says where an item submitted came from.
type itemRef struct {
	rec  *kgo.Record
	line int
	elem int // in a JSON document value (Item.Element); 0 for NDJSON
}

// staged is a batch of records split into items and, when the submitter
// is a Stager, prepared.
type staged struct {
	batch []*kgo.Record
	data  int // records of batch that are not transaction markers
	items []Item
	refs  []itemRef
	blank int
	pr    *Prepared // nil: not prepared (yet, or again after a failed write)
	otlp  []otlpRecord
}

// unframe is a value without the Confluent Schema Registry's framing, when
// it has it and what it frames is JSON: a zero byte and a 4-byte schema id
// before the JSON, as the registry's JSON Schema serializer writes it.
// Other values are returned as they are.
func unframe(v []byte) []byte {
	if len(v) > 5 && v[0] == 0 {
		if t := bytes.TrimLeft(v[5:], " \t\r\n"); len(t) > 0 && t[0] == '{' {
			return v[5:]
		}
	}
	return v
}

// connectPayload is the record inside a Kafka Connect envelope, when v is
// one: what Connect's JsonConverter writes with schemas.enable (its
// default), {"schema": {...}, "payload": {...}}, the payload an object or
// a string holding one. Anything else is not an envelope (ok false) and
// is read as it is: a loupe record has more keys than these two.
func connectPayload(v []byte) ([]byte, bool) {
	t := bytes.TrimLeft(v, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	key := bytes.TrimLeft(t[1:], " \t\r\n")
	if !bytes.HasPrefix(key, []byte(`"schema"`)) && !bytes.HasPrefix(key, []byte(`"payload"`)) {
		return nil, false
	}
	var env map[string]json.RawMessage
	if json.Unmarshal(t, &env) != nil || len(env) != 2 || env["schema"] == nil || env["payload"] == nil {
		return nil, false
	}
	p := bytes.TrimSpace(env["payload"])
	if len(p) > 0 && p[0] == '"' {
		var s string
		if json.Unmarshal(p, &s) != nil {
			return nil, false
		}
		p = bytes.TrimSpace([]byte(s))
	}
	if len(p) == 0 || (p[0] != '{' && p[0] != '[') {
		return nil, false
	}
	return p, true
}

// otlpRecord is a record whose value is an OTLP export request, decoded.
type otlpRecord struct {
	rec   *kgo.Record
	batch otlp.Batch
	err   error // not readable as one: rejected
}

// decodeOTLPValue reports whether a record's value is an OTLP export
// request (OTLP JSON: an object whose key is resourceSpans or resourceLogs;
// protobuf: what starts with field 1, and is not JSON) and reads it as
// traces or logs. A protobuf ExportTraceServiceRequest does not read as
// logs, nor the other way round: the field types differ.
func decodeOTLPValue(v []byte, names []string) (otlp.Batch, bool, error) {
	t := bytes.TrimLeft(bytes.TrimPrefix(v, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) == 0 {
		return otlp.Batch{}, false, nil
	}
	if t[0] == '{' {
		if _, ok := otlpJSONKind(t); !ok {
			return otlp.Batch{}, false, nil
		}
		b, err := decodeOTLPLine(t, names)
		return b, true, err
	}
	if v[0] != 0x0a {
		return otlp.Batch{}, false, nil
	}
	td, terr := otlp.DecodeTraces(v, otlp.Protobuf)
	if terr == nil {
		return otlp.Traces(td, names), true, nil
	}
	if ld, err := otlp.DecodeLogs(v, otlp.Protobuf); err == nil {
		return otlp.Logs(ld), true, nil
	}
	return otlp.Batch{}, true, fmt.Errorf("neither JSON nor an OTLP export request (traces or logs, protobuf): %v", terr)
}

// stage splits a batch's records into items (a value may be NDJSON) and
// prepares them when it can. It does no I/O.
func (k *Kafka) stage(topic string, part int32, batch []*kgo.Record) *staged {
	// Most values are one record: one item each.
	s := &staged{batch: batch, items: make([]Item, 0, len(batch)), refs: make([]itemRef, 0, len(batch))}
	source := "kafka:" + topic + "/" + strconv.Itoa(int(part))
	for _, r := range batch {
		if r.Attrs.IsControl() {
			continue // a transaction's commit or abort marker: no record
		}
		s.data++
		v := unframe(r.Value)
		if k.o.OTLP != nil {
			if b, ok, err := decodeOTLPValue(v, k.o.OTLP.m.Attributes.Names()); ok {
				s.otlp = append(s.otlp, otlpRecord{rec: r, batch: b, err: err})
				continue
			}
		}
		if len(v) > 5 && v[0] == 0 { // framed, and what it frames is not JSON (unframe)
			s.items = append(s.items, Item{Source: source, Line: 1, Bad: fmt.Sprintf(
				"the value has Confluent Schema Registry framing (schema id %d) but is not JSON: Avro and Protobuf serializers' values cannot be read; use the JSON Schema serializer or plain JSON",
				binary.BigEndian.Uint32(v[1:5]))})
			s.refs = append(s.refs, itemRef{r, 1, 0})
			continue
		}
		if p, ok := connectPayload(v); ok {
			v = p
		}
		if f := formOf(v); f != formLines {
			k.stageDocument(s, r, bytes.TrimPrefix(v, []byte("\xef\xbb\xbf")), f, source)
			continue
		}
		n := 0
		for len(v) > 0 || n == 0 {
			n++
			l := v
			if i := bytes.IndexByte(v, '\n'); i >= 0 {
				l, v = v[:i], v[i+1:]
			} else {
				v = nil
			}
			l = bytes.TrimSuffix(l, []byte("\r"))
			if n == 1 {
				l = bytes.TrimPrefix(l, []byte("\xef\xbb\xbf"))
			}
			if len(bytes.TrimSpace(l)) == 0 {
				s.blank++
				continue
			}
			it := Item{Data: l, Source: source, Line: n}
			if len(l) > loop.MaxLineBytes {
				it.Data, it.Long = l[:loop.MaxLineBytes], true
			}
			s.items = append(s.items, it)
			s.refs = append(s.refs, itemRef{r, n, 0})
		}
	}
	if st, ok := k.sub.(Stager); ok && len(s.items) > 0 {
		s.pr = st.Prepare(s.items)
	}
	return s
}

// stageDocument splits a value that is a JSON document, not NDJSON: an
// array of records, or records written across lines (jsonDoc).
func (k *Kafka) stageDocument(s *staged, r *kgo.Record, v []byte, f docForm, source string) {
	d := newJSONDoc(bytes.NewReader(v), f)
	for {
		it, err := d.next()
		if err != nil { // io.EOF: a bytes.Reader has no other
			return
		}
		s.items = append(s.items, Item{Data: it.data, Source: source, Line: it.line, Element: it.elem, Long: it.long, Bad: it.bad})
		s.refs = append(s.refs, itemRef{r, it.line, it.elem})
	}
}

// store submits a staged batch and, once it is durable, writes and syncs
// its rejects and counts it. On error nothing is counted or written: the
// batch is stored again (idempotent ids make that safe), prepared anew.
func (k *Kafka) store(s *staged) error {
	var rejects []KafkaReject
	var sum Summary
	if len(s.items) > 0 {
		var outs []Outcome
		var err error
		if st, ok := k.sub.(Stager); ok {
			pr := s.pr
			if pr == nil {
				pr = st.Prepare(s.items)
			}
			s.pr = nil
			outs, sum, err = st.Write(context.Background(), pr)
		} else {
			outs, sum, err = k.sub.Submit(context.Background(), s.items)
		}
		if err != nil {
			return err
		}
		for i, o := range outs {
			if o.Status != Rejected || o.Err == nil {
				continue
			}
			rj, ref := NewReject(s.items[i], o.Err), s.refs[i]
			rejects = append(rejects, KafkaReject{Topic: ref.rec.Topic, Partition: ref.rec.Partition, Offset: ref.rec.Offset,
				Line: ref.line, Element: ref.elem, Reason: rj.Reason, Error: rj.Error, Raw: rj.Raw})
		}
	}
	otlpItems := 0
	for _, or := range s.otlp {
		rj := KafkaReject{Topic: or.rec.Topic, Partition: or.rec.Partition, Offset: or.rec.Offset, Line: 1, Reason: ReasonOTLP}
		if or.err != nil {
			rj.Error = loop.MaskRaw([]byte(or.err.Error()), RawLimit)
			if t := bytes.TrimSpace(or.rec.Value); len(t) > 0 && t[0] == '{' {
				rj.Raw = loop.MaskRaw(t[:min(len(t), 2*RawLimit)], RawLimit)
			}
			rejects = append(rejects, rj)
			continue
		}
		res, err := k.o.OTLP.Accept(context.Background(), or.batch)
		if err != nil {
			return err
		}
		otlpItems += res.Items
		sum.Accepted += res.Interactions
		sum.Signals += res.Signals
		sum.Withdrawn += res.Withdrawn
		if res.Rejected > 0 {
			rj.Error = loop.MaskRaw([]byte(fmt.Sprintf("%d of %d spans or log records refused: %s", res.Rejected, res.Items, strings.Join(res.Errors, "; "))), RawLimit)
			rejects = append(rejects, rj)
		}
	}
	if err := k.writeRejects(rejects); err != nil {
		return err
	}
	k.m.records.Add(int64(s.data))
	k.m.items.Add(int64(len(s.items) + otlpItems))
	k.m.accepted.Add(int64(sum.Accepted))
	k.m.duplicates.Add(int64(sum.Duplicates))
	k.m.signals.Add(int64(sum.Signals))
	k.m.withdrawn.Add(int64(sum.Withdrawn))
	k.m.blank.Add(int64(s.blank))
	k.m.mu.Lock()
	for _, rj := range rejects {
		k.m.reasons[rj.Reason]++
	}
	k.m.mu.Unlock()
	return nil
}

func (k *Kafka) writeRejects(rs []KafkaReject) error {
	if k.o.Rejects == nil || len(rs) == 0 {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range rs {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	k.rejMu.Lock()
	defer k.rejMu.Unlock()
	if _, err := k.o.Rejects.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("kafka rejects: %w", err)
	}
	if s, ok := k.o.Rejects.(interface{ Sync() error }); ok {
		if err := s.Sync(); err != nil {
			return fmt.Errorf("kafka rejects: %w", err)
		}
	}
	return nil
}
