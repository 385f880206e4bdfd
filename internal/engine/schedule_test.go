package engine_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/store/postgres"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// The stores are the scheduler's sink and pruner as they are.
var (
	_ engine.Sink   = (*sqlite.DB)(nil)
	_ engine.Pruner = (*sqlite.DB)(nil)
	_ engine.Sink   = (*postgres.DB)(nil)
	_ engine.Pruner = (*postgres.DB)(nil)
)

// memStore is a Sink and Pruner that also records every call.
type memStore struct {
	mu     sync.Mutex
	kept   map[backup.ObjectID][]backup.Checkpoint
	added  map[backup.ObjectID][]time.Time // timestamps, in the order added
	cutoff map[backup.ObjectID][]time.Time // prune cutoffs, in order
	newest map[backup.ObjectID]time.Time   // from the Restorable hook
}

func newMemStore() *memStore {
	return &memStore{kept: map[backup.ObjectID][]backup.Checkpoint{}, added: map[backup.ObjectID][]time.Time{},
		cutoff: map[backup.ObjectID][]time.Time{}, newest: map[backup.ObjectID]time.Time{}}
}

func (m *memStore) AddCheckpoint(_ context.Context, cp backup.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.kept[cp.ClusterID] = append(m.kept[cp.ClusterID], cp)
	m.added[cp.ClusterID] = append(m.added[cp.ClusterID], cp.Timestamp)
	return nil
}

func (m *memStore) PruneCheckpoints(_ context.Context, id backup.ObjectID, cutoff time.Time) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cutoff[id] = append(m.cutoff[id], cutoff)
	before := len(m.kept[id])
	m.kept[id] = slices.DeleteFunc(m.kept[id], func(cp backup.Checkpoint) bool { return cp.Timestamp.Before(cutoff) })
	return before - len(m.kept[id]), nil
}

func (m *memStore) restorable(id backup.ObjectID, ts time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ts.Before(m.newest[id]) {
		panic("newest restorable checkpoint went back in time")
	}
	m.newest[id] = ts
}

// drive runs the scheduler on a manual clock with n cluster loops. Each
// step waits until every loop sleeps on the clock, then wakes the
// earliest sleeper; it stops before the first wake after end, cancels
// Run, and keeps the clock going until Run has returned (a checkpoint
// under way still restarts its balancer).
func drive(t *testing.T, s *engine.Scheduler, clk *clock.Virtual, n int, end time.Time) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	guard, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()
	for {
		if err := clk.BlockUntil(guard, n); err != nil {
			t.Fatalf("the loops stopped sleeping on the clock at %v", clk.Now())
		}
		next, _ := clk.Next()
		if next.After(end) {
			break
		}
		clk.AdvanceTo(next)
	}
	cancel()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v", err)
			}
			return
		case <-guard.Done():
			t.Fatal("Run did not return after cancel")
		case <-time.After(time.Millisecond):
			if next, ok := clk.Next(); ok {
				clk.AdvanceTo(next)
			}
		}
	}
}

func slotsFrom(first time.Time, step time.Duration, n int) []time.Time {
	var out []time.Time
	for i := range n {
		out = append(out, first.Add(time.Duration(i)*step))
	}
	return out
}

// TestSchedulerTakesEverySlot runs three clusters on 15-, 60- and
// 30-minute schedules for six hours: every slot of each grid gets exactly
// one checkpoint whose timestamp is the slot, each slot prunes what its
// retention no longer covers, and the hook follows the newest restorable
// checkpoint.
func TestSchedulerTakesEverySlot(t *testing.T) {
	clk := clock.NewVirtual(t0.Add(7 * time.Minute)) // 10:07, off every grid
	st := newMemStore()
	a, b, c := shardedCluster(), mirroredCluster(), replicaSetCluster()
	sims := []*sim.Cluster{mustSim(t, a, clk, 1, steadyConfig()), mustSim(t, b, clk, 2, steadyConfig()), mustSim(t, c, clk, 3, steadyConfig())}
	s, err := engine.New(engine.Config{
		Clock: clk, IDs: newIDs(), Sink: st, Pruner: st, Restorable: st.restorable,
		Schedules: []engine.Schedule{
			{Cluster: a, Driver: sims[0], Interval: 15 * time.Minute, Retention: time.Hour},
			{Cluster: b, Driver: sims[1], Interval: time.Hour},
			{Cluster: c, Driver: sims[2], Interval: 30 * time.Minute, Retention: 2 * time.Hour},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	drive(t, s, clk, 3, t0.Add(5*time.Hour+59*time.Minute))

	for _, tt := range []struct {
		c         backup.Cluster
		slots     []time.Time
		retention time.Duration
		kept      int
	}{
		{a, slotsFrom(t0.Add(15*time.Minute), 15*time.Minute, 23), time.Hour, 5},
		{b, slotsFrom(t0.Add(time.Hour), time.Hour, 5), engine.DefaultRetention, 5},
		{c, slotsFrom(t0.Add(30*time.Minute), 30*time.Minute, 11), 2 * time.Hour, 5},
	} {
		if got := st.added[tt.c.ID]; !slices.EqualFunc(got, tt.slots, time.Time.Equal) {
			t.Errorf("%s: checkpoints at %v, want %v", tt.c.Name, got, tt.slots)
		}
		var cutoffs []time.Time
		for _, slot := range tt.slots {
			cutoffs = append(cutoffs, slot.Add(-tt.retention))
		}
		if got := st.cutoff[tt.c.ID]; !slices.EqualFunc(got, cutoffs, time.Time.Equal) {
			t.Errorf("%s: pruned before %v, want %v", tt.c.Name, got, cutoffs)
		}
		if got := len(st.kept[tt.c.ID]); got != tt.kept {
			t.Errorf("%s: %d checkpoints kept, want %d", tt.c.Name, got, tt.kept)
		}
		for _, cp := range st.kept[tt.c.ID] {
			if err := backup.VerifyCheckpoint(tt.c, cp); err != nil || !cp.Restorable {
				t.Errorf("%s: %v, restorable %v", tt.c.Name, err, cp.Restorable)
			}
		}
		if last := tt.slots[len(tt.slots)-1]; !st.newest[tt.c.ID].Equal(last) {
			t.Errorf("%s: newest restorable %v, want %v", tt.c.Name, st.newest[tt.c.ID], last)
		}
	}
	for _, s := range sims[:2] {
		if !s.BalancerEnabled() {
			t.Error("balancer left stopped")
		}
	}
}

// stopFaults makes the balancer stop slowly until a time, through the
// simulator's own fault, so the scheduler meets real timeouts.
type stopFaults struct {
	*sim.Cluster
	clk   clock.Clock
	until time.Time
}

func (f stopFaults) StopBalancer(ctx context.Context, timeout time.Duration) error {
	if f.clk.Now().Before(f.until) {
		f.SetFaults(sim.Faults{StopDelay: 5 * time.Minute})
	} else {
		f.SetFaults(sim.Faults{})
	}
	return f.Cluster.StopBalancer(ctx, timeout)
}

// TestSchedulerSkipsSlotsItCannotTake: slots whose balancer would not stop
// in time have no checkpoint, but still restart the balancer and prune;
// the schedule carries on at the next slot.
func TestSchedulerSkipsSlotsItCannotTake(t *testing.T) {
	clk := clock.NewVirtual(t0)
	st := newMemStore()
	c := shardedCluster()
	s0 := mustSim(t, c, clk, 1, steadyConfig())
	s, err := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st, Schedules: []engine.Schedule{
		{Cluster: c, Driver: stopFaults{s0, clk, t0.Add(40 * time.Minute)}, Interval: 15 * time.Minute},
	}})
	if err != nil {
		t.Fatal(err)
	}
	drive(t, s, clk, 1, t0.Add(89*time.Minute))
	// Slots 10:00, 10:15 and 10:30 time out; 10:45 to 11:15 are taken.
	if got, want := st.added[c.ID], slotsFrom(t0.Add(45*time.Minute), 15*time.Minute, 3); !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("checkpoints at %v, want %v", got, want)
	}
	if n := len(st.cutoff[c.ID]); n != 6 {
		t.Errorf("%d prunes, want one per slot (6)", n)
	}
	if stats := s0.Stats(); stats.Stops != 6 || stats.Starts != 6 || !s0.BalancerEnabled() {
		t.Errorf("balancer: %+v, enabled %v; want 6 stops and 6 starts", stats, s0.BalancerEnabled())
	}
}

// TestSchedulerKeepsCheckpointWhenRestartFails: a checkpoint whose
// balancer did not restart is still a valid cut and is stored.
func TestSchedulerKeepsCheckpointWhenRestartFails(t *testing.T) {
	clk := clock.NewVirtual(t0)
	st := newMemStore()
	c := shardedCluster()
	s0 := mustSim(t, c, clk, 1, steadyConfig())
	s0.SetFaults(sim.Faults{StartErr: errors.New("config server primary stepped down")})
	s, _ := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st, Restorable: st.restorable,
		Schedules: []engine.Schedule{{Cluster: c, Driver: s0, Interval: 15 * time.Minute}}})
	drive(t, s, clk, 1, t0.Add(10*time.Minute))
	if len(st.added[c.ID]) != 1 || !st.newest[c.ID].Equal(t0) {
		t.Errorf("stored %v, newest %v; want the 10:00 checkpoint", st.added[c.ID], st.newest[c.ID])
	}
	if s0.BalancerEnabled() || s0.Stats().Starts != 3 {
		t.Errorf("balancer enabled %v after %d starts; want 3 failed attempts", s0.BalancerEnabled(), s0.Stats().Starts)
	}
}

// oddClaimer lets this instance take only the slots at :00 and :30.
type oddClaimer struct{}

func (oddClaimer) Claim(_ context.Context, _ backup.ObjectID, slot time.Time) (bool, error) {
	return slot.Minute()%30 == 0, nil
}

// TestSchedulerClaims: slots another instance claimed are not touched.
func TestSchedulerClaims(t *testing.T) {
	clk := clock.NewVirtual(t0)
	st := newMemStore()
	c := shardedCluster()
	s0 := mustSim(t, c, clk, 1, steadyConfig())
	s, _ := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st, Claimer: oddClaimer{},
		Schedules: []engine.Schedule{{Cluster: c, Driver: s0, Interval: 15 * time.Minute}}})
	drive(t, s, clk, 1, t0.Add(119*time.Minute))
	if got, want := st.added[c.ID], slotsFrom(t0, 30*time.Minute, 4); !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("checkpoints at %v, want %v", got, want)
	}
	if n := s0.Stats().Stops; n != 4 {
		t.Errorf("%d balancer stops, want 4", n)
	}
}

// TestSchedulerStopsOnCancel: cancelling Run in the middle of a
// checkpoint abandons it, restarts the balancer, and returns nil.
func TestSchedulerStopsOnCancel(t *testing.T) {
	clk := clock.NewVirtual(t0.Add(time.Minute))
	st := newMemStore()
	c := shardedCluster()
	s0 := mustSim(t, c, clk, 1, steadyConfig())
	s, _ := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st,
		Schedules: []engine.Schedule{{Cluster: c, Driver: s0, Interval: 15 * time.Minute}}})
	// At 10:15:01 the agent is on its way to the mongos.
	drive(t, s, clk, 1, t0.Add(15*time.Minute+time.Second))
	if len(st.added[c.ID]) != 0 || len(st.cutoff[c.ID]) != 0 {
		t.Errorf("stored %v, pruned %v; want nothing", st.added[c.ID], st.cutoff[c.ID])
	}
	if !s0.BalancerEnabled() || s0.Stats().Starts != 1 {
		t.Errorf("balancer enabled %v, %d starts", s0.BalancerEnabled(), s0.Stats().Starts)
	}
}

// TestSchedulerWithSQLiteStore takes a day of checkpoints into the SQLite
// store, pruning to the default retention: the store keeps the last 24
// hours' checkpoints exactly as taken.
func TestSchedulerWithSQLiteStore(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "engine.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c := shardedCluster()
	org := backup.Organization{ID: backup.MustParseObjectID("5e2211c17a3e5a48f5497de0"), Name: "org", Created: c.Created}
	if err := db.CreateOrganization(ctx, org); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateProject(ctx, backup.Project{ID: groupID, OrgID: org.ID, Name: "project", Created: c.Created}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateCluster(ctx, c); err != nil {
		t.Fatal(err)
	}
	clk := clock.NewVirtual(t0)
	mem := newMemStore()
	s, err := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: teeSink{db, mem}, Pruner: db,
		Schedules: []engine.Schedule{{Cluster: c, Driver: mustSim(t, c, clk, 1, sim.DefaultConfig()), Interval: 30 * time.Minute}}})
	if err != nil {
		t.Fatal(err)
	}
	drive(t, s, clk, 1, t0.Add(36*time.Hour-time.Minute))

	page, err := db.Checkpoints(ctx, backup.ClusterRef{GroupID: groupID, ID: c.ID}, backup.PageRequest{Num: 1, Size: 500, IncludeCount: true})
	if err != nil {
		t.Fatal(err)
	}
	var want []backup.Checkpoint
	for _, cp := range mem.kept[c.ID] {
		if !cp.Timestamp.Before(t0.Add(35*time.Hour + 30*time.Minute - engine.DefaultRetention)) {
			want = append(want, cp)
		}
	}
	if len(want) < 45 || page.Total != len(want) || !reflect.DeepEqual(page.Items, want) {
		t.Errorf("store holds %d checkpoints, want the %d of the last 24 hours as taken", page.Total, len(want))
	}
}

// teeSink stores in two sinks.
type teeSink struct{ a, b engine.Sink }

func (s teeSink) AddCheckpoint(ctx context.Context, cp backup.Checkpoint) error {
	return errors.Join(s.a.AddCheckpoint(ctx, cp), s.b.AddCheckpoint(ctx, cp))
}

func TestNewRejects(t *testing.T) {
	clk := clock.NewVirtual(t0)
	st := newMemStore()
	c := shardedCluster()
	drv := mustSim(t, c, clk, 1, steadyConfig())
	cloud := shardedCluster()
	cloud.Backup = backup.BackupCloud
	noID := shardedCluster()
	noID.ID = backup.NilObjectID
	unnamed := shardedCluster()
	unnamed.Name = "no spaces"
	ok := engine.Schedule{Cluster: c, Driver: drv, Interval: 15 * time.Minute}
	with := func(mod func(*engine.Schedule)) []engine.Schedule {
		s := ok
		mod(&s)
		return []engine.Schedule{s}
	}
	for _, tt := range []struct {
		name      string
		schedules []engine.Schedule
		code      string
	}{
		{"45-minute interval", with(func(s *engine.Schedule) { s.Interval = 45 * time.Minute }), backup.CodeInvalidAttribute},
		{"retention under the interval", with(func(s *engine.Schedule) { s.Retention = 10 * time.Minute }), backup.CodeInvalidAttribute},
		{"negative retention", with(func(s *engine.Schedule) { s.Retention = -time.Hour }), backup.CodeInvalidAttribute},
		{"no driver", with(func(s *engine.Schedule) { s.Driver = nil }), backup.CodeInvalidAttribute},
		{"cloud backup", with(func(s *engine.Schedule) { s.Cluster = cloud }), backup.CodeCheckpointsOnlyLegacy},
		{"cluster without id", with(func(s *engine.Schedule) { s.Cluster = noID }), backup.CodeInvalidAttribute},
		{"invalid cluster", with(func(s *engine.Schedule) { s.Cluster = unnamed }), backup.CodeInvalidClusterName},
		{"two schedules for a cluster", []engine.Schedule{ok, ok}, backup.CodeInvalidAttribute},
	} {
		_, err := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st, Schedules: tt.schedules})
		if !backup.IsCode(err, tt.code) {
			t.Errorf("%s: New() = %v, want %s", tt.name, err, tt.code)
		}
	}
	if _, err := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: st}); err == nil {
		t.Error("New() without a pruner succeeded")
	}
	if _, err := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st, Schedules: []engine.Schedule{ok}}); err != nil {
		t.Errorf("New(valid) = %v", err)
	}
}

func TestNextSlot(t *testing.T) {
	for _, tt := range []struct {
		t        time.Time
		interval time.Duration
		want     time.Time
	}{
		{t0, 15 * time.Minute, t0},
		{t0.Add(time.Nanosecond), 15 * time.Minute, t0.Add(15 * time.Minute)},
		{t0.Add(29 * time.Minute), 30 * time.Minute, t0.Add(30 * time.Minute)},
		{t0.Add(61 * time.Minute), time.Hour, t0.Add(2 * time.Hour)},
		{t0.In(time.FixedZone("IST", 5*3600+1800)).Add(time.Minute), time.Hour, t0.Add(time.Hour)},
	} {
		if got := engine.NextSlot(tt.t, tt.interval); !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("NextSlot(%v, %v) = %v, want %v", tt.t, tt.interval, got, tt.want)
		}
	}
}
