package shape

import (
	"fmt"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// RestoreJobRow is a restore_jobs row as both dialects store it, with the
// cluster's ids and name it is read with: the SQL-free half of reading and
// writing one, so that each dialect keeps only its statements.
type RestoreJobRow struct {
	ID, Batch, Checkpoint                  string
	Created                                int64
	PartType, Shard, ReplicaSet, HostID    string
	TokenTS, TokenInc                      int64
	TargetGroup, TargetCluster, TargetName string
	Driver, Status                         string
	Due                                    int64
	Owner                                  string
	Finished                               int64
	GroupID, ClusterID, ClusterName        string
}

// Dest is the scan destinations of RestoreJobCols, in its order.
func (r *RestoreJobRow) Dest() []any {
	return []any{&r.ID, &r.Batch, &r.Checkpoint, &r.Created, &r.PartType, &r.Shard, &r.ReplicaSet, &r.HostID,
		&r.TokenTS, &r.TokenInc, &r.TargetGroup, &r.TargetCluster, &r.TargetName, &r.Driver, &r.Status,
		&r.Due, &r.Owner, &r.Finished, &r.GroupID, &r.ClusterID, &r.ClusterName}
}

// RestoreJobCols are the columns Dest scans: the job's (alias j), then its
// cluster's (alias c).
const RestoreJobCols = `j.id, j.batch_id, j.checkpoint_id, j.created, j.part_type, j.shard_name, j.replica_set_name, j.host_id,
  j.token_ts, j.token_inc, j.target_group_id, j.target_cluster_id, j.target_cluster_name, j.driver, j.status,
  j.due, j.owner, j.finished, c.group_id, c.id, c.name`

// Job is the row as a domain value.
func (r *RestoreJobRow) Job() (backup.RestoreJob, error) {
	j := backup.RestoreJob{
		ClusterName: r.ClusterName, Created: UnixTime(r.Created), Status: backup.RestoreStatus(r.Status),
		Driver: backup.Driver(r.Driver), Owner: r.Owner,
		Part: backup.Part{Type: backup.PartType(r.PartType), ShardName: r.Shard, ReplicaSetName: r.ReplicaSet,
			HostID: r.HostID, TokenDiscovered: true,
			TokenTimestamp: backup.BSONTimestamp{Date: UnixTime(r.TokenTS), Increment: uint32(r.TokenInc)}},
		Target: backup.RestoreTarget{ClusterName: r.TargetName},
	}
	if r.Due != 0 {
		j.Due = UnixTime(r.Due)
	}
	if r.Finished != 0 {
		j.Finished = UnixTime(r.Finished)
	}
	for _, f := range []struct {
		dst      *backup.ObjectID
		s        string
		optional bool
	}{
		{&j.ID, r.ID, false}, {&j.BatchID, r.Batch, false}, {&j.CheckpointID, r.Checkpoint, false},
		{&j.GroupID, r.GroupID, false}, {&j.ClusterID, r.ClusterID, false},
		{&j.Target.GroupID, r.TargetGroup, true}, {&j.Target.ClusterID, r.TargetCluster, true},
	} {
		if f.optional && f.s == "" {
			continue
		}
		id, err := ParseIDString(f.s)
		if err != nil {
			return j, fmt.Errorf("restore job %s: %w", r.ID, err)
		}
		*f.dst = id
	}
	return j, nil
}

// RestoreJobArgs are the values of a new row, in the order of
// RestoreJobInsertCols, after the cluster's pk.
func RestoreJobArgs(j *backup.RestoreJob) []any {
	hexOrEmpty := func(id backup.ObjectID) string {
		if id.IsZero() {
			return ""
		}
		return id.Hex()
	}
	var due int64
	if !j.Due.IsZero() {
		due = j.Due.Unix()
	}
	return []any{j.ID.Hex(), j.BatchID.Hex(), j.CheckpointID.Hex(), j.Created.Unix(), string(j.Part.Type),
		j.Part.ShardName, j.Part.ReplicaSetName, j.Part.HostID, j.Part.TokenTimestamp.Date.Unix(),
		int64(j.Part.TokenTimestamp.Increment), hexOrEmpty(j.Target.GroupID), hexOrEmpty(j.Target.ClusterID),
		j.Target.ClusterName, string(j.Driver), string(j.Status), due, j.Owner, int64(0)}
}

// RestoreJobInsertCols are the columns RestoreJobArgs fills, after cluster.
const RestoreJobInsertCols = `cluster, id, batch_id, checkpoint_id, created, part_type, shard_name, replica_set_name, host_id,
  token_ts, token_inc, target_group_id, target_cluster_id, target_cluster_name, driver, status, due, owner, finished`

// CheckRestoreBatch checks that jobs are one non-empty batch of one
// cluster, as CreateRestoreJobs takes them.
func CheckRestoreBatch(jobs []backup.RestoreJob) error {
	if len(jobs) == 0 {
		return fmt.Errorf("create restore jobs: no jobs")
	}
	for _, j := range jobs[1:] {
		if j.GroupID != jobs[0].GroupID || j.ClusterID != jobs[0].ClusterID || j.BatchID != jobs[0].BatchID {
			return fmt.Errorf("create restore jobs: jobs of several clusters or batches")
		}
	}
	return nil
}
