package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/client"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// TestServeFinishesRestoreJobs runs serve on a virtual clock, restores a
// simulated cluster to a checkpoint through the API, and moves the clock:
// the config server's job is FINISHED two minutes after it was created,
// the shards' three minutes later, and not before.
func TestServeFinishesRestoreJobs(t *testing.T) {
	db, project := adminProject(t)
	start := time.Date(2026, 11, 23, 12, 0, 7, 0, time.UTC)
	clk := clock.NewVirtual(start)
	mustAdmin(t, db, "clusters", "create", "--project", project, "--name", "Sim", "--shards", "2", "--driver", "simulated")
	var org string
	for _, f := range strings.Fields(mustAdmin(t, db, "orgs", "list")) {
		if _, ok := backup.ParseObjectID(f); ok {
			org = f // the one organization's id
		}
	}
	m := demoKeyLine.FindStringSubmatch(mustAdmin(t, db, "keys", "create", "--org", org, "--role", "ORG_OWNER"))
	if m == nil {
		t.Fatal("no api key printed")
	}

	// A checkpoint of Sim, as the engine would have taken it.
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	sys := backup.WithPrincipal(context.Background(), backup.System)
	c, err := st.Cluster(sys, backup.ClusterRef{GroupID: mustObjectID(t, project), Name: "Sim"})
	if err != nil {
		t.Fatal(err)
	}
	ts := start.Add(-10 * time.Minute).Truncate(time.Second)
	cp := backup.Checkpoint{ID: backup.NewIDSource().New(ts), ClusterID: c.ID, GroupID: c.GroupID, Started: ts, Completed: ts.Add(time.Second),
		Timestamp: ts, Restorable: true}
	for _, p := range append(c.Shards, backup.Shard{ReplicaSetName: c.Config.ReplicaSetName}) {
		part := backup.Part{Type: backup.PartReplicaSet, ShardName: p.Name, ReplicaSetName: p.ReplicaSetName, TokenDiscovered: true,
			TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: 1}}
		if p.Name == "" {
			part.Type = backup.PartConfigReplicaSet
		}
		cp.Parts = append(cp.Parts, part)
	}
	if err := st.AddCheckpoint(sys, cp); err != nil {
		t.Fatal(err)
	}
	st.Close()

	_, base, _ := startServeOn(t, clk, noEnv, "--database", db)
	cl, err := client.New(client.Config{BaseURL: base, API: client.AtlasV1, Credentials: client.Credentials{PublicKey: m[1], PrivateKey: m[2]}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	jobs, err := cl.CreateRestoreJob(ctx, project, "Sim", cp.ID.Hex(), client.RestoreTarget{Project: project, Cluster: "Sim"})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Results) != 3 {
		t.Fatalf("%d jobs, want 3", len(jobs.Results))
	}
	statuses := func() []string {
		l, err := cl.ListRestoreJobs(ctx, project, "Sim", jobs.Results[0].BatchID, client.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, j := range l.Results {
			out = append(out, j.StatusName)
		}
		return out
	}
	// waitFor polls the API until the statuses are want (the loop runs
	// once the clock has moved).
	waitFor := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			got := strings.Join(statuses(), " ")
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("statuses at %v: %s, want %s", clk.Now(), got, want)
			}
		}
	}
	// The loop sleeps on the clock until the next job is due (serve's only
	// sleeper: the cluster takes no checkpoints).
	sleeping := func() {
		t.Helper()
		guard, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := clk.BlockUntil(guard, 1); err != nil {
			t.Fatalf("nothing sleeps on the clock at %v", clk.Now())
		}
	}
	created := jobs.Results[0].Created
	sleeping()
	clk.AdvanceTo(created.Add(backup.SimulatedConfigRestore - time.Second))
	waitFor("IN_PROGRESS IN_PROGRESS IN_PROGRESS")
	clk.AdvanceTo(created.Add(backup.SimulatedConfigRestore))
	waitFor("FINISHED IN_PROGRESS IN_PROGRESS")
	sleeping()
	clk.AdvanceTo(created.Add(backup.SimulatedConfigRestore + backup.SimulatedShardRestore))
	waitFor("FINISHED FINISHED FINISHED")
}
