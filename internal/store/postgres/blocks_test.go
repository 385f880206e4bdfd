package postgres

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// blocksFixture is a store with its caches off, so that every page is
// read from blocks or rows, with one cluster whose checkpoints vary in
// every field the block form keeps (the SQLite store's test's).
type blocksFixture struct {
	t       *testing.T
	ctx     context.Context
	db      *DB
	dsn     string
	raw     *pgx.Conn
	ids     *backup.IDSource
	rng     *rand.Rand
	cluster backup.Cluster
	ref     backup.ClusterRef
	t0      time.Time
	next    time.Duration // the next appended checkpoint's offset from t0
	mu      sync.Mutex    // guards ids and rng for concurrent writers
}

func newBlocksFixture(t *testing.T) *blocksFixture {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	dsn := pgtest.DSN(t)
	f := &blocksFixture{t: t, ctx: ctx, dsn: dsn, ids: backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 9}, 0),
		rng: rand.New(rand.NewPCG(11, 12)), t0: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	f.db = f.open()
	t.Cleanup(func() { f.db.Close() })
	raw, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	f.raw = raw
	t.Cleanup(func() { raw.Close(context.Background()) })
	org := backup.Organization{ID: f.ids.New(f.t0), Name: "o", Created: f.t0}
	project := backup.Project{ID: f.ids.New(f.t0), OrgID: org.ID, Name: "p", Created: f.t0}
	f.cluster = backup.Cluster{ID: f.ids.New(f.t0), GroupID: project.ID, Name: "c", Type: backup.ReplicaSet, MongoDBVersion: "4.0.28",
		ReplicaSetName: "rs", Backup: backup.BackupLegacy, Created: f.t0}
	for _, err := range []error{f.db.CreateOrganization(ctx, org), f.db.CreateProject(ctx, project), f.db.CreateCluster(ctx, f.cluster)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.ref = backup.ClusterRef{GroupID: project.ID, Name: f.cluster.Name}
	return f
}

// open opens another store on the fixture's schema, caches off.
func (f *blocksFixture) open() *DB {
	f.t.Helper()
	db, err := Open(f.ctx, f.dsn, WithCacheSize(0, 0))
	if err != nil {
		f.t.Fatal(err)
	}
	return db
}

// reopen closes the fixture's store and opens it again (Open rebuilds
// stale blocks).
func (f *blocksFixture) reopen() {
	f.t.Helper()
	f.db.Close()
	f.db = f.open()
}

// checkpoint makes a checkpoint at t0+at with random content.
func (f *blocksFixture) checkpoint(at time.Duration) backup.Checkpoint {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.rng
	ts := f.t0.Add(at)
	cp := backup.Checkpoint{ID: f.ids.New(ts), ClusterID: f.cluster.ID, GroupID: f.cluster.GroupID,
		Started: ts.Add(-time.Duration(r.IntN(300)) * time.Second), Timestamp: ts, Restorable: r.IntN(4) != 0}
	if r.IntN(5) != 0 {
		cp.Completed = ts.Add(time.Duration(r.IntN(600)-100) * time.Second)
	}
	types := []backup.PartType{backup.PartReplicaSet, backup.PartConfigServer, backup.PartConfigReplicaSet, "SOMETHING_NEW"}
	for i := range r.IntN(5) {
		p := backup.Part{Type: types[r.IntN(len(types))], ReplicaSetName: fmt.Sprintf("rs-%d", i), TokenDiscovered: r.IntN(6) != 0,
			TokenTimestamp: backup.BSONTimestamp{Date: ts.Add(time.Duration(r.IntN(20)-5) * time.Second), Increment: uint32(r.Uint64())}}
		if r.IntN(3) != 0 {
			p.ShardName = fmt.Sprintf("shard-%d", i)
		}
		if r.IntN(4) == 0 {
			p.HostID = fmt.Sprintf("host-%d:27017", r.IntN(3))
		}
		if r.IntN(10) == 0 {
			p.TokenTimestamp = backup.BSONTimestamp{} // never discovered, never dated
		}
		cp.Parts = append(cp.Parts, p)
	}
	return cp
}

// appendN adds n checkpoints after every stored one, in batches of up to
// batch.
func (f *blocksFixture) appendN(n, batch int) {
	f.t.Helper()
	var cps []backup.Checkpoint
	for range n {
		f.next += 15 * time.Minute
		cps = append(cps, f.checkpoint(f.next))
		if len(cps) == batch {
			f.add(cps...)
			cps = nil
		}
	}
	f.add(cps...)
}

func (f *blocksFixture) add(cps ...backup.Checkpoint) {
	f.t.Helper()
	if len(cps) == 0 {
		return
	}
	if err := f.db.AddCheckpoints(f.ctx, cps); err != nil {
		f.t.Fatal(err)
	}
}

// exec runs SQL on the schema through a connection of its own, as
// another process or a repair by hand would.
func (f *blocksFixture) exec(q string, args ...any) {
	f.t.Helper()
	if _, err := f.raw.Exec(f.ctx, q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

// int reads one number by SQL.
func (f *blocksFixture) int(q string, args ...any) int64 {
	f.t.Helper()
	var n pgtype.Int8
	if err := f.raw.QueryRow(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n.Int64
}

// check reads every page of 100, pages of random sizes and numbers, and
// the first and last pages, through Checkpoints and CheckpointsSeq of db
// and from the rows, and wants them equal. It returns how many of them
// Checkpoints answered from blocks.
func (f *blocksFixture) check(db *DB, step string) (fromBlocks, pages int64) {
	f.t.Helper()
	total := f.int(`SELECT count(*) FROM checkpoints`)
	before := db.blockStats.reads.Load()
	reqs := []backup.PageRequest{{Num: 1, Size: 500, IncludeCount: true}}
	for i := range total/100 + 1 {
		reqs = append(reqs, backup.PageRequest{Num: int(i) + 1, Size: 100})
	}
	for range 40 {
		size := 1 + f.rng.IntN(250)
		if f.rng.IntN(3) == 0 {
			size = []int{1, 99, 100, 101, 200, 500}[f.rng.IntN(6)]
		}
		last := max(1, int((total+int64(size)-1)/int64(size)))
		reqs = append(reqs, backup.PageRequest{Num: 1 + f.rng.IntN(last+1), Size: size, IncludeCount: f.rng.IntN(2) == 0})
	}
	for _, req := range reqs {
		got, err := db.Checkpoints(f.ctx, f.ref, req)
		if err != nil {
			f.t.Fatalf("%s: page %d of %d: %v", step, req.Num, req.Size, err)
		}
		offset, _ := pageOffset(req)
		want, err := db.readPage(f.ctx, f.ref, req, offset)
		if err != nil {
			f.t.Fatalf("%s: page %d of %d from the rows: %v", step, req.Num, req.Size, err)
		}
		if !reflect.DeepEqual(got, want) {
			f.t.Fatalf("%s: page %d of %d: %d items, total %d; from the rows %d items, total %d\n%+v\n%+v",
				step, req.Num, req.Size, len(got.Items), got.Total, len(want.Items), want.Total, got.Items, want.Items)
		}
		// The same page as a sequence, twice: the same checkpoints.
		r0 := db.blockStats.reads.Load()
		sp, n, seq, err := db.CheckpointsSeq(f.ctx, f.ref, req)
		fromBlocks := db.blockStats.reads.Load() - r0
		db.blockStats.reads.Add(-fromBlocks) // counted once, by Checkpoints
		if err != nil {
			f.t.Fatalf("%s: page %d of %d as a sequence: %v", step, req.Num, req.Size, err)
		}
		if seq != nil {
			for range 2 {
				sp.Items = []backup.Checkpoint{}
				for cp := range seq {
					c := *cp
					c.Parts = nil
					if len(cp.Parts) > 0 {
						c.Parts = append([]backup.Part(nil), cp.Parts...)
					}
					sp.Items = append(sp.Items, c)
				}
				if n != len(sp.Items) || !reflect.DeepEqual(sp, want) {
					f.t.Fatalf("%s: page %d of %d as a sequence of %d: %d items, total %d\n%+v\n%+v",
						step, req.Num, req.Size, n, len(sp.Items), sp.Total, sp.Items, want.Items)
				}
			}
		} else if !reflect.DeepEqual(sp, want) || n != len(want.Items) {
			f.t.Fatalf("%s: page %d of %d (not a sequence): %d items (n %d), total %d", step, req.Num, req.Size, len(sp.Items), n, sp.Total)
		} else if db.pages == nil && fromBlocks > 0 {
			// With the caches off, a page the blocks hold comes as a
			// sequence.
			f.t.Fatalf("%s: page %d of %d: not a sequence", step, req.Num, req.Size)
		}
		if len(got.Items) > 0 {
			pages++
		}
	}
	return db.blockStats.reads.Load() - before, pages
}

// mustUseBlocks checks, and wants every non-empty page from blocks.
func (f *blocksFixture) mustUseBlocks(step string) {
	f.t.Helper()
	if n, pages := f.check(f.db, step); n != pages {
		f.t.Errorf("%s: %d of %d pages read from blocks, want all", step, n, pages)
	}
}

// mustUseRows checks, and wants no page from blocks.
func (f *blocksFixture) mustUseRows(step string) {
	f.t.Helper()
	if n, _ := f.check(f.db, step); n != 0 {
		f.t.Errorf("%s: %d pages read from blocks, want none", step, n)
	}
}

// TestBlocksMatchRows drives the store's own writes (appends one at a
// time and in batches, out-of-order inserts that shift seqs either way,
// inserts before the first that take seqs below 1, prunes, the prune of
// every checkpoint, deleting the cluster) and wants every page the same
// from blocks as from the rows, and read from blocks.
func TestBlocksMatchRows(t *testing.T) {
	f := newBlocksFixture(t)
	f.mustUseBlocks("empty")
	f.appendN(1, 1)
	f.mustUseBlocks("one")
	f.appendN(250, 1000)
	f.mustUseBlocks("batch")
	for range 30 {
		f.appendN(1, 1)
	}
	f.mustUseBlocks("appends")
	f.appendN(777, 100)
	f.mustUseBlocks("batches")

	// Out of order: near the end (the later rows shift up), near the
	// start (the earlier rows shift down, below seq 1), before the first
	// (seq 0 and less), and a batch mixing them with appends.
	f.add(f.checkpoint(f.next - 20*time.Hour - time.Minute))
	f.mustUseBlocks("insert near the end")
	f.add(f.checkpoint(20*time.Hour + time.Minute))
	f.mustUseBlocks("insert near the start")
	for range 3 {
		f.add(f.checkpoint(-time.Hour - time.Duration(f.rng.IntN(100))*time.Minute))
	}
	f.mustUseBlocks("inserts before the first")
	if first := f.int(`SELECT min(seq) FROM checkpoints`); first > 0 {
		t.Fatalf("first seq %d: the test wants seqs below 1", first)
	}
	for range 3 {
		var mixed []backup.Checkpoint
		for range 20 {
			mixed = append(mixed, f.checkpoint(time.Duration(f.rng.Int64N(int64(f.next)))-time.Hour))
		}
		f.next += time.Hour
		mixed = append(mixed, f.checkpoint(f.next))
		f.add(mixed...)
		f.mustUseBlocks("mixed batch")
	}

	// Prunes: within a block, to a block's edge, then everything.
	for _, cut := range []time.Duration{-time.Hour, time.Minute, 20 * time.Hour, 60 * time.Hour, 61 * time.Hour} {
		if _, err := f.db.PruneCheckpoints(f.ctx, f.cluster.ID, f.t0.Add(cut)); err != nil {
			t.Fatal(err)
		}
		f.mustUseBlocks(fmt.Sprintf("prune before %s", cut))
	}
	// To the edge of a block: the first seq of one, whose checkpoint's
	// time is the cut.
	edge := blockBase(blockOf(f.int(`SELECT min(seq) FROM checkpoints`)) + 2)
	ts := f.int(`SELECT ts FROM checkpoints WHERE seq = $1`, edge)
	if _, err := f.db.PruneCheckpoints(f.ctx, f.cluster.ID, time.Unix(ts, 0)); err != nil {
		t.Fatal(err)
	}
	f.mustUseBlocks("prune of whole blocks")
	if first := f.int(`SELECT min(seq) FROM checkpoints`); first != edge {
		t.Errorf("first seq %d after a prune to the edge of a block, want %d", first, edge)
	}
	if n := f.int(`SELECT count(*) FROM checkpoint_blocks WHERE block < $1`, blockOf(edge)); n != 0 {
		t.Errorf("%d blocks before the first seq's", n)
	}
	f.appendN(150, 7)
	f.mustUseBlocks("appends after prunes")
	if _, err := f.db.PruneCheckpoints(f.ctx, f.cluster.ID, f.t0.Add(f.next+time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.mustUseBlocks("everything pruned")
	if n := f.int(`SELECT count(*) FROM checkpoint_blocks`); n != 0 {
		t.Errorf("%d blocks after every checkpoint was pruned", n)
	}
	f.appendN(120, 50)
	f.mustUseBlocks("appends after pruning everything")

	if err := f.db.DeleteCluster(f.ctx, f.ref); err != nil {
		t.Fatal(err)
	}
	if n := f.int(`SELECT count(*) FROM checkpoint_blocks`); n != 0 {
		t.Errorf("%d blocks after the cluster was deleted", n)
	}
}

// TestBlocksAfterRawEdits edits checkpoint rows by SQL without touching
// blocks, as a repair by hand or an older checkpointd would: pages stay
// right, read from the rows where blocks no longer hold them, and the
// store's next write, or its next Open, has them read from blocks again.
func TestBlocksAfterRawEdits(t *testing.T) {
	f := newBlocksFixture(t)
	f.appendN(1000, 300)
	f.mustUseBlocks("seeded")

	edits := []struct {
		name string
		sql  string
		// rebuild by a write of the store (true) or by Open (false)
		byWrite bool
	}{
		{"update", `UPDATE checkpoints SET restorable = NOT restorable WHERE seq % 7 = 3`, true},
		{"delete", `DELETE FROM checkpoints WHERE seq > (SELECT max(seq) - 5 FROM checkpoints)`, false},
		{"update by hand", `UPDATE checkpoints SET started = started - 1 WHERE seq = (SELECT min(seq) + 150 FROM checkpoints)`, false},
		{"shift by hand", `UPDATE checkpoints SET seq = seq + 1000`, true},
	}
	for _, e := range edits {
		f.exec(e.sql)
		f.mustUseRows(e.name)
		if e.byWrite {
			f.appendN(1, 1)
		} else {
			f.reopen()
		}
		f.mustUseBlocks(e.name + ", then rebuilt")
	}

	// Rows inserted beyond the blocks, after the last and before the
	// first: pages within the blocks still come from them, pages
	// reaching the new rows from the rows.
	first, last := f.int(`SELECT min(seq) FROM checkpoints`), f.int(`SELECT max(seq) FROM checkpoints`)
	f.next += time.Hour
	extra := f.checkpoint(f.next)
	f.exec(`INSERT INTO checkpoints (cluster, seq, id, started, completed, ts, restorable, parts)
SELECT cluster, seq + 1, $1, started, completed, $2, restorable, parts FROM checkpoints WHERE seq = $3`, extra.ID.Hex(), extra.Timestamp.Unix(), last)
	n, pages := f.check(f.db, "raw append")
	if n == 0 || n == pages {
		t.Errorf("raw append: %d of %d pages from blocks, want some but not all", n, pages)
	}
	lastPage := backup.PageRequest{Num: int((last-first)/100) + 1, Size: 100}
	before := f.db.blockStats.reads.Load()
	if p, err := f.db.Checkpoints(f.ctx, f.ref, lastPage); err != nil || p.Items[len(p.Items)-1].ID != extra.ID {
		t.Fatalf("last page after a raw append: %v", err)
	}
	if f.db.blockStats.reads.Load() != before {
		t.Error("the page holding a row appended by hand was read from blocks")
	}
	f.appendN(3, 3)
	f.mustUseBlocks("raw append, then a write")

	older := f.checkpoint(-time.Hour)
	f.exec(`INSERT INTO checkpoints (cluster, seq, id, started, completed, ts, restorable, parts)
SELECT cluster, seq - 1, $1, started, completed, $2, restorable, parts FROM checkpoints WHERE seq = $3`, older.ID.Hex(), older.Timestamp.Unix(), first)
	n, pages = f.check(f.db, "raw insert before the first")
	if n == 0 || n == pages {
		t.Errorf("raw insert before the first: %d of %d pages from blocks, want some but not all", n, pages)
	}
	f.appendN(1, 1)
	f.mustUseBlocks("raw insert before the first, then a write")

	// A damaged block: its pages come from the rows; the rest from blocks.
	damageBefore := f.db.blockStats.damaged.Load()
	f.exec(`UPDATE checkpoint_blocks SET body = substring(body FROM 1 FOR length(body) / 2) WHERE block = (SELECT min(block) + 2 FROM checkpoint_blocks)`)
	n, pages = f.check(f.db, "damaged block")
	if n == 0 || n == pages || f.db.blockStats.damaged.Load() == damageBefore {
		t.Errorf("damaged block: %d of %d pages from blocks, %d damaged blocks met", n, pages, f.db.blockStats.damaged.Load()-damageBefore)
	}
}

// TestBlocksUpgrade opens a schema whose clusters have checkpoints but no
// blocks, as one written before blocks existed: Open builds them.
func TestBlocksUpgrade(t *testing.T) {
	f := newBlocksFixture(t)
	f.appendN(640, 200)
	f.exec(`DELETE FROM checkpoint_blocks`)
	f.exec(`UPDATE clusters SET blocks_epoch = NULL, blocks_first = 1, blocks_last = 0`)
	f.mustUseRows("no blocks")
	f.reopen()
	f.mustUseBlocks("reopened")
}

// TestBlockClaimingNextSeqs writes, by SQL, a first block that is well
// formed but holds half of its own seqs and half of the next block's,
// and wants a page over both blocks read from the rows: each block
// answers only for its own seqs, so the neighbour's seqs it claims do not
// make up for the ones it lacks.
func TestBlockClaimingNextSeqs(t *testing.T) {
	f := newBlocksFixture(t)
	f.appendN(300, 100)
	want, err := f.db.Checkpoints(f.ctx, f.ref, backup.PageRequest{Num: 1, Size: 300})
	if err != nil || len(want.Items) != 300 {
		t.Fatalf("the first 300: %d, %v", len(want.Items), err)
	}
	var recs []codec.BlockRecord
	for i := range 50 {
		recs = append(recs, codec.BlockRecord{Seq: int64(1 + i), CP: &want.Items[i]})
	}
	for i := range 50 {
		recs = append(recs, codec.BlockRecord{Seq: int64(101 + i), CP: &want.Items[100+i]})
	}
	body, err := new(codec.BlockEncoder).AppendBlock(nil, 1, recs)
	if err != nil {
		t.Fatal(err)
	}
	f.exec(`UPDATE checkpoint_blocks SET body = $1 WHERE block = 0 AND cluster = (SELECT pk FROM clusters WHERE id = $2)`, body, f.cluster.ID.Hex())
	before := f.db.blockStats.reads.Load()
	got, err := f.db.Checkpoints(f.ctx, f.ref, backup.PageRequest{Num: 1, Size: 200})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Items, want.Items[:200]) {
		t.Error("the page over the two blocks differs from the rows")
	}
	if n := f.db.blockStats.reads.Load() - before; n != 0 {
		t.Errorf("%d pages read from blocks, want none", n)
	}
	_, n, seq, err := f.db.CheckpointsSeq(f.ctx, f.ref, backup.PageRequest{Num: 1, Size: 200})
	if err != nil {
		t.Fatal(err)
	}
	if seq != nil {
		t.Errorf("CheckpointsSeq: a sequence of %d from the blocks, want the page from the rows", n)
	}
}

// TestBlocksDamagedRowOpens damages one checkpoint's parts by SQL, which
// leaves the blocks stale, and wants Open to succeed all the same (the
// rebuild meets the damage), the page holding the row to report it, and
// a page without it to be served from the rows.
func TestBlocksDamagedRowOpens(t *testing.T) {
	f := newBlocksFixture(t)
	f.appendN(300, 100)
	f.exec(`UPDATE checkpoints SET parts = '\xff'::bytea WHERE cluster = (SELECT pk FROM clusters WHERE id = $1) AND seq = 150`, f.cluster.ID.Hex())
	f.reopen()
	if _, err := f.db.Checkpoints(f.ctx, f.ref, backup.PageRequest{Num: 2, Size: 100}); err == nil {
		t.Error("the page holding the damaged row: no error")
	}
	p, err := f.db.Checkpoints(f.ctx, f.ref, backup.PageRequest{Num: 3, Size: 100})
	if err != nil || len(p.Items) != 100 {
		t.Fatalf("a page without the damaged row: %d items, %v", len(p.Items), err)
	}
	if n := f.db.blockStats.reads.Load(); n != 0 {
		t.Errorf("%d pages read from blocks, want none: the rebuild failed", n)
	}
}

// TestBlocksConcurrentHandles has two stores on one schema, as two
// servers sharing a database, write one cluster at once (appends in
// batches, inserts out of order, prunes), then wants every page the same
// from blocks as from the rows, read from blocks, through either.
func TestBlocksConcurrentHandles(t *testing.T) {
	f := newBlocksFixture(t)
	f.appendN(300, 100)
	other := f.open()
	defer other.Close()
	var (
		wg   sync.WaitGroup
		errs = make(chan error, 8)
		mu   sync.Mutex // orders the appenders' times
	)
	nextAppend := func() []backup.Checkpoint {
		mu.Lock()
		defer mu.Unlock()
		var cps []backup.Checkpoint
		for range 1 + f.rng.IntN(150) {
			f.next += 15 * time.Minute
			cps = append(cps, f.checkpoint(f.next))
		}
		return cps
	}
	for i, db := range []*DB{f.db, other} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 25 {
				var cps []backup.Checkpoint
				switch (i + j) % 5 {
				case 0, 1, 2:
					cps = nextAppend()
				case 3:
					mu.Lock()
					at := time.Duration(f.rng.Int64N(int64(f.next)))
					mu.Unlock()
					cps = []backup.Checkpoint{f.checkpoint(at), f.checkpoint(at / 2)}
				case 4:
					if i == 0 && j%10 == 4 {
						mu.Lock()
						cut := f.t0.Add(f.next / 10)
						mu.Unlock()
						if _, err := db.PruneCheckpoints(f.ctx, f.cluster.ID, cut); err != nil {
							errs <- err
							return
						}
						continue
					}
					cps = nextAppend()
				}
				if err := db.AddCheckpoints(f.ctx, cps); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, db := range []*DB{f.db, other} {
		if n, pages := f.check(db, "after concurrent writes"); n != pages {
			t.Errorf("after concurrent writes: %d of %d pages read from blocks, want all", n, pages)
		}
	}
}

// TestBlockNumbers pins block numbering for any seq, below 1 included,
// and when the store rebuilds blocks before its own write.
func TestBlockNumbers(t *testing.T) {
	for _, tc := range []struct{ seq, block int64 }{
		{1, 0}, {blockSize, 0}, {blockSize + 1, 1}, {0, -1}, {-blockSize + 1, -1}, {-blockSize, -2},
		{math.MaxInt64 / 4, (math.MaxInt64/4 - 1) / blockSize}, {math.MinInt64 / 4, (math.MinInt64/4-1)/blockSize - 1},
	} {
		if got := blockOf(tc.seq); got != tc.block {
			t.Errorf("blockOf(%d) = %d, want %d", tc.seq, got, tc.block)
		}
		if b := blockBase(tc.block); tc.seq < b || tc.seq >= b+blockSize {
			t.Errorf("seq %d is not in block %d from %d", tc.seq, tc.block, b)
		}
	}
	valid := pgtype.Int8{Int64: 5, Valid: true}
	for _, tc := range []struct {
		name string
		s    blockState
		want int64
	}{
		{"current", blockState{epoch: 5, blocksEpoch: valid, first: -3, last: 9, rowsF: -3, rowsL: 9}, noRebuild},
		{"current, empty", blockState{epoch: 5, blocksEpoch: valid, first: 1, last: 0, rowsF: 1, rowsL: 0}, noRebuild},
		{"never built", blockState{epoch: 5, first: 3, last: 9, rowsF: 3, rowsL: 9}, math.MinInt64},
		{"epoch moved", blockState{epoch: 6, blocksEpoch: valid, first: 3, last: 9, rowsF: 3, rowsL: 9}, math.MinInt64},
		{"rows inserted before the first", blockState{epoch: 5, blocksEpoch: valid, first: 3, last: 9, rowsF: 2, rowsL: 9}, math.MinInt64},
		{"rows appended", blockState{epoch: 5, blocksEpoch: valid, first: 3, last: 9, rowsF: 3, rowsL: 12}, 10},
	} {
		if got := tc.s.staleFrom(); got != tc.want {
			t.Errorf("%s: staleFrom() = %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestBlocksAdmission: with the page cache on, a page read from blocks
// comes as a sequence the first time and is cached on its second read,
// from which on the cache answers it (its Version says so).
func TestBlocksAdmission(t *testing.T) {
	f := newBlocksFixture(t)
	f.appendN(700, 700)
	req := backup.PageRequest{Num: 3, Size: 100}
	offset, _ := pageOffset(req)
	want, err := f.db.readPage(f.ctx, f.ref, req, offset) // caches off
	if err != nil {
		t.Fatal(err)
	}
	f.db.Close()
	if f.db, err = Open(f.ctx, f.dsn); err != nil { // the default caches
		t.Fatal(err)
	}
	for i, wantSeq := range []bool{true, false, false} {
		p, n, seq, err := f.db.CheckpointsSeq(f.ctx, f.ref, req)
		if err != nil {
			t.Fatal(err)
		}
		if (seq != nil) != wantSeq || n != len(want.Items) {
			t.Fatalf("read %d: sequence %v (%d checkpoints), want a sequence: %v", i+1, seq != nil, n, wantSeq)
		}
		if seq == nil && !reflect.DeepEqual(p.Items, want.Items) {
			t.Fatalf("read %d: another page", i+1)
		}
		if cached := p.Version != 0; cached != (i == 2) {
			t.Fatalf("read %d: Version %d", i+1, p.Version)
		}
	}
}
