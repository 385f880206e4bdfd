package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// resolveJobs resolves a reference for the restore job methods inside tx:
// the store.Resolve answers for need, then the cluster's pk.
func resolveJobs(ctx context.Context, tx *sql.Tx, need store.Need, cref backup.ClusterRef) (int64, error) {
	q, key := `SELECT `+projectOrg+`, c.pk, c.backup`+fromRefByName, cref.Name
	if !cref.ByName() {
		q, key = `SELECT `+projectOrg+`, c.pk, c.backup`+fromRefByID, cref.ID.Hex()
	}
	var org, kind sql.NullString
	var pk sql.NullInt64
	if err := tx.QueryRowContext(ctx, q, cref.GroupID.Hex(), key).Scan(&org, &pk, &kind); err != nil {
		return 0, fmt.Errorf("sqlite: resolve %s: %w", cref.Label(), err)
	}
	if err := store.Resolve(ctx, need, cref, org.String, org.Valid, pk.Valid, kind.String == string(backup.BackupCloud)); err != nil {
		return 0, err
	}
	return pk.Int64, nil
}

const fromJobs = ` FROM restore_jobs j JOIN clusters c ON c.pk = j.cluster`

// scanJobs reads rows of shape.RestoreJobCols.
func scanJobs(rows *sql.Rows) ([]backup.RestoreJob, error) {
	defer rows.Close()
	out := []backup.RestoreJob{}
	for rows.Next() {
		var r shape.RestoreJobRow
		if err := rows.Scan(r.Dest()...); err != nil {
			return nil, err
		}
		j, err := r.Job()
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// CreateRestoreJobs stores one batch of restore jobs of one cluster.
func (db *DB) CreateRestoreJobs(ctx context.Context, jobs []backup.RestoreJob) (err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	if err := shape.CheckRestoreBatch(jobs); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create restore jobs: %w", err)
	}
	defer rollback(tx)
	pk, err := resolveJobs(ctx, tx, store.Report, backup.ClusterRef{GroupID: jobs[0].GroupID, ID: jobs[0].ClusterID})
	if err != nil {
		return err
	}
	q := `INSERT INTO restore_jobs (` + shape.RestoreJobInsertCols + `) VALUES (?` + strings.Repeat(", ?", 18) + `)`
	for i := range jobs {
		if _, err := tx.ExecContext(ctx, q, append([]any{pk}, shape.RestoreJobArgs(&jobs[i])...)...); err != nil {
			return fmt.Errorf("sqlite: create restore job %s: %w", jobs[i].ID.Hex(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create restore jobs: %w", err)
	}
	return nil
}

// RestoreJobs returns one page of a cluster's restore jobs, of one batch
// unless batch is zero. Jobs are few (one per part per request), so a
// page is an OFFSET read of the (cluster, id) index.
func (db *DB) RestoreJobs(ctx context.Context, cref backup.ClusterRef, batch backup.ObjectID, page backup.PageRequest) (_ backup.Page[backup.RestoreJob], err error) {
	defer db.classify(&err)
	var out backup.Page[backup.RestoreJob]
	if _, err := store.Caller(ctx); err != nil {
		return out, err
	}
	offset, err := pageOffset(page)
	if err != nil {
		return out, err
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return out, fmt.Errorf("sqlite: restore jobs: %w", err)
	}
	defer rollback(tx)
	pk, err := resolveJobs(ctx, tx, store.Read, cref)
	if err != nil {
		return out, err
	}
	where, args := ` WHERE j.cluster = ?`, []any{pk}
	if !batch.IsZero() {
		where, args = where+` AND j.batch_id = ?`, append(args, batch.Hex())
	}
	rows, err := tx.QueryContext(ctx, `SELECT `+shape.RestoreJobCols+fromJobs+where+` ORDER BY j.id LIMIT ? OFFSET ?`,
		append(args, page.Size, offset)...)
	if err != nil {
		return out, fmt.Errorf("sqlite: restore jobs: %w", err)
	}
	if out.Items, err = scanJobs(rows); err != nil {
		return out, fmt.Errorf("sqlite: restore jobs: %w", err)
	}
	if page.IncludeCount {
		if err := tx.QueryRowContext(ctx, `SELECT count(*)`+fromJobs+where, args...).Scan(&out.Total); err != nil {
			return out, fmt.Errorf("sqlite: count restore jobs: %w", err)
		}
	}
	return out, nil
}

// RestoreJob returns one restore job of a cluster.
func (db *DB) RestoreJob(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID) (_ backup.RestoreJob, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.RestoreJob{}, err
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return backup.RestoreJob{}, fmt.Errorf("sqlite: restore job: %w", err)
	}
	defer rollback(tx)
	pk, err := resolveJobs(ctx, tx, store.Read, cref)
	if err != nil {
		return backup.RestoreJob{}, err
	}
	return restoreJob(ctx, tx, pk, id)
}

func restoreJob(ctx context.Context, tx *sql.Tx, pk int64, id backup.ObjectID) (backup.RestoreJob, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+shape.RestoreJobCols+fromJobs+` WHERE j.cluster = ? AND j.id = ?`, pk, id.Hex())
	if err != nil {
		return backup.RestoreJob{}, fmt.Errorf("sqlite: restore job %s: %w", id.Hex(), err)
	}
	jobs, err := scanJobs(rows)
	if err != nil {
		return backup.RestoreJob{}, fmt.Errorf("sqlite: restore job %s: %w", id.Hex(), err)
	}
	if len(jobs) == 0 {
		return backup.RestoreJob{}, backup.ErrRestoreJobNotFound(id.Hex())
	}
	return jobs[0], nil
}

// ClaimRestoreJob gives owner an open job of an agent cluster.
func (db *DB) ClaimRestoreJob(ctx context.Context, cref backup.ClusterRef, owner string) (_ backup.RestoreJob, _ bool, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.RestoreJob{}, false, err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return backup.RestoreJob{}, false, fmt.Errorf("sqlite: claim restore job: %w", err)
	}
	defer rollback(tx)
	pk, err := resolveJobs(ctx, tx, store.Report, cref)
	if err != nil {
		return backup.RestoreJob{}, false, err
	}
	// owner's own unreported claim first, then the oldest unclaimed job.
	var id string
	err = tx.QueryRowContext(ctx, `SELECT id FROM restore_jobs
WHERE cluster = ? AND status = 'IN_PROGRESS' AND driver = 'AGENT' AND (owner = ? OR owner = '')
ORDER BY owner = '', id LIMIT 1`, pk, owner).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return backup.RestoreJob{}, false, nil
	}
	if err != nil {
		return backup.RestoreJob{}, false, fmt.Errorf("sqlite: claim restore job: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE restore_jobs SET owner = ? WHERE id = ?`, owner, id); err != nil {
		return backup.RestoreJob{}, false, fmt.Errorf("sqlite: claim restore job %s: %w", id, err)
	}
	jid, err := shape.ParseIDString(id)
	if err != nil {
		return backup.RestoreJob{}, false, err
	}
	j, err := restoreJob(ctx, tx, pk, jid)
	if err != nil {
		return j, false, err
	}
	if err := tx.Commit(); err != nil {
		return backup.RestoreJob{}, false, fmt.Errorf("sqlite: claim restore job %s: %w", id, err)
	}
	return j, true, nil
}

// ReportRestoreJob sets the final status of a job owner claimed.
func (db *DB) ReportRestoreJob(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID, status backup.RestoreStatus, owner string, now time.Time) (_ backup.RestoreJob, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.RestoreJob{}, err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return backup.RestoreJob{}, fmt.Errorf("sqlite: report restore job: %w", err)
	}
	defer rollback(tx)
	pk, err := resolveJobs(ctx, tx, store.Report, cref)
	if err != nil {
		return backup.RestoreJob{}, err
	}
	j, err := restoreJob(ctx, tx, pk, id)
	if err != nil {
		return j, err
	}
	if err := store.CheckRestoreReport(&j, status, owner); err != nil || j.Status == status {
		return j, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE restore_jobs SET status = ?, finished = ? WHERE id = ?`, string(status), now.Unix(), id.Hex()); err != nil {
		return j, fmt.Errorf("sqlite: report restore job %s: %w", id.Hex(), err)
	}
	if err := tx.Commit(); err != nil {
		return j, fmt.Errorf("sqlite: report restore job %s: %w", id.Hex(), err)
	}
	j.Status, j.Finished = status, shape.UnixTime(now.Unix())
	return j, nil
}

// FinishDueRestoreJobs finishes the simulated jobs due by now and finds
// the next due, in one write transaction.
func (db *DB) FinishDueRestoreJobs(ctx context.Context, now time.Time) (_ int, _ time.Time, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return 0, time.Time{}, err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: finish restore jobs: %w", err)
	}
	defer rollback(tx)
	res, err := tx.ExecContext(ctx, `UPDATE restore_jobs SET status = 'FINISHED', finished = due
WHERE status = 'IN_PROGRESS' AND driver = 'SIMULATED' AND due <= ?`, now.Unix())
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: finish restore jobs: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: finish restore jobs: %w", err)
	}
	var next sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT min(due) FROM restore_jobs WHERE status = 'IN_PROGRESS' AND driver = 'SIMULATED'`).Scan(&next); err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: next restore job: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, time.Time{}, fmt.Errorf("sqlite: finish restore jobs: %w", err)
	}
	if !next.Valid {
		return int(n), time.Time{}, nil
	}
	return int(n), shape.UnixTime(next.Int64), nil
}
