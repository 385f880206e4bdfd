package httpapi

import (
	"strings"
	"sync"
	"unsafe"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// A page of 100 checkpoints takes some 12 µs to encode from prepared
// fragments (BenchmarkAppendPage), still a good share of a list request's
// time once the store serves the page from its cache, and the result is
// the same every time: a store that serves a page from
// its cache says so with the page's Version, which names its items
// (backup.Page). So the encoded results are kept, keyed by that version
// and the number of items, and by everything else they are made of: the
// surface (the representation), the base URL and the collection path of
// the links. A page without a version (read afresh) is encoded each time.

// DefaultPageBodyCacheSize bounds, in bytes, the encoded pages kept when
// Config.PageBodyCacheSize is 0: some 35 bodies of 100 checkpoints of a
// three-shard cluster (about 110 KB each), or 7 of 500. Clients choose
// the pages, so the bound is in bytes, not in bodies.
const DefaultPageBodyCacheSize = 4 << 20

type pageBodyKey struct {
	version    uint64
	n          int
	sf         *surface
	base, coll string
}

// pageBodies is a cache of encoded pages, holding at most max bytes
// (bodyCost); max 0 keeps none.
type pageBodies struct {
	mu     sync.RWMutex
	bodies map[pageBodyKey][]byte
	bytes  int64
	max    int64
}

func newPageBodies(maxBytes int64) *pageBodies {
	return &pageBodies{bodies: map[pageBodyKey][]byte{}, max: max(maxBytes, 0)}
}

// bodyCost is what an entry holds: its body and key, and the map's own
// share of an entry (key and value headers, and some slack).
func bodyCost(k pageBodyKey, body []byte) int64 {
	return int64(cap(body)+len(k.base)+len(k.coll)) + int64(unsafe.Sizeof(k)+unsafe.Sizeof(body))*3/2
}

// append appends the page's items' representations, comma separated, as
// sf.appendCheckpoints writes them with these links.
func (c *pageBodies) append(b []byte, sf *surface, base, coll string, p *backup.Page[backup.Checkpoint]) []byte {
	if len(p.Items) == 0 {
		return b
	}
	k := pageBodyKey{version: p.Version, n: len(p.Items), sf: sf, base: base, coll: coll}
	if k.version != 0 {
		c.mu.RLock()
		body, ok := c.bodies[k]
		c.mu.RUnlock()
		if ok {
			return append(b, body...)
		}
	}
	start := len(b)
	b = sf.appendCheckpoints(b, base, coll, p.Items)
	if k.version == 0 {
		return b
	}
	// The key's strings are the request's: the entry keeps copies, so
	// that it holds no request's memory beyond what it counts.
	k.base, k.coll = strings.Clone(k.base), strings.Clone(k.coll)
	body := append([]byte(nil), b[start:]...)
	cost := bodyCost(k, body)
	if cost > c.max {
		return b
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.bodies[k]; ok {
		return b
	}
	for old, ob := range c.bodies { // any ones: map order is random
		if c.bytes+cost <= c.max {
			break
		}
		delete(c.bodies, old)
		c.bytes -= bodyCost(old, ob)
	}
	c.bodies[k] = body
	c.bytes += cost
	return b
}
