package ratelimit

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestNew(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"valid", Config{Requests: 100, Window: time.Minute}, true},
		{"T of 1ns", Config{Requests: 5, Window: 5}, true},
		{"longest window", Config{Requests: 1, Window: maxWindow}, true},
		{"zero requests", Config{Requests: 0, Window: time.Minute}, false},
		{"negative requests", Config{Requests: -1, Window: time.Minute}, false},
		{"zero window", Config{Requests: 1, Window: 0}, false},
		{"negative window", Config{Requests: 1, Window: -time.Minute}, false},
		{"window too long", Config{Requests: 1, Window: maxWindow + 1}, false},
		{"T would be 0", Config{Requests: 6, Window: 5}, false},
		{"negative MaxKeys", Config{Requests: 1, Window: time.Minute, MaxKeys: -1}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, err := New(tt.cfg)
			if (err == nil) != tt.ok {
				t.Fatalf("New(%+v) error %v, want ok %v", tt.cfg, err, tt.ok)
			}
			if err != nil {
				return
			}
			if l.Requests() != tt.cfg.Requests || l.Window() != tt.cfg.Window {
				t.Errorf("Requests(), Window() = %d, %v; want %d, %v", l.Requests(), l.Window(), tt.cfg.Requests, tt.cfg.Window)
			}
			if ok, _ := l.Allow("k"); !ok {
				t.Error("first request refused")
			}
		})
	}
}

// TestShards checks that the shares of the bound add up to MaxKeys
// exactly, that no shard gets nothing, and that small bounds get fewer
// shards rather than tiny ones.
func TestShards(t *testing.T) {
	for _, tt := range []struct {
		maxKeys, shards int
	}{
		{0, maxShards}, // DefaultMaxKeys
		{1, 1},
		{15, 1},
		{16, 1},
		{32, 2},
		{1000, 32},
		{1001, 32},
		{1024, 64},
		{1 << 20, 64},
	} {
		t.Run(strconv.Itoa(tt.maxKeys), func(t *testing.T) {
			l, _ := newLimiter(t, 1, time.Minute, tt.maxKeys)
			if len(l.shards) != tt.shards {
				t.Errorf("%d shards, want %d", len(l.shards), tt.shards)
			}
			want := tt.maxKeys
			if want == 0 {
				want = DefaultMaxKeys
			}
			sum := 0
			for i := range l.shards {
				c := l.shards[i].cap
				if c < 1 {
					t.Errorf("shard %d holds %d keys", i, c)
				}
				sum += c
			}
			if sum != want {
				t.Errorf("shards hold %d keys in all, want %d", sum, want)
			}
		})
	}
}

// TestBurst: a fresh key may make exactly N requests at once; the next is
// refused and told to wait T.
func TestBurst(t *testing.T) {
	for _, tt := range limits {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLimiter(t, tt.requests, tt.window, 0)
			allowN(t, l, "k", tt.requests)
			expect(t, l, "k", false, interval(tt.requests, tt.window))
		})
	}
}

// TestRetryAfter: while refused, retryAfter counts down to the next
// slot, and is exact: a nanosecond early is still refused.
func TestRetryAfter(t *testing.T) {
	for _, tt := range limits {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLimiter(t, tt.requests, tt.window, 0)
			T := interval(tt.requests, tt.window)
			allowN(t, l, "k", tt.requests)
			expect(t, l, "k", false, T)
			for _, wait := range []time.Duration{T / 3, T / 2, T - 1} {
				if wait == 0 {
					continue
				}
				c.SetSince0(wait)
				expect(t, l, "k", false, T-wait)
			}
			c.SetSince0(T)
			expect(t, l, "k", true, 0)
			expect(t, l, "k", false, T)
		})
	}
}

// TestOnePerInterval: once the burst is spent, exactly one request per T
// is allowed, however many are tried; after idling a whole window the
// full burst is back.
func TestOnePerInterval(t *testing.T) {
	for _, tt := range limits {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLimiter(t, tt.requests, tt.window, 0)
			T := interval(tt.requests, tt.window)
			allowN(t, l, "k", tt.requests)
			for range 3 * tt.requests {
				c.Advance(T)
				expect(t, l, "k", true, 0)
				expect(t, l, "k", false, T)
			}
			c.Advance(T * time.Duration(tt.requests))
			allowN(t, l, "k", tt.requests)
			expect(t, l, "k", false, T)
		})
	}
}

// TestRefusedDoNotConsume: a caller hammering a limited key does not
// push its recovery further away.
func TestRefusedDoNotConsume(t *testing.T) {
	for _, tt := range limits {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLimiter(t, tt.requests, tt.window, 0)
			T := interval(tt.requests, tt.window)
			allowN(t, l, "k", tt.requests)
			for range 1000 {
				expect(t, l, "k", false, T)
			}
			c.Advance(T)
			expect(t, l, "k", true, 0)
			c.Advance(T * time.Duration(tt.requests))
			for range 1000 {
				l.Allow("other") // refused or not, other keys change nothing
			}
			allowN(t, l, "k", tt.requests)
		})
	}
}

func TestKeysIndependent(t *testing.T) {
	const n = 3
	l, c := newLimiter(t, n, time.Minute, 0)
	T := interval(n, time.Minute)
	allowN(t, l, "a", n)
	expect(t, l, "a", false, T)
	allowN(t, l, "b", 1) // b is fresh whatever a did
	c.Advance(T / 2)
	allowN(t, l, "b", n-1)
	expect(t, l, "b", false, T-T/2)
	expect(t, l, "a", false, T-T/2) // and a is as b left it
	if got := l.Len(); got != 2 {
		t.Errorf("Len() = %d, want 2", got)
	}
}

// TestMemoryBound sends 100,000 distinct keys through a limiter bounded
// at 1,000, with the clock creeping forward, while one active key stays
// limited: the bound must hold throughout, and the active key, whose TAT
// is later than any idle key's, must keep its state.
func TestMemoryBound(t *testing.T) {
	const (
		n       = 10
		window  = time.Minute
		maxKeys = 1000
		keys    = 100_000
	)
	T := interval(n, window)
	l, c := newLimiter(t, n, window, maxKeys)
	allowN(t, l, "active", n)
	for i := range keys {
		if ok, _ := l.Allow("idle-" + strconv.Itoa(i)); !ok {
			t.Fatalf("new key %d refused", i)
		}
		if i%100 == 99 {
			c.Advance(time.Millisecond)
			if got := l.Len(); got > maxKeys {
				t.Fatalf("after %d keys, Len() = %d > %d", i+1, got, maxKeys)
			}
		}
		if i%1000 == 999 {
			// Refused, so it does not change its state, and 1 s in all
			// is less than the T it waits for.
			if ok, _ := l.Allow("active"); ok {
				t.Fatalf("after %d keys, the active key was forgotten", i+1)
			}
		}
	}
	if got := l.Len(); got > maxKeys || got < maxKeys*9/10 {
		t.Errorf("Len() = %d, want at most %d and nearly full", got, maxKeys)
	}
	expect(t, l, "active", false, T-c.Since0())
}

// TestSweepDropsExpired: when a shard fills, the keys whose TAT has
// passed all go at once, before any live key is considered.
func TestSweepDropsExpired(t *testing.T) {
	const n = 2
	T := interval(n, time.Minute)
	l, c := newLimiter(t, n, time.Minute, minPerShard) // one shard
	for i := range minPerShard / 2 {
		allowN(t, l, "old-"+strconv.Itoa(i), 1)
	}
	c.Advance(T)
	for i := range minPerShard / 2 {
		allowN(t, l, "live-"+strconv.Itoa(i), n)
	}
	if got := l.Len(); got != minPerShard {
		t.Fatalf("Len() = %d, want %d", got, minPerShard)
	}
	allowN(t, l, "new", 1)
	if got, want := l.Len(), minPerShard/2+1; got != want {
		t.Errorf("Len() = %d, want %d: the expired keys should all be gone", got, want)
	}
	for i := range minPerShard / 2 {
		expect(t, l, "live-"+strconv.Itoa(i), false, T)
	}
}

// TestEvictionFailsOpen: with room for one key, a second key is not
// refused for want of room; the first is forgotten instead, and its next
// request is treated as a fresh key's.
func TestEvictionFailsOpen(t *testing.T) {
	l, _ := newLimiter(t, 1, time.Minute, 1)
	allowN(t, l, "a", 1)
	expect(t, l, "a", false, time.Minute)
	allowN(t, l, "b", 1)
	if got := l.Len(); got != 1 {
		t.Fatalf("Len() = %d, want 1", got)
	}
	allowN(t, l, "a", 1) // through early: a was forgotten
	expect(t, l, "a", false, time.Minute)
}

// TestConcurrent runs under -race. With the clock stopped, each key must
// get exactly its burst, however the requests interleave; with a small
// bound and the clock moving, the bound must hold.
func TestConcurrent(t *testing.T) {
	const goroutines = 16
	t.Run("exact burst", func(t *testing.T) {
		const n, keys, perG = 50, 8, 400
		l, _ := newLimiter(t, n, time.Minute, 0)
		var allowed [keys]atomic.Int64
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range perG {
					k := (g + i) % keys
					if ok, _ := l.Allow("key-" + strconv.Itoa(k)); ok {
						allowed[k].Add(1)
					}
				}
			})
		}
		wg.Wait()
		for k := range allowed {
			if got := allowed[k].Load(); got != n {
				t.Errorf("key %d: %d allowed, want %d", k, got, n)
			}
		}
	})
	t.Run("bound", func(t *testing.T) {
		const maxKeys = 2 * minPerShard
		l, c := newLimiter(t, 3, time.Second, maxKeys)
		var wg sync.WaitGroup
		for g := range goroutines {
			wg.Go(func() {
				for i := range 2000 {
					l.Allow(fmt.Sprintf("g%d-%d", g, i%100))
					if i%10 == 0 {
						c.Advance(time.Millisecond)
					}
					if i%100 == 0 {
						if got := l.Len(); got > maxKeys {
							t.Errorf("Len() = %d > %d", got, maxKeys)
						}
					}
				}
			})
		}
		wg.Wait()
		if got := l.Len(); got > maxKeys {
			t.Errorf("Len() = %d > %d", got, maxKeys)
		}
	})
}

// TestClockBackwards: a clock that steps back, by a little or by
// centuries, must not panic, must not hand out a fresh burst, and must
// not lock the key out until it catches up: the key waits at most T.
func TestClockBackwards(t *testing.T) {
	const n = 5
	T := interval(n, time.Minute)
	far := time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name     string
		from, to time.Time // the burst is spent at from, then the clock reads to
		// beyond says to is more than maxWindow before the limiter's
		// creation, where its clock stands still.
		beyond bool
	}{
		{"1ns", epoch.Add(time.Hour), epoch.Add(time.Hour - 1), false},
		{"T", epoch.Add(time.Hour), epoch.Add(time.Hour - T), false},
		{"window", epoch.Add(time.Hour), epoch.Add(time.Hour - time.Minute), false},
		{"a day", epoch.Add(time.Hour), epoch.Add(-23 * time.Hour), false},
		{"from far future", far, epoch, false},
		{"to the zero time", epoch, time.Time{}, true},
		{"beyond Sub's range", far, time.Date(-100000, 1, 1, 0, 0, 0, 0, time.UTC), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, c := newLimiter(t, n, time.Minute, 0)
			c.Set(tt.from)
			allowN(t, l, "k", n)
			c.Set(tt.to)
			ok, retry := l.Allow("k")
			if ok || retry <= 0 || retry > T {
				t.Fatalf("Allow after the step back = %v, %v; want refused, for at most %v", ok, retry, T)
			}
			if tt.beyond {
				c.Set(epoch.Add(time.Hour))
			} else {
				c.Advance(retry)
				allowN(t, l, "k", 1)
				c.Advance(time.Duration(n) * T)
			}
			allowN(t, l, "k", n)
			allowN(t, l, "fresh", n)
		})
	}
}

func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	l, c := newLimiter(t, 1<<20, time.Minute, 1024)
	allowN(t, l, "known", 1)
	if a := testing.AllocsPerRun(1000, func() { l.Allow("known") }); a != 0 {
		t.Errorf("known key: %v allocations, want 0", a)
	}
	keys := make([]string, 20_000)
	for i := range keys {
		keys[i] = "key-" + strconv.Itoa(i)
	}
	for _, k := range keys[:5000] { // fill every shard
		l.Allow(k)
	}
	i := 5000
	a := testing.AllocsPerRun(10_000, func() {
		l.Allow(keys[i])
		i++
		c.Advance(time.Microsecond)
	})
	if a > 1 {
		t.Errorf("new key: %v allocations, want at most 1 (its copy)", a)
	}
}
