package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// blocksFixture is a store with its caches off, so that every page is
// read from blocks or rows, with one three-shard-like cluster whose
// checkpoints vary in every field the block form keeps.
type blocksFixture struct {
	t       *testing.T
	ctx     context.Context
	db      *DB
	path    string
	ids     *backup.IDSource
	rng     *rand.Rand
	cluster backup.Cluster
	ref     backup.ClusterRef
	t0      time.Time
	next    time.Duration // the next appended checkpoint's offset from t0
	// short counts the sequences (CheckpointsSeq) that stopped short of
	// their page, which the API then reads through Checkpoints.
	short int
}

func newBlocksFixture(t *testing.T) *blocksFixture {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "blocks.db")
	db, err := Open(ctx, path, WithCacheSize(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	f := &blocksFixture{t: t, ctx: ctx, db: db, path: path, ids: backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 9}, 0),
		rng: rand.New(rand.NewPCG(11, 12)), t0: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)}
	t.Cleanup(func() { f.db.Close() })
	org := backup.Organization{ID: f.ids.New(f.t0), Name: "o", Created: f.t0}
	project := backup.Project{ID: f.ids.New(f.t0), OrgID: org.ID, Name: "p", Created: f.t0}
	f.cluster = backup.Cluster{ID: f.ids.New(f.t0), GroupID: project.ID, Name: "c", Type: backup.ReplicaSet, MongoDBVersion: "4.0.28",
		ReplicaSetName: "rs", Backup: backup.BackupLegacy, Created: f.t0}
	for _, err := range []error{db.CreateOrganization(ctx, org), db.CreateProject(ctx, project), db.CreateCluster(ctx, f.cluster)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	f.ref = backup.ClusterRef{GroupID: project.ID, Name: f.cluster.Name}
	return f
}

// checkpoint makes a checkpoint at t0+at with random content.
func (f *blocksFixture) checkpoint(at time.Duration) backup.Checkpoint {
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

// raw runs SQL on the file through a connection of its own, as another
// process or a repair by hand would.
func (f *blocksFixture) raw(q string, args ...any) {
	f.t.Helper()
	conn, err := sql.Open("sqlite", dsn(f.path, writerPragmas, ""))
	if err != nil {
		f.t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(f.ctx, q, args...); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
}

// check reads pages of random sizes and numbers, and the first and last
// pages, through Checkpoints and from the rows, and wants them equal. It
// returns how many of them Checkpoints answered from blocks.
func (f *blocksFixture) check(step string) (fromBlocks, pages int64) {
	f.t.Helper()
	var total int64
	if err := f.db.r.QueryRowContext(f.ctx, `SELECT count(*) FROM checkpoints`).Scan(&total); err != nil {
		f.t.Fatal(err)
	}
	before := f.db.blockReads.Load()
	reqs := []backup.PageRequest{{Num: 1, Size: 500, IncludeCount: true}}
	for range 40 {
		size := 1 + f.rng.IntN(250)
		if f.rng.IntN(3) == 0 {
			size = []int{1, 99, 100, 101, 200, 500}[f.rng.IntN(6)]
		}
		last := max(1, int((total+int64(size)-1)/int64(size)))
		reqs = append(reqs, backup.PageRequest{Num: 1 + f.rng.IntN(last+1), Size: size, IncludeCount: f.rng.IntN(2) == 0})
	}
	for _, req := range reqs {
		got, err := f.db.Checkpoints(f.ctx, f.ref, req)
		if err != nil {
			f.t.Fatalf("%s: page %d of %d: %v", step, req.Num, req.Size, err)
		}
		offset, _ := pageOffset(req)
		want, err := f.db.readPage(f.ctx, f.ref, req, offset)
		if err != nil {
			f.t.Fatalf("%s: page %d of %d from the rows: %v", step, req.Num, req.Size, err)
		}
		if !reflect.DeepEqual(got, want) {
			f.t.Fatalf("%s: page %d of %d: %d items, total %d; from the rows %d items, total %d\n%+v\n%+v",
				step, req.Num, req.Size, len(got.Items), got.Total, len(want.Items), want.Total, got.Items, want.Items)
		}
		// The same page as a sequence, twice: the same checkpoints.
		r0 := f.db.blockReads.Load()
		sp, n, seq, err := f.db.CheckpointsSeq(f.ctx, f.ref, req)
		fromBlocks := f.db.blockReads.Load() - r0
		f.db.blockReads.Add(-fromBlocks) // counted once, by Checkpoints
		if err != nil {
			f.t.Fatalf("%s: page %d of %d as a sequence: %v", step, req.Num, req.Size, err)
		}
		if seq != nil {
			for run := range 2 {
				sp.Items = []backup.Checkpoint{}
				for cp := range seq {
					c := *cp
					c.Parts = nil
					if len(cp.Parts) > 0 {
						c.Parts = append([]backup.Part(nil), cp.Parts...)
					}
					sp.Items = append(sp.Items, c)
				}
				if len(sp.Items) < n {
					// Blocks that do not hold the whole page, found as
					// they are walked: the API reads the page through
					// Checkpoints (got, above). Its checkpoints so far
					// are the page's.
					if !reflect.DeepEqual(sp.Items, want.Items[:len(sp.Items)]) {
						f.t.Fatalf("%s: page %d of %d as a sequence stopped short at %d of %d, with other checkpoints", step, req.Num, req.Size, len(sp.Items), n)
					}
					if run == 0 {
						f.short++
					}
					continue
				}
				if n != len(sp.Items) || !reflect.DeepEqual(sp, want) {
					f.t.Fatalf("%s: page %d of %d as a sequence of %d: %d items, total %d\n%+v\n%+v",
						step, req.Num, req.Size, n, len(sp.Items), sp.Total, sp.Items, want.Items)
				}
			}
		} else if !reflect.DeepEqual(sp, want) || n != len(want.Items) {
			f.t.Fatalf("%s: page %d of %d (not a sequence): %d items (n %d), total %d", step, req.Num, req.Size, len(sp.Items), n, sp.Total)
		} else if f.db.pages == nil && fromBlocks > 0 {
			// With the caches off, a page the blocks hold comes as a
			// sequence.
			f.t.Fatalf("%s: page %d of %d: not a sequence", step, req.Num, req.Size)
		}
		if int64(len(got.Items)) > 0 {
			pages++
		}
	}
	return f.db.blockReads.Load() - before, pages
}

// mustUseBlocks checks, and wants every non-empty page from blocks and
// no sequence stopping short.
func (f *blocksFixture) mustUseBlocks(step string) {
	f.t.Helper()
	short := f.short
	if n, pages := f.check(step); n != pages || f.short != short {
		f.t.Errorf("%s: %d of %d pages read from blocks, want all; %d sequences stopped short", step, n, pages, f.short-short)
	}
}

// mustUseRows checks, and wants no page from blocks.
func (f *blocksFixture) mustUseRows(step string) {
	f.t.Helper()
	if n, _ := f.check(step); n != 0 {
		f.t.Errorf("%s: %d pages read from blocks, want none", step, n)
	}
}

// TestBlocksMatchRows drives the store's own writes (appends one at a
// time and in batches, out-of-order inserts that shift seqs, prunes,
// the prune of every checkpoint) and wants every page the same from
// blocks as from the rows, and read from blocks.
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

	// Out of order: between stored checkpoints, before the first, and
	// a batch mixing both with appends.
	f.add(f.checkpoint(f.next / 2))
	f.mustUseBlocks("insert in the middle")
	f.add(f.checkpoint(-time.Hour))
	f.mustUseBlocks("insert before the first")
	var mixed []backup.Checkpoint
	for range 20 {
		mixed = append(mixed, f.checkpoint(time.Duration(f.rng.Int64N(int64(f.next)))))
	}
	f.next += time.Hour
	mixed = append(mixed, f.checkpoint(f.next))
	f.add(mixed...)
	f.mustUseBlocks("mixed batch")

	// Prunes: within a block, to a block's edge, then everything.
	for _, cut := range []time.Duration{time.Minute, 20 * time.Hour, 60 * time.Hour, 61 * time.Hour} {
		if _, err := f.db.PruneCheckpoints(f.ctx, f.cluster.ID, f.t0.Add(cut)); err != nil {
			t.Fatal(err)
		}
		f.mustUseBlocks(fmt.Sprintf("prune before %s", cut))
	}
	var first int64
	if err := f.db.r.QueryRowContext(f.ctx, `SELECT min(seq) FROM checkpoints`).Scan(&first); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.PruneCheckpoints(f.ctx, f.cluster.ID, f.t0.Add(blockSize*time.Duration(first-1)*15*time.Minute)); err != nil {
		t.Fatal(err)
	}
	f.mustUseBlocks("prune of whole blocks")
	f.appendN(150, 7)
	f.mustUseBlocks("appends after prunes")
	if _, err := f.db.PruneCheckpoints(f.ctx, f.cluster.ID, f.t0.Add(f.next+time.Hour)); err != nil {
		t.Fatal(err)
	}
	f.mustUseBlocks("everything pruned")
	var blocks int64
	if err := f.db.r.QueryRowContext(f.ctx, `SELECT count(*) FROM checkpoint_blocks`).Scan(&blocks); err != nil || blocks != 0 {
		t.Errorf("%d blocks after every checkpoint was pruned (%v)", blocks, err)
	}
	f.appendN(120, 50)
	f.mustUseBlocks("appends after pruning everything")

	if err := f.db.DeleteCluster(f.ctx, f.ref); err != nil {
		t.Fatal(err)
	}
	if err := f.db.r.QueryRowContext(f.ctx, `SELECT count(*) FROM checkpoint_blocks`).Scan(&blocks); err != nil || blocks != 0 {
		t.Errorf("%d blocks after the cluster was deleted (%v)", blocks, err)
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
		{"update", `UPDATE checkpoints SET restorable = 1 - restorable WHERE seq % 7 = 3`, true},
		{"delete", `DELETE FROM checkpoints WHERE seq > (SELECT max(seq) - 5 FROM checkpoints)`, false},
		{"update by hand", `UPDATE checkpoints SET started = started - 1 WHERE seq = (SELECT min(seq) + 150 FROM checkpoints)`, false},
	}
	for _, e := range edits {
		f.raw(e.sql)
		f.mustUseRows(e.name)
		if e.byWrite {
			f.appendN(1, 1)
		} else {
			f.db.Close()
			db, err := Open(f.ctx, f.path, WithCacheSize(0, 0))
			if err != nil {
				t.Fatal(err)
			}
			f.db = db
		}
		f.mustUseBlocks(e.name + ", then rebuilt")
	}

	// Rows appended beyond the blocks: pages within the blocks still come
	// from them, pages reaching the new rows from the rows.
	var last int64
	if err := f.db.r.QueryRowContext(f.ctx, `SELECT max(seq) FROM checkpoints`).Scan(&last); err != nil {
		t.Fatal(err)
	}
	f.next += time.Hour
	extra := f.checkpoint(f.next)
	f.raw(`INSERT INTO checkpoints (cluster, seq, id, started, completed, ts, restorable, parts)
SELECT cluster, seq + 1, ?, started, completed, ?, restorable, parts FROM checkpoints WHERE seq = ?`, extra.ID.Hex(), extra.Timestamp.Unix(), last)
	n, pages := f.check("raw append")
	if n == 0 || n == pages {
		t.Errorf("raw append: %d of %d pages from blocks, want some but not all", n, pages)
	}
	lastPage := backup.PageRequest{Num: int(last/100) + 1, Size: 100}
	before := f.db.blockReads.Load()
	if p, err := f.db.Checkpoints(f.ctx, f.ref, lastPage); err != nil || p.Items[len(p.Items)-1].ID != extra.ID {
		t.Fatalf("last page after a raw append: %v", err)
	}
	if f.db.blockReads.Load() != before {
		t.Error("the page holding a row appended by hand was read from blocks")
	}
	f.appendN(3, 3)
	f.mustUseBlocks("raw append, then a write")

	// A damaged block: its pages come from the rows; the rest from blocks.
	damageBefore, shortBefore := f.db.blockDamage.Load(), f.short
	f.raw(`UPDATE checkpoint_blocks SET body = substr(body, 1, length(body) / 2) WHERE block = (SELECT min(block) + 2 FROM checkpoint_blocks)`)
	n, pages = f.check("damaged block")
	if n == 0 || n == pages || f.db.blockDamage.Load() == damageBefore || f.short == shortBefore {
		t.Errorf("damaged block: %d of %d pages from blocks, %d damaged blocks met, %d sequences stopped short",
			n, pages, f.db.blockDamage.Load()-damageBefore, f.short-shortBefore)
	}
}

// TestBlocksUpgrade opens a file whose clusters have checkpoints but no
// blocks, as one written before blocks existed: Open builds them.
func TestBlocksUpgrade(t *testing.T) {
	f := newBlocksFixture(t)
	f.appendN(640, 200)
	f.raw(`DELETE FROM checkpoint_blocks`)
	f.raw(`UPDATE clusters SET blocks_epoch = NULL, blocks_first = 0, blocks_last = 0`)
	f.mustUseRows("no blocks")
	f.db.Close()
	db, err := Open(f.ctx, f.path, WithCacheSize(0, 0))
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	f.mustUseBlocks("reopened")
}

// TestBlockStaleFrom pins when the store rebuilds blocks before its own
// write.
func TestBlockStaleFrom(t *testing.T) {
	valid := sql.NullInt64{Int64: 5, Valid: true}
	for _, tc := range []struct {
		name string
		s    blockState
		want int64
	}{
		{"current", blockState{epoch: 5, blocksEpoch: valid, first: 3, last: 9, rowsF: 3, rowsL: 9}, noRebuild},
		{"current, empty", blockState{epoch: 5, blocksEpoch: valid}, noRebuild},
		{"never built", blockState{epoch: 5, first: 3, last: 9, rowsF: 3, rowsL: 9}, 0},
		{"epoch moved", blockState{epoch: 6, blocksEpoch: valid, first: 3, last: 9, rowsF: 3, rowsL: 9}, 0},
		{"rows inserted before the first", blockState{epoch: 5, blocksEpoch: valid, first: 3, last: 9, rowsF: 2, rowsL: 9}, 0},
		{"rows appended", blockState{epoch: 5, blocksEpoch: valid, first: 3, last: 9, rowsF: 3, rowsL: 12}, 10},
		{"pk out of bounds", blockState{epoch: 6, pkOutOfBounds: true}, noRebuild},
	} {
		if got := tc.s.staleFrom(); got != tc.want {
			t.Errorf("%s: staleFrom() = %d, want %d", tc.name, got, tc.want)
		}
	}
	if blockOf(1) != 0 || blockOf(blockSize) != 0 || blockOf(blockSize+1) != 1 || blockBase(1) != blockSize+1 {
		t.Error("block numbering: block k holds seqs kB+1 … kB+B")
	}
	if blockKey(maxBlockPK, maxBlockNum) != math.MaxInt64 {
		t.Errorf("largest key %d", blockKey(maxBlockPK, maxBlockNum))
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
	if f.db, err = Open(f.ctx, f.path); err != nil { // the default caches
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
