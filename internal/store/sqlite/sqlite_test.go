package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
	"github.com/checkpointd/checkpointd/internal/store/storetest"
)

// TestConformance runs the suite with the read cache off, with its
// default sizes (as the server runs) and with a few kilobytes of each, so
// that entries are evicted all the time.
func TestConformance(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []sqlite.Option
	}{
		{"cache=off", []sqlite.Option{sqlite.WithCacheSize(0, 0)}},
		{"cache=on", nil},
		{"cache=tiny", []sqlite.Option{sqlite.WithCacheSize(16<<10, 2<<10)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Run(t, func(t testing.TB, clk clock.Clock) storetest.Store {
				db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"), append(c.opts, sqlite.WithClock(clk))...)
				if err != nil {
					t.Fatal(err)
				}
				return db
			})
		})
	}
}

// TestReopen checks that what was acknowledged is in the file after Close,
// and that opening an existing file applies no migration again.
func TestReopen(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "durable.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	ids := backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 9}, 0)
	t0 := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	org := backup.Organization{ID: ids.New(t0), Name: "o", Created: t0}
	project := backup.Project{ID: ids.New(t0), OrgID: org.ID, Name: "p", Created: t0}
	cluster := backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: "rs", Type: backup.ReplicaSet,
		ReplicaSetName: "rs0", Backup: backup.BackupLegacy, MongoDBVersion: "4.2.0", Created: t0}
	cp := backup.Checkpoint{ID: ids.New(t0), ClusterID: cluster.ID, GroupID: project.ID,
		Started: t0, Completed: t0.Add(time.Minute), Timestamp: t0, Restorable: true,
		Parts: []backup.Part{{Type: backup.PartReplicaSet, ReplicaSetName: "rs0", TokenDiscovered: true,
			TokenTimestamp: backup.BSONTimestamp{Date: t0, Increment: 1}}}}
	for _, err := range []error{
		db.CreateOrganization(ctx, org),
		db.CreateProject(ctx, project),
		db.CreateCluster(ctx, cluster),
		db.AddCheckpoint(ctx, cp),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		db, err = sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		ref := backup.ClusterRef{GroupID: project.ID, Name: cluster.Name}
		got, err := db.Checkpoint(ctx, ref, cp.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != cp.ID || !got.Timestamp.Equal(cp.Timestamp) || len(got.Parts) != 1 {
			t.Fatalf("after reopen: %+v", got)
		}
		if _, err := db.Project(ctx, project.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}

	// Each embedded migration is recorded once, whatever the number of opens.
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil || len(files) == 0 {
		t.Fatalf("migrations: %v %v", files, err)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var applied, distinct int
	if err := raw.QueryRow(`SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).
		Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if applied != len(files) || distinct != len(files) {
		t.Fatalf("goose_db_version has %d rows (%d versions) for %d migrations", applied, distinct, len(files))
	}
}

func TestOpenPaths(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	for _, bad := range []string{"", ":memory:", "file::memory:", filepath.Join(t.TempDir(), "missing-dir", "x.db")} {
		if db, err := sqlite.Open(ctx, bad); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
	// Characters that mean something in a SQLite URI name a plain file.
	path := filepath.Join(t.TempDir(), "we?ird#na%25me.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %s: %v", path, err)
	}
}

// TestConcurrentReadersAndWriter lists pages while checkpoints are being
// appended and pruned: every page must be internally consistent (ordered,
// and agreeing with its own total), which the read transaction guarantees.
func TestConcurrentReadersAndWriter(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "conc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := backup.NewIDSourceFrom([5]byte{7, 7, 7, 7, 7}, 0)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	org := backup.Organization{ID: ids.New(t0), Name: "o", Created: t0}
	project := backup.Project{ID: ids.New(t0), OrgID: org.ID, Name: "p", Created: t0}
	c := backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: "rs", Type: backup.ReplicaSet, MongoDBVersion: "4.0.28",
		ReplicaSetName: "rs0", Backup: backup.BackupLegacy, Created: t0}
	for _, err := range []error{db.CreateOrganization(ctx, org), db.CreateProject(ctx, project), db.CreateCluster(ctx, c)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	ref := backup.ClusterRef{GroupID: project.ID, ID: c.ID}
	const writes = 120
	done := make(chan struct{})
	errc := make(chan error, 8)
	go func() {
		defer close(done)
		for i := range writes {
			ts := t0.Add(time.Duration(i) * time.Minute)
			cp := backup.Checkpoint{ID: ids.New(ts), ClusterID: c.ID, GroupID: project.ID, Started: ts, Timestamp: ts}
			if err := db.AddCheckpoint(ctx, cp); err != nil {
				errc <- err
				return
			}
			if i%40 == 39 {
				if _, err := db.PruneCheckpoints(ctx, c.ID, ts.Add(-20*time.Minute)); err != nil {
					errc <- err
					return
				}
			}
		}
	}()
	var readers sync.WaitGroup
	for r := range 4 {
		readers.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				p, err := db.Checkpoints(ctx, ref, backup.PageRequest{Num: 1 + n%3, Size: 7, IncludeCount: true})
				if err != nil {
					errc <- err
					return
				}
				if want := min(7, max(0, p.Total-(n%3)*7)); len(p.Items) != want {
					errc <- fmt.Errorf("reader %d: page %d has %d items with Total %d", r, 1+n%3, len(p.Items), p.Total)
					return
				}
				for i := 1; i < len(p.Items); i++ {
					if !p.Items[i-1].Timestamp.Before(p.Items[i].Timestamp) {
						errc <- fmt.Errorf("reader %d: page out of order", r)
						return
					}
				}
				// A checkpoint just listed is found, or is gone (pruned
				// since), never another one.
				if len(p.Items) > 0 {
					want := p.Items[len(p.Items)-1]
					cp, err := db.Checkpoint(ctx, ref, want.ID)
					if err != nil && !backup.IsCode(err, backup.CodeCheckpointNotFound) {
						errc <- err
						return
					}
					if err == nil && (cp.ID != want.ID || !cp.Timestamp.Equal(want.Timestamp)) {
						errc <- fmt.Errorf("reader %d: checkpoint %s read as %s", r, want.ID.Hex(), cp.ID.Hex())
						return
					}
				}
			}
		})
	}
	readers.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
}

func TestReady(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "ready.db")
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err != nil {
		t.Fatalf("Ready on a fresh store: %v", err)
	}
	// Another process takes the newest migration back.
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	if err := db.Ready(ctx); err == nil {
		t.Error("Ready with a migration missing succeeded")
	}
	db.Close()
	if err := db.Ready(ctx); err == nil {
		t.Error("Ready on a closed store succeeded")
	}
}
