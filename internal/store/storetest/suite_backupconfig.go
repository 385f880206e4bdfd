package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// testBackupState: a cluster's backup state and snapshot schedule read
// back as written, through every read; Schedules lists a simulated
// cluster only while its backup is STARTED, and its checkpoints stay
// readable while it is not.
func testBackupState(t *testing.T, f *fixture) {
	cp := f.checkpoint(f.sharded, t0.Add(24*time.Hour))
	f.must(f.s.AddCheckpoint(f.ctx, cp))
	c := f.sharded
	c.Schedule = backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 15 * time.Minute}
	c.Snapshots = backup.SnapshotSchedule{IntervalHours: 8, RetentionDays: 3, DailyRetentionDays: 0,
		WeeklyRetentionWeeks: 52, MonthlyRetentionMonths: 36, FullIncrementalDayOfWeek: "TUESDAY"}
	_, err := f.s.UpdateCluster(f.ctx, byID(c), set(c))
	f.must(err)
	listed := func() bool {
		t.Helper()
		got, err := f.s.Schedules(f.ctx)
		f.must(err)
		return len(got) == 1 && reflect.DeepEqual(got[0], c)
	}
	if !listed() {
		t.Fatal("a STARTED (by default) simulated cluster is not in Schedules")
	}
	for _, st := range []backup.BackupStatus{backup.BackupStopped, backup.BackupInactive, backup.BackupStarted} {
		c.Status = st
		_, err := f.s.UpdateCluster(f.ctx, byID(c), set(c))
		f.must(err)
		for _, ref := range refs(c) {
			got, err := f.s.Cluster(f.ctx, ref)
			f.must(err)
			if !reflect.DeepEqual(got, c) {
				t.Errorf("%s: Cluster = %+v\nwant %+v", st, got, c)
			}
		}
		page, err := f.s.Clusters(f.ctx, c.GroupID, backup.PageRequest{Num: 1, Size: 10})
		f.must(err)
		if !slicesHas(page.Items, c) {
			t.Errorf("%s: Clusters does not hold the cluster as written", st)
		}
		if got := listed(); got != (st == backup.BackupStarted) {
			t.Errorf("%s: listed by Schedules = %v", st, got)
		}
		if _, err := f.s.Checkpoint(f.ctx, byName(c), cp.ID); err != nil {
			t.Errorf("%s: the checkpoint is not readable: %v", st, err)
		}
	}
	c.Status = "PAUSED"
	_, err = f.s.UpdateCluster(f.ctx, byID(c), set(c))
	wantCode(t, "unknown status", err, backup.CodeInvalidAttribute)
}

func slicesHas(cs []backup.Cluster, c backup.Cluster) bool {
	for _, x := range cs {
		if reflect.DeepEqual(x, c) {
			return true
		}
	}
	return false
}

// testProjectByName: a project is found by its exact name with its
// cluster count; an unknown name is GROUP_NAME_NOT_FOUND; of two
// organizations' projects of one name each caller gets its own, a
// stranger's is answered like an unknown name, and a member of the
// project's organization without access gets USER_UNAUTHORIZED.
func testProjectByName(t *testing.T, f *fixture) {
	got, err := f.s.ProjectByName(f.ctx, "project")
	f.must(err)
	want, err := f.s.Project(f.ctx, f.project.ID)
	f.must(err)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ProjectByName = %+v\nwant %+v", got, want)
	}
	for _, name := range []string{"Project", "projec", "project ", ""} {
		_, err := f.s.ProjectByName(f.ctx, name)
		wantCode(t, "name "+name, err, backup.CodeGroupNameNotFound)
	}
	other := f.newOrg("other org")
	theirs := f.newProjectOf(other.ID, "shared name")
	ours := f.newProject("shared name")
	for _, tc := range []struct {
		who  string
		p    *backup.Principal
		want backup.ObjectID
		code string
	}{
		{"our owner", caller(f.org.ID, orgGrant(backup.OrgOwner)), ours.ID, ""},
		{"their owner", caller(other.ID, orgGrant(backup.OrgOwner)), theirs.ID, ""},
		{"a reader of our other project", caller(f.org.ID, projectGrant(backup.ProjectReadOnly, f.project.ID)), backup.ObjectID{}, backup.CodeUserUnauthorized},
		{"a third organization", caller(f.ids.New(t0), orgGrant(backup.OrgOwner)), backup.ObjectID{}, backup.CodeGroupNameNotFound},
	} {
		p, err := f.s.ProjectByName(f.as(tc.p), "shared name")
		if tc.code != "" {
			wantCode(t, tc.who, err, tc.code)
			continue
		}
		if err != nil || p.ID != tc.want {
			t.Errorf("%s: ProjectByName = %s, %v; want %s", tc.who, p.ID.Hex(), err, tc.want.Hex())
		}
	}
}
