package httpapi

import (
	"sync"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// A page of 100 checkpoints takes tens of microseconds to encode, most of
// a list request's time once the store serves the page from its cache,
// and the result is the same every time: a store that serves a page from
// its cache says so with the page's Version, which names its items
// (backup.Page). So the encoded results are kept, keyed by that version
// and the number of items, and by everything else they are made of: the
// surface (the representation), the base URL and the collection path of
// the links. A page without a version (read afresh) is encoded each time.

// maxPageBodies bounds the encoded pages kept: about 110 KB each for a
// page of 100 checkpoints of a three-shard cluster, so at most about
// 7 MB.
const maxPageBodies = 64

type pageBodyKey struct {
	version    uint64
	n          int
	sf         *surface
	base, coll string
}

type pageBodies struct {
	mu     sync.RWMutex
	bodies map[pageBodyKey][]byte
	max    int
}

func newPageBodies(max int) *pageBodies {
	return &pageBodies{bodies: map[pageBodyKey][]byte{}, max: max}
}

// append appends the page's items' representations, comma separated, as
// sf.appendCheckpoint writes them with these links.
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
	for i := range p.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = sf.appendCheckpoint(b, base, coll, &p.Items[i])
	}
	if k.version == 0 {
		return b
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bodies) >= c.max {
		for old := range c.bodies { // any one: map order is random
			delete(c.bodies, old)
			break
		}
	}
	c.bodies[k] = append([]byte(nil), b[start:]...)
	return b
}
