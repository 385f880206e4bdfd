package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/cache"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// A page of checkpoints read from their rows costs the server a call of
// each column's output function and the client a parse of each row: some
// 250 µs for 100, 0.9 ms for 500. The same checkpoints are also kept as
// blocks of blockSize consecutive seqs, one row of checkpoint_blocks each
// (migrations/0015_checkpoint_blocks.sql), in codec's block form, the
// SQLite store's layout (see its blocks.go): a page of 100 is one or two
// rows.
//
// The checkpoints table stays the source of truth, and blocks are right
// only while the cluster's blocks_epoch is its epoch:
//
//   - Every write of checkpoint rows by the store brings the blocks of
//     the seqs it wrote or moved up to date in the same transaction, and
//     sets blocks_epoch to the epoch the transaction leaves (the triggers
//     of migrations/0002 have already changed it for any delete or
//     shift): appends rewrite the last block and write new ones, once per
//     block for a batch; an insert before the first rewrites the first
//     block (or writes one before it); a shift rewrites the blocks of the
//     seqs it moved; a prune drops the blocks wholly before the new first
//     seq and keeps the rest, whose pruned seqs readers skip; deleting a
//     cluster drops its blocks.
//   - Those writers hold the cluster's row lock (lockCluster), as every
//     writer of its checkpoints does, from before they read the block
//     state to their commit: writers of one cluster in any number of
//     processes maintain its blocks one after the other, each from a
//     state that has every earlier one's commit.
//   - Any other writer (a repair by hand, an older checkpointd) moves or
//     deletes rows only by changing the epoch, which leaves blocks_epoch
//     behind, or inserts rows outside blocks_first and blocks_last, which
//     no block holds. Readers then read those pages from the rows. The
//     store's next write to the cluster rebuilds what is stale before its
//     own change (staleFrom), and so does Open, for every cluster, under
//     the cluster's row lock (a database from before blocks gets them
//     when a server first opens it; servers opening it together rebuild
//     each cluster once).
//
// A reader reads the blocks of a page and checks the epoch in one
// statement, so in one snapshot (readBlocks): blocks at an epoch that is
// the epoch of the head it read the cluster's bounds from hold, for every
// seq they hold, the checkpoint that seq holds in the head's snapshot
// (the cache's argument, cache.go). A page any of whose seqs no block
// holds is read from the rows, whole.

// blockSize is the number of seqs a block spans: a page of 100 or 500
// from the first seq of a cluster whose seqs start at 1 is whole blocks.
const blockSize = 100

// blockChunk is how many blocks' rows a rebuild reads, and writes, at a
// time.
const blockChunk = 64

// blockOf is the block number of seq: floor((seq - 1) / blockSize), seqs
// being any integers.
func blockOf(seq int64) int64 {
	q := (seq - 1) / blockSize
	if (seq-1)%blockSize < 0 {
		q--
	}
	return q
}

// blockBase is the first seq of block k.
func blockBase(k int64) int64 { return k*blockSize + 1 }

// Seqs beyond these bounds get no blocks (readers use the rows): block
// arithmetic stays far from overflow.
const (
	minBlockSeq = math.MinInt64 / 4
	maxBlockSeq = math.MaxInt64 / 4
)

// blockState is what clusters says of a cluster's blocks, and the rows'
// bounds.
type blockState struct {
	epoch        int64
	blocksEpoch  pgtype.Int8
	first, last  int64 // the seq bounds the blocks held, 1 and 0 for none
	rowsF, rowsL int64 // the rows' seq bounds now, 1 and 0 for none
}

// noRebuild is staleFrom's answer when the blocks match the rows.
const noRebuild = math.MaxInt64

// staleFrom is the seq from which the blocks must be rebuilt to match
// the rows (math.MinInt64: all of them), or noRebuild.
func (s blockState) staleFrom() int64 {
	switch {
	case !s.blocksEpoch.Valid || s.blocksEpoch.Int64 != s.epoch || s.first != s.rowsF || s.last > s.rowsL:
		return math.MinInt64
	case s.last < s.rowsL:
		// Rows appended by another writer since, which no block holds.
		return s.last + 1
	}
	return noRebuild
}

// readBlockState reads the block state of cluster pk in tx, which holds
// the cluster's row lock.
func readBlockState(ctx context.Context, tx pgx.Tx, pk int64) (blockState, error) {
	var s blockState
	err := tx.QueryRow(ctx, `SELECT c.epoch, c.blocks_epoch, c.blocks_first, c.blocks_last,
  coalesce((SELECT min(seq) FROM checkpoints WHERE cluster = c.pk), 1),
  coalesce((SELECT max(seq) FROM checkpoints WHERE cluster = c.pk), 0)
FROM clusters c WHERE c.pk = $1`, pk).Scan(&s.epoch, &s.blocksEpoch, &s.first, &s.last, &s.rowsF, &s.rowsL)
	if err != nil {
		return s, fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	return s, nil
}

// blockSpan is a range of seqs whose blocks a transaction must rebuild:
// empty while lo > hi.
type blockSpan struct{ lo, hi int64 }

// noSpan is the empty span.
var noSpan = blockSpan{lo: math.MaxInt64, hi: math.MinInt64}

// add widens the span to hold [lo, hi].
func (s *blockSpan) add(lo, hi int64) {
	s.lo, s.hi = min(s.lo, lo), max(s.hi, hi)
}

// span is the span a block state asks to rebuild.
func (s blockState) span() blockSpan {
	if from := s.staleFrom(); from != noRebuild {
		return blockSpan{lo: from, hi: math.MaxInt64}
	}
	return noSpan
}

// rebuildBlocks rewrites the blocks of cluster pk that hold seqs of span
// out of the rows, and records that the blocks match the rows at the
// transaction's epoch. tx holds the cluster's row lock.
func rebuildBlocks(ctx context.Context, tx pgx.Tx, dec *codec.Decoder, pk int64, span blockSpan) error {
	var rowsF, rowsL int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(min(seq), 1), coalesce(max(seq), 0) FROM checkpoints WHERE cluster = $1`, pk).
		Scan(&rowsF, &rowsL); err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	lo, hi := max(span.lo, minBlockSeq), min(span.hi, maxBlockSeq)
	k0, k1 := blockOf(lo), blockOf(hi)
	if span.lo <= minBlockSeq {
		k0 = math.MinInt64
	}
	if span.hi >= maxBlockSeq {
		k1 = math.MaxInt64
	}
	if _, err := tx.Exec(ctx, `DELETE FROM checkpoint_blocks WHERE cluster = $1 AND block BETWEEN $2 AND $3`, pk, k0, k1); err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	// The rows to read: those of the span's blocks that exist and are
	// within the bounds blocks are kept for.
	from, to := max(blockBase(blockOf(lo)), rowsF, minBlockSeq), min(blockBase(blockOf(hi)+1), rowsL+1, maxBlockSeq)
	b := blockBuilder{dec: dec, pk: pk, k: math.MinInt64}
	for cursor := from; cursor < to; {
		end := min(blockBase(blockOf(cursor)+blockChunk), to)
		if err := b.rows(ctx, tx, cursor, end); err != nil {
			return fmt.Errorf("blocks of cluster %d: %w", pk, err)
		}
		if err := b.write(ctx, tx, false); err != nil {
			return fmt.Errorf("blocks of cluster %d: %w", pk, err)
		}
		cursor = end
	}
	if err := b.write(ctx, tx, true); err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	return markBlocks(ctx, tx, pk)
}

// markBlocks records that the blocks of cluster pk match its rows at the
// transaction's epoch.
func markBlocks(ctx context.Context, tx pgx.Tx, pk int64) error {
	if _, err := tx.Exec(ctx, `UPDATE clusters SET blocks_epoch = epoch,
  blocks_first = coalesce((SELECT min(seq) FROM checkpoints WHERE cluster = $1), 1),
  blocks_last = coalesce((SELECT max(seq) FROM checkpoints WHERE cluster = $1), 0)
WHERE pk = $1`, pk); err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	return nil
}

// pruneBlocks follows a prune of cluster pk's rows before seq end, whose
// blocks were in state s before it: blocks wholly before end go, the
// rest stay (readers skip their pruned seqs), or, when the blocks were
// stale already, all are rebuilt.
func pruneBlocks(ctx context.Context, tx pgx.Tx, dec *codec.Decoder, pk int64, s blockState, end int64) error {
	if s.staleFrom() != noRebuild {
		return rebuildBlocks(ctx, tx, dec, pk, blockSpan{lo: math.MinInt64, hi: math.MaxInt64})
	}
	hi := blockOf(min(end, maxBlockSeq)) // the first block kept
	if end > s.rowsL {
		hi = math.MaxInt64 // all went
	}
	if _, err := tx.Exec(ctx, `DELETE FROM checkpoint_blocks WHERE cluster = $1 AND block < $2`, pk, hi); err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	return markBlocks(ctx, tx, pk)
}

// blockBuilder gathers the rows of one block at a time, encodes each
// block when the next one starts, and writes the encoded blocks with
// COPY.
type blockBuilder struct {
	dec   *codec.Decoder
	enc   codec.BlockEncoder
	pk, k int64 // k is the block being gathered, MinInt64 before the first
	cps   []backup.Checkpoint
	seqs  []int64
	arena []backup.Part
	recs  []codec.BlockRecord
	done  [][]any // encoded blocks not yet written: cluster, block, body
}

// rows gathers the rows of seqs [from, to).
func (b *blockBuilder) rows(ctx context.Context, tx pgx.Tx, from, to int64) error {
	rows, err := tx.Query(ctx, `SELECT seq, `+checkpointCols+` FROM checkpoints
WHERE cluster = $1 AND seq >= $2 AND seq < $3 ORDER BY seq`, b.pk, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		seq      int64
		id, blob pgtype.DriverBytes
		row      checkpointRow
	)
	for rows.Next() {
		if err := rows.Scan(&seq, &id, &row.started, &row.completed, &row.ts, &row.restorable, &blob); err != nil {
			return err
		}
		if k := blockOf(seq); k != b.k {
			if err := b.encode(); err != nil {
				return err
			}
			b.k = k
		}
		var cp backup.Checkpoint
		if cp.ID, err = shape.ParseID(id); err != nil {
			return err
		}
		if b.arena, err = row.fill(&cp, b.dec, b.arena, blob); err != nil {
			return fmt.Errorf("checkpoint %s: %w", cp.ID.Hex(), err)
		}
		b.cps, b.seqs = append(b.cps, cp), append(b.seqs, seq)
	}
	return rows.Err()
}

// encode encodes the block gathered, if any.
func (b *blockBuilder) encode() error {
	if len(b.cps) == 0 {
		return nil
	}
	b.recs = b.recs[:0]
	for i := range b.cps {
		b.recs = append(b.recs, codec.BlockRecord{Seq: b.seqs[i], CP: &b.cps[i]})
	}
	body, err := b.enc.AppendBlock(nil, blockBase(b.k), b.recs)
	if err != nil {
		return err
	}
	b.done = append(b.done, []any{b.pk, b.k, body})
	clear(b.cps)
	clear(b.arena)
	b.cps, b.seqs, b.arena = b.cps[:0], b.seqs[:0], b.arena[:0]
	return nil
}

// write writes the encoded blocks, and with last the one still being
// gathered: one INSERT for one, COPY for more.
func (b *blockBuilder) write(ctx context.Context, tx pgx.Tx, last bool) error {
	if last {
		if err := b.encode(); err != nil {
			return err
		}
	}
	switch len(b.done) {
	case 0:
		return nil
	case 1:
		if _, err := tx.Exec(ctx, `INSERT INTO checkpoint_blocks (cluster, block, body) VALUES ($1, $2, $3)`, b.done[0]...); err != nil {
			return err
		}
	default:
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"checkpoint_blocks"}, []string{"cluster", "block", "body"}, pgx.CopyFromRows(b.done)); err != nil {
			return err
		}
	}
	clear(b.done)
	b.done = b.done[:0]
	return nil
}

// refreshBlocks brings the blocks of every cluster whose blocks do not
// match its rows up to date, one transaction per cluster: on Open (see
// the top of this file).
func (db *DB) refreshBlocks(ctx context.Context) error {
	rows, err := db.pool.Query(ctx, `SELECT c.pk FROM clusters c
WHERE c.blocks_epoch IS DISTINCT FROM c.epoch
   OR c.blocks_first <> coalesce((SELECT min(seq) FROM checkpoints WHERE cluster = c.pk), 1)
   OR c.blocks_last <> coalesce((SELECT max(seq) FROM checkpoints WHERE cluster = c.pk), 0)
ORDER BY c.pk`)
	if err != nil {
		return fmt.Errorf("postgres: blocks: %w", err)
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("postgres: blocks: %w", err)
	}
	dec := new(codec.Decoder)
	for _, pk := range stale {
		err := db.inTx(ctx, "blocks", func(tx pgx.Tx) error {
			var locked bool
			err := tx.QueryRow(ctx, `SELECT true FROM clusters WHERE pk = $1 FOR UPDATE`, pk).Scan(&locked)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // deleted meanwhile
			}
			if err != nil {
				return err
			}
			s, err := readBlockState(ctx, tx, pk)
			if err != nil {
				return err
			}
			if span := s.span(); span.lo <= span.hi {
				return rebuildBlocks(ctx, tx, dec, pk, span)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("postgres: blocks: %w", err)
		}
	}
	return nil
}

// blocksQuery reads the blocks of cluster $1 numbered $3 to $4 when the
// cluster's epoch is still $2 and its blocks match its rows at it.
// The cluster's id comes with each block (the head statements do not
// read it): the epoch changes with it (migrations/0002).
const blocksQuery = `SELECT c.id, b.block, b.body FROM clusters c
JOIN checkpoint_blocks b ON b.cluster = c.pk AND b.block BETWEEN $3 AND $4
WHERE c.pk = $1 AND c.epoch = $2 AND c.blocks_epoch = c.epoch
ORDER BY b.block`

// blockStats count the pages read from blocks, and the blocks found
// damaged, for tests.
type blockStats struct {
	reads, damaged atomic.Int64
}

// readBlocks reads the blocks of a page of the cluster of h, seqs
// [from, to), and checks that they hold all of it, or reports false:
// blocks not matching the rows at h's epoch, or the epoch changed since
// h was read, or seqs no block holds, or a block it cannot decode (a
// damaged table: the rows answer).
func (db *DB) readBlocks(ctx context.Context, h head, group backup.ObjectID, from, to int64) (*codec.PageBlocks, bool) {
	if from >= to || from < minBlockSeq || to > maxBlockSeq {
		return nil, false
	}
	k0, k1 := blockOf(from), blockOf(to-1)
	rows, err := db.pool.Query(ctx, blocksQuery, h.pk, h.epoch, k0, k1)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	pb := codec.NewPageBlocks(from, to, blockSize, backup.ObjectID{}, group, int(k1-k0+1))
	var (
		id, body pgtype.DriverBytes
		k        int64
	)
	for rows.Next() {
		if err := rows.Scan(&id, &k, &body); err != nil {
			return nil, false
		}
		if pb.Blocks() == 0 {
			if pb.Cluster, err = shape.ParseID(id); err != nil {
				return nil, false
			}
		}
		pb.Add(blockBase(k), body)
	}
	if rows.Err() != nil {
		return nil, false
	}
	dec := db.decoders.Get().(*codec.Decoder)
	defer db.decoders.Put(dec)
	// Seqs increase within a block, and every one counted is in its
	// block's own part of [from, to): as many as the range are all of
	// it, each once.
	if n, err := pb.Walk(dec, nil, nil); err != nil || n != pb.Len() {
		if err != nil {
			db.blockStats.damaged.Add(1)
		}
		return nil, false
	}
	db.blockStats.reads.Add(1)
	return pb, true
}

// seq is the page's checkpoints as a sequence, each decoded into one
// reused value: nothing of the page is allocated but that value. The
// blocks were walked through once already (readBlocks), so it yields the
// whole page.
func (db *DB) seq(pb *codec.PageBlocks) iter.Seq[*backup.Checkpoint] {
	return func(yield func(*backup.Checkpoint) bool) {
		dec := db.decoders.Get().(*codec.Decoder)
		defer db.decoders.Put(dec)
		var cp backup.Checkpoint
		if _, err := pb.Walk(dec, &cp, yield); err != nil {
			db.blockStats.damaged.Add(1)
		}
	}
}

// admit reports whether a page read from blocks is worth decoding into
// the page cache: whether it was read once before, lately
// (cache.Admission).
func (db *DB) admit(k cache.PageKey) bool { return db.recent.Admit(k) }
