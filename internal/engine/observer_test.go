package engine_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
)

// slotLog is an Observer that records every report.
type slotLog struct {
	mu      sync.Mutex
	reports []slotReport
}

type slotReport struct {
	cluster string
	outcome engine.Outcome
	took    time.Duration
}

func (l *slotLog) SlotDone(c backup.Cluster, o engine.Outcome, took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reports = append(l.reports, slotReport{c.Name, o, took})
}

// scriptedFaults gives each slot of a simulated cluster the faults a
// script names for it, by the clock's time when the balancer is asked to
// stop (the first step of every checkpoint).
type scriptedFaults struct {
	*sim.Cluster
	clk    clock.Clock
	script map[time.Time]sim.Faults
}

func (f scriptedFaults) StopBalancer(ctx context.Context, timeout time.Duration) error {
	f.SetFaults(f.script[f.clk.Now().Truncate(15*time.Minute)])
	return f.Cluster.StopBalancer(ctx, timeout)
}

// scriptedClaimer fails or loses the claims of the slots it names and
// wins every other one.
type scriptedClaimer struct {
	fail, lose time.Time
}

func (c scriptedClaimer) Claim(_ context.Context, _ backup.ObjectID, slot time.Time) (bool, error) {
	switch {
	case slot.Equal(c.fail):
		return false, errors.New("store unreachable")
	case slot.Equal(c.lose):
		return false, nil
	}
	return true, nil
}

// failingSink refuses the checkpoint of one slot.
type failingSink struct {
	*memStore
	fail time.Time
}

func (s failingSink) AddCheckpoint(ctx context.Context, cp backup.Checkpoint) error {
	if cp.Timestamp.Equal(s.fail) {
		return errors.New("disk full")
	}
	return s.memStore.AddCheckpoint(ctx, cp)
}

// TestSchedulerObserver: every slot this instance claims is reported once
// with its outcome, including a failed claim; a slot another instance
// claimed is not; the time reported is the slot's on the scheduler's
// clock.
func TestSchedulerObserver(t *testing.T) {
	clk := clock.NewVirtual(t0)
	st := newMemStore()
	c := shardedCluster()
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	drv := scriptedFaults{mustSim(t, c, clk, 1, steadyConfig()), clk, map[time.Time]sim.Faults{
		at(0):  {StopErr: errors.New("no mongos reachable")},
		at(75): {Lost: []string{"Cluster0-shard-1"}},
	}}
	obs := &slotLog{}
	s, err := engine.New(engine.Config{
		Clock: clk, IDs: newIDs(), Sink: failingSink{st, at(60)}, Pruner: st, Observer: obs,
		Claimer:   scriptedClaimer{fail: at(15), lose: at(30)},
		Schedules: []engine.Schedule{{Cluster: c, Driver: drv, Interval: 15 * time.Minute}},
	})
	if err != nil {
		t.Fatal(err)
	}
	drive(t, s, clk, 1, at(99))

	want := []engine.Outcome{
		engine.OutcomeSkipped,       // 10:00 the balancer would not stop
		engine.OutcomeSkipped,       // 10:15 the claim failed
		engine.OutcomeRestorable,    // 10:45 (10:30 went to another instance)
		engine.OutcomeNotStored,     // 11:00 the store refused it
		engine.OutcomeNotRestorable, // 11:15 a token was lost
		engine.OutcomeRestorable,    // 11:30
	}
	var got []engine.Outcome
	for _, r := range obs.reports {
		got = append(got, r.outcome)
		if r.cluster != c.Name {
			t.Errorf("reported cluster %s, want %s", r.cluster, c.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	// A checkpoint takes the simulated cluster some virtual time (the
	// balancer's stop, the tokens' discovery); a failed claim takes none.
	if r := obs.reports[1]; r.took != 0 {
		t.Errorf("failed claim took %v, want 0", r.took)
	}
	for _, i := range []int{2, 3, 4, 5} {
		if r := obs.reports[i]; r.took <= 0 || r.took > 15*time.Minute {
			t.Errorf("slot %d (%s) took %v, want within the interval", i, r.outcome, r.took)
		}
	}
	if got, want := st.added[c.ID], []time.Time{at(45), at(75), at(90)}; !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("stored %v, want %v", got, want)
	}
}
