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
	s.mux.HandleFunc("/healthz", s.healthz)
	s.mux.HandleFunc("/readyz", s.readyz)
	s.mux.Handle("/", http.HandlerFunc(s.notFound))
}

// notFound answers any path no route matches.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	rq := s.begin(w, r, atlasV2)
	defer s.finish(rq)
	rq.pretty, _ = parsePrettyOnly(r)
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
