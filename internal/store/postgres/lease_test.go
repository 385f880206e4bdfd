package postgres_test

import (
	"context"
	"testing"

	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
	"github.com/checkpointd/checkpointd/internal/store/storetest"
)

// TestLeases runs the ClaimSlot suite on two handles of one schema, as two
// server processes have.
func TestLeases(t *testing.T) {
	t.Parallel()
	storetest.RunLeases(t, func(t testing.TB, clk clock.Clock) (storetest.Store, storetest.Store) {
		dsn := pgtest.DSN(t)
		a, err := postgres.Open(context.Background(), dsn, postgres.WithClock(clk))
		if err != nil {
			t.Fatal(err)
		}
		b, err := postgres.Open(context.Background(), dsn, postgres.WithClock(clk))
		if err != nil {
			a.Close()
			t.Fatal(err)
		}
		return a, b
	})
}
