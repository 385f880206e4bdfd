package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// The read cache rests on two facts. Checkpoints are immutable, and a
// cluster's epoch (migrations/0002_cluster_epoch.sql) changes in the same
// transaction as any write that deletes a checkpoint row or changes one,
// seq shifts included. So in any two snapshots where a cluster has the
// same epoch, every seq stored in both holds the same checkpoint; they
// can differ only by appends (new seqs after the last) and inserts before
// the first. (The pair also names one cluster row: the epoch changes
// with the cluster's id or project, and a pk SQLite hands out again after
// a delete starts above the epoch it had.)
//
// Hence:
//
//   - A page is cached under (cluster, epoch, first seq, size), as the
//     checkpoints its seqs held when it was read: a prefix of the page in
//     any snapshot at that epoch. A later read whose snapshot has the same
//     epoch and needs no more rows than the entry holds takes its prefix:
//     a full page for as long as the epoch lasts, a partial last page
//     until an append makes the page longer than the entry. Taking the
//     prefix the reader's own seq bounds ask for keeps Items and Total of
//     one snapshot even when the entry was read from a newer one.
//   - A single checkpoint is cached with the cluster and epoch it was read
//     at. It is right for a reference that resolves to that cluster at
//     that epoch, in a snapshot taken after the entry was found (so after
//     the checkpoint was stored). For a reference to any other cluster,
//     or after the epoch changed, the uncached read answers (with
//     CHECKPOINT_NOT_FOUND for a checkpoint not, or no longer, there).
//
// Every cached read first learns the reference, the project's
// organization and the cluster's current epoch (and seq bounds) as they
// are in the file now: from one statement, or, while nothing at all has
// been written to the file since that statement ran, from what it read
// (version.go). So another server or the admin CLI writing the same file
// is seen at once, and the caller's access to the project is checked
// before any cached entry is looked at: a cache filled by one caller
// serves another only what that one may read.

// The head statements' pk column is the cluster's pk, which is positive,
// or says why there is none to read checkpoints of.
const (
	headNoCluster = 0
	headCloud     = -1
)

// head is what the one statement of a cached read learns.
type head struct {
	org         sql.NullString // the project's organization; NULL when there is no project
	pk, epoch   int64
	first, last int64           // seq bounds, when asked for; empty when last < first
	id          backup.ObjectID // the cluster's id, with the bounds
}

// head runs one of the head statements for a reference, or takes what it
// read from the head cache while the file has not changed since (see
// version.go), and turns it into the API's errors, in the order uncached
// reads report them: GROUP_NOT_FOUND, the caller's access to the project,
// then the cluster's. The caller's access is checked on every call: the
// cache holds what the file says, not what a caller may see of it.
func (db *DB) head(ctx context.Context, byName, byID *sql.Stmt, cref backup.ClusterRef, bounds bool) (head, error) {
	if err := ctx.Err(); err != nil {
		return head{}, fmt.Errorf("sqlite: resolve %s: %w", cref.Label(), err)
	}
	k := headKey{group: cref.GroupID, bounds: bounds}
	if cref.ByName() {
		k.name = cref.Name
	} else {
		k.id = cref.ID
	}
	v, known := db.wal.version()
	h, ok := head{}, false
	if known {
		h, ok = db.heads.get(v, k)
	}
	if !ok {
		var err error
		if h, err = db.readHead(ctx, byName, byID, cref, bounds); err != nil {
			return head{}, err
		}
		if known {
			k.name = strings.Clone(k.name) // not the request's memory
			db.heads.put(v, k, h)
		}
	}
	if err := store.Resolve(ctx, store.Read, cref, h.org.String, h.org.Valid, h.pk != headNoCluster, h.pk == headCloud); err != nil {
		return head{}, err
	}
	if h.pk < 0 {
		return head{}, fmt.Errorf("sqlite: resolve %s: pk %d", cref.Label(), h.pk)
	}
	return h, nil
}

// readHead runs one of the head statements.
func (db *DB) readHead(ctx context.Context, byName, byID *sql.Stmt, cref backup.ClusterRef, bounds bool) (head, error) {
	stmt, key := byName, cref.Name
	if !cref.ByName() {
		stmt, key = byID, cref.ID.Hex()
	}
	db.headReads.Add(1)
	// The statement is a few index seeks, done in microseconds, so it runs
	// without ctx's cancellation: watching a cancellable context costs
	// database/sql and the driver a goroutine each, which is more than the
	// statement itself (a third of a cached read, in BenchmarkCheckpointCached).
	// The destinations are fields of h, which escapes to the heap anyway:
	// one allocation for all of them.
	var h head
	row := stmt.QueryRowContext(context.WithoutCancel(ctx), cref.GroupID.Hex(), key)
	var err error
	var id sql.NullString
	if bounds {
		err = row.Scan(&h.org, &h.pk, &h.epoch, &h.first, &h.last, &id)
	} else {
		err = row.Scan(&h.org, &h.pk, &h.epoch)
	}
	if err != nil {
		return head{}, fmt.Errorf("sqlite: resolve %s: %w", cref.Label(), err)
	}
	if id.Valid {
		if h.id, err = shape.ParseIDString(id.String); err != nil {
			return head{}, fmt.Errorf("sqlite: resolve %s: %w", cref.Label(), err)
		}
	}
	return h, nil
}
