package sqlite

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
)

// classify ends every exported method that reaches the file, deferred
// with the address of its error:
//
//	defer db.classify(&err)
//
// so that a failure of the file itself leaves the store as a 503 (see
// unavailable) wherever it happened, and a damaged file is remembered
// (see Ready).
func (db *DB) classify(err *error) {
	if *err == nil {
		return
	}
	*err = unavailable(*err)
	e := backup.ErrorOf(*err)
	if e == nil || e.Detail != backup.DetailStoreDamaged {
		return
	}
	// The driver's corruption, named with the file; the first one found
	// is what Ready reports from then on.
	var de *store.DamagedError
	if !errors.As(*err, &de) {
		*err = store.ErrDamaged(db.path, e.Err)
	}
	db.damaged.CompareAndSwap(nil, backup.ErrorOf(*err))
}

// unavailable turns an error that says the file cannot serve for now into
// the 503 *backup.Error (SERVICE_UNAVAILABLE), keeping it as the cause,
// for the logs; any other error comes back as it is. The path and the
// driver's words never reach the response.
//
//   - SQLITE_FULL: the disk (or the file's max_page_count) is full. The
//     statement and its transaction did not happen, so the file is as it
//     was; a write can succeed again once space is freed.
//
//   - SQLITE_IOERR, SQLITE_CANTOPEN: the file or its directory cannot be
//     read or written (a disk gone, permissions changed under the
//     process).
//
//   - SQLITE_BUSY, SQLITE_LOCKED, SQLITE_PROTOCOL: a lock still held by
//     another process on the same file (an admin command, a backup tool)
//     after the busy handler's busyTimeoutMS. The holder will let go; the
//     request is worth retrying rather than a fault of the server.
//
//   - the store call ran out of its context's deadline.
//
//   - SQLITE_CORRUPT, SQLITE_NOTADB: the file is damaged (or is not a
//     database). Retrying cannot mend it: the detail says so
//     (backup.DetailStoreDamaged), and classify names the file.
//
// A caller's own cancellation (the client went away) stays as it is.
func unavailable(err error) error {
	if err == nil || backup.ErrorOf(err) != nil {
		return err
	}
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_FULL:
		return backup.ErrUnavailable(backup.DetailStoreFull, err)
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return backup.ErrUnavailable(backup.DetailStoreDamaged, err)
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_PROTOCOL:
		return backup.ErrUnavailable(backup.DetailStoreUnavailable, err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return backup.ErrUnavailable(backup.DetailStoreUnavailable, err)
	}
	return err
}

// QuickCheck runs SQLite's PRAGMA quick_check over the whole file: every
// page of every table and index is read and its structure checked (not
// that indexes match their tables, which integrity_check adds at many
// times the cost). It returns nil for a sound file, the 503 of
// store.ErrDamaged, naming the file and what the check found, for a
// damaged one (the store is then not Ready), and ctx's error when ctx
// ends first: the check reads the whole file, so a caller bounds it for
// large ones.
func (db *DB) QuickCheck(ctx context.Context) (err error) {
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = ctx.Err()
			return
		}
		db.classify(&err)
	}()
	// At most a few problems: the first says enough, and a badly damaged
	// file would list thousands.
	rows, err := db.r.QueryContext(ctx, `PRAGMA quick_check(5)`)
	if err != nil {
		return fmt.Errorf("sqlite: quick_check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			return fmt.Errorf("sqlite: quick_check: %w", err)
		}
		if msg != "ok" {
			problems = append(problems, msg)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: quick_check: %w", err)
	}
	if len(problems) > 0 {
		return store.ErrDamaged(db.path, fmt.Errorf("quick_check: %s", strings.Join(problems, "; ")))
	}
	return nil
}
