package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/httpapi/atlas"
)

// AdminStore is what the administration API reads and writes: the
// clusters of a project, and checkpoints reported by backup agents.
type AdminStore interface {
	Project(ctx context.Context, id backup.ObjectID) (backup.Project, error)
	Clusters(ctx context.Context, groupID backup.ObjectID, page backup.PageRequest) (backup.Page[backup.Cluster], error)
	Cluster(ctx context.Context, ref backup.ClusterRef) (backup.Cluster, error)
	CreateCluster(ctx context.Context, c backup.Cluster) error
	UpdateCluster(ctx context.Context, c backup.Cluster) error
	DeleteCluster(ctx context.Context, ref backup.ClusterRef) error
	AddCheckpoint(ctx context.Context, cp backup.Checkpoint) error
	Checkpoint(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.Checkpoint, error)
	PruneCheckpoints(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (int, error)
	admin.SlotClaimer
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

// maxFutureSkew is how far ahead of this server's clock a reported
// checkpoint may be: agents' clocks differ a little, never by hours.
const maxFutureSkew = 5 * time.Minute

// readJSONBody reads a request body of at most maxAdminBody bytes sent as
// application/json.
func readJSONBody(rq *request) ([]byte, error) {
	ct := rq.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
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
		return errInvalidAttribute(strings.Trim(field, `"`), "it is not a field of this resource")
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return errInvalidAttribute(te.Field, "a "+te.Value+" where "+jsonTypeName(te.Type.Kind().String())+" is expected")
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
				return errInvalidAttribute(k, "it is not a field of this resource")
			case top.seen[k]:
				return errInvalidAttribute(k, "it is given twice")
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

// errInvalidAttribute is the 400 for a field whose value cannot be used.
func errInvalidAttribute(field, why string) *backup.Error {
	return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "Invalid attribute %s specified: %s.", field, why)
}

// adminProject resolves the route's project and checks the caller with
// check (CheckAdmin or CheckReporter) before the body is looked at, so
// that a caller without the role hears so whatever it sent; the store
// decides again on every write.
func (s *Server) adminProject(rq *request, check func(p *backup.Principal, org, project backup.ObjectID) error) (backup.Project, error) {
	id, err := groupID(rq.Request)
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
	body, err := readJSONBody(rq)
	if err != nil {
		return result{}, err
	}
	p, err := s.adminProject(rq, checkAdmin)
	if err != nil {
		return result{}, err
	}
	var in clusterJSON
	if err := decodeJSON(body, &in); err != nil {
		return result{}, err
	}
	// In a fixed order, so that the same body always names the same field.
	for _, f := range []struct {
		name string
		set  bool
	}{{"id", in.ID != nil}, {"groupId", in.GroupID != nil}, {"created", in.Created != nil}, {"links", in.Links != nil}} {
		if f.set {
			return result{}, errInvalidAttribute(f.name, "it is set by the server")
		}
	}
	if in.Name == nil {
		return result{}, errInvalidAttribute("name", "a cluster needs a name")
	}
	if in.ClusterType == nil {
		return result{}, errInvalidAttribute("clusterType", "a cluster needs a clusterType")
	}
	c := backup.Cluster{
		ID: s.ids.New(s.cfg.Clock.Now()), GroupID: p.ID, Name: *in.Name, Type: backup.ClusterType(*in.ClusterType),
		Backup: backup.BackupLegacy, Created: s.cfg.Clock.Now().UTC().Truncate(time.Second),
	}
	if err := in.applyTo(&c); err != nil {
		return result{}, err
	}
	if err := s.cfg.Admin.CreateCluster(rq.Context(), c); err != nil {
		return result{}, err
	}
	rq.w.Header().Set("Location", rq.base+adminClusterPath(&c))
	return result{status: http.StatusCreated, body: appendAdminCluster(rq.buf[:0], rq.base, &c)}, nil
}

// adminUpdateCluster changes the fields sent.
//
//	PATCH /api/checkpointd/v1/groups/{groupId}/clusters/{clusterName}
func adminUpdateCluster(s *Server, rq *request) (result, error) {
	body, err := readJSONBody(rq)
	if err != nil {
		return result{}, err
	}
	c, err := s.adminCluster(rq, checkAdmin)
	if err != nil {
		return result{}, err
	}
	var in clusterJSON
	if err := decodeJSON(body, &in); err != nil {
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
			return result{}, errInvalidAttribute(f.name, "it cannot be changed")
		}
	}
	if err := in.applyTo(&c); err != nil {
		return result{}, err
	}
	if err := s.cfg.Admin.UpdateCluster(rq.Context(), c); err != nil {
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
	body, err := readJSONBody(rq)
	if err != nil {
		return result{}, err
	}
	c, err := s.adminCluster(rq, checkReporter)
	if err != nil {
		return result{}, err
	}
	if c.Backup != backup.BackupLegacy {
		return result{}, backup.ErrNotLegacyBackup()
	}
	if c.Schedule.DriverOrDefault() != backup.DriverAgent {
		return result{}, errInvalidAttribute("backup.driver",
			"cluster "+c.Name+"'s checkpoints are taken by its "+string(c.Schedule.DriverOrDefault())+" driver, not reported by an agent")
	}
	var in reportJSON
	if err := decodeJSON(body, &in); err != nil {
		return result{}, err
	}
	cp, err := in.checkpoint(&c)
	if err != nil {
		return result{}, err
	}
	// completed is the latest of the three times once VerifyCheckpoint
	// has ordered them; bounding each keeps the message on the field sent.
	for _, t := range []struct {
		name string
		at   time.Time
	}{{"timestamp", cp.Timestamp}, {"started", cp.Started}, {"completed", cp.Completed}} {
		if t.at.After(s.cfg.Clock.Now().Add(maxFutureSkew)) {
			return result{}, errInvalidAttribute(t.name, "it is in the future")
		}
	}
	if err := backup.VerifyCheckpoint(c, cp); err != nil {
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
	body, err := readJSONBody(rq)
	if err != nil {
		return result{}, err
	}
	c, err := s.adminCluster(rq, checkReporter)
	if err != nil {
		return result{}, err
	}
	var in slotClaimJSON
	if err := decodeJSON(body, &in); err != nil {
		return result{}, err
	}
	if in.Claimed != nil {
		return result{}, errInvalidAttribute("claimed", "it is set by the server")
	}
	if in.Slot == nil {
		return result{}, errInvalidAttribute("slot", "a claim names the slot's time")
	}
	if in.Owner == nil {
		return result{}, errInvalidAttribute("owner", "a claim names its owner")
	}
	slot, err := parseReportTime(*in.Slot)
	if err != nil {
		return result{}, errInvalidAttribute("slot", err.Error())
	}
	ok, err := admin.ClaimSlot(rq.Context(), s.cfg.Admin, c, slot, *in.Owner, s.cfg.Clock.Now())
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

// clusterJSON is the administration API's cluster, in and out. Pointers
// tell a field sent from one left out (PATCH changes only those sent).
type clusterJSON struct {
	Backup         *backupJSON  `json:"backup,omitempty"`
	ClusterType    *string      `json:"clusterType,omitempty"`
	ConfigServer   *configJSON  `json:"configServer,omitempty"`
	Created        *string      `json:"created,omitempty"`
	GroupID        *string      `json:"groupId,omitempty"`
	ID             *string      `json:"id,omitempty"`
	Links          []linkJSON   `json:"links,omitempty"`
	MongoDBVersion *string      `json:"mongoDBVersion,omitempty"`
	Name           *string      `json:"name,omitempty"`
	ReplicaSetName *string      `json:"replicaSetName,omitempty"`
	Shards         *[]shardJSON `json:"shards,omitempty"`
}

type backupJSON struct {
	ClusterCheckpointIntervalMin optInt  `json:"clusterCheckpointIntervalMin"`
	Driver                       *string `json:"driver,omitempty"`
	Kind                         *string `json:"kind,omitempty"`
	PointInTimeWindowHours       *int    `json:"pointInTimeWindowHours,omitempty"`
}

type configJSON struct {
	HostIDs        []string `json:"hostIds,omitempty"`
	ReplicaSetName string   `json:"replicaSetName,omitempty"`
}

type shardJSON struct {
	Name           string `json:"name"`
	ReplicaSetName string `json:"replicaSetName"`
}

type linkJSON struct {
	Href string `json:"href"`
	Rel  string `json:"rel"`
}

// optInt is a JSON integer that may be left out, or null.
type optInt struct {
	set, null bool
	v         int
}

func (o *optInt) UnmarshalJSON(b []byte) error {
	o.set = true
	if string(b) == "null" {
		o.null = true
		return nil
	}
	return json.Unmarshal(b, &o.v)
}

// applyTo sets the fields sent on c, then validates it.
func (in *clusterJSON) applyTo(c *backup.Cluster) error {
	if in.MongoDBVersion != nil {
		c.MongoDBVersion = *in.MongoDBVersion
	}
	if in.ReplicaSetName != nil {
		c.ReplicaSetName = *in.ReplicaSetName
	}
	if in.Shards != nil {
		c.Shards = nil
		for _, sh := range *in.Shards {
			c.Shards = append(c.Shards, backup.Shard{Name: sh.Name, ReplicaSetName: sh.ReplicaSetName})
		}
	}
	if in.ConfigServer != nil {
		if (in.ConfigServer.ReplicaSetName == "") == (len(in.ConfigServer.HostIDs) == 0) {
			return errInvalidAttribute("configServer", "it has either a replicaSetName or hostIds")
		}
		c.Config = backup.ConfigServer{ReplicaSetName: in.ConfigServer.ReplicaSetName, HostIDs: in.ConfigServer.HostIDs}
	}
	if b := in.Backup; b != nil {
		if b.Kind != nil {
			c.Backup = backup.BackupKind(*b.Kind)
		}
		if b.Driver != nil {
			// The domain reads an empty driver as the default, AGENT; a
			// client that sends a driver names one of the two.
			if *b.Driver == "" {
				return errInvalidAttribute("backup.driver", `"" is neither AGENT nor SIMULATED`)
			}
			c.Schedule.Driver = backup.Driver(*b.Driver)
		}
		if o := b.ClusterCheckpointIntervalMin; o.set {
			c.Schedule.Interval = 0
			if !o.null {
				// Beyond MaxInt64 minutes the Duration would wrap:
				// 9007199254741007 (2^53 + 15) would be taken as 15.
				if o.v <= 0 || int64(o.v) > int64(math.MaxInt64/time.Minute) {
					return errInvalidAttribute("clusterCheckpointIntervalMin", "a checkpoint interval is 15, 30 or 60 minutes, or null for none")
				}
				c.Schedule.Interval = time.Duration(o.v) * time.Minute
			}
		}
		if h := b.PointInTimeWindowHours; h != nil {
			if *h < 1 || *h > int(backup.MaxWindow/time.Hour) {
				return errInvalidAttribute("pointInTimeWindowHours", "a window is from 1 to "+strconv.Itoa(int(backup.MaxWindow/time.Hour))+" hours")
			}
			c.Schedule.Window = time.Duration(*h) * time.Hour
		}
	}
	if c.MongoDBVersion == "" {
		return errInvalidAttribute("mongoDBVersion", "a cluster needs the MongoDB version it runs")
	}
	switch c.Type {
	case backup.ReplicaSet:
		if len(c.Shards) != 0 {
			return errInvalidAttribute("shards", "a replica set has no shards")
		}
		if len(c.Config.HostIDs) != 0 || c.Config.ReplicaSetName != "" {
			return errInvalidAttribute("configServer", "a replica set has no config servers")
		}
	case backup.Sharded:
		if c.ReplicaSetName != "" {
			return errInvalidAttribute("replicaSetName", "a sharded cluster's replica sets are its shards'")
		}
	}
	if err := c.Validate(); err != nil {
		return err
	}
	return admin.CheckCluster(*c)
}

func adminClusterPath(c *backup.Cluster) string {
	return adminSurface.groups + "/" + c.GroupID.Hex() + "/clusters/" + c.Name
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// appendAdminCluster appends a cluster as the administration API shows it,
// keys in alphabetical order as the service's JSON has them.
func appendAdminCluster(b []byte, base string, c *backup.Cluster) []byte {
	s := c.Schedule
	out := struct {
		Backup struct {
			ClusterCheckpointIntervalMin *int   `json:"clusterCheckpointIntervalMin,omitempty"`
			Driver                       string `json:"driver"`
			Kind                         string `json:"kind"`
			PointInTimeWindowHours       int    `json:"pointInTimeWindowHours"`
		} `json:"backup"`
		ClusterType    string      `json:"clusterType"`
		ConfigServer   *configJSON `json:"configServer,omitempty"`
		Created        string      `json:"created"`
		GroupID        string      `json:"groupId"`
		ID             string      `json:"id"`
		Links          []linkJSON  `json:"links"`
		MongoDBVersion string      `json:"mongoDBVersion"`
		Name           string      `json:"name"`
		ReplicaSetName string      `json:"replicaSetName,omitempty"`
		Shards         []shardJSON `json:"shards,omitempty"`
	}{
		ClusterType: string(c.Type), Created: formatTime(c.Created), GroupID: c.GroupID.Hex(), ID: c.ID.Hex(),
		Links:          []linkJSON{{Href: base + adminClusterPath(c), Rel: "self"}},
		MongoDBVersion: c.MongoDBVersion, Name: c.Name, ReplicaSetName: c.ReplicaSetName,
	}
	out.Backup.Kind = string(c.Backup)
	out.Backup.Driver = string(s.DriverOrDefault())
	out.Backup.PointInTimeWindowHours = int(s.WindowOrDefault() / time.Hour)
	if s.Interval > 0 {
		m := int(s.Interval / time.Minute)
		out.Backup.ClusterCheckpointIntervalMin = &m
	}
	if c.Type == backup.Sharded {
		out.ConfigServer = &configJSON{ReplicaSetName: c.Config.ReplicaSetName, HostIDs: c.Config.HostIDs}
		for _, sh := range c.Shards {
			out.Shards = append(out.Shards, shardJSON{Name: sh.Name, ReplicaSetName: sh.ReplicaSetName})
		}
	}
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
		return cp, errInvalidAttribute("id", "a report needs the checkpoint's id (24 hexadecimal digits)")
	}
	id, ok := backup.ParseObjectID(*in.ID)
	if !ok {
		return cp, errInvalidAttribute("id", "it is not 24 hexadecimal digits")
	}
	cp.ID = id
	for _, t := range []struct {
		name string
		in   *string
		out  *time.Time
	}{{"timestamp", in.Timestamp, &cp.Timestamp}, {"started", in.Started, &cp.Started}, {"completed", in.Completed, &cp.Completed}} {
		if t.in == nil {
			return cp, errInvalidAttribute(t.name, "a report needs it")
		}
		v, err := parseReportTime(*t.in)
		if err != nil {
			return cp, errInvalidAttribute(t.name, err.Error())
		}
		*t.out = v
	}
	if len(in.Parts) == 0 {
		return cp, errInvalidAttribute("parts", "a report needs one part per shard and config server")
	}
	all := true
	for i, p := range in.Parts {
		field := "parts[" + strconv.Itoa(i) + "]"
		if p.TokenDiscovered == nil {
			return cp, errInvalidAttribute(field+".tokenDiscovered", "every part says whether its token was found")
		}
		part := backup.Part{Type: p.TypeName, ShardName: p.ShardName, ReplicaSetName: p.ReplicaSetName, HostID: p.HostID,
			TokenDiscovered: *p.TokenDiscovered}
		switch {
		case part.TokenDiscovered && (p.TokenTimestamp == nil || p.TokenTimestamp.Date == nil || p.TokenTimestamp.Increment == nil):
			return cp, errInvalidAttribute(field+".tokenTimestamp", "a discovered token has a date and an increment")
		case part.TokenDiscovered:
			d, err := parseReportTime(*p.TokenTimestamp.Date)
			if err != nil {
				return cp, errInvalidAttribute(field+".tokenTimestamp.date", err.Error())
			}
			// Real increments count operations within a second from 1
			// (the published spec's minimum of 1199145600 is not what the
			// service sends). The oplog's are unsigned 32-bit, but the
			// API's schema is int32, and no member writes 2^31 operations
			// in a second: anything above is refused so that every
			// checkpoint served fits the schema.
			if n := *p.TokenTimestamp.Increment; n < 1 || n > 1<<31-1 {
				return cp, errInvalidAttribute(field+".tokenTimestamp.increment", "an increment is from 1 to 2147483647")
			}
			part.TokenTimestamp = backup.BSONTimestamp{Date: d, Increment: uint32(*p.TokenTimestamp.Increment)}
		case p.TokenTimestamp != nil:
			return cp, errInvalidAttribute(field+".tokenTimestamp", "an undiscovered token has no timestamp")
		}
		all = all && part.TokenDiscovered
		cp.Parts = append(cp.Parts, part)
	}
	cp.Restorable = all
	if in.Restorable != nil && *in.Restorable != all {
		return cp, errInvalidAttribute("restorable", "a checkpoint is restorable exactly when every part's token was discovered")
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
