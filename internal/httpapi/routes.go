package httpapi

import (
	"net/http"
	"strings"

	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/atlas"
	"github.com/checkpointd/checkpointd/internal/httpapi/cloudmanager"
)

// The API generations this server speaks.
var (
	atlasV2 = &surface{
		name:                 "atlas-v2",
		query:                queryAPI,
		versioned:            true,
		groups:               "/api/atlas/v2/groups",
		checkpoints:          "backupCheckpoints",
		appendCheckpoint:     atlas.AppendCheckpoint,
		appendCheckpoints:    atlas.AppendCheckpoints,
		appendCheckpointsSeq: atlas.AppendCheckpointsSeq,
		appendRestoreJob:     atlas.AppendRestoreJob,
		appendGroup:          atlas.AppendGroup,
		appendCluster:        atlas.AppendClusterV2,
		scheduleParent:       "clusters",
		appendSchedule:       atlas.AppendSchedule,
		newSchedule:          func() scheduleInput { return new(atlas.ScheduleInput) },
	}
	atlasV1 = &surface{
		name:                 "atlas-v1.0",
		query:                queryAPI,
		contentType:          hdrJSON,
		groups:               "/api/atlas/v1.0/groups",
		checkpoints:          "backupCheckpoints",
		appendCheckpoint:     atlas.AppendCheckpoint,
		appendCheckpoints:    atlas.AppendCheckpoints,
		appendCheckpointsSeq: atlas.AppendCheckpointsSeq,
		appendRestoreJob:     atlas.AppendRestoreJob,
		appendGroup:          atlas.AppendGroup,
		appendCluster:        atlas.AppendClusterV1,
		scheduleParent:       "clusters",
		appendSchedule:       atlas.AppendSchedule,
		newSchedule:          func() scheduleInput { return new(atlas.ScheduleInput) },
	}
	cloudManager = &surface{
		name:                 "cloud-manager",
		query:                queryAPI,
		contentType:          hdrJSON,
		clusterByID:          true,
		groups:               "/api/public/v1.0/groups",
		checkpoints:          "checkpoints",
		appendCheckpoint:     cloudmanager.AppendCheckpoint,
		appendCheckpoints:    cloudmanager.AppendCheckpoints,
		appendCheckpointsSeq: cloudmanager.AppendCheckpointsSeq,
		appendRestoreJob:     cloudmanager.AppendRestoreJob,
		appendGroup:          cloudmanager.AppendGroup,
		appendCluster:        cloudmanager.AppendCluster,
		scheduleParent:       "backupConfigs",
		appendSchedule:       cloudmanager.AppendSchedule,
		newSchedule:          func() scheduleInput { return new(cloudmanager.ScheduleInput) },
	}
)

// The server's other surfaces: its own administration API, the OAuth token
// endpoints, the web view, the OpenAPI document, the probes, and the paths
// no route matches.
var (
	adminSurface = &surface{name: "checkpointd-admin", earlyPretty: true, query: queryPretty, contentType: hdrJSON,
		groups: adminPrefix + "/groups"}
	oauthSurface    = &surface{name: "oauth", oauthErrors: true, contentType: hdrJSON}
	uiSurface       = &surface{name: "ui", earlyPretty: true, contentType: hdrJSON}
	documentSurface = &surface{name: "openapi"}
	probeSurface    = &surface{name: "probe", bare: true}
	unrouted        = &surface{name: "unrouted", bare: true, earlyPretty: true}
)

// adminPrefix is the root of checkpointd's own API, apart from the three
// generations of the service's: nothing under it exists on the service.
const adminPrefix = "/api/checkpointd/v1"

// documentPath is where the OpenAPI document is served, as .yaml and
// .json (internal/httpapi/openapi).
const documentPath = adminPrefix + "/openapi"

// route is one row of the route table: one operation of the server.
//
//   - method is the one method the row answers; GET also answers HEAD, and
//     "" answers any method (the catch-all). A pattern's rows answer their
//     methods; any other gets 405 with an Allow header naming them.
//   - pattern is a net/http path pattern, without method or host: the
//     method is the pipeline's to check, so that a wrong one is answered in
//     the surface's error format rather than net/http's plain text. The
//     rows of one pattern are adjacent.
//   - surface names the API in logs and metrics and says which query
//     parameters the pipeline reads, the media type of bodies and the
//     format of errors. Rows that share a pattern share a surface.
//   - op names the operation (logs, metrics: surface.op) and, on a
//     versioned surface, its versions.
//   - auth: the Authenticator must accept the caller first. Rows that
//     share a pattern agree.
//   - handler answers the request once the pipeline's checks pass.
//
// Adding a route is adding a row to routeTable: the pipeline (serve), the
// 405 answers, the metrics label and the OpenAPI tests' list of routes all
// follow from it.
type route struct {
	method  string
	pattern string
	surface *surface
	op      *operation
	auth    bool
	handler handler

	// Filled by routes: the metrics label and, for every row of the
	// pattern, the Allow header of its 405.
	label string
	allow []string
}

// handler answers one route: it reads what it needs from rq and returns a
// result for the pipeline to render, or an error, which the pipeline
// renders in the surface's error format.
type handler func(s *Server, rq *request) (result, error)

// result is what a handler answers. The zero value is an empty 200.
type result struct {
	status int // 0 means 200 OK
	// body is compact JSON appended to rq.buf, or, when shared, bytes
	// that are not the request's (the OpenAPI document, a kept
	// checkpoint's representation), never modified; nil for no body.
	body   []byte
	shared bool
	// list says body is a paginated list left open after its results:
	// the renderer adds the envelope's status, if asked, and totalCount.
	list  bool
	total int
	// written: the handler wrote the whole response itself (the web view
	// and the OAuth endpoints, which serve another format, and the probes,
	// whose answers carry no API headers).
	written bool
}

// Whether a route needs authentication.
const (
	authed = true
	public = false
)

// routeTable is every route of the server, as configured.
func (s *Server) routeTable() []route {
	var t []route
	for _, sf := range []*surface{atlasV2, atlasV1, cloudManager} {
		group := sf.groups + "/{groupId}"
		cluster := group + "/clusters/{cluster}"
		checkpoints := cluster + "/" + sf.checkpoints
		schedule := group + "/" + sf.scheduleParent + "/{cluster}/snapshotSchedule"
		t = append(t,
			route{method: http.MethodGet, pattern: sf.groups, surface: sf, op: opListProjects, auth: authed, handler: listProjects},
			route{method: http.MethodGet, pattern: group, surface: sf, op: opGetProject, auth: authed, handler: getProject},
			route{method: http.MethodGet, pattern: group + "/clusters", surface: sf, op: opListClusters, auth: authed, handler: listClusters},
			route{method: http.MethodGet, pattern: cluster, surface: sf, op: opGetCluster, auth: authed, handler: getCluster},
			route{method: http.MethodGet, pattern: checkpoints, surface: sf, op: opListCheckpoints, auth: authed, handler: listCheckpoints},
			route{method: http.MethodGet, pattern: checkpoints + "/{checkpointId}", surface: sf, op: opGetCheckpoint, auth: authed, handler: getCheckpoint},
			route{method: http.MethodGet, pattern: sf.groups + "/" + byNameSegment + "/{groupName}", surface: sf, op: opGetProjectByName, auth: authed, handler: getProjectByName},
			route{method: http.MethodGet, pattern: schedule, surface: sf, op: opGetSchedule, auth: authed, handler: getSchedule},
			route{method: http.MethodPatch, pattern: schedule, surface: sf, op: opUpdateSchedule, auth: authed, handler: updateSchedule},
			route{method: http.MethodGet, pattern: cluster + "/restoreJobs", surface: sf, op: opListRestoreJobs, auth: authed, handler: listRestoreJobs},
			route{method: http.MethodPost, pattern: cluster + "/restoreJobs", surface: sf, op: opCreateRestoreJob, auth: authed, handler: createRestoreJob},
			route{method: http.MethodGet, pattern: cluster + "/restoreJobs/{jobId}", surface: sf, op: opGetRestoreJob, auth: authed, handler: getRestoreJob},
		)
		if sf == cloudManager {
			t = append(t,
				route{method: http.MethodGet, pattern: group + "/backupConfigs", surface: sf, op: opListBackupConfigs, auth: authed, handler: listBackupConfigs},
				route{method: http.MethodGet, pattern: group + "/backupConfigs/{cluster}", surface: sf, op: opGetBackupConfig, auth: authed, handler: getBackupConfig},
				route{method: http.MethodPatch, pattern: group + "/backupConfigs/{cluster}", surface: sf, op: opUpdateBackupConfig, auth: authed, handler: updateBackupConfig},
			)
		}
	}
	if s.cfg.Admin != nil {
		clusters := adminSurface.groups + "/{groupId}/clusters"
		t = append(t,
			route{method: http.MethodGet, pattern: clusters, surface: adminSurface, op: opAdminListClusters, auth: authed, handler: adminListClusters},
			route{method: http.MethodPost, pattern: clusters, surface: adminSurface, op: opAdminCreateCluster, auth: authed, handler: adminCreateCluster},
			route{method: http.MethodGet, pattern: clusters + "/{cluster}", surface: adminSurface, op: opAdminGetCluster, auth: authed, handler: adminGetCluster},
			route{method: http.MethodPatch, pattern: clusters + "/{cluster}", surface: adminSurface, op: opAdminUpdateCluster, auth: authed, handler: adminUpdateCluster},
			route{method: http.MethodDelete, pattern: clusters + "/{cluster}", surface: adminSurface, op: opAdminDeleteCluster, auth: authed, handler: adminDeleteCluster},
			route{method: http.MethodPost, pattern: clusters + "/{cluster}/checkpoints", surface: adminSurface, op: opAdminIngest, auth: authed, handler: adminIngest},
			route{method: http.MethodGet, pattern: clusters + "/{cluster}/slots", surface: adminSurface, op: opAdminListSlots, auth: authed, handler: adminListSlots},
			route{method: http.MethodPost, pattern: clusters + "/{cluster}/slots", surface: adminSurface, op: opAdminClaimSlot, auth: authed, handler: adminClaimSlot},
			route{method: http.MethodPut, pattern: clusters + "/{cluster}/slots/{slot}", surface: adminSurface, op: opAdminReportSlot, auth: authed, handler: adminReportSlot},
			route{method: http.MethodGet, pattern: clusters + "/{cluster}/checkpoints/{checkpointId}", surface: adminSurface, op: opAdminGetCheckpoint, auth: authed, handler: adminGetCheckpoint},
			route{method: http.MethodGet, pattern: clusters + "/{cluster}/checkpoints/{checkpointId}/slot", surface: adminSurface, op: opAdminCheckpointSlot, auth: authed, handler: adminCheckpointSlot},
			route{method: http.MethodGet, pattern: clusters + "/{cluster}/rpo", surface: adminSurface, op: opAdminObjective, auth: authed, handler: adminObjective},
			route{method: http.MethodGet, pattern: clusters + "/{cluster}/checkpoints/{checkpointId}/restorePlan", surface: adminSurface, op: opAdminRestorePlan, auth: authed, handler: adminRestorePlan},
			route{method: http.MethodPost, pattern: clusters + "/{cluster}/restoreJobs/claim", surface: adminSurface, op: opAdminClaimRestoreJob, auth: authed, handler: adminClaimRestoreJob},
			route{method: http.MethodPatch, pattern: clusters + "/{cluster}/restoreJobs/{jobId}", surface: adminSurface, op: opAdminReportRestoreJob, auth: authed, handler: adminReportRestoreJob},
		)
	}
	if s.cfg.OAuth != nil {
		// The token endpoints take client credentials in the body or a
		// Basic header: the Authenticator is not theirs.
		t = append(t,
			route{method: http.MethodPost, pattern: "/api/oauth/token", surface: oauthSurface, op: opToken, auth: public, handler: oauthToken},
			route{method: http.MethodPost, pattern: "/api/oauth/revoke", surface: oauthSurface, op: opRevoke, auth: public, handler: oauthRevoke},
		)
	}
	if s.cfg.UI != nil {
		t = append(t,
			route{method: http.MethodGet, pattern: "/ui/", surface: uiSurface, op: opUI, auth: authed, handler: serveUI},
			route{method: http.MethodGet, pattern: "/ui", surface: uiSurface, op: opUIRedirect, auth: authed, handler: uiRedirect},
		)
	}
	// The document and the probes say nothing about the data: no
	// credentials.
	return append(t,
		route{method: http.MethodGet, pattern: documentPath + ".yaml", surface: documentSurface, op: opDocument, auth: public, handler: documentYAML},
		route{method: http.MethodGet, pattern: documentPath + ".json", surface: documentSurface, op: opDocument, auth: public, handler: documentJSON},
		route{method: http.MethodGet, pattern: "/healthz", surface: probeSurface, op: opHealthz, auth: public, handler: healthz},
		route{method: http.MethodGet, pattern: "/readyz", surface: probeSurface, op: opReadyz, auth: public, handler: readyz},
		route{method: "", pattern: "/", surface: unrouted, op: opNotFound, auth: authed, handler: notFound},
	)
}

// routes builds the route table and registers each of its patterns, and
// nothing else, on the mux. A pattern's rows are adjacent in the table,
// any-method row last (the mux refuses a pattern given twice).
func (s *Server) routes() {
	t := s.routeTable()
	for i, j := 0, 0; i < len(t); i = j {
		set := &routeSet{s: s}
		var methods []string
		for j = i; j < len(t) && t[j].pattern == t[i].pattern; j++ {
			set.rows = append(set.rows, &t[j])
			if m := t[j].method; m != "" {
				methods = append(methods, m)
				if m == http.MethodGet {
					methods = append(methods, http.MethodHead)
				}
			}
		}
		if last := set.rows[len(set.rows)-1]; last.method != "" {
			// The pattern's answer to any other method.
			set.rows = append(set.rows, &route{pattern: last.pattern, surface: last.surface, auth: last.auth, handler: methodNotAllowed})
		}
		allow := []string{strings.Join(methods, ", ")}
		for _, rt := range set.rows {
			rt.allow, rt.label = allow, rt.surface.label(rt.op)
		}
		s.table = append(s.table, set.rows...)
		if t[i].pattern == "/" {
			s.notFound = set
		}
		pattern := t[i].pattern
		s.addFastRoute(pattern, set)
		if prefix, name, ok := strings.Cut(pattern, "/"+byNameSegment+"/"); ok {
			// net/http's mux refuses …/groups/byName/{groupName} beside
			// …/groups/{groupId}/clusters: each is more specific than the
			// other in one segment. The rows are registered under the
			// wider …/groups/{groupId}/{groupName}, which the literal
			// patterns still win over, and answer only for byName.
			pattern, set.literal = prefix+"/{groupId}/"+name, byNameSegment
		}
		set.pattern = pattern
		s.mux.Handle(pattern, set)
	}
}

// byNameSegment is the path segment of the project-by-name routes.
const byNameSegment = "byName"

// routeSet is the rows of one pattern: what the mux hands a request to.
type routeSet struct {
	s    *Server
	rows []*route // the last answers any method
	// literal, when set, is what the {groupId} segment of the registered
	// pattern must be for the rows to answer; any other path is the
	// catch-all's, as if the mux had matched it there (routes).
	literal string
	// pattern is the one registered on the mux.
	pattern string
}

func (set *routeSet) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if set.literal != "" && r.PathValue("groupId") != set.literal {
		set.s.notFound.ServeHTTP(w, r)
		return
	}
	set.s.serve(w, r, set.match(r.Method), nil)
}

// match is the row that answers method.
func (set *routeSet) match(method string) *route {
	if method == http.MethodHead {
		method = http.MethodGet
	}
	for _, rt := range set.rows {
		if rt.method == method || rt.method == "" {
			return rt
		}
	}
	panic("unreachable: a route set ends with a row for any method")
}

// methodNotAllowed answers a method no row of the pattern has.
func methodNotAllowed(s *Server, rq *request) (result, error) {
	rq.w.Header()["Allow"] = rq.route.allow
	if rq.surface.oauthErrors {
		return result{}, &oauth.Error{Status: http.StatusMethodNotAllowed, Code: oauth.CodeInvalidRequest,
			Description: "The method must be " + rq.route.allow[0] + "."}
	}
	return result{}, httpErrorf(http.StatusMethodNotAllowed, backup.CodeMethodNotAllowed, guessMethodNotAllowedDetail, rq.Method, rq.URL.Path)
}

var opNotFound = &operation{name: RouteNotFound}

// notFound answers any path no route matches.
func notFound(s *Server, rq *request) (result, error) {
	return result{}, errNotFound(rq)
}

func errNotFound(rq *request) error {
	return backup.Errorf(backup.NotFound, backup.CodeResourceNotFound, guessNotFoundDetail, rq.URL.Path)
}
