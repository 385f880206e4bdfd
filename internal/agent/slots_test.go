package agent_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
)

// slotRecords reads the server's records of the agent's cluster, newest
// first.
func (e *env) slotRecords(t *testing.T) []backup.Slot {
	t.Helper()
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	p, err := e.DB.Slots(ctx, backup.ClusterRef{GroupID: e.Cluster.GroupID, ID: e.Cluster.ID}, backup.SlotFilter{}, backup.PageRequest{Num: 1, Size: 500})
	if err != nil {
		t.Fatal(err)
	}
	return p.Items
}

// TestAgentReportsSlots: an agent reports the record of every slot it
// takes, over the administration API, beside the checkpoints: a slot
// skipped because the balancer would not stop, with no checkpoint, and a
// slot whose shard was unreachable, with the not-restorable checkpoint and
// the shard named; two agents of one cluster leave one record per slot.
func TestAgentReportsSlots(t *testing.T) {
	for _, tc := range []struct {
		name    string
		faults  sim.Faults
		agents  int
		outcome backup.SlotOutcome
		reason  backup.SlotReason
		part    string
	}{
		{"balancer would not stop", sim.Faults{StopDelay: 2 * time.Minute}, 1, backup.SlotSkipped, backup.ReasonBalancerNotStopped, ""},
		{"shard unreachable", sim.Faults{Unreachable: []string{"Shop0-shard-1"}}, 1, backup.SlotNotRestorable, backup.ReasonPartUnreachable, "Shop0-shard-1"},
		{"two agents", sim.Faults{}, 2, backup.SlotTaken, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			srv := e.wire(t, mongowire.Options{})
			srv.Cluster().SetFaults(tc.faults)
			var stops []func()
			for range tc.agents {
				stops = append(stops, runAgent(t, e.config(t, e.driver(t, srv), t.TempDir(), nil)))
			}
			waitFor(t, "2 slot records", func() bool { return len(e.slotRecords(t)) >= 2 })
			for _, stop := range stops {
				stop()
			}
			recs := e.slotRecords(t)
			cps := map[backup.ObjectID]bool{}
			for _, cp := range e.checkpoints(t) {
				cps[cp.ID] = true
			}
			for i, r := range recs {
				if r.Outcome != tc.outcome || r.Reason != tc.reason || r.Part != tc.part || r.Source != backup.SourceAgent {
					t.Errorf("record %d: %s %s part %q source %s (%q); want %s %s %q", i, r.Outcome, r.Reason, r.Part, r.Source, r.Detail, tc.outcome, tc.reason, tc.part)
				}
				if !r.CheckpointID.IsZero() && !cps[r.CheckpointID] {
					t.Errorf("record %d names checkpoint %s, which the server does not have", i, r.CheckpointID.Hex())
				}
				if i > 0 && !r.Time.Before(recs[i-1].Time) {
					t.Errorf("two records of the slot %s", r.Time)
				}
				if len(r.Steps) == 0 {
					t.Errorf("record %d has no steps", i)
				}
			}
		})
	}
}
