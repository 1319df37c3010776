package ingest

import (
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// rateRing keeps a count sampled once a second over the last rateWindow
// samples, for a records-per-second gauge that does not need a scraper's
// rate().
type rateRing struct {
	at []time.Time
	n  []int64
}

const rateWindow = 10

func (r *rateRing) add(t time.Time, n int64) {
	r.at = append(r.at, t)
	r.n = append(r.n, n)
	if len(r.at) > rateWindow+1 {
		r.at, r.n = r.at[1:], r.n[1:]
	}
}

func (r *rateRing) perSecond() float64 {
	if len(r.at) < 2 {
		return 0
	}
	d := r.at[len(r.at)-1].Sub(r.at[0]).Seconds()
	if d <= 0 {
		return 0
	}
	return float64(r.n[len(r.n)-1]-r.n[0]) / d
}

// KafkaState is a Kafka source's counters and per-partition positions: what
// /metrics shows while serve runs, and what serve saves in the store (so
// that doctor can show the last known state when it does not). The JSON
// keys are part of the CLI contract (`doctor --json`'s kafka).
type KafkaState struct {
	Topic            string           `json:"topic"`
	Group            string           `json:"group"`
	SavedAt          time.Time        `json:"saved_at"`
	Records          int64            `json:"records"`
	Items            int64            `json:"items"`
	Accepted         int64            `json:"accepted"`
	Duplicates       int64            `json:"duplicates"`
	Signals          int64            `json:"signals"`
	Withdrawn        int64            `json:"withdrawn"`
	Rejected         int64            `json:"rejected"`
	Reasons          map[string]int64 `json:"reasons"`
	StoreErrors      int64            `json:"store_errors"`
	Pauses           int64            `json:"pauses"`
	RecordsPerSecond float64          `json:"records_per_second"`
	Partitions       []KafkaPartition `json:"partitions"`
}

// KafkaPartition is one partition's position. Lag is the records between
// the last durable one and the high watermark of the last fetch; -1 when
// not known yet. Assigned says whether this process consumes it now.
type KafkaPartition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Next      int64  `json:"next_offset"`
	HWM       int64  `json:"high_watermark"`
	Lag       int64  `json:"lag"`
	Assigned  bool   `json:"assigned"`
	Paused    bool   `json:"paused"`
}

// State returns the source's counters now.
func (k *Kafka) State() KafkaState {
	s := KafkaState{
		Topic: k.o.Topic, Group: k.o.Group, SavedAt: time.Now().UTC(),
		Records: k.m.records.Load(), Items: k.m.items.Load(),
		Accepted: k.m.accepted.Load(), Duplicates: k.m.duplicates.Load(),
		Signals: k.m.signals.Load(), Withdrawn: k.m.withdrawn.Load(),
		StoreErrors: k.m.storeErrors.Load(), Pauses: k.m.pauses.Load(),
		Reasons: map[string]int64{}, Partitions: []KafkaPartition{},
	}
	k.m.mu.Lock()
	for r, n := range k.m.reasons {
		s.Reasons[r] = n
		s.Rejected += n
	}
	s.RecordsPerSecond = k.m.rate.perSecond()
	k.m.mu.Unlock()
	k.mu.Lock()
	for id, ps := range k.known {
		if k.parts[id] == nil {
			s.Partitions = append(s.Partitions, KafkaPartition{Topic: id.topic, Partition: id.part, Next: ps.Next, HWM: ps.HWM, Lag: ps.Lag})
		}
	}
	for _, p := range k.parts {
		ps := p.state()
		p.mu.Lock()
		paused := p.paused
		p.mu.Unlock()
		s.Partitions = append(s.Partitions, KafkaPartition{Topic: p.topic, Partition: p.id, Next: ps.Next, HWM: ps.HWM, Lag: ps.Lag, Assigned: true, Paused: paused})
	}
	k.mu.Unlock()
	sort.Slice(s.Partitions, func(i, j int) bool {
		a, b := s.Partitions[i], s.Partitions[j]
		return a.Topic < b.Topic || a.Topic == b.Topic && a.Partition < b.Partition
	})
	return s
}

// WriteMetrics writes the source's series in the Prometheus text format,
// to be appended to the collector's /metrics.
func (k *Kafka) WriteMetrics(w io.Writer) error {
	s := k.State()
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	tl := "topic=" + labelValue(s.Topic)
	p("# HELP loupe_kafka_records_total Kafka records consumed and durable (stored or rejected).\n")
	p("# TYPE loupe_kafka_records_total counter\n")
	p("loupe_kafka_records_total{%s} %d\n", tl, s.Records)
	p("# HELP loupe_kafka_records_per_second Kafka records made durable per second, over the last 10 s.\n")
	p("# TYPE loupe_kafka_records_per_second gauge\n")
	p("loupe_kafka_records_per_second{%s} %s\n", tl, strconv.FormatFloat(s.RecordsPerSecond, 'f', 1, 64))
	p("# HELP loupe_kafka_accepted_total Interactions from Kafka stored.\n")
	p("# TYPE loupe_kafka_accepted_total counter\n")
	p("loupe_kafka_accepted_total{%s} %d\n", tl, s.Accepted)
	p("# HELP loupe_kafka_signals_total Signals from Kafka stored (merged, or pending their interaction).\n")
	p("# TYPE loupe_kafka_signals_total counter\n")
	p("loupe_kafka_signals_total{%s} %d\n", tl, s.Signals)
	p("# HELP loupe_kafka_withdrawn_total Kafka records dropped because their user withdrew consent.\n")
	p("# TYPE loupe_kafka_withdrawn_total counter\n")
	p("loupe_kafka_withdrawn_total{%s} %d\n", tl, s.Withdrawn)
	p("# HELP loupe_kafka_duplicate_total Kafka records already stored with the same content (redeliveries).\n")
	p("# TYPE loupe_kafka_duplicate_total counter\n")
	p("loupe_kafka_duplicate_total{%s} %d\n", tl, s.Duplicates)
	p("# HELP loupe_kafka_rejected_total Kafka records refused, by reason code (see the Kafka rejects file).\n")
	p("# TYPE loupe_kafka_rejected_total counter\n")
	reasons := make([]string, 0, len(s.Reasons))
	for r := range s.Reasons {
		reasons = append(reasons, r)
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		p("loupe_kafka_rejected_total{%s,reason=%s} %d\n", tl, labelValue(r), s.Reasons[r])
	}
	p("# HELP loupe_kafka_store_errors_total Batches from Kafka the store failed to take (retried; their offsets wait).\n")
	p("# TYPE loupe_kafka_store_errors_total counter\n")
	p("loupe_kafka_store_errors_total{%s} %d\n", tl, s.StoreErrors)
	p("# HELP loupe_kafka_consumer_lag Records of a partition not yet durable, up to the last fetch's high watermark.\n")
	p("# TYPE loupe_kafka_consumer_lag gauge\n")
	for _, ps := range s.Partitions {
		if ps.Assigned && ps.Lag >= 0 {
			p("loupe_kafka_consumer_lag{topic=%s,partition=\"%d\"} %d\n", labelValue(ps.Topic), ps.Partition, ps.Lag)
		}
	}
	p("# HELP loupe_kafka_partition_paused 1 while a partition's fetching is paused because the store is behind.\n")
	p("# TYPE loupe_kafka_partition_paused gauge\n")
	for _, ps := range s.Partitions {
		if ps.Assigned {
			v := 0
			if ps.Paused {
				v = 1
			}
			p("loupe_kafka_partition_paused{topic=%s,partition=\"%d\"} %d\n", labelValue(ps.Topic), ps.Partition, v)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
