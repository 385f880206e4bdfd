package httpapi

import (
	"net/http"
	"strings"
)

// Route is one row of a server's route table, as the tests see it.
type Route struct {
	// Method is the row's method ("" for any; GET also answers HEAD);
	// the 405 row of each pattern is listed too, with Operation "".
	Method, Pattern string
	Surface         string
	Operation       string
	Auth            bool
	// Label names the row's requests in metrics.
	Label string
}

// Routes returns the server's route table, in the order the mux serves
// its patterns.
func (s *Server) Routes() []Route {
	var rs []Route
	for _, rt := range s.table {
		r := Route{Method: rt.method, Pattern: rt.pattern, Surface: rt.surface.name, Auth: rt.auth, Label: rt.label}
		if rt.op != nil {
			r.Operation = rt.op.name
		}
		rs = append(rs, r)
	}
	return rs
}

// MuxPattern returns the pattern the server's mux matches r with ("" for
// none): for the rows registered under a wider pattern (routeSet.literal),
// the rows' own pattern when r's path has the literal, else the
// catch-all's.
func (s *Server) MuxPattern(r *http.Request) string {
	h, p := s.mux.Handler(r)
	if set, ok := h.(*routeSet); ok && set.literal != "" {
		if strings.Contains(r.URL.Path, "/"+set.literal+"/") {
			return set.rows[0].pattern
		}
		return s.notFound.rows[0].pattern
	}
	return p
}
