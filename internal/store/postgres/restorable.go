package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// newestRestorableQuery reads every legacy cluster with the timestamp of
// its newest restorable checkpoint: a scan of the clusters (one row each,
// every one of them is wanted) and, per cluster, one backward seek of the
// partial index checkpoints_restorable (migrations/0005_restorable.sql),
// however many of the newest checkpoints are not restorable.
const newestRestorableQuery = `SELECT c.group_id, c.id, c.name,
  (SELECT max(ts) FROM checkpoints WHERE cluster = c.pk AND restorable)
FROM clusters c
WHERE c.backup = '` + string(backup.BackupLegacy) + `'
ORDER BY c.group_id, c.name`

// NewestRestorable returns the newest restore point of every cluster under
// legacy backup, in one statement (one snapshot of the database).
func (db *DB) NewestRestorable(ctx context.Context) (_ []backup.RestorePoint, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, newestRestorableQuery)
	if err != nil {
		return nil, fmt.Errorf("postgres: newest restorable: %w", err)
	}
	defer rows.Close()
	out := []backup.RestorePoint{}
	for rows.Next() {
		var group, id string
		var p backup.RestorePoint
		var ts pgtype.Int8
		if err := rows.Scan(&group, &id, &p.ClusterName, &ts); err != nil {
			return nil, fmt.Errorf("postgres: newest restorable: %w", err)
		}
		if p.GroupID, err = shape.ParseIDString(group); err != nil {
			return nil, fmt.Errorf("postgres: newest restorable: %w", err)
		}
		if p.ClusterID, err = shape.ParseIDString(id); err != nil {
			return nil, fmt.Errorf("postgres: newest restorable: %w", err)
		}
		if ts.Valid {
			p.Timestamp = shape.UnixTime(ts.Int64)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: newest restorable: %w", err)
	}
	return out, nil
}

// restorableHistoryQuery builds the statement that reads, with the
// reference it is asked through, the restorable timestamps an objective
// report needs, from one snapshot and the partial index
// checkpoints_restorable: the newest before $3 (kind 0, a backward seek),
// those in [$3, $4] (kind 1, one range) and the newest of all (kind 2).
// The first row carries the reference (repeated on every row); a cluster
// without any is one row with NULL kind and ts.
func restorableHistoryQuery(from string) string {
	return `WITH h (org_id, pk, id, backup, epoch) AS MATERIALIZED (
  SELECT p.org_id, c.pk, c.id, c.backup, c.epoch` + from + `)
SELECT h.org_id, h.pk, h.id, h.backup, h.epoch, k.kind, k.ts
FROM h
LEFT JOIN LATERAL (
  (SELECT 0 AS kind, ts FROM checkpoints WHERE cluster = h.pk AND restorable AND ts < $3 ORDER BY ts DESC LIMIT 1)
  UNION ALL
  (SELECT 1, ts FROM checkpoints WHERE cluster = h.pk AND restorable AND ts >= $3 AND ts <= $4)
  UNION ALL
  (SELECT 2, ts FROM checkpoints WHERE cluster = h.pk AND restorable ORDER BY ts DESC LIMIT 1)
) AS k ON h.backup <> ` + cloudBackup + `
ORDER BY k.kind, k.ts`
}

var (
	restorableHistoryByName = restorableHistoryQuery(fromRefByName)
	restorableHistoryByID   = restorableHistoryQuery(fromRefByID)
)

// RestorableHistory reads the restorable checkpoint times of the
// referenced cluster in [from, to], with the newest before from and the
// newest of all, and the reference, in one statement.
func (db *DB) RestorableHistory(ctx context.Context, cref backup.ClusterRef, from, to time.Time) (_ backup.RestorableHistory, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.RestorableHistory{}, err
	}
	out := backup.RestorableHistory{From: from, To: to}
	q, key := refQuery(cref, restorableHistoryByName, restorableHistoryByID)
	rows, err := db.pool.Query(ctx, q, cref.GroupID.Hex(), key, from.Unix(), to.Unix())
	if err != nil {
		return out, fmt.Errorf("postgres: restorable history of %s: %w", cref.Label(), err)
	}
	defer rows.Close()
	var (
		rr       refRow
		kind, ts pgtype.Int8
	)
	for n := 0; rows.Next(); n++ {
		if err := rows.Scan(&rr.org, &rr.pk, &rr.id, &rr.kind, &rr.epoch, &kind, &ts); err != nil {
			return out, fmt.Errorf("postgres: restorable history of %s: %w", cref.Label(), err)
		}
		if n == 0 {
			if _, err := rr.resolve(ctx, cref); err != nil {
				return out, err
			}
		}
		if kind.Valid && ts.Valid {
			shape.AddRestorable(&out, kind.Int64, shape.UnixTime(ts.Int64))
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("postgres: restorable history of %s: %w", cref.Label(), err)
	}
	return out, nil
}

// restorableSinceQuery reads every legacy cluster with the newest
// restorable timestamp before $1 (a backward seek of
// checkpoints_restorable), as an array in order those from $1 on (a range
// of it), and its slot records from $1 on, all and TAKEN (ranges of the
// slots primary key and of slots_outcome).
const restorableSinceQuery = `SELECT
  (SELECT max(ts) FROM checkpoints WHERE cluster = c.pk AND restorable AND ts < $1),
  ARRAY(SELECT ts FROM checkpoints WHERE cluster = c.pk AND restorable AND ts >= $1 ORDER BY ts),
  (SELECT count(*) FROM slots WHERE cluster = c.pk AND slot >= $1),
  (SELECT count(*) FROM slots WHERE cluster = c.pk AND outcome = '` + string(backup.SlotTaken) + `' AND slot >= $1),
  ` + clusterCols + `
FROM clusters c
WHERE c.backup = '` + string(backup.BackupLegacy) + `'
ORDER BY c.group_id, c.name`

// RestorableSince returns every legacy cluster with its restorable
// history since since, in one statement.
func (db *DB) RestorableSince(ctx context.Context, since time.Time) (_ []backup.ClusterHistory, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, restorableSinceQuery, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("postgres: restorable since: %w", err)
	}
	defer rows.Close()
	out := []backup.ClusterHistory{}
	for rows.Next() {
		var (
			before       pgtype.Int8
			in           []int64
			slots, taken int64
			row          clusterRow
		)
		if err := rows.Scan(append([]any{&before, &in, &slots, &taken}, row.dest()...)...); err != nil {
			return nil, fmt.Errorf("postgres: restorable since: %w", err)
		}
		c, _, err := row.cluster()
		if err != nil {
			return nil, fmt.Errorf("postgres: restorable since: %w", err)
		}
		ch := backup.ClusterHistory{Cluster: c, History: backup.RestorableHistory{From: since},
			Slots: backup.SlotTally{Total: int(slots), Restorable: int(taken), Recorded: true}}
		h := &ch.History
		if before.Valid {
			shape.AddRestorable(h, shape.RestorableBefore, shape.UnixTime(before.Int64))
		}
		for _, ts := range in {
			shape.AddRestorable(h, shape.RestorableIn, shape.UnixTime(ts))
		}
		h.Newest = h.Before
		if n := len(h.In); n > 0 {
			h.Newest = h.In[n-1]
		}
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: restorable since: %w", err)
	}
	return out, nil
}
