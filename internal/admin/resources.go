package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// CreateOrganization stores a new organization named name.
func CreateOrganization(ctx context.Context, st OrganizationCreator, name string, clk clock.Clock) (backup.Organization, error) {
	if err := checkName("organization", name); err != nil {
		return backup.Organization{}, err
	}
	created := stamp(clk)
	o := backup.Organization{ID: ids.New(created), Name: name, Created: created}
	if err := st.CreateOrganization(ctx, o); err != nil {
		return backup.Organization{}, err
	}
	return o, nil
}

// CreateProject stores a new project named name in organization orgID
// (ORG_NOT_FOUND from the store if there is none).
func CreateProject(ctx context.Context, st ProjectCreator, orgID backup.ObjectID, name string, clk clock.Clock) (backup.Project, error) {
	if orgID.IsZero() {
		return backup.Project{}, backup.Errorf(backup.Invalid, backup.CodeInvalidOrgID, "A project needs an organization.")
	}
	if err := checkName("project", name); err != nil {
		return backup.Project{}, err
	}
	created := stamp(clk)
	p := backup.Project{ID: ids.New(created), OrgID: orgID, Name: name, Created: created}
	if err := st.CreateProject(ctx, p); err != nil {
		return backup.Project{}, err
	}
	return p, nil
}

// ConfigServers says how a sharded cluster's config servers run.
type ConfigServers string

// Config server kinds.
const (
	// ConfigReplicaSet is a config server replica set (CSRS), the only
	// kind since MongoDB 3.4.
	ConfigReplicaSet ConfigServers = "csrs"
	// ConfigMirrored is three legacy mirrored config servers (SCCC),
	// which MongoDB 3.2 was the last to support.
	ConfigMirrored ConfigServers = "mirrored"
)

// ParseConfigServers parses "csrs" or "mirrored" (any case).
func ParseConfigServers(s string) (ConfigServers, error) {
	switch c := ConfigServers(strings.ToLower(strings.TrimSpace(s))); c {
	case ConfigReplicaSet, ConfigMirrored:
		return c, nil
	}
	return "", backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
		"Unknown config server kind %s: use csrs (a config server replica set) or mirrored (legacy SCCC config servers).", strconv.Quote(s))
}

// ParseBackupKind parses "legacy", "cloud" or "none" (any case; the
// stored names LEGACY, CLOUD and NONE too).
func ParseBackupKind(s string) (backup.BackupKind, error) {
	switch k := backup.BackupKind(strings.ToUpper(strings.TrimSpace(s))); k {
	case backup.BackupLegacy, backup.BackupCloud, backup.BackupNone:
		return k, nil
	}
	return "", backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
		"Unknown backup kind %s: use legacy (continuous backup, which takes checkpoints), cloud (Cloud Backup) or none.", strconv.Quote(s))
}

// DefaultMongoDBVersion is the version of a cluster created without one:
// the last release of the last series legacy backup supported.
const DefaultMongoDBVersion = "4.4.29"

// MaxShards is the most shards ClusterSpec accepts.
const MaxShards = 100

// mirroredHosts is how many mirrored config servers an SCCC cluster had.
const mirroredHosts = 3

var versionRE = regexp.MustCompile(`^(\d+)\.(\d+)\.(\d+)(-[0-9A-Za-z.]+)?$`)

// ClusterSpec describes a cluster to create.
type ClusterSpec struct {
	ProjectID backup.ObjectID
	Name      string
	// Shards is the number of shards: 0 makes a replica set.
	Shards int
	// ConfigServers applies to sharded clusters; empty means
	// ConfigReplicaSet.
	ConfigServers ConfigServers
	// MongoDBVersion defaults to DefaultMongoDBVersion.
	MongoDBVersion string
	// Backup defaults to BackupLegacy.
	Backup backup.BackupKind
	// Schedule is how the cluster's checkpoints are taken and kept; the
	// zero value is an agent's cluster with checkpoints off.
	Schedule backup.CheckpointSchedule
}

// NewCluster builds a valid cluster from a spec, with a new id and
// replica set names in the Atlas style: a replica set NAME-shard-0, a
// sharded cluster's shards NAME-shard-0…N-1 and its config server replica
// set NAME-config-0. It does not store it.
func NewCluster(spec ClusterSpec, now time.Time) (backup.Cluster, error) {
	if spec.ProjectID.IsZero() {
		return backup.Cluster{}, backup.Errorf(backup.Invalid, backup.CodeInvalidGroupID, "A cluster needs a project.")
	}
	if err := checkClusterName(spec.Name); err != nil {
		return backup.Cluster{}, err
	}
	if err := checkShards(spec.Shards); err != nil {
		return backup.Cluster{}, err
	}
	version := spec.MongoDBVersion
	if version == "" {
		version = DefaultMongoDBVersion
	}
	if err := checkVersion(version); err != nil {
		return backup.Cluster{}, err
	}
	kind := spec.Backup
	if kind == "" {
		kind = backup.BackupLegacy
	}
	created := second(now)
	c := backup.Cluster{
		ID:             ids.New(created),
		GroupID:        spec.ProjectID,
		Name:           spec.Name,
		MongoDBVersion: version,
		Backup:         kind,
		Created:        created,
		Schedule:       spec.Schedule,
	}
	if spec.Shards == 0 {
		if spec.ConfigServers != "" {
			return backup.Cluster{}, errReplicaSetConfig()
		}
		c.Type = backup.ReplicaSet
		c.ReplicaSetName = spec.Name + "-shard-0"
	} else {
		c.Type = backup.Sharded
		c.Shards = resizeShards(nil, spec.Name, spec.Shards)
		config := spec.ConfigServers
		if config == "" {
			config = ConfigReplicaSet
		}
		if err := setConfigServers(&c, config); err != nil {
			return backup.Cluster{}, err
		}
	}
	if err := checkMirrored(c); err != nil {
		return backup.Cluster{}, err
	}
	if err := c.Validate(); err != nil {
		return backup.Cluster{}, err
	}
	return c, nil
}

func checkClusterName(name string) error {
	if !backup.ValidClusterName(name) {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidClusterName,
			"Cluster name %s is invalid: use 1 to %d letters, digits and hyphens, starting with a letter or digit.",
			strconv.Quote(name), backup.MaxClusterNameLen)
	}
	return nil
}

func checkShards(n int) error {
	if n < 0 || n > MaxShards {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"A cluster has 0 (a replica set) to %d shards, not %d.", MaxShards, n)
	}
	return nil
}

// CheckCluster makes the checks of a cluster that NewCluster and
// ApplyClusterChange make beyond backup.Cluster.Validate: a MongoDB
// version of the form MAJOR.MINOR.PATCH, and mirrored config servers only
// up to MongoDB 3.2. The administration API makes them too, so that a
// cluster it stores is one the commands would.
func CheckCluster(c backup.Cluster) error {
	if err := checkVersion(c.MongoDBVersion); err != nil {
		return err
	}
	return checkMirrored(c)
}

func checkVersion(version string) error {
	if !versionRE.MatchString(version) {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"MongoDB version %s is not of the form MAJOR.MINOR.PATCH, e.g. %s.", strconv.Quote(version), DefaultMongoDBVersion)
	}
	return nil
}

func errReplicaSetConfig() error {
	return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
		"A replica set has no config servers: give a number of shards for a sharded cluster.")
}

// resizeShards returns shards grown or shrunk to n. Existing shards keep
// their names (renaming a cluster does not rename its replica sets); new
// ones are named NAME-shard-I with the first indexes not in use, and
// shrinking removes the last ones.
func resizeShards(shards []backup.Shard, name string, n int) []backup.Shard {
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
			out = append(out, backup.Shard{Name: s, ReplicaSetName: s})
		}
	}
	return out
}

// setConfigServers gives sharded cluster c config servers of that kind,
// keeping those it has if they already are.
func setConfigServers(c *backup.Cluster, kind ConfigServers) error {
	switch kind {
	case ConfigReplicaSet:
		if c.Config.ReplicaSetName == "" {
			c.Config = backup.ConfigServer{ReplicaSetName: c.Name + "-config-0"}
		}
	case ConfigMirrored:
		if !c.Config.Mirrored() {
			c.Config = backup.ConfigServer{}
			for range mirroredHosts {
				c.Config.HostIDs = append(c.Config.HostIDs, newHostID())
			}
		}
	default:
		_, err := ParseConfigServers(string(kind))
		return err
	}
	return nil
}

// checkMirrored refuses mirrored config servers on a MongoDB version that
// no longer supports them.
func checkMirrored(c backup.Cluster) error {
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
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Mirrored config servers (SCCC) ended with MongoDB 3.2; MongoDB %s needs a config server replica set.", c.MongoDBVersion)
	}
	return nil
}

// CreateCluster builds a cluster from a spec (see NewCluster) and stores
// it (GROUP_NOT_FOUND, DUPLICATE_CLUSTER_NAME from the store).
func CreateCluster(ctx context.Context, st ClusterCreator, spec ClusterSpec, clk clock.Clock) (backup.Cluster, error) {
	c, err := NewCluster(spec, clk.Now())
	if err != nil {
		return backup.Cluster{}, err
	}
	if err := st.CreateCluster(ctx, c); err != nil {
		return backup.Cluster{}, err
	}
	return c, nil
}

// newHostID returns a random host id as Cloud Manager prints them: 32
// lowercase hex digits.
func newHostID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ListProjects returns every project, or every project of organization
// orgID when it is not zero (ORG_NOT_FOUND if there is no such
// organization), ordered by id.
func ListProjects(ctx context.Context, st ProjectLister, orgID backup.ObjectID) ([]backup.Project, error) {
	if !orgID.IsZero() {
		orgs, err := st.Organizations(ctx)
		if err != nil {
			return nil, err
		}
		found := false
		for _, o := range orgs {
			found = found || o.ID == orgID
		}
		if !found {
			return nil, backup.ErrOrgNotFound(orgID.Hex())
		}
	}
	out := []backup.Project{}
	for num := 1; ; num++ {
		p, err := st.Projects(ctx, backup.PageRequest{Num: num, Size: listPageSize})
		if err != nil {
			return nil, err
		}
		for _, it := range p.Items {
			// Projects are few: an operator's listing filters them here
			// rather than act as a principal of the organization.
			if orgID.IsZero() || it.OrgID == orgID {
				out = append(out, it)
			}
		}
		if len(p.Items) < listPageSize {
			return out, nil
		}
	}
}

// ListClusters returns a project's clusters ordered by name
// (GROUP_NOT_FOUND from the store).
func ListClusters(ctx context.Context, st ClusterLister, projectID backup.ObjectID) ([]backup.Cluster, error) {
	out := []backup.Cluster{}
	for num := 1; ; num++ {
		p, err := st.Clusters(ctx, projectID, backup.PageRequest{Num: num, Size: listPageSize})
		if err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if len(p.Items) < listPageSize {
			return out, nil
		}
	}
}

// listPageSize is the page size lists read with: the API's largest.
const listPageSize = 500
