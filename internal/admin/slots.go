package admin

import (
	"context"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
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
// schedule's grid, a whole second, neither more than MaxSlotSkew after now
// nor older than the cluster's window: a slot the schedule does not have
// cannot be claimed, so that a claim always names a checkpoint the
// ingestion endpoint would accept.
//
// The caller's right to report for c is the caller's to check (it read c
// as the caller of ctx, CheckReporter); the lease itself is the server's
// bookkeeping, never a caller's, so it is taken as backup.System.
func ClaimSlot(ctx context.Context, st SlotClaimer, c backup.Cluster, slot time.Time, owner string, now time.Time) (bool, error) {
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
	slot = slot.UTC()
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
