package cloudmanager

import (
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/atlas"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// Link relations of the backup configuration and the snapshot schedule.
const (
	RelBackupConfig     = "http://mms.mongodb.com/backupConfig"
	RelSnapshotSchedule = "http://mms.mongodb.com/snapshotSchedule"
)

// BackupConfigPath and SchedulePath are the absolute paths of a cluster's
// backup configuration and snapshot schedule; groups is the group
// collection's.
func BackupConfigPath(groups string, c *backup.Cluster) string {
	return groups + "/" + c.GroupID.Hex() + "/backupConfigs/" + c.ID.Hex()
}

// SchedulePath is the absolute path of a cluster's snapshot schedule.
func SchedulePath(groups string, c *backup.Cluster) string {
	return BackupConfigPath(groups, c) + "/snapshotSchedule"
}

// AppendSchedule appends a cluster's snapshot schedule as Cloud Manager
// prints it: the Atlas fields, fullIncrementalDayOfWeek and the reference
// time of day, and links self, cluster and backupConfig (as Ops Manager
// answers them).
func AppendSchedule(b []byte, base, groups string, c *backup.Cluster) []byte {
	return atlas.AppendScheduleView(b, base, SchedulePath(groups, c), c, true, func(b []byte) []byte {
		b = append(b, ',')
		b = wire.AppendLink(b, RelCluster, base, groups, "/", c.GroupID.Hex(), "/clusters/", c.ID.Hex())
		b = append(b, ',')
		return wire.AppendLink(b, RelBackupConfig, base, BackupConfigPath(groups, c))
	})
}

// AppendBackupConfig appends a cluster's backup configuration: its
// clusterId, groupId and statusName, links self, cluster, group and
// snapshotSchedule, and what the service answers for a cluster backed up
// without authentication, TLS or encryption (authMechanismName NONE,
// encryptionEnabled and sslEnabled false). The fields of snapshots
// checkpointd does not take (storage engine, sync source, namespace
// filters, credentials) are left out, as for a cluster that has none.
func AppendBackupConfig(b []byte, base, groups string, c *backup.Cluster) []byte {
	b = append(b, `{"authMechanismName":"NONE","clusterId":"`...)
	b = c.ID.AppendHex(b)
	b = append(b, `","encryptionEnabled":false,"groupId":"`...)
	b = c.GroupID.AppendHex(b)
	b = append(b, `","links":[`...)
	b = wire.AppendLink(b, "self", base, BackupConfigPath(groups, c))
	b = append(b, ',')
	b = wire.AppendLink(b, RelCluster, base, groups, "/", c.GroupID.Hex(), "/clusters/", c.ID.Hex())
	b = append(b, ',')
	b = wire.AppendLink(b, RelGroup, base, groups, "/", c.GroupID.Hex())
	b = append(b, ',')
	b = wire.AppendLink(b, RelSnapshotSchedule, base, SchedulePath(groups, c))
	b = append(b, `],"sslEnabled":false,"statusName":"`...)
	b = append(b, c.StatusOrDefault()...)
	return append(b, `"}`...)
}

// ScheduleInput is the body of a PATCH of the snapshot schedule: the
// Atlas fields and Cloud Manager's own. The reference time of day can be
// sent only as it is (CANNOT_SET_REF_TIME_OF_DAY), the point-in-time
// window likewise (CANNOT_SET_POINT_IN_TIME_WINDOW): Cloud Manager lets
// no client change them.
type ScheduleInput struct {
	atlas.ScheduleInput
	FullIncrementalDayOfWeek *string `json:"fullIncrementalDayOfWeek"`
	ReferenceHourOfDay       *int    `json:"referenceHourOfDay"`
	ReferenceMinuteOfHour    *int    `json:"referenceMinuteOfHour"`
	ReferenceTimeZoneOffset  *string `json:"referenceTimeZoneOffset"`
}

// Update turns the body into a change of c's schedule.
func (in *ScheduleInput) Update(c *backup.Cluster) (backup.ScheduleUpdate, error) {
	u, err := in.ScheduleInput.Update(c)
	u.WindowFixed = true
	u.FullIncrementalDayOfWeek = in.FullIncrementalDayOfWeek
	u.ReferenceHourOfDay, u.ReferenceMinuteOfHour, u.ReferenceTimeZoneOffset = in.ReferenceHourOfDay, in.ReferenceMinuteOfHour, in.ReferenceTimeZoneOffset
	return u, err
}

// BackupConfigInput is the body of a PATCH of the backup configuration.
// statusName changes the state; the read-only fields may be sent back as
// they were read. storageEngineName and syncSource are accepted, checked
// and kept nowhere: checkpointd takes no snapshots for them to apply to,
// and the service's own sample PATCH sends them.
type BackupConfigInput struct {
	AuthMechanismName *string      `json:"authMechanismName"`
	ClusterID         *string      `json:"clusterId"`
	EncryptionEnabled *bool        `json:"encryptionEnabled"`
	GroupID           *string      `json:"groupId"`
	Links             []atlas.Link `json:"links"`
	SSLEnabled        *bool        `json:"sslEnabled"`
	StatusName        *string      `json:"statusName"`
	StorageEngineName *string      `json:"storageEngineName"`
	SyncSource        *string      `json:"syncSource"`
}

// Status is the state the body asks for, nil for none, after checking
// the rest of the body against c.
func (in *BackupConfigInput) Status(c *backup.Cluster) (*backup.BackupStatus, error) {
	for _, f := range []struct {
		name      string
		sent      *string
		unchanged string
	}{
		{"authMechanismName", in.AuthMechanismName, "NONE"},
		{"clusterId", in.ClusterID, c.ID.Hex()},
		{"groupId", in.GroupID, c.GroupID.Hex()},
	} {
		if err := atlas.ReadOnly(f.name, f.sent, f.unchanged); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		name string
		sent *bool
	}{{"encryptionEnabled", in.EncryptionEnabled}, {"sslEnabled", in.SSLEnabled}} {
		if f.sent != nil && *f.sent {
			return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
				"Invalid attribute %s specified: checkpointd takes no snapshots to encrypt or to copy over TLS.", f.name)
		}
	}
	if e := in.StorageEngineName; e != nil && *e != "WIRED_TIGER" && *e != "MEMORY_MAPPED" {
		return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is neither WIRED_TIGER nor MEMORY_MAPPED.", "storageEngineName", *e)
	}
	if in.StatusName == nil {
		return nil, nil
	}
	st := backup.BackupStatus(*in.StatusName)
	return &st, nil
}
