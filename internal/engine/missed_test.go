package engine_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// sweepStore opens a SQLite store with the project of the test clusters
// and clusters cs.
func sweepStore(t *testing.T, clk clock.Clock, cs ...backup.Cluster) *sqlite.DB {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sweep.db"), sqlite.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	org := backup.Organization{ID: backup.MustParseObjectID("5e2211c17a3e5a48f5497de0"), Name: "org", Created: t0.Add(-48 * time.Hour)}
	must(t, db.CreateOrganization(ctx, org))
	must(t, db.CreateProject(ctx, backup.Project{ID: groupID, OrgID: org.ID, Name: "project", Created: org.Created}))
	for _, c := range cs {
		must(t, db.CreateCluster(ctx, c))
	}
	return db
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// missedOf lists a cluster's MISSED records, oldest first.
func missedOf(t *testing.T, db *sqlite.DB, c backup.Cluster) []backup.Slot {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	p, err := db.Slots(ctx, backup.ClusterRef{GroupID: c.GroupID, ID: c.ID},
		backup.SlotFilter{Outcomes: []backup.SlotOutcome{backup.SlotMissed}}, backup.PageRequest{Num: 1, Size: 1000})
	must(t, err)
	out := p.Items
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

func times(recs []backup.Slot) []time.Time {
	var out []time.Time
	for _, r := range recs {
		out = append(out, r.Time)
	}
	return out
}

func sameTimes(a, b []time.Time) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			return false
		}
	}
	return true
}

// TestSweepRecordsMissedSlots runs the sweep on a virtual clock: slots of
// an agent's cluster and of a simulated one that passed the grace period
// with no record, checkpoint or live claim are MISSED, with the reason
// that fits the driver; nothing twice; the time a cluster's backup was
// stopped is not called missed; records older than the window are pruned.
func TestSweepRecordsMissedSlots(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	clk := clock.NewVirtual(t0.Add(time.Hour))
	agent := shardedCluster()
	agent.Created = t0
	agent.Schedule = backup.CheckpointSchedule{Driver: backup.DriverAgent, Interval: 15 * time.Minute}
	simC := mirroredCluster()
	simC.Created = t0
	simC.Schedule = backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 30 * time.Minute}
	db := sweepStore(t, clk, agent, simC)
	q := 15 * time.Minute

	// 10:15 has a checkpoint, 10:30 a record, 10:45 a live claim.
	cp := backup.Checkpoint{ID: newIDs().New(t0.Add(q)), ClusterID: agent.ID, GroupID: agent.GroupID, Started: t0.Add(q + time.Minute),
		Completed: t0.Add(q + 2*time.Minute), Timestamp: t0.Add(q), Restorable: false,
		Parts: []backup.Part{{Type: backup.PartReplicaSet, ShardName: "Cluster0-shard-0", ReplicaSetName: "Cluster0-shard-0"},
			{Type: backup.PartReplicaSet, ShardName: "Cluster0-shard-1", ReplicaSetName: "Cluster0-shard-1"},
			{Type: backup.PartReplicaSet, ShardName: "Cluster0-shard-2", ReplicaSetName: "Cluster0-shard-2"},
			{Type: backup.PartConfigReplicaSet, ReplicaSetName: "Cluster0-config-0"}}}
	must(t, db.AddCheckpoint(ctx, cp))
	must(t, db.RecordSlot(ctx, backup.Slot{ClusterID: agent.ID, GroupID: agent.GroupID, Time: t0.Add(2 * q), Outcome: backup.SlotSkipped,
		Reason: backup.ReasonBalancerNotStopped, Detail: "balancer would not stop within 1m0s", Source: backup.SourceAgent, Recorded: t0.Add(2 * q)}))
	if ok, err := db.ClaimSlot(ctx, agent.ID, t0.Add(3*q), "taker", 20*time.Minute); err != nil || !ok {
		t.Fatalf("claim: %v %v", ok, err)
	}

	sw := &engine.Sweep{Store: db, Clock: clk}
	n, err := sw.Once(ctx)
	must(t, err)
	// 10:00 of the agent's; 10:00 and 10:30 of the simulated one (10:50
	// is the grace's limit).
	if n != 3 {
		t.Fatalf("first sweep recorded %d, want 3", n)
	}
	if got := times(missedOf(t, db, agent)); !sameTimes(got, []time.Time{t0}) {
		t.Errorf("agent's missed %v, want 10:00", got)
	}
	m := missedOf(t, db, simC)
	if got := times(m); !sameTimes(got, []time.Time{t0, t0.Add(2 * q)}) {
		t.Errorf("simulated missed %v, want 10:00 and 10:30", got)
	}
	if m[0].Reason != backup.ReasonNoInstance || missedOf(t, db, agent)[0].Reason != backup.ReasonAgentNotRunning {
		t.Errorf("reasons %s and %s", m[0].Reason, missedOf(t, db, agent)[0].Reason)
	}
	if n, err := sw.Once(ctx); err != nil || n != 0 {
		t.Fatalf("sweeping again: %d, %v", n, err)
	}

	// The claim of 10:45 was taken at 11:00 for 20 minutes.
	clk.Advance(15 * time.Minute) // 11:15, grace limit 11:05
	n, err = sw.Once(ctx)
	must(t, err)
	if got := times(missedOf(t, db, agent)); n != 2 || !sameTimes(got, []time.Time{t0, t0.Add(4 * q)}) {
		t.Errorf("at 11:15: %d recorded, agent's missed %v; want 11:00 (10:45 is still claimed) and the simulated 11:00", n, got)
	}

	// A second server's sweep, starting afresh, records nothing new; at
	// once with the first, neither records a slot twice.
	clk.Advance(30 * time.Minute) // 11:45, limit 11:35
	other := &engine.Sweep{Store: db, Clock: clk}
	var wg sync.WaitGroup
	var n1, n2 int
	wg.Go(func() { n1, _ = sw.Once(ctx) })
	wg.Go(func() { n2, _ = other.Once(ctx) })
	wg.Wait()
	// 10:45 (claim expired at 11:20), 11:15, 11:30 of the agent's; 11:30 of the simulated one.
	if n1+n2 != 4 {
		t.Errorf("two sweeps recorded %d+%d, want 4 in all", n1, n2)
	}
	if got := times(missedOf(t, db, agent)); !sameTimes(got, []time.Time{t0, t0.Add(3 * q), t0.Add(4 * q), t0.Add(5 * q), t0.Add(6 * q)}) {
		t.Errorf("agent's missed %v", got)
	}

	// The agent's backup stopped for two hours: those slots are not
	// missed.
	stopped := func(st backup.BackupStatus) func(*backup.Cluster) error {
		return func(c *backup.Cluster) error { c.Status = st; return nil }
	}
	_, err = db.UpdateCluster(ctx, backup.ClusterRef{GroupID: agent.GroupID, ID: agent.ID}, stopped(backup.BackupStopped))
	must(t, err)
	clk.Advance(time.Hour)
	_, err = sw.Once(ctx)
	must(t, err)
	clk.Advance(time.Hour)
	_, err = db.UpdateCluster(ctx, backup.ClusterRef{GroupID: agent.GroupID, ID: agent.ID}, stopped(backup.BackupStarted))
	must(t, err)
	_, err = sw.Once(ctx) // 13:45: back on, swept from now
	must(t, err)
	clk.Advance(30 * time.Minute) // 14:15, limit 14:05
	_, err = sw.Once(ctx)
	must(t, err)
	got := times(missedOf(t, db, agent))
	// Back on at 13:45: its slots from then on.
	want := []time.Time{t0, t0.Add(3 * q), t0.Add(4 * q), t0.Add(5 * q), t0.Add(6 * q), t0.Add(15 * q), t0.Add(16 * q)}
	if !sameTimes(got, want) {
		t.Errorf("after a stop, agent's missed %v\nwant %v", got, want)
	}

	// A day later the sweep has pruned the records older than the
	// window (24 hours), which no report or checkpoint prunes here.
	clk.Advance(25 * time.Hour)
	_, err = sw.Once(ctx)
	must(t, err)
	recs := missedOf(t, db, agent)
	if len(recs) == 0 || recs[0].Time.Before(clk.Now().Add(-24*time.Hour)) {
		t.Errorf("a day later the oldest record is of %v; the clock is at %v", recs[0].Time, clk.Now())
	}
}
