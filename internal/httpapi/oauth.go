package httpapi

import (
	"net/http"
)

// OAuthEndpoints are the service-account token endpoints. Each writes its
// success response itself and returns errors: one with a
// Write(http.ResponseWriter) method (an OAuth-style error body, such as
// *oauth.Error) is written by that method; a *backup.Error (429) as the
// API's error body, as the service answers a rate-limited token request;
// anything else as an OAuth server_error.
type OAuthEndpoints interface {
	Token(w http.ResponseWriter, r *http.Request) error
	Revoke(w http.ResponseWriter, r *http.Request) error
}

var (
	opToken  = &operation{name: "createToken"}
	opRevoke = &operation{name: "revokeToken"}
)

// POST /api/oauth/token
func oauthToken(s *Server, rq *request) (result, error) {
	return s.oauthCall(rq, s.cfg.OAuth.Token)
}

// POST /api/oauth/revoke
func oauthRevoke(s *Server, rq *request) (result, error) {
	return s.oauthCall(rq, s.cfg.OAuth.Revoke)
}

// oauthCall runs a token endpoint, which writes its own success; its
// errors are the renderer's.
func (s *Server) oauthCall(rq *request, endpoint func(http.ResponseWriter, *http.Request) error) (result, error) {
	sw := &statusWriter{ResponseWriter: rq.w}
	if err := endpoint(sw, rq.Request); err != nil {
		s.tokenRefused(err)
		return result{}, err
	}
	rq.status = sw.status
	return result{written: true}, nil
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}
