package ingest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCollector posts batches of 100 events over loopback to a
// collector on a real store and reports events/s and the p99 latency of a
// request (each answered only once its events are durable).
func BenchmarkCollector(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			st := openStore(b)
			c := NewCollector(New(st, PipelineOptions{}), CollectorOptions{UserRate: 1e9, UserBurst: 1e9, ClientRate: 1e9, ClientBurst: 1e9})
			srv := httptest.NewServer(c)
			defer srv.Close()
			tr := &http.Transport{MaxIdleConnsPerHost: clients}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr}

			var seq atomic.Int64
			body := func() []byte {
				var buf bytes.Buffer
				for range 100 {
					n := seq.Add(1)
					fmt.Fprintf(&buf, `{"event_id":"bench-%d","timestamp":"2026-11-01T10:00:00Z","model_version":"m1",`+
						`"user_id":"u%d","user_segment":"pro","task_type":"qa",`+
						`"input":{"text":"How do I reset my password? My email is jane.doe@example.com"},`+
						`"output":{"text":"Go to Settings, then Security, and choose Reset password.","latency_ms":812},`+
						`"explicit_feedback":{"thumb":"down","reason_codes":["incomplete"]}}`+"\n", n, n%5000)
				}
				return buf.Bytes()
			}
			var mu sync.Mutex
			var lat []time.Duration
			work := make(chan []byte)
			var wg sync.WaitGroup
			var failed atomic.Value
			for range clients {
				wg.Go(func() {
					for data := range work {
						t0 := time.Now()
						resp, err := hc.Post(srv.URL+"/v1/events", "application/x-ndjson", bytes.NewReader(data))
						if err != nil {
							failed.Store(err.Error())
							continue
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						d := time.Since(t0)
						if resp.StatusCode != 200 {
							failed.Store(resp.Status)
						}
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				})
			}
			bodies := make([][]byte, b.N)
			for i := range bodies {
				bodies[i] = body()
			}
			b.ResetTimer()
			start := time.Now()
			for _, d := range bodies {
				work <- d
			}
			close(work)
			wg.Wait()
			el := time.Since(start)
			b.StopTimer()
			if f := failed.Load(); f != nil {
				b.Fatal(f)
			}
			slices.Sort(lat)
			b.ReportMetric(float64(100*b.N)/el.Seconds(), "events/s")
			b.ReportMetric(float64(lat[(len(lat)*99)/100].Microseconds())/1000, "p99-ms")
		})
	}
}
