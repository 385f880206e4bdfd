package postgres_test

import (
	"context"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
	"github.com/checkpointd/checkpointd/internal/store/storetest"
)

// BenchmarkUseNonce: see storetest.BenchUseNonce.
func BenchmarkUseNonce(b *testing.B) {
	db, err := postgres.Open(backup.WithPrincipal(context.Background(), backup.System), pgtest.DSN(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	storetest.BenchUseNonce(b, db)
}
