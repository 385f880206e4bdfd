package httpapi

import (
	"sync"
	"unsafe"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// A page of 100 checkpoints takes tens of microseconds to encode, most of
// a list request's time once the store serves the page from its cache,
// and the result is the same every time: checkpoints are immutable, and a
// store's cache hands every request for a page the very same array. So
// the encoded results are kept, keyed by that array (its address and the
// number of items) and by everything else they are made of: the surface
// (the representation), the base URL and the collection path of the
// links. An entry holds the array, so that its address cannot name
// another array while the entry lives.
//
// A page a store read afresh (its cache off or missed) comes in a new
// array each time, which would only churn the entries; so a page is kept
// the second time its array is seen, and the first sighting costs one
// small map entry.

// maxPageBodies bounds the encoded pages kept: about 110 KB each for a
// page of 100 checkpoints of a three-shard cluster, and the page's own
// checkpoints (about 55 KB) when the store has dropped them meanwhile, so
// at most about 10 MB.
const maxPageBodies = 64

type pageBodyKey struct {
	items      uintptr // address of the first item
	n          int
	sf         *surface
	base, coll string
}

type pageBody struct {
	items []backup.Checkpoint // keeps the array, and so its address, to this entry
	body  []byte
}

type pageBodies struct {
	mu     sync.RWMutex
	bodies map[pageBodyKey]*pageBody
	seen   map[pageBodyKey]struct{}
	max    int
}

func newPageBodies(max int) *pageBodies {
	return &pageBodies{bodies: map[pageBodyKey]*pageBody{}, seen: map[pageBodyKey]struct{}{}, max: max}
}

// append appends the items' representations, comma separated, as
// sf.appendCheckpoint writes them with these links.
func (c *pageBodies) append(b []byte, sf *surface, base, coll string, items []backup.Checkpoint) []byte {
	if len(items) == 0 {
		return b
	}
	k := pageBodyKey{items: uintptr(unsafe.Pointer(&items[0])), n: len(items), sf: sf, base: base, coll: coll}
	c.mu.RLock()
	e := c.bodies[k]
	c.mu.RUnlock()
	if e != nil {
		return append(b, e.body...)
	}
	start := len(b)
	for i := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = sf.appendCheckpoint(b, base, coll, &items[i])
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, again := c.seen[k]; !again {
		if len(c.seen) >= c.max {
			clear(c.seen)
		}
		c.seen[k] = struct{}{}
		return b
	}
	delete(c.seen, k)
	if len(c.bodies) >= c.max {
		for old := range c.bodies { // any one: map order is random
			delete(c.bodies, old)
			break
		}
	}
	c.bodies[k] = &pageBody{items: items, body: append([]byte(nil), b[start:]...)}
	return b
}
