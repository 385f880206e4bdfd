package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// newestRestorableQuery reads every legacy cluster with the timestamp of
// its newest restorable checkpoint: a scan of the clusters (one row each,
// every one of them is wanted) and, per cluster, one seek to the end of
// its range of the partial index checkpoints_restorable
// (migrations/0005_restorable.sql). Seqs follow timestamps, but the index
// is what makes the seek independent of how many of the newest
// checkpoints are not restorable.
const newestRestorableQuery = `SELECT c.group_id, c.id, c.name,
  (SELECT ts FROM checkpoints WHERE cluster = c.pk AND restorable = 1 ORDER BY ts DESC LIMIT 1)
FROM clusters c
WHERE c.backup = '` + string(backup.BackupLegacy) + `'
ORDER BY c.group_id, c.name`

// NewestRestorable returns the newest restore point of every cluster under
// legacy backup, in one statement (one snapshot of the file).
func (db *DB) NewestRestorable(ctx context.Context) (_ []backup.RestorePoint, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, newestRestorableQuery)
	if err != nil {
		return nil, fmt.Errorf("sqlite: newest restorable: %w", err)
	}
	defer rows.Close()
	out := []backup.RestorePoint{}
	for rows.Next() {
		var group, id string
		var p backup.RestorePoint
		var ts sql.NullInt64
		if err := rows.Scan(&group, &id, &p.ClusterName, &ts); err != nil {
			return nil, fmt.Errorf("sqlite: newest restorable: %w", err)
		}
		if p.GroupID, err = shape.ParseIDString(group); err != nil {
			return nil, fmt.Errorf("sqlite: newest restorable: %w", err)
		}
		if p.ClusterID, err = shape.ParseIDString(id); err != nil {
			return nil, fmt.Errorf("sqlite: newest restorable: %w", err)
		}
		if ts.Valid {
			p.Timestamp = shape.UnixTime(ts.Int64)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: newest restorable: %w", err)
	}
	return out, nil
}

// restorableHistoryQuery reads, for the cluster ?1, the restorable
// timestamps an objective report needs, in one statement over the partial
// index checkpoints_restorable: the newest before ?2 (kind 0, a backward
// seek), those in [?2, ?3] (kind 1, one range) and the newest of all
// (kind 2, a seek to the end of the cluster's range). Its cost is the
// range's restorable checkpoints, whatever the table holds besides.
const restorableHistoryQuery = `SELECT 0, ts FROM (SELECT ts FROM checkpoints
  WHERE cluster = ?1 AND restorable = 1 AND ts < ?2 ORDER BY ts DESC LIMIT 1)
UNION ALL
SELECT 1, ts FROM (SELECT ts FROM checkpoints
  WHERE cluster = ?1 AND restorable = 1 AND ts >= ?2 AND ts <= ?3 ORDER BY ts)
UNION ALL
SELECT 2, ts FROM (SELECT ts FROM checkpoints
  WHERE cluster = ?1 AND restorable = 1 ORDER BY ts DESC LIMIT 1)`

// RestorableHistory reads the restorable checkpoint times of the
// referenced cluster in [from, to], with the newest before from and the
// newest of all, resolving the reference in the same read transaction.
func (db *DB) RestorableHistory(ctx context.Context, cref backup.ClusterRef, from, to time.Time) (_ backup.RestorableHistory, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.RestorableHistory{}, err
	}
	out := backup.RestorableHistory{From: from, To: to}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return out, fmt.Errorf("sqlite: restorable history: %w", err)
	}
	defer rollback(tx)
	r, err := db.resolve(ctx, tx, cref)
	if err != nil {
		return out, err
	}
	rows, err := tx.QueryContext(ctx, restorableHistoryQuery, r.pk, from.Unix(), to.Unix())
	if err != nil {
		return out, fmt.Errorf("sqlite: restorable history of %s: %w", cref.Label(), err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, ts int64
		if err := rows.Scan(&kind, &ts); err != nil {
			return out, fmt.Errorf("sqlite: restorable history of %s: %w", cref.Label(), err)
		}
		shape.AddRestorable(&out, kind, shape.UnixTime(ts))
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("sqlite: restorable history of %s: %w", cref.Label(), err)
	}
	return out, nil
}

// restorableSinceQuery reads every legacy cluster with the newest
// restorable timestamp before ?1 (a backward seek of checkpoints_restorable),
// those from ?1 on (a range of it, as one list: group_concat's order is not
// promised, AddRestorable sorts them), and its slot records from ?1 on, all
// and TAKEN (ranges of the slots primary key and of slots_outcome).
const restorableSinceQuery = `SELECT
  (SELECT ts FROM checkpoints WHERE cluster = c.pk AND restorable = 1 AND ts < ?1 ORDER BY ts DESC LIMIT 1),
  (SELECT group_concat(ts) FROM checkpoints WHERE cluster = c.pk AND restorable = 1 AND ts >= ?1),
  (SELECT count(*) FROM slots WHERE cluster = c.pk AND slot >= ?1),
  (SELECT count(*) FROM slots WHERE cluster = c.pk AND outcome = '` + string(backup.SlotTaken) + `' AND slot >= ?1),
  ` + clusterCols + `
FROM clusters c
WHERE c.backup = '` + string(backup.BackupLegacy) + `'
ORDER BY c.group_id, c.name`

// RestorableSince returns every legacy cluster with its restorable
// history since since, in one statement.
func (db *DB) RestorableSince(ctx context.Context, since time.Time) (_ []backup.ClusterHistory, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, restorableSinceQuery, since.Unix())
	if err != nil {
		return nil, fmt.Errorf("sqlite: restorable since: %w", err)
	}
	defer rows.Close()
	out := []backup.ClusterHistory{}
	for rows.Next() {
		var before sql.NullInt64
		var in sql.NullString
		var ch backup.ClusterHistory
		if _, err := scanCluster(rows, &ch.Cluster, &before, &in, &ch.Slots.Total, &ch.Slots.Restorable); err != nil {
			return nil, fmt.Errorf("sqlite: restorable since: %w", err)
		}
		ch.Slots.Recorded = true
		h := &ch.History
		h.From = since
		if before.Valid {
			shape.AddRestorable(h, shape.RestorableBefore, shape.UnixTime(before.Int64))
		}
		if in.Valid {
			for _, f := range strings.Split(in.String, ",") {
				ts, err := strconv.ParseInt(f, 10, 64)
				if err != nil {
					return nil, fmt.Errorf("sqlite: restorable since: %q: %w", in.String, err)
				}
				shape.AddRestorable(h, shape.RestorableIn, shape.UnixTime(ts))
			}
		}
		h.Newest = h.Before
		if n := len(h.In); n > 0 {
			h.Newest = h.In[n-1]
		}
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: restorable since: %w", err)
	}
	return out, nil
}
