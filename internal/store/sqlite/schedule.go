package sqlite

import (
	"context"
	"fmt"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// UpdateCluster replaces a cluster's name, type, version, backup kind,
// topology and schedule, found by id in its project.
func (db *DB) UpdateCluster(ctx context.Context, c backup.Cluster) (err error) {
	defer classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	if c.ID.IsZero() {
		return store.ErrMissingID("cluster")
	}
	cols, err := shape.ColumnsOf(c)
	if err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: update cluster %s: %w", c.ID.Hex(), err)
	}
	defer rollback(tx)
	group := c.GroupID.Hex()
	if err := authorizeProject(ctx, tx, store.Admin, c.GroupID); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE clusters SET name = ?, type = ?, mongodb_version = ?, backup = ?,
  replica_set_name = ?, shards = ?, config = ?, ckpt_driver = ?, ckpt_interval_min = ?, pit_window_hours = ?
  WHERE id = ? AND group_id = ?`,
		c.Name, string(c.Type), c.MongoDBVersion, string(c.Backup), c.ReplicaSetName, cols.Shards, cols.Config,
		cols.Driver, cols.IntervalMin, cols.WindowHours, c.ID.Hex(), group)
	if sqliteCode(err) == codeUnique {
		return backup.ErrDuplicateClusterName(c.Name, group)
	}
	if err != nil {
		return fmt.Errorf("sqlite: update cluster %s: %w", c.ID.Hex(), err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: update cluster %s: %w", c.ID.Hex(), err)
	} else if n == 0 {
		var exists int64
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = ?)`, group).Scan(&exists); err != nil {
			return fmt.Errorf("sqlite: update cluster %s: %w", c.ID.Hex(), err)
		}
		if exists == 0 {
			return backup.ErrGroupNotFound(group)
		}
		return backup.ErrClusterIDNotFound(c.ID.Hex(), group)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: update cluster %s: %w", c.ID.Hex(), err)
	}
	return nil
}

// Schedules lists the clusters the engine takes checkpoints of: legacy
// backup, the SIMULATED driver and an interval set, ordered by id.
func (db *DB) Schedules(ctx context.Context) (_ []backup.Cluster, err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+clusterCols+` FROM clusters c
WHERE c.ckpt_driver = 'SIMULATED' AND c.ckpt_interval_min > 0 AND c.backup = 'LEGACY' ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: schedules: %w", err)
	}
	defer rows.Close()
	var out []backup.Cluster
	for rows.Next() {
		var c backup.Cluster
		if _, err := scanCluster(rows, &c); err != nil {
			return nil, fmt.Errorf("sqlite: schedules: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: schedules: %w", err)
	}
	return out, nil
}

// AddClaimedCheckpoint stores a checkpoint of a slot (its Timestamp) as
// AddCheckpoint does, in the same write transaction as a check that
// owner still holds the slot's claim (ClaimSlot). A holder slower than
// its claim's ttl may have lost the slot to another owner, who then takes
// the checkpoint: the slow one's is refused (store.ErrClaimLost), so each
// slot has one checkpoint however slow a holder is.
func (db *DB) AddClaimedCheckpoint(ctx context.Context, cp backup.Checkpoint, owner string) (err error) {
	defer classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	return db.addCheckpoints(ctx, []backup.Checkpoint{cp}, func(w *writer) error {
		// Holding the claim is checked by extending it: the slot is then
		// done, and a takeover racing with this transaction finds an
		// unexpired claim of another owner.
		res, err := w.tx.ExecContext(ctx, `UPDATE slot_claims SET expires = ? WHERE cluster_id = ? AND slot = ? AND owner = ?`,
			db.clock.Now().Add(claimRetention).UnixMilli(), cp.ClusterID.Hex(), cp.Timestamp.Unix(), owner)
		if err != nil {
			return fmt.Errorf("sqlite: add claimed checkpoint %s: %w", cp.ID.Hex(), err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: add claimed checkpoint %s: %w", cp.ID.Hex(), err)
		} else if n == 0 {
			return store.ErrClaimLost(cp.ClusterID, cp.Timestamp.Unix(), owner)
		}
		return nil
	})
}
