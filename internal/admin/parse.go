package admin

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// OrgRoles are the organization roles, in the order help texts list them.
var OrgRoles = []backup.Role{backup.OrgOwner, backup.OrgReadOnly, backup.OrgMember}

// ProjectRoles are the project roles, in the order help texts list them.
var ProjectRoles = []backup.Role{
	backup.ProjectOwner, backup.ProjectReadOnly, backup.ProjectClusterManager,
	backup.ProjectBackupManager, backup.ProjectDataAccessAdmin, backup.ProjectDataAccessReadWrite,
	backup.ProjectDataAccessReadOnly, backup.ProjectDatabaseAccessAdmin, backup.ProjectObservabilityViewer,
	backup.ProjectStreamProcessingOwner,
}

func roleList(rs []backup.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// ParseGrants turns organization roles ("ORG_OWNER") and project roles
// ("PROJECT_ID:GROUP_READ_ONLY") into grants, in that order, without
// duplicates. Role names are matched without regard to case. Each role
// must be granted at its level: an organization role without a project, a
// project role with one (INVALID_ROLE otherwise). Whether the projects
// belong to the key's organization is the store's to check when the
// grants are stored.
func ParseGrants(orgRoles []string, projectRoles []string) ([]backup.Grant, error) {
	var gs []backup.Grant
	add := func(g backup.Grant) {
		if !slices.Contains(gs, g) {
			gs = append(gs, g)
		}
	}
	for _, s := range orgRoles {
		r := backup.Role(strings.ToUpper(strings.TrimSpace(s)))
		known, org := backup.ValidRole(r)
		switch {
		case !known:
			return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidRole,
				"Unknown organization role %s: the organization roles are %s.", strconv.Quote(s), roleList(OrgRoles))
		case !org:
			return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidRole,
				"%s is a project role: grant it on a project, as PROJECT_ID:%s.", string(r), string(r))
		}
		add(backup.Grant{Role: r})
	}
	for _, s := range projectRoles {
		rawID, rawRole, ok := strings.Cut(strings.TrimSpace(s), ":")
		if !ok {
			return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidRole,
				"Project role %s is not of the form PROJECT_ID:ROLE.", strconv.Quote(s))
		}
		id, ok := backup.ParseObjectID(strings.ToLower(rawID))
		if !ok {
			return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidGroupID,
				"Project role %s: %s is not a project id, which is 24 hexadecimal digits.", strconv.Quote(s), strconv.Quote(rawID))
		}
		if id.IsZero() {
			// No project has the zero id (an ObjectID starts with its
			// creation time), and a grant with it is an organization's.
			return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidGroupID,
				"Project role %s: %s is not a project id: no project has the zero id.", strconv.Quote(s), strconv.Quote(rawID))
		}
		r := backup.Role(strings.ToUpper(rawRole))
		known, org := backup.ValidRole(r)
		switch {
		case !known:
			return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidRole,
				"Unknown project role %s: the project roles are %s.", strconv.Quote(rawRole), roleList(ProjectRoles))
		case org:
			return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidRole,
				"%s is an organization role: grant it without a project.", string(r))
		}
		add(backup.Grant{Role: r, ProjectID: id})
	}
	return gs, nil
}

// FormatGrant prints a grant the way ParseGrants reads it: ROLE or
// PROJECT_ID:ROLE.
func FormatGrant(g backup.Grant) string {
	if g.ProjectID.IsZero() {
		return string(g.Role)
	}
	return g.ProjectID.Hex() + ":" + string(g.Role)
}

// CodeInvalidAccessListEntry is the code of an access list entry that is
// neither an IP address nor a CIDR block, as Atlas names it.
const CodeInvalidAccessListEntry = "INVALID_IP_ADDRESS_OR_CIDR_NOTATION"

// ParseAccessList parses IP addresses (each becoming a /32 or /128) and
// CIDR blocks, without duplicates. An IPv4-mapped IPv6 address is taken
// as the IPv4 address it maps (requests are matched that way). A block
// whose address has bits set beyond its prefix length is refused rather
// than silently widened, and so is an address with an IPv6 zone.
func ParseAccessList(entries []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, raw := range entries {
		s := strings.TrimSpace(raw)
		p, err := parseAccessListEntry(s)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

func parseAccessListEntry(s string) (netip.Prefix, error) {
	bad := func(why string) error {
		return backup.Errorf(backup.Invalid, CodeInvalidAccessListEntry,
			"Access list entry %s is not an IP address or a CIDR block%s.", strconv.Quote(s), why)
	}
	if strings.Contains(s, "%") {
		return netip.Prefix{}, bad(": it has an IPv6 zone")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, bad("")
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, bad("")
	}
	if a := p.Addr(); a.Is4In6() {
		if p.Bits() < 96 {
			return netip.Prefix{}, bad(": an IPv4-mapped block needs a prefix length of at least 96")
		}
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, backup.Errorf(backup.Invalid, CodeInvalidAccessListEntry,
			"Access list entry %s has bits set beyond its prefix length: did you mean %s?", strconv.Quote(s), m.String())
	}
	return p, nil
}
