package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

var hdrJSON = []string{"application/json"}

// hdrRetryAfter is the Retry-After of every 503, in seconds: a database
// restart or failover takes seconds, and a sooner retry would only add
// load while it recovers.
var hdrRetryAfter = []string{"5"}

// statusOf is the one table from error kind to HTTP status.
var statusOf = [...]int{
	backup.Internal:         http.StatusInternalServerError,
	backup.Invalid:          http.StatusBadRequest,
	backup.NotFound:         http.StatusNotFound,
	backup.Unauthenticated:  http.StatusUnauthorized,
	backup.Forbidden:        http.StatusForbidden,
	backup.Conflict:         http.StatusConflict,
	backup.RateLimited:      http.StatusTooManyRequests,
	backup.NotAcceptable:    http.StatusNotAcceptable,
	backup.MethodNotAllowed: http.StatusMethodNotAllowed,
	backup.TooLarge:         http.StatusRequestEntityTooLarge,
	backup.Unavailable:      http.StatusServiceUnavailable,
	backup.Gone:             http.StatusGone,
}

// Status is the HTTP status an error is answered with.
func Status(e *backup.Error) int {
	if e.Status != 0 {
		return e.Status
	}
	if int(e.Kind) < len(statusOf) {
		return statusOf[e.Kind]
	}
	return http.StatusInternalServerError
}

// writeError answers with the API's error body (ApiError): compact JSON,
// keys in alphabetical order, parameters always present, Content-Type
// application/json even on v2, and the code again in X-Error-Code. Anything
// that is not a *backup.Error, or is Internal, is logged with the request id
// and shown only as UNEXPECTED_ERROR.
func (s *Server) writeError(rq *request, err error) {
	if u, ok := asUnauthorized(err); ok {
		s.writeChallenge(rq, u)
		return
	}
	e := backup.ErrorOf(err)
	if e == nil || e.Kind == backup.Internal {
		s.log.Error("internal error", "request_id", rq.id, "method", rq.Method, "path", rq.URL.Path, "err", err)
		e = backup.ErrUnexpected()
	}
	h := rq.w.Header()
	if e.Kind == backup.Unavailable {
		// The cause (the driver's error) is for the operator; the caller
		// sees only the detail, and when to try again.
		if e.Err != nil {
			if ok, held := s.unavailableWarn.allow(s.cfg.Clock.Now()); ok {
				s.log.Warn("store unavailable", "request_id", rq.id, "method", rq.Method, "path", rq.URL.Path, "err", e.Err,
					"not_logged_since_last", held)
			}
		}
		h["Retry-After"] = hdrRetryAfter
	}
	h.Set("X-Error-Code", e.Code)
	rq.buf = AppendError(rq.buf[:0], e)
	s.send(rq, Status(e), hdrJSON, rq.buf, rq.pretty && guessPrettyErrors)
}

// AppendError appends the ApiError body of e.
func AppendError(b []byte, e *backup.Error) []byte {
	status := Status(e)
	b = append(b, `{"detail":`...)
	b = wire.AppendString(b, e.Detail)
	b = append(b, `,"error":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"errorCode":`...)
	b = wire.AppendString(b, e.Code)
	b = append(b, `,"parameters":[`...)
	for i, p := range e.Params {
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
