package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// readier is what a store offers to say it can serve (reachable, schema
// migrated). *sqlite.DB has it.
type readier interface {
	Ready(ctx context.Context) error
}

var healthBody = []byte(`{"status":"ok"}`)

// healthz answers whether the process serves at all; it touches nothing
// else, so a load balancer can tell a hung process from a sick store.
//
//	GET /healthz
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	s.probe(w, r, "healthz", nil)
}

// readyz answers whether this instance can serve API requests: its store
// is reachable and fully migrated.
//
//	GET /readyz
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	var check func(context.Context) error
	if rd, ok := s.store.(readier); ok {
		check = rd.Ready
	}
	s.probe(w, r, "readyz", check)
}

// probe answers a health check. Probes are not authenticated: they say
// nothing about the data. They keep the size limits and the API's 405.
func (s *Server) probe(w http.ResponseWriter, r *http.Request, route string, check func(context.Context) error) {
	rq := s.begin(w, r, atlasV2)
	rq.route = route
	defer s.finish(rq)
	// The size limits, as on every route: a probe's answer says nothing
	// about the data, but an oversized request is refused the same way
	// wherever it is sent.
	if err := s.checkSize(rq); err != nil {
		s.writeError(rq, err)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		s.writeError(rq, backup.Errorf(backup.MethodNotAllowed, backup.CodeMethodNotAllowed, guessMethodNotAllowedDetail, r.Method, r.URL.Path))
		return
	}
	if check != nil {
		if err := check(r.Context()); err != nil {
			s.log.Warn("not ready", "request_id", rq.id, "err", err)
			s.writeError(rq, backup.Errorf(backup.Unavailable, backup.CodeServiceUnavailable, "The store is not ready."))
			return
		}
	}
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h.Set("Content-Length", strconv.Itoa(len(healthBody)))
	rq.status = http.StatusOK
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(healthBody)
}

var hdrNoStore = []string{"no-store"}
