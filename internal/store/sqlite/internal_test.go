package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// TestPragmas checks that every connection of both pools got its DSN
// pragmas: the guarantees (durability, foreign keys, read-only readers)
// must not depend on which pooled connection a request lands on.
func TestPragmas(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
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
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, ids, project, t0 := mustOpenProject(t, "inv", 1)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var clusters []backup.Cluster
	for _, name := range []string{"a", "b"} {
		c := backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: name, Type: backup.ReplicaSet, MongoDBVersion: "4.0.28",
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
			if !shape.KeyLess(prevTS, prevID, ts, id) {
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
// read of checkpoints, of a scope's projects and of what authentication
// reads on every request is a SEARCH of an index, never a SCAN, and no
// page needs a sort.
func TestQueryPlans(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
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
		"headBoundsByName": headCols + headBounds + fromRefByName,
		"headBoundsByID":   headCols + headBounds + fromRefByID,
		"headByName":       headCols + fromRefByName,
		"headByID":         headCols + fromRefByID,
		"search":           `SELECT ts, id FROM checkpoints WHERE cluster = ? AND seq = ?`,
		"last":             `SELECT seq, ts, id FROM checkpoints WHERE cluster = ? ORDER BY seq DESC LIMIT 1`,
		"authEpoch":        authEpochQuery,
		"isRevoked":        isRevokedQuery,
		"apiKey":           `SELECT ` + shape.APIKeyCols + ` FROM api_keys WHERE public_key = ?`,
		"purgeRevoked":     `DELETE FROM revoked_tokens WHERE expires < ?`,
		"newestRestorable": newestRestorableQuery,
		"blocks":           blocksQuery,
		"deleteBlocks":     `DELETE FROM checkpoint_blocks WHERE block >= ?1 << 32 AND block < (?1 + 1) << 32`,
	}
	// Every form of a scoped project listing and its count: an index
	// range or seeks, and no sort.
	for name, scope := range map[string]store.Scope{
		"all": {All: true},
		"org": {OrgID: backup.MustParseObjectID("0123456789abcdef01234567"), OrgWide: true},
		"ids": {OrgID: backup.MustParseObjectID("0123456789abcdef01234567"), IDs: []backup.ObjectID{{1}, {2}}},
	} {
		where, _, _ := scopeFilter(scope)
		queries["projects/"+name] = `SELECT p.id, ` + projectCols + ` FROM projects p` + where + ` ORDER BY p.id LIMIT 10 OFFSET 0`
		if !scope.All {
			queries["countProjects/"+name] = `SELECT count(*) FROM projects p` + where
		}
	}
	for name, q := range queries {
		args := []any{"g", "c", "k"}
		if name == "blocks" {
			args = append(args, 1, 1)
		}
		rows, err := db.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
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
			// The scans allowed: of constant rows and subqueries, of the
			// caller's list of project ids, and of the projects table
			// for the unscoped listing, an OFFSET scan of few rows.
			scan := strings.HasPrefix(step, "SCAN ") && step != "SCAN CONSTANT ROW" && !strings.HasPrefix(step, "SCAN (subquery") &&
				!strings.HasPrefix(step, "SCAN json_each VIRTUAL TABLE") && (name != "projects/all" || step != "SCAN p") &&
				// every legacy cluster is read, once
				(name != "newestRestorable" || !strings.HasPrefix(step, "SCAN c "))
			if scan || strings.Contains(step, "TEMP B-TREE") {
				t.Errorf("%s: plan step %q\nfull plan: %q", name, step, plan)
			}
		}
		if name == "newestRestorable" && !strings.Contains(strings.Join(plan, "\n"), "INDEX checkpoints_restorable (cluster=?)") {
			t.Errorf("%s: no seek of checkpoints_restorable: %q", name, plan)
		}
		t.Logf("%s: %q", name, plan)
	}
}

// TestEpoch checks which writes change a cluster's epoch: those that
// delete or move stored checkpoints, and no others (see
// migrations/0002_cluster_epoch.sql).
func TestEpoch(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, ids, project, t0 := mustOpenProject(t, "epoch", 2)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var a, b backup.Cluster
	for i, c := range []*backup.Cluster{&a, &b} {
		*c = backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: string(rune('a' + i)), Type: backup.ReplicaSet, MongoDBVersion: "4.0.28",
			ReplicaSetName: "rs", Backup: backup.BackupLegacy, Created: t0}
		must(db.CreateCluster(ctx, *c))
	}
	epoch := func(c backup.Cluster) int64 {
		t.Helper()
		var e int64
		must(db.r.QueryRowContext(ctx, `SELECT epoch FROM clusters WHERE id = ?`, c.ID.Hex()).Scan(&e))
		return e
	}
	cp := func(c backup.Cluster, minutes int) backup.Checkpoint {
		ts := t0.Add(time.Duration(minutes) * time.Minute)
		return backup.Checkpoint{ID: ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID, Started: ts, Timestamp: ts}
	}
	last := epoch(a)
	if last != 0 || epoch(b) != 0 {
		t.Fatalf("new clusters have epochs %d, %d", last, epoch(b))
	}
	step := func(what string, changes bool, write func() error) {
		t.Helper()
		bBefore := epoch(b)
		must(write())
		now := epoch(a)
		if (now != last) != changes {
			t.Errorf("%s: epoch %d -> %d, want a change: %v", what, last, now, changes)
		}
		if epoch(b) != bBefore {
			t.Errorf("%s changed the other cluster's epoch", what)
		}
		last = now
	}
	first := cp(a, 100)
	step("an append to an empty cluster", false, func() error { return db.AddCheckpoint(ctx, first) })
	step("an append", false, func() error { return db.AddCheckpoint(ctx, cp(a, 200)) })
	step("a batch of appends", false, func() error {
		return db.AddCheckpoints(ctx, []backup.Checkpoint{cp(a, 300), cp(a, 400), cp(a, 500)})
	})
	step("an idempotent re-add", false, func() error { return db.AddCheckpoint(ctx, first) })
	step("an insert in the middle", true, func() error { return db.AddCheckpoint(ctx, cp(a, 250)) })
	step("an insert before the first", true, func() error { return db.AddCheckpoint(ctx, cp(a, 50)) })
	step("a batch with an insert in the middle", true, func() error {
		return db.AddCheckpoints(ctx, []backup.Checkpoint{cp(a, 600), cp(a, 350)})
	})
	step("a failed batch", false, func() error {
		dup := first
		dup.Restorable = true
		if err := db.AddCheckpoints(ctx, []backup.Checkpoint{cp(a, 10), dup}); !backup.IsCode(err, backup.CodeDuplicateCheckpoint) {
			return fmt.Errorf("conflicting batch: %v", err)
		}
		return nil
	})
	step("a prune that deletes nothing", false, func() error {
		_, err := db.PruneCheckpoints(ctx, a.ID, t0)
		return err
	})
	step("a prune", true, func() error {
		_, err := db.PruneCheckpoints(ctx, a.ID, t0.Add(150*time.Minute))
		return err
	})
	step("an update by hand", true, func() error {
		_, err := db.w.ExecContext(ctx, `UPDATE checkpoints SET restorable = 1
WHERE cluster = (SELECT pk FROM clusters WHERE id = ?1)
  AND seq = (SELECT max(seq) FROM checkpoints WHERE cluster = (SELECT pk FROM clusters WHERE id = ?1))`, a.ID.Hex())
		return err
	})
	step("a rename", false, func() error {
		_, err := db.w.ExecContext(ctx, `UPDATE clusters SET name = 'renamed' WHERE id = ?`, a.ID.Hex())
		return err
	})
	step("an update of the cluster's project", true, func() error {
		_, err := db.w.ExecContext(ctx, `UPDATE clusters SET group_id = group_id WHERE id = ?`, a.ID.Hex())
		return err
	})
	checkSeqs(t, db, 0)

	// b's pk changed by hand, then a cluster created under b's old pk:
	// neither may be at an epoch its pk had before.
	var pk int64
	must(db.r.QueryRowContext(ctx, `SELECT pk FROM clusters WHERE id = ?`, b.ID.Hex()).Scan(&pk))
	bEpoch := epoch(b)
	if _, err := db.w.ExecContext(ctx, `UPDATE clusters SET pk = 1000 WHERE pk = ?`, pk); err != nil {
		t.Fatal(err)
	}
	if epoch(b) <= bEpoch {
		t.Errorf("pk change: epoch %d -> %d", bEpoch, epoch(b))
	}
	c := backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: "c", Type: backup.ReplicaSet, MongoDBVersion: "4.0.28",
		ReplicaSetName: "rs", Backup: backup.BackupLegacy, Created: t0}
	must(db.CreateCluster(ctx, c))
	if _, err := db.w.ExecContext(ctx, `UPDATE clusters SET pk = ? WHERE id = ?`, pk, c.ID.Hex()); err != nil {
		t.Fatal(err)
	}
	if epoch(c) <= bEpoch {
		t.Errorf("a cluster moved to pk %d, where epoch %d was, has epoch %d", pk, bEpoch, epoch(c))
	}
}

// TestCachedPageSnapshot reads a cluster's seq bounds, then lets a newer
// reader cache a longer version of a partial page: the older reader still
// gets the page of its own snapshot, agreeing with its Total.
func TestCachedPageSnapshot(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, ids, project, t0 := mustOpenProject(t, "snap", 3)
	c := backup.Cluster{ID: ids.New(t0), GroupID: project.ID, Name: "c", Type: backup.ReplicaSet, MongoDBVersion: "4.0.28",
		ReplicaSetName: "rs", Backup: backup.BackupLegacy, Created: t0}
	add := func(i int) {
		ts := t0.Add(time.Duration(i) * time.Minute)
		if err := db.AddCheckpoint(ctx, backup.Checkpoint{ID: ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID, Started: ts, Timestamp: ts}); err != nil {
			t.Fatal(err)
		}
	}
	for _, err := range []error{db.CreateCluster(ctx, c)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	ref := backup.ClusterRef{GroupID: project.ID, Name: c.Name}
	for i := range 5 {
		add(i)
	}
	old, err := db.head(ctx, db.headBoundsByName, db.headBoundsByID, ref, true)
	if err != nil {
		t.Fatal(err)
	}
	add(5)
	p, err := db.Checkpoints(ctx, ref, backup.PageRequest{Num: 2, Size: 4, IncludeCount: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 2 || p.Total != 6 {
		t.Fatalf("new reader: %d items, Total %d", len(p.Items), p.Total)
	}
	second := backup.PageRequest{Num: 2, Size: 4, IncludeCount: true}
	got, ok := db.pages.Page(old.pk, old.epoch, old.first, old.last, 4, second)
	if !ok || len(got.Items) != 1 || got.Items[0].ID != p.Items[0].ID || got.Total != 5 {
		t.Fatalf("old reader (5 checkpoints) got %d items, Total %d, %v", len(got.Items), got.Total, ok)
	}
	if got.Version == 0 {
		t.Fatal("a page served from the cache has no version")
	}
	// A reader newer than the entry misses instead.
	add(6)
	now, err := db.head(ctx, db.headBoundsByName, db.headBoundsByID, ref, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := db.pages.Page(now.pk, now.epoch, now.first, now.last, 4, second); ok {
		t.Fatal("a page shorter than the snapshot's was served")
	}
}

// TestMigrationDown applies the migrations one at a time, then rolls them
// back one at a time from the newest: each Down must leave exactly the
// schema its Up found (tables with their columns, indexes, triggers), and
// the older schema must still take writes (a trigger left behind on a
// table that stays would fail them). Then everything goes up again.
func TestMigrationDown(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "down.db")
	raw, err := sql.Open("sqlite", dsn(path, writerPragmas, ""))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	raw.SetMaxOpenConns(1)
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	schema := func() string {
		t.Helper()
		rows, err := raw.QueryContext(ctx, `SELECT s.type, s.name, coalesce(group_concat(c.name, ','), '')
FROM sqlite_schema s LEFT JOIN pragma_table_info(s.name) c
WHERE s.name NOT LIKE 'sqlite_%' AND s.tbl_name <> 'goose_db_version'
GROUP BY s.type, s.name ORDER BY s.type, s.name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var typ, name, cols string
			if err := rows.Scan(&typ, &name, &cols); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s(%s)\n", typ, name, cols)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	// What each version must add, beyond the schema before it.
	adds := map[int64][]string{
		1: {"table organizations(", "table projects(", "table clusters(", "table checkpoints(", "index projects_org("},
		2: {",created,epoch)", "table retired_clusters(", "trigger checkpoints_delete_epoch(", "trigger clusters_reuse("},
		3: {"table api_keys(", "table service_accounts(", "table service_account_secrets(", "table revoked_tokens(",
			"table shared_secrets(", "table auth_epoch(", "trigger organizations_insert_auth(",
			"trigger revoked_tokens_delete_auth(", "index revoked_tokens_expires(", "index api_keys_org("},
		4:  {"table slot_claims(", "index slot_claims_expires("},
		5:  {",ckpt_driver,ckpt_interval_min,pit_window_hours)", "index clusters_scheduled("},
		6:  {"index checkpoints_restorable("},
		7:  {",backup_status,snapshot_schedule)"},
		8:  {"index projects_name("},
		9:  {"table restore_jobs(", "index restore_jobs_cluster(", "index restore_jobs_batch("},
		10: {"index restore_jobs_due(", "index restore_jobs_open("},
		11: {"table instances("},
		12: {"table digest_nonces(", "index digest_nonces_expires("},
		13: {"table slots(", "index slots_outcome(", "index slots_checkpoint("},
		14: {",rpo_min)"},
		15: {"table checkpoint_blocks(", ",blocks_epoch,blocks_first,blocks_last)"},
	}
	// The versions, in order: numbers are handed out ahead of time, so
	// the embedded files may skip some.
	var versions []int64
	for _, m := range p.ListSources() {
		versions = append(versions, m.Version)
	}
	if len(adds) != len(versions) || versions[len(versions)-1] != latestMigration {
		t.Fatalf("the test knows %d migrations, the package has %d (%v)", len(adds), len(versions), versions)
	}
	before := []string{schema()} // before[i] is the schema before versions[i]
	for i, v := range versions {
		if _, err := p.UpTo(ctx, v); err != nil {
			t.Fatalf("up to %d: %v", v, err)
		}
		now := schema()
		if adds[v] == nil {
			t.Errorf("the test does not know what version %d adds", v)
		}
		for _, want := range adds[v] {
			if strings.Contains(before[i], want) || !strings.Contains(now, want) {
				t.Errorf("version %d did not add %q", v, want)
			}
		}
		before = append(before, now)
	}
	ids := backup.NewIDSourceFrom([5]byte{5, 5, 5, 5, 5}, 0)
	for i := len(versions) - 1; i >= 0; i-- {
		v := versions[i]
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("down from %d: %v", v, err)
		}
		if got := schema(); got != before[i] {
			t.Fatalf("down from %d left\n%s\nwant\n%s", v, got, before[i])
		}
		if i > 0 {
			// The remaining schema takes writes.
			if _, err := raw.ExecContext(ctx, `INSERT INTO organizations (id, name, created) VALUES (?, 'o', 0)`, ids.New(time.Now()).Hex()); err != nil {
				t.Fatalf("write after down from %d: %v", v, err)
			}
		}
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if got := schema(); got != before[len(versions)] {
		t.Fatalf("up again:\n%s\nwant\n%s", got, before[len(versions)])
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AuthEpoch(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestUpgrade opens a file written before the epoch migration: its
// clusters start at epoch 0 and the cache works on them at once.
func TestUpgrade(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "v1.db")
	raw, err := sql.Open("sqlite", dsn(path, writerPragmas, ""))
	if err != nil {
		t.Fatal(err)
	}
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 1); err != nil {
		t.Fatal(err)
	}
	ids := backup.NewIDSourceFrom([5]byte{4, 4, 4, 4, 4}, 0)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	org, project, cluster := ids.New(t0), ids.New(t0), ids.New(t0)
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO organizations VALUES (?, 'o', 0)`, []any{org.Hex()}},
		{`INSERT INTO projects VALUES (?, ?, 'p', 0)`, []any{project.Hex(), org.Hex()}},
		{`INSERT INTO clusters (id, group_id, name, type, mongodb_version, backup, replica_set_name, shards, config, created)
VALUES (?, ?, 'c', 'REPLICA_SET', '4.2.0', 'LEGACY', 'rs', '[]', '{}', 0)`, []any{cluster.Hex(), project.Hex()}},
	}
	var cps []backup.ObjectID
	for i := range 5 {
		ts := t0.Add(time.Duration(i) * time.Hour)
		id := ids.New(ts)
		cps = append(cps, id)
		stmts = append(stmts, struct {
			q    string
			args []any
		}{`INSERT INTO checkpoints VALUES (1, ?, ?, ?, NULL, ?, 1, ?)`, []any{i + 1, id.Hex(), ts.Unix(), ts.Unix(), codec.AppendParts(nil, nil)}})
	}
	for _, s := range stmts {
		if _, err := raw.ExecContext(ctx, s.q, s.args...); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ref := backup.ClusterRef{GroupID: project, ID: cluster}
	read := func() []backup.Checkpoint {
		t.Helper()
		pg, err := db.Checkpoints(ctx, ref, backup.PageRequest{Num: 1, Size: 3, IncludeCount: true})
		if err != nil {
			t.Fatal(err)
		}
		return pg.Items
	}
	if got := read(); len(got) != 3 || got[0].ID != cps[0] {
		t.Fatalf("after upgrade: %d items", len(got))
	}
	if again := read(); &again[0] != &read()[0] {
		t.Fatal("not cached after upgrade")
	}
	if _, err := db.PruneCheckpoints(ctx, cluster, t0.Add(90*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got := read(); got[0].ID != cps[2] {
		t.Fatalf("after prune: first is %s, want %s", got[0].ID.Hex(), cps[2].Hex())
	}
}

// mustOpenProject opens a store in a temporary directory holding one
// organization and one project, with a deterministic id source and the
// instant t0 the tests count from. The store closes with the test.
func mustOpenProject(t *testing.T, name string, seed byte) (*DB, *backup.IDSource, backup.Project, time.Time) {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := Open(ctx, filepath.Join(t.TempDir(), name+".db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ids := backup.NewIDSourceFrom([5]byte{seed, seed, seed, seed, seed}, 0)
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	org := backup.Organization{ID: ids.New(t0), Name: "o", Created: t0}
	project := backup.Project{ID: ids.New(t0), OrgID: org.ID, Name: "p", Created: t0}
	if err := db.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateProject(ctx, project); err != nil {
		t.Fatal(err)
	}
	return db, ids, project, t0
}
