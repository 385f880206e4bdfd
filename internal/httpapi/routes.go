package httpapi

import (
	"net/http"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/atlas"
)

// The API generations this server speaks.
var (
	atlasV2 = &surface{
		name:             "atlas-v2",
		versioned:        true,
		groups:           "/api/atlas/v2/groups",
		checkpoints:      "backupCheckpoints",
		appendCheckpoint: atlas.AppendCheckpoint,
	}
)

// routes registers every route of every generation. Patterns carry no
// method so that a wrong method reaches the pipeline and is answered with
// the API's 405 body instead of net/http's plain text.
func (s *Server) routes() {
	for _, sf := range []*surface{atlasV2} {
		cluster := sf.groups + "/{groupId}/clusters/{cluster}"
		s.mux.Handle(cluster+"/"+sf.checkpoints, s.endpoint(sf, opListCheckpoints, listCheckpoints))
		s.mux.Handle(cluster+"/"+sf.checkpoints+"/{checkpointId}", s.endpoint(sf, opGetCheckpoint, getCheckpoint))
	}
	s.mux.Handle("/", http.HandlerFunc(s.notFound))
}

// notFound answers any path no route matches.
func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	rq := s.begin(w, r, atlasV2)
	defer s.finish(rq)
	rq.pretty, _ = parsePrettyOnly(r)
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
