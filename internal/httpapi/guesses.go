package httpapi

import "github.com/checkpointd/checkpointd/internal/backup"

// This file gathers every behaviour the research marks as a guess: what the
// real service does here has not been seen on the wire. Each is one named
// value so a live capture can settle it in one edit.

const (
	// guessCheckpointDeprecation and guessCheckpointSunset are the
	// Deprecation and Sunset headers on the deprecated v2 checkpoint
	// operations. The spec marks both operations deprecated but gives no
	// dates; these use the dates the service sends for the deprecated
	// 2023-01-01 cluster resource, in its IMF-fixdate form without a
	// zero-padded day.
	guessCheckpointDeprecation = "Mon, 5 Aug 2024 00:00:00 GMT"
	guessCheckpointSunset      = "Thu, 1 Jul 2027 00:00:00 GMT"

	// guessPreviousAfterNext: list links are ordered self, next, previous.
	// Only self-then-next is captured; "previous" exists in client fixtures.
	guessPreviousAfterNext = true

	// guessNextAddsItemsPerPage: when the request had no itemsPerPage, the
	// next and previous links append it (before pageNum) so that following
	// them keeps the page size.
	guessNextAddsItemsPerPage = true

	// guessPrettyErrors: pretty=true also pretty-prints error bodies (the
	// service's pretty printer is a global output filter).
	guessPrettyErrors = true

	// guessBoolParams: includeCount, pretty and envelope accept true/false in
	// any case; an empty value means the default; anything else is 400
	// INVALID_QUERY_PARAMETER rather than Java's silent false.
	guessStrictBooleans = true
)

// Envelopes (no constant: the choice is structural): with envelope=true the
// HTTP status line stays the real status and the body carries it again in
// "status"; errors are never enveloped.

// Restore jobs (issue: restores to a checkpoint). The codes below are the
// service's where its documentation names them; these are not:
//
//   - guessOnlyCheckpointRestores: a snapshot, oplog-timestamp or
//     point-in-time restore (snapshotId, oplogTs, oplogInc,
//     pointInTimeUTCMillis) is 400 INVALID_ATTRIBUTE naming the field:
//     checkpointd keeps checkpoints, no snapshots.
//   - a checkpoint that is not restorable (restorable false, or a part
//     whose token was not discovered) is 409
//     CANNOT_START_RESTORE_JOB_FOR_INCOMPLETE_CLUSTER_SNAPSHOT, the
//     service's nearest analogue; one older than the cluster's
//     point-in-time window is 409 NO_CHECKPOINT_FOR_PIT_RESTORE.
//   - the target cluster must exist and be readable by the caller
//     (GROUP_NOT_FOUND, CLUSTER_NOT_FOUND as for the path).
//   - delivery.statusName pairs with statusName as atlas.DeliveryStatus
//     says (only FINISHED/READY is captured).
//   - backup.CodeInvalidRestoreJobTransition (409
//     INVALID_RESTORE_JOB_STATUS_TRANSITION): an agent's report a job
//     cannot take (administration API only, so no client of the service
//     sees it).
//   - jobs are listed oldest first (by id), a batch config server first.
const guessOnlyCheckpointRestores = "only restores to a checkpoint (checkpointId) exist here"

// Unknown paths and wrong methods: the codes and details the service uses
// for these have not been captured.
const (
	guessNotFoundDetail         = "Cannot find resource %s."
	guessMethodNotAllowedDetail = "Method %s is not allowed for resource %s."
)

// Project by name: a name longer than the spec's maxLength (64) is a 400
// with this code; the service's code for it has not been captured. An
// unknown name is 404 GROUP_NAME_NOT_FOUND (the code the Ops Manager
// clients test for), a project of another organization likewise.
const (
	guessGroupNameTooLongStatus = 400
	guessGroupNameTooLongCode   = backup.CodeInvalidAttribute
)

// The snapshot schedule (workflow.go). The v2 operations' Deprecation and
// Sunset headers are the checkpoint operations' (guessCheckpointDeprecation):
// the spec marks both deprecated without dates.
const (
	// guessAtlasWindowSettable: Atlas v1.0 and v2 take a new
	// pointInTimeWindowHours (the spec does not mark it read-only);
	// Cloud Manager refuses it (CANNOT_SET_POINT_IN_TIME_WINDOW, its
	// error table; cloudmanager.ScheduleInput).
	guessAtlasWindowSettable = true
)

// Guesses made outside this package, listed here so that one file names
// them all:
//
//   - atlas.AppendSchedule: every generation leaves
//     clusterCheckpointIntervalMin out while checkpoints are off (Cloud
//     Manager's samples; the v2 schema requires it); a client turns them
//     off with 0 or null (atlas.ScheduleInput).
//   - backup.Cluster.SetStatus: asking for the state the backup is in
//     changes nothing and answers 200, so that a client may send back
//     what it read (the service's rule, start only from INACTIVE or
//     STOPPED, would refuse STARTED again); starting goes straight to
//     STARTED (no initial sync to provision); TERMINATING deletes the
//     checkpoints and answers INACTIVE in the same request, and one that
//     fails part way stays TERMINATING until sent again; INACTIVE and
//     PROVISIONING asked by a client are 400 INVALID_ATTRIBUTE; a cluster on Cloud Backup has no legacy
//     schedule (404 BACKUP_CONFIG_NOT_FOUND), shows its backup
//     configuration INACTIVE and cannot start one (409
//     CANNOT_START_BACKUP_INVALID_STATE).
//   - backup.DefaultSnapshotSchedule: fullIncrementalDayOfWeek SUNDAY;
//     the reference time of day 00:00 +0000, the grid of checkpoint slots
//     (backup.ReferenceHourOfDay).
//   - atlas.ReadOnly: a changed clusterId, groupId or authMechanismName is
//     400 ATTRIBUTE_READ_ONLY (a code of the service's table).
//   - cloudmanager.AppendBackupConfig: authMechanismName NONE,
//     encryptionEnabled and sslEnabled false, the snapshot fields left
//     out; storageEngineName and syncSource accepted on PATCH and kept
//     nowhere.
//   - backup.Principal.CheckBackupAdmin: changing a schedule or backup
//     configuration needs an owner of the organization, GROUP_OWNER or
//     GROUP_BACKUP_MANAGER.
//   - backup.ErrGroupNameNotFound: the detail "No group with name %s
//     exists."; store.FirstReadable: of projects of one name in several
//     organizations, the first by id the caller may read.
//
//   - backup.Principal.CheckProject: a caller of another organization is
//     answered 404 GROUP_NOT_FOUND, exactly as for a missing project (the
//     service's code for this case is not pinned down: USER_UNAUTHORIZED,
//     NOT_IN_GROUP or USER_CANNOT_ACCESS_GROUP); too low a role in the
//     project's own organization is 401 USER_UNAUTHORIZED (captured).
//   - auth: a refused bearer token gets the same 401 challenge as missing
//     credentials (the service's answer is unknown).
//   - auth.Authenticator: an API access list refusal comes before the rate
//     limit, so refused requests do not spend the caller's budget.
//   - backup.ErrUnavailable: a store that cannot reach its database (a
//     PostgreSQL restart, failover or network cut; a SQLite file that
//     cannot be read or written, or locked past the busy timeout) is
//     answered 503 SERVICE_UNAVAILABLE with Retry-After: 5, the code the
//     service's own outages carry; its detail (backup.DetailStoreUnavailable)
//     is ours. A full disk (SQLITE_FULL, PostgreSQL's disk_full) is the same
//     503 with a detail that says so (backup.DetailStoreFull) rather than
//     507 Insufficient Storage, which no Atlas error uses and which clients
//     built for Atlas would not expect; like any 503, it clears by itself
//     once space is freed.
