package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// adminFuzzEnv is the administration API over the demo data set, called
// in process with an organization owner's credentials (roleAuth).
type adminFuzzEnv struct {
	api http.Handler
}

func newAdminFuzzEnv(f *testing.F) *adminFuzzEnv {
	fx := mustServeAdmin(f, httpapi.Config{})
	e := &adminFuzzEnv{api: httpapi.New(httpapi.Config{Auth: roleAuth{}, Admin: fx.db, ClusterAdmin: admin.Clusters{Store: fx.db}}, fx.db)}
	for _, body := range []string{
		`{"name":"Fuzz0","clusterType":"SHARDED","mongoDBVersion":"4.0.28","shards":[{"name":"s0","replicaSetName":"rs0"}],"configServer":{"replicaSetName":"cfg"},"backup":{"driver":"SIMULATED","clusterCheckpointIntervalMin":15}}`,
		`{"name":"Agent0","clusterType":"SHARDED","mongoDBVersion":"4.0.28","shards":[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":"rs1"}],"configServer":{"replicaSetName":"cfg"},"backup":{"driver":"AGENT","pointInTimeWindowHours":2}}`,
	} {
		if code, b := e.do("POST", adminClusters, "application/json", []byte(body)); code != 201 {
			f.Fatalf("creating a cluster: %d %s", code, b)
		}
	}
	return e
}

func (e *adminFuzzEnv) do(method, path, contentType string, body []byte, headers ...string) (int, []byte) {
	req := httptest.NewRequest(method, "http://checkpointd.test"+path, bytes.NewReader(body))
	req.Header.Set("X-Test-Role", "owner")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.api.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

// checkRefusal holds a refusal to the API's error format and to the
// statuses a body can cause.
func checkRefusal(t *testing.T, what string, code int, body []byte) {
	t.Helper()
	switch code {
	case 400, 404, 409, 413:
	default:
		t.Fatalf("%s: status %d: %s", what, code, body)
	}
	var a apiError
	if err := json.Unmarshal(body, &a); err != nil || a.Error != code || a.ErrorCode == "" || a.Detail == "" || a.Parameters == nil {
		t.Fatalf("%s: %d %s is not an ApiError", what, code, body)
	}
}

// FuzzAdminCluster sends any body to the administration API's cluster
// create (POST) and update (PATCH of the cluster Fuzz0), through the real
// handler with an owner's credentials. Never a 500; a refusal is an
// ApiError and changes nothing; a success is exactly what a GET of the
// cluster then reads back.
func FuzzAdminCluster(f *testing.F) {
	for _, seed := range []struct {
		patch bool
		body  string
	}{
		{false, `{"name":"New0","clusterType":"SHARDED","mongoDBVersion":"4.0.28","shards":[{"name":"s0","replicaSetName":"rs0"}],"configServer":{"replicaSetName":"cfg"}}`},
		{false, `{"name":"NewRS","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"rs","backup":{"driver":"AGENT","pointInTimeWindowHours":48}}`},
		{false, `{"name":"M","clusterType":"SHARDED","mongoDBVersion":"3.2.0","shards":[{"name":"a","replicaSetName":"a"}],"configServer":{"hostIds":["h1:27019","h2:27019"]}}`},
		{true, `{"backup":{"clusterCheckpointIntervalMin":null,"pointInTimeWindowHours":720}}`},
		{true, `{"backup":{"clusterCheckpointIntervalMin":60},"shards":[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":"rs1"}]}`},
		{true, `{"name":"Fuzz0","clusterType":"SHARDED","mongoDBVersion":"\u00e9"}`},
		{true, `{"backup":{"kind":"CLOUD"}}`},
		{true, `{}`},
	} {
		f.Add(seed.patch, []byte(seed.body))
	}
	e := newAdminFuzzEnv(f)
	one := adminClusters + "/Fuzz0"
	f.Fuzz(func(t *testing.T, patch bool, body []byte) {
		if !patch {
			_, before := e.do("GET", adminClusters+"?itemsPerPage=1", "", nil)
			code, got := e.do("POST", adminClusters, "application/json", body)
			if code != 201 {
				checkRefusal(t, "POST "+string(body), code, got)
				if _, after := e.do("GET", adminClusters+"?itemsPerPage=1", "", nil); !bytes.Equal(before, after) {
					t.Fatalf("refused POST %q changed the clusters", body)
				}
				return
			}
			var c adminCluster
			if err := json.Unmarshal(got, &c); err != nil || c.Name == "" {
				t.Fatalf("POST %q: 201 %s", body, got)
			}
			if rc, back := e.do("GET", adminClusters+"/"+c.Name, "", nil); rc != 200 || !bytes.Equal(back, got) {
				t.Fatalf("POST %q answered\n%s\nGET reads back %d\n%s", body, got, rc, back)
			}
			checkAsSent(t, body, got)
			// Keep the data set small: the next inputs create again.
			if rc, _ := e.do("DELETE", adminClusters+"/"+c.Name, "", nil); rc != 204 {
				t.Fatalf("DELETE %s: %d", c.Name, rc)
			}
			return
		}
		_, before := e.do("GET", one, "", nil)
		code, got := e.do("PATCH", one, "application/json", body)
		_, after := e.do("GET", one, "", nil)
		if code != 200 {
			checkRefusal(t, "PATCH "+string(body), code, got)
			if !bytes.Equal(before, after) {
				t.Fatalf("refused PATCH %q changed the cluster:\n%s\n%s", body, before, after)
			}
			return
		}
		if !bytes.Equal(after, got) {
			t.Fatalf("PATCH %q answered\n%s\nGET reads back\n%s", body, got, after)
		}
		checkAsSent(t, body, got)
	})
}

// checkAsSent holds an accepted cluster body to the values it sent: each
// field given is what the answer shows, not a value near it (a number
// that wrapped, a name changed).
func checkAsSent(t *testing.T, body, got []byte) {
	t.Helper()
	var sent struct {
		Name, MongoDBVersion, ReplicaSetName *string
		Backup                               *struct {
			ClusterCheckpointIntervalMin, PointInTimeWindowHours *json.Number
			Driver, Kind                                         *string
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&sent); err != nil {
		t.Fatalf("accepted %q, which does not decode: %v", body, err)
	}
	c := decode[adminCluster](t, got)
	same := func(field string, sent *string, shown string) {
		if sent != nil && *sent != shown {
			t.Fatalf("%q sent %s %q, the answer shows %q", body, field, *sent, shown)
		}
	}
	same("name", sent.Name, c.Name)
	same("mongoDBVersion", sent.MongoDBVersion, c.MongoDBVersion)
	same("replicaSetName", sent.ReplicaSetName, c.ReplicaSetName)
	if b := sent.Backup; b != nil {
		same("backup.driver", b.Driver, c.Backup.Driver)
		same("backup.kind", b.Kind, c.Backup.Kind)
		if n := b.PointInTimeWindowHours; n != nil && n.String() != strconv.Itoa(c.Backup.PointInTimeWindowHours) {
			t.Fatalf("%q sent pointInTimeWindowHours %s, the answer shows %d", body, n, c.Backup.PointInTimeWindowHours)
		}
		if n := b.ClusterCheckpointIntervalMin; n != nil && (c.Backup.ClusterCheckpointIntervalMin == nil || n.String() != strconv.Itoa(*c.Backup.ClusterCheckpointIntervalMin)) {
			t.Fatalf("%q sent clusterCheckpointIntervalMin %s, the answer shows %v", body, n, c.Backup.ClusterCheckpointIntervalMin)
		}
	}
}

// FuzzAdminReport sends any body as a backup agent's checkpoint report of
// Agent0 (a sharded cluster of two shards), through the real handler.
// Never a 500; a refusal is an ApiError; a report accepted (201, or 200
// for a retry) is served back by the public API exactly as the answer
// showed it.
func FuzzAdminReport(f *testing.F) {
	t0 := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	good := func(ts time.Time, discovered ...bool) []byte {
		_, r := report(ts, discovered...)
		b, _ := json.Marshal(r)
		return b
	}
	f.Add(good(t0))
	f.Add(good(t0.Add(15*time.Minute), true, false, true))
	f.Add(good(t0.Add(30*time.Minute), false, false, false))
	withRestorable := strings.Replace(string(good(t0.Add(45*time.Minute))), `{"completed"`, `{"restorable":true,"completed"`, 1)
	f.Add([]byte(withRestorable))
	f.Add([]byte(`{"id":"5a7cdb3980eef53de5bffdce","timestamp":"2026-01-02T15:04:05+01:00","started":"2026-01-02T15:04:05.5Z","completed":"x","parts":[]}`))
	f.Add([]byte(`{"id":"5a7cdb3980eef53de5bffdce","parts":[{"typeName":"REPLICA_SET","tokenDiscovered":true,"tokenTimestamp":{"date":"2026-01-02T15:04:05Z","increment":4294967296}}]}`))
	e := newAdminFuzzEnv(f)
	ingest := adminClusters + "/Agent0/checkpoints"
	public := "/api/atlas/v2/groups/" + groupHex + "/clusters/Agent0/backupCheckpoints/"
	f.Fuzz(func(t *testing.T, body []byte) {
		code, got := e.do("POST", ingest, "application/json", body)
		if code != 200 && code != 201 {
			checkRefusal(t, "POST "+string(body), code, got)
			return
		}
		var cp checkpoint
		if err := json.Unmarshal(got, &cp); err != nil || cp.ID == "" {
			t.Fatalf("POST %q: %d %s", body, code, got)
		}
		rc, back := e.do("GET", public+cp.ID, "", nil, "Accept", v2Accept)
		if rc != 200 || !bytes.Equal(back, got) {
			t.Fatalf("POST %q answered %d\n%s\nGET reads back %d\n%s", body, code, got, rc, back)
		}
	})
}
