package backup

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ConfigKind says how a sharded cluster's config servers run.
type ConfigKind string

// Config server kinds.
const (
	// ConfigReplicaSet is a config server replica set (CSRS), the only
	// kind since MongoDB 3.4.
	ConfigReplicaSet ConfigKind = "csrs"
	// ConfigMirrored is three legacy mirrored config servers (SCCC),
	// which MongoDB 3.2 was the last to support.
	ConfigMirrored ConfigKind = "mirrored"
)

// DefaultMongoDBVersion is the version of a cluster created without one:
// the last release of the last series legacy backup supported.
const DefaultMongoDBVersion = "4.4.29"

// MaxShards is the most shards a cluster made from a number of shards
// (ClusterChange.ShardCount) has.
const MaxShards = 100

// mirroredHosts is how many mirrored config servers an SCCC cluster had.
const mirroredHosts = 3

var versionRE = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.]+)?$`)

// ClusterChange is what an update changes in a cluster, whichever door it
// comes through: each field that is nil stays as it is. The command line
// describes a topology by a number of shards and a config server kind,
// the administration API by the shards and config servers themselves.
// The type of a cluster cannot change.
type ClusterChange struct {
	// Name renames the cluster. Its replica sets keep their names, as a
	// real cluster's do.
	Name *string
	// ShardCount grows a sharded cluster with shards NAME-shard-I, or
	// shrinks it by its last shards; it is refused for a replica set, as
	// zero is for a sharded cluster.
	ShardCount *int
	// ConfigKind converts a sharded cluster's config servers; asking for
	// the kind it has keeps them.
	ConfigKind *ConfigKind
	// ReplicaSetName, Shards and Config replace a replica set's name, a
	// sharded cluster's shards and its config servers as given.
	ReplicaSetName *string
	Shards         *[]Shard
	Config         *ConfigServer
	MongoDBVersion *string
	Backup         *BackupKind
	Driver         *Driver
	// Interval is the checkpoint interval; zero turns checkpoints off, a
	// negative one (IntervalMinutes of a count no interval has) is refused.
	Interval *time.Duration
	// Window is the point-in-time window; zero restores the default, a
	// negative one (WindowHours of a count no window has) is refused.
	Window *time.Duration
	// Objective is the recovery point objective; zero removes it, a
	// negative one (ObjectiveMinutes of a count no objective has) is
	// refused.
	Objective *time.Duration
	// Status may only be the state the cluster's backup is in: a client
	// sends back what it read. The state changes through the backup
	// configuration (SetStatus), by its rules.
	Status *BackupStatus
}

// IntervalMinutes is n minutes as ClusterChange.Interval; a count that is
// no interval, zero or less or more minutes than a Duration holds (2^53 +
// 15 would wrap to 15), gives -1, which Apply refuses.
func IntervalMinutes(n int) time.Duration {
	if n <= 0 || int64(n) > int64(math.MaxInt64/time.Minute) {
		return -1
	}
	return time.Duration(n) * time.Minute
}

// WindowHours is h hours as ClusterChange.Window; a count that is no
// window, below one or more hours than a Duration holds, gives -1, which
// Apply refuses.
func WindowHours(h int) time.Duration {
	if h < 1 || int64(h) > int64(math.MaxInt64/time.Hour) {
		return -1
	}
	return time.Duration(h) * time.Hour
}

// ErrInvalidAttribute is the INVALID_ATTRIBUTE error about attr, worded
// as the administration API has always worded it: why says what is wrong
// with it. Its parameters are attr and why.
func ErrInvalidAttribute(attr, why string) *Error {
	return AttrErrorf(attr, CodeInvalidAttribute, "Invalid attribute %s specified: %s.", attr, why)
}

// check refuses what ch alone shows wrong for a cluster of c's type, in
// the order the administration API has always named the fields: the
// config servers' form, the schedule's values, the version, then the
// topology fields the type does not have (a stored cluster has none of
// the other type's, so those sent are the ones to refuse). creating
// requires a version.
func (ch ClusterChange) check(c *Cluster, creating bool) error {
	if cs := ch.Config; cs != nil && (cs.ReplicaSetName == "") == (len(cs.HostIDs) == 0) {
		return ErrInvalidAttribute("configServer", "it has either a replicaSetName or hostIds")
	}
	// Validate reads an empty driver as the default, AGENT; a change names
	// one of the two.
	if ch.Driver != nil && *ch.Driver == "" {
		return ErrInvalidAttribute("backup.driver", fmt.Sprintf("%q is neither %s nor %s", "", DriverAgent, DriverSimulated))
	}
	if ch.Interval != nil && *ch.Interval < 0 {
		return ErrInvalidAttribute("clusterCheckpointIntervalMin", "a checkpoint interval is 15, 30 or 60 minutes, or null for none")
	}
	if ch.Window != nil && (*ch.Window < 0 || *ch.Window > MaxWindow) {
		return ErrInvalidAttribute("pointInTimeWindowHours", fmt.Sprintf("a window is from 1 to %d hours", int(MaxWindow/time.Hour)))
	}
	if ch.Objective != nil && *ch.Objective < 0 {
		return errObjective()
	}
	if ch.MongoDBVersion == nil && creating || ch.MongoDBVersion != nil && *ch.MongoDBVersion == "" {
		return ErrInvalidAttribute("mongoDBVersion", "a cluster needs the MongoDB version it runs")
	}
	switch c.Type {
	case ReplicaSet:
		if ch.Shards != nil && len(*ch.Shards) != 0 {
			return errReplicaSetShards()
		}
		if ch.Config != nil {
			return errReplicaSetConfig()
		}
	case Sharded:
		if ch.ReplicaSetName != nil && *ch.ReplicaSetName != "" {
			return ErrInvalidAttribute("replicaSetName", "a sharded cluster's replica sets are its shards'")
		}
	}
	return nil
}

// IsZero reports whether ch changes nothing.
func (ch ClusterChange) IsZero() bool { return ch == ClusterChange{} }

// Apply returns c with ch applied and validated (Validate); c itself is
// not modified.
func (c Cluster) Apply(ch ClusterChange) (Cluster, error) { return c.apply(ch, false) }

// apply is Apply; creating requires ch to give a version.
func (c Cluster) apply(ch ClusterChange, creating bool) (Cluster, error) {
	if err := ch.check(&c, creating); err != nil {
		return Cluster{}, err
	}
	c.Shards = slices.Clone(c.Shards)
	c.Config.HostIDs = slices.Clone(c.Config.HostIDs)
	if ch.Name != nil {
		if err := checkClusterName(*ch.Name); err != nil {
			return Cluster{}, err
		}
		c.Name = *ch.Name
	}
	if ch.MongoDBVersion != nil {
		c.MongoDBVersion = *ch.MongoDBVersion
	}
	if ch.ReplicaSetName != nil {
		c.ReplicaSetName = *ch.ReplicaSetName
	}
	if ch.Shards != nil {
		c.Shards = slices.Clone(*ch.Shards)
	}
	if ch.ShardCount != nil {
		n := *ch.ShardCount
		if err := checkShards(n); err != nil {
			return Cluster{}, err
		}
		switch {
		case c.Type == ReplicaSet && n > 0:
			return Cluster{}, AttrErrorf("shards", CodeInvalidAttribute,
				"The type of a cluster cannot change: %s is a replica set, which has no shards.", c.Name)
		case c.Type == Sharded && n == 0:
			return Cluster{}, AttrErrorf("shards", CodeInvalidAttribute,
				"The type of a cluster cannot change: %s is a sharded cluster, which keeps 1 to %d shards.", c.Name, MaxShards)
		case c.Type == Sharded:
			c.Shards = resizeShards(c.Shards, c.Name, n)
		}
	}
	if ch.Config != nil {
		c.Config = ConfigServer{ReplicaSetName: ch.Config.ReplicaSetName, HostIDs: slices.Clone(ch.Config.HostIDs)}
	}
	if ch.ConfigKind != nil {
		if c.Type != Sharded {
			return Cluster{}, errReplicaSetConfig()
		}
		if err := setConfigKind(&c, *ch.ConfigKind); err != nil {
			return Cluster{}, err
		}
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
	if ch.Objective != nil {
		c.Schedule.Objective = *ch.Objective
	}
	if ch.Status != nil && *ch.Status != c.StatusOrDefault() {
		return Cluster{}, AttrErrorf("backup.statusName", CodeInvalidAttribute,
			"Invalid attribute %s specified: the backup's state changes through its backup configuration (backupConfigs), not here.", "backup.statusName")
	}
	if err := c.Validate(); err != nil {
		return Cluster{}, err
	}
	if ch.Objective != nil {
		if err := c.Schedule.checkObjectiveReachable(); err != nil {
			return Cluster{}, err
		}
	}
	return c, nil
}

// ClusterSpec describes a cluster to create: its project, its name and
// what is set on it, as an update sets it, over a cluster under legacy
// backup whose schedule is the zero one.
//
// With a ShardCount (the command line's), the topology is made from it
// (zero makes a replica set) and ConfigKind (ConfigReplicaSet by
// default), with replica sets named in the Atlas style: a replica set
// NAME-shard-0, a sharded cluster's shards NAME-shard-0…N-1 and its config
// server replica set NAME-config-0; Type is ignored and the MongoDB
// version defaults to DefaultMongoDBVersion. Without one (the
// administration API's), the cluster is of Type with the topology the
// change gives (ReplicaSetName, Shards, Config).
type ClusterSpec struct {
	ProjectID ObjectID
	Name      string
	Type      ClusterType
	ClusterChange
}

// NewCluster builds a valid cluster with id id from a spec; it does not
// store it. created is kept as stores keep times: UTC, whole seconds.
func NewCluster(spec ClusterSpec, id ObjectID, created time.Time) (Cluster, error) {
	if spec.ProjectID.IsZero() {
		return Cluster{}, Errorf(Invalid, CodeInvalidGroupID, "A cluster needs a project.")
	}
	c := Cluster{ID: id, GroupID: spec.ProjectID, Name: spec.Name, Type: spec.Type, Backup: BackupLegacy,
		Created: created.UTC().Truncate(time.Second)}
	if spec.ShardCount == nil {
		return c.apply(spec.ClusterChange, true)
	}
	ch := spec.ClusterChange
	if err := checkClusterName(spec.Name); err != nil {
		return Cluster{}, err
	}
	n := *ch.ShardCount
	if err := checkShards(n); err != nil {
		return Cluster{}, err
	}
	c.MongoDBVersion = DefaultMongoDBVersion
	if ch.MongoDBVersion != nil && *ch.MongoDBVersion != "" {
		c.MongoDBVersion = *ch.MongoDBVersion
	}
	if err := checkVersion(c.MongoDBVersion); err != nil {
		return Cluster{}, err
	}
	if n == 0 {
		if ch.ConfigKind != nil {
			return Cluster{}, errReplicaSetConfig()
		}
		c.Type = ReplicaSet
		c.ReplicaSetName = spec.Name + "-shard-0"
	} else {
		c.Type = Sharded
		c.Shards = resizeShards(nil, spec.Name, n)
		kind := ConfigReplicaSet
		if ch.ConfigKind != nil {
			kind = *ch.ConfigKind
		}
		if err := setConfigKind(&c, kind); err != nil {
			return Cluster{}, err
		}
	}
	if err := checkMirrored(c); err != nil {
		return Cluster{}, err
	}
	ch.ShardCount, ch.ConfigKind, ch.MongoDBVersion = nil, nil, nil
	return c.Apply(ch)
}

// AttrErrorf is Errorf of kind Invalid, about attribute attr (Error.Attr).
func AttrErrorf(attr, code, format string, args ...any) *Error {
	e := Errorf(Invalid, code, format, args...)
	e.Attr = attr
	return e
}

func checkClusterName(name string) error {
	if !ValidClusterName(name) {
		return AttrErrorf("name", CodeInvalidClusterName,
			"Cluster name %s is invalid: use 1 to %d letters, digits and hyphens, starting with a letter or digit.",
			strconv.Quote(name), MaxClusterNameLen)
	}
	return nil
}

func checkShards(n int) error {
	if n < 0 || n > MaxShards {
		return AttrErrorf("shards", CodeInvalidAttribute, "A cluster has 0 (a replica set) to %d shards, not %d.", MaxShards, n)
	}
	return nil
}

func checkVersion(version string) error {
	if !versionRE.MatchString(version) {
		return AttrErrorf("mongoDBVersion", CodeInvalidAttribute,
			"MongoDB version %s is not of the form MAJOR.MINOR.PATCH, e.g. %s.", strconv.Quote(version), DefaultMongoDBVersion)
	}
	return nil
}

// checkMirrored refuses mirrored config servers on a MongoDB version that
// no longer supports them.
func checkMirrored(c Cluster) error {
	if !c.Config.Mirrored() {
		return nil
	}
	m := versionRE.FindStringSubmatch(c.MongoDBVersion)
	if m == nil {
		return checkVersion(c.MongoDBVersion)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major > 3 || major == 3 && minor > 2 {
		return AttrErrorf("configServer", CodeInvalidAttribute,
			"Mirrored config servers (SCCC) ended with MongoDB 3.2; MongoDB %s needs a config server replica set.", c.MongoDBVersion)
	}
	return nil
}

func errReplicaSetConfig() error {
	return ErrInvalidAttribute("configServer", "a replica set has no config servers")
}

func errReplicaSetShards() error {
	return ErrInvalidAttribute("shards", "a replica set has no shards")
}

// resizeShards returns shards grown or shrunk to n. Existing shards keep
// their names (renaming a cluster does not rename its replica sets); new
// ones are named NAME-shard-I with the first indexes not in use, and
// shrinking removes the last ones.
func resizeShards(shards []Shard, name string, n int) []Shard {
	if n <= len(shards) {
		return slices.Clone(shards[:n])
	}
	out := slices.Clone(shards)
	used := map[string]bool{}
	for _, s := range shards {
		used[s.Name], used[s.ReplicaSetName] = true, true
	}
	for i := 0; len(out) < n; i++ {
		if s := fmt.Sprintf("%s-shard-%d", name, i); !used[s] {
			out = append(out, Shard{Name: s, ReplicaSetName: s})
		}
	}
	return out
}

// ParseConfigKind parses "csrs" or "mirrored" (any case).
func ParseConfigKind(s string) (ConfigKind, error) {
	switch c := ConfigKind(strings.ToLower(strings.TrimSpace(s))); c {
	case ConfigReplicaSet, ConfigMirrored:
		return c, nil
	}
	return "", AttrErrorf("configServer", CodeInvalidAttribute,
		"Unknown config server kind %s: use csrs (a config server replica set) or mirrored (legacy SCCC config servers).", strconv.Quote(s))
}

// setConfigKind gives sharded cluster c config servers of that kind,
// keeping those it has if they already are.
func setConfigKind(c *Cluster, kind ConfigKind) error {
	switch kind {
	case ConfigReplicaSet:
		if c.Config.ReplicaSetName == "" {
			c.Config = ConfigServer{ReplicaSetName: c.Name + "-config-0"}
		}
	case ConfigMirrored:
		if !c.Config.Mirrored() {
			c.Config = ConfigServer{}
			for range mirroredHosts {
				c.Config.HostIDs = append(c.Config.HostIDs, newHostID())
			}
		}
	default:
		_, err := ParseConfigKind(string(kind))
		return err
	}
	return nil
}

// newHostID returns a random host id as Cloud Manager prints them: 32
// lowercase hex digits.
func newHostID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
