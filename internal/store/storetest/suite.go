package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// BatchAdder is the optional bulk insert a store may offer (seeding uses
// it). Run checks its all-or-nothing behaviour when the store has it.
type BatchAdder interface {
	AddCheckpoints(ctx context.Context, cps []backup.Checkpoint) error
}

// Run is the conformance suite. open returns a new, empty store on clk
// (a virtual clock the suite moves, as the store's clock for claims and
// revocations) for each subtest; Run closes it when the subtest ends.
func Run(t *testing.T, open func(t testing.TB, clk clock.Clock) Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"Organizations", testOrganizations},
		{"Projects", testProjects},
		{"ProjectsPaging", testProjectsPaging},
		{"Clusters", testClusters},
		{"ClusterErrors", testClusterErrors},
		{"ClustersPaging", testClustersPaging},
		{"CheckpointsOrder", testCheckpointsOrder},
		{"Paging", testPaging},
		{"PageVersion", testPageVersion},
		{"EmptyCluster", testEmptyCluster},
		{"OutOfOrder", testOutOfOrder},
		{"Prune", testPrune},
		{"LongHistory", testLongHistory},
		{"Idempotent", testIdempotent},
		{"AddValidation", testAddValidation},
		{"CheckpointLookup", testCheckpointLookup},
		{"ReferenceErrors", testReferenceErrors},
		{"CloudBackup", testCloudBackup},
		{"RoundTrip", testRoundTrip},
		{"Batch", testBatch},
		{"CallerAccess", testCallerAccess},
		{"CallerErrorOrder", testCallerErrorOrder},
		{"ProjectScope", testProjectScope},
		{"RefusedWithoutPrincipal", testRefusedWithoutPrincipal},
		{"SystemOnly", testSystemOnly},
		{"OtherOrganization", testOtherOrganization},
		{"OrganizationsList", testOrganizationsList},
		{"DeleteCluster", testDeleteCluster},
		{"DeleteClusterCached", testDeleteClusterCached},
		{"DeleteProject", testDeleteProject},
		{"DeleteOrganization", testDeleteOrganization},
		{"APIKeys", testAPIKeys},
		{"APIKeyErrors", testAPIKeyErrors},
		{"ServiceAccounts", testServiceAccounts},
		{"ServiceAccountErrors", testServiceAccountErrors},
		{"Revocations", testRevocations},
		{"RevocationExpiry", testRevocationExpiry},
		{"AuthEpoch", testAuthEpoch},
		{"SharedSecret", testSharedSecret},
		{"UpdateCluster", testUpdateCluster},
		{"UpdateClusterConcurrent", testUpdateClusterConcurrent},
		{"Schedules", testSchedules},
		{"RestoreJobs", testRestoreJobs},
		{"RestoreJobsLifecycle", testRestoreJobsLifecycle},
		{"AddClaimed", testAddClaimed},
		{"NewestRestorable", testNewestRestorable},
		{"RestorableHistory", testRestorableHistory},
		{"RestorableSince", testRestorableSince},
		{"BackupState", testBackupState},
		{"ProjectByName", testProjectByName},
		{"Slots", testSlots},
		{"SlotsAccess", testSlotsAccess},
		{"SlotsPrune", testSlotsPrune},
		{"MissedSlots", testMissedSlots},
		{"SlotsRace", testSlotsRace},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewVirtual(clockStart)
			s := open(t, clk)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, newFixture(t, s, clk))
		})
	}
}

// t0 is the fixture's epoch: whole seconds, UTC, as stores keep times.
var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// clockStart is where the stores' virtual clock starts: long after t0, so
// that slots claimed "now" have no checkpoint of the fixture's.
var clockStart = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

// fixture is a store with one organization and one project holding a
// sharded cluster, a replica set and a cluster on Cloud Backup.
type fixture struct {
	t       *testing.T
	ctx     context.Context
	s       Store
	clk     *clock.Virtual // the store's clock
	ids     *backup.IDSource
	org     backup.Organization
	project backup.Project
	sharded backup.Cluster // CSRS config servers
	rs      backup.Cluster
	cloud   backup.Cluster
}

func newFixture(t *testing.T, s Store, clk *clock.Virtual) *fixture {
	f := &fixture{t: t, ctx: backup.WithPrincipal(context.Background(), backup.System), s: s, clk: clk, ids: backup.NewIDSourceFrom([5]byte{0xc0, 0xff, 0xee, 0, 1}, 0)}
	f.org = backup.Organization{ID: f.ids.New(t0), Name: "org", Created: t0}
	f.must(s.CreateOrganization(f.ctx, f.org))
	f.project = f.newProject("project")
	f.sharded = f.newCluster(f.project.ID, "Cluster0", backup.Sharded, backup.BackupLegacy)
	f.rs = f.newCluster(f.project.ID, "ReplicaSet0", backup.ReplicaSet, backup.BackupLegacy)
	f.cloud = f.newCluster(f.project.ID, "CloudCluster", backup.Sharded, backup.BackupCloud)
	return f
}

func (f *fixture) must(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) newProject(name string) backup.Project {
	f.t.Helper()
	p := backup.Project{ID: f.ids.New(t0), OrgID: f.org.ID, Name: name, Created: t0.Add(time.Hour)}
	f.must(f.s.CreateProject(f.ctx, p))
	return p
}

// newOrg creates another organization.
func (f *fixture) newOrg(name string) backup.Organization {
	f.t.Helper()
	o := backup.Organization{ID: f.ids.New(t0), Name: name, Created: t0.Add(30 * time.Minute)}
	f.must(f.s.CreateOrganization(f.ctx, o))
	return o
}

// newProjectOf creates a project of another organization than the
// fixture's.
func (f *fixture) newProjectOf(org backup.ObjectID, name string) backup.Project {
	f.t.Helper()
	p := backup.Project{ID: f.ids.New(t0), OrgID: org, Name: name, Created: t0.Add(time.Hour)}
	f.must(f.s.CreateProject(f.ctx, p))
	return p
}

func (f *fixture) newCluster(group backup.ObjectID, name string, typ backup.ClusterType, kind backup.BackupKind) backup.Cluster {
	f.t.Helper()
	c := clusterValue(f.ids.New(t0), group, name, typ, kind)
	f.must(f.s.CreateCluster(f.ctx, c))
	return c
}

func clusterValue(id, group backup.ObjectID, name string, typ backup.ClusterType, kind backup.BackupKind) backup.Cluster {
	c := backup.Cluster{ID: id, GroupID: group, Name: name, Type: typ, MongoDBVersion: "4.0.28",
		Backup: kind, Created: t0.Add(2 * time.Hour)}
	if typ == backup.ReplicaSet {
		c.ReplicaSetName = name + "-rs"
	} else {
		c.Shards = []backup.Shard{{Name: name + "-shard-0", ReplicaSetName: name + "-shard-0"},
			{Name: name + "-shard-1", ReplicaSetName: name + "-rs-1"}}
		c.Config = backup.ConfigServer{ReplicaSetName: name + "-config-0"}
	}
	return c
}

// checkpoint makes a checkpoint of c at ts, with the parts its topology
// has, and an id whose time is ts.
func (f *fixture) checkpoint(c backup.Cluster, ts time.Time) backup.Checkpoint {
	return checkpointValue(f.ids.New(ts), c, ts)
}

func checkpointValue(id backup.ObjectID, c backup.Cluster, ts time.Time) backup.Checkpoint {
	cp := backup.Checkpoint{ID: id, ClusterID: c.ID, GroupID: c.GroupID,
		Started: ts.Add(-2 * time.Minute), Completed: ts.Add(time.Minute), Timestamp: ts, Restorable: true}
	tok := backup.BSONTimestamp{Date: ts, Increment: 1}
	if c.Type == backup.ReplicaSet {
		cp.Parts = []backup.Part{{Type: backup.PartReplicaSet, ReplicaSetName: c.ReplicaSetName, TokenDiscovered: true, TokenTimestamp: tok}}
		return cp
	}
	for _, s := range c.Shards {
		cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartReplicaSet, ShardName: s.Name,
			ReplicaSetName: s.ReplicaSetName, TokenDiscovered: true, TokenTimestamp: tok})
	}
	if c.Config.Mirrored() {
		for _, h := range c.Config.HostIDs {
			cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartConfigServer, HostID: h, TokenDiscovered: true, TokenTimestamp: tok})
		}
	} else {
		cp.Parts = append(cp.Parts, backup.Part{Type: backup.PartConfigReplicaSet,
			ReplicaSetName: c.Config.ReplicaSetName, TokenDiscovered: true, TokenTimestamp: tok})
	}
	return cp
}

// history adds n checkpoints of c, 15 minutes apart from t0, oldest first,
// and returns them in that order.
func (f *fixture) history(c backup.Cluster, n int) []backup.Checkpoint {
	f.t.Helper()
	cps := make([]backup.Checkpoint, n)
	for i := range cps {
		cps[i] = f.checkpoint(c, t0.Add(time.Duration(i)*15*time.Minute))
		f.must(f.s.AddCheckpoint(f.ctx, cps[i]))
	}
	return cps
}

func byName(c backup.Cluster) backup.ClusterRef {
	return backup.ClusterRef{GroupID: c.GroupID, Name: c.Name}
}

func byID(c backup.Cluster) backup.ClusterRef {
	return backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}
}

// refs names a cluster both ways, as Atlas and Cloud Manager do.
func refs(c backup.Cluster) map[string]backup.ClusterRef {
	return map[string]backup.ClusterRef{"byName": byName(c), "byID": byID(c)}
}

// list reads every checkpoint of a cluster in one page.
func (f *fixture) list(ref backup.ClusterRef) []backup.Checkpoint {
	f.t.Helper()
	p, err := f.s.Checkpoints(f.ctx, ref, backup.PageRequest{Num: 1, Size: 1 << 20, IncludeCount: true})
	f.must(err)
	if p.Total != len(p.Items) {
		f.t.Fatalf("single page of %d items has Total %d", len(p.Items), p.Total)
	}
	return p.Items
}

// sorted returns cps in listing order: by Timestamp, then id.
func sorted(cps []backup.Checkpoint) []backup.Checkpoint {
	out := slices.Clone(cps)
	slices.SortFunc(out, func(a, b backup.Checkpoint) int {
		if c := a.Timestamp.Compare(b.Timestamp); c != 0 {
			return c
		}
		return strings.Compare(a.ID.Hex(), b.ID.Hex())
	})
	return out
}

// wantErr checks that err is a *backup.Error with the code and, when
// detail is not empty, that detail.
func wantErr(t testing.TB, err error, kind backup.Kind, code, detail string) {
	t.Helper()
	e := backup.ErrorOf(err)
	if e == nil {
		t.Fatalf("error %v, want a *backup.Error %s", err, code)
	}
	if !backup.IsCode(err, code) || e.Kind != kind {
		t.Fatalf("error %s (%v), want %s (%v)", e.Code, e.Kind, code, kind)
	}
	if detail != "" && e.Detail != detail {
		t.Fatalf("detail %q, want %q", e.Detail, detail)
	}
}

// wantCheckpoints compares lists, field by field.
func wantCheckpoints(t testing.TB, got, want []backup.Checkpoint) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d checkpoints, want %d\n got ids %v\nwant ids %v", len(got), len(want), ids(got), ids(want))
	}
	for i := range got {
		if d := diffCheckpoint(got[i], want[i]); d != "" {
			t.Fatalf("checkpoint %d: %s\n got ids %v\nwant ids %v", i, d, ids(got), ids(want))
		}
	}
}

func ids(cps []backup.Checkpoint) []string {
	out := make([]string, len(cps))
	for i, c := range cps {
		out[i] = c.ID.Hex()[18:] // the counter, enough to tell them apart
	}
	return out
}

// diffCheckpoint describes the first difference, or returns "". Times
// must be equal instants and in UTC; a nil and an empty Parts are equal.
func diffCheckpoint(got, want backup.Checkpoint) string {
	switch {
	case got.ID != want.ID:
		return fmt.Sprintf("ID %s, want %s", got.ID.Hex(), want.ID.Hex())
	case got.ClusterID != want.ClusterID:
		return fmt.Sprintf("ClusterID %s, want %s", got.ClusterID.Hex(), want.ClusterID.Hex())
	case got.GroupID != want.GroupID:
		return fmt.Sprintf("GroupID %s, want %s", got.GroupID.Hex(), want.GroupID.Hex())
	case got.Restorable != want.Restorable:
		return fmt.Sprintf("Restorable %v, want %v", got.Restorable, want.Restorable)
	case len(got.Parts) != len(want.Parts):
		return fmt.Sprintf("%d parts, want %d", len(got.Parts), len(want.Parts))
	}
	for _, tm := range []struct {
		name      string
		got, want time.Time
	}{{"Started", got.Started, want.Started}, {"Completed", got.Completed, want.Completed}, {"Timestamp", got.Timestamp, want.Timestamp}} {
		if d := diffTime(tm.got, tm.want); d != "" {
			return tm.name + " " + d
		}
	}
	for i := range got.Parts {
		g, w := got.Parts[i], want.Parts[i]
		if d := diffTime(g.TokenTimestamp.Date, w.TokenTimestamp.Date); d != "" {
			return fmt.Sprintf("part %d token date %s", i, d)
		}
		g.TokenTimestamp.Date, w.TokenTimestamp.Date = time.Time{}, time.Time{}
		if g != w {
			return fmt.Sprintf("part %d: %+v, want %+v", i, g, w)
		}
	}
	return ""
}

func diffTime(got, want time.Time) string {
	if got.IsZero() != want.IsZero() || !got.Equal(want) {
		return fmt.Sprintf("%v, want %v", got, want)
	}
	if !got.IsZero() && got.Location() != time.UTC {
		return fmt.Sprintf("%v is not in UTC", got)
	}
	return ""
}

func wantCluster(t testing.TB, got, want backup.Cluster) {
	t.Helper()
	if got.Created.IsZero() != want.Created.IsZero() || !got.Created.Equal(want.Created) {
		t.Fatalf("cluster %s Created %v, want %v", want.Name, got.Created, want.Created)
	}
	got.Created, want.Created = time.Time{}, time.Time{}
	if len(got.Shards) == 0 && len(want.Shards) == 0 {
		got.Shards, want.Shards = nil, nil
	}
	if len(got.Config.HostIDs) == 0 && len(want.Config.HostIDs) == 0 {
		got.Config.HostIDs, want.Config.HostIDs = nil, nil
	}
	if fmt.Sprintf("%#v", got) != fmt.Sprintf("%#v", want) {
		t.Fatalf("cluster:\n got %+v\nwant %+v", got, want)
	}
}

func testOrganizations(t *testing.T, f *fixture) {
	// The fixture created one; another with the same id conflicts.
	err := f.s.CreateOrganization(f.ctx, backup.Organization{ID: f.org.ID, Name: "again", Created: t0})
	if backup.KindOf(err) != backup.Conflict {
		t.Fatalf("duplicate organization: %v, want a Conflict", err)
	}
	// A project of an organization reads back with its org id.
	p, err := f.s.Project(f.ctx, f.project.ID)
	f.must(err)
	if p.OrgID != f.org.ID {
		t.Fatalf("project's OrgID %s, want %s", p.OrgID.Hex(), f.org.ID.Hex())
	}
	// A project of an unknown organization is ORG_NOT_FOUND.
	unknown := f.ids.New(t0)
	err = f.s.CreateProject(f.ctx, backup.Project{ID: f.ids.New(t0), OrgID: unknown, Name: "orphan", Created: t0})
	wantErr(t, err, backup.NotFound, backup.CodeOrgNotFound, "No organization with ID "+unknown.Hex()+" exists.")
}

func testProjects(t *testing.T, f *fixture) {
	got, err := f.s.Project(f.ctx, f.project.ID)
	f.must(err)
	if got.ID != f.project.ID || got.OrgID != f.project.OrgID || got.Name != f.project.Name || !got.Created.Equal(f.project.Created) {
		t.Fatalf("Project: %+v, want %+v", got, f.project)
	}
	if got.Created.Location() != time.UTC {
		t.Fatalf("Created %v not UTC", got.Created)
	}
	if got.ClusterCount != 3 {
		t.Fatalf("ClusterCount %d, want the fixture's 3", got.ClusterCount)
	}
	// ClusterCount is read, never taken from the create.
	other := backup.Project{ID: f.ids.New(t0), OrgID: f.org.ID, Name: "other", Created: t0, ClusterCount: 42}
	f.must(f.s.CreateProject(f.ctx, other))
	if got, err = f.s.Project(f.ctx, other.ID); err != nil || got.ClusterCount != 0 {
		t.Fatalf("new project: ClusterCount %d, %v; want 0", got.ClusterCount, err)
	}
	f.newCluster(other.ID, "One", backup.ReplicaSet, backup.BackupLegacy)
	if got, err = f.s.Project(f.ctx, other.ID); err != nil || got.ClusterCount != 1 {
		t.Fatalf("project with one cluster: ClusterCount %d, %v", got.ClusterCount, err)
	}
	unknown := f.ids.New(t0)
	_, err = f.s.Project(f.ctx, unknown)
	wantErr(t, err, backup.NotFound, backup.CodeGroupNotFound, "No group with ID "+unknown.Hex()+" exists.")

	err = f.s.CreateProject(f.ctx, backup.Project{ID: f.project.ID, OrgID: f.org.ID, Name: "again", Created: t0})
	if backup.KindOf(err) != backup.Conflict {
		t.Fatalf("duplicate project id: %v, want a Conflict", err)
	}
}

func testProjectsPaging(t *testing.T, f *fixture) {
	// Ids made in shuffled order, so that id order is not creation order.
	want := []backup.ObjectID{f.project.ID}
	for i := range 6 {
		id := backup.MustParseObjectID(fmt.Sprintf("%024x", (i*5)%6+1))
		f.must(f.s.CreateProject(f.ctx, backup.Project{ID: id, OrgID: f.org.ID, Name: fmt.Sprint("p", i), Created: t0}))
		want = append(want, id)
	}
	slices.SortFunc(want, func(a, b backup.ObjectID) int { return strings.Compare(a.Hex(), b.Hex()) })
	var got []backup.ObjectID
	for num := 1; ; num++ {
		p, err := f.s.Projects(f.ctx, backup.PageRequest{Num: num, Size: 3, IncludeCount: true})
		f.must(err)
		if p.Total != len(want) {
			t.Fatalf("page %d Total %d, want %d", num, p.Total, len(want))
		}
		if len(p.Items) == 0 {
			break
		}
		for _, it := range p.Items {
			got = append(got, it.ID)
			wantCount := 0
			if it.ID == f.project.ID {
				wantCount = 3
			}
			if it.ClusterCount != wantCount {
				t.Fatalf("project %s listed with ClusterCount %d, want %d", it.ID.Hex(), it.ClusterCount, wantCount)
			}
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("projects in order %v, want %v", got, want)
	}
	p, err := f.s.Projects(f.ctx, backup.PageRequest{Num: 1, Size: 2})
	f.must(err)
	if p.Total != 0 || len(p.Items) != 2 {
		t.Fatalf("without count: %d items, Total %d; want 2, 0", len(p.Items), p.Total)
	}
}

func testClusters(t *testing.T, f *fixture) {
	mirrored := clusterValue(f.ids.New(t0), f.project.ID, "Legacy-1", backup.Sharded, backup.BackupLegacy)
	mirrored.Config = backup.ConfigServer{HostIDs: []string{"host-a", "host-b", "host-c"}}
	mirrored.MongoDBVersion = "3.2.22"
	f.must(f.s.CreateCluster(f.ctx, mirrored))
	for _, c := range []backup.Cluster{f.sharded, f.rs, f.cloud, mirrored} {
		for how, ref := range refs(c) {
			got, err := f.s.Cluster(f.ctx, ref)
			if err != nil {
				t.Fatalf("%s %s: %v", c.Name, how, err)
			}
			wantCluster(t, got, c)
		}
	}
	// The same name in another project is fine.
	other := f.newProject("other")
	dup := f.newCluster(other.ID, f.sharded.Name, backup.ReplicaSet, backup.BackupLegacy)
	got, err := f.s.Cluster(f.ctx, byName(dup))
	f.must(err)
	wantCluster(t, got, dup)
}

func testClusterErrors(t *testing.T, f *fixture) {
	group := f.project.ID.Hex()
	dupName := clusterValue(f.ids.New(t0), f.project.ID, f.sharded.Name, backup.ReplicaSet, backup.BackupLegacy)
	wantErr(t, f.s.CreateCluster(f.ctx, dupName), backup.Conflict, backup.CodeDuplicateClusterName,
		"A cluster named "+f.sharded.Name+" already exists in group "+group+".")

	dupID := clusterValue(f.sharded.ID, f.project.ID, "Fresh", backup.ReplicaSet, backup.BackupLegacy)
	if err := f.s.CreateCluster(f.ctx, dupID); backup.KindOf(err) != backup.Conflict {
		t.Fatalf("duplicate cluster id: %v, want a Conflict", err)
	}

	unknownGroup := f.ids.New(t0)
	orphan := clusterValue(f.ids.New(t0), unknownGroup, "Orphan", backup.ReplicaSet, backup.BackupLegacy)
	wantErr(t, f.s.CreateCluster(f.ctx, orphan), backup.NotFound, backup.CodeGroupNotFound,
		"No group with ID "+unknownGroup.Hex()+" exists.")

	invalid := clusterValue(f.ids.New(t0), f.project.ID, "bad name!", backup.ReplicaSet, backup.BackupLegacy)
	if err := f.s.CreateCluster(f.ctx, invalid); backup.KindOf(err) != backup.Invalid {
		t.Fatalf("invalid cluster: %v, want Invalid", err)
	}
	// Nothing of the failed creates was stored.
	p, err := f.s.Clusters(f.ctx, f.project.ID, backup.PageRequest{Num: 1, Size: 100, IncludeCount: true})
	f.must(err)
	if p.Total != 3 {
		t.Fatalf("%d clusters after failed creates, want 3", p.Total)
	}
}

func testClustersPaging(t *testing.T, f *fixture) {
	other := f.newProject("other")
	names := []string{"m", "b", "z", "a0", "A", "q", "k"}
	for _, n := range names {
		f.newCluster(other.ID, n, backup.ReplicaSet, backup.BackupLegacy)
	}
	want := slices.Sorted(slices.Values(names))
	var got []string
	for num := 1; num <= 4; num++ {
		p, err := f.s.Clusters(f.ctx, other.ID, backup.PageRequest{Num: num, Size: 2, IncludeCount: true})
		f.must(err)
		if p.Total != len(names) {
			t.Fatalf("Total %d, want %d", p.Total, len(names))
		}
		if wantLen := min(2, len(names)-(num-1)*2); len(p.Items) != wantLen {
			t.Fatalf("page %d has %d items, want %d", num, len(p.Items), wantLen)
		}
		for _, c := range p.Items {
			if c.GroupID != other.ID {
				t.Fatalf("cluster %s of group %s listed in %s", c.Name, c.GroupID.Hex(), other.ID.Hex())
			}
			got = append(got, c.Name)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("clusters in order %v, want %v", got, want)
	}
	p, err := f.s.Clusters(f.ctx, other.ID, backup.PageRequest{Num: 9, Size: 2, IncludeCount: true})
	f.must(err)
	if len(p.Items) != 0 || p.Total != len(names) {
		t.Fatalf("past the end: %d items, Total %d", len(p.Items), p.Total)
	}
	p, err = f.s.Clusters(f.ctx, other.ID, backup.PageRequest{Num: 1, Size: 2})
	f.must(err)
	if p.Total != 0 || len(p.Items) != 2 {
		t.Fatalf("without count: %d items, Total %d", len(p.Items), p.Total)
	}
	unknown := f.ids.New(t0)
	_, err = f.s.Clusters(f.ctx, unknown, backup.PageRequest{Num: 1, Size: 2})
	wantErr(t, err, backup.NotFound, backup.CodeGroupNotFound, "No group with ID "+unknown.Hex()+" exists.")
}

func testCheckpointsOrder(t *testing.T, f *fixture) {
	// Shuffled inserts, with runs of equal timestamps that only the id
	// orders.
	var cps []backup.Checkpoint
	for i := range 12 {
		ts := t0.Add(time.Duration(i/3) * time.Hour)
		id := backup.MustParseObjectID(fmt.Sprintf("%08x%016x", ts.Unix(), 100-i))
		cps = append(cps, checkpointValue(id, f.sharded, ts))
	}
	rng := rand.New(rand.NewPCG(1, 2))
	shuffled := slices.Clone(cps)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	for _, cp := range shuffled {
		f.must(f.s.AddCheckpoint(f.ctx, cp))
	}
	for how, ref := range refs(f.sharded) {
		t.Run(how, func(t *testing.T) { wantCheckpoints(t, f.list(ref), sorted(cps)) })
	}
	// Another cluster's checkpoints do not mix in.
	rs := f.history(f.rs, 3)
	wantCheckpoints(t, f.list(byName(f.rs)), rs)
	wantCheckpoints(t, f.list(byName(f.sharded)), sorted(cps))
}

func testPaging(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 10)
	cases := []struct {
		name      string
		num, size int
		count     bool
		from, to  int // expected items cps[from:to]
	}{
		{"first page", 1, 5, true, 0, 5},
		{"exact multiple, last page", 2, 5, true, 5, 10},
		{"exact multiple, one past", 3, 5, true, 10, 10},
		{"partial last page", 4, 3, true, 9, 10},
		{"middle page", 2, 3, true, 3, 6},
		{"far past the end", 10000, 100, true, 10, 10},
		{"page bigger than all", 1, 500, true, 0, 10},
		{"size one", 7, 1, true, 6, 7},
		{"without count", 2, 4, false, 4, 8},
		{"without count, past the end", 5, 4, false, 10, 10},
	}
	for _, c := range cases {
		for how, ref := range refs(f.sharded) {
			t.Run(c.name+"/"+how, func(t *testing.T) {
				p, err := f.s.Checkpoints(f.ctx, ref, backup.PageRequest{Num: c.num, Size: c.size, IncludeCount: c.count})
				f.must(err)
				wantCheckpoints(t, p.Items, cps[c.from:c.to])
				wantTotal := 0
				if c.count {
					wantTotal = len(cps)
				}
				if p.Total != wantTotal {
					t.Fatalf("Total %d, want %d", p.Total, wantTotal)
				}
			})
		}
	}
}

func testEmptyCluster(t *testing.T, f *fixture) {
	for _, num := range []int{1, 2} {
		p, err := f.s.Checkpoints(f.ctx, byName(f.rs), backup.PageRequest{Num: num, Size: 10, IncludeCount: true})
		f.must(err)
		if len(p.Items) != 0 || p.Total != 0 {
			t.Fatalf("page %d of an empty cluster: %d items, Total %d", num, len(p.Items), p.Total)
		}
	}
}

// checkPages checks that every page size slices the full list the same
// way, and that the totals agree: what contiguous numbering must keep true.
func (f *fixture) checkPages(t *testing.T, ref backup.ClusterRef, want []backup.Checkpoint) {
	t.Helper()
	wantCheckpoints(t, f.list(ref), want)
	for _, size := range []int{1, 2, 3, 7} {
		for num := 1; (num-1)*size <= len(want); num++ {
			p, err := f.s.Checkpoints(f.ctx, ref, backup.PageRequest{Num: num, Size: size, IncludeCount: true})
			f.must(err)
			if p.Total != len(want) {
				t.Fatalf("size %d page %d: Total %d, want %d", size, num, p.Total, len(want))
			}
			from := (num - 1) * size
			wantCheckpoints(t, p.Items, want[from:min(from+size, len(want))])
		}
	}
}

func testOutOfOrder(t *testing.T, f *fixture) {
	ref := byName(f.sharded)
	var stored []backup.Checkpoint
	add := func(ts time.Time) {
		t.Helper()
		cp := f.checkpoint(f.sharded, ts)
		f.must(f.s.AddCheckpoint(f.ctx, cp))
		stored = append(stored, cp)
		f.checkPages(t, ref, sorted(stored))
	}
	for i := range 5 {
		add(t0.Add(time.Duration(10+i) * time.Hour))
	}
	add(t0.Add(12*time.Hour + 30*time.Minute)) // in the middle
	add(t0)                                    // before the first
	add(t0.Add(20 * time.Hour))                // after the last again
	add(t0.Add(12 * time.Hour))                // equal timestamp, ordered by id
	// An equal timestamp with a smaller id than the stored one goes first.
	early := checkpointValue(backup.MustParseObjectID(fmt.Sprintf("%08x%016x", t0.Add(12*time.Hour).Unix(), 0)), f.sharded, t0.Add(12*time.Hour))
	f.must(f.s.AddCheckpoint(f.ctx, early))
	stored = append(stored, early)
	f.checkPages(t, ref, sorted(stored))
	// A random burst.
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		add(t0.Add(time.Duration(rng.IntN(24*60)) * time.Minute))
	}
}

func testPrune(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 10)
	rs := f.history(f.rs, 4)
	ref := byID(f.sharded)

	n, err := f.s.PruneCheckpoints(f.ctx, f.sharded.ID, cps[0].Timestamp)
	f.must(err)
	if n != 0 {
		t.Fatalf("cutoff at the oldest pruned %d, want 0 (only older ones go)", n)
	}
	n, err = f.s.PruneCheckpoints(f.ctx, f.sharded.ID, cps[3].Timestamp)
	f.must(err)
	if n != 3 {
		t.Fatalf("pruned %d, want 3", n)
	}
	cps = cps[3:]
	f.checkPages(t, ref, cps)

	// Stored times are whole seconds; a cutoff just after one prunes it.
	n, err = f.s.PruneCheckpoints(f.ctx, f.sharded.ID, cps[0].Timestamp.Add(time.Millisecond))
	f.must(err)
	if n != 1 {
		t.Fatalf("sub-second cutoff pruned %d, want 1", n)
	}
	cps = cps[1:]
	f.checkPages(t, ref, cps)

	// Adds after a prune, in order and out of order.
	late := f.checkpoint(f.sharded, cps[len(cps)-1].Timestamp.Add(time.Hour))
	f.must(f.s.AddCheckpoint(f.ctx, late))
	mid := f.checkpoint(f.sharded, cps[1].Timestamp.Add(time.Minute))
	f.must(f.s.AddCheckpoint(f.ctx, mid))
	first := f.checkpoint(f.sharded, cps[0].Timestamp.Add(-time.Hour)) // older than anything left
	f.must(f.s.AddCheckpoint(f.ctx, first))
	cps = sorted(append(cps, late, mid, first))
	f.checkPages(t, ref, cps)

	// The other cluster is untouched.
	wantCheckpoints(t, f.list(byName(f.rs)), rs)

	// Pruning everything leaves an empty, usable cluster.
	n, err = f.s.PruneCheckpoints(f.ctx, f.sharded.ID, t0.Add(1000*time.Hour))
	f.must(err)
	if n != len(cps) {
		t.Fatalf("pruned %d, want all %d", n, len(cps))
	}
	f.checkPages(t, ref, nil)
	n, err = f.s.PruneCheckpoints(f.ctx, f.sharded.ID, t0.Add(1000*time.Hour))
	f.must(err)
	if n != 0 {
		t.Fatalf("pruning an empty cluster: %d", n)
	}
	again := []backup.Checkpoint{f.checkpoint(f.sharded, t0.Add(2000*time.Hour)), f.checkpoint(f.sharded, t0.Add(1500*time.Hour))}
	for _, cp := range again {
		f.must(f.s.AddCheckpoint(f.ctx, cp))
	}
	f.checkPages(t, ref, sorted(again))

	_, err = f.s.PruneCheckpoints(f.ctx, f.ids.New(t0), t0)
	if backup.KindOf(err) != backup.NotFound {
		t.Fatalf("pruning an unknown cluster: %v, want NotFound", err)
	}
}

func testIdempotent(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 5)
	// The newest and an older one (not at the append position) again.
	for _, i := range []int{4, 1} {
		if err := f.s.AddCheckpoint(f.ctx, cps[i]); err != nil {
			t.Fatalf("re-adding checkpoint %d: %v", i, err)
		}
	}
	// Equal instants in another zone are the same content.
	zoned := cps[2]
	zoned.Timestamp = zoned.Timestamp.In(time.FixedZone("X", -5*3600))
	f.must(f.s.AddCheckpoint(f.ctx, zoned))
	f.checkPages(t, byName(f.sharded), cps)

	changes := map[string]func(cp *backup.Checkpoint){
		"restorable": func(cp *backup.Checkpoint) { cp.Restorable = !cp.Restorable },
		"timestamp":  func(cp *backup.Checkpoint) { cp.Timestamp = cp.Timestamp.Add(time.Second) },
		"started":    func(cp *backup.Checkpoint) { cp.Started = cp.Started.Add(time.Second) },
		"completed":  func(cp *backup.Checkpoint) { cp.Completed = time.Time{} },
		"part":       func(cp *backup.Checkpoint) { cp.Parts[0].TokenTimestamp.Increment++ },
		"no parts":   func(cp *backup.Checkpoint) { cp.Parts = nil },
		"cluster": func(cp *backup.Checkpoint) {
			cp.ClusterID, cp.GroupID = f.rs.ID, f.rs.GroupID
			cp.Parts = checkpointValue(cp.ID, f.rs, cp.Timestamp).Parts
		},
	}
	for name, change := range changes {
		for _, i := range []int{4, 0} {
			t.Run(fmt.Sprint(name, i), func(t *testing.T) {
				cp := cps[i]
				cp.Parts = slices.Clone(cp.Parts)
				change(&cp)
				wantErr(t, f.s.AddCheckpoint(f.ctx, cp), backup.Conflict, backup.CodeDuplicateCheckpoint, "")
			})
		}
	}
	f.checkPages(t, byName(f.sharded), cps)
	if got := f.list(byName(f.rs)); len(got) != 0 {
		t.Fatalf("conflicting adds stored %d checkpoints in another cluster", len(got))
	}
}

func testAddValidation(t *testing.T, f *fixture) {
	unknownCluster := f.ids.New(t0)
	cp := f.checkpoint(f.sharded, t0)
	cp.ClusterID = unknownCluster
	wantErr(t, f.s.AddCheckpoint(f.ctx, cp), backup.NotFound, backup.CodeClusterNotFound, "")

	unknownGroup := f.ids.New(t0)
	cp = f.checkpoint(f.sharded, t0)
	cp.ClusterID, cp.GroupID = unknownCluster, unknownGroup
	wantErr(t, f.s.AddCheckpoint(f.ctx, cp), backup.NotFound, backup.CodeGroupNotFound, "")

	// A cluster that exists, named with the wrong project.
	other := f.newProject("other")
	cp = f.checkpoint(f.sharded, t0)
	cp.GroupID = other.ID
	wantErr(t, f.s.AddCheckpoint(f.ctx, cp), backup.Invalid, backup.CodeInvalidAttribute, "")

	if got := f.list(byName(f.sharded)); len(got) != 0 {
		t.Fatalf("invalid adds stored %d checkpoints", len(got))
	}
}

func testCheckpointLookup(t *testing.T, f *fixture) {
	cps := f.history(f.sharded, 4)
	rs := f.history(f.rs, 2)
	for how, ref := range refs(f.sharded) {
		t.Run(how, func(t *testing.T) {
			for _, cp := range cps {
				got, err := f.s.Checkpoint(f.ctx, ref, cp.ID)
				f.must(err)
				wantCheckpoints(t, []backup.Checkpoint{got}, []backup.Checkpoint{cp})
			}
			unknown := f.ids.New(t0)
			_, err := f.s.Checkpoint(f.ctx, ref, unknown)
			wantErr(t, err, backup.NotFound, backup.CodeCheckpointNotFound,
				"No checkpoint with ID "+unknown.Hex()+" exists for cluster "+ref.Label()+".")
			// A checkpoint that exists, of another cluster.
			_, err = f.s.Checkpoint(f.ctx, ref, rs[0].ID)
			wantErr(t, err, backup.NotFound, backup.CodeCheckpointNotFound,
				"No checkpoint with ID "+rs[0].ID.Hex()+" exists for cluster "+ref.Label()+".")
		})
	}
}

func testReferenceErrors(t *testing.T, f *fixture) {
	f.history(f.sharded, 2)
	unknownGroup := f.ids.New(t0)
	unknownID := f.ids.New(t0)
	other := f.newProject("other")
	group := f.project.ID.Hex()
	cases := []struct {
		name         string
		ref          backup.ClusterRef
		code, detail string
	}{
		// GROUP_NOT_FOUND comes first, even when the cluster exists
		// elsewhere or not at all.
		{"unknown group, by name", backup.ClusterRef{GroupID: unknownGroup, Name: f.sharded.Name},
			backup.CodeGroupNotFound, "No group with ID " + unknownGroup.Hex() + " exists."},
		{"unknown group, by id", backup.ClusterRef{GroupID: unknownGroup, ID: f.sharded.ID},
			backup.CodeGroupNotFound, "No group with ID " + unknownGroup.Hex() + " exists."},
		{"unknown name", backup.ClusterRef{GroupID: f.project.ID, Name: "Nope"},
			backup.CodeClusterNotFound, "No cluster named Nope exists in group " + group + "."},
		{"unknown id", backup.ClusterRef{GroupID: f.project.ID, ID: unknownID},
			backup.CodeClusterNotFound, "No cluster with ID " + unknownID.Hex() + " exists in group " + group + "."},
		{"cluster of another group, by name", backup.ClusterRef{GroupID: other.ID, Name: f.sharded.Name},
			backup.CodeClusterNotFound, "No cluster named " + f.sharded.Name + " exists in group " + other.ID.Hex() + "."},
		{"cluster of another group, by id", backup.ClusterRef{GroupID: other.ID, ID: f.sharded.ID},
			backup.CodeClusterNotFound, "No cluster with ID " + f.sharded.ID.Hex() + " exists in group " + other.ID.Hex() + "."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := f.s.Cluster(f.ctx, c.ref)
			wantErr(t, err, backup.NotFound, c.code, c.detail)
			_, err = f.s.Checkpoints(f.ctx, c.ref, backup.PageRequest{Num: 1, Size: 10, IncludeCount: true})
			wantErr(t, err, backup.NotFound, c.code, c.detail)
			_, err = f.s.Checkpoint(f.ctx, c.ref, unknownID)
			wantErr(t, err, backup.NotFound, c.code, c.detail)
		})
	}
}

func testCloudBackup(t *testing.T, f *fixture) {
	for how, ref := range refs(f.cloud) {
		t.Run(how, func(t *testing.T) {
			_, err := f.s.Checkpoints(f.ctx, ref, backup.PageRequest{Num: 1, Size: 10, IncludeCount: true})
			wantErr(t, err, backup.Invalid, backup.CodeCheckpointsOnlyLegacy, "Checkpoints do not exist for Cloud Backups.")
			_, err = f.s.Checkpoint(f.ctx, ref, f.ids.New(t0))
			wantErr(t, err, backup.Invalid, backup.CodeCheckpointsOnlyLegacy, "Checkpoints do not exist for Cloud Backups.")
			// The cluster itself is readable.
			_, err = f.s.Cluster(f.ctx, ref)
			f.must(err)
		})
	}
}

func testRoundTrip(t *testing.T, f *fixture) {
	ts := t0.Add(36 * time.Hour)
	cp := backup.Checkpoint{
		ID: f.ids.New(ts), ClusterID: f.sharded.ID, GroupID: f.project.ID,
		Started: ts.Add(-3 * time.Minute), Timestamp: ts, Restorable: false, // Completed unknown: zero
		Parts: []backup.Part{
			{Type: backup.PartReplicaSet, ShardName: "Cluster0-shard-0", ReplicaSetName: "Cluster0-shard-0",
				TokenDiscovered: true, TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: 3}},
			{Type: backup.PartReplicaSet, ShardName: "Cluster0-shard-1", ReplicaSetName: "Cluster0-rs-1",
				TokenDiscovered: false, TokenTimestamp: backup.BSONTimestamp{}},
			{Type: backup.PartConfigServer, HostID: "6a1b2c3d4e5f60718293a4b5", TokenDiscovered: true,
				TokenTimestamp: backup.BSONTimestamp{Date: ts.Add(-time.Second), Increment: 1<<32 - 1}},
			{Type: backup.PartConfigReplicaSet, ReplicaSetName: "Cluster0-config-0", TokenDiscovered: true,
				TokenTimestamp: backup.BSONTimestamp{Date: ts, Increment: 1}},
		},
	}
	second := f.checkpoint(f.sharded, ts.Add(time.Hour))
	second.Restorable = true
	f.must(f.s.AddCheckpoint(f.ctx, cp))
	f.must(f.s.AddCheckpoint(f.ctx, second))
	for how, ref := range refs(f.sharded) {
		t.Run(how, func(t *testing.T) {
			got, err := f.s.Checkpoint(f.ctx, ref, cp.ID)
			f.must(err)
			if !got.Completed.IsZero() {
				t.Fatalf("zero Completed read back as %v", got.Completed)
			}
			wantCheckpoints(t, []backup.Checkpoint{got}, []backup.Checkpoint{cp})
			wantCheckpoints(t, f.list(ref), []backup.Checkpoint{cp, second})
		})
	}
	// Sub-second times are kept to the second.
	frac := f.checkpoint(f.sharded, ts.Add(2*time.Hour+300*time.Millisecond))
	f.must(f.s.AddCheckpoint(f.ctx, frac))
	got, err := f.s.Checkpoint(f.ctx, byName(f.sharded), frac.ID)
	f.must(err)
	if want := frac.Timestamp.Truncate(time.Second); !got.Timestamp.Equal(want) {
		t.Fatalf("Timestamp %v, want %v", got.Timestamp, want)
	}
}

func testBatch(t *testing.T, f *fixture) {
	b, ok := f.s.(BatchAdder)
	if !ok {
		t.Skip("store has no AddCheckpoints")
	}
	var cps []backup.Checkpoint
	for i := range 50 {
		cps = append(cps, f.checkpoint(f.sharded, t0.Add(time.Duration(i)*time.Minute)))
	}
	// Out of order within the batch, and a duplicate of an earlier item.
	cps[10], cps[20] = cps[20], cps[10]
	f.must(b.AddCheckpoints(f.ctx, append(slices.Clone(cps), cps[5])))
	f.checkPages(t, byName(f.sharded), sorted(cps))

	// A conflict anywhere stores nothing of the batch.
	bad := cps[3]
	bad.Restorable = !bad.Restorable
	fresh := f.checkpoint(f.sharded, t0.Add(-time.Hour))
	wantErr(t, b.AddCheckpoints(f.ctx, []backup.Checkpoint{fresh, bad}), backup.Conflict, backup.CodeDuplicateCheckpoint, "")
	f.checkPages(t, byName(f.sharded), sorted(cps))
	if err := b.AddCheckpoints(f.ctx, nil); err != nil {
		t.Fatalf("empty batch: %v", err)
	}
}

// testPageVersion reads pages again and again, before and after writes
// that change what they hold: two pages with the same non-zero Version
// and length hold the same checkpoints, whatever the cache does (a store
// without one leaves Version zero).
func testPageVersion(t *testing.T, f *fixture) {
	ref := byName(f.sharded)
	cps := f.history(f.sharded, 6)
	seen := map[[2]uint64][]backup.Checkpoint{}
	read := func() {
		t.Helper()
		for num := 1; num <= 3; num++ {
			for range 2 {
				p, err := f.s.Checkpoints(f.ctx, ref, backup.PageRequest{Num: num, Size: 4, IncludeCount: true})
				f.must(err)
				if p.Version == 0 {
					continue
				}
				k := [2]uint64{p.Version, uint64(len(p.Items))}
				if before, ok := seen[k]; ok {
					wantCheckpoints(t, p.Items, before)
				}
				seen[k] = p.Items
			}
		}
	}
	read()
	// Appended after the last: the partial last page grows.
	f.must(f.s.AddCheckpoint(f.ctx, f.checkpoint(f.sharded, cps[5].Timestamp.Add(time.Hour))))
	read()
	// Inserted before the first: every page shifts.
	f.must(f.s.AddCheckpoint(f.ctx, f.checkpoint(f.sharded, cps[0].Timestamp.Add(-time.Hour))))
	read()
	// Pruned: the first pages lose checkpoints.
	if _, err := f.s.PruneCheckpoints(f.ctx, f.sharded.ID, cps[2].Timestamp); err != nil {
		t.Fatal(err)
	}
	read()
}

// testLongHistory pages at random through a history of well over a
// thousand checkpoints while it grows by batches and single appends,
// takes inserts older than its newest (which renumber what follows
// them) and is pruned, at random points and to nothing: every page is
// the slice of the whole history its number and size name. A store that
// keeps checkpoints in groups of consecutive ones as well (SQLite's
// blocks) is read across the groups' edges this way.
func testLongHistory(t *testing.T, f *fixture) {
	ref := byID(f.sharded)
	rng := rand.New(rand.NewPCG(9, 10))
	var stored []backup.Checkpoint
	next := t0
	add := func(cps ...backup.Checkpoint) {
		t.Helper()
		if b, ok := f.s.(BatchAdder); ok && len(cps) > 1 {
			f.must(b.AddCheckpoints(f.ctx, cps))
		} else {
			for _, cp := range cps {
				f.must(f.s.AddCheckpoint(f.ctx, cp))
			}
		}
		stored = sorted(append(stored, cps...))
	}
	appendN := func(n int) {
		t.Helper()
		var cps []backup.Checkpoint
		for range n {
			next = next.Add(15 * time.Minute)
			cps = append(cps, f.checkpoint(f.sharded, next))
		}
		add(cps...)
	}
	check := func(step string) {
		t.Helper()
		for range 25 {
			size := 1 + rng.IntN(300)
			if rng.IntN(3) == 0 {
				size = []int{99, 100, 101, 500}[rng.IntN(4)]
			}
			num := 1 + rng.IntN(len(stored)/size+2)
			p, err := f.s.Checkpoints(f.ctx, ref, backup.PageRequest{Num: num, Size: size, IncludeCount: true})
			f.must(err)
			from := min((num-1)*size, len(stored))
			if p.Total != len(stored) {
				t.Fatalf("%s: page %d of %d: Total %d, want %d", step, num, size, p.Total, len(stored))
			}
			t.Run(fmt.Sprintf("%s/page %d of %d", step, num, size), func(t *testing.T) {
				wantCheckpoints(t, p.Items, stored[from:min(from+size, len(stored))])
			})
		}
	}
	appendN(1234)
	check("batch")
	for range 20 {
		appendN(1)
	}
	check("appends")
	// Older than the newest: between stored ones, and before them all.
	var older []backup.Checkpoint
	for range 10 {
		older = append(older, f.checkpoint(f.sharded, t0.Add(time.Duration(rng.Int64N(int64(next.Sub(t0)/time.Second)))*time.Second)))
	}
	add(older...)
	add(f.checkpoint(f.sharded, t0.Add(-time.Hour)))
	check("inserts")
	prune := func(cut time.Time) {
		t.Helper()
		_, err := f.s.PruneCheckpoints(f.ctx, f.sharded.ID, cut)
		f.must(err)
		stored = slices.DeleteFunc(stored, func(cp backup.Checkpoint) bool { return cp.Timestamp.Before(cut) })
	}
	prune(t0.Add(37 * time.Hour))
	check("prune")
	prune(stored[250].Timestamp)
	appendN(130)
	check("prune, then appends")
	prune(next.Add(time.Hour))
	check("prune of all")
	appendN(205)
	check("appends after pruning all")
}
