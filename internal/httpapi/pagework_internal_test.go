package httpapi

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// heldPages is a Store whose Checkpoints tells each read as it starts and
// then waits to be let go; nothing else of it is called.
type heldPages struct {
	Store
	entered chan backup.PageRequest
	letGo   chan struct{}
}

func newHeldPages() *heldPages {
	return &heldPages{entered: make(chan backup.PageRequest, 64), letGo: make(chan struct{})}
}

func (h *heldPages) Checkpoints(ctx context.Context, ref backup.ClusterRef, page backup.PageRequest) (backup.Page[backup.Checkpoint], error) {
	h.entered <- page
	select {
	case <-h.letGo:
	case <-ctx.Done():
		return backup.Page[backup.Checkpoint]{}, ctx.Err()
	}
	return backup.Page[backup.Checkpoint]{Items: []backup.Checkpoint{}, Total: 0}, nil
}

const heldPagesPath = "/api/atlas/v2/groups/5e2211c17a3e5a48f5497de3/clusters/c/backupCheckpoints?itemsPerPage="

// listAsync serves a list request of n items a page in the background;
// its status arrives on the channel returned.
func listAsync(ctx context.Context, s *Server, n int) <-chan int {
	done := make(chan int, 1)
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, heldPagesPath+strconv.Itoa(n), nil)
	r.Header.Set("Accept", "application/vnd.atlas.2023-01-01+json")
	go func() {
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		done <- w.Code
	}()
	return done
}

// waitQueued waits until want requests wait for their share of the pages
// under way, failing if any further page read starts meanwhile.
func waitQueued(t *testing.T, s *Server, h *heldPages, want int) {
	t.Helper()
	for {
		if queued(s.pageWork) == want {
			return
		}
		select {
		case p := <-h.entered:
			t.Fatalf("a page of %d was read beyond the bound", p.Size)
		case <-time.After(time.Millisecond): // polls; not a time bound
		}
	}
}

// queued is the number of requests waiting for their share.
func queued(w *pageWork) int {
	if w == nil {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.waiters)
}

// noneEntered fails if a page read has started.
func noneEntered(t *testing.T, h *heldPages) {
	t.Helper()
	select {
	case p := <-h.entered:
		t.Fatalf("a page of %d was read beyond the bound", p.Size)
	default:
	}
}

// TestPagesInFlight: with a bound of one page of 500, a second page
// waits until the first one's response is written, five pages of 100
// go at once and a sixth waits, and a waiting request whose client goes
// away leaves the line without reading.
func TestPagesInFlight(t *testing.T) {
	h := newHeldPages()
	s := New(Config{PagesInFlight: 1}, h)
	ctx := context.Background()

	first := listAsync(ctx, s, 500)
	<-h.entered
	second := listAsync(ctx, s, 500)
	waitQueued(t, s, h, 1)
	noneEntered(t, h)
	h.letGo <- struct{}{}
	if code := <-first; code != http.StatusOK {
		t.Fatalf("first page: status %d", code)
	}
	<-h.entered // the second, once the first was written
	h.letGo <- struct{}{}
	if code := <-second; code != http.StatusOK {
		t.Fatalf("second page: status %d", code)
	}

	var small []<-chan int
	for range 5 {
		small = append(small, listAsync(ctx, s, 100))
		<-h.entered
	}
	sixth := listAsync(ctx, s, 100)
	waitQueued(t, s, h, 1)
	noneEntered(t, h)
	h.letGo <- struct{}{}
	<-h.entered // the sixth, in the room the one let go left
	for range 5 {
		h.letGo <- struct{}{}
	}
	for _, c := range append(small, sixth) {
		if code := <-c; code != http.StatusOK {
			t.Fatalf("page of 100: status %d", code)
		}
	}

	held := listAsync(ctx, s, 500)
	<-h.entered
	cctx, cancel := context.WithCancel(ctx)
	gone := listAsync(cctx, s, 500)
	waitQueued(t, s, h, 1)
	cancel()
	if code := <-gone; code != http.StatusServiceUnavailable {
		t.Fatalf("request whose client went away while waiting: status %d, want 503", code)
	}
	waitQueued(t, s, h, 0)
	noneEntered(t, h)
	h.letGo <- struct{}{}
	if code := <-held; code != http.StatusOK {
		t.Fatalf("held page: status %d", code)
	}
	if s.pageWork == nil || s.pageWork.used != 0 {
		t.Fatalf("%d checkpoints still counted under way after every response", s.pageWork.used)
	}
}

// TestPagesInFlightUnbounded: a negative bound lets every page go at once.
func TestPagesInFlightUnbounded(t *testing.T) {
	h := newHeldPages()
	s := New(Config{PagesInFlight: -1}, h)
	var done []<-chan int
	for range 8 {
		done = append(done, listAsync(context.Background(), s, 500))
		<-h.entered
	}
	for range done {
		h.letGo <- struct{}{}
	}
	for _, c := range done {
		if code := <-c; code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
}

// TestPageBuffersBounded: the body buffers kept for reuse are bounded in
// bytes and one at a time, and a buffer larger than a page could need is
// never kept.
func TestPageBuffersBounded(t *testing.T) {
	w := newPageWork(1000)
	for range 100 {
		w.recycle(make([]byte, 0, 600<<10))
	}
	if w.freeBytes > w.maxBytes || len(w.free) != int(w.maxBytes/(600<<10)) {
		t.Fatalf("%d buffers, %d bytes kept, want at most %d bytes", len(w.free), w.freeBytes, w.maxBytes)
	}
	w = newPageWork(10000)
	w.recycle(make([]byte, 0, maxFreePageBuffer+1))
	if len(w.free) != 0 {
		t.Fatalf("a buffer of %d bytes kept", maxFreePageBuffer+1)
	}
	w.recycle(make([]byte, 10, 100))
	if b := w.buffer(); len(b) != 0 || cap(b) != 100 {
		t.Fatalf("buffer() = len %d cap %d, want an emptied kept buffer", len(b), cap(b))
	}
	if b := w.buffer(); b != nil {
		t.Fatalf("buffer() from an empty free list = cap %d, want nil", cap(b))
	}
}
