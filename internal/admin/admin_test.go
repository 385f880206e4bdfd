package admin_test

import (
	"context"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/auth/digest"
	"github.com/checkpointd/checkpointd/internal/auth/oauth"
	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

var now = time.Date(2026, 11, 23, 10, 0, 0, 500, time.UTC)

// clk reads now: what the operations create is dated by it.
var clk = clock.NewVirtual(now)

// fixture is a store with two organizations, each with a project.
type fixture struct {
	ctx              context.Context
	st               testStore
	org, other       backup.Organization
	project, foreign backup.Project
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ctx: backup.WithPrincipal(context.Background(), backup.System), st: openStore(t)}
	var err error
	if f.org, err = admin.CreateOrganization(f.ctx, f.st, "Acme", clk); err != nil {
		t.Fatal(err)
	}
	if f.other, err = admin.CreateOrganization(f.ctx, f.st, "Other", clk); err != nil {
		t.Fatal(err)
	}
	if f.project, err = admin.CreateProject(f.ctx, f.st, f.org.ID, "prod", clk); err != nil {
		t.Fatal(err)
	}
	if f.foreign, err = admin.CreateProject(f.ctx, f.st, f.other.ID, "theirs", clk); err != nil {
		t.Fatal(err)
	}
	return f
}

// wantErr checks that err is a *backup.Error of that kind and code whose
// detail contains detail.
func wantErr(t *testing.T, err error, kind backup.Kind, code, detail string) {
	t.Helper()
	e := backup.ErrorOf(err)
	if e == nil {
		t.Fatalf("error %v (%T), want %s %s", err, err, kind, code)
	}
	if e.Kind != kind || e.Code != code || !strings.Contains(e.Detail, detail) {
		t.Fatalf("error %s %s %q, want %s %s containing %q", e.Kind, e.Code, e.Detail, kind, code, detail)
	}
}

func TestParseGrants(t *testing.T) {
	p1, p2 := "5e2211c17a3e5a48f5497de3", "5e2211c17a3e5a48f5497de4"
	id1, id2 := backup.MustParseObjectID(p1), backup.MustParseObjectID(p2)
	for _, tt := range []struct {
		name        string
		org, proj   []string
		want        []backup.Grant
		code, error string
	}{
		{name: "none", want: nil},
		{name: "org roles", org: []string{"ORG_OWNER", "org_read_only", " ORG_MEMBER "},
			want: []backup.Grant{{Role: backup.OrgOwner}, {Role: backup.OrgReadOnly}, {Role: backup.OrgMember}}},
		{name: "project roles", proj: []string{p1 + ":GROUP_READ_ONLY", p2 + ":group_backup_manager", strings.ToUpper(p1) + ":GROUP_OWNER"},
			want: []backup.Grant{{Role: backup.ProjectReadOnly, ProjectID: id1}, {Role: backup.ProjectBackupManager, ProjectID: id2}, {Role: backup.ProjectOwner, ProjectID: id1}}},
		{name: "both, duplicates dropped", org: []string{"ORG_MEMBER", "ORG_MEMBER"}, proj: []string{p1 + ":GROUP_OWNER", p1 + ":GROUP_OWNER"},
			want: []backup.Grant{{Role: backup.OrgMember}, {Role: backup.ProjectOwner, ProjectID: id1}}},
		{name: "unknown org role", org: []string{"ORG_OWNR"},
			code: backup.CodeInvalidRole, error: `Unknown organization role "ORG_OWNR": the organization roles are ORG_OWNER, ORG_READ_ONLY, ORG_MEMBER.`},
		{name: "empty org role", org: []string{""}, code: backup.CodeInvalidRole, error: `Unknown organization role ""`},
		{name: "project role as org role", org: []string{"GROUP_OWNER"},
			code: backup.CodeInvalidRole, error: "GROUP_OWNER is a project role: grant it on a project, as PROJECT_ID:GROUP_OWNER."},
		{name: "org role on a project", proj: []string{p1 + ":ORG_OWNER"},
			code: backup.CodeInvalidRole, error: "ORG_OWNER is an organization role: grant it without a project."},
		{name: "project role without project", proj: []string{"GROUP_OWNER"},
			code: backup.CodeInvalidRole, error: `Project role "GROUP_OWNER" is not of the form PROJECT_ID:ROLE.`},
		{name: "bad project id", proj: []string{"prod:GROUP_OWNER"},
			code: backup.CodeInvalidGroupID, error: `"prod" is not a project id, which is 24 hexadecimal digits.`},
		{name: "zero project id", proj: []string{"000000000000000000000000:GROUP_OWNER"},
			code: backup.CodeInvalidGroupID, error: `"000000000000000000000000" is not a project id: no project has the zero id.`},
		{name: "short project id", proj: []string{p1[:23] + ":GROUP_OWNER"}, code: backup.CodeInvalidGroupID, error: "is not a project id"},
		{name: "unknown project role", proj: []string{p1 + ":GROUP_ADMIN"},
			code: backup.CodeInvalidRole, error: `Unknown project role "GROUP_ADMIN": the project roles are GROUP_OWNER, GROUP_READ_ONLY,`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := admin.ParseGrants(tt.org, tt.proj)
			if tt.code != "" {
				wantErr(t, err, backup.Invalid, tt.code, tt.error)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRoleLists(t *testing.T) {
	for _, r := range admin.OrgRoles {
		if known, org := backup.ValidRole(r); !known || !org {
			t.Errorf("OrgRoles lists %s, which is not an organization role", r)
		}
	}
	for _, r := range admin.ProjectRoles {
		if known, org := backup.ValidRole(r); !known || org {
			t.Errorf("ProjectRoles lists %s, which is not a project role", r)
		}
	}
}

func TestFormatGrant(t *testing.T) {
	gs, err := admin.ParseGrants([]string{"ORG_OWNER"}, []string{"5e2211c17a3e5a48f5497de3:GROUP_OWNER"})
	if err != nil {
		t.Fatal(err)
	}
	var org, proj []string
	for _, g := range gs {
		s := admin.FormatGrant(g)
		if g.ProjectID.IsZero() {
			org = append(org, s)
		} else {
			proj = append(proj, s)
		}
	}
	again, err := admin.ParseGrants(org, proj)
	if err != nil || !slices.Equal(again, gs) {
		t.Errorf("FormatGrant does not round-trip: %v, %v", again, err)
	}
}

func TestParseAccessList(t *testing.T) {
	pfx := netip.MustParsePrefix
	for _, tt := range []struct {
		name  string
		in    []string
		want  []netip.Prefix
		error string
	}{
		{name: "empty", in: nil, want: nil},
		{name: "addresses", in: []string{"192.0.2.1", "2001:db8::1", " 198.51.100.7 "},
			want: []netip.Prefix{pfx("192.0.2.1/32"), pfx("2001:db8::1/128"), pfx("198.51.100.7/32")}},
		{name: "blocks", in: []string{"10.0.0.0/8", "2001:db8::/32", "0.0.0.0/0", "192.0.2.1/32"},
			want: []netip.Prefix{pfx("10.0.0.0/8"), pfx("2001:db8::/32"), pfx("0.0.0.0/0"), pfx("192.0.2.1/32")}},
		{name: "IPv4-mapped", in: []string{"::ffff:192.0.2.1", "::ffff:10.0.0.0/104"},
			want: []netip.Prefix{pfx("192.0.2.1/32"), pfx("10.0.0.0/8")}},
		{name: "duplicates dropped", in: []string{"192.0.2.1", "192.0.2.1/32", "::ffff:192.0.2.1"},
			want: []netip.Prefix{pfx("192.0.2.1/32")}},
		{name: "not an address", in: []string{"192.0.2.256"}, error: `Access list entry "192.0.2.256" is not an IP address or a CIDR block.`},
		{name: "host name", in: []string{"example.com"}, error: `"example.com" is not an IP address or a CIDR block`},
		{name: "empty entry", in: []string{""}, error: `Access list entry "" is not`},
		{name: "prefix too long", in: []string{"10.0.0.0/33"}, error: `"10.0.0.0/33" is not an IP address or a CIDR block`},
		{name: "bad prefix", in: []string{"10.0.0.0/x"}, error: `"10.0.0.0/x" is not`},
		{name: "host bits", in: []string{"10.1.2.3/8"}, error: `Access list entry "10.1.2.3/8" has bits set beyond its prefix length: did you mean 10.0.0.0/8?`},
		{name: "zone", in: []string{"fe80::1%eth0"}, error: `"fe80::1%eth0" is not an IP address or a CIDR block: it has an IPv6 zone.`},
		{name: "short mapped block", in: []string{"::ffff:0.0.0.0/80"}, error: "needs a prefix length of at least 96"},
		{name: "second entry bad", in: []string{"10.0.0.0/8", "10.0.0.0/8/8"}, error: `"10.0.0.0/8/8"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := admin.ParseAccessList(tt.in)
			if tt.error != "" {
				wantErr(t, err, backup.Invalid, admin.CodeInvalidAccessListEntry, tt.error)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewKeys(t *testing.T) {
	seen := map[string]bool{}
	letters := map[rune]int{}
	for range 2000 {
		pub := admin.NewPublicKey()
		if !backup.ValidPublicKey(pub) {
			t.Fatalf("public key %q is not 8 lowercase letters", pub)
		}
		for _, r := range pub {
			letters[r]++
		}
		priv := admin.NewPrivateKey()
		if !uuidV4.MatchString(priv) {
			t.Fatalf("private key %q is not a version 4 UUID", priv)
		}
		if seen[pub] || seen[priv] {
			t.Fatalf("repeated key %s / %s", pub, priv)
		}
		seen[pub], seen[priv] = true, true
	}
	// 16000 letters: about 615 of each; a letter under 450 or over 800
	// would be a 6-sigma event, or a bias.
	for r := 'a'; r <= 'z'; r++ {
		if n := letters[r]; n < 450 || n > 800 {
			t.Errorf("letter %c drawn %d times in 16000", r, n)
		}
	}
}

func TestCreateOrganizationAndProject(t *testing.T) {
	f := newFixture(t)
	if f.org.ID.IsZero() || f.org.Name != "Acme" || !f.org.Created.Equal(now.Truncate(time.Second)) || f.org.ID.Time() != f.org.Created {
		t.Errorf("organization %+v", f.org)
	}
	if f.project.OrgID != f.org.ID || f.project.Name != "prod" || f.project.ID == f.foreign.ID {
		t.Errorf("project %+v", f.project)
	}
	got, err := f.st.Project(f.ctx, f.project.ID)
	if err != nil || got.Name != "prod" || got.OrgID != f.org.ID {
		t.Errorf("stored project %+v, %v", got, err)
	}
	unknown := admin.NewObjectID(now)
	for _, tt := range []struct {
		name        string
		create      func() error
		kind        backup.Kind
		code, error string
	}{
		{"org without name", func() error { _, err := admin.CreateOrganization(f.ctx, f.st, "", clk); return err },
			backup.Invalid, backup.CodeInvalidAttribute, "An organization needs a name."},
		{"org name too long", func() error {
			_, err := admin.CreateOrganization(f.ctx, f.st, strings.Repeat("x", 65), clk)
			return err
		}, backup.Invalid, backup.CodeInvalidAttribute, "is longer than 64 characters"},
		{"org name with control characters", func() error { _, err := admin.CreateOrganization(f.ctx, f.st, "a\tb", clk); return err },
			backup.Invalid, backup.CodeInvalidAttribute, `The organization name "a\tb" contains control characters.`},
		{"project name padded", func() error { _, err := admin.CreateProject(f.ctx, f.st, f.org.ID, " prod", clk); return err },
			backup.Invalid, backup.CodeInvalidAttribute, `The project name " prod" starts or ends with white space.`},
		{"project without org", func() error { _, err := admin.CreateProject(f.ctx, f.st, backup.NilObjectID, "x", clk); return err },
			backup.Invalid, backup.CodeInvalidOrgID, "A project needs an organization."},
		{"project of unknown org", func() error { _, err := admin.CreateProject(f.ctx, f.st, unknown, "x", clk); return err },
			backup.NotFound, backup.CodeOrgNotFound, "No organization with ID " + unknown.Hex() + " exists."},
	} {
		t.Run(tt.name, func(t *testing.T) { wantErr(t, tt.create(), tt.kind, tt.code, tt.error) })
	}
	// 64 characters, not bytes, is the limit.
	if _, err := admin.CreateOrganization(f.ctx, f.st, strings.Repeat("é", 64), clk); err != nil {
		t.Errorf("64-character name: %v", err)
	}
}

func TestCreateCluster(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		name        string
		spec        backup.ClusterSpec
		check       func(t *testing.T, c backup.Cluster)
		kind        backup.Kind
		code, error string
	}{
		{name: "replica set", spec: backup.ClusterSpec{Name: "Cluster0", ClusterChange: backup.ClusterChange{ShardCount: ptr(0)}}, check: func(t *testing.T, c backup.Cluster) {
			if c.Type != backup.ReplicaSet || c.ReplicaSetName != "Cluster0-shard-0" || c.MongoDBVersion != backup.DefaultMongoDBVersion ||
				c.Backup != backup.BackupLegacy || len(c.Shards) != 0 {
				t.Errorf("%+v", c)
			}
		}},
		{name: "sharded", spec: backup.ClusterSpec{Name: "Cluster1", ClusterChange: backup.ClusterChange{ShardCount: ptr(3), MongoDBVersion: ptr("4.2.24"), Backup: ptr[backup.BackupKind](backup.BackupCloud)}}, check: func(t *testing.T, c backup.Cluster) {
			var want []backup.Shard
			for _, n := range []string{"Cluster1-shard-0", "Cluster1-shard-1", "Cluster1-shard-2"} {
				want = append(want, backup.Shard{Name: n, ReplicaSetName: n})
			}
			if c.Type != backup.Sharded || !slices.Equal(c.Shards, want) || c.Config.ReplicaSetName != "Cluster1-config-0" ||
				c.Config.Mirrored() || c.MongoDBVersion != "4.2.24" || c.Backup != backup.BackupCloud {
				t.Errorf("%+v", c)
			}
		}},
		{name: "mirrored config servers", spec: backup.ClusterSpec{Name: "Legacy", ClusterChange: backup.ClusterChange{ShardCount: ptr(2), ConfigKind: ptr[backup.ConfigKind](backup.ConfigMirrored), MongoDBVersion: ptr("3.2.22")}},
			check: func(t *testing.T, c backup.Cluster) {
				if !c.Config.Mirrored() || len(c.Config.HostIDs) != 3 || len(c.Config.HostIDs[0]) != 32 || c.Config.HostIDs[0] == c.Config.HostIDs[1] {
					t.Errorf("%+v", c.Config)
				}
			}},
		{name: "no backup", spec: backup.ClusterSpec{Name: "Plain", ClusterChange: backup.ClusterChange{ShardCount: ptr(0), Backup: ptr[backup.BackupKind](backup.BackupNone)}}, check: func(t *testing.T, c backup.Cluster) {
			if c.Backup != backup.BackupNone {
				t.Errorf("%+v", c)
			}
		}},
		{name: "duplicate name", spec: backup.ClusterSpec{Name: "Cluster0", ClusterChange: backup.ClusterChange{ShardCount: ptr(1)}},
			kind: backup.Conflict, code: backup.CodeDuplicateClusterName, error: "A cluster named Cluster0 already exists in group"},
		{name: "bad name", spec: backup.ClusterSpec{Name: "my cluster", ClusterChange: backup.ClusterChange{ShardCount: ptr(0)}},
			kind: backup.Invalid, code: backup.CodeInvalidClusterName, error: `Cluster name "my cluster" is invalid`},
		{name: "negative shards", spec: backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(-1)}},
			kind: backup.Invalid, code: backup.CodeInvalidAttribute, error: "not -1"},
		{name: "too many shards", spec: backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(101)}},
			kind: backup.Invalid, code: backup.CodeInvalidAttribute, error: "not 101"},
		{name: "config servers of a replica set", spec: backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(0), ConfigKind: ptr[backup.ConfigKind](backup.ConfigReplicaSet)}},
			kind: backup.Invalid, code: backup.CodeInvalidAttribute, error: "Invalid attribute configServer specified: a replica set has no config servers."},
		{name: "mirrored on 3.4", spec: backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(1), ConfigKind: ptr[backup.ConfigKind](backup.ConfigMirrored), MongoDBVersion: ptr("3.4.0")}},
			kind: backup.Invalid, code: backup.CodeInvalidAttribute, error: "Mirrored config servers (SCCC) ended with MongoDB 3.2"},
		{name: "unknown config servers", spec: backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(1), ConfigKind: ptr[backup.ConfigKind]("scc")}},
			kind: backup.Invalid, code: backup.CodeInvalidAttribute, error: `Unknown config server kind "scc"`},
		{name: "bad version", spec: backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(0), MongoDBVersion: ptr("4.4")}},
			kind: backup.Invalid, code: backup.CodeInvalidAttribute, error: `MongoDB version "4.4" is not of the form MAJOR.MINOR.PATCH`},
		{name: "bad backup kind", spec: backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(0), Backup: ptr[backup.BackupKind]("TAPE")}},
			kind: backup.Invalid, code: backup.CodeInvalidAttribute, error: "Unknown backup kind TAPE"},
		{name: "unknown project", spec: backup.ClusterSpec{ProjectID: admin.NewObjectID(now), Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(0)}},
			kind: backup.NotFound, code: backup.CodeGroupNotFound, error: "No group with ID"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.spec.ProjectID.IsZero() {
				tt.spec.ProjectID = f.project.ID
			}
			c, err := admin.Clusters{Store: f.st, Clock: clk}.CreateCluster(f.ctx, tt.spec)
			if tt.code != "" {
				wantErr(t, err, tt.kind, tt.code, tt.error)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.ID.IsZero() || c.GroupID != f.project.ID || c.Name != tt.spec.Name || !c.Created.Equal(now.Truncate(time.Second)) {
				t.Errorf("%+v", c)
			}
			tt.check(t, c)
			got, err := f.st.Cluster(f.ctx, backup.ClusterRef{GroupID: c.GroupID, Name: c.Name})
			if err != nil || got.ID != c.ID || got.Type != c.Type || len(got.Shards) != len(c.Shards) || got.Config.Mirrored() != c.Config.Mirrored() {
				t.Errorf("stored %+v, %v", got, err)
			}
		})
	}
	list, err := admin.ListClusters(f.ctx, f.st, f.project.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range list {
		names = append(names, c.Name)
	}
	if want := []string{"Cluster0", "Cluster1", "Legacy", "Plain"}; !slices.Equal(names, want) {
		t.Errorf("ListClusters: %v, want %v", names, want)
	}
	if list, err := admin.ListClusters(f.ctx, f.st, f.foreign.ID); err != nil || len(list) != 0 || list == nil {
		t.Errorf("ListClusters of an empty project: %#v, %v", list, err)
	}
	_, err = admin.ListClusters(f.ctx, f.st, admin.NewObjectID(now))
	wantErr(t, err, backup.NotFound, backup.CodeGroupNotFound, "")
}

func TestParseKinds(t *testing.T) {
	for in, want := range map[string]backup.BackupKind{"legacy": backup.BackupLegacy, "CLOUD": backup.BackupCloud, " none": backup.BackupNone} {
		if got, err := admin.ParseBackupKind(in); got != want || err != nil {
			t.Errorf("ParseBackupKind(%q) = %q, %v", in, got, err)
		}
	}
	_, err := admin.ParseBackupKind("snapshots")
	wantErr(t, err, backup.Invalid, backup.CodeInvalidAttribute, `Unknown backup kind "snapshots": use legacy`)
	for in, want := range map[string]backup.ConfigKind{"csrs": backup.ConfigReplicaSet, "Mirrored": backup.ConfigMirrored} {
		if got, err := backup.ParseConfigKind(in); got != want || err != nil {
			t.Errorf("ParseConfigServers(%q) = %q, %v", in, got, err)
		}
	}
	_, err = backup.ParseConfigKind("sccc")
	wantErr(t, err, backup.Invalid, backup.CodeInvalidAttribute, `Unknown config server kind "sccc": use csrs`)
}

func TestCreateAPIKey(t *testing.T) {
	f := newFixture(t)
	grants := []backup.Grant{{Role: backup.OrgReadOnly}, {Role: backup.ProjectBackupManager, ProjectID: f.project.ID}}
	access := []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}
	k, private, err := admin.CreateAPIKey(f.ctx, f.st, f.org.ID, "backup tooling", grants, access, clk)
	if err != nil {
		t.Fatal(err)
	}
	if !backup.ValidPublicKey(k.PublicKey) || !uuidV4.MatchString(private) || k.ID.IsZero() || k.OrgID != f.org.ID ||
		k.Description != "backup tooling" || !slices.Equal(k.Grants, grants) || !slices.Equal(k.AccessList, access) ||
		!k.Created.Equal(now.Truncate(time.Second)) {
		t.Errorf("key %+v, private key %q", k, private)
	}
	got, ha1, err := f.st.APIKey(f.ctx, k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != k.ID || got.OrgID != f.org.ID || !slices.Equal(got.Grants, grants) || !slices.Equal(got.AccessList, access) {
		t.Errorf("stored key %+v", got)
	}
	if want := digest.HA1(digest.MD5, k.PublicKey, digest.DefaultRealm, private); ha1.MD5 != want {
		t.Errorf("stored MD5 HA1 %q, want %q", ha1.MD5, want)
	}
	if want := digest.HA1(digest.SHA256, k.PublicKey, digest.DefaultRealm, private); ha1.SHA256 != want {
		t.Errorf("stored SHA-256 HA1 %q, want %q", ha1.SHA256, want)
	}
	if strings.Contains(ha1.MD5+ha1.SHA256, private) {
		t.Error("the private key is stored")
	}
	keys, err := f.st.APIKeys(f.ctx, f.org.ID)
	if err != nil || len(keys) != 1 || keys[0].PublicKey != k.PublicKey {
		t.Errorf("APIKeys: %+v, %v", keys, err)
	}

	unknown := admin.NewObjectID(now)
	for _, tt := range []struct {
		name        string
		org         backup.ObjectID
		desc        string
		grants      []backup.Grant
		kind        backup.Kind
		code, error string
	}{
		{"unknown org", unknown, "", grants[:1], backup.NotFound, backup.CodeOrgNotFound, "No organization with ID " + unknown.Hex() + " exists."},
		{"no org", backup.NilObjectID, "", grants[:1], backup.Invalid, backup.CodeInvalidOrgID, "An API key needs an organization."},
		{"no role", f.org.ID, "", nil, backup.Invalid, backup.CodeInvalidRole, "An API key needs at least one role"},
		{"role at the wrong level", f.org.ID, "", []backup.Grant{{Role: backup.OrgOwner, ProjectID: f.project.ID}}, backup.Invalid, backup.CodeInvalidRole, "Invalid role ORG_OWNER specified."},
		{"unknown role", f.org.ID, "", []backup.Grant{{Role: "ORG_ADMIN"}}, backup.Invalid, backup.CodeInvalidRole, "Invalid role ORG_ADMIN specified."},
		{"project of another org", f.org.ID, "", []backup.Grant{{Role: backup.ProjectOwner, ProjectID: f.foreign.ID}}, backup.NotFound, backup.CodeGroupNotFound, f.foreign.ID.Hex()},
		{"unknown project", f.org.ID, "", []backup.Grant{{Role: backup.ProjectOwner, ProjectID: unknown}}, backup.NotFound, backup.CodeGroupNotFound, unknown.Hex()},
		{"description too long", f.org.ID, strings.Repeat("d", 251), grants[:1], backup.Invalid, backup.CodeInvalidAttribute, "The description is longer than 250 bytes."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, private, err := admin.CreateAPIKey(f.ctx, f.st, tt.org, tt.desc, tt.grants, nil, clk)
			wantErr(t, err, tt.kind, tt.code, tt.error)
			if k.PublicKey != "" || private != "" {
				t.Errorf("a failed create returned %+v, %q", k, private)
			}
		})
	}
	if keys, err := f.st.APIKeys(f.ctx, f.org.ID); err != nil || len(keys) != 1 {
		t.Errorf("failed creates stored keys: %+v, %v", keys, err)
	}
}

// clashingStore reports the first n API keys and service accounts it is
// given as taken.
type clashingStore struct {
	admin.Store
	n, tries int
}

func (s *clashingStore) CreateAPIKey(ctx context.Context, k backup.APIKey, ha1 backup.DigestHA1) error {
	if s.tries++; s.tries <= s.n {
		return backup.Errorf(backup.Conflict, backup.CodeDuplicateAPIKey, "An API key %s already exists.", k.PublicKey)
	}
	return s.Store.CreateAPIKey(ctx, k, ha1)
}

func (s *clashingStore) CreateServiceAccount(ctx context.Context, sa backup.ServiceAccount, secret backup.ServiceAccountSecret) error {
	if s.tries++; s.tries <= s.n {
		return backup.Errorf(backup.Conflict, backup.CodeDuplicateClientID, "A service account %s already exists.", sa.ClientID)
	}
	return s.Store.CreateServiceAccount(ctx, sa, secret)
}

func TestCreateRetriesTakenKeys(t *testing.T) {
	f := newFixture(t)
	grants := []backup.Grant{{Role: backup.OrgOwner}}
	st := &clashingStore{Store: f.st, n: 2}
	k, private, err := admin.CreateAPIKey(f.ctx, st, f.org.ID, "", grants, nil, clk)
	if err != nil || st.tries != 3 {
		t.Fatalf("after 2 clashes: %v, %d tries", err, st.tries)
	}
	if _, ha1, err := f.st.APIKey(f.ctx, k.PublicKey); err != nil || ha1.MD5 != digest.HA1(digest.MD5, k.PublicKey, digest.DefaultRealm, private) {
		t.Errorf("the key stored after retries does not verify: %v", err)
	}
	st = &clashingStore{Store: f.st, n: 100}
	_, _, err = admin.CreateAPIKey(f.ctx, st, f.org.ID, "", grants, nil, clk)
	wantErr(t, err, backup.Conflict, backup.CodeDuplicateAPIKey, "")
	if st.tries != 5 {
		t.Errorf("gave up after %d tries, want 5", st.tries)
	}

	st = &clashingStore{Store: f.st, n: 1}
	sa, secret, err := admin.CreateServiceAccount(f.ctx, st, f.org.ID, "retried", "", grants, nil, admin.MinSecretTTL, clk)
	if err != nil || st.tries != 2 || secret == "" {
		t.Fatalf("after a clash: %v, %d tries", err, st.tries)
	}
	if _, _, err := f.st.ServiceAccount(f.ctx, sa.ClientID); err != nil {
		t.Errorf("the service account stored after a retry: %v", err)
	}
	st = &clashingStore{Store: f.st, n: 100}
	_, _, err = admin.CreateServiceAccount(f.ctx, st, f.org.ID, "never", "", grants, nil, admin.MinSecretTTL, clk)
	wantErr(t, err, backup.Conflict, backup.CodeDuplicateClientID, "")
}

func TestCreateServiceAccount(t *testing.T) {
	f := newFixture(t)
	grants := []backup.Grant{{Role: backup.ProjectReadOnly, ProjectID: f.project.ID}}
	access := []netip.Prefix{netip.MustParsePrefix("2001:db8::/32")}
	sa, secret, err := admin.CreateServiceAccount(f.ctx, f.st, f.org.ID, "exporter", "reads checkpoints", grants, access, 8760*time.Hour, clk)
	if err != nil {
		t.Fatal(err)
	}
	if !oauth.ValidClientID(sa.ClientID) || !oauth.ValidClientSecret(secret) || sa.OrgID != f.org.ID || sa.Name != "exporter" ||
		sa.Description != "reads checkpoints" || !slices.Equal(sa.Grants, grants) || !slices.Equal(sa.AccessList, access) {
		t.Errorf("service account %+v, secret %q", sa, secret)
	}
	got, secrets, err := f.st.ServiceAccount(f.ctx, sa.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "exporter" || len(secrets) != 1 {
		t.Fatalf("stored %+v with %d secrets", got, len(secrets))
	}
	s := secrets[0]
	if ok, err := oauth.CompareSecret(s.Hash, secret); !ok || err != nil {
		t.Errorf("the stored hash does not verify the secret: %v", err)
	}
	if strings.Contains(s.Hash, secret) {
		t.Error("the secret is stored")
	}
	if created := now.Truncate(time.Second); !s.Created.Equal(created) || !s.Expires.Equal(created.Add(8760*time.Hour)) {
		t.Errorf("secret dated %v to %v", s.Created, s.Expires)
	}

	infos, err := admin.ListServiceAccounts(f.ctx, f.st, f.org.ID)
	if err != nil || len(infos) != 1 || infos[0].ClientID != sa.ClientID || len(infos[0].Secrets) != 1 || infos[0].Secrets[0].ID != s.ID ||
		!infos[0].Secrets[0].Expires.Equal(s.Expires) {
		t.Errorf("ListServiceAccounts: %+v, %v", infos, err)
	}
	if infos, err := admin.ListServiceAccounts(f.ctx, f.st, f.other.ID); err != nil || len(infos) != 0 {
		t.Errorf("ListServiceAccounts of another org: %+v, %v", infos, err)
	}
	_, err = admin.ListServiceAccounts(f.ctx, f.st, admin.NewObjectID(now))
	wantErr(t, err, backup.NotFound, backup.CodeOrgNotFound, "")

	unknown := admin.NewObjectID(now)
	for _, tt := range []struct {
		name        string
		org         backup.ObjectID
		saName      string
		grants      []backup.Grant
		ttl         time.Duration
		kind        backup.Kind
		code, error string
	}{
		{"unknown org", unknown, "x", grants[:0:0], time.Hour * 24, backup.Invalid, backup.CodeInvalidRole, "A service account needs at least one role"},
		{"unknown org with role", unknown, "x", []backup.Grant{{Role: backup.OrgOwner}}, 24 * time.Hour, backup.NotFound, backup.CodeOrgNotFound, unknown.Hex()},
		{"project of another org", f.org.ID, "x", []backup.Grant{{Role: backup.ProjectOwner, ProjectID: f.foreign.ID}}, 24 * time.Hour, backup.NotFound, backup.CodeGroupNotFound, f.foreign.ID.Hex()},
		{"no name", f.org.ID, "", grants, 24 * time.Hour, backup.Invalid, backup.CodeInvalidAttribute, "A service account needs a name of 1 to 64 bytes."},
		{"long name", f.org.ID, strings.Repeat("n", 65), grants, 24 * time.Hour, backup.Invalid, backup.CodeInvalidAttribute, "1 to 64 bytes"},
		{"secret too short-lived", f.org.ID, "x", grants, time.Hour, backup.Invalid, backup.CodeInvalidAttribute, "A secret expires after 8h to 8760h, not 1h0m0s."},
		{"secret too long-lived", f.org.ID, "x", grants, 8761 * time.Hour, backup.Invalid, backup.CodeInvalidAttribute, "not 8761h0m0s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sa, secret, err := admin.CreateServiceAccount(f.ctx, f.st, tt.org, tt.saName, "", tt.grants, nil, tt.ttl, clk)
			wantErr(t, err, tt.kind, tt.code, tt.error)
			if sa.ClientID != "" || secret != "" {
				t.Errorf("a failed create returned %+v, %q", sa, secret)
			}
		})
	}
}

func TestListProjects(t *testing.T) {
	f := newFixture(t)
	second, err := admin.CreateProject(f.ctx, f.st, f.org.ID, "staging", clk)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := (admin.Clusters{Store: f.st, Clock: clk}).CreateCluster(f.ctx, backup.ClusterSpec{ProjectID: second.ID, Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(0)}}); err != nil {
		t.Fatal(err)
	}
	ids := func(ps []backup.Project) []backup.ObjectID {
		var out []backup.ObjectID
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	all, err := admin.ListProjects(f.ctx, f.st, backup.NilObjectID)
	if want := []backup.ObjectID{f.project.ID, f.foreign.ID, second.ID}; err != nil || !slices.Equal(ids(all), want) {
		t.Errorf("all projects: %v, %v; want %v", ids(all), err, want)
	}
	mine, err := admin.ListProjects(f.ctx, f.st, f.org.ID)
	if want := []backup.ObjectID{f.project.ID, second.ID}; err != nil || !slices.Equal(ids(mine), want) {
		t.Errorf("the org's projects: %v, %v; want %v", ids(mine), err, want)
	}
	if len(mine) == 2 && mine[1].ClusterCount != 1 {
		t.Errorf("cluster count %d, want 1", mine[1].ClusterCount)
	}
	empty, err := admin.CreateOrganization(f.ctx, f.st, "Empty", clk)
	if err != nil {
		t.Fatal(err)
	}
	if none, err := admin.ListProjects(f.ctx, f.st, empty.ID); err != nil || none == nil || len(none) != 0 {
		t.Errorf("an empty org's projects: %#v, %v", none, err)
	}
	_, err = admin.ListProjects(f.ctx, f.st, admin.NewObjectID(now))
	wantErr(t, err, backup.NotFound, backup.CodeOrgNotFound, "")
}

// TestDeleteAPIKey: a key is deleted by its id, in any case, or by its
// public key; what is neither is refused before the store is asked.
func TestDeleteAPIKey(t *testing.T) {
	f := newFixture(t)
	grants := []backup.Grant{{Role: backup.OrgReadOnly}}
	byID, _, err := admin.CreateAPIKey(f.ctx, f.st, f.org.ID, "by id", grants, nil, clk)
	if err != nil {
		t.Fatal(err)
	}
	byPublic, _, err := admin.CreateAPIKey(f.ctx, f.st, f.org.ID, "by public key", grants, nil, clk)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		arg  string
		want backup.APIKey
	}{{" " + strings.ToUpper(byID.ID.Hex()) + " ", byID}, {byPublic.PublicKey, byPublic}} {
		ref, err := admin.ParseAPIKeyRef(tt.arg)
		if err != nil {
			t.Fatalf("ParseAPIKeyRef(%q): %v", tt.arg, err)
		}
		if id, err := admin.DeleteAPIKey(f.ctx, f.st, ref); err != nil || id != tt.want.ID {
			t.Errorf("DeleteAPIKey(%q) = %s, %v, want %s", tt.arg, id.Hex(), err, tt.want.ID.Hex())
		}
		if _, _, err := f.st.APIKey(f.ctx, tt.want.PublicKey); err == nil {
			t.Errorf("key %q still there", tt.arg)
		}
		// Deleted: the second time, the store's not-found answer.
		if _, err := admin.DeleteAPIKey(f.ctx, f.st, ref); backup.KindOf(err) != backup.NotFound {
			t.Errorf("deleting %q again: %v", tt.arg, err)
		}
	}
	_, err = admin.ParseAPIKeyRef("ABC")
	wantErr(t, err, backup.Invalid, backup.CodeInvalidAttribute, `"ABC" is neither an API key id`)
}
