package cache

import (
	"sync/atomic"
	"unsafe"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// The caches of checkpoints both stores keep, on two facts their
// cache.go files argue: checkpoints are immutable, and a cluster's epoch
// changes in the same transaction as any write that deletes or moves one
// of its checkpoint rows. A (cluster, epoch) pair therefore names one
// history in which every seq holds one checkpoint, growing only by
// appends and inserts before the first. What is left to the stores is
// SQL: reading the reference, the epoch and the seq bounds in one
// statement before they ask these caches anything.

// PageKey names a page: Size checkpoints from seq From, in one epoch of
// one cluster (its primary key).
type PageKey struct {
	Cluster, Epoch, From, Size int64
}

// Pages holds pages of checkpoints, each as its seqs held when it was
// read: a prefix of that page in any snapshot at the same epoch. A nil
// *Pages caches nothing.
type Pages struct {
	c *Cache[PageKey, pageEntry]
}

// pageEntry is a page as read, sharing its backing array with every
// reader, and the version that names that array.
type pageEntry struct {
	items   []backup.Checkpoint
	version uint64
}

// versions hands out page versions, process-wide, so that no two entries
// of any store ever share one.
var versions atomic.Uint64

// NewPages returns a cache of pages holding at most maxBytes, or nil
// when maxBytes is 0 or less.
func NewPages(maxBytes int64) *Pages {
	c := NewSized(maxBytes, func(_ PageKey, e pageEntry) int64 { return ItemsCost(e.items) })
	if c == nil {
		return nil
	}
	return &Pages{c: c}
}

// Page answers page from the cache, for a cluster whose epoch and seq
// bounds (first..last, empty when last < first) were just read in one
// snapshot: past the end, the empty page; otherwise the cached prefix
// the bounds ask for, when an entry holds that many. Items and Total are
// then of that one snapshot, even when the entry was read from a newer
// one. Version is the entry's, so that callers may keep what they make
// of the page (backup.Page). ok is false when the store must read the
// page.
func (p *Pages) Page(cluster, epoch, first, last, offset int64, page backup.PageRequest) (out backup.Page[backup.Checkpoint], ok bool) {
	if p == nil {
		return out, false
	}
	count := last - first + 1
	if page.IncludeCount {
		out.Total = int(count)
	}
	if offset >= count {
		out.Items = []backup.Checkpoint{}
		return out, true
	}
	from := first + offset
	n := min(int64(page.Size), last+1-from)
	e, found := p.c.Get(PageKey{Cluster: cluster, Epoch: epoch, From: from, Size: int64(page.Size)})
	if !found || int64(len(e.items)) < n {
		return out, false
	}
	out.Items, out.Version = e.items[:n:n], e.version
	return out, true
}

// Add keeps items, read as the page k, under a new version.
func (p *Pages) Add(k PageKey, items []backup.Checkpoint) {
	if p == nil {
		return
	}
	p.c.Add(k, pageEntry{items: items, version: versions.Add(1)})
}

// Sizes of what entries hold, for their cost.
var (
	checkpointSize = int64(unsafe.Sizeof(backup.Checkpoint{}))
	partSize       = int64(unsafe.Sizeof(backup.Part{}))
)

// ItemsCost is what a page's items hold: the backing array of its
// checkpoints, as allocated (its capacity), and their parts. The names in
// parts are not counted: the stores' decoders intern them, so one copy
// serves every part of a cluster.
func ItemsCost(items []backup.Checkpoint) int64 {
	n := int64(cap(items)) * checkpointSize
	for i := range items {
		n += partsCost(items[i].Parts)
	}
	return n
}

func partsCost(parts []backup.Part) int64 { return int64(cap(parts)) * partSize }

// Len returns the number of pages held.
func (p *Pages) Len() int {
	if p == nil {
		return 0
	}
	return p.c.Len()
}

// Checkpoints holds single checkpoints by id, each with the cluster and
// epoch it was read at. An entry is right for a reference that resolves,
// in a snapshot taken after the entry was found, to that cluster at that
// epoch. A nil *Checkpoints caches nothing.
type Checkpoints struct {
	c *Cache[backup.ObjectID, checkpointEntry]
}

type checkpointEntry struct {
	cp             backup.Checkpoint
	cluster, epoch int64
}

// NewCheckpoints returns a cache of checkpoints holding at most
// maxBytes, or nil when maxBytes is 0 or less.
func NewCheckpoints(maxBytes int64) *Checkpoints {
	c := NewSized(maxBytes, func(_ backup.ObjectID, e checkpointEntry) int64 { return partsCost(e.cp.Parts) })
	if c == nil {
		return nil
	}
	return &Checkpoints{c: c}
}

// Get returns the checkpoint cached under id and the cluster and epoch
// it was read at.
func (c *Checkpoints) Get(id backup.ObjectID) (cp backup.Checkpoint, cluster, epoch int64, ok bool) {
	if c == nil {
		return cp, 0, 0, false
	}
	e, ok := c.c.Get(id)
	return e.cp, e.cluster, e.epoch, ok
}

// Add keeps cp, read from cluster at epoch.
func (c *Checkpoints) Add(cp backup.Checkpoint, cluster, epoch int64) {
	if c == nil {
		return
	}
	c.c.Add(cp.ID, checkpointEntry{cp: cp, cluster: cluster, epoch: epoch})
}

// Remove forgets the checkpoint cached under id.
func (c *Checkpoints) Remove(id backup.ObjectID) {
	if c != nil {
		c.c.Remove(id)
	}
}

// Bytes returns what the pages held cost, at most the maxBytes given to
// NewPages.
func (p *Pages) Bytes() int64 {
	if p == nil {
		return 0
	}
	return p.c.Bytes()
}

// Bytes returns what the checkpoints held cost, at most the maxBytes
// given to NewCheckpoints.
func (c *Checkpoints) Bytes() int64 {
	if c == nil {
		return 0
	}
	return c.c.Bytes()
}

// Len returns the number of checkpoints held.
func (c *Checkpoints) Len() int {
	if c == nil {
		return 0
	}
	return c.c.Len()
}
