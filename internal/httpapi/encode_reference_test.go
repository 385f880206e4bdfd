package httpapi

import (
	"strings"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/cloudmanager"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// The straightforward encoding of a checkpoint, field by field, as the
// surfaces wrote it before their encoders were built from fragments
// prepared once per collection: the reference the faster encoders are
// compared with (TestCheckpointEncodersMatchReference) and measured
// against (BenchmarkAppendPage).

// refAppendCheckpoint is the reference for sf.appendCheckpoint.
func refAppendCheckpoint(sf *surface, b []byte, base, collection string, cp *backup.Checkpoint) []byte {
	if sf != cloudManager {
		return refCheckpointView(b, base, collection, cp, false, nil)
	}
	cluster := collection[:strings.LastIndexByte(collection, '/')]
	group := cluster[:strings.LastIndex(cluster, "/clusters/")]
	return refCheckpointView(b, base, collection, cp, true, func(b []byte) []byte {
		b = append(b, ',')
		b = wire.AppendLink(b, cloudmanager.RelCluster, base, cluster)
		b = append(b, ',')
		return wire.AppendLink(b, cloudmanager.RelGroup, base, group)
	})
}

func refCheckpointView(b []byte, base, collection string, cp *backup.Checkpoint, withHostID bool, moreLinks func([]byte) []byte) []byte {
	b = append(b, `{"clusterId":"`...)
	b = cp.ClusterID.AppendHex(b)
	b = append(b, '"')
	if !cp.Completed.IsZero() {
		b = append(b, `,"completed":`...)
		b = wire.AppendTime(b, cp.Completed)
	}
	b = append(b, `,"groupId":"`...)
	b = cp.GroupID.AppendHex(b)
	b = append(b, `","id":"`...)
	b = cp.ID.AppendHex(b)
	b = append(b, `","links":[{"href":"`...)
	b = wire.AppendEscaped(b, base)
	b = wire.AppendEscaped(b, collection)
	b = append(b, '/')
	b = cp.ID.AppendHex(b)
	b = append(b, `","rel":"self"}`...)
	if moreLinks != nil {
		b = moreLinks(b)
	}
	b = append(b, `],"parts":[`...)
	for i := range cp.Parts {
		if i > 0 {
			b = append(b, ',')
		}
		b = refPart(b, &cp.Parts[i], withHostID)
	}
	b = append(b, `],"restorable":`...)
	b = wire.AppendBool(b, cp.Restorable)
	b = append(b, `,"started":`...)
	b = wire.AppendTime(b, cp.Started)
	b = append(b, `,"timestamp":`...)
	b = wire.AppendTime(b, cp.Timestamp)
	return append(b, '}')
}

func refPart(b []byte, p *backup.Part, withHostID bool) []byte {
	b = append(b, '{')
	comma := false
	if withHostID && p.HostID != "" {
		b = append(b, `"hostId":`...)
		b = wire.AppendString(b, p.HostID)
		comma = true
	}
	if p.ReplicaSetName != "" {
		if comma {
			b = append(b, ',')
		}
		b = append(b, `"replicaSetName":`...)
		b = wire.AppendString(b, p.ReplicaSetName)
		comma = true
	}
	if p.ShardName != "" {
		if comma {
			b = append(b, ',')
		}
		b = append(b, `"shardName":`...)
		b = wire.AppendString(b, p.ShardName)
		comma = true
	}
	if comma {
		b = append(b, ',')
	}
	b = append(b, `"tokenDiscovered":`...)
	b = wire.AppendBool(b, p.TokenDiscovered)
	if p.TokenDiscovered {
		b = append(b, `,"tokenTimestamp":{"date":`...)
		b = wire.AppendTime(b, p.TokenTimestamp.Date)
		b = append(b, `,"increment":`...)
		b = wire.AppendInt(b, int64(p.TokenTimestamp.Increment))
		b = append(b, '}')
	}
	b = append(b, `,"typeName":`...)
	b = wire.AppendString(b, string(p.Type))
	return append(b, '}')
}
