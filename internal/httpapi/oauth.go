package httpapi

import (
	"errors"
	"net/http"

	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
)

// OAuthEndpoints are the service-account token endpoints. Each writes its
// success response itself and returns errors: one with a
// Write(http.ResponseWriter) method (an OAuth-style error body, such as
// *oauth.Error) is written by that method; a *backup.Error (429) as the API's error body, as the
// service answers a rate-limited token request; anything else as an
// OAuth server_error.
type OAuthEndpoints interface {
	Token(w http.ResponseWriter, r *http.Request) error
	Revoke(w http.ResponseWriter, r *http.Request) error
}

// oauthSurface names the token endpoints in logs.
var oauthSurface = &surface{name: "oauth", contentType: hdrJSON}

var (
	opToken  = &operation{name: "createToken"}
	opRevoke = &operation{name: "revokeToken"}
)

// oauthEndpoint adapts a token endpoint: request id and log line like
// every API route, the size limits, POST only, and its errors in their
// format. Requests here carry client credentials in the body or a Basic
// header, so they do not go through the Authenticator.
func (s *Server) oauthEndpoint(op *operation, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	route := oauthSurface.name + "." + op.name
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := s.begin(w, r, oauthSurface)
		rq.op, rq.route = op, route
		defer s.finish(rq)
		sw := &statusWriter{ResponseWriter: w}
		err := s.checkSize(rq)
		if err == nil && r.Method != http.MethodPost {
			w.Header().Set("Allow", "POST")
			err = &oauth.Error{Status: http.StatusMethodNotAllowed, Code: oauth.CodeInvalidRequest, Description: "The method must be POST."}
		}
		if err == nil {
			if err = h(sw, r); err != nil {
				s.tokenRefused(err)
			}
		}
		rq.status = sw.status
		if err == nil {
			return
		}
		var ow interface{ Write(http.ResponseWriter) }
		switch {
		case errors.As(err, &ow):
			ow.Write(sw)
			rq.status = sw.status
		case backup.ErrorOf(err) != nil && backup.KindOf(err) != backup.Internal:
			s.writeError(rq, err)
		default:
			s.log.Error("internal error", "request_id", rq.id, "method", rq.Method, "path", rq.URL.Path, "err", err)
			oauth.WriteError(sw, http.StatusInternalServerError, oauth.CodeServerError, oauth.DescUnexpected)
			rq.status = sw.status
		}
	})
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
