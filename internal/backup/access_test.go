package backup_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/checkpointd/checkpointd/internal/backup"
)

func TestCanReadProject(t *testing.T) {
	org := backup.MustParseObjectID("5e2211c17a3e5a48f5497de0")
	other := backup.MustParseObjectID("5e2211c17a3e5a48f5497de9")
	proj := backup.Project{ID: backup.MustParseObjectID("5e2211c17a3e5a48f5497de3"), OrgID: org}
	sibling := backup.MustParseObjectID("5e2211c17a3e5a48f5497de4")
	for _, tt := range []struct {
		name   string
		orgID  backup.ObjectID
		grants []backup.Grant
		want   bool
	}{
		{"org owner", org, []backup.Grant{{Role: backup.OrgOwner}}, true},
		{"org read only", org, []backup.Grant{{Role: backup.OrgReadOnly}}, true},
		{"org member alone", org, []backup.Grant{{Role: backup.OrgMember}}, false},
		{"owner of another org", other, []backup.Grant{{Role: backup.OrgOwner}}, false},
		{"project read only", org, []backup.Grant{{Role: backup.OrgMember}, {Role: backup.ProjectReadOnly, ProjectID: proj.ID}}, true},
		{"backup manager", org, []backup.Grant{{Role: backup.ProjectBackupManager, ProjectID: proj.ID}}, true},
		{"role on a sibling project", org, []backup.Grant{{Role: backup.ProjectOwner, ProjectID: sibling}}, false},
		{"org role given as project role", org, []backup.Grant{{Role: backup.OrgOwner, ProjectID: proj.ID}}, false},
		{"no grants", org, nil, false},
	} {
		p := backup.Principal{OrgID: tt.orgID, Grants: tt.grants}
		if got := p.CanReadProject(&proj); got != tt.want {
			t.Errorf("%s: CanReadProject = %v, want %v", tt.name, got, tt.want)
		}
	}
	owner := backup.Principal{OrgID: org, Grants: []backup.Grant{{Role: backup.OrgOwner}}}
	if !owner.IsOrgOwner(org) || owner.IsOrgOwner(other) {
		t.Error("IsOrgOwner")
	}
}

func TestValidRole(t *testing.T) {
	for r, want := range map[backup.Role][2]bool{
		backup.OrgOwner: {true, true}, backup.ProjectReadOnly: {true, false}, "GROUP_WIZARD": {false, false},
	} {
		if known, org := backup.ValidRole(r); known != want[0] || org != want[1] {
			t.Errorf("ValidRole(%s) = %v, %v", r, known, org)
		}
	}
}

func TestAllowsAddr(t *testing.T) {
	p := backup.Principal{AccessList: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("2001:db8::1/128")}}
	for addr, want := range map[string]bool{
		"10.1.2.3": true, "::ffff:10.1.2.3": true, "11.0.0.1": false, "2001:db8::1": true, "2001:db8::2": false,
	} {
		if got := p.AllowsAddr(netip.MustParseAddr(addr)); got != want {
			t.Errorf("AllowsAddr(%s) = %v, want %v", addr, got, want)
		}
	}
	if !(&backup.Principal{}).AllowsAddr(netip.MustParseAddr("8.8.8.8")) {
		t.Error("an empty access list refuses")
	}
}

// TestNoPrincipal checks that a missing caller is refused by every check
// (an internal error wrapping ErrNoPrincipal, not a panic) and that
// System passes them all.
func TestNoPrincipal(t *testing.T) {
	org := backup.MustParseObjectID("5e2211c17a3e5a48f5497de0")
	proj := backup.MustParseObjectID("5e2211c17a3e5a48f5497de3")
	var none *backup.Principal
	for name, check := range map[string]func(*backup.Principal) error{
		"CheckProject":  func(p *backup.Principal) error { return p.CheckProject(org, proj) },
		"CheckAdmin":    func(p *backup.Principal) error { return p.CheckAdmin(org, proj) },
		"CheckReporter": func(p *backup.Principal) error { return p.CheckReporter(org, proj) },
	} {
		if err := check(none); !errors.Is(err, backup.ErrNoPrincipal) || backup.KindOf(err) != backup.Internal {
			t.Errorf("%s without a principal: %v", name, err)
		}
		if err := check(backup.System); err != nil {
			t.Errorf("%s as System: %v", name, err)
		}
	}
	if _, err := backup.CallerOf(context.Background()); !errors.Is(err, backup.ErrNoPrincipal) {
		t.Errorf("CallerOf an empty context: %v", err)
	}
	p := &backup.Principal{Kind: backup.APIKeyPrincipal, OrgID: org}
	if got, err := backup.CallerOf(backup.WithPrincipal(context.Background(), p)); got != p || err != nil {
		t.Errorf("CallerOf = %v, %v", got, err)
	}
	if p.IsSystem() || none.IsSystem() || !backup.System.IsSystem() {
		t.Error("IsSystem")
	}
}
