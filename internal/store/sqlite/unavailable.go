package sqlite

import (
	"context"
	"errors"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// classify ends every exported method that reaches the file, deferred
// with the address of its error:
//
//	defer classify(&err)
//
// so that a failure of the file itself leaves the store as a 503 (see
// unavailable) wherever it happened.
func classify(err *error) { *err = unavailable(*err) }

// unavailable turns an error that says the file cannot serve for now into
// the 503 *backup.Error (SERVICE_UNAVAILABLE), keeping it as the cause,
// for the logs; any other error comes back as it is. The path and the
// driver's words never reach the response.
//
//   - SQLITE_FULL: the disk (or the file's max_page_count) is full. The
//     statement and its transaction did not happen, so the file is as it
//     was; a write can succeed again once space is freed.
//   - SQLITE_IOERR, SQLITE_CANTOPEN: the file or its directory cannot be
//     read or written (a disk gone, permissions changed under the
//     process).
//   - SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL: a lock still held by
//     another process on the same file (an admin command, a backup tool)
//     after the busy handler's busyTimeoutMS. The holder will let go; the
//     request is worth retrying rather than a fault of the server.
//   - the store call ran out of its context's deadline.
//
// A caller's own cancellation (the client went away) stays as it is, and
// so does SQLITE_CORRUPT: retrying cannot mend a damaged file.
func unavailable(err error) error {
	if err == nil || backup.ErrorOf(err) != nil {
		return err
	}
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_FULL:
		return backup.ErrUnavailable(backup.DetailStoreFull, err)
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_PROTOCOL:
		return backup.ErrUnavailable(backup.DetailStoreUnavailable, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return backup.ErrUnavailable(backup.DetailStoreUnavailable, err)
	}
	return err
}
