// Package cache is a fixed-capacity map for read-through caches in the
// stores: safe for concurrent use, bounded by its number of entries, and
// evicting by CLOCK, an approximation of least-recently-used that lets a
// hit take only a read lock.
//
// Cache knows nothing of what makes an entry valid: a user keys its
// entries so that a key names immutable content or keeps in the value
// what it needs to validate a hit. Pages and Checkpoints (pages.go) are
// the two caches of checkpoints both stores keep, with the rules that
// make their entries valid written once; nothing here knows SQL.
package cache

import (
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"
)

// Cache maps keys to values, holding at most Cap entries. The zero value
// is not usable; a nil *Cache is an always-empty cache whose methods do
// nothing, which is how a store disables caching.
//
// Get copies the value out, so values should be small or hold their bulk
// behind a pointer or slice; what those point to is shared by every Get
// and must not be modified.
type Cache[K comparable, V any] struct {
	shards []shard[K, V]
	mask   uint64
	seed   maphash.Seed
}

// shard is one lock's worth of a Cache. Entries live in slots, which grow
// up to max and then are reused in place by the CLOCK hand.
type shard[K comparable, V any] struct {
	mu    sync.RWMutex
	index map[K]int32 // slot of each key
	slots []slot[K, V]
	hand  int // next slot the CLOCK sweep looks at
	max   int
	_     [64]byte // keeps neighbouring shards' locks off one cache line
}

type slot[K comparable, V any] struct {
	key K
	val V
	// ref is set by Get (under the read lock, atomically) and cleared by
	// the sweep (under the write lock): an entry read since the hand last
	// passed survives one more round.
	ref uint32
}

// Shard sizing: up to four shards per CPU, at most maxShards, and no fewer
// than minPerShard entries in each, so that small caches are one exact
// CLOCK and large ones spread their lock traffic.
const (
	maxShards   = 64
	minPerShard = 64
)

// New returns a cache holding at most capacity entries, or nil (a
// disabled cache) when capacity is 0 or less.
func New[K comparable, V any](capacity int) *Cache[K, V] {
	if capacity <= 0 {
		return nil
	}
	n := 1
	for n < maxShards && n*2 <= 4*runtime.GOMAXPROCS(0) && capacity/(n*2) >= minPerShard {
		n *= 2
	}
	c := &Cache[K, V]{shards: make([]shard[K, V], n), mask: uint64(n - 1), seed: maphash.MakeSeed()}
	for i := range c.shards {
		s := &c.shards[i]
		s.max = capacity / n
		if i < capacity%n {
			s.max++
		}
		s.index = make(map[K]int32)
	}
	return c
}

func (c *Cache[K, V]) shard(k K) *shard[K, V] {
	if c.mask == 0 {
		return &c.shards[0]
	}
	return &c.shards[maphash.Comparable(c.seed, k)&c.mask]
}

// Get returns the value stored under k. A hit takes a read lock and
// allocates nothing.
func (c *Cache[K, V]) Get(k K) (v V, ok bool) {
	if c == nil {
		return v, false
	}
	s := c.shard(k)
	s.mu.RLock()
	i, ok := s.index[k]
	if ok {
		sl := &s.slots[i]
		v = sl.val
		// Only the first hit after a sweep writes, so that hot entries do
		// not bounce their cache line between CPUs.
		if atomic.LoadUint32(&sl.ref) == 0 {
			atomic.StoreUint32(&sl.ref, 1)
		}
	}
	s.mu.RUnlock()
	return v, ok
}

// Add stores v under k, replacing any value already there. When the
// cache is full it evicts an entry not read since the CLOCK hand last
// passed it.
func (c *Cache[K, V]) Add(k K, v V) {
	if c == nil {
		return
	}
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[k]; ok {
		s.slots[i].val = v
		return
	}
	if len(s.slots) < s.max {
		s.slots = append(s.slots, slot[K, V]{key: k, val: v})
		s.index[k] = int32(len(s.slots) - 1)
		return
	}
	for {
		sl := &s.slots[s.hand]
		if sl.ref != 0 {
			sl.ref = 0
			s.advance()
			continue
		}
		delete(s.index, sl.key)
		sl.key, sl.val = k, v
		s.index[k] = int32(s.hand)
		s.advance()
		return
	}
}

func (s *shard[K, V]) advance() {
	if s.hand++; s.hand >= len(s.slots) {
		s.hand = 0
	}
}

// Remove deletes the entry under k, if any.
func (c *Cache[K, V]) Remove(k K) {
	if c == nil {
		return
	}
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	i, ok := s.index[k]
	if !ok {
		return
	}
	delete(s.index, k)
	// Move the last slot into the hole, so that slots stay dense.
	last := len(s.slots) - 1
	if int(i) != last {
		s.slots[i] = s.slots[last]
		s.index[s.slots[i].key] = i
	}
	s.slots[last] = slot[K, V]{} // drop the references it held
	s.slots = s.slots[:last]
	if s.hand >= len(s.slots) {
		s.hand = 0
	}
}

// Len returns the number of entries.
func (c *Cache[K, V]) Len() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += len(s.slots)
		s.mu.RUnlock()
	}
	return n
}

// Cap returns the most entries the cache holds: the capacity given to New.
func (c *Cache[K, V]) Cap() int {
	if c == nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		n += c.shards[i].max
	}
	return n
}
