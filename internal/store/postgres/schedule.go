package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// UpdateCluster reads the cluster ref names, applies change to it and
// stores the result, in one transaction that first locks the cluster's
// row: updates of one cluster by several writers apply one after the
// other, each to what the previous one stored.
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
	change func(*backup.Cluster) error) (c backup.Cluster, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Cluster{}, err
	}
	err = db.inTx(ctx, "update cluster", func(tx pgx.Tx) error {
		// Read committed: the read below, a statement after the lock, sees
		// what a writer that held it committed. A cluster renamed or
		// deleted meanwhile is not locked, and not found.
		lock, key := refQuery(ref, `SELECT 1 FROM clusters WHERE group_id = $1 AND name = $2 FOR NO KEY UPDATE`,
			`SELECT 1 FROM clusters WHERE group_id = $1 AND id = $2 FOR NO KEY UPDATE`)
		if _, err := tx.Exec(ctx, lock, ref.GroupID.Hex(), key); err != nil {
			return err
		}
		stored, err := readCluster(ctx, tx, ref, need)
		if err != nil {
			return err
		}
		if c, err = apply(stored, change); err != nil {
			return err
		}
		cols, err := shape.ColumnsOf(c)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE clusters SET name = $1, type = $2, mongodb_version = $3, backup = $4,
  replica_set_name = $5, shards = $6, config = $7, ckpt_driver = $8, ckpt_interval_min = $9, pit_window_hours = $10,
  backup_status = $11, snapshot_schedule = $12, rpo_min = $13
  WHERE id = $14`,
			c.Name, string(c.Type), c.MongoDBVersion, string(c.Backup), c.ReplicaSetName, cols.Shards, cols.Config,
			cols.Driver, cols.IntervalMin, cols.WindowHours, cols.Status, cols.Snapshots, cols.ObjectiveMin, c.ID.Hex())
		if violation(err, codeUniqueViolation, "") {
			return backup.ErrDuplicateClusterName(c.Name, c.GroupID.Hex())
		}
		return err
	})
	if err != nil {
		return backup.Cluster{}, err
	}
	return c, nil
}

// Schedules lists the clusters the engine takes checkpoints of: legacy
// backup STARTED (backup.Cluster.TakesCheckpoints), the SIMULATED driver
// and an interval set, ordered by id.
func (db *DB) Schedules(ctx context.Context) (_ []backup.Cluster, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+clusterCols+` FROM clusters c
WHERE c.ckpt_driver = 'SIMULATED' AND c.ckpt_interval_min > 0 AND c.backup = 'LEGACY'
  AND c.backup_status IN ('', 'STARTED') ORDER BY c.id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: schedules: %w", err)
	}
	defer rows.Close()
	var out []backup.Cluster
	for rows.Next() {
		var row clusterRow
		if err := rows.Scan(row.dest()...); err != nil {
			return nil, fmt.Errorf("postgres: schedules: %w", err)
		}
		c, _, err := row.cluster()
		if err != nil {
			return nil, fmt.Errorf("postgres: schedules: %w", err)
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: schedules: %w", err)
	}
	return out, nil
}

// AddClaimedCheckpoint stores a checkpoint of a slot (its Timestamp) as
// AddCheckpoint does, in the same transaction as a check that owner
// still holds the slot's claim (ClaimSlot). A holder slower than its
// claim's ttl may have lost the slot to another owner, who then takes the
// checkpoint: the slow one's is refused (store.ErrClaimLost), so each slot
// has one checkpoint however slow a holder is.
//
// The check extends the claim, which marks the slot done and locks the
// claim row until commit: a takeover racing with this transaction waits
// for it and then finds an unexpired claim of another owner.
func (db *DB) AddClaimedCheckpoint(ctx context.Context, cp backup.Checkpoint, owner string) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	return db.inTx(ctx, "add claimed checkpoint", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE slot_claims SET expires = $1 WHERE cluster_id = $2 AND slot = $3 AND owner = $4`,
			db.clock.Now().Add(claimRetention).UnixMilli(), cp.ClusterID.Hex(), cp.Timestamp.Unix(), owner)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return store.ErrClaimLost(cp.ClusterID, cp.Timestamp.Unix(), owner)
		}
		w := &writer{tx: tx, clusters: map[backup.ObjectID]*clusterState{}, pendingIDs: map[string]int{}}
		if err := w.add(ctx, &cp); err != nil {
			return err
		}
		return w.flush(ctx)
	})
}
