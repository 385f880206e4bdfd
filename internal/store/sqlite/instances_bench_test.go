package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
	"github.com/checkpointd/checkpointd/internal/store/storetest"
)

// BenchmarkUseNonce: see storetest.BenchUseNonce.
func BenchmarkUseNonce(b *testing.B) {
	db, err := sqlite.Open(backup.WithPrincipal(context.Background(), backup.System), filepath.Join(b.TempDir(), "nonces.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	storetest.BenchUseNonce(b, db)
}
