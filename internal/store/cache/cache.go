// Package cache is a fixed-capacity map for read-through caches in the
// stores: safe for concurrent use, bounded by its number of entries (New)
// or by the bytes its entries hold (NewSized), and evicting by CLOCK, an
// approximation of least-recently-used that lets a hit take only a read
// lock.
//
// Caches of what clients choose (pages of any size, of any cluster) are
// bounded in bytes: a bound in entries lets the memory held grow with the
// size of what each entry holds, which the client picks.
//
// Cache knows nothing of what makes an entry valid: a user keys its
// entries so that a key names immutable content or keeps in the value
// what it needs to validate a hit. Pages and Checkpoints (pages.go) are
// the two caches of checkpoints both stores keep, with the rules that
// make their entries valid written once; nothing here knows SQL.
package cache

import (
	"hash/maphash"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unsafe"
)

// Cache maps keys to values, holding at most Cap entries (New) or
// entries costing at most MaxBytes (NewSized). The zero value
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
	// cost is the bytes an entry holds beyond the cache's own bookkeeping
	// (NewSized); nil for a cache bounded in entries.
	cost func(K, V) int64
}

// shard is one lock's worth of a Cache. Entries live in slots, which grow
// up to max and then are reused in place by the CLOCK hand.
type shard[K comparable, V any] struct {
	mu    sync.RWMutex
	index map[K]int32 // slot of each key
	slots []slot[K, V]
	hand  int // next slot the CLOCK sweep looks at
	max   int
	// bytes is what the entries cost (slot.cost), at most maxBytes.
	bytes, maxBytes int64
	_               [64]byte // keeps neighbouring shards' locks off one cache line
}

type slot[K comparable, V any] struct {
	key K
	val V
	// ref is set by Get (under the read lock, atomically) and cleared by
	// the sweep (under the write lock): an entry read since the hand last
	// passed survives one more round.
	ref  uint32
	cost int64
}

// Shard sizing: up to four shards per CPU, at most maxShards, and no fewer
// than minPerShard entries in each, so that small caches are one exact
// CLOCK and large ones spread their lock traffic.
const (
	maxShards   = 64
	minPerShard = 64
	// minBytesPerShard keeps a sized cache's shards large enough for a
	// few of its largest entries (a page of 500 checkpoints of a
	// three-shard cluster is some 280 KB): an entry larger than its
	// shard's share is never kept.
	minBytesPerShard = 4 << 20
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
		s.maxBytes = math.MaxInt64
	}
	return c
}

// NewSized returns a cache whose entries hold at most maxBytes in all,
// or nil (a disabled cache) when maxBytes is 0 or less. cost tells the
// bytes an entry's value holds (what it points to included, shared
// parts as the caller decides); the cache adds its own bookkeeping per
// entry (EntryOverhead). An entry costing more than one shard's share
// of maxBytes is not kept.
func NewSized[K comparable, V any](maxBytes int64, cost func(K, V) int64) *Cache[K, V] {
	if maxBytes <= 0 {
		return nil
	}
	if cost == nil {
		cost = func(K, V) int64 { return 0 }
	}
	n := 1
	for n < maxShards && n*2 <= 4*runtime.GOMAXPROCS(0) && maxBytes/int64(n*2) >= minBytesPerShard {
		n *= 2
	}
	c := &Cache[K, V]{shards: make([]shard[K, V], n), mask: uint64(n - 1), seed: maphash.MakeSeed(), cost: cost}
	for i := range c.shards {
		s := &c.shards[i]
		s.max = math.MaxInt32
		s.maxBytes = maxBytes / int64(n)
		if int64(i) < maxBytes%int64(n) {
			s.maxBytes++
		}
		s.index = make(map[K]int32)
	}
	return c
}

// EntryOverhead is what a sized cache counts for an entry besides its
// value's cost: its slot, and its key and slot number in the index with
// the map's own overhead (about half again, Go's maps being at most 7/8
// full and carrying a control byte per entry).
func EntryOverhead[K comparable, V any]() int64 {
	var k K
	return int64(unsafe.Sizeof(slot[K, V]{})) + (int64(unsafe.Sizeof(k))+4+1)*3/2
}

func (c *Cache[K, V]) costOf(k K, v V) int64 {
	if c.cost == nil {
		return 0
	}
	return EntryOverhead[K, V]() + c.cost(k, v)
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
	cost := c.costOf(k, v)
	s := c.shard(k)
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.index[k]; ok {
		if cost > s.maxBytes-(s.bytes-s.slots[i].cost) {
			// The new value does not fit beside the rest: it goes through
			// eviction as a new entry would.
			s.removeAt(i)
		} else {
			s.bytes += cost - s.slots[i].cost
			s.slots[i].val, s.slots[i].cost = v, cost
			return
		}
	}
	if cost > s.maxBytes {
		return // larger than the whole shard: never kept
	}
	for s.bytes+cost > s.maxBytes {
		s.evict()
	}
	if len(s.slots) < s.max {
		s.slots = append(s.slots, slot[K, V]{key: k, val: v, cost: cost})
		s.index[k] = int32(len(s.slots) - 1)
		s.bytes += cost
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
		s.bytes += cost - sl.cost
		sl.key, sl.val, sl.cost = k, v, cost
		s.index[k] = int32(s.hand)
		s.advance()
		return
	}
}

// evict removes the entry CLOCK picks: the first under the hand not read
// since the hand last passed it. The shard must hold an entry.
func (s *shard[K, V]) evict() {
	for {
		sl := &s.slots[s.hand]
		if sl.ref != 0 {
			sl.ref = 0
			s.advance()
			continue
		}
		// The last slot moves under the hand and is looked at next.
		s.removeAt(int32(s.hand))
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
	if i, ok := s.index[k]; ok {
		s.removeAt(i)
	}
}

// removeAt deletes the entry in slot i.
func (s *shard[K, V]) removeAt(i int32) {
	delete(s.index, s.slots[i].key)
	s.bytes -= s.slots[i].cost
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

// Bytes returns what the entries of a sized cache cost in all, their
// bookkeeping included; 0 for a cache bounded in entries.
func (c *Cache[K, V]) Bytes() int64 {
	if c == nil {
		return 0
	}
	var n int64
	for i := range c.shards {
		s := &c.shards[i]
		s.mu.RLock()
		n += s.bytes
		s.mu.RUnlock()
	}
	return n
}

// MaxBytes returns the most a sized cache's entries cost: the maxBytes
// given to NewSized; 0 for a cache bounded in entries.
func (c *Cache[K, V]) MaxBytes() int64 {
	if c == nil || c.cost == nil {
		return 0
	}
	var n int64
	for i := range c.shards {
		n += c.shards[i].maxBytes
	}
	return n
}

// Cap returns the most entries the cache holds: the capacity given to
// New (a sized cache has no bound in entries but its bytes).
func (c *Cache[K, V]) Cap() int {
	if c == nil || c.cost != nil {
		return 0
	}
	n := 0
	for i := range c.shards {
		n += c.shards[i].max
	}
	return n
}
