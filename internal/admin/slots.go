package admin

import (
	"context"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// SlotClaimer is the store's lease on checkpoint slots (store.Store's
// ClaimSlot).
type SlotClaimer interface {
	ClaimSlot(ctx context.Context, clusterID backup.ObjectID, slot time.Time, owner string, ttl time.Duration) (bool, error)
}

// MaxOwnerLen bounds a slot claim's owner name (engine.OwnerID's are host
// name, process id and 12 hex digits).
const MaxOwnerLen = 200

// MaxSlotSkew is how far ahead of the server's clock a claimed slot may
// be: agents' clocks differ a little, never by hours.
const MaxSlotSkew = 5 * time.Minute

// ClaimSlot claims the checkpoint slot at slot of c for a backup agent
// named owner, for engine.DefaultLeaseTTL, so that of several agents of
// one cluster exactly one takes each slot (the store's lease, as the
// server's own instances share slots). It reports false when another
// owner holds the slot or the slot is done.
//
// The claim is refused (INVALID_ATTRIBUTE naming the field) unless c is
// under legacy backup (CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP otherwise),
// its checkpoints are taken by an agent and scheduled, and slot is on the
// schedule's grid, a whole second, neither more than MaxSlotSkew after
// clk's now nor older than the cluster's window: a slot the schedule does
// not have cannot be claimed, so that a claim always names a checkpoint the
// ingestion endpoint would accept.
//
// The caller's right to report for c is the caller's to check (it read c
// as the caller of ctx, CheckReporter); the lease itself is the server's
// bookkeeping, never a caller's, so it is taken as backup.System.
func ClaimSlot(ctx context.Context, st SlotClaimer, c backup.Cluster, slot time.Time, owner string, clk clock.Clock) (bool, error) {
	if c.Backup != backup.BackupLegacy {
		return false, backup.ErrNotLegacyBackup()
	}
	s := c.Schedule
	if d := s.DriverOrDefault(); d != backup.DriverAgent {
		return false, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: cluster %s's checkpoints are taken by its %s driver, not by an agent.", "backup.driver", c.Name, d)
	}
	if s.Interval == 0 {
		return false, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: cluster %s has no checkpoint schedule.", "clusterCheckpointIntervalMin", c.Name)
	}
	if owner == "" || len(owner) > MaxOwnerLen || hasControl(owner) {
		return false, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: an owner is 1 to %d characters without control characters.", "owner", MaxOwnerLen)
	}
	slot, now := slot.UTC(), clk.Now()
	switch {
	case !slot.Equal(slot.Truncate(s.Interval)):
		return false, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is not on the %s grid of cluster %s's schedule.", "slot", slot.Format(time.RFC3339Nano), s.Interval, c.Name)
	case slot.After(now.Add(MaxSlotSkew)):
		return false, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is in the future.", "slot", slot.Format(time.RFC3339))
	case slot.Before(now.Add(-s.WindowOrDefault())):
		return false, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is older than the cluster's point-in-time window.", "slot", slot.Format(time.RFC3339))
	}
	return st.ClaimSlot(backup.WithPrincipal(ctx, backup.System), c.ID, slot, owner, engine.DefaultLeaseTTL)
}

// SlotStore reads a cluster's slot records and stores an agent's (the
// store's Slots, CheckpointSlot and RecordSlot).
type SlotStore interface {
	Slots(ctx context.Context, ref backup.ClusterRef, filter backup.SlotFilter, page backup.PageRequest) (backup.Page[backup.Slot], error)
	CheckpointSlot(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.Slot, error)
	RecordSlot(ctx context.Context, s backup.Slot) error
}

// ListSlots returns one page of a cluster's slot records that pass f,
// newest first, as the caller of ctx may read them.
func (a Clusters) ListSlots(ctx context.Context, ref backup.ClusterRef, f backup.SlotFilter, page backup.PageRequest) (backup.Page[backup.Slot], error) {
	return a.Store.Slots(ctx, ref, f, page)
}

// CheckpointSlot returns the record of the slot that stored a checkpoint
// (CHECKPOINT_NOT_FOUND, SLOT_NOT_FOUND).
func (a Clusters) CheckpointSlot(ctx context.Context, ref backup.ClusterRef, id backup.ObjectID) (backup.Slot, error) {
	return a.Store.CheckpointSlot(ctx, ref, id)
}

// ReportSlot stores a backup agent's record of a slot of c, a cluster
// whose checkpoints an agent takes, read as the caller (who must be
// allowed to report for it). The slot must be one ClaimSlot would accept
// (on the schedule's grid, not in the future, within the window), and
// the record says what the agent saw: any outcome but MISSED (the
// server's to say), with its reason. The record's cluster, project,
// source (AGENT) and time recorded are the server's.
func (a Clusters) ReportSlot(ctx context.Context, c backup.Cluster, s backup.Slot) (backup.Slot, error) {
	if c.Schedule.DriverOrDefault() != backup.DriverAgent {
		return s, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: cluster %s's checkpoints are taken by its %s driver, not by an agent.", "backup.driver", c.Name, c.Schedule.DriverOrDefault())
	}
	if c.Schedule.Interval == 0 {
		return s, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: cluster %s has no checkpoint schedule.", "clusterCheckpointIntervalMin", c.Name)
	}
	now := a.clock().Now()
	slot := s.Time.UTC()
	switch {
	case !slot.Equal(slot.Truncate(c.Schedule.Interval)):
		return s, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is not on the %s grid of cluster %s's schedule.", "slot", slot.Format(time.RFC3339Nano), c.Schedule.Interval, c.Name)
	case slot.After(now.Add(MaxSlotSkew)):
		return s, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is in the future.", "slot", slot.Format(time.RFC3339))
	case slot.Before(now.Add(-c.Schedule.WindowOrDefault())):
		return s, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is older than the cluster's point-in-time window.", "slot", slot.Format(time.RFC3339))
	case s.Outcome == backup.SlotMissed:
		return s, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is the server's to record; an agent reports what it did.", "outcome", string(backup.SlotMissed))
	}
	s.ClusterID, s.GroupID, s.ClusterName = c.ID, c.GroupID, c.Name
	s.Time, s.Source, s.Recorded = slot, backup.SourceAgent, second(now)
	if err := a.Store.RecordSlot(ctx, s); err != nil {
		return s, err
	}
	return s, nil
}
