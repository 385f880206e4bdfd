package ratelimit

import (
	"hash/maphash"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkAllowKnownKey is the steady state: callers the limiter already
// knows, on the real clock (whose cost is part of every request), from
// one goroutine and from GOMAXPROCS of them. In "parallel" every
// goroutine goes through all the keys, as a server's do, so each request
// finds its shard's lines in another core's cache; in "own-shards" each
// goroutine keeps to keys of its own shards, which shows what the sharding
// and padding are for: no waiting on locks, no false sharing.
func BenchmarkAllowKnownKey(b *testing.B) {
	const keys = 1024
	names := make([]string, keys)
	for i := range names {
		names[i] = "key-" + strconv.Itoa(i)
	}
	l, err := New(Config{Requests: 1 << 30, Window: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range names {
		l.Allow(k)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			l.Allow(names[i%keys])
			i++
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		var g atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			i := int(g.Add(1)) * 97
			for pb.Next() {
				l.Allow(names[i%keys])
				i++
			}
		})
	})
	b.Run("own-shards", func(b *testing.B) {
		procs := runtime.GOMAXPROCS(0)
		own := make([][]string, procs)
		for _, k := range names {
			s := int(maphash.String(l.seed, k)&l.mask) % procs
			own[s] = append(own[s], k)
		}
		b.ReportAllocs()
		var g atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			ks := own[int(g.Add(1))%procs]
			i := 0
			for pb.Next() {
				l.Allow(ks[i%len(ks)])
				i++
			}
		})
	})
}

// BenchmarkAllowNewKeys is churn: every request is of a key the limiter
// does not remember (a million keys through a limiter full at
// DefaultMaxKeys), so each one evicts another. It also reports the heap
// the full limiter holds per key, keys' bytes included.
func BenchmarkAllowNewKeys(b *testing.B) {
	const keys = 1 << 20
	names := make([]string, keys)
	for i := range names {
		names[i] = "client-" + strconv.Itoa(i) // about the length of an address
	}
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	l, err := New(Config{Requests: 100, Window: time.Minute})
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range names[:2*DefaultMaxKeys] {
		l.Allow(k)
	}
	perKey := float64(heap()-before) / float64(l.Len())
	run := func(b *testing.B, parallel bool) {
		b.ReportAllocs()
		var g atomic.Int64
		if !parallel {
			i := int(g.Add(keys / 3))
			for b.Loop() {
				l.Allow(names[i%keys])
				i++
			}
		} else {
			b.RunParallel(func(pb *testing.PB) {
				i := int(g.Add(keys / 3))
				for pb.Next() {
					l.Allow(names[i%keys])
					i++
				}
			})
		}
		b.ReportMetric(perKey, "heapB/key")
	}
	b.Run("serial", func(b *testing.B) { run(b, false) })
	b.Run("parallel", func(b *testing.B) { run(b, true) })
}
