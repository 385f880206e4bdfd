package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/atlas/mongodbatlas"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// restoreJob is BackupRestoreJob as any generation prints it.
type restoreJob struct {
	BatchID      string `json:"batchId"`
	CheckpointID string `json:"checkpointId"`
	ClusterID    string `json:"clusterId"`
	ClusterName  string `json:"clusterName"`
	Created      string `json:"created"`
	Delivery     struct {
		MethodName      string `json:"methodName"`
		StatusName      string `json:"statusName"`
		TargetClusterID string `json:"targetClusterId"`
		TargetGroupID   string `json:"targetGroupId"`
	} `json:"delivery"`
	GroupID     string `json:"groupId"`
	HostID      string `json:"hostId"`
	ID          string `json:"id"`
	Links       []link `json:"links"`
	PointInTime *bool  `json:"pointInTime"`
	StatusName  string `json:"statusName"`
	Timestamp   struct {
		Date      string `json:"date"`
		Increment int    `json:"increment"`
	} `json:"timestamp"`
}

type restoreJobList struct {
	Links      []link       `json:"links"`
	Results    []restoreJob `json:"results"`
	TotalCount int          `json:"totalCount"`
}

// restoreNow is when the restore tests' servers think it is: an hour after
// the demo history ends, so that its newest checkpoints are in their
// window.
var restoreNow = demoNow.Add(time.Hour)

// mustServeRestores serves the demo data set with the administration API,
// on a virtual clock at restoreNow and with ids that do not vary, so that
// answers can be pinned.
func mustServeRestores(t *testing.T, cfg httpapi.Config) (*fixture, *clock.Virtual) {
	t.Helper()
	clk := clock.NewVirtual(restoreNow)
	cfg.Clock, cfg.IDs = clk, backup.NewIDSourceFrom([5]byte{0x5e, 0x57, 0x02, 0xe0, 0x01}, 1)
	return mustServeAdmin(t, cfg), clk
}

// newestRestorable is the newest restorable checkpoint of a demo cluster.
func newestRestorable(t *testing.T, f *fixture, name string) backup.Checkpoint {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	p, err := f.db.Checkpoints(ctx, backup.ClusterRef{GroupID: f.ds.Project.ID, Name: name}, backup.PageRequest{Num: 1, Size: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(p.Items) - 1; i >= 0; i-- {
		if p.Items[i].Restorable {
			return p.Items[i]
		}
	}
	t.Fatalf("%s has no restorable checkpoint", name)
	return backup.Checkpoint{}
}

func restoreBody(field, cp, targetField, target string) string {
	return `{"` + field + `":"` + cp + `","delivery":{"methodName":"AUTOMATED_RESTORE","targetGroupId":"` + groupHex +
		`","` + targetField + `":"` + target + `"}}`
}

// TestRestoreJobsAcrossSurfaces restores Cluster0 to one checkpoint
// through each generation: each answers a page of four jobs (the config
// server's, then the three shards'), sharing a batchId, each restoring its
// part up to its token; every generation lists and reads the jobs created
// through the others, filters them by batch, and shows the engine carry
// the simulated cluster's jobs to FINISHED, the config server's first.
func TestRestoreJobsAcrossSurfaces(t *testing.T) {
	f, _ := mustServeRestores(t, httpapi.Config{})
	cp := newestRestorable(t, f, "Cluster0")
	c0 := f.ds.Clusters[0]
	type gen struct {
		name, jobs string
		accept     []string
		atlas      bool
		field      string // the checkpoint's field in the request
	}
	gens := []gen{
		{"v2", v2Cluster + "/restoreJobs", []string{"Accept", v2Accept}, true, "checkpointId"},
		{"v1.0", "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster0/restoreJobs", nil, true, "checkPointId"},
		{"cloud manager", cmCluster(f, "Cluster0") + "/restoreJobs", nil, false, "checkpointId"},
	}
	batches := map[string]bool{}
	var created []restoreJob
	for _, g := range gens {
		h := append([]string{"Content-Type", "application/json"}, g.accept...)
		res := f.do(t, "POST", g.jobs, strings.NewReader(restoreBody(g.field, cp.ID.Hex(), "targetClusterId", c0.ID.Hex())), h...)
		wantStatus(t, res, 200)
		page := decode[restoreJobList](t, res.body)
		if len(page.Results) != 4 || page.TotalCount != 4 {
			t.Fatalf("%s: %d jobs, totalCount %d, want 4: %s", g.name, len(page.Results), page.TotalCount, res.body)
		}
		batch := page.Results[0].BatchID
		if batches[batch] {
			t.Fatalf("%s: batch %s again", g.name, batch)
		}
		batches[batch] = true
		// The config server's part first, then the shards in the
		// cluster's order.
		var parts []backup.Part
		for _, p := range cp.Parts {
			if p.Type != backup.PartReplicaSet {
				parts = append(parts, p)
			}
		}
		for _, sh := range c0.Shards {
			for _, p := range cp.Parts {
				if p.ShardName == sh.Name {
					parts = append(parts, p)
				}
			}
		}
		for i, j := range page.Results {
			p := parts[i]
			if j.BatchID != batch || j.StatusName != "IN_PROGRESS" || j.Delivery.MethodName != "HTTP" || j.Delivery.StatusName != "IN_PROGRESS" ||
				j.GroupID != groupHex || j.ClusterID != c0.ID.Hex() || j.Delivery.TargetClusterID != c0.ID.Hex() || j.Delivery.TargetGroupID != groupHex ||
				j.Timestamp.Date != p.TokenTimestamp.Date.Format(time.RFC3339) || j.Timestamp.Increment != int(p.TokenTimestamp.Increment) ||
				j.Created != restoreNow.Format(time.RFC3339) || len(j.Links) != 1 || j.Links[0].Rel != "self" ||
				j.Links[0].Href != f.srv.URL+g.jobs+"/"+j.ID {
				t.Errorf("%s: job %d = %+v, want part %+v", g.name, i, j, p)
			}
			if g.atlas != (j.ClusterName == "Cluster0") || g.atlas != (j.CheckpointID == "") || g.atlas != (j.PointInTime == nil) {
				t.Errorf("%s: job %d has clusterName %q, checkpointId %q, pointInTime %v", g.name, i, j.ClusterName, j.CheckpointID, j.PointInTime)
			}
		}
		created = append(created, page.Results...)
		// The batch alone, in the same order.
		res = f.get(t, g.jobs+"?batchId="+batch, g.accept...)
		wantStatus(t, res, 200)
		if got := decode[restoreJobList](t, res.body); len(got.Results) != 4 || got.Results[0].ID != page.Results[0].ID || got.Results[3].ID != page.Results[3].ID {
			t.Errorf("%s: batch list %s", g.name, res.body)
		}
	}
	// Every generation sees every job, in creation order, and reads each.
	for _, g := range gens {
		res := f.get(t, g.jobs+"?itemsPerPage=100", g.accept...)
		wantStatus(t, res, 200)
		all := decode[restoreJobList](t, res.body)
		if len(all.Results) != len(created) || all.TotalCount != len(created) {
			t.Fatalf("%s: %d jobs listed, want %d", g.name, len(all.Results), len(created))
		}
		for i, j := range all.Results {
			if j.ID != created[i].ID {
				t.Fatalf("%s: job %d is %s, want %s", g.name, i, j.ID, created[i].ID)
			}
			one := f.get(t, g.jobs+"/"+j.ID, g.accept...)
			wantStatus(t, one, 200)
			var listed json.RawMessage
			page := decode[struct {
				Results []json.RawMessage `json:"results"`
			}](t, res.body)
			listed = page.Results[i]
			if string(one.body) != string(listed) {
				t.Fatalf("%s: GET %s = %s, listed %s", g.name, j.ID, one.body, listed)
			}
		}
	}

	// The engine finishes the config server's jobs first, then the
	// shards'.
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	if n, _, err := f.db.FinishDueRestoreJobs(ctx, restoreNow.Add(backup.SimulatedConfigRestore)); err != nil || n != 3 {
		t.Fatalf("finishing the config servers' jobs: %d, %v", n, err)
	}
	v1 := gens[1]
	one := decode[restoreJob](t, f.get(t, v1.jobs+"/"+created[0].ID).body)
	shard := decode[restoreJob](t, f.get(t, v1.jobs+"/"+created[1].ID).body)
	if one.StatusName != "FINISHED" || one.Delivery.StatusName != "READY" || shard.StatusName != "IN_PROGRESS" {
		t.Fatalf("after the config server's restore: %s/%s, shard %s", one.StatusName, one.Delivery.StatusName, shard.StatusName)
	}
	if n, _, err := f.db.FinishDueRestoreJobs(ctx, restoreNow.Add(backup.SimulatedConfigRestore+backup.SimulatedShardRestore)); err != nil || n != 9 {
		t.Fatalf("finishing the shards' jobs: %d, %v", n, err)
	}
	if shard = decode[restoreJob](t, f.get(t, v1.jobs+"/"+created[1].ID).body); shard.StatusName != "FINISHED" {
		t.Fatalf("shard job after its restore: %s", shard.StatusName)
	}
}

// TestRestoreJobsGolden pins the restore job answers of each generation.
func TestRestoreJobsGolden(t *testing.T) {
	f, _ := mustServeRestores(t, httpapi.Config{})
	cp := newestRestorable(t, f, "LegacyCluster") // mirrored config servers: Cloud Manager's hostId
	legacy := cmCluster(f, "LegacyCluster")
	id := legacy[strings.LastIndexByte(legacy, '/')+1:]
	v2 := "/api/atlas/v2/groups/" + groupHex + "/clusters/LegacyCluster/restoreJobs"
	v1 := "/api/atlas/v1.0/groups/" + groupHex + "/clusters/LegacyCluster/restoreJobs"
	cm := legacy + "/restoreJobs"
	body := restoreBody("checkpointId", cp.ID.Hex(), "targetClusterName", "LegacyCluster")
	res := f.do(t, "POST", v2+"?pretty=true", strings.NewReader(body), "Content-Type", "application/json", "Accept", v2Accept)
	wantStatus(t, res, 200)
	golden(t, "v2-restore-create-pretty.json", res.body, f.srv.URL)
	jobs := decode[restoreJobList](t, res.body)
	res = f.do(t, "POST", cm, strings.NewReader(restoreBody("checkpointId", cp.ID.Hex(), "targetClusterId", id)), "Content-Type", "application/json")
	wantStatus(t, res, 200)
	golden(t, "cm-restore-create.json", res.body, f.srv.URL)
	for _, tt := range []struct{ file, path, accept string }{
		{"v1-restore-list.json", v1 + "?batchId=" + jobs.Results[0].BatchID, ""},
		{"v2-restore-get-envelope.json", v2 + "/" + jobs.Results[1].ID + "?envelope=true", v2Accept},
		{"cm-restore-get-pretty.json", cm + "/" + jobs.Results[0].ID + "?pretty=true", ""},
	} {
		res := f.get(t, tt.path, "Accept", tt.accept)
		wantStatus(t, res, 200)
		golden(t, tt.file, res.body, f.srv.URL)
	}
}

// TestAtlasClientRestoreJobs drives the official client's
// ContinuousRestoreJobs, unmodified: Create (which sends checkPointId)
// answers the batch, List finds it, Get reads each job.
func TestAtlasClientRestoreJobs(t *testing.T) {
	f, _ := mustServeRestores(t, httpapi.Config{})
	cp := newestRestorable(t, f, "Cluster0")
	c := atlasClient(t, f)
	ctx := context.Background()
	jobs, _, err := c.ContinuousRestoreJobs.Create(ctx, groupHex, "Cluster0", &mongodbatlas.ContinuousJobRequest{
		CheckPointID: cp.ID.Hex(),
		Delivery:     mongodbatlas.Delivery{MethodName: "AUTOMATED_RESTORE", TargetGroupID: groupHex, TargetClusterName: "Cluster0"},
	})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if len(jobs.Results) != 4 || jobs.TotalCount != 4 {
		t.Fatalf("Create = %d jobs, totalCount %d, want 4", len(jobs.Results), jobs.TotalCount)
	}
	l, _, err := c.ContinuousRestoreJobs.List(ctx, groupHex, "Cluster0", &mongodbatlas.ListOptions{IncludeCount: true})
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if l.TotalCount != 4 || len(l.Results) != 4 {
		t.Fatalf("List = %d jobs, totalCount %d", len(l.Results), l.TotalCount)
	}
	for i, j := range jobs.Results {
		got, _, err := c.ContinuousRestoreJobs.Get(ctx, groupHex, "Cluster0", j.ID)
		if err != nil {
			t.Fatalf("Get %s: %v", j.ID, err)
		}
		if got.ID != j.ID || got.BatchID != jobs.Results[0].BatchID || got.StatusName != "IN_PROGRESS" || got.ClusterName != "Cluster0" ||
			got.Delivery == nil || got.Delivery.MethodName != "HTTP" || got.Timestamp.Date == "" || got.Timestamp.Increment < 1 ||
			l.Results[i].ID != j.ID {
			t.Fatalf("Get %s = %+v", j.ID, got)
		}
	}
	// A refusal decodes as the client's ErrorResponse.
	_, _, err = c.ContinuousRestoreJobs.Create(ctx, groupHex, "Cluster0", &mongodbatlas.ContinuousJobRequest{
		CheckPointID: "5a7cdb3980eef53de5bffdce",
		Delivery:     mongodbatlas.Delivery{MethodName: "AUTOMATED_RESTORE", TargetGroupID: groupHex, TargetClusterName: "Cluster0"},
	})
	var er *mongodbatlas.ErrorResponse
	if !asErrorResponse(err, &er) || er.ErrorCode != backup.CodeCheckpointNotFound {
		t.Fatalf("Create of an unknown checkpoint: %v", err)
	}
}

// TestRestoreJobsAgent: an agent cluster's job waits for its agent, who
// claims it (the same one again until it reports), reports it FINISHED
// and is then given nothing; every generation shows the status. A
// read-only key may read jobs but not create, claim or report them.
func TestRestoreJobsAgent(t *testing.T) {
	f, _ := mustServeRestores(t, httpapi.Config{Auth: roleAuth{}})
	cp := newestRestorable(t, f, "Cluster1") // a replica set whose agent reports checkpoints: one part
	jobs := "/api/atlas/v1.0/groups/" + groupHex + "/clusters/Cluster1/restoreJobs"
	body := restoreBody("checkpointId", cp.ID.Hex(), "targetClusterName", "Cluster1")
	wantStatus(t, f.admin(t, "readonly", "POST", jobs, body), 401)
	res := f.admin(t, "backup", "POST", jobs, body)
	wantStatus(t, res, 200)
	page := decode[restoreJobList](t, res.body)
	if len(page.Results) != 1 {
		t.Fatalf("%d jobs for a replica set, want 1", len(page.Results))
	}
	job := page.Results[0]

	claim := adminClusters + "/Cluster1/restoreJobs/claim"
	wantStatus(t, f.admin(t, "readonly", "POST", claim, `{"owner":"agent-1"}`), 401)
	for range 2 {
		res = f.admin(t, "backup", "POST", claim, `{"owner":"agent-1"}`)
		wantStatus(t, res, 200)
		got := decode[struct {
			ID         string `json:"id"`
			OplogLimit string `json:"oplogLimit"`
			Owner      string `json:"owner"`
			Part       struct {
				TypeName, ReplicaSetName string
			} `json:"part"`
			StatusName string `json:"statusName"`
		}](t, res.body)
		tok := cp.Parts[0].TokenTimestamp
		if got.ID != job.ID || got.Owner != "agent-1" || got.Part.TypeName != "REPLICA_SET" || got.Part.ReplicaSetName != cp.Parts[0].ReplicaSetName ||
			got.OplogLimit != (backup.BSONTimestamp{Date: tok.Date, Increment: tok.Increment + 1}).String() || got.StatusName != "IN_PROGRESS" {
			t.Fatalf("claim = %s", res.body)
		}
	}
	wantStatus(t, f.admin(t, "backup", "POST", claim, `{"owner":"agent-2"}`), 204)
	report := adminClusters + "/Cluster1/restoreJobs/" + job.ID
	wantStatus(t, f.admin(t, "backup", "PATCH", report, `{"owner":"agent-2","statusName":"FINISHED"}`), 409)
	res = f.admin(t, "backup", "PATCH", report, `{"owner":"agent-1","statusName":"FINISHED"}`)
	wantStatus(t, res, 200)
	if !strings.Contains(string(res.body), `"finished":"`+restoreNow.Format(time.RFC3339)+`"`) {
		t.Errorf("report = %s", res.body)
	}
	wantStatus(t, f.admin(t, "backup", "POST", claim, `{"owner":"agent-1"}`), 204)
	res = f.admin(t, "readonly", "GET", cmCluster(f, "Cluster1")+"/restoreJobs/"+job.ID, "")
	wantStatus(t, res, 200)
	if j := decode[restoreJob](t, res.body); j.StatusName != "FINISHED" || j.Delivery.StatusName != "READY" {
		t.Errorf("after the report: %s", res.body)
	}
}

// TestRestorePlan: the plan of a restorable checkpoint lists the config
// server first, each part stopping one past its token, with no warning;
// a checkpoint not restorable and one outside the window say why.
func TestRestorePlan(t *testing.T) {
	f, clk := mustServeRestores(t, httpapi.Config{Auth: roleAuth{}})
	cp := newestRestorable(t, f, "Cluster0")
	type plan struct {
		CheckpointID string `json:"checkpointId"`
		Restorable   bool   `json:"restorable"`
		Steps        []struct {
			Command    string `json:"command"`
			OplogLimit string `json:"oplogLimit"`
			Order      int    `json:"order"`
			Part       struct {
				TypeName  string `json:"typeName"`
				ShardName string `json:"shardName"`
			} `json:"part"`
			TokenTimestamp struct {
				Date      string `json:"date"`
				Increment uint32 `json:"increment"`
			} `json:"tokenTimestamp"`
		} `json:"steps"`
		Warnings []string `json:"warnings"`
	}
	path := adminClusters + "/Cluster0/checkpoints/" + cp.ID.Hex() + "/restorePlan"
	res := f.admin(t, "readonly", "GET", path, "")
	wantStatus(t, res, 200)
	p := decode[plan](t, res.body)
	if !p.Restorable || len(p.Warnings) != 0 || len(p.Steps) != len(cp.Parts) || p.CheckpointID != cp.ID.Hex() {
		t.Fatalf("plan = %s", res.body)
	}
	if p.Steps[0].Part.TypeName != "CONFIG_SERVER_REPLICA_SET" {
		t.Errorf("first step restores %s, want the config server", p.Steps[0].Part.TypeName)
	}
	for i, st := range p.Steps {
		date, _ := time.Parse(time.RFC3339, st.TokenTimestamp.Date)
		limit := backup.BSONTimestamp{Date: date, Increment: st.TokenTimestamp.Increment + 1}.String()
		if st.Order != i+1 || st.OplogLimit != limit || !strings.HasPrefix(st.Command, "mongorestore --oplogReplay --oplogLimit "+limit+" ") {
			t.Errorf("step %d = %+v, want --oplogLimit %s", i, st, limit)
		}
	}
	// Not restorable: a checkpoint whose shard token was not found.
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	bad := cp
	bad.ID = backup.NewIDSourceFrom([5]byte{1}, 1).New(cp.Timestamp.Add(time.Minute))
	bad.Timestamp, bad.Started, bad.Completed = cp.Timestamp.Add(time.Minute), cp.Started.Add(time.Minute), cp.Completed.Add(time.Minute)
	bad.Restorable = false
	bad.Parts = append([]backup.Part(nil), cp.Parts...)
	bad.Parts[0].TokenDiscovered, bad.Parts[0].TokenTimestamp = false, backup.BSONTimestamp{}
	if err := f.db.AddCheckpoint(ctx, bad); err != nil {
		t.Fatal(err)
	}
	res = f.admin(t, "readonly", "GET", adminClusters+"/Cluster0/checkpoints/"+bad.ID.Hex()+"/restorePlan", "")
	wantStatus(t, res, 200)
	if p := decode[plan](t, res.body); p.Restorable || len(p.Warnings) != 2 ||
		!strings.Contains(p.Warnings[1], "was not discovered") {
		t.Errorf("plan of an unrestorable checkpoint = %s", res.body)
	}
	// Outside the window: a week (the demo's window) later.
	clk.Advance(8 * 24 * time.Hour)
	res = f.admin(t, "readonly", "GET", path, "")
	if p := decode[plan](t, res.body); p.Restorable || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "point-in-time window") {
		t.Errorf("plan outside the window = %s", res.body)
	}
	// Creating a restore job to it is refused.
	res = f.admin(t, "owner", "POST", "/api/atlas/v1.0/groups/"+groupHex+"/clusters/Cluster0/restoreJobs",
		restoreBody("checkpointId", cp.ID.Hex(), "targetClusterName", "Cluster0"))
	if e := decode[apiError](t, res.body); res.status != 409 || e.ErrorCode != backup.CodeNoCheckpointForPITRestore {
		t.Errorf("restore outside the window: %d %s", res.status, res.body)
	}
}

// TestSpecRestoreJobs holds the v2 restore job answers to the Atlas
// specification's operations, and checks which operation judged each.
func TestSpecRestoreJobs(t *testing.T) {
	s := requireSpec(t)
	f, _ := mustServeRestores(t, httpapi.Config{})
	cp := newestRestorable(t, f, "Cluster0")
	jobs := v2Cluster + "/restoreJobs"
	body := restoreBody("checkpointId", cp.ID.Hex(), "targetClusterName", "Cluster0")
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
		validatedAs              string
	}{
		{"create", "POST", jobs, body, 200, "createLegacyBackupRestoreJob 200"},
		{"create envelope", "POST", jobs + "?envelope=true", body, 200, "createLegacyBackupRestoreJob 200 (envelope)"},
		{"create unknown checkpoint", "POST", jobs, restoreBody("checkpointId", "5a7cdb3980eef53de5bffdce", "targetClusterName", "Cluster0"), 404, "createLegacyBackupRestoreJob 404"},
		{"create without delivery", "POST", jobs, `{"checkpointId":"` + cp.ID.Hex() + `"}`, 400, "createLegacyBackupRestoreJob 400"},
		{"list", "GET", jobs, "", 200, "listLegacyBackupRestoreJobs 200"},
		{"list pretty", "GET", jobs + "?pretty=true&itemsPerPage=1", "", 200, "listLegacyBackupRestoreJobs 200"},
		{"list batch malformed", "GET", jobs + "?batchId=x", "", 400, "listLegacyBackupRestoreJobs 400"},
		{"get unknown", "GET", jobs + "/5a7cdb3980eef53de5bffdce", "", 404, "getLegacyBackupRestoreJob 404"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := f.do(t, tt.method, tt.path, strings.NewReader(tt.body), "Accept", v2Accept, "Content-Type", "application/json")
			if res.status != tt.status {
				t.Fatalf("status %d, want %d: %s", res.status, tt.status, res.body)
			}
			req, _ := http.NewRequest(tt.method, f.srv.URL+tt.path, nil)
			req.Header.Set("Accept", v2Accept)
			what, err := s.check(req, res.status, res.header, res.body)
			if err != nil {
				t.Fatalf("validator: %v", err)
			}
			if !strings.HasPrefix(what, tt.validatedAs) {
				t.Errorf("validated as %q, want %q", what, tt.validatedAs)
			}
		})
	}
	// And one job, read back.
	list := decode[restoreJobList](t, f.get(t, jobs, "Accept", v2Accept).body)
	req, _ := http.NewRequest("GET", f.srv.URL+jobs+"/"+list.Results[0].ID, nil)
	res := f.get(t, jobs+"/"+list.Results[0].ID, "Accept", v2Accept)
	if what, err := s.check(req, res.status, res.header, res.body); err != nil || what != "getLegacyBackupRestoreJob 200" {
		t.Errorf("get: validated as %q: %v", what, err)
	}
}
