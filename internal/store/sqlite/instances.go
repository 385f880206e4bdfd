package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/checkpointd/checkpointd/internal/store"
)

// Heartbeat records that instance id is alive until ttl from now
// (migrations/0011_instances.sql), deletes the instances whose last
// heartbeat has expired and the Digest nonce counts whose nonce has gone
// stale, and returns how many instances are alive, id included: one
// write transaction, once per heartbeat interval of each process on the
// file.
func (db *DB) Heartbeat(ctx context.Context, id string, ttl time.Duration) (_ int, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	if id == "" || ttl <= 0 {
		return 0, fmt.Errorf("sqlite: heartbeat: an id and a positive ttl are required")
	}
	now := db.clock.Now().UnixMilli()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: heartbeat: %w", err)
	}
	defer rollback(tx)
	if _, err := tx.ExecContext(ctx, `DELETE FROM instances WHERE expires <= ?`, now); err != nil {
		return 0, fmt.Errorf("sqlite: heartbeat: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM digest_nonces WHERE expires <= ?`, now); err != nil {
		return 0, fmt.Errorf("sqlite: heartbeat: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO instances (id, expires) VALUES (?1, ?2)
ON CONFLICT (id) DO UPDATE SET expires = excluded.expires`, id, now+ttl.Milliseconds()); err != nil {
		return 0, fmt.Errorf("sqlite: heartbeat: %w", err)
	}
	var live int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM instances`).Scan(&live); err != nil {
		return 0, fmt.Errorf("sqlite: heartbeat: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: heartbeat: %w", err)
	}
	return live, nil
}

// Leave removes instance id from the registry; the others count one
// fewer at their next heartbeat.
func (db *DB) Leave(ctx context.Context, id string) (err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if _, err := db.w.ExecContext(ctx, `DELETE FROM instances WHERE id = ?`, id); err != nil {
		return fmt.Errorf("sqlite: leave: %w", err)
	}
	return nil
}

// UseNonce records that count nc was used with a Digest nonce, until
// expires (migrations/0012_digest_nonces.sql), and reports whether it
// was new: one INSERT on the primary key, which SQLite serializes with
// every other process's writes to the file.
func (db *DB) UseNonce(ctx context.Context, nonce []byte, nc uint32, expires time.Time) (_ bool, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return false, err
	}
	res, err := db.w.ExecContext(ctx, `INSERT INTO digest_nonces (nonce, nc, expires) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING`,
		nonce, int64(nc), expires.UnixMilli())
	if err != nil {
		return false, fmt.Errorf("sqlite: use nonce: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: use nonce: %w", err)
	}
	return n == 1, nil
}
