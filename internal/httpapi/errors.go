package httpapi

import (
	"net/http"
	"strconv"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/wire"
)

var hdrJSON = []string{"application/json"}

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
		case string:
			b = wire.AppendString(b, v)
		default:
			b = wire.AppendString(b, "")
		}
	}
	b = append(b, `],"reason":`...)
	b = wire.AppendString(b, http.StatusText(status))
	return append(b, '}')
}
