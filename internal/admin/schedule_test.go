package admin_test

import (
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/admin"
	"github.com/checkpointd/checkpointd/internal/backup"
)

func TestParseSchedule(t *testing.T) {
	for in, want := range map[string]backup.Driver{"agent": backup.DriverAgent, "Simulated": backup.DriverSimulated, " SIMULATED ": backup.DriverSimulated} {
		if got, err := admin.ParseDriver(in); got != want || err != nil {
			t.Errorf("ParseDriver(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "robot", "sim"} {
		_, err := admin.ParseDriver(in)
		wantErr(t, err, backup.Invalid, backup.CodeInvalidAttribute, "Unknown driver")
	}
	for in, want := range map[string]time.Duration{"15": 15 * time.Minute, "30m": 30 * time.Minute, " 60 ": time.Hour,
		"off": 0, "OFF": 0, "0": 0, "20": 20 * time.Minute} {
		if got, err := admin.ParseInterval(in); got != want || err != nil {
			t.Errorf("ParseInterval(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-15", "1h", "15 minutes", "none", "9007199254741007", "99999999999999999999"} {
		_, err := admin.ParseInterval(in)
		wantErr(t, err, backup.Invalid, backup.CodeInvalidAttribute, "is not a number of minutes")
	}
}

func TestCreateClusterSchedule(t *testing.T) {
	f := newFixture(t)
	simulated := backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 15 * time.Minute, Window: 48 * time.Hour}
	c, err := admin.Clusters{Store: f.st, Clock: clk}.CreateCluster(f.ctx, backup.ClusterSpec{ProjectID: f.project.ID, Name: "Sim", ClusterChange: backup.ClusterChange{ShardCount: ptr(2), Driver: ptr(simulated.Driver), Interval: ptr(simulated.Interval), Window: ptr(simulated.Window)}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.st.Cluster(f.ctx, backup.ClusterRef{GroupID: f.project.ID, Name: "Sim"})
	if err != nil || got.Schedule != simulated || c.Schedule != simulated {
		t.Errorf("stored schedule %+v, %v; want %+v", got.Schedule, err, simulated)
	}
	for _, tt := range []struct {
		name       string
		spec       backup.ClusterSpec
		code, text string
	}{
		{"interval on a replica set", backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(0), Interval: ptr(15 * time.Minute)}},
			backup.CodeCannotSetIntervalForReplicaSet, "only be set for sharded clusters"},
		{"interval 20", backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(1), Interval: ptr(20 * time.Minute)}},
			backup.CodeInvalidAttribute, "clusterCheckpointIntervalMin"},
		{"window 721h", backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(0), Window: ptr(721 * time.Hour)}},
			backup.CodeInvalidAttribute, "pointInTimeWindowHours"},
		{"unknown driver", backup.ClusterSpec{Name: "c", ClusterChange: backup.ClusterChange{ShardCount: ptr(0), Driver: ptr[backup.Driver]("CRON")}},
			backup.CodeInvalidAttribute, "backup.driver"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.ProjectID = f.project.ID
			_, err := admin.Clusters{Store: f.st, Clock: clk}.CreateCluster(f.ctx, tt.spec)
			wantErr(t, err, backup.Invalid, tt.code, tt.text)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestUpdateCluster(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"Cluster0", "Taken"} {
		if _, err := (admin.Clusters{Store: f.st, Clock: clk}).CreateCluster(f.ctx, backup.ClusterSpec{ProjectID: f.project.ID, Name: name, ClusterChange: backup.ClusterChange{ShardCount: ptr(2)}}); err != nil {
			t.Fatal(err)
		}
	}
	ref := backup.ClusterRef{GroupID: f.project.ID, Name: "Cluster0"}
	c, err := admin.Clusters{Store: f.st}.UpdateCluster(f.ctx, ref, backup.ClusterChange{
		Name: ptr("Renamed"), Driver: ptr(backup.DriverSimulated), Interval: ptr(15 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.st.Cluster(f.ctx, backup.ClusterRef{GroupID: f.project.ID, Name: "Renamed"})
	if err != nil || got.ID != c.ID || got.Schedule != c.Schedule || got.Schedule.Interval != 15*time.Minute || got.Schedule.Driver != backup.DriverSimulated {
		t.Errorf("stored %+v, %v; returned %+v", got, err, c)
	}
	if _, err := f.st.Cluster(f.ctx, ref); err == nil {
		t.Error("the old name still finds the cluster")
	}
	change := backup.ClusterChange{Window: ptr(48 * time.Hour)}
	_, err = admin.Clusters{Store: f.st}.UpdateCluster(f.ctx, ref, change)
	wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, "No cluster named Cluster0")
	_, err = admin.Clusters{Store: f.st}.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: f.foreign.ID, Name: "Renamed"}, change)
	wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, "")
	_, err = admin.Clusters{Store: f.st}.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: admin.NewObjectID(now), Name: "Renamed"}, change)
	wantErr(t, err, backup.NotFound, backup.CodeGroupNotFound, "")
	_, err = admin.Clusters{Store: f.st}.UpdateCluster(f.ctx, backup.ClusterRef{GroupID: f.project.ID, Name: "Renamed"}, backup.ClusterChange{Name: ptr("Taken")})
	wantErr(t, err, backup.Conflict, backup.CodeDuplicateClusterName, "A cluster named Taken already exists")
	if after, err := f.st.Cluster(f.ctx, backup.ClusterRef{GroupID: f.project.ID, Name: "Renamed"}); err != nil || after.Schedule != got.Schedule {
		t.Errorf("a refused update changed the cluster: %+v, %v", after, err)
	}
}
