package demo_test

import (
	"context"
	"strings"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/demo"
)

// TestSeedSlots: the demo's history has a record of every slot it went
// through, one per checkpoint, with the simulator's faults explained: the
// slots skipped because the balancer would not stop within the stop
// timeout, and the checkpoints a lost token left not restorable, naming
// the part.
func TestSeedSlots(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db := openStore(t)
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	all := stored(t, db, ds)
	skipped, lost := 0, 0
	for _, c := range ds.Clusters {
		ref := backup.ClusterRef{GroupID: c.GroupID, Name: c.Name}
		p, err := db.Slots(ctx, ref, backup.SlotFilter{}, backup.PageRequest{Num: 1, Size: 5000, IncludeCount: true})
		if err != nil {
			t.Fatal(err)
		}
		byCheckpoint := map[backup.ObjectID]backup.Slot{}
		for _, s := range p.Items {
			if !s.CheckpointID.IsZero() {
				byCheckpoint[s.CheckpointID] = s
			}
			switch s.Outcome {
			case backup.SlotSkipped:
				skipped++
				if s.Reason != backup.ReasonBalancerNotStopped || !strings.HasPrefix(s.Detail, "balancer would not stop within ") {
					t.Errorf("%s: skipped slot %v: %s %q", c.Name, s.Time, s.Reason, s.Detail)
				}
			case backup.SlotNotRestorable:
				lost++
				if s.Reason != backup.ReasonTokenNotDiscovered || s.Part == "" || !strings.Contains(s.Detail, s.Part+" not discovered within ") {
					t.Errorf("%s: not restorable slot %v: %s %q part %q", c.Name, s.Time, s.Reason, s.Detail, s.Part)
				}
			case backup.SlotTaken:
			default:
				t.Errorf("%s: slot %v is %s (%s)", c.Name, s.Time, s.Outcome, s.Detail)
			}
		}
		for _, cp := range all[c.Name] {
			s, ok := byCheckpoint[cp.ID]
			switch {
			case !ok:
				t.Fatalf("%s: checkpoint %s has no slot record", c.Name, cp.ID.Hex())
			case !s.Time.Equal(cp.Timestamp) || (s.Outcome == backup.SlotTaken) != cp.Restorable:
				t.Errorf("%s: checkpoint %s at %v restorable %v, its slot %v %s", c.Name, cp.ID.Hex(), cp.Timestamp, cp.Restorable, s.Time, s.Outcome)
			}
		}
	}
	if skipped == 0 || lost == 0 {
		t.Errorf("%d skipped slots and %d lost tokens: the demo's faults do not show", skipped, lost)
	}
}
