package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// cacheFixture is a file with one project and two legacy clusters, a
// cached handle on it (the store under test), a second cached handle
// (another server process writing the same file) and an uncached one
// (the oracle: what the file says now).
type cacheFixture struct {
	t          *testing.T
	ctx        context.Context
	path       string
	db, other  *sqlite.DB
	oracle     *sqlite.DB
	ids        *backup.IDSource
	a, b       backup.Cluster
	next       time.Time // timestamp of the next appended checkpoint
	t0         time.Time
	pageSizes  []int
	checkedIDs []backup.ObjectID // checkpoints that were ever stored
}

func newCacheFixture(t *testing.T) *cacheFixture {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "cache.db")
	open := func(opts ...sqlite.Option) *sqlite.DB {
		db, err := sqlite.Open(ctx, path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	f := &cacheFixture{t: t, ctx: ctx, path: path, db: open(), other: open(), oracle: open(sqlite.WithCacheSize(0, 0)),
		ids: backup.NewIDSourceFrom([5]byte{0xca, 0xc4, 0xe0, 0, 1}, 0), t0: t0, next: t0.Add(24 * time.Hour),
		pageSizes: []int{1, 3, 4, 100}}
	org := backup.Organization{ID: f.ids.New(t0), Name: "o", Created: t0}
	project := backup.Project{ID: f.ids.New(t0), OrgID: org.ID, Name: "p", Created: t0}
	f.must(f.db.CreateOrganization(ctx, org))
	f.must(f.db.CreateProject(ctx, project))
	for i, c := range []*backup.Cluster{&f.a, &f.b} {
		*c = backup.Cluster{ID: f.ids.New(t0), GroupID: project.ID, Name: fmt.Sprint("c", i), Type: backup.Sharded,
			MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy, Created: t0,
			Shards: []backup.Shard{{Name: "s0", ReplicaSetName: "s0"}, {Name: "s1", ReplicaSetName: "s1"}},
			Config: backup.ConfigServer{ReplicaSetName: "cfg"}}
		f.must(f.db.CreateCluster(ctx, *c))
	}
	return f
}

func (f *cacheFixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *cacheFixture) checkpoint(c backup.Cluster, ts time.Time) backup.Checkpoint {
	cp := backup.Checkpoint{ID: f.ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID,
		Started: ts.Add(-time.Minute), Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: true}
	for _, s := range c.Shards {
		cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartReplicaSet, ShardName: s.Name, ReplicaSetName: s.ReplicaSetName,
			TokenDiscovered: true, TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: 1}})
	}
	f.checkedIDs = append(f.checkedIDs, cp.ID)
	return cp
}

// add stores a checkpoint at ts through the given handle.
func (f *cacheFixture) add(via *sqlite.DB, c backup.Cluster, ts time.Time) backup.Checkpoint {
	f.t.Helper()
	cp := f.checkpoint(c, ts)
	f.must(via.AddCheckpoint(f.ctx, cp))
	return cp
}

// appendN appends n checkpoints, each newer than everything stored.
func (f *cacheFixture) appendN(via *sqlite.DB, c backup.Cluster, n int) []backup.Checkpoint {
	f.t.Helper()
	var cps []backup.Checkpoint
	for range n {
		cps = append(cps, f.add(via, c, f.next))
		f.next = f.next.Add(time.Hour)
	}
	return cps
}

func refsOf(c backup.Cluster) []backup.ClusterRef {
	return []backup.ClusterRef{{GroupID: c.GroupID, Name: c.Name}, {GroupID: c.GroupID, ID: c.ID}}
}

// page reads one page through db.
func (f *cacheFixture) page(db *sqlite.DB, ref backup.ClusterRef, num, size int) backup.Page[backup.Checkpoint] {
	f.t.Helper()
	p, err := db.Checkpoints(f.ctx, ref, backup.PageRequest{Num: num, Size: size, IncludeCount: true})
	f.must(err)
	return p
}

// check reads every page of every size, and every checkpoint ever
// stored, of both clusters by both kinds of reference, through the cached
// handle and the oracle, and fails on any difference: a stale cache.
func (f *cacheFixture) check(what string) {
	f.t.Helper()
	for _, c := range []backup.Cluster{f.a, f.b} {
		for _, ref := range refsOf(c) {
			for _, size := range f.pageSizes {
				for num := 1; ; num++ {
					want := f.page(f.oracle, ref, num, size)
					got := f.page(f.db, ref, num, size)
					if got.Total != want.Total || !reflect.DeepEqual(got.Items, want.Items) {
						f.t.Fatalf("%s: cluster %s page %d of %d: got %d items %v (Total %d), want %d items %v (Total %d)",
							what, ref.Label(), num, size, len(got.Items), idsOf(got.Items), got.Total, len(want.Items), idsOf(want.Items), want.Total)
					}
					if len(want.Items) < size {
						break
					}
				}
			}
			for _, id := range f.checkedIDs {
				want, wantErr := f.oracle.Checkpoint(f.ctx, ref, id)
				got, gotErr := f.db.Checkpoint(f.ctx, ref, id)
				if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want) {
					f.t.Fatalf("%s: checkpoint %s of %s: got %v, %v; want %v, %v", what, id.Hex(), ref.Label(), got.ID.Hex(), gotErr, want.ID.Hex(), wantErr)
				}
			}
		}
	}
}

func idsOf(cps []backup.Checkpoint) []string {
	out := make([]string, len(cps))
	for i, cp := range cps {
		out[i] = cp.ID.Hex()[18:]
	}
	return out
}

// wantPage checks a page's items against the expected checkpoints.
func (f *cacheFixture) wantPage(what string, p backup.Page[backup.Checkpoint], total int, want []backup.Checkpoint) {
	f.t.Helper()
	if p.Total != total {
		f.t.Fatalf("%s: Total %d, want %d", what, p.Total, total)
	}
	if !reflect.DeepEqual(idsOf(p.Items), idsOf(want)) {
		f.t.Fatalf("%s: items %v, want %v", what, idsOf(p.Items), idsOf(want))
	}
}

// sameArray reports whether two pages share their backing array: the
// second read was a cache hit.
func sameArray(p, q backup.Page[backup.Checkpoint]) bool {
	return len(p.Items) > 0 && len(q.Items) > 0 && &p.Items[0] == &q.Items[0]
}

// TestCacheHits makes sure that the staleness tests below test a cache:
// repeated reads are served from it, for any reference to the cluster.
func TestCacheHits(t *testing.T) {
	f := newCacheFixture(t)
	f.appendN(f.db, f.a, 10)
	byName, byID := refsOf(f.a)[0], refsOf(f.a)[1]
	p1 := f.page(f.db, byName, 1, 4)
	if p2 := f.page(f.db, byID, 1, 4); !sameArray(p1, p2) {
		t.Fatal("the second read of a page was not a cache hit")
	}
	last := f.page(f.db, byName, 3, 4) // partial: 2 of 4
	if again := f.page(f.db, byName, 3, 4); !sameArray(last, again) {
		t.Fatal("the second read of a partial last page was not a cache hit")
	}
	// Callers get a slice they cannot grow into the cache's array.
	if cap(p1.Items) != len(p1.Items) {
		t.Fatalf("page cap %d, len %d", cap(p1.Items), len(p1.Items))
	}
	// Appends leave the full pages where they were.
	f.appendN(f.other, f.a, 1)
	if p3 := f.page(f.db, byName, 1, 4); !sameArray(p1, p3) {
		t.Fatal("an append voided a full page")
	}
	f.check("hits")
}

// (a) A prune voids the cached pages: the old first page shows the rows
// now first.
func TestCacheAfterPrune(t *testing.T) {
	f := newCacheFixture(t)
	cps := f.appendN(f.db, f.a, 10)
	ref := refsOf(f.a)[0]
	f.wantPage("before", f.page(f.db, ref, 1, 3), 10, cps[0:3])
	f.wantPage("cached", f.page(f.db, ref, 1, 3), 10, cps[0:3])
	n, err := f.db.PruneCheckpoints(f.ctx, f.a.ID, cps[2].Timestamp)
	f.must(err)
	if n != 2 {
		t.Fatalf("pruned %d", n)
	}
	f.wantPage("after prune", f.page(f.db, ref, 1, 3), 8, cps[2:5])
	f.wantPage("after prune, page 3", f.page(f.db, ref, 3, 3), 8, cps[8:10])
	f.check("after prune")
}

// (b) An out-of-order insert shifts the seqs after it: every cached page
// from there on is re-read.
func TestCacheAfterOutOfOrder(t *testing.T) {
	f := newCacheFixture(t)
	cps := f.appendN(f.db, f.a, 9)
	ref := refsOf(f.a)[1]
	for num := 1; num <= 3; num++ {
		f.wantPage(fmt.Sprint("page ", num), f.page(f.db, ref, num, 3), 9, cps[(num-1)*3:num*3])
	}
	late := f.add(f.db, f.a, cps[1].Timestamp.Add(time.Minute)) // between the 2nd and the 3rd
	want := append(append(append([]backup.Checkpoint{}, cps[:2]...), late), cps[2:]...)
	for num := 1; num <= 4; num++ {
		f.wantPage(fmt.Sprint("shifted page ", num), f.page(f.db, ref, num, 3), 10, want[(num-1)*3:min(num*3, 10)])
	}
	// Before the first: everything moves.
	early := f.add(f.db, f.a, cps[0].Timestamp.Add(-time.Minute))
	want = append([]backup.Checkpoint{early}, want...)
	f.wantPage("page 1 after an insert before the first", f.page(f.db, ref, 1, 3), 11, want[0:3])
	f.check("after out-of-order inserts")
}

// (c) Another process writing the same file: the cached handle's next
// read reflects each of its writes.
func TestCacheOtherProcess(t *testing.T) {
	f := newCacheFixture(t)
	cps := f.appendN(f.other, f.a, 7)
	f.appendN(f.other, f.b, 3)
	f.check("start")
	ref := refsOf(f.a)[0]

	// Append: a partial last page grows, the total too.
	f.wantPage("last page", f.page(f.db, ref, 3, 3), 7, cps[6:7])
	cps = append(cps, f.appendN(f.other, f.a, 1)...)
	f.wantPage("last page after an append elsewhere", f.page(f.db, ref, 3, 3), 8, cps[6:8])
	f.check("after an append elsewhere")

	// Prune.
	f.wantPage("first page", f.page(f.db, ref, 1, 3), 8, cps[0:3])
	if _, err := f.other.PruneCheckpoints(f.ctx, f.a.ID, cps[1].Timestamp); err != nil {
		t.Fatal(err)
	}
	cps = cps[1:]
	f.wantPage("first page after a prune elsewhere", f.page(f.db, ref, 1, 3), 7, cps[0:3])
	f.check("after a prune elsewhere")

	// Out-of-order insert.
	mid := f.add(f.other, f.a, cps[0].Timestamp.Add(time.Minute))
	cps = append([]backup.Checkpoint{cps[0], mid}, cps[1:]...)
	f.wantPage("first page after an insert elsewhere", f.page(f.db, ref, 1, 3), 8, cps[0:3])
	f.check("after an out-of-order insert elsewhere")

	// A write by hand, through SQL, by neither store: the triggers keep
	// the epoch.
	raw, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(5000)")
	f.must(err)
	defer raw.Close()
	if _, err := f.db.Checkpoint(f.ctx, ref, cps[2].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE checkpoints SET restorable = 0 WHERE id = ?`, cps[2].ID.Hex()); err != nil {
		t.Fatal(err)
	}
	cp, err := f.db.Checkpoint(f.ctx, ref, cps[2].ID)
	f.must(err)
	if cp.Restorable {
		t.Fatal("an UPDATE by hand was not seen by the cached checkpoint")
	}
	if p := f.page(f.db, ref, 1, 3); p.Items[2].Restorable {
		t.Fatal("an UPDATE by hand was not seen by the cached page")
	}
	if _, err := raw.Exec(`DELETE FROM checkpoints WHERE cluster = (SELECT pk FROM clusters WHERE id = ?) AND seq = (SELECT min(seq) FROM checkpoints WHERE cluster = (SELECT pk FROM clusters WHERE id = ?))`,
		f.a.ID.Hex(), f.a.ID.Hex()); err != nil {
		t.Fatal(err)
	}
	f.wantPage("first page after a DELETE by hand", f.page(f.db, ref, 1, 3), 7, cps[1:4])
	f.check("after writes by hand")
}

// (d) A cached checkpoint that was pruned is CHECKPOINT_NOT_FOUND, and a
// cached checkpoint read through another cluster's reference is too.
func TestCachePrunedCheckpoint(t *testing.T) {
	f := newCacheFixture(t)
	cps := f.appendN(f.db, f.a, 3)
	for _, ref := range refsOf(f.a) {
		for range 2 {
			got, err := f.db.Checkpoint(f.ctx, ref, cps[0].ID)
			f.must(err)
			if got.ID != cps[0].ID {
				t.Fatal("wrong checkpoint")
			}
		}
		// Another cluster of the same project: not its checkpoint.
		for _, other := range refsOf(f.b) {
			_, err := f.db.Checkpoint(f.ctx, other, cps[0].ID)
			if !backup.IsCode(err, backup.CodeCheckpointNotFound) {
				t.Fatalf("cached checkpoint through cluster %s: %v, want CHECKPOINT_NOT_FOUND", other.Label(), err)
			}
		}
	}
	for _, via := range []*sqlite.DB{f.db, f.other} {
		if _, err := via.PruneCheckpoints(f.ctx, f.a.ID, cps[1].Timestamp); err != nil {
			t.Fatal(err)
		}
		for _, ref := range refsOf(f.a) {
			_, err := f.db.Checkpoint(f.ctx, ref, cps[0].ID)
			if !backup.IsCode(err, backup.CodeCheckpointNotFound) {
				t.Fatalf("pruned checkpoint: %v, want CHECKPOINT_NOT_FOUND", err)
			}
		}
		// The one left is still found, and the next prune (by the other
		// handle) removes it.
		if _, err := f.db.Checkpoint(f.ctx, refsOf(f.a)[0], cps[1].ID); err != nil {
			t.Fatal(err)
		}
		cps = cps[1:]
	}
	f.check("after prunes")
}

// (e) Appends make a cached partial last page grow, and then a new page
// appear after it.
func TestCachePartialPageGrows(t *testing.T) {
	f := newCacheFixture(t)
	cps := f.appendN(f.db, f.a, 5)
	ref := refsOf(f.a)[0]
	f.wantPage("partial", f.page(f.db, ref, 2, 3), 5, cps[3:5])
	f.wantPage("partial, cached", f.page(f.db, ref, 2, 3), 5, cps[3:5])
	f.wantPage("whole list, cached", f.page(f.db, ref, 1, 100), 5, cps)
	cps = append(cps, f.appendN(f.db, f.a, 1)...)
	f.wantPage("grown to full", f.page(f.db, ref, 2, 3), 6, cps[3:6])
	f.wantPage("whole list grown", f.page(f.db, ref, 1, 100), 6, cps)
	f.wantPage("no page 3 yet", f.page(f.db, ref, 3, 3), 6, nil)
	cps = append(cps, f.appendN(f.other, f.a, 1)...)
	f.wantPage("full page unchanged", f.page(f.db, ref, 2, 3), 7, cps[3:6])
	f.wantPage("page 3 appears", f.page(f.db, ref, 3, 3), 7, cps[6:7])
	f.check("after appends")
}

// TestCacheRandom drives random writes through both handles and by hand,
// in order, out of order, prunes and deletes, and checks after each that
// the cached handle answers every page and checkpoint as the file does.
func TestCacheRandom(t *testing.T) {
	f := newCacheFixture(t)
	raw, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(5000)")
	f.must(err)
	defer raw.Close()
	rng := rand.New(rand.NewPCG(11, 12))
	f.pageSizes = []int{3, 7, 100}
	steps := 100
	if testing.Short() {
		steps = 30
	}
	for step := range steps {
		c := []backup.Cluster{f.a, f.b}[rng.IntN(2)]
		via := []*sqlite.DB{f.db, f.other}[rng.IntN(2)]
		var what string
		switch r := rng.IntN(20); {
		case r < 10:
			f.appendN(via, c, 1+rng.IntN(3))
			what = "append"
		case r < 15:
			f.add(via, c, f.t0.Add(time.Duration(rng.IntN(int(f.next.Sub(f.t0)/time.Minute)))*time.Minute))
			what = "insert"
		case r < 17:
			_, err := via.PruneCheckpoints(f.ctx, c.ID, f.t0.Add(time.Duration(rng.IntN(int(f.next.Sub(f.t0)/time.Minute)/4))*time.Minute))
			f.must(err)
			what = "prune"
		case r < 18:
			_, err := raw.Exec(`UPDATE checkpoints SET restorable = 1 - restorable
WHERE cluster = (SELECT pk FROM clusters WHERE id = ?) AND seq = (SELECT max(seq) FROM checkpoints WHERE cluster = (SELECT pk FROM clusters WHERE id = ?))`, c.ID.Hex(), c.ID.Hex())
			f.must(err)
			what = "update by hand"
		default:
			_, err := raw.Exec(`DELETE FROM checkpoints
WHERE cluster = (SELECT pk FROM clusters WHERE id = ?) AND seq = (SELECT max(seq) FROM checkpoints WHERE cluster = (SELECT pk FROM clusters WHERE id = ?))`, c.ID.Hex(), c.ID.Hex())
			f.must(err)
			what = "delete of the last by hand"
		}
		f.check(fmt.Sprintf("step %d (%s)", step, what))
	}
}

// TestCacheClusterRecreated deletes a cluster by hand and creates another
// under the same internal key, with the same history length: nothing of
// the old cluster may be served for the new one.
func TestCacheClusterRecreated(t *testing.T) {
	f := newCacheFixture(t)
	old := f.appendN(f.db, f.b, 4)
	f.check("before")
	raw, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	f.must(err)
	defer raw.Close()
	var pk int64
	f.must(raw.QueryRow(`SELECT pk FROM clusters WHERE id = ?`, f.b.ID.Hex()).Scan(&pk))
	for _, q := range []string{`DELETE FROM checkpoints WHERE cluster = ?`, `DELETE FROM clusters WHERE pk = ?`} {
		if _, err := raw.Exec(q, pk); err != nil {
			t.Fatal(err)
		}
	}
	// The same name and id, as an admin restoring it would.
	f.must(f.db.CreateCluster(f.ctx, f.b))
	var again int64
	f.must(raw.QueryRow(`SELECT pk FROM clusters WHERE id = ?`, f.b.ID.Hex()).Scan(&again))
	if again != pk {
		t.Skipf("SQLite gave the new cluster pk %d, not %d: nothing to test", again, pk)
	}
	cps := f.appendN(f.db, f.b, 4)
	for _, ref := range refsOf(f.b) {
		f.wantPage("recreated", f.page(f.db, ref, 1, 3), 4, cps[:3])
		_, err := f.db.Checkpoint(f.ctx, ref, old[0].ID)
		if !backup.IsCode(err, backup.CodeCheckpointNotFound) {
			t.Fatalf("checkpoint of the deleted cluster: %v", err)
		}
	}
	f.check("recreated")
}

func TestCacheOptions(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	path := filepath.Join(t.TempDir(), "opts.db")
	for _, opt := range []sqlite.Option{sqlite.WithCacheSize(-1, 10), sqlite.WithCacheSize(10, -1)} {
		if db, err := sqlite.Open(ctx, path, opt); err == nil {
			db.Close()
			t.Fatal("Open with a negative cache size succeeded")
		}
	}
	// Off: every read is a read of the file, into new memory.
	f := newCacheFixture(t)
	off, err := sqlite.Open(ctx, f.path, sqlite.WithCacheSize(0, 0))
	f.must(err)
	defer off.Close()
	f.appendN(f.db, f.a, 3)
	ref := refsOf(f.a)[0]
	if p, q := f.page(off, ref, 1, 2), f.page(off, ref, 1, 2); sameArray(p, q) {
		t.Fatal("a page was cached with the cache off")
	}
	// Pages only: checkpoints are read from the file.
	pagesOnly, err := sqlite.Open(ctx, f.path, sqlite.WithCacheSize(1<<20, 0))
	f.must(err)
	defer pagesOnly.Close()
	if p, q := f.page(pagesOnly, ref, 1, 2), f.page(pagesOnly, ref, 1, 2); !sameArray(p, q) {
		t.Fatal("a page was not cached with a page cache")
	}
	f.db, f.oracle = pagesOnly, off
	f.check("pages only")
}

// TestCacheDeletedCluster fills the caches with a cluster's pages and
// checkpoints, deletes the cluster (through the other handle: another
// process), then creates it again under the same key with a history of
// the same length: nothing of the deleted cluster may be served.
func TestCacheDeletedCluster(t *testing.T) {
	f := newCacheFixture(t)
	old := f.appendN(f.db, f.b, 6)
	f.appendN(f.db, f.a, 3)
	var pk int64
	raw, err := sql.Open("sqlite", "file:"+f.path+"?_pragma=busy_timeout(5000)")
	f.must(err)
	defer raw.Close()
	f.must(raw.QueryRow(`SELECT pk FROM clusters WHERE id = ?`, f.b.ID.Hex()).Scan(&pk))
	for _, ref := range refsOf(f.b) {
		p := f.page(f.db, ref, 1, 4)
		if !sameArray(p, f.page(f.db, ref, 1, 4)) {
			t.Fatal("the page was not cached")
		}
		for range 2 {
			if _, err := f.db.Checkpoint(f.ctx, ref, old[2].ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	f.check("before")
	f.must(f.other.DeleteCluster(f.ctx, refsOf(f.b)[0]))
	for _, ref := range refsOf(f.b) {
		if _, err := f.db.Checkpoints(f.ctx, ref, backup.PageRequest{Num: 1, Size: 4, IncludeCount: true}); !backup.IsCode(err, backup.CodeClusterNotFound) {
			t.Fatalf("page of a deleted cluster: %v", err)
		}
		if _, err := f.db.Checkpoint(f.ctx, ref, old[2].ID); !backup.IsCode(err, backup.CodeClusterNotFound) {
			t.Fatalf("checkpoint of a deleted cluster: %v", err)
		}
	}
	// The highest pk is the one SQLite hands out next.
	f.must(f.db.CreateCluster(f.ctx, f.b))
	var again int64
	f.must(raw.QueryRow(`SELECT pk FROM clusters WHERE id = ?`, f.b.ID.Hex()).Scan(&again))
	if again != pk {
		t.Fatalf("the cluster created again has pk %d, not %d: the test needs the pk reused", again, pk)
	}
	fresh := f.appendN(f.other, f.b, len(old))
	for _, ref := range refsOf(f.b) {
		f.wantPage("created again", f.page(f.db, ref, 1, 4), len(fresh), fresh[:4])
		if _, err := f.db.Checkpoint(f.ctx, ref, old[2].ID); !backup.IsCode(err, backup.CodeCheckpointNotFound) {
			t.Fatalf("checkpoint of the deleted cluster through the new one: %v", err)
		}
	}
	f.check("created again")
}

// TestCacheCaller fills the caches as the server, then reads as callers:
// those who may read the project get the cached entries, the others their
// error, however warm the cache.
func TestCacheCaller(t *testing.T) {
	f := newCacheFixture(t)
	cps := f.appendN(f.db, f.a, 5)
	project, err := f.db.Project(f.ctx, f.a.GroupID)
	f.must(err)
	stranger := backup.Organization{ID: f.ids.New(f.t0), Name: "stranger", Created: f.t0}
	f.must(f.db.CreateOrganization(f.ctx, stranger))
	as := func(org backup.ObjectID, grants ...backup.Grant) context.Context {
		return backup.WithPrincipal(f.ctx, &backup.Principal{Kind: backup.ServiceAccountPrincipal, ID: "mdb_sa_id_" + org.Hex(), OrgID: org, Grants: grants})
	}
	reader := as(project.OrgID, backup.Grant{Role: backup.ProjectReadOnly, ProjectID: project.ID})
	for _, ref := range refsOf(f.a) {
		warm := f.page(f.db, ref, 1, 3)
		if _, err := f.db.Checkpoint(f.ctx, ref, cps[1].ID); err != nil {
			t.Fatal(err)
		}
		p, err := f.db.Checkpoints(reader, ref, backup.PageRequest{Num: 1, Size: 3, IncludeCount: true})
		f.must(err)
		if !sameArray(warm, p) {
			t.Fatal("a caller who may read the project missed the cache")
		}
		if cp, err := f.db.Checkpoint(reader, ref, cps[1].ID); err != nil || cp.ID != cps[1].ID {
			t.Fatalf("a caller who may read the project: %v", err)
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			code string
		}{
			{"org member", as(project.OrgID, backup.Grant{Role: backup.OrgMember}), backup.CodeUserUnauthorized},
			{"stranger", as(stranger.ID, backup.Grant{Role: backup.OrgOwner}), backup.CodeGroupNotFound},
		} {
			if _, err := f.db.Checkpoints(c.ctx, ref, backup.PageRequest{Num: 1, Size: 3, IncludeCount: true}); !backup.IsCode(err, c.code) {
				t.Fatalf("cached page as %s: %v, want %s", c.name, err, c.code)
			}
			if _, err := f.db.Checkpoint(c.ctx, ref, cps[1].ID); !backup.IsCode(err, c.code) {
				t.Fatalf("cached checkpoint as %s: %v, want %s", c.name, err, c.code)
			}
		}
	}
}
