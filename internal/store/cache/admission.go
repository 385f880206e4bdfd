package cache

import "sync/atomic"

// Admission remembers, roughly, which pages were read lately, so that a
// store caches a page read from its blocks only on its second read: a
// client walking a large cluster at random seldom asks for a page again,
// and decoding such a page into checkpoint values (some 70 KB for 100,
// all of it for the collector to scan while cached) and encoding it from
// them costs more than encoding it from its blocks; a page asked for
// again, as a client reading the newest pages does, is cached on its
// second read. The memory is a table of hashes of page keys, each slot
// overwritten by the next key that lands on it. The zero value is ready
// to use and safe for concurrent use.
type Admission struct {
	recent [512]atomic.Uint64
}

// Admit records k and reports whether it was read lately.
func (a *Admission) Admit(k PageKey) bool {
	h := uint64(k.Cluster)*0x9e3779b97f4a7c15 ^ uint64(k.Epoch)*0xc2b2ae3d27d4eb4f ^
		uint64(k.From)*0x165667b19e3779f9 ^ uint64(k.Size)*0x27d4eb2f165667c5
	h ^= h >> 29
	h |= 1 // 0 is an empty slot
	return a.recent[h%uint64(len(a.recent))].Swap(h) == h
}
