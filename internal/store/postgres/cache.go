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

// snapAt is one call's snapshot read (snapshot.go), made once.
type snapAt struct {
	snap string
	ok   bool // read
	done bool // tried
}

// keptHead returns the head kept for a reference at the current
// snapshot, checked against the caller's access, without a statement
// (kept is false when there is none, or no snapshot could be read: the
// caller then runs head with at, which does not read the snapshot
// again). It needs no call timeout (DB.op): the one wait, for the
// snapshot, ends by the deadline of the read it waits for, which is at
// most the op timeout after the call arrived (snapGate), or with ctx.
func (db *DB) keptHead(ctx context.Context, cref backup.ClusterRef, bounds bool, at *snapAt) (_ head, kept bool, _ error) {
	if db.heads == nil {
		return head{}, false, nil
	}
	at.snap, at.ok = db.heads.current(ctx, db)
	at.done = true
	if !at.ok {
		return head{}, false, nil
	}
	kh, ok := db.heads.get(at.snap, headKey{group: cref.GroupID, name: cref.Name, id: cref.ID, bounds: bounds})
	if !ok {
		return head{}, false, nil
	}
	h, err := resolveHead(ctx, cref, kh.org, kh.h)
	return h, true, err
}

// head runs the head statement for a reference, with the seq bounds when
// bounds is set, and turns what it read into the API's errors, in the
// order uncached reads report them: GROUP_NOT_FOUND, the caller's access
// to the project, then the cluster's. The answer kept at the current
// snapshot, if any, is served instead (snapshot.go); at is the call's
// snapshot read, made here unless keptHead made it.
func (db *DB) head(ctx context.Context, cref backup.ClusterRef, bounds bool, at *snapAt) (head, error) {
	var h head
	var org pgtype.Text
	var err error
	var (
		hk     = headKey{group: cref.GroupID, name: cref.Name, id: cref.ID, bounds: bounds}
		kh, ok = keptHead{}, false
	)
	if db.heads != nil {
		if !at.done {
			at.snap, at.ok = db.heads.current(ctx, db)
			at.done = true
		}
		if at.ok {
			kh, ok = db.heads.get(at.snap, hk)
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
	if at.ok && !ok {
		db.heads.put(at.snap, hk, keptHead{org: org, h: h})
	}
	return resolveHead(ctx, cref, org, h)
}

// resolveHead checks the caller's access and the reference against a
// head statement's answer.
func resolveHead(ctx context.Context, cref backup.ClusterRef, org pgtype.Text, h head) (head, error) {
	if err := store.Resolve(ctx, store.Read, cref, org.String, org.Valid, h.pk != headNoCluster, h.pk == headCloud); err != nil {
		return head{}, err
	}
	if h.pk < 0 {
		return head{}, fmt.Errorf("postgres: resolve %s: pk %d", cref.Label(), h.pk)
	}
	return h, nil
}
