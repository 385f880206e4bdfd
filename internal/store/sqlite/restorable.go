package sqlite

import (
	"context"
	"database/sql"
	"fmt"

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
