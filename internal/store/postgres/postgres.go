// Package postgres is checkpointd's shared store: one PostgreSQL database
// (or one schema of it) that several server processes, and the admin
// commands, use at once. It keeps the SQLite store's contract
// (store.Store) and its design:
//
//   - A cluster's checkpoints are numbered densely by seq in listing order,
//     so that a page is one range read of the checkpoints primary key and
//     its total comes from the seq bounds, whatever the page depth and the
//     table size (migrations/0001_init.sql).
//   - A cluster epoch and an auth epoch, kept by triggers in the transaction
//     of every write (migrations/0002_cluster_epoch.sql, 0003_auth.sql),
//     let each process cache immutable checkpoints and validate its cache
//     with one small statement, seeing every other process's writes at
//     once (cache.go); that statement's answers are kept for as long as
//     no transaction has completed, which one snapshot read shared by
//     concurrent requests tells (snapshot.go).
//   - Every read that resolves a cluster reference does so in one
//     statement: the project's organization (for the caller's access
//     check), the cluster, and what was asked of it, from one snapshot.
//   - A cluster's checkpoints are also kept as blocks of 100 consecutive
//     seqs, one row each in codec's block form, so that a page read from
//     the database is one or a few rows rather than one a checkpoint
//     (blocks.go, migrations/0015_checkpoint_blocks.sql); the checkpoints
//     table stays the source of truth.
//
// Writes are transactions at PostgreSQL's default READ COMMITTED level.
// Writers of one cluster's checkpoints take its row's lock (SELECT ... FOR
// UPDATE) before they read its seq bounds, so that processes appending or
// shifting seqs concurrently keep them dense; duplicates are refused by
// unique constraints and mapped to the contract's Conflict errors.
// Transactions that PostgreSQL aborts as deadlocked are run again.
//
// The driver is pgx through its native API and pool (pgxpool). Statements
// are prepared on each connection the first time it runs them, and kept.
// Schema migrations run through goose on a database/sql handle over the
// same pool, under an advisory lock, so that servers starting at once
// apply each migration once.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store/cache"
	"github.com/checkpointd/checkpointd/internal/store/codec"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a store on one PostgreSQL database. It is safe for concurrent
// use, and any number of DBs, in any number of processes, may share the
// database. It satisfies store.Store.
type DB struct {
	pool       *pgxpool.Pool
	connConfig *pgx.ConnConfig // the pool's, for connections of the store's own (snapshot.go)

	// Read-through caches; nil when disabled.
	pages       *cache.Pages
	checkpoints *cache.Checkpoints
	// heads keeps the cached reads' head statements' answers
	// (snapshot.go); nil when both caches are disabled.
	heads *heads

	decoders sync.Pool // of *codec.Decoder; interned names outlive a request

	blockStats blockStats
	// recent holds hashes of the pages lately read from blocks (admit).
	recent cache.Admission

	opTimeout time.Duration // see WithOpTimeout
	clock     clock.Clock   // see WithClock
}

// Default cache sizes, in bytes: the SQLite store's (see there for what
// they hold).
const (
	DefaultPageCacheSize       = 16 << 20
	DefaultCheckpointCacheSize = 2 << 20
)

// Option configures Open.
type Option func(*options)

type options struct {
	pages, checkpoints int64
	maxConns           int32
	opTimeout          time.Duration
	clock              clock.Clock
}

// WithCacheSize sets how many bytes the cached pages of checkpoints and
// the cached single checkpoints may hold (cache.ItemsCost). 0 disables
// either cache; WithCacheSize(0, 0) makes every read go to the database.
func WithCacheSize(pages, checkpoints int64) Option {
	return func(o *options) { o.pages, o.checkpoints = pages, checkpoints }
}

// WithClock sets the clock that claims, revocations and shared secrets
// are timed on (default clock.System): a slot claim expires, and a
// revoked token is forgotten, when this clock passes their expiry.
func WithClock(c clock.Clock) Option {
	return func(o *options) { o.clock = c }
}

// WithMaxConns sets the pool's size. Without it the pool has the
// pool_max_conns of the connection string, or pgxpool's default (the
// larger of 4 and the number of CPUs).
func WithMaxConns(n int32) Option {
	return func(o *options) { o.maxConns = n }
}

// Open connects to the database that dsn names, a postgres:// URL or a
// keyword/value connection string as libpq and pgx accept them, applies
// any pending schema migrations and returns the store. The schema is the
// first of the connection's search_path (set it with the URL's
// search_path parameter to give checkpointd a schema of its own), which
// must exist.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	o := options{pages: DefaultPageCacheSize, checkpoints: DefaultCheckpointCacheSize, opTimeout: DefaultOpTimeout, clock: clock.System}
	for _, opt := range opts {
		opt(&o)
	}
	if o.pages < 0 || o.checkpoints < 0 || o.maxConns < 0 || o.opTimeout < 0 {
		return nil, fmt.Errorf("postgres: open: negative option (%d pages, %d checkpoints, %d connections, %v per call)", o.pages, o.checkpoints, o.maxConns, o.opTimeout)
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", redactParseError(err))
	}
	if o.maxConns > 0 {
		cfg.MaxConns = o.maxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open %s: %w", describeConfig(cfg), err)
	}
	if err := migrate(ctx, cfg, pool); err != nil {
		pool.Close()
		return nil, err
	}
	db := &DB{
		pool:        pool,
		connConfig:  cfg.ConnConfig,
		pages:       cache.NewPages(o.pages),
		checkpoints: cache.NewCheckpoints(o.checkpoints),
		opTimeout:   o.opTimeout,
		clock:       o.clock,
	}
	if o.pages > 0 || o.checkpoints > 0 {
		db.heads = &heads{gate: snapGate{timeout: o.opTimeout, lanes: snapLanes}}
		db.heads.read = db.readSnapshot
	}
	db.decoders.New = func() any { return new(codec.Decoder) }
	// Blocks that do not match the rows are rebuilt now (blocks.go). If
	// that fails (a damaged row of checkpoints, the context's end, another
	// instance holding a cluster's lock past it), the store opens all the
	// same, as SQLite's does: blocks are derived, the rows answer
	// meanwhile, reads report any damage they meet as they always do, and
	// the next write to a cluster rebuilds what is stale of it.
	_ = db.refreshBlocks(ctx)
	return db, nil
}

// redactParseError keeps a password out of pgx's ParseConfig errors,
// which quote the connection string: pgx masks the password of a string
// it could split into its parts, but an unparseable URL reaches the text
// whole, so for one only the reason is kept.
func redactParseError(err error) error {
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return err
	}
	var ue *url.Error
	if errors.As(pe.Unwrap(), &ue) {
		return fmt.Errorf("cannot parse the connection string as a URL: %w", ue.Err)
	}
	return err
}

// describeConfig names the server and database of a configuration for
// errors, without its credentials.
func describeConfig(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s/%s", c.Host+":"+strconv.Itoa(int(c.Port)), c.Database)
}

// migrationLockKey is the first key of the advisory lock that serializes
// migrations (the second is the schema's); "ckpt" in ASCII.
const migrationLockKey = 0x636b7074

// migrate applies the embedded migrations that the schema has not had
// yet; goose records each applied version in goose_db_version. A session
// advisory lock, keyed by the schema, makes servers starting at once wait
// for each other: the first applies the migrations, the others find them
// applied. Schemas of their own (tests, several deployments in one
// database) do not wait for each other. The lock is held on a connection
// of its own, outside the pool that goose uses, and goes with it.
func migrate(ctx context.Context, cfg *pgxpool.Config, pool *pgxpool.Pool) error {
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	if schema == nil {
		return fmt.Errorf("postgres: migrate: no schema of the search_path exists")
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1, hashtext($2))`, migrationLockKey, *schema); err != nil {
		return fmt.Errorf("postgres: migrate: lock: %w", err)
	}
	p, closeDB, err := newProvider(pool)
	if err != nil {
		return err
	}
	defer closeDB()
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// newProvider returns a goose provider of the embedded migrations on a
// database/sql handle over pool, and the function that closes the handle
// (which leaves the pool open).
func newProvider(pool *pgxpool.Pool) (*goose.Provider, func(), error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(pool)
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		sqlDB.Close()
		return nil, nil, fmt.Errorf("postgres: migrations: %w", err)
	}
	return p, func() { sqlDB.Close() }, nil
}

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

// Close closes the pool, waiting for the connections in use to be
// returned. It is safe to call more than once.
func (db *DB) Close() error {
	if db.heads != nil {
		db.heads.conns.close()
	}
	db.pool.Close()
	return nil
}

// Ready reports whether the store can serve: the database answers a read
// and the schema carries every embedded migration (another process may
// have rolled one back since Open).
func (db *DB) Ready(ctx context.Context) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	var v *int64
	if err := db.pool.QueryRow(ctx, `SELECT max(version_id) FROM goose_db_version WHERE is_applied`).Scan(&v); err != nil {
		return fmt.Errorf("postgres: not ready: %w", err)
	}
	if v == nil || *v < latestMigration {
		got := int64(0)
		if v != nil {
			got = *v
		}
		return fmt.Errorf("postgres: not ready: schema version %d, want %d", got, latestMigration)
	}
	return nil
}

// SQLSTATE codes the store acts on.
const (
	codeUniqueViolation      = "23505"
	codeForeignKeyViolation  = "23503"
	codeSerializationFailure = "40001"
	codeDeadlockDetected     = "40P01"
)

// pgError returns the server's error in err, or nil.
func pgError(err error) *pgconn.PgError {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe
	}
	return nil
}

// violation reports whether err is the SQLSTATE code on the constraint
// named (any constraint when constraint is "").
func violation(err error, code, constraint string) bool {
	pe := pgError(err)
	return pe != nil && pe.Code == code && (constraint == "" || pe.ConstraintName == constraint)
}

// maxAttempts bounds how often inTx runs one transaction.
const maxAttempts = 5

// inTx runs fn in a READ COMMITTED transaction and commits it, running it
// again when PostgreSQL aborts it as a deadlock victim (two batches that
// lock the same clusters in opposite orders, say) or serialization
// failure. fn must therefore start from scratch each time. Errors of fn come back as they are; what names the
// write in the others.
func (db *DB) inTx(ctx context.Context, what string, fn func(tx pgx.Tx) error) error {
	var err error
	for attempt := 1; ; attempt++ {
		err = db.tryTx(ctx, fn)
		if err == nil {
			return nil
		}
		pe := pgError(err)
		retry := pe != nil && (pe.Code == codeDeadlockDetected || pe.Code == codeSerializationFailure)
		if !retry || attempt == maxAttempts || ctx.Err() != nil {
			break
		}
		// A short, growing pause lets the other transaction finish.
		select {
		case <-time.After(time.Duration(attempt) * 5 * time.Millisecond):
		case <-ctx.Done():
		}
	}
	if backup.ErrorOf(err) != nil || strings.HasPrefix(err.Error(), "postgres: ") {
		return err
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

func (db *DB) tryTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		rollback(ctx, tx)
		return err
	}
	return tx.Commit(ctx)
}

// rollback ends a transaction that did not commit. Its error is dropped:
// the caller is already returning the error that made it roll back, and
// a connection whose rollback failed is closed by pgx.
func rollback(ctx context.Context, tx pgx.Tx) { _ = tx.Rollback(context.WithoutCancel(ctx)) }
