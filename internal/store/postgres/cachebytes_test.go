package postgres_test

import (
	"testing"

	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
	"github.com/checkpointd/checkpointd/internal/store/storetest"
)

// TestCacheBytesBound: a store allowed 2.5 MiB of caches keeps no more
// after reading 56 MB of distinct pages (storetest.CacheBound).
func TestCacheBytesBound(t *testing.T) {
	const pages, checkpoints = 2 << 20, 512 << 10
	db := openDSN(t, pgtest.DSN(t), postgres.WithCacheSize(pages, checkpoints))
	storetest.CacheBound(t, db, pages+checkpoints)
}
