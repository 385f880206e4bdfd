package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// The routes that describe the server rather than serve its data: the
// OpenAPI document and the probes.

var (
	opDocument = &operation{name: "getOpenAPIDocument"}
	opHealthz  = &operation{name: "healthz"}
	opReadyz   = &operation{name: "readyz"}
)

var (
	hdrYAML    = []string{"application/yaml"}
	hdrNoStore = []string{"no-store"}
)

// documentYAML and documentJSON serve the OpenAPI document in one form.
//
//	GET /api/checkpointd/v1/openapi.yaml
//	GET /api/checkpointd/v1/openapi.json
func documentYAML(s *Server, rq *request) (result, error) {
	rq.contentType = hdrYAML
	return result{body: s.docYAML, shared: true}, nil
}

func documentJSON(s *Server, rq *request) (result, error) {
	rq.contentType = hdrJSON
	return result{body: s.docJSON, shared: true}, nil
}

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
func healthz(s *Server, rq *request) (result, error) {
	return probeOK(rq), nil
}

// readyz answers whether this instance can serve API requests: its store
// is reachable, fully migrated and has not found its database damaged.
//
//	GET /readyz
func readyz(s *Server, rq *request) (result, error) {
	if rd, ok := s.store.(readier); ok {
		if err := rd.Ready(rq.Context()); err != nil {
			if e := backup.ErrorOf(err); e != nil && e.Detail == backup.DetailStoreDamaged {
				return result{}, e // says why, and is logged once
			}
			s.log.Warn("not ready", "request_id", rq.id, "err", err)
			return result{}, backup.Errorf(backup.Unavailable, backup.CodeServiceUnavailable, "The store is not ready.")
		}
	}
	return probeOK(rq), nil
}

// probeOK writes a probe's success: only its body, type and no-store,
// none of the API's headers.
func probeOK(rq *request) result {
	h := rq.w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h.Set("Content-Length", strconv.Itoa(len(healthBody)))
	rq.status = http.StatusOK
	rq.w.WriteHeader(http.StatusOK)
	_, _ = rq.w.Write(healthBody)
	return result{written: true}
}
