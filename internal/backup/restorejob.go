package backup

import (
	"slices"
	"strconv"
	"time"
)

// RestoreStatus is a restore job's statusName, as the service prints it.
type RestoreStatus string

// Restore job statuses. A job is created IN_PROGRESS and ends in one of
// the other three, never to change again.
const (
	RestoreInProgress RestoreStatus = "IN_PROGRESS"
	RestoreFinished   RestoreStatus = "FINISHED"
	RestoreBroken     RestoreStatus = "BROKEN"
	RestoreKilled     RestoreStatus = "KILLED"
)

// Final reports whether s is an end state.
func (s RestoreStatus) Final() bool {
	return s == RestoreFinished || s == RestoreBroken || s == RestoreKilled
}

// RestoreTarget is the cluster a restore job writes to (the request's
// delivery.targetGroupId and targetClusterId or targetClusterName).
type RestoreTarget struct {
	GroupID     ObjectID
	ClusterID   ObjectID
	ClusterName string
}

// RestoreJob is one part's share of a restore to a checkpoint: the service
// creates one job per shard and one for the config server, sharing a
// BatchID. What it restores is exactly Part (its shard or config server)
// up to Part.TokenTimestamp, the oplog entry to replay to.
type RestoreJob struct {
	ID           ObjectID
	BatchID      ObjectID
	GroupID      ObjectID
	ClusterID    ObjectID
	ClusterName  string // filled by stores when they read a job
	CheckpointID ObjectID
	Created      time.Time
	Part         Part
	Target       RestoreTarget
	Status       RestoreStatus
	// Driver is who carries the job out: the engine (SIMULATED), which
	// finishes it at Due, or an agent (AGENT), which claims it.
	Driver Driver
	Due    time.Time // SIMULATED only
	// Owner is the agent that claimed the job, empty until one does.
	Owner string
	// Finished is when the job reached a final status; zero until then.
	Finished time.Time
}

// Codes of the restore job refusals the service documents.
const (
	CodeRestoreJobNotFound        = "RESTORE_JOB_NOT_FOUND"
	CodeInvalidJobID              = "INVALID_JOB_ID"
	CodeMissingAttribute          = "MISSING_ATTRIBUTE"
	CodeMissingOneOfAttributes    = "MISSING_ONE_OF_ATTRIBUTES"
	CodeUnsupportedDeliveryMethod = "UNSUPPORTED_DELIVERY_METHOD"
	CodeIncompleteClusterSnapshot = "CANNOT_START_RESTORE_JOB_FOR_INCOMPLETE_CLUSTER_SNAPSHOT"
	CodeNoCheckpointForPITRestore = "NO_CHECKPOINT_FOR_PIT_RESTORE"
	// CodeInvalidRestoreJobTransition is a named guess: the service's
	// code for a status report a job cannot take is not known.
	CodeInvalidRestoreJobTransition = "INVALID_RESTORE_JOB_STATUS_TRANSITION"
)

// ErrRestoreJobNotFound is the 404 for an unknown restore job of a cluster.
func ErrRestoreJobNotFound(id string) *Error {
	return Errorf(NotFound, CodeRestoreJobNotFound, "No restore job with ID %s exists.", id)
}

// ErrInvalidJobID is the 404 for a malformed restore job id.
func ErrInvalidJobID(raw string) *Error {
	return Errorf(NotFound, CodeInvalidJobID, "An invalid restore job ID %s was specified.", raw)
}

// ErrMissingAttribute is the 400 for a required field left out.
func ErrMissingAttribute(name string) *Error {
	return Errorf(Invalid, CodeMissingAttribute, "The required attribute %s was not specified.", name)
}

// RestoreStep is one part's instructions in a RestorePlan.
type RestoreStep struct {
	// Order is the step's place, from 1: the config server first, then
	// the shards in the cluster's order.
	Order int
	Part  Part
	// OplogLimit is the oplog position to stop replaying at, exclusive as
	// mongorestore's --oplogLimit is: one past the part's token, so that
	// the token's own entry (a no-op note) is the last one applied.
	OplogLimit BSONTimestamp
	// Command is the mongorestore invocation for the part's dump.
	Command string
}

// RestorePlan is what a person needs to restore a checkpoint by hand: per
// part, where its oplog replay stops, in order. Warnings say why the
// checkpoint cannot be restored, if it cannot; the steps are listed
// anyway, for what they are worth.
type RestorePlan struct {
	Checkpoint  Checkpoint
	ClusterName string
	Restorable  bool
	// Why it is not: Incomplete (marked not restorable, or a token not
	// discovered; Why is the first such warning), OutsideWindow (older
	// than the point-in-time window).
	Incomplete, OutsideWindow bool
	Why                       string
	Warnings                  []string
	Steps                     []RestoreStep
}

// PlanRestore plans the restore of cp, a checkpoint of c, as of now: the
// config server first (a sharded cluster's metadata must be in place
// before its shards' data), then each shard in c's order. A checkpoint is
// restorable when it says so, every part's token was discovered, and its
// timestamp is within c's point-in-time window of now.
func PlanRestore(c *Cluster, cp *Checkpoint, now time.Time) RestorePlan {
	p := RestorePlan{Checkpoint: *cp, ClusterName: c.Name, Restorable: true}
	warn := func(s string) {
		p.Restorable = false
		p.Warnings = append(p.Warnings, s)
	}
	incomplete := func(s string) {
		if !p.Incomplete {
			p.Incomplete, p.Why = true, s
		}
		warn(s)
	}
	if !cp.Restorable {
		incomplete("The checkpoint is marked not restorable: the balancer could not be stopped or a token was not found, so its parts are not one consistent point.")
	}
	if w := c.Schedule.WindowOrDefault(); cp.Timestamp.Before(now.Add(-w)) {
		p.OutsideWindow = true
		warn("The checkpoint is older than the cluster's point-in-time window (" + strconv.Itoa(int(w/time.Hour)) + " hours): the oplog to replay up to it is no longer kept.")
	}
	var config, shards []Part
	for _, pt := range cp.Parts {
		if !pt.TokenDiscovered {
			incomplete("The token of " + partLabel(pt) + " was not discovered: there is no oplog position to stop its replay at.")
		}
		if pt.Type == PartReplicaSet {
			shards = append(shards, pt)
		} else {
			config = append(config, pt)
		}
	}
	// Shards in the cluster's order, whatever order the parts came in.
	order := make(map[string]int, len(c.Shards))
	for i, sh := range c.Shards {
		order[sh.Name] = i
	}
	slices.SortStableFunc(shards, func(a, b Part) int { return order[a.ShardName] - order[b.ShardName] })
	for _, pt := range append(config, shards...) {
		st := RestoreStep{Order: len(p.Steps) + 1, Part: pt}
		if pt.TokenDiscovered {
			st.OplogLimit = BSONTimestamp{Date: pt.TokenTimestamp.Date, Increment: pt.TokenTimestamp.Increment + 1}
			st.Command = "mongorestore --oplogReplay --oplogLimit " + st.OplogLimit.String() + " <dump of " + partLabel(pt) + ">"
		}
		p.Steps = append(p.Steps, st)
	}
	return p
}

// String is the timestamp as mongorestore's --oplogLimit takes it:
// seconds:increment.
func (t BSONTimestamp) String() string {
	return strconv.FormatInt(t.Date.Unix(), 10) + ":" + strconv.FormatUint(uint64(t.Increment), 10)
}

// partLabel names a part in a sentence: its shard, its config server
// replica set, or its mirrored config host.
func partLabel(p Part) string {
	switch {
	case p.ShardName != "":
		return "shard " + p.ShardName
	case p.ReplicaSetName != "":
		return "config server replica set " + p.ReplicaSetName
	}
	return "config server host " + p.HostID
}

// RestoreJobs turns a plan into the jobs of one batch, one per step, with
// ids from ids: the batch's, then each job's in step order, so that a
// cluster's jobs listed by id come out config server first.
//
// Jobs of a SIMULATED cluster are due as SimulatedRestoreDue says.
func (p *RestorePlan) RestoreJobs(ids *IDSource, created time.Time, target RestoreTarget, driver Driver) []RestoreJob {
	batch := ids.New(created)
	jobs := make([]RestoreJob, 0, len(p.Steps))
	for _, st := range p.Steps {
		j := RestoreJob{
			ID: ids.New(created), BatchID: batch, GroupID: p.Checkpoint.GroupID, ClusterID: p.Checkpoint.ClusterID,
			ClusterName: p.ClusterName, CheckpointID: p.Checkpoint.ID, Created: created, Part: st.Part,
			Target: target, Status: RestoreInProgress, Driver: driver,
		}
		if driver == DriverSimulated {
			j.Due = SimulatedRestoreDue(created, st.Part)
		}
		jobs = append(jobs, j)
	}
	return jobs
}

// ErrRestoreJobTransition is the 409 for a status report a job cannot
// take: it is final already with another status, or it is not the
// reporter's to report. The service's code is not known (a named guess,
// CodeInvalidRestoreJobTransition).
func ErrRestoreJobTransition(id string, status RestoreStatus, why string) *Error {
	return Errorf(Conflict, CodeInvalidRestoreJobTransition, "Restore job %s cannot become %s: %s.", id, string(status), why)
}

// The timeline of a simulated restore: the config server's job first
// (its data is small: chunk metadata), then the shards', which copy their
// snapshot and replay their oplog in parallel once it is done. A restore
// of real data takes minutes to hours; these keep a demo watchable while
// every status is seen.
const (
	SimulatedConfigRestore = 2 * time.Minute
	SimulatedShardRestore  = 3 * time.Minute
)

// SimulatedRestoreDue is when a simulated restore job of part, created at
// created, finishes.
func SimulatedRestoreDue(created time.Time, part Part) time.Time {
	if part.Type == PartReplicaSet {
		return created.Add(SimulatedConfigRestore + SimulatedShardRestore)
	}
	return created.Add(SimulatedConfigRestore)
}
