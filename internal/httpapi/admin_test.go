package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// roleAuth authenticates X-Test-Role: "owner" (ORG_OWNER of the demo
// organization), "readonly" (ORG_READ_ONLY), "backup" (Project Backup
// Manager of the demo project), "projectowner" (Project Owner of it),
// "stranger" (ORG_OWNER of another organization); anything else is asked
// for credentials.
type roleAuth struct{}

func (roleAuth) Authenticate(r *http.Request) (*backup.Principal, error) {
	p := &backup.Principal{Kind: backup.APIKeyPrincipal, ID: "abcdefgh", OrgID: demo.OrgID}
	switch r.Header.Get("X-Test-Role") {
	case "owner":
		p.Grants = []backup.Grant{{Role: backup.OrgOwner}}
	case "readonly":
		p.Grants = []backup.Grant{{Role: backup.OrgReadOnly}}
	case "backup":
		p.Grants = []backup.Grant{{Role: backup.OrgMember}, {Role: backup.ProjectBackupManager, ProjectID: demo.ProjectID}}
	case "projectowner":
		p.Grants = []backup.Grant{{Role: backup.OrgMember}, {Role: backup.ProjectOwner, ProjectID: demo.ProjectID}}
	case "stranger":
		p.OrgID = backup.MustParseObjectID("aaaaaaaaaaaaaaaaaaaaaaaa")
		p.Grants = []backup.Grant{{Role: backup.OrgOwner}}
	default:
		return nil, &auth.Unauthorized{Challenges: []string{testChallenge}}
	}
	return p, nil
}

const adminClusters = "/api/checkpointd/v1/groups/" + groupHex + "/clusters"

// adminCluster is the administration API's cluster.
type adminCluster struct {
	Backup struct {
		ClusterCheckpointIntervalMin *int   `json:"clusterCheckpointIntervalMin"`
		Driver                       string `json:"driver"`
		Kind                         string `json:"kind"`
		PointInTimeWindowHours       int    `json:"pointInTimeWindowHours"`
	} `json:"backup"`
	ClusterType  string `json:"clusterType"`
	ConfigServer *struct {
		HostIDs        []string `json:"hostIds"`
		ReplicaSetName string   `json:"replicaSetName"`
	} `json:"configServer"`
	Created        string `json:"created"`
	GroupID        string `json:"groupId"`
	ID             string `json:"id"`
	Links          []link `json:"links"`
	MongoDBVersion string `json:"mongoDBVersion"`
	Name           string `json:"name"`
	ReplicaSetName string `json:"replicaSetName"`
	Shards         []struct {
		Name           string `json:"name"`
		ReplicaSetName string `json:"replicaSetName"`
	} `json:"shards"`
}

func (f *fixture) admin(tb testing.TB, role, method, path, body string, headers ...string) response {
	tb.Helper()
	h := append([]string{"X-Test-Role", role}, headers...)
	if body != "" {
		h = append(h, "Content-Type", "application/json")
		return f.do(tb, method, path, strings.NewReader(body), h...)
	}
	return f.do(tb, method, path, nil, h...)
}

func wantStatus(tb testing.TB, res response, status int) {
	tb.Helper()
	if res.status != status {
		tb.Fatalf("status %d, want %d: %s", res.status, status, res.body)
	}
}

// TestAdminClusters walks a cluster through its life: the demo clusters
// listed with their schedules, one created, read, changed field by field
// (the rest kept), renamed never, and deleted.
func TestAdminClusters(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}})

	res := f.admin(t, "owner", "GET", adminClusters+"?includeCount=true", "")
	wantStatus(t, res, 200)
	list := decode[struct {
		Links      []link         `json:"links"`
		Results    []adminCluster `json:"results"`
		TotalCount int            `json:"totalCount"`
	}](t, res.body)
	if list.TotalCount != 3 || len(list.Results) != 3 || list.Links[0].Rel != "self" {
		t.Fatalf("list: %s", res.body)
	}
	c0 := list.Results[0]
	if c0.Name != "Cluster0" || c0.Backup.Driver != "SIMULATED" || c0.Backup.ClusterCheckpointIntervalMin == nil ||
		*c0.Backup.ClusterCheckpointIntervalMin != 15 || c0.Backup.PointInTimeWindowHours != 168 || c0.Backup.Kind != "LEGACY" ||
		len(c0.Shards) != 3 || c0.ConfigServer == nil || c0.ConfigServer.ReplicaSetName != "Cluster0-config-0" {
		t.Errorf("Cluster0: %+v", c0)
	}
	if c1 := list.Results[1]; c1.Name != "Cluster1" || c1.Backup.Driver != "AGENT" || c1.Backup.ClusterCheckpointIntervalMin != nil ||
		c1.ReplicaSetName != "Cluster1-shard-0" || c1.ConfigServer != nil || c1.Shards != nil {
		t.Errorf("Cluster1: %+v", c1)
	}

	created := f.admin(t, "owner", "POST", adminClusters, `{"name":"Sim1","clusterType":"SHARDED","mongoDBVersion":"4.0.28",
		"shards":[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":"rs1"}],
		"configServer":{"replicaSetName":"cfg"},
		"backup":{"driver":"SIMULATED","clusterCheckpointIntervalMin":30}}`)
	wantStatus(t, created, 201)
	c := decode[adminCluster](t, created.body)
	self := f.srv.URL + adminClusters + "/Sim1"
	if c.ID == "" || c.GroupID != groupHex || c.Backup.PointInTimeWindowHours != 24 || c.Backup.Kind != "LEGACY" ||
		*c.Backup.ClusterCheckpointIntervalMin != 30 || len(c.Links) != 1 || c.Links[0].Href != self || created.header.Get("Location") != self {
		t.Errorf("created: %s (Location %s)", created.body, created.header.Get("Location"))
	}
	got := f.admin(t, "owner", "GET", adminClusters+"/Sim1", "")
	wantStatus(t, got, 200)
	if string(got.body) != string(created.body) {
		t.Errorf("GET after POST:\n%s\nwant\n%s", got.body, created.body)
	}
	// The new cluster is one of the project's on the public surfaces too.
	if res := f.get(t, "/api/atlas/v1.0/groups/"+groupHex+"/clusters/Sim1", "X-Test-Role", "readonly"); res.status != 200 {
		t.Errorf("public GET of the created cluster: %d %s", res.status, res.body)
	}

	for _, step := range []struct {
		name, body string
		check      func(c adminCluster) bool
	}{
		{"interval", `{"backup":{"clusterCheckpointIntervalMin":60}}`, func(c adminCluster) bool {
			return *c.Backup.ClusterCheckpointIntervalMin == 60 && c.Backup.Driver == "SIMULATED" && len(c.Shards) == 2
		}},
		{"window", `{"backup":{"pointInTimeWindowHours":48}}`, func(c adminCluster) bool {
			return c.Backup.PointInTimeWindowHours == 48 && *c.Backup.ClusterCheckpointIntervalMin == 60
		}},
		{"interval off", `{"backup":{"clusterCheckpointIntervalMin":null}}`, func(c adminCluster) bool {
			return c.Backup.ClusterCheckpointIntervalMin == nil && c.Backup.PointInTimeWindowHours == 48
		}},
		{"driver", `{"backup":{"driver":"AGENT"}}`, func(c adminCluster) bool { return c.Backup.Driver == "AGENT" }},
		{"shards", `{"shards":[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":"rs1"},{"name":"s2","replicaSetName":"rs2"}]}`,
			func(c adminCluster) bool { return len(c.Shards) == 3 && c.Shards[2].Name == "s2" }},
		{"mirrored config", `{"configServer":{"hostIds":["h1","h2","h3"]},"mongoDBVersion":"3.2.22"}`, func(c adminCluster) bool {
			return c.ConfigServer != nil && len(c.ConfigServer.HostIDs) == 3 && c.ConfigServer.ReplicaSetName == ""
		}},
		{"version", `{"mongoDBVersion":"3.2.20"}`, func(c adminCluster) bool { return c.MongoDBVersion == "3.2.20" }},
		{"read-only fields sent back unchanged", `{"name":"Sim1","clusterType":"SHARDED","id":"` + c.ID + `","groupId":"` + groupHex + `","created":"` + c.Created + `"}`,
			func(c adminCluster) bool { return c.Name == "Sim1" && c.MongoDBVersion == "3.2.20" }},
		{"backup kind", `{"backup":{"kind":"CLOUD"}}`, func(c adminCluster) bool { return c.Backup.Kind == "CLOUD" }},
	} {
		res := f.admin(t, "owner", "PATCH", adminClusters+"/Sim1", step.body)
		wantStatus(t, res, 200)
		if c := decode[adminCluster](t, res.body); !step.check(c) {
			t.Errorf("%s: %s", step.name, res.body)
		}
		if again := f.admin(t, "owner", "GET", adminClusters+"/Sim1", ""); string(again.body) != string(res.body) {
			t.Errorf("%s: GET after PATCH differs:\n%s\n%s", step.name, again.body, res.body)
		}
	}

	del := f.admin(t, "owner", "DELETE", adminClusters+"/Sim1", "")
	wantStatus(t, del, 204)
	if len(del.body) != 0 {
		t.Errorf("204 with a body: %q", del.body)
	}
	gone := f.admin(t, "owner", "GET", adminClusters+"/Sim1", "")
	wantStatus(t, gone, 404)
	if e := decode[apiError](t, gone.body); e.ErrorCode != backup.CodeClusterNotFound {
		t.Errorf("after DELETE: %s", gone.body)
	}
}

// TestAdminRefusals: every refusal of the cluster routes, with its status
// and error code, and nothing changed by any of them.
func TestAdminRefusals(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}})
	one := adminClusters + "/Cluster0"
	sharded := func(extra string) string {
		return `{"name":"New0","clusterType":"SHARDED","mongoDBVersion":"4.0.28","shards":[{"name":"s0","replicaSetName":"rs0"}],"configServer":{"replicaSetName":"cfg"}` + extra + `}`
	}
	rs := func(extra string) string {
		return `{"name":"NewRS","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"rs"` + extra + `}`
	}
	for _, tt := range []struct {
		name, role, method, path, body string
		headers                        []string
		status                         int
		code                           string
	}{
		{"no credentials", "", "GET", adminClusters, "", nil, 401, "UNEXPECTED_ERROR"},
		{"read only", "readonly", "GET", adminClusters, "", nil, 401, backup.CodeUserUnauthorized},
		{"backup manager creates", "backup", "POST", adminClusters, sharded(""), nil, 401, backup.CodeUserUnauthorized},
		{"project owner deletes", "projectowner", "DELETE", one, "", nil, 401, backup.CodeUserUnauthorized},
		{"another organization", "stranger", "GET", one, "", nil, 404, backup.CodeGroupNotFound},
		{"unknown project", "owner", "GET", "/api/checkpointd/v1/groups/111111111111111111111111/clusters", "", nil, 404, backup.CodeGroupNotFound},
		{"malformed project", "owner", "GET", "/api/checkpointd/v1/groups/xyz/clusters", "", nil, 404, backup.CodeInvalidGroupID}, // 404, as the service answers it
		{"unknown cluster", "owner", "PATCH", adminClusters + "/Nope", `{}`, nil, 404, backup.CodeClusterNotFound},
		{"malformed cluster name", "owner", "GET", adminClusters + "/a%20b", "", nil, 404, backup.CodeClusterNotFound},
		{"wrong method", "owner", "PUT", one, `{}`, nil, 405, backup.CodeMethodNotAllowed},
		{"wrong method on the collection", "owner", "DELETE", adminClusters, "", nil, 405, backup.CodeMethodNotAllowed},
		{"bad pretty", "owner", "GET", adminClusters + "?pretty=yes", "", nil, 400, backup.CodeInvalidQueryParameter},
		{"bad paging", "owner", "GET", adminClusters + "?pageNum=-1", "", nil, 400, backup.CodeInvalidQueryParameter},
		{"no content type", "owner", "POST", adminClusters, "", []string{"Content-Length", "0"}, 415, backup.CodeUnsupportedMediaType},
		{"form body", "owner", "POST", adminClusters, "", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, backup.CodeUnsupportedMediaType},
		{"empty body", "owner", "POST", adminClusters, " ", nil, 400, backup.CodeInvalidJSON},
		{"not JSON", "owner", "POST", adminClusters, "name=x", nil, 400, backup.CodeInvalidJSON},
		{"truncated JSON", "owner", "POST", adminClusters, `{"name":"x"`, nil, 400, backup.CodeInvalidJSON},
		{"two objects", "owner", "POST", adminClusters, sharded("") + `{}`, nil, 400, backup.CodeInvalidJSON},
		{"an array", "owner", "POST", adminClusters, `[]`, nil, 400, backup.CodeInvalidJSON},
		{"not UTF-8", "owner", "POST", adminClusters, "{\"name\":\"\xff\"}", nil, 400, backup.CodeInvalidJSON},
		{"unknown field", "owner", "POST", adminClusters, sharded(`,"replicationSpecs":[]`), nil, 400, backup.CodeInvalidAttribute},
		{"wrong type", "owner", "POST", adminClusters, `{"name":5}`, nil, 400, backup.CodeInvalidAttribute},
		{"field of another case", "owner", "POST", adminClusters, strings.Replace(sharded(""), `"clusterType"`, `"clusterTYPE"`, 1), nil, 400, backup.CodeInvalidAttribute},
		{"nested field of another case", "owner", "POST", adminClusters, strings.Replace(sharded(""), `"replicaSetName":"rs0"`, `"ReplicaSetName":"rs0"`, 1), nil, 400, backup.CodeInvalidAttribute},
		{"field twice", "owner", "POST", adminClusters, strings.Replace(sharded(""), `"name":"New0"`, `"name":"New0","name":"New1"`, 1), nil, 400, backup.CodeInvalidAttribute},
		{"nested field twice", "owner", "PATCH", one, `{"backup":{"pointInTimeWindowHours":48,"pointInTimeWindowHours":24}}`, nil, 400, backup.CodeInvalidAttribute},
		{"id sent", "owner", "POST", adminClusters, sharded(`,"id":"6b8cd61180eef547110159d9"`), nil, 400, backup.CodeInvalidAttribute},
		{"no name", "owner", "POST", adminClusters, `{"clusterType":"SHARDED"}`, nil, 400, backup.CodeInvalidAttribute},
		{"bad name", "owner", "POST", adminClusters, strings.Replace(sharded(""), "New0", "-x", 1), nil, 400, backup.CodeInvalidClusterName},
		{"no version", "owner", "POST", adminClusters, strings.Replace(sharded(""), `"mongoDBVersion":"4.0.28",`, "", 1), nil, 400, backup.CodeInvalidAttribute},
		{"unknown type", "owner", "POST", adminClusters, strings.Replace(sharded(""), "SHARDED", "STANDALONE", 1), nil, 400, backup.CodeInvalidAttribute},
		{"no shards", "owner", "POST", adminClusters, strings.Replace(sharded(""), `[{"name":"s0","replicaSetName":"rs0"}]`, "[]", 1), nil, 400, backup.CodeInvalidAttribute},
		{"duplicate shards", "owner", "POST", adminClusters, strings.Replace(sharded(""), `}]`, `},{"name":"s0","replicaSetName":"rs1"}]`, 1), nil, 400, backup.CodeInvalidAttribute},
		{"empty mirrored host id", "owner", "POST", adminClusters, strings.Replace(sharded(""), `{"replicaSetName":"cfg"}`, `{"hostIds":["h1",""]}`, 1), nil, 400, backup.CodeInvalidAttribute},
		{"repeated mirrored host id", "owner", "POST", adminClusters, strings.Replace(sharded(""), `{"replicaSetName":"cfg"}`, `{"hostIds":["h1","h1"]}`, 1), nil, 400, backup.CodeInvalidAttribute},
		{"both config kinds", "owner", "POST", adminClusters, strings.Replace(sharded(""), `{"replicaSetName":"cfg"}`, `{"replicaSetName":"cfg","hostIds":["h"]}`, 1), nil, 400, backup.CodeInvalidAttribute},
		{"shards on a replica set", "owner", "POST", adminClusters, rs(`,"shards":[{"name":"s0","replicaSetName":"rs0"}]`), nil, 400, backup.CodeInvalidAttribute},
		{"replica set name on a sharded cluster", "owner", "POST", adminClusters, sharded(`,"replicaSetName":"x"`), nil, 400, backup.CodeInvalidAttribute},
		{"interval of 20", "owner", "POST", adminClusters, sharded(`,"backup":{"clusterCheckpointIntervalMin":20}`), nil, 400, backup.CodeInvalidAttribute},
		{"interval wrapping to 15", "owner", "PATCH", one, `{"backup":{"clusterCheckpointIntervalMin":9007199254741007}}`, nil, 400, backup.CodeInvalidAttribute},
		{"negative interval", "owner", "POST", adminClusters, sharded(`,"backup":{"clusterCheckpointIntervalMin":-15}`), nil, 400, backup.CodeInvalidAttribute},
		{"interval on a replica set", "owner", "POST", adminClusters, rs(`,"backup":{"clusterCheckpointIntervalMin":15}`), nil, 400, backup.CodeCannotSetIntervalForReplicaSet},
		{"interval on Cloud Backup", "owner", "POST", adminClusters, sharded(`,"backup":{"kind":"CLOUD","clusterCheckpointIntervalMin":15}`), nil, 400, backup.CodeInvalidAttribute},
		{"window of 0", "owner", "POST", adminClusters, sharded(`,"backup":{"pointInTimeWindowHours":0}`), nil, 400, backup.CodeInvalidAttribute},
		{"window of 721", "owner", "POST", adminClusters, sharded(`,"backup":{"pointInTimeWindowHours":721}`), nil, 400, backup.CodeInvalidAttribute},
		{"fractional window", "owner", "POST", adminClusters, sharded(`,"backup":{"pointInTimeWindowHours":1.5}`), nil, 400, backup.CodeInvalidAttribute},
		{"version with spaces", "owner", "PATCH", one, `{"mongoDBVersion":" 4.0.28 "}`, nil, 400, backup.CodeInvalidAttribute},
		{"version not of three numbers", "owner", "POST", adminClusters, strings.Replace(sharded(""), "4.0.28", "4.0", 1), nil, 400, backup.CodeInvalidAttribute},
		{"mirrored config on 4.0", "owner", "PATCH", one, `{"configServer":{"hostIds":["h1","h2","h3"]}}`, nil, 400, backup.CodeInvalidAttribute},
		{"empty driver", "owner", "PATCH", one, `{"backup":{"driver":""}}`, nil, 400, backup.CodeInvalidAttribute},
		{"unknown driver", "owner", "POST", adminClusters, sharded(`,"backup":{"driver":"MONGOS"}`), nil, 400, backup.CodeInvalidAttribute},
		{"unknown backup kind", "owner", "POST", adminClusters, sharded(`,"backup":{"kind":"TAPE"}`), nil, 400, backup.CodeInvalidAttribute},
		{"taken name", "owner", "POST", adminClusters, strings.Replace(sharded(""), "New0", "Cluster0", 1), nil, 409, backup.CodeDuplicateClusterName},
		{"rename", "owner", "PATCH", one, `{"name":"Cluster9"}`, nil, 400, backup.CodeInvalidAttribute},
		{"change of type", "owner", "PATCH", one, `{"clusterType":"REPLICA_SET"}`, nil, 400, backup.CodeInvalidAttribute},
		{"change of id", "owner", "PATCH", one, `{"id":"111111111111111111111111"}`, nil, 400, backup.CodeInvalidAttribute},
		{"interval on the demo replica set", "owner", "PATCH", adminClusters + "/Cluster1", `{"backup":{"clusterCheckpointIntervalMin":60}}`, nil, 400, backup.CodeCannotSetIntervalForReplicaSet},
		{"window below the interval", "owner", "PATCH", one, `{"backup":{"clusterCheckpointIntervalMin":60,"pointInTimeWindowHours":1}}`, nil, 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			before := f.admin(t, "owner", "GET", adminClusters+"?includeCount=true&itemsPerPage=500", "")
			h := tt.headers
			var res response
			if tt.body == "" && h != nil {
				res = f.do(t, tt.method, tt.path, strings.NewReader(""), append([]string{"X-Test-Role", tt.role}, h...)...)
			} else if h != nil {
				res = f.do(t, tt.method, tt.path, strings.NewReader(tt.body), append([]string{"X-Test-Role", tt.role}, h...)...)
			} else {
				res = f.admin(t, tt.role, tt.method, tt.path, tt.body)
			}
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			if tt.status == 200 {
				return
			}
			if e := decode[apiError](t, res.body); e.ErrorCode != tt.code || e.Error != tt.status || e.Detail == "" {
				t.Errorf("body %s, want %s", res.body, tt.code)
			}
			if tt.status == 405 && res.header.Get("Allow") == "" {
				t.Error("405 without Allow")
			}
			after := f.admin(t, "owner", "GET", adminClusters+"?includeCount=true&itemsPerPage=500", "")
			if string(before.body) != string(after.body) {
				t.Errorf("the refused request changed the clusters:\n%s\n%s", before.body, after.body)
			}
		})
	}
	// A body over 64 KiB is refused whole, before it is parsed.
	big := sharded(`,"mongoDBVersion":"` + strings.Repeat("x", 70<<10) + `"`)
	res := f.admin(t, "owner", "POST", adminClusters, big)
	if e := decode[apiError](t, res.body); res.status != 413 || e.ErrorCode != backup.CodeRequestTooLarge {
		t.Errorf("oversized body: %d %s", res.status, res.body)
	}
}

// report builds a checkpoint report of the demo-like sharded cluster
// Agent0 (shards s0, s1; config replica set cfg) at ts.
func report(ts time.Time, discovered ...bool) (id string, body map[string]any) {
	started := ts.Add(3 * time.Second)
	oid := backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 9}, uint32(ts.Unix())).New(started)
	var parts []map[string]any
	for i, p := range []struct{ typ, shard, rs string }{{"REPLICA_SET", "s1", "rs1"}, {"REPLICA_SET", "s0", "rs0"}, {"CONFIG_SERVER_REPLICA_SET", "", "cfg"}} {
		part := map[string]any{"typeName": p.typ, "replicaSetName": p.rs, "tokenDiscovered": true,
			"tokenTimestamp": map[string]any{"date": started.Add(time.Second).Format(time.RFC3339), "increment": i + 1}}
		if p.shard != "" {
			part["shardName"] = p.shard
		}
		if i < len(discovered) && !discovered[i] {
			part["tokenDiscovered"] = false
			delete(part, "tokenTimestamp")
		}
		parts = append(parts, part)
	}
	return oid.Hex(), map[string]any{"id": oid.Hex(), "timestamp": ts.Format(time.RFC3339), "started": started.Format(time.RFC3339),
		"completed": started.Add(2 * time.Second).Format(time.RFC3339), "parts": parts}
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// TestAdminIngest: a backup agent's reports are stored as the checkpoints
// the public API serves; a retry is answered 200 and stores nothing more;
// concurrent retries store one; old checkpoints are pruned by the window;
// every malformed or inconsistent report is refused with the field named
// and nothing stored.
func TestAdminIngest(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}})
	wantStatus(t, f.admin(t, "owner", "POST", adminClusters, `{"name":"Agent0","clusterType":"SHARDED","mongoDBVersion":"4.0.28",
		"shards":[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":"rs1"}],"configServer":{"replicaSetName":"cfg"},
		"backup":{"driver":"AGENT","clusterCheckpointIntervalMin":15,"pointInTimeWindowHours":2}}`), 201)
	ingest := adminClusters + "/Agent0/checkpoints"
	public := "/api/atlas/v2/groups/" + groupHex + "/clusters/Agent0/backupCheckpoints"
	count := func() int {
		t.Helper()
		res := f.get(t, public+"?includeCount=true", "Accept", v2Accept, "X-Test-Role", "readonly")
		return *decode[checkpointList](t, res.body).TotalCount
	}
	t0 := time.Now().UTC().Truncate(15 * time.Minute).Add(-6 * time.Hour)

	id, rep := report(t0)
	res := f.admin(t, "backup", "POST", ingest, mustJSON(t, rep))
	wantStatus(t, res, 201)
	cp := decode[checkpoint](t, res.body)
	if cp.ID != id || !cp.Restorable || cp.Timestamp != t0.Format(time.RFC3339) || len(cp.Parts) != 3 || cp.Parts[2].TypeName != "CONFIG_SERVER_REPLICA_SET" {
		t.Errorf("stored: %s", res.body)
	}
	if loc := res.header.Get("Location"); loc != f.srv.URL+public+"/"+id {
		t.Errorf("Location %q", loc)
	}
	got := f.get(t, public+"/"+id, "Accept", v2Accept, "X-Test-Role", "readonly")
	wantStatus(t, got, 200)
	if string(got.body) != string(res.body) {
		t.Errorf("public GET differs from the 201 body:\n%s\n%s", got.body, res.body)
	}
	// A retry: 200, the same body, nothing more stored.
	retry := f.admin(t, "projectowner", "POST", ingest, mustJSON(t, rep))
	wantStatus(t, retry, 200)
	if string(retry.body) != string(res.body) || count() != 1 {
		t.Errorf("retry: %s, %d stored", retry.body, count())
	}
	// The same id with other content is a conflict.
	other := rep
	other["completed"] = t0.Add(10 * time.Second).Format(time.RFC3339)
	conflict := f.admin(t, "owner", "POST", ingest, mustJSON(t, other))
	if e := decode[apiError](t, conflict.body); conflict.status != 409 || e.ErrorCode != backup.CodeDuplicateCheckpoint {
		t.Errorf("conflict: %d %s", conflict.status, conflict.body)
	}
	// A lost token: not restorable.
	_, lost := report(t0.Add(15*time.Minute), true, false, true)
	res = f.admin(t, "backup", "POST", ingest, mustJSON(t, lost))
	wantStatus(t, res, 201)
	if cp := decode[checkpoint](t, res.body); cp.Restorable || cp.Parts[1].TokenDiscovered || cp.Parts[1].TokenTimestamp != nil {
		t.Errorf("lost token: %s", res.body)
	}
	// Concurrent retries of one new report store it once.
	_, conc := report(t0.Add(30 * time.Minute))
	body := mustJSON(t, conc)
	var wg sync.WaitGroup
	statuses := make([]int, 8)
	for i := range statuses {
		wg.Go(func() { statuses[i] = f.admin(t, "backup", "POST", ingest, body).status })
	}
	wg.Wait()
	for _, s := range statuses {
		if s != 200 && s != 201 {
			t.Errorf("concurrent retries answered %v", statuses)
			break
		}
	}
	if n := count(); n != 3 {
		t.Errorf("%d checkpoints after concurrent retries, want 3", n)
	}
	// The window is two hours: a report three hours later prunes the
	// first three.
	_, late := report(t0.Add(3 * time.Hour))
	wantStatus(t, f.admin(t, "backup", "POST", ingest, mustJSON(t, late)), 201)
	if n := count(); n != 1 {
		t.Errorf("%d checkpoints after a report past the window, want 1", n)
	}

	stored := count()
	set := func(k string, v any) map[string]any {
		_, r := report(t0.Add(4 * time.Hour))
		r[k] = v
		return r
	}
	part := func(i int, k string, v any) map[string]any {
		_, r := report(t0.Add(4 * time.Hour))
		p := r["parts"].([]map[string]any)[i]
		if v == nil {
			delete(p, k)
		} else {
			p[k] = v
		}
		return r
	}
	_, fresh := report(t0.Add(4 * time.Hour))
	for _, tt := range []struct {
		name, role, path string
		body             any
		status           int
		code, mention    string
	}{
		{"read only", "readonly", ingest, fresh, 401, backup.CodeUserUnauthorized, ""},
		{"another organization", "stranger", ingest, fresh, 404, backup.CodeGroupNotFound, ""},
		{"unknown cluster", "backup", adminClusters + "/Nope/checkpoints", fresh, 404, backup.CodeClusterNotFound, ""},
		{"simulated cluster", "backup", adminClusters + "/Cluster0/checkpoints", fresh, 400, backup.CodeInvalidAttribute, "backup.driver"},
		{"no id", "backup", ingest, set("id", nil), 400, backup.CodeInvalidAttribute, "id"},
		{"malformed id", "backup", ingest, set("id", "xyz"), 400, backup.CodeInvalidAttribute, "id"},
		{"id of another time", "backup", ingest, set("id", "6b8cd61180eef547110159d9"), 400, backup.CodeInvalidAttribute, "id's time"},
		{"no timestamp", "backup", ingest, set("timestamp", nil), 400, backup.CodeInvalidAttribute, "timestamp"},
		{"malformed timestamp", "backup", ingest, set("timestamp", "yesterday"), 400, backup.CodeInvalidAttribute, "timestamp"},
		{"fractional seconds", "backup", ingest, set("timestamp", t0.Add(4*time.Hour+time.Millisecond).Format(time.RFC3339Nano)), 400, backup.CodeInvalidAttribute, "whole seconds"},
		{"timestamp after started", "backup", ingest, set("timestamp", t0.Add(5*time.Hour).Format(time.RFC3339)), 400, backup.CodeInvalidAttribute, "after started"},
		{"completed before started", "backup", ingest, set("completed", t0.Add(3*time.Hour).Format(time.RFC3339)), 400, backup.CodeInvalidAttribute, "after completed"},
		{"in the future", "backup", ingest, func() any { _, r := report(time.Now().UTC().Truncate(time.Second).Add(time.Hour)); return r }(), 400, backup.CodeInvalidAttribute, "future"},
		{"no parts", "backup", ingest, set("parts", []any{}), 400, backup.CodeInvalidAttribute, "parts"},
		{"a part missing", "backup", ingest, set("parts", fresh["parts"].([]map[string]any)[:2]), 400, backup.CodeInvalidAttribute, "2 parts for 3"},
		{"parts out of order", "backup", ingest, set("parts", []map[string]any{fresh["parts"].([]map[string]any)[1], fresh["parts"].([]map[string]any)[0], fresh["parts"].([]map[string]any)[2]}), 400, backup.CodeInvalidAttribute, "part 0"},
		{"unknown shard", "backup", ingest, part(0, "shardName", "s9"), 400, backup.CodeInvalidAttribute, "part 0"},
		{"unknown part type", "backup", ingest, part(2, "typeName", "MONGOS"), 400, backup.CodeInvalidAttribute, "part 2"},
		{"part field of another case", "backup", ingest, part(0, "TYPENAME", "CONFIG_SERVER"), 400, backup.CodeInvalidAttribute, "TYPENAME"},
		{"no tokenDiscovered", "backup", ingest, part(0, "tokenDiscovered", nil), 400, backup.CodeInvalidAttribute, "tokenDiscovered"},
		{"discovered without timestamp", "backup", ingest, part(0, "tokenTimestamp", nil), 400, backup.CodeInvalidAttribute, "tokenTimestamp"},
		{"undiscovered with timestamp", "backup", ingest, part(0, "tokenDiscovered", false), 400, backup.CodeInvalidAttribute, "tokenTimestamp"},
		{"increment 0", "backup", ingest, part(0, "tokenTimestamp", map[string]any{"date": t0.Add(4 * time.Hour).Format(time.RFC3339), "increment": 0}), 400, backup.CodeInvalidAttribute, "increment"},
		{"increment past int32", "backup", ingest, part(0, "tokenTimestamp", map[string]any{"date": t0.Add(4 * time.Hour).Format(time.RFC3339), "increment": int64(1) << 31}), 400, backup.CodeInvalidAttribute, "increment"},
		{"completed in the future", "backup", ingest, set("completed", time.Now().UTC().Truncate(time.Second).Add(24*time.Hour).Format(time.RFC3339)), 400, backup.CodeInvalidAttribute, "future"},
		{"restorable contradicted", "backup", ingest, set("restorable", false), 400, backup.CodeInvalidAttribute, "restorable"},
		{"unknown field", "backup", ingest, set("balancerStopped", true), 400, backup.CodeInvalidAttribute, "balancerStopped"},
		{"string increment", "backup", ingest, part(0, "tokenTimestamp", map[string]any{"date": t0.Add(4 * time.Hour).Format(time.RFC3339), "increment": "1"}), 400, backup.CodeInvalidAttribute, "increment"},
		{"not JSON", "backup", ingest, "{", 400, backup.CodeInvalidJSON, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			b, ok := tt.body.(string)
			if !ok {
				b = mustJSON(t, tt.body)
			}
			res := f.admin(t, tt.role, "POST", tt.path, b)
			e := decode[apiError](t, res.body)
			if res.status != tt.status || e.ErrorCode != tt.code || !strings.Contains(e.Detail, tt.mention) {
				t.Errorf("%d %s, want %d %s mentioning %q", res.status, res.body, tt.status, tt.code, tt.mention)
			}
			if n := count(); n != stored {
				t.Errorf("%d checkpoints stored after a refusal, want %d", n, stored)
			}
		})
	}
	// A Cloud Backup cluster has no checkpoints to report.
	wantStatus(t, f.admin(t, "owner", "PATCH", adminClusters+"/Agent0", `{"backup":{"kind":"CLOUD","clusterCheckpointIntervalMin":null}}`), 200)
	res = f.admin(t, "backup", "POST", ingest, mustJSON(t, fresh))
	if e := decode[apiError](t, res.body); e.ErrorCode != backup.CodeCheckpointsOnlyLegacy {
		t.Errorf("report for a Cloud Backup cluster: %d %s", res.status, res.body)
	}
}

// TestAdminRefusalNamesTheField: a refused cluster body names the field
// at fault, and the same body always the same field.
func TestAdminRefusalNamesTheField(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}})
	rs := func(extra string) string {
		return `{"name":"NewRS","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"rs"` + extra + `}`
	}
	for _, tt := range []struct {
		name, method, path, body, field string
	}{
		{"no name", "POST", adminClusters, `{"clusterType":"SHARDED","mongoDBVersion":"4.0.28"}`, "name"},
		{"no clusterType", "POST", adminClusters, `{"name":"X","mongoDBVersion":"4.0.28"}`, "clusterType"},
		{"no version", "POST", adminClusters, `{"name":"X","clusterType":"REPLICA_SET","replicaSetName":"rs"}`, "mongoDBVersion"},
		{"shards on a replica set", "POST", adminClusters, rs(`,"shards":[{"name":"s0","replicaSetName":"rs0"}]`), "shards"},
		{"config servers on a replica set", "POST", adminClusters, rs(`,"configServer":{"replicaSetName":"cfg"}`), "configServer"},
		{"config servers added to a replica set", "PATCH", adminClusters + "/Cluster1", `{"configServer":{"hostIds":["h1"]}}`, "configServer"},
		{"several read-only fields", "POST", adminClusters, rs(`,"links":[],"created":"2026-01-01T00:00:00Z","groupId":"` + groupHex + `","id":"6b8cd61180eef547110159d9"`), "id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// Repeated: a field picked from a map would vary.
			for range 10 {
				res := f.admin(t, "owner", tt.method, tt.path, tt.body)
				e := decode[apiError](t, res.body)
				if res.status != 400 || e.ErrorCode != backup.CodeInvalidAttribute || len(e.Parameters) == 0 || e.Parameters[0] != tt.field {
					t.Fatalf("%d %s, want INVALID_ATTRIBUTE naming %s", res.status, res.body, tt.field)
				}
			}
		})
	}
}

// TestAdminClaimSlot: of two agents of one cluster, the first to claim a
// slot holds it (and may claim it again); the other is told claimed:false,
// and once the slot's checkpoint is stored nobody may claim it.
func TestAdminClaimSlot(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}})
	wantStatus(t, f.admin(t, "owner", "POST", adminClusters, `{"name":"Agent0","clusterType":"SHARDED","mongoDBVersion":"4.0.28",
		"shards":[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":"rs1"}],"configServer":{"replicaSetName":"cfg"},
		"backup":{"driver":"AGENT","clusterCheckpointIntervalMin":15,"pointInTimeWindowHours":2}}`), 201)
	slots := adminClusters + "/Agent0/slots"
	slot := time.Now().UTC().Truncate(15 * time.Minute).Add(-time.Hour)
	claim := func(role, owner string, at time.Time) bool {
		t.Helper()
		res := f.admin(t, role, "POST", slots, `{"slot":"`+at.Format(time.RFC3339)+`","owner":"`+owner+`"}`)
		wantStatus(t, res, 200)
		got := decode[struct {
			Claimed *bool  `json:"claimed"`
			Owner   string `json:"owner"`
			Slot    string `json:"slot"`
		}](t, res.body)
		if got.Claimed == nil || got.Owner != owner || got.Slot != at.Format(time.RFC3339) {
			t.Fatalf("claim: %s", res.body)
		}
		return *got.Claimed
	}
	if !claim("backup", "a", slot) {
		t.Fatal("the first claim was refused")
	}
	if !claim("backup", "a", slot) {
		t.Error("the holder's second claim was refused")
	}
	if claim("projectowner", "b", slot) {
		t.Error("another owner claimed a held slot")
	}
	if !claim("backup", "b", slot.Add(15*time.Minute)) {
		t.Error("the next slot was refused")
	}
	_, rep := report(slot)
	wantStatus(t, f.admin(t, "backup", "POST", adminClusters+"/Agent0/checkpoints", mustJSON(t, rep)), 201)
	if claim("backup", "a", slot) {
		t.Error("a slot whose checkpoint is stored was claimed")
	}

	// Refusals, with the API's error bodies.
	for _, tt := range []struct {
		name, role, path, body string
		status                 int
		code, mention          string
	}{
		{"read only", "readonly", slots, `{"slot":"` + slot.Format(time.RFC3339) + `","owner":"a"}`, 401, backup.CodeUserUnauthorized, ""},
		{"another organization", "stranger", slots, `{"slot":"` + slot.Format(time.RFC3339) + `","owner":"a"}`, 404, backup.CodeGroupNotFound, ""},
		{"unknown cluster", "backup", adminClusters + "/Nope/slots", `{"slot":"` + slot.Format(time.RFC3339) + `","owner":"a"}`, 404, backup.CodeClusterNotFound, ""},
		{"simulated cluster", "backup", adminClusters + "/Cluster0/slots", `{"slot":"` + slot.Format(time.RFC3339) + `","owner":"a"}`, 400, backup.CodeInvalidAttribute, "backup.driver"},
		{"off the grid", "backup", slots, `{"slot":"` + slot.Add(time.Minute).Format(time.RFC3339) + `","owner":"a"}`, 400, backup.CodeInvalidAttribute, "grid"},
		{"in the future", "backup", slots, `{"slot":"` + slot.Add(2*time.Hour).Format(time.RFC3339) + `","owner":"a"}`, 400, backup.CodeInvalidAttribute, "future"},
		{"before the window", "backup", slots, `{"slot":"` + slot.Add(-3*time.Hour).Format(time.RFC3339) + `","owner":"a"}`, 400, backup.CodeInvalidAttribute, "window"},
		{"not a time", "backup", slots, `{"slot":"noon","owner":"a"}`, 400, backup.CodeInvalidAttribute, "slot"},
		{"owner with a control character", "backup", slots, `{"slot":"` + slot.Format(time.RFC3339) + `","owner":"a\u0007"}`, 400, backup.CodeInvalidAttribute, "owner"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := f.admin(t, tt.role, "POST", tt.path, tt.body)
			e := decode[apiError](t, res.body)
			if res.status != tt.status || e.ErrorCode != tt.code || !strings.Contains(e.Detail, tt.mention) {
				t.Errorf("%d %s; want %d %s mentioning %q", res.status, res.body, tt.status, tt.code, tt.mention)
			}
		})
	}
}
