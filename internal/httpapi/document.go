package httpapi

import (
	"net/http"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// documentPath is where the OpenAPI document is served, as .yaml and
// .json (internal/httpapi/openapi).
const documentPath = "/api/checkpointd/v1/openapi"

var hdrYAML = []string{"application/yaml"}

var (
	documentSurface = &surface{name: "openapi"}
	opDocument      = &operation{name: "getOpenAPIDocument"}
)

// document serves the OpenAPI document in one form. It needs no
// credentials: it is the API's public description and tells nothing about
// the data. Like every route it has a request id, a log line, the size
// limits and the API's 405.
//
//	GET /api/checkpointd/v1/openapi.yaml
//	GET /api/checkpointd/v1/openapi.json
func (s *Server) document(contentType []string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := s.begin(w, r, documentSurface)
		rq.op = opDocument
		defer s.finish(rq)
		if err := s.checkSize(rq); err != nil {
			s.writeError(rq, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			s.writeError(rq, backup.Errorf(backup.MethodNotAllowed, backup.CodeMethodNotAllowed, guessMethodNotAllowedDetail, r.Method, r.URL.Path))
			return
		}
		s.send(rq, http.StatusOK, contentType, body, false)
	})
}
