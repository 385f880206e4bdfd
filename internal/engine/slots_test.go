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

// memSlots is a SlotRecorder that keeps what it is given.
type memSlots struct {
	mu   sync.Mutex
	recs []backup.Slot
}

func (m *memSlots) RecordSlot(_ context.Context, s backup.Slot) error {
	if err := s.Validate(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, s)
	return nil
}

func stepKinds(s backup.Slot) []backup.SlotStepKind {
	var out []backup.SlotStepKind
	for _, st := range s.Steps {
		out = append(out, st.Kind)
	}
	return out
}

// TestSlotRecordsExplainFaults drives one slot of a sharded cluster per
// fault of the simulator on a virtual clock and checks the slot's record:
// its outcome, reason code, part, sentence and steps.
func TestSlotRecordsExplainFaults(t *testing.T) {
	const (
		stopReq   = backup.StepBalancerStopRequested
		stopped   = backup.StepBalancerStopped
		written   = backup.StepTokenWritten
		found     = backup.StepTokenDiscovered
		restarted = backup.StepBalancerRestarted
		reported  = backup.StepReported
	)
	clean := []backup.SlotStepKind{stopReq, stopped, written, written, written, written, restarted, found, found, found, found, reported}
	tests := []struct {
		name    string
		faults  sim.Faults
		timeout engine.Timeouts
		outcome backup.SlotOutcome
		reason  backup.SlotReason
		part    string
		detail  string
		steps   []backup.SlotStepKind
	}{
		{name: "clean", outcome: backup.SlotTaken, steps: clean},
		{name: "balancer would not stop", faults: sim.Faults{StopDelay: 5 * time.Minute}, timeout: engine.Timeouts{Stop: 30 * time.Second},
			outcome: backup.SlotSkipped, reason: backup.ReasonBalancerNotStopped, detail: "balancer would not stop within 30s",
			steps: []backup.SlotStepKind{stopReq, restarted}},
		{name: "balancer stop fails", faults: sim.Faults{StopErr: errors.New("no mongos reachable")},
			outcome: backup.SlotFailed, reason: backup.ReasonBalancerStopFailed, detail: "balancer could not be stopped: sim: stop balancer: no mongos reachable",
			steps: []backup.SlotStepKind{stopReq, restarted}},
		{name: "lost token", faults: sim.Faults{Lost: []string{"Cluster0-shard-1"}}, timeout: engine.Timeouts{Discovery: 90 * time.Second},
			outcome: backup.SlotNotRestorable, reason: backup.ReasonTokenNotDiscovered, part: "Cluster0-shard-1",
			detail: "token on shard Cluster0-shard-1 not discovered within 1m30s",
			steps:  []backup.SlotStepKind{stopReq, stopped, written, written, written, written, restarted, found, found, found, reported}},
		{name: "shard unreachable", faults: sim.Faults{Unreachable: []string{"Cluster0-shard-2"}},
			outcome: backup.SlotNotRestorable, reason: backup.ReasonPartUnreachable, part: "Cluster0-shard-2",
			detail: "shard Cluster0-shard-2 unreachable: token not written",
			steps:  []backup.SlotStepKind{stopReq, stopped, written, written, written, restarted, found, found, found, reported}},
		{name: "balancer not restarted", faults: sim.Faults{StartErr: errors.New("config server primary stepped down")},
			outcome: backup.SlotTaken, reason: backup.ReasonBalancerNotRestarted,
			steps: []backup.SlotStepKind{stopReq, stopped, written, written, written, written, found, found, found, found, reported}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewVirtual(t0)
			st, rec := newMemStore(), &memSlots{}
			c := shardedCluster()
			s0 := mustSim(t, c, clk, 1, steadyConfig())
			s0.SetFaults(tc.faults)
			s, err := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st, Slots: rec, Timeouts: tc.timeout,
				Schedules: []engine.Schedule{{Cluster: c, Driver: s0, Interval: 15 * time.Minute}}})
			if err != nil {
				t.Fatal(err)
			}
			drive(t, s, clk, 1, t0.Add(14*time.Minute))
			if len(rec.recs) != 1 {
				t.Fatalf("%d records, want the 10:00 slot's", len(rec.recs))
			}
			r := rec.recs[0]
			if !r.Time.Equal(t0) || r.ClusterID != c.ID || r.GroupID != c.GroupID || r.Source != backup.SourceEngine {
				t.Errorf("record of %v, cluster %s, source %s", r.Time, r.ClusterID.Hex(), r.Source)
			}
			if r.Outcome != tc.outcome || r.Reason != tc.reason || r.Part != tc.part {
				t.Errorf("outcome %s, reason %s, part %q; want %s, %s, %q (detail %q)", r.Outcome, r.Reason, r.Part, tc.outcome, tc.reason, tc.part, r.Detail)
			}
			if tc.detail != "" && r.Detail != tc.detail {
				t.Errorf("detail %q, want %q", r.Detail, tc.detail)
			}
			if tc.reason == "" && r.Detail != "" {
				t.Errorf("a clean slot has detail %q", r.Detail)
			}
			if got := stepKinds(r); !slices.Equal(got, tc.steps) {
				t.Errorf("steps %v\nwant  %v", got, tc.steps)
			}
			for i := 1; i < len(r.Steps); i++ {
				if r.Steps[i].At.Before(r.Steps[i-1].At) || r.Steps[i].At.Before(t0) {
					t.Errorf("step %d at %v, before the one before it or the slot", i, r.Steps[i].At)
				}
			}
			hasCP := len(st.added[c.ID]) == 1
			if hasCP != !r.CheckpointID.IsZero() || hasCP && st.kept[c.ID][0].ID != r.CheckpointID {
				t.Errorf("record names checkpoint %s; stored %v", r.CheckpointID.Hex(), st.added[c.ID])
			}
		})
	}
}

// refusingSink refuses every checkpoint.
type refusingSink struct{ err error }

func (f refusingSink) AddCheckpoint(context.Context, backup.Checkpoint) error { return f.err }

// failingClaimer cannot claim.
type failingClaimer struct{}

func (failingClaimer) Claim(context.Context, backup.ObjectID, time.Time) (bool, error) {
	return false, errors.New("store unreachable")
}

// TestSlotRecordsOfStoreFaults: a checkpoint the store refused, and a slot
// that could not be claimed, are FAILED with their reasons; a slot another
// instance claimed is not this instance's to record.
func TestSlotRecordsOfStoreFaults(t *testing.T) {
	c := shardedCluster()
	for _, tc := range []struct {
		name    string
		sink    engine.Sink
		claimer engine.Claimer
		reason  backup.SlotReason
		records int
	}{
		{"not stored", refusingSink{errors.New("disk full")}, nil, backup.ReasonNotStored, 1},
		{"claim failed", newMemStore(), failingClaimer{}, backup.ReasonClaimFailed, 1},
		{"another instance's", newMemStore(), oddClaimer{}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewVirtual(t0.Add(15 * time.Minute))
			rec := &memSlots{}
			s, err := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: tc.sink, Pruner: newMemStore(), Claimer: tc.claimer, Slots: rec,
				Schedules: []engine.Schedule{{Cluster: c, Driver: mustSim(t, c, clk, 1, steadyConfig()), Interval: 15 * time.Minute}}})
			if err != nil {
				t.Fatal(err)
			}
			drive(t, s, clk, 1, t0.Add(29*time.Minute))
			if len(rec.recs) != tc.records {
				t.Fatalf("%d records, want %d", len(rec.recs), tc.records)
			}
			if tc.records == 1 {
				if r := rec.recs[0]; r.Outcome != backup.SlotFailed || r.Reason != tc.reason || !r.CheckpointID.IsZero() || r.Detail == "" {
					t.Errorf("record %+v, want FAILED with %s", r, tc.reason)
				}
			}
		})
	}
}

// TestSlotRecordOfCancelledSlot: a slot cut short by shutdown, before or
// during the procedure, is FAILED with ABANDONED, whatever step it was
// at.
func TestSlotRecordOfCancelledSlot(t *testing.T) {
	c := shardedCluster()
	for _, tc := range []struct {
		name string
		tr   engine.Trace
		err  error
	}{
		{"before the procedure", engine.Trace{}, context.Canceled},
	} {
		r := engine.SlotRecord(c, t0, backup.Checkpoint{}, tc.tr, tc.err, nil, backup.SourceEngine, t0.Add(time.Minute))
		if r.Outcome != backup.SlotFailed || r.Reason != backup.ReasonAbandoned || r.Validate() != nil {
			t.Errorf("%s: %+v", tc.name, r)
		}
	}
	// During: the scheduler is cancelled while the agent is on its way
	// to the mongos.
	clk := clock.NewVirtual(t0.Add(time.Minute))
	st, rec := newMemStore(), &memSlots{}
	s, _ := engine.New(engine.Config{Clock: clk, IDs: newIDs(), Sink: st, Pruner: st, Slots: rec,
		Schedules: []engine.Schedule{{Cluster: c, Driver: mustSim(t, c, clk, 1, steadyConfig()), Interval: 15 * time.Minute}}})
	drive(t, s, clk, 1, t0.Add(15*time.Minute+time.Second))
	if len(rec.recs) != 1 || rec.recs[0].Outcome != backup.SlotFailed || rec.recs[0].Reason != backup.ReasonAbandoned {
		t.Fatalf("records %+v, want the 10:15 slot FAILED, ABANDONED", rec.recs)
	}
}
