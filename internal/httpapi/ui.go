package httpapi

import "net/http"

var (
	opUI         = &operation{name: "ui"}
	opUIRedirect = &operation{name: "uiRedirect"}
)

// serveUI serves the web view (Config.UI) under /ui/ behind the API's
// checks, so that a browser gets the API's Digest challenge, asks for the
// API key, and sends the same credentials with the page's own API
// requests. A 404 from the UI handler (a file it does not have) is
// answered with the API's RESOURCE_NOT_FOUND body, so that every error of
// the server has one format.
func serveUI(s *Server, rq *request) (result, error) {
	s.cfg.UI.ServeHTTP(&uiWriter{s: s, rq: rq}, rq.Request)
	if rq.status == 0 { // the handler wrote nothing at all
		rq.status = http.StatusOK
	}
	return result{written: true}, nil
}

// uiRedirect answers /ui with a redirect to /ui/, so that the page's
// relative asset URLs resolve under /ui/. The Location is relative ("ui/"
// from "/ui" is "/ui/"), so it stays right behind a proxy that serves the
// server under a path prefix.
func uiRedirect(s *Server, rq *request) (result, error) {
	h := rq.w.Header()
	h.Set("Location", "ui/")
	h.Set("Content-Length", "0")
	return result{status: http.StatusMovedPermanently}, nil
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
		w.s.writeError(w.rq, errNotFound(w.rq))
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
