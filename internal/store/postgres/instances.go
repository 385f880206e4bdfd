package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/jackc/pgx/v5"
)

// Heartbeat records that instance id is alive until ttl from now
// (migrations/0011_instances.sql), deletes the instances whose last
// heartbeat has expired and the Digest nonce counts whose nonce has gone
// stale, and returns how many instances are alive, id included: one
// transaction, once per heartbeat interval of each instance.
func (db *DB) Heartbeat(ctx context.Context, id string, ttl time.Duration) (_ int, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	if id == "" || ttl <= 0 {
		return 0, fmt.Errorf("postgres: heartbeat: an id and a positive ttl are required")
	}
	var live int
	err = db.inTx(ctx, "heartbeat", func(tx pgx.Tx) error {
		now := db.clock.Now().UnixMilli()
		if _, err := tx.Exec(ctx, `DELETE FROM instances WHERE expires <= $1`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM digest_nonces WHERE expires <= $1`, now); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO instances (id, expires) VALUES ($1, $2)
ON CONFLICT (id) DO UPDATE SET expires = excluded.expires`, id, now+ttl.Milliseconds()); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM instances`).Scan(&live)
	})
	return live, err
}

// Leave removes instance id from the registry; the others count one
// fewer at their next heartbeat.
func (db *DB) Leave(ctx context.Context, id string) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if _, err := db.pool.Exec(ctx, `DELETE FROM instances WHERE id = $1`, id); err != nil {
		return fmt.Errorf("postgres: leave: %w", err)
	}
	return nil
}

// UseNonce records that count nc was used with a Digest nonce, until
// expires (migrations/0012_digest_nonces.sql), and reports whether it
// was new: one INSERT on the primary key, in its own implicit
// transaction, so that of two processes racing with one count exactly one
// inserts the row.
func (db *DB) UseNonce(ctx context.Context, nonce []byte, nc uint32, expires time.Time) (_ bool, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return false, err
	}
	tag, err := db.pool.Exec(ctx, `INSERT INTO digest_nonces (nonce, nc, expires) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
		nonce, int64(nc), expires.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("postgres: use nonce: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
