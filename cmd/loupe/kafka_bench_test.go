package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/loupe-dev/loupe/loop/gen"
)

// BenchmarkKafkaServe measures records/s through the real binary: `loupe
// serve --kafka` consuming a four-partition kfake topic of generated
// records until its group's committed offsets reach the end, beside `loupe
// ingest` of the same records from a file, and the same topic consumed
// with edge sampling keeping 5% (intake.keep; target at least 2× the
// all-kept rate); then both again on a topic of records in pieces
// (interactions and their later signals, keyed by event id: the firehose
// a product sends). kfake runs in the benchmark's
// own process, on the same cores, so the Kafka figure is a lower bound. The
// CPU time per record of the loupe process is reported too. Every figure
// is a median over the rounds (-benchtime=Nx runs N).
// LOUPE_BENCH_KAFKA_N sets the records (default 200000);
// LOUPE_BENCH_PROFILES=dir writes CPU and allocation profiles of each
// serve run there.
func BenchmarkKafkaServe(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("LOUPE_BENCH_KAFKA_N")); err == nil && v > 0 {
		n = v
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, kafkaTestTopic, piecesTopic))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var file bytes.Buffer
	var recs []*kgo.Record
	err = gen.Generate(gen.Options{N: n, Seed: 31}, func(l []byte) error {
		recs = append(recs, &kgo.Record{Value: bytes.Clone(l)})
		file.Write(l)
		return file.WriteByte('\n')
	})
	if err != nil {
		b.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.DefaultProduceTopic(kafkaTestTopic),
		kgo.RecordPartitioner(kgo.RoundRobinPartitioner()), kgo.ProducerBatchMaxBytes(4<<20), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	produce := func(cl *kgo.Client, recs []*kgo.Record) {
		for i := 0; i < len(recs); i += 10_000 {
			if err := cl.ProduceSync(context.Background(), recs[i:min(i+10_000, len(recs))]...).FirstErr(); err != nil {
				b.Fatal(err)
			}
		}
	}
	produce(cl, recs)
	// Records in pieces, as products send them: n/4 interactions, each
	// with its later signals (about 3.4 per interaction), redeliveries and
	// consent withdrawals, about n records in all, keyed by event id so
	// that an interaction and its signals share a partition.
	var pieces []*kgo.Record
	err = gen.Records(gen.Options{N: n / 4, Seed: 31}, func(l []byte) error {
		var id struct {
			EventID string `json:"event_id"`
		}
		if err := json.Unmarshal(l, &id); err != nil {
			return err
		}
		pieces = append(pieces, &kgo.Record{Topic: piecesTopic, Key: []byte(id.EventID), Value: bytes.Clone(l)})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	np := len(pieces)
	pcl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.ProducerBatchMaxBytes(4<<20), kgo.MaxBufferedRecords(100_000))
	if err != nil {
		b.Fatal(err)
	}
	defer pcl.Close()
	produce(pcl, pieces) // by key: RoundRobinPartitioner, cl's, ignores keys
	pieces = nil
	dir := b.TempDir()
	input := filepath.Join(dir, "events.jsonl")
	if err := os.WriteFile(input, file.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	adm := kadm.NewClient(cl)
	// Edge sampling: 5% of the interactions by id stored in full, the rest
	// only counted in the aggregates.
	keepCfg := filepath.Join(dir, "keep5.yaml")
	if err := os.WriteFile(keepCfg, []byte("intake:\n  keep:\n    - {name: sample, kind: random, share: 0.05}\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	// settle starts each run on a quiet machine: the last run's writes on
	// the disk (the kernel writes dirty pages back for up to 30 s after,
	// which would fall on the next run's syncs) and this process's garbage
	// (the generated records) collected, not left to its GC during a run.
	settle := func() {
		runtime.GC()
		syscall.Sync()
	}
	recs, file = nil, bytes.Buffer{}
	debug.FreeOSMemory()

	// consume returns the run's wall time, the loupe process's CPU time
	// until its offsets reached the end (window) and in all (cpu, with the
	// store's close: Badger flushing its memtable), and this process's:
	// kfake serving the fetches (and the offset polls), which takes its
	// share of the same 2 cores.
	consume := func(topic, group string, extra ...string) (took, window, cpu, broker time.Duration) {
		settle()
		before := selfCPU(b)
		start := time.Now()
		args := append([]string{"serve", "--http", "off", "--store", filepath.Join(dir, group),
			"--kafka", c.ListenAddrs()[0], "--kafka-topic", topic, "--kafka-group", group}, extra...)
		cmd := exec.Command(loupeBin, args...)
		if d := os.Getenv("LOUPE_BENCH_PROFILES"); d != "" {
			cmd.Env = append(os.Environ(), "LOUPE_CPUPROFILE="+filepath.Join(d, group+".cpu"), "LOUPE_MEMPROFILE="+filepath.Join(d, group+".mem"))
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		for !committedToEndOf(b, adm, topic, group) {
			time.Sleep(50 * time.Millisecond)
		}
		took = time.Since(start)
		window = procCPU(b, cmd.Process.Pid)
		broker = selfCPU(b) - before
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		return took, window, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), broker
	}

	// Each round runs the three one after another. The figures are the
	// medians over the rounds, each ratio taken within its round: on a
	// shared machine one disturbed round moves a sum or a mean, not a
	// median.
	type round struct {
		kafka, keep, file                    float64
		pieces, piecesKeep                   float64
		kafkaWin, keepWin                    float64
		kafkaCPU, keepCPU, fileCPU, kfakeCPU float64
	}
	var rounds []round
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var r round
		perRecord := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
		took, win, cpu, kf := consume(kafkaTestTopic, "bench-"+strconv.Itoa(i))
		r.kafka, r.kafkaWin, r.kafkaCPU = float64(n)/took.Seconds(), perRecord(win), perRecord(cpu)
		took, win, cpu, kf2 := consume(kafkaTestTopic, "keep5-"+strconv.Itoa(i), "--config", keepCfg)
		r.keep, r.keepWin, r.keepCPU = float64(n)/took.Seconds(), perRecord(win), perRecord(cpu)
		r.kfakeCPU = float64((kf + kf2).Microseconds()) / float64(2*n)

		settle()
		start := time.Now()
		ing := exec.Command(loupeBin, "ingest", "--store", filepath.Join(dir, "file-"+strconv.Itoa(i)), input)
		out, err := ing.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && ee.ExitCode() == exitPartial) {
			b.Fatalf("ingest: %v %s", err, out)
		}
		r.file = float64(n) / time.Since(start).Seconds()
		r.fileCPU = float64((ing.ProcessState.UserTime() + ing.ProcessState.SystemTime()).Microseconds()) / float64(n)
		took, _, _, _ = consume(piecesTopic, "pieces-"+strconv.Itoa(i))
		r.pieces = float64(np) / took.Seconds()
		took, _, _, _ = consume(piecesTopic, "pieces-keep5-"+strconv.Itoa(i), "--config", keepCfg)
		r.piecesKeep = float64(np) / took.Seconds()
		rounds = append(rounds, r)
	}
	b.StopTimer()
	med := func(f func(r round) float64) float64 {
		v := make([]float64, len(rounds))
		for i, r := range rounds {
			v[i] = f(r)
		}
		return median(v)
	}
	b.ReportMetric(med(func(r round) float64 { return r.kafka }), "kafka_records/s")
	b.ReportMetric(med(func(r round) float64 { return r.file }), "file_records/s")
	b.ReportMetric(med(func(r round) float64 { return r.kafka / r.file }), "kafka/file")
	b.ReportMetric(med(func(r round) float64 { return r.keep }), "kafka_5%kept_records/s")
	b.ReportMetric(med(func(r round) float64 { return r.keep / r.kafka }), "5%kept/all")
	b.ReportMetric(med(func(r round) float64 { return r.keepCPU }), "kafka_5%kept_cpu_µs/record")
	// CPU per record of the loupe process alone: what the rates would be
	// if it had the 2 cores to itself and never waited for the disk.
	b.ReportMetric(med(func(r round) float64 { return r.kafkaCPU }), "kafka_cpu_µs/record")
	// The same until the offsets reached the end, without the close: the
	// CPU the rates were made of, and their ratio, which bounds the ratio
	// of the rates when both runs are CPU-bound.
	b.ReportMetric(med(func(r round) float64 { return r.kafkaWin }), "kafka_run_cpu_µs/record")
	b.ReportMetric(med(func(r round) float64 { return r.keepWin }), "kafka_5%kept_run_cpu_µs/record")
	b.ReportMetric(med(func(r round) float64 { return r.kafkaWin / r.keepWin }), "all/5%kept_run_cpu")
	b.ReportMetric(med(func(r round) float64 { return r.fileCPU }), "file_cpu_µs/record")
	// The same with records in pieces (interactions and their signals).
	b.ReportMetric(med(func(r round) float64 { return r.pieces }), "pieces_records/s")
	b.ReportMetric(med(func(r round) float64 { return r.piecesKeep }), "pieces_5%kept_records/s")
	b.ReportMetric(med(func(r round) float64 { return r.piecesKeep / r.pieces }), "pieces_5%kept/all")
	// kfake's CPU per record (this process, both Kafka runs): a cost the
	// two Kafka runs share, which narrows the ratio of their rates.
	b.ReportMetric(med(func(r round) float64 { return r.kfakeCPU }), "kfake_cpu_µs/record")
}

// selfCPU is this process's user and system CPU time so far.
func selfCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU is the user and system CPU time of a running process so far:
// utime and stime of /proc/<pid>/stat, in clock ticks (USER_HZ, 100 on
// Linux).
func procCPU(tb testing.TB, pid int) time.Duration {
	tb.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		tb.Fatal(err)
	}
	// After "pid (comm) " come the fields from the third, state; utime
	// and stime are the 14th and 15th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		tb.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		tb.Fatalf("/proc/%d/stat: %q", pid, b)
	}
	return time.Duration(u+st) * 10 * time.Millisecond
}
