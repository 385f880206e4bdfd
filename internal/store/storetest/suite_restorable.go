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

// testRestorableHistory checks RestorableHistory: the restorable
// timestamps in [from, to] oldest first, whatever the order they were
// stored in, the newest before from and the newest of all; unrestorable
// checkpoints are not restore points; references resolve as for
// Checkpoints. It checks the objective's round trip too.
func testRestorableHistory(t *testing.T, f *fixture) {
	read := func(ref backup.ClusterRef, from, to time.Time) backup.RestorableHistory {
		t.Helper()
		h, err := f.s.RestorableHistory(f.ctx, ref, from, to)
		if err != nil {
			t.Fatalf("RestorableHistory(%s): %v", ref.Label(), err)
		}
		if !h.From.Equal(from) || !h.To.Equal(to) {
			t.Fatalf("range %v–%v, want %v–%v", h.From, h.To, from, to)
		}
		return h
	}
	check := func(step string, h backup.RestorableHistory, before time.Time, in []time.Time, newest time.Time) {
		t.Helper()
		ok := h.Before.Equal(before) && h.Newest.Equal(newest) && len(h.In) == len(in)
		for i := 0; ok && i < len(in); i++ {
			ok = h.In[i].Equal(in[i])
		}
		if !ok {
			t.Fatalf("%s: got before %v in %v newest %v\nwant before %v in %v newest %v", step, h.Before, h.In, h.Newest, before, in, newest)
		}
	}
	byName := backup.ClusterRef{GroupID: f.project.ID, Name: f.sharded.Name}
	byID := backup.ClusterRef{GroupID: f.project.ID, ID: f.sharded.ID}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

	check("empty", read(byName, at(0), at(600)), time.Time{}, nil, time.Time{})

	// Stored out of order, with unrestorable ones between and after.
	for _, m := range []int{120, 0, 45, 15, 60} {
		f.must(f.s.AddCheckpoint(f.ctx, f.checkpoint(f.sharded, at(m))))
	}
	for _, m := range []int{30, 50, 180} {
		cp := f.checkpoint(f.sharded, at(m))
		cp.Restorable = false
		cp.Parts[0].TokenDiscovered = false
		cp.Parts[0].TokenTimestamp = backup.BSONTimestamp{}
		f.must(f.s.AddCheckpoint(f.ctx, cp))
	}
	// Another cluster's restore points are not this one's.
	f.must(f.s.AddCheckpoint(f.ctx, f.checkpoint(f.rs, at(20))))

	for _, ref := range []backup.ClusterRef{byName, byID} {
		check("range "+ref.Label(), read(ref, at(20), at(60)), at(15), []time.Time{at(45), at(60)}, at(120))
	}
	// A restore point at from is in the range, not before it.
	check("from on a point", read(byName, at(15), at(44)), at(0), []time.Time{at(15)}, at(120))
	check("before all", read(byName, at(-60), at(-1)), time.Time{}, nil, at(120))
	check("after all", read(byName, at(121), at(600)), at(120), nil, at(120))
	check("all", read(byName, at(-60), at(600)), time.Time{}, []time.Time{at(0), at(15), at(45), at(60), at(120)}, at(120))

	for _, tt := range []struct {
		ref  backup.ClusterRef
		code string
	}{
		{backup.ClusterRef{GroupID: f.project.ID, Name: "Nope"}, backup.CodeClusterNotFound},
		{backup.ClusterRef{GroupID: f.ids.New(t0), Name: f.sharded.Name}, backup.CodeGroupNotFound},
		{backup.ClusterRef{GroupID: f.project.ID, Name: f.cloud.Name}, backup.CodeCheckpointsOnlyLegacy},
	} {
		if _, err := f.s.RestorableHistory(f.ctx, tt.ref, at(0), at(60)); !backup.IsCode(err, tt.code) {
			t.Errorf("RestorableHistory(%s) = %v, want %s", tt.ref.Label(), err, tt.code)
		}
	}

	// The objective is kept with the cluster, and cleared.
	for _, objective := range []time.Duration{90 * time.Minute, 0} {
		c, err := f.s.UpdateCluster(f.ctx, byName, func(c *backup.Cluster) error {
			c.Schedule.Objective = objective
			return nil
		})
		f.must(err)
		got, err := f.s.Cluster(f.ctx, byName)
		f.must(err)
		if c.Schedule.Objective != objective || got.Schedule.Objective != objective {
			t.Errorf("objective %v: updated %v, read back %v", objective, c.Schedule.Objective, got.Schedule.Objective)
		}
	}
}

// testRestorableSince checks RestorableSince: every legacy cluster, by
// project id then name, whole, with its restorable timestamps from since
// on, the newest before since and the newest of all.
func testRestorableSince(t *testing.T, f *fixture) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	type want struct {
		name           string
		before, newest time.Time
		in             []time.Time
	}
	check := func(step string, since time.Time, wants ...want) {
		t.Helper()
		got, err := f.s.RestorableSince(f.ctx, since)
		if err != nil {
			t.Fatalf("%s: RestorableSince: %v", step, err)
		}
		if len(got) != len(wants) {
			t.Fatalf("%s: %d clusters, want %d: %+v", step, len(got), len(wants), got)
		}
		for i, w := range wants {
			g := got[i]
			h := g.History
			ok := g.Cluster.Name == w.name && h.From.Equal(since) && h.Before.Equal(w.before) && h.Newest.Equal(w.newest) && len(h.In) == len(w.in)
			for j := 0; ok && j < len(w.in); j++ {
				ok = h.In[j].Equal(w.in[j])
			}
			if !ok {
				t.Fatalf("%s: cluster %d is %s before %v in %v newest %v,\nwant %+v", step, i, g.Cluster.Name, h.Before, h.In, h.Newest, w)
			}
		}
	}
	check("empty", at(0), want{name: f.sharded.Name}, want{name: f.rs.Name})

	for _, m := range []int{60, 0, 45, 15} {
		f.must(f.s.AddCheckpoint(f.ctx, f.checkpoint(f.sharded, at(m))))
	}
	cp := f.checkpoint(f.sharded, at(50))
	cp.Restorable = false
	cp.Parts[0].TokenDiscovered = false
	cp.Parts[0].TokenTimestamp = backup.BSONTimestamp{}
	f.must(f.s.AddCheckpoint(f.ctx, cp))
	f.must(f.s.AddCheckpoint(f.ctx, f.checkpoint(f.rs, at(20))))
	sharded, err := f.s.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: f.project.ID, ID: f.sharded.ID}, func(c *backup.Cluster) error {
		c.Schedule.Interval, c.Schedule.Objective = 15*time.Minute, 45*time.Minute
		return nil
	})
	f.must(err)

	check("since 00:30", at(30),
		want{name: f.sharded.Name, before: at(15), in: []time.Time{at(45), at(60)}, newest: at(60)},
		want{name: f.rs.Name, before: at(20), newest: at(20)})
	check("since the first", at(0),
		want{name: f.sharded.Name, in: []time.Time{at(0), at(15), at(45), at(60)}, newest: at(60)},
		want{name: f.rs.Name, in: []time.Time{at(20)}, newest: at(20)})
	got, err := f.s.RestorableSince(f.ctx, at(0))
	f.must(err)
	if c := got[0].Cluster; c.ID != sharded.ID || c.GroupID != sharded.GroupID || c.Schedule != sharded.Schedule || !c.Created.Equal(sharded.Created) {
		t.Errorf("cluster read %+v, want %+v", c, sharded)
	}
	if got[0].Slots != (backup.SlotTally{Recorded: true}) {
		t.Errorf("slots %+v without records", got[0].Slots)
	}

	// Slot records from since on are tallied, TAKEN ones as restorable.
	f.must(f.s.RecordSlot(f.ctx, slotRecord(f.sharded, at(15), backup.SlotTaken, f.checkpointAt(f.sharded, at(15)))))
	f.must(f.s.RecordSlot(f.ctx, slotRecord(f.sharded, at(45), backup.SlotTaken, f.checkpointAt(f.sharded, at(45)))))
	f.must(f.s.RecordSlot(f.ctx, slotRecord(f.sharded, at(50), backup.SlotNotRestorable, cp.ID)))
	f.must(f.s.RecordSlot(f.ctx, slotRecord(f.sharded, at(75), backup.SlotSkipped, backup.ObjectID{})))
	got, err = f.s.RestorableSince(f.ctx, at(30))
	f.must(err)
	if want := (backup.SlotTally{Total: 3, Restorable: 1, Recorded: true}); got[0].Slots != want || got[1].Slots != (backup.SlotTally{Recorded: true}) {
		t.Errorf("slots since 00:30: %+v and %+v, want %+v and none", got[0].Slots, got[1].Slots, want)
	}
}

// checkpointAt is the id of c's checkpoint with Timestamp ts.
func (f *fixture) checkpointAt(c backup.Cluster, ts time.Time) backup.ObjectID {
	f.t.Helper()
	p, err := f.s.Checkpoints(f.ctx, backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}, backup.PageRequest{Num: 1, Size: 500})
	f.must(err)
	for _, cp := range p.Items {
		if cp.Timestamp.Equal(ts) {
			return cp.ID
		}
	}
	f.t.Fatalf("%s has no checkpoint at %v", c.Name, ts)
	return backup.ObjectID{}
}
