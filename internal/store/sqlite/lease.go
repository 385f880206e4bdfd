package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
)

// claimRetention is how long a claim is kept past its expiry before a
// later claim deletes it.
const claimRetention = 24 * time.Hour

// ClaimSlot claims a cluster's checkpoint slot for owner for ttl
// (migrations/0004_slot_claims.sql), in one write transaction, which
// SQLite serializes across every process sharing the file. It reports
// false when the slot is done (a checkpoint of the cluster has the slot
// as its timestamp) or another owner's claim on it has not expired; an
// expired claim is taken over, and owner's own claim is renewed.
//
// Whether the slot is done is read from the checkpoints themselves, so
// that storing a checkpoint needs no second write: a read of the
// cluster's rows in primary-key order (no index has the timestamp), one
// retention window of them, once per slot.
func (db *DB) ClaimSlot(ctx context.Context, clusterID backup.ObjectID, slot time.Time, owner string, ttl time.Duration) (_ bool, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return false, err
	}
	if owner == "" || ttl <= 0 {
		return false, fmt.Errorf("sqlite: claim slot: an owner and a positive ttl are required")
	}
	now := db.clock.Now()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: claim slot: %w", err)
	}
	defer rollback(tx)
	if _, err := tx.ExecContext(ctx, `DELETE FROM slot_claims WHERE expires < ?`, now.Add(-claimRetention).UnixMilli()); err != nil {
		return false, fmt.Errorf("sqlite: claim slot: prune: %w", err)
	}
	id := clusterID.Hex()
	var done int64
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM checkpoints
WHERE cluster = (SELECT pk FROM clusters WHERE id = ?1) AND ts = ?2)`, id, slot.Unix()).Scan(&done); err != nil {
		return false, fmt.Errorf("sqlite: claim slot: %w", err)
	}
	if done != 0 {
		return false, nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO slot_claims (cluster_id, slot, owner, expires) VALUES (?1, ?2, ?3, ?4)
ON CONFLICT (cluster_id, slot) DO UPDATE SET owner = excluded.owner, expires = excluded.expires
WHERE slot_claims.expires <= ?5 OR slot_claims.owner = excluded.owner`,
		id, slot.Unix(), owner, now.Add(ttl).UnixMilli(), now.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("sqlite: claim slot: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: claim slot: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: claim slot: %w", err)
	}
	return n == 1, nil
}
