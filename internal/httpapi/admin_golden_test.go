package httpapi_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestAdminAnswersGolden pins every byte of the cluster routes' answers
// to accepted bodies and to refused ones, with one fault and with several
// (the field named is the first in the API's order of checks), on the
// collection, a
// sharded cluster, a replica set, an unknown cluster and an unknown
// project, in one sequence whose accepted changes the later answers show.
// Ids, creation times and mirrored host ids, new on every run, are
// replaced by placeholders.
func TestAdminAnswersGolden(t *testing.T) {
	f := mustServeAdmin(t, httpapi.Config{Auth: roleAuth{}})
	one := adminClusters + "/Cluster0"
	rs1 := adminClusters + "/Cluster1"
	sh := func(extra string) string {
		return `{"name":"New0","clusterType":"SHARDED","mongoDBVersion":"4.0.28","shards":[{"name":"s0","replicaSetName":"rs0"}],"configServer":{"replicaSetName":"cfg"}` + extra + `}`
	}
	rs := func(extra string) string {
		return `{"name":"NewRS","clusterType":"REPLICA_SET","mongoDBVersion":"4.0.28","replicaSetName":"rs"` + extra + `}`
	}
	type rq struct{ method, path, body string }
	var reqs []rq
	posts := []string{
		sh(""), rs(""), `{"clusterType":"SHARDED"}`, `{"name":"X"}`, `{"name":"-x","clusterType":"SHARDED"}`,
		strings.Replace(sh(""), "New0", "-x", 1), strings.Replace(sh(""), `"mongoDBVersion":"4.0.28",`, "", 1),
		strings.Replace(sh(""), "SHARDED", "STANDALONE", 1), strings.Replace(sh(""), "SHARDED", "", 1),
		strings.Replace(sh(""), `[{"name":"s0","replicaSetName":"rs0"}]`, "[]", 1),
		strings.Replace(sh(""), `}]`, `},{"name":"s0","replicaSetName":"rs1"}]`, 1),
		strings.Replace(sh(""), `{"replicaSetName":"cfg"}`, `{"hostIds":["h1",""]}`, 1),
		strings.Replace(sh(""), `{"replicaSetName":"cfg"}`, `{"hostIds":["h1","h1"]}`, 1),
		strings.Replace(sh(""), `{"replicaSetName":"cfg"}`, `{"replicaSetName":"cfg","hostIds":["h"]}`, 1),
		strings.Replace(sh(""), `{"replicaSetName":"cfg"}`, `{}`, 1),
		strings.Replace(sh(""), `{"replicaSetName":"cfg"}`, `{"hostIds":["a","b","c"]}`, 1),
		strings.Replace(strings.Replace(sh(""), `{"replicaSetName":"cfg"}`, `{"hostIds":["a","b","c"]}`, 1), "4.0.28", "3.2.1", 1),
		strings.Replace(sh(""), `"configServer":{"replicaSetName":"cfg"}`, `"name":"New0"`, 1),
		rs(`,"shards":[{"name":"s0","replicaSetName":"rs0"}]`), rs(`,"configServer":{"replicaSetName":"cfg"}`),
		rs(`,"shards":[]`), strings.Replace(rs(""), `,"replicaSetName":"rs"`, "", 1),
		sh(`,"replicaSetName":"x"`), sh(`,"replicaSetName":""`),
		sh(`,"backup":{"clusterCheckpointIntervalMin":20}`), sh(`,"backup":{"clusterCheckpointIntervalMin":-15}`),
		sh(`,"backup":{"clusterCheckpointIntervalMin":0}`), sh(`,"backup":{"clusterCheckpointIntervalMin":null}`),
		sh(`,"backup":{"clusterCheckpointIntervalMin":9007199254741007}`),
		rs(`,"backup":{"clusterCheckpointIntervalMin":15}`), sh(`,"backup":{"kind":"CLOUD","clusterCheckpointIntervalMin":15}`),
		sh(`,"backup":{"kind":"NONE","clusterCheckpointIntervalMin":30}`),
		sh(`,"backup":{"pointInTimeWindowHours":0}`), sh(`,"backup":{"pointInTimeWindowHours":721}`),
		sh(`,"backup":{"pointInTimeWindowHours":1.5}`), sh(`,"backup":{"pointInTimeWindowHours":1,"clusterCheckpointIntervalMin":60}`),
		sh(`,"backup":{"driver":""}`), sh(`,"backup":{"driver":"MONGOS"}`), sh(`,"backup":{"driver":"agent"}`), sh(`,"backup":{"kind":"TAPE"}`),
		sh(`,"backup":{"kind":""}`), sh(`,"backup":{"driver":"SIMULATED","clusterCheckpointIntervalMin":15,"pointInTimeWindowHours":48}`),
		strings.Replace(sh(""), "New0", "Cluster0", 1), strings.Replace(sh(""), "4.0.28", "4.0", 1), strings.Replace(sh(""), "4.0.28", " 4.0.28 ", 1),
		strings.Replace(sh(`,"backup":{"clusterCheckpointIntervalMin":20}`), "4.0.28", "4.0", 1),
		strings.Replace(sh(`,"backup":{"clusterCheckpointIntervalMin":-1}`), "4.0.28", "", 1),
		strings.Replace(sh(`,"backup":{"driver":"X"}`), "4.0.28", "4.0", 1),
		strings.Replace(rs(`,"backup":{"clusterCheckpointIntervalMin":15},"shards":[]`), "NewRS", "-y", 1),
		rs(`,"id":"6b8cd61180eef547110159d9"`), rs(`,"links":[],"created":"2026-01-01T00:00:00Z"`), `{"name":"X","clusterType":"SHARDED","groupId":"x"}`,
		`{"name":5}`, `[]`, ` `, `{"name":"x"`, sh(`,"replicationSpecs":[]`),
		strings.Replace(strings.Replace(sh(""), `{"replicaSetName":"cfg"}`, `{"hostIds":["a","b","c"]}`, 1), `}`, `},"backup":{"clusterCheckpointIntervalMin":20}`, 0),
	}
	for _, b := range posts {
		reqs = append(reqs, rq{"POST", adminClusters, b})
	}
	patches := []string{
		`{}`, `{"name":"Cluster0"}`, `{"name":"Cluster9"}`, `{"clusterType":"REPLICA_SET"}`, `{"clusterType":"SHARDED"}`, `{"id":"111111111111111111111111"}`,
		`{"groupId":"111111111111111111111111"}`, `{"created":"2020-01-01T00:00:00Z"}`, `{"links":[]}`,
		`{"mongoDBVersion":" 4.0.28 "}`, `{"mongoDBVersion":""}`, `{"mongoDBVersion":"4.0"}`, `{"mongoDBVersion":"4.0.1"}`,
		`{"configServer":{"hostIds":["h1","h2","h3"]}}`, `{"configServer":{"hostIds":["h1","h2","h3"]},"mongoDBVersion":"3.2.22"}`,
		`{"configServer":{}}`, `{"configServer":{"replicaSetName":"c","hostIds":["h"]}}`,
		`{"backup":{"driver":""}}`, `{"backup":{"driver":"AGENT"}}`, `{"backup":{"clusterCheckpointIntervalMin":60,"pointInTimeWindowHours":1}}`,
		`{"backup":{"clusterCheckpointIntervalMin":9007199254741007}}`, `{"backup":{"clusterCheckpointIntervalMin":20}}`, `{"backup":{"clusterCheckpointIntervalMin":null}}`,
		`{"backup":{"kind":"CLOUD"}}`, `{"backup":{"kind":"CLOUD","clusterCheckpointIntervalMin":15}}`, `{"backup":{"pointInTimeWindowHours":48,"pointInTimeWindowHours":24}}`,
		`{"shards":[]}`, `{"shards":[{"name":"a","replicaSetName":"b"}]}`, `{"shards":[{"name":"a","replicaSetName":""}]}`, `{"replicaSetName":"x"}`,
		`{"name":"Cluster9","backup":{"clusterCheckpointIntervalMin":-1}}`, `{"mongoDBVersion":"4.0","backup":{"clusterCheckpointIntervalMin":20}}`,
		`{"configServer":{"hostIds":["h1","h2","h3"]},"backup":{"clusterCheckpointIntervalMin":20}}`, `{"id":"x","backup":{"driver":""}}`,
		`{"mongoDBVersion":"","backup":{"clusterCheckpointIntervalMin":20}}`, `{"shards":[],"mongoDBVersion":"4.0"}`,
	}
	for _, p := range []string{one, rs1, adminClusters + "/Nope", "/api/checkpointd/v1/groups/111111111111111111111111/clusters/X"} {
		for _, b := range patches {
			reqs = append(reqs, rq{"PATCH", p, b})
		}
	}
	reqs = append(reqs, rq{"PATCH", rs1, `{"replicaSetName":"Other"}`}, rq{"PATCH", rs1, `{"configServer":{"hostIds":["h1"]}}`},
		rq{"PATCH", rs1, `{"backup":{"clusterCheckpointIntervalMin":60}}`}, rq{"PATCH", rs1, `{"shards":[{"name":"a","replicaSetName":"b"}]}`},
		rq{"PATCH", rs1, `{"replicaSetName":""}`}, rq{"GET", adminClusters, ""}, rq{"GET", one, ""}, rq{"DELETE", adminClusters + "/New0", ""},
		rq{"GET", adminClusters, ""})
	idRE := regexp.MustCompile(`[0-9a-f]{24}`)
	var b strings.Builder
	for _, r := range reqs {
		res := f.admin(t, "owner", r.method, r.path, r.body)
		fmt.Fprintf(&b, "%s %s %s\n=> %d %s %s\n", r.method, r.path, r.body, res.status, res.header.Get("Location"), res.body)
	}
	s := idRE.ReplaceAllString(b.String(), "ID")
	s = regexp.MustCompile(`"created":"[^"]*"`).ReplaceAllString(s, `"created":"T"`)
	s = regexp.MustCompile(`"hostIds":\["[0-9a-f]{32}"[^]]*\]`).ReplaceAllString(s, `"hostIds":[H]`)
	golden(t, "admin-answers.txt", []byte(s), f.srv.URL)
}
