package httpapi

import (
	"net/http"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/atlas"
	"github.com/checkpointd/checkpointd/internal/httpapi/cloudmanager"
)

// The API generations this server speaks.
var (
	atlasV2 = &surface{
		name:             "atlas-v2",
		versioned:        true,
		groups:           "/api/atlas/v2/groups",
		checkpoints:      "backupCheckpoints",
		appendCheckpoint: atlas.AppendCheckpoint,
		appendGroup:      atlas.AppendGroup,
		appendCluster:    atlas.AppendClusterV2,
	}
	atlasV1 = &surface{
		name:             "atlas-v1.0",
		contentType:      hdrJSON,
		groups:           "/api/atlas/v1.0/groups",
		checkpoints:      "backupCheckpoints",
		appendCheckpoint: atlas.AppendCheckpoint,
		appendGroup:      atlas.AppendGroup,
		appendCluster:    atlas.AppendClusterV1,
	}
	cloudManager = &surface{
		name:             "cloud-manager",
		contentType:      hdrJSON,
		clusterByID:      true,
		groups:           "/api/public/v1.0/groups",
		checkpoints:      "checkpoints",
		appendCheckpoint: cloudmanager.AppendCheckpoint,
		appendGroup:      cloudmanager.AppendGroup,
		appendCluster:    cloudmanager.AppendCluster,
	}
)

// routes registers every route of every generation. Patterns carry no
// method so that a wrong method reaches the pipeline and is answered with
// the API's 405 body instead of net/http's plain text.
func (s *Server) routes() {
	for _, sf := range []*surface{atlasV2, atlasV1, cloudManager} {
		group := sf.groups + "/{groupId}"
		cluster := group + "/clusters/{cluster}"
		s.mux.Handle(sf.groups, s.endpoint(sf, opListProjects, listProjects))
		s.mux.Handle(group, s.endpoint(sf, opGetProject, getProject))
		s.mux.Handle(group+"/clusters", s.endpoint(sf, opListClusters, listClusters))
		s.mux.Handle(cluster, s.endpoint(sf, opGetCluster, getCluster))
		s.mux.Handle(cluster+"/"+sf.checkpoints, s.endpoint(sf, opListCheckpoints, listCheckpoints))
		s.mux.Handle(cluster+"/"+sf.checkpoints+"/{checkpointId}", s.endpoint(sf, opGetCheckpoint, getCheckpoint))
	}
	if s.cfg.OAuth != nil {
		s.mux.Handle("/api/oauth/token", s.oauthEndpoint(opToken, s.cfg.OAuth.Token))
		s.mux.Handle("/api/oauth/revoke", s.oauthEndpoint(opRevoke, s.cfg.OAuth.Revoke))
	}
	if s.cfg.UI != nil {
		s.mux.Handle("/ui/", s.uiEndpoint(s.cfg.UI))
		s.mux.HandleFunc("/ui", s.uiRedirect)
	}
	if s.cfg.Admin != nil {
		groups := adminSurface.groups + "/{groupId}/clusters"
		s.mux.Handle(groups, s.adminEndpoint(
			adminMethod{http.MethodGet, opAdminListClusters, adminListClusters},
			adminMethod{http.MethodPost, opAdminCreateCluster, adminCreateCluster}))
		s.mux.Handle(groups+"/{cluster}", s.adminEndpoint(
			adminMethod{http.MethodGet, opAdminGetCluster, adminGetCluster},
			adminMethod{http.MethodPatch, opAdminUpdateCluster, adminUpdateCluster},
			adminMethod{http.MethodDelete, opAdminDeleteCluster, adminDeleteCluster}))
		s.mux.Handle(groups+"/{cluster}/checkpoints", s.adminEndpoint(
			adminMethod{http.MethodPost, opAdminIngest, adminIngest}))
		s.mux.Handle(groups+"/{cluster}/slots", s.adminEndpoint(
			adminMethod{http.MethodPost, opAdminClaimSlot, adminClaimSlot}))
	}
	s.mux.HandleFunc("/healthz", s.healthz)
	s.mux.HandleFunc("/readyz", s.readyz)
	s.mux.Handle(documentPath+".yaml", s.document(hdrYAML, s.docYAML))
	s.mux.Handle(documentPath+".json", s.document(hdrJSON, s.docJSON))
	s.mux.Handle("/", http.HandlerFunc(s.notFound))
}

// routeMux is the server's http.ServeMux; it also remembers every pattern
// registered on it, so that the tests can hold the routes the server
// really has against the OpenAPI document.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.Handle(pattern, http.HandlerFunc(h))
}

// notFound answers any path no route matches.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	rq := s.begin(w, r, atlasV2)
	rq.route = RouteNotFound
	defer s.finish(rq)
	rq.pretty, _ = parsePrettyOnly(r)
	// The size limits come first here too: an oversized request is 414 or
	// 431 whatever its path, as on every route.
	if err := s.checkSize(rq); err != nil {
		s.writeError(rq, err)
		return
	}
	if err := s.authenticate(rq); err != nil {
		s.writeError(rq, err)
		return
	}
	s.writeError(rq, backup.Errorf(backup.NotFound, backup.CodeResourceNotFound, guessNotFoundDetail, r.URL.Path))
}

// parsePrettyOnly reads pretty for error pages outside any endpoint.
func parsePrettyOnly(r *http.Request) (bool, error) {
	q, err := parseQuery(r.URL.RawQuery, nil)
	if err != nil {
		return false, err
	}
	return q.boolParam("pretty", false)
}
