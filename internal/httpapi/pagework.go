package httpapi

import (
	"context"
	"net/http"
	"runtime"
	"sync"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// A page of 500 checkpoints is some 280 KB decoded and 550 KB encoded,
// and a client picks its pages: 64 connections asking for uncached pages
// at once would hold 50 MB of pages under way, more than the caches, and
// the memory every one of them costs is live until its response is
// written. So the pages of checkpoints being read, encoded and written at
// once are bounded, counted in checkpoints (a page of 100 weighs a fifth
// of a page of 500): a list request waits for its share before it reads
// the page, and gives it back once the response is written. On 2 CPUs a
// few pages under way keep both busy; more only hold memory.
//
// The bodies' buffers come back too, to a free list bounded in bytes, so
// that a steady stream of large pages reuses a few buffers rather than
// allocating half a megabyte for each (which brings the next collection
// nearer) or keeping one in every pooled request.

// DefaultPagesInFlight is Config.PagesInFlight's default per CPU
// (GOMAXPROCS), up to MaxDefaultPagesInFlight: beyond a few pages per CPU
// more only hold memory, and serve's soft memory limit leaves 16 MiB
// beside the caches for everything under way.
const (
	DefaultPagesInFlight    = 2
	MaxDefaultPagesInFlight = 8
)

// maxPageItems is the largest page, by which PagesInFlight counts.
const maxPageItems = MaxItemsPerPage

// pageBufferBytesPerItem bounds the free list of body buffers: this much
// per checkpoint the bound lets under way (an encoded checkpoint of a
// three-shard cluster is about 1.1 KB), so about the bodies of the
// bound's pages.
const pageBufferBytesPerItem = 1280

// maxFreePageBuffer is the largest body buffer kept for reuse: a page of
// 500 of a cluster with many shards, pretty-printed, may be larger; it is
// allocated for that request alone.
const maxFreePageBuffer = 2 << 20

// pageWork bounds the checkpoints of the pages under way (a weighted
// semaphore, first come first served) and keeps the body buffers they
// used. A nil *pageWork bounds nothing and keeps no buffer.
type pageWork struct {
	mu      sync.Mutex
	max     int64 // checkpoints under way, at most
	used    int64
	waiters []*pageWaiter // in arrival order

	free                []([]byte)
	freeBytes, maxBytes int64
}

type pageWaiter struct {
	n     int64
	ready chan struct{} // closed when the share is granted
}

// newPageWork bounds the checkpoints under way to maxItems; 0 or less
// bounds nothing (nil).
func newPageWork(maxItems int64) *pageWork {
	if maxItems <= 0 {
		return nil
	}
	return &pageWork{max: maxItems, maxBytes: maxItems * pageBufferBytesPerItem}
}

// pagesInFlight turns Config.PagesInFlight into checkpoints.
func pagesInFlight(pages int) int64 {
	switch {
	case pages < 0:
		return 0
	case pages == 0:
		pages = min(DefaultPagesInFlight*runtime.GOMAXPROCS(0), MaxDefaultPagesInFlight)
	}
	return int64(pages) * maxPageItems
}

// errBusy answers a request that gave up waiting for its share: its
// client has gone (or its deadline passed), so the answer is seldom read.
var errBusy = httpErrorf(http.StatusServiceUnavailable, backup.CodeServiceUnavailable, "The server is busy. Try again later.")

// acquire waits until n checkpoints (at most the bound: a page larger
// than the whole bound goes alone) may be under way, or ctx is done. It
// returns the share taken, for release.
func (w *pageWork) acquire(ctx context.Context, n int64) (int64, error) {
	if w == nil {
		return 0, nil
	}
	n = min(max(n, 1), w.max)
	w.mu.Lock()
	if len(w.waiters) == 0 && w.used+n <= w.max {
		w.used += n
		w.mu.Unlock()
		return n, nil
	}
	wt := &pageWaiter{n: n, ready: make(chan struct{})}
	w.waiters = append(w.waiters, wt)
	w.mu.Unlock()
	select {
	case <-wt.ready:
		return n, nil
	case <-ctx.Done():
	}
	w.mu.Lock()
	select {
	case <-wt.ready: // granted meanwhile: hand it on
		w.mu.Unlock()
		w.release(n)
		return 0, errBusy
	default:
	}
	for i, o := range w.waiters {
		if o == wt {
			w.waiters = append(w.waiters[:i], w.waiters[i+1:]...)
			break
		}
	}
	// The first in line may have waited behind this one's larger share.
	w.grant()
	w.mu.Unlock()
	return 0, errBusy
}

// release gives back a share acquire took.
func (w *pageWork) release(n int64) {
	if w == nil || n == 0 {
		return
	}
	w.mu.Lock()
	w.used -= n
	w.grant()
	w.mu.Unlock()
}

// grant lets the waiters in, in order, while their shares fit.
func (w *pageWork) grant() {
	for len(w.waiters) > 0 {
		wt := w.waiters[0]
		if w.used+wt.n > w.max {
			return
		}
		w.used += wt.n
		w.waiters[0] = nil
		w.waiters = w.waiters[1:]
		close(wt.ready)
	}
}

// buffer returns a body buffer kept for reuse, emptied, or nil when none
// is.
func (w *pageWork) buffer() []byte {
	if w == nil {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.free) == 0 {
		return nil
	}
	last := len(w.free) - 1
	fb := w.free[last]
	w.free[last] = nil
	w.free = w.free[:last]
	w.freeBytes -= int64(cap(fb))
	return fb[:0]
}

// recycle keeps b for reuse if it is not too large and the free list has
// room for it.
func (w *pageWork) recycle(b []byte) {
	c := int64(cap(b))
	if w == nil || c == 0 || c > maxFreePageBuffer {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.freeBytes+c > w.maxBytes {
		return
	}
	w.free = append(w.free, b[:0])
	w.freeBytes += c
}
