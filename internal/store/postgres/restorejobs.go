package postgres

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// resolveJobs resolves a reference for the restore job methods inside tx:
// the store.Resolve answers for need, then the cluster's pk.
func resolveJobs(ctx context.Context, tx pgx.Tx, need store.Need, cref backup.ClusterRef) (int64, error) {
	q, key := refQuery(cref, `SELECT p.org_id, c.pk, c.backup`+fromRefByName, `SELECT p.org_id, c.pk, c.backup`+fromRefByID)
	var org, kind pgtype.Text
	var pk pgtype.Int8
	if err := tx.QueryRow(ctx, q, cref.GroupID.Hex(), key).Scan(&org, &pk, &kind); err != nil {
		return 0, err
	}
	if err := store.Resolve(ctx, need, cref, org.String, org.Valid, pk.Valid, kind.String == string(backup.BackupCloud)); err != nil {
		return 0, err
	}
	return pk.Int64, nil
}

const fromJobs = ` FROM restore_jobs j JOIN clusters c ON c.pk = j.cluster`

// queryJobs reads rows of shape.RestoreJobCols.
func queryJobs(ctx context.Context, tx pgx.Tx, q string, args ...any) ([]backup.RestoreJob, error) {
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
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
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	if err := shape.CheckRestoreBatch(jobs); err != nil {
		return err
	}
	params := make([]string, 19)
	for i := range params {
		params[i] = "$" + strconv.Itoa(i+1)
	}
	q := `INSERT INTO restore_jobs (` + shape.RestoreJobInsertCols + `) VALUES (` + strings.Join(params, ", ") + `)`
	return db.inTx(ctx, "create restore jobs", func(tx pgx.Tx) error {
		pk, err := resolveJobs(ctx, tx, store.Report, backup.ClusterRef{GroupID: jobs[0].GroupID, ID: jobs[0].ClusterID})
		if err != nil {
			return err
		}
		for i := range jobs {
			if _, err := tx.Exec(ctx, q, append([]any{pk}, shape.RestoreJobArgs(&jobs[i])...)...); err != nil {
				return err
			}
		}
		return nil
	})
}

// RestoreJobs returns one page of a cluster's restore jobs, of one batch
// unless batch is zero. Jobs are few (one per part per request), so a
// page is an OFFSET read of the (cluster, id) index.
func (db *DB) RestoreJobs(ctx context.Context, cref backup.ClusterRef, batch backup.ObjectID, page backup.PageRequest) (_ backup.Page[backup.RestoreJob], err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	var out backup.Page[backup.RestoreJob]
	if _, err := store.Caller(ctx); err != nil {
		return out, err
	}
	offset, err := pageOffset(page)
	if err != nil {
		return out, err
	}
	err = db.inTx(ctx, "restore jobs "+cref.Label(), func(tx pgx.Tx) error {
		pk, err := resolveJobs(ctx, tx, store.Read, cref)
		if err != nil {
			return err
		}
		where, args := ` WHERE j.cluster = $1`, []any{pk}
		if !batch.IsZero() {
			where, args = where+` AND j.batch_id = $2`, append(args, batch.Hex())
		}
		n := len(args)
		out.Items, err = queryJobs(ctx, tx, `SELECT `+shape.RestoreJobCols+fromJobs+where+
			` ORDER BY j.id LIMIT $`+strconv.Itoa(n+1)+` OFFSET $`+strconv.Itoa(n+2), append(args, page.Size, offset)...)
		if err != nil || !page.IncludeCount {
			return err
		}
		var total int64
		if err := tx.QueryRow(ctx, `SELECT count(*)`+fromJobs+where, args...).Scan(&total); err != nil {
			return err
		}
		out.Total = int(total)
		return nil
	})
	return out, err
}

// RestoreJob returns one restore job of a cluster.
func (db *DB) RestoreJob(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID) (_ backup.RestoreJob, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.RestoreJob{}, err
	}
	var j backup.RestoreJob
	err = db.inTx(ctx, "restore job "+id.Hex(), func(tx pgx.Tx) error {
		pk, err := resolveJobs(ctx, tx, store.Read, cref)
		if err != nil {
			return err
		}
		j, err = restoreJob(ctx, tx, pk, id)
		return err
	})
	return j, err
}

func restoreJob(ctx context.Context, tx pgx.Tx, pk int64, id backup.ObjectID) (backup.RestoreJob, error) {
	jobs, err := queryJobs(ctx, tx, `SELECT `+shape.RestoreJobCols+fromJobs+` WHERE j.cluster = $1 AND j.id = $2`, pk, id.Hex())
	if err != nil {
		return backup.RestoreJob{}, err
	}
	if len(jobs) == 0 {
		return backup.RestoreJob{}, backup.ErrRestoreJobNotFound(id.Hex())
	}
	return jobs[0], nil
}

// ClaimRestoreJob gives owner an open job of an agent cluster. The row is
// locked (SKIP LOCKED) so that agents claiming at once get different jobs.
func (db *DB) ClaimRestoreJob(ctx context.Context, cref backup.ClusterRef, owner string) (_ backup.RestoreJob, _ bool, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.RestoreJob{}, false, err
	}
	var j backup.RestoreJob
	var ok bool
	err = db.inTx(ctx, "claim restore job "+cref.Label(), func(tx pgx.Tx) error {
		ok = false
		pk, err := resolveJobs(ctx, tx, store.Report, cref)
		if err != nil {
			return err
		}
		// owner's own unreported claim first, then the oldest unclaimed job.
		var id string
		err = tx.QueryRow(ctx, `SELECT id FROM restore_jobs
WHERE cluster = $1 AND status = 'IN_PROGRESS' AND driver = 'AGENT' AND (owner = $2 OR owner = '')
ORDER BY owner = '', id LIMIT 1 FOR UPDATE SKIP LOCKED`, pk, owner).Scan(&id)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE restore_jobs SET owner = $1 WHERE id = $2`, owner, id); err != nil {
			return err
		}
		jid, err := shape.ParseIDString(id)
		if err != nil {
			return err
		}
		j, err = restoreJob(ctx, tx, pk, jid)
		ok = err == nil
		return err
	})
	return j, ok, err
}

// ReportRestoreJob sets the final status of a job owner claimed.
func (db *DB) ReportRestoreJob(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID, status backup.RestoreStatus, owner string, now time.Time) (_ backup.RestoreJob, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.RestoreJob{}, err
	}
	var j backup.RestoreJob
	err = db.inTx(ctx, "report restore job "+id.Hex(), func(tx pgx.Tx) error {
		pk, err := resolveJobs(ctx, tx, store.Report, cref)
		if err != nil {
			return err
		}
		if j, err = restoreJob(ctx, tx, pk, id); err != nil {
			return err
		}
		if err := store.CheckRestoreReport(&j, status, owner); err != nil || j.Status == status {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE restore_jobs SET status = $1, finished = $2 WHERE id = $3 AND status = 'IN_PROGRESS'`,
			string(status), now.Unix(), id.Hex())
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 { // reported meanwhile
			return backup.ErrRestoreJobTransition(id.Hex(), status, "it was reported meanwhile")
		}
		j.Status, j.Finished = status, shape.UnixTime(now.Unix())
		return nil
	})
	return j, err
}

// FinishDueRestoreJobs finishes the simulated jobs due by now and finds
// the next due, in one transaction.
func (db *DB) FinishDueRestoreJobs(ctx context.Context, now time.Time) (_ int, _ time.Time, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return 0, time.Time{}, err
	}
	var n int
	var next pgtype.Int8
	err = db.inTx(ctx, "finish restore jobs", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE restore_jobs SET status = 'FINISHED', finished = due
WHERE status = 'IN_PROGRESS' AND driver = 'SIMULATED' AND due <= $1`, now.Unix())
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		return tx.QueryRow(ctx, `SELECT min(due) FROM restore_jobs WHERE status = 'IN_PROGRESS' AND driver = 'SIMULATED'`).Scan(&next)
	})
	if err != nil || !next.Valid {
		return n, time.Time{}, err
	}
	return n, shape.UnixTime(next.Int64), nil
}
