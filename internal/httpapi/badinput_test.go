package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/httpapi"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
	"github.com/checkpointd/checkpointd/internal/web"
)

// The bad-input matrix: every route of every surface, each sent every kind
// of malformed request, through the real authenticator (bearer tokens of
// an organization owner's service account). Each row says what the route
// must answer; every answer is also held to the rules every response
// keeps: never a 500, a Content-Type, the request id, and errors in the
// route's own format (the API's ApiError with the code in X-Error-Code, the
// service's 401 challenge, or OAuth's error for the token endpoints).

// biKind is what kind of route an endpoint is: its pipeline decides which
// checks apply.
type biKind int

const (
	biAPI   biKind = iota // the six operations of the three generations
	biAdmin               // /api/checkpointd/v1/groups/…
	biOAuth               // /api/oauth/token and /revoke
	biProbe               // /healthz, /readyz
	biDoc                 // the OpenAPI document
	biUI                  // the web view
)

// biEndpoint is one route and one method of it, and the request that it
// answers with success.
type biEndpoint struct {
	name   string
	kind   biKind
	method string
	// path has slots {g} (project id), {c} (cluster name or, on Cloud
	// Manager, id), {cp} (checkpoint id) and {j} or {aj} (a restore job
	// id of Cluster0 or of Agent0).
	path      string
	clusterID bool // {c} is an id, not a name
	list      bool // reads pageNum, itemsPerPage and includeCount
	v2        bool // negotiates a version from Accept
	// ok is the status of the well-formed request.
	ok int
	// body makes the well-formed request's body and its Content-Type
	// (POST and PATCH); cluster makes the cluster {c} names, when the
	// request needs one of its own (DELETE).
	body    func(e *biEnv) (string, string)
	cluster func(t *testing.T, e *biEnv) string
	allow   string // the Allow header of its 405
}

// biRequest is one request of the matrix before it is sent.
type biRequest struct {
	method, path, rawQuery string
	g, c, cp, j            string // the slots' values ({j} and {aj} share j)
	// headers are sent as they are; accept and authz are sent as Accept
	// and Authorization unless headers has one (or noAuth).
	headers           [][2]string
	accept, authz     string
	noAuth            bool
	body, contentType string
	setContentType    bool
}

// biWant is what a row expects.
type biWant struct {
	status int
	// code is the errorCode of an ApiError, or the error of an OAuth
	// error body; empty for success and for the 401 challenge.
	code string
}

// biCase is one kind of bad input.
type biCase struct {
	name string
	// applies says whether the case means anything for ep (nil: always).
	applies func(ep *biEndpoint) bool
	mutate  func(ep *biEndpoint, r *biRequest)
	want    func(ep *biEndpoint) biWant
}

type biEnv struct {
	f     *fixture
	token string // an organization owner's bearer token
	basic string // its service account's Basic credentials
	ds    demo.Dataset
	n     atomic.Int64 // makes names and ids unique
	t0    time.Time    // the first agent report's time
	// fresh and broken are checkpoints of Cluster0 within its window,
	// restorable and not; job is one of Cluster0's restore jobs and
	// agentJob one of Agent0's, claimed by the owner "matrix".
	fresh, broken, job, agentJob backup.ObjectID
	agentCheckpoint              backup.ObjectID // Agent0's
}

func (e *biEnv) next() int64 { return e.n.Add(1) }

// mustServeBadInput serves the API, the administration API, the OAuth
// endpoints and the web view over the demo data set with the real
// authenticator, and mints a bearer token of an organization owner.
func mustServeBadInput(t *testing.T) *biEnv {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "badinput.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: demoNow, Days: 2})
	if err != nil {
		t.Fatal(err)
	}
	sa, secret, err := admin.CreateServiceAccount(ctx, db, ds.Org.ID, "badinput", "", []backup.Grant{{Role: backup.OrgOwner}}, nil, admin.MinSecretTTL, clock.System)
	if err != nil {
		t.Fatal(err)
	}
	a, err := auth.New(ctx, auth.Config{Store: db})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Auth: a, OAuth: a, UI: web.Handler(), Admin: db, ClusterAdmin: admin.Clusters{Store: db}}, db))
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, db: db, ds: ds}
	e := &biEnv{f: f, ds: ds, t0: time.Now().UTC().Truncate(time.Minute).Add(-time.Hour)}

	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(sa.ClientID), url.QueryEscape(secret))
	res, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || res.StatusCode != 200 || tok.AccessToken == "" {
		t.Fatalf("token: %d %v", res.StatusCode, err)
	}
	e.token = tok.AccessToken
	e.basic = req.Header.Get("Authorization")

	// Agent0 takes reports; each report of the matrix is a new checkpoint.
	r := e.send(t, &biRequest{method: "POST", path: adminClusters, setContentType: true, contentType: "application/json",
		body: `{"name":"Agent0","clusterType":"SHARDED","mongoDBVersion":"4.0.28",
		"shards":[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":"rs1"}],"configServer":{"replicaSetName":"cfg"},
		"backup":{"driver":"AGENT","pointInTimeWindowHours":2}}`})
	if r.status != 201 {
		t.Fatalf("creating Agent0: %d %s", r.status, r.body)
	}
	addMatrixRestores(t, e)
	return e
}

// addMatrixRestores gives the matrix what its restore routes need: recent
// checkpoints of Cluster0 (one not restorable) and of Agent0, a batch of
// each's jobs, Agent0's claimed by the owner "matrix".
func addMatrixRestores(t *testing.T, e *biEnv) {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	ids := backup.NewIDSourceFrom([5]byte{8, 8, 8, 8, 'm'}, 1)
	now := time.Now().UTC().Truncate(time.Second)
	batch := func(name string, restorable bool) (backup.Checkpoint, []backup.RestoreJob) {
		c, err := e.f.db.Cluster(ctx, backup.ClusterRef{GroupID: e.ds.Project.ID, Name: name})
		if err != nil {
			t.Fatal(err)
		}
		ts := now.Add(-time.Hour)
		if !restorable {
			ts = now.Add(-30 * time.Minute)
		}
		cp := backup.Checkpoint{ID: ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID, Started: ts.Add(-time.Minute), Completed: ts.Add(time.Minute),
			Timestamp: ts, Restorable: restorable}
		tok := backup.BSONTimestamp{Date: ts, Increment: 1}
		for _, s := range c.Shards {
			cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartReplicaSet, ShardName: s.Name, ReplicaSetName: s.ReplicaSetName, TokenDiscovered: true, TokenTimestamp: tok})
		}
		cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartConfigReplicaSet, ReplicaSetName: c.Config.ReplicaSetName, TokenDiscovered: true, TokenTimestamp: tok})
		if err := e.f.db.AddCheckpoint(ctx, cp); err != nil {
			t.Fatal(err)
		}
		plan := backup.PlanRestore(&c, &cp, now)
		jobs := plan.RestoreJobs(ids, now, backup.RestoreTarget{GroupID: c.GroupID, ClusterID: c.ID}, c.Schedule.DriverOrDefault())
		if restorable {
			if err := e.f.db.CreateRestoreJobs(ctx, jobs); err != nil {
				t.Fatal(err)
			}
		}
		return cp, jobs
	}
	fresh, jobs := batch("Cluster0", true)
	broken, _ := batch("Cluster0", false)
	agentCP, agentJobs := batch("Agent0", true)
	e.agentCheckpoint = agentCP.ID
	e.fresh, e.broken, e.job = fresh.ID, broken.ID, jobs[0].ID
	j, ok, err := e.f.db.ClaimRestoreJob(ctx, backup.ClusterRef{GroupID: e.ds.Project.ID, Name: "Agent0"}, "matrix")
	if err != nil || !ok || j.ID != agentJobs[0].ID {
		t.Fatalf("claiming Agent0's job: %v %v %s", ok, err, j.ID.Hex())
	}
	e.agentJob = j.ID
}

// restoreJobBody is a well-formed restore request: Cluster0 to a recent
// checkpoint ({fresh}, filled when the request is built).
func restoreJobBody(*biEnv) (string, string) {
	return "application/json", `{"checkpointId":"{fresh}","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex + `","targetClusterName":"Cluster0"}}`
}

// send sends r with the owner's token (unless r.noAuth).
func (e *biEnv) send(t *testing.T, r *biRequest) response {
	t.Helper()
	target := e.f.srv.URL + r.path
	if r.rawQuery != "" {
		target += "?" + r.rawQuery
	}
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, target, body)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, target, err)
	}
	if !r.noAuth && !hasHeader(r.headers, "Authorization") {
		authz := r.authz
		if authz == "" {
			authz = "Bearer " + e.token
		}
		req.Header.Set("Authorization", authz)
	}
	if r.accept != "" && !hasHeader(r.headers, "Accept") {
		req.Header.Set("Accept", r.accept)
	}
	if r.setContentType {
		req.Header.Set("Content-Type", r.contentType)
	}
	for _, h := range r.headers {
		req.Header.Add(h[0], h[1])
	}
	res, err := e.f.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	validateAgainstSpec(t, req, res, b)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// report is a well-formed report of Agent0, a new checkpoint each time.
func (e *biEnv) report() (string, string) {
	n := e.next()
	_, body := report(e.t0.Add(time.Duration(n) * time.Second))
	b, _ := json.Marshal(body)
	return "application/json", string(b)
}

// biEndpoints lists every route of every surface, with the method each
// serves (the wrong methods are cases of the matrix).
func biEndpoints(t *testing.T, e *biEnv) []*biEndpoint {
	var eps []*biEndpoint
	for _, sf := range []struct {
		name, groups, checkpoints string
		v2, byID                  bool
	}{
		{"atlas-v2", "/api/atlas/v2/groups", "backupCheckpoints", true, false},
		{"atlas-v1.0", "/api/atlas/v1.0/groups", "backupCheckpoints", false, false},
		{"cloud-manager", "/api/public/v1.0/groups", "checkpoints", false, true},
	} {
		cluster := sf.groups + "/{g}/clusters/{c}"
		for _, op := range []struct {
			name, path string
			list       bool
		}{
			{"listProjects", sf.groups, true},
			{"getProject", sf.groups + "/{g}", false},
			{"listClusters", sf.groups + "/{g}/clusters", true},
			{"getCluster", cluster, false},
			{"listCheckpoints", cluster + "/" + sf.checkpoints, true},
			{"getCheckpoint", cluster + "/" + sf.checkpoints + "/{cp}", false},
			{"getRestoreJob", cluster + "/restoreJobs/{j}", false},
		} {
			eps = append(eps, &biEndpoint{name: sf.name + "." + op.name, kind: biAPI, method: "GET", path: op.path,
				clusterID: sf.byID, list: op.list, v2: sf.v2, ok: 200, allow: "GET, HEAD"})
		}
		// The workflow: the project by name, the snapshot schedule, and
		// on Cloud Manager the backup configurations.
		schedule := cluster + "/snapshotSchedule"
		if sf.byID {
			schedule = sf.groups + "/{g}/backupConfigs/{c}/snapshotSchedule"
		}
		eps = append(eps,
			&biEndpoint{name: sf.name + ".getProjectByName", kind: biAPI, method: "GET", path: sf.groups + "/byName/" + e.ds.Project.Name,
				v2: sf.v2, ok: 200, allow: "GET, HEAD"},
			&biEndpoint{name: sf.name + ".getSchedule", kind: biAPI, method: "GET", path: schedule,
				clusterID: sf.byID, v2: sf.v2, ok: 200, allow: "GET, HEAD, PATCH"},
			&biEndpoint{name: sf.name + ".updateSchedule", kind: biAPI, method: "PATCH", path: schedule,
				clusterID: sf.byID, v2: sf.v2, ok: 200, allow: "GET, HEAD, PATCH",
				body: func(*biEnv) (string, string) { return "application/json", `{"snapshotIntervalHours":6}` }})
		if sf.byID {
			eps = append(eps,
				&biEndpoint{name: sf.name + ".listBackupConfigs", kind: biAPI, method: "GET", path: sf.groups + "/{g}/backupConfigs",
					list: true, ok: 200, allow: "GET, HEAD"},
				&biEndpoint{name: sf.name + ".getBackupConfig", kind: biAPI, method: "GET", path: sf.groups + "/{g}/backupConfigs/{c}",
					clusterID: true, ok: 200, allow: "GET, HEAD, PATCH"},
				&biEndpoint{name: sf.name + ".updateBackupConfig", kind: biAPI, method: "PATCH", path: sf.groups + "/{g}/backupConfigs/{c}",
					clusterID: true, ok: 200, allow: "GET, HEAD, PATCH",
					body: func(*biEnv) (string, string) { return "application/json", `{"statusName":"STARTED"}` }})
		}
		eps = append(eps,
			&biEndpoint{name: sf.name + ".listRestoreJobs", kind: biAPI, method: "GET", path: cluster + "/restoreJobs",
				clusterID: sf.byID, list: true, v2: sf.v2, ok: 200, allow: "GET, HEAD, POST"},
			&biEndpoint{name: sf.name + ".createRestoreJob", kind: biAPI, method: "POST", path: cluster + "/restoreJobs",
				clusterID: sf.byID, v2: sf.v2, ok: 200, allow: "GET, HEAD, POST", body: restoreJobBody})
	}
	adm := "/api/checkpointd/v1/groups/{g}/clusters"
	eps = append(eps,
		&biEndpoint{name: "admin.list", kind: biAdmin, method: "GET", path: adm, list: true, ok: 200, allow: "GET, HEAD, POST"},
		&biEndpoint{name: "admin.create", kind: biAdmin, method: "POST", path: adm, ok: 201, allow: "GET, HEAD, POST",
			body: func(e *biEnv) (string, string) {
				return "application/json", fmt.Sprintf(`{"name":"Bad%d","clusterType":"REPLICA_SET","replicaSetName":"rs","mongoDBVersion":"4.0.28"}`, e.next())
			}},
		&biEndpoint{name: "admin.get", kind: biAdmin, method: "GET", path: adm + "/{c}", ok: 200, allow: "GET, HEAD, PATCH, DELETE"},
		&biEndpoint{name: "admin.update", kind: biAdmin, method: "PATCH", path: adm + "/{c}", ok: 200, allow: "GET, HEAD, PATCH, DELETE",
			body: func(*biEnv) (string, string) { return "application/json", `{"mongoDBVersion":"4.0.28"}` }},
		&biEndpoint{name: "admin.delete", kind: biAdmin, method: "DELETE", path: adm + "/{c}", ok: 204, allow: "GET, HEAD, PATCH, DELETE",
			cluster: func(t *testing.T, e *biEnv) string {
				name := fmt.Sprintf("Doomed%d", e.next())
				r := e.send(t, &biRequest{method: "POST", path: adminClusters, setContentType: true, contentType: "application/json",
					body: `{"name":"` + name + `","clusterType":"REPLICA_SET","replicaSetName":"rs","mongoDBVersion":"4.0.28"}`})
				if r.status != 201 {
					t.Fatalf("creating %s: %d %s", name, r.status, r.body)
				}
				return name
			}},
		&biEndpoint{name: "admin.ingest", kind: biAdmin, method: "POST", path: adm + "/{c}/checkpoints", ok: 201, allow: "POST",
			body:    func(e *biEnv) (string, string) { return e.report() },
			cluster: func(*testing.T, *biEnv) string { return "Agent0" }},
		&biEndpoint{name: "admin.restorePlan", kind: biAdmin, method: "GET", path: adm + "/{c}/checkpoints/{cp}/restorePlan", ok: 200, allow: "GET, HEAD"},
		&biEndpoint{name: "admin.claimRestoreJob", kind: biAdmin, method: "POST", path: adm + "/{c}/restoreJobs/claim", ok: 200, allow: "POST",
			body:    func(*biEnv) (string, string) { return "application/json", `{"owner":"matrix"}` },
			cluster: func(*testing.T, *biEnv) string { return "Agent0" }},
		&biEndpoint{name: "admin.reportRestoreJob", kind: biAdmin, method: "PATCH", path: adm + "/{c}/restoreJobs/{aj}", ok: 200, allow: "PATCH",
			body:    func(*biEnv) (string, string) { return "application/json", `{"owner":"matrix","statusName":"FINISHED"}` },
			cluster: func(*testing.T, *biEnv) string { return "Agent0" }},
		&biEndpoint{name: "oauth.token", kind: biOAuth, method: "POST", path: "/api/oauth/token", ok: 200, allow: "POST",
			body: func(*biEnv) (string, string) {
				return "application/x-www-form-urlencoded", "grant_type=client_credentials"
			}},
		&biEndpoint{name: "oauth.revoke", kind: biOAuth, method: "POST", path: "/api/oauth/revoke", ok: 200, allow: "POST",
			body: func(*biEnv) (string, string) {
				return "application/x-www-form-urlencoded", "token=abc&token_type_hint=access_token"
			}},
		&biEndpoint{name: "healthz", kind: biProbe, method: "GET", path: "/healthz", ok: 200, allow: "GET, HEAD"},
		&biEndpoint{name: "readyz", kind: biProbe, method: "GET", path: "/readyz", ok: 200, allow: "GET, HEAD"},
		&biEndpoint{name: "openapi.yaml", kind: biDoc, method: "GET", path: "/api/checkpointd/v1/openapi.yaml", ok: 200, allow: "GET, HEAD"},
		&biEndpoint{name: "openapi.json", kind: biDoc, method: "GET", path: "/api/checkpointd/v1/openapi.json", ok: 200, allow: "GET, HEAD"},
		&biEndpoint{name: "ui", kind: biUI, method: "GET", path: "/ui/", ok: 200, allow: "GET, HEAD"},
	)
	return eps
}

// The shapes of the matrix's answers.
var (
	biOK        = biWant{}
	biChallenge = biWant{status: 401}
)

func apiErr(status int, code string) biWant { return biWant{status: status, code: code} }

// authenticated: the route runs the Authenticator (OAuth endpoints take
// client credentials instead; probes and the document take none).
func (ep *biEndpoint) authenticated() bool {
	return ep.kind == biAPI || ep.kind == biAdmin || ep.kind == biUI
}

// parsesQuery: the route rejects a malformed query string.
func (ep *biEndpoint) parsesQuery() bool { return ep.kind == biAPI || ep.kind == biAdmin }

func (ep *biEndpoint) hasSlot(s string) bool { return strings.Contains(ep.path, "{"+s+"}") }

// ifQuery is err on routes that read the query, success elsewhere.
func ifQuery(ep *biEndpoint, err biWant) biWant {
	if ep.parsesQuery() {
		return err
	}
	return biOK
}

// biCases is the matrix's rows, per kind of bad input.
func biCases() []biCase {
	var cs []biCase

	// Path segments: each slot given a malformed value.
	badIDs := []struct {
		name, value string
		// clean is false for values that make the path itself unknown.
		unknownPath bool
		// same is true for a value that decodes to the well-formed one.
		same bool
	}{
		{name: "short", value: "5e2211c17a3e"},
		{name: "long", value: strings.Repeat("5e2211c17a3e", 2) + "ab"},
		{name: "non-hex", value: "zz2211c17a3e5a48f5497de3"},
		{name: "upper-case", value: "UPPER"},
		{name: "percent-encoded", value: "PCT", same: true},
		{name: "NUL", value: "%00"},
		{name: "encoded slash", value: "a%2Fb"},
		{name: "non-UTF-8", value: "%ff%fe"},
		{name: "dot-dot", value: "..", unknownPath: true},
		{name: "dot", value: ".", unknownPath: true},
		{name: "empty", value: "", unknownPath: true},
		{name: "very long", value: strings.Repeat("a", 4000)},
		{name: "spaces", value: "%20Cluster0%20"},
	}
	for _, slot := range []string{"g", "c", "cp", "j", "aj"} {
		for _, b := range badIDs {
			cs = append(cs, biCase{
				name:    "path " + slot + " " + b.name,
				applies: func(ep *biEndpoint) bool { return ep.hasSlot(slot) },
				mutate: func(ep *biEndpoint, r *biRequest) {
					v := b.value
					cur := map[string]*string{"g": &r.g, "c": &r.c, "cp": &r.cp, "j": &r.j, "aj": &r.j}[slot]
					switch v {
					case "UPPER":
						v = strings.ToUpper(*cur)
					case "PCT":
						v = ""
						for i := 0; i < len(*cur); i++ {
							v += fmt.Sprintf("%%%02X", (*cur)[i])
						}
					}
					*cur = v
				},
				want: func(ep *biEndpoint) biWant {
					switch {
					case b.unknownPath:
						return apiErr(404, backup.CodeResourceNotFound)
					case b.same:
						return biOK
					case slot == "g":
						return apiErr(404, backup.CodeInvalidGroupID)
					case slot == "c" && ep.clusterID:
						return apiErr(404, backup.CodeInvalidClusterID)
					case slot == "c":
						return apiErr(404, backup.CodeClusterNotFound)
					case slot == "j" || slot == "aj":
						return apiErr(404, backup.CodeInvalidJobID)
					}
					return apiErr(404, backup.CodeInvalidCheckpointID)
				},
			})
		}
	}
	// Segments added below every route: dot segments and empty ones make
	// any path unknown; below the routes without a slot (on the others a
	// new segment is the next route's slot) so does any other segment,
	// but for the web view, whose unknown files are RESOURCE_NOT_FOUND too.
	// An unknown path is authenticated first, so the token endpoints'
	// Basic credentials get the API's challenge there.
	for _, p := range []struct {
		name, suffix string
		below        bool // only below routes without a slot
	}{
		{"trailing dot-dot", "/..", false}, {"inner dot", "/./x", false}, {"double slash", "//x", false},
		{"trailing NUL segment", "/%00", true}, {"trailing non-UTF-8", "/%ff", true}, {"trailing encoded slash", "/%2F", true},
	} {
		cs = append(cs, biCase{
			name: "path " + p.name,
			applies: func(ep *biEndpoint) bool {
				return !p.below || ep.kind == biProbe || ep.kind == biDoc || ep.kind == biOAuth || ep.kind == biUI
			},
			mutate: func(ep *biEndpoint, r *biRequest) {
				r.path = strings.TrimSuffix(r.path, "/") + p.suffix
			},
			want: func(ep *biEndpoint) biWant {
				if ep.kind == biOAuth {
					return biChallenge
				}
				return apiErr(404, backup.CodeResourceNotFound)
			},
		})
	}

	// Query parameters.
	invalidQuery := apiErr(400, backup.CodeInvalidQueryParameter)
	listOnly := func(ep *biEndpoint) biWant {
		if ep.list {
			return invalidQuery
		}
		return biOK
	}
	for _, q := range []struct {
		name, raw string
		want      func(ep *biEndpoint) biWant
	}{
		{"pageNum non-numeric", "pageNum=abc", listOnly},
		{"pageNum negative", "pageNum=-1", listOnly},
		{"pageNum plus sign", "pageNum=%2B1", listOnly},
		{"pageNum overflow", "pageNum=99999999999999999999", listOnly},
		{"pageNum int32 overflow", "pageNum=2147483648", listOnly},
		{"pageNum float", "pageNum=1.5", listOnly},
		{"pageNum empty", "pageNum=", func(*biEndpoint) biWant { return biOK }},
		{"pageNum zero", "pageNum=0", func(*biEndpoint) biWant { return biOK }},
		{"pageNum huge in range", "pageNum=2147483647&itemsPerPage=500", func(*biEndpoint) biWant { return biOK }},
		{"pageNum repeated, first good", "pageNum=1&pageNum=x", func(*biEndpoint) biWant { return biOK }},
		{"pageNum repeated, first bad", "pageNum=x&pageNum=1", listOnly},
		{"itemsPerPage non-numeric", "itemsPerPage=ten", listOnly},
		{"itemsPerPage negative", "itemsPerPage=-5", listOnly},
		{"itemsPerPage overflow", "itemsPerPage=1e99", listOnly},
		{"itemsPerPage above the maximum", "itemsPerPage=100000", func(*biEndpoint) biWant { return biOK }},
		{"itemsPerPage empty", "itemsPerPage=", func(*biEndpoint) biWant { return biOK }},
		{"includeCount not boolean", "includeCount=maybe", listOnly},
		{"includeCount number", "includeCount=1", listOnly},
		{"pretty not boolean", "pretty=yes", func(ep *biEndpoint) biWant { return ifQuery(ep, invalidQuery) }},
		{"pretty upper case", "pretty=TRUE", func(*biEndpoint) biWant { return biOK }},
		{"pretty non-UTF-8", "pretty=%ff", func(ep *biEndpoint) biWant { return ifQuery(ep, invalidQuery) }},
		{"envelope not boolean", "envelope=1", func(ep *biEndpoint) biWant {
			if ep.kind == biAPI {
				return invalidQuery
			}
			return biOK // only the service's generations have envelopes
		}},
		{"unknown parameter", "frobnicate=yes&x", func(*biEndpoint) biWant { return biOK }},
		{"unknown parameter, non-UTF-8", "x%ff=%fe", func(*biEndpoint) biWant { return biOK }},
		{"bad escape in a value", "pageNum=%zz", func(ep *biEndpoint) biWant { return ifQuery(ep, invalidQuery) }},
		{"bad escape in a key", "%zz=1", func(ep *biEndpoint) biWant { return ifQuery(ep, invalidQuery) }},
		{"truncated escape", "pretty=%", func(ep *biEndpoint) biWant { return ifQuery(ep, invalidQuery) }},
		{"semicolon separator", "pageNum=1;itemsPerPage=2", listOnly},
		{"empty pairs", "&&=&", func(*biEndpoint) biWant { return biOK }},
		{"NUL in a value", "pretty=%00", func(ep *biEndpoint) biWant { return ifQuery(ep, invalidQuery) }},
		{"many parameters", strings.Repeat("a=1&", 1500), func(*biEndpoint) biWant { return biOK }},
	} {
		cs = append(cs, biCase{
			name:   "query " + q.name,
			mutate: func(ep *biEndpoint, r *biRequest) { r.rawQuery = q.raw },
			want:   q.want,
		})
	}

	// Headers.
	notAcceptable := apiErr(406, backup.CodeInvalidVersionDate)
	v2Only := func(ep *biEndpoint) biWant {
		if ep.v2 {
			return notAcceptable
		}
		return biOK
	}
	tooLarge := func(status int) func(ep *biEndpoint) biWant {
		return func(ep *biEndpoint) biWant { return apiErr(status, backup.CodeRequestTooLarge) }
	}
	// unauthorized is missing or refused credentials: the challenge where
	// the route authenticates, OAuth's invalid_client at the token
	// endpoints, and no difference elsewhere.
	unauthorized := func(ep *biEndpoint) biWant {
		switch {
		case ep.authenticated():
			return biChallenge
		case ep.kind == biOAuth:
			return biWant{status: 401, code: "invalid_client"}
		}
		return biOK
	}
	for _, h := range []struct {
		name    string
		headers [][2]string
		noAuth  bool
		want    func(ep *biEndpoint) biWant
	}{
		{"Accept garbage", [][2]string{{"Accept", "@@@ garbage ;;; ,,,"}}, false, v2Only},
		{"Accept plain JSON", [][2]string{{"Accept", "application/json"}}, false, v2Only},
		{"Accept version before the first", [][2]string{{"Accept", "application/vnd.atlas.2022-12-31+json"}}, false, v2Only},
		{"Accept impossible date", [][2]string{{"Accept", "application/vnd.atlas.2023-13-45+json"}}, false, v2Only},
		{"Accept version date with no dashes", [][2]string{{"Accept", "application/vnd.atlas.20230101+json"}}, false, v2Only},
		{"Accept q=0", [][2]string{{"Accept", v2Accept + ";q=0"}}, false, v2Only},
		{"Accept q garbage", [][2]string{{"Accept", v2Accept + ";q=abc"}}, false, v2Only},
		{"Accept non-UTF-8", [][2]string{{"Accept", "application/vnd.atlas.\xff\xfe+json"}}, false, v2Only},
		{"Accept future version", [][2]string{{"Accept", "application/vnd.atlas.2999-01-01+json"}}, false, func(*biEndpoint) biWant { return biOK }},
		{"Accept many values", manyAccept(), false, func(*biEndpoint) biWant { return biOK }},
		{"Accept huge", [][2]string{{"Accept", strings.Repeat("x", 40<<10)}}, false, tooLarge(431)},
		{"headers huge", [][2]string{{"X-Pad-1", strings.Repeat("p", 20<<10)}, {"X-Pad-2", strings.Repeat("q", 20<<10)}}, false, tooLarge(431)},
		{"no credentials", nil, true, unauthorized},
		{"Authorization garbage", [][2]string{{"Authorization", "garbage"}}, false, unauthorized},
		{"Authorization empty", [][2]string{{"Authorization", ""}}, false, unauthorized},
		{"Authorization Basic", [][2]string{{"Authorization", "Basic dXNlcjpwYXNz"}}, false, unauthorized},
		{"Authorization Digest malformed", [][2]string{{"Authorization", `Digest username="x", realm=`}}, false, unauthorized},
		{"Authorization Bearer garbage", [][2]string{{"Authorization", "Bearer not.a.token"}}, false, unauthorized},
		{"Authorization non-UTF-8", [][2]string{{"Authorization", "Bearer \xff\xfe\xfd"}}, false, unauthorized},
		{"Authorization huge", [][2]string{{"Authorization", "Bearer " + strings.Repeat("a", 16<<10)}}, false, unauthorized},
		{"X-Request-Id garbage", [][2]string{{"X-Request-Id", "\xff not a token"}}, false, func(*biEndpoint) biWant { return biOK }},
	} {
		cs = append(cs, biCase{
			name:   "header " + h.name,
			mutate: func(ep *biEndpoint, r *biRequest) { r.headers, r.noAuth = h.headers, h.noAuth },
			want:   h.want,
		})
	}
	// Two Authorization headers are ambiguous: refused even when one is
	// good.
	cs = append(cs, biCase{
		name: "header Authorization twice",
		mutate: func(ep *biEndpoint, r *biRequest) {
			r.headers = [][2]string{{"Authorization", "Bearer x"}, {"Authorization", "Bearer y"}}
		},
		want: unauthorized,
	})

	// Bodies and their types, on the routes that take one.
	hasBody := func(ep *biEndpoint) bool { return ep.body != nil }
	unsupported := func(ep *biEndpoint) biWant {
		if ep.kind == biOAuth {
			return biWant{status: 400, code: "invalid_request"}
		}
		return apiErr(415, backup.CodeUnsupportedMediaType)
	}
	for _, b := range []struct {
		name, contentType string
		noContentType     bool
		body              string // replaces the well-formed body, if set
		want              func(ep *biEndpoint) biWant
	}{
		{name: "Content-Type text/plain", contentType: "text/plain", want: unsupported},
		{name: "Content-Type missing", noContentType: true, want: unsupported},
		{name: "Content-Type malformed", contentType: "application/json;;;=", want: unsupported},
		{name: "Content-Type the other's", contentType: "OTHER", want: unsupported},
		{name: "Content-Type with charset", contentType: "CHARSET", want: func(*biEndpoint) biWant { return biOK }},
		{name: "body oversized", body: strings.Repeat(" ", 70<<10), want: func(ep *biEndpoint) biWant {
			if ep.kind == biOAuth {
				return biWant{status: 400, code: "invalid_request"}
			}
			return apiErr(413, backup.CodeRequestTooLarge)
		}},
		{name: "body non-UTF-8", body: "\xff\xfe{}", want: func(ep *biEndpoint) biWant {
			if ep.kind == biOAuth {
				return biWant{status: 400, code: "invalid_request"}
			}
			return apiErr(400, backup.CodeInvalidJSON)
		}},
		{name: "body empty", body: "EMPTY", want: func(ep *biEndpoint) biWant {
			if ep.kind == biOAuth {
				return biWant{status: 400, code: "invalid_request"}
			}
			return apiErr(400, backup.CodeInvalidJSON)
		}},
		{name: "body bad escape", body: "%zz=%", want: func(ep *biEndpoint) biWant {
			if ep.kind == biOAuth {
				return biWant{status: 400, code: "invalid_request"}
			}
			return apiErr(400, backup.CodeInvalidJSON)
		}},
	} {
		cs = append(cs, biCase{
			name:    b.name,
			applies: hasBody,
			mutate: func(ep *biEndpoint, r *biRequest) {
				switch {
				case b.noContentType:
					r.setContentType = false
				case b.contentType == "OTHER":
					if ep.kind == biOAuth {
						r.contentType = "application/json"
					} else {
						r.contentType = "application/x-www-form-urlencoded"
					}
				case b.contentType == "CHARSET":
					r.contentType += "; charset=utf-8"
				case b.contentType != "":
					r.contentType = b.contentType
				}
				switch b.body {
				case "":
				case "EMPTY":
					r.body = ""
				default:
					r.body = b.body
				}
			},
			want: b.want,
		})
	}
	// The refusals of the workflow's bodies: each PATCH of the three
	// generations sent each value its rules refuse, with the service's
	// code (the well-formed body is replaced).
	for _, b := range []struct {
		name, on, body string // on: the endpoints' operation
		status         int
		code           string
		cmOnly, atlas  bool
	}{
		{"unknown field", "Schedule", `{"every":15}`, 400, backup.CodeInvalidAttribute, false, false},
		{"wrong type", "Schedule", `{"snapshotIntervalHours":"6"}`, 400, backup.CodeInvalidAttribute, false, false},
		{"field twice", "Schedule", `{"snapshotIntervalHours":6,"snapshotIntervalHours":8}`, 400, backup.CodeInvalidAttribute, false, false},
		{"an array", "Schedule", `[]`, 400, backup.CodeInvalidJSON, false, false},
		{"trailing data", "Schedule", `{}{}`, 400, backup.CodeInvalidJSON, false, false},
		{"interval 20", "Schedule", `{"clusterCheckpointIntervalMin":20}`, 400, backup.CodeInvalidCheckpointInterval, false, false},
		{"interval -15", "Schedule", `{"clusterCheckpointIntervalMin":-15}`, 400, backup.CodeInvalidCheckpointInterval, false, false},
		{"interval 2^53+15", "Schedule", `{"clusterCheckpointIntervalMin":9007199254741007}`, 400, backup.CodeInvalidCheckpointInterval, false, false},
		{"interval 15.5", "Schedule", `{"clusterCheckpointIntervalMin":15.5}`, 400, backup.CodeInvalidAttribute, false, false},
		{"snapshot interval 7", "Schedule", `{"snapshotIntervalHours":7}`, 400, backup.CodeInvalidSnapshotInterval, false, false},
		{"retention 1", "Schedule", `{"snapshotRetentionDays":1}`, 400, backup.CodeInvalidSnapshotRetention, false, false},
		{"daily 8", "Schedule", `{"dailySnapshotRetentionDays":8}`, 400, backup.CodeInvalidDailyRetention, false, false},
		{"weekly 9", "Schedule", `{"weeklySnapshotRetentionWeeks":9}`, 400, backup.CodeInvalidWeeklyRetention, false, false},
		{"monthly 14", "Schedule", `{"monthlySnapshotRetentionMonths":14}`, 400, backup.CodeInvalidMonthlyRetention, false, false},
		{"clusterId changed", "Schedule", `{"clusterId":"6a00000000000000000000ff"}`, 400, "ATTRIBUTE_READ_ONLY", false, false},
		{"groupId changed", "Schedule", `{"groupId":"6a00000000000000000000ff"}`, 400, "ATTRIBUTE_READ_ONLY", false, false},
		{"window 0", "Schedule", `{"pointInTimeWindowHours":0}`, 400, backup.CodeInvalidAttribute, false, true},
		{"window 721", "Schedule", `{"pointInTimeWindowHours":721}`, 400, backup.CodeInvalidAttribute, false, true},
		{"window changed", "Schedule", `{"pointInTimeWindowHours":25}`, 400, backup.CodeCannotSetPointInTimeWindow, true, false},
		{"reference hour changed", "Schedule", `{"referenceHourOfDay":1}`, 400, backup.CodeCannotSetReferenceTime, true, false},
		{"reference hour 24", "Schedule", `{"referenceHourOfDay":24}`, 400, backup.CodeInvalidReferenceHourOfDay, true, false},
		{"reference minute 60", "Schedule", `{"referenceMinuteOfHour":60}`, 400, backup.CodeInvalidReferenceMinuteOfHour, true, false},
		{"time zone +25:00", "Schedule", `{"referenceTimeZoneOffset":"+2500"}`, 400, backup.CodeInvalidReferenceTimeZone, true, false},
		{"time zone changed", "Schedule", `{"referenceTimeZoneOffset":"+0100"}`, 400, backup.CodeCannotSetReferenceTime, true, false},
		{"weekday", "Schedule", `{"fullIncrementalDayOfWeek":"FUNDAY"}`, 400, backup.CodeInvalidAttribute, true, false},
		{"unknown state", "BackupConfig", `{"statusName":"PAUSED"}`, 400, backup.CodeInvalidAttribute, true, false},
		{"state PROVISIONING", "BackupConfig", `{"statusName":"PROVISIONING"}`, 400, backup.CodeInvalidAttribute, true, false},
		{"terminate a STARTED backup", "BackupConfig", `{"statusName":"TERMINATING"}`, 409, backup.CodeCannotTerminateBackup, true, false},
		{"encryption on", "BackupConfig", `{"encryptionEnabled":true}`, 400, backup.CodeInvalidAttribute, true, false},
		{"storage engine", "BackupConfig", `{"storageEngineName":"ROCKS"}`, 400, backup.CodeInvalidAttribute, true, false},
		{"auth mechanism", "BackupConfig", `{"authMechanismName":"SCRAM-SHA-1"}`, 400, "ATTRIBUTE_READ_ONLY", true, false},
		{"namespace filter", "BackupConfig", `{"excludedNamespaces":["a.b"]}`, 400, backup.CodeInvalidAttribute, true, false},
	} {
		cs = append(cs, biCase{
			name: "body " + b.name,
			applies: func(ep *biEndpoint) bool {
				return ep.kind == biAPI && ep.body != nil && strings.HasSuffix(ep.name, b.on) &&
					(!b.cmOnly || ep.clusterID) && (!b.atlas || !ep.clusterID)
			},
			mutate: func(ep *biEndpoint, r *biRequest) { r.body = b.body },
			want:   func(*biEndpoint) biWant { return apiErr(b.status, b.code) },
		})
	}
	// Restore requests that are well-formed JSON but cannot be served.
	isCreate := func(ep *biEndpoint) bool { return strings.HasSuffix(ep.name, ".createRestoreJob") }
	delivery := `"delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex + `","targetClusterName":"Cluster0"}`
	for _, b := range []struct {
		name, body string
		want       biWant
	}{
		{"no checkpoint", `{` + delivery + `}`, apiErr(400, backup.CodeMissingAttribute)},
		{"checkpoint id malformed", `{"checkpointId":"xyz",` + delivery + `}`, apiErr(404, backup.CodeInvalidCheckpointID)},
		{"checkpoint id of another type", `{"checkpointId":7,` + delivery + `}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"checkpoint unknown", `{"checkpointId":"5a7cdb3980eef53de5bffdce",` + delivery + `}`, apiErr(404, backup.CodeCheckpointNotFound)},
		{"checkpoint of another cluster", `{"checkpointId":"{AGENT}",` + delivery + `}`, apiErr(404, backup.CodeCheckpointNotFound)},
		{"checkpoint not restorable", `{"checkpointId":"{broken}",` + delivery + `}`, apiErr(409, backup.CodeIncompleteClusterSnapshot)},
		{"checkpoint outside the window", `{"checkpointId":"{old}",` + delivery + `}`, apiErr(409, backup.CodeNoCheckpointForPITRestore)},
		{"both spellings disagree", `{"checkpointId":"{fresh}","checkPointId":"{broken}",` + delivery + `}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"both spellings agree", `{"checkpointId":"{fresh}","checkPointId":"{fresh}",` + delivery + `}`, biOK},
		{"snapshot restore", `{"snapshotId":"{fresh}",` + delivery + `}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"point in time restore", `{"pointInTimeUTCMillis":1700000000000,` + delivery + `}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"oplog restore", `{"oplogTs":"2026-01-01T00:00:00Z","oplogInc":1,` + delivery + `}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"no delivery", `{"checkpointId":"{fresh}"}`, apiErr(400, backup.CodeMissingAttribute)},
		{"delivery null", `{"checkpointId":"{fresh}","delivery":null}`, apiErr(400, backup.CodeMissingAttribute)},
		{"delivery not an object", `{"checkpointId":"{fresh}","delivery":"x"}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"no method", `{"checkpointId":"{fresh}","delivery":{"targetGroupId":"` + groupHex + `","targetClusterName":"Cluster0"}}`, apiErr(400, backup.CodeMissingAttribute)},
		{"HTTP method", `{"checkpointId":"{fresh}","delivery":{"methodName":"HTTP"}}`, apiErr(400, backup.CodeUnsupportedDeliveryMethod)},
		{"unknown method", `{"checkpointId":"{fresh}","delivery":{"methodName":"CARRIER_PIGEON"}}`, apiErr(400, backup.CodeUnsupportedDeliveryMethod)},
		{"no target project", `{"checkpointId":"{fresh}","delivery":{"methodName":"AUTOMATED_RESTORE","targetClusterName":"Cluster0"}}`, apiErr(400, backup.CodeMissingAttribute)},
		{"no target cluster", `{"checkpointId":"{fresh}","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex + `"}}`, apiErr(400, backup.CodeMissingOneOfAttributes)},
		{"target project malformed", `{"checkpointId":"{fresh}","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"x","targetClusterName":"Cluster0"}}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"target cluster id malformed", `{"checkpointId":"{fresh}","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex + `","targetClusterId":"x"}}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"target cluster name impossible", `{"checkpointId":"{fresh}","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex + `","targetClusterName":"-x"}}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"target project unknown", `{"checkpointId":"{fresh}","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"111111111111111111111111","targetClusterName":"Cluster0"}}`, apiErr(404, backup.CodeGroupNotFound)},
		{"target cluster unknown", `{"checkpointId":"{fresh}","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex + `","targetClusterName":"Nope"}}`, apiErr(404, backup.CodeClusterNotFound)},
		{"unknown field", `{"checkpointId":"{fresh}","frobnicate":1,` + delivery + `}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"field in another case", `{"CHECKPOINTID":"{fresh}",` + delivery + `}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"field twice", `{"checkpointId":"{fresh}","checkpointId":"{fresh}",` + delivery + `}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"an array", `[` + delivery[11:] + `]`, apiErr(400, backup.CodeInvalidJSON)},
		{"trailing data", `{"checkpointId":"{fresh}",` + delivery + `}{}`, apiErr(400, backup.CodeInvalidJSON)},
	} {
		cs = append(cs, biCase{
			name:    "restore body " + b.name,
			applies: isCreate,
			mutate:  func(ep *biEndpoint, r *biRequest) { r.body = b.body },
			want:    func(*biEndpoint) biWant { return b.want },
		})
	}
	cs = append(cs, biCase{
		name:    "query batchId malformed",
		applies: func(ep *biEndpoint) bool { return strings.HasSuffix(ep.name, ".listRestoreJobs") },
		mutate:  func(ep *biEndpoint, r *biRequest) { r.rawQuery = "batchId=xyz" },
		want:    func(*biEndpoint) biWant { return apiErr(400, backup.CodeInvalidQueryParameter) },
	})
	// An agent's claims and reports that cannot be served.
	for _, b := range []struct {
		name, endpoint, body string
		want                 biWant
	}{
		{"claim without owner", "admin.claimRestoreJob", `{}`, apiErr(400, backup.CodeMissingAttribute)},
		{"claim with empty owner", "admin.claimRestoreJob", `{"owner":""}`, apiErr(400, backup.CodeMissingAttribute)},
		{"claim with a status", "admin.claimRestoreJob", `{"owner":"matrix","statusName":"FINISHED"}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"claim unknown field", "admin.claimRestoreJob", `{"owner":"matrix","x":1}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"report without status", "admin.reportRestoreJob", `{"owner":"matrix"}`, apiErr(400, backup.CodeMissingAttribute)},
		{"report without owner", "admin.reportRestoreJob", `{"statusName":"FINISHED"}`, apiErr(400, backup.CodeMissingAttribute)},
		{"report IN_PROGRESS", "admin.reportRestoreJob", `{"owner":"matrix","statusName":"IN_PROGRESS"}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"report unknown status", "admin.reportRestoreJob", `{"owner":"matrix","statusName":"DONE"}`, apiErr(400, backup.CodeInvalidAttribute)},
		{"report another status", "admin.reportRestoreJob", `{"owner":"matrix","statusName":"KILLED"}`, apiErr(409, backup.CodeInvalidRestoreJobTransition)},
		{"report by another owner", "admin.reportRestoreJob", `{"owner":"other","statusName":"FINISHED"}`, apiErr(409, backup.CodeInvalidRestoreJobTransition)},
	} {
		cs = append(cs, biCase{
			name:    b.name,
			applies: func(ep *biEndpoint) bool { return ep.name == b.endpoint },
			mutate:  func(ep *biEndpoint, r *biRequest) { r.body = b.body },
			want:    func(*biEndpoint) biWant { return b.want },
		})
	}
	// A Content-Type where no body is read changes nothing.
	cs = append(cs, biCase{
		name:    "header Content-Type on a GET",
		applies: func(ep *biEndpoint) bool { return ep.method == "GET" },
		mutate: func(ep *biEndpoint, r *biRequest) {
			r.contentType, r.setContentType = "text/plain; charset=\xff", true
		},
		want: func(*biEndpoint) biWant { return biOK },
	})
	// A body sent where none is read changes nothing.
	cs = append(cs, biCase{
		name:    "body on a GET",
		applies: func(ep *biEndpoint) bool { return ep.method == "GET" },
		mutate: func(ep *biEndpoint, r *biRequest) {
			r.body, r.contentType, r.setContentType = strings.Repeat("{", 70<<10), "application/json", true
		},
		want: func(*biEndpoint) biWant { return biOK },
	})

	// An oversized request target.
	cs = append(cs, biCase{
		name:   "URL oversized",
		mutate: func(ep *biEndpoint, r *biRequest) { r.rawQuery = "x=" + strings.Repeat("y", 9<<10) },
		want:   tooLarge(414),
	})

	// An oversized request to an unknown path is refused for its size,
	// like one to a route.
	cs = append(cs, biCase{
		name: "URL oversized, unknown path",
		mutate: func(ep *biEndpoint, r *biRequest) {
			r.path = strings.TrimSuffix(r.path, "/") + "/.."
			r.rawQuery = "x=" + strings.Repeat("y", 9<<10)
		},
		want: tooLarge(414),
	}, biCase{
		name: "headers oversized, unknown path",
		mutate: func(ep *biEndpoint, r *biRequest) {
			r.path = strings.TrimSuffix(r.path, "/") + "//x"
			r.headers = [][2]string{{"X-Pad", strings.Repeat("p", 40<<10)}}
		},
		want: tooLarge(431),
	})

	// Wrong methods.
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "PROPFIND", "get"} {
		cs = append(cs, biCase{
			name: "method " + m,
			applies: func(ep *biEndpoint) bool {
				return !strings.Contains(", "+ep.allow+", ", ", "+m+", ")
			},
			mutate: func(ep *biEndpoint, r *biRequest) { r.method = m },
			want: func(ep *biEndpoint) biWant {
				if ep.kind == biOAuth {
					return biWant{status: 405, code: "invalid_request"}
				}
				return apiErr(405, backup.CodeMethodNotAllowed)
			},
		})
	}
	return cs
}

// manyAccept is a hundred Accept headers of which only the last names a
// version.
func manyAccept() [][2]string {
	var hs [][2]string
	for i := 0; i < 100; i++ {
		hs = append(hs, [2]string{"Accept", fmt.Sprintf("text/x-%d;q=0.%d, */*", i, i%10)})
	}
	return append(hs, [2]string{"Accept", v2Accept})
}

// TestBadInputMatrix sends every case of biCases to every endpoint of
// biEndpoints and checks the answer the row expects, then the rules every
// answer keeps.
func TestBadInputMatrix(t *testing.T) {
	e := mustServeBadInput(t)
	cpID := e.ds.Sample["Cluster0"].Hex()
	var c0 backup.Cluster
	for _, c := range e.ds.Clusters {
		if c.Name == "Cluster0" {
			c0 = c
		}
	}
	build := func(t *testing.T, ep *biEndpoint) *biRequest {
		r := &biRequest{method: ep.method, path: ep.path, g: groupHex, c: "Cluster0", cp: cpID, j: e.job.Hex()}
		if ep.hasSlot("aj") {
			r.j = e.agentJob.Hex()
		}
		if ep.name == "admin.restorePlan" {
			r.cp = e.fresh.Hex()
		}
		if ep.clusterID {
			r.c = c0.ID.Hex()
		}
		if ep.cluster != nil {
			r.c = ep.cluster(t, e)
		}
		if ep.v2 {
			r.accept = v2Accept
		}
		if ep.body != nil {
			r.contentType, r.body = ep.body(e)
			r.setContentType = true
		}
		if ep.kind == biOAuth {
			r.authz = e.basic
		}
		return r
	}
	fill := func(r *biRequest) {
		r.path = strings.NewReplacer("{g}", r.g, "{c}", r.c, "{cp}", r.cp, "{j}", r.j, "{aj}", r.j).Replace(r.path)
		r.body = strings.NewReplacer("{fresh}", e.fresh.Hex(), "{broken}", e.broken.Hex(), "{old}", cpID, "{AGENT}", e.agentCheckpoint.Hex()).Replace(r.body)
	}
	for _, ep := range biEndpoints(t, e) {
		t.Run(ep.name, func(t *testing.T) {
			r := build(t, ep)
			fill(r)
			res := e.send(t, r)
			checkBadInput(t, ep, r, res, biWant{status: ep.ok})
			for _, c := range biCases() {
				if c.applies != nil && !c.applies(ep) {
					continue
				}
				t.Run(c.name, func(t *testing.T) {
					r := build(t, ep)
					c.mutate(ep, r)
					fill(r)
					want := c.want(ep)
					if want.status == 0 {
						want.status = ep.ok
					}
					res := e.send(t, r)
					checkBadInput(t, ep, r, res, want)
				})
			}
		})
	}
}

func hasHeader(hs [][2]string, name string) bool {
	for _, h := range hs {
		if h[0] == name {
			return true
		}
	}
	return false
}

// checkBadInput holds one answer to what its row expects and to the rules
// every answer keeps.
func checkBadInput(t *testing.T, ep *biEndpoint, r *biRequest, res response, want biWant) {
	t.Helper()
	req := r.method + " " + clip(r.path, 120) + "?" + clip(r.rawQuery, 60)
	if res.status >= 500 {
		t.Fatalf("%s: %d %s", req, res.status, clip(string(res.body), 500))
	}
	if res.status != want.status {
		t.Errorf("%s: status %d, want %d: %s", req, res.status, want.status, clip(string(res.body), 500))
	}
	if res.header.Get("X-Request-Id") == "" {
		t.Errorf("%s: no X-Request-Id", req)
	}
	ct := res.header.Get("Content-Type")
	if len(res.body) > 0 && ct == "" {
		t.Errorf("%s: no Content-Type", req)
	}
	if res.status < 400 {
		return
	}
	if res.status == 405 && res.header.Get("Allow") != ep.allow {
		t.Errorf("%s: Allow %q, want %q", req, res.header.Get("Allow"), ep.allow)
	}
	if !utf8.Valid(res.body) || !json.Valid(res.body) {
		t.Fatalf("%s: error body is not UTF-8 JSON: %q", req, clip(string(res.body), 300))
	}
	if ct != "application/json" && !strings.HasPrefix(ct, "application/json;") {
		t.Errorf("%s: error Content-Type %q", req, ct)
	}
	switch {
	case want.code != "" && strings.ToLower(want.code) == want.code: // OAuth's codes are lower case
		var o struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(res.body, &o); err != nil || o.Error != want.code || o.Description == "" {
			t.Errorf("%s: OAuth error %s, want error %q", req, res.body, want.code)
		}
	case res.status == 401 && want.code == "":
		const challenge = "{\n  \"error\" : 401,\n  \"reason\" : \"Unauthorized\",\n  \"detail\" : \"You are not authorized for this resource.\",\n  \"errorCode\" : \"UNEXPECTED_ERROR\"\n}"
		if string(res.body) != challenge || !strings.HasPrefix(res.header.Get("Www-Authenticate"), "Digest ") {
			t.Errorf("%s: 401 %q (WWW-Authenticate %q), want the challenge", req, res.body, res.header.Get("Www-Authenticate"))
		}
	default:
		var a apiError
		if err := json.Unmarshal(res.body, &a); err != nil {
			t.Fatalf("%s: %v: %s", req, err, res.body)
		}
		if a.Error != res.status || a.ErrorCode != want.code || a.Detail == "" || a.Parameters == nil ||
			a.Reason != http.StatusText(res.status) || res.header.Get("X-Error-Code") != a.ErrorCode {
			t.Errorf("%s: %d %s (X-Error-Code %q), want %s", req, res.status, clip(string(res.body), 300), res.header.Get("X-Error-Code"), want.code)
		}
	}
}

// TestErrorParameters: an error's parameters are printed as its detail
// prints them, whatever their Go types, so that a refusal naming the
// allowed values lists them (a named string type was printed as "").
func TestErrorParameters(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}})
	res := f.admin(t, "owner", "PATCH", adminClusters+"/Cluster0", `{"backup":{"driver":"agent"}}`)
	e := decode[apiError](t, res.body)
	want := []any{"backup.driver", "agent", "AGENT", "SIMULATED"}
	if res.status != 400 || e.ErrorCode != backup.CodeInvalidAttribute || fmt.Sprint(e.Parameters) != fmt.Sprint(want) ||
		e.Detail != `Invalid attribute backup.driver specified: "agent" is neither AGENT nor SIMULATED.` {
		t.Errorf("%d %s, want parameters %v", res.status, res.body, want)
	}
	var a struct{ N uint32 }
	a.N = 7
	got := string(httpapi.AppendError(nil, backup.Errorf(backup.Invalid, "X", "%s %d %v", backup.Driver("AGENT"), a.N, true)))
	if want := `{"detail":"AGENT 7 true","error":400,"errorCode":"X","parameters":["AGENT",7,"true"],"reason":"Bad Request"}`; got != want { // numbers stay numbers, as the service sends them
		t.Errorf("AppendError:\n%s\nwant\n%s", got, want)
	}
}
