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

// Store is the full contract of a checkpointd store, in seven parts that
// its consumers declare the slices they use of (httpapi.Store,
// auth.Store, engine's Sink, SlotClaimer, SlotRecorder and MissedStore,
// admin's creators, listers and SlotStore, metrics.RestorePoints).
//
// Callers: every method takes its caller from its context
// (backup.WithPrincipal) and refuses a context without one (access.go).
// Project, Projects, Cluster, Clusters, Checkpoints and Checkpoint need
// Read on the project; CreateCluster, UpdateCluster and DeleteCluster
// need Admin; AddCheckpoint and RecordSlot need Report; Slots,
// SlotCounts and CheckpointSlot need Read; every other method is
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
	RestoreJobs
	Instances
	Slots
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

	// UpdateCluster reads the cluster ref names (as Cluster resolves it),
	// applies change to it and stores the result, validated, in one
	// transaction, and returns it: concurrent updates of one cluster each
	// apply to what the one before stored, so none is lost. change may
	// refuse (its error is returned, nothing stored) and may not change
	// the cluster's id, project or creation time. DUPLICATE_CLUSTER_NAME
	// for a name taken in the project. Its checkpoints stay as they are.
	UpdateCluster(ctx context.Context, ref backup.ClusterRef, change func(*backup.Cluster) error) (backup.Cluster, error)
	// UpdateBackup is UpdateCluster for a caller who may change the
	// cluster's backup but not the cluster (an owner, a Project Owner or
	// a Project Backup Manager: backup.Principal.CheckBackupAdmin): change
	// may set the backup's state, the snapshot schedule and the checkpoint
	// interval and window, and nothing else.
	UpdateBackup(ctx context.Context, ref backup.ClusterRef, change func(*backup.Cluster) error) (backup.Cluster, error)

	// Organizations lists every organization, ordered by id.
	Organizations(ctx context.Context) ([]backup.Organization, error)
	Project(ctx context.Context, id backup.ObjectID) (backup.Project, error)

	// ProjectByName returns the project of that name the caller may read
	// (FirstReadable): GROUP_NAME_NOT_FOUND when there is none, or only
	// other organizations' (as GROUP_NOT_FOUND for an id), Authorize's
	// answer for one of the caller's organization it may not read.
	ProjectByName(ctx context.Context, name string) (backup.Project, error)

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
	// before cutoff and returns how many went. The cluster's slot records
	// before cutoff go with them, in the same transaction.
	PruneCheckpoints(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (int, error)

	// NewestRestorable returns one RestorePoint per cluster under legacy
	// backup, in every project, ordered by project id then cluster name:
	// the Timestamp of its newest restorable checkpoint, zero when it has
	// none. It is one read, a seek per cluster whatever the number of
	// checkpoints, so that monitoring may call it on every scrape.
	NewestRestorable(ctx context.Context) ([]backup.RestorePoint, error)

	// RestorableHistory returns the Timestamps of the referenced
	// cluster's restorable checkpoints in [from, to], oldest first, with
	// the newest before from and the newest of all (zero when none), for
	// an objective report (backup.Measure). References resolve as for
	// Checkpoints, in the same read. It is one pass of an index of the
	// restorable checkpoints: its cost is the range's restorable
	// checkpoints, however many others the cluster and the table hold.
	RestorableHistory(ctx context.Context, ref backup.ClusterRef, from, to time.Time) (backup.RestorableHistory, error)

	// RestorableSince returns every cluster under legacy backup, in every
	// project, ordered by project id then cluster name, with its
	// restorable history from since to the present (History.To zero): the
	// restorable Timestamps from since on, the newest before since, and
	// the newest of all. It is one read, two seeks of the restorable index
	// per cluster and the window's restorable checkpoints, so that
	// monitoring may call it on every scrape.
	RestorableSince(ctx context.Context, since time.Time) ([]backup.ClusterHistory, error)
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

// RestoreJobs is the restore jobs that target a checkpoint: created through
// the API, one per part of the checkpoint's cluster in one batch, carried to
// a final status by the engine (SIMULATED clusters) or by an agent that
// claims and reports them (AGENT clusters). References resolve as for
// Checkpoints (GROUP_NOT_FOUND, the caller's need, CLUSTER_NOT_FOUND,
// CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP).
type RestoreJobs interface {
	// CreateRestoreJobs stores one batch of jobs of one cluster (every
	// job's GroupID and ClusterID the same), all or none. It needs Report
	// on the project: the Project Owner or Backup Manager roles.
	CreateRestoreJobs(ctx context.Context, jobs []backup.RestoreJob) error
	// RestoreJobs returns one page of a cluster's jobs ordered by id
	// (creation order; in a batch, the config server first), only those of
	// batch unless it is zero. Total is filled only when page.IncludeCount
	// is set. It needs Read.
	RestoreJobs(ctx context.Context, ref backup.ClusterRef, batch backup.ObjectID, page backup.PageRequest) (backup.Page[backup.RestoreJob], error)
	// RestoreJob returns one job of the cluster (RESTORE_JOB_NOT_FOUND).
	// It needs Read.
	RestoreJob(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.RestoreJob, error)
	// ClaimRestoreJob gives owner the oldest IN_PROGRESS job of an AGENT
	// cluster that no agent has claimed, or the one owner claimed before
	// and has not reported (a restarted agent resumes it); false when
	// there is none. It needs Report.
	ClaimRestoreJob(ctx context.Context, ref backup.ClusterRef, owner string) (backup.RestoreJob, bool, error)
	// ReportRestoreJob sets the final status of an IN_PROGRESS job owner
	// claimed, at now. Reporting the status the job already has is a
	// no-op (a retry); any other change of a job not IN_PROGRESS, or of a
	// job claimed by another owner or by none, is a Conflict
	// (INVALID_RESTORE_JOB_STATUS_TRANSITION). It needs Report.
	ReportRestoreJob(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID, status backup.RestoreStatus, owner string, now time.Time) (backup.RestoreJob, error)
	// FinishDueRestoreJobs sets FINISHED, at their Due time, every
	// IN_PROGRESS job of a SIMULATED cluster due at or before now, and
	// returns how many, and when the next of the others is due (zero when
	// none is left). It is backup.System's alone.
	FinishDueRestoreJobs(ctx context.Context, now time.Time) (int, time.Time, error)
}

// Instances is the registry of the server processes sharing a data set,
// kept by their heartbeats, and the Digest replay memory they share while
// there are several of them (internal/instance and internal/auth use it).
// Times are the store's clock's, so processes sharing a data set need
// clocks in step to within much less than a heartbeat's ttl.
type Instances interface {
	// Heartbeat records that instance id is alive until ttl from now,
	// forgets the instances whose last heartbeat has expired and the
	// nonce counts past their expiry (UseNonce), and returns how many
	// instances are alive, id included.
	Heartbeat(ctx context.Context, id string, ttl time.Duration) (int, error)

	// Leave removes id from the registry (a no-op for an unknown id).
	Leave(ctx context.Context, id string) error

	// UseNonce records that count nc was used with a Digest nonce (its
	// raw bytes), to be remembered at least until expires, and reports
	// whether it was new. Of racing callers, in any processes, with one
	// nonce and count, exactly one gets true.
	UseNonce(ctx context.Context, nonce []byte, nc uint32, expires time.Time) (bool, error)
}

// Slots is the record of every scheduled checkpoint slot of a cluster
// (backup.Slot): written by the engine and by agents' reports as each slot
// ends, by the sweep for slots nothing ran, read by the administration API
// and monitoring, pruned with the checkpoints (PruneCheckpoints). A
// cluster has at most one record per slot time, whoever writes it.
// References resolve as for Checkpoints.
type Slots interface {
	// RecordSlot stores the record of one slot of an existing cluster
	// (s.GroupID, s.ClusterID), validated. A record replaces a MISSED
	// one of its slot (the sweep's, overtaken by a late report); the
	// same record again is a no-op (a retry); any other record of a slot
	// that has one is DUPLICATE_SLOT (Conflict). It needs Report.
	RecordSlot(ctx context.Context, s backup.Slot) error

	// Slots returns one page of a cluster's records that pass filter,
	// newest first. Total is filled only when page.IncludeCount is set.
	// It needs Read.
	Slots(ctx context.Context, ref backup.ClusterRef, filter backup.SlotFilter, page backup.PageRequest) (backup.Page[backup.Slot], error)

	// SlotCounts counts a cluster's records whose time is at or after
	// from and before to (no bound when zero), by outcome; an outcome
	// without records is absent. It needs Read.
	SlotCounts(ctx context.Context, ref backup.ClusterRef, from, to time.Time) (backup.SlotCounts, error)

	// CheckpointSlot returns the record of the slot that stored
	// checkpoint id of the cluster: CHECKPOINT_NOT_FOUND when the cluster
	// has no such checkpoint, SLOT_NOT_FOUND when its slot has no record
	// (a checkpoint reported without one). It needs Read.
	CheckpointSlot(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.Slot, error)

	// SlotClusters lists every cluster, in every project, whose slots are
	// expected: legacy backup STARTED and a checkpoint interval set,
	// whatever takes them (the SIMULATED driver or an agent), ordered by
	// id.
	SlotClusters(ctx context.Context) ([]backup.Cluster, error)

	// RecordMissedSlots stores a MISSED record, with reason and detail,
	// for each of slots of the cluster that has no record, no checkpoint
	// with it as Timestamp and no unexpired claim (ClaimSlot: a taker is
	// still at work), in one transaction, and returns how many it stored.
	// Of racing sweeps, in any processes, each slot gets one record.
	RecordMissedSlots(ctx context.Context, clusterID backup.ObjectID, slots []time.Time, reason backup.SlotReason, detail string) (int, error)

	// PruneSlots deletes a cluster's records of slots before cutoff and
	// returns how many went, leaving its checkpoints alone: the sweep's
	// retention of the records of a cluster nothing reports for, whose
	// checkpoints no PruneCheckpoints reaches.
	PruneSlots(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (int, error)
}
