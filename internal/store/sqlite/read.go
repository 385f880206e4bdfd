package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
	"strings"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/cache"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// readOnly begins read transactions on the read pool: a plain BEGIN, whose
// snapshot starts at the first read, so every statement of a request sees
// the same state of the file.
var readOnly = &sql.TxOptions{ReadOnly: true}

// projectCols are a project's columns and its cluster count, which the
// unique (group_id, name) index answers without reading cluster rows.
const projectCols = `p.org_id, p.name, p.created, (SELECT count(*) FROM clusters c WHERE c.group_id = p.id)`

// Project returns a project with its ClusterCount, or GROUP_NOT_FOUND.
func (db *DB) Project(ctx context.Context, id backup.ObjectID) (_ backup.Project, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Project{}, err
	}
	p := backup.Project{ID: id}
	var org string
	var created int64
	err = db.r.QueryRowContext(ctx, `SELECT `+projectCols+` FROM projects p WHERE p.id = ?`, id.Hex()).
		Scan(&org, &p.Name, &created, &p.ClusterCount)
	if err == sql.ErrNoRows {
		return backup.Project{}, backup.ErrGroupNotFound(id.Hex())
	}
	if err != nil {
		return backup.Project{}, fmt.Errorf("sqlite: project %s: %w", id.Hex(), err)
	}
	if err := store.Authorize(ctx, store.Read, org, id); err != nil {
		return backup.Project{}, err
	}
	if p.OrgID, err = shape.ParseIDString(org); err != nil {
		return backup.Project{}, fmt.Errorf("sqlite: project %s: %w", id.Hex(), err)
	}
	p.Created = shape.UnixTime(created)
	return p, nil
}

// ProjectByName returns the project named name that the caller may read
// (store.FirstReadable), with its ClusterCount: one seek of the
// projects_name index.
func (db *DB) ProjectByName(ctx context.Context, name string) (_ backup.Project, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Project{}, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT p.id, `+projectCols+` FROM projects p WHERE p.name = ? ORDER BY p.id`, name)
	if err != nil {
		return backup.Project{}, fmt.Errorf("sqlite: project named %q: %w", name, err)
	}
	defer rows.Close()
	var found []store.Named
	var ps []backup.Project
	for rows.Next() {
		var id, org string
		var created int64
		var p backup.Project
		if err := rows.Scan(&id, &org, &p.Name, &created, &p.ClusterCount); err != nil {
			return backup.Project{}, fmt.Errorf("sqlite: project named %q: %w", name, err)
		}
		if p.ID, err = shape.ParseIDString(id); err != nil {
			return backup.Project{}, fmt.Errorf("sqlite: project named %q: %w", name, err)
		}
		if p.OrgID, err = shape.ParseIDString(org); err != nil {
			return backup.Project{}, fmt.Errorf("sqlite: project %s: %w", id, err)
		}
		p.Created = shape.UnixTime(created)
		found, ps = append(found, store.Named{ID: p.ID, Org: org}), append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return backup.Project{}, fmt.Errorf("sqlite: project named %q: %w", name, err)
	}
	i, err := store.FirstReadable(ctx, name, found)
	if err != nil {
		return backup.Project{}, err
	}
	return ps[i], nil
}

// Projects lists the projects the caller may read ordered by id, with their
// ClusterCount. Projects are few, so the page is an OFFSET scan and the
// total a COUNT; a scope of one organization reads only its range of the
// projects_org index, which holds its projects in id order.
func (db *DB) Projects(ctx context.Context, page backup.PageRequest) (_ backup.Page[backup.Project], err error) {
	defer db.classify(&err)
	var out backup.Page[backup.Project]
	scope, err := store.ScopeOf(ctx)
	if err != nil {
		return out, err
	}
	offset, err := pageOffset(page)
	if err != nil {
		return out, err
	}
	where, args, none := scopeFilter(scope)
	if none {
		return backup.Page[backup.Project]{Items: []backup.Project{}}, nil
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return out, fmt.Errorf("sqlite: projects: %w", err)
	}
	defer rollback(tx)
	out.Items = []backup.Project{}
	rows, err := tx.QueryContext(ctx, `SELECT p.id, `+projectCols+` FROM projects p`+where+` ORDER BY p.id LIMIT ? OFFSET ?`,
		append(args, page.Size, offset)...)
	if err != nil {
		return out, fmt.Errorf("sqlite: projects: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, org string
		var p backup.Project
		var created int64
		if err := rows.Scan(&id, &org, &p.Name, &created, &p.ClusterCount); err != nil {
			return out, fmt.Errorf("sqlite: projects: %w", err)
		}
		if p.ID, err = shape.ParseIDString(id); err != nil {
			return out, fmt.Errorf("sqlite: projects: %w", err)
		}
		if p.OrgID, err = shape.ParseIDString(org); err != nil {
			return out, fmt.Errorf("sqlite: projects: %w", err)
		}
		p.Created = shape.UnixTime(created)
		out.Items = append(out.Items, p)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("sqlite: projects: %w", err)
	}
	if page.IncludeCount {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM projects p`+where, args...).Scan(&out.Total); err != nil {
			return out, fmt.Errorf("sqlite: count projects: %w", err)
		}
	}
	return out, nil
}

// scopeFilter returns the WHERE clause (on projects p) and its arguments
// that select the projects of a scope, or none when the scope holds no
// project at all. Each form is a range or seeks of an index: the one
// statement for every scope, with ORs on its arguments, would scan.
func scopeFilter(s store.Scope) (where string, args []any, none bool) {
	switch {
	case s.All:
		return "", nil, false
	case s.OrgWide:
		return ` WHERE p.org_id = ?`, []any{s.OrgID.Hex()}, false
	case len(s.IDs) == 0:
		return "", nil, true
	}
	// The ids go as one JSON array, so that the statement text is the
	// same whatever their number. Hex ids need no escaping.
	var b strings.Builder
	b.Grow(len(s.IDs) * 27)
	b.WriteByte('[')
	for i, id := range s.IDs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('"')
		b.WriteString(id.Hex())
		b.WriteByte('"')
	}
	b.WriteByte(']')
	return ` WHERE p.org_id = ? AND p.id IN (SELECT value FROM json_each(?))`, []any{s.OrgID.Hex(), b.String()}, false
}

// Organizations lists every organization ordered by id.
func (db *DB) Organizations(ctx context.Context) (_ []backup.Organization, err error) {
	defer db.classify(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+shape.OrganizationCols+` FROM organizations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: organizations: %w", err)
	}
	defer rows.Close()
	out := []backup.Organization{}
	for rows.Next() {
		o, err := shape.ScanOrganization(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: organizations: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: organizations: %w", err)
	}
	return out, nil
}

// clusterCols are the columns scanCluster reads, in its order.
const clusterCols = `c.id, c.group_id, c.name, c.type, c.mongodb_version, c.backup, c.replica_set_name, c.shards, c.config, c.created, c.ckpt_driver, c.ckpt_interval_min, c.pit_window_hours, c.backup_status, c.snapshot_schedule, c.rpo_min`

// Cluster resolves a reference to a whole cluster: GROUP_NOT_FOUND, then
// the caller's access to the project, then CLUSTER_NOT_FOUND, in one
// statement.
func (db *DB) Cluster(ctx context.Context, ref backup.ClusterRef) (_ backup.Cluster, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Cluster{}, err
	}
	return readCluster(ctx, db.r, ref, store.Read)
}

// queryer is a connection pool or a transaction.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readCluster is Cluster, in q, for a caller with need on the project.
func readCluster(ctx context.Context, q queryer, ref backup.ClusterRef, need store.Need) (backup.Cluster, error) {
	stmt, key := `SELECT `+projectOrg+`, c.pk, `+clusterCols+fromRefByName, ref.Name
	if !ref.ByName() {
		stmt, key = `SELECT `+projectOrg+`, c.pk, `+clusterCols+fromRefByID, ref.ID.Hex()
	}
	rows, err := q.QueryContext(ctx, stmt, ref.GroupID.Hex(), key)
	if err != nil {
		return backup.Cluster{}, fmt.Errorf("sqlite: cluster %s: %w", ref.Label(), err)
	}
	defer rows.Close()
	if !rows.Next() {
		return backup.Cluster{}, fmt.Errorf("sqlite: cluster %s: no row: %w", ref.Label(), rows.Err())
	}
	var org sql.NullString
	var pk sql.NullInt64
	var c backup.Cluster
	found, err := scanCluster(rows, &c, &org, &pk)
	if err != nil {
		return backup.Cluster{}, fmt.Errorf("sqlite: cluster %s: %w", ref.Label(), err)
	}
	if err := store.Resolve(ctx, need, ref, org.String, org.Valid, found, false); err != nil {
		return backup.Cluster{}, err
	}
	return c, nil
}

// Clusters lists a project's clusters ordered by name, or GROUP_NOT_FOUND.
func (db *DB) Clusters(ctx context.Context, groupID backup.ObjectID, page backup.PageRequest) (_ backup.Page[backup.Cluster], err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Page[backup.Cluster]{}, err
	}
	var out backup.Page[backup.Cluster]
	offset, err := pageOffset(page)
	if err != nil {
		return out, err
	}
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return out, fmt.Errorf("sqlite: clusters: %w", err)
	}
	defer rollback(tx)
	group := groupID.Hex()
	if err := authorizeProject(ctx, tx, store.Read, groupID); err != nil {
		return out, err
	}
	out.Items = []backup.Cluster{}
	rows, err := tx.QueryContext(ctx, `SELECT `+clusterCols+` FROM clusters c WHERE c.group_id = ? ORDER BY c.name LIMIT ? OFFSET ?`,
		group, page.Size, offset)
	if err != nil {
		return out, fmt.Errorf("sqlite: clusters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c backup.Cluster
		if _, err := scanCluster(rows, &c); err != nil {
			return out, fmt.Errorf("sqlite: clusters: %w", err)
		}
		out.Items = append(out.Items, c)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("sqlite: clusters: %w", err)
	}
	if page.IncludeCount {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM clusters WHERE group_id = ?`, group).Scan(&out.Total); err != nil {
			return out, fmt.Errorf("sqlite: count clusters: %w", err)
		}
	}
	return out, nil
}

// scanCluster scans clusterCols, after the destinations in pre. It reports
// false when the cluster columns are NULL (a LEFT JOIN that matched none).
func scanCluster(rows *sql.Rows, c *backup.Cluster, pre ...any) (bool, error) {
	var id, group, name, typ, version, kind, rs, shards, config, driver, status, snaps sql.NullString
	var created, interval, window, objective sql.NullInt64
	dest := append(pre, &id, &group, &name, &typ, &version, &kind, &rs, &shards, &config, &created, &driver, &interval, &window, &status, &snaps, &objective)
	if err := rows.Scan(dest...); err != nil {
		return false, err
	}
	if !id.Valid {
		return false, nil
	}
	var err error
	if c.ID, err = shape.ParseIDString(id.String); err != nil {
		return false, err
	}
	if c.GroupID, err = shape.ParseIDString(group.String); err != nil {
		return false, err
	}
	c.Name = name.String
	c.Type = backup.ClusterType(typ.String)
	c.MongoDBVersion = version.String
	c.Backup = backup.BackupKind(kind.String)
	c.ReplicaSetName = rs.String
	c.Created = shape.UnixTime(created.Int64)
	c.Schedule = shape.ScheduleOf(driver.String, interval.Int64, window.Int64, objective.Int64)
	c.Status = backup.BackupStatus(status.String)
	if c.Snapshots, err = shape.DecodeSnapshots(snaps.String); err != nil {
		return false, fmt.Errorf("cluster %s snapshot schedule: %w", id.String, err)
	}
	if c.Shards, err = shape.DecodeShards(shards.String); err != nil {
		return false, fmt.Errorf("cluster %s shards: %w", id.String, err)
	}
	if c.Config, err = shape.DecodeConfig(config.String); err != nil {
		return false, fmt.Errorf("cluster %s config: %w", id.String, err)
	}
	return true, nil
}

// ref is a resolved cluster reference.
type ref struct {
	pk          int64
	id          backup.ObjectID
	epoch       int64 // see migrations/0002_cluster_epoch.sql
	first, last int64 // seq bounds; empty when last < first
}

func (r ref) count() int64 { return r.last - r.first + 1 }

// Checkpoints lists one page of a cluster's checkpoints, oldest first.
//
// One statement reads the reference, the cluster's epoch and its seq
// bounds (the head, cache.go). With the page cache on, a cached page for
// that epoch and first seq is the answer. Otherwise the page's blocks
// are (blocks.go), read in one statement that checks the epoch; when
// they do not hold the whole page, it reads the reference and the
// bounds again, then the page, as one range of the checkpoints primary
// key, in one read transaction. No step depends on the page number or
// the number of rows.
//
// The returned Items may share their backing array, and their Parts', with
// the cache and with other callers: they must be read, never modified.
func (db *DB) Checkpoints(ctx context.Context, cref backup.ClusterRef, page backup.PageRequest) (_ backup.Page[backup.Checkpoint], err error) {
	defer db.classify(&err)
	p, _, err := db.checkpointsPage(ctx, cref, page, false)
	return p, err
}

// CheckpointsSeq is Checkpoints for a caller that reads each checkpoint
// of the page once, in order, and keeps none of them (the API's encoder):
// a page read from blocks that is not worth caching (admit) comes as a
// sequence that decodes one checkpoint at a time into one reused value,
// with Items nil and n the number of checkpoints; any other page comes as
// Checkpoints returns it, with a nil sequence. The sequence reads only
// memory of its own (the page's blocks, copied), so it may be run more
// than once, and yields the page as of the snapshot it was read in. It
// yields fewer than n checkpoints when the blocks turn out, as it walks
// them, not to hold the whole page (a damaged block, seqs missing): the
// caller then drops what it made of them and reads the page through
// Checkpoints, which reads such a page from the rows. The blocks are
// walked once, by the sequence, rather than once to check them and once
// more to yield them.
func (db *DB) CheckpointsSeq(ctx context.Context, cref backup.ClusterRef, page backup.PageRequest) (_ backup.Page[backup.Checkpoint], n int, _ iter.Seq[*backup.Checkpoint], err error) {
	defer db.classify(&err)
	p, pb, err := db.checkpointsPage(ctx, cref, page, true)
	if err != nil || pb == nil {
		return p, len(p.Items), nil, err
	}
	return p, pb.Len(), db.seq(pb), nil
}

// checkpointsPage is Checkpoints, or, with stream, CheckpointsSeq's
// blocks of a page not worth caching, with Items nil.
func (db *DB) checkpointsPage(ctx context.Context, cref backup.ClusterRef, page backup.PageRequest, stream bool) (backup.Page[backup.Checkpoint], *codec.PageBlocks, error) {
	var out backup.Page[backup.Checkpoint]
	if _, err := store.Caller(ctx); err != nil {
		return out, nil, err
	}
	offset, err := pageOffset(page)
	if err != nil {
		return out, nil, err
	}
	h, err := db.head(ctx, db.headBoundsByName, db.headBoundsByID, cref, true)
	if err != nil {
		return out, nil, err
	}
	if out, ok := db.pages.Page(h.pk, h.epoch, h.first, h.last, offset, page); ok {
		return out, nil, nil
	}
	if page.IncludeCount {
		out.Total = int(h.count())
	}
	if offset >= h.count() {
		out.Items = []backup.Checkpoint{}
		return out, nil, nil
	}
	from := h.first + offset
	to := min(from+int64(page.Size), h.last+1)
	if pb, ok := db.readBlocks(ctx, h, cref.GroupID, from, to); ok {
		key := cache.PageKey{Cluster: h.pk, Epoch: h.epoch, From: from, Size: int64(page.Size)}
		if stream && (db.pages == nil || !db.admit(key)) {
			db.blockReads.Add(1)
			return out, pb, nil
		}
		if items, ok := db.items(pb); ok {
			db.blockReads.Add(1)
			out.Items = items
			db.pages.Add(key, out.Items)
			return out, nil, nil
		}
	}
	out, err = db.readPage(ctx, cref, page, offset)
	return out, nil, err
}

// readPage is Checkpoints without the cache, which it then fills.
func (db *DB) readPage(ctx context.Context, cref backup.ClusterRef, page backup.PageRequest, offset int64) (backup.Page[backup.Checkpoint], error) {
	var out backup.Page[backup.Checkpoint]
	tx, err := db.r.BeginTx(ctx, readOnly)
	if err != nil {
		return out, fmt.Errorf("sqlite: checkpoints: %w", err)
	}
	defer rollback(tx)
	r, err := db.resolve(ctx, tx, cref)
	if err != nil {
		return out, err
	}
	if page.IncludeCount {
		out.Total = int(r.count())
	}
	if offset >= r.count() {
		out.Items = []backup.Checkpoint{}
		return out, nil
	}
	from := r.first + offset
	to := min(from+int64(page.Size), r.last+1)
	out.Items = make([]backup.Checkpoint, 0, to-from)

	rows, err := tx.StmtContext(ctx, db.page).QueryContext(ctx, r.pk, from, to)
	if err != nil {
		return out, fmt.Errorf("sqlite: checkpoints of %s: %w", cref.Label(), err)
	}
	defer rows.Close()
	dec := db.decoders.Get().(*codec.Decoder)
	defer db.decoders.Put(dec)
	var (
		rawID, blob sql.RawBytes
		row         checkpointRow
		arena       []backup.Part // backs every row's Parts: one allocation per page, not per row
	)
	for rows.Next() {
		if err := rows.Scan(&rawID, &row.started, &row.completed, &row.ts, &row.restorable, &blob); err != nil {
			return out, fmt.Errorf("sqlite: checkpoints of %s: %w", cref.Label(), err)
		}
		cp := backup.Checkpoint{ClusterID: r.id, GroupID: cref.GroupID}
		if cp.ID, err = shape.ParseID(rawID); err != nil {
			return out, fmt.Errorf("sqlite: checkpoints of %s: %w", cref.Label(), err)
		}
		if arena == nil {
			// Size the arena from the first row: a cluster's checkpoints
			// all have one part per shard and config server.
			arena = make([]backup.Part, 0, int64(shape.PartCount(blob))*(to-from))
		}
		if arena, err = row.fill(&cp, dec, arena, blob); err != nil {
			return out, fmt.Errorf("sqlite: checkpoint %s: %w", cp.ID.Hex(), err)
		}
		out.Items = append(out.Items, cp)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("sqlite: checkpoints of %s: %w", cref.Label(), err)
	}
	if int64(len(out.Items)) != to-from {
		// Seqs are contiguous; a hole is a file damaged by hand. Serve
		// what is there, as without the cache, but do not keep it.
		return out, nil
	}
	db.pages.Add(cache.PageKey{Cluster: r.pk, Epoch: r.epoch, From: from, Size: int64(page.Size)}, out.Items)
	return out, nil
}

// resolve answers a reference inside a read transaction, with the errors
// in the order the API reports them.
func (db *DB) resolve(ctx context.Context, tx *sql.Tx, cref backup.ClusterRef) (ref, error) {
	stmt, key := db.resolveByName, cref.Name
	if !cref.ByName() {
		stmt, key = db.resolveByID, cref.ID.Hex()
	}
	rows, err := tx.StmtContext(ctx, stmt).QueryContext(ctx, cref.GroupID.Hex(), key)
	if err != nil {
		return ref{}, fmt.Errorf("sqlite: resolve %s: %w", cref.Label(), err)
	}
	defer rows.Close()
	if !rows.Next() {
		return ref{}, fmt.Errorf("sqlite: resolve %s: no row: %w", cref.Label(), rows.Err())
	}
	var (
		org         sql.NullString
		pk, epoch   sql.NullInt64
		id, kind    sql.RawBytes
		first, last sql.NullInt64
	)
	if err := rows.Scan(&org, &pk, &id, &kind, &epoch, &first, &last); err != nil {
		return ref{}, fmt.Errorf("sqlite: resolve %s: %w", cref.Label(), err)
	}
	return finishResolve(ctx, cref, org, pk, id, kind, epoch, first, last)
}

// finishResolve turns the scanned resolveCols into a ref or the API's
// errors: GROUP_NOT_FOUND, the caller's access to the project, then the
// cluster's. org is the project's organization, NULL when there is none.
func finishResolve(ctx context.Context, cref backup.ClusterRef, org sql.NullString, pk sql.NullInt64, id, kind sql.RawBytes, epoch, first, last sql.NullInt64) (ref, error) {
	if err := store.Resolve(ctx, store.Read, cref, org.String, org.Valid, pk.Valid, string(kind) == string(backup.BackupCloud)); err != nil {
		return ref{}, err
	}
	r := ref{pk: pk.Int64, epoch: epoch.Int64, first: 1, last: 0}
	var err error
	if r.id, err = shape.ParseID(id); err != nil {
		return ref{}, fmt.Errorf("sqlite: resolve %s: %w", cref.Label(), err)
	}
	if first.Valid && last.Valid {
		r.first, r.last = first.Int64, last.Int64
	}
	return r, nil
}

// Checkpoint returns one checkpoint of the referenced cluster.
//
// A checkpoint in the cache is returned when one statement shows that
// the reference resolves to the cluster it was read from and that the
// cluster's epoch is still the one it was read at (so it has not been
// pruned or moved since). Otherwise the reference and the checkpoint are
// read by one statement, so they come from one snapshot without a
// transaction's extra round trips.
//
// The returned Parts may be shared with the cache and other callers: they
// must be read, never modified.
func (db *DB) Checkpoint(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID) (_ backup.Checkpoint, err error) {
	defer db.classify(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Checkpoint{}, err
	}
	e, pk, epoch, cached := db.checkpoints.Get(id)
	if cached {
		h, err := db.head(ctx, db.headByName, db.headByID, cref, false)
		if err != nil {
			return backup.Checkpoint{}, err
		}
		if h.pk == pk && h.epoch == epoch {
			return e, nil
		}
	}
	cp, r, err := db.readCheckpoint(ctx, cref, id)
	if err != nil {
		if cached && r.pk == pk && backup.IsCode(err, backup.CodeCheckpointNotFound) {
			// Gone from its cluster: pruned. A miss elsewhere (another
			// cluster's reference) says nothing about the entry.
			db.checkpoints.Remove(id)
		}
		return backup.Checkpoint{}, err
	}
	db.checkpoints.Add(cp, r.pk, r.epoch)
	return cp, nil
}

// readCheckpoint is Checkpoint without the cache. It returns the resolved
// reference with CHECKPOINT_NOT_FOUND too.
func (db *DB) readCheckpoint(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID) (backup.Checkpoint, ref, error) {
	stmt, key := db.checkpointByName, cref.Name
	if !cref.ByName() {
		stmt, key = db.checkpointByID, cref.ID.Hex()
	}
	rows, err := stmt.QueryContext(ctx, cref.GroupID.Hex(), key, id.Hex())
	if err != nil {
		return backup.Checkpoint{}, ref{}, fmt.Errorf("sqlite: checkpoint %s: %w", id.Hex(), err)
	}
	defer rows.Close()
	if !rows.Next() {
		return backup.Checkpoint{}, ref{}, fmt.Errorf("sqlite: checkpoint %s: no row: %w", id.Hex(), rows.Err())
	}
	var (
		org       sql.NullString
		pk, epoch sql.NullInt64
		cid, kind sql.RawBytes
		row       checkpointRow
		blob      sql.RawBytes
	)
	if err := rows.Scan(&org, &pk, &cid, &kind, &epoch, &row.started, &row.completed, &row.ts, &row.restorable, &blob); err != nil {
		return backup.Checkpoint{}, ref{}, fmt.Errorf("sqlite: checkpoint %s: %w", id.Hex(), err)
	}
	r, err := finishResolve(ctx, cref, org, pk, cid, kind, epoch, sql.NullInt64{}, sql.NullInt64{})
	if err != nil {
		return backup.Checkpoint{}, ref{}, err
	}
	if !row.ts.Valid {
		return backup.Checkpoint{}, r, backup.ErrCheckpointNotFound(id.Hex(), cref.Label())
	}
	cp := backup.Checkpoint{ID: id, ClusterID: r.id, GroupID: cref.GroupID}
	dec := db.decoders.Get().(*codec.Decoder)
	defer db.decoders.Put(dec)
	if _, err := row.fill(&cp, dec, nil, blob); err != nil {
		return backup.Checkpoint{}, ref{}, fmt.Errorf("sqlite: checkpoint %s: %w", id.Hex(), err)
	}
	return cp, r, nil
}

// checkpointRow holds the scanned columns of checkpointCols but parts,
// which are scanned as RawBytes to decode them without a copy. They are
// Null types because the single-checkpoint query LEFT JOINs them.
type checkpointRow struct {
	started, completed, ts, restorable sql.NullInt64
}

// fill sets cp's scalar fields and decodes blob's parts onto the end of
// arena, giving cp a capacity-limited slice of it so that appending to one
// checkpoint's parts cannot overwrite the next one's.
func (row *checkpointRow) fill(cp *backup.Checkpoint, dec *codec.Decoder, arena []backup.Part, blob []byte) ([]backup.Part, error) {
	cp.Started = shape.UnixTime(row.started.Int64)
	if row.completed.Valid {
		cp.Completed = shape.UnixTime(row.completed.Int64)
	}
	cp.Timestamp = shape.UnixTime(row.ts.Int64)
	cp.Restorable = row.restorable.Int64 != 0
	start := len(arena)
	arena, err := dec.DecodeAppend(arena, blob)
	if err != nil {
		return arena, err
	}
	if len(arena) > start {
		cp.Parts = arena[start:len(arena):len(arena)]
	}
	return arena, nil
}

// pageOffset is store.PageOffset, saturated at math.MaxInt64/2.
func pageOffset(p backup.PageRequest) (int64, error) {
	return store.PageOffset(p, math.MaxInt64/2)
}

// authorizeProject finds a project inside a transaction and decides
// whether the caller has need on it: GROUP_NOT_FOUND, then
// store.Authorize's answer.
func authorizeProject(ctx context.Context, tx *sql.Tx, need store.Need, id backup.ObjectID) error {
	var org string
	switch err := tx.QueryRowContext(ctx, `SELECT org_id FROM projects WHERE id = ?`, id.Hex()).Scan(&org); {
	case errors.Is(err, sql.ErrNoRows):
		return backup.ErrGroupNotFound(id.Hex())
	case err != nil:
		return fmt.Errorf("sqlite: project %s: %w", id.Hex(), err)
	}
	return store.Authorize(ctx, need, org, id)
}
