package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// fixture is a store on a fresh schema with one project and two legacy
// clusters, and a plain connection to the schema for SQL by hand.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	dsn  string
	db   *DB
	raw  *pgx.Conn
	ids  *backup.IDSource
	a, b backup.Cluster
	t0   time.Time
}

func newFixture(t *testing.T, opts ...Option) *fixture {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	dsn := pgtest.DSN(t)
	db, err := Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close(context.Background()) })
	t0 := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	f := &fixture{t: t, ctx: ctx, dsn: dsn, db: db, raw: raw, ids: backup.NewIDSourceFrom([5]byte{0x90, 0x57, 0, 0, 1}, 0), t0: t0}
	org := backup.Organization{ID: f.ids.New(t0), Name: "o", Created: t0}
	project := backup.Project{ID: f.ids.New(t0), OrgID: org.ID, Name: "p", Created: t0}
	f.must(db.CreateOrganization(ctx, org))
	f.must(db.CreateProject(ctx, project))
	for i, c := range []*backup.Cluster{&f.a, &f.b} {
		*c = backup.Cluster{ID: f.ids.New(t0), GroupID: project.ID, Name: fmt.Sprint("c", i), Type: backup.ReplicaSet,
			ReplicaSetName: fmt.Sprint("rs", i), MongoDBVersion: "4.2.0", Backup: backup.BackupLegacy, Created: t0}
		f.must(db.CreateCluster(ctx, *c))
	}
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) checkpoint(c backup.Cluster, ts time.Time) backup.Checkpoint {
	return backup.Checkpoint{ID: f.ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID, Started: ts.Add(-time.Minute),
		Timestamp: ts, Restorable: true, Parts: []backup.Part{{Type: backup.PartReplicaSet, ReplicaSetName: c.ReplicaSetName,
			TokenDiscovered: true, TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: 1}}}}
}

// epoch reads a cluster's epoch by hand.
func (f *fixture) epoch(c backup.Cluster) int64 {
	f.t.Helper()
	var e int64
	f.must(f.raw.QueryRow(f.ctx, `SELECT epoch FROM clusters WHERE id = $1`, c.ID.Hex()).Scan(&e))
	return e
}

// checkSeqs checks the numbering the listing rests on: a cluster's seqs
// are contiguous, and in (ts, id) order.
func (f *fixture) checkSeqs(what string, c backup.Cluster, want int) {
	f.t.Helper()
	rows, err := f.raw.Query(f.ctx, `SELECT k.seq, k.ts, k.id FROM checkpoints k JOIN clusters c ON c.pk = k.cluster
WHERE c.id = $1 ORDER BY k.seq`, c.ID.Hex())
	f.must(err)
	type row struct {
		Seq, TS int64
		ID      string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	f.must(err)
	if len(got) != want {
		f.t.Fatalf("%s: %d rows, want %d", what, len(got), want)
	}
	for i := 1; i < len(got); i++ {
		p, r := got[i-1], got[i]
		if r.Seq != p.Seq+1 {
			f.t.Fatalf("%s: seq %d follows %d", what, r.Seq, p.Seq)
		}
		if !shape.KeyLess(p.TS, p.ID, r.TS, r.ID) {
			f.t.Fatalf("%s: seq %d (%d, %s) is not after seq %d (%d, %s)", what, r.Seq, r.TS, r.ID, p.Seq, p.TS, p.ID)
		}
	}
}

// TestSeqInvariant drives random adds, batches and prunes and checks after
// each that the seqs are dense and ordered, and that a listing agrees.
func TestSeqInvariant(t *testing.T) {
	f := newFixture(t)
	rng := rand.New(rand.NewPCG(5, 6))
	n := 0
	for step := range 60 {
		switch op := rng.IntN(10); {
		case op < 5:
			f.must(f.db.AddCheckpoint(f.ctx, f.checkpoint(f.a, f.t0.Add(time.Duration(rng.IntN(10_000))*time.Minute))))
			n++
		case op < 8:
			batch := make([]backup.Checkpoint, 1+rng.IntN(20))
			for i := range batch {
				batch[i] = f.checkpoint(f.a, f.t0.Add(time.Duration(rng.IntN(10_000))*time.Minute))
			}
			if rng.IntN(2) == 0 {
				slices.SortFunc(batch, func(x, y backup.Checkpoint) int { return x.Timestamp.Compare(y.Timestamp) })
			}
			f.must(f.db.AddCheckpoints(f.ctx, batch))
			n += len(batch)
		default:
			pruned, err := f.db.PruneCheckpoints(f.ctx, f.a.ID, f.t0.Add(time.Duration(rng.IntN(3_000))*time.Minute))
			f.must(err)
			n -= pruned
		}
		f.checkSeqs(fmt.Sprint("step ", step), f.a, n)
		p, err := f.db.Checkpoints(f.ctx, backup.ClusterRef{GroupID: f.a.GroupID, ID: f.a.ID}, backup.PageRequest{Num: 1, Size: 1000, IncludeCount: true})
		f.must(err)
		if p.Total != n || len(p.Items) != n {
			t.Fatalf("step %d: listed %d of Total %d, want %d", step, len(p.Items), p.Total, n)
		}
	}
}

// TestEpoch checks which writes change a cluster's epoch: those that move
// or delete its stored checkpoints (once per statement), or change its
// identity, and not appends, inserts before the first, or idempotent
// re-adds. The epochs of other clusters stay.
func TestEpoch(t *testing.T) {
	f := newFixture(t)
	var cps []backup.Checkpoint
	for i := range 10 {
		cps = append(cps, f.checkpoint(f.a, f.t0.Add(time.Duration(10+i)*time.Hour)))
	}
	last, other := f.epoch(f.a), f.epoch(f.b)
	if last == 0 || last == other {
		t.Fatalf("epochs of new clusters: %d and %d", last, other)
	}
	step := func(what string, changes bool, write func() error) {
		t.Helper()
		f.must(write())
		now := f.epoch(f.a)
		if changes && now == last {
			t.Errorf("%s: the epoch stayed %d", what, now)
		}
		if !changes && now != last {
			t.Errorf("%s: the epoch moved from %d to %d", what, last, now)
		}
		if o := f.epoch(f.b); o != other {
			t.Errorf("%s: another cluster's epoch moved from %d to %d", what, other, o)
		}
		last = now
	}
	step("appending", false, func() error { return f.db.AddCheckpoints(f.ctx, cps) })
	step("appending one", false, func() error { return f.db.AddCheckpoint(f.ctx, f.checkpoint(f.a, f.t0.Add(30*time.Hour))) })
	step("re-adding", false, func() error { return f.db.AddCheckpoint(f.ctx, cps[3]) })
	step("inserting before the first", false, func() error { return f.db.AddCheckpoint(f.ctx, f.checkpoint(f.a, f.t0)) })
	step("inserting near the end", true, func() error {
		return f.db.AddCheckpoint(f.ctx, f.checkpoint(f.a, f.t0.Add(18*time.Hour+time.Minute)))
	})
	step("inserting near the start", true, func() error {
		return f.db.AddCheckpoint(f.ctx, f.checkpoint(f.a, f.t0.Add(11*time.Hour+time.Minute)))
	})
	step("pruning nothing", false, func() error { _, err := f.db.PruneCheckpoints(f.ctx, f.a.ID, f.t0); return err })
	step("pruning", true, func() error {
		_, err := f.db.PruneCheckpoints(f.ctx, f.a.ID, f.t0.Add(12*time.Hour))
		return err
	})
	step("an UPDATE by hand", true, func() error {
		_, err := f.raw.Exec(f.ctx, `UPDATE checkpoints SET restorable = false WHERE id = $1`, cps[5].ID.Hex())
		return err
	})
	step("an UPDATE by hand of no row", false, func() error {
		_, err := f.raw.Exec(f.ctx, `UPDATE checkpoints SET restorable = false WHERE id = 'none'`)
		return err
	})
	step("a DELETE by hand", true, func() error {
		_, err := f.raw.Exec(f.ctx, `DELETE FROM checkpoints WHERE id = $1`, cps[9].ID.Hex())
		return err
	})
	step("renaming the cluster", false, func() error {
		_, err := f.raw.Exec(f.ctx, `UPDATE clusters SET name = 'renamed' WHERE id = $1`, f.a.ID.Hex())
		return err
	})
	step("changing the cluster's id", true, func() error {
		_, err := f.raw.Exec(f.ctx, `UPDATE clusters SET id = $1 WHERE id = $2`, strings.Repeat("f", 24), f.a.ID.Hex())
		f.a.ID = backup.MustParseObjectID(strings.Repeat("f", 24))
		return err
	})
	step("a TRUNCATE by hand", true, func() error {
		_, err := f.raw.Exec(f.ctx, `TRUNCATE checkpoints`)
		other = f.epoch(f.b) // every cluster's changes
		return err
	})
}

// TestMigrationsDownUp rolls every migration back, checks that nothing of
// the schema is left but goose's table, and applies them again.
func TestMigrationsDownUp(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	dsn := pgtest.DSN(t)
	db, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, closeDB, err := newProvider(db.pool)
	if err != nil {
		t.Fatal(err)
	}
	defer closeDB()
	v, err := p.GetDBVersion(ctx)
	if err != nil || v != latestMigration || latestMigration != 15 {
		t.Fatalf("version %d (%v), want %d", v, err, latestMigration)
	}
	// The versions, in order: numbers are handed out ahead of time, so
	// the embedded files may skip some.
	versions := []int64{0}
	for _, m := range p.ListSources() {
		versions = append(versions, m.Version)
	}
	objects := func() []string {
		t.Helper()
		rows, err := db.pool.Query(ctx, `SELECT c.relkind::text || ' ' || c.relname FROM pg_class c
WHERE c.relnamespace = current_schema()::regnamespace AND c.relname NOT LIKE 'goose_db_version%'
UNION ALL SELECT 'f ' || proname FROM pg_proc WHERE pronamespace = current_schema()::regnamespace
ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	full := objects()
	for i := len(versions) - 2; i >= 0; i-- {
		want := versions[i]
		if _, err := p.Down(ctx); err != nil {
			t.Fatalf("down to %d: %v", want, err)
		}
		if v, err := p.GetDBVersion(ctx); err != nil || v != want {
			t.Fatalf("after a down: version %d (%v), want %d", v, err, want)
		}
		if err := db.Ready(ctx); err == nil {
			t.Fatalf("Ready at version %d", want)
		}
	}
	if left := objects(); len(left) != 0 {
		t.Fatalf("after every down: %v", left)
	}
	// Open applies them again.
	db2, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db2.Close()
	if err := db2.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if again := objects(); !slices.Equal(again, full) {
		t.Fatalf("after up again:\n%v\nwant\n%v", again, full)
	}
	var applied, distinct int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE is_applied), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).
		Scan(&applied, &distinct); err != nil {
		t.Fatal(err)
	}
	if distinct != len(versions)-1 {
		t.Fatalf("goose_db_version has %d versions for %d migrations", distinct, len(versions)-1)
	}
}

// TestOpenConcurrently opens several stores on one new schema at once, as
// servers starting together do: the migrations are applied once.
func TestOpenConcurrently(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	dsn := pgtest.DSN(t)
	errc := make(chan error, 4)
	dbs := make(chan *DB, 4)
	for range 4 {
		go func() {
			db, err := Open(ctx, dsn)
			errc <- err
			dbs <- db
		}()
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Error(err)
		}
		if db := <-dbs; db != nil {
			defer db.Close()
		}
	}
	raw, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close(ctx)
	var rows, distinct int
	if err := raw.QueryRow(ctx, `SELECT count(*), count(DISTINCT version_id) FROM goose_db_version WHERE version_id > 0`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	// One row per embedded migration (their numbers may skip some).
	files, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if rows != len(files) || distinct != len(files) {
		t.Fatalf("goose_db_version has %d rows (%d versions) for %d migrations", rows, distinct, len(files))
	}
}

// TestQueryPlans pins the plans the performance contract rests on, on a
// cluster of some thousands of checkpoints: a page, its bounds, the head
// statements and a single checkpoint are index scans, never a scan of the
// checkpoints table.
func TestQueryPlans(t *testing.T) {
	f := newFixture(t)
	var cps []backup.Checkpoint
	for i := range 5000 {
		cps = append(cps, f.checkpoint(f.a, f.t0.Add(time.Duration(i)*time.Minute)))
	}
	f.must(f.db.AddCheckpoints(f.ctx, cps))
	if _, err := f.raw.Exec(f.ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
	group, name, id := f.a.GroupID.Hex(), f.a.Name, f.a.ID.Hex()
	var pk, epoch int64
	f.must(f.raw.QueryRow(f.ctx, `SELECT pk, epoch FROM clusters WHERE id = $1`, id).Scan(&pk, &epoch))
	for _, q := range []struct {
		name  string
		sql   string
		args  []any
		index string // of checkpoints or checkpoint_blocks, which the plan must use
	}{
		{"page by name", pageByName, []any{group, name, int64(4000), int64(100)}, "checkpoints_pkey"},
		{"page by id", pageByID, []any{group, id, int64(0), int64(100)}, "checkpoints_pkey"},
		{"head with bounds", headBoundsByName, []any{group, name}, "checkpoints_pkey"},
		{"head", headByID, []any{group, id}, ""},
		{"blocks", blocksQuery, []any{pk, epoch, int64(20), int64(24)}, "checkpoint_blocks_pkey"},
		{"checkpoint", checkpointByName, []any{group, name, cps[2500].ID.Hex()}, "checkpoints_id_key"},
		{"newest restorable", newestRestorableQuery, nil, "checkpoints_restorable"},
	} {
		rows, err := f.raw.Query(f.ctx, `EXPLAIN `+q.sql, q.args...)
		f.must(err)
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		f.must(err)
		plan := strings.Join(lines, "\n")
		if strings.Contains(plan, "Seq Scan on checkpoint") || !strings.Contains(plan, q.index) {
			t.Errorf("%s:\n%s", q.name, plan)
		}
	}
}

// TestReady checks that Ready fails once the newest migration is rolled
// back by another process, and once the store is closed.
func TestReady(t *testing.T) {
	f := newFixture(t)
	if err := f.db.Ready(f.ctx); err != nil {
		t.Fatalf("Ready on a fresh store: %v", err)
	}
	if _, err := f.raw.Exec(f.ctx, `DELETE FROM goose_db_version WHERE version_id = (SELECT max(version_id) FROM goose_db_version)`); err != nil {
		t.Fatal(err)
	}
	if err := f.db.Ready(f.ctx); err == nil {
		t.Error("Ready with a migration missing succeeded")
	}
	f.db.Close()
	if err := f.db.Ready(f.ctx); err == nil {
		t.Error("Ready on a closed store succeeded")
	}
}
