// Package open opens the store a --database setting names: a PostgreSQL
// database for a postgres:// or postgresql:// URL, the SQLite file at
// that path for anything else. The commands use it, so that every one of
// them takes either.
package open

import (
	"context"
	"strings"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// Store is what the commands use of a store: the whole contract
// (store.Store), the batch insert seeding uses, and the readiness check of
// /readyz.
type Store interface {
	store.Store
	AddCheckpoints(ctx context.Context, cps []backup.Checkpoint) error
	Ready(ctx context.Context) error
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// IsPostgres reports whether database names a PostgreSQL database rather
// than a SQLite file.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// Open opens the store database names, with its default options: a
// postgres:// or postgresql:// URL is a PostgreSQL database (see
// postgres.Open), anything else the path of a SQLite file, created if
// missing (see sqlite.Open).
func Open(ctx context.Context, database string) (Store, error) {
	// Each branch returns a nil Store, not a nil pointer in one, on error.
	if IsPostgres(database) {
		db, err := postgres.Open(ctx, database)
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	db, err := sqlite.Open(ctx, database)
	if err != nil {
		return nil, err
	}
	return db, nil
}
