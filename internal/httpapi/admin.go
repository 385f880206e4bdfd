package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/atlas"
)

// AdminStore is what the administration API reads and writes: the
// clusters of a project, and checkpoints reported by backup agents.
type AdminStore interface {
	Project(ctx context.Context, id backup.ObjectID) (backup.Project, error)
	Clusters(ctx context.Context, groupID backup.ObjectID, page backup.PageRequest) (backup.Page[backup.Cluster], error)
	Cluster(ctx context.Context, ref backup.ClusterRef) (backup.Cluster, error)
	DeleteCluster(ctx context.Context, ref backup.ClusterRef) error
	AddCheckpoint(ctx context.Context, cp backup.Checkpoint) error
	Checkpoint(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.Checkpoint, error)
	PruneCheckpoints(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (int, error)
	// ClaimRestoreJob and ReportRestoreJob are an agent's side of the
	// restore jobs of its cluster (restores.go).
	ClaimRestoreJob(ctx context.Context, ref backup.ClusterRef, owner string) (backup.RestoreJob, bool, error)
	ReportRestoreJob(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID, status backup.RestoreStatus, owner string, now time.Time) (backup.RestoreJob, error)
}

// ClusterAdmin creates and changes clusters and claims agents' slots for
// the administration API with the operations of internal/admin (the
// command line's too, for clusters), so
// that a cluster follows the same rules and an update is applied in one
// transaction of the store, whichever door it comes through.
type ClusterAdmin interface {
	CreateCluster(ctx context.Context, spec backup.ClusterSpec) (backup.Cluster, error)
	UpdateCluster(ctx context.Context, ref backup.ClusterRef, ch backup.ClusterChange) (backup.Cluster, error)
	// ClaimSlot claims a checkpoint slot of c for the backup agent owner.
	ClaimSlot(ctx context.Context, c backup.Cluster, slot time.Time, owner string) (bool, error)
	// The slot records (slots.go).
	SlotAdmin
	// Objective measures the recovery point objective of the cluster ref
	// names over the range from and to give (RFC 3339 texts, either
	// empty for its default), returning the cluster with its report
	// (admin.Objective).
	Objective(ctx context.Context, ref backup.ClusterRef, from, to string) (backup.Cluster, backup.ObjectiveReport, error)
}

var (
	opAdminListClusters  = &operation{name: "adminListClusters"}
	opAdminCreateCluster = &operation{name: "adminCreateCluster"}
	opAdminGetCluster    = &operation{name: "adminGetCluster"}
	opAdminUpdateCluster = &operation{name: "adminUpdateCluster"}
	opAdminDeleteCluster = &operation{name: "adminDeleteCluster"}
	opAdminIngest        = &operation{name: "adminIngestCheckpoint"}
	opAdminClaimSlot     = &operation{name: "adminClaimSlot"}
)

// maxAdminBody bounds a request body: a cluster or a checkpoint report is
// a few KiB even with hundreds of shards.
const maxAdminBody = 64 << 10

// readJSONBody reads a request body of at most maxAdminBody bytes sent as
// application/json.
func readJSONBody(rq *request) ([]byte, error) {
	ct := rq.Header.Get("Content-Type")
	// A versioned surface also takes its own media type, as the Atlas
	// SDKs send it (application/vnd.atlas.2023-01-01+json).
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" && !(rq.surface.versioned && isVersionedJSON(mt)) {
		return nil, httpErrorf(http.StatusUnsupportedMediaType, backup.CodeUnsupportedMediaType,
			"Unsupported Content-Type %s: send the body as application/json.", ct)
	}
	if rq.ContentLength > maxAdminBody {
		return nil, errBodyTooLarge()
	}
	body, err := io.ReadAll(http.MaxBytesReader(rq.w, rq.Body, maxAdminBody))
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return nil, errBodyTooLarge()
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		// The server's read timeout ended the body before it was whole.
		return nil, httpErrorf(http.StatusRequestTimeout, backup.CodeRequestTimeout, "The request body was not received in time.")
	}
	if err != nil {
		return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidJSON, "The request body could not be read.")
	}
	return body, nil
}

func errBodyTooLarge() error {
	return httpErrorf(http.StatusRequestEntityTooLarge, backup.CodeRequestTooLarge, "The request body is larger than %d bytes.", maxAdminBody)
}

// readJSON reads the request's body (readJSONBody) and decodes it into v
// (decodeJSON), for routes that resolve what they name before the body.
func readJSON(rq *request, v any) error {
	body, err := readJSONBody(rq)
	if err != nil {
		return err
	}
	return decodeJSON(body, v)
}

// decodeJSON decodes body into v strictly: one JSON object, no field v
// does not have, spelled exactly, and none twice (INVALID_ATTRIBUTE naming
// it), no trailing data.
func decodeJSON(body []byte, v any) error {
	// encoding/json would turn invalid UTF-8 into U+FFFD silently; a name
	// or id is then not what the client meant.
	if !utf8.Valid(body) {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidJSON, "The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("trailing data")
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data")
		}
	}
	if err == nil {
		return checkKeys(body, jsonKeys(reflect.TypeOf(v)))
	}
	if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return backup.ErrInvalidAttribute(strings.Trim(field, `"`), "it is not a field of this resource")
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return backup.ErrInvalidAttribute(te.Field, "a "+te.Value+" where "+jsonTypeName(te.Type.Kind().String())+" is expected")
	}
	return backup.Errorf(backup.Invalid, backup.CodeInvalidJSON, "The request body is not a valid JSON object.")
}

// checkKeys refuses what encoding/json lets through: a key that names a
// field only when case is ignored ("clusterTYPE" sets clusterType), and a
// key given twice in one object (the last would win silently). known is
// every key of the body's type, spelled exactly. body is valid JSON.
func checkKeys(body []byte, known map[string]bool) error {
	type frame struct {
		obj, wantKey bool
		seen         map[string]bool
	}
	var stack []frame
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil // the end; anything else Decode reported already
		}
		var top *frame
		if len(stack) > 0 {
			top = &stack[len(stack)-1]
		}
		if k, ok := tok.(string); ok && top != nil && top.obj && top.wantKey {
			switch {
			case !known[k]:
				return backup.ErrInvalidAttribute(k, "it is not a field of this resource")
			case top.seen[k]:
				return backup.ErrInvalidAttribute(k, "it is given twice")
			}
			top.seen[k], top.wantKey = true, false
			continue
		}
		if top != nil && top.obj {
			top.wantKey = true // a value ends (or, for '{' and '[', begins)
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{obj: true, wantKey: true, seen: map[string]bool{}})
		case json.Delim('['):
			stack = append(stack, frame{})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if len(stack) > 0 && stack[len(stack)-1].obj {
				stack[len(stack)-1].wantKey = true
			}
		}
	}
}

// knownKeys caches jsonKeys by type.
var knownKeys sync.Map // reflect.Type → map[string]bool

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// jsonKeys is every JSON key of t's fields and of their types' fields,
// spelled as their tags spell them.
func jsonKeys(t reflect.Type) map[string]bool {
	if m, ok := knownKeys.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) {
			return
		}
		for i := range t.NumField() {
			f := t.Field(i)
			if name, _, _ := strings.Cut(f.Tag.Get("json"), ","); name != "" && name != "-" {
				m[name] = true
			}
			walk(f.Type)
		}
	}
	walk(t)
	knownKeys.Store(t, m)
	return m
}

func jsonTypeName(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "slice":
		return "an array"
	case "struct", "map", "ptr":
		return "an object"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	}
	return "a number"
}

// adminBody reads the request's body (readJSONBody), then resolves what
// the route names with resolve, which checks the caller's right, and only
// then decodes the body into in (decodeJSON): a caller without the right
// hears so whatever it sent, and a body too large is refused unread.
func adminBody[T any](rq *request, in any, resolve func() (T, error)) (T, error) {
	body, err := readJSONBody(rq)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := resolve()
	if err != nil {
		return v, err
	}
	return v, decodeJSON(body, in)
}

// adminProject resolves the route's project and checks the caller with
// check (CheckAdmin or CheckReporter) before the body is looked at, so
// that a caller without the role hears so whatever it sent; the store
// decides again on every write.
func (s *Server) adminProject(rq *request, check func(p *backup.Principal, org, project backup.ObjectID) error) (backup.Project, error) {
	id, err := groupID(rq)
	if err != nil {
		return backup.Project{}, err
	}
	p, err := s.cfg.Admin.Project(rq.Context(), id)
	if err != nil {
		return p, err
	}
	return p, check(backup.PrincipalFrom(rq.Context()), p.OrgID, p.ID)
}

func checkAdmin(p *backup.Principal, org, project backup.ObjectID) error {
	return p.CheckAdmin(org, project)
}

func checkReporter(p *backup.Principal, org, project backup.ObjectID) error {
	return p.CheckReporter(org, project)
}

// adminCluster resolves the route's project, checks the caller, then
// finds the cluster by name.
func (s *Server) adminCluster(rq *request, check func(p *backup.Principal, org, project backup.ObjectID) error) (backup.Cluster, error) {
	p, err := s.adminProject(rq, check)
	if err != nil {
		return backup.Cluster{}, err
	}
	return s.cfg.Admin.Cluster(rq.Context(), backup.ClusterRef{GroupID: p.ID, Name: rq.PathValue("cluster")})
}

// adminListClusters lists a project's clusters with their settings.
//
//	GET /api/checkpointd/v1/groups/{groupId}/clusters
func adminListClusters(s *Server, rq *request) (result, error) {
	p, err := s.adminProject(rq, checkAdmin)
	if err != nil {
		return result{}, err
	}
	page, err := rq.query.page(s.cfg.Paging)
	if err != nil {
		return result{}, err
	}
	cs, err := s.cfg.Admin.Clusters(rq.Context(), p.ID, page)
	if err != nil {
		return result{}, err
	}
	return rq.list(page, cs.Total, len(cs.Items), func(b []byte, i int) []byte {
		return appendAdminCluster(b, rq.base, &cs.Items[i])
	}), nil
}

// adminGetCluster returns one cluster with its settings. A backup agent's
// key (GROUP_BACKUP_MANAGER) may read it too: the agent takes the
// schedule and the topology it reports parts for from it.
//
//	GET /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}
func adminGetCluster(s *Server, rq *request) (result, error) {
	c, err := s.adminCluster(rq, checkReporter)
	if err != nil {
		return result{}, err
	}
	return result{body: appendAdminCluster(rq.buf[:0], rq.base, &c)}, nil
}

// adminCreateCluster creates a cluster.
//
//	POST /api/checkpointd/v1/groups/{groupId}/clusters
func adminCreateCluster(s *Server, rq *request) (result, error) {
	var in clusterJSON
	p, err := adminBody(rq, &in, func() (backup.Project, error) { return s.adminProject(rq, checkAdmin) })
	if err != nil {
		return result{}, err
	}
	// In a fixed order, so that the same body always names the same field.
	for _, f := range []struct {
		name string
		set  bool
	}{{"id", in.ID != nil}, {"groupId", in.GroupID != nil}, {"created", in.Created != nil}, {"links", in.Links != nil}} {
		if f.set {
			return result{}, backup.ErrInvalidAttribute(f.name, "it is set by the server")
		}
	}
	if in.Name == nil {
		return result{}, backup.ErrInvalidAttribute("name", "a cluster needs a name")
	}
	if in.ClusterType == nil {
		return result{}, backup.ErrInvalidAttribute("clusterType", "a cluster needs a clusterType")
	}
	spec := backup.ClusterSpec{ProjectID: p.ID, Name: *in.Name, Type: backup.ClusterType(*in.ClusterType), ClusterChange: in.change()}
	c, err := s.cfg.ClusterAdmin.CreateCluster(rq.Context(), spec)
	if err != nil {
		return result{}, err
	}
	rq.w.Header().Set("Location", rq.base+adminClusterPath(&c))
	return result{status: http.StatusCreated, body: appendAdminCluster(rq.buf[:0], rq.base, &c)}, nil
}

// adminUpdateCluster changes the fields sent.
//
//	PATCH /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}
func adminUpdateCluster(s *Server, rq *request) (result, error) {
	var in clusterJSON
	c, err := adminBody(rq, &in, func() (backup.Cluster, error) { return s.adminCluster(rq, checkAdmin) })
	if err != nil {
		return result{}, err
	}
	// The read-only fields may be sent back as they are (a client PATCHing
	// what it GOT), never changed.
	for _, f := range []struct {
		name      string
		sent      *string
		unchanged string
	}{
		{"id", in.ID, c.ID.Hex()}, {"groupId", in.GroupID, c.GroupID.Hex()}, {"name", in.Name, c.Name},
		{"clusterType", in.ClusterType, string(c.Type)}, {"created", in.Created, formatTime(c.Created)},
	} {
		if f.sent != nil && *f.sent != f.unchanged {
			return result{}, backup.ErrInvalidAttribute(f.name, "it cannot be changed")
		}
	}
	// By id: the cluster checked above, even if renamed since.
	if c, err = s.cfg.ClusterAdmin.UpdateCluster(rq.Context(), backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}, in.change()); err != nil {
		return result{}, err
	}
	return result{body: appendAdminCluster(rq.buf[:0], rq.base, &c)}, nil
}

// adminDeleteCluster deletes a cluster and its checkpoints.
//
//	DELETE /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}
func adminDeleteCluster(s *Server, rq *request) (result, error) {
	c, err := s.adminCluster(rq, checkAdmin)
	if err != nil {
		return result{}, err
	}
	if err := s.cfg.Admin.DeleteCluster(rq.Context(), backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}); err != nil {
		return result{}, err
	}
	return result{status: http.StatusNoContent}, nil
}

// adminIngest stores a checkpoint a backup agent took of a cluster whose
// driver is AGENT: 201 when new, 200 when the same checkpoint was stored
// before (a retry), 409 when its id names another one.
//
//	POST /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/checkpoints
func adminIngest(s *Server, rq *request) (result, error) {
	var in reportJSON
	c, err := adminBody(rq, &in, func() (backup.Cluster, error) {
		c, err := s.adminCluster(rq, checkReporter)
		if err == nil {
			err = c.AcceptsReports()
		}
		return c, err
	})
	if err != nil {
		return result{}, err
	}
	cp, err := in.checkpoint(&c)
	if err != nil {
		return result{}, err
	}
	if err := backup.VerifyReport(c, cp, s.cfg.Clock.Now()); err != nil {
		return result{}, err
	}
	ctx := rq.Context()
	ref := backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}
	status := http.StatusCreated
	// Stored before: a retry (200), if AddCheckpoint finds it identical.
	switch _, err := s.cfg.Admin.Checkpoint(ctx, ref, cp.ID); {
	case err == nil:
		status = http.StatusOK
	case backup.IsCode(err, backup.CodeCheckpointNotFound):
	default:
		return result{}, err
	}
	if err := s.cfg.Admin.AddCheckpoint(ctx, cp); err != nil {
		return result{}, err
	}
	// Retention is the server's own work, not the reporter's.
	if _, err := s.cfg.Admin.PruneCheckpoints(backup.WithPrincipal(ctx, backup.System), c.ID, cp.Timestamp.Add(-c.Schedule.WindowOrDefault())); err != nil {
		// The checkpoint is stored; pruning is redone by the next report.
		s.log.Error("checkpoints not pruned", "request_id", rq.id, "cluster", c.Name, "err", err)
	}
	coll := atlasV2.groups + "/" + c.GroupID.Hex() + "/clusters/" + c.Name + "/" + atlasV2.checkpoints
	if status == http.StatusCreated {
		rq.w.Header().Set("Location", rq.base+coll+"/"+cp.ID.Hex())
	}
	return result{status: status, body: atlas.AppendCheckpoint(rq.buf[:0], rq.base, coll, &cp)}, nil
}

// adminClaimSlot claims a checkpoint slot of a cluster for a backup agent
// (admin.ClaimSlot): of the agents of one cluster, the one that claims a
// slot first takes its checkpoint; the others are told claimed:false.
//
//	POST /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}/slots
func adminClaimSlot(s *Server, rq *request) (result, error) {
	var in slotClaimJSON
	c, err := adminBody(rq, &in, func() (backup.Cluster, error) {
		c, err := s.adminCluster(rq, checkReporter)
		// A cluster not on legacy backup is ClaimSlot's to refuse, with
		// its own code.
		if err == nil && c.Backup == backup.BackupLegacy && !c.TakesCheckpoints() {
			err = backup.ErrBackupNotStarted(&c)
		}
		return c, err
	})
	if err != nil {
		return result{}, err
	}
	if in.Claimed != nil {
		return result{}, backup.ErrInvalidAttribute("claimed", "it is set by the server")
	}
	if in.Slot == nil {
		return result{}, backup.ErrInvalidAttribute("slot", "a claim names the slot's time")
	}
	if in.Owner == nil {
		return result{}, backup.ErrInvalidAttribute("owner", "a claim names its owner")
	}
	slot, err := parseReportTime(*in.Slot)
	if err != nil {
		return result{}, backup.ErrInvalidAttribute("slot", err.Error())
	}
	ok, err := s.cfg.ClusterAdmin.ClaimSlot(rq.Context(), c, slot, *in.Owner)
	if err != nil {
		return result{}, err
	}
	out, err := json.Marshal(slotClaimJSON{Claimed: &ok, Owner: in.Owner, Slot: in.Slot})
	if err != nil { // a bool and two strings: cannot fail
		panic(err)
	}
	return result{body: append(rq.buf[:0], out...)}, nil
}

// slotClaimJSON is a slot claim, in (slot, owner) and out (with claimed).
type slotClaimJSON struct {
	Claimed *bool   `json:"claimed,omitempty"`
	Owner   *string `json:"owner"`
	Slot    *string `json:"slot"`
}

// clusterJSON is a cluster as a request body sends it (AdminCluster is
// the answer's). Pointers tell a field sent from one left out (PATCH
// changes only those sent).
type clusterJSON struct {
	Backup         *backupJSON        `json:"backup,omitempty"`
	ClusterType    *string            `json:"clusterType,omitempty"`
	ConfigServer   *AdminConfigServer `json:"configServer,omitempty"`
	Created        *string            `json:"created,omitempty"`
	GroupID        *string            `json:"groupId,omitempty"`
	ID             *string            `json:"id,omitempty"`
	Links          []linkJSON         `json:"links,omitempty"`
	MongoDBVersion *string            `json:"mongoDBVersion,omitempty"`
	Name           *string            `json:"name,omitempty"`
	ReplicaSetName *string            `json:"replicaSetName,omitempty"`
	Shards         *[]AdminShard      `json:"shards,omitempty"`
}

type backupJSON struct {
	ClusterCheckpointIntervalMin atlas.NullableInt `json:"clusterCheckpointIntervalMin"`
	Driver                       *string           `json:"driver,omitempty"`
	Kind                         *string           `json:"kind,omitempty"`
	PointInTimeWindowHours       *int              `json:"pointInTimeWindowHours,omitempty"`
	// RecoveryPointObjectiveMin sets the objective; null removes it.
	RecoveryPointObjectiveMin atlas.NullableInt `json:"recoveryPointObjectiveMin"`
	// StatusName is read-only here (Cloud Manager's backupConfigs change
	// it): a client may send back what it read.
	StatusName *string `json:"statusName,omitempty"`
}

// AdminConfigServer is a sharded cluster's config servers: a replica set,
// or mirrored hosts.
type AdminConfigServer struct {
	HostIDs        []string `json:"hostIds,omitempty"`
	ReplicaSetName string   `json:"replicaSetName,omitempty"`
}

// AdminShard is one shard of a sharded cluster.
type AdminShard struct {
	Name           string `json:"name"`
	ReplicaSetName string `json:"replicaSetName"`
}

type linkJSON struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// change is the change the fields sent make to a cluster: what they say,
// in the domain's types. Every rule about the values is the domain's
// (backup.Cluster.Apply), which names the field.
func (in *clusterJSON) change() backup.ClusterChange {
	ch := backup.ClusterChange{MongoDBVersion: in.MongoDBVersion, ReplicaSetName: in.ReplicaSetName}
	if in.Shards != nil {
		var shards []backup.Shard
		for _, sh := range *in.Shards {
			shards = append(shards, backup.Shard{Name: sh.Name, ReplicaSetName: sh.ReplicaSetName})
		}
		ch.Shards = &shards
	}
	if in.ConfigServer != nil {
		ch.Config = &backup.ConfigServer{ReplicaSetName: in.ConfigServer.ReplicaSetName, HostIDs: in.ConfigServer.HostIDs}
	}
	if b := in.Backup; b != nil {
		if b.Kind != nil {
			k := backup.BackupKind(*b.Kind)
			ch.Backup = &k
		}
		if b.Driver != nil {
			d := backup.Driver(*b.Driver)
			ch.Driver = &d
		}
		if o := b.ClusterCheckpointIntervalMin; o.Set {
			var interval time.Duration // null: none
			if !o.Null {
				interval = backup.IntervalMinutes(o.V)
			}
			ch.Interval = &interval
		}
		if o := b.RecoveryPointObjectiveMin; o.Set {
			var objective time.Duration // null: none
			if !o.Null {
				objective = backup.ObjectiveMinutes(o.V)
				if o.V == 0 {
					// 0 is no objective's count: null removes one.
					objective = -1
				}
			}
			ch.Objective = &objective
		}
		if h := b.PointInTimeWindowHours; h != nil {
			w := backup.WindowHours(*h)
			ch.Window = &w
		}
		if st := b.StatusName; st != nil {
			status := backup.BackupStatus(*st)
			ch.Status = &status
		}
	}
	return ch
}

func adminClusterPath(c *backup.Cluster) string {
	return adminSurface.groups + "/" + c.GroupID.Hex() + "/clusters/" + c.Name
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// AdminCluster is a cluster as the administration API shows it, keys in
// alphabetical order as the service's JSON has them. The command line
// prints clusters the same way, without Links: there is no server to link
// to.
type AdminCluster struct {
	Backup         AdminBackup        `json:"backup"`
	ClusterType    string             `json:"clusterType"`
	ConfigServer   *AdminConfigServer `json:"configServer,omitempty"`
	Created        string             `json:"created"`
	GroupID        string             `json:"groupId"`
	ID             string             `json:"id"`
	Links          []linkJSON         `json:"links,omitempty"`
	MongoDBVersion string             `json:"mongoDBVersion"`
	Name           string             `json:"name"`
	ReplicaSetName string             `json:"replicaSetName,omitempty"`
	Shards         []AdminShard       `json:"shards,omitempty"`
}

// AdminBackup is a cluster's backup and checkpoint schedule.
type AdminBackup struct {
	// ClusterCheckpointIntervalMin is left out when checkpoints are off,
	// as the service leaves it out.
	ClusterCheckpointIntervalMin *int   `json:"clusterCheckpointIntervalMin,omitempty"`
	Driver                       string `json:"driver"`
	Kind                         string `json:"kind"`
	PointInTimeWindowHours       int    `json:"pointInTimeWindowHours"`
	// RecoveryPointObjectiveMin is left out when the cluster declares no
	// objective.
	RecoveryPointObjectiveMin *int `json:"recoveryPointObjectiveMin,omitempty"`
	// StatusName is the state of the cluster's backup: an agent takes
	// checkpoints only while it is STARTED.
	StatusName string `json:"statusName"`
}

// NewAdminCluster is c as the administration API shows it, without links.
func NewAdminCluster(c *backup.Cluster) AdminCluster {
	s := c.Schedule
	out := AdminCluster{
		Backup: AdminBackup{Driver: string(s.DriverOrDefault()), Kind: string(c.Backup),
			PointInTimeWindowHours: int(s.WindowOrDefault() / time.Hour), StatusName: string(c.StatusOrDefault())},
		ClusterType: string(c.Type), Created: formatTime(c.Created), GroupID: c.GroupID.Hex(), ID: c.ID.Hex(),
		MongoDBVersion: c.MongoDBVersion, Name: c.Name, ReplicaSetName: c.ReplicaSetName,
	}
	if s.Interval > 0 {
		m := int(s.Interval / time.Minute)
		out.Backup.ClusterCheckpointIntervalMin = &m
	}
	if s.Objective > 0 {
		m := int(s.Objective / time.Minute)
		out.Backup.RecoveryPointObjectiveMin = &m
	}
	if c.Type == backup.Sharded {
		out.ConfigServer = &AdminConfigServer{ReplicaSetName: c.Config.ReplicaSetName, HostIDs: c.Config.HostIDs}
		for _, sh := range c.Shards {
			out.Shards = append(out.Shards, AdminShard{Name: sh.Name, ReplicaSetName: sh.ReplicaSetName})
		}
	}
	return out
}

// appendAdminCluster appends a cluster as the administration API shows
// it, with its link.
func appendAdminCluster(b []byte, base string, c *backup.Cluster) []byte {
	out := NewAdminCluster(c)
	out.Links = []linkJSON{{Href: base + adminClusterPath(c), Rel: "self"}}
	j, err := json.Marshal(out)
	if err != nil { // plain strings and numbers: cannot fail
		panic(err)
	}
	return append(b, j...)
}

// reportJSON is a checkpoint as a backup agent reports it.
type reportJSON struct {
	Completed  *string      `json:"completed"`
	ID         *string      `json:"id"`
	Parts      []reportPart `json:"parts"`
	Restorable *bool        `json:"restorable"`
	Started    *string      `json:"started"`
	Timestamp  *string      `json:"timestamp"`
}

type reportPart struct {
	HostID          string          `json:"hostId"`
	ReplicaSetName  string          `json:"replicaSetName"`
	ShardName       string          `json:"shardName"`
	TokenDiscovered *bool           `json:"tokenDiscovered"`
	TokenTimestamp  *reportTokenTS  `json:"tokenTimestamp"`
	TypeName        backup.PartType `json:"typeName"`
}

type reportTokenTS struct {
	Date      *string `json:"date"`
	Increment *int64  `json:"increment"`
}

// checkpoint turns the report into a checkpoint of c, checking what the
// JSON alone can tell: every field present and well formed. The
// checkpoint's consistency with c's topology is VerifyCheckpoint's.
func (in *reportJSON) checkpoint(c *backup.Cluster) (backup.Checkpoint, error) {
	cp := backup.Checkpoint{ClusterID: c.ID, GroupID: c.GroupID}
	if in.ID == nil {
		return cp, backup.ErrInvalidAttribute("id", "a report needs the checkpoint's id (24 hexadecimal digits)")
	}
	id, ok := backup.ParseObjectID(*in.ID)
	if !ok {
		return cp, backup.ErrInvalidAttribute("id", "it is not 24 hexadecimal digits")
	}
	cp.ID = id
	for _, t := range []struct {
		name string
		in   *string
		out  *time.Time
	}{{"timestamp", in.Timestamp, &cp.Timestamp}, {"started", in.Started, &cp.Started}, {"completed", in.Completed, &cp.Completed}} {
		if t.in == nil {
			return cp, backup.ErrInvalidAttribute(t.name, "a report needs it")
		}
		v, err := parseReportTime(*t.in)
		if err != nil {
			return cp, backup.ErrInvalidAttribute(t.name, err.Error())
		}
		*t.out = v
	}
	if len(in.Parts) == 0 {
		return cp, backup.ErrInvalidAttribute("parts", "a report needs one part per shard and config server")
	}
	all := true
	for i, p := range in.Parts {
		field := "parts[" + strconv.Itoa(i) + "]"
		if p.TokenDiscovered == nil {
			return cp, backup.ErrInvalidAttribute(field+".tokenDiscovered", "every part says whether its token was found")
		}
		part := backup.Part{Type: p.TypeName, ShardName: p.ShardName, ReplicaSetName: p.ReplicaSetName, HostID: p.HostID,
			TokenDiscovered: *p.TokenDiscovered}
		switch {
		case part.TokenDiscovered && (p.TokenTimestamp == nil || p.TokenTimestamp.Date == nil || p.TokenTimestamp.Increment == nil):
			return cp, backup.ErrInvalidAttribute(field+".tokenTimestamp", "a discovered token has a date and an increment")
		case part.TokenDiscovered:
			d, err := parseReportTime(*p.TokenTimestamp.Date)
			if err != nil {
				return cp, backup.ErrInvalidAttribute(field+".tokenTimestamp.date", err.Error())
			}
			// Real increments count operations within a second from 1
			// (the published spec's minimum of 1199145600 is not what the
			// service sends). The oplog's are unsigned 32-bit, but the
			// API's schema is int32, and no member writes 2^31 operations
			// in a second: anything above is refused so that every
			// checkpoint served fits the schema.
			if n := *p.TokenTimestamp.Increment; n < 1 || n > 1<<31-1 {
				return cp, backup.ErrInvalidAttribute(field+".tokenTimestamp.increment", "an increment is from 1 to 2147483647")
			}
			part.TokenTimestamp = backup.BSONTimestamp{Date: d, Increment: uint32(*p.TokenTimestamp.Increment)}
		case p.TokenTimestamp != nil:
			return cp, backup.ErrInvalidAttribute(field+".tokenTimestamp", "an undiscovered token has no timestamp")
		}
		all = all && part.TokenDiscovered
		cp.Parts = append(cp.Parts, part)
	}
	cp.Restorable = all
	if in.Restorable != nil && *in.Restorable != all {
		return cp, backup.ErrInvalidAttribute("restorable", "a checkpoint is restorable exactly when every part's token was discovered")
	}
	return cp, nil
}

// parseReportTime reads an RFC 3339 time of whole seconds, as the API
// prints them.
func parseReportTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return t, errors.New("it is not an RFC 3339 date and time such as 2026-01-02T15:04:05Z")
	}
	if t.Nanosecond() != 0 {
		return t, errors.New("times are whole seconds")
	}
	return t.UTC(), nil
}
