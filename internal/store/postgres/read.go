package postgres

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
	"github.com/checkpointd/checkpointd/internal/store/cache"
	"github.com/checkpointd/checkpointd/internal/store/codec"
	"github.com/checkpointd/checkpointd/internal/store/shape"
)

// The statements that resolve a reference select from a one-row relation
// LEFT JOINed to the project ($1) and to the cluster named by $2 (its name
// or its id): the project's organization is NULL when there is no such
// project (the caller's access is checked against it, see store.Authorize),
// the cluster's columns when no cluster matches. Both are unique-index
// seeks.
const (
	fromRefByName = ` FROM (SELECT 1) AS one
LEFT JOIN projects p ON p.id = $1
LEFT JOIN clusters c ON c.group_id = $1 AND c.name = $2`
	fromRefByID = ` FROM (SELECT 1) AS one
LEFT JOIN projects p ON p.id = $1
LEFT JOIN clusters c ON c.group_id = $1 AND c.id = $2`

	// cloudBackup is the stored backup kind of a cluster without legacy
	// checkpoints.
	cloudBackup = `'` + string(backup.BackupCloud) + `'`

	// seqBounds are a cluster's first and last seq, each a seek of the
	// checkpoints primary key; NULL for a cluster without checkpoints.
	seqBounds = `(SELECT min(seq) FROM checkpoints WHERE cluster = c.pk),
  (SELECT max(seq) FROM checkpoints WHERE cluster = c.pk)`

	checkpointCols = `id, started, completed, ts, restorable, parts`
)

// refQuery returns the statement for a reference, from the by-name and
// by-id forms of its text, and the reference's key.
func refQuery(cref backup.ClusterRef, byName, byID string) (string, string) {
	if cref.ByName() {
		return byName, cref.Name
	}
	return byID, cref.ID.Hex()
}

// pageQuery builds the statement that reads one page of a cluster's
// checkpoints with its reference and seq bounds, from one snapshot: a
// head row carrying the reference and the bounds (its checkpoint columns
// NULL), then the page's rows (their reference columns NULL), each with
// its seq; a page past the end, or a reference that does not resolve to
// a legacy cluster, is the head row alone. $3 is the page's offset and $4
// its size. The page is a range of the checkpoints primary key starting
// at min(seq) + offset.
//
// The reference is sent once, not on every row: a NULL costs the server
// nothing to send, where each of a row's values costs it a call of the
// type's output function, and the head's seven columns were half of
// what a page row sent. Nothing sorts the result: the head row comes
// first and the range in seq order (an Append of the one-row CTE and a
// nested loop over an index scan) as the plan runs, but the reader
// relies on neither and places each row by its seq (readPage).
func pageQuery(from string) string {
	// MATERIALIZED keeps the reference a row of its own, read once: inlined,
	// its bounds' subqueries would run again for every row of the page.
	// LATERAL keeps the range a parameterized index scan of the primary
	// key (a join instead plans a bitmap scan and a sort).
	return `WITH h (org_id, pk, id, backup, epoch, first, last) AS MATERIALIZED (
  SELECT p.org_id, c.pk, c.id, c.backup, c.epoch,
  ` + seqBounds + from + `)
SELECT h.org_id, h.pk, h.id, h.backup, h.epoch, h.first, h.last,
  NULL::bigint AS seq, NULL::text, NULL::bigint, NULL::bigint, NULL::bigint, NULL::boolean, NULL::bytea
FROM h
UNION ALL
SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  k.seq, k.id, k.started, k.completed, k.ts, k.restorable, k.parts
FROM h CROSS JOIN LATERAL (SELECT seq, ` + checkpointCols + ` FROM checkpoints
  WHERE cluster = h.pk AND h.backup <> ` + cloudBackup + `
    AND seq >= h.first + $3 AND seq < h.first + $3 + $4
  ORDER BY seq) AS k`
}

var (
	pageByName = pageQuery(fromRefByName)
	pageByID   = pageQuery(fromRefByID)

	checkpointByName = checkpointQuery(fromRefByName)
	checkpointByID   = checkpointQuery(fromRefByID)

	clusterByName = `SELECT p.org_id, ` + clusterCols + fromRefByName
	clusterByID   = `SELECT p.org_id, ` + clusterCols + fromRefByID
)

// checkpointQuery builds the statement that reads one checkpoint ($3)
// with the reference it is asked through.
func checkpointQuery(from string) string {
	return `SELECT p.org_id, c.pk, c.id, c.backup, c.epoch,
  k.started, k.completed, k.ts, k.restorable, k.parts` + from + `
LEFT JOIN checkpoints k ON k.id = $3 AND k.cluster = c.pk`
}

// projectCols are a project's columns and its cluster count, which the
// unique (group_id, name) index answers without reading cluster rows.
const projectCols = `p.org_id, p.name, p.created, (SELECT count(*) FROM clusters c WHERE c.group_id = p.id)`

// Project returns a project with its ClusterCount, or GROUP_NOT_FOUND.
func (db *DB) Project(ctx context.Context, id backup.ObjectID) (_ backup.Project, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Project{}, err
	}
	p := backup.Project{ID: id}
	var org string
	var created int64
	err = db.pool.QueryRow(ctx, `SELECT `+projectCols+` FROM projects p WHERE p.id = $1`, id.Hex()).
		Scan(&org, &p.Name, &created, &p.ClusterCount)
	if errors.Is(err, pgx.ErrNoRows) {
		return backup.Project{}, backup.ErrGroupNotFound(id.Hex())
	}
	if err != nil {
		return backup.Project{}, fmt.Errorf("postgres: project %s: %w", id.Hex(), err)
	}
	if err := store.Authorize(ctx, store.Read, org, id); err != nil {
		return backup.Project{}, err
	}
	if p.OrgID, err = shape.ParseIDString(org); err != nil {
		return backup.Project{}, fmt.Errorf("postgres: project %s: %w", id.Hex(), err)
	}
	p.Created = shape.UnixTime(created)
	return p, nil
}

// ProjectByName returns the project named name that the caller may read
// (store.FirstReadable), with its ClusterCount: one seek of the
// projects_name index.
func (db *DB) ProjectByName(ctx context.Context, name string) (_ backup.Project, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Project{}, err
	}
	rows, err := db.pool.Query(ctx, `SELECT p.id, `+projectCols+` FROM projects p WHERE p.name = $1 ORDER BY p.id`, name)
	if err != nil {
		return backup.Project{}, fmt.Errorf("postgres: project named %q: %w", name, err)
	}
	defer rows.Close()
	var found []store.Named
	var ps []backup.Project
	for rows.Next() {
		var id, org string
		var created int64
		var p backup.Project
		if err := rows.Scan(&id, &org, &p.Name, &created, &p.ClusterCount); err != nil {
			return backup.Project{}, fmt.Errorf("postgres: project named %q: %w", name, err)
		}
		if p.ID, err = shape.ParseIDString(id); err != nil {
			return backup.Project{}, fmt.Errorf("postgres: project named %q: %w", name, err)
		}
		if p.OrgID, err = shape.ParseIDString(org); err != nil {
			return backup.Project{}, fmt.Errorf("postgres: project %s: %w", id, err)
		}
		p.Created = shape.UnixTime(created)
		found, ps = append(found, store.Named{ID: p.ID, Org: org}), append(ps, p)
	}
	if err := rows.Err(); err != nil {
		return backup.Project{}, fmt.Errorf("postgres: project named %q: %w", name, err)
	}
	i, err := store.FirstReadable(ctx, name, found)
	if err != nil {
		return backup.Project{}, err
	}
	return ps[i], nil
}

// Projects lists the projects the caller may read ordered by id, with their
// ClusterCount. Projects are few, so the page is an OFFSET scan and the
// total a count, in one statement (one snapshot); a scope of one
// organization reads only its range of the projects_org index.
func (db *DB) Projects(ctx context.Context, page backup.PageRequest) (_ backup.Page[backup.Project], err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
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
	total := `NULL::bigint`
	if page.IncludeCount {
		total = `(SELECT count(*) FROM projects p` + where + `)`
	}
	n := len(args)
	q := fmt.Sprintf(`SELECT t.total, x.id, x.org_id, x.name, x.created, x.clusters
FROM (SELECT %s AS total) AS t
LEFT JOIN LATERAL (SELECT p.id, %s FROM projects p%s ORDER BY p.id LIMIT $%d OFFSET $%d) AS x (id, org_id, name, created, clusters) ON true`,
		total, projectCols, where, n+1, n+2)
	rows, err := db.pool.Query(ctx, q, append(args, page.Size, offset)...)
	if err != nil {
		return out, fmt.Errorf("postgres: projects: %w", err)
	}
	defer rows.Close()
	out.Items = []backup.Project{}
	for rows.Next() {
		var (
			count                 pgtype.Int8
			id, org, name         pgtype.Text
			created, clusterCount pgtype.Int8
		)
		if err := rows.Scan(&count, &id, &org, &name, &created, &clusterCount); err != nil {
			return out, fmt.Errorf("postgres: projects: %w", err)
		}
		out.Total = int(count.Int64)
		if !id.Valid {
			continue
		}
		p := backup.Project{Name: name.String, Created: shape.UnixTime(created.Int64), ClusterCount: int(clusterCount.Int64)}
		if p.ID, err = shape.ParseIDString(id.String); err != nil {
			return out, fmt.Errorf("postgres: projects: %w", err)
		}
		if p.OrgID, err = shape.ParseIDString(org.String); err != nil {
			return out, fmt.Errorf("postgres: projects: %w", err)
		}
		out.Items = append(out.Items, p)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("postgres: projects: %w", err)
	}
	return out, nil
}

// scopeFilter returns the WHERE clause (on projects p) and its arguments
// that select the projects of a scope, or none when the scope holds no
// project at all. Each form is a range or seeks of an index.
func scopeFilter(s store.Scope) (where string, args []any, none bool) {
	switch {
	case s.All:
		return "", nil, false
	case s.OrgWide:
		return ` WHERE p.org_id = $1`, []any{s.OrgID.Hex()}, false
	case len(s.IDs) == 0:
		return "", nil, true
	}
	ids := make([]string, len(s.IDs))
	for i, id := range s.IDs {
		ids[i] = id.Hex()
	}
	return ` WHERE p.org_id = $1 AND p.id = ANY($2)`, []any{s.OrgID.Hex(), ids}, false
}

// Organizations lists every organization ordered by id.
func (db *DB) Organizations(ctx context.Context) (_ []backup.Organization, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if err := store.System(ctx); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT `+shape.OrganizationCols+` FROM organizations ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: organizations: %w", err)
	}
	defer rows.Close()
	out := []backup.Organization{}
	for rows.Next() {
		o, err := shape.ScanOrganization(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: organizations: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: organizations: %w", err)
	}
	return out, nil
}

// clusterCols are the columns clusterRow scans, in its order.
const clusterCols = `c.id, c.group_id, c.name, c.type, c.mongodb_version, c.backup, c.replica_set_name, c.shards, c.config, c.created, c.ckpt_driver, c.ckpt_interval_min, c.pit_window_hours, c.backup_status, c.snapshot_schedule, c.rpo_min`

// clusterRow holds the scanned clusterCols, NULL when a LEFT JOIN matched
// no cluster.
type clusterRow struct {
	id, group, name, typ, version, kind, rs, shards, config, driver pgtype.Text
	created, interval, window, objective                            pgtype.Int8
	status, snaps                                                   pgtype.Text
}

func (r *clusterRow) dest() []any {
	return []any{&r.id, &r.group, &r.name, &r.typ, &r.version, &r.kind, &r.rs, &r.shards, &r.config, &r.created, &r.driver, &r.interval, &r.window, &r.status, &r.snaps, &r.objective}
}

// cluster turns the row into a cluster; false when the columns are NULL.
func (r *clusterRow) cluster() (backup.Cluster, bool, error) {
	var c backup.Cluster
	if !r.id.Valid {
		return c, false, nil
	}
	var err error
	if c.ID, err = shape.ParseIDString(r.id.String); err != nil {
		return c, false, err
	}
	if c.GroupID, err = shape.ParseIDString(r.group.String); err != nil {
		return c, false, err
	}
	c.Name = r.name.String
	c.Type = backup.ClusterType(r.typ.String)
	c.MongoDBVersion = r.version.String
	c.Backup = backup.BackupKind(r.kind.String)
	c.ReplicaSetName = r.rs.String
	c.Created = shape.UnixTime(r.created.Int64)
	c.Schedule = shape.ScheduleOf(r.driver.String, r.interval.Int64, r.window.Int64, r.objective.Int64)
	c.Status = backup.BackupStatus(r.status.String)
	if c.Snapshots, err = shape.DecodeSnapshots(r.snaps.String); err != nil {
		return c, false, fmt.Errorf("cluster %s snapshot schedule: %w", r.id.String, err)
	}
	if c.Shards, err = shape.DecodeShards(r.shards.String); err != nil {
		return c, false, fmt.Errorf("cluster %s shards: %w", r.id.String, err)
	}
	if c.Config, err = shape.DecodeConfig(r.config.String); err != nil {
		return c, false, fmt.Errorf("cluster %s config: %w", r.id.String, err)
	}
	return c, true, nil
}

// Cluster resolves a reference to a whole cluster: GROUP_NOT_FOUND, then
// the caller's access to the project, then CLUSTER_NOT_FOUND, from one
// statement.
func (db *DB) Cluster(ctx context.Context, cref backup.ClusterRef) (_ backup.Cluster, err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Cluster{}, err
	}
	return readCluster(ctx, db.pool, cref, store.Read)
}

// readCluster is Cluster, in q, for a caller with need on the project.
func readCluster(ctx context.Context, q rowQuerier, cref backup.ClusterRef, need store.Need) (backup.Cluster, error) {
	stmt, key := refQuery(cref, clusterByName, clusterByID)
	var org pgtype.Text
	var row clusterRow
	if err := q.QueryRow(ctx, stmt, cref.GroupID.Hex(), key).Scan(append([]any{&org}, row.dest()...)...); err != nil {
		return backup.Cluster{}, fmt.Errorf("postgres: cluster %s: %w", cref.Label(), err)
	}
	c, found, err := row.cluster()
	if err != nil {
		return backup.Cluster{}, fmt.Errorf("postgres: cluster %s: %w", cref.Label(), err)
	}
	if err := store.Resolve(ctx, need, cref, org.String, org.Valid, found, false); err != nil {
		return backup.Cluster{}, err
	}
	return c, nil
}

// Clusters lists a project's clusters ordered by name, or
// GROUP_NOT_FOUND, with the project's existence, the total and the page
// read by one statement.
func (db *DB) Clusters(ctx context.Context, groupID backup.ObjectID, page backup.PageRequest) (_ backup.Page[backup.Cluster], err error) {
	ctx, end := db.op(ctx)
	defer end(&err)
	if _, err := store.Caller(ctx); err != nil {
		return backup.Page[backup.Cluster]{}, err
	}
	var out backup.Page[backup.Cluster]
	offset, err := pageOffset(page)
	if err != nil {
		return out, err
	}
	total := `NULL::bigint`
	if page.IncludeCount {
		total = `(SELECT count(*) FROM clusters WHERE group_id = $1)`
	}
	group := groupID.Hex()
	rows, err := db.pool.Query(ctx, `SELECT h.org, h.total, `+clusterCols+`
FROM (SELECT (SELECT org_id FROM projects WHERE id = $1) AS org, `+total+` AS total) AS h
LEFT JOIN LATERAL (SELECT * FROM clusters WHERE group_id = $1 ORDER BY name LIMIT $2 OFFSET $3) AS c ON true
ORDER BY c.name`, group, page.Size, offset)
	if err != nil {
		return out, fmt.Errorf("postgres: clusters: %w", err)
	}
	defer rows.Close()
	out.Items = []backup.Cluster{}
	var org pgtype.Text
	for rows.Next() {
		var count pgtype.Int8
		var row clusterRow
		if err := rows.Scan(append([]any{&org, &count}, row.dest()...)...); err != nil {
			return out, fmt.Errorf("postgres: clusters: %w", err)
		}
		out.Total = int(count.Int64)
		c, ok, err := row.cluster()
		if err != nil {
			return out, fmt.Errorf("postgres: clusters: %w", err)
		}
		if ok {
			out.Items = append(out.Items, c)
		}
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("postgres: clusters: %w", err)
	}
	if !org.Valid {
		return backup.Page[backup.Cluster]{}, backup.ErrGroupNotFound(group)
	}
	if err := store.Authorize(ctx, store.Read, org.String, groupID); err != nil {
		return backup.Page[backup.Cluster]{}, err
	}
	return out, nil
}

// ref is a resolved cluster reference.
type ref struct {
	pk          int64
	id          backup.ObjectID
	epoch       int64 // see migrations/0002_cluster_epoch.sql
	first, last int64 // seq bounds; empty when last < first
}

func (r ref) count() int64 { return r.last - r.first + 1 }

// refRow holds the scanned reference columns of the page and checkpoint
// statements. The text columns are scanned as bytes that the driver owns
// until the next row, and parsed only from the first row.
type refRow struct {
	org, id, kind          pgtype.DriverBytes
	pk, epoch, first, last pgtype.Int8
}

// resolve turns the scanned reference into a ref or the API's errors:
// GROUP_NOT_FOUND, the caller's access to the project, then the
// cluster's.
func (r *refRow) resolve(ctx context.Context, cref backup.ClusterRef) (ref, error) {
	if err := store.Resolve(ctx, store.Read, cref, string(r.org), r.org != nil, r.pk.Valid, string(r.kind) == string(backup.BackupCloud)); err != nil {
		return ref{}, err
	}
	out := ref{pk: r.pk.Int64, epoch: r.epoch.Int64, first: 1, last: 0}
	var err error
	if out.id, err = shape.ParseID(r.id); err != nil {
		return ref{}, fmt.Errorf("postgres: resolve %s: %w", cref.Label(), err)
	}
	if r.first.Valid && r.last.Valid {
		out.first, out.last = r.first.Int64, r.last.Int64
	}
	return out, nil
}

// Checkpoints lists one page of a cluster's checkpoints, oldest first.
//
// One statement reads the reference, the cluster's epoch and its seq
// bounds (with the caches on, its answer is often kept, snapshot.go); a
// cached page for that epoch and first seq is the answer (see cache.go).
// Otherwise the page's blocks are read, with a check of the epoch, by a
// second statement (blocks.go), and, when they do not hold all of it,
// one statement reads the reference, the bounds and the page from the
// rows, as one range of the checkpoints primary key; no step depends on
// the page number.
//
// The returned Items may share their backing array, and their Parts', with
// the cache and with other callers: they must be read, never modified.
func (db *DB) Checkpoints(ctx context.Context, cref backup.ClusterRef, page backup.PageRequest) (backup.Page[backup.Checkpoint], error) {
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
// than once, and yields the page as of the snapshot it was read in.
func (db *DB) CheckpointsSeq(ctx context.Context, cref backup.ClusterRef, page backup.PageRequest) (_ backup.Page[backup.Checkpoint], n int, _ iter.Seq[*backup.Checkpoint], err error) {
	p, pb, err := db.checkpointsPage(ctx, cref, page, true)
	if err != nil || pb == nil {
		return p, len(p.Items), nil, err
	}
	return p, pb.Len(), db.seq(pb), nil
}

// checkpointsPage is Checkpoints, or, with stream, CheckpointsSeq's
// blocks of a page not worth caching, with Items nil.
func (db *DB) checkpointsPage(ctx context.Context, cref backup.ClusterRef, page backup.PageRequest, stream bool) (backup.Page[backup.Checkpoint], *codec.PageBlocks, error) {
	if _, err := store.Caller(ctx); err != nil {
		return backup.Page[backup.Checkpoint]{}, nil, err
	}
	offset, err := pageOffset(page)
	if err != nil {
		return backup.Page[backup.Checkpoint]{}, nil, err
	}
	// A page served from the caches needs no statement, nor the call's
	// timeout (keptHead), nor anything on the heap but the page's header
	// (checkpointsRead holds the call's end and its error).
	var at snapAt
	start := time.Now() // elapsed time: the call's timeout runs from here
	if db.pages != nil {
		h, kept, err := db.keptHead(ctx, cref, true, &at)
		if kept && err != nil {
			return backup.Page[backup.Checkpoint]{}, nil, err
		}
		if kept {
			if out, ok := db.pages.Page(h.pk, h.epoch, h.first, h.last, offset, page); ok {
				return out, nil, nil
			}
		}
	}
	return db.checkpointsRead(ctx, cref, page, offset, stream, start, &at)
}

// checkpointsRead is checkpointsPage once it needs a statement, under
// the call's timeout counted from start.
func (db *DB) checkpointsRead(ctx context.Context, cref backup.ClusterRef, page backup.PageRequest, offset int64, stream bool, start time.Time, at *snapAt) (_ backup.Page[backup.Checkpoint], _ *codec.PageBlocks, err error) {
	var out backup.Page[backup.Checkpoint]
	ctx, end := db.opFrom(ctx, start)
	defer end(&err)
	h, err := db.head(ctx, cref, true, at)
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
			return out, pb, nil
		}
		dec := db.decoders.Get().(*codec.Decoder)
		out.Items, err = pb.Decode(dec)
		db.decoders.Put(dec)
		if err == nil {
			db.pages.Add(key, out.Items)
			return out, nil, nil
		}
	}
	out, err = db.readPage(ctx, cref, page, offset)
	return out, nil, err
}

// count is the number of checkpoints within the head's bounds.
func (h head) count() int64 { return h.last - h.first + 1 }

// readPage is Checkpoints without the cache, which it then fills.
func (db *DB) readPage(ctx context.Context, cref backup.ClusterRef, page backup.PageRequest, offset int64) (backup.Page[backup.Checkpoint], error) {
	var out backup.Page[backup.Checkpoint]
	q, key := refQuery(cref, pageByName, pageByID)
	rows, err := db.pool.Query(ctx, q, cref.GroupID.Hex(), key, offset, int64(page.Size))
	if err != nil {
		return out, fmt.Errorf("postgres: checkpoints of %s: %w", cref.Label(), err)
	}
	defer rows.Close()
	dec := db.decoders.Get().(*codec.Decoder)
	defer db.decoders.Put(dec)
	var (
		raw   = rawPageRows(rows.FieldDescriptions())
		rr    refRow
		pr    pageRow
		r     ref
		head  bool          // the head row was read
		seqs  []int64       // the rows' seqs, once they did not come as from, from+1, ...; nil before
		arena []backup.Part // backs every row's Parts: one allocation per page, not per row
		from  int64
		to    int64
	)
	for rows.Next() {
		isHead, err := pr.scan(rows, raw, &rr)
		if err != nil {
			return out, fmt.Errorf("postgres: checkpoints of %s: %w", cref.Label(), err)
		}
		if isHead {
			if head {
				return out, fmt.Errorf("postgres: checkpoints of %s: two head rows", cref.Label())
			}
			head = true
			if r, err = rr.resolve(ctx, cref); err != nil {
				return out, err
			}
			if page.IncludeCount {
				out.Total = int(r.count())
			}
			from = r.first + offset
			to = min(from+int64(page.Size), r.last+1)
			if out.Items == nil {
				out.Items = make([]backup.Checkpoint, 0, max(0, to-from))
			}
			for i := range out.Items { // rows read before the head
				out.Items[i].ClusterID = r.id
			}
			continue
		}
		rowsLeft := int64(page.Size) // an upper bound until the head says
		if head {
			rowsLeft = to - from
		}
		rowsLeft -= int64(len(out.Items))
		if out.Items == nil {
			out.Items = make([]backup.Checkpoint, 0, page.Size)
		}
		if !head || seqs != nil || pr.seq != from+int64(len(out.Items)) {
			// Out of the plan's order (never seen): keep every row's seq
			// and sort by it at the end.
			if seqs == nil {
				seqs = make([]int64, len(out.Items), cap(out.Items))
				for i := range seqs {
					seqs[i] = from + int64(i)
				}
			}
			seqs = append(seqs, pr.seq)
		}
		cp := backup.Checkpoint{ClusterID: r.id, GroupID: cref.GroupID}
		if cp.ID, err = shape.ParseID(pr.id); err != nil {
			return out, fmt.Errorf("postgres: checkpoints of %s: %w", cref.Label(), err)
		}
		if arena == nil {
			// Size the arena from the first row: a cluster's checkpoints
			// all have one part per shard and config server.
			arena = make([]backup.Part, 0, int64(shape.PartCount(pr.blob))*max(1, rowsLeft))
		}
		if arena, err = pr.row.fill(&cp, dec, arena, pr.blob); err != nil {
			return out, fmt.Errorf("postgres: checkpoint %s: %w", cp.ID.Hex(), err)
		}
		out.Items = append(out.Items, cp)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("postgres: checkpoints of %s: %w", cref.Label(), err)
	}
	if !head {
		return out, fmt.Errorf("postgres: checkpoints of %s: no head row", cref.Label())
	}
	contiguous := true
	if seqs != nil {
		sort.Sort(bySeq{seqs, out.Items})
		for i, seq := range seqs {
			contiguous = contiguous && seq == from+int64(i)
		}
	}
	if to <= from || !contiguous || int64(len(out.Items)) != to-from {
		// Seqs are contiguous; a hole is a table damaged by hand. Serve
		// what is there, as without the cache, but do not keep it.
		return out, nil
	}
	db.pages.Add(cache.PageKey{Cluster: r.pk, Epoch: r.epoch, From: from, Size: int64(page.Size)}, out.Items)
	return out, nil
}

// bySeq sorts a page's checkpoints by their seqs.
type bySeq struct {
	seqs  []int64
	items []backup.Checkpoint
}

func (b bySeq) Len() int           { return len(b.seqs) }
func (b bySeq) Less(i, j int) bool { return b.seqs[i] < b.seqs[j] }
func (b bySeq) Swap(i, j int) {
	b.seqs[i], b.seqs[j] = b.seqs[j], b.seqs[i]
	b.items[i], b.items[j] = b.items[j], b.items[i]
}

// pageRow holds a page row's checkpoint columns: bytes the driver owns
// until the next row.
type pageRow struct {
	seq      int64
	id, blob []byte
	row      checkpointRow
}

// Column numbers of the page statement.
const (
	pageHeadCols = 7 // the reference: org_id, pk, id, backup, epoch, first, last
	pageCols     = pageHeadCols + 7
)

// rawPageRows reports whether the page statement's checkpoint columns
// come in the binary format, which pageRow.scan then reads from the
// row's bytes itself: the driver's Scan costs a plan and an interface
// call per column, a fifth of the Go side of a page. It does for the
// driver's default (prepared statements); a connection string asking for
// the simple protocol gets text, which Scan reads.
func rawPageRows(fds []pgconn.FieldDescription) bool {
	if len(fds) != pageCols {
		return false
	}
	want := [pageCols - pageHeadCols]uint32{pgtype.Int8OID, pgtype.TextOID, pgtype.Int8OID, pgtype.Int8OID, pgtype.Int8OID, pgtype.BoolOID, pgtype.ByteaOID}
	for i, oid := range want {
		fd := fds[pageHeadCols+i]
		if fd.DataTypeOID != oid || (fd.Format != pgx.BinaryFormatCode && oid != pgtype.TextOID) {
			return false
		}
	}
	return true
}

// scan reads the current row: the head row's reference into rr (isHead),
// or a page row into pr.
func (pr *pageRow) scan(rows pgx.Rows, raw bool, rr *refRow) (isHead bool, err error) {
	if raw {
		if v := rows.RawValues(); v[pageHeadCols] != nil {
			return false, pr.parse(v[pageHeadCols:])
		}
		// The head row, whose checkpoint columns are NULL.
		return true, rows.Scan(&rr.org, &rr.pk, &rr.id, &rr.kind, &rr.epoch, &rr.first, &rr.last, nil, nil, nil, nil, nil, nil, nil)
	}
	var (
		seq      pgtype.Int8
		id, blob pgtype.DriverBytes
	)
	if err := rows.Scan(&rr.org, &rr.pk, &rr.id, &rr.kind, &rr.epoch, &rr.first, &rr.last,
		&seq, &id, &pr.row.started, &pr.row.completed, &pr.row.ts, &pr.row.restorable, &blob); err != nil {
		return false, err
	}
	if !seq.Valid {
		return true, nil
	}
	pr.seq, pr.id, pr.blob = seq.Int64, id, blob
	return false, nil
}

// parse reads a page row's checkpoint columns in the binary format:
// seq, id, started, completed, ts, restorable, parts.
func (pr *pageRow) parse(v [][]byte) error {
	var ok [5]bool
	pr.seq, ok[0] = int8Value(v[0])
	pr.id = v[1]
	pr.row.started.Int64, ok[1] = int8Value(v[2])
	pr.row.started.Valid = true
	pr.row.completed.Int64, pr.row.completed.Valid = int8Value(v[3])
	ok[2] = v[3] == nil || pr.row.completed.Valid
	pr.row.ts.Int64, ok[3] = int8Value(v[4])
	pr.row.ts.Valid = true
	ok[4] = len(v[5]) == 1
	pr.row.restorable = pgtype.Bool{Bool: ok[4] && v[5][0] != 0, Valid: ok[4]}
	pr.blob = v[6]
	if ok != [5]bool{true, true, true, true, true} || pr.id == nil || pr.blob == nil {
		return fmt.Errorf("malformed page row")
	}
	return nil
}

// int8Value reads a bigint in the binary format; false for NULL or bytes
// of another length.
func int8Value(b []byte) (int64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b)), true
}

// Checkpoint returns one checkpoint of the referenced cluster.
//
// A checkpoint in the cache is returned when one statement shows that
// the reference resolves to the cluster it was read from and that the
// cluster's epoch is still the one it was read at (so it has not been
// pruned or moved since). Otherwise the reference and the checkpoint are
// read by one statement.
//
// The returned Parts may be shared with the cache and other callers: they
// must be read, never modified.
func (db *DB) Checkpoint(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID) (backup.Checkpoint, error) {
	if _, err := store.Caller(ctx); err != nil {
		return backup.Checkpoint{}, err
	}
	e, pk, epoch, cached := db.checkpoints.Get(id)
	// A checkpoint served from the cache needs no statement, nor the
	// call's timeout (keptHead), nor anything on the heap: the rest of
	// the call is checkpointRead, whose error the call's end reads
	// through a pointer.
	var (
		at   snapAt
		kept bool
	)
	start := time.Now() // elapsed time: the call's timeout runs from here
	if cached {
		h, ok, err := db.keptHead(ctx, cref, false, &at)
		if ok && err != nil {
			return backup.Checkpoint{}, err
		}
		if ok && h.pk == pk && h.epoch == epoch {
			return e, nil
		}
		kept = ok
	}
	return db.checkpointRead(ctx, cref, id, start, &at, cachedCheckpoint{e, pk, epoch, cached, kept})
}

// cachedCheckpoint is what Checkpoint found in its cache: the entry, if
// any (ok), and whether the head kept at the current snapshot was read
// and found it stale (kept).
type cachedCheckpoint struct {
	cp        backup.Checkpoint
	pk, epoch int64
	ok, kept  bool
}

// checkpointRead is Checkpoint once it needs a statement, under the
// call's timeout counted from start.
func (db *DB) checkpointRead(ctx context.Context, cref backup.ClusterRef, id backup.ObjectID, start time.Time, at *snapAt, c cachedCheckpoint) (_ backup.Checkpoint, err error) {
	ctx, end := db.opFrom(ctx, start)
	defer end(&err)
	if c.ok && !c.kept {
		h, err := db.head(ctx, cref, false, at)
		if err != nil {
			return backup.Checkpoint{}, err
		}
		if h.pk == c.pk && h.epoch == c.epoch {
			return c.cp, nil
		}
	}
	cp, r, err := db.readCheckpoint(ctx, cref, id)
	if err != nil {
		if c.ok && r.pk == c.pk && backup.IsCode(err, backup.CodeCheckpointNotFound) {
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
	q, key := refQuery(cref, checkpointByName, checkpointByID)
	rows, err := db.pool.Query(ctx, q, cref.GroupID.Hex(), key, id.Hex())
	if err != nil {
		return backup.Checkpoint{}, ref{}, fmt.Errorf("postgres: checkpoint %s: %w", id.Hex(), err)
	}
	defer rows.Close()
	if !rows.Next() {
		return backup.Checkpoint{}, ref{}, fmt.Errorf("postgres: checkpoint %s: no row: %w", id.Hex(), rows.Err())
	}
	var (
		rr   refRow
		row  checkpointRow
		blob pgtype.DriverBytes
	)
	if err := rows.Scan(&rr.org, &rr.pk, &rr.id, &rr.kind, &rr.epoch, &row.started, &row.completed, &row.ts, &row.restorable, &blob); err != nil {
		return backup.Checkpoint{}, ref{}, fmt.Errorf("postgres: checkpoint %s: %w", id.Hex(), err)
	}
	r, err := rr.resolve(ctx, cref)
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
		return backup.Checkpoint{}, ref{}, fmt.Errorf("postgres: checkpoint %s: %w", id.Hex(), err)
	}
	return cp, r, nil
}

// checkpointRow holds the scanned columns of checkpointCols but id and
// parts. They are nullable because the statements LEFT JOIN them.
type checkpointRow struct {
	started, completed, ts pgtype.Int8
	restorable             pgtype.Bool
}

// fill sets cp's scalar fields and decodes blob's parts onto the end of
// arena, giving cp a capacity-limited slice of it so that appending to one
// checkpoint's parts cannot overwrite the next one's. The decoder copies
// what it keeps, so blob may be the driver's buffer.
func (row *checkpointRow) fill(cp *backup.Checkpoint, dec *codec.Decoder, arena []backup.Part, blob []byte) ([]backup.Part, error) {
	cp.Started = shape.UnixTime(row.started.Int64)
	if row.completed.Valid {
		cp.Completed = shape.UnixTime(row.completed.Int64)
	}
	cp.Timestamp = shape.UnixTime(row.ts.Int64)
	cp.Restorable = row.restorable.Bool
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

// pageOffset is store.PageOffset, saturated at math.MaxInt64/4.
func pageOffset(p backup.PageRequest) (int64, error) {
	return store.PageOffset(p, math.MaxInt64/4)
}

// rowQuerier is a pool or a transaction.
type rowQuerier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// authorizeProject finds a project and decides whether the caller has
// need on it: GROUP_NOT_FOUND, then store.Authorize's answer.
func authorizeProject(ctx context.Context, q rowQuerier, need store.Need, id backup.ObjectID) error {
	var org string
	switch err := q.QueryRow(ctx, `SELECT org_id FROM projects WHERE id = $1`, id.Hex()).Scan(&org); {
	case errors.Is(err, pgx.ErrNoRows):
		return backup.ErrGroupNotFound(id.Hex())
	case err != nil:
		return fmt.Errorf("postgres: project %s: %w", id.Hex(), err)
	}
	return store.Authorize(ctx, need, org, id)
}
