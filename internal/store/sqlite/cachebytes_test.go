package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
	"github.com/checkpointd/checkpointd/internal/store/storetest"
)

// TestCacheBytesBound: a store allowed 2.5 MiB of caches keeps no more
// after reading 56 MB of distinct pages (storetest.CacheBound).
func TestCacheBytesBound(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	const pages, checkpoints = 2 << 20, 512 << 10
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "bound.db"), sqlite.WithCacheSize(pages, checkpoints))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	storetest.CacheBound(t, db, pages+checkpoints)
}
