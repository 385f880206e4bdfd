package httpapi

import (
	"net/http"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// operation is one API operation as a surface versions it.
type operation struct {
	name string
	// versions lists the v2 resource versions (YYYY-MM-DD, ascending).
	versions []string
	// deprecation and sunset, when set, are sent as the Deprecation and
	// Sunset headers of v2 responses to this operation.
	deprecation, sunset []string
}

var (
	opListCheckpoints = &operation{
		name:        "listLegacyBackupCheckpoints",
		versions:    []string{"2023-01-01"},
		deprecation: []string{guessCheckpointDeprecation},
		sunset:      []string{guessCheckpointSunset},
	}
	opGetCheckpoint = &operation{
		name:        "getLegacyBackupCheckpoint",
		versions:    []string{"2023-01-01"},
		deprecation: []string{guessCheckpointDeprecation},
		sunset:      []string{guessCheckpointSunset},
	}
)

// surface is one API generation: what differs between them and nothing
// else. Handlers are written once and ask the surface for these.
type surface struct {
	name string
	// versioned surfaces negotiate a dated media type from Accept.
	versioned bool
	// contentType is the body type of unversioned surfaces.
	contentType []string
	// clusterByID: the path names the cluster by its id (Cloud Manager)
	// rather than by its name (Atlas).
	clusterByID bool
	// groups is the path prefix of a project, e.g. /api/atlas/v2/groups.
	groups string
	// checkpoints is the path segment of the checkpoint collection.
	checkpoints string
	// appendCheckpoint appends one checkpoint's representation; collection
	// is the absolute-path of its collection, for its links.
	appendCheckpoint func(b []byte, base, collection string, cp *backup.Checkpoint) []byte
}

// negotiate sets the response's media type for op, or fails with the
// surface's 406.
func (sf *surface) negotiate(rq *request, op *operation) error {
	if !sf.versioned {
		rq.contentType = sf.contentType
		return nil
	}
	v, err := negotiateVersion(rq.Header.Values("Accept"), op.versions)
	if err != nil {
		return err
	}
	rq.contentType = versionedType(v)
	rq.deprecation, rq.sunset = op.deprecation, op.sunset
	return nil
}

// clusterRef parses the {groupId} and cluster path segments.
func (sf *surface) clusterRef(r *http.Request) (backup.ClusterRef, error) {
	var ref backup.ClusterRef
	g := r.PathValue("groupId")
	id, ok := backup.ParseObjectID(g)
	if !ok {
		return ref, backup.ErrInvalidGroupID(g)
	}
	ref.GroupID = id
	c := r.PathValue("cluster")
	if sf.clusterByID {
		cid, ok := backup.ParseObjectID(c)
		if !ok {
			return ref, backup.ErrInvalidClusterID(c)
		}
		ref.ID = cid
		return ref, nil
	}
	// A name that does not match the cluster name pattern names no cluster;
	// the store still checks the group first, so the answer is
	// GROUP_NOT_FOUND or CLUSTER_NOT_FOUND as for any unknown name.
	ref.Name = c
	return ref, nil
}

// checkpointsPath is the absolute path of a cluster's checkpoint collection.
func (sf *surface) checkpointsPath(ref backup.ClusterRef) string {
	return sf.groups + "/" + ref.GroupID.Hex() + "/clusters/" + ref.Label() + "/" + sf.checkpoints
}
