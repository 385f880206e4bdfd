package cache

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
)

func TestDisabled(t *testing.T) {
	for _, n := range []int{0, -1} {
		c := New[int, int](n)
		if c != nil {
			t.Fatalf("New(%d) = %v, want nil", n, c)
		}
		c.Add(1, 1)
		c.Remove(1)
		if _, ok := c.Get(1); ok {
			t.Fatal("a disabled cache hit")
		}
		if c.Len() != 0 || c.Cap() != 0 {
			t.Fatalf("disabled: Len %d Cap %d", c.Len(), c.Cap())
		}
	}
}

func TestGetAddReplace(t *testing.T) {
	c := New[string, int](8)
	if _, ok := c.Get("a"); ok {
		t.Fatal("hit in an empty cache")
	}
	c.Add("a", 1)
	c.Add("b", 2)
	c.Add("a", 3)
	if v, ok := c.Get("a"); !ok || v != 3 {
		t.Fatalf("Get(a) = %d, %v; want 3, true", v, ok)
	}
	if v, ok := c.Get("b"); !ok || v != 2 {
		t.Fatalf("Get(b) = %d, %v; want 2, true", v, ok)
	}
	if c.Len() != 2 {
		t.Fatalf("Len %d, want 2", c.Len())
	}
}

// TestEviction checks CLOCK's order in a single-shard cache: entries read
// since the hand passed survive; the oldest unread one goes first.
func TestEviction(t *testing.T) {
	c := New[int, string](3)
	if len(c.shards) != 1 || c.Cap() != 3 {
		t.Fatalf("%d shards, Cap %d", len(c.shards), c.Cap())
	}
	c.Add(1, "one")
	c.Add(2, "two")
	c.Add(3, "three")
	c.Get(1) // recently used: survives the next eviction
	c.Add(4, "four")
	want := map[int]bool{1: true, 2: false, 3: true, 4: true}
	for k, present := range want {
		if _, ok := c.Get(k); ok != present {
			t.Errorf("after adding 4: Get(%d) hit = %v, want %v", k, ok, present)
		}
	}
	if c.Len() != 3 {
		t.Fatalf("Len %d, want 3", c.Len())
	}
	// Everything was just read; the sweep clears every bit and takes the
	// entry under the hand.
	c.Add(5, "five")
	if c.Len() != 3 {
		t.Fatalf("Len %d, want 3", c.Len())
	}
	if v, ok := c.Get(5); !ok || v != "five" {
		t.Fatalf("Get(5) = %q, %v", v, ok)
	}
}

// TestEvictionKeepsHot adds a stream of one-off keys through a cache while
// reading a hot set between adds: the hot set never leaves.
func TestEvictionKeepsHot(t *testing.T) {
	c := New[int, int](16)
	hot := []int{-1, -2, -3, -4}
	for _, k := range hot {
		c.Add(k, k)
	}
	for i := range 1000 {
		c.Add(i, i)
		for _, k := range hot {
			if _, ok := c.Get(k); !ok {
				t.Fatalf("after %d one-off adds, hot key %d was evicted", i+1, k)
			}
		}
	}
	if c.Len() != 16 {
		t.Fatalf("Len %d, want 16", c.Len())
	}
}

func TestRemove(t *testing.T) {
	c := New[int, int](4)
	for i := range 4 {
		c.Add(i, i*10)
	}
	c.Remove(1)
	c.Remove(42) // absent: nothing happens
	if _, ok := c.Get(1); ok {
		t.Fatal("removed key still there")
	}
	for _, k := range []int{0, 2, 3} {
		if v, ok := c.Get(k); !ok || v != k*10 {
			t.Fatalf("Get(%d) = %d, %v after removing another key", k, v, ok)
		}
	}
	// The freed slot is used before anything is evicted.
	c.Add(9, 90)
	for _, k := range []int{0, 2, 3, 9} {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("Get(%d) missed", k)
		}
	}
	// Remove everything, including the slot under the hand, then refill.
	for _, k := range []int{0, 2, 3, 9} {
		c.Remove(k)
	}
	if c.Len() != 0 {
		t.Fatalf("Len %d after removing all", c.Len())
	}
	for i := range 10 {
		c.Add(i, i)
	}
	if c.Len() != 4 {
		t.Fatalf("Len %d, want 4", c.Len())
	}
}

// TestCapacity checks that a sharded cache holds exactly its capacity, for
// sizes that do not divide evenly among shards.
func TestCapacity(t *testing.T) {
	for _, n := range []int{1, 63, 64, 129, 1000, 4096, 65537} {
		c := New[int, int](n)
		if c.Cap() != n {
			t.Fatalf("New(%d).Cap() = %d", n, c.Cap())
		}
		for i := range 3 * n {
			c.Add(i, i)
		}
		// Shards fill unevenly, so the whole may hold a little less than
		// the capacity; never more.
		if got := c.Len(); got > n || got < n-n/4 {
			t.Fatalf("New(%d) holds %d after %d adds", n, got, 3*n)
		}
	}
}

// TestConcurrent hammers a small sharded cache from many goroutines; run
// with -race. Every hit must return the value that was stored under its
// key.
func TestConcurrent(t *testing.T) {
	type val struct {
		key  int
		data []int
	}
	c := New[int, val](256)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for range 20000 {
				k := rng.IntN(1024)
				switch r := rng.IntN(10); {
				case r < 6:
					if v, ok := c.Get(k); ok && (v.key != k || len(v.data) != 2 || v.data[1] != k) {
						panic(fmt.Sprintf("Get(%d) returned %+v", k, v))
					}
				case r < 9:
					c.Add(k, val{key: k, data: []int{0, k}})
				default:
					c.Remove(k)
				}
			}
		})
	}
	wg.Wait()
	if c.Len() > 256 {
		t.Fatalf("Len %d over capacity", c.Len())
	}
}

func TestGetAllocs(t *testing.T) {
	type key struct{ a, b, c int64 }
	c := New[key, [4]int64](1 << 12)
	k := key{1, 2, 3}
	c.Add(k, [4]int64{1, 2, 3, 4})
	if n := testing.AllocsPerRun(1000, func() {
		if _, ok := c.Get(k); !ok {
			t.Fatal("miss")
		}
	}); n != 0 {
		t.Fatalf("Get allocates %v times", n)
	}
}

func BenchmarkGet(b *testing.B) {
	type key struct{ a, b, c int64 }
	c := New[key, [4]int64](1 << 17) // room to spare: shards fill unevenly
	for i := range 1 << 16 {
		c.Add(key{int64(i), 0, 0}, [4]int64{})
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := int64(0)
		for pb.Next() {
			i = (i + 7919) & (1<<16 - 1)
			if _, ok := c.Get(key{i, 0, 0}); !ok {
				b.Fatal("miss")
			}
		}
	})
}

func BenchmarkAdd(b *testing.B) {
	c := New[int, int](1 << 12)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.Add(i, i)
		i++
	}
}

// TestSizedBound adds entries of random costs, a few larger than a shard,
// to sized caches of several bounds: what the entries cost never exceeds
// the bound, the count kept matches the entries present, and one larger
// than its shard is never kept.
func TestSizedBound(t *testing.T) {
	// A value is the cost it declares, so that large entries take no memory.
	over := EntryOverhead[int, int64]()
	for _, bound := range []int64{1 << 10, 100 << 10, 8 << 20, 64<<20 + 3} {
		c := NewSized(bound, func(_ int, v int64) int64 { return v })
		if c.MaxBytes() != bound || c.Cap() != 0 {
			t.Fatalf("NewSized(%d): MaxBytes %d, Cap %d", bound, c.MaxBytes(), c.Cap())
		}
		share := bound / int64(len(c.shards))
		rng := rand.New(rand.NewPCG(1, uint64(bound)))
		for i := range 20000 {
			n := rng.Int64N(share / 4)
			if i%1000 == 999 {
				n = share // with its overhead, more than the shard holds
			}
			c.Add(i%5000, n)
			if got := c.Bytes(); got > bound {
				t.Fatalf("bound %d: %d bytes held after %d adds", bound, got, i+1)
			}
			if i%1000 == 999 {
				if _, ok := c.Get(i % 5000); ok {
					t.Fatalf("bound %d: an entry of %d bytes, larger than a shard's %d, was kept", bound, n+over, share)
				}
			}
		}
		// The count agrees with the entries' costs.
		var sum int64
		for i := range c.shards {
			for _, sl := range c.shards[i].slots {
				sum += sl.cost
				if sl.cost != over+sl.val {
					t.Fatalf("bound %d: slot costs %d, its value %d", bound, sl.cost, sl.val)
				}
			}
		}
		if sum != c.Bytes() || c.Len() == 0 {
			t.Fatalf("bound %d: entries cost %d, counted %d (%d entries)", bound, sum, c.Bytes(), c.Len())
		}
		// Replacing and removing keep the count.
		for i := range 5000 {
			c.Remove(i)
		}
		if c.Bytes() != 0 || c.Len() != 0 {
			t.Fatalf("bound %d: emptied, %d bytes in %d entries", bound, c.Bytes(), c.Len())
		}
	}
	if NewSized[int, int](0, nil) != nil {
		t.Fatal("NewSized(0) is not the disabled cache")
	}
}

// TestSizedKeepsHot: in a sized cache, as in a counted one, entries read
// between adds survive a stream of one-off entries.
func TestSizedKeepsHot(t *testing.T) {
	c := NewSized(64<<10, func(_ int, v []byte) int64 { return int64(len(v)) })
	hot := []int{-1, -2, -3}
	for _, k := range hot {
		c.Add(k, make([]byte, 1000))
	}
	for i := range 10000 {
		c.Add(i, make([]byte, 1000))
		for _, k := range hot {
			if _, ok := c.Get(k); !ok {
				t.Fatalf("hot entry %d evicted after %d adds", k, i+1)
			}
		}
	}
}
