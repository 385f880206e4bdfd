package admin

import (
	"context"
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

// ParseBackupKind parses "legacy", "cloud" or "none" (any case; the
// stored names LEGACY, CLOUD and NONE too).
func ParseBackupKind(s string) (backup.BackupKind, error) {
	switch k := backup.BackupKind(strings.ToUpper(strings.TrimSpace(s))); k {
	case backup.BackupLegacy, backup.BackupCloud, backup.BackupNone:
		return k, nil
	}
	return "", backup.AttrErrorf("backup.kind", backup.CodeInvalidAttribute,
		"Unknown backup kind %s: use legacy (continuous backup, which takes checkpoints), cloud (Cloud Backup) or none.", strconv.Quote(s))
}

// ClusterStore creates and updates clusters, leases their slots and
// reads what their objective reports measure.
type ClusterStore interface {
	CreateCluster(ctx context.Context, c backup.Cluster) error
	UpdateCluster(ctx context.Context, ref backup.ClusterRef, change func(*backup.Cluster) error) (backup.Cluster, error)
	SlotClaimer
	ObjectiveStore
	SlotStore
}

// Clusters creates and changes clusters in a store, for the command
// line and, through an interface of its own, the administration API.
type Clusters struct {
	Store ClusterStore
	// Clock stamps the clusters created; nil is clock.System.
	Clock clock.Clock
}

// CreateCluster builds a cluster from a spec (backup.NewCluster) with a
// new id and stores it (GROUP_NOT_FOUND, DUPLICATE_CLUSTER_NAME from the
// store).
func (a Clusters) CreateCluster(ctx context.Context, spec backup.ClusterSpec) (backup.Cluster, error) {
	created := stamp(a.clock())
	c, err := backup.NewCluster(spec, ids.New(created), created)
	if err != nil {
		return backup.Cluster{}, err
	}
	if err := a.Store.CreateCluster(ctx, c); err != nil {
		return backup.Cluster{}, err
	}
	return c, nil
}

func (a Clusters) clock() clock.Clock {
	if a.Clock == nil {
		return clock.System
	}
	return a.Clock
}

// ClaimSlot is the package's ClaimSlot on the operations' clock.
func (a Clusters) ClaimSlot(ctx context.Context, c backup.Cluster, slot time.Time, owner string) (bool, error) {
	return ClaimSlot(ctx, a.Store, c, slot, owner, a.clock())
}

// UpdateCluster applies ch to the cluster ref names (backup.Cluster.Apply)
// and stores the result in one transaction of the store, so that no
// concurrent update is lost (GROUP_NOT_FOUND, CLUSTER_NOT_FOUND,
// DUPLICATE_CLUSTER_NAME from the store). A server's engine follows the
// new schedule within its --engine-refresh.
func (a Clusters) UpdateCluster(ctx context.Context, ref backup.ClusterRef, ch backup.ClusterChange) (backup.Cluster, error) {
	return a.Store.UpdateCluster(ctx, ref, func(c *backup.Cluster) error {
		changed, err := c.Apply(ch)
		if err == nil {
			*c = changed
		}
		return err
	})
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
