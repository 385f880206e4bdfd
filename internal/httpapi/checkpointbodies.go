package httpapi

import (
	"strings"
	"sync"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// A single checkpoint's representation is a few microseconds of encoding
// (a few percent of a cached get-one request's time) and, a checkpoint
// being immutable, the same bytes every time for the same surface and
// links. So the encoded results are kept, bounded in bytes, keyed by the
// checkpoint's id and by everything else they are made of: the surface,
// the base URL and the collection path of the links.
//
// The key alone does not promise the same checkpoint: an id names one
// checkpoint, but a store's contract does not forbid a checkpoint deleted
// and stored again under its id with other values. So an entry keeps the
// checkpoint it encodes and is served only for one equal to it, field by
// field and part by part: a few comparisons, far cheaper than encoding.

// checkpointBodyShare: the single checkpoints' representations may take
// 1/checkpointBodyShare of Config.PageBodyCacheSize, the pages the rest:
// some 1.1 KB each for a three-shard cluster's checkpoint, so about 900
// with the default.
const checkpointBodyShare = 4

// An entry is found by the checkpoint's id alone, then among the id's
// variants (other surfaces, link bases, cluster references: rarely more
// than one) by comparing their links: hashing the whole key (three ids,
// two strings and the surface) was a third of a kept checkpoint's cost.
// The links' collection path is made of the surface, the group and the
// cluster's label (checkpointsPath): the entry holds those, so that a
// request whose representation is kept need not build the path.
type checkpointBody struct {
	sf               *surface
	base             string
	group, clusterID backup.ObjectID
	clusterName      string
	cp               backup.Checkpoint
	body             []byte
	size             int64           // counted in checkpointBodies.bytes: the body and its links
	next             *checkpointBody // another variant of the same id
}

// maxVariants bounds the variants kept of one checkpoint: a client
// sending a new Host with every request must not make a lookup a walk.
const maxVariants = 8

// linksOf reports whether e was encoded with these links.
func (e *checkpointBody) linksOf(sf *surface, base string, ref backup.ClusterRef) bool {
	return e.sf == sf && e.group == ref.GroupID && e.clusterID == ref.ID && e.clusterName == ref.Name && e.base == base
}

type checkpointBodies struct {
	mu     sync.RWMutex
	bodies map[backup.ObjectID]*checkpointBody // by checkpoint id, its variants chained
	bytes  int64                               // of the bodies and their links (base and collection)
	max    int64                               // not positive: none kept
}

func newCheckpointBodies(max int64) *checkpointBodies {
	return &checkpointBodies{bodies: map[backup.ObjectID]*checkpointBody{}, max: max}
}

// kept returns cp's representation with these links if it is kept, or
// nil: bytes the caller must not modify.
func (c *checkpointBodies) kept(sf *surface, base string, ref backup.ClusterRef, cp *backup.Checkpoint) []byte {
	c.mu.RLock()
	defer c.mu.RUnlock()
	for e := c.bodies[cp.ID]; e != nil; e = e.next {
		if e.linksOf(sf, base, ref) {
			if sameCheckpoint(&e.cp, cp) {
				return e.body
			}
			return nil
		}
	}
	return nil
}

// append appends cp's representation, as sf.appendCheckpoint writes it
// with these links, ref's collection (checkpointsPath) theirs.
func (c *checkpointBodies) append(b []byte, sf *surface, base string, ref backup.ClusterRef, cp *backup.Checkpoint) []byte {
	if body := c.kept(sf, base, ref, cp); body != nil {
		return append(b, body...)
	}
	coll := sf.checkpointsPath(ref)
	start := len(b)
	enc := *cp // the encoder's: cp stays the caller's, on its stack
	b = sf.appendCheckpoint(b, base, coll, &enc)
	size := int64(len(b) - start + len(base) + len(coll))
	if size > c.max {
		return b
	}
	// The entry keeps cp's parts as they are, not a copy: a store never
	// modifies a checkpoint it returned (Store), so while a store hands
	// out the same array (its cache does) the parts are the same at a
	// glance (sameCheckpoint).
	e := &checkpointBody{sf: sf, base: base, group: ref.GroupID, clusterID: ref.ID,
		clusterName: strings.Clone(ref.Name), // not the request's memory
		cp:          *cp, body: append([]byte(nil), b[start:]...), size: size}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The id's other variants, but the one with these links (replaced)
	// and those past the bound.
	var keep, last *checkpointBody
	n := 1
	for v := c.bodies[cp.ID]; v != nil; {
		next := v.next
		v.next = nil
		switch {
		case v.linksOf(sf, base, ref) || n == maxVariants:
			c.bytes -= v.size
		case last == nil:
			keep, last = v, v
			n++
		default:
			last.next, last = v, v
			n++
		}
		v = next
	}
	delete(c.bodies, cp.ID)
	for old, oe := range c.bodies { // in random order: map order is
		if c.bytes+size <= c.max {
			break
		}
		for ; oe != nil; oe = oe.next {
			c.bytes -= oe.size
		}
		delete(c.bodies, old)
	}
	for c.bytes+size > c.max && keep != nil { // the id's own other variants, last
		c.bytes -= keep.size
		keep = keep.next
	}
	e.next = keep
	c.bodies[cp.ID] = e
	c.bytes += size
	return b
}

// sameCheckpoint reports whether a and b hold the same values: those
// appendCheckpoint reads. Parts in the same array are the same parts:
// checkpoints a Store returned are never modified.
func sameCheckpoint(a, b *backup.Checkpoint) bool {
	if a.ID != b.ID || a.ClusterID != b.ClusterID || a.GroupID != b.GroupID || a.Restorable != b.Restorable ||
		!a.Started.Equal(b.Started) || !a.Completed.Equal(b.Completed) || !a.Timestamp.Equal(b.Timestamp) ||
		len(a.Parts) != len(b.Parts) {
		return false
	}
	if len(a.Parts) == 0 || &a.Parts[0] == &b.Parts[0] {
		return true // the same array: the same parts, since none is ever modified (Store)
	}
	for i := range a.Parts {
		if !samePart(&a.Parts[i], &b.Parts[i]) {
			return false
		}
	}
	return true
}

// samePart takes pointers: a Part is some hundred bytes, copied twice
// per part by a comparison taking values.
func samePart(a, b *backup.Part) bool {
	return a.Type == b.Type && a.TokenDiscovered == b.TokenDiscovered && a.TokenTimestamp.Increment == b.TokenTimestamp.Increment &&
		a.ShardName == b.ShardName && a.ReplicaSetName == b.ReplicaSetName && a.HostID == b.HostID &&
		a.TokenTimestamp.Date.Equal(b.TokenTimestamp.Date)
}
