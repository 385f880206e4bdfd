package sqlite

import (
	"context"
	"fmt"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// UpdateCluster reads the cluster ref names, applies change to it and
// stores the result, in one write transaction: updates of one cluster by
// several writers (this process's, another's) apply one after the other,
// each to what the previous one stored.
func (db *DB) UpdateCluster(ctx context.Context, ref backup.ClusterRef, change func(*backup.Cluster) error) (backup.Cluster, error) {
	return db.update(ctx, ref, store.Admin, shape.Change, change)
}

// UpdateBackup is UpdateCluster for a caller who may change the cluster's
// backup (store.Report): change may set only the backup's state and
// schedule (shape.BackupChange).
func (db *DB) UpdateBackup(ctx context.Context, ref backup.ClusterRef, change func(*backup.Cluster) error) (backup.Cluster, error) {
	return db.update(ctx, ref, store.Report, shape.BackupChange, change)
}

// update is UpdateCluster and UpdateBackup: the caller must hold need on
// the cluster's project, and apply decides what change may do.
func (db *DB) update(ctx context.Context, ref backup.ClusterRef, need store.Need,
	apply func(backup.Cluster, func(*backup.Cluster) error) (backup.Cluster, error),
	change func(*backup.Cluster) error) (_ backup.Cluster, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Cluster{}, err
	}
	// _txlock=immediate: the write lock is taken at BEGIN, before the read.
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return backup.Cluster{}, fmt.Errorf("sqlite: update cluster %s: %w", ref.Label(), err)
	}
	defer rollback(tx)
	c, err := readCluster(ctx, tx, ref, need)
	if err != nil {
		return backup.Cluster{}, err
	}
	if c, err = apply(c, change); err != nil {
		return backup.Cluster{}, err
	}
	cols, err := shape.ColumnsOf(c)
	if err != nil {
		return backup.Cluster{}, err
	}
	_, err = tx.ExecContext(ctx, `UPDATE clusters SET name = ?, type = ?, mongodb_version = ?, backup = ?,
  replica_set_name = ?, shards = ?, config = ?, ckpt_driver = ?, ckpt_interval_min = ?, pit_window_hours = ?,
  backup_status = ?, snapshot_schedule = ?, rpo_min = ?
  WHERE id = ?`,
		c.Name, string(c.Type), c.MongoDBVersion, string(c.Backup), c.ReplicaSetName, cols.Shards, cols.Config,
		cols.Driver, cols.IntervalMin, cols.WindowHours, cols.Status, cols.Snapshots, cols.ObjectiveMin, c.ID.Hex())
	if sqliteCode(err) == codeUnique {
		return backup.Cluster{}, backup.ErrDuplicateClusterName(c.Name, c.GroupID.Hex())
	}
	if err != nil {
		return backup.Cluster{}, fmt.Errorf("sqlite: update cluster %s: %w", c.ID.Hex(), err)
	}
	if err := tx.Commit(); err != nil {
		return backup.Cluster{}, fmt.Errorf("sqlite: update cluster %s: %w", c.ID.Hex(), err)
	}
	return c, nil
}

// Schedules lists the clusters the engine takes checkpoints of: legacy
// backup STARTED (backup.Cluster.TakesCheckpoints), the SIMULATED driver
// and an interval set, ordered by id.
func (db *DB) Schedules(ctx context.Context) (_ []backup.Cluster, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+clusterCols+` FROM clusters c
WHERE c.ckpt_driver = 'SIMULATED' AND c.ckpt_interval_min > 0 AND c.backup = 'LEGACY'
  AND c.backup_status IN ('', 'STARTED') ORDER BY c.id`)
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
	defer db.classify(&err)
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
