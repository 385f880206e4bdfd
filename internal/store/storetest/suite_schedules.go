package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// set returns a change that makes a cluster c.
func set(c backup.Cluster) func(*backup.Cluster) error {
	return func(stored *backup.Cluster) error { *stored = c; return nil }
}

// testUpdateCluster: an update replaces topology, version, backup kind and
// schedule, reads back exactly, keeps the checkpoints, and reports the
// errors of the contract; a refused change stores nothing.
func testUpdateCluster(t *testing.T, f *fixture) {
	cp := f.checkpoint(f.sharded, t0.Add(24*time.Hour))
	f.must(f.s.AddCheckpoint(f.ctx, cp))

	c := f.sharded
	c.MongoDBVersion = "3.2.22"
	c.Shards = append(c.Shards, backup.Shard{Name: "Cluster0-shard-2", ReplicaSetName: "Cluster0-shard-2"})
	c.Config = backup.ConfigServer{HostIDs: []string{"h1", "h2", "h3"}}
	c.Schedule = backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 15 * time.Minute, Window: 48 * time.Hour}
	ref := backup.ClusterRef{GroupID: c.GroupID, Name: c.Name}
	updated, err := f.s.UpdateCluster(f.ctx, ref, set(c))
	f.must(err)
	got, err := f.s.Cluster(f.ctx, ref)
	f.must(err)
	if !reflect.DeepEqual(got, c) || !reflect.DeepEqual(updated, c) {
		t.Errorf("after UpdateCluster, Cluster = %+v, returned %+v\nwant %+v", got, updated, c)
	}
	if _, err := f.s.Checkpoint(f.ctx, ref, cp.ID); err != nil {
		t.Errorf("the checkpoint did not survive the update: %v", err)
	}
	// The change sees what is stored; renaming to a free name works (by
	// id too); to a taken one is a conflict.
	byID := backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}
	_, err = f.s.UpdateCluster(f.ctx, byID, func(stored *backup.Cluster) error {
		if !reflect.DeepEqual(*stored, c) {
			t.Errorf("the change was given %+v, want %+v", *stored, c)
		}
		stored.Name = "Renamed"
		return nil
	})
	f.must(err)
	if _, err := f.s.Cluster(f.ctx, backup.ClusterRef{GroupID: c.GroupID, Name: "Renamed"}); err != nil {
		t.Errorf("renamed cluster not found: %v", err)
	}
	c.Name = f.rs.Name
	_, err = f.s.UpdateCluster(f.ctx, byID, set(c))
	wantCode(t, "taken name", err, backup.CodeDuplicateClusterName)

	_, err = f.s.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: c.GroupID, ID: f.ids.New(t0)}, set(c))
	wantCode(t, "unknown id", err, backup.CodeClusterNotFound)
	_, err = f.s.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: c.GroupID, Name: "Nope"}, set(c))
	wantCode(t, "unknown name", err, backup.CodeClusterNotFound)
	_, err = f.s.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: f.ids.New(t0), Name: "Renamed"}, set(c))
	wantCode(t, "unknown project", err, backup.CodeGroupNotFound)
	// A cluster of another project is not found through this one.
	other := f.newCluster(f.newProject("other").ID, "Elsewhere", backup.Sharded, backup.BackupLegacy)
	_, err = f.s.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: f.project.ID, ID: other.ID}, set(other))
	wantCode(t, "another project's cluster", err, backup.CodeClusterNotFound)

	rsRef := backup.ClusterRef{GroupID: f.rs.GroupID, ID: f.rs.ID}
	_, err = f.s.UpdateCluster(f.ctx, rsRef, func(c *backup.Cluster) error { c.Schedule.Interval = 15 * time.Minute; return nil })
	wantCode(t, "interval on a replica set", err, backup.CodeCannotSetIntervalForReplicaSet)
	refused := backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "refused")
	_, err = f.s.UpdateCluster(f.ctx, rsRef, func(c *backup.Cluster) error { c.MongoDBVersion = "4.4.1"; return refused })
	if !errors.Is(err, refused) {
		t.Errorf("a refusing change: err = %v, want its error", err)
	}
	_, err = f.s.UpdateCluster(f.ctx, rsRef, func(c *backup.Cluster) error { c.ID = f.ids.New(t0); return nil })
	if err == nil {
		t.Error("a change of the cluster's id was stored")
	}
	if got, err := f.s.Cluster(f.ctx, rsRef); err != nil || !reflect.DeepEqual(got, f.rs) {
		t.Errorf("refused changes changed the replica set: %+v, %v", got, err)
	}
}

// testUpdateClusterConcurrent: updates of one cluster running at once,
// each adding a shard to what it reads, lose none of them.
func testUpdateClusterConcurrent(t *testing.T, f *fixture) {
	const n = 8
	ref := backup.ClusterRef{GroupID: f.sharded.GroupID, ID: f.sharded.ID}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.s.UpdateCluster(f.ctx, ref, func(c *backup.Cluster) error {
				name := fmt.Sprintf("added-%d", i)
				c.Shards = append(c.Shards, backup.Shard{Name: name, ReplicaSetName: name})
				return nil
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		f.must(err)
	}
	got, err := f.s.Cluster(f.ctx, ref)
	f.must(err)
	if want := len(f.sharded.Shards) + n; len(got.Shards) != want {
		t.Errorf("after %d concurrent updates adding a shard each, %d shards, want %d: %+v", n, len(got.Shards), want, got.Shards)
	}
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
	_, err = f.s.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: on.GroupID, ID: on.ID}, set(on))
	f.must(err)
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
	_, err = f.s.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: on.GroupID, ID: on.ID}, set(on))
	f.must(err)
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
