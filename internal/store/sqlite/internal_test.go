package sqlite

import (
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestPragmas checks that every connection of both pools got its DSN
// pragmas: the guarantees (durability, foreign keys, read-only readers)
// must not depend on which pooled connection a request lands on.
func TestPragmas(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conns := map[string]struct {
		n     int
		wants map[string]string
	}{
		"writer": {1, map[string]string{"journal_mode": "wal", "synchronous": "2", "foreign_keys": "1", "busy_timeout": "5000", "query_only": "0"}},
		"reader": {readerConns, map[string]string{"journal_mode": "wal", "foreign_keys": "1", "busy_timeout": "5000", "query_only": "1"}},
	}
	for name, c := range conns {
		pool := db.w
		if name == "reader" {
			pool = db.r
		}
		// Hold every connection of the pool at once, so each is checked.
		var held []func() error
		for range c.n {
			conn, err := pool.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			held = append(held, conn.Close)
			for pragma, want := range c.wants {
				var got string
				if err := conn.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil {
					t.Fatalf("%s PRAGMA %s: %v", name, pragma, err)
				}
				if got != want {
					t.Errorf("%s: PRAGMA %s = %s, want %s", name, pragma, got, want)
				}
			}
		}
		for _, release := range held {
			release()
		}
	}
}

// TestSeqInvariant drives random adds, batches and prunes and checks after
// each that every cluster's seqs are contiguous and in (ts, id) order: the
// invariant that makes a page one range read.
func TestSeqInvariant(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "inv.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ids := backup.NewIDSourceFrom([5]byte{1, 1, 1, 1, 1}, 0)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	org := backup.Organization{ID: ids.New(t0), Name: "o", Created: t0}
	project := backup.Project{ID: ids.New(t0), OrgID: org.ID, Name: "p", Created: t0}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateOrganization(ctx, org))
	must(db.CreateProject(ctx, project))
	var clusters []backup.Cluster
	for _, name := range []string{"a", "b"} {
		c := backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: name, Type: backup.ReplicaSet,
			ReplicaSetName: name, Backup: backup.BackupLegacy, Created: t0}
		must(db.CreateCluster(ctx, c))
		clusters = append(clusters, c)
	}
	rng := rand.New(rand.NewPCG(7, 8))
	newCP := func(c backup.Cluster) backup.Checkpoint {
		ts := t0.Add(time.Duration(rng.IntN(500)) * time.Minute)
		return backup.Checkpoint{ID: ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID, Started: ts, Timestamp: ts}
	}
	for step := range 300 {
		c := clusters[rng.IntN(len(clusters))]
		switch r := rng.IntN(20); {
		case r == 0:
			_, err := db.PruneCheckpoints(ctx, c.ID, t0.Add(time.Duration(rng.IntN(200))*time.Minute))
			must(err)
		case r < 3:
			batch := make([]backup.Checkpoint, 1+rng.IntN(10))
			for i := range batch {
				batch[i] = newCP(c)
			}
			must(db.AddCheckpoints(ctx, batch))
		default:
			must(db.AddCheckpoint(ctx, newCP(c)))
		}
		checkSeqs(t, db, step)
	}
}

func checkSeqs(t *testing.T, db *DB, step int) {
	t.Helper()
	rows, err := db.r.Query(`SELECT cluster, seq, ts, id FROM checkpoints ORDER BY cluster, seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var prevCluster, prevSeq, prevTS int64 = -1, 0, 0
	var prevID string
	for rows.Next() {
		var cluster, seq, ts int64
		var id string
		if err := rows.Scan(&cluster, &seq, &ts, &id); err != nil {
			t.Fatal(err)
		}
		if seq < 1 {
			t.Fatalf("step %d: cluster %d has seq %d", step, cluster, seq)
		}
		if cluster == prevCluster {
			if seq != prevSeq+1 {
				t.Fatalf("step %d: cluster %d seq %d follows %d", step, cluster, seq, prevSeq)
			}
			if !keyLess(prevTS, prevID, ts, id) {
				t.Fatalf("step %d: cluster %d seq %d (%d %s) not after (%d %s)", step, cluster, seq, ts, id, prevTS, prevID)
			}
		}
		prevCluster, prevSeq, prevTS, prevID = cluster, seq, ts, id
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestQueryPlans pins the plans the performance contract rests on: every
// read of checkpoints is a SEARCH of an index, never a SCAN, and no page
// needs a sort.
func TestQueryPlans(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	queries := map[string]string{
		"resolveByName":    resolveCols + seqBounds + fromRefByName,
		"resolveByID":      resolveCols + seqBounds + fromRefByID,
		"page":             `SELECT id, ` + checkpointCols + ` FROM checkpoints WHERE cluster = ?1 AND seq >= ?2 AND seq < ?3 ORDER BY seq`,
		"checkpointByName": resolveCols + `, k.started` + fromRefByName + joinCheckpoint,
		"checkpointByID":   resolveCols + `, k.started` + fromRefByID + joinCheckpoint,
		"search":           `SELECT ts, id FROM checkpoints WHERE cluster = ? AND seq = ?`,
		"last":             `SELECT seq, ts, id FROM checkpoints WHERE cluster = ? ORDER BY seq DESC LIMIT 1`,
	}
	for name, q := range queries {
		rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, "g", "c", "k")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		for _, step := range plan {
			if (strings.HasPrefix(step, "SCAN ") && step != "SCAN CONSTANT ROW" && !strings.HasPrefix(step, "SCAN (subquery")) ||
				strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%s: plan step %q\nfull plan: %q", name, step, plan)
			}
		}
		t.Logf("%s: %q", name, plan)
	}
}
