package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/jackc/pgx/v5"
)

// claimRetention is how long a claim is kept past its expiry before a
// later claim deletes it.
const claimRetention = 24 * time.Hour

// ClaimSlot claims a cluster's checkpoint slot for owner for ttl
// (migrations/0004_slot_claims.sql). It reports false when the slot is
// done (a checkpoint of the cluster has the slot as its timestamp) or
// another owner's claim on it has not expired; an expired claim is taken
// over, and owner's own claim is renewed.
//
// Whether the slot is done is read from the checkpoints themselves, so
// that storing a checkpoint needs no second write: a read of the
// cluster's rows in primary-key order (no index has the timestamp), one
// retention window of them, once per slot.
//
// Racing claims meet on the row of (cluster, slot): INSERT … ON CONFLICT
// makes a second inserter wait for the first to commit and then evaluate
// the DO UPDATE's WHERE against the committed row, and two takers of an
// expired claim are serialized by its row lock the same way, so exactly
// one of them writes the row and wins.
func (db *DB) ClaimSlot(ctx context.Context, clusterID backup.ObjectID, slot time.Time, owner string, ttl time.Duration) (_ bool, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return false, err
	}
	if owner == "" || ttl <= 0 {
		return false, fmt.Errorf("postgres: claim slot: an owner and a positive ttl are required")
	}
	var won bool
	err = db.inTx(ctx, "claim slot", func(tx pgx.Tx) error {
		won = false
		now := db.clock.Now()
		if _, err := tx.Exec(ctx, `DELETE FROM slot_claims WHERE expires < $1`, now.Add(-claimRetention).UnixMilli()); err != nil {
			return err
		}
		id := clusterID.Hex()
		var done bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM checkpoints
WHERE cluster = (SELECT pk FROM clusters WHERE id = $1) AND ts = $2)`, id, slot.Unix()).Scan(&done); err != nil {
			return err
		}
		if done {
			return nil
		}
		tag, err := tx.Exec(ctx, `INSERT INTO slot_claims AS c (cluster_id, slot, owner, expires) VALUES ($1, $2, $3, $4)
ON CONFLICT (cluster_id, slot) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
WHERE c.expires <= $5 OR c.owner = excluded.owner`,
			id, slot.Unix(), owner, now.Add(ttl).UnixMilli(), now.UnixMilli())
		if err != nil {
			return err
		}
		won = tag.RowsAffected() == 1
		return nil
	})
	if err != nil {
		return false, err
	}
	return won, nil
}
