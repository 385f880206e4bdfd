// Package atlas is the representation of checkpointd's data in the Atlas
// Administration API, both the deprecated v1.0 and the versioned v2: field
// sets, key order and links. The two generations print a checkpoint the same
// way and differ only in the paths their links point at, which the caller
// passes in.
//
// It knows nothing of HTTP handling, stores or authentication.
package atlas

import (
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// AppendCheckpoint appends one checkpoint as ApiAtlasCheckpointView: keys in
// the alphabetical order the service emits, its self link at
// base+collection+"/"+id.
func AppendCheckpoint(b []byte, base, collection string, cp *backup.Checkpoint) []byte {
	return AppendCheckpointView(b, base, collection, cp, false, nil)
}

// AppendCheckpointView is the checkpoint representation every generation
// shares. withHostID adds the hostId of mirrored config server parts (Cloud
// Manager); moreLinks, if not nil, appends further link objects after self,
// each preceded by a comma.
func AppendCheckpointView(b []byte, base, collection string, cp *backup.Checkpoint, withHostID bool, moreLinks func([]byte) []byte) []byte {
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
		b = AppendPart(b, &cp.Parts[i], withHostID)
	}
	b = append(b, `],"restorable":`...)
	b = wire.AppendBool(b, cp.Restorable)
	b = append(b, `,"started":`...)
	b = wire.AppendTime(b, cp.Started)
	b = append(b, `,"timestamp":`...)
	b = wire.AppendTime(b, cp.Timestamp)
	return append(b, '}')
}

// AppendPart appends one ApiCheckpointPartView. withHostID adds Cloud
// Manager's hostId on mirrored config server parts; Atlas has no such field.
//
// A part whose token was not discovered has no tokenTimestamp: there is no
// oplog entry to date it by.
//
// The spec gives tokenTimestamp.increment a minimum of 1199145600 (the
// epoch seconds of 2008-01-01, apparently copied from the date field); real
// oplog increments count operations within one second and start at 1, so
// this prints the real value.
func AppendPart(b []byte, p *backup.Part, withHostID bool) []byte {
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
