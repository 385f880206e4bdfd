package admin

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// ParseDriver parses "agent" or "simulated" (any case; the stored names
// AGENT and SIMULATED too).
func ParseDriver(s string) (backup.Driver, error) {
	switch d := backup.Driver(strings.ToUpper(strings.TrimSpace(s))); d {
	case backup.DriverAgent, backup.DriverSimulated:
		return d, nil
	}
	return "", backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
		"Unknown driver %s: use agent (a backup agent reports the checkpoints) or simulated (the server takes them of a simulated cluster).",
		strconv.Quote(s))
}

// ParseInterval parses a checkpoint interval in minutes: a whole number,
// optionally followed by "m" ("15", "15m"), or "off" for none (as "0").
// Only the number is checked here: which intervals a cluster may have
// (15, 30 or 60 minutes, sharded clusters only) is the domain's rule,
// checked by backup.Cluster.Validate with the service's messages.
func ParseInterval(s string) (time.Duration, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "off" {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSuffix(t, "m"))
	// Beyond maxMinutes the Duration would wrap: 9007199254741007 minutes
	// (2^53 + 15) would be taken as 15.
	if err != nil || n < 0 || n > maxMinutes {
		return 0, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: %s is not a number of minutes; use 15, 30, 60, or off (0) for no checkpoints.",
			"clusterCheckpointIntervalMin", strconv.Quote(s))
	}
	return time.Duration(n) * time.Minute, nil
}

// The largest numbers of minutes and hours a time.Duration holds.
const (
	maxMinutes = int(math.MaxInt64 / time.Minute)
	maxHours   = int(math.MaxInt64 / time.Hour)
)

// WindowHours is a point-in-time window of h hours. A window of zero
// hours, which the domain reads as the default, is refused: an operator
// who gives a window means that many hours. The upper bound is the
// domain's (backup.Cluster.Validate).
func WindowHours(h int) (time.Duration, error) {
	if h < 1 || h > maxHours {
		return 0, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Invalid attribute %s specified: a window is a whole number of hours from 1 to %d, not %d.",
			"pointInTimeWindowHours", int(backup.MaxWindow/time.Hour), h)
	}
	return time.Duration(h) * time.Hour, nil
}

// ClusterChange is what an update changes in a cluster: each field that
// is nil stays as it is. The type of a cluster cannot change: Shards
// resizes a sharded cluster and is refused for a replica set, as zero is
// for a sharded cluster.
type ClusterChange struct {
	// Name renames the cluster. Its replica sets keep their names, as a
	// real cluster's do.
	Name *string
	// Shards grows a sharded cluster with shards NAME-shard-I, or shrinks
	// it by its last shards.
	Shards *int
	// ConfigServers converts a sharded cluster's config servers; asking
	// for the kind it has keeps them.
	ConfigServers  *ConfigServers
	MongoDBVersion *string
	Backup         *backup.BackupKind
	Driver         *backup.Driver
	// Interval is the checkpoint interval; zero turns checkpoints off.
	Interval *time.Duration
	// Window is the point-in-time window; zero restores the default.
	Window *time.Duration
}

// IsZero reports whether ch changes nothing.
func (ch ClusterChange) IsZero() bool { return ch == ClusterChange{} }

// ApplyClusterChange returns c with ch applied and validated; c itself is
// not modified. It does not store the result.
func ApplyClusterChange(c backup.Cluster, ch ClusterChange) (backup.Cluster, error) {
	if ch.IsZero() {
		return backup.Cluster{}, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "The update changes nothing.")
	}
	c.Shards = append([]backup.Shard(nil), c.Shards...)
	c.Config.HostIDs = append([]string(nil), c.Config.HostIDs...)
	if ch.Name != nil {
		if err := checkClusterName(*ch.Name); err != nil {
			return backup.Cluster{}, err
		}
		c.Name = *ch.Name
	}
	if ch.MongoDBVersion != nil {
		if err := checkVersion(*ch.MongoDBVersion); err != nil {
			return backup.Cluster{}, err
		}
		c.MongoDBVersion = *ch.MongoDBVersion
	}
	if ch.Shards != nil {
		n := *ch.Shards
		if err := checkShards(n); err != nil {
			return backup.Cluster{}, err
		}
		switch {
		case c.Type == backup.ReplicaSet && n > 0:
			return backup.Cluster{}, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
				"The type of a cluster cannot change: %s is a replica set, which has no shards.", c.Name)
		case c.Type == backup.Sharded && n == 0:
			return backup.Cluster{}, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
				"The type of a cluster cannot change: %s is a sharded cluster, which keeps 1 to %d shards.", c.Name, MaxShards)
		case c.Type == backup.Sharded:
			c.Shards = resizeShards(c.Shards, c.Name, n)
		}
	}
	if ch.ConfigServers != nil {
		if c.Type != backup.Sharded {
			return backup.Cluster{}, errReplicaSetConfig()
		}
		if err := setConfigServers(&c, *ch.ConfigServers); err != nil {
			return backup.Cluster{}, err
		}
	}
	if err := checkMirrored(c); err != nil {
		return backup.Cluster{}, err
	}
	if ch.Backup != nil {
		c.Backup = *ch.Backup
	}
	if ch.Driver != nil {
		c.Schedule.Driver = *ch.Driver
	}
	if ch.Interval != nil {
		c.Schedule.Interval = *ch.Interval
	}
	if ch.Window != nil {
		c.Schedule.Window = *ch.Window
	}
	if err := c.Validate(); err != nil {
		return backup.Cluster{}, err
	}
	return c, nil
}

// ClusterUpdater reads and replaces clusters.
type ClusterUpdater interface {
	Cluster(ctx context.Context, ref backup.ClusterRef) (backup.Cluster, error)
	UpdateCluster(ctx context.Context, c backup.Cluster) error
}

// UpdateCluster reads the cluster ref names, applies ch to it
// (ApplyClusterChange) and stores the result (GROUP_NOT_FOUND,
// CLUSTER_NOT_FOUND, DUPLICATE_CLUSTER_NAME from the store). A server's
// engine follows the new schedule within its --engine-refresh.
func UpdateCluster(ctx context.Context, st ClusterUpdater, ref backup.ClusterRef, ch ClusterChange) (backup.Cluster, error) {
	c, err := st.Cluster(ctx, ref)
	if err != nil {
		return backup.Cluster{}, err
	}
	if c, err = ApplyClusterChange(c, ch); err != nil {
		return backup.Cluster{}, err
	}
	if err := st.UpdateCluster(ctx, c); err != nil {
		return backup.Cluster{}, err
	}
	return c, nil
}
