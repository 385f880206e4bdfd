package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// CreateOrganization stores an organization; a taken id is a Conflict.
func (db *DB) CreateOrganization(ctx context.Context, o backup.Organization) (err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if o.ID.IsZero() {
		return store.ErrMissingID("organization")
	}
	_, err = db.w.ExecContext(ctx, `INSERT INTO organizations (id, name, created) VALUES (?, ?, ?)`,
		o.ID.Hex(), o.Name, o.Created.Unix())
	switch sqliteCode(err) {
	case codePrimaryKey, codeUnique:
		return store.ErrDuplicateID("organization", o.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create organization %s: %w", o.ID.Hex(), err)
	}
	return nil
}

// CreateProject stores a project of an existing organization
// (ORG_NOT_FOUND otherwise); a taken id is a Conflict.
func (db *DB) CreateProject(ctx context.Context, p backup.Project) (err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if p.ID.IsZero() {
		return store.ErrMissingID("group")
	}
	_, err = db.w.ExecContext(ctx, `INSERT INTO projects (id, org_id, name, created) VALUES (?, ?, ?, ?)`,
		p.ID.Hex(), p.OrgID.Hex(), p.Name, p.Created.Unix())
	switch sqliteCode(err) {
	case codePrimaryKey, codeUnique:
		return store.ErrDuplicateID("group", p.ID)
	case codeForeignKey:
		return backup.ErrOrgNotFound(p.OrgID.Hex())
	}
	if err != nil {
		return fmt.Errorf("sqlite: create project %s: %w", p.ID.Hex(), err)
	}
	return nil
}

// CreateCluster validates and stores a cluster of an existing project.
// Its name must be free in the project (DUPLICATE_CLUSTER_NAME) and its id
// unused (Conflict).
func (db *DB) CreateCluster(ctx context.Context, c backup.Cluster) (err error) {
	defer db.classify(&err)
	cols, err := store.ClusterColumns(ctx, c)
	if err != nil {
		return err
	}

	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: create cluster %s: %w", c.ID.Hex(), err)
	}
	defer rollback(tx)
	group := c.GroupID.Hex()
	if err := authorizeProject(ctx, tx, store.Admin, c.GroupID); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO clusters
  (id, group_id, name, type, mongodb_version, backup, replica_set_name, shards, config, created,
   ckpt_driver, ckpt_interval_min, pit_window_hours, backup_status, snapshot_schedule, rpo_min)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID.Hex(), group, c.Name, string(c.Type), c.MongoDBVersion, string(c.Backup), c.ReplicaSetName,
		cols.Shards, cols.Config, c.Created.Unix(), cols.Driver, cols.IntervalMin, cols.WindowHours, cols.Status, cols.Snapshots, cols.ObjectiveMin)
	switch sqliteCode(err) {
	case codeForeignKey:
		return backup.ErrGroupNotFound(group)
	case codeUnique, codePrimaryKey:
		// Two unique keys could have failed; the constraint error does not
		// say which without parsing its text, so ask the table, inside the
		// same write transaction.
		var groupExists, nameTaken int64
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = ?1),
  EXISTS (SELECT 1 FROM clusters WHERE group_id = ?1 AND name = ?2)`, group, c.Name).Scan(&groupExists, &nameTaken); err != nil {
			return fmt.Errorf("sqlite: create cluster %s: %w", c.ID.Hex(), err)
		}
		switch {
		case groupExists == 0:
			return backup.ErrGroupNotFound(group)
		case nameTaken != 0:
			return backup.ErrDuplicateClusterName(c.Name, group)
		default:
			return store.ErrDuplicateID("cluster", c.ID)
		}
	}
	if err != nil {
		return fmt.Errorf("sqlite: create cluster %s: %w", c.ID.Hex(), err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create cluster %s: %w", c.ID.Hex(), err)
	}
	return nil
}

// AddCheckpoint stores a checkpoint of an existing cluster whose ClusterID
// and GroupID it must carry. Adding an identical checkpoint again is a
// no-op; the same id with other content is DUPLICATE_CHECKPOINT.
func (db *DB) AddCheckpoint(ctx context.Context, cp backup.Checkpoint) (err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	return db.AddCheckpoints(ctx, []backup.Checkpoint{cp})
}

// AddCheckpoints stores many checkpoints in one transaction, with
// AddCheckpoint's rules for each: all are stored or, on the first error,
// none. Checkpoints given oldest first are appended without any search,
// which is how seeding and benchmarks build large histories quickly.
func (db *DB) AddCheckpoints(ctx context.Context, cps []backup.Checkpoint) (err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	return db.addCheckpoints(ctx, cps, nil)
}

// addCheckpoints is AddCheckpoints, running check first in the same
// transaction when it is set.
func (db *DB) addCheckpoints(ctx context.Context, cps []backup.Checkpoint, check func(*writer) error) error {
	if len(cps) == 0 {
		return nil
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: add checkpoints: %w", err)
	}
	defer rollback(tx)
	w := &writer{
		tx:       tx,
		insert:   tx.StmtContext(ctx, db.insertCheckpoint),
		last:     tx.StmtContext(ctx, db.lastCheckpoint),
		first:    tx.StmtContext(ctx, db.firstCheckpoint),
		key:      tx.StmtContext(ctx, db.checkpointKey),
		existing: tx.StmtContext(ctx, db.existingCheckpoint),
		cluster:  tx.StmtContext(ctx, db.clusterByID),
		clusters: map[backup.ObjectID]*clusterState{},
	}
	if check != nil {
		if err := check(w); err != nil {
			return err
		}
	}
	for i := range cps {
		if err := w.add(ctx, &cps[i]); err != nil {
			return err
		}
	}
	// Each touched block once, however many of the batch it holds.
	for _, cs := range w.clusters {
		if cs.blocksFrom == noRebuild {
			continue
		}
		if err := rebuildBlocks(ctx, tx, w.decoder(), cs.pk, cs.blocksFrom); err != nil {
			return fmt.Errorf("sqlite: add checkpoints: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: add checkpoints: %w", err)
	}
	return nil
}

// writer adds checkpoints within one write transaction.
type writer struct {
	tx                                          *sql.Tx
	insert, last, first, key, existing, cluster *sql.Stmt
	clusters                                    map[backup.ObjectID]*clusterState
	parts                                       []byte // reused encoding buffer
	dec                                         *codec.Decoder
}

// decoder returns the writer's parts decoder, for the blocks it rebuilds.
func (w *writer) decoder() *codec.Decoder {
	if w.dec == nil {
		w.dec = new(codec.Decoder)
	}
	return w.dec
}

// clusterState caches, for the length of a transaction, a cluster's key
// and its newest checkpoint: the append test for every checkpoint of a
// batch then needs no query.
type clusterState struct {
	pk      int64
	group   backup.ObjectID
	lastSeq int64 // 0 when the cluster has no checkpoints
	lastTS  int64
	lastID  string
	// blocksFrom is the seq from which the cluster's blocks must be
	// rebuilt at the end of the transaction (0: all), or noRebuild: what
	// was stale before it (blockState.staleFrom) and what it wrote.
	blocksFrom int64
}

func (w *writer) add(ctx context.Context, cp *backup.Checkpoint) error {
	if cp.ID.IsZero() {
		return store.ErrMissingID("checkpoint")
	}
	cs, err := w.clusterOf(ctx, cp)
	if err != nil {
		return err
	}
	w.parts = codec.AppendParts(w.parts[:0], cp.Parts)
	v := shape.StoredOf(cp, cs.pk, w.parts)
	id, ts := v.ID, v.Timestamp
	args := []any{v.Cluster, nil, id, v.Started, v.Completed, ts, boolArg(v.Restorable), v.Parts}

	if cs.lastSeq == 0 || shape.KeyLess(cs.lastTS, cs.lastID, ts, id) {
		// The normal case: newer than everything stored, so it goes last.
		args[1] = cs.lastSeq + 1
		_, err := w.insert.ExecContext(ctx, args...)
		if sqliteCode(err) == codeUnique { // the id is taken
			return w.sameAsStored(ctx, &v)
		}
		if err != nil {
			return fmt.Errorf("sqlite: add checkpoint %s: %w", id, err)
		}
		cs.lastSeq, cs.lastTS, cs.lastID = cs.lastSeq+1, ts, id
		cs.blocksFrom = min(cs.blocksFrom, cs.lastSeq)
		return nil
	}

	// Out of order: find where it goes, shift the later rows up by one and
	// insert in the gap. The id check comes first because the shift must
	// not happen for an insert that will fail.
	if found, err := w.stored(ctx, id); err != nil {
		return err
	} else if found != nil {
		if !found.Same(&v) {
			return shape.ErrDifferentCheckpoint(id)
		}
		return nil
	}
	first, _, _, err := w.bound(ctx, w.first, cs.pk)
	if err != nil {
		return err
	}
	pos, err := w.search(ctx, cs.pk, first, cs.lastSeq, func(rowTS int64, rowID string) bool {
		return shape.KeyLess(rowTS, rowID, ts, id)
	})
	if err != nil {
		return err
	}
	// SQLite checks the primary key row by row during an UPDATE, so
	// "seq = seq + 1" over a range would collide with the next row. Moving
	// the range to negative numbers first, then back one higher, never
	// does: seqs are always positive.
	if _, err := w.tx.ExecContext(ctx, `UPDATE checkpoints SET seq = -(seq + 1) WHERE cluster = ? AND seq >= ?`, cs.pk, pos); err != nil {
		return fmt.Errorf("sqlite: add checkpoint %s: shift: %w", id, err)
	}
	if _, err := w.tx.ExecContext(ctx, `UPDATE checkpoints SET seq = -seq WHERE cluster = ? AND seq < 0`, cs.pk); err != nil {
		return fmt.Errorf("sqlite: add checkpoint %s: shift: %w", id, err)
	}
	// The rows at seq >= pos now hold other checkpoints: void the readers'
	// cached pages of this cluster. The epoch trigger skips moves through
	// negative seqs, so that this is one update, not two per moved row.
	if _, err := w.tx.ExecContext(ctx, `UPDATE clusters SET epoch = epoch + 1 WHERE pk = ?`, cs.pk); err != nil {
		return fmt.Errorf("sqlite: add checkpoint %s: epoch: %w", id, err)
	}
	args[1] = pos
	if _, err := w.insert.ExecContext(ctx, args...); err != nil {
		return fmt.Errorf("sqlite: add checkpoint %s: %w", id, err)
	}
	cs.lastSeq++
	cs.blocksFrom = min(cs.blocksFrom, pos)
	return nil
}

// clusterOf returns the state of cp's cluster, checking that the
// checkpoint names the cluster's own project.
func (w *writer) clusterOf(ctx context.Context, cp *backup.Checkpoint) (*clusterState, error) {
	cs := w.clusters[cp.ClusterID]
	if cs == nil {
		var pk int64
		var group, org string
		err := w.cluster.QueryRowContext(ctx, cp.ClusterID.Hex()).Scan(&pk, &group, &org)
		if err == sql.ErrNoRows {
			if err := authorizeProject(ctx, w.tx, store.Report, cp.GroupID); err != nil {
				return nil, err
			}
			return nil, backup.ErrClusterIDNotFound(cp.ClusterID.Hex(), cp.GroupID.Hex())
		}
		if err != nil {
			return nil, fmt.Errorf("sqlite: add checkpoint %s: %w", cp.ID.Hex(), err)
		}
		cs = &clusterState{pk: pk}
		if cs.group, err = shape.ParseIDString(group); err != nil {
			return nil, fmt.Errorf("sqlite: add checkpoint %s: %w", cp.ID.Hex(), err)
		}
		if err := store.Authorize(ctx, store.Report, org, cs.group); err != nil {
			return nil, err
		}
		if cs.lastSeq, cs.lastTS, cs.lastID, err = w.bound(ctx, w.last, pk); err != nil {
			return nil, err
		}
		bs, err := readBlockState(ctx, w.tx, pk)
		if err != nil {
			return nil, fmt.Errorf("sqlite: add checkpoint %s: %w", cp.ID.Hex(), err)
		}
		cs.blocksFrom = bs.staleFrom()
		w.clusters[cp.ClusterID] = cs
	}
	if cs.group != cp.GroupID {
		return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Checkpoint %s names group %s, but cluster %s is in group %s.",
			cp.ID.Hex(), cp.GroupID.Hex(), cp.ClusterID.Hex(), cs.group.Hex())
	}
	return cs, nil
}

// bound runs the first- or last-checkpoint statement: seq 0 when the
// cluster has none.
func (w *writer) bound(ctx context.Context, stmt *sql.Stmt, pk int64) (seq, ts int64, id string, err error) {
	err = stmt.QueryRowContext(ctx, pk).Scan(&seq, &ts, &id)
	if err == sql.ErrNoRows {
		return 0, 0, "", nil
	}
	if err != nil {
		return 0, 0, "", fmt.Errorf("sqlite: checkpoint bounds: %w", err)
	}
	return seq, ts, id, nil
}

// search returns the smallest seq in [lo, hi] whose row does not satisfy
// before, or hi+1. Rows are in (ts, id) order by seq, so any predicate
// that holds for a prefix of them can be bisected with O(log n) point
// reads of the primary key, with no index on ts.
func (w *writer) search(ctx context.Context, pk, lo, hi int64, before func(ts int64, id string) bool) (int64, error) {
	for lo <= hi {
		mid := lo + (hi-lo)/2
		var ts int64
		var id string
		if err := w.key.QueryRowContext(ctx, pk, mid).Scan(&ts, &id); err != nil {
			return 0, fmt.Errorf("sqlite: search checkpoints at seq %d: %w", mid, err)
		}
		if before(ts, id) {
			lo = mid + 1
		} else {
			hi = mid - 1
		}
	}
	return lo, nil
}

// stored reads the stored checkpoint with that id, or nil.
func (w *writer) stored(ctx context.Context, id string) (*shape.StoredCheckpoint, error) {
	s := shape.StoredCheckpoint{ID: id}
	var restorable int64
	err := w.existing.QueryRowContext(ctx, id).Scan(&s.Cluster, &s.Started, &s.Completed, &s.Timestamp, &restorable, &s.Parts)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: add checkpoint %s: %w", id, err)
	}
	s.Restorable = restorable != 0
	return &s, nil
}

// sameAsStored makes a re-add idempotent: nil when the stored row with
// v's id is v, DUPLICATE_CHECKPOINT otherwise.
func (w *writer) sameAsStored(ctx context.Context, v *shape.StoredCheckpoint) error {
	s, err := w.stored(ctx, v.ID)
	if err != nil {
		return err
	}
	if s == nil {
		return fmt.Errorf("sqlite: add checkpoint %s: unique violation but no stored row", v.ID)
	}
	if !s.Same(v) {
		return shape.ErrDifferentCheckpoint(v.ID)
	}
	return nil
}

// PruneCheckpoints deletes a cluster's checkpoints whose Timestamp is
// before cutoff, returning how many went. They are the oldest, a prefix of
// the cluster's seqs, so the rest keep their numbers: listing starts from
// the smallest seq, not from 1.
func (db *DB) PruneCheckpoints(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (_ int, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune: %w", err)
	}
	defer rollback(tx)
	w := &writer{
		tx:    tx,
		last:  tx.StmtContext(ctx, db.lastCheckpoint),
		first: tx.StmtContext(ctx, db.firstCheckpoint),
		key:   tx.StmtContext(ctx, db.checkpointKey),
	}
	var pk int64
	var group, org string
	err = tx.StmtContext(ctx, db.clusterByID).QueryRowContext(ctx, clusterID.Hex()).Scan(&pk, &group, &org)
	if err == sql.ErrNoRows {
		return 0, backup.Errorf(backup.NotFound, backup.CodeClusterNotFound, "No cluster with ID %s exists.", clusterID.Hex())
	}
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune %s: %w", clusterID.Hex(), err)
	}
	// Stored times are whole seconds: ts < cutoff is ts < ceil(cutoff).
	cut := cutoff.Unix()
	if cutoff.Nanosecond() != 0 {
		cut++
	}
	// The slot records go with the checkpoints, whether or not there are
	// checkpoints to prune: a cluster whose slots all failed has records
	// and no checkpoint.
	slots, err := tx.ExecContext(ctx, `DELETE FROM slots WHERE cluster = ? AND slot < ?`, pk, cut)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune %s: slots: %w", clusterID.Hex(), err)
	}
	bs, err := readBlockState(ctx, tx, pk)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune %s: %w", clusterID.Hex(), err)
	}
	n, end, err := w.pruneCheckpoints(ctx, pk, cut)
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune %s: %w", clusterID.Hex(), err)
	}
	if n > 0 {
		if err := pruneBlocks(ctx, tx, w.decoder(), pk, bs, end); err != nil {
			return 0, fmt.Errorf("sqlite: prune %s: %w", clusterID.Hex(), err)
		}
	}
	if k, err := slots.RowsAffected(); err != nil || n == 0 && k == 0 {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("sqlite: prune %s: %w", clusterID.Hex(), err)
	}
	return int(n), nil
}

// pruneCheckpoints deletes the checkpoints of cluster pk whose ts is
// before cut and returns how many went and the first seq kept (past the
// last when none is).
func (w *writer) pruneCheckpoints(ctx context.Context, pk, cut int64) (n, end int64, err error) {
	first, _, _, err := w.bound(ctx, w.first, pk)
	if err != nil || first == 0 {
		return 0, 0, err
	}
	last, _, _, err := w.bound(ctx, w.last, pk)
	if err != nil {
		return 0, 0, err
	}
	end, err = w.search(ctx, pk, first, last, func(ts int64, _ string) bool { return ts < cut })
	if err != nil || end == first {
		return 0, 0, err
	}
	res, err := w.tx.ExecContext(ctx, `DELETE FROM checkpoints WHERE cluster = ? AND seq < ?`, pk, end)
	if err != nil {
		return 0, 0, err
	}
	n, err = res.RowsAffected()
	return n, end, err
}

// DeleteOrganization deletes an organization with its API keys, service
// accounts and their secrets: ORG_NOT_FOUND, or
// CANNOT_DELETE_ORG_ACTIVE_PROJECTS while it has projects.
func (db *DB) DeleteOrganization(ctx context.Context, id backup.ObjectID) (err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: delete organization %s: %w", id.Hex(), err)
	}
	defer rollback(tx)
	org := id.Hex()
	var exists, projects int64
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM organizations WHERE id = ?1),
  EXISTS (SELECT 1 FROM projects WHERE org_id = ?1)`, org).Scan(&exists, &projects); err != nil {
		return fmt.Errorf("sqlite: delete organization %s: %w", org, err)
	}
	if exists == 0 {
		return backup.ErrOrgNotFound(org)
	}
	if projects != 0 {
		return store.ErrCannotDeleteOrg(id)
	}
	// Secrets first: the foreign key's cascade would delete them too, but
	// only on connections with foreign keys on, which is not a rule this
	// store can impose on every writer of the file.
	for _, q := range []string{
		`DELETE FROM service_account_secrets WHERE client_id IN (SELECT client_id FROM service_accounts WHERE org_id = ?)`,
		`DELETE FROM service_accounts WHERE org_id = ?`,
		`DELETE FROM api_keys WHERE org_id = ?`,
		`DELETE FROM organizations WHERE id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, org); err != nil {
			return fmt.Errorf("sqlite: delete organization %s: %w", org, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete organization %s: %w", org, err)
	}
	return nil
}

// DeleteProject deletes a project and the grants on it that API keys and
// service accounts hold, in one transaction: GROUP_NOT_FOUND, or
// CANNOT_CLOSE_GROUP_ACTIVE_CLUSTERS while it has clusters. A principal
// whose only grant was on the project is kept, with no grants: it can no
// longer read anything, which is what its owner granted.
func (db *DB) DeleteProject(ctx context.Context, id backup.ObjectID) (err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: delete project %s: %w", id.Hex(), err)
	}
	defer rollback(tx)
	group := id.Hex()
	var org string
	var clusters int64
	err = tx.QueryRowContext(ctx, `SELECT org_id, EXISTS (SELECT 1 FROM clusters WHERE group_id = ?1) FROM projects WHERE id = ?1`, group).
		Scan(&org, &clusters)
	if err == sql.ErrNoRows {
		return backup.ErrGroupNotFound(group)
	}
	if err != nil {
		return fmt.Errorf("sqlite: delete project %s: %w", group, err)
	}
	if clusters != 0 {
		return store.ErrCannotCloseGroup(id)
	}
	for _, t := range []principalTable{apiKeysTable, serviceAccountsTable} {
		if err := removeGrants(ctx, tx, t, org, id); err != nil {
			return fmt.Errorf("sqlite: delete project %s: %w", group, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM projects WHERE id = ?`, group); err != nil {
		return fmt.Errorf("sqlite: delete project %s: %w", group, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete project %s: %w", group, err)
	}
	return nil
}

// DeleteCluster deletes a cluster and its checkpoints, resolving the
// reference as Cluster does: GROUP_NOT_FOUND, the caller's access to the
// project, CLUSTER_NOT_FOUND. A cluster on Cloud Backup is deleted too.
//
// The checkpoint rows' delete trigger raises the cluster's epoch, and
// the cluster's delete trigger keeps the last epoch for its pk
// (migrations/0002_cluster_epoch.sql), so no reader's cache can serve the
// deleted checkpoints: the reference no longer resolves, and a cluster
// created later under the same pk starts at a higher epoch. The trigger
// runs once per checkpoint, which makes deleting a long history take a
// while; clusters are deleted rarely.
func (db *DB) DeleteCluster(ctx context.Context, cref backup.ClusterRef) (err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: delete cluster %s: %w", cref.Label(), err)
	}
	defer rollback(tx)
	q, key := `SELECT `+projectOrg+`, c.pk`+fromRefByName, cref.Name
	if !cref.ByName() {
		q, key = `SELECT `+projectOrg+`, c.pk`+fromRefByID, cref.ID.Hex()
	}
	var org sql.NullString
	var pk sql.NullInt64
	if err := tx.QueryRowContext(ctx, q, cref.GroupID.Hex(), key).Scan(&org, &pk); err != nil {
		return fmt.Errorf("sqlite: delete cluster %s: %w", cref.Label(), err)
	}
	if err := store.Resolve(ctx, store.Admin, cref, org.String, org.Valid, pk.Valid, false); err != nil {
		return err
	}
	for _, q := range []string{`DELETE FROM checkpoints WHERE cluster = ?`, `DELETE FROM checkpoint_blocks WHERE block >= ?1 << 32 AND block < (?1 + 1) << 32`,
		`DELETE FROM restore_jobs WHERE cluster = ?`, `DELETE FROM slots WHERE cluster = ?`, `DELETE FROM clusters WHERE pk = ?`} {
		if _, err := tx.ExecContext(ctx, q, pk.Int64); err != nil {
			return fmt.Errorf("sqlite: delete cluster %s: %w", cref.Label(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete cluster %s: %w", cref.Label(), err)
	}
	return nil
}

func boolArg(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
