package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Authenticator identifies the caller of a request. It runs before
// anything else looks at the request (an unknown group still gets the 401
// challenge first, as on the service).
type Authenticator interface {
	// Authenticate returns the caller, or an error: a challenge to ask
	// for credentials, a *backup.Error (e.g. 403 for an address outside
	// the caller's access list, 429 when rate limited), or anything else
	// for an internal failure.
	Authenticate(r *http.Request) (*backup.Principal, error)
}

// challenge is a refusal that asks the client for credentials (auth's
// *Unauthorized is one): a 401 with these WWW-Authenticate values, in
// this order (the official Digest client reads only the first).
type challenge interface {
	error
	WWWAuthenticate() []string
	// FailureReason says why, for metrics: one of the first seven
	// AuthFailureReasons (anything else counts as AuthOther). Clients
	// never see it.
	FailureReason() string
}

// challengeBody is the service's 401 body, byte for byte: unlike every
// other error it is pretty-printed, its keys are not in alphabetical order
// and it has no parameters.
const challengeBody = "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}"

var challengeLength = []string{strconv.Itoa(len(challengeBody))}

// writeChallenge answers with the 401 challenge. It carries only the
// headers the service's challenge carries: no service version, no security
// headers, no deprecation.
func (s *Server) writeChallenge(rq *request, c challenge) {
	h := rq.w.Header()
	h["Content-Type"] = hdrJSON
	h["Content-Length"] = challengeLength
	h["Www-Authenticate"] = c.WWWAuthenticate()
	rq.status = http.StatusUnauthorized
	rq.w.WriteHeader(http.StatusUnauthorized)
	_, _ = rq.w.Write([]byte(challengeBody))
}

// authenticate runs the configured Authenticator, if any, and keeps the
// caller in the request's context (rq.Context), the one place a request's
// caller is set: without it every store read is refused. Without an
// Authenticator the server itself is the caller.
func (s *Server) authenticate(rq *request) error {
	p := backup.System
	if s.cfg.Auth != nil {
		var err error
		if p, err = s.cfg.Auth.Authenticate(rq.Request); err != nil {
			s.authFailed(err)
			return err
		}
	}
	rq.ctx = backup.WithPrincipal(rq.Request.Context(), p)
	return nil
}

// asChallenge finds a challenge in err's chain.
func asChallenge(err error) (challenge, bool) {
	var c challenge
	return c, errors.As(err, &c)
}
