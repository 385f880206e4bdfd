// Package open opens the store a --database setting names: a PostgreSQL
// database for a postgres:// or postgresql:// URL, the SQLite file at
// that path for anything else. The commands use it, so that every one of
// them takes either.
package open

import (
	"context"
	"io"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// Store is what the commands use of a store: the whole contract that
// storetest.Store documents, the batch insert seeding uses, and the
// readiness check of /readyz.
type Store interface {
	CreateOrganization(ctx context.Context, o backup.Organization) error
	CreateProject(ctx context.Context, p backup.Project) error
	CreateCluster(ctx context.Context, c backup.Cluster) error

	Project(ctx context.Context, id backup.ObjectID) (backup.Project, error)
	Projects(ctx context.Context, scope backup.ProjectScope, page backup.PageRequest) (backup.Page[backup.Project], error)
	Cluster(ctx context.Context, ref backup.ClusterRef) (backup.Cluster, error)
	Clusters(ctx context.Context, groupID backup.ObjectID, page backup.PageRequest) (backup.Page[backup.Cluster], error)

	AddCheckpoint(ctx context.Context, cp backup.Checkpoint) error
	AddCheckpoints(ctx context.Context, cps []backup.Checkpoint) error
	Checkpoints(ctx context.Context, ref backup.ClusterRef, page backup.PageRequest) (backup.Page[backup.Checkpoint], error)
	Checkpoint(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.Checkpoint, error)
	PruneCheckpoints(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (int, error)

	Organizations(ctx context.Context) ([]backup.Organization, error)
	DeleteOrganization(ctx context.Context, id backup.ObjectID) error
	DeleteProject(ctx context.Context, id backup.ObjectID) error
	DeleteCluster(ctx context.Context, ref backup.ClusterRef) error

	CreateAPIKey(ctx context.Context, k backup.APIKey, ha1 backup.DigestHA1) error
	APIKeys(ctx context.Context, orgID backup.ObjectID) ([]backup.APIKey, error)
	APIKey(ctx context.Context, publicKey string) (backup.APIKey, backup.DigestHA1, error)
	DeleteAPIKey(ctx context.Context, id backup.ObjectID) error

	CreateServiceAccount(ctx context.Context, sa backup.ServiceAccount, secret backup.ServiceAccountSecret) error
	ServiceAccounts(ctx context.Context, orgID backup.ObjectID) ([]backup.ServiceAccount, error)
	ServiceAccount(ctx context.Context, clientID string) (backup.ServiceAccount, []backup.ServiceAccountSecret, error)
	DeleteServiceAccount(ctx context.Context, clientID string) error

	RevokeToken(ctx context.Context, jti string, expires time.Time) error
	IsRevoked(ctx context.Context, jti string) (bool, error)
	AuthEpoch(ctx context.Context) (int64, error)
	SharedSecret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error)

	ClaimSlot(ctx context.Context, clusterID backup.ObjectID, slot time.Time, owner string, ttl time.Duration) (bool, error)

	// Ready reports whether the store can serve: reachable and fully
	// migrated.
	Ready(ctx context.Context) error

	io.Closer
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
