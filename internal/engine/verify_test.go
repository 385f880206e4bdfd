package engine_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// TestVerifyCheckpoint breaks a valid checkpoint one rule at a time.
func TestVerifyCheckpoint(t *testing.T) {
	c := shardedCluster()
	clk := clock.NewAuto(t0)
	cp, err := engine.Take(context.Background(), mustSim(t, c, clk, 1, steadyConfig()), c, engine.Options{Clock: clk, IDs: newIDs(), Slot: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := backup.VerifyCheckpoint(c, cp); err != nil {
		t.Fatalf("Verify(valid) = %v", err)
	}
	for _, tt := range []struct {
		name   string
		mutate func(cp *backup.Checkpoint)
	}{
		{"no id", func(cp *backup.Checkpoint) { cp.ID = backup.NilObjectID }},
		{"id of another time", func(cp *backup.Checkpoint) { cp.ID = newIDs().New(cp.Started.Add(time.Second)) }},
		{"other cluster", func(cp *backup.Checkpoint) { cp.ClusterID = mirroredCluster().ID }},
		{"other project", func(cp *backup.Checkpoint) { cp.GroupID = cp.ClusterID }},
		{"no completed", func(cp *backup.Checkpoint) { cp.Completed = time.Time{} }},
		{"sub-second time", func(cp *backup.Checkpoint) { cp.Completed = cp.Completed.Add(time.Millisecond) }},
		{"timestamp after started", func(cp *backup.Checkpoint) { cp.Timestamp = cp.Started.Add(time.Second) }},
		{"started after completed", func(cp *backup.Checkpoint) { cp.Completed = cp.Started.Add(-time.Second) }},
		{"a part missing", func(cp *backup.Checkpoint) { cp.Parts = cp.Parts[:3] }},
		{"parts out of order", func(cp *backup.Checkpoint) { cp.Parts[0], cp.Parts[1] = cp.Parts[1], cp.Parts[0] }},
		{"wrong part type", func(cp *backup.Checkpoint) { cp.Parts[3].Type = backup.PartConfigServer }},
		{"increment 0", func(cp *backup.Checkpoint) { cp.Parts[1].TokenTimestamp.Increment = 0 }},
		{"discovered without date", func(cp *backup.Checkpoint) { cp.Parts[1].TokenTimestamp.Date = time.Time{} }},
		{"timestamp without token", func(cp *backup.Checkpoint) { cp.Parts[1].TokenDiscovered = false }},
		{"restorable with a token missing", func(cp *backup.Checkpoint) {
			cp.Parts[1].TokenDiscovered, cp.Parts[1].TokenTimestamp = false, backup.BSONTimestamp{}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := cp
			bad.Parts = slices.Clone(cp.Parts)
			tt.mutate(&bad)
			err := backup.VerifyCheckpoint(c, bad)
			if e := backup.ErrorOf(err); e == nil || e.Kind != backup.Invalid || e.Code != backup.CodeInvalidAttribute {
				t.Errorf("Verify() = %v, want INVALID_ATTRIBUTE", err)
			}
		})
	}
}
