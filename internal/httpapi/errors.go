package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

var hdrJSON = []string{"application/json"}

// hdrRetryAfter is the Retry-After of every 503, in seconds: a database
// restart or failover takes seconds, and a sooner retry would only add
// load while it recovers.
var hdrRetryAfter = []string{"5"}

// statusOf is the one table from the domain's error kinds to HTTP
// statuses. Refusals only HTTP has are httpErrors, which carry their own.
var statusOf = [...]int{
	backup.Internal:        http.StatusInternalServerError,
	backup.Invalid:         http.StatusBadRequest,
	backup.NotFound:        http.StatusNotFound,
	backup.Unauthenticated: http.StatusUnauthorized,
	backup.Forbidden:       http.StatusForbidden,
	backup.Conflict:        http.StatusConflict,
	backup.RateLimited:     http.StatusTooManyRequests,
	backup.Unavailable:     http.StatusServiceUnavailable,
	backup.Gone:            http.StatusGone,
}

// Status is the HTTP status a domain error is answered with.
func Status(e *backup.Error) int {
	if int(e.Kind) < len(statusOf) {
		return statusOf[e.Kind]
	}
	return http.StatusInternalServerError
}

// httpError is a refusal that only HTTP has words for: a method the route
// does not have, a request over a size limit, a body in a media type the
// route does not take or not received in time, a version the Accept
// header cannot be served in. It is answered with the API's error body
// like a domain error, with its own status.
type httpError struct {
	status int
	code   string
	detail string
	params []any
}

// httpErrorf builds an httpError as backup.Errorf builds a domain error.
func httpErrorf(status int, code, format string, args ...any) *httpError {
	if args == nil {
		args = []any{}
	}
	return &httpError{status: status, code: code, detail: fmt.Sprintf(format, args...), params: args}
}

func (e *httpError) Error() string { return e.code + ": " + e.detail }

// writeError answers with an error. A challenge (auth's refusal for want
// of credentials) is the 401 challenge; an error that writes itself (an
// OAuth error) writes itself; an httpError or a *backup.Error is the API's
// error body (ApiError): compact JSON, keys in alphabetical order,
// parameters always present, Content-Type application/json even on v2,
// and the code again in X-Error-Code. Anything else, or an Internal
// error, is logged with the request id and shown only as UNEXPECTED_ERROR
// (or OAuth's server_error on the token endpoints).
func (s *Server) writeError(rq *request, err error) {
	if c, ok := asChallenge(err); ok {
		s.writeChallenge(rq, c)
		return
	}
	var ow interface{ Write(http.ResponseWriter) }
	if errors.As(err, &ow) {
		sw := &statusWriter{ResponseWriter: rq.w}
		ow.Write(sw)
		rq.status = sw.status
		return
	}
	var he *httpError
	e := backup.ErrorOf(err)
	if !errors.As(err, &he) {
		if e == nil || e.Kind == backup.Internal {
			s.log.Error("internal error", "request_id", rq.id, "method", rq.Method, "path", rq.URL.Path, "err", err)
			if rq.surface.oauthErrors {
				oauthUnexpected.Write(rq.w)
				rq.status = oauthUnexpected.Status
				return
			}
			e = backup.ErrUnexpected()
		}
		he = &httpError{status: Status(e), code: e.Code, detail: e.Detail, params: e.Params}
	}
	h := rq.w.Header()
	if e != nil && e.Kind == backup.Unavailable {
		// The cause (the driver's error) is for the operator; the caller
		// sees only the detail, and when to try again. A damaged database
		// is an error the operator must act on, logged once with its
		// cause, which names the file and says what to do.
		if e.Detail == backup.DetailStoreDamaged {
			if s.damagedLogged.CompareAndSwap(false, true) {
				s.log.Error("database damaged", "request_id", rq.id, "method", rq.Method, "path", rq.URL.Path, "err", e.Err)
			}
		} else if e.Err != nil {
			if ok, held := s.unavailableWarn.allow(s.cfg.Clock.Now()); ok {
				s.log.Warn("store unavailable", "request_id", rq.id, "method", rq.Method, "path", rq.URL.Path, "err", e.Err,
					"not_logged_since_last", held)
			}
		}
		h["Retry-After"] = hdrRetryAfter
	}
	h.Set("X-Error-Code", he.code)
	rq.buf = appendError(rq.buf[:0], he.status, he.code, he.detail, he.params)
	s.send(rq, he.status, hdrJSON, rq.buf, rq.pretty && guessPrettyErrors)
}

// oauthUnexpected is what any internal failure of a token endpoint looks
// like to its client.
var oauthUnexpected = &oauth.Error{Status: http.StatusInternalServerError, Code: oauth.CodeServerError, Description: oauth.DescUnexpected}

// AppendError appends the ApiError body of e.
func AppendError(b []byte, e *backup.Error) []byte {
	return appendError(b, Status(e), e.Code, e.Detail, e.Params)
}

func appendError(b []byte, status int, code, detail string, params []any) []byte {
	b = append(b, `{"detail":`...)
	b = wire.AppendString(b, detail)
	b = append(b, `,"error":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"errorCode":`...)
	b = wire.AppendString(b, code)
	b = append(b, `,"parameters":[`...)
	for i, p := range params {
		if i > 0 {
			b = append(b, ',')
		}
		switch v := p.(type) {
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case int32:
			b = strconv.AppendInt(b, int64(v), 10)
		case uint32:
			b = strconv.AppendUint(b, uint64(v), 10)
		case uint64:
			b = strconv.AppendUint(b, v, 10)
		case string:
			b = wire.AppendString(b, v)
		default:
			// A named string type (backup.Driver, backup.Role) or any
			// other value: as the detail's %s prints it, never empty.
			b = wire.AppendString(b, fmt.Sprint(v))
		}
	}
	b = append(b, `],"reason":`...)
	b = wire.AppendString(b, http.StatusText(status))
	return append(b, '}')
}
