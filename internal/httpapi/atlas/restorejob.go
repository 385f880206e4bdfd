package atlas

import (
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// RestoreJobFields says which of the generation-specific fields a restore
// job's representation carries.
type RestoreJobFields struct {
	// CheckpointID echoes the checkpoint (Cloud Manager's response table
	// lists it; the v2 schema marks it writeOnly, so Atlas omits it).
	CheckpointID bool
	// ClusterName: Atlas names the cluster by name beside its id.
	ClusterName bool
	// HostIDAndPointInTime: Cloud Manager's hostId (mirrored config
	// server jobs only) and pointInTime, which the v2 schema does not have.
	HostIDAndPointInTime bool
}

// AppendRestoreJob appends one restore job as the v1.0 and v2 Atlas APIs
// print BackupRestoreJob: keys in alphabetical order, a self link at
// base+collection+"/"+id.
func AppendRestoreJob(b []byte, base, collection string, j *backup.RestoreJob) []byte {
	return AppendRestoreJobView(b, base, collection, j, RestoreJobFields{ClusterName: true})
}

// AppendRestoreJobView is the restore job representation every generation
// shares, with the fields f selects.
//
// delivery.methodName is HTTP although the job was asked for as
// AUTOMATED_RESTORE: the service answers so (the spec's methodName text).
// delivery.statusName follows the job's status (DeliveryStatus).
// encryptionEnabled is false: checkpointd restores no encrypted snapshot.
// timestamp is the oplog entry the part is replayed up to, its token.
func AppendRestoreJobView(b []byte, base, collection string, j *backup.RestoreJob, f RestoreJobFields) []byte {
	b = append(b, `{"batchId":"`...)
	b = j.BatchID.AppendHex(b)
	b = append(b, '"')
	if f.CheckpointID {
		b = append(b, `,"checkpointId":"`...)
		b = j.CheckpointID.AppendHex(b)
		b = append(b, '"')
	}
	b = append(b, `,"clusterId":"`...)
	b = j.ClusterID.AppendHex(b)
	b = append(b, '"')
	if f.ClusterName {
		b = append(b, `,"clusterName":`...)
		b = wire.AppendString(b, j.ClusterName)
	}
	b = append(b, `,"created":`...)
	b = wire.AppendTime(b, j.Created)
	b = append(b, `,"delivery":{"methodName":"HTTP","statusName":`...)
	b = wire.AppendString(b, DeliveryStatus(j.Status))
	if !j.Target.ClusterID.IsZero() {
		b = append(b, `,"targetClusterId":"`...)
		b = j.Target.ClusterID.AppendHex(b)
		b = append(b, '"')
	}
	if f.ClusterName && j.Target.ClusterName != "" {
		b = append(b, `,"targetClusterName":`...)
		b = wire.AppendString(b, j.Target.ClusterName)
	}
	if !j.Target.GroupID.IsZero() {
		b = append(b, `,"targetGroupId":"`...)
		b = j.Target.GroupID.AppendHex(b)
		b = append(b, '"')
	}
	b = append(b, `},"encryptionEnabled":false,"groupId":"`...)
	b = j.GroupID.AppendHex(b)
	b = append(b, '"')
	if f.HostIDAndPointInTime && j.Part.HostID != "" {
		b = append(b, `,"hostId":`...)
		b = wire.AppendString(b, j.Part.HostID)
	}
	b = append(b, `,"id":"`...)
	b = j.ID.AppendHex(b)
	b = append(b, `","links":[`...)
	b = wire.AppendLink(b, "self", base, collection, "/", j.ID.Hex())
	b = append(b, ']')
	if f.HostIDAndPointInTime {
		b = append(b, `,"pointInTime":false`...)
	}
	b = append(b, `,"statusName":`...)
	b = wire.AppendString(b, string(j.Status))
	b = append(b, `,"timestamp":{"date":`...)
	b = wire.AppendTime(b, j.Part.TokenTimestamp.Date)
	b = append(b, `,"increment":`...)
	b = wire.AppendInt(b, int64(j.Part.TokenTimestamp.Increment))
	return append(b, `}}`...)
}

// DeliveryStatus is delivery.statusName for a job's status. The service's
// pairing is known for one sample only (FINISHED with READY); the others
// are named guesses: a job under way is IN_PROGRESS, a broken one FAILED,
// a killed one INTERRUPTED.
func DeliveryStatus(s backup.RestoreStatus) string {
	switch s {
	case backup.RestoreFinished:
		return "READY"
	case backup.RestoreBroken:
		return "FAILED"
	case backup.RestoreKilled:
		return "INTERRUPTED"
	}
	return "IN_PROGRESS"
}
