package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"go.mongodb.org/atlas/mongodbatlas"

	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// atlasClient is the official go.mongodb.org/atlas client, unmodified,
// pointed at the test server.
func atlasClient(t *testing.T, f *fixture) *mongodbatlas.Client {
	t.Helper()
	c, err := mongodbatlas.New(http.DefaultClient, mongodbatlas.SetBaseURL(f.srv.URL+"/"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestAtlasClientCheckpoints pages through every checkpoint with the
// official client's Checkpoints.List and reads each page's first item back
// with Checkpoints.Get.
func TestAtlasClientCheckpoints(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	c := atlasClient(t, f)
	ctx := context.Background()
	total := f.ds.Checkpoints["Cluster0"]
	seen := map[string]bool{}
	var prev string
	for page := 1; ; page++ {
		l, _, err := c.Checkpoints.List(ctx, groupHex, "Cluster0", &mongodbatlas.ListOptions{PageNum: page, ItemsPerPage: 40, IncludeCount: true})
		if err != nil {
			t.Fatalf("List page %d: %v", page, err)
		}
		if l.TotalCount != total {
			t.Fatalf("page %d: TotalCount %d, want %d", page, l.TotalCount, total)
		}
		if len(l.Results) == 0 {
			break
		}
		for _, cp := range l.Results {
			if seen[cp.ID] {
				t.Fatalf("checkpoint %s listed twice", cp.ID)
			}
			seen[cp.ID] = true
			if cp.Timestamp <= prev {
				t.Fatalf("page %d: %s not after %s", page, cp.Timestamp, prev)
			}
			prev = cp.Timestamp
			if cp.GroupID != groupHex || cp.ClusterID != f.ds.Clusters[0].ID.Hex() || len(cp.Parts) != 4 || cp.Started == "" || cp.Completed == "" {
				t.Fatalf("decoded checkpoint %+v", cp)
			}
		}
		first := l.Results[0]
		got, _, err := c.Checkpoints.Get(ctx, groupHex, "Cluster0", first.ID)
		if err != nil {
			t.Fatalf("Get %s: %v", first.ID, err)
		}
		if got.ID != first.ID || got.Timestamp != first.Timestamp || got.Restorable != first.Restorable || len(got.Parts) != len(first.Parts) {
			t.Fatalf("Get = %+v, listed %+v", got, first)
		}
		for i, p := range got.Parts {
			if *p != *first.Parts[i] {
				t.Fatalf("part %d: got %+v, listed %+v", i, p, first.Parts[i])
			}
		}
	}
	if len(seen) != total {
		t.Errorf("paged through %d checkpoints, want %d", len(seen), total)
	}
}

// TestAtlasClientErrors checks that the client decodes our error bodies
// into its ErrorResponse.
func TestAtlasClientErrors(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	c := atlasClient(t, f)
	ctx := context.Background()
	_, _, err := c.Checkpoints.Get(ctx, groupHex, "Cluster0", "5a7cdb3980eef53de5bffdce")
	var er *mongodbatlas.ErrorResponse
	if !asErrorResponse(err, &er) || er.HTTPCode != 404 || er.ErrorCode != "CHECKPOINT_NOT_FOUND" || er.Reason != "Not Found" ||
		er.Detail != "No checkpoint with ID 5a7cdb3980eef53de5bffdce exists for cluster Cluster0." {
		t.Errorf("Get unknown: %v (%+v)", err, er)
	}
	_, _, err = c.Clusters.Get(ctx, "111111111111111111111111", "Cluster0")
	if !asErrorResponse(err, &er) || er.HTTPCode != 404 || er.ErrorCode != "GROUP_NOT_FOUND" {
		t.Errorf("Clusters.Get unknown group: %v", err)
	}
}

func asErrorResponse(err error, target **mongodbatlas.ErrorResponse) bool {
	e, ok := err.(*mongodbatlas.ErrorResponse)
	if ok {
		*target = e
	}
	return ok
}

// TestAtlasClientDiscovery finds the checkpoints the way a tool does:
// projects, then clusters, then the cluster.
func TestAtlasClientDiscovery(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	c := atlasClient(t, f)
	ctx := context.Background()
	ps, _, err := c.Projects.GetAllProjects(ctx, &mongodbatlas.ListOptions{IncludeCount: true})
	if err != nil {
		t.Fatal(err)
	}
	if ps.TotalCount != 1 || len(ps.Results) != 1 || ps.Results[0].ID != groupHex || ps.Results[0].Name != "demo-project" ||
		ps.Results[0].ClusterCount != 3 || ps.Results[0].OrgID != f.ds.Org.ID.Hex() || ps.Results[0].Created == "" {
		t.Fatalf("GetAllProjects = %+v", ps.Results)
	}
	p, _, err := c.Projects.GetOneProject(ctx, groupHex)
	if err != nil || p.Name != "demo-project" || p.ClusterCount != 3 || len(p.Links) != 1 || p.Links[0].Href != f.srv.URL+"/api/atlas/v1.0/groups/"+groupHex {
		t.Fatalf("GetOneProject = %+v, %v", p, err)
	}
	cs, _, err := c.Clusters.List(ctx, groupHex, &mongodbatlas.ListOptions{ItemsPerPage: 2, PageNum: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].Name != "Cluster0" || cs[1].Name != "Cluster1" {
		t.Fatalf("Clusters.List page 1 = %d clusters", len(cs))
	}
	cs2, _, err := c.Clusters.List(ctx, groupHex, &mongodbatlas.ListOptions{ItemsPerPage: 2, PageNum: 2})
	if err != nil || len(cs2) != 1 || cs2[0].Name != "LegacyCluster" {
		t.Fatalf("Clusters.List page 2 = %v, %v", cs2, err)
	}
	cl, _, err := c.Clusters.Get(ctx, groupHex, "Cluster0")
	if err != nil {
		t.Fatal(err)
	}
	if cl.ID != f.ds.Clusters[0].ID.Hex() || cl.ClusterType != "SHARDED" || cl.MongoDBVersion != "4.0.28" || cl.MongoDBMajorVersion != "4.0" ||
		cl.StateName != "IDLE" || cl.BackupEnabled == nil || !*cl.BackupEnabled || cl.NumShards == nil || *cl.NumShards != 3 || cl.GroupID != groupHex {
		t.Fatalf("Clusters.Get = %+v", cl)
	}
	rs, _, err := c.Clusters.Get(ctx, groupHex, "Cluster1")
	if err != nil || rs.ClusterType != "REPLICASET" || *rs.NumShards != 1 {
		t.Fatalf("Clusters.Get replica set = %+v, %v", rs, err)
	}
}

// TestAtlasClientWorkflow runs the workflow with the official client:
// the project found by name with Projects.GetOneProjectByName, checkpoints
// turned on and read back through the Atlas v1.0 snapshot schedule (the
// client has no service for it: its own NewRequest and Do, as a tool
// built on it would call it), an unknown name decoded as the client's
// ErrorResponse.
func TestAtlasClientWorkflow(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	c := atlasClient(t, f)
	ctx := context.Background()
	p, _, err := c.Projects.GetOneProjectByName(ctx, f.ds.Project.Name)
	if err != nil || p.ID != groupHex || p.Name != f.ds.Project.Name || p.ClusterCount != len(f.ds.Clusters) {
		t.Fatalf("GetOneProjectByName = %+v, %v", p, err)
	}
	_, _, err = c.Projects.GetOneProjectByName(ctx, "nope")
	var er *mongodbatlas.ErrorResponse
	if !asErrorResponse(err, &er) || er.HTTPCode != 404 || er.ErrorCode != "GROUP_NAME_NOT_FOUND" {
		t.Errorf("GetOneProjectByName unknown: %v", err)
	}

	type schedule struct {
		ClusterCheckpointIntervalMin int    `json:"clusterCheckpointIntervalMin,omitempty"`
		ClusterID                    string `json:"clusterId,omitempty"`
		PointInTimeWindowHours       int    `json:"pointInTimeWindowHours,omitempty"`
		SnapshotIntervalHours        int    `json:"snapshotIntervalHours,omitempty"`
	}
	path := "api/atlas/v1.0/groups/" + p.ID + "/clusters/LegacyCluster/snapshotSchedule"
	req, err := c.NewRequest(ctx, http.MethodPatch, path, &schedule{ClusterCheckpointIntervalMin: 60, SnapshotIntervalHours: 12})
	if err != nil {
		t.Fatal(err)
	}
	var got schedule
	if _, err := c.Do(ctx, req, &got); err != nil || got.ClusterCheckpointIntervalMin != 60 || got.SnapshotIntervalHours != 12 {
		t.Fatalf("PATCH the schedule: %+v, %v", got, err)
	}
	req, err = c.NewRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	got = schedule{}
	if _, err := c.Do(ctx, req, &got); err != nil || got.ClusterCheckpointIntervalMin != 60 || got.ClusterID == "" {
		t.Errorf("GET the schedule: %+v, %v", got, err)
	}
	req, err = c.NewRequest(ctx, http.MethodPatch, path, &schedule{ClusterCheckpointIntervalMin: 20})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, req, nil); !asErrorResponse(err, &er) || er.ErrorCode != "INVALID_CLUSTER_CHECKPOINT_INTERVAL" {
		t.Errorf("PATCH 20 minutes: %v", err)
	}
}
