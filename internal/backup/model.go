package backup

import (
	"regexp"
	"time"
)

// Organization owns projects (and, once authentication exists, API keys).
type Organization struct {
	ID      ObjectID
	Name    string
	Created time.Time
}

// Project is what the Atlas and Cloud Manager APIs call a group.
type Project struct {
	ID      ObjectID
	OrgID   ObjectID
	Name    string
	Created time.Time
	// ClusterCount is filled by stores when they read a project; it is
	// ignored on create.
	ClusterCount int
}

// ClusterType is the topology of a cluster.
type ClusterType string

// The cluster types of the legacy backup era.
const (
	ReplicaSet ClusterType = "REPLICA_SET"
	Sharded    ClusterType = "SHARDED"
)

// BackupKind says which backup system protects a cluster. Checkpoints exist
// only under legacy continuous backup; a cluster on Cloud Backup answers the
// checkpoint endpoints with CHECKPOINTS_ONLY_ON_CONTINOUS_BACKUP.
type BackupKind string

// Backup kinds.
const (
	BackupNone   BackupKind = "NONE"
	BackupLegacy BackupKind = "LEGACY"
	BackupCloud  BackupKind = "CLOUD"
)

// Shard is one shard of a sharded cluster, itself a replica set.
type Shard struct {
	Name           string // shard name as in config.shards, e.g. "Cluster0-shard-0"
	ReplicaSetName string
}

// ConfigServer describes a sharded cluster's config servers: either a config
// server replica set (ReplicaSetName set) or legacy mirrored config servers
// (SCCC), identified by host ids.
type ConfigServer struct {
	ReplicaSetName string
	HostIDs        []string
}

// MajorVersion is the major.minor part of MongoDBVersion ("4.0" of
// "4.0.28"), as the APIs print mongoDBMajorVersion.
func (c *Cluster) MajorVersion() string {
	v := c.MongoDBVersion
	dots := 0
	for i := 0; i < len(v); i++ {
		if v[i] == '.' {
			if dots++; dots == 2 {
				return v[:i]
			}
		}
	}
	return v
}

// Mirrored reports whether the config servers are legacy mirrored hosts.
func (c ConfigServer) Mirrored() bool { return c.ReplicaSetName == "" && len(c.HostIDs) > 0 }

// Cluster is a replica set or a sharded cluster in a project.
type Cluster struct {
	ID             ObjectID
	GroupID        ObjectID
	Name           string
	Type           ClusterType
	MongoDBVersion string
	Backup         BackupKind
	// ReplicaSetName names the replica set of a REPLICA_SET cluster.
	ReplicaSetName string
	// Shards and Config describe a SHARDED cluster.
	Shards  []Shard
	Config  ConfigServer
	Created time.Time
	// Schedule is how the cluster's checkpoints are taken and kept.
	Schedule CheckpointSchedule
	// Status is the state of the cluster's backup (Cloud Manager's backup
	// configuration statusName); "" is StatusOrDefault's.
	Status BackupStatus
	// Snapshots is the rest of the legacy snapshot schedule: settings the
	// snapshot schedule resource reads and writes; zero is the defaults.
	Snapshots SnapshotSchedule
}

// clusterNamePattern is the v2 path pattern for clusterName. Length is
// checked separately (1–64, as Atlas names are).
var clusterNamePattern = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]*$`)

// MaxClusterNameLen is the longest cluster name Atlas accepts.
const MaxClusterNameLen = 64

// ValidClusterName reports whether name may name a cluster.
func ValidClusterName(name string) bool {
	return len(name) >= 1 && len(name) <= MaxClusterNameLen && clusterNamePattern.MatchString(name)
}

// Validate checks a cluster's own consistency: every rule of the domain
// on a cluster, each error naming the attribute at fault (Error.Attr).
func (c *Cluster) Validate() error {
	if !ValidClusterName(c.Name) {
		return AttrErrorf("name", CodeInvalidClusterName, "Cluster name %s is invalid.", c.Name)
	}
	switch c.Type {
	case ReplicaSet:
		if c.ReplicaSetName == "" {
			return AttrErrorf("replicaSetName", CodeInvalidAttribute, "A replica set cluster needs a replica set name.")
		}
		if len(c.Shards) != 0 {
			return errReplicaSetShards()
		}
	case Sharded:
		if len(c.Shards) == 0 {
			return AttrErrorf("shards", CodeInvalidAttribute, "A sharded cluster needs at least one shard.")
		}
		seen := map[string]bool{}
		for _, s := range c.Shards {
			if s.Name == "" || s.ReplicaSetName == "" || seen[s.Name] {
				return AttrErrorf("shards", CodeInvalidAttribute, "Shard names must be present and unique.")
			}
			seen[s.Name] = true
		}
		if (c.Config.ReplicaSetName == "") == (len(c.Config.HostIDs) == 0) {
			return AttrErrorf("configServer", CodeInvalidAttribute, "A sharded cluster needs either a config server replica set or mirrored config hosts.")
		}
		hosts := map[string]bool{}
		for _, h := range c.Config.HostIDs {
			if h == "" || hosts[h] {
				return AttrErrorf("configServer", CodeInvalidAttribute, "Mirrored config host ids must be present and unique.")
			}
			hosts[h] = true
		}
	default:
		return AttrErrorf("clusterType", CodeInvalidAttribute, "Unknown cluster type %s: a cluster is REPLICA_SET or SHARDED.", quoteEmpty(string(c.Type)))
	}
	switch c.Backup {
	case BackupNone, BackupLegacy, BackupCloud:
	default:
		return AttrErrorf("backup.kind", CodeInvalidAttribute, "Unknown backup kind %s: backup is LEGACY, CLOUD or NONE.", quoteEmpty(string(c.Backup)))
	}
	if !c.Status.valid() {
		return AttrErrorf("backup.statusName", CodeInvalidAttribute, "Unknown backup status %s.", string(c.Status))
	}
	if err := c.validateSchedule(); err != nil {
		return err
	}
	if err := checkVersion(c.MongoDBVersion); err != nil {
		return err
	}
	return checkMirrored(*c)
}

// PartType is the typeName of a checkpoint part.
type PartType string

// Part types, as the API prints them.
const (
	PartReplicaSet       PartType = "REPLICA_SET"
	PartConfigServer     PartType = "CONFIG_SERVER"             // legacy mirrored config servers (SCCC)
	PartConfigReplicaSet PartType = "CONFIG_SERVER_REPLICA_SET" // config server replica set (CSRS)
)

// BSONTimestamp is a MongoDB oplog timestamp: seconds and an ordinal within
// that second. Real increments start at 1 within each second.
type BSONTimestamp struct {
	Date      time.Time
	Increment uint32
}

// Part is one shard's or config server's share of a checkpoint: whether the
// checkpoint token was found in its oplog, and at which timestamp.
type Part struct {
	Type            PartType
	ShardName       string // empty for config parts
	ReplicaSetName  string // empty for a mirrored config server part
	HostID          string // only for PartConfigServer (Cloud Manager shows it)
	TokenDiscovered bool
	TokenTimestamp  BSONTimestamp
}

// Checkpoint is a cluster-wide consistent point a restore can target.
// Checkpoints are immutable once stored.
type Checkpoint struct {
	ID        ObjectID
	ClusterID ObjectID
	GroupID   ObjectID
	// Started is when the balancer was stopped and the checkpoint began.
	Started time.Time
	// Completed is when the balancer was restarted; zero if unknown.
	Completed time.Time
	// Timestamp is the point in time the checkpoint restores to.
	Timestamp  time.Time
	Restorable bool
	Parts      []Part
}

// quoteEmpty shows an empty value as "" in a message, so that it reads as
// a value rather than as a missing word.
func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
