package ingest

import (
	"math"
	"sync"
	"time"
)

// buckets are token buckets by key (a user's hash, a client's address):
// each holds up to burst tokens and refills at rate tokens a second.
//
// Memory stays bounded: a bucket idle long enough to be full again is the
// same as a new one, so sweeps drop it; past max keys even non-full buckets
// go (those keys get a fresh burst — the per-client bucket still bounds
// what any one client can send).
type buckets struct {
	rate, burst float64
	max         int
	now         func() time.Time

	mu        sync.Mutex
	m         map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
}

// sweepEvery is how often a take looks for idle buckets to drop.
const sweepEvery = time.Minute

func newBuckets(rate, burst float64, max int, now func() time.Time) *buckets {
	return &buckets{rate: rate, burst: burst, max: max, now: now, m: map[string]*bucket{}}
}

// get returns key's bucket refilled to t. Call with mu held.
func (b *buckets) get(key string, t time.Time) *bucket {
	k := b.m[key]
	if k == nil {
		b.sweep(t, false)
		k = &bucket{tokens: b.burst, last: t}
		b.m[key] = k
		return k
	}
	if dt := t.Sub(k.last).Seconds(); dt > 0 {
		k.tokens = min(b.burst, k.tokens+dt*b.rate)
	}
	k.last = t
	return k
}

// sweep drops full buckets, at most once a sweepEvery unless the map is
// over its bound (or force). Call with mu held.
func (b *buckets) sweep(t time.Time, force bool) {
	over := len(b.m) >= b.max
	if !force && !over && t.Sub(b.lastSweep) < sweepEvery {
		return
	}
	b.lastSweep = t
	full := time.Duration(b.burst / b.rate * float64(time.Second))
	for key, k := range b.m {
		if t.Sub(k.last) >= full {
			delete(b.m, key)
		}
	}
	for key := range b.m {
		if len(b.m) < b.max*9/10 {
			break
		}
		delete(b.m, key) // still over: drop arbitrary ones
	}
}

// take takes n tokens from key's bucket, all or none. When there are too
// few it returns how long until there will be enough (n over the burst
// never fits: the wait is then for a full bucket).
func (b *buckets) take(key string, n float64) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.takeLocked(key, n, b.now())
}

func (b *buckets) takeLocked(key string, n float64, t time.Time) (bool, time.Duration) {
	k := b.get(key, t)
	if k.tokens >= n {
		k.tokens -= n
		return true, 0
	}
	need := min(n, b.burst) - k.tokens
	return false, time.Duration(need / b.rate * float64(time.Second))
}

// takeEach takes one token per key, in order, under one lock: a key whose
// bucket runs dry mid-request gets its first events in and the rest
// refused. It reports which were taken and the longest wait of a refusal.
func (b *buckets) takeEach(keys []string) ([]bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	ok := make([]bool, len(keys))
	var wait time.Duration
	for i, key := range keys {
		var w time.Duration
		ok[i], w = b.takeLocked(key, 1, t)
		wait = max(wait, w)
	}
	return ok, wait
}

// peek reports whether key's bucket has at least one token, taking none.
func (b *buckets) peek(key string) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	k := b.get(key, b.now())
	if k.tokens >= 1 {
		return true, 0
	}
	return false, time.Duration((1 - k.tokens) / b.rate * float64(time.Second))
}

// size is the number of buckets held.
func (b *buckets) size() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.m)
}

// retryAfter is a wait in whole seconds for the Retry-After header, at
// least 1.
func retryAfter(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
