package httpapi

import (
	"net/http"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// uiSurface names the web view's requests in logs. Its errors are the
// API's, so it shares the unversioned surfaces' media type.
var uiSurface = &surface{name: "ui", contentType: hdrJSON}

var (
	opUI         = &operation{name: "ui"}
	opUIRedirect = &operation{name: "uiRedirect"}
)

// uiEndpoint serves the web view (Config.UI) under /ui/ through the API's
// own pipeline: request id, log line, size limits, then the Authenticator,
// so that a browser gets the API's Digest challenge, asks for the API key,
// and sends the same credentials with the page's own API requests. Only
// GET and HEAD pass; other methods get the API's 405. A 404 from the UI
// handler (a file it does not have) is answered with the API's
// RESOURCE_NOT_FOUND body, so that every error of the server has one
// format.
func (s *Server) uiEndpoint(ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := s.begin(w, r, uiSurface)
		rq.op = opUI
		defer s.finish(rq)
		if err := s.uiChecks(rq); err != nil {
			s.writeError(rq, err)
			return
		}
		ui.ServeHTTP(&uiWriter{s: s, rq: rq}, rq.Request)
		if rq.status == 0 { // the handler wrote nothing at all
			rq.status = http.StatusOK
		}
	})
}

// uiRedirect answers /ui with a redirect to /ui/, after the same checks, so
// that the page's relative asset URLs resolve under /ui/. The Location is
// relative ("ui/" from "/ui" is "/ui/"), so it stays right behind a proxy
// that serves the server under a path prefix.
func (s *Server) uiRedirect(w http.ResponseWriter, r *http.Request) {
	rq := s.begin(w, r, uiSurface)
	rq.op = opUIRedirect
	defer s.finish(rq)
	if err := s.uiChecks(rq); err != nil {
		s.writeError(rq, err)
		return
	}
	h := w.Header()
	s.commonHeaders(rq, h)
	h.Set("Location", "ui/")
	h.Set("Content-Length", "0")
	rq.status = http.StatusMovedPermanently
	w.WriteHeader(http.StatusMovedPermanently)
}

// uiChecks are the API's checks in the API's order: size, authentication,
// method. pretty is honoured for the error bodies, as on unknown paths.
func (s *Server) uiChecks(rq *request) error {
	rq.pretty, _ = parsePrettyOnly(rq.Request)
	if err := s.checkSize(rq); err != nil {
		return err
	}
	if err := s.authenticate(rq); err != nil {
		return err
	}
	if rq.Method != http.MethodGet && rq.Method != http.MethodHead {
		rq.w.Header().Set("Allow", "GET, HEAD")
		return backup.Errorf(backup.MethodNotAllowed, backup.CodeMethodNotAllowed, guessMethodNotAllowedDetail, rq.Method, rq.URL.Path)
	}
	return nil
}

// uiWriter passes the UI handler's response through with the API's common
// headers added, except a 404, which it replaces with the API's error.
type uiWriter struct {
	s        *Server
	rq       *request
	replaced bool // a 404 was answered with the API's body; drop the handler's
}

func (w *uiWriter) Header() http.Header { return w.rq.w.Header() }

func (w *uiWriter) WriteHeader(code int) {
	if w.rq.status != 0 {
		return
	}
	h := w.rq.w.Header()
	if code == http.StatusNotFound {
		// Drop what the handler set for its own body (its type, length,
		// caching); the request id stays.
		id := h.Get("X-Request-Id")
		clear(h)
		h.Set("X-Request-Id", id)
		w.replaced = true
		w.s.writeError(w.rq, backup.Errorf(backup.NotFound, backup.CodeResourceNotFound, guessNotFoundDetail, w.rq.URL.Path))
		return
	}
	w.s.commonHeaders(w.rq, h)
	w.rq.status = code
	w.rq.w.WriteHeader(code)
}

func (w *uiWriter) Write(b []byte) (int, error) {
	if w.rq.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.replaced {
		return len(b), nil
	}
	return w.rq.w.Write(b)
}
