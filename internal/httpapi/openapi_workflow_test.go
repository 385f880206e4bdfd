package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// workflowCases are the requests made of the workflow operations (project
// by name, snapshot schedule, backup configuration) with credentials of
// one kind, in order. The state changes are made on a cluster of their
// own, created first and deleted last.
func (e *openapiEnv) workflowCases(tb testing.TB, kind string) []apiCase {
	const patch = http.MethodPatch
	long := "?x=" + strings.Repeat("a", 9000)
	big := []string{"X-Big", strings.Repeat("b", 40000)}
	form := []string{"Content-Type", "application/x-www-form-urlencoded"}
	wf := "Wf-" + kind
	admin := "/api/checkpointd/v1/groups/" + groupHex + "/clusters"
	ids := backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, kind[0]}, 1)
	created := clusterFixture(ids.New(demoNow), e.ds.Project.ID, wf)
	if err := e.db.CreateCluster(backup.WithPrincipal(context.Background(), backup.System), created); err != nil {
		tb.Fatal(err)
	}
	clusterIDs := map[string]string{wf: created.ID.Hex(), e.cloud.Name: e.cloud.ID.Hex(), "Nope": "6a00000000000000000000ff"}
	for _, c := range e.ds.Clusters {
		clusterIDs[c.Name] = c.ID.Hex()
	}
	var cs []apiCase
	for _, s := range sampleSurfaces {
		var hdr []string
		if s.accept != "" {
			hdr = []string{"Accept", s.accept}
		}
		add := func(tc apiCase) {
			tc.name = s.name + " " + tc.name
			tc.headers = append(append([]string(nil), hdr...), tc.headers...)
			cs = append(cs, tc)
		}
		byName := s.groups + "/byName/"
		add(apiCase{name: "by name", path: byName + e.ds.Project.Name, status: 200})
		add(apiCase{name: "by name, pretty envelope", path: byName + e.ds.Project.Name + "?pretty=true&envelope=true", status: 200})
		add(apiCase{name: "by name: unknown", path: byName + "nope", status: 404, code: "GROUP_NAME_NOT_FOUND"})
		add(apiCase{name: "by name: another organization's", path: byName + e.other.Name, status: 404, code: "GROUP_NAME_NOT_FOUND"})
		add(apiCase{name: "by name: member", path: byName + e.ds.Project.Name, who: member, status: 401, code: "USER_UNAUTHORIZED"})
		add(apiCase{name: "by name: too long", path: byName + strings.Repeat("n", 65), status: 400, code: "INVALID_ATTRIBUTE"})
		add(apiCase{name: "by name: no credentials", path: byName + e.ds.Project.Name, who: nobody, status: 401})
		add(apiCase{name: "by name: outside the access list", path: byName + e.ds.Project.Name, who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"})
		add(apiCase{name: "by name: URI too long", path: byName + e.ds.Project.Name + long, status: 414, code: "REQUEST_TOO_LARGE"})
		add(apiCase{name: "by name: headers too large", path: byName + e.ds.Project.Name, headers: big, status: 431, code: "REQUEST_TOO_LARGE"})

		g := s.groups + "/" + groupHex
		seg := func(name string) string {
			if s.byID {
				return clusterIDs[name]
			}
			return name
		}
		parent := "/clusters/"
		if s.byID {
			parent = "/backupConfigs/"
		}
		sched := func(name string) string { return g + parent + seg(name) + "/snapshotSchedule" }
		c0 := e.ds.Clusters[0].Name
		add(apiCase{name: "schedule", path: sched(c0), status: 200})
		add(apiCase{name: "schedule, envelope", path: sched(c0) + "?envelope=true", status: 200})
		add(apiCase{name: "schedule of a replica set", path: sched(e.ds.Clusters[1].Name), status: 200})
		add(apiCase{name: "schedule: bad pretty", path: sched(c0) + "?pretty=maybe", status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true})
		add(apiCase{name: "schedule: no credentials", path: sched(c0), who: nobody, status: 401})
		add(apiCase{name: "schedule: member", path: sched(c0), who: member, status: 401, code: "USER_UNAUTHORIZED"})
		add(apiCase{name: "schedule: outside the access list", path: sched(c0), who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"})
		add(apiCase{name: "schedule: cluster on Cloud Backup", path: sched(e.cloud.Name), status: 404, code: "BACKUP_CONFIG_NOT_FOUND"})
		add(apiCase{name: "schedule: URI too long", path: sched(c0) + long, status: 414, code: "REQUEST_TOO_LARGE"})
		add(apiCase{name: "schedule: headers too large", path: sched(c0), headers: big, status: 431, code: "REQUEST_TOO_LARGE"})

		w := sched(wf)
		add(apiCase{name: "schedule: 30 minutes", method: patch, path: w, who: owner, body: `{"clusterCheckpointIntervalMin":30,"snapshotIntervalHours":8,"weeklySnapshotRetentionWeeks":0}`, status: 200})
		add(apiCase{name: "schedule: off by null", method: patch, path: w + "?pretty=true", who: backupManager, body: `{"clusterCheckpointIntervalMin":null}`, status: 200})
		add(apiCase{name: "schedule: off by 0, envelope", method: patch, path: w + "?envelope=true", who: owner, body: `{"clusterCheckpointIntervalMin":0}`, status: 200})
		add(apiCase{name: "schedule: 20 minutes", method: patch, path: w, who: owner, body: `{"clusterCheckpointIntervalMin":20}`, status: 400, code: "INVALID_CLUSTER_CHECKPOINT_INTERVAL", badRequest: true})
		add(apiCase{name: "schedule: on a replica set", method: patch, path: sched(e.ds.Clusters[1].Name), who: owner, body: `{"clusterCheckpointIntervalMin":15}`, status: 400, code: "CANNOT_SET_CLUSTER_CHECKPOINT_INTERVAL_FOR_REPLICA_SET"})
		add(apiCase{name: "schedule: snapshot interval", method: patch, path: w, who: owner, body: `{"snapshotIntervalHours":7}`, status: 400, code: "INVALID_SNAPSHOT_INTERVAL", badRequest: true})
		add(apiCase{name: "schedule: unknown field", method: patch, path: w, who: owner, body: `{"every":5}`, status: 400, code: "INVALID_ATTRIBUTE", mention: "every", badRequest: true})
		add(apiCase{name: "schedule: changed clusterId", method: patch, path: w, who: owner, body: `{"clusterId":"6a00000000000000000000ff"}`, status: 400, code: "ATTRIBUTE_READ_ONLY"})
		add(apiCase{name: "schedule: not JSON", method: patch, path: w, who: owner, body: `{`, status: 400, code: "INVALID_JSON", badRequest: true})
		add(apiCase{name: "schedule: read only", method: patch, path: w, who: reader, body: `{}`, status: 401, code: "USER_UNAUTHORIZED"})
		add(apiCase{name: "schedule: no credentials", method: patch, path: w, who: nobody, body: `{}`, status: 401})
		add(apiCase{name: "schedule: outside the access list", method: patch, path: w, who: outsider, body: `{}`, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"})
		add(apiCase{name: "schedule: unknown cluster", method: patch, path: g + parent + seg("Nope") + "/snapshotSchedule", who: owner, body: `{}`, status: 404, code: "CLUSTER_NOT_FOUND"})
		add(apiCase{name: "schedule: body too large", method: patch, path: w, who: owner, body: `{}` + strings.Repeat(" ", 70<<10), status: 413, code: "REQUEST_TOO_LARGE"})
		add(apiCase{name: "schedule: URI too long", method: patch, path: w + long, who: owner, body: `{}`, status: 414, code: "REQUEST_TOO_LARGE"})
		add(apiCase{name: "schedule: form body", method: patch, path: w, who: owner, headers: form, body: "x=1", status: 415, code: "UNSUPPORTED_MEDIA_TYPE", badRequest: true})
		add(apiCase{name: "schedule: headers too large", method: patch, path: w, who: owner, headers: big, body: `{}`, status: 431, code: "REQUEST_TOO_LARGE"})
		if s.accept != "" {
			// These replace the Accept header rather than add one.
			plain := []string{"Accept", "application/json"}
			cs = append(cs,
				apiCase{name: s.name + " by name: no version", path: byName + e.ds.Project.Name, headers: plain, status: 406, code: "INVALID_VERSION_DATE"},
				apiCase{name: s.name + " schedule: no version", path: sched(c0), headers: plain, status: 406, code: "INVALID_VERSION_DATE"},
				apiCase{name: s.name + " schedule: no version on PATCH", method: patch, path: w, who: owner, headers: plain, body: `{}`, status: 406, code: "INVALID_VERSION_DATE"})
			add(apiCase{name: "schedule: versioned body", method: patch, path: w, who: owner, headers: []string{"Content-Type", "application/vnd.atlas.2023-01-01+json"}, body: `{"clusterCheckpointIntervalMin":60}`, status: 200})
		}
		if s.byID {
			// The Atlas cases before set the window to 48 hours.
			add(apiCase{name: "schedule: window", method: patch, path: w, who: owner, body: `{"pointInTimeWindowHours":72}`, status: 400, code: "CANNOT_SET_POINT_IN_TIME_WINDOW"})
			add(apiCase{name: "schedule: reference hour", method: patch, path: w, who: owner, body: `{"referenceHourOfDay":3}`, status: 400, code: "CANNOT_SET_REF_TIME_OF_DAY"})
			add(apiCase{name: "schedule: sent back", method: patch, path: w, who: owner, body: `{"pointInTimeWindowHours":48,"referenceHourOfDay":0,"referenceMinuteOfHour":0,"referenceTimeZoneOffset":"+0000","fullIncrementalDayOfWeek":"TUESDAY"}`, status: 200})
		} else {
			add(apiCase{name: "schedule: window", method: patch, path: w, who: owner, body: `{"pointInTimeWindowHours":48}`, status: 200})
		}
	}

	cm := "/api/public/v1.0/groups/" + groupHex + "/backupConfigs"
	wfc := cm + "/" + created.ID.Hex()
	cmCase := func(tc apiCase) { tc.name = "cm " + tc.name; cs = append(cs, tc) }
	for _, tc := range []apiCase{
		{name: "backup configs", path: cm, status: 200},
		{name: "backup configs, page 2", path: cm + "?pageNum=2&itemsPerPage=1&envelope=true", status: 200},
		{name: "backup configs: bad page", path: cm + "?pageNum=-1", status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "backup configs: member", path: cm, who: member, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "backup configs: no credentials", path: cm, who: nobody, status: 401},
		{name: "backup configs: outside the access list", path: cm, who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "backup configs: another organization's project", path: "/api/public/v1.0/groups/" + e.other.ID.Hex() + "/backupConfigs", status: 404, code: "GROUP_NOT_FOUND"},
		{name: "backup configs: URI too long", path: cm + long, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "backup configs: headers too large", path: cm, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},
		{name: "backup config", path: cm + "/" + e.ds.Clusters[0].ID.Hex(), status: 200},
		{name: "backup config of Cloud Backup", path: cm + "/" + e.cloud.ID.Hex() + "?envelope=true", status: 200},
		{name: "backup config: bad pretty", path: cm + "/" + e.ds.Clusters[0].ID.Hex() + "?pretty=no", status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "backup config: member", path: cm + "/" + e.ds.Clusters[0].ID.Hex(), who: member, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "backup config: no credentials", path: cm + "/" + e.ds.Clusters[0].ID.Hex(), who: nobody, status: 401},
		{name: "backup config: outside the access list", path: cm + "/" + e.ds.Clusters[0].ID.Hex(), who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "backup config: malformed id", path: cm + "/Cluster0", status: 404, code: "INVALID_CLUSTER_ID", badRequest: true},
		{name: "backup config: URI too long", path: cm + "/" + e.ds.Clusters[0].ID.Hex() + long, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "backup config: headers too large", path: cm + "/" + e.ds.Clusters[0].ID.Hex(), headers: big, status: 431, code: "REQUEST_TOO_LARGE"},
	} {
		cmCase(tc)
	}
	type step struct {
		name, body string
		who        who
		status     int
		code       string
		bad        bool
		headers    []string
	}
	for _, st := range []step{
		{name: "start a STARTED backup", body: `{"statusName":"STARTED"}`, who: owner, status: 200},
		{name: "terminate a STARTED backup", body: `{"statusName":"TERMINATING"}`, who: owner, status: 409, code: "CANNOT_TERMINATE_BACKUP_INVALID_STATE"},
		{name: "stop", body: `{"statusName":"STOPPED"}`, who: backupManager, status: 200},
		{name: "stop a STOPPED backup again", body: `{"statusName":"STOPPED","groupId":"` + groupHex + `"}`, who: owner, status: 200},
		{name: "start", body: `{"statusName":"STARTED","storageEngineName":"WIRED_TIGER","syncSource":"primary"}`, who: owner, status: 200},
		{name: "stop again", body: `{"statusName":"STOPPED"}`, who: owner, status: 200},
		{name: "claim while STOPPED"},
		{name: "report while STOPPED"},
		{name: "terminate", body: `{"statusName":"TERMINATING"}`, who: owner, status: 200},
		{name: "stop an INACTIVE backup", body: `{"statusName":"STOPPED"}`, who: owner, status: 409, code: "CANNOT_STOP_BACKUP_INVALID_STATE"},
		{name: "set PROVISIONING", body: `{"statusName":"PROVISIONING"}`, who: owner, status: 400, code: "INVALID_ATTRIBUTE"},
		{name: "unknown state", body: `{"statusName":"PAUSED"}`, who: owner, status: 400, code: "INVALID_ATTRIBUTE", bad: true},
		{name: "encryption", body: `{"encryptionEnabled":true}`, who: owner, status: 400, code: "INVALID_ATTRIBUTE", bad: true},
		{name: "restart", body: `{"statusName":"STARTED"}`, who: owner, status: 200},
		{name: "read only", body: `{"statusName":"STOPPED"}`, who: reader, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "no credentials", body: `{}`, who: nobody, status: 401},
		{name: "outside the access list", body: `{}`, who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "body too large", body: `{}` + strings.Repeat(" ", 70<<10), who: owner, status: 413, code: "REQUEST_TOO_LARGE"},
		{name: "form body", body: "x=1", who: owner, status: 415, code: "UNSUPPORTED_MEDIA_TYPE", bad: true, headers: form},
		{name: "headers too large", body: `{}`, who: owner, status: 431, code: "REQUEST_TOO_LARGE", headers: big},
	} {
		switch st.name {
		case "claim while STOPPED":
			slot := time.Now().UTC().Truncate(15 * time.Minute).Add(-time.Hour)
			cs = append(cs, apiCase{name: "admin: " + st.name, method: http.MethodPost, path: admin + "/" + wf + "/slots", who: backupManager,
				body: `{"slot":"` + slot.Format(time.RFC3339) + `","owner":"a"}`, status: 409, code: "BACKUP_NOT_STARTED"})
			continue
		case "report while STOPPED":
			rep := agentReport(tb, ids, time.Now().UTC().Truncate(time.Minute).Add(-time.Hour),
				[]reportPart{{"REPLICA_SET", "s0", "rs0", ""}, {"CONFIG_SERVER_REPLICA_SET", "", "cfg", ""}}, nil)
			cs = append(cs, apiCase{name: "admin: " + st.name, method: http.MethodPost, path: admin + "/" + wf + "/checkpoints", who: backupManager,
				body: rep, status: 409, code: "BACKUP_NOT_STARTED"})
			continue
		}
		cmCase(apiCase{name: "backup config: " + st.name, method: patch, path: wfc, body: st.body, who: st.who, status: st.status, code: st.code, badRequest: st.bad, headers: st.headers})
	}
	cmCase(apiCase{name: "backup config: URI too long", method: patch, path: wfc + long, body: `{}`, who: owner, status: 414, code: "REQUEST_TOO_LARGE"})
	cmCase(apiCase{name: "backup config: unknown cluster", method: patch, path: cm + "/6a00000000000000000000ff", body: `{}`, who: owner, status: 404, code: "CLUSTER_NOT_FOUND"})
	cs = append(cs, apiCase{name: "delete " + wf, method: http.MethodDelete, path: admin + "/" + wf, who: owner, status: 204})
	return cs
}

// clusterFixture is a sharded cluster under legacy backup, its
// checkpoints reported by an agent, without a schedule.
func clusterFixture(id, group backup.ObjectID, name string) backup.Cluster {
	return backup.Cluster{ID: id, GroupID: group, Name: name, Type: backup.Sharded, MongoDBVersion: "4.0.28",
		Backup: backup.BackupLegacy, Shards: []backup.Shard{{Name: "s0", ReplicaSetName: "rs0"}},
		Config: backup.ConfigServer{ReplicaSetName: "cfg"}, Created: demoNow}
}
