package storetest

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// testUpdateCluster: an update replaces topology, version, backup kind and
// schedule, reads back exactly, keeps the checkpoints, and reports the
// errors of the contract.
func testUpdateCluster(t *testing.T, f *fixture) {
	cp := f.checkpoint(f.sharded, t0.Add(24*time.Hour))
	f.must(f.s.AddCheckpoint(f.ctx, cp))

	c := f.sharded
	c.MongoDBVersion = "4.0.29"
	c.Shards = append(c.Shards, backup.Shard{Name: "Cluster0-shard-2", ReplicaSetName: "Cluster0-shard-2"})
	c.Config = backup.ConfigServer{HostIDs: []string{"h1", "h2", "h3"}}
	c.Schedule = backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 15 * time.Minute, Window: 48 * time.Hour}
	f.must(f.s.UpdateCluster(f.ctx, c))
	got, err := f.s.Cluster(f.ctx, backup.ClusterRef{GroupID: c.GroupID, Name: c.Name})
	f.must(err)
	if !reflect.DeepEqual(got, c) {
		t.Errorf("after UpdateCluster, Cluster = %+v\nwant %+v", got, c)
	}
	if _, err := f.s.Checkpoint(f.ctx, backup.ClusterRef{GroupID: c.GroupID, Name: c.Name}, cp.ID); err != nil {
		t.Errorf("the checkpoint did not survive the update: %v", err)
	}
	// Renaming to a free name works; to a taken one is a conflict.
	c.Name = "Renamed"
	f.must(f.s.UpdateCluster(f.ctx, c))
	if _, err := f.s.Cluster(f.ctx, backup.ClusterRef{GroupID: c.GroupID, Name: "Renamed"}); err != nil {
		t.Errorf("renamed cluster not found: %v", err)
	}
	c.Name = f.rs.Name
	wantCode(t, "taken name", f.s.UpdateCluster(f.ctx, c), backup.CodeDuplicateClusterName)

	missing := f.sharded
	missing.ID = f.ids.New(t0)
	wantCode(t, "unknown id", f.s.UpdateCluster(f.ctx, missing), backup.CodeClusterNotFound)
	missing.GroupID = f.ids.New(t0)
	wantCode(t, "unknown project", f.s.UpdateCluster(f.ctx, missing), backup.CodeGroupNotFound)
	// A cluster of another project is not found through this one.
	other := f.newCluster(f.newProject("other").ID, "Elsewhere", backup.Sharded, backup.BackupLegacy)
	other.GroupID = f.project.ID
	wantCode(t, "another project's cluster", f.s.UpdateCluster(f.ctx, other), backup.CodeClusterNotFound)

	bad := f.rs
	bad.Schedule.Interval = 15 * time.Minute
	wantCode(t, "interval on a replica set", f.s.UpdateCluster(f.ctx, bad), backup.CodeCannotSetIntervalForReplicaSet)
}

// testSchedules: Schedules lists exactly the legacy, SIMULATED clusters
// with an interval, in every project, ordered by id, and follows updates.
func testSchedules(t *testing.T, f *fixture) {
	got, err := f.s.Schedules(f.ctx)
	f.must(err)
	if len(got) != 0 {
		t.Fatalf("Schedules of a fixture without schedules = %d clusters", len(got))
	}
	sim := backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 30 * time.Minute}
	on := f.sharded
	on.Schedule = sim
	f.must(f.s.UpdateCluster(f.ctx, on))
	elsewhere := clusterValue(f.ids.New(t0), f.newProject("p2").ID, "Far", backup.Sharded, backup.BackupLegacy)
	elsewhere.Schedule = sim
	f.must(f.s.CreateCluster(f.ctx, elsewhere))
	// Not listed: an agent's cluster, a simulated one without interval,
	// and one whose backup is not legacy (its interval cannot be set, so
	// it is switched after).
	agent := clusterValue(f.ids.New(t0), f.project.ID, "Agent", backup.Sharded, backup.BackupLegacy)
	agent.Schedule = backup.CheckpointSchedule{Driver: backup.DriverAgent, Interval: 15 * time.Minute}
	f.must(f.s.CreateCluster(f.ctx, agent))
	off := clusterValue(f.ids.New(t0), f.project.ID, "Off", backup.Sharded, backup.BackupLegacy)
	off.Schedule = backup.CheckpointSchedule{Driver: backup.DriverSimulated}
	f.must(f.s.CreateCluster(f.ctx, off))

	got, err = f.s.Schedules(f.ctx)
	f.must(err)
	want := []backup.Cluster{on, elsewhere}
	if on.ID.Hex() > elsewhere.ID.Hex() {
		want = []backup.Cluster{elsewhere, on}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Schedules = %+v\nwant %+v", got, want)
	}
	on.Schedule.Interval = 0
	f.must(f.s.UpdateCluster(f.ctx, on))
	got, err = f.s.Schedules(f.ctx)
	f.must(err)
	if len(got) != 1 || got[0].ID != elsewhere.ID {
		t.Errorf("after turning one schedule off, Schedules = %+v", got)
	}
}

// testAddClaimed: a claimed checkpoint is stored only while its holder's
// claim holds: not without a claim, not by another owner, not after a
// takeover; once stored the slot is done for everyone.
func testAddClaimed(t *testing.T, f *fixture) {
	slot := f.slotOf(1)
	wantLost := func(what string, err error) {
		t.Helper()
		var be *backup.Error
		if !errors.As(err, &be) || be.Kind != backup.Conflict {
			t.Errorf("%s: err = %v, want a conflict (claim lost)", what, err)
		}
	}
	cp := f.checkpoint(f.sharded, slot)
	wantLost("no claim", f.s.AddClaimedCheckpoint(f.ctx, cp, "a"))
	if !f.claim(f.s, f.sharded, slot, "a", 5*time.Minute) {
		t.Fatal("claim lost")
	}
	wantLost("another owner", f.s.AddClaimedCheckpoint(f.ctx, cp, "b"))
	f.clk.Advance(5 * time.Minute)
	if !f.claim(f.s, f.sharded, slot, "b", time.Minute) {
		t.Fatal("an expired claim was not taken over")
	}
	wantLost("after a takeover", f.s.AddClaimedCheckpoint(f.ctx, cp, "a"))
	if n := len(f.list(backup.ClusterRef{GroupID: f.sharded.GroupID, Name: f.sharded.Name})); n != 0 {
		t.Fatalf("%d checkpoints stored by lost claims", n)
	}
	cpB := f.checkpoint(f.sharded, slot)
	f.must(f.s.AddClaimedCheckpoint(f.ctx, cpB, "b"))
	if got := f.list(backup.ClusterRef{GroupID: f.sharded.GroupID, Name: f.sharded.Name}); len(got) != 1 || got[0].ID != cpB.ID {
		t.Fatalf("after the holder stored, list = %+v", got)
	}
	if f.claim(f.s, f.sharded, slot, "c", time.Minute) || f.claim(f.s, f.sharded, slot, "b", time.Minute) {
		t.Error("a done slot was claimed again")
	}
	// The same checkpoint again is idempotent for its holder.
	f.must(f.s.AddClaimedCheckpoint(f.ctx, cpB, "b"))
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var be *backup.Error
	if !errors.As(err, &be) || be.Code != code {
		t.Errorf("%s: err = %v, want %s", what, err, code)
	}
}
