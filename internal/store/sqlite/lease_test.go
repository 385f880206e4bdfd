package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
	"github.com/checkpointd/checkpointd/internal/store/storetest"
)

// TestLeases runs the ClaimSlot suite on two handles of one file, as two
// server processes have.
func TestLeases(t *testing.T) {
	storetest.RunLeases(t, func(t testing.TB, clk clock.Clock) (storetest.Store, storetest.Store) {
		path := filepath.Join(t.TempDir(), "test.db")
		a, err := sqlite.Open(context.Background(), path, sqlite.WithClock(clk))
		if err != nil {
			t.Fatal(err)
		}
		b, err := sqlite.Open(context.Background(), path, sqlite.WithClock(clk))
		if err != nil {
			a.Close()
			t.Fatal(err)
		}
		return a, b
	})
}
