package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// DefaultOpTimeout bounds each call of the store (one read or one write
// transaction, its retries included) when the caller's context allows
// longer: a database that stops answering without closing its connections
// (a network partition, a hung server) then costs a request a 503 after
// this long rather than a wait until the HTTP server's write deadline or
// for ever. The store's statements take milliseconds; the longest, a
// cluster's deletion with its checkpoints, a few seconds at the largest
// sizes the benchmarks measure.
const DefaultOpTimeout = 20 * time.Second

// WithOpTimeout sets the bound of each store call (DefaultOpTimeout
// without it); 0 leaves calls bounded by their context alone.
func WithOpTimeout(d time.Duration) Option {
	return func(o *options) { o.opTimeout = d }
}

// op starts a store call: it bounds ctx by the store's timeout and returns
// the function that, deferred with the address of the call's error, ends
// it and classifies that error (see unavailable). Every exported method
// that reaches the database starts with
//
//	ctx, end := db.op(ctx)
//	defer end(&err)
func (db *DB) op(ctx context.Context) (context.Context, func(*error)) {
	if db.opTimeout <= 0 {
		return ctx, func(err *error) { *err = unavailable(*err) }
	}
	return db.opFrom(ctx, time.Now()) // elapsed time: the call's timeout runs from now
}

// opFrom is op for a call that started at start (its timeout runs from
// then): the cached reads, which set up the timeout only once they find
// they need a statement.
func (db *DB) opFrom(ctx context.Context, start time.Time) (context.Context, func(*error)) {
	if db.opTimeout <= 0 {
		return ctx, func(err *error) { *err = unavailable(*err) }
	}
	ctx, cancel := context.WithDeadline(ctx, start.Add(db.opTimeout))
	return ctx, func(err *error) {
		cancel()
		*err = unavailable(*err)
	}
}

// Server errors that say the database cannot serve for now, rather than
// that the statement was wrong: the server is shutting down or starting
// (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now),
// out of connections or memory (53300, 53200), cancelled by its
// statement_timeout (57014), read-only while a standby is being promoted
// (25006), and any connection exception (class 08).
var unavailableCodes = map[string]bool{
	"57P01": true, "57P02": true, "57P03": true,
	"53300": true, "53200": true,
	"57014": true, "25006": true,
}

// codeDiskFull is PostgreSQL's disk_full: the write did not happen.
const codeDiskFull = "53100"

// damagedCodes are PostgreSQL's data_corrupted and index_corrupted: a
// page the server found damaged, which retrying cannot mend (the detail
// says so, backup.DetailStoreDamaged); the server's error names the
// relation and block, for the log.
var damagedCodes = map[string]bool{"XX001": true, "XX002": true}

// unavailable turns an error that says the database cannot be reached or
// cannot serve for now into the 503 *backup.Error (SERVICE_UNAVAILABLE),
// keeping it as the cause, for the logs; any other error comes back as it
// is. The database's address and the driver's words never reach the
// response. A caller's own cancellation (the client went away) is not the
// database's fault and stays as it is.
func unavailable(err error) error {
	if err == nil || backup.ErrorOf(err) != nil {
		return err
	}
	// A connection that cannot be made, whatever the reason the server
	// gave (it is starting, or refuses the credentials), leaves the store
	// unable to serve.
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return backup.ErrUnavailable(backup.DetailStoreUnavailable, err)
	}
	if pe := pgError(err); pe != nil {
		switch {
		case pe.Code == codeDiskFull:
			return backup.ErrUnavailable(backup.DetailStoreFull, err)
		case damagedCodes[pe.Code]:
			return backup.ErrUnavailable(backup.DetailStoreDamaged, err)
		case unavailableCodes[pe.Code] || len(pe.Code) == 5 && pe.Code[:2] == "08":
			return backup.ErrUnavailable(backup.DetailStoreUnavailable, err)
		}
		return err
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne), pgconn.Timeout(err),
		errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, pgconn.ErrConnClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return backup.ErrUnavailable(backup.DetailStoreUnavailable, err)
	}
	return err
}
