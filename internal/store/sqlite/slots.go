package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

const fromSlots = ` FROM slots s JOIN clusters c ON c.pk = s.cluster`

// scanSlots reads rows of shape.SlotCols.
func scanSlots(rows *sql.Rows) ([]backup.Slot, error) {
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

// RecordSlot stores one slot's record (migrations/0013_slots.sql) in one
// write transaction: an insert that replaces only a MISSED record, then,
// when it changed nothing, a read of the record in the way to tell a
// retry from a conflict.
func (db *DB) RecordSlot(ctx context.Context, s backup.Slot) error {
	return db.RecordSlots(ctx, []backup.Slot{s})
}

// RecordSlots stores records as RecordSlot does, all or none, in one
// write transaction: seeding a history's records uses it.
func (db *DB) RecordSlots(ctx context.Context, recs []backup.Slot) (err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: record slot: %w", err)
	}
	defer rollback(tx)
	pks := map[backup.ObjectID]int64{}
	for _, s := range recs {
		if err := shape.CheckSlot(&s); err != nil {
			return err
		}
		pk, ok := pks[s.ClusterID]
		if !ok {
			if pk, err = resolveJobs(ctx, tx, store.Report, backup.ClusterRef{GroupID: s.GroupID, ID: s.ClusterID}); err != nil {
				return err
			}
			pks[s.ClusterID] = pk
		}
		if err := recordSlot(ctx, tx, pk, s); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: record slot: %w", err)
	}
	return nil
}

// recordSlot stores one checked record of cluster pk in tx.
func recordSlot(ctx context.Context, tx *sql.Tx, pk int64, s backup.Slot) error {
	args, err := shape.SlotArgs(&s)
	if err != nil {
		return fmt.Errorf("sqlite: record slot: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO slots (`+shape.SlotInsertCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (cluster, slot) DO UPDATE SET outcome = excluded.outcome, checkpoint_id = excluded.checkpoint_id,
  reason = excluded.reason, detail = excluded.detail, part = excluded.part, steps = excluded.steps,
  source = excluded.source, recorded = excluded.recorded
WHERE slots.outcome = 'MISSED' AND excluded.outcome <> 'MISSED'`, append([]any{pk}, args...)...)
	if err != nil {
		return fmt.Errorf("sqlite: record slot: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil || n == 1 {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+shape.SlotCols+fromSlots+` WHERE s.cluster = ? AND s.slot = ?`, pk, s.Time.Unix())
	if err != nil {
		return fmt.Errorf("sqlite: record slot: %w", err)
	}
	have, err := scanSlots(rows)
	if err != nil || len(have) != 1 {
		return fmt.Errorf("sqlite: record slot: conflict but %d records: %v", len(have), err)
	}
	if !shape.SameSlot(have[0], s) {
		return backup.ErrDuplicateSlot(s.ClusterID.Hex(), s.Time)
	}
	return nil
}

// slotWhere is the WHERE clause and arguments of a filter on cluster pk.
func slotWhere(pk int64, f backup.SlotFilter) (string, []any) {
	lo, hi := shape.SlotBounds(f.From, f.To)
	where, args := ` WHERE s.cluster = ? AND s.slot >= ? AND s.slot < ?`, []any{pk, lo, hi}
	if len(f.Outcomes) > 0 {
		where += ` AND s.outcome IN (?` + strings.Repeat(", ?", len(f.Outcomes)-1) + `)`
		for _, o := range f.Outcomes {
			args = append(args, string(o))
		}
	}
	return where, args
}

// Slots returns one page of a cluster's slot records, newest first. A
// cluster has one record per slot within its window (a few thousand at
// most), so a page is an OFFSET read of the primary key backwards.
func (db *DB) Slots(ctx context.Context, cref backup.ClusterRef, f backup.SlotFilter, page backup.PageRequest) (_ backup.Page[backup.Slot], err error) {
	defer db.classify(&err)
	var out backup.Page[backup.Slot]
	if _, err := store.Caller(ctx); err != nil {
		return out, err
	}
	offset, err := pageOffset(page)
	if err != nil {
		return out, err
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return out, fmt.Errorf("sqlite: slots: %w", err)
	}
	defer rollback(tx)
	pk, err := resolveJobs(ctx, tx, store.Read, cref)
	if err != nil {
		return out, err
	}
	where, args := slotWhere(pk, f)
	rows, err := tx.QueryContext(ctx, `SELECT `+shape.SlotCols+fromSlots+where+` ORDER BY s.slot DESC LIMIT ? OFFSET ?`,
		append(args, page.Size, offset)...)
	if err != nil {
		return out, fmt.Errorf("sqlite: slots: %w", err)
	}
	if out.Items, err = scanSlots(rows); err != nil {
		return out, fmt.Errorf("sqlite: slots: %w", err)
	}
	if page.IncludeCount {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM slots s`+where, args...).Scan(&out.Total); err != nil {
			return out, fmt.Errorf("sqlite: count slots: %w", err)
		}
	}
	return out, nil
}

// SlotCounts counts a cluster's slot records in a time range by outcome.
func (db *DB) SlotCounts(ctx context.Context, cref backup.ClusterRef, from, to time.Time) (_ backup.SlotCounts, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return nil, err
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return nil, fmt.Errorf("sqlite: slot counts: %w", err)
	}
	defer rollback(tx)
	pk, err := resolveJobs(ctx, tx, store.Read, cref)
	if err != nil {
		return nil, err
	}
	where, args := slotWhere(pk, backup.SlotFilter{From: from, To: to})
	rows, err := tx.QueryContext(ctx, `SELECT s.outcome, count(*) FROM slots s`+where+` GROUP BY s.outcome`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: slot counts: %w", err)
	}
	defer rows.Close()
	out := backup.SlotCounts{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			return nil, fmt.Errorf("sqlite: slot counts: %w", err)
		}
		out[backup.SlotOutcome(o)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: slot counts: %w", err)
	}
	return out, nil
}

// CheckpointSlot returns the record of the slot that stored a checkpoint.
func (db *DB) CheckpointSlot(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID) (_ backup.Slot, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Slot{}, err
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return backup.Slot{}, fmt.Errorf("sqlite: checkpoint slot: %w", err)
	}
	defer rollback(tx)
	pk, err := resolveJobs(ctx, tx, store.Read, cref)
	if err != nil {
		return backup.Slot{}, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM checkpoints WHERE id = ? AND cluster = ?`, id.Hex(), pk).Scan(&n); err != nil {
		return backup.Slot{}, fmt.Errorf("sqlite: checkpoint slot: %w", err)
	}
	if n == 0 {
		return backup.Slot{}, backup.ErrCheckpointNotFound(id.Hex(), cref.Label())
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+shape.SlotCols+fromSlots+` WHERE s.checkpoint_id = ? AND s.cluster = ?`, id.Hex(), pk)
	if err != nil {
		return backup.Slot{}, fmt.Errorf("sqlite: checkpoint slot: %w", err)
	}
	have, err := scanSlots(rows)
	if err != nil {
		return backup.Slot{}, fmt.Errorf("sqlite: checkpoint slot: %w", err)
	}
	if len(have) == 0 {
		return backup.Slot{}, backup.ErrSlotNotFound(id.Hex())
	}
	return have[0], nil
}

// SlotClusters lists the clusters whose slots are expected: legacy backup
// STARTED and an interval set, any driver, ordered by id.
func (db *DB) SlotClusters(ctx context.Context) (_ []backup.Cluster, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+clusterCols+` FROM clusters c
WHERE c.ckpt_interval_min > 0 AND c.backup = 'LEGACY' AND c.backup_status IN ('', 'STARTED') ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: slot clusters: %w", err)
	}
	defer rows.Close()
	var out []backup.Cluster
	for rows.Next() {
		var c backup.Cluster
		if _, err := scanCluster(rows, &c); err != nil {
			return nil, fmt.Errorf("sqlite: slot clusters: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: slot clusters: %w", err)
	}
	return out, nil
}

// RecordMissedSlots stores MISSED records for the slots of a cluster that
// have no record, no checkpoint and no unexpired claim, in one write
// transaction (which SQLite serializes across every process sharing the
// file, so racing sweeps find each other's rows).
func (db *DB) RecordMissedSlots(ctx context.Context, clusterID backup.ObjectID, slots []time.Time, reason backup.SlotReason, detail string) (_ int, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	if len(slots) == 0 {
		return 0, nil
	}
	now := db.clock.Now()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: missed slots: %w", err)
	}
	defer rollback(tx)
	var pk int64
	err = tx.QueryRowContext(ctx, `SELECT pk FROM clusters WHERE id = ?`, clusterID.Hex()).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, backup.ErrClusterIDNotFound(clusterID.Hex(), "")
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: missed slots: %w", err)
	}
	lo, hi := shape.SlotSpan(slots)
	taken := map[int64]bool{}
	for _, q := range []struct {
		stmt string
		args []any
	}{
		{`SELECT slot FROM slots WHERE cluster = ? AND slot BETWEEN ? AND ?`, []any{pk, lo, hi}},
		{`SELECT ts FROM checkpoints WHERE cluster = ? AND ts BETWEEN ? AND ?`, []any{pk, lo, hi}},
		{`SELECT slot FROM slot_claims WHERE cluster_id = ? AND slot BETWEEN ? AND ? AND expires > ?`, []any{clusterID.Hex(), lo, hi, now.UnixMilli()}},
	} {
		if err := collect(ctx, tx, taken, q.stmt, q.args...); err != nil {
			return 0, fmt.Errorf("sqlite: missed slots: %w", err)
		}
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO slots (`+shape.SlotInsertCols+`) VALUES (?, ?, 'MISSED', '', ?, ?, '', '[]', ?, ?)
ON CONFLICT (cluster, slot) DO NOTHING`)
	if err != nil {
		return 0, fmt.Errorf("sqlite: missed slots: %w", err)
	}
	defer stmt.Close()
	n := 0
	for _, sl := range slots {
		if taken[sl.Unix()] {
			continue
		}
		taken[sl.Unix()] = true
		res, err := stmt.ExecContext(ctx, pk, sl.Unix(), string(reason), detail, string(backup.SourceSweep), now.Unix())
		if err != nil {
			return 0, fmt.Errorf("sqlite: missed slots: %w", err)
		}
		k, err := res.RowsAffected()
		if err != nil {
			return 0, fmt.Errorf("sqlite: missed slots: %w", err)
		}
		n += int(k)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: missed slots: %w", err)
	}
	return n, nil
}

// collect adds the integers a one-column query returns to set.
func collect(ctx context.Context, tx *sql.Tx, set map[int64]bool, q string, args ...any) error {
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return err
		}
		set[v] = true
	}
	return rows.Err()
}

// PruneSlots deletes a cluster's records of slots before cutoff.
func (db *DB) PruneSlots(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (_ int, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	lo, _ := shape.SlotBounds(cutoff, time.Time{})
	res, err := db.w.ExecContext(ctx, `DELETE FROM slots WHERE cluster = (SELECT pk FROM clusters WHERE id = ?) AND slot < ?`, clusterID.Hex(), lo)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune slots: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}
