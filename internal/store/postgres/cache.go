package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgtype"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
)

// The read cache is the SQLite store's (see its cache.go for the
// argument in full), resting on the same two facts. Checkpoints are
// immutable, and a cluster's epoch (migrations/0002_cluster_epoch.sql)
// changes in the same transaction as any write that deletes a checkpoint
// row or changes one, seq shifts included. So in any two snapshots where a
// cluster has the same epoch, every seq stored in both holds the same
// checkpoint; they can differ only by appends (new seqs after the last)
// and inserts before the first. Epochs are drawn from one sequence, so a
// (pk, epoch) pair names one history of one cluster row.
//
//   - A page is cached under (cluster, epoch, first seq, size), as the
//     checkpoints its seqs held when it was read: a prefix of the page in
//     any snapshot at that epoch. A later read whose snapshot has the same
//     epoch and needs no more rows than the entry holds takes its prefix.
//   - A single checkpoint is cached with the cluster and epoch it was read
//     at, and served for a reference that resolves to that cluster at that
//     epoch.
//
// Every cached read first learns, from one statement, the reference, the
// project's organization and the cluster's current epoch (and seq
// bounds), so that every other process's writes are seen at once, and the
// caller's access to the project is checked before any cached entry is
// looked at. That statement's answer is itself kept for as long as no
// transaction has completed anywhere, which a snapshot read shared by
// concurrent requests tells (snapshot.go): under load a cached read makes
// a fraction of a round trip.

// The head statements' pk column is the cluster's pk, which is positive,
// or says why there is none to read checkpoints of.
const (
	headNoCluster = 0
	headCloud     = -1
)

// headCols are the reference in as few columns as say it: the project's
// organization (NULL when there is no project); the cluster's pk, or
// headNoCluster or headCloud; its epoch, 0 when there is no cluster.
const headCols = `SELECT p.org_id,
  CASE
    WHEN c.pk IS NULL THEN 0 -- headNoCluster
    WHEN c.backup = ` + cloudBackup + ` THEN -1 -- headCloud
    ELSE c.pk END,
  coalesce(c.epoch, 0)`

// headBounds are seqBounds, an empty cluster reading as first 1, last 0.
const headBounds = `,
  coalesce((SELECT min(seq) FROM checkpoints WHERE cluster = c.pk), 1),
  coalesce((SELECT max(seq) FROM checkpoints WHERE cluster = c.pk), 0)`

var (
	headBoundsByName = headCols + headBounds + fromRefByName
	headBoundsByID   = headCols + headBounds + fromRefByID
	headByName       = headCols + fromRefByName
	headByID         = headCols + fromRefByID
)

// head is what the one statement of a cached read learns.
type head struct {
	pk, epoch   int64
	first, last int64 // seq bounds, when asked for; empty when last < first
}

// head runs the head statement for a reference, with the seq bounds when
// bounds is set, and turns what it read into the API's errors, in the
// order uncached reads report them: GROUP_NOT_FOUND, the caller's access
// to the project, then the cluster's.
func (db *DB) head(ctx context.Context, cref backup.ClusterRef, bounds bool) (head, error) {
	var h head
	var org pgtype.Text
	var err error
	// The answer kept at the current snapshot, if any (snapshot.go); else
	// the statement's, kept for the next read at the same snapshot.
	var (
		snap   string
		keep   bool
		hk     = headKey{group: cref.GroupID, name: cref.Name, id: cref.ID, bounds: bounds}
		kh, ok = keptHead{}, false
	)
	if db.heads != nil {
		if snap, keep = db.heads.current(ctx, db); keep {
			kh, ok = db.heads.get(snap, hk)
		}
	}
	switch {
	case ok:
		org, h = kh.org, kh.h
	case bounds:
		q, key := refQuery(cref, headBoundsByName, headBoundsByID)
		err = db.pool.QueryRow(ctx, q, cref.GroupID.Hex(), key).Scan(&org, &h.pk, &h.epoch, &h.first, &h.last)
	default:
		q, key := refQuery(cref, headByName, headByID)
		err = db.pool.QueryRow(ctx, q, cref.GroupID.Hex(), key).Scan(&org, &h.pk, &h.epoch)
	}
	if err != nil {
		return head{}, fmt.Errorf("postgres: resolve %s: %w", cref.Label(), err)
	}
	if keep && !ok {
		db.heads.put(snap, hk, keptHead{org: org, h: h})
	}
	if err := store.Resolve(ctx, store.Read, cref, org.String, org.Valid, h.pk != headNoCluster, h.pk == headCloud); err != nil {
		return head{}, err
	}
	if h.pk < 0 {
		return head{}, fmt.Errorf("postgres: resolve %s: pk %d", cref.Label(), h.pk)
	}
	return h, nil
}
