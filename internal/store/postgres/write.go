package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// CreateOrganization stores an organization; a taken id is a Conflict.
func (db *DB) CreateOrganization(ctx context.Context, o backup.Organization) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if o.ID.IsZero() {
		return store.ErrMissingID("organization")
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO organizations (id, name, created) VALUES ($1, $2, $3)`,
		o.ID.Hex(), o.Name, o.Created.Unix())
	if violation(err, codeUniqueViolation, "") {
		return store.ErrDuplicateID("organization", o.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: create organization %s: %w", o.ID.Hex(), err)
	}
	return nil
}

// CreateProject stores a project of an existing organization
// (ORG_NOT_FOUND otherwise); a taken id is a Conflict.
func (db *DB) CreateProject(ctx context.Context, p backup.Project) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	if p.ID.IsZero() {
		return store.ErrMissingID("group")
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO projects (id, org_id, name, created) VALUES ($1, $2, $3, $4)`,
		p.ID.Hex(), p.OrgID.Hex(), p.Name, p.Created.Unix())
	switch {
	case violation(err, codeUniqueViolation, ""):
		return store.ErrDuplicateID("group", p.ID)
	case violation(err, codeForeignKeyViolation, ""):
		return backup.ErrOrgNotFound(p.OrgID.Hex())
	case err != nil:
		return fmt.Errorf("postgres: create project %s: %w", p.ID.Hex(), err)
	}
	return nil
}

// CreateCluster validates and stores a cluster of an existing project.
// Its name must be free in the project (DUPLICATE_CLUSTER_NAME) and its id
// unused (Conflict).
func (db *DB) CreateCluster(ctx context.Context, c backup.Cluster) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	cols, err := store.ClusterColumns(ctx, c)
	if err != nil {
		return err
	}
	group := c.GroupID.Hex()
	// Projects never change organization: the check holds for the insert.
	if err := authorizeProject(ctx, db.pool, store.Admin, c.GroupID); err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO clusters
  (id, group_id, name, type, mongodb_version, backup, replica_set_name, shards, config, created,
   ckpt_driver, ckpt_interval_min, pit_window_hours, backup_status, snapshot_schedule, rpo_min)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		c.ID.Hex(), group, c.Name, string(c.Type), c.MongoDBVersion, string(c.Backup), c.ReplicaSetName,
		cols.Shards, cols.Config, c.Created.Unix(), cols.Driver, cols.IntervalMin, cols.WindowHours, cols.Status, cols.Snapshots, cols.ObjectiveMin)
	switch {
	case violation(err, codeForeignKeyViolation, ""):
		return backup.ErrGroupNotFound(group)
	case violation(err, codeUniqueViolation, ""):
		// Unique indexes are checked before the foreign key: an unknown
		// project comes first, as the SQLite store reports it.
		var exists bool
		if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)`, group).Scan(&exists); err != nil {
			return fmt.Errorf("postgres: create cluster %s: %w", c.ID.Hex(), err)
		}
		switch {
		case !exists:
			return backup.ErrGroupNotFound(group)
		case violation(err, codeUniqueViolation, "clusters_group_name_key"):
			return backup.ErrDuplicateClusterName(c.Name, group)
		default:
			return store.ErrDuplicateID("cluster", c.ID)
		}
	case err != nil:
		return fmt.Errorf("postgres: create cluster %s: %w", c.ID.Hex(), err)
	}
	return nil
}

// AddCheckpoint stores a checkpoint of an existing cluster whose ClusterID
// and GroupID it must carry. Adding an identical checkpoint again is a
// no-op; the same id with other content is DUPLICATE_CHECKPOINT.
func (db *DB) AddCheckpoint(ctx context.Context, cp backup.Checkpoint) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	return db.AddCheckpoints(ctx, []backup.Checkpoint{cp})
}

// AddCheckpoints stores many checkpoints in one transaction, with
// AddCheckpoint's rules for each: all are stored or, on the first error,
// none. Checkpoints newer than everything stored of their cluster (the
// usual case, and all of them when given oldest first) are appended
// without any search, many at a time with COPY, which is how seeding and
// benchmarks build large histories quickly.
func (db *DB) AddCheckpoints(ctx context.Context, cps []backup.Checkpoint) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	if len(cps) == 0 {
		return nil
	}
	return db.inTx(ctx, "add checkpoints", func(tx pgx.Tx) error {
		w := &writer{tx: tx, clusters: map[backup.ObjectID]*clusterState{}, pendingIDs: map[string]int{}}
		for i := range cps {
			if err := w.add(ctx, &cps[i]); err != nil {
				return err
			}
		}
		if err := w.flush(ctx); err != nil {
			return err
		}
		// Each touched block once, however many of the batch it holds.
		var dec *codec.Decoder
		for _, cs := range w.clusters {
			if cs.blocks.lo > cs.blocks.hi {
				continue
			}
			if dec == nil {
				dec = db.decoders.Get().(*codec.Decoder)
				defer db.decoders.Put(dec)
			}
			if err := rebuildBlocks(ctx, tx, dec, cs.pk, cs.blocks); err != nil {
				return fmt.Errorf("postgres: add checkpoints: %w", err)
			}
		}
		return nil
	})
}

// writer adds checkpoints within one write transaction. Appends are
// collected in pending, with their seqs assigned, and written by flush;
// anything else flushes them first, since it reads the table.
type writer struct {
	tx         pgx.Tx
	clusters   map[backup.ObjectID]*clusterState
	pending    []checkpointValues
	pendingIDs map[string]int // index in pending of each id
}

// maxPending bounds the rows one COPY writes.
const maxPending = 10_000

// clusterState is, for the length of a transaction that holds the
// cluster's row lock, the cluster's key and its first and last checkpoint,
// pending ones included: the append test for every checkpoint of a batch
// then needs no query.
type clusterState struct {
	pk              int64
	group           backup.ObjectID
	has             bool // any checkpoint, stored or pending
	first, last     int64
	firstTS, lastTS int64
	firstID, lastID string
	// blocks are the seqs whose blocks must be rebuilt at the end of the
	// transaction: what was stale before it (blockState.staleFrom) and
	// what it wrote or moved.
	blocks blockSpan
}

// checkpointValues is a checkpoint as stored, with its seq.
type checkpointValues struct {
	shape.StoredCheckpoint
	seq int64
}

func valuesOf(cp *backup.Checkpoint, cluster int64) checkpointValues {
	return checkpointValues{StoredCheckpoint: shape.StoredOf(cp, cluster, codec.AppendParts(nil, cp.Parts))}
}

func (w *writer) add(ctx context.Context, cp *backup.Checkpoint) error {
	if cp.ID.IsZero() {
		return store.ErrMissingID("checkpoint")
	}
	cs, err := w.clusterOf(ctx, cp)
	if err != nil {
		return err
	}
	v := valuesOf(cp, cs.pk)
	if i, ok := w.pendingIDs[v.ID]; ok {
		// Given twice in the batch.
		if v.Same(&w.pending[i].StoredCheckpoint) {
			return nil
		}
		return shape.ErrDifferentCheckpoint(v.ID)
	}

	if !cs.has || shape.KeyLess(cs.lastTS, cs.lastID, v.Timestamp, v.ID) {
		// The usual case: newer than everything stored, so it goes last.
		// The cluster's lock keeps the seq free until the commit; an id
		// taken (by another cluster, since this one's newest is older) is
		// found when the pending rows are written.
		v.seq = 1
		if cs.has {
			v.seq = cs.last + 1
		} else {
			cs.first, cs.firstTS, cs.firstID = v.seq, v.Timestamp, v.ID
		}
		cs.has, cs.last, cs.lastTS, cs.lastID = true, v.seq, v.Timestamp, v.ID
		cs.blocks.add(v.seq, v.seq)
		w.pendingIDs[v.ID] = len(w.pending)
		w.pending = append(w.pending, v)
		if len(w.pending) >= maxPending {
			return w.flush(ctx)
		}
		return nil
	}

	// Out of order: the table must be read, so the pending rows go first.
	if err := w.flush(ctx); err != nil {
		return err
	}
	// The id check comes first: a re-add is a no-op, and a conflict must
	// not shift anything.
	if stored, err := w.stored(ctx, v.ID); err != nil {
		return err
	} else if stored != nil {
		if stored.Same(&v.StoredCheckpoint) {
			return nil
		}
		return shape.ErrDifferentCheckpoint(v.ID)
	}
	if shape.KeyLess(v.Timestamp, v.ID, cs.firstTS, cs.firstID) {
		// Older than everything stored: it goes before the first, and
		// every stored checkpoint keeps its seq.
		v.seq = cs.first - 1
		cs.first, cs.firstTS, cs.firstID = v.seq, v.Timestamp, v.ID
		cs.blocks.add(v.seq, v.seq)
		return w.insert(ctx, &v)
	}
	// In the middle: find where it goes, then shift the shorter side of
	// the range by one to make room. The shift is one UPDATE, which the
	// checkpoints' statement trigger answers by changing the cluster's
	// epoch once, voiding the readers' cached pages.
	pos, err := search(ctx, w.tx, cs.pk, cs.first, cs.last, func(ts int64, id string) bool {
		return shape.KeyLess(ts, id, v.Timestamp, v.ID)
	})
	if err != nil {
		return err
	}
	if cs.last-pos < pos-cs.first {
		if _, err := w.tx.Exec(ctx, `UPDATE checkpoints SET seq = seq + 1 WHERE cluster = $1 AND seq >= $2`, cs.pk, pos); err != nil {
			return fmt.Errorf("postgres: add checkpoint %s: shift: %w", v.ID, err)
		}
		v.seq = pos
		cs.last++
		cs.blocks.add(pos, cs.last)
	} else {
		if _, err := w.tx.Exec(ctx, `UPDATE checkpoints SET seq = seq - 1 WHERE cluster = $1 AND seq < $2`, cs.pk, pos); err != nil {
			return fmt.Errorf("postgres: add checkpoint %s: shift: %w", v.ID, err)
		}
		v.seq = pos - 1
		cs.first--
		cs.blocks.add(cs.first, pos-1)
	}
	return w.insert(ctx, &v)
}

// insertCheckpoint is the statement of one checkpoint.
const insertCheckpoint = `INSERT INTO checkpoints (cluster, seq, id, started, completed, ts, restorable, parts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// insert writes one checkpoint whose id is known to be free, or taken
// by another cluster since it was looked for: a conflict either way.
func (w *writer) insert(ctx context.Context, v *checkpointValues) error {
	_, err := w.tx.Exec(ctx, insertCheckpoint, v.Cluster, v.seq, v.ID, v.Started, v.Completed, v.Timestamp, v.Restorable, v.Parts)
	if violation(err, codeUniqueViolation, "checkpoints_id_key") {
		return shape.ErrDifferentCheckpoint(v.ID)
	}
	if err != nil {
		return fmt.Errorf("postgres: add checkpoint %s: %w", v.ID, err)
	}
	return nil
}

// flush writes the pending appends: one INSERT for one, else a look for
// ids already taken and one COPY. Their ids are newer than everything
// stored in their clusters, so a taken id is another cluster's checkpoint
// (or one stored since the look by another cluster's writer): a conflict.
func (w *writer) flush(ctx context.Context) error {
	defer func() {
		w.pending = w.pending[:0]
		clear(w.pendingIDs)
	}()
	switch len(w.pending) {
	case 0:
		return nil
	case 1:
		return w.insert(ctx, &w.pending[0])
	}
	ids := make([]string, len(w.pending))
	for i := range w.pending {
		ids[i] = w.pending[i].ID
	}
	var taken *string
	if err := w.tx.QueryRow(ctx, `SELECT min(id) FROM checkpoints WHERE id = ANY($1)`, ids).Scan(&taken); err != nil {
		return fmt.Errorf("postgres: add checkpoints: %w", err)
	}
	if taken != nil {
		return shape.ErrDifferentCheckpoint(*taken)
	}
	_, err := w.tx.CopyFrom(ctx, pgx.Identifier{"checkpoints"},
		[]string{"cluster", "seq", "id", "started", "completed", "ts", "restorable", "parts"},
		pgx.CopyFromSlice(len(w.pending), func(i int) ([]any, error) {
			v := &w.pending[i]
			return []any{v.Cluster, v.seq, v.ID, v.Started, v.Completed, v.Timestamp, v.Restorable, v.Parts}, nil
		}))
	if violation(err, codeUniqueViolation, "checkpoints_id_key") {
		return backup.Errorf(backup.Conflict, backup.CodeDuplicateCheckpoint,
			"A different checkpoint with one of the IDs given already exists.")
	}
	if err != nil {
		return fmt.Errorf("postgres: add checkpoints: %w", err)
	}
	return nil
}

// clusterOf returns the state of cp's cluster, locking its row for the
// transaction the first time, and checks that the checkpoint names the
// cluster's own project.
func (w *writer) clusterOf(ctx context.Context, cp *backup.Checkpoint) (*clusterState, error) {
	cs := w.clusters[cp.ClusterID]
	if cs == nil {
		pk, group, org, err := lockCluster(ctx, w.tx, cp.ClusterID)
		if errors.Is(err, pgx.ErrNoRows) {
			if err := authorizeProject(ctx, w.tx, store.Report, cp.GroupID); err != nil {
				return nil, err
			}
			return nil, backup.ErrClusterIDNotFound(cp.ClusterID.Hex(), cp.GroupID.Hex())
		}
		if err != nil {
			return nil, fmt.Errorf("postgres: add checkpoint %s: %w", cp.ID.Hex(), err)
		}
		if err := store.Authorize(ctx, store.Report, org, group); err != nil {
			return nil, err
		}
		cs = &clusterState{pk: pk, group: group}
		if err := cs.readBounds(ctx, w.tx); err != nil {
			return nil, err
		}
		bs, err := readBlockState(ctx, w.tx, pk)
		if err != nil {
			return nil, fmt.Errorf("postgres: add checkpoint %s: %w", cp.ID.Hex(), err)
		}
		cs.blocks = bs.span()
		w.clusters[cp.ClusterID] = cs
	}
	if cs.group != cp.GroupID {
		return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Checkpoint %s names group %s, but cluster %s is in group %s.",
			cp.ID.Hex(), cp.GroupID.Hex(), cp.ClusterID.Hex(), cs.group.Hex())
	}
	return cs, nil
}

// lockCluster takes a cluster's row lock for the transaction and reads
// its project and the project's organization, which every
// writer of its checkpoints holds while it reads and changes their seqs:
// concurrent writers of one cluster, in any process, queue on it.
// pgx.ErrNoRows when there is no such cluster (or it was deleted while
// this waited).
func lockCluster(ctx context.Context, tx pgx.Tx, id backup.ObjectID) (pk int64, group backup.ObjectID, org string, err error) {
	var g string
	if err := tx.QueryRow(ctx, `SELECT c.pk, c.group_id, p.org_id FROM clusters c JOIN projects p ON p.id = c.group_id
  WHERE c.id = $1 FOR UPDATE OF c`, id.Hex()).Scan(&pk, &g, &org); err != nil {
		return 0, group, "", err
	}
	group, err = shape.ParseIDString(g)
	return pk, group, org, err
}

// readBounds reads the cluster's first and last checkpoints. It runs as
// its own statement after the lock is held, so that its snapshot has
// every write of the lock's previous holders.
func (cs *clusterState) readBounds(ctx context.Context, tx pgx.Tx) error {
	var (
		firstSeq, firstTS, lastSeq, lastTS pgtype.Int8
		firstID, lastID                    pgtype.Text
	)
	err := tx.QueryRow(ctx, `SELECT f.seq, f.ts, f.id, l.seq, l.ts, l.id FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT seq, ts, id FROM checkpoints WHERE cluster = $1 ORDER BY seq LIMIT 1) AS f ON true
LEFT JOIN LATERAL (SELECT seq, ts, id FROM checkpoints WHERE cluster = $1 ORDER BY seq DESC LIMIT 1) AS l ON true`,
		cs.pk).Scan(&firstSeq, &firstTS, &firstID, &lastSeq, &lastTS, &lastID)
	if err != nil {
		return fmt.Errorf("postgres: checkpoint bounds: %w", err)
	}
	cs.has = firstSeq.Valid
	cs.first, cs.firstTS, cs.firstID = firstSeq.Int64, firstTS.Int64, firstID.String
	cs.last, cs.lastTS, cs.lastID = lastSeq.Int64, lastTS.Int64, lastID.String
	return nil
}

// search returns the smallest seq in [lo, hi] whose row does not satisfy
// before, or hi+1. Rows are in (ts, id) order by seq, so any predicate
// that holds for a prefix of them can be bisected with O(log n) point
// reads of the primary key, with no index on ts.
func search(ctx context.Context, tx pgx.Tx, pk, lo, hi int64, before func(ts int64, id string) bool) (int64, error) {
	for lo <= hi {
		mid := lo + (hi-lo)/2
		var ts int64
		var id string
		if err := tx.QueryRow(ctx, `SELECT ts, id FROM checkpoints WHERE cluster = $1 AND seq = $2`, pk, mid).Scan(&ts, &id); err != nil {
			return 0, fmt.Errorf("postgres: search checkpoints at seq %d: %w", mid, err)
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
func (w *writer) stored(ctx context.Context, id string) (*checkpointValues, error) {
	s := checkpointValues{StoredCheckpoint: shape.StoredCheckpoint{ID: id}}
	err := w.tx.QueryRow(ctx, `SELECT cluster, started, completed, ts, restorable, parts FROM checkpoints WHERE id = $1`, id).
		Scan(&s.Cluster, &s.Started, &s.Completed, &s.Timestamp, &s.Restorable, &s.Parts)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: add checkpoint %s: %w", id, err)
	}
	return &s, nil
}

// PruneCheckpoints deletes a cluster's checkpoints whose Timestamp is
// before cutoff, returning how many went. They are the oldest, a prefix of
// the cluster's seqs, so the rest keep their numbers: listing starts from
// the smallest seq, not from 1.
func (db *DB) PruneCheckpoints(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (_ int, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return 0, err
	}
	var n int
	err = db.inTx(ctx, "prune "+clusterID.Hex(), func(tx pgx.Tx) error {
		n = 0
		pk, _, _, err := lockCluster(ctx, tx, clusterID)
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.Errorf(backup.NotFound, backup.CodeClusterNotFound, "No cluster with ID %s exists.", clusterID.Hex())
		}
		if err != nil {
			return err
		}
		// Stored times are whole seconds: ts < cutoff is ts < ceil(cutoff).
		cut := cutoff.Unix()
		if cutoff.Nanosecond() != 0 {
			cut++
		}
		// The slot records go with the checkpoints, whether or not there
		// are checkpoints to prune: a cluster whose slots all failed has
		// records and no checkpoint.
		if _, err := tx.Exec(ctx, `DELETE FROM slots WHERE cluster = $1 AND slot < $2`, pk, cut); err != nil {
			return err
		}
		cs := &clusterState{pk: pk}
		if err := cs.readBounds(ctx, tx); err != nil || !cs.has {
			return err
		}
		end, err := search(ctx, tx, pk, cs.first, cs.last, func(ts int64, _ string) bool { return ts < cut })
		if err != nil || end == cs.first {
			return err
		}
		bs, err := readBlockState(ctx, tx, pk)
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM checkpoints WHERE cluster = $1 AND seq < $2`, pk, end)
		if err != nil {
			return err
		}
		n = int(tag.RowsAffected())
		dec := db.decoders.Get().(*codec.Decoder)
		defer db.decoders.Put(dec)
		return pruneBlocks(ctx, tx, dec, pk, bs, end)
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// DeleteOrganization deletes an organization with its API keys, service
// accounts and their secrets: ORG_NOT_FOUND, or
// CANNOT_DELETE_ORG_ACTIVE_PROJECTS while it has projects. The
// organization's row lock makes a concurrent CreateProject (whose foreign
// key check waits for it) fail with ORG_NOT_FOUND rather than leave a
// project without its organization.
func (db *DB) DeleteOrganization(ctx context.Context, id backup.ObjectID) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	org := id.Hex()
	return db.inTx(ctx, "delete organization "+org, func(tx pgx.Tx) error {
		var locked bool
		err := tx.QueryRow(ctx, `SELECT true FROM organizations WHERE id = $1 FOR UPDATE`, org).Scan(&locked)
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.ErrOrgNotFound(org)
		}
		if err != nil {
			return err
		}
		var projects bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM projects WHERE org_id = $1)`, org).Scan(&projects); err != nil {
			return err
		}
		if projects {
			return store.ErrCannotDeleteOrg(id)
		}
		// The secrets go with their accounts (ON DELETE CASCADE).
		for _, q := range []string{
			`DELETE FROM service_accounts WHERE org_id = $1`,
			`DELETE FROM api_keys WHERE org_id = $1`,
			`DELETE FROM organizations WHERE id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, org); err != nil {
				return err
			}
		}
		return nil
	})
}

// DeleteProject deletes a project and the grants on it that API keys and
// service accounts hold, in one transaction: GROUP_NOT_FOUND, or
// CANNOT_CLOSE_GROUP_ACTIVE_CLUSTERS while it has clusters. A principal
// whose only grant was on the project is kept, with no grants. The
// project's row lock makes concurrent writes that name it (a cluster's
// foreign key, a grant's check) wait, then find it gone.
func (db *DB) DeleteProject(ctx context.Context, id backup.ObjectID) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return err
	}
	group := id.Hex()
	return db.inTx(ctx, "delete project "+group, func(tx pgx.Tx) error {
		var org string
		err := tx.QueryRow(ctx, `SELECT org_id FROM projects WHERE id = $1 FOR UPDATE`, group).Scan(&org)
		if errors.Is(err, pgx.ErrNoRows) {
			return backup.ErrGroupNotFound(group)
		}
		if err != nil {
			return err
		}
		var clusters bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM clusters WHERE group_id = $1)`, group).Scan(&clusters); err != nil {
			return err
		}
		if clusters {
			return store.ErrCannotCloseGroup(id)
		}
		for _, t := range []principalTable{apiKeysTable, serviceAccountsTable} {
			if err := removeGrants(ctx, tx, t, org, id); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM projects WHERE id = $1`, group)
		return err
	})
}

// DeleteCluster deletes a cluster and its checkpoints, resolving the
// reference as Cluster does: GROUP_NOT_FOUND, the caller's access to the
// project, CLUSTER_NOT_FOUND. A cluster on Cloud Backup is deleted too.
//
// It takes the cluster's row lock before deleting anything, as writers of
// its checkpoints do, so that it waits for them rather than deadlock with
// them. The checkpoints' delete trigger changes the cluster's epoch, and
// a cluster created again gets a new pk, so no reader's cache can serve
// the deleted checkpoints.
func (db *DB) DeleteCluster(ctx context.Context, cref backup.ClusterRef) (err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return err
	}
	q, key := refQuery(cref, `SELECT p.org_id, c.pk`+fromRefByName, `SELECT p.org_id, c.pk`+fromRefByID)
	return db.inTx(ctx, "delete cluster "+cref.Label(), func(tx pgx.Tx) error {
		var org pgtype.Text
		var pk pgtype.Int8
		if err := tx.QueryRow(ctx, q, cref.GroupID.Hex(), key).Scan(&org, &pk); err != nil {
			return err
		}
		if err := store.Resolve(ctx, store.Admin, cref, org.String, org.Valid, pk.Valid, false); err != nil {
			return err
		}
		var locked bool
		err := tx.QueryRow(ctx, `SELECT true FROM clusters WHERE pk = $1 FOR UPDATE`, pk.Int64).Scan(&locked)
		if errors.Is(err, pgx.ErrNoRows) {
			return cref.NotFound() // deleted meanwhile
		}
		if err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM checkpoints WHERE cluster = $1`, `DELETE FROM checkpoint_blocks WHERE cluster = $1`, `DELETE FROM restore_jobs WHERE cluster = $1`, `DELETE FROM slots WHERE cluster = $1`, `DELETE FROM clusters WHERE pk = $1`} {
			if _, err := tx.Exec(ctx, q, pk.Int64); err != nil {
				return err
			}
		}
		return nil
	})
}
