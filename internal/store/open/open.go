// Package open opens the store a --database setting names: a PostgreSQL
// database for a postgres:// or postgresql:// URL, the SQLite file at
// that path for anything else. The commands use it, so that every one of
// them takes either.
package open

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// Store is what the commands use of a store: the whole contract
// (store.Store), the batch inserts seeding uses, and the readiness check of
// /readyz.
type Store interface {
	store.Store
	AddCheckpoints(ctx context.Context, cps []backup.Checkpoint) error
	RecordSlots(ctx context.Context, recs []backup.Slot) error
	Ready(ctx context.Context) error
}

var (
	_ Store = (*sqlite.DB)(nil)
	_ Store = (*postgres.DB)(nil)
)

// IsPostgres reports whether database names a PostgreSQL database rather
// than a SQLite file.
func IsPostgres(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// Options are the settings of a store a command may change.
type Options struct {
	// CallTimeout bounds each call of a PostgreSQL store (one read or one
	// write transaction, its retries included; see postgres.WithOpTimeout);
	// 0 leaves calls bounded by their context alone. SQLite waits for its
	// own lock at most 5 s (its busy timeout) and takes no bound.
	CallTimeout time.Duration
	// Clock times the store's claims and revocations (see
	// sqlite.WithClock); nil means clock.System.
	Clock clock.Clock
	// CacheSize bounds, in bytes, what the store's caches of checkpoints
	// hold: four fifths for pages, one fifth for single checkpoints (see
	// sqlite.WithCacheSize). 0 means the store's defaults; a negative
	// size turns the caches off.
	CacheSize int64
}

// cacheSizes are o.CacheSize's split between the store's two caches,
// and whether it is set at all.
func (o Options) cacheSizes() (pages, checkpoints int64, set bool) {
	switch {
	case o.CacheSize == 0:
		return 0, 0, false
	case o.CacheSize < 0:
		return 0, 0, true
	}
	checkpoints = o.CacheSize / 5
	return o.CacheSize - checkpoints, checkpoints, true
}

// DefaultOptions are the options Open uses.
var DefaultOptions = Options{CallTimeout: postgres.DefaultOpTimeout}

// Open opens the store database names, with DefaultOptions: a
// postgres:// or postgresql:// URL is a PostgreSQL database (see
// postgres.Open), anything else the path of a SQLite file, created if
// missing (see sqlite.Open).
func Open(ctx context.Context, database string) (Store, error) {
	return OpenWith(ctx, database, DefaultOptions)
}

// OpenWith opens the store database names, as Open does, with o.
func OpenWith(ctx context.Context, database string, o Options) (Store, error) {
	if o.CallTimeout < 0 {
		return nil, fmt.Errorf("store call timeout %v: want 0 (none) or more", o.CallTimeout)
	}
	// Each branch returns a nil Store, not a nil pointer in one, on error.
	clk := o.Clock
	if clk == nil {
		clk = clock.System
	}
	if IsPostgres(database) {
		opts := []postgres.Option{postgres.WithOpTimeout(o.CallTimeout), postgres.WithClock(clk)}
		if pages, checkpoints, set := o.cacheSizes(); set {
			opts = append(opts, postgres.WithCacheSize(pages, checkpoints))
		}
		db, err := postgres.Open(ctx, database, opts...)
		if err != nil {
			return nil, err
		}
		return db, nil
	}
	if err := unsupportedScheme(database); err != nil {
		return nil, err
	}
	opts := []sqlite.Option{sqlite.WithClock(clk)}
	if pages, checkpoints, set := o.cacheSizes(); set {
		opts = append(opts, sqlite.WithCacheSize(pages, checkpoints))
	}
	db, err := sqlite.Open(ctx, database, opts...)
	if err != nil {
		return nil, explain(database, err)
	}
	return db, nil
}

// Redact is a --database value fit for a log: a URL's password
// replaced by "xxxxx", in the user information or in the password and
// sslpassword parameters libpq and pgx also take (a SQLite path is printed
// as it is).
func Redact(db string) string {
	if !IsPostgres(db) {
		return db
	}
	u, err := url.Parse(db)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	redacted := false
	for _, k := range []string{"password", "sslpassword"} {
		if q.Has(k) {
			q.Set(k, "xxxxx")
			redacted = true
		}
	}
	if redacted {
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// DefaultIntegrityCheck bounds the integrity check at start: a few
// seconds read a file of a few gigabytes, and a larger file is better
// served unchecked than kept down for long.
const DefaultIntegrityCheck = 10 * time.Second

// CheckIntegrity checks the store's database the way its engine can do
// quickly (a SQLite file's PRAGMA quick_check; a PostgreSQL server checks
// its pages itself, so there is nothing to do), for at most within, and
// refuses a damaged one with a *store.DamagedError naming it and saying
// to restore it from a backup. A check not finished within that time is
// given up: finished is false and err nil, the database served unchecked.
// within 0 skips the check.
func CheckIntegrity(ctx context.Context, st Store, within time.Duration) (finished bool, err error) {
	if within < 0 {
		return false, fmt.Errorf("integrity check timeout %v: want 0 (no check) or more", within)
	}
	qc, ok := st.(interface{ QuickCheck(context.Context) error })
	if within == 0 || !ok {
		return within > 0, nil
	}
	cctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	switch err := qc.QuickCheck(cctx); {
	case err == nil:
		return true, nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return false, nil
	default:
		var de *store.DamagedError
		if errors.As(err, &de) {
			return true, de
		}
		return false, err
	}
}
