package postgres

import (
	"context"
	"fmt"

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
