package postgres

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// TestPageRowOrder: the page statement sends its head row and its page
// rows in no order SQL promises; the reader places each row by its seq.
// The same statement with its rows reversed and the head row last reads
// the same pages, with and without the cache, and the pages it keeps are
// right.
func TestPageRowOrder(t *testing.T) {
	f := newFixture(t, WithCacheSize(0, 0))
	var cps []backup.Checkpoint
	for i := range 250 {
		cps = append(cps, f.checkpoint(f.a, f.t0.Add(time.Duration(i)*time.Minute)))
	}
	f.must(f.db.AddCheckpoints(f.ctx, cps))
	reversed := func(q string) string {
		return `SELECT * FROM (` + q + `) AS x ORDER BY x.seq DESC NULLS LAST`
	}
	refs := []backup.ClusterRef{{GroupID: f.a.GroupID, Name: f.a.Name}, {GroupID: f.a.GroupID, ID: f.a.ID}}
	reqs := []backup.PageRequest{{Num: 1, Size: 100, IncludeCount: true}, {Num: 3, Size: 100}, {Num: 2, Size: 7},
		{Num: 4, Size: 100, IncludeCount: true}, {Num: 1, Size: 500}}
	want := map[string]backup.Page[backup.Checkpoint]{}
	for _, ref := range refs {
		for _, req := range reqs {
			p, err := f.db.Checkpoints(f.ctx, ref, req)
			f.must(err)
			want[fmt.Sprint(ref, req)] = p
		}
	}
	byName, byID := pageByName, pageByID
	pageByName, pageByID = reversed(byName), reversed(byID)
	t.Cleanup(func() { pageByName, pageByID = byName, byID })
	open := func() *DB {
		db, err := Open(f.ctx, f.dsn)
		f.must(err)
		t.Cleanup(func() { db.Close() })
		return db
	}
	cached := open()
	for _, db := range []*DB{f.db, cached} {
		for range 2 { // the second time from the cache, if any
			for _, ref := range refs {
				for _, req := range reqs {
					p, err := db.Checkpoints(f.ctx, ref, req)
					f.must(err)
					if w := want[fmt.Sprint(ref, req)]; !reflect.DeepEqual(p.Items, w.Items) || p.Total != w.Total {
						t.Errorf("%v %+v, rows reversed: %d items (total %d), want %d (total %d)", ref, req, len(p.Items), p.Total, len(w.Items), w.Total)
						for i := range min(len(p.Items), len(w.Items)) {
							if !reflect.DeepEqual(p.Items[i], w.Items[i]) {
								t.Errorf("item %d: %+v, want %+v", i, p.Items[i], w.Items[i])
								break
							}
						}
					}
				}
			}
		}
	}

	// A hole (a row deleted by hand, its seqs and its cluster's epoch left
	// as they were): what is there is served, in order.
	if _, err := f.raw.Exec(f.ctx, `ALTER TABLE checkpoints DISABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.raw.Exec(f.ctx, `DELETE FROM checkpoints WHERE id = $1`, cps[10].ID.Hex()); err != nil {
		t.Fatal(err)
	}
	if _, err := f.raw.Exec(f.ctx, `ALTER TABLE checkpoints ENABLE TRIGGER USER`); err != nil {
		t.Fatal(err)
	}
	// The blocks, like the caches, rest on the triggers: a repair that
	// bypasses them must void the blocks as well, which the next Open
	// rebuilds from the rows, hole included (and readers, finding a seq
	// of the page in no block, read the rows).
	if _, err := f.raw.Exec(f.ctx, `UPDATE clusters SET blocks_epoch = NULL`); err != nil {
		t.Fatal(err)
	}
	fresh := open()
	for range 2 {
		p, err := fresh.Checkpoints(f.ctx, refs[0], backup.PageRequest{Num: 1, Size: 20})
		f.must(err)
		w := append(append([]backup.Checkpoint(nil), cps[:10]...), cps[11:20]...)
		if len(p.Items) != len(w) {
			t.Fatalf("page with a hole: %d items, want %d", len(p.Items), len(w))
		}
		for i := range w {
			if p.Items[i].ID != w[i].ID {
				t.Errorf("page with a hole: item %d is %s, want %s", i, p.Items[i].ID.Hex(), w[i].ID.Hex())
			}
		}
	}
}
