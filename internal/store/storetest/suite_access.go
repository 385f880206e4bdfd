package storetest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// This file holds the suite's tests of who may read what (the principal
// of the context, store.ScopeOf) and of deleting organizations, projects and
// clusters.

// caller is an API key's principal of org with grants.
func caller(org backup.ObjectID, grants ...backup.Grant) *backup.Principal {
	return &backup.Principal{Kind: backup.APIKeyPrincipal, ID: "callerkey", OrgID: org, Grants: grants}
}

func orgGrant(r backup.Role) backup.Grant { return backup.Grant{Role: r} }

func projectGrant(r backup.Role, project backup.ObjectID) backup.Grant {
	return backup.Grant{Role: r, ProjectID: project}
}

// as is the fixture's context with p as the caller.
func (f *fixture) as(p *backup.Principal) context.Context {
	return backup.WithPrincipal(f.ctx, p)
}

// refOp is one of the reads that resolve a reference. It checks what it
// read against the fixture when it succeeds.
type refOp struct {
	name string
	do   func(t *testing.T, ctx context.Context, ref backup.ClusterRef) error
}

// refOps are Cluster, Checkpoints, Checkpoint and the project's Clusters
// of a legacy cluster c whose checkpoints are cps (at least two).
func (f *fixture) refOps(c backup.Cluster, cps []backup.Checkpoint) []refOp {
	return []refOp{
		{"Cluster", func(t *testing.T, ctx context.Context, ref backup.ClusterRef) error {
			got, err := f.s.Cluster(ctx, ref)
			if err == nil {
				wantCluster(t, got, c)
			}
			return err
		}},
		{"Checkpoints", func(t *testing.T, ctx context.Context, ref backup.ClusterRef) error {
			p, err := f.s.Checkpoints(ctx, ref, backup.PageRequest{Num: 1, Size: 2, IncludeCount: true})
			if err == nil {
				wantCheckpoints(t, p.Items, cps[:2])
				if p.Total != len(cps) {
					t.Fatalf("Total %d, want %d", p.Total, len(cps))
				}
			}
			return err
		}},
		{"Checkpoint", func(t *testing.T, ctx context.Context, ref backup.ClusterRef) error {
			got, err := f.s.Checkpoint(ctx, ref, cps[1].ID)
			if err == nil {
				wantCheckpoints(t, []backup.Checkpoint{got}, cps[1:2])
			}
			return err
		}},
		{"Clusters", func(t *testing.T, ctx context.Context, ref backup.ClusterRef) error {
			p, err := f.s.Clusters(ctx, ref.GroupID, backup.PageRequest{Num: 1, Size: 100, IncludeCount: true})
			if err == nil && !slices.ContainsFunc(p.Items, func(got backup.Cluster) bool { return got.ID == c.ID }) {
				t.Fatalf("Clusters of %s lacks %s", ref.GroupID.Hex(), c.Name)
			}
			return err
		}},
	}
}

// testCallerAccess reads a cluster as callers with every kind of grant,
// by name and by id. Before each of the caller's reads the server reads
// the same page and checkpoint, so that a store with a cache holds them:
// the caller's answer must not depend on it.
func testCallerAccess(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 3)
	other := f.newProject("other")
	otherOrg := f.newOrg("other org")
	foreign := f.newProjectOf(otherOrg.ID, "foreign")
	groupNotFound := backup.ErrGroupNotFound(f.project.ID.Hex())
	unauthorized := backup.ErrUserUnauthorized()
	cases := []struct {
		name   string
		caller *backup.Principal
		want   *backup.Error // nil when the caller may read
	}{
		{"the server", backup.System, nil},
		{"org owner", caller(f.org.ID, orgGrant(backup.OrgOwner)), nil},
		{"org read only", caller(f.org.ID, orgGrant(backup.OrgReadOnly)), nil},
		{"project read only", caller(f.org.ID, orgGrant(backup.OrgMember), projectGrant(backup.ProjectReadOnly, f.project.ID)), nil},
		{"project backup manager", caller(f.org.ID, projectGrant(backup.ProjectBackupManager, f.project.ID)), nil},
		{"a role on another project too", caller(f.org.ID, projectGrant(backup.ProjectOwner, other.ID), projectGrant(backup.ProjectReadOnly, f.project.ID)), nil},
		{"org member", caller(f.org.ID, orgGrant(backup.OrgMember)), unauthorized},
		{"org member with a role on another project", caller(f.org.ID, orgGrant(backup.OrgMember), projectGrant(backup.ProjectOwner, other.ID)), unauthorized},
		{"no grants", caller(f.org.ID), unauthorized},
		{"another org's owner", caller(otherOrg.ID, orgGrant(backup.OrgOwner)), groupNotFound},
		{"another org's project owner", caller(otherOrg.ID, projectGrant(backup.ProjectOwner, foreign.ID)), groupNotFound},
	}
	ops := f.refOps(f.sharded, cps)
	server := func(t *testing.T, ref backup.ClusterRef) {
		t.Helper()
		for _, op := range ops {
			if err := op.do(t, f.ctx, ref); err != nil {
				t.Fatalf("the server's %s: %v", op.name, err)
			}
		}
	}
	for _, c := range cases {
		for how, ref := range refs(f.sharded) {
			t.Run(c.name+"/"+how, func(t *testing.T) {
				for round := range 2 {
					server(t, ref)
					for _, op := range ops {
						err := op.do(t, f.as(c.caller), ref)
						if c.want == nil {
							if err != nil {
								t.Fatalf("round %d, %s: %v", round, op.name, err)
							}
							continue
						}
						if err == nil {
							t.Fatalf("round %d, %s: allowed, want %s", round, op.name, c.want.Code)
						}
						wantErr(t, err, c.want.Kind, c.want.Code, c.want.Detail)
					}
				}
			})
		}
	}
	// The project of the other organization is readable by its own.
	foreignCluster := f.newCluster(foreign.ID, "Foreign0", backup.ReplicaSet, backup.BackupLegacy)
	fcps := f.history(foreignCluster, 2)
	for how, ref := range refs(foreignCluster) {
		t.Run("own org's project/"+how, func(t *testing.T) {
			for _, op := range f.refOps(foreignCluster, fcps) {
				if err := op.do(t, f.as(caller(otherOrg.ID, orgGrant(backup.OrgReadOnly))), ref); err != nil {
					t.Fatalf("%s: %v", op.name, err)
				}
				err := op.do(t, f.as(caller(f.org.ID, orgGrant(backup.OrgOwner))), ref)
				wantErr(t, err, backup.NotFound, backup.CodeGroupNotFound, "No group with ID "+foreign.ID.Hex()+" exists.")
			}
		})
	}
}

// testCallerErrorOrder checks that the caller's access is decided after
// the project is found and before anything about the cluster: a caller
// who may not read the project cannot learn which clusters or
// checkpoints exist in it.
func testCallerErrorOrder(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 2)
	otherOrg := f.newOrg("other org")
	unknownGroup := f.ids.New(t0)
	unknownID := f.ids.New(t0)
	unknownCheckpoint := f.ids.New(t0)
	refsToTry := map[string]backup.ClusterRef{
		"existing cluster by name": byName(f.sharded),
		"existing cluster by id":   byID(f.sharded),
		"unknown name":             {GroupID: f.project.ID, Name: "Nope"},
		"unknown id":               {GroupID: f.project.ID, ID: unknownID},
		"cloud cluster by name":    byName(f.cloud),
		"cloud cluster by id":      byID(f.cloud),
	}
	reads := map[string]func(ctx context.Context, ref backup.ClusterRef) error{
		"Cluster": func(ctx context.Context, ref backup.ClusterRef) error { _, err := f.s.Cluster(ctx, ref); return err },
		"Checkpoints": func(ctx context.Context, ref backup.ClusterRef) error {
			_, err := f.s.Checkpoints(ctx, ref, backup.PageRequest{Num: 1, Size: 10, IncludeCount: true})
			return err
		},
		"Checkpoint": func(ctx context.Context, ref backup.ClusterRef) error {
			_, err := f.s.Checkpoint(ctx, ref, cps[0].ID)
			return err
		},
		"Checkpoint of unknown": func(ctx context.Context, ref backup.ClusterRef) error {
			_, err := f.s.Checkpoint(ctx, ref, unknownCheckpoint)
			return err
		},
	}
	callers := []struct {
		name   string
		caller *backup.Principal
		want   *backup.Error
	}{
		{"org member", caller(f.org.ID, orgGrant(backup.OrgMember)), backup.ErrUserUnauthorized()},
		{"another org's owner", caller(otherOrg.ID, orgGrant(backup.OrgOwner)), backup.ErrGroupNotFound(f.project.ID.Hex())},
	}
	for _, c := range callers {
		for refName, ref := range refsToTry {
			for readName, read := range reads {
				t.Run(c.name+"/"+refName+"/"+readName, func(t *testing.T) {
					// Warm any cache with the server's read first.
					_ = read(f.ctx, ref)
					wantErr(t, read(f.as(c.caller), ref), c.want.Kind, c.want.Code, c.want.Detail)
				})
			}
		}
		// An unknown project is GROUP_NOT_FOUND, whoever asks.
		t.Run(c.name+"/unknown group", func(t *testing.T) {
			for readName, read := range reads {
				err := read(f.as(c.caller), backup.ClusterRef{GroupID: unknownGroup, Name: f.sharded.Name})
				if e := backup.ErrorOf(err); e == nil || e.Code != backup.CodeGroupNotFound || e.Detail != "No group with ID "+unknownGroup.Hex()+" exists." {
					t.Fatalf("%s: %v, want GROUP_NOT_FOUND of %s", readName, err, unknownGroup.Hex())
				}
			}
		})
	}
	// A caller who may read the project gets the usual errors.
	reader := caller(f.org.ID, orgGrant(backup.OrgReadOnly))
	_, err := f.s.Cluster(f.as(reader), refsToTry["unknown name"])
	wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, "No cluster named Nope exists in group "+f.project.ID.Hex()+".")
	_, err = f.s.Checkpoints(f.as(reader), byName(f.cloud), backup.PageRequest{Num: 1, Size: 10})
	wantErr(t, err, backup.Invalid, backup.CodeCheckpointsOnlyLegacy, "")
	_, err = f.s.Checkpoint(f.as(reader), byID(f.sharded), unknownCheckpoint)
	wantErr(t, err, backup.NotFound, backup.CodeCheckpointNotFound, "")
}

func sortedIDs(ids []backup.ObjectID) []backup.ObjectID {
	out := slices.Clone(ids)
	slices.SortFunc(out, func(a, b backup.ObjectID) int { return strings.Compare(a.Hex(), b.Hex()) })
	return out
}

func hexes(ids []backup.ObjectID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.Hex()
	}
	return out
}

// testProjectScope lists projects in every kind of scope, by pages of two,
// and checks the items and Total.
func testProjectScope(t *testing.T, f *fixture) {
	a, b := f.newProject("a"), f.newProject("b")
	otherOrg := f.newOrg("other org")
	foreign := f.newProjectOf(otherOrg.ID, "foreign")
	emptyOrg := f.newOrg("empty org")
	unknown := f.ids.New(t0)
	mine := []backup.ObjectID{f.project.ID, a.ID, b.ID}
	ro := func(project backup.ObjectID) backup.Grant { return projectGrant(backup.ProjectReadOnly, project) }
	cases := []struct {
		name   string
		caller *backup.Principal
		want   []backup.ObjectID
	}{
		{"the server", backup.System, append(slices.Clone(mine), foreign.ID)},
		{"org owner", caller(f.org.ID, orgGrant(backup.OrgOwner)), mine},
		{"org read only, project roles too", caller(f.org.ID, orgGrant(backup.OrgReadOnly), ro(a.ID)), mine},
		{"another org's owner", caller(otherOrg.ID, orgGrant(backup.OrgOwner)), []backup.ObjectID{foreign.ID}},
		{"an org without projects", caller(emptyOrg.ID, orgGrant(backup.OrgReadOnly)), nil},
		{"unknown org", caller(unknown, orgGrant(backup.OrgOwner)), nil},
		{"project roles", caller(f.org.ID, orgGrant(backup.OrgMember), ro(b.ID), ro(f.project.ID)), []backup.ObjectID{f.project.ID, b.ID}},
		{"one project role", caller(f.org.ID, projectGrant(backup.ProjectBackupManager, a.ID)), []backup.ObjectID{a.ID}},
		{"two roles on one project", caller(f.org.ID, ro(a.ID), projectGrant(backup.ProjectOwner, a.ID)), []backup.ObjectID{a.ID}},
		{"a role on another org's project", caller(f.org.ID, ro(a.ID), ro(foreign.ID)), []backup.ObjectID{a.ID}},
		{"roles only on another org's project", caller(f.org.ID, ro(foreign.ID)), nil},
		{"a role on an unknown project", caller(f.org.ID, ro(unknown)), nil},
		{"org member", caller(f.org.ID, orgGrant(backup.OrgMember)), nil},
		{"no grants", caller(f.org.ID), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := sortedIDs(c.want)
			var got []backup.ObjectID
			for num := 1; num <= len(want)/2+1; num++ {
				p, err := f.s.Projects(f.as(c.caller), backup.PageRequest{Num: num, Size: 2, IncludeCount: true})
				f.must(err)
				if p.Total != len(want) {
					t.Fatalf("page %d: Total %d, want %d", num, p.Total, len(want))
				}
				if p.Items == nil {
					t.Fatalf("page %d: nil Items", num)
				}
				if wantLen := min(2, len(want)-(num-1)*2); len(p.Items) != wantLen {
					t.Fatalf("page %d: %d items, want %d", num, len(p.Items), wantLen)
				}
				for _, it := range p.Items {
					got = append(got, it.ID)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("projects %v, want %v", hexes(got), hexes(want))
			}
			p, err := f.s.Projects(f.as(c.caller), backup.PageRequest{Num: 1, Size: 100})
			f.must(err)
			if p.Total != 0 || len(p.Items) != len(want) {
				t.Fatalf("without count: %d items, Total %d", len(p.Items), p.Total)
			}
			// A bad page is refused whatever the scope holds.
			_, err = f.s.Projects(f.as(c.caller), backup.PageRequest{Num: 0, Size: 2})
			wantErr(t, err, backup.Invalid, backup.CodeInvalidQueryParameter, "")
		})
	}
	// A principal's own scope lists what it may read.
	p := caller(f.org.ID, orgGrant(backup.OrgMember), projectGrant(backup.ProjectReadOnly, b.ID))
	page, err := f.s.Projects(f.as(p), backup.PageRequest{Num: 1, Size: 10, IncludeCount: true})
	f.must(err)
	if page.Total != 1 || len(page.Items) != 1 || page.Items[0].ID != b.ID || page.Items[0].OrgID != f.org.ID || page.Items[0].Name != "b" {
		t.Fatalf("a project reader's scope: %+v", page)
	}
}

func testOrganizationsList(t *testing.T, f *fixture) {
	want := []backup.Organization{f.org}
	// Ids made in shuffled order, so that id order is not creation order.
	for i := range 4 {
		o := backup.Organization{ID: backup.MustParseObjectID(fmt.Sprintf("%024x", (i*3)%4+1)), Name: fmt.Sprint("o", i),
			Created: t0.Add(time.Duration(i) * time.Hour)}
		f.must(f.s.CreateOrganization(f.ctx, o))
		want = append(want, o)
	}
	slices.SortFunc(want, func(a, b backup.Organization) int { return strings.Compare(a.ID.Hex(), b.ID.Hex()) })
	got, err := f.s.Organizations(f.ctx)
	f.must(err)
	if len(got) != len(want) {
		t.Fatalf("%d organizations, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].ID != want[i].ID || got[i].Name != want[i].Name || diffTime(got[i].Created, want[i].Created) != "" {
			t.Fatalf("organization %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

func testDeleteCluster(t *testing.T, f *fixture) {
	group := f.project.ID.Hex()
	unknownGroup := f.ids.New(t0)
	unknownID := f.ids.New(t0)
	other := f.newProject("other")
	otherOrg := f.newOrg("other org")
	cps := f.history(f.sharded, 4)
	rs := f.history(f.rs, 2)
	cases := []struct {
		name         string
		ref          backup.ClusterRef
		kind         backup.Kind
		code, detail string
		who          *backup.Principal // nil: the server
	}{
		{"unknown group, by name", backup.ClusterRef{GroupID: unknownGroup, Name: f.sharded.Name},
			backup.NotFound, backup.CodeGroupNotFound, "No group with ID " + unknownGroup.Hex() + " exists.", nil},
		{"unknown group, by id", backup.ClusterRef{GroupID: unknownGroup, ID: f.sharded.ID},
			backup.NotFound, backup.CodeGroupNotFound, "No group with ID " + unknownGroup.Hex() + " exists.", nil},
		{"unknown name", backup.ClusterRef{GroupID: f.project.ID, Name: "Nope"},
			backup.NotFound, backup.CodeClusterNotFound, "No cluster named Nope exists in group " + group + ".", nil},
		{"unknown id", backup.ClusterRef{GroupID: f.project.ID, ID: unknownID},
			backup.NotFound, backup.CodeClusterNotFound, "No cluster with ID " + unknownID.Hex() + " exists in group " + group + ".", nil},
		{"cluster of another group", backup.ClusterRef{GroupID: other.ID, ID: f.sharded.ID},
			backup.NotFound, backup.CodeClusterNotFound, "No cluster with ID " + f.sharded.ID.Hex() + " exists in group " + other.ID.Hex() + ".", nil},
		{"another org's caller", byName(f.sharded),
			backup.NotFound, backup.CodeGroupNotFound, "No group with ID " + group + " exists.", caller(otherOrg.ID, orgGrant(backup.OrgOwner))},
		{"a caller who may not read the project", byID(f.sharded),
			backup.Unauthenticated, backup.CodeUserUnauthorized, "", caller(f.org.ID, orgGrant(backup.OrgMember))},
		{"a caller who may only read the project", byID(f.sharded),
			backup.Unauthenticated, backup.CodeUserUnauthorized, "", caller(f.org.ID, orgGrant(backup.OrgReadOnly))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := f.ctx
			if c.who != nil {
				ctx = f.as(c.who)
			}
			wantErr(t, f.s.DeleteCluster(ctx, c.ref), c.kind, c.code, c.detail)
		})
	}
	// Nothing was deleted by the failures.
	wantCheckpoints(t, f.list(byName(f.sharded)), cps)

	f.must(f.s.DeleteCluster(f.as(caller(f.org.ID, orgGrant(backup.OrgOwner))), byName(f.sharded)))
	for _, ref := range refs(f.sharded) {
		wantNotFound := ref.NotFound()
		_, err := f.s.Cluster(f.ctx, ref)
		wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, wantNotFound.Detail)
		_, err = f.s.Checkpoints(f.ctx, ref, backup.PageRequest{Num: 1, Size: 10, IncludeCount: true})
		wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, wantNotFound.Detail)
		_, err = f.s.Checkpoint(f.ctx, ref, cps[0].ID)
		wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, wantNotFound.Detail)
		wantErr(t, f.s.DeleteCluster(f.ctx, ref), backup.NotFound, backup.CodeClusterNotFound, wantNotFound.Detail)
	}
	_, err := f.s.PruneCheckpoints(f.ctx, f.sharded.ID, t0.Add(1000*time.Hour))
	if backup.KindOf(err) != backup.NotFound {
		t.Fatalf("pruning a deleted cluster: %v, want NotFound", err)
	}
	// The other clusters are untouched.
	wantCheckpoints(t, f.list(byName(f.rs)), rs)
	p, err := f.s.Project(f.ctx, f.project.ID)
	f.must(err)
	if p.ClusterCount != 2 {
		t.Fatalf("ClusterCount %d after a delete, want 2", p.ClusterCount)
	}
	// A cluster on Cloud Backup is deleted too, by id.
	f.must(f.s.DeleteCluster(f.ctx, byID(f.cloud)))
	// The name, the id and the checkpoint ids are free again.
	f.must(f.s.CreateCluster(f.ctx, f.sharded))
	wantCheckpoints(t, f.list(byName(f.sharded)), nil)
	f.must(f.s.AddCheckpoint(f.ctx, cps[2]))
	wantCheckpoints(t, f.list(byID(f.sharded)), cps[2:3])
	f.checkPages(t, byName(f.sharded), cps[2:3])
}

// testDeleteClusterCached reads a cluster's pages and checkpoints until
// any cache holds them, deletes the cluster, and reads again: nothing of
// it may be served, neither for the deleted cluster nor for a cluster
// created again with its name and id.
func testDeleteClusterCached(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 7)
	read := func() {
		t.Helper()
		for _, ref := range refs(f.sharded) {
			for range 2 {
				f.checkPages(t, ref, cps)
				for _, cp := range cps {
					got, err := f.s.Checkpoint(f.ctx, ref, cp.ID)
					f.must(err)
					wantCheckpoints(t, []backup.Checkpoint{got}, []backup.Checkpoint{cp})
				}
			}
		}
	}
	read()
	f.must(f.s.DeleteCluster(f.ctx, byID(f.sharded)))
	for _, ref := range refs(f.sharded) {
		for _, size := range []int{1, 2, 3, 7} {
			_, err := f.s.Checkpoints(f.ctx, ref, backup.PageRequest{Num: 1, Size: size, IncludeCount: true})
			wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, "")
		}
		for _, cp := range cps {
			_, err := f.s.Checkpoint(f.ctx, ref, cp.ID)
			wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, "")
		}
	}
	// The same cluster again, empty, then with a history of the same
	// length but other checkpoints.
	f.must(f.s.CreateCluster(f.ctx, f.sharded))
	for _, ref := range refs(f.sharded) {
		f.checkPages(t, ref, nil)
		for _, cp := range cps {
			_, err := f.s.Checkpoint(f.ctx, ref, cp.ID)
			wantErr(t, err, backup.NotFound, backup.CodeCheckpointNotFound, "")
		}
	}
	fresh := make([]backup.Checkpoint, len(cps))
	for i := range fresh {
		fresh[i] = f.checkpoint(f.sharded, t0.Add(time.Duration(i)*time.Hour+time.Minute))
		f.must(f.s.AddCheckpoint(f.ctx, fresh[i]))
	}
	for _, ref := range refs(f.sharded) {
		f.checkPages(t, ref, fresh)
		for _, cp := range cps {
			_, err := f.s.Checkpoint(f.ctx, ref, cp.ID)
			wantErr(t, err, backup.NotFound, backup.CodeCheckpointNotFound, "")
		}
	}
	cps = fresh
	read()
}

// keyOf makes an API key of org with the given public key and grants.
func (f *fixture) keyOf(org backup.ObjectID, publicKey string, grants ...backup.Grant) backup.APIKey {
	return backup.APIKey{ID: f.ids.New(t0), OrgID: org, PublicKey: publicKey, Description: "key " + publicKey,
		Grants: grants, Created: t0.Add(3 * time.Hour)}
}

// accountOf makes a service account of org with the given grants, and a
// secret for it.
func (f *fixture) accountOf(org backup.ObjectID, grants ...backup.Grant) (backup.ServiceAccount, backup.ServiceAccountSecret) {
	id := f.ids.New(t0)
	sa := backup.ServiceAccount{ClientID: "mdb_sa_id_" + id.Hex(), OrgID: org, Name: "sa " + id.Hex()[18:],
		Description: "a service account", Grants: grants, Created: t0.Add(4 * time.Hour)}
	return sa, f.secret(4)
}

// secret makes a service account secret created h hours after t0.
func (f *fixture) secret(h int) backup.ServiceAccountSecret {
	created := t0.Add(time.Duration(h) * time.Hour)
	return backup.ServiceAccountSecret{ID: f.ids.New(created), Hash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$" + fmt.Sprint(h),
		Created: created, Expires: created.Add(365 * 24 * time.Hour)}
}

func testDeleteProject(t *testing.T, f *fixture) {
	unknown := f.ids.New(t0)
	wantErr(t, f.s.DeleteProject(f.ctx, unknown), backup.NotFound, backup.CodeGroupNotFound, "No group with ID "+unknown.Hex()+" exists.")
	wantErr(t, f.s.DeleteProject(f.ctx, f.project.ID), backup.Conflict, backup.CodeCannotCloseGroup, "")
	if _, err := f.s.Project(f.ctx, f.project.ID); err != nil {
		t.Fatalf("a refused delete deleted the project: %v", err)
	}

	doomed, kept := f.newProject("doomed"), f.newProject("kept")
	many := f.keyOf(f.org.ID, "manyrole", orgGrant(backup.OrgMember), projectGrant(backup.ProjectReadOnly, doomed.ID),
		projectGrant(backup.ProjectOwner, kept.ID), projectGrant(backup.ProjectBackupManager, doomed.ID))
	untouched := f.keyOf(f.org.ID, "untouchd", projectGrant(backup.ProjectReadOnly, kept.ID))
	f.must(f.s.CreateAPIKey(f.ctx, many, testHA1("manyrole")))
	f.must(f.s.CreateAPIKey(f.ctx, untouched, testHA1("untouchd")))
	only, secret := f.accountOf(f.org.ID, projectGrant(backup.ProjectReadOnly, doomed.ID))
	f.must(f.s.CreateServiceAccount(f.ctx, only, secret))
	both, secret2 := f.accountOf(f.org.ID, orgGrant(backup.OrgReadOnly), projectGrant(backup.ProjectOwner, doomed.ID))
	f.must(f.s.CreateServiceAccount(f.ctx, both, secret2))

	f.must(f.s.DeleteProject(f.ctx, doomed.ID))
	_, err := f.s.Project(f.ctx, doomed.ID)
	wantErr(t, err, backup.NotFound, backup.CodeGroupNotFound, "")
	wantErr(t, f.s.DeleteProject(f.ctx, doomed.ID), backup.NotFound, backup.CodeGroupNotFound, "")
	page, err := f.s.Projects(f.ctx, backup.PageRequest{Num: 1, Size: 10, IncludeCount: true})
	f.must(err)
	if page.Total != 2 {
		t.Fatalf("%d projects after the delete, want 2", page.Total)
	}

	wantGrants := func(what string, got, want []backup.Grant) {
		t.Helper()
		if len(got) == 0 && len(want) == 0 {
			return
		}
		if !slices.Equal(got, want) {
			t.Fatalf("%s: grants %v, want %v", what, got, want)
		}
	}
	k, _, err := f.s.APIKey(f.ctx, many.PublicKey)
	f.must(err)
	wantGrants("API key with grants on the project", k.Grants, []backup.Grant{orgGrant(backup.OrgMember), projectGrant(backup.ProjectOwner, kept.ID)})
	k, _, err = f.s.APIKey(f.ctx, untouched.PublicKey)
	f.must(err)
	wantGrants("API key without", k.Grants, untouched.Grants)
	sa, secrets, err := f.s.ServiceAccount(f.ctx, only.ClientID)
	f.must(err)
	wantGrants("service account whose only grant was on the project", sa.Grants, nil)
	if len(secrets) != 1 || secrets[0].ID != secret.ID {
		t.Fatalf("its secrets: %+v", secrets)
	}
	sa, _, err = f.s.ServiceAccount(f.ctx, both.ClientID)
	f.must(err)
	wantGrants("service account with an org role", sa.Grants, []backup.Grant{orgGrant(backup.OrgReadOnly)})

	// Emptied of its clusters, the fixture's project goes too.
	for _, c := range []backup.Cluster{f.sharded, f.rs, f.cloud} {
		f.must(f.s.DeleteCluster(f.ctx, byName(c)))
	}
	f.must(f.s.DeleteProject(f.ctx, f.project.ID))
	_, err = f.s.Cluster(f.ctx, byName(f.rs))
	wantErr(t, err, backup.NotFound, backup.CodeGroupNotFound, "")
}

func testDeleteOrganization(t *testing.T, f *fixture) {
	unknown := f.ids.New(t0)
	wantErr(t, f.s.DeleteOrganization(f.ctx, unknown), backup.NotFound, backup.CodeOrgNotFound, "No organization with ID "+unknown.Hex()+" exists.")
	wantErr(t, f.s.DeleteOrganization(f.ctx, f.org.ID), backup.Conflict, backup.CodeCannotDeleteOrg, "")

	gone := f.newOrg("gone")
	project := f.newProjectOf(gone.ID, "p")
	key := f.keyOf(gone.ID, "gonekeya", orgGrant(backup.OrgMember), projectGrant(backup.ProjectReadOnly, project.ID))
	f.must(f.s.CreateAPIKey(f.ctx, key, testHA1(key.PublicKey)))
	sa, secret := f.accountOf(gone.ID, orgGrant(backup.OrgOwner))
	f.must(f.s.CreateServiceAccount(f.ctx, sa, secret))
	// The fixture's organization has its own, which stay.
	mine := f.keyOf(f.org.ID, "minekeya", orgGrant(backup.OrgOwner))
	f.must(f.s.CreateAPIKey(f.ctx, mine, testHA1(mine.PublicKey)))
	mySA, mySecret := f.accountOf(f.org.ID, orgGrant(backup.OrgOwner))
	f.must(f.s.CreateServiceAccount(f.ctx, mySA, mySecret))

	wantErr(t, f.s.DeleteOrganization(f.ctx, gone.ID), backup.Conflict, backup.CodeCannotDeleteOrg, "")
	if _, _, err := f.s.APIKey(f.ctx, key.PublicKey); err != nil {
		t.Fatalf("a refused delete deleted a key: %v", err)
	}
	f.must(f.s.DeleteProject(f.ctx, project.ID))
	f.must(f.s.DeleteOrganization(f.ctx, gone.ID))

	orgs, err := f.s.Organizations(f.ctx)
	f.must(err)
	for _, o := range orgs {
		if o.ID == gone.ID {
			t.Fatal("deleted organization still listed")
		}
	}
	_, err = f.s.APIKeys(f.ctx, gone.ID)
	wantErr(t, err, backup.NotFound, backup.CodeOrgNotFound, "")
	_, err = f.s.ServiceAccounts(f.ctx, gone.ID)
	wantErr(t, err, backup.NotFound, backup.CodeOrgNotFound, "")
	_, _, err = f.s.APIKey(f.ctx, key.PublicKey)
	wantErr(t, err, backup.NotFound, backup.CodeAPIKeyNotFound, "")
	_, _, err = f.s.ServiceAccount(f.ctx, sa.ClientID)
	wantErr(t, err, backup.NotFound, backup.CodeServiceAccountNotFound, "")
	wantErr(t, f.s.DeleteOrganization(f.ctx, gone.ID), backup.NotFound, backup.CodeOrgNotFound, "")
	wantErr(t, f.s.CreateProject(f.ctx, backup.Project{ID: f.ids.New(t0), OrgID: gone.ID, Name: "late", Created: t0}),
		backup.NotFound, backup.CodeOrgNotFound, "")

	// The secrets went with the account: the client id and the secret's
	// id are free, and the account created again has only its new secret.
	sa.OrgID = f.org.ID
	f.must(f.s.CreateServiceAccount(f.ctx, sa, secret))
	_, secrets, err := f.s.ServiceAccount(f.ctx, sa.ClientID)
	f.must(err)
	if len(secrets) != 1 || secrets[0].ID != secret.ID {
		t.Fatalf("secrets of the account created again: %+v", secrets)
	}
	// The other organization's credentials stay.
	if _, _, err := f.s.APIKey(f.ctx, mine.PublicKey); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.s.ServiceAccount(f.ctx, mySA.ClientID); err != nil {
		t.Fatal(err)
	}
}
