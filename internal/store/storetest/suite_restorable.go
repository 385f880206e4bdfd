package storetest

import (
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// testNewestRestorable checks NewestRestorable: one row per legacy
// cluster of every project, ordered by project id then cluster name, with
// the Timestamp of its newest restorable checkpoint, zero while it has
// none; unrestorable checkpoints, out-of-order inserts and prunes move it
// only as they should.
func testNewestRestorable(t *testing.T, f *fixture) {
	want := func(step string, points ...backup.RestorePoint) {
		t.Helper()
		got, err := f.s.NewestRestorable(f.ctx)
		if err != nil {
			t.Fatalf("%s: NewestRestorable: %v", step, err)
		}
		if len(got) != len(points) {
			t.Fatalf("%s: %d restore points, want %d:\n got %+v\nwant %+v", step, len(got), len(points), got, points)
		}
		for i := range got {
			g, w := got[i], points[i]
			if g.GroupID != w.GroupID || g.ClusterID != w.ClusterID || g.ClusterName != w.ClusterName || !g.Timestamp.Equal(w.Timestamp) {
				t.Fatalf("%s: restore point %d is %+v, want %+v", step, i, g, w)
			}
		}
	}
	point := func(c backup.Cluster, ts time.Time) backup.RestorePoint {
		return backup.RestorePoint{GroupID: c.GroupID, ClusterID: c.ID, ClusterName: c.Name, Timestamp: ts}
	}
	unrestorable := func(c backup.Cluster, ts time.Time) {
		t.Helper()
		cp := f.checkpoint(c, ts)
		cp.Restorable = false
		cp.Parts[0].TokenDiscovered = false
		cp.Parts[0].TokenTimestamp = backup.BSONTimestamp{}
		f.must(f.s.AddCheckpoint(f.ctx, cp))
	}

	// Legacy clusters without checkpoints: rows with no timestamp. The
	// cluster on Cloud Backup has no checkpoints at all, so no row.
	want("empty", point(f.sharded, time.Time{}), point(f.rs, time.Time{}))

	// Neither a cluster without backup, nor one in another organization's
	// project, is left out or mixed up: the order is by project id.
	f.newCluster(f.project.ID, "NoBackup", backup.ReplicaSet, backup.BackupNone)
	other := f.newProjectOf(f.newOrg("other").ID, "other")
	remote := f.newCluster(other.ID, "Remote", backup.ReplicaSet, backup.BackupLegacy)
	f.must(f.s.AddCheckpoint(f.ctx, f.checkpoint(remote, t0.Add(90*time.Minute))))

	h := f.history(f.sharded, 4) // restorable, t0 … t0+45m
	newest := h[len(h)-1].Timestamp
	unrestorable(f.sharded, newest.Add(15*time.Minute))
	unrestorable(f.sharded, newest.Add(30*time.Minute))
	unrestorable(f.rs, t0)
	want("unrestorable newest", point(f.sharded, newest), point(f.rs, time.Time{}), point(remote, t0.Add(90*time.Minute)))

	// A restorable checkpoint stored late, between older ones, counts by
	// its timestamp, not by when it was stored.
	late := f.checkpoint(f.sharded, newest.Add(20*time.Minute))
	f.must(f.s.AddCheckpoint(f.ctx, late))
	f.must(f.s.AddCheckpoint(f.ctx, f.checkpoint(f.sharded, t0.Add(-time.Hour))))
	want("late", point(f.sharded, late.Timestamp), point(f.rs, time.Time{}), point(remote, t0.Add(90*time.Minute)))

	// Pruning the restorable ones leaves the cluster with none.
	if _, err := f.s.PruneCheckpoints(f.ctx, f.sharded.ID, late.Timestamp.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	want("pruned", point(f.sharded, time.Time{}), point(f.rs, time.Time{}), point(remote, t0.Add(90*time.Minute)))
}
