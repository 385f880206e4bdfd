package admin_test

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
)

// FuzzParseFlags sends any value to the parsers of the administration
// commands' flags: never a panic; a refusal is an API error; an interval
// is the number of minutes given; access list entries and grants print
// back as values that parse to the same.
func FuzzParseFlags(f *testing.F) {
	for _, s := range []string{"15", "30m", " off ", "-15", "9007199254741007", "192.0.2.1", "192.0.2.0/24", "192.0.2.1/24",
		"::ffff:192.0.2.1", "::ffff:192.0.2.0/120", "fe80::1%eth0", "2001:db8::/32", "ORG_OWNER", "group_read_only",
		"|5e2211c17a3e5a48f5497de3:GROUP_READ_ONLY", "org_member|5E2211C17A3E5A48F5497DE3:group_owner, 5e2211c17a3e5a48f5497de3:GROUP_OWNER", "x:y", "agent", "MIRRORED", "cloud"} {
		f.Add(s)
	}
	apiErr := func(t *testing.T, what, s string, err error) {
		t.Helper()
		if e := backup.ErrorOf(err); e == nil || e.Kind != backup.Invalid || e.Code == "" || e.Detail == "" {
			t.Fatalf("%s(%q): %v is not an API error", what, s, err)
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		if d, err := admin.ParseInterval(s); err != nil {
			apiErr(t, "ParseInterval", s, err)
		} else if v := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "m"); v != "off" {
			if n, _ := strconv.Atoi(v); d < 0 || int(d/time.Minute) != n || d%time.Minute != 0 {
				t.Fatalf("ParseInterval(%q) = %v", s, d)
			}
		}
		for _, p := range []func(string) (string, error){
			func(s string) (string, error) { v, err := admin.ParseDriver(s); return string(v), err },
			func(s string) (string, error) { v, err := backup.ParseConfigKind(s); return string(v), err },
			func(s string) (string, error) { v, err := admin.ParseBackupKind(s); return string(v), err },
		} {
			if v, err := p(s); err != nil {
				apiErr(t, "parse", s, err)
			} else if again, err := p(v); err != nil || again != v {
				t.Fatalf("%q parses to %q, which parses to %q, %v", s, v, again, err)
			}
		}
		entries := strings.Split(s, ",")
		if ps, err := admin.ParseAccessList(entries); err != nil {
			apiErr(t, "ParseAccessList", s, err)
		} else {
			var printed []string
			for _, p := range ps {
				if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || p.Addr().Zone() != "" {
					t.Fatalf("ParseAccessList(%q): %v", s, p)
				}
				printed = append(printed, p.String())
			}
			if again, err := admin.ParseAccessList(printed); err != nil || !slices.Equal(again, ps) {
				t.Fatalf("ParseAccessList(%q) = %v, printed %q reads %v, %v", s, ps, printed, again, err)
			}
		}
		// Organization roles, then "|" and project roles, each list
		// separated by commas.
		org, project, _ := strings.Cut(s, "|")
		if gs, err := admin.ParseGrants(list(org), list(project)); err != nil {
			apiErr(t, "ParseGrants", s, err)
		} else {
			var orgs, projects []string
			for _, g := range gs {
				if g.ProjectID.IsZero() {
					orgs = append(orgs, admin.FormatGrant(g))
				} else {
					projects = append(projects, admin.FormatGrant(g))
				}
			}
			if again, err := admin.ParseGrants(orgs, projects); err != nil || !slices.Equal(again, gs) {
				t.Fatalf("ParseGrants(%q) = %v, printed %q %q reads %v, %v", s, gs, orgs, projects, again, err)
			}
		}
	})
}

// list splits a comma-separated list; an empty string is no entries.
func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}
