package open_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/open"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
	"github.com/checkpointd/checkpointd/internal/store/storetest"
)

// Store covers what every consumer the commands hand it to declares, and
// the whole contract.
var (
	_ admin.Store     = open.Store(nil)
	_ auth.Store      = open.Store(nil)
	_ demo.Store      = open.Store(nil)
	_ httpapi.Store   = open.Store(nil)
	_ storetest.Store = open.Store(nil)
)

func TestIsPostgres(t *testing.T) {
	for in, want := range map[string]bool{
		"postgres://u@h/db":                    true,
		"postgresql://u@h/db?sslmode=disable":  true,
		"checkpointd.db":                       false,
		"/var/lib/checkpointd/postgres.db":     false,
		"postgres.db":                          false,
		"host=127.0.0.1 dbname=checkpointd":    false, // a file of that name
		"file:postgres://x":                    false,
		"POSTGRES://u@h/db":                    false,
		"./postgres://not-a-url-but-a-path.db": false,
	} {
		if got := open.IsPostgres(in); got != want {
			t.Errorf("IsPostgres(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	st, err := open.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*sqlite.DB); !ok {
		t.Fatalf("a path opened a %T", st)
	}
	if err := st.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	// A failure is a nil Store, not a nil pointer in a Store.
	st, err = open.Open(ctx, filepath.Join(t.TempDir(), "missing-dir", "x.db"))
	if err == nil || st != nil {
		t.Fatalf("Open of a path in a missing directory: %v, %v", st, err)
	}
	st, err = open.Open(ctx, "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2")
	if err == nil || st != nil {
		t.Fatalf("Open of an unreachable server: %v, %v", st, err)
	}
}

func TestOpenPostgres(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	st, err := open.Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, ok := st.(*postgres.DB); !ok {
		t.Fatalf("a postgres:// URL opened a %T", st)
	}
	if err := st.Ready(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestOpenWithCallTimeout: the call timeout reaches a PostgreSQL store: a
// bound too short for any statement makes its calls fail as an unavailable
// database (503), none or the default lets them through; a negative one is
// refused.
func TestOpenWithCallTimeout(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	dsn := pgtest.DSN(t)
	for _, tc := range []struct {
		name        string
		o           open.Options
		unavailable bool
	}{
		{"default", open.DefaultOptions, false},
		{"none", open.Options{CallTimeout: 0}, false},
		{"too short for anything", open.Options{CallTimeout: time.Nanosecond}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := open.OpenWith(ctx, dsn, tc.o)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			err = st.Ready(ctx)
			if tc.unavailable {
				if e := backup.ErrorOf(err); e == nil || e.Kind != backup.Unavailable {
					t.Fatalf("Ready with a %v bound: %v, want the store unavailable", tc.o.CallTimeout, err)
				}
			} else if err != nil {
				t.Fatalf("Ready: %v", err)
			}
		})
	}
	for _, db := range []string{dsn, filepath.Join(t.TempDir(), "x.db")} {
		if st, err := open.OpenWith(ctx, db, open.Options{CallTimeout: -time.Second}); err == nil || st != nil {
			t.Errorf("OpenWith (postgres: %v) with a negative timeout: %v, %v", open.IsPostgres(db), st, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"checkpointd.db": "checkpointd.db",
		"postgres://app:s3cret@db.internal:5432/cp?sslmode=require":     "postgres://app:xxxxx@db.internal:5432/cp?sslmode=require",
		"postgresql://app@127.0.0.1/cp":                                 "postgresql://app@127.0.0.1/cp",
		"postgres://app:s3cret@[::1/x":                                  "postgres://(unparsable URL)",
		"postgres://app@db.internal/cp?password=s3cret&sslmode=require": "postgres://app@db.internal/cp?password=xxxxx&sslmode=require",
		"postgres://app@db.internal/cp?sslpassword=s3cret":              "postgres://app@db.internal/cp?sslpassword=xxxxx",
		"postgres://app:s3cret@db.internal/cp?password=s3cret":          "postgres://app:xxxxx@db.internal/cp?password=xxxxx",
		"postgres://app@db.internal/cp?password=s3cret&password=s3cret": "postgres://app@db.internal/cp?password=xxxxx",
		"postgres://app@db.internal/cp?password=s3cret;x":               "postgres://(unparsable URL)",
	} {
		if got := open.Redact(in); got != want || strings.Contains(got, "s3cret") {
			t.Errorf("open.Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestOpenExplains: a --database that cannot be opened is refused with
// the path, what is wrong with it and what to do, not SQLite's "unable to
// open database file (14)"; nothing is created on the way.
func TestOpenExplains(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, database string
		want           []string
	}{
		{"missing directory", filepath.Join(dir, "none", "x.db"),
			[]string{"database " + filepath.Join(dir, "none", "x.db") + ": directory " + filepath.Join(dir, "none") + " does not exist: create it"}},
		{"a file for a directory", filepath.Join(file, "x.db"),
			[]string{"database " + filepath.Join(file, "x.db") + ": " + file + " is not a directory"}},
		{"a directory for a file", dir,
			[]string{"database " + dir + ": it is a directory: give --database the path of a file"}},
		{"MySQL", "mysql://u:secret@db.example.com/backups",
			[]string{"database mysql://u:xxxxx@db.example.com/backups: unsupported URL scheme mysql://: give the path of a SQLite file", "or a postgres:// URL"}},
		{"SQLite URI", "sqlite://x.db", []string{"unsupported URL scheme sqlite://"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st, err := open.Open(context.Background(), tt.database)
			if err == nil {
				st.Close()
				t.Fatalf("Open(%q) succeeded", tt.database)
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Open(%q) = %v, want it to say %q", tt.database, err, want)
				}
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("Open(%q) = %v: the password shows", tt.database, err)
			}
		})
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%s holds %d entries after the refusals, want only %s", dir, len(entries), file)
	}
}

// TestCheckIntegrity: a sound SQLite file passes; a check given no time
// is given up (not finished, no error) rather than holding the start; 0
// skips it; a negative bound is refused; PostgreSQL has nothing to check.
func TestCheckIntegrity(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := open.Open(ctx, filepath.Join(t.TempDir(), "check.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		within       time.Duration
		wantFinished bool
		wantErr      bool
	}{
		{open.DefaultIntegrityCheck, true, false},
		{time.Nanosecond, false, false},
		{0, false, false},
		{-time.Second, false, true},
	} {
		finished, err := open.CheckIntegrity(ctx, db, tc.within)
		if finished != tc.wantFinished || (err != nil) != tc.wantErr {
			t.Errorf("CheckIntegrity(%v) = %v, %v; want %v, error %v", tc.within, finished, err, tc.wantFinished, tc.wantErr)
		}
	}
	t.Run("postgres", func(t *testing.T) {
		pg, err := open.Open(ctx, pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		defer pg.Close()
		if finished, err := open.CheckIntegrity(ctx, pg, time.Second); !finished || err != nil {
			t.Errorf("CheckIntegrity(postgres) = %v, %v; want true, nil", finished, err)
		}
	})
}
