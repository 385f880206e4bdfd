package main

import (
	"context"
	"net/url"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/store/open"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// TestPostgresDumpRestore follows the README's PostgreSQL backup: pg_dump
// of a data set, the data set lost (its schema dropped), pg_restore of
// the dump; the store then holds the same data set, every checkpoint
// included. It needs CHECKPOINTD_TEST_POSTGRES (see pgtest) and pg_dump,
// pg_restore and psql on the PATH.
func TestPostgresDumpRestore(t *testing.T) {
	dsn := pgtest.DSN(t)
	for _, tool := range []string{"pg_dump", "pg_restore", "psql"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not on the PATH", tool)
		}
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	schema := u.Query().Get("search_path")
	base := pgtest.BaseDSN(t)
	ctx := backup.WithPrincipal(context.Background(), backup.System)

	// read seeds the data set, or finds it, and returns what it holds.
	read := func() (demo.Dataset, map[string][]backup.Checkpoint) {
		t.Helper()
		db, err := open.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		all := map[string][]backup.Checkpoint{}
		for _, c := range ds.Clusters {
			p, err := db.Checkpoints(ctx, backup.ClusterRef{GroupID: c.GroupID, Name: c.Name}, backup.PageRequest{Num: 1, Size: 1000})
			if err != nil {
				t.Fatal(err)
			}
			all[c.Name] = p.Items
		}
		return ds, all
	}
	before, cpsBefore := read()

	dump := filepath.Join(t.TempDir(), "checkpointd.dump")
	pgRun(t, "pg_dump", "--format=custom", "--schema="+schema, "--file="+dump, base)
	pgRun(t, "psql", "--quiet", "--command=DROP SCHEMA "+schema+" CASCADE", base)
	pgRun(t, "pg_restore", "--dbname="+base, dump)

	after, cpsAfter := read()
	if after.Created || !reflect.DeepEqual(after.Checkpoints, before.Checkpoints) || !reflect.DeepEqual(after.Sample, before.Sample) {
		t.Errorf("after the restore: %+v, before %+v", after, before)
	}
	if !reflect.DeepEqual(cpsAfter, cpsBefore) {
		t.Error("the restored checkpoints differ from those dumped")
	}
}

// pgRun runs a PostgreSQL client tool and fails t if it fails.
func pgRun(t *testing.T, tool string, args ...string) {
	t.Helper()
	if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, out)
	}
}
