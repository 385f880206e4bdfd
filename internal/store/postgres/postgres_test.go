package postgres_test

import (
	"context"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
	"github.com/checkpointd/checkpointd/internal/store/storetest"
)

// openDSN opens a store on dsn, closed when t ends.
func openDSN(t testing.TB, dsn string, opts ...postgres.Option) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestConformance runs the suite with the read cache off, with its
// default sizes (as the server runs) and with a few kilobytes of each, so
// that entries are evicted all the time. Each variant runs in parallel
// with the others, each subtest on a schema of its own.
func TestConformance(t *testing.T) {
	pgtest.BaseDSN(t)
	for _, c := range []struct {
		name string
		opts []postgres.Option
	}{
		{"cache=off", []postgres.Option{postgres.WithCacheSize(0, 0)}},
		{"cache=on", nil},
		{"cache=tiny", []postgres.Option{postgres.WithCacheSize(16<<10, 2<<10)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t testing.TB, clk clock.Clock) storetest.Store {
				db, err := postgres.Open(context.Background(), pgtest.DSN(t), append(c.opts, postgres.WithClock(clk))...)
				if err != nil {
					t.Fatal(err)
				}
				return db
			})
		})
	}
}

// TestOneConnection opens a store whose pool has one connection: the
// migrations' lock does not take it from them, and the store works.
func TestOneConnection(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db := openDSN(t, pgtest.DSN(t), postgres.WithMaxConns(1))
	if err := db.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SharedSecret(ctx, "one", func() ([]byte, error) { return []byte("x"), nil }); err != nil {
		t.Fatal(err)
	}
}
