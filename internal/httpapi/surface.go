package httpapi

import (
	"iter"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// operation is one API operation as a surface versions it.
type operation struct {
	name string
	// versions lists the v2 resource versions, oldest first.
	versions []version
}

// version is one dated version of a v2 resource.
type version struct {
	date string // YYYY-MM-DD
	// deprecation and sunset, when set, are sent as the Deprecation and
	// Sunset headers of responses served at this version.
	deprecation, sunset []string
}

// The deprecated 2023-01-01 cluster resource carries these headers on the
// service (captured).
var (
	clustersDeprecation = []string{"Mon, 5 Aug 2024 00:00:00 GMT"}
	clustersSunset      = []string{"Thu, 1 Jul 2027 00:00:00 GMT"}
	checkpointsVersions = []version{{
		date:        "2023-01-01",
		deprecation: []string{guessCheckpointDeprecation},
		sunset:      []string{guessCheckpointSunset},
	}}
	clustersVersions = []version{
		{date: "2023-01-01", deprecation: clustersDeprecation, sunset: clustersSunset},
		{date: "2023-02-01"},
		{date: "2024-08-05"},
	}
)

var (
	opListCheckpoints = &operation{name: "listLegacyBackupCheckpoints", versions: checkpointsVersions}
	opGetCheckpoint   = &operation{name: "getLegacyBackupCheckpoint", versions: checkpointsVersions}
	opListProjects    = &operation{name: "listProjects", versions: []version{{date: "2023-01-01"}}}
	opGetProject      = &operation{name: "getProject", versions: []version{{date: "2023-01-01"}}}
	opListClusters    = &operation{name: "listClusters", versions: clustersVersions}
	opGetCluster      = &operation{name: "getCluster", versions: clustersVersions}
)

// surface is one API generation, or another part of the server (its
// administration API, the web view...): what differs between them and
// nothing else. Handlers are written once and ask the surface for these.
type surface struct {
	// name is the API in logs, and the first half of its routes' metrics
	// labels (surface.operation).
	name string
	// bare: the routes are labelled by their operation alone (healthz,
	// not_found), as the server's own routes are listed in the README.
	bare bool
	// earlyPretty: errors answered before the query is read (size,
	// authentication, method) honour pretty, read leniently.
	earlyPretty bool
	// query is what the pipeline reads of the query string before the
	// handler.
	query queryMode
	// oauthErrors: a wrong method and an internal error are answered in
	// OAuth's error format, as the token endpoints answer everything else.
	oauthErrors bool
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
	// appendCheckpoints appends a page of checkpoints, comma separated, as
	// appendCheckpoint writes each, preparing once what the page's
	// checkpoints share (atlas.AppendCheckpointsView).
	appendCheckpoints func(b []byte, base, collection string, cps []backup.Checkpoint) []byte
	// appendCheckpointsSeq is appendCheckpoints for n checkpoints that
	// come as a sequence (checkpointSeqs): the same bytes, or b as it
	// was and false when the sequence yields fewer than n
	// (atlas.AppendCheckpointsViewSeq).
	appendCheckpointsSeq func(b []byte, base, collection string, n int, seq iter.Seq[*backup.Checkpoint]) ([]byte, bool)
	// appendRestoreJob appends one restore job; collection is the
	// absolute path of the cluster's restore jobs.
	appendRestoreJob func(b []byte, base, collection string, j *backup.RestoreJob) []byte
	// appendGroup and appendCluster append a project and a cluster; groups
	// is the absolute path of the group collection.
	appendGroup   func(b []byte, base, groups string, p *backup.Project) []byte
	appendCluster func(b []byte, base, groups string, c *backup.Cluster) []byte
	// scheduleParent is the collection under the group whose member has
	// the snapshotSchedule: clusters (Atlas) or backupConfigs (Cloud
	// Manager).
	scheduleParent string
	// appendSchedule appends a cluster's snapshot schedule; newSchedule
	// is the body of its PATCH.
	appendSchedule func(b []byte, base, groups string, c *backup.Cluster) []byte
	newSchedule    func() scheduleInput
}

// scheduleInput is a generation's body of a PATCH of the snapshot
// schedule.
type scheduleInput interface {
	Update(c *backup.Cluster) (backup.ScheduleUpdate, error)
}

// queryMode says which query parameters a surface's pipeline reads.
type queryMode uint8

const (
	queryNone   queryMode = iota
	queryPretty           // pretty (the administration API)
	queryAPI              // pretty, envelope, and the version from Accept (the three generations)
)

// label names a route of op in metrics: surface.operation, the surface
// alone for a method no route has, the operation alone on a bare surface.
func (sf *surface) label(op *operation) string {
	switch {
	case op == nil:
		return sf.name
	case sf.bare:
		return op.name
	}
	return sf.name + "." + op.name
}

// readQuery reads the query parameters the surface has, in the service's
// order: the query string, pretty (read before version negotiation so
// that a 406 honours it; a malformed one is reported after it), the
// version, envelope.
func (sf *surface) readQuery(rq *request, op *operation) error {
	if sf.query == queryNone {
		return nil
	}
	var err error
	if rq.query, err = parseQuery(rq.URL.RawQuery, rq.query[:0]); err != nil {
		return err
	}
	pretty, perr := rq.query.boolParam("pretty", false)
	rq.pretty = pretty
	if sf.query == queryPretty {
		return perr
	}
	if sf.versioned {
		v, err := negotiateVersion(rq.Header["Accept"], op.versions) // canonical: as Values, without checking the key
		if err != nil {
			return err
		}
		rq.contentType = versionedType(v.date)
		rq.deprecation, rq.sunset = v.deprecation, v.sunset
	}
	if perr != nil {
		return perr
	}
	rq.envelope, err = rq.query.boolParam("envelope", false)
	return err
}

// groupID parses the {groupId} path segment.
func groupID(rq *request) (backup.ObjectID, error) {
	g := rq.PathValue("groupId")
	id, ok := backup.ParseObjectID(g)
	if !ok {
		return id, backup.ErrInvalidGroupID(g)
	}
	return id, nil
}

// pathID parses the path segment name as an id; invalid makes the error
// for a malformed one (INVALID_CHECKPOINT_ID, INVALID_JOB_ID).
func pathID(rq *request, name string, invalid func(raw string) *backup.Error) (backup.ObjectID, error) {
	raw := rq.PathValue(name)
	id, ok := backup.ParseObjectID(raw)
	if !ok {
		return id, invalid(raw)
	}
	return id, nil
}

// groupPage parses the {groupId} path segment, then the paging query
// parameters, as a project's lists take them.
func (s *Server) groupPage(rq *request) (backup.ObjectID, backup.PageRequest, error) {
	id, err := groupID(rq)
	if err != nil {
		return id, backup.PageRequest{}, err
	}
	page, err := rq.query.page(s.cfg.Paging)
	return id, page, err
}

// clusterPage parses the {groupId} and cluster path segments, then the
// paging query parameters, as a cluster's lists take them.
func (s *Server) clusterPage(rq *request) (backup.ClusterRef, backup.PageRequest, error) {
	ref, err := rq.surface.clusterRef(rq)
	if err != nil {
		return ref, backup.PageRequest{}, err
	}
	page, err := rq.query.page(s.cfg.Paging)
	return ref, page, err
}

// clusterItemRef parses the {groupId} and cluster path segments, then the
// ObjectID of the item named by the path segment name.
func (sf *surface) clusterItemRef(rq *request, name string, invalid func(raw string) *backup.Error) (backup.ClusterRef, backup.ObjectID, error) {
	ref, err := sf.clusterRef(rq)
	if err != nil {
		return ref, backup.ObjectID{}, err
	}
	id, err := pathID(rq, name, invalid)
	return ref, id, err
}

// clusterRef parses the {groupId} and cluster path segments.
func (sf *surface) clusterRef(rq *request) (backup.ClusterRef, error) {
	var ref backup.ClusterRef
	id, err := groupID(rq)
	if err != nil {
		return ref, err
	}
	ref.GroupID = id
	c := rq.PathValue("cluster")
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
