// Package cloudmanager is the representation of checkpointd's data in the
// Cloud Manager / Ops Manager public API (/api/public/v1.0): the same
// checkpoint facts as Atlas, plus the hostId of legacy mirrored config
// servers and links to the checkpoint's cluster and group.
//
// It knows nothing of HTTP handling, stores or authentication.
package cloudmanager

import (
	"iter"
	"strings"
	"unsafe"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/atlas"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

// Link relations Cloud Manager uses for related resources.
const (
	RelCluster = "http://mms.mongodb.com/cluster"
	RelGroup   = "http://mms.mongodb.com/group"
)

// AppendCheckpoint appends one checkpoint as Cloud Manager prints it: keys
// in alphabetical order, mirrored config server parts with hostId and no
// replicaSetName, and links self, cluster and group. collection is
// /api/public/v1.0/groups/{g}/clusters/{c}/checkpoints.
func AppendCheckpoint(b []byte, base, collection string, cp *backup.Checkpoint) []byte {
	return AppendCheckpoints(b, base, collection, unsafe.Slice(cp, 1))
}

// AppendCheckpoints appends checkpoints as AppendCheckpoint does, comma
// separated.
func AppendCheckpoints(b []byte, base, collection string, cps []backup.Checkpoint) []byte {
	return atlas.AppendCheckpointsView(b, base, collection, cps, true, moreLinks(base, collection))
}

// AppendCheckpointsSeq is AppendCheckpoints for n checkpoints that come
// as a sequence (atlas.AppendCheckpointsViewSeq): the same bytes, and
// whether they are all n.
func AppendCheckpointsSeq(b []byte, base, collection string, n int, seq iter.Seq[*backup.Checkpoint]) ([]byte, bool) {
	return atlas.AppendCheckpointsViewSeq(b, base, collection, n, seq, true, moreLinks(base, collection))
}

// moreLinks appends a checkpoint's links to its cluster and its group.
func moreLinks(base, collection string) func([]byte) []byte {
	cluster := collection[:strings.LastIndexByte(collection, '/')]
	group := cluster[:strings.LastIndex(cluster, "/clusters/")]
	return func(b []byte) []byte {
		b = append(b, ',')
		b = wire.AppendLink(b, RelCluster, base, cluster)
		b = append(b, ',')
		return wire.AppendLink(b, RelGroup, base, group)
	}
}

// AppendRestoreJob appends one restore job as Cloud Manager prints it:
// checkpointId echoed, no clusterName, hostId for a mirrored config
// server's job, and pointInTime.
func AppendRestoreJob(b []byte, base, collection string, j *backup.RestoreJob) []byte {
	return atlas.AppendRestoreJobView(b, base, collection, j, atlas.RestoreJobFields{CheckpointID: true, HostIDAndPointInTime: true})
}
