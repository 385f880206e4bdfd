package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"math"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store/cache"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// A page of checkpoints read from their rows costs some 1.5–2.5 µs a row
// (the SQLite VM's step, the columns' fetch, database/sql's scan, the
// parts' decoding): 160–300 µs for 100. The same checkpoints are also
// kept as blocks of blockSize consecutive seqs, one row of
// checkpoint_blocks each (migrations/0015_checkpoint_blocks.sql), in
// codec's block form: a page of 100 is then one or two rows, one b-tree
// page each, decoded without database/sql's per-column work.
//
// The checkpoints table stays the source of truth, and blocks are right
// only while the cluster's blocks_epoch is its epoch:
//
//   - Every write of checkpoint rows by the store brings the blocks of
//     what it wrote up to date in the same transaction and sets
//     blocks_epoch to the epoch the transaction leaves (the triggers of
//     migrations/0002 have already raised it for any delete or move):
//     appends rewrite the last block and write new ones, once per block
//     for a batch; an out-of-order insert, whose seq shift moves every
//     later row, rewrites the blocks from its seq on; a prune drops the
//     blocks wholly before the new first seq and keeps the rest, whose
//     pruned seqs readers skip; deleting a cluster drops its blocks.
//   - Any other writer of the file (a repair by hand, an older
//     checkpointd) moves or deletes rows only by raising the epoch, which
//     leaves blocks_epoch behind, or appends rows beyond blocks_last,
//     which no block holds. Readers then read those pages from the rows.
//     The store's next write to the cluster rebuilds what is stale before
//     its own change (staleFrom), and so does Open, for every cluster:
//     a file from before blocks existed gets them when it is first
//     opened, and one edited while no server ran, when it is next opened.
//     Open rather than the migration, because the blocks are codec's
//     form, written from Go, and rather than lazily on the next write,
//     because a cluster may go a long time without one (an agent's, or
//     one whose backup is stopped) and its pages would be read from the
//     rows all that time. A million checkpoints take some seconds, once.
//
// A reader reads the blocks of a page and checks the epoch in one
// statement, so in one snapshot (readBlocks): blocks at an epoch that is
// the epoch of the head it read the cluster's bounds from hold, for
// every seq they hold, the checkpoint that seq holds in the head's
// snapshot. A page any of whose seqs no block holds is read from the
// rows, whole: known before the blocks are walked when a block is
// missing or the blocks end before the page, or as they are walked (one
// walk, the one that decodes or encodes the page) when a block is
// damaged or short of seqs.

// blockSize is the number of seqs a block spans. A page of 100 or 500
// from the first seq of an unpruned cluster (seq 1) is then whole
// blocks; a block of a three-shard cluster is some 3.5 KB, under the
// 4 KB a row keeps in its b-tree page.
const blockSize = 100

// Blocks are keyed pk<<32 | block number; pks and block numbers outside
// these bounds get no blocks (readers use the rows).
const (
	maxBlockPK  = 1<<31 - 1
	maxBlockNum = 1<<32 - 1
)

// blockChunk is how many blocks' rows a rebuild reads at a time.
const blockChunk = 64

// blockOf is the block number of seq, which must be positive.
func blockOf(seq int64) int64 { return (seq - 1) / blockSize }

// blockBase is the first seq of block k.
func blockBase(k int64) int64 { return k*blockSize + 1 }

// blockKey is the checkpoint_blocks key of block k of cluster pk.
func blockKey(pk, k int64) int64 { return pk<<32 | k }

// blockState is what clusters says of a cluster's blocks.
type blockState struct {
	epoch         int64
	blocksEpoch   sql.NullInt64
	first, last   int64 // the seq bounds the blocks held, 0 and 0 for none
	rowsF, rowsL  int64 // the rows' seq bounds now, 0 and 0 for none
	pkOutOfBounds bool
}

// noRebuild is staleFrom's answer when the blocks match the rows.
const noRebuild = math.MaxInt64

// staleFrom is the seq from which the blocks must be rebuilt to match
// the rows (0: all of them), or noRebuild.
func (s blockState) staleFrom() int64 {
	switch {
	case s.pkOutOfBounds:
		return noRebuild
	case !s.blocksEpoch.Valid || s.blocksEpoch.Int64 != s.epoch || s.first != s.rowsF || s.last > s.rowsL:
		return 0
	case s.last < s.rowsL:
		// Rows appended by another writer since, which no block holds.
		return s.last + 1
	}
	return noRebuild
}

// readBlockState reads the block state of cluster pk in tx.
func readBlockState(ctx context.Context, tx *sql.Tx, pk int64) (blockState, error) {
	s := blockState{pkOutOfBounds: pk <= 0 || pk > maxBlockPK}
	err := tx.QueryRowContext(ctx, `SELECT c.epoch, c.blocks_epoch, c.blocks_first, c.blocks_last,
  coalesce((SELECT seq FROM checkpoints WHERE cluster = c.pk ORDER BY seq LIMIT 1), 0),
  coalesce((SELECT seq FROM checkpoints WHERE cluster = c.pk ORDER BY seq DESC LIMIT 1), 0)
FROM clusters c WHERE c.pk = ?`, pk).Scan(&s.epoch, &s.blocksEpoch, &s.first, &s.last, &s.rowsF, &s.rowsL)
	if err != nil {
		return s, fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	return s, nil
}

// rebuildBlocks rewrites the blocks of cluster pk from the one holding
// seq from on (from 0: all of them) out of the rows, and records that
// they match the rows at the transaction's epoch.
func rebuildBlocks(ctx context.Context, tx *sql.Tx, dec *codec.Decoder, pk, from int64) error {
	if pk <= 0 || pk > maxBlockPK {
		return nil
	}
	k0 := int64(0)
	if from > 0 {
		k0 = blockOf(from)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM checkpoint_blocks WHERE block >= ? AND block < ?`,
		blockKey(pk, min(k0, maxBlockNum)), blockKey(pk+1, 0)); err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO checkpoint_blocks (block, body) VALUES (?, ?)`)
	if err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	defer insert.Close()
	b := blockBuilder{dec: dec, insert: insert, pk: pk, k: -1}
	for cursor := blockBase(k0); ; {
		var next int64
		err := tx.QueryRowContext(ctx, `SELECT seq FROM checkpoints WHERE cluster = ? AND seq >= ? ORDER BY seq LIMIT 1`,
			pk, max(cursor, 1)).Scan(&next)
		if err == sql.ErrNoRows {
			break
		}
		if err != nil {
			return fmt.Errorf("blocks of cluster %d: %w", pk, err)
		}
		k := blockOf(next)
		if k > maxBlockNum {
			break
		}
		end := blockBase(k + blockChunk)
		if err := b.rows(ctx, tx, next, end); err != nil {
			return fmt.Errorf("blocks of cluster %d: %w", pk, err)
		}
		cursor = end
	}
	if err := b.flush(ctx); err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	return markBlocks(ctx, tx, pk)
}

// markBlocks records that the blocks of cluster pk match its rows at the
// transaction's epoch.
func markBlocks(ctx context.Context, tx *sql.Tx, pk int64) error {
	if _, err := tx.ExecContext(ctx, `UPDATE clusters SET blocks_epoch = epoch,
  blocks_first = coalesce((SELECT seq FROM checkpoints WHERE cluster = ?1 ORDER BY seq LIMIT 1), 0),
  blocks_last = coalesce((SELECT seq FROM checkpoints WHERE cluster = ?1 ORDER BY seq DESC LIMIT 1), 0)
WHERE pk = ?1`, pk); err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	return nil
}

// pruneBlocks follows a prune of cluster pk's rows before seq end, whose
// blocks were in state s before it: blocks wholly before end go, the
// rest stay (readers skip their pruned seqs), or, when the blocks were
// stale already, all are rebuilt.
func pruneBlocks(ctx context.Context, tx *sql.Tx, dec *codec.Decoder, pk int64, s blockState, end int64) error {
	if s.staleFrom() != noRebuild {
		return rebuildBlocks(ctx, tx, dec, pk, 0)
	}
	if s.pkOutOfBounds {
		return nil
	}
	hi := blockKey(pk, min(blockOf(end), maxBlockNum+1))
	if end > s.rowsL {
		hi = blockKey(pk+1, 0) // all went
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM checkpoint_blocks WHERE block >= ? AND block < ?`, blockKey(pk, 0), hi); err != nil {
		return fmt.Errorf("blocks of cluster %d: %w", pk, err)
	}
	return markBlocks(ctx, tx, pk)
}

// blockBuilder gathers the rows of one block at a time and writes each
// block when the next one starts.
type blockBuilder struct {
	dec    *codec.Decoder
	enc    codec.BlockEncoder
	insert *sql.Stmt
	pk, k  int64 // k is the block being gathered, -1 before the first
	cps    []backup.Checkpoint
	seqs   []int64
	arena  []backup.Part
	recs   []codec.BlockRecord
	body   []byte
}

// rows gathers the rows of seqs [from, to).
func (b *blockBuilder) rows(ctx context.Context, tx *sql.Tx, from, to int64) error {
	rows, err := tx.QueryContext(ctx, `SELECT seq, id, `+checkpointCols+` FROM checkpoints
WHERE cluster = ? AND seq >= ? AND seq < ? ORDER BY seq`, b.pk, from, to)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		seq       int64
		rawID     sql.RawBytes
		blob      sql.RawBytes
		row       checkpointRow
		completed sql.NullInt64
	)
	for rows.Next() {
		if err := rows.Scan(&seq, &rawID, &row.started, &completed, &row.ts, &row.restorable, &blob); err != nil {
			return err
		}
		row.completed = completed
		if k := blockOf(seq); k != b.k {
			if err := b.flush(ctx); err != nil {
				return err
			}
			b.k = k
		}
		var cp backup.Checkpoint
		if cp.ID, err = shape.ParseID(rawID); err != nil {
			return err
		}
		if b.arena, err = row.fill(&cp, b.dec, b.arena, blob); err != nil {
			return fmt.Errorf("checkpoint %s: %w", cp.ID.Hex(), err)
		}
		b.cps, b.seqs = append(b.cps, cp), append(b.seqs, seq)
	}
	return rows.Err()
}

// flush writes the block gathered, if any.
func (b *blockBuilder) flush(ctx context.Context) error {
	if len(b.cps) == 0 {
		return nil
	}
	b.recs = b.recs[:0]
	for i := range b.cps {
		b.recs = append(b.recs, codec.BlockRecord{Seq: b.seqs[i], CP: &b.cps[i]})
	}
	var err error
	if b.body, err = b.enc.AppendBlock(b.body[:0], blockBase(b.k), b.recs); err != nil {
		return err
	}
	if _, err := b.insert.ExecContext(ctx, blockKey(b.pk, b.k), b.body); err != nil {
		return err
	}
	clear(b.cps)
	clear(b.arena)
	b.cps, b.seqs, b.arena = b.cps[:0], b.seqs[:0], b.arena[:0]
	return nil
}

// refreshBlocks brings the blocks of every cluster whose blocks do not
// match its rows up to date, one transaction per cluster: on Open (see
// the top of this file).
func (db *DB) refreshBlocks(ctx context.Context) error {
	rows, err := db.w.QueryContext(ctx, `SELECT c.pk FROM clusters c
WHERE c.blocks_epoch IS NOT c.epoch
   OR c.blocks_first <> coalesce((SELECT seq FROM checkpoints WHERE cluster = c.pk ORDER BY seq LIMIT 1), 0)
   OR c.blocks_last <> coalesce((SELECT seq FROM checkpoints WHERE cluster = c.pk ORDER BY seq DESC LIMIT 1), 0)
ORDER BY c.pk`)
	if err != nil {
		return fmt.Errorf("sqlite: blocks: %w", err)
	}
	var stale []int64
	for rows.Next() {
		var pk int64
		if err := rows.Scan(&pk); err != nil {
			rows.Close()
			return fmt.Errorf("sqlite: blocks: %w", err)
		}
		stale = append(stale, pk)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: blocks: %w", err)
	}
	dec := new(codec.Decoder)
	for _, pk := range stale {
		if err := db.refreshClusterBlocks(ctx, dec, pk); err != nil {
			return fmt.Errorf("sqlite: %w", err)
		}
	}
	return nil
}

// refreshClusterBlocks rebuilds what is stale of cluster pk's blocks, in
// a transaction of its own.
func (db *DB) refreshClusterBlocks(ctx context.Context, dec *codec.Decoder, pk int64) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer rollback(tx)
	s, err := readBlockState(ctx, tx, pk)
	if err != nil {
		return err
	}
	if from := s.staleFrom(); from != noRebuild {
		if err := rebuildBlocks(ctx, tx, dec, pk, from); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// readBlocks reads the blocks of a page of the cluster of h, seqs
// [from, to), or reports false: blocks not matching the rows at h's
// epoch, or the epoch changed since h was read, or not holding seqs up
// to the page's last, or a block of the page missing. What it does not
// check is what only walking the blocks finds, a damaged block or seqs
// missing within one: their walk (items, seq) stops short of the page,
// and the page is then read from the rows (which report the damage if
// they share it).
func (db *DB) readBlocks(ctx context.Context, h head, group backup.ObjectID, from, to int64) (*codec.PageBlocks, bool) {
	if h.pk <= 0 || h.pk > maxBlockPK || h.first < 1 || from >= to {
		return nil, false
	}
	k0, k1 := blockOf(from), blockOf(to-1)
	if k1 > maxBlockNum {
		return nil, false
	}
	// Like the head statement, this one is a few seeks: it runs without
	// ctx's cancellation, which would cost more than it does.
	rows, err := db.blocks.QueryContext(context.WithoutCancel(ctx), h.pk, h.epoch, blockKey(h.pk, k0), blockKey(h.pk, k1), to-1)
	if err != nil {
		return nil, false
	}
	defer rows.Close()
	pb := codec.NewPageBlocks(from, to, blockSize, h.id, group, int(k1-k0+1))
	var (
		key  int64
		body sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&key, &body); err != nil {
			return nil, false
		}
		pb.Add(blockBase(key&maxBlockNum), body)
	}
	if rows.Err() != nil || int64(pb.Blocks()) != k1-k0+1 {
		return nil, false
	}
	return pb, true
}

// items decodes the page, or reports false when its blocks do not hold
// all of it (a damaged block, or seqs missing).
func (db *DB) items(pb *codec.PageBlocks) ([]backup.Checkpoint, bool) {
	dec := db.decoders.Get().(*codec.Decoder)
	defer db.decoders.Put(dec)
	items, err := pb.Decode(dec)
	if err != nil {
		db.blockDamage.Add(1)
		return nil, false
	}
	return items, len(items) == pb.Len()
}

// seq is the page's checkpoints as a sequence, each decoded into one
// reused value: nothing of the page is allocated but that value. It
// stops at a damaged block, so that it yields fewer checkpoints than the
// page has when its blocks do not hold all of it (codec.PageBlocks.Walk:
// damage is met before the last checkpoint a walk would yield).
func (db *DB) seq(pb *codec.PageBlocks) iter.Seq[*backup.Checkpoint] {
	return func(yield func(*backup.Checkpoint) bool) {
		dec := db.decoders.Get().(*codec.Decoder)
		defer db.decoders.Put(dec)
		var cp backup.Checkpoint
		if _, err := pb.Walk(dec, &cp, yield); err != nil {
			db.blockDamage.Add(1)
		}
	}
}

// admit reports whether a page read from blocks is worth decoding into
// the page cache: whether it was read once before, lately
// (cache.Admission).
func (db *DB) admit(k cache.PageKey) bool { return db.recent.Admit(k) }

// count is the number of checkpoints within the head's bounds.
func (h head) count() int64 { return h.last - h.first + 1 }
