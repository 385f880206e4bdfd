package sqlite_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// blockSize is the checkpoints per row of the block table the block
// benchmark builds.
const blockSize = 100

// BenchmarkCheckpointsRandomBlocks measures a layout the store does not
// have, to weigh it against BenchmarkCheckpointsRandom's: a cluster's
// checkpoints kept as blocks of blockSize consecutive seqs, one row each
// (keyed by cluster and seq/blockSize) holding their records end to end.
// A random page is then 1–2 rows (100) or 5–6 (500) instead of 100 or
// 500, decoded into the same backup.Checkpoint values as the store's read.
// The table is built beside the bench store's, in its file.
func BenchmarkCheckpointsRandomBlocks(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run("store="+sz.name, func(b *testing.B) {
			if testing.Short() && sz.n > 1000 {
				b.Skip("-short")
			}
			s := benchStoreOf(b, sz.n)
			for _, pageSize := range []int{4096, 65536} {
				db, pk, first, last := blockTable(b, sz.n, pageSize)
				group, cluster := s.ref.GroupID, backup.ObjectID{}
				stmt, err := db.Prepare(`SELECT body FROM blocks WHERE cluster = ? AND blk BETWEEN ? AND ? ORDER BY blk`)
				if err != nil {
					b.Fatal(err)
				}
				defer stmt.Close()
				for _, size := range []int{100, 500} {
					b.Run(fmt.Sprintf("pagesize=%d/size=%d", pageSize, size), func(b *testing.B) {
						pages := s.n / size
						rng := rand.New(rand.NewPCG(1, uint64(size)))
						dec := new(codec.Decoder)
						b.ReportAllocs()
						for b.Loop() {
							num := 1 + rng.IntN(pages)
							from := first + int64(num-1)*int64(size)
							to := min(from+int64(size), last+1)
							items, err := readBlocks(stmt, dec, pk, from, to, cluster, group)
							if err != nil {
								b.Fatal(err)
							}
							if len(items) != size {
								b.Fatalf("page %d: %d items", num, len(items))
							}
						}
					})
				}
			}
		})
	}
}

// readBlocks reads the checkpoints of seqs from..to-1 from their blocks,
// in one read transaction, as the store's page read does.
func readBlocks(stmt *sql.Stmt, dec *codec.Decoder, pk, from, to int64, cluster, group backup.ObjectID) ([]backup.Checkpoint, error) {
	ctx := context.Background()
	tx, err := stmt.QueryContext(ctx, pk, from/blockSize, (to-1)/blockSize)
	if err != nil {
		return nil, err
	}
	defer tx.Close()
	out := make([]backup.Checkpoint, 0, to-from)
	var arena []backup.Part
	seq := from / blockSize * blockSize
	var body sql.RawBytes
	for tx.Next() {
		if err := tx.Scan(&body); err != nil {
			return nil, err
		}
		if arena == nil {
			arena = make([]backup.Part, 0, 4*(to-from))
		}
		for r := body; len(r) > 0; seq++ {
			var cp backup.Checkpoint
			var parts []byte
			r, parts = blockRecord(r, &cp)
			if seq < from || seq >= to {
				continue
			}
			cp.ClusterID, cp.GroupID = cluster, group
			start := len(arena)
			if arena, err = dec.DecodeAppend(arena, parts); err != nil {
				return nil, err
			}
			cp.Parts = arena[start:len(arena):len(arena)]
			out = append(out, cp)
		}
	}
	return out, tx.Err()
}

// A block record: id (12 bytes), started, completed (0: none), ts
// (varints, Unix seconds), restorable (a byte), the parts' codec form
// (uvarint length, bytes).
func appendBlockRecord(b []byte, id backup.ObjectID, started, completed, ts int64, restorable bool, parts []byte) []byte {
	b = append(b, id[:]...)
	b = binary.AppendVarint(b, started)
	b = binary.AppendVarint(b, completed)
	b = binary.AppendVarint(b, ts)
	if restorable {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(parts)))
	return append(b, parts...)
}

func blockRecord(r []byte, cp *backup.Checkpoint) (rest, parts []byte) {
	copy(cp.ID[:], r[:12])
	r = r[12:]
	started, n := binary.Varint(r)
	r = r[n:]
	completed, n := binary.Varint(r)
	r = r[n:]
	ts, n := binary.Varint(r)
	r = r[n:]
	cp.Started, cp.Timestamp = shape.UnixTime(started), shape.UnixTime(ts)
	if completed != 0 {
		cp.Completed = shape.UnixTime(completed)
	}
	cp.Restorable = r[0] != 0
	l, n := binary.Uvarint(r[1:])
	r = r[1+n:]
	return r[l:], r[:l]
}

// blockTable builds the blocks of the bench store of n checkpoints, in a
// file of their own with SQLite pages of pageSize bytes, and returns a
// handle on that file, the cluster's pk and its seq bounds.
func blockTable(b *testing.B, n, pageSize int) (db *sql.DB, pk, first, last int64) {
	b.Helper()
	src, err := sql.Open("sqlite", filepath.Join(benchDir, fmt.Sprintf("bench-%d.db", n)))
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	db, err = sql.Open("sqlite", filepath.Join(benchDir, fmt.Sprintf("blocks-%d-%d.db?_pragma=page_size(%d)", n, pageSize, pageSize)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if err := src.QueryRow(`SELECT cluster, min(seq), max(seq) FROM checkpoints GROUP BY cluster`).Scan(&pk, &first, &last); err != nil {
		b.Fatal(err)
	}
	var built int
	if db.QueryRow(`SELECT count(*) FROM blocks`).Scan(&built) == nil && built > 0 {
		return db, pk, first, last
	}
	if _, err := db.Exec(`CREATE TABLE blocks (cluster INTEGER NOT NULL, blk INTEGER NOT NULL, body BLOB NOT NULL, PRIMARY KEY (cluster, blk)) WITHOUT ROWID`); err != nil {
		b.Fatal(err)
	}
	rows, err := src.Query(`SELECT seq, id, started, coalesce(completed, 0), ts, restorable, parts FROM checkpoints WHERE cluster = ? ORDER BY seq`, pk)
	if err != nil {
		b.Fatal(err)
	}
	var (
		body []byte
		blk  int64 = -1
		recs [][2]any
	)
	for rows.Next() {
		var seq, started, completed, ts int64
		var restorable bool
		var id, parts []byte
		if err := rows.Scan(&seq, &id, &started, &completed, &ts, &restorable, &parts); err != nil {
			b.Fatal(err)
		}
		if seq/blockSize != blk {
			if blk >= 0 {
				recs = append(recs, [2]any{blk, body})
			}
			blk, body = seq/blockSize, nil
		}
		oid, err := shape.ParseID(id)
		if err != nil {
			b.Fatal(err)
		}
		body = appendBlockRecord(body, oid, started, completed, ts, restorable, parts)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	rows.Close()
	recs = append(recs, [2]any{blk, body})
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for _, r := range recs {
		if _, err := tx.Exec(`INSERT INTO blocks VALUES (?, ?, ?)`, pk, r[0], r[1]); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return db, pk, first, last
}
