package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// damagedCopy returns the path of a copy of the demo data set's file
// (made once per test) with n bytes at off overwritten with random ones,
// as a failing disk or a stray write would leave it.
func damagedCopy(t *testing.T, src string, off, n int64) string {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(uint64(off), uint64(n)))
	for i := off; i < off+n && i < int64(len(b)); i++ {
		b[i] = byte(rng.Uint32())
	}
	path := filepath.Join(t.TempDir(), "damaged.db")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// demoFile seeds the demo data set into a new file, closes it (which
// moves the write-ahead log into the file) and returns its path, its page
// size and the root pages of the checkpoints table and of its index on
// id.
func demoFile(t *testing.T) (path string, pageSize, table, index int64, ds demo.Dataset) {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path = filepath.Join(t.TempDir(), "demo.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ds, err = demo.Seed(ctx, db, demo.Options{Seed: 1, Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, q := range []struct {
		dst *int64
		sql string
	}{
		{&pageSize, `PRAGMA page_size`},
		{&table, `SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'`},
		{&index, `SELECT rootpage FROM sqlite_master WHERE type = 'index' AND tbl_name = 'checkpoints'`},
	} {
		if err := raw.QueryRow(q.sql).Scan(q.dst); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return path, pageSize, table, index, ds
}

// isDamaged reports whether err is the 503 of a damaged file naming path.
func isDamaged(err error, path string) bool {
	var de *store.DamagedError
	e := backup.ErrorOf(err)
	return e != nil && e.Kind == backup.Unavailable && e.Detail == backup.DetailStoreDamaged &&
		errors.As(err, &de) && de.Database == path
}

// TestDamagedFile overwrites parts of a SQLite file with random bytes, as
// a failing disk would: its header makes Open fail with an error that
// names the file and says to restore it; a page of the checkpoints table
// or of its index on id opens, but QuickCheck finds the damage, reads
// that reach it answer the 503 of a damaged database naming the file
// (for the logs), never an internal error, and the store is not Ready
// from then on.
func TestDamagedFile(t *testing.T) {
	src, pageSize, table, index, ds := demoFile(t)
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	ref := backup.ClusterRef{GroupID: demo.ProjectID, Name: "Cluster0"}

	t.Run("header", func(t *testing.T) {
		path := damagedCopy(t, src, 0, 100)
		db, err := sqlite.Open(ctx, path)
		if err == nil {
			db.Close()
			t.Fatal("Open of a file with a damaged header succeeded")
		}
		var de *store.DamagedError
		if !errors.As(err, &de) || de.Database != path || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "restore it from a backup") {
			t.Errorf("Open() = %v, want a *store.DamagedError naming %s and saying to restore it", err, path)
		}
	})

	for _, tc := range []struct {
		name string
		page int64
		read func(db *sqlite.DB) error
	}{
		{"table page", table, func(db *sqlite.DB) error {
			_, err := db.Checkpoints(ctx, ref, backup.PageRequest{Num: 1, Size: 500, IncludeCount: true})
			return err
		}},
		{"index page", index, func(db *sqlite.DB) error {
			_, err := db.Checkpoint(ctx, ref, ds.Sample["Cluster0"])
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := damagedCopy(t, src, (tc.page-1)*pageSize, pageSize)
			for _, check := range []bool{true, false} {
				db, err := sqlite.Open(ctx, path)
				if err != nil {
					t.Fatalf("Open() = %v", err)
				}
				defer db.Close()
				if err := db.Ready(ctx); err != nil {
					t.Fatalf("Ready() before the damage is found = %v", err)
				}
				if check {
					if err := db.QuickCheck(ctx); !isDamaged(err, path) {
						t.Errorf("QuickCheck() = %v, want the 503 of a damaged %s", err, path)
					}
				} else if err := tc.read(db); !isDamaged(err, path) {
					t.Errorf("read = %v, want the 503 of a damaged %s", err, path)
				}
				if err := db.Ready(ctx); !isDamaged(err, path) {
					t.Errorf("Ready() after the damage was found = %v, want the 503 of a damaged %s", err, path)
				}
			}
		})
	}

	t.Run("sound", func(t *testing.T) {
		db, err := sqlite.Open(ctx, src)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QuickCheck(ctx); err != nil {
			t.Errorf("QuickCheck() of a sound file = %v", err)
		}
		expired, cancel := context.WithDeadline(ctx, time.Unix(0, 0))
		defer cancel()
		if err := db.QuickCheck(expired); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("QuickCheck() past its deadline = %v, want context.DeadlineExceeded", err)
		}
		if err := db.Ready(ctx); err != nil {
			t.Errorf("Ready() after the checks = %v", err)
		}
	})
}
