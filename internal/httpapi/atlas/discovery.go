package atlas

import (
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// AppendGroup appends a project as the Group schema (v2) and the v1.0 group
// representation: clusterCount, created, id, links, name, orgId. groups is
// the absolute path of the group collection, e.g. /api/atlas/v2/groups.
func AppendGroup(b []byte, base, groups string, p *backup.Project) []byte {
	b = append(b, `{"clusterCount":`...)
	b = wire.AppendInt(b, int64(p.ClusterCount))
	b = append(b, `,"created":`...)
	b = wire.AppendTime(b, p.Created)
	b = append(b, `,"id":"`...)
	b = p.ID.AppendHex(b)
	b = append(b, `","links":[`...)
	b = wire.AppendLink(b, "self", base, groups, "/", p.ID.Hex())
	b = append(b, `],"name":`...)
	b = wire.AppendString(b, p.Name)
	b = append(b, `,"orgId":"`...)
	b = p.OrgID.AppendHex(b)
	return append(b, `"}`...)
}

// clusterType is how Atlas names a topology.
func clusterType(c *backup.Cluster) string {
	if c.Type == backup.Sharded {
		return "SHARDED"
	}
	return "REPLICASET"
}

// AppendClusterV2 appends a cluster as ClusterDescription20240805, with the
// fields that mean something for a cluster of the legacy backup era:
// backupEnabled (any backup), clusterType, configServerType (DEDICATED for
// sharded clusters), createDate, groupId, id, links, mongoDB(Major)Version,
// name, paused, pitEnabled, stateName. Cloud provider settings
// (replicationSpecs) are left out: the clusters are self-managed.
func AppendClusterV2(b []byte, base, groups string, c *backup.Cluster) []byte {
	b = append(b, `{"backupEnabled":`...)
	b = wire.AppendBool(b, c.Backup != backup.BackupNone)
	b = append(b, `,"clusterType":"`...)
	b = append(b, clusterType(c)...)
	b = append(b, '"')
	if c.Type == backup.Sharded {
		b = append(b, `,"configServerType":"DEDICATED"`...)
	}
	b = append(b, `,"createDate":`...)
	b = wire.AppendTime(b, c.Created)
	b = appendClusterCommon(b, base, groups, c)
	b = append(b, `,"paused":false,"pitEnabled":false,"stateName":"IDLE"}`...)
	return b
}

// AppendClusterV1 appends a cluster as the Atlas v1.0 cluster
// representation: there backupEnabled means legacy continuous backup and
// providerBackupEnabled means Cloud Backup.
func AppendClusterV1(b []byte, base, groups string, c *backup.Cluster) []byte {
	b = append(b, `{"backupEnabled":`...)
	b = wire.AppendBool(b, c.Backup == backup.BackupLegacy)
	b = append(b, `,"clusterType":"`...)
	b = append(b, clusterType(c)...)
	b = append(b, `","createDate":`...)
	b = wire.AppendTime(b, c.Created)
	b = appendClusterCommon(b, base, groups, c)
	b = append(b, `,"numShards":`...)
	b = wire.AppendInt(b, int64(max(1, len(c.Shards))))
	b = append(b, `,"paused":false,"pitEnabled":false,"providerBackupEnabled":`...)
	b = wire.AppendBool(b, c.Backup == backup.BackupCloud)
	return append(b, `,"stateName":"IDLE"}`...)
}

// appendClusterCommon appends groupId, id, links, mongoDBMajorVersion,
// mongoDBVersion and name.
func appendClusterCommon(b []byte, base, groups string, c *backup.Cluster) []byte {
	b = append(b, `,"groupId":"`...)
	b = c.GroupID.AppendHex(b)
	b = append(b, `","id":"`...)
	b = c.ID.AppendHex(b)
	b = append(b, `","links":[`...)
	b = wire.AppendLink(b, "self", base, groups, "/", c.GroupID.Hex(), "/clusters/", c.Name)
	b = append(b, `],"mongoDBMajorVersion":`...)
	b = wire.AppendString(b, c.MajorVersion())
	b = append(b, `,"mongoDBVersion":`...)
	b = wire.AppendString(b, c.MongoDBVersion)
	b = append(b, `,"name":`...)
	return wire.AppendString(b, c.Name)
}
