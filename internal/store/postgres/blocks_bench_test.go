package postgres_test

import (
	"context"
	"fmt"
	"iter"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/atlas"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/postgres/pgtest"
)

// BenchmarkCheckpointsRandomBlocks reads random pages of 100 and 500
// and encodes each as the API's list does (atlas, Atlas v2), as a client
// paging a cluster at random makes the server do, with the store's
// layouts and read paths side by side in one run (the SQLite store's
// benchmark of the same name):
//
//   - layout=rows: the blocks marked stale (blocks_epoch NULL, as SQL by
//     hand leaves them), so every page is read from its rows, as before
//     blocks existed, through Checkpoints;
//   - layout=blocks/read=items: the page's blocks, decoded into
//     checkpoint values (Checkpoints);
//   - layout=blocks/read=seq: the page's blocks, encoded as they are
//     decoded, one checkpoint at a time into one value (CheckpointsSeq,
//     the API's path);
//
// each with the caches off (cache=off: every read goes to the database,
// the head statement included) and with the shipped defaults
// (cache=shipped: the head statement's answer kept while no transaction
// completes; at 1M a page is nearly always a miss; at 1k the page cache
// holds every page once read, or with read=seq once read twice).
func BenchmarkCheckpointsRandomBlocks(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run("store="+sz.name, func(b *testing.B) {
			if testing.Short() && sz.n > 1000 {
				b.Skip("-short")
			}
			s := benchStoreOf(b, sz.n)
			ctx := context.Background()
			raw, err := pgx.Connect(ctx, pgtest.WithSearchPath(benchBase, benchSchema))
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close(ctx)
			for _, layout := range []struct{ name, read string }{{"rows", "items"}, {"blocks", "items"}, {"blocks", "seq"}} {
				mark := `UPDATE clusters SET blocks_epoch = epoch`
				if layout.name == "rows" {
					mark = `UPDATE clusters SET blocks_epoch = NULL`
				}
				if _, err := raw.Exec(ctx, mark); err != nil {
					b.Fatal(err)
				}
				for _, cache := range []struct {
					name string
					db   *postgres.DB
				}{{"off", s.db}, {"shipped", s.cached}} {
					for _, size := range []int{100, 500} {
						b.Run(fmt.Sprintf("layout=%s/read=%s/cache=%s/size=%d", layout.name, layout.read, cache.name, size), func(b *testing.B) {
							benchRandomPages(b, s, cache.db, size, layout.read == "seq")
						})
					}
				}
			}
			if _, err := raw.Exec(ctx, `UPDATE clusters SET blocks_epoch = epoch`); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// benchRandomPages reads random pages of size through db and encodes
// them, through CheckpointsSeq when seq is set.
func benchRandomPages(b *testing.B, s *benchStore, db *postgres.DB, size int, seq bool) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	pages := s.n / size
	rng := rand.New(rand.NewPCG(1, uint64(size)))
	const base, coll = "http://127.0.0.1:8080", "/api/atlas/v2/groups/5e2211c17a3e5a48f5497de3/clusters/Cluster0/backupCheckpoints"
	var body []byte
	b.ReportAllocs()
	for b.Loop() {
		req := backup.PageRequest{Num: 1 + rng.IntN(pages), Size: size}
		var (
			p   backup.Page[backup.Checkpoint]
			n   int
			cps iter.Seq[*backup.Checkpoint]
			err error
		)
		if seq {
			p, n, cps, err = db.CheckpointsSeq(ctx, s.ref, req)
		} else {
			p, err = db.Checkpoints(ctx, s.ref, req)
		}
		if err != nil {
			b.Fatal(err)
		}
		if cps != nil {
			var whole bool
			if body, whole = atlas.AppendCheckpointsSeq(body[:0], base, coll, n, cps); !whole {
				b.Fatalf("page %d: the sequence stopped short of %d", req.Num, n)
			}
		} else {
			n = len(p.Items)
			body = atlas.AppendCheckpoints(body[:0], base, coll, p.Items)
		}
		if n != size || len(body) < 1000*size {
			b.Fatalf("page %d: %d items, %d bytes", req.Num, n, len(body))
		}
	}
}
