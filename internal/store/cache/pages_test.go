package cache_test

import (
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/cache"
)

// TestPages serves pages as the stores ask for them: the prefix a
// snapshot's seq bounds ask for, the empty page past the end, a miss when
// the entry is shorter than the snapshot's page, and a version that names
// the entry, new each time one is added.
func TestPages(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	ids := backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 0)
	items := make([]backup.Checkpoint, 3)
	for i := range items {
		items[i] = backup.Checkpoint{ID: ids.New(t0.Add(time.Duration(i) * time.Minute))}
	}
	p := cache.NewPages(64 << 10)
	page := backup.PageRequest{Num: 2, Size: 4, IncludeCount: true}
	// Seqs 1..7 at epoch 9: the second page of 4 is seqs 5..7.
	if _, ok := p.Page(1, 9, 1, 7, 4, page); ok {
		t.Fatal("a hit in an empty cache")
	}
	p.Add(cache.PageKey{Cluster: 1, Epoch: 9, From: 5, Size: 4}, items)
	got, ok := p.Page(1, 9, 1, 7, 4, page)
	if !ok || len(got.Items) != 3 || got.Total != 7 || got.Version == 0 || &got.Items[0] != &items[0] {
		t.Fatalf("the cached page: %d items, Total %d, version %d, %v", len(got.Items), got.Total, got.Version, ok)
	}
	// An older snapshot (seqs 1..6) takes a prefix, under the same version.
	older, ok := p.Page(1, 9, 1, 6, 4, page)
	if !ok || len(older.Items) != 2 || older.Total != 6 || older.Version != got.Version || cap(older.Items) != 2 {
		t.Fatalf("the older snapshot's page: %d items (cap %d), Total %d, version %d, %v", len(older.Items), cap(older.Items), older.Total, older.Version, ok)
	}
	// A newer one (seqs 1..8) needs more than the entry holds.
	if _, ok := p.Page(1, 9, 1, 8, 4, page); ok {
		t.Fatal("a page shorter than the snapshot's was served")
	}
	// Another epoch or cluster misses; past the end is the empty page.
	if _, ok := p.Page(1, 10, 1, 7, 4, page); ok {
		t.Fatal("another epoch hit")
	}
	if _, ok := p.Page(2, 9, 1, 7, 4, page); ok {
		t.Fatal("another cluster hit")
	}
	if past, ok := p.Page(1, 9, 1, 3, 4, page); !ok || past.Items == nil || len(past.Items) != 0 || past.Total != 3 || past.Version != 0 {
		t.Fatalf("past the end: %+v, %v", past, ok)
	}
	// Added again (a longer read), the entry gets a new version.
	p.Add(cache.PageKey{Cluster: 1, Epoch: 9, From: 5, Size: 4}, items)
	if again, _ := p.Page(1, 9, 1, 7, 4, page); again.Version == got.Version || again.Version == 0 {
		t.Fatalf("version %d after a new entry, was %d", again.Version, got.Version)
	}
	// A nil cache (caching off) holds nothing.
	var off *cache.Pages
	off.Add(cache.PageKey{}, items)
	if off.Len() != 0 || cache.NewPages(0) != nil {
		t.Fatal("a disabled page cache holds pages")
	}
}

// TestCheckpoints keeps a checkpoint with the cluster and epoch it was
// read at, and forgets it on Remove.
func TestCheckpoints(t *testing.T) {
	cp := backup.Checkpoint{ID: backup.NewIDSource().New(time.Now())}
	c := cache.NewCheckpoints(64 << 10)
	c.Add(cp, 3, 7)
	got, cluster, epoch, ok := c.Get(cp.ID)
	if !ok || got.ID != cp.ID || cluster != 3 || epoch != 7 {
		t.Fatalf("Get = %v, %d, %d, %v", got.ID, cluster, epoch, ok)
	}
	c.Remove(cp.ID)
	if _, _, _, ok := c.Get(cp.ID); ok || c.Len() != 0 {
		t.Fatal("removed, still there")
	}
	var off *cache.Checkpoints
	off.Add(cp, 1, 1)
	if _, _, _, ok := off.Get(cp.ID); ok {
		t.Fatal("a disabled checkpoint cache holds checkpoints")
	}
}
