// Package sqlite is checkpointd's embedded store: one SQLite file, through
// the pure-Go driver modernc.org/sqlite, so that the server is a single
// static binary with no cgo and no database to run beside it.
//
// Writes go through one connection and reads through a small pool, both on
// the same file in WAL mode: readers never wait for the writer, and writers
// never contend with each other for the lock. Listing a page of checkpoints
// is one range read of the checkpoints primary key, whatever the page depth
// and the table size (see migrations/0001_init.sql for the numbering that
// makes this so), or, while they match the rows, of a few rows of
// checkpoint_blocks, which hold the same checkpoints 100 to a row
// (blocks.go).
//
// Checkpoints are immutable, so the store keeps a read-through cache of
// listed pages and of single checkpoints (see cache.go). Every read still
// learns the cluster's current epoch and seq bounds from the file, in one
// small statement or, while nothing has been committed to the file since
// that statement ran, from what it read (version.go), so that writes by
// other processes on the same file are seen by the next request.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pressly/goose/v3"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/cache"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// readerConns is the read pool's size. Reads are short and the machines
// this runs on are small; a few connections let concurrent requests
// proceed without holding much per-connection cache.
const readerConns = 4

// readerCacheKiB is each reader connection's page cache (PRAGMA
// cache_size), in KiB.
const readerCacheKiB = 128

// busyTimeoutMS is how long a statement waits for a lock before failing
// with SQLITE_BUSY. With one writer connection and WAL readers, only a WAL
// checkpoint or another process on the same file can make it wait.
const busyTimeoutMS = 5000

// DB is a store on one SQLite file. It is safe for concurrent use. It
// satisfies store.Store.
type DB struct {
	w *sql.DB // the one writer connection
	r *sql.DB // the read pool, query_only

	// Hot read statements, prepared once. database/sql re-prepares them
	// lazily on each pooled connection and keeps them there.
	resolveByName, resolveByID       *sql.Stmt
	page                             *sql.Stmt
	checkpointByName, checkpointByID *sql.Stmt
	// The one statement a cached read runs: the project's organization,
	// the cluster's key and epoch and, for lists, its seq bounds.
	headBoundsByName, headBoundsByID *sql.Stmt
	headByName, headByID             *sql.Stmt
	blocks                           *sql.Stmt // see blocks.go
	// Statements of authentication, which runs on every request.
	authEpoch, isRevoked, apiKeyByPublicKey *sql.Stmt

	// Read-through caches; nil when disabled.
	pages       *cache.Pages
	checkpoints *cache.Checkpoints

	// Write statements, on the writer.
	insertCheckpoint, lastCheckpoint, firstCheckpoint *sql.Stmt
	checkpointKey, existingCheckpoint, clusterByID    *sql.Stmt

	decoders sync.Pool // of *codec.Decoder; interned names outlive a request

	clock clock.Clock // see WithClock

	// path is the file's, for the errors that name it; damaged is the
	// first damage found in it (see classify), which Ready reports.
	path    string
	damaged atomic.Pointer[backup.Error]

	// wal reads the file's WAL-index header, the version of its content;
	// nil when it cannot (every read then asks the file). heads are what
	// the head statements read at a version, authEpochAt the auth epoch.
	wal         *walIndex
	heads       headCache
	authEpochAt atomic.Pointer[versioned[int64]]
	headReads   atomic.Int64 // head statements run, for tests
	blockReads  atomic.Int64 // pages answered from blocks (sequences: handed out), for tests
	blockDamage atomic.Int64 // blocks that would not decode
	// recent holds hashes of the pages lately read from blocks (admit).
	recent cache.Admission
}

// versioned is a value read from the file at a version of it.
type versioned[T any] struct {
	version walVersion
	value   T
}

// Default cache sizes, in bytes of what the entries hold
// (cache.ItemsCost: about 250 bytes a checkpoint of a replica set, 560 of
// a three-shard cluster). The page cache holds some 60 pages of 500
// checkpoints of a three-shard cluster, or 300 of 100; the checkpoint
// cache some 3 500 checkpoints.
const (
	DefaultPageCacheSize       = 16 << 20
	DefaultCheckpointCacheSize = 2 << 20
)

// Option configures Open.
type Option func(*options)

type options struct {
	pages, checkpoints int64
	clock              clock.Clock
}

// WithCacheSize sets how many bytes the cached pages of checkpoints and
// the cached single checkpoints may hold (cache.ItemsCost). Clients
// choose the pages, of up to 500 checkpoints each, so the bound is in
// bytes rather than entries. 0 disables either cache;
// WithCacheSize(0, 0) makes every read go to the file as it did before
// the cache existed.
func WithCacheSize(pages, checkpoints int64) Option {
	return func(o *options) { o.pages, o.checkpoints = pages, checkpoints }
}

// WithClock sets the clock that claims, revocations and shared secrets
// are timed on (default clock.System): a slot claim expires, and a
// revoked token is forgotten, when this clock passes their expiry.
func WithClock(c clock.Clock) Option {
	return func(o *options) { o.clock = c }
}

// Open opens (creating if needed) the database at path, applies any
// pending schema migrations and prepares the statements the store runs.
// Without options its caches have the default sizes.
//
// path must name a file: the writer and the readers are separate
// connections, so an in-memory database would give each its own.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("sqlite: open %q: want the path of a database file", path)
	}
	o := options{pages: DefaultPageCacheSize, checkpoints: DefaultCheckpointCacheSize, clock: clock.System}
	for _, opt := range opts {
		opt(&o)
	}
	if o.pages < 0 || o.checkpoints < 0 {
		return nil, fmt.Errorf("sqlite: open %s: negative cache size (%d pages, %d checkpoints)", path, o.pages, o.checkpoints)
	}
	db := &DB{
		pages:       cache.NewPages(o.pages),
		checkpoints: cache.NewCheckpoints(o.checkpoints),
		clock:       o.clock,
		path:        path,
	}
	db.decoders.New = func() any { return new(codec.Decoder) }

	var err error
	db.w, err = sql.Open("sqlite", dsn(path, writerPragmas, "&_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	// One writer connection: SQLite allows one writer at a time anyway, and
	// queuing in database/sql is cheaper and fairer than SQLITE_BUSY retries.
	// _txlock=immediate takes the write lock at BEGIN, so a transaction that
	// reads before it writes cannot fail to upgrade its lock.
	db.w.SetMaxOpenConns(1)
	db.w.SetMaxIdleConns(1)
	db.w.SetConnMaxLifetime(0)
	db.w.SetConnMaxIdleTime(0)
	if err := db.w.PingContext(ctx); err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, damaged(path, err))
	}
	if err := migrate(ctx, db.w); err != nil {
		db.w.Close()
		return nil, damaged(path, err)
	}

	// The readers open after the migrations so that they never see a file
	// without its schema (or before WAL mode, which the writer sets and the
	// file then keeps).
	db.r, err = sql.Open("sqlite", dsn(path, readerPragmas, ""))
	if err != nil {
		db.w.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	db.r.SetMaxOpenConns(readerConns)
	db.r.SetMaxIdleConns(readerConns)
	db.r.SetConnMaxLifetime(0)
	db.r.SetConnMaxIdleTime(0)

	if err := db.prepare(ctx); err != nil {
		db.Close()
		return nil, damaged(path, err)
	}
	// Blocks that do not match the rows are rebuilt now (blocks.go). If
	// that fails (a damaged page of checkpoints, the context's end), the
	// store opens all the same: blocks are derived, the rows answer
	// meanwhile, and reads report any damage they meet as they always do.
	_ = db.refreshBlocks(ctx)
	// After prepare, whose reads made the readers map the "-shm" file.
	db.wal = openWALIndex(path)
	return db, nil
}

// Pragmas, set through the DSN so that every connection database/sql opens,
// now or after a pooled one is closed, gets them. busy_timeout comes first
// so that the others wait for a lock rather than fail.
var (
	writerPragmas = []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
		"foreign_keys(1)",
		// WAL lets readers run alongside the writer. It is a property of
		// the file: set once by the writer, the readers inherit it.
		"journal_mode(WAL)",
		// FULL syncs the WAL at every commit. NORMAL would keep the file
		// consistent but could lose the last commits on power loss, and an
		// acknowledged checkpoint must survive that. Writes are rare (a few
		// per cluster per hour), so the fsync costs nothing that matters.
		"synchronous(FULL)",
	}
	readerPragmas = []string{
		fmt.Sprintf("busy_timeout(%d)", busyTimeoutMS),
		"foreign_keys(1)",
		// A bug that writes through the read pool fails loudly instead of
		// racing the single writer.
		"query_only(1)",
		// Each connection's page cache is memory of the process, and it
		// helps little: SQLite's default of some 2 MB a connection cost
		// 4 MB of RSS each under random pages of a large file (the
		// driver's allocator rounds a cache page of 4 KB up to 8 KB),
		// 16 MB for the read pool, while at a million checkpoints the
		// checkpoints table's interior pages alone are 10 MB (a WITHOUT
		// ROWID table keeps whole rows in them), so a random page's reads
		// miss it either way and come from the kernel's page cache, some
		// 10 µs a page. What clients ask for again is served by the
		// store's own caches above SQLite.
		fmt.Sprintf("cache_size(-%d)", readerCacheKiB),
	}
)

// dsn builds a modernc URI filename. SQLite gives special meaning to '?',
// '#' and '%' in a URI, so they are escaped in the path.
func dsn(path string, pragmas []string, extra string) string {
	var b strings.Builder
	b.WriteString("file:")
	b.WriteString(strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path))
	for i, p := range pragmas {
		if i == 0 {
			b.WriteString("?")
		} else {
			b.WriteString("&")
		}
		b.WriteString("_pragma=")
		b.WriteString(p)
	}
	b.WriteString(extra)
	return b.String()
}

// migrate applies the embedded migrations that the file has not had yet;
// goose records each applied version in goose_db_version.
func migrate(ctx context.Context, w *sql.DB) error {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, w, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	// No p.Close: it would close w, which the store goes on using.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Close closes both pools. Statements and connections in use finish first.
func (db *DB) Close() error {
	var errs []error
	for _, s := range []*sql.Stmt{db.resolveByName, db.resolveByID, db.page, db.checkpointByName,
		db.checkpointByID, db.headBoundsByName, db.headBoundsByID, db.headByName, db.headByID, db.blocks,
		db.authEpoch, db.isRevoked, db.apiKeyByPublicKey,
		db.insertCheckpoint, db.lastCheckpoint, db.firstCheckpoint,
		db.checkpointKey, db.existingCheckpoint, db.clusterByID} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	if db.r != nil {
		errs = append(errs, db.r.Close())
	}
	errs = append(errs, db.wal.close())
	errs = append(errs, db.w.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("sqlite: close: %w", err)
	}
	return nil
}

// resolveCols select, for a reference, the project's organization (NULL
// when there is no such project; the caller's access is checked against
// it, see store.Authorize) and the matching cluster's key, id and backup kind;
// a LEFT JOIN from a one-row table keeps the project answer when no
// cluster matches. Both lookups are unique-index seeks.
const (
	fromRefByName = ` FROM (SELECT 1) LEFT JOIN clusters c ON c.group_id = ?1 AND c.name = ?2`
	fromRefByID   = ` FROM (SELECT 1) LEFT JOIN clusters c ON c.group_id = ?1 AND c.id = ?2`
	projectOrg    = `(SELECT org_id FROM projects WHERE id = ?1)`
	resolveCols   = `SELECT ` + projectOrg + `, c.pk, c.id, c.backup, c.epoch`
	// The first and last seq are separate ORDER BY ... LIMIT 1 subqueries
	// because SQLite answers min() alone from the index but not min() and
	// max() together.
	seqBounds = `,
  (SELECT seq FROM checkpoints WHERE cluster = c.pk ORDER BY seq LIMIT 1),
  (SELECT seq FROM checkpoints WHERE cluster = c.pk ORDER BY seq DESC LIMIT 1)`
	checkpointCols = `started, completed, ts, restorable, parts`
	joinCheckpoint = ` LEFT JOIN checkpoints k ON k.id = ?3 AND k.cluster = c.pk`

	// headCols are resolveCols in as few columns as say it, since the
	// driver spends an allocation on each column's name on every query:
	// the project's organization; the cluster's pk, or headNoCluster or
	// headCloud when there are no checkpoints to read; its epoch, 0 when
	// there is no cluster.
	headCols = `SELECT ` + projectOrg + `,
  CASE
    WHEN c.pk IS NULL THEN 0 -- headNoCluster
    WHEN c.backup = '` + string(backup.BackupCloud) + `' THEN -1 -- headCloud
    ELSE c.pk END,
  coalesce(c.epoch, 0)`
	// headBounds are seqBounds, an empty cluster reading as first 1, last 0,
	// and the cluster's id, which the checkpoints of a page read from
	// blocks carry.
	headBounds = `,
  coalesce((SELECT seq FROM checkpoints WHERE cluster = c.pk ORDER BY seq LIMIT 1), 1),
  coalesce((SELECT seq FROM checkpoints WHERE cluster = c.pk ORDER BY seq DESC LIMIT 1), 0),
  c.id`
)

// blocksQuery reads a page's blocks, in the snapshot where the cluster
// still has the epoch its head was read at and its blocks match its rows
// at it and hold seqs up to the page's last, ?5 (blocks.go): the
// cluster's row by its pk, the blocks a range of their rowid. The LIMIT
// is the range's size: the statement ends at its last block rather than
// moving on to the row after it to learn that the range is over, which,
// a block filling its b-tree page, would read one more page of the file
// (a pread a page of a random walk over 1M checkpoints, by strace).
const blocksQuery = `SELECT b.block, b.body FROM clusters c JOIN checkpoint_blocks b ON b.block BETWEEN ?3 AND ?4
WHERE c.pk = ?1 AND c.epoch = ?2 AND c.blocks_epoch = c.epoch AND c.blocks_last >= ?5 ORDER BY b.block LIMIT ?4 - ?3 + 1`

func (db *DB) prepare(ctx context.Context) error {
	stmts := []struct {
		dst *(*sql.Stmt)
		on  *sql.DB
		sql string
	}{
		{&db.resolveByName, db.r, resolveCols + seqBounds + fromRefByName},
		{&db.resolveByID, db.r, resolveCols + seqBounds + fromRefByID},
		{&db.page, db.r, `SELECT id, ` + checkpointCols + ` FROM checkpoints
WHERE cluster = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq`},
		{&db.checkpointByName, db.r, resolveCols + `, k.` + strings.ReplaceAll(checkpointCols, ", ", ", k.") + fromRefByName + joinCheckpoint},
		{&db.checkpointByID, db.r, resolveCols + `, k.` + strings.ReplaceAll(checkpointCols, ", ", ", k.") + fromRefByID + joinCheckpoint},
		{&db.headBoundsByName, db.r, headCols + headBounds + fromRefByName},
		{&db.headBoundsByID, db.r, headCols + headBounds + fromRefByID},
		{&db.headByName, db.r, headCols + fromRefByName},
		{&db.blocks, db.r, blocksQuery},
		{&db.headByID, db.r, headCols + fromRefByID},
		{&db.authEpoch, db.r, authEpochQuery},
		{&db.isRevoked, db.r, isRevokedQuery},
		{&db.apiKeyByPublicKey, db.r, `SELECT ` + shape.APIKeyCols + ` FROM api_keys WHERE public_key = ?`},

		{&db.insertCheckpoint, db.w, `INSERT INTO checkpoints (cluster, seq, id, ` + checkpointCols + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{&db.lastCheckpoint, db.w, `SELECT seq, ts, id FROM checkpoints WHERE cluster = ? ORDER BY seq DESC LIMIT 1`},
		{&db.firstCheckpoint, db.w, `SELECT seq, ts, id FROM checkpoints WHERE cluster = ? ORDER BY seq LIMIT 1`},
		{&db.checkpointKey, db.w, `SELECT ts, id FROM checkpoints WHERE cluster = ? AND seq = ?`},
		{&db.existingCheckpoint, db.w, `SELECT cluster, ` + checkpointCols + ` FROM checkpoints WHERE id = ?`},
		{&db.clusterByID, db.w, `SELECT c.pk, c.group_id, p.org_id FROM clusters c JOIN projects p ON p.id = c.group_id WHERE c.id = ?`},
	}
	for _, s := range stmts {
		st, err := s.on.PrepareContext(ctx, s.sql)
		if err != nil {
			return fmt.Errorf("sqlite: prepare: %w", err)
		}
		*s.dst = st
	}
	return nil
}

// damaged is err, or, when it reports a damaged file (SQLITE_CORRUPT,
// SQLITE_NOTADB: a page or the header overwritten), a *store.DamagedError
// naming path and saying what to do, since Open's errors go to the
// operator as they are.
func damaged(path string, err error) error {
	switch sqliteCode(err) & 0xff {
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return &store.DamagedError{Database: path, Err: err}
	}
	return err
}

// sqliteCode is the extended result code of a driver error, 0 for any
// other error.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()
	}
	return 0
}

// Constraint violations the store turns into API errors.
const (
	codeUnique     = sqlite3.SQLITE_CONSTRAINT_UNIQUE
	codePrimaryKey = sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	codeForeignKey = sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
)

// rollback ends a transaction that did not commit. Its error is dropped:
// the caller is already returning the error that made it roll back.
func rollback(tx *sql.Tx) { _ = tx.Rollback() }

// latestMigration is the version of the newest embedded migration.
var latestMigration = func() int64 {
	entries, _ := fs.ReadDir(migrationFiles, "migrations")
	var v int64
	for _, e := range entries {
		n, _, _ := strings.Cut(e.Name(), "_")
		if x, err := strconv.ParseInt(n, 10, 64); err == nil && x > v {
			v = x
		}
	}
	return v
}()

// Ready reports whether the store can serve: the file answers a read and
// carries every embedded migration (another process may have replaced it
// since Open).
//
// Once the store has found the file damaged, it is not ready until the
// process is restarted on a mended file: the damage stays where it is
// whether or not the next reads touch it.
func (db *DB) Ready(ctx context.Context) (err error) {
	defer db.classify(&err)
	if e := db.damaged.Load(); e != nil {
		return e
	}
	var v sql.NullInt64
	if err := db.r.QueryRowContext(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		return fmt.Errorf("sqlite: not ready: %w", err)
	}
	if v.Int64 < latestMigration {
		return fmt.Errorf("sqlite: not ready: schema version %d, want %d", v.Int64, latestMigration)
	}
	return nil
}
