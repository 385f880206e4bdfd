package cloudmanager

import (
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// AppendGroup appends a project as Cloud Manager's group: id, links, name,
// orgId, and the counts of replica sets and sharded clusters in it.
func AppendGroup(b []byte, base, groups string, p *backup.Project) []byte {
	b = append(b, `{"id":"`...)
	b = p.ID.AppendHex(b)
	b = append(b, `","links":[`...)
	b = wire.AppendLink(b, "self", base, groups, "/", p.ID.Hex())
	b = append(b, `],"name":`...)
	b = wire.AppendString(b, p.Name)
	b = append(b, `,"orgId":"`...)
	b = p.OrgID.AppendHex(b)
	return append(b, `"}`...)
}

// AppendCluster appends a cluster as Cloud Manager's cluster resource:
// clusterName, groupId, id, links (self and group), replicaSetName for a
// replica set, and typeName REPLICA_SET or SHARDED_REPLICA_SET.
func AppendCluster(b []byte, base, groups string, c *backup.Cluster) []byte {
	b = append(b, `{"clusterName":`...)
	b = wire.AppendString(b, c.Name)
	b = append(b, `,"groupId":"`...)
	b = c.GroupID.AppendHex(b)
	b = append(b, `","id":"`...)
	b = c.ID.AppendHex(b)
	b = append(b, `","links":[`...)
	g := c.GroupID.Hex()
	b = wire.AppendLink(b, "self", base, groups, "/", g, "/clusters/", c.ID.Hex())
	b = append(b, ',')
	b = wire.AppendLink(b, RelGroup, base, groups, "/", g)
	b = append(b, ']')
	if c.Type == backup.ReplicaSet {
		b = append(b, `,"replicaSetName":`...)
		b = wire.AppendString(b, c.ReplicaSetName)
		return append(b, `,"typeName":"REPLICA_SET"}`...)
	}
	return append(b, `,"typeName":"SHARDED_REPLICA_SET"}`...)
}
