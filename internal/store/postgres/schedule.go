package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// UpdateCluster replaces a cluster's name, type, version, backup kind,
// topology and schedule, found by id in its project.
func (db *DB) UpdateCluster(ctx context.Context, c backup.Cluster) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
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
	group := c.GroupID.Hex()
	// Projects never change organization: the check holds for the update.
	if err := authorizeProject(ctx, db.pool, store.Admin, c.GroupID); err != nil {
		return err
	}
	tag, err := db.pool.Exec(ctx, `UPDATE clusters SET name = $1, type = $2, mongodb_version = $3, backup = $4,
  replica_set_name = $5, shards = $6, config = $7, ckpt_driver = $8, ckpt_interval_min = $9, pit_window_hours = $10
  WHERE id = $11 AND group_id = $12`,
		c.Name, string(c.Type), c.MongoDBVersion, string(c.Backup), c.ReplicaSetName, cols.Shards, cols.Config,
		cols.Driver, cols.IntervalMin, cols.WindowHours, c.ID.Hex(), group)
	if violation(err, codeUniqueViolation, "") {
		return backup.ErrDuplicateClusterName(c.Name, group)
	}
	if err != nil {
		return fmt.Errorf("postgres: update cluster %s: %w", c.ID.Hex(), err)
	}
	if tag.RowsAffected() == 0 {
		var exists bool
		if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)`, group).Scan(&exists); err != nil {
			return fmt.Errorf("postgres: update cluster %s: %w", c.ID.Hex(), err)
		}
		if !exists {
			return backup.ErrGroupNotFound(group)
		}
		return backup.ErrClusterIDNotFound(c.ID.Hex(), group)
	}
	return nil
}

// Schedules lists the clusters the engine takes checkpoints of: legacy
// backup, the SIMULATED driver and an interval set, ordered by id.
func (db *DB) Schedules(ctx context.Context) (_ []backup.Cluster, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+clusterCols+` FROM clusters c
WHERE c.ckpt_driver = 'SIMULATED' AND c.ckpt_interval_min > 0 AND c.backup = 'LEGACY' ORDER BY c.id`)
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
