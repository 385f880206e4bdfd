package backup

import (
	"net/netip"
)

// Role is an Atlas / Cloud Manager role name as the APIs print it.
type Role string

// Organization roles.
const (
	OrgOwner    Role = "ORG_OWNER"     // Project Owner on every project of the organization
	OrgReadOnly Role = "ORG_READ_ONLY" // read-only access to every project of the organization
	OrgMember   Role = "ORG_MEMBER"    // no project access by itself
)

// Project roles.
const (
	ProjectOwner                 Role = "GROUP_OWNER"
	ProjectReadOnly              Role = "GROUP_READ_ONLY"
	ProjectClusterManager        Role = "GROUP_CLUSTER_MANAGER"
	ProjectDataAccessAdmin       Role = "GROUP_DATA_ACCESS_ADMIN"
	ProjectDataAccessReadWrite   Role = "GROUP_DATA_ACCESS_READ_WRITE"
	ProjectDataAccessReadOnly    Role = "GROUP_DATA_ACCESS_READ_ONLY"
	ProjectDatabaseAccessAdmin   Role = "GROUP_DATABASE_ACCESS_ADMIN"
	ProjectBackupManager         Role = "GROUP_BACKUP_MANAGER"
	ProjectObservabilityViewer   Role = "GROUP_OBSERVABILITY_VIEWER"
	ProjectStreamProcessingOwner Role = "GROUP_STREAM_PROCESSING_OWNER"
)

// readsProject lists the project roles that include Project Read Only, the
// least role that may read checkpoints (as the Atlas role documentation
// defines the role hierarchy).
var readsProject = map[Role]bool{
	ProjectOwner: true, ProjectReadOnly: true, ProjectClusterManager: true,
	ProjectDataAccessAdmin: true, ProjectDataAccessReadWrite: true, ProjectDataAccessReadOnly: true,
	ProjectDatabaseAccessAdmin: true, ProjectBackupManager: true, ProjectObservabilityViewer: true,
	ProjectStreamProcessingOwner: true,
}

var orgRoles = map[Role]bool{OrgOwner: true, OrgReadOnly: true, OrgMember: true}

// ValidRole reports whether r is a role this server knows, and whether it
// is an organization role (granted without a project).
func ValidRole(r Role) (known, org bool) {
	if orgRoles[r] {
		return true, true
	}
	return readsProject[r], false
}

// Grant is one role held by a principal: an organization role (ProjectID
// zero) or a role on one project.
type Grant struct {
	Role      Role
	ProjectID ObjectID
}

// PrincipalKind says how a caller authenticated.
type PrincipalKind uint8

// Principal kinds.
const (
	APIKeyPrincipal         PrincipalKind = iota + 1 // programmatic API key, HTTP Digest
	ServiceAccountPrincipal                          // OAuth 2.0 client credentials, bearer token
)

// Principal is an authenticated caller: an API key or a service account of
// one organization, with its grants and API access list.
type Principal struct {
	Kind  PrincipalKind
	ID    string // public key or client id
	OrgID ObjectID
	// Grants are the principal's roles.
	Grants []Grant
	// AccessList, when not empty, is the set of addresses requests may come
	// from.
	AccessList []netip.Prefix
}

// CanReadProject reports whether p may read the project's clusters and
// checkpoints: an organization owner or read-only member of the project's
// organization, or a project role that includes Project Read Only.
// ORG_MEMBER alone gives no project access.
func (p *Principal) CanReadProject(proj *Project) bool {
	for _, g := range p.Grants {
		if g.ProjectID.IsZero() {
			if p.OrgID == proj.OrgID && (g.Role == OrgOwner || g.Role == OrgReadOnly) {
				return true
			}
			continue
		}
		if g.ProjectID == proj.ID && readsProject[g.Role] {
			return true
		}
	}
	return false
}

// IsOrgOwner reports whether p owns organization org.
func (p *Principal) IsOrgOwner(org ObjectID) bool {
	for _, g := range p.Grants {
		if g.ProjectID.IsZero() && g.Role == OrgOwner && p.OrgID == org {
			return true
		}
	}
	return false
}

// AllowsAddr reports whether a request from addr passes p's API access
// list. An empty list allows every address.
func (p *Principal) AllowsAddr(addr netip.Addr) bool {
	if len(p.AccessList) == 0 {
		return true
	}
	addr = addr.Unmap()
	for _, pfx := range p.AccessList {
		if pfx.Contains(addr) {
			return true
		}
	}
	return false
}
