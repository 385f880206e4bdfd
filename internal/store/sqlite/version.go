package sqlite

import (
	"bytes"
	"sync"
	"sync/atomic"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// A cached read used to run one statement on the file per request, only
// to learn whether anything had changed since the entry was read: one
// read transaction, with its file locks (fcntl system calls), for what
// is nearly always "no". SQLite already keeps that answer in one place:
// the WAL-index header at the start of the "-shm" file beside the
// database (https://www.sqlite.org/walformat.html, "The WAL-Index
// Header"), which every connection of every process on the file maps
// and reads at the start of each read transaction. Each commit rewrites
// it (its change counter, mxFrame and checksum), and a reader that finds
// it unchanged keeps its page cache, because nothing was written.
//
// The store does the same with one read of that header (mapped into
// memory where the system allows, version_unix.go): a head (the
// reference, the project's organization, the cluster's epoch and seq
// bounds) read by a statement is kept with the header read before the
// statement ran, and answers for as long as the header stays the same.
// The header is read before the statement, so any commit after it
// changes the header and the head is read again; one commit is enough to
// drop every head, whichever table it wrote. Writes by other processes,
// by hand or through another server, are seen by the next request, as
// before: they go through the same header.
//
// The header is written twice, copy 2 first; a reader that finds the two
// copies different caught a commit in the middle and, like SQLite,
// does not trust it: the statement runs, uncached. So does every read
// when the header cannot be read at all (no "-shm" file: not in WAL
// mode, or another VFS).

// walHeaderSize is the size of one copy of the WAL-index header.
const walHeaderSize = 48

// walVersion is one consistent read of the WAL-index header.
type walVersion [walHeaderSize]byte

// trusted reports whether two reads of the header's copies are one
// consistent header: the same bytes, with isInit (byte 12) set; a header
// of zeros is one SQLite has yet to build.
func trusted(copy1, copy2 []byte) bool {
	return copy1[12] != 0 && bytes.Equal(copy1[:walHeaderSize], copy2[:walHeaderSize])
}

// maxHeads bounds the heads kept for one version of the file: one per
// cluster reference that requests name (by name and by id, with and
// without seq bounds). Past it, references are read uncached until the
// next commit starts an empty set.
// A head and its key are at most some 200 bytes (a cluster name is at
// most 64), so the set holds under 1 MiB whatever requests name: a bound
// in entries is a bound in bytes here, and --cache-size leaves it out.
const maxHeads = 1 << 12

// headKey names a head: the reference as a request gives it.
type headKey struct {
	group, id backup.ObjectID
	name      string
	bounds    bool
}

// heads are the heads read while the file was at one version. A commit
// makes a new, empty set; the old one is dropped whole.
type heads struct {
	version walVersion
	mu      sync.RWMutex
	m       map[headKey]head
}

// headCache is the current set of heads.
type headCache struct {
	cur atomic.Pointer[heads]
}

// get returns the head of k if it was read at version v.
func (c *headCache) get(v walVersion, k headKey) (head, bool) {
	hs := c.cur.Load()
	if hs == nil || hs.version != v {
		return head{}, false
	}
	hs.mu.RLock()
	h, ok := hs.m[k]
	hs.mu.RUnlock()
	return h, ok
}

// put keeps h, read by a statement that ran after the file was seen at
// version v.
func (c *headCache) put(v walVersion, k headKey, h head) {
	hs := c.cur.Load()
	if hs == nil || hs.version != v {
		ns := &heads{version: v, m: make(map[headKey]head)}
		// A concurrent put may have swapped in a set of its own; either
		// is right for its version, and the loser's heads are read again.
		if !c.cur.CompareAndSwap(hs, ns) {
			return
		}
		hs = ns
	}
	hs.mu.Lock()
	if len(hs.m) < maxHeads {
		hs.m[k] = h
	}
	hs.mu.Unlock()
}
