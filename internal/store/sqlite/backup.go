package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Backups. While servers run, most of the data set is in the file's
// write-ahead log ("-wal"), not in the file itself: a copy of the file
// alone (cp) can be a database with no tables, and a copy of both taken
// while a commit is under way a damaged one. Backup therefore reads the
// database through SQLite, in one read transaction, and Restore writes it
// back through SQLite's online backup, and both verify what they wrote
// before they report success.

// Counts is what a database holds, as a backup or a restore reports it.
type Counts struct {
	Organizations, Projects, Clusters, Checkpoints, APIKeys, ServiceAccounts int64
}

func (c Counts) String() string {
	// "name: n" rather than "n names", which reads "1 organizations".
	return fmt.Sprintf("organizations: %d, projects: %d, clusters: %d, checkpoints: %d, API keys: %d, service accounts: %d",
		c.Organizations, c.Projects, c.Clusters, c.Checkpoints, c.APIKeys, c.ServiceAccounts)
}

// Backup writes a copy of the database at src to dst, a file that must
// not exist yet, while servers and commands go on reading and writing src:
// VACUUM INTO copies the database as one read transaction sees it, so the
// copy holds every commit made before the backup began and none half.
// The copy is written next to dst, verified (Verify), and only then
// renamed to dst; a failed backup leaves no dst.
func Backup(ctx context.Context, src, dst string) (Counts, error) {
	if _, err := os.Stat(dst); err == nil {
		return Counts{}, fmt.Errorf("backup: %s exists: give a new file", dst)
	}
	db, err := openExisting(src, false)
	if err != nil {
		return Counts{}, fmt.Errorf("backup: %w", err)
	}
	defer db.Close()
	// Refuse a source that is not a checkpointd database, or a damaged
	// one, before writing anything.
	if _, err := counts(ctx, db); err != nil {
		return Counts{}, fmt.Errorf("backup: %s: %w", src, damaged(src, err))
	}
	tmp := filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+".partial")
	_ = os.Remove(tmp) // left by a backup that died
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		os.Remove(tmp)
		return Counts{}, fmt.Errorf("backup: copy %s: %w", src, damaged(src, err))
	}
	c, err := Verify(ctx, tmp)
	if err == nil {
		err = os.Rename(tmp, dst)
	}
	if err != nil {
		os.Remove(tmp)
		return Counts{}, fmt.Errorf("backup: %w", err)
	}
	return c, nil
}

// Restore replaces the database at dst (created if missing) with the
// backup at src, once src has been verified (Verify), through SQLite's
// online backup, which takes dst's write lock and replaces its pages and
// its write-ahead log together; then it verifies dst. It refuses a dst
// that any process has open: servers using it must be stopped first, or
// they would go on serving what they had read and cached before.
func Restore(ctx context.Context, src, dst string) (Counts, error) {
	want, err := Verify(ctx, src)
	if err != nil {
		return Counts{}, fmt.Errorf("restore: %w", err)
	}
	db, err := sql.Open("sqlite", dsn(dst, []string{fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS)}, ""))
	if err != nil {
		return Counts{}, fmt.Errorf("restore: %w", err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return Counts{}, fmt.Errorf("restore: open %s: %w", dst, err)
	}
	defer conn.Close()
	// Take dst for this connection alone, and keep it (exclusive locking
	// mode holds the lock past the transaction): in WAL mode every open
	// connection holds a shared lock on the file, so this fails while a
	// server or a command has dst open, and keeps them out until the
	// restore is done.
	for _, q := range []string{`PRAGMA busy_timeout = 0`, `PRAGMA locking_mode = EXCLUSIVE`, `BEGIN EXCLUSIVE`, `COMMIT`} {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			if sqliteCode(err)&0xff == sqlite3.SQLITE_BUSY {
				return Counts{}, fmt.Errorf("restore: %s is in use by a server or a command: stop them first", dst)
			}
			return Counts{}, fmt.Errorf("restore: lock %s: %w", dst, err)
		}
	}
	err = conn.Raw(func(dc any) error {
		r, ok := dc.(interface {
			NewRestore(string) (*sqlite.Backup, error)
		})
		if !ok {
			return errors.New("the SQLite driver cannot restore")
		}
		b, err := r.NewRestore(dsn(src, []string{"query_only(1)"}, ""))
		if err != nil {
			return err
		}
		if _, err := b.Step(-1); err != nil {
			b.Finish()
			return err
		}
		return b.Finish()
	})
	conn.Close()
	db.Close() // releases the lock before Verify opens dst again
	if err != nil {
		return Counts{}, fmt.Errorf("restore: copy %s to %s: %w", src, dst, err)
	}
	got, err := Verify(ctx, dst)
	if err != nil {
		return Counts{}, fmt.Errorf("restore: %w", err)
	}
	if got != want {
		return got, fmt.Errorf("restore: %s holds %v, the backup %v", dst, got, want)
	}
	return got, nil
}

// Verify checks that the file at path is a sound checkpointd database:
// PRAGMA integrity_check (every page, and every index against its table)
// finds nothing, its schema is this version's or older, and every table
// the counts come from reads to its end. It returns the counts.
func Verify(ctx context.Context, path string) (Counts, error) {
	db, err := openExisting(path, true)
	if err != nil {
		return Counts{}, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA integrity_check(5)`)
	if err != nil {
		return Counts{}, fmt.Errorf("verify %s: %w", path, damaged(path, err))
	}
	var problems []string
	for rows.Next() {
		var msg string
		if err := rows.Scan(&msg); err != nil {
			rows.Close()
			return Counts{}, fmt.Errorf("verify %s: %w", path, damaged(path, err))
		}
		if msg != "ok" {
			problems = append(problems, msg)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Counts{}, fmt.Errorf("verify %s: %w", path, damaged(path, err))
	}
	if len(problems) > 0 {
		return Counts{}, fmt.Errorf("verify %s: integrity check: %s", path, strings.Join(problems, "; "))
	}
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		return Counts{}, fmt.Errorf("verify %s: not a checkpointd database: %w", path, err)
	}
	if v.Int64 > latestMigration {
		return Counts{}, fmt.Errorf("verify %s: schema version %d is newer than this checkpointd's (%d)", path, v.Int64, latestMigration)
	}
	c, err := counts(ctx, db)
	if err != nil {
		return Counts{}, fmt.Errorf("verify %s: %w", path, err)
	}
	return c, nil
}

// openExisting opens the SQLite file at path, which must exist, on one
// connection; readOnly keeps it from writing (but for the "-shm" and
// "-wal" files SQLite needs to read a database in WAL mode).
func openExisting(path string, readOnly bool) (*sql.DB, error) {
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s does not exist", path)
		}
		return nil, err
	}
	pragmas := []string{fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS)}
	if readOnly {
		pragmas = append(pragmas, "query_only(1)")
	}
	db, err := sql.Open("sqlite", dsn(path, pragmas, ""))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// counts reads what the database holds, in one read transaction.
func counts(ctx context.Context, db *sql.DB) (Counts, error) {
	var c Counts
	err := db.QueryRowContext(ctx, `SELECT
  (SELECT count(*) FROM organizations), (SELECT count(*) FROM projects),
  (SELECT count(*) FROM clusters), (SELECT count(*) FROM checkpoints),
  (SELECT count(*) FROM api_keys), (SELECT count(*) FROM service_accounts)`).
		Scan(&c.Organizations, &c.Projects, &c.Clusters, &c.Checkpoints, &c.APIKeys, &c.ServiceAccounts)
	if err != nil {
		return c, fmt.Errorf("count: %w", err)
	}
	return c, nil
}
