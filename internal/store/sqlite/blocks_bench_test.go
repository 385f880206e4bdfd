package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// BenchmarkCheckpointsRandomBlocks reads random pages of 100 and 500
// through Checkpoints, as a client paging a cluster at random does, with
// the store's two layouts side by side in one run:
//
//   - layout=rows: the blocks marked stale (blocks_epoch NULL, as a file
//     edited by hand leaves them), so every page is read from its rows,
//     as before blocks existed;
//   - layout=blocks: the page's blocks (blocks.go);
//
// each with the caches off (cache=off: every read goes to the file) and
// with the shipped defaults (cache=shipped: a miss at 1M nearly always,
// so the page is read and then added to the page cache; at 1k the page
// cache holds every page after the first reads, so that case is the
// cached read).
func BenchmarkCheckpointsRandomBlocks(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run("store="+sz.name, func(b *testing.B) {
			if testing.Short() && sz.n > 1000 {
				b.Skip("-short")
			}
			s := benchStoreOf(b, sz.n)
			raw, err := sql.Open("sqlite", filepath.Join(benchDir, fmt.Sprintf("bench-%d.db", sz.n)))
			if err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			for _, layout := range []string{"rows", "blocks"} {
				mark := `UPDATE clusters SET blocks_epoch = epoch`
				if layout == "rows" {
					mark = `UPDATE clusters SET blocks_epoch = NULL`
				}
				if _, err := raw.Exec(mark); err != nil {
					b.Fatal(err)
				}
				for _, cache := range []struct {
					name string
					db   *sqlite.DB
				}{{"off", s.db}, {"shipped", s.cached}} {
					for _, size := range []int{100, 500} {
						b.Run(fmt.Sprintf("layout=%s/cache=%s/size=%d", layout, cache.name, size), func(b *testing.B) {
							benchRandomPages(b, s, cache.db, size)
						})
					}
				}
			}
			if _, err := raw.Exec(`UPDATE clusters SET blocks_epoch = epoch`); err != nil {
				b.Fatal(err)
			}
		})
	}
}

// benchRandomPages reads random pages of size through db.
func benchRandomPages(b *testing.B, s *benchStore, db *sqlite.DB, size int) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	pages := s.n / size
	rng := rand.New(rand.NewPCG(1, uint64(size)))
	b.ReportAllocs()
	for b.Loop() {
		req := backup.PageRequest{Num: 1 + rng.IntN(pages), Size: size}
		p, err := db.Checkpoints(ctx, s.ref, req)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Items) != size {
			b.Fatalf("page %d: %d items", req.Num, len(p.Items))
		}
	}
}
