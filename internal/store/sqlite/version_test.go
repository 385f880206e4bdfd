package sqlite

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestHeadCache: while nothing is written to the file, cached reads run
// no statement; any commit, through this handle, another one on the
// file or by hand through SQL, makes the next read ask the file, and
// that read sees the write.
func TestHeadCache(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "heads.db")
	open := func() *DB {
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db, other := open(), open()
	if db.wal == nil {
		t.Fatal("no WAL index: every read would run its statement")
	}
	ids := backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 9}, 0)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	org := backup.Organization{ID: ids.New(t0), Name: "o", Created: t0}
	project := backup.Project{ID: ids.New(t0), OrgID: org.ID, Name: "p", Created: t0}
	c := backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: "c", Type: backup.ReplicaSet, MongoDBVersion: "4.0.28",
		ReplicaSetName: "rs", Backup: backup.BackupLegacy, Created: t0}
	for _, err := range []error{db.CreateOrganization(ctx, org), db.CreateProject(ctx, project), db.CreateCluster(ctx, c)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	add := func(via *DB) backup.Checkpoint {
		n++
		ts := t0.Add(time.Duration(n) * time.Minute)
		cp := backup.Checkpoint{ID: ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID, Started: ts, Timestamp: ts}
		if err := via.AddCheckpoint(ctx, cp); err != nil {
			t.Fatal(err)
		}
		return cp
	}
	first := add(db)
	ref := backup.ClusterRef{GroupID: project.ID, Name: c.Name}
	byID := backup.ClusterRef{GroupID: project.ID, ID: c.ID}

	// read lists the first page and gets the first checkpoint by both
	// references, and returns the total and how many head statements ran.
	read := func(what string) (int, int64) {
		t.Helper()
		before := db.headReads.Load()
		total := -1
		for _, r := range []backup.ClusterRef{ref, byID} {
			p, err := db.Checkpoints(ctx, r, backup.PageRequest{Num: 1, Size: 10, IncludeCount: true})
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if total >= 0 && p.Total != total {
				t.Fatalf("%s: totals %d and %d by name and by id", what, total, p.Total)
			}
			total = p.Total
			if _, err := db.Checkpoint(ctx, r, first.ID); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		return total, db.headReads.Load() - before
	}
	read("warm-up") // fills the checkpoint cache
	read("warm-up") // then its head statement
	if total, stmts := read("unchanged"); total != 1 || stmts != 0 {
		t.Fatalf("unchanged file: total %d, %d head statements; want 1 and 0", total, stmts)
	}
	for _, w := range []struct {
		what  string
		write func()
	}{
		{"a write through this handle", func() { add(db) }},
		{"a write through another handle", func() { add(other) }},
		{"a write by hand to another table", func() {
			raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			if _, err := raw.Exec(`UPDATE projects SET name = 'q'`); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		_, was := read("before " + w.what)
		if was != 0 {
			t.Fatalf("before %s: %d head statements, want 0", w.what, was)
		}
		w.write()
		total, stmts := read("after " + w.what)
		if stmts != 4 { // lists and gets, by name and by id
			t.Fatalf("after %s: %d head statements, want 4", w.what, stmts)
		}
		if total != n {
			t.Fatalf("after %s: total %d, want %d", w.what, total, n)
		}
	}

	// A caller's access is checked on every read, cached or not.
	denied := backup.WithPrincipal(ctx, &backup.Principal{Kind: backup.APIKeyPrincipal, ID: "k", OrgID: ids.New(t0), Grants: []backup.Grant{{Role: backup.OrgReadOnly}}})
	for range 2 {
		if _, err := db.Checkpoints(denied, ref, backup.PageRequest{Num: 1, Size: 10}); err == nil {
			t.Fatal("a caller of another organization read the cached head")
		}
	}

	// The auth epoch is read once per version of the file too.
	e1, err := db.AuthEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e2, err := db.AuthEpoch(ctx); err != nil || e2 != e1 {
		t.Fatalf("auth epoch %d then %d, %v", e1, e2, err)
	}
	if err := other.CreateOrganization(ctx, backup.Organization{ID: ids.New(t0), Name: "o2", Created: t0}); err != nil {
		t.Fatal(err)
	}
	if e3, err := db.AuthEpoch(ctx); err != nil || e3 == e1 {
		t.Fatalf("auth epoch %d after a key was created elsewhere, was %d (%v)", e3, e1, err)
	}
}
