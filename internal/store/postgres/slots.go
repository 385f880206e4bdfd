package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

const fromSlots = ` FROM slots s JOIN clusters c ON c.pk = s.cluster`

// querySlots reads rows of shape.SlotCols.
func querySlots(ctx context.Context, tx pgx.Tx, q string, args ...any) ([]backup.Slot, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []backup.Slot{}
	for rows.Next() {
		var r shape.SlotRow
		if err := rows.Scan(r.Dest()...); err != nil {
			return nil, err
		}
		s, err := r.Record()
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// params returns "$from, ..., $(from+n-1)".
func params(from, n int) string {
	p := make([]string, n)
	for i := range p {
		p[i] = "$" + strconv.Itoa(from+i)
	}
	return strings.Join(p, ", ")
}

// RecordSlot stores one slot's record (migrations/0013_slots.sql): an
// insert that replaces only a MISSED record, then, when it changed
// nothing, a read of the record in the way (locked by the insert's
// conflict check) to tell a retry from a conflict.
func (db *DB) RecordSlot(ctx context.Context, s backup.Slot) error {
	return db.RecordSlots(ctx, []backup.Slot{s})
}

// RecordSlots stores records as RecordSlot does, all or none, in one
// transaction: seeding a history's records uses it.
func (db *DB) RecordSlots(ctx context.Context, recs []backup.Slot) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	for i := range recs {
		if err := shape.CheckSlot(&recs[i]); err != nil {
			return err
		}
	}
	q := `INSERT INTO slots (` + shape.SlotInsertCols + `) VALUES (` + params(1, 10) + `)
ON CONFLICT (cluster, slot) DO UPDATE SET outcome = excluded.outcome, checkpoint_id = excluded.checkpoint_id,
  reason = excluded.reason, detail = excluded.detail, part = excluded.part, steps = excluded.steps,
  source = excluded.source, recorded = excluded.recorded
WHERE slots.outcome = 'MISSED' AND excluded.outcome <> 'MISSED'`
	return db.inTx(ctx, "record slot", func(tx pgx.Tx) error {
		pks := map[backup.ObjectID]int64{}
		for _, s := range recs {
			pk, ok := pks[s.ClusterID]
			if !ok {
				var err error
				if pk, err = resolveJobs(ctx, tx, store.Report, backup.ClusterRef{GroupID: s.GroupID, ID: s.ClusterID}); err != nil {
					return err
				}
				pks[s.ClusterID] = pk
			}
			args, err := shape.SlotArgs(&s)
			if err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, q, append([]any{pk}, args...)...)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 1 {
				continue
			}
			have, err := querySlots(ctx, tx, `SELECT `+shape.SlotCols+fromSlots+` WHERE s.cluster = $1 AND s.slot = $2`, pk, s.Time.Unix())
			if err != nil {
				return err
			}
			if len(have) != 1 || !shape.SameSlot(have[0], s) {
				return backup.ErrDuplicateSlot(s.ClusterID.Hex(), s.Time)
			}
		}
		return nil
	})
}

// slotWhere is the WHERE clause and arguments of a filter on cluster pk.
func slotWhere(pk int64, f backup.SlotFilter) (string, []any) {
	lo, hi := shape.SlotBounds(f.From, f.To)
	where, args := ` WHERE s.cluster = $1 AND s.slot >= $2 AND s.slot < $3`, []any{pk, lo, hi}
	if len(f.Outcomes) > 0 {
		where += ` AND s.outcome IN (` + params(4, len(f.Outcomes)) + `)`
		for _, o := range f.Outcomes {
			args = append(args, string(o))
		}
	}
	return where, args
}

// Slots returns one page of a cluster's slot records, newest first: an
// OFFSET read of the primary key backwards (a cluster keeps a few
// thousand records at most).
func (db *DB) Slots(ctx context.Context, cref backup.ClusterRef, f backup.SlotFilter, page backup.PageRequest) (_ backup.Page[backup.Slot], err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	var out backup.Page[backup.Slot]
	if _, err := store.Caller(ctx); err != nil {
		return out, err
	}
	offset, err := pageOffset(page)
	if err != nil {
		return out, err
	}
	err = db.inTx(ctx, "slots "+cref.Label(), func(tx pgx.Tx) error {
		pk, err := resolveJobs(ctx, tx, store.Read, cref)
		if err != nil {
			return err
		}
		where, args := slotWhere(pk, f)
		n := len(args)
		out.Items, err = querySlots(ctx, tx, `SELECT `+shape.SlotCols+fromSlots+where+
			` ORDER BY s.slot DESC LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, page.Size, offset)...)
		if err != nil || !page.IncludeCount {
			return err
		}
		var total int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM slots s`+where, args...).Scan(&total); err != nil {
			return err
		}
		out.Total = int(total)
		return nil
	})
	return out, err
}

// SlotCounts counts a cluster's slot records in a time range by outcome.
func (db *DB) SlotCounts(ctx context.Context, cref backup.ClusterRef, from, to time.Time) (_ backup.SlotCounts, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return nil, err
	}
	var out backup.SlotCounts
	err = db.inTx(ctx, "slot counts "+cref.Label(), func(tx pgx.Tx) error {
		out = backup.SlotCounts{}
		pk, err := resolveJobs(ctx, tx, store.Read, cref)
		if err != nil {
			return err
		}
		where, args := slotWhere(pk, backup.SlotFilter{From: from, To: to})
		rows, err := tx.Query(ctx, `SELECT s.outcome, count(*) FROM slots s`+where+` GROUP BY s.outcome`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o string
			var n int64
			if err := rows.Scan(&o, &n); err != nil {
				return err
			}
			out[backup.SlotOutcome(o)] = int(n)
		}
		return rows.Err()
	})
	return out, err
}

// CheckpointSlot returns the record of the slot that stored a checkpoint.
func (db *DB) CheckpointSlot(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID) (_ backup.Slot, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Slot{}, err
	}
	var out backup.Slot
	err = db.inTx(ctx, "checkpoint slot "+id.Hex(), func(tx pgx.Tx) error {
		pk, err := resolveJobs(ctx, tx, store.Read, cref)
		if err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM checkpoints WHERE id = $1 AND cluster = $2)`, id.Hex(), pk).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return backup.ErrCheckpointNotFound(id.Hex(), cref.Label())
		}
		have, err := querySlots(ctx, tx, `SELECT `+shape.SlotCols+fromSlots+` WHERE s.checkpoint_id = $1 AND s.cluster = $2`, id.Hex(), pk)
		if err != nil {
			return err
		}
		if len(have) == 0 {
			return backup.ErrSlotNotFound(id.Hex())
		}
		out = have[0]
		return nil
	})
	return out, err
}

// SlotClusters lists the clusters whose slots are expected: legacy backup
// STARTED and an interval set, any driver, ordered by id.
func (db *DB) SlotClusters(ctx context.Context) (_ []backup.Cluster, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+clusterCols+` FROM clusters c
WHERE c.ckpt_interval_min > 0 AND c.backup = 'LEGACY' AND c.backup_status IN ('', 'STARTED') ORDER BY c.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []backup.Cluster
	for rows.Next() {
		var row clusterRow
		if err := rows.Scan(row.dest()...); err != nil {
			return nil, err
		}
		c, _, err := row.cluster()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// RecordMissedSlots stores MISSED records for the slots of a cluster that
// have no record, no checkpoint and no unexpired claim, in one
// transaction; ON CONFLICT DO NOTHING leaves a slot that a racing sweep
// or report recorded meanwhile as that one wrote it.
func (db *DB) RecordMissedSlots(ctx context.Context, clusterID backup.ObjectID, slots []time.Time, reason backup.SlotReason, detail string) (_ int, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	if len(slots) == 0 {
		return 0, nil
	}
	now := db.clock.Now()
	var n int
	err = db.inTx(ctx, "missed slots "+clusterID.Hex(), func(tx pgx.Tx) error {
		n = 0
		var pk int64
		err := tx.QueryRow(ctx, `SELECT pk FROM clusters WHERE id = $1`, clusterID.Hex()).Scan(&pk)
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.ErrClusterIDNotFound(clusterID.Hex(), "")
		}
		if err != nil {
			return err
		}
		lo, hi := shape.SlotSpan(slots)
		taken := map[int64]bool{}
		for _, q := range []struct {
			stmt string
			args []any
		}{
			{`SELECT slot FROM slots WHERE cluster = $1 AND slot BETWEEN $2 AND $3`, []any{pk, lo, hi}},
			{`SELECT ts FROM checkpoints WHERE cluster = $1 AND ts BETWEEN $2 AND $3`, []any{pk, lo, hi}},
			{`SELECT slot FROM slot_claims WHERE cluster_id = $1 AND slot BETWEEN $2 AND $3 AND expires > $4`, []any{clusterID.Hex(), lo, hi, now.UnixMilli()}},
		} {
			rows, err := tx.Query(ctx, q.stmt, q.args...)
			if err != nil {
				return err
			}
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					rows.Close()
					return err
				}
				taken[v] = true
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		var todo []int64
		for _, sl := range slots {
			if !taken[sl.Unix()] {
				taken[sl.Unix()] = true
				todo = append(todo, sl.Unix())
			}
		}
		if len(todo) == 0 {
			return nil
		}
		// One statement for them all: unnest the slots.
		tag, err := tx.Exec(ctx, `INSERT INTO slots (`+shape.SlotInsertCols+`)
SELECT $1, u.slot, 'MISSED', '', $3, $4, '', '[]', $5, $6 FROM unnest($2::bigint[]) AS u (slot)
ON CONFLICT (cluster, slot) DO NOTHING`, pk, todo, string(reason), detail, string(backup.SourceSweep), now.Unix())
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		return nil
	})
	return n, err
}

// PruneSlots deletes a cluster's records of slots before cutoff.
func (db *DB) PruneSlots(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (_ int, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	lo, _ := shape.SlotBounds(cutoff, time.Time{})
	tag, err := db.pool.Exec(ctx, `DELETE FROM slots WHERE cluster = (SELECT pk FROM clusters WHERE id = $1) AND slot < $2`, clusterID.Hex(), lo)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}
