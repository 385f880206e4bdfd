package admin_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// testStore is what the tests use: the operations' store and a way to
// read a cluster back.
type testStore interface {
	admin.Store
	Cluster(ctx context.Context, ref backup.ClusterRef) (backup.Cluster, error)
}

var _ testStore = (*sqlite.DB)(nil)

// openStore returns an empty SQLite store in a file of the test's
// temporary directory, closed when the test ends.
func openStore(t *testing.T) testStore {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "admin.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db
}
