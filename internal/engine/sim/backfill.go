package sim

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// BackfillOptions shape a backfilled history.
type BackfillOptions struct {
	// Interval is the schedule's, 15, 30 or 60 minutes.
	Interval time.Duration
	// Seed makes the history; the same seed, cluster and options give the
	// same checkpoints.
	Seed uint64
	// Config shapes the simulated cluster; nil means DefaultConfig.
	Config *Config
	// Faults, if set, apply throughout.
	Faults Faults
	// IDs makes the checkpoint ids; nil means a source derived from Seed
	// and the cluster's id.
	IDs      *backup.IDSource
	Timeouts engine.Timeouts
}

// Backfill returns the checkpoints a schedule would have taken of c in
// the slots from start up to end, oldest first, by running the engine's
// procedure against a simulation of c on an automatic virtual clock: the
// history as it stood at end, so only checkpoints completed before end
// are in it. Slots whose balancer could not be stopped have no
// checkpoint, as under the scheduler. The schedule is checked as the
// scheduler checks it (Schedule.Validate).
func Backfill(ctx context.Context, c backup.Cluster, start, end time.Time, o BackfillOptions) ([]backup.Checkpoint, error) {
	cps, _, err := BackfillSlots(ctx, c, start, end, o)
	return cps, err
}

// BackfillSlots is Backfill, and the record of every slot the history
// went through (engine.SlotRecord), oldest first: the slots without a
// checkpoint (the balancer would not stop) and those whose checkpoint is
// not restorable (a token lost) with their reasons. A slot whose
// checkpoint completed after end has no record either.
func BackfillSlots(ctx context.Context, c backup.Cluster, start, end time.Time, o BackfillOptions) ([]backup.Checkpoint, []backup.Slot, error) {
	clk := clock.NewAuto(start)
	cfg := DefaultConfig()
	if o.Config != nil {
		cfg = *o.Config
	}
	sim, err := New(c, clk, o.Seed, cfg)
	if err != nil {
		return nil, nil, err
	}
	sim.SetFaults(o.Faults)
	if err := (engine.Schedule{Cluster: c, Driver: sim, Interval: o.Interval}).Validate(); err != nil {
		return nil, nil, err
	}
	source := backup.SourceEngine
	if c.Schedule.DriverOrDefault() == backup.DriverAgent {
		source = backup.SourceAgent
	}
	ids := o.IDs
	if ids == nil {
		ids = seededIDs(o.Seed, c.ID)
	}
	var out []backup.Checkpoint
	var slots []backup.Slot
	for slot := engine.NextSlot(start, o.Interval); slot.Before(end); {
		clk.AdvanceTo(slot)
		cp, tr, err := engine.TakeTraced(ctx, sim, c, engine.Options{Clock: clk, IDs: ids, Slot: slot, Timeouts: o.Timeouts})
		if err := ctx.Err(); err != nil {
			return out, slots, err
		}
		// Errors other than ctx's are a skipped slot or a balancer left
		// stopped; the scheduler logs them, history shows the gap and the
		// slot's record says why.
		switch {
		case !cp.ID.IsZero() && cp.Completed.Before(end):
			out = append(out, cp)
			slots = append(slots, engine.SlotRecord(c, slot, cp, tr, err, nil, source, clk.Now()))
		case cp.ID.IsZero() && clk.Now().Before(end):
			slots = append(slots, engine.SlotRecord(c, slot, cp, tr, err, nil, source, clk.Now()))
		}
		next := slot.Add(o.Interval)
		if now := clk.Now(); next.Before(now) {
			next = engine.NextSlot(now, o.Interval)
		}
		slot = next
	}
	return out, slots, nil
}

// seededIDs returns an id source that is a function of seed and cluster.
func seededIDs(seed uint64, cluster backup.ObjectID) *backup.IDSource {
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], seed)
	h.Write(b[:])
	h.Write(cluster[:])
	sum := h.Sum64()
	var unique [5]byte
	binary.BigEndian.PutUint32(unique[1:], uint32(sum>>32))
	unique[0] = byte(sum)
	return backup.NewIDSourceFrom(unique, uint32(sum))
}
