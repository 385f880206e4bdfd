package httpapi

import (
	"slices"
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

// The links' collection path is made of the surface, the group and the
// cluster's label (checkpointsPath): the key holds those, so that a
// request whose representation is kept need not build the path.
type checkpointBodyKey struct {
	id, group, clusterID backup.ObjectID
	clusterName          string
	sf                   *surface
	base                 string
}

type checkpointBody struct {
	cp   backup.Checkpoint
	body []byte
	size int64 // counted in checkpointBodies.bytes: the body and its links
}

type checkpointBodies struct {
	mu     sync.RWMutex
	bodies map[checkpointBodyKey]*checkpointBody
	bytes  int64 // of the bodies and their links (base and collection)
	max    int64 // not positive: none kept
}

func newCheckpointBodies(max int64) *checkpointBodies {
	return &checkpointBodies{bodies: map[checkpointBodyKey]*checkpointBody{}, max: max}
}

// append appends cp's representation, as sf.appendCheckpoint writes it
// with these links, ref's collection (checkpointsPath) theirs.
func (c *checkpointBodies) append(b []byte, sf *surface, base string, ref backup.ClusterRef, cp *backup.Checkpoint) []byte {
	k := checkpointBodyKey{id: cp.ID, group: ref.GroupID, clusterID: ref.ID, clusterName: ref.Name, sf: sf, base: base}
	c.mu.RLock()
	e, ok := c.bodies[k]
	c.mu.RUnlock()
	if ok && sameCheckpoint(&e.cp, cp) {
		return append(b, e.body...)
	}
	coll := sf.checkpointsPath(ref)
	start := len(b)
	enc := *cp // the encoder's: cp stays the caller's, on its stack
	b = sf.appendCheckpoint(b, base, coll, &enc)
	size := int64(len(b) - start + len(base) + len(coll))
	if size > c.max {
		return b
	}
	e = &checkpointBody{cp: *cp, body: append([]byte(nil), b[start:]...), size: size}
	e.cp.Parts = slices.Clone(cp.Parts)          // the entry's own: nothing the caller holds
	k.clusterName = strings.Clone(k.clusterName) // not the request's memory
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.bodies[k]; ok {
		c.bytes -= old.size
		delete(c.bodies, k)
	}
	for old, oe := range c.bodies { // in random order: map order is
		if c.bytes+size <= c.max {
			break
		}
		c.bytes -= oe.size
		delete(c.bodies, old)
	}
	c.bodies[k] = e
	c.bytes += size
	return b
}

// sameCheckpoint reports whether a and b hold the same values: those
// appendCheckpoint reads.
func sameCheckpoint(a, b *backup.Checkpoint) bool {
	return a.ID == b.ID && a.ClusterID == b.ClusterID && a.GroupID == b.GroupID &&
		a.Started.Equal(b.Started) && a.Completed.Equal(b.Completed) && a.Timestamp.Equal(b.Timestamp) &&
		a.Restorable == b.Restorable && slices.EqualFunc(a.Parts, b.Parts, samePart)
}

func samePart(a, b backup.Part) bool {
	return a.Type == b.Type && a.ShardName == b.ShardName && a.ReplicaSetName == b.ReplicaSetName &&
		a.HostID == b.HostID && a.TokenDiscovered == b.TokenDiscovered &&
		a.TokenTimestamp.Increment == b.TokenTimestamp.Increment && a.TokenTimestamp.Date.Equal(b.TokenTimestamp.Date)
}
