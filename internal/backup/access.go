package backup

import (
	"context"
	"errors"
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
	SystemPrincipal                                  // the server itself: see System
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

// CheckProject decides whether p may read a project of organization
// orgID. System may read everything; a nil principal may read nothing
// (ErrNoPrincipal).
//
// A caller of another organization is told the project does not exist
// (GROUP_NOT_FOUND, the answer for an unknown id), so that ids cannot be
// probed for existence across organizations; a caller of the project's
// own organization whose roles are too low gets USER_UNAUTHORIZED, as the
// service answers an insufficient role (api-fidelity §1.2).
func (p *Principal) CheckProject(orgID, projectID ObjectID) error {
	if p == nil {
		return errNoPrincipal()
	}
	if p.IsSystem() {
		return nil
	}
	if p.CanReadProject(&Project{ID: projectID, OrgID: orgID}) {
		return nil
	}
	if p.OrgID != orgID {
		return ErrGroupNotFound(projectID.Hex())
	}
	return ErrUserUnauthorized()
}

// CheckAdmin decides whether p may change a project's clusters: only an
// owner of the project's organization. Other callers get CheckProject's
// answers (GROUP_NOT_FOUND across organizations), then USER_UNAUTHORIZED.
// System may; a nil principal may not (ErrNoPrincipal).
func (p *Principal) CheckAdmin(orgID, projectID ObjectID) error {
	if decided, err := p.checkRoleFirst(orgID, projectID); decided {
		return err
	}
	if !p.IsOrgOwner(orgID) {
		return ErrUserUnauthorized()
	}
	return nil
}

// checkRoleFirst is what CheckAdmin and CheckReporter decide before the
// caller's roles: System may, a nil principal may not, and a caller who
// cannot see the project hears CheckProject's answer, or
// USER_UNAUTHORIZED within its own organization. decided is false when
// the roles decide.
func (p *Principal) checkRoleFirst(orgID, projectID ObjectID) (decided bool, err error) {
	switch {
	case p == nil:
		return true, errNoPrincipal()
	case p.IsSystem():
		return true, nil
	}
	if err := p.CheckProject(orgID, projectID); err != nil {
		if p.OrgID != orgID {
			return true, err
		}
		return true, ErrUserUnauthorized()
	}
	return false, nil
}

// CheckReporter decides whether p may report checkpoints of a project's
// clusters (a backup agent's key): an owner of the project's organization,
// or a Project Owner or Project Backup Manager of the project. System
// may; a nil principal may not (ErrNoPrincipal).
func (p *Principal) CheckReporter(orgID, projectID ObjectID) error {
	if decided, err := p.checkRoleFirst(orgID, projectID); decided {
		return err
	}
	if p.IsOrgOwner(orgID) {
		return nil
	}
	for _, g := range p.Grants {
		if g.ProjectID == projectID && (g.Role == ProjectOwner || g.Role == ProjectBackupManager) {
			return nil
		}
	}
	return ErrUserUnauthorized()
}

// System is the server itself acting on its own behalf: the engine taking
// and pruning checkpoints, the admin commands, the demo, monitoring, and
// authentication reading credentials before there is a caller. It may do
// everything; it is never the principal of a request's caller.
var System = &Principal{Kind: SystemPrincipal, ID: "checkpointd"}

// IsSystem reports whether p is the server itself.
func (p *Principal) IsSystem() bool { return p != nil && p.Kind == SystemPrincipal }

// ErrNoPrincipal is behind the error every store method returns when its
// context carries no principal (see WithPrincipal): access is refused,
// not assumed, so that code that forgets to say who asks cannot read
// across organizations.
var ErrNoPrincipal = errors.New("store access without a principal")

// errNoPrincipal is ErrNoPrincipal as an internal error: a fault of the
// server, never the client's.
func errNoPrincipal() *Error {
	return &Error{Kind: Internal, Code: CodeUnexpected, Detail: "Unexpected error.", Params: []any{}, Err: ErrNoPrincipal}
}

type principalKey struct{}

// WithPrincipal returns a context carrying p as the caller of everything
// done with it. It is the one way a caller reaches the store: the HTTP
// pipeline sets it once authentication succeeds, and the server's own
// work sets System.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return &principalContext{Context: ctx, p: p}
}

// principalContext is context.WithValue for the principal alone: one
// small allocation per request.
type principalContext struct {
	context.Context
	p *Principal
}

func (c *principalContext) Value(key any) any {
	if key == (principalKey{}) {
		return c.p
	}
	return c.Context.Value(key)
}

// PrincipalFrom returns the caller WithPrincipal put in ctx, or nil.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// CallerOf returns the caller of ctx, or an internal error wrapping
// ErrNoPrincipal when there is none.
func CallerOf(ctx context.Context) (*Principal, error) {
	if p := PrincipalFrom(ctx); p != nil {
		return p, nil
	}
	return nil, errNoPrincipal()
}
