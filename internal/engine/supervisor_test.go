package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
)

// listSource is a ScheduleSource whose list a test changes.
type listSource struct {
	mu   sync.Mutex
	list []backup.Cluster
	err  error
}

func (s *listSource) Schedules(context.Context) ([]backup.Cluster, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]backup.Cluster(nil), s.list...), s.err
}

func (s *listSource) set(err error, cs ...backup.Cluster) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.list, s.err = cs, err
}

// lockedBuffer is a log sink safe for the supervisor's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func scheduled(c backup.Cluster, interval time.Duration) backup.Cluster {
	c.Schedule = backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: interval}
	return c
}

// TestSupervisorFollowsSchedules runs a supervisor over a list of
// schedules that changes: clusters start at their next slot, a changed
// interval takes effect from the next slot on the new grid, a cluster no
// longer listed stops, a refused schedule is logged once rather than at
// every refresh, and a failing source keeps the loops as they are.
func TestSupervisorFollowsSchedules(t *testing.T) {
	clk := clock.NewVirtual(t0.Add(7 * time.Minute))
	st := newMemStore()
	a, b := scheduled(shardedCluster(), 15*time.Minute), scheduled(mirroredCluster(), 30*time.Minute)
	c := scheduled(shardedCluster(), 30*time.Minute)
	c.ID, c.Name = backup.MustParseObjectID("6b8cd61180eef547110159dc"), "Cluster2"
	bad := replicaSetCluster() // an interval on a replica set is refused
	bad.Schedule = backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 15 * time.Minute}
	src := &listSource{}
	src.set(nil, a, b, bad)
	logs := &lockedBuffer{}
	sup, err := engine.NewSupervisor(engine.SupervisorConfig{
		Config: engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st,
			Logger: slog.New(slog.NewTextHandler(logs, nil))},
		Source:  src,
		Drivers: sim.Drivers(clk, 1, steadyConfig()),
		Refresh: 2 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	guard, stop := context.WithTimeout(context.Background(), 20*time.Second)
	defer stop()

	waitLog := func(want ...string) {
		t.Helper()
		for _, w := range want {
			for !strings.Contains(logs.String(), w) {
				if guard.Err() != nil {
					t.Fatalf("no %q in the log:\n%s", w, logs.String())
				}
				time.Sleep(time.Millisecond)
			}
		}
	}
	// exactly waits until exactly n loops sleep on the clock: loops being
	// stopped have left it, new ones have reached it.
	exactly := func(n int) {
		t.Helper()
		for clk.Sleepers() != n {
			if guard.Err() != nil {
				t.Fatalf("%d loops sleep on the clock, want %d", clk.Sleepers(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	run := func(n int, until time.Time) {
		t.Helper()
		for {
			exactly(n)
			next, _ := clk.Next()
			if next.After(until) {
				return
			}
			clk.AdvanceTo(next)
		}
	}
	timestamps := func(id backup.ObjectID) []time.Time {
		st.mu.Lock()
		defer st.mu.Unlock()
		return append([]time.Time(nil), st.added[id]...)
	}

	waitLog(`msg="checkpoint schedule started" cluster=Cluster0`, `msg="checkpoint schedule started" cluster=LegacyCluster`,
		`msg="cluster not scheduled" cluster=Cluster1`)
	run(2, t0.Add(2*time.Hour+10*time.Minute))
	if got, want := timestamps(a.ID), slotsFrom(t0.Add(15*time.Minute), 15*time.Minute, 8); !slicesEqual(got, want) {
		t.Errorf("Cluster0 on 15 minutes: %v, want %v", got, want)
	}
	if got, want := timestamps(b.ID), slotsFrom(t0.Add(30*time.Minute), 30*time.Minute, 4); !slicesEqual(got, want) {
		t.Errorf("LegacyCluster on 30 minutes: %v, want %v", got, want)
	}

	// A failing source changes nothing.
	src.set(context.DeadlineExceeded)
	waitLog(`msg="checkpoint schedules not read; keeping the current ones"`)
	exactly(2)

	a60 := a
	a60.Schedule.Interval = time.Hour
	src.set(nil, a60, c, bad)
	waitLog(`msg="checkpoint schedule changed" cluster=Cluster0`, `msg="checkpoint schedule stopped" cluster=LegacyCluster`,
		`msg="checkpoint schedule started" cluster=Cluster2`)
	run(2, t0.Add(5*time.Hour+10*time.Minute)) // a checkpoint takes up to minutes (dispatch lag)
	wantA := append(slotsFrom(t0.Add(15*time.Minute), 15*time.Minute, 8), slotsFrom(t0.Add(3*time.Hour), time.Hour, 3)...)
	if got := timestamps(a.ID); !slicesEqual(got, wantA) {
		t.Errorf("Cluster0 after moving to 60 minutes: %v, want %v", got, wantA)
	}
	if got := timestamps(b.ID); len(got) != 4 {
		t.Errorf("LegacyCluster took %d checkpoints after it was removed", len(got)-4)
	}
	if got, want := timestamps(c.ID), slotsFrom(t0.Add(2*time.Hour+30*time.Minute), 30*time.Minute, 6); !slicesEqual(got, want) {
		t.Errorf("Cluster2 added at 12:10: %v, want %v", got, want)
	}
	if n := strings.Count(logs.String(), `msg="cluster not scheduled"`); n != 1 {
		t.Errorf("the refused schedule was logged %d times, want once", n)
	}

	src.set(nil)
	waitLog(`msg="checkpoint schedule stopped" cluster=Cluster0`, `msg="checkpoint schedule stopped" cluster=Cluster2`)
	exactly(0)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run() = %v", err)
		}
	case <-guard.Done():
		t.Fatal("Run did not return after cancel")
	}
}

func slicesEqual(a, b []time.Time) bool {
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

func TestNewSupervisorRejects(t *testing.T) {
	clk := clock.NewVirtual(t0)
	st := newMemStore()
	cfg := engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st}
	for _, sc := range []engine.SupervisorConfig{
		{Config: cfg, Drivers: sim.Drivers(clk, 1, steadyConfig())},
		{Config: cfg, Source: &listSource{}},
		{Config: engine.Config{}, Source: &listSource{}, Drivers: sim.Drivers(clk, 1, steadyConfig())},
	} {
		if _, err := engine.NewSupervisor(sc); err == nil {
			t.Errorf("NewSupervisor(%+v) succeeded", sc)
		}
	}
}
