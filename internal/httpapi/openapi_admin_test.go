package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// reportPart names one part of a checkpoint report.
type reportPart struct{ typ, shard, rs, host string }

// agentReport builds a checkpoint report at ts of a cluster with parts:
// started 3 s after ts, completed 2 s after that, the id's time started,
// every token discovered one second after started. edit, if set,
// changes it before it is encoded.
func agentReport(tb testing.TB, ids *backup.IDSource, ts time.Time, parts []reportPart, edit func(r map[string]any, parts []map[string]any)) string {
	tb.Helper()
	started := ts.Add(3 * time.Second)
	var ps []map[string]any
	for i, p := range parts {
		m := map[string]any{"typeName": p.typ, "tokenDiscovered": true,
			"tokenTimestamp": map[string]any{"date": started.Add(time.Second).Format(time.RFC3339), "increment": i + 1}}
		for k, v := range map[string]string{"shardName": p.shard, "replicaSetName": p.rs, "hostId": p.host} {
			if v != "" {
				m[k] = v
			}
		}
		ps = append(ps, m)
	}
	r := map[string]any{"id": ids.New(started).Hex(), "timestamp": ts.Format(time.RFC3339), "started": started.Format(time.RFC3339),
		"completed": started.Add(2 * time.Second).Format(time.RFC3339), "parts": ps}
	if edit != nil {
		edit(r, ps)
	}
	b, err := json.Marshal(r)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// adminCases are the requests made of every administration operation
// with credentials of one kind, in order: clusters are created, read,
// changed, reported to, and deleted. Names and ids carry kind, so that
// both kinds of credentials run them over one store.
func (e *openapiEnv) adminCases(tb testing.TB, kind string) []apiCase {
	const (
		post, patch, del = http.MethodPost, http.MethodPatch, http.MethodDelete
	)
	g := "/api/checkpointd/v1/groups/" + groupHex
	cl := g + "/clusters"
	sh, mir, rs, pt := "Sh-"+kind, "Mir-"+kind, "Rs-"+kind, "Pt-"+kind
	one := func(name string) string { return cl + "/" + name }
	ing := func(name string) string { return cl + "/" + name + "/checkpoints" }
	slots := func(name string) string { return cl + "/" + name + "/slots" }
	long := "?x=" + strings.Repeat("a", 9000)
	big := []string{"X-Big", strings.Repeat("b", 40000)}
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}

	shBody := `{"name":"` + sh + `","clusterType":"SHARDED","mongoDBVersion":"4.0.28",
		"shards":[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":"rs1"}],"configServer":{"replicaSetName":"cfg"},
		"backup":{"driver":"AGENT","clusterCheckpointIntervalMin":15,"pointInTimeWindowHours":48}}`
	newSharded := func(extra string) string {
		return `{"name":"New-` + kind + `","clusterType":"SHARDED","mongoDBVersion":"4.0.28","shards":[{"name":"s0","replicaSetName":"rs0"}],"configServer":{"replicaSetName":"cfg"}` + extra + `}`
	}
	newRS := func(extra string) string {
		return `{"name":"NewRS-` + kind + `","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"rs"` + extra + `}`
	}
	c0 := e.ds.Clusters[0]
	echo := `{"id":"` + c0.ID.Hex() + `","groupId":"` + groupHex + `","name":"Cluster0","clusterType":"SHARDED","created":"` +
		c0.Created.UTC().Format(time.RFC3339) + `","links":[{"href":"http://elsewhere.test/x","rel":"self"}]}`

	ids := backup.NewIDSourceFrom([5]byte{7, 7, 7, 7, kind[0]}, 1)
	base := time.Now().UTC().Truncate(time.Minute).Add(-2 * time.Hour)
	shParts := []reportPart{{"REPLICA_SET", "s1", "rs1", ""}, {"REPLICA_SET", "s0", "rs0", ""}, {"CONFIG_SERVER_REPLICA_SET", "", "cfg", ""}}
	mirParts := []reportPart{{"REPLICA_SET", "a", "rsa", ""}, {"CONFIG_SERVER", "", "", "h1"}}
	rsParts := []reportPart{{"REPLICA_SET", "", "rs-" + kind, ""}}
	report := func(at time.Duration, edit func(r map[string]any, parts []map[string]any)) string {
		return agentReport(tb, ids, base.Add(at), shParts, edit)
	}
	first := report(0, nil)
	var firstMap map[string]any
	if err := json.Unmarshal([]byte(first), &firstMap); err != nil {
		tb.Fatal(err)
	}
	firstMap["completed"] = base.Add(time.Minute).Format(time.RFC3339)
	conflicting, _ := json.Marshal(firstMap)
	bad := report(time.Hour, nil) // the report the refusals edit; never stored
	// A slot of sh's 15-minute schedule, and a claim of it by owner.
	slot := time.Now().UTC().Truncate(15 * time.Minute).Add(-time.Hour)
	claim := func(at time.Time, owner string) string {
		return `{"slot":"` + at.Format(time.RFC3339) + `","owner":"` + owner + `"}`
	}
	firstClaim := claim(slot, "agent-a-"+kind)

	cs := []apiCase{
		// Create.
		{name: "create sharded", method: post, path: cl, who: owner, body: shBody, status: 201},
		{name: "create mirrored", method: post, path: cl, who: owner, status: 201,
			body: `{"name":"` + mir + `","clusterType":"SHARDED","mongoDBVersion":"3.2.22","shards":[{"name":"a","replicaSetName":"rsa"}],"configServer":{"hostIds":["h1","h2","h3"]}}`},
		{name: "create replica set, charset", method: post, path: cl + "?pretty=true", who: owner, headers: []string{"Content-Type", "application/json; charset=utf-8"}, status: 201,
			body: `{"name":"` + rs + `","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"rs-` + kind + `"}`},
		{name: "create simulated", method: post, path: cl, who: owner, status: 201,
			body: `{"name":"` + pt + `","clusterType":"SHARDED","mongoDBVersion":"4.0.28","shards":[{"name":"s0","replicaSetName":"rs0"}],"configServer":{"replicaSetName":"cfg"},"backup":{"driver":"SIMULATED","clusterCheckpointIntervalMin":30,"kind":"LEGACY"}}`},
		{name: "create: not JSON", method: post, path: cl, who: owner, body: `{"name":`, status: 400, code: "INVALID_JSON", badRequest: true},
		// The document cannot say "nothing after the object": the validator
		// reads the first value only.
		{name: "create: two objects", method: post, path: cl, who: owner, body: newSharded("") + `{}`, status: 400, code: "INVALID_JSON"},
		{name: "create: unknown field", method: post, path: cl, who: owner, body: newSharded(`,"replicationSpecs":[]`), status: 400, code: "INVALID_ATTRIBUTE", mention: "replicationSpecs", badRequest: true},
		{name: "create: wrong type", method: post, path: cl, who: owner, body: newSharded(`,"backup":{"pointInTimeWindowHours":"24"}`), status: 400, code: "INVALID_ATTRIBUTE", mention: "backup.pointInTimeWindowHours", badRequest: true},
		{name: "create: id sent", method: post, path: cl, who: owner, body: newSharded(`,"id":"6b8cd61180eef547110159d9"`), status: 400, code: "INVALID_ATTRIBUTE", mention: "id", badRequest: true},
		{name: "create: links sent", method: post, path: cl, who: owner, body: newSharded(`,"links":[]`), status: 400, code: "INVALID_ATTRIBUTE", mention: "links", badRequest: true},
		{name: "create: no clusterType", method: post, path: cl, who: owner, body: `{"name":"X","mongoDBVersion":"4.0.28"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "clusterType", badRequest: true},
		{name: "create: no version", method: post, path: cl, who: owner, body: strings.Replace(newRS(""), `"mongoDBVersion":"4.0.28",`, "", 1), status: 400, code: "INVALID_ATTRIBUTE", mention: "mongoDBVersion", badRequest: true},
		{name: "create: bad name", method: post, path: cl, who: owner, body: strings.Replace(newSharded(""), "New-"+kind, "-x", 1), status: 400, code: "INVALID_CLUSTER_NAME", badRequest: true},
		{name: "create: interval on a replica set", method: post, path: cl, who: owner, body: newRS(`,"backup":{"clusterCheckpointIntervalMin":15}`), status: 400, code: backup.CodeCannotSetIntervalForReplicaSet},
		{name: "create: interval of 20", method: post, path: cl, who: owner, body: newSharded(`,"backup":{"clusterCheckpointIntervalMin":20}`), status: 400, code: "INVALID_ATTRIBUTE", mention: "clusterCheckpointIntervalMin", badRequest: true},
		{name: "create: interval on Cloud Backup", method: post, path: cl, who: owner, body: newSharded(`,"backup":{"kind":"CLOUD","clusterCheckpointIntervalMin":15}`), status: 400, code: "INVALID_ATTRIBUTE", mention: "clusterCheckpointIntervalMin"},
		{name: "create: window of 721", method: post, path: cl, who: owner, body: newSharded(`,"backup":{"pointInTimeWindowHours":721}`), status: 400, code: "INVALID_ATTRIBUTE", mention: "pointInTimeWindowHours", badRequest: true},
		{name: "create: duplicate shards", method: post, path: cl, who: owner, body: strings.Replace(newSharded(""), `}]`, `},{"name":"s0","replicaSetName":"rs1"}]`, 1), status: 400, code: "INVALID_ATTRIBUTE"},
		{name: "create: both config kinds", method: post, path: cl, who: owner, body: strings.Replace(newSharded(""), `{"replicaSetName":"cfg"}`, `{"replicaSetName":"cfg","hostIds":["h"]}`, 1), status: 400, code: "INVALID_ATTRIBUTE", mention: "configServer", badRequest: true},
		{name: "create: config servers on a replica set", method: post, path: cl, who: owner, body: newRS(`,"configServer":{"replicaSetName":"cfg"}`), status: 400, code: "INVALID_ATTRIBUTE", mention: "configServer"},
		{name: "create: replica set name on a sharded cluster", method: post, path: cl, who: owner, body: newSharded(`,"replicaSetName":"x"`), status: 400, code: "INVALID_ATTRIBUTE", mention: "replicaSetName"},
		{name: "create: bad pretty", method: post, path: cl + "?pretty=yes", who: owner, body: newSharded(""), status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "create: no credentials", method: post, path: cl, who: nobody, body: newSharded(""), status: 401},
		{name: "create: read only", method: post, path: cl, who: reader, body: newSharded(""), status: 401, code: "USER_UNAUTHORIZED"},
		{name: "create: backup manager", method: post, path: cl, who: backupManager, body: newSharded(""), status: 401, code: "USER_UNAUTHORIZED"},
		{name: "create: outside the access list", method: post, path: cl, who: outsider, body: newSharded(""), status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "create: unknown project", method: post, path: "/api/checkpointd/v1/groups/111111111111111111111111/clusters", who: owner, body: newSharded(""), status: 404, code: "GROUP_NOT_FOUND"},
		{name: "create: taken name", method: post, path: cl, who: owner, body: strings.Replace(newSharded(""), "New-"+kind, "Cluster0", 1), status: 409, code: "DUPLICATE_CLUSTER_NAME"},
		{name: "create: body too large", method: post, path: cl, who: owner, body: newSharded("") + strings.Repeat(" ", 70<<10), status: 413, code: "REQUEST_TOO_LARGE"},
		{name: "create: URI too long", method: post, path: cl + long, who: owner, body: newSharded(""), status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "create: form body", method: post, path: cl, who: owner, headers: form, body: "name=x", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", badRequest: true},
		{name: "create: no Content-Type", method: post, path: cl, who: owner, noContentType: true, body: newSharded(""), status: 415, code: "UNSUPPORTED_MEDIA_TYPE", badRequest: true},
		{name: "create: headers too large", method: post, path: cl, who: owner, headers: big, body: newSharded(""), status: 431, code: "REQUEST_TOO_LARGE"},

		// List.
		{name: "list", path: cl + "?includeCount=true", who: owner, status: 200},
		{name: "list HEAD", method: http.MethodHead, path: cl, who: owner, status: 200},
		{name: "list pretty", path: cl + "?pretty=TRUE", who: owner, status: 200},
		{name: "list page 2 uncounted", path: cl + "?pageNum=2&itemsPerPage=1&includeCount=false", who: owner, status: 200},
		{name: "list past the end", path: cl + "?pageNum=99&itemsPerPage=500", who: owner, status: 200},
		{name: "list: bad pretty", path: cl + "?pretty=maybe", who: owner, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "list: negative page", path: cl + "?pageNum=-1", who: owner, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "list: no credentials", path: cl, who: nobody, status: 401},
		{name: "list: read only", path: cl, who: reader, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "list: member", path: cl, who: member, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "list: outside the access list", path: cl, who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "list: unknown project", path: "/api/checkpointd/v1/groups/111111111111111111111111/clusters", who: owner, status: 404, code: "GROUP_NOT_FOUND"},
		{name: "list: another organization's project", path: "/api/checkpointd/v1/groups/" + e.other.ID.Hex() + "/clusters", who: owner, status: 404, code: "GROUP_NOT_FOUND"},
		{name: "list: malformed project id", path: "/api/checkpointd/v1/groups/zzz/clusters", who: owner, status: 404, code: "INVALID_GROUP_ID", badRequest: true},
		{name: "list: URI too long", path: cl + long, who: owner, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "list: headers too large", path: cl, who: owner, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},

		// Get.
		{name: "get", path: one(sh), who: owner, status: 200},
		{name: "get HEAD", method: http.MethodHead, path: one(sh), who: owner, status: 200},
		{name: "get mirrored, pretty", path: one(mir) + "?pretty=true", who: owner, status: 200},
		{name: "get replica set", path: one(rs), who: owner, status: 200},
		{name: "get a demo cluster", path: one("Cluster0"), who: owner, status: 200},
		{name: "get: bad pretty", path: one(sh) + "?pretty=maybe", who: owner, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "get: no credentials", path: one(sh), who: nobody, status: 401},
		{name: "get: read only", path: one(sh), who: reader, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "get: backup manager (an agent reads its schedule)", path: one(sh), who: backupManager, status: 200},
		{name: "get: member", path: one(sh), who: member, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "get: another organization's project", path: "/api/checkpointd/v1/groups/" + e.other.ID.Hex() + "/clusters/" + sh, who: backupManager, status: 404, code: "GROUP_NOT_FOUND"},
		{name: "get: outside the access list", path: one(sh), who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "get: unknown cluster", path: one("Nope"), who: owner, status: 404, code: "CLUSTER_NOT_FOUND"},
		{name: "get: impossible cluster name", path: one("-x"), who: owner, status: 404, code: "CLUSTER_NOT_FOUND", badRequest: true},
		{name: "get: malformed project id", path: "/api/checkpointd/v1/groups/zzz/clusters/" + sh, who: owner, status: 404, code: "INVALID_GROUP_ID", badRequest: true},
		{name: "get: URI too long", path: one(sh) + long, who: owner, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "get: headers too large", path: one(sh), who: owner, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},

		// Update.
		{name: "update interval", method: patch, path: one(pt), who: owner, body: `{"backup":{"clusterCheckpointIntervalMin":60}}`, status: 200},
		{name: "update window", method: patch, path: one(pt), who: owner, body: `{"backup":{"pointInTimeWindowHours":1}}`, status: 200},
		{name: "update interval off", method: patch, path: one(pt), who: owner, body: `{"backup":{"clusterCheckpointIntervalMin":null}}`, status: 200},
		{name: "update driver", method: patch, path: one(pt), who: owner, body: `{"backup":{"driver":"AGENT"}}`, status: 200},
		{name: "update shards", method: patch, path: one(pt), who: owner, body: `{"shards":[{"name":"s0","replicaSetName":"rs0"},{"name":"s1","replicaSetName":"rs1"}]}`, status: 200},
		{name: "update to mirrored config servers", method: patch, path: one(pt), who: owner, body: `{"mongoDBVersion":"3.2.22","configServer":{"hostIds":["c1","c2","c3"]}}`, status: 200},
		{name: "update version, pretty", method: patch, path: one(pt) + "?pretty=true", who: owner, body: `{"mongoDBVersion":"3.2.23"}`, status: 200},
		{name: "update backup kind", method: patch, path: one(pt), who: owner, body: `{"backup":{"kind":"CLOUD"}}`, status: 200},
		{name: "update with the read-only fields unchanged", method: patch, path: one("Cluster0"), who: owner, body: echo, status: 200},
		{name: "update: rename", method: patch, path: one(pt), who: owner, body: `{"name":"Other"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "name"},
		{name: "update: change of type", method: patch, path: one(pt), who: owner, body: `{"clusterType":"REPLICA_SET"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "clusterType"},
		{name: "update: change of id", method: patch, path: one(pt), who: owner, body: `{"id":"111111111111111111111111"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "id"},
		{name: "update: unknown field", method: patch, path: one(pt), who: owner, body: `{"paused":true}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "paused", badRequest: true},
		{name: "update: window of 0", method: patch, path: one(pt), who: owner, body: `{"backup":{"pointInTimeWindowHours":0}}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "pointInTimeWindowHours", badRequest: true},
		{name: "update: interval on Cloud Backup", method: patch, path: one(pt), who: owner, body: `{"backup":{"clusterCheckpointIntervalMin":15}}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "clusterCheckpointIntervalMin"},
		{name: "update: interval on a replica set", method: patch, path: one(rs), who: owner, body: `{"backup":{"clusterCheckpointIntervalMin":15}}`, status: 400, code: backup.CodeCannotSetIntervalForReplicaSet},
		{name: "update: not JSON", method: patch, path: one(pt), who: owner, body: `[]`, status: 400, code: "INVALID_JSON", badRequest: true},
		{name: "update: bad pretty", method: patch, path: one(pt) + "?pretty=no!", who: owner, body: `{}`, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "update: no credentials", method: patch, path: one(pt), who: nobody, body: `{}`, status: 401},
		{name: "update: read only", method: patch, path: one(pt), who: reader, body: `{}`, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "update: outside the access list", method: patch, path: one(pt), who: outsider, body: `{}`, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "update: unknown cluster", method: patch, path: one("Nope"), who: owner, body: `{}`, status: 404, code: "CLUSTER_NOT_FOUND"},
		{name: "update: body too large", method: patch, path: one(pt), who: owner, body: `{"mongoDBVersion":"` + strings.Repeat("x", 70<<10) + `"}`, status: 413, code: "REQUEST_TOO_LARGE"},
		{name: "update: URI too long", method: patch, path: one(pt) + long, who: owner, body: `{}`, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "update: form body", method: patch, path: one(pt), who: owner, headers: form, body: "a=b", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", badRequest: true},
		{name: "update: headers too large", method: patch, path: one(pt), who: owner, headers: big, body: `{}`, status: 431, code: "REQUEST_TOO_LARGE"},

		// Reports.
		{name: "report", method: post, path: ing(sh), who: backupManager, body: first, status: 201},
		{name: "report retried", method: post, path: ing(sh), who: owner, body: first, status: 200},
		{name: "report: same id, other checkpoint", method: post, path: ing(sh), who: backupManager, body: string(conflicting), status: 409, code: "DUPLICATE_CHECKPOINT"},
		{name: "report of mirrored config servers: one part naming the first host", method: post, path: ing(mir), who: backupManager, status: 201,
			body: agentReport(tb, ids, base.Add(15*time.Minute), mirParts, nil)},
		{name: "report of mirrored config servers: a part per host", method: post, path: ing(mir), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "4 parts for 2",
			body: agentReport(tb, ids, base.Add(15*time.Minute), append(slices.Clone(mirParts), reportPart{"CONFIG_SERVER", "", "", "h2"}, reportPart{"CONFIG_SERVER", "", "", "h3"}), nil)},
		{name: "report of a replica set", method: post, path: ing(rs) + "?pretty=true", who: backupManager, status: 201,
			body: agentReport(tb, ids, base.Add(15*time.Minute), rsParts, nil)},
		{name: "report with skewed token dates and the largest increment", method: post, path: ing(sh), who: backupManager, status: 201,
			body: report(15*time.Minute, func(_ map[string]any, ps []map[string]any) {
				ps[0]["tokenTimestamp"] = map[string]any{"date": base.Add(-time.Hour).Format(time.RFC3339), "increment": int64(1)<<31 - 1}
				ps[2]["tokenTimestamp"] = map[string]any{"date": base.Add(time.Hour).Format(time.RFC3339), "increment": 7}
			})},
		{name: "report with offsets, restorable false", method: post, path: ing(sh), who: backupManager, status: 201,
			body: report(30*time.Minute, func(r map[string]any, ps []map[string]any) {
				zone := time.FixedZone("", 2*3600)
				for _, k := range []string{"timestamp", "started", "completed"} {
					t, _ := time.Parse(time.RFC3339, r[k].(string))
					r[k] = t.In(zone).Format(time.RFC3339)
				}
				ps[1]["tokenDiscovered"] = false
				delete(ps[1], "tokenTimestamp")
				r["restorable"] = false
			})},
		{name: "report: cluster on Cloud Backup", method: post, path: ing(e.cloud.Name), who: backupManager, body: bad, status: 400, code: "CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP"},
		{name: "report: simulated cluster", method: post, path: ing("Cluster0"), who: backupManager, body: bad, status: 400, code: "INVALID_ATTRIBUTE", mention: "backup.driver"},
		{name: "report: id of another time", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "id's time",
			body: report(time.Hour, func(r map[string]any, _ []map[string]any) { r["id"] = "6b8cd61180eef547110159d9" })},
		{name: "report: fractional seconds", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "whole seconds", badRequest: true,
			body: report(time.Hour, func(r map[string]any, _ []map[string]any) {
				r["timestamp"] = base.Add(time.Hour + time.Millisecond).Format(time.RFC3339Nano)
			})},
		{name: "report: timestamp after started", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "after started",
			body: report(time.Hour, func(r map[string]any, _ []map[string]any) {
				r["timestamp"] = base.Add(2 * time.Hour).Format(time.RFC3339)
			})},
		{name: "report: in the future", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "future",
			body: agentReport(tb, ids, time.Now().UTC().Truncate(time.Second).Add(10*time.Minute), shParts, nil)},
		{name: "report: parts out of order", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "part 0",
			body: agentReport(tb, ids, base.Add(time.Hour), []reportPart{shParts[1], shParts[0], shParts[2]}, nil)},
		{name: "report: restorable contradicted", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "restorable",
			body: report(time.Hour, func(r map[string]any, _ []map[string]any) { r["restorable"] = false })},
		{name: "report: undiscovered token with a timestamp", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "tokenTimestamp",
			body: report(time.Hour, func(_ map[string]any, ps []map[string]any) { ps[0]["tokenDiscovered"] = false })},
		{name: "report: increment 0", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "increment", badRequest: true,
			body: report(time.Hour, func(_ map[string]any, ps []map[string]any) {
				ps[0]["tokenTimestamp"].(map[string]any)["increment"] = 0
			})},
		{name: "report: increment past int32", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "increment", badRequest: true,
			body: report(time.Hour, func(_ map[string]any, ps []map[string]any) {
				ps[0]["tokenTimestamp"].(map[string]any)["increment"] = int64(1) << 31
			})},
		{name: "report: completed in the future", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "future",
			body: report(time.Hour, func(r map[string]any, _ []map[string]any) {
				r["completed"] = time.Now().UTC().Truncate(time.Second).Add(24 * time.Hour).Format(time.RFC3339)
			})},
		{name: "report: unknown field", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "balancerStopped", badRequest: true,
			body: report(time.Hour, func(r map[string]any, _ []map[string]any) { r["balancerStopped"] = true })},
		{name: "report: no parts", method: post, path: ing(sh), who: backupManager, status: 400, code: "INVALID_ATTRIBUTE", mention: "parts", badRequest: true,
			body: report(time.Hour, func(r map[string]any, _ []map[string]any) { r["parts"] = []any{} })},
		{name: "report: not JSON", method: post, path: ing(sh), who: backupManager, body: "{", status: 400, code: "INVALID_JSON", badRequest: true},
		{name: "report: bad pretty", method: post, path: ing(sh) + "?pretty=2", who: backupManager, body: bad, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "report: no credentials", method: post, path: ing(sh), who: nobody, body: bad, status: 401},
		{name: "report: read only", method: post, path: ing(sh), who: reader, body: bad, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "report: member", method: post, path: ing(sh), who: member, body: bad, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "report: outside the access list", method: post, path: ing(sh), who: outsider, body: bad, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "report: unknown cluster", method: post, path: ing("Nope"), who: backupManager, body: bad, status: 404, code: "CLUSTER_NOT_FOUND"},
		{name: "report: another organization's project", method: post, path: "/api/checkpointd/v1/groups/" + e.other.ID.Hex() + "/clusters/" + sh + "/checkpoints", who: owner, body: bad, status: 404, code: "GROUP_NOT_FOUND"},
		{name: "report: body too large", method: post, path: ing(sh), who: backupManager, body: bad + strings.Repeat("\n", 70<<10), status: 413, code: "REQUEST_TOO_LARGE"},
		{name: "report: URI too long", method: post, path: ing(sh) + long, who: backupManager, body: bad, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "report: form body", method: post, path: ing(sh), who: backupManager, headers: form, body: "id=x", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", badRequest: true},
		{name: "report: headers too large", method: post, path: ing(sh), who: backupManager, headers: big, body: bad, status: 431, code: "REQUEST_TOO_LARGE"},

		// Slot claims.
		{name: "claim", method: post, path: slots(sh), who: backupManager, body: firstClaim, status: 200},
		{name: "claim retried by its owner", method: post, path: slots(sh), who: backupManager, body: firstClaim, status: 200},
		{name: "claim by another owner", method: post, path: slots(sh), who: owner, body: claim(slot, "agent-b-"+kind), status: 200},
		{name: "claim: slot off the grid", method: post, path: slots(sh), who: backupManager, body: claim(slot.Add(7*time.Minute), "a"), status: 400, code: "INVALID_ATTRIBUTE", mention: "grid"},
		{name: "claim: slot in the future", method: post, path: slots(sh), who: backupManager, body: claim(slot.Add(3*time.Hour), "a"), status: 400, code: "INVALID_ATTRIBUTE", mention: "future"},
		{name: "claim: slot before the window", method: post, path: slots(sh), who: backupManager, body: claim(slot.Add(-72*time.Hour), "a"), status: 400, code: "INVALID_ATTRIBUTE", mention: "window"},
		{name: "claim: fractional slot", method: post, path: slots(sh), who: backupManager, body: `{"slot":"2026-01-02T15:00:00.5Z","owner":"a"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "whole seconds", badRequest: true},
		{name: "claim: not a time", method: post, path: slots(sh), who: backupManager, body: `{"slot":"soon","owner":"a"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "slot", badRequest: true},
		{name: "claim: no owner", method: post, path: slots(sh), who: backupManager, body: `{"slot":"` + slot.Format(time.RFC3339) + `"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "owner", badRequest: true},
		{name: "claim: empty owner", method: post, path: slots(sh), who: backupManager, body: claim(slot, ""), status: 400, code: "INVALID_ATTRIBUTE", mention: "owner", badRequest: true},
		{name: "claim: claimed sent", method: post, path: slots(sh), who: backupManager, body: `{"claimed":true,"slot":"` + slot.Format(time.RFC3339) + `","owner":"a"}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "claimed", badRequest: true},
		{name: "claim: simulated cluster", method: post, path: slots("Cluster0"), who: backupManager, body: claim(slot, "a"), status: 400, code: "INVALID_ATTRIBUTE", mention: "backup.driver"},
		{name: "claim: no schedule", method: post, path: slots(mir), who: backupManager, body: claim(slot, "a"), status: 400, code: "INVALID_ATTRIBUTE", mention: "clusterCheckpointIntervalMin"},
		{name: "claim: cluster on Cloud Backup", method: post, path: slots(e.cloud.Name), who: backupManager, body: claim(slot, "a"), status: 400, code: "CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP"},
		{name: "claim: no credentials", method: post, path: slots(sh), who: nobody, body: firstClaim, status: 401},
		{name: "claim: read only", method: post, path: slots(sh), who: reader, body: firstClaim, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "claim: member", method: post, path: slots(sh), who: member, body: firstClaim, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "claim: outside the access list", method: post, path: slots(sh), who: outsider, body: firstClaim, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "claim: unknown cluster", method: post, path: slots("Nope"), who: backupManager, body: firstClaim, status: 404, code: "CLUSTER_NOT_FOUND"},
		{name: "claim: another organization's project", method: post, path: "/api/checkpointd/v1/groups/" + e.other.ID.Hex() + "/clusters/" + sh + "/slots", who: backupManager, body: firstClaim, status: 404, code: "GROUP_NOT_FOUND"},
		{name: "claim: body too large", method: post, path: slots(sh), who: backupManager, body: firstClaim + strings.Repeat(" ", 70<<10), status: 413, code: "REQUEST_TOO_LARGE"},
		{name: "claim: URI too long", method: post, path: slots(sh) + long, who: backupManager, body: firstClaim, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "claim: form body", method: post, path: slots(sh), who: backupManager, headers: form, body: "slot=x", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", badRequest: true},
		{name: "claim: headers too large", method: post, path: slots(sh), who: backupManager, headers: big, body: firstClaim, status: 431, code: "REQUEST_TOO_LARGE"},

		// Delete.
		{name: "delete: bad pretty", method: del, path: one(sh) + "?pretty=yes", who: owner, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "delete: no credentials", method: del, path: one(sh), who: nobody, status: 401},
		{name: "delete: read only", method: del, path: one(sh), who: reader, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "delete: backup manager", method: del, path: one(sh), who: backupManager, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "delete: outside the access list", method: del, path: one(sh), who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "delete: unknown cluster", method: del, path: one("Nope"), who: owner, status: 404, code: "CLUSTER_NOT_FOUND"},
		{name: "delete: URI too long", method: del, path: one(sh) + long, who: owner, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "delete: headers too large", method: del, path: one(sh), who: owner, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},
		// Nothing refused above was changed: the cluster is still there.
		{name: "get before delete", path: one(sh), who: owner, status: 200},
	}
	for _, name := range []string{sh, mir, rs, pt} {
		cs = append(cs, apiCase{name: "delete " + name, method: del, path: one(name), who: owner, status: 204},
			apiCase{name: "get " + name + " deleted", path: one(name), who: owner, status: 404, code: "CLUSTER_NOT_FOUND"})
	}
	return cs
}

// sendCase sends one case to srv as its who with creds: its body as
// application/json unless the case says otherwise.
func sendCase(t *testing.T, srv *httptest.Server, creds credentials, tc apiCase) []exchange {
	t.Helper()
	method := tc.method
	if method == "" {
		method = http.MethodGet
	}
	hdr := tc.headers
	hasCT := false
	for i := 0; i+1 < len(hdr); i += 2 {
		hasCT = hasCT || http.CanonicalHeaderKey(hdr[i]) == "Content-Type"
	}
	if tc.body != "" && !hasCT && !tc.noContentType {
		hdr = append(slices.Clone(hdr), "Content-Type", "application/json")
	}
	return sendBody(t, srv, creds, tc.who, method, tc.path, tc.body, hdr...)
}
