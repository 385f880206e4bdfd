// Package storetest is the one conformance suite every checkpointd store
// passes. It declares the whole store contract as the Store interface;
// consumers (httpapi, engine, auth) declare the narrow slices they use.
package storetest

import (
	"context"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Store is the full contract of a checkpointd store.
//
// Errors: lookups that find nothing return a *backup.Error of kind NotFound
// with the code the API uses (GROUP_NOT_FOUND, CLUSTER_NOT_FOUND,
// CHECKPOINT_NOT_FOUND, ORG_NOT_FOUND); duplicates return kind Conflict;
// anything else is an internal error whose text never reaches a client.
type Store interface {
	CreateOrganization(ctx context.Context, o backup.Organization) error
	CreateProject(ctx context.Context, p backup.Project) error
	// CreateCluster stores a validated cluster; its name must be unique in
	// its project (DUPLICATE_CLUSTER_NAME otherwise).
	CreateCluster(ctx context.Context, c backup.Cluster) error

	Project(ctx context.Context, id backup.ObjectID) (backup.Project, error)
	// Projects lists projects ordered by id.
	Projects(ctx context.Context, page backup.PageRequest) (backup.Page[backup.Project], error)
	// Cluster resolves a reference, checking the project first
	// (GROUP_NOT_FOUND before CLUSTER_NOT_FOUND).
	Cluster(ctx context.Context, ref backup.ClusterRef) (backup.Cluster, error)
	// Clusters lists a project's clusters ordered by name.
	Clusters(ctx context.Context, groupID backup.ObjectID, page backup.PageRequest) (backup.Page[backup.Cluster], error)

	// AddCheckpoint stores a checkpoint of an existing cluster. Adding the
	// same id with identical content again is a no-op (idempotent); the same
	// id with other content is DUPLICATE_CHECKPOINT (Conflict).
	AddCheckpoint(ctx context.Context, cp backup.Checkpoint) error
	// Checkpoints returns one page of a cluster's checkpoints, oldest
	// (by Timestamp, then id) first, resolving the reference in the same
	// transaction: GROUP_NOT_FOUND, CLUSTER_NOT_FOUND, or
	// CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP for a cluster on Cloud Backup.
	// Its cost is one indexed range read whatever the page depth and the
	// table size. Total is filled only when page.IncludeCount is set.
	Checkpoints(ctx context.Context, ref backup.ClusterRef, page backup.PageRequest) (backup.Page[backup.Checkpoint], error)
	// Checkpoint returns one checkpoint of the referenced cluster, with the
	// same reference errors, then CHECKPOINT_NOT_FOUND.
	Checkpoint(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.Checkpoint, error)
	// PruneCheckpoints deletes a cluster's checkpoints whose Timestamp is
	// before cutoff and returns how many went.
	PruneCheckpoints(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (int, error)

	Close() error
}
