package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// restoreFixture is what the restore job cases need of the OpenAPI test's
// data set, added by addRestoreFixture: checkpoints of Cluster0 within
// its window (the demo's history is dated demoNow, and this server runs on
// the wall clock), a batch of Cluster0's jobs, and an agent cluster with
// open jobs for agents to claim.
type restoreFixture struct {
	fresh, broken backup.ObjectID // restorable, not restorable; both recent
	job0, batch0  backup.ObjectID // one of Cluster0's jobs, and its batch
	agent         backup.Cluster  // an AGENT sharded cluster with open jobs
	agentJobs     []backup.RestoreJob
}

func addRestoreFixture(t *testing.T, e *openapiEnv) {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	ids := backup.NewIDSourceFrom([5]byte{9, 9, 9, 9, 'r'}, 1)
	now := time.Now().UTC().Truncate(time.Minute)
	c0 := e.ds.Clusters[0]
	cp := func(c backup.Cluster, ts time.Time, restorable bool) backup.Checkpoint {
		out := backup.Checkpoint{ID: ids.New(ts), ClusterID: c.ID, GroupID: c.GroupID, Started: ts.Add(-time.Minute),
			Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: restorable}
		tok := backup.BSONTimestamp{Date: ts, Increment: 1}
		for _, s := range c.Shards {
			out.Parts = append(out.Parts, backup.Part{Type: backup.PartReplicaSet, ShardName: s.Name, ReplicaSetName: s.ReplicaSetName,
				TokenDiscovered: true, TokenTimestamp: tok})
		}
		if c.Config.Mirrored() {
			out.Parts = append(out.Parts, backup.Part{Type: backup.PartConfigServer, HostID: c.Config.HostIDs[0], TokenDiscovered: true, TokenTimestamp: tok})
		} else {
			out.Parts = append(out.Parts, backup.Part{Type: backup.PartConfigReplicaSet, ReplicaSetName: c.Config.ReplicaSetName,
				TokenDiscovered: true, TokenTimestamp: tok})
		}
		if err := e.db.AddCheckpoint(ctx, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	f := &e.restores
	fresh := cp(c0, now.Add(-time.Hour), true)
	f.fresh, f.broken = fresh.ID, cp(c0, now.Add(-30*time.Minute), false).ID
	plan := backup.PlanRestore(&c0, &fresh, now)
	jobs := plan.RestoreJobs(ids, now, backup.RestoreTarget{GroupID: c0.GroupID, ClusterID: c0.ID, ClusterName: c0.Name}, backup.DriverSimulated)
	if err := e.db.CreateRestoreJobs(ctx, jobs); err != nil {
		t.Fatal(err)
	}
	f.job0, f.batch0 = jobs[1].ID, jobs[0].BatchID
	f.agent = backup.Cluster{ID: ids.New(now), GroupID: c0.GroupID, Name: "Restore", Type: backup.Sharded, MongoDBVersion: "4.0.28",
		Backup: backup.BackupLegacy, Created: now, Shards: []backup.Shard{{Name: "s0", ReplicaSetName: "rs0"}, {Name: "s1", ReplicaSetName: "rs1"}},
		Config: backup.ConfigServer{ReplicaSetName: "cfg"}, Schedule: backup.CheckpointSchedule{Driver: backup.DriverAgent}}
	if err := e.db.CreateCluster(ctx, f.agent); err != nil {
		t.Fatal(err)
	}
	acp := cp(f.agent, now.Add(-time.Hour), true)
	plan = backup.PlanRestore(&f.agent, &acp, now)
	f.agentJobs = plan.RestoreJobs(ids, now, backup.RestoreTarget{GroupID: c0.GroupID, ClusterID: f.agent.ID}, backup.DriverAgent)
	if err := e.db.CreateRestoreJobs(ctx, f.agentJobs); err != nil {
		t.Fatal(err)
	}
}

// restoreCreateBody is a restore request of checkpoint cp into Cluster0.
func (e *openapiEnv) restoreCreateBody(field string, cp backup.ObjectID) string {
	return `{"` + field + `":"` + cp.Hex() + `","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex +
		`","targetClusterName":"Cluster0"}}`
}

// restoreCases are the restore job creations on every generation and the
// administration API's restore routes (the reads of the generations are
// among apiCases' resources), with credentials of one kind.
func (e *openapiEnv) restoreCases(kind string) []apiCase {
	var cs []apiCase
	f := &e.restores
	long := "?x=" + strings.Repeat("a", 9000)
	big := []string{"X-Big", strings.Repeat("b", 40000)}
	ok := e.restoreCreateBody("checkpointId", f.fresh)
	for _, s := range sampleSurfaces {
		seg := "Cluster0"
		if s.byID {
			seg = e.ds.Clusters[0].ID.Hex()
		}
		g := s.groups + "/" + groupHex
		p := g + "/clusters/" + seg + "/restoreJobs"
		var hdr []string
		if s.accept != "" {
			hdr = []string{"Accept", s.accept}
		}
		add := func(tc apiCase) {
			tc.name = s.name + " create restore job: " + tc.name
			tc.method = http.MethodPost
			if tc.path == "" {
				tc.path = p
			}
			if tc.body == "" && !tc.noContentType {
				tc.body = ok
			}
			tc.headers = append(append([]string{}, hdr...), tc.headers...)
			cs = append(cs, tc)
		}
		add(apiCase{name: "owner", who: owner, status: 200})
		add(apiCase{name: "backup manager, checkPointId", who: backupManager, status: 200, body: e.restoreCreateBody("checkPointId", f.fresh)})
		add(apiCase{name: "pretty envelope", who: owner, path: p + "?pretty=true&envelope=true", status: 200})
		add(apiCase{name: "read only", who: reader, status: 401, code: "USER_UNAUTHORIZED"})
		add(apiCase{name: "no credentials", who: nobody, status: 401})
		add(apiCase{name: "outside the access list", who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"})
		add(apiCase{name: "no checkpoint named", who: owner, status: 400, code: "MISSING_ATTRIBUTE", mention: "checkpointId",
			body: `{"delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex + `","targetClusterName":"Cluster0"}}`})
		add(apiCase{name: "HTTP delivery", who: owner, status: 400, code: "UNSUPPORTED_DELIVERY_METHOD",
			body: `{"checkpointId":"` + f.fresh.Hex() + `","delivery":{"methodName":"HTTP"}}`, badRequest: true})
		add(apiCase{name: "unknown checkpoint", who: owner, status: 404, code: "CHECKPOINT_NOT_FOUND", body: e.restoreCreateBody("checkpointId", backup.MustParseObjectID("5a7cdb3980eef53de5bffdce"))})
		add(apiCase{name: "unknown project", who: owner, path: s.groups + "/111111111111111111111111/clusters/" + seg + "/restoreJobs", status: 404, code: "GROUP_NOT_FOUND"})
		add(apiCase{name: "not restorable", who: owner, status: 409, code: "CANNOT_START_RESTORE_JOB_FOR_INCOMPLETE_CLUSTER_SNAPSHOT", body: e.restoreCreateBody("checkpointId", f.broken)})
		add(apiCase{name: "outside the window", who: owner, status: 409, code: "NO_CHECKPOINT_FOR_PIT_RESTORE", body: e.restoreCreateBody("checkpointId", e.ds.Sample["Cluster0"])})
		add(apiCase{name: "body too large", who: owner, status: 413, code: "REQUEST_TOO_LARGE",
			body: `{"delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex + `","targetClusterName":"` + strings.Repeat("a", 70000) + `"}}`, badRequest: true})
		add(apiCase{name: "URI too long", who: owner, path: p + long, status: 414, code: "REQUEST_TOO_LARGE"})
		add(apiCase{name: "form body", who: owner, status: 415, code: "UNSUPPORTED_MEDIA_TYPE", headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, badRequest: true})
		add(apiCase{name: "headers too large", who: owner, status: 431, code: "REQUEST_TOO_LARGE", headers: big})
		if s.accept != "" {
			cs = append(cs, apiCase{name: s.name + " create restore job: no Accept", method: http.MethodPost, path: p, who: owner, body: ok, status: 406, code: "INVALID_VERSION_DATE"})
			add(apiCase{name: "versioned body", who: owner, status: 200, headers: []string{"Content-Type", "application/vnd.atlas.2023-01-01+json"}})
		}
	}

	cl := "/api/checkpointd/v1/groups/" + groupHex + "/clusters/"
	plan := cl + "Cluster0/checkpoints/" + f.fresh.Hex() + "/restorePlan"
	claim := cl + "Restore/restoreJobs/claim"
	agent := "agent-" + kind
	var mine backup.RestoreJob // the job this kind's agent claims: one per kind, in order
	if kind == "digest" {
		mine = f.agentJobs[0]
	} else {
		mine = f.agentJobs[1]
	}
	report := cl + "Restore/restoreJobs/" + mine.ID.Hex()
	claimBody := `{"owner":"` + agent + `"}`
	reportBody := `{"owner":"` + agent + `","statusName":"FINISHED"}`
	for _, tc := range []apiCase{
		{name: "plan", path: plan, who: reader, status: 200},
		{name: "plan of a checkpoint outside the window", path: cl + "Cluster0/checkpoints/" + e.ds.Sample["Cluster0"].Hex() + "/restorePlan", who: reader, status: 200},
		{name: "plan pretty", path: plan + "?pretty=true", who: reader, status: 200},
		{name: "plan bad pretty", path: plan + "?pretty=maybe", who: reader, status: 400, code: "INVALID_QUERY_PARAMETER", badRequest: true},
		{name: "plan no credentials", path: plan, who: nobody, status: 401},
		{name: "plan member", path: plan, who: member, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "plan outsider", path: plan, who: outsider, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "plan unknown checkpoint", path: cl + "Cluster0/checkpoints/5a7cdb3980eef53de5bffdce/restorePlan", who: reader, status: 404, code: "CHECKPOINT_NOT_FOUND"},
		{name: "plan URI too long", path: plan + long, who: reader, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "plan headers too large", path: plan, who: reader, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},

		{name: "claim", method: http.MethodPost, path: claim, who: backupManager, body: claimBody, status: 200},
		{name: "claim again", method: http.MethodPost, path: claim, who: owner, body: claimBody, status: 200},
		{name: "claim with none open", method: http.MethodPost, path: cl + "Cluster1/restoreJobs/claim", who: owner, body: claimBody, status: 204},
		{name: "claim without owner", method: http.MethodPost, path: claim, who: owner, body: `{}`, status: 400, code: "MISSING_ATTRIBUTE", badRequest: true},
		{name: "claim read only", method: http.MethodPost, path: claim, who: reader, body: claimBody, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "claim no credentials", method: http.MethodPost, path: claim, who: nobody, body: claimBody, status: 401},
		{name: "claim outsider", method: http.MethodPost, path: claim, who: outsider, body: claimBody, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "claim unknown cluster", method: http.MethodPost, path: cl + "Nope/restoreJobs/claim", who: owner, body: claimBody, status: 404, code: "CLUSTER_NOT_FOUND"},
		{name: "claim body too large", method: http.MethodPost, path: claim, who: owner, body: `{"owner":"` + strings.Repeat("a", 70000) + `"}`, status: 413, code: "REQUEST_TOO_LARGE"},
		{name: "claim URI too long", method: http.MethodPost, path: claim + long, who: owner, body: claimBody, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "claim form body", method: http.MethodPost, path: claim, who: owner, body: claimBody, headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE", badRequest: true},
		{name: "claim headers too large", method: http.MethodPost, path: claim, who: owner, body: claimBody, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},

		{name: "report", method: http.MethodPatch, path: report, who: backupManager, body: reportBody, status: 200},
		{name: "report again", method: http.MethodPatch, path: report, who: owner, body: reportBody, status: 200},
		{name: "report another status", method: http.MethodPatch, path: report, who: owner, body: `{"owner":"` + agent + `","statusName":"KILLED"}`, status: 409, code: "INVALID_RESTORE_JOB_STATUS_TRANSITION"},
		{name: "report IN_PROGRESS", method: http.MethodPatch, path: report, who: owner, body: `{"owner":"` + agent + `","statusName":"IN_PROGRESS"}`, status: 400, code: "INVALID_ATTRIBUTE", badRequest: true},
		{name: "report read only", method: http.MethodPatch, path: report, who: reader, body: reportBody, status: 401, code: "USER_UNAUTHORIZED"},
		{name: "report no credentials", method: http.MethodPatch, path: report, who: nobody, body: reportBody, status: 401},
		{name: "report outsider", method: http.MethodPatch, path: report, who: outsider, body: reportBody, status: 403, code: "IP_ADDRESS_NOT_ON_ACCESS_LIST"},
		{name: "report unknown job", method: http.MethodPatch, path: cl + "Restore/restoreJobs/5a7cdb3980eef53de5bffdce", who: owner, body: reportBody, status: 404, code: "RESTORE_JOB_NOT_FOUND"},
		{name: "report body too large", method: http.MethodPatch, path: report, who: owner, body: `{"statusName":"FINISHED","owner":"` + strings.Repeat("a", 70000) + `"}`, status: 413, code: "REQUEST_TOO_LARGE"},
		{name: "report URI too long", method: http.MethodPatch, path: report + long, who: owner, body: reportBody, status: 414, code: "REQUEST_TOO_LARGE"},
		{name: "report form body", method: http.MethodPatch, path: report, who: owner, body: reportBody, headers: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 415, code: "UNSUPPORTED_MEDIA_TYPE", badRequest: true},
		{name: "report headers too large", method: http.MethodPatch, path: report, who: owner, body: reportBody, headers: big, status: 431, code: "REQUEST_TOO_LARGE"},
	} {
		tc.name = "admin restores: " + tc.name
		cs = append(cs, tc)
	}
	return cs
}

// restoreRateLimitedCases are one request of each restore operation that
// writes, for the limited server's owner: every one is 429 once the
// allowance is spent.
func (e *openapiEnv) restoreRateLimitedCases() []apiCase {
	var cs []apiCase
	for _, s := range sampleSurfaces {
		seg := "Cluster0"
		if s.byID {
			seg = e.ds.Clusters[0].ID.Hex()
		}
		tc := apiCase{name: s.name + " create restore job", method: http.MethodPost, path: s.groups + "/" + groupHex + "/clusters/" + seg + "/restoreJobs",
			body: e.restoreCreateBody("checkpointId", e.restores.fresh)}
		if s.accept != "" {
			tc.headers = []string{"Accept", s.accept}
		}
		cs = append(cs, tc)
	}
	cl := "/api/checkpointd/v1/groups/" + groupHex + "/clusters/"
	return append(cs,
		apiCase{name: "restore plan", path: cl + "Cluster0/checkpoints/" + e.restores.fresh.Hex() + "/restorePlan"},
		apiCase{name: "claim restore job", method: http.MethodPost, path: cl + "Restore/restoreJobs/claim", body: `{"owner":"x"}`},
		apiCase{name: "report restore job", method: http.MethodPatch, path: cl + "Restore/restoreJobs/" + e.restores.agentJobs[2].ID.Hex(), body: `{"owner":"x","statusName":"FINISHED"}`},
	)
}
