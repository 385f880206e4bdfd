// Package store documents what checkpointd keeps and how; the stores
// themselves live in its subpackages (sqlite, postgres) and are held to one
// contract by storetest. Checkpoints are immutable once stored, so stores
// may cache what they read (internal/store/cache is the shared, SQL-free
// cache), as long as every read still checks the database for what
// changed.
package store

import (
	"context"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Store is the full contract of a checkpointd store, in four parts that
// its consumers declare the slices they use of (httpapi.Store,
// auth.Store, engine's Sink and SlotClaimer, admin's creators and
// listers, metrics.RestorePoints).
//
// Callers: every method takes its caller from its context
// (backup.WithPrincipal) and refuses a context without one (access.go).
// Project, Projects, Cluster, Clusters, Checkpoints and Checkpoint need
// Read on the project; CreateCluster, UpdateCluster and DeleteCluster
// need Admin; AddCheckpoint needs Report; every other method is
// backup.System's alone (USER_UNAUTHORIZED for anyone else).
//
// Errors: lookups that find nothing return a *backup.Error of kind NotFound
// with the code the API uses (GROUP_NOT_FOUND, CLUSTER_NOT_FOUND,
// CHECKPOINT_NOT_FOUND, ORG_NOT_FOUND); duplicates return kind Conflict;
// anything else is an internal error whose text never reaches a client.
type Store interface {
	Topology
	Checkpoints
	Credentials
	Engine
	Close() error
}

// Topology is the organizations, projects and clusters: what the
// administration commands and API write, and the API reads.
type Topology interface {
	CreateOrganization(ctx context.Context, o backup.Organization) error
	CreateProject(ctx context.Context, p backup.Project) error

	// CreateCluster stores a validated cluster; its name must be unique in
	// its project (DUPLICATE_CLUSTER_NAME otherwise).
	CreateCluster(ctx context.Context, c backup.Cluster) error

	// UpdateCluster replaces a validated cluster's name, type, version,
	// backup kind, topology and schedule, found by ID in its GroupID
	// (GROUP_NOT_FOUND, CLUSTER_NOT_FOUND; DUPLICATE_CLUSTER_NAME for a
	// name taken in the project). Its checkpoints stay as they are.
	UpdateCluster(ctx context.Context, c backup.Cluster) error

	// Organizations lists every organization, ordered by id.
	Organizations(ctx context.Context) ([]backup.Organization, error)
	Project(ctx context.Context, id backup.ObjectID) (backup.Project, error)

	// Projects lists the projects the caller may read (ScopeOf), ordered
	// by id; Total counts them.
	Projects(ctx context.Context, page backup.PageRequest) (backup.Page[backup.Project], error)

	// Cluster resolves a reference, checking the project first
	// (GROUP_NOT_FOUND before CLUSTER_NOT_FOUND), then the caller's access
	// to the project (Authorize, Read), then the cluster.
	// Checkpoints and Checkpoint resolve references the same way.
	Cluster(ctx context.Context, ref backup.ClusterRef) (backup.Cluster, error)

	// Clusters lists a project's clusters ordered by name, checking the
	// caller's access to the project (Read) in the same read.
	Clusters(ctx context.Context, groupID backup.ObjectID, page backup.PageRequest) (backup.Page[backup.Cluster], error)

	// DeleteOrganization deletes an organization that has no projects left
	// (CANNOT_DELETE_ORG_ACTIVE_PROJECTS otherwise), with its API keys and
	// service accounts.
	DeleteOrganization(ctx context.Context, id backup.ObjectID) error

	// DeleteProject deletes a project that has no clusters left
	// (CANNOT_CLOSE_GROUP_ACTIVE_CLUSTERS otherwise). Grants on it that API
	// keys and service accounts hold are removed too.
	DeleteProject(ctx context.Context, id backup.ObjectID) error

	// DeleteCluster deletes a cluster and all its checkpoints.
	DeleteCluster(ctx context.Context, ref backup.ClusterRef) error
}

// Checkpoints is the checkpoints of clusters: added by the engine and by
// agents' reports, read by the API, pruned by retention, watched by
// monitoring.
type Checkpoints interface {
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

	// NewestRestorable returns one RestorePoint per cluster under legacy
	// backup, in every project, ordered by project id then cluster name:
	// the Timestamp of its newest restorable checkpoint, zero when it has
	// none. It is one read, a seek per cluster whatever the number of
	// checkpoints, so that monitoring may call it on every scrape.
	NewestRestorable(ctx context.Context) ([]backup.RestorePoint, error)
}

// Credentials is what authentication reads and the administration
// commands write: API keys, service accounts, revoked tokens, the epoch
// that validates credential caches, and the data set's shared secrets.
type Credentials interface {
	// CreateAPIKey stores a validated key of an existing organization with
	// the HA1 of its private key (ORG_NOT_FOUND; DUPLICATE_API_KEY when the
	// id or public key is taken; GROUP_NOT_FOUND when a grant names a
	// project that is not the organization's).
	CreateAPIKey(ctx context.Context, k backup.APIKey, ha1 backup.DigestHA1) error

	// APIKeys lists an organization's keys ordered by id (ORG_NOT_FOUND).
	APIKeys(ctx context.Context, orgID backup.ObjectID) ([]backup.APIKey, error)

	// APIKey finds a key by its public key (API_KEY_NOT_FOUND).
	APIKey(ctx context.Context, publicKey string) (backup.APIKey, backup.DigestHA1, error)

	// DeleteAPIKey deletes a key by id (API_KEY_NOT_FOUND).
	DeleteAPIKey(ctx context.Context, id backup.ObjectID) error

	// CreateServiceAccount stores a validated service account of an
	// existing organization with its first secret (same errors as
	// CreateAPIKey; DUPLICATE_SERVICE_ACCOUNT for a taken client id).
	CreateServiceAccount(ctx context.Context, sa backup.ServiceAccount, secret backup.ServiceAccountSecret) error

	// ServiceAccounts lists an organization's service accounts ordered by
	// client id (ORG_NOT_FOUND).
	ServiceAccounts(ctx context.Context, orgID backup.ObjectID) ([]backup.ServiceAccount, error)

	// ServiceAccount finds a service account and its secrets, newest
	// first (SERVICE_ACCOUNT_NOT_FOUND).
	ServiceAccount(ctx context.Context, clientID string) (backup.ServiceAccount, []backup.ServiceAccountSecret, error)

	// DeleteServiceAccount deletes a service account and its secrets
	// (SERVICE_ACCOUNT_NOT_FOUND).
	DeleteServiceAccount(ctx context.Context, clientID string) error

	// RevokeToken records that an access token id is revoked until the
	// token's expiry (idempotent). It may forget revocations whose
	// expiry has passed.
	RevokeToken(ctx context.Context, jti string, expires time.Time) error

	// IsRevoked reports whether a token id has been revoked.
	IsRevoked(ctx context.Context, jti string) (bool, error)

	// AuthEpoch is a number that changes whenever an organization, API
	// key, service account, secret, grant or revocation changes, whoever
	// writes the data set (another process included), so that credential
	// caches are validated by one cheap read per request.
	AuthEpoch(ctx context.Context) (int64, error)

	// SharedSecret returns the data set's secret of that name, creating it
	// with gen the first time. Every caller, in every process sharing the
	// data set, gets the same bytes (the first writer wins a race).
	SharedSecret(ctx context.Context, name string, gen func() ([]byte, error)) ([]byte, error)
}

// Engine is what the checkpoint engine needs beyond Checkpoints: the
// schedules it runs, and the slot claims (leases) that let several
// processes sharing a data set take each slot once.
type Engine interface {
	// Schedules lists every cluster, in every project, whose checkpoints
	// the engine takes: legacy backup, the SIMULATED driver and an
	// interval set; ordered by id.
	Schedules(ctx context.Context) ([]backup.Cluster, error)

	// ClaimSlot claims a cluster's checkpoint slot for owner for ttl, so
	// that the schedulers of several processes sharing the data set take
	// each slot once. Of racing callers, in any processes, exactly one
	// wins (true). It reports false while another owner's claim on the
	// slot has not expired, and always once the slot is done: a checkpoint
	// of the cluster has the slot as its Timestamp (AddCheckpoint stores
	// it in one transaction, so a holder that dies mid-checkpoint leaves
	// no half of one). An expired claim (its holder died) is taken over;
	// owner's own claim is renewed. Expiry is on the wall clock of the
	// process claiming, so processes sharing a data set need clocks in
	// step to within much less than ttl. Old claims are deleted by later
	// ones.
	ClaimSlot(ctx context.Context, clusterID backup.ObjectID, slot time.Time, owner string, ttl time.Duration) (bool, error)

	// AddClaimedCheckpoint stores cp, the checkpoint of the slot
	// cp.Timestamp, as AddCheckpoint does, but only while owner holds the
	// slot's claim, in one transaction (ErrClaimLost, a Conflict, when the
	// claim expired and was taken over, or was never owner's). A holder
	// slower than its ttl therefore never stores a second checkpoint of
	// a slot.
	AddClaimedCheckpoint(ctx context.Context, cp backup.Checkpoint, owner string) error
}
