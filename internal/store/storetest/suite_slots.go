package storetest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// slotRecord is a record of c's slot at ts with outcome, its checkpoint
// cp (zero for none) and, for anything but TAKEN, a reason.
func slotRecord(c backup.Cluster, ts time.Time, outcome backup.SlotOutcome, cp backup.ObjectID) backup.Slot {
	s := backup.Slot{ClusterID: c.ID, GroupID: c.GroupID, Time: ts, Outcome: outcome, CheckpointID: cp,
		Source: backup.SourceEngine, Recorded: ts.Add(3 * time.Minute),
		Steps: []backup.SlotStep{
			{Kind: backup.StepBalancerStopRequested, At: ts.Add(time.Second)},
			{Kind: backup.StepBalancerStopped, At: ts.Add(2 * time.Second)},
			{Kind: backup.StepTokenWritten, At: ts.Add(3 * time.Second), Part: "Cluster0-shard-0"},
		}}
	if outcome != backup.SlotTaken {
		s.Reason, s.Detail, s.Part = backup.ReasonTokenNotDiscovered, "token on Cluster0-shard-0 not discovered within 120 s", "Cluster0-shard-0"
	}
	return s
}

// sameSlot compares a record read back with the one written, but for the
// name the store fills in.
func sameSlot(t *testing.T, what string, got, want backup.Slot, c backup.Cluster) {
	t.Helper()
	want.ClusterName = c.Name
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s = %+v\nwant %+v", what, got, want)
	}
}

// testSlots: records of every outcome read back as written, listed
// newest first, paged and counted, filtered by outcome and by a time
// range (from inclusive, to exclusive); counted by outcome; a checkpoint's
// record found by its id; a retry is a no-op, another record of a slot is
// DUPLICATE_SLOT, a real record replaces a MISSED one and not the other
// way; an invalid record is INVALID_ATTRIBUTE; references resolve as for
// checkpoints.
func testSlots(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 3) // t0, +15m, +30m
	cps[1].Restorable = false
	q := 15 * time.Minute
	recs := []backup.Slot{
		slotRecord(f.sharded, t0, backup.SlotTaken, cps[0].ID),
		slotRecord(f.sharded, t0.Add(q), backup.SlotNotRestorable, cps[1].ID),
		slotRecord(f.sharded, t0.Add(3*q), backup.SlotSkipped, backup.ObjectID{}),
		slotRecord(f.sharded, t0.Add(4*q), backup.SlotFailed, backup.ObjectID{}),
		slotRecord(f.sharded, t0.Add(5*q), backup.SlotMissed, backup.ObjectID{}),
	}
	recs[4].Source, recs[4].Steps = backup.SourceSweep, nil
	for _, r := range recs {
		f.must(f.s.RecordSlot(f.ctx, r))
	}
	for name, ref := range refs(f.sharded) {
		p, err := f.s.Slots(f.ctx, ref, backup.SlotFilter{}, backup.PageRequest{Num: 1, Size: 100, IncludeCount: true})
		f.must(err)
		if len(p.Items) != 5 || p.Total != 5 {
			t.Fatalf("%s: %d records, total %d, want 5", name, len(p.Items), p.Total)
		}
		for i, got := range p.Items {
			sameSlot(t, name+": newest first", got, recs[4-i], f.sharded)
		}
		p, err = f.s.Slots(f.ctx, ref, backup.SlotFilter{}, backup.PageRequest{Num: 2, Size: 2, IncludeCount: true})
		f.must(err)
		if len(p.Items) != 2 || p.Total != 5 || !p.Items[0].Time.Equal(recs[2].Time) {
			t.Fatalf("%s: page 2 of 2 = %+v, total %d", name, p.Items, p.Total)
		}
		p, err = f.s.Slots(f.ctx, ref, backup.SlotFilter{}, backup.PageRequest{Num: 2, Size: 2})
		f.must(err)
		if p.Total != 0 {
			t.Fatalf("%s: total %d without includeCount", name, p.Total)
		}
	}
	filters := []struct {
		name string
		f    backup.SlotFilter
		want []int // indexes of recs, newest first
	}{
		{"one outcome", backup.SlotFilter{Outcomes: []backup.SlotOutcome{backup.SlotSkipped}}, []int{2}},
		{"two outcomes", backup.SlotFilter{Outcomes: []backup.SlotOutcome{backup.SlotMissed, backup.SlotTaken}}, []int{4, 0}},
		{"from inclusive", backup.SlotFilter{From: t0.Add(3 * q)}, []int{4, 3, 2}},
		{"to exclusive", backup.SlotFilter{To: t0.Add(3 * q)}, []int{1, 0}},
		{"range and outcome", backup.SlotFilter{From: t0.Add(q), To: t0.Add(5 * q), Outcomes: []backup.SlotOutcome{backup.SlotFailed, backup.SlotNotRestorable}}, []int{3, 1}},
		{"fraction rounds up", backup.SlotFilter{From: t0.Add(q - time.Millisecond), To: t0.Add(q + time.Millisecond)}, []int{1}},
		{"empty", backup.SlotFilter{From: t0.Add(time.Hour * 100)}, []int{}},
	}
	for _, tc := range filters {
		p, err := f.s.Slots(f.ctx, byName(f.sharded), tc.f, backup.PageRequest{Num: 1, Size: 100, IncludeCount: true})
		f.must(err)
		if len(p.Items) != len(tc.want) || p.Total != len(tc.want) {
			t.Fatalf("%s: %d records (total %d), want %d", tc.name, len(p.Items), p.Total, len(tc.want))
		}
		for i, w := range tc.want {
			sameSlot(t, tc.name, p.Items[i], recs[w], f.sharded)
		}
	}
	counts, err := f.s.SlotCounts(f.ctx, byID(f.sharded), time.Time{}, time.Time{})
	f.must(err)
	want := backup.SlotCounts{backup.SlotTaken: 1, backup.SlotNotRestorable: 1, backup.SlotSkipped: 1, backup.SlotFailed: 1, backup.SlotMissed: 1}
	if !reflect.DeepEqual(counts, want) || counts.Total() != 5 {
		t.Fatalf("SlotCounts = %v, want %v", counts, want)
	}
	counts, err = f.s.SlotCounts(f.ctx, byName(f.sharded), t0.Add(q), t0.Add(4*q))
	f.must(err)
	if want := (backup.SlotCounts{backup.SlotNotRestorable: 1, backup.SlotSkipped: 1}); !reflect.DeepEqual(counts, want) {
		t.Fatalf("SlotCounts in a range = %v, want %v", counts, want)
	}

	// A checkpoint's slot.
	got, err := f.s.CheckpointSlot(f.ctx, byName(f.sharded), cps[1].ID)
	f.must(err)
	sameSlot(t, "CheckpointSlot", got, recs[1], f.sharded)
	if _, err := f.s.CheckpointSlot(f.ctx, byName(f.sharded), cps[2].ID); !backup.IsCode(err, backup.CodeSlotNotFound) {
		t.Fatalf("CheckpointSlot of a checkpoint without a record: %v, want SLOT_NOT_FOUND", err)
	}
	if _, err := f.s.CheckpointSlot(f.ctx, byName(f.sharded), f.ids.New(t0)); !backup.IsCode(err, backup.CodeCheckpointNotFound) {
		t.Fatalf("CheckpointSlot of an unknown checkpoint: %v, want CHECKPOINT_NOT_FOUND", err)
	}
	rsCP := f.checkpoint(f.rs, t0)
	f.must(f.s.AddCheckpoint(f.ctx, rsCP))
	if _, err := f.s.CheckpointSlot(f.ctx, byName(f.sharded), rsCP.ID); !backup.IsCode(err, backup.CodeCheckpointNotFound) {
		t.Fatalf("CheckpointSlot of another cluster's checkpoint: %v, want CHECKPOINT_NOT_FOUND", err)
	}

	// One record per slot.
	f.must(f.s.RecordSlot(f.ctx, recs[2])) // a retry
	other := recs[2]
	other.Detail = "something else"
	if err := f.s.RecordSlot(f.ctx, other); !backup.IsCode(err, backup.CodeDuplicateSlot) || backup.KindOf(err) != backup.Conflict {
		t.Fatalf("another record of a slot: %v, want DUPLICATE_SLOT", err)
	}
	late := slotRecord(f.sharded, recs[4].Time, backup.SlotFailed, backup.ObjectID{})
	f.must(f.s.RecordSlot(f.ctx, late)) // replaces the MISSED one
	missed := recs[4]
	missed.Time = recs[3].Time
	if err := f.s.RecordSlot(f.ctx, missed); !backup.IsCode(err, backup.CodeDuplicateSlot) {
		t.Fatalf("MISSED over a FAILED record: %v, want DUPLICATE_SLOT", err)
	}
	p, err := f.s.Slots(f.ctx, byName(f.sharded), backup.SlotFilter{From: recs[3].Time}, backup.PageRequest{Num: 1, Size: 10})
	f.must(err)
	if len(p.Items) != 2 {
		t.Fatalf("%d records after replacing, want 2", len(p.Items))
	}
	sameSlot(t, "the late record", p.Items[0], late, f.sharded)
	sameSlot(t, "the FAILED record", p.Items[1], recs[3], f.sharded)

	// Invalid records and references.
	bad := slotRecord(f.sharded, t0.Add(10*q), backup.SlotSkipped, backup.ObjectID{})
	bad.Reason = ""
	if err := f.s.RecordSlot(f.ctx, bad); !backup.IsCode(err, backup.CodeInvalidAttribute) {
		t.Fatalf("a SKIPPED record without a reason: %v, want INVALID_ATTRIBUTE", err)
	}
	bad = slotRecord(f.sharded, t0.Add(10*q), backup.SlotOutcome("MAYBE"), backup.ObjectID{})
	if err := f.s.RecordSlot(f.ctx, bad); !backup.IsCode(err, backup.CodeInvalidAttribute) {
		t.Fatalf("an unknown outcome: %v, want INVALID_ATTRIBUTE", err)
	}
	bad = slotRecord(f.sharded, t0.Add(10*q), backup.SlotTaken, backup.ObjectID{})
	if err := f.s.RecordSlot(f.ctx, bad); !backup.IsCode(err, backup.CodeInvalidAttribute) {
		t.Fatalf("a TAKEN record without a checkpoint: %v, want INVALID_ATTRIBUTE", err)
	}
	unknown := clusterValue(f.ids.New(t0), f.project.ID, "Nope", backup.Sharded, backup.BackupLegacy)
	if err := f.s.RecordSlot(f.ctx, slotRecord(unknown, t0, backup.SlotSkipped, backup.ObjectID{})); !backup.IsCode(err, backup.CodeClusterNotFound) {
		t.Fatalf("a record of an unknown cluster: %v, want CLUSTER_NOT_FOUND", err)
	}
	if err := f.s.RecordSlot(f.ctx, slotRecord(f.cloud, t0, backup.SlotSkipped, backup.ObjectID{})); !backup.IsCode(err, backup.CodeCheckpointsOnlyLegacy) {
		t.Fatalf("a record of a Cloud Backup cluster: %v", err)
	}
	lost := backup.ClusterRef{GroupID: f.ids.New(t0), Name: f.sharded.Name}
	if _, err := f.s.Slots(f.ctx, lost, backup.SlotFilter{}, backup.PageRequest{Num: 1, Size: 10}); !backup.IsCode(err, backup.CodeGroupNotFound) {
		t.Fatalf("Slots of an unknown project: %v, want GROUP_NOT_FOUND", err)
	}
	if _, err := f.s.SlotCounts(f.ctx, byName(unknown), time.Time{}, time.Time{}); !backup.IsCode(err, backup.CodeClusterNotFound) {
		t.Fatalf("SlotCounts of an unknown cluster: %v, want CLUSTER_NOT_FOUND", err)
	}
	if _, err := f.s.Slots(f.ctx, byName(f.cloud), backup.SlotFilter{}, backup.PageRequest{Num: 1, Size: 10}); !backup.IsCode(err, backup.CodeCheckpointsOnlyLegacy) {
		t.Fatalf("Slots of a Cloud Backup cluster: %v", err)
	}
	p, err = f.s.Slots(f.ctx, byName(f.rs), backup.SlotFilter{}, backup.PageRequest{Num: 1, Size: 10, IncludeCount: true})
	f.must(err)
	if len(p.Items) != 0 || p.Total != 0 {
		t.Fatalf("another cluster's records: %+v", p)
	}
}

// testSlotsAccess: a project's reader lists and counts records but may
// not record one; a reporter (Project Backup Manager) may; another
// organization's owner gets GROUP_NOT_FOUND.
func testSlotsAccess(t *testing.T, f *fixture) {
	reader := f.as(caller(f.org.ID, orgGrant(backup.OrgReadOnly)))
	reporter := f.as(caller(f.org.ID, projectGrant(backup.ProjectBackupManager, f.project.ID)))
	stranger := f.as(caller(f.newOrg("other").ID, orgGrant(backup.OrgOwner)))
	rec := slotRecord(f.sharded, t0, backup.SlotSkipped, backup.ObjectID{})
	if err := f.s.RecordSlot(reader, rec); !backup.IsCode(err, backup.CodeUserUnauthorized) {
		t.Fatalf("a reader's record: %v, want USER_UNAUTHORIZED", err)
	}
	if err := f.s.RecordSlot(stranger, rec); !backup.IsCode(err, backup.CodeGroupNotFound) {
		t.Fatalf("a stranger's record: %v, want GROUP_NOT_FOUND", err)
	}
	f.must(f.s.RecordSlot(reporter, rec))
	p, err := f.s.Slots(reader, byName(f.sharded), backup.SlotFilter{}, backup.PageRequest{Num: 1, Size: 10})
	f.must(err)
	if len(p.Items) != 1 {
		t.Fatalf("the reader read %d records, want 1", len(p.Items))
	}
	if _, err := f.s.SlotCounts(stranger, byName(f.sharded), time.Time{}, time.Time{}); !backup.IsCode(err, backup.CodeGroupNotFound) {
		t.Fatalf("a stranger's counts: %v, want GROUP_NOT_FOUND", err)
	}
}

// testSlotsPrune: PruneCheckpoints takes the records before its cutoff
// with the checkpoints, also of a cluster that has no checkpoint;
// PruneSlots takes records alone; DeleteCluster takes all of them.
func testSlotsPrune(t *testing.T, f *fixture) {
	q := 15 * time.Minute
	cps := f.history(f.sharded, 4)
	for i, cp := range cps {
		f.must(f.s.RecordSlot(f.ctx, slotRecord(f.sharded, t0.Add(time.Duration(i)*q), backup.SlotTaken, cp.ID)))
	}
	f.must(f.s.RecordSlot(f.ctx, slotRecord(f.sharded, t0.Add(4*q), backup.SlotSkipped, backup.ObjectID{})))
	n, err := f.s.PruneCheckpoints(f.ctx, f.sharded.ID, t0.Add(2*q))
	f.must(err)
	if n != 2 {
		t.Fatalf("pruned %d checkpoints, want 2", n)
	}
	counts, err := f.s.SlotCounts(f.ctx, byName(f.sharded), time.Time{}, time.Time{})
	f.must(err)
	if want := (backup.SlotCounts{backup.SlotTaken: 2, backup.SlotSkipped: 1}); !reflect.DeepEqual(counts, want) {
		t.Fatalf("after pruning, counts = %v, want %v", counts, want)
	}
	// A cluster with records and no checkpoints.
	other := clusterValue(f.ids.New(t0), f.project.ID, "NoCheckpoints", backup.Sharded, backup.BackupLegacy)
	f.must(f.s.CreateCluster(f.ctx, other))
	for i := range 3 {
		f.must(f.s.RecordSlot(f.ctx, slotRecord(other, t0.Add(time.Duration(i)*q), backup.SlotSkipped, backup.ObjectID{})))
	}
	if _, err := f.s.PruneCheckpoints(f.ctx, other.ID, t0.Add(q+time.Second)); err != nil {
		t.Fatal(err)
	}
	counts, err = f.s.SlotCounts(f.ctx, byName(other), time.Time{}, time.Time{})
	f.must(err)
	if counts.Total() != 1 {
		t.Fatalf("after pruning a cluster without checkpoints, %d records, want 1", counts.Total())
	}
	// PruneSlots takes the records and leaves the checkpoints.
	n, err = f.s.PruneSlots(f.ctx, f.sharded.ID, t0.Add(3*q))
	f.must(err)
	if n != 1 || len(f.list(byName(f.sharded))) != 2 {
		t.Fatalf("PruneSlots = %d, %d checkpoints left; want 1 record gone and the 2 checkpoints kept", n, len(f.list(byName(f.sharded))))
	}
	counts, err = f.s.SlotCounts(f.ctx, byName(f.sharded), time.Time{}, time.Time{})
	f.must(err)
	if want := (backup.SlotCounts{backup.SlotTaken: 1, backup.SlotSkipped: 1}); !reflect.DeepEqual(counts, want) {
		t.Fatalf("after PruneSlots, counts = %v, want %v", counts, want)
	}
	f.must(f.s.DeleteCluster(f.ctx, byName(other)))
	// A new cluster of that name starts without records.
	again := clusterValue(f.ids.New(t0), f.project.ID, "NoCheckpoints", backup.Sharded, backup.BackupLegacy)
	f.must(f.s.CreateCluster(f.ctx, again))
	counts, err = f.s.SlotCounts(f.ctx, byName(again), time.Time{}, time.Time{})
	f.must(err)
	if counts.Total() != 0 {
		t.Fatalf("a deleted cluster's records outlived it: %v", counts)
	}
}

// testMissedSlots: SlotClusters lists the clusters whose slots are
// expected, whatever their driver; RecordMissedSlots records MISSED only
// for slots without a record, a checkpoint or a live claim, once however
// often it is asked, and an expired claim no longer protects a slot.
func testMissedSlots(t *testing.T, f *fixture) {
	got, err := f.s.SlotClusters(f.ctx)
	f.must(err)
	if len(got) != 0 {
		t.Fatalf("SlotClusters of a fixture without schedules = %d clusters", len(got))
	}
	on := f.sharded
	on.Schedule = backup.CheckpointSchedule{Driver: backup.DriverAgent, Interval: 15 * time.Minute}
	_, err = f.s.UpdateCluster(f.ctx, byID(on), set(on))
	f.must(err)
	sim := clusterValue(f.ids.New(t0), f.project.ID, "Sim", backup.Sharded, backup.BackupLegacy)
	sim.Schedule = backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 30 * time.Minute}
	f.must(f.s.CreateCluster(f.ctx, sim))
	got, err = f.s.SlotClusters(f.ctx)
	f.must(err)
	if len(got) != 2 {
		t.Fatalf("SlotClusters = %d clusters, want the agent's and the simulated one", len(got))
	}

	base := f.clk.Now().Truncate(time.Hour).Add(-2 * time.Hour)
	q := 15 * time.Minute
	var slots []time.Time
	for i := range 8 {
		slots = append(slots, base.Add(time.Duration(i)*q))
	}
	cp := f.checkpoint(on, slots[1])
	f.must(f.s.AddCheckpoint(f.ctx, cp))
	f.must(f.s.RecordSlot(f.ctx, slotRecord(on, slots[2], backup.SlotSkipped, backup.ObjectID{})))
	if !f.claim(f.s, on, slots[3], "taker", 10*time.Minute) {
		t.Fatal("claim refused")
	}
	n, err := f.s.RecordMissedSlots(f.ctx, on.ID, slots, backup.ReasonAgentNotRunning, "agent not running")
	f.must(err)
	if n != 5 {
		t.Fatalf("RecordMissedSlots = %d, want 5 (8 less a checkpoint, a record, a claim)", n)
	}
	n, err = f.s.RecordMissedSlots(f.ctx, on.ID, slots, backup.ReasonAgentNotRunning, "agent not running")
	f.must(err)
	if n != 0 {
		t.Fatalf("again: %d, want 0", n)
	}
	p, err := f.s.Slots(f.ctx, byName(on), backup.SlotFilter{Outcomes: []backup.SlotOutcome{backup.SlotMissed}}, backup.PageRequest{Num: 1, Size: 100})
	f.must(err)
	if len(p.Items) != 5 {
		t.Fatalf("%d MISSED records, want 5", len(p.Items))
	}
	m := p.Items[0]
	if !m.Time.Equal(slots[7]) || m.Reason != backup.ReasonAgentNotRunning || m.Detail != "agent not running" ||
		m.Source != backup.SourceSweep || !m.CheckpointID.IsZero() || m.ClusterID != on.ID || m.GroupID != on.GroupID ||
		!m.Recorded.Equal(f.clk.Now().Truncate(time.Second)) {
		t.Fatalf("MISSED record = %+v", m)
	}
	f.clk.Advance(11 * time.Minute)
	n, err = f.s.RecordMissedSlots(f.ctx, on.ID, slots, backup.ReasonAgentNotRunning, "agent not running")
	f.must(err)
	if n != 1 {
		t.Fatalf("after the claim expired: %d, want 1", n)
	}
	if _, err := f.s.RecordMissedSlots(f.ctx, f.ids.New(t0), slots, backup.ReasonNoInstance, "x"); !backup.IsCode(err, backup.CodeClusterNotFound) {
		t.Fatalf("an unknown cluster: %v, want CLUSTER_NOT_FOUND", err)
	}
}

// testSlotsRace: several writers of one slot at once, each with its own
// record, in any processes sharing the store: exactly one record is
// stored, the others are DUPLICATE_SLOT; racing sweeps record a slot
// once.
func testSlotsRace(t *testing.T, f *fixture) {
	slot := t0.Add(time.Hour)
	const writers = 6
	errs := make([]error, writers)
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			r := slotRecord(f.sharded, slot, backup.SlotFailed, backup.ObjectID{})
			r.Detail = "writer " + string(rune('a'+i))
			errs[i] = f.s.RecordSlot(f.ctx, r)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !backup.IsCode(err, backup.CodeDuplicateSlot):
			t.Fatalf("a racing writer: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d writers stored their record, want 1", ok)
	}
	slots := []time.Time{t0.Add(2 * time.Hour), t0.Add(3 * time.Hour)}
	counts := make([]int, writers)
	for i := range writers {
		wg.Go(func() {
			n, err := f.s.RecordMissedSlots(f.ctx, f.sharded.ID, slots, backup.ReasonNoInstance, "no instance ran it")
			if err != nil {
				t.Errorf("a racing sweep: %v", err)
			}
			counts[i] = n
		})
	}
	wg.Wait()
	total := 0
	for _, n := range counts {
		total += n
	}
	c, err := f.s.SlotCounts(f.ctx, byName(f.sharded), time.Time{}, time.Time{})
	f.must(err)
	if total != 2 || c[backup.SlotMissed] != 2 || c.Total() != 3 {
		t.Fatalf("racing sweeps stored %d (counts %v), want 2 MISSED records", total, c)
	}
}
