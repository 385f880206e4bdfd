package client_test

import (
	"context"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/client"
	"github.com/checkpointd/checkpointd/internal/client/clienttest"
)

// TestRestoreJobsOfAnAgent restores the demo's agent cluster (Cluster1, a
// replica set: one job) with CreateRestoreJob, then plays its agent:
// ClaimRestoreJob gets the job with its part and oplog position, the same
// one again, ReportRestoreJob finishes it, and a claim then finds none;
// GetRestoreJob shows it FINISHED.
func TestRestoreJobsOfAnAgent(t *testing.T) {
	s := clienttest.NewServer(t)
	pub, priv := s.NewKey(t, backup.Grant{Role: backup.ProjectBackupManager, ProjectID: s.Dataset.Project.ID})
	c, err := client.New(client.Config{BaseURL: s.URL, API: client.AtlasV1, Credentials: client.Credentials{PublicKey: pub, PrivateKey: priv}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	all, err := c.ListAllCheckpoints(ctx, s.Project(), "Cluster1", 500)
	if err != nil {
		t.Fatal(err)
	}
	var cp client.Checkpoint
	for _, x := range all.Results {
		if x.Restorable {
			cp = x
		}
	}
	jobs, err := c.CreateRestoreJob(ctx, s.Project(), "Cluster1", cp.ID, client.RestoreTarget{Project: s.Project(), Cluster: "Cluster1"})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Results) != 1 || jobs.Results[0].StatusName != "IN_PROGRESS" {
		t.Fatalf("CreateRestoreJob = %+v", jobs.Results)
	}
	want := jobs.Results[0]
	for range 2 {
		j, err := c.ClaimRestoreJob(ctx, s.Project(), "Cluster1", "agent-1")
		if err != nil {
			t.Fatal(err)
		}
		tok := cp.Parts[0].TokenTimestamp
		limit := backup.BSONTimestamp{Date: tok.Date, Increment: tok.Increment + 1}.String()
		if j == nil || j.ID != want.ID || j.Part.ReplicaSetName != cp.Parts[0].ReplicaSetName || j.OplogLimit != limit ||
			!j.Timestamp.Date.Equal(tok.Date) || j.Timestamp.Increment != tok.Increment {
			t.Fatalf("ClaimRestoreJob = %+v, want job %s up to %v (%s)", j, want.ID, tok, limit)
		}
	}
	if err := c.ReportRestoreJob(ctx, s.Project(), "Cluster1", want.ID, "agent-1", "FINISHED"); err != nil {
		t.Fatal(err)
	}
	if j, err := c.ClaimRestoreJob(ctx, s.Project(), "Cluster1", "agent-1"); err != nil || j != nil {
		t.Fatalf("a claim with nothing left = %+v, %v", j, err)
	}
	got, _, err := c.GetRestoreJob(ctx, s.Project(), "Cluster1", want.ID)
	if err != nil || got.StatusName != "FINISHED" {
		t.Fatalf("GetRestoreJob = %+v, %v", got, err)
	}
}
