package backup

import "time"

// Driver says who takes a cluster's checkpoints.
type Driver string

// Drivers.
const (
	// DriverAgent: an external backup agent takes them on the real cluster
	// and reports each one to the server (the ingestion endpoint). The zero
	// Driver means this one.
	DriverAgent Driver = "AGENT"
	// DriverSimulated: the server's own engine takes them, on a simulation
	// of the cluster (demo and test fleets).
	DriverSimulated Driver = "SIMULATED"
)

// DefaultWindow is the point-in-time window of a schedule that names
// none: 24 hours, legacy backup's default. A restore from a checkpoint
// replays the oplog from the last snapshot before it, and the oplog store
// kept 24 hours by default, so older checkpoints could not be restored.
const DefaultWindow = 24 * time.Hour

// MaxWindow bounds the point-in-time window (30 days): a checkpoint
// interval of 15 minutes keeps at most 2 880 checkpoints per cluster.
const MaxWindow = 720 * time.Hour

// CheckpointSchedule is a cluster's legacy checkpoint schedule. The zero
// value is an agent-driven cluster with checkpoints off and the default
// window.
type CheckpointSchedule struct {
	Driver Driver
	// Interval is the legacy snapshot schedule's
	// clusterCheckpointIntervalMin: 15, 30 or 60 minutes, on a fixed grid
	// in UTC; zero when checkpoints are off (the service then omits the
	// field). Sharded clusters only, as on the service.
	Interval time.Duration
	// Window is pointInTimeWindowHours: checkpoints whose timestamp is
	// more than this before the newest slot are pruned. Zero means
	// DefaultWindow.
	Window time.Duration
	// Objective is the recovery point objective: the most time the
	// cluster may go without a restorable checkpoint (ObjectiveReport
	// measures it); zero when none is declared. Whole minutes, at least
	// Interval when checkpoints are on a grid.
	Objective time.Duration
}

// DriverOrDefault is s.Driver, DriverAgent when unset.
func (s CheckpointSchedule) DriverOrDefault() Driver {
	if s.Driver == "" {
		return DriverAgent
	}
	return s.Driver
}

// WindowOrDefault is s.Window, DefaultWindow when unset.
func (s CheckpointSchedule) WindowOrDefault() time.Duration {
	if s.Window == 0 {
		return DefaultWindow
	}
	return s.Window
}

// CodeCannotSetIntervalForReplicaSet is the service's answer to a
// checkpoint interval on a replica set.
const CodeCannotSetIntervalForReplicaSet = "CANNOT_SET_CLUSTER_CHECKPOINT_INTERVAL_FOR_REPLICA_SET"

// CheckInterval accepts the checkpoint intervals of the legacy schedule,
// 15, 30 and 60 minutes.
func CheckInterval(d time.Duration) error {
	switch d {
	case 15 * time.Minute, 30 * time.Minute, 60 * time.Minute:
		return nil
	}
	return AttrErrorf("clusterCheckpointIntervalMin", CodeInvalidAttribute,
		"Invalid attribute %s specified: a checkpoint interval is 15, 30 or 60 minutes, not %s.",
		"clusterCheckpointIntervalMin", d.String())
}

// validateSchedule checks c.Schedule against c.
func (c *Cluster) validateSchedule() error {
	s := c.Schedule
	switch s.Driver {
	case "", DriverAgent, DriverSimulated:
	default:
		return AttrErrorf("backup.driver", CodeInvalidAttribute, "Invalid attribute %s specified: %q is neither %s nor %s.",
			"backup.driver", string(s.Driver), DriverAgent, DriverSimulated)
	}
	if s.Interval != 0 {
		if err := CheckInterval(s.Interval); err != nil {
			return err
		}
		if c.Type == ReplicaSet {
			return AttrErrorf("clusterCheckpointIntervalMin", CodeCannotSetIntervalForReplicaSet,
				"Cluster checkpoint interval can only be set for sharded clusters, not replica sets.")
		}
		if c.Backup != BackupLegacy {
			return AttrErrorf("clusterCheckpointIntervalMin", CodeInvalidAttribute,
				"Invalid attribute %s specified: checkpoints exist only under legacy backup (backup.kind %s).",
				"clusterCheckpointIntervalMin", BackupLegacy)
		}
	}
	if w := s.Window; w != 0 && (w < time.Hour || w > MaxWindow || w%time.Hour != 0 || w < s.Interval) {
		return AttrErrorf("pointInTimeWindowHours", CodeInvalidAttribute,
			"Invalid attribute %s specified: a window is a whole number of hours from 1 to %d, at least the checkpoint interval, not %s.",
			"pointInTimeWindowHours", int(MaxWindow/time.Hour), w.String())
	}
	return s.validateObjective()
}
