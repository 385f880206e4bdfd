package storetest

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/store"
)

// This file holds the suite's tests that store access fails closed: every
// method of the contract refuses a context without a principal, the
// server's own methods refuse every principal but backup.System, and a
// principal of another organization reaches nothing of a project.

// projectMethods are the methods a request's caller may call, with what
// they need of it on the project (store.go); every other method of the
// contract is backup.System's alone.
var projectMethods = map[string]store.Need{
	"Project": store.Read, "ProjectByName": store.Read, "Projects": store.Read, "Cluster": store.Read, "Clusters": store.Read,
	"Checkpoints": store.Read, "Checkpoint": store.Read, "RestorableHistory": store.Read,
	"AddCheckpoint": store.Report,
	"CreateCluster": store.Admin, "UpdateCluster": store.Admin, "UpdateBackup": store.Report, "DeleteCluster": store.Admin,
	"RestoreJobs": store.Read, "RestoreJob": store.Read,
	"CreateRestoreJobs": store.Report, "ClaimRestoreJob": store.Report, "ReportRestoreJob": store.Report,
	"Slots": store.Read, "SlotCounts": store.Read, "CheckpointSlot": store.Read, "RecordSlot": store.Report,
}

// contractMethods lists the methods of store.Store that reach the data
// set: all but Close.
func contractMethods() []reflect.Method {
	typ := reflect.TypeFor[store.Store]()
	var out []reflect.Method
	for i := range typ.NumMethod() {
		if m := typ.Method(i); m.Name != "Close" {
			out = append(out, m)
		}
	}
	return out
}

// callZero calls the store's method m with ctx and the zero value of every
// other argument, and returns its error.
func (f *fixture) callZero(ctx context.Context, m reflect.Method) error {
	args := []reflect.Value{reflect.ValueOf(ctx)}
	for i := 1; i < m.Type.NumIn(); i++ {
		args = append(args, reflect.Zero(m.Type.In(i)))
	}
	out := reflect.ValueOf(f.s).MethodByName(m.Name).Call(args)
	err, _ := out[len(out)-1].Interface().(error)
	return err
}

// testRefusedWithoutPrincipal calls every method of the contract, found
// by reflection so that a method added later is covered too, with a
// context that carries no principal: each refuses (ErrNoPrincipal, an
// internal error, never a panic), and nothing was written.
func testRefusedWithoutPrincipal(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 2)
	methods := contractMethods()
	if len(methods) < 30 {
		t.Fatalf("%d methods found in store.Store", len(methods))
	}
	for _, m := range methods {
		t.Run(m.Name, func(t *testing.T) {
			for name, ctx := range map[string]context.Context{
				"no principal":  context.Background(),
				"nil principal": backup.WithPrincipal(context.Background(), nil),
			} {
				err := f.callZero(ctx, m)
				if !errors.Is(err, backup.ErrNoPrincipal) {
					t.Fatalf("%s: %v, want a refusal (backup.ErrNoPrincipal)", name, err)
				}
				if backup.KindOf(err) != backup.Internal {
					t.Fatalf("%s: kind %v, want internal", name, backup.KindOf(err))
				}
			}
		})
	}
	// The same with real arguments: refused before anything is read or
	// written.
	bare := context.Background()
	if err := f.s.CreateOrganization(bare, backup.Organization{ID: f.ids.New(t0), Name: "sneaky", Created: t0}); !errors.Is(err, backup.ErrNoPrincipal) {
		t.Fatalf("CreateOrganization: %v", err)
	}
	if err := f.s.AddCheckpoint(bare, f.checkpoint(f.sharded, t0.Add(time.Hour))); !errors.Is(err, backup.ErrNoPrincipal) {
		t.Fatalf("AddCheckpoint: %v", err)
	}
	if err := f.s.DeleteCluster(bare, byName(f.rs)); !errors.Is(err, backup.ErrNoPrincipal) {
		t.Fatalf("DeleteCluster: %v", err)
	}
	if _, err := f.s.Checkpoints(bare, byName(f.sharded), backup.PageRequest{Num: 1, Size: 10}); !errors.Is(err, backup.ErrNoPrincipal) {
		t.Fatalf("Checkpoints: %v", err)
	}
	orgs, err := f.s.Organizations(f.ctx)
	f.must(err)
	if len(orgs) != 1 {
		t.Fatalf("%d organizations, want the fixture's", len(orgs))
	}
	wantCheckpoints(t, f.list(byName(f.sharded)), cps)
	if _, err := f.s.Cluster(f.ctx, byName(f.rs)); err != nil {
		t.Fatalf("the replica set: %v", err)
	}
}

// testSystemOnly calls every method that is not a project's, by
// reflection, as principals of the fixture's organization and of another:
// each answers USER_UNAUTHORIZED before looking at its arguments. The
// table of project methods must name methods of the contract.
func testSystemOnly(t *testing.T, f *fixture) {
	otherOrg := f.newOrg("other org")
	callers := map[string]*backup.Principal{
		"org owner":           caller(f.org.ID, orgGrant(backup.OrgOwner)),
		"project owner":       caller(f.org.ID, projectGrant(backup.ProjectOwner, f.project.ID)),
		"another org's owner": caller(otherOrg.ID, orgGrant(backup.OrgOwner)),
		"a service account": {Kind: backup.ServiceAccountPrincipal, ID: "mdb_sa_id_x", OrgID: f.org.ID,
			Grants: []backup.Grant{orgGrant(backup.OrgOwner)}},
	}
	var names []string
	for _, m := range contractMethods() {
		names = append(names, m.Name)
		if _, ok := projectMethods[m.Name]; ok {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			for name, p := range callers {
				if err := f.callZero(f.as(p), m); !backup.IsCode(err, backup.CodeUserUnauthorized) {
					t.Fatalf("as %s: %v, want USER_UNAUTHORIZED", name, err)
				}
			}
		})
	}
	for name := range projectMethods {
		if !slices.Contains(names, name) {
			t.Errorf("projectMethods names %s, which store.Store does not have", name)
		}
	}
}

// testOtherOrganization asks for everything of the fixture's project as
// an owner of another organization: every read and write is
// GROUP_NOT_FOUND, as for a project that does not exist, and changes
// nothing. A member of the project's own organization whose roles are too
// low gets USER_UNAUTHORIZED for what it may not do.
func testOtherOrganization(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 3)
	otherOrg := f.newOrg("other org")
	stranger := f.as(caller(otherOrg.ID, orgGrant(backup.OrgOwner)))
	reader := f.as(caller(f.org.ID, orgGrant(backup.OrgReadOnly)))
	reporter := f.as(caller(f.org.ID, projectGrant(backup.ProjectBackupManager, f.project.ID)))
	owner := f.as(caller(f.org.ID, orgGrant(backup.OrgOwner)))
	group := backup.ErrGroupNotFound(f.project.ID.Hex())
	unauthorized := backup.ErrUserUnauthorized()
	renamed := f.rs
	renamed.Name = "Renamed"
	fresh := clusterValue(f.ids.New(t0), f.project.ID, "Fresh", backup.ReplicaSet, backup.BackupLegacy)
	calls := []struct {
		name string
		do   func(ctx context.Context) error
		// want per caller; nil is allowed.
		stranger, reader, reporter *backup.Error
	}{
		{"Project", func(ctx context.Context) error { _, err := f.s.Project(ctx, f.project.ID); return err }, group, nil, nil},
		{"Cluster", func(ctx context.Context) error { _, err := f.s.Cluster(ctx, byID(f.sharded)); return err }, group, nil, nil},
		{"Clusters", func(ctx context.Context) error {
			_, err := f.s.Clusters(ctx, f.project.ID, backup.PageRequest{Num: 1, Size: 10})
			return err
		}, group, nil, nil},
		{"Checkpoints", func(ctx context.Context) error {
			_, err := f.s.Checkpoints(ctx, byName(f.sharded), backup.PageRequest{Num: 1, Size: 10})
			return err
		}, group, nil, nil},
		{"Checkpoint", func(ctx context.Context) error {
			_, err := f.s.Checkpoint(ctx, byName(f.sharded), cps[1].ID)
			return err
		}, group, nil, nil},
		{"CreateCluster", func(ctx context.Context) error { return f.s.CreateCluster(ctx, fresh) }, group, unauthorized, unauthorized},
		{"UpdateCluster", func(ctx context.Context) error {
			_, err := f.s.UpdateCluster(ctx, byName(f.rs), set(renamed))
			return err
		}, group, unauthorized, unauthorized},
		{"UpdateBackup", func(ctx context.Context) error {
			_, err := f.s.UpdateBackup(ctx, byName(f.sharded), func(c *backup.Cluster) error { c.Schedule.Window = 48 * time.Hour; return nil })
			return err
		}, group, unauthorized, nil},
		{"DeleteCluster", func(ctx context.Context) error { return f.s.DeleteCluster(ctx, byName(f.rs)) }, group, unauthorized, unauthorized},
		{"AddCheckpoint", func(ctx context.Context) error {
			return f.s.AddCheckpoint(ctx, f.checkpoint(f.sharded, t0.Add(24*time.Hour)))
		}, group, unauthorized, nil},
		{"AddCheckpoint of an unknown cluster", func(ctx context.Context) error {
			c := clusterValue(f.ids.New(t0), f.project.ID, "Nope", backup.ReplicaSet, backup.BackupLegacy)
			return f.s.AddCheckpoint(ctx, f.checkpoint(c, t0))
		}, group, unauthorized, backup.ErrClusterIDNotFound("", "")},
	}
	for _, c := range calls {
		t.Run(c.name, func(t *testing.T) {
			for _, who := range []struct {
				name string
				ctx  context.Context
				want *backup.Error
			}{{"stranger", stranger, c.stranger}, {"reader", reader, c.reader}, {"reporter", reporter, c.reporter}} {
				err := c.do(who.ctx)
				switch {
				case who.want == nil && err != nil:
					t.Fatalf("%s: %v", who.name, err)
				case who.want != nil:
					wantErr(t, err, who.want.Kind, who.want.Code, "")
				}
			}
		})
	}
	// UpdateBackup changes the backup and nothing else of the cluster,
	// whoever calls it.
	for _, ctx := range []context.Context{reporter, owner} {
		if _, err := f.s.UpdateBackup(ctx, byName(f.rs), set(renamed)); err == nil {
			t.Fatal("UpdateBackup renamed a cluster")
		}
	}
	if got, err := f.s.Cluster(f.ctx, byName(f.sharded)); err != nil || got.Schedule.Window != 48*time.Hour {
		t.Fatalf("the reporter's backup change: %+v, %v", got.Schedule, err)
	}
	// Nothing the refused calls asked for happened; the reporter's
	// checkpoint is there.
	if _, err := f.s.Cluster(f.ctx, byName(fresh)); !backup.IsCode(err, backup.CodeClusterNotFound) {
		t.Fatalf("the refused cluster: %v", err)
	}
	if got, err := f.s.Cluster(f.ctx, byID(f.rs)); err != nil || got.Name != f.rs.Name {
		t.Fatalf("the replica set after refused changes: %+v, %v", got, err)
	}
	if n := len(f.list(byName(f.sharded))); n != len(cps)+1 {
		t.Fatalf("%d checkpoints, want %d and the reporter's", n, len(cps))
	}
	// The stranger lists none of the fixture's projects; the owner may do
	// everything.
	p, err := f.s.Projects(stranger, backup.PageRequest{Num: 1, Size: 100, IncludeCount: true})
	f.must(err)
	if p.Total != 0 || len(p.Items) != 0 {
		t.Fatalf("a stranger lists %d projects", p.Total)
	}
	f.must(f.s.CreateCluster(owner, fresh))
	_, err = f.s.UpdateCluster(owner, byName(f.rs), set(renamed))
	f.must(err)
	f.must(f.s.DeleteCluster(owner, byName(renamed)))
}
