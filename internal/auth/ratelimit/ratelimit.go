package ratelimit

import (
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/checkpointd/checkpointd/internal/clock"
)

// DefaultMaxKeys is the number of keys a Limiter remembers when
// Config.MaxKeys is 0: at about 100 bytes a key for keys of up to 16
// bytes (BenchmarkAllowNewKeys reports it), some 6 MB when full.
const DefaultMaxKeys = 1 << 16

// maxWindow keeps every sum of a time, a TAT and T within an int64; see
// Limiter.clock.
const maxWindow = math.MaxInt64 / 4

// Config configures a Limiter.
type Config struct {
	// Requests is N, how many requests a key may make per Window; at
	// least 1.
	Requests int
	// Window is the period the limit is expressed over. It must be at
	// least Requests nanoseconds, so that the interval T = Window/Requests
	// is not zero.
	Window time.Duration
	// MaxKeys bounds how many keys the limiter remembers at once;
	// DefaultMaxKeys if 0. See the package comment for what happens to
	// keys beyond it.
	MaxKeys int
	// Clock times the requests; clock.System if nil. Only differences
	// between its readings matter: System's are measured on the monotonic
	// clock.
	Clock clock.Clock
}

// Limiter limits requests per key with GCRA. It is safe for concurrent
// use.
type Limiter struct {
	rate atomic.Pointer[rate] // T and N·T for this limiter's share

	t1 int64 // emission interval of the whole limit, Window/Requests

	requests int
	window   time.Duration
	now      func() time.Time // nil: the monotonic clock (elapsed)
	base     time.Time        // times are nanoseconds since base
	seed     maphash.Seed
	mask     uint64 // len(shards)-1, a power of two minus one
	shards   []paddedShard
}

// rate is a limiter's emission interval T and capacity N·T, in
// nanoseconds: those of the configured limit, or of this instance's
// share of it (SetInstances).
type rate struct {
	t, limit int64
}

// Shard counts: at most maxShards, so that a few dozen cores rarely meet
// on one lock, but fewer when MaxKeys is small, so that each shard keeps
// at least minPerShard keys: the eviction sample needs candidates to
// choose from, or an active key would be evicted as readily as an idle one.
const (
	maxShards   = 64
	minPerShard = 16
)

// New returns a Limiter for cfg.
func New(cfg Config) (*Limiter, error) {
	switch {
	case cfg.Requests < 1:
		return nil, fmt.Errorf("ratelimit: Requests is %d, must be at least 1", cfg.Requests)
	case cfg.Window <= 0:
		return nil, fmt.Errorf("ratelimit: Window is %v, must be positive", cfg.Window)
	case cfg.Window > maxWindow:
		return nil, fmt.Errorf("ratelimit: Window is %v, must be at most %v", cfg.Window, time.Duration(maxWindow))
	case int64(cfg.Window)/int64(cfg.Requests) == 0:
		return nil, fmt.Errorf("ratelimit: Window %v is too short for %d requests", cfg.Window, cfg.Requests)
	case cfg.MaxKeys < 0:
		return nil, errors.New("ratelimit: MaxKeys is negative")
	}
	maxKeys := cfg.MaxKeys
	if maxKeys == 0 {
		maxKeys = DefaultMaxKeys
	}
	// Only elapsed time matters here, so the system clock is read as the
	// monotonic clock alone (which System's UTC times drop): a wall clock
	// stepped back or forward then neither blocks nor frees every key.
	// Another clock, a test's, is read as it is.
	var now func() time.Time
	base := time.Now() // the start of elapsed times
	if cfg.Clock != nil && cfg.Clock != clock.System {
		now = cfg.Clock.Now
		base = now()
	}
	t := int64(cfg.Window) / int64(cfg.Requests)
	l := &Limiter{
		t1:       t,
		requests: cfg.Requests,
		window:   cfg.Window,
		now:      now,
		base:     base,
		seed:     maphash.MakeSeed(),
	}
	n := maxShards
	for n > 1 && maxKeys/n < minPerShard {
		n /= 2
	}
	l.SetInstances(1)
	l.mask = uint64(n - 1)
	l.shards = make([]paddedShard, n)
	// Share the bound out exactly, the remainder one each to the first
	// shards: rounding every shard's share up would let the total exceed
	// MaxKeys by up to n-1.
	for i := range l.shards {
		s := &l.shards[i].shard
		s.cap = maxKeys / n
		if i < maxKeys%n {
			s.cap++
		}
		s.sweepEvery = max(1, s.cap/8)
		s.index = make(map[string]int)
	}
	return l, nil
}

// SetInstances makes this limiter enforce its share of the limit among n
// instances that each receive about 1/n of every key's requests, as
// behind a load balancer that spreads requests evenly: a rate of
// Requests/n per Window (T is n times the whole limit's), and a burst of
// Requests/n rounded to the nearest whole request, at least one. Keys
// keep their state; the new rate applies from their next request.
// Requests and Window still report the whole limit, the one callers are
// told of. n < 1 counts as 1.
//
// The deployment then allows the configured rate within the rounding of
// T (below one request per Window per instance) and the bursts' within
// n/2 requests, when requests are spread evenly; a key whose requests
// all reach one instance gets only that instance's share.
func (l *Limiter) SetInstances(n int) {
	n = max(n, 1)
	// T·n stays within maxWindow, so that sums of times stay within an
	// int64: beyond, a share of a request per ~73 years is no limit
	// anyone will reach.
	n = int(min(int64(n), maxWindow/l.t1))
	burst := max(1, (l.requests+n/2)/n)
	t := l.t1 * int64(n)
	l.rate.Store(&rate{t: t, limit: min(int64(burst)*t, maxWindow)})
}

// Requests returns N, the number of requests allowed per Window.
func (l *Limiter) Requests() int { return l.requests }

// Window returns the period the limit is expressed over, as configured.
func (l *Limiter) Window() time.Duration { return l.window }

// Len returns the number of keys remembered, at most MaxKeys.
func (l *Limiter) Len() int {
	n := 0
	for i := range l.shards {
		s := &l.shards[i].shard
		s.mu.Lock()
		n += len(s.entries)
		s.mu.Unlock()
	}
	return n
}

// Allow records a request of key and reports whether it is within the
// limit. When it is not, the request is not counted, and retryAfter is
// how long until the key's next request would be allowed (more than 0,
// at most Window/Requests); round it up for a Retry-After header.
func (l *Limiter) Allow(key string) (ok bool, retryAfter time.Duration) {
	r := l.rate.Load()
	s := &l.shards[maphash.String(l.seed, key)&l.mask].shard
	s.mu.Lock()
	defer s.mu.Unlock()
	// The clock is read under the key's lock, so that no request of the
	// key moves its TAT between this reading and this request's use of
	// it. A reading taken before the lock could be older than the TAT
	// another request had just set from a newer one, which the step back
	// below would take for a clock that went backwards and answer by
	// moving the TAT back: under load, with requests waiting between
	// reading the clock and taking the lock, a key got more than its
	// limit. Reading the clock costs nanoseconds; the lock is one of many
	// shards.
	now := l.elapsed()
	i, known := s.index[key]
	tat := now // an unknown key is a key whose bucket is full
	if known {
		tat = max(s.entries[i].tat, now)
		if tat-now > r.limit {
			// Only a clock that went backwards leaves a TAT further
			// ahead than a full burst; waiting for the clock to catch up
			// could take arbitrarily long, so count the burst as just
			// spent instead. Stored, or the key would get the same
			// answer after waiting.
			tat = now + r.limit
			s.entries[i].tat = tat
		}
	}
	next := tat + r.t
	if wait := next - now - r.limit; wait > 0 {
		return false, time.Duration(wait)
	}
	if known {
		s.entries[i].tat = next
	} else {
		s.add(key, next, now)
	}
	return true, 0
}

// elapsed is the limiter's clock: nanoseconds since it was created. The
// system clock is read as time.Since reads it, the monotonic clock
// alone: half the cost of time.Now, which reads the wall clock too.
func (l *Limiter) elapsed() int64 {
	if l.now == nil {
		return clampTime(int64(time.Since(l.base))) // elapsed, monotonic
	}
	return l.since(l.now())
}

// since returns t in nanoseconds since the limiter was created. Sub
// saturates at about ±292 years; clamping further to ±73 years keeps
// now + N·T + T (with N·T ≤ maxWindow) and TAT - now within an int64
// however far an injected clock jumps.
func (l *Limiter) since(t time.Time) int64 {
	return clampTime(int64(t.Sub(l.base)))
}

func clampTime(ns int64) int64 { return min(max(ns, -maxWindow), maxWindow) }

// shard is one lock's worth of keys. index maps each key to its position
// in entries rather than to its TAT, so that updating a known key writes
// the slice, not the map: assigning to a string-keyed map also replaces
// the stored key with the caller's string, which would keep the caller's
// buffer (a whole request header, say) alive as long as the entry.
type shard struct {
	mu         sync.Mutex
	index      map[string]int
	entries    []entry
	cap        int // most entries this shard may hold
	hand       int // where the next eviction sample starts
	added      int // keys added since the last sweep
	sweepEvery int // keys to add between sweeps
}

type entry struct {
	key string
	tat int64 // nanoseconds since Limiter.base
}

// paddedShard is a shard alone in a 128-byte block: the shards are
// allocated together, 2^k of them, so the array is aligned to its
// power-of-two size and each shard's fields share no cache line (nor pair
// of lines, which some CPUs fetch together) with another shard's. Without
// it, cores working on different shards would still pass lines back and
// forth. The array length fails to compile if shard outgrows the block.
type paddedShard struct {
	shard
	_ [128 - unsafe.Sizeof(shard{})]byte
}

// sample is how many entries an eviction looks at: enough that the
// earliest TAT among them is likely among the earliest of the shard,
// few enough to be cheap.
const sample = 8

// add remembers a new key, making room first if the shard is full.
func (s *shard) add(key string, tat, now int64) {
	// A copy, so that the entry does not keep the caller's buffer alive.
	e := entry{key: strings.Clone(key), tat: tat}
	i := len(s.entries)
	if i >= s.cap {
		i = s.makeRoom(now)
	}
	if i < len(s.entries) {
		s.entries[i] = e
	} else {
		if i == cap(s.entries) {
			// Grow as append would, but never past the shard's bound.
			grown := make([]entry, i, min(max(2*i, 16), s.cap))
			copy(grown, s.entries)
			s.entries = grown
		}
		s.entries = append(s.entries, e)
	}
	s.index[e.key] = i
	s.added++
}

// makeRoom frees room in a full shard and returns the slot for the new
// key: len(entries) after a sweep, to append, or the slot of the entry it
// evicted, to overwrite (which spares moving another entry into it).
//
// Sweeping the expired entries costs O(cap), so it is done only once
// sweepEvery keys have been added since the last sweep, which makes it
// O(1) amortised per key: while sweeps free many entries they run every
// time the shard fills; while the shard is full of live keys, the sample
// evicts one at a time.
func (s *shard) makeRoom(now int64) int {
	if s.added >= s.sweepEvery {
		s.added = 0
		s.sweep(now)
		if len(s.entries) < s.cap {
			return len(s.entries)
		}
	}
	return s.evict()
}

// sweep drops every entry whose TAT has passed: those keys would be
// treated as new anyway.
func (s *shard) sweep(now int64) {
	j := 0
	for i, e := range s.entries {
		if e.tat <= now {
			delete(s.index, e.key)
			continue
		}
		if i != j {
			s.entries[j] = e
			s.index[e.key] = j
		}
		j++
	}
	clear(s.entries[j:]) // let the dropped keys be collected
	s.entries = s.entries[:j]
}

// evict forgets, of the sample entries from the hand on, the one with the
// earliest TAT: the key nearest to expiring, which forgetting lets
// through least early. It returns the entry's slot, which the caller must
// fill. The hand moves on, so that successive evictions look at
// different entries.
func (s *shard) evict() int {
	n := len(s.entries)
	victim := s.hand % n
	for j := 1; j < min(sample, n); j++ {
		if i := (s.hand + j) % n; s.entries[i].tat < s.entries[victim].tat {
			victim = i
		}
	}
	s.hand = (s.hand + sample) % n
	delete(s.index, s.entries[victim].key)
	return victim
}
