package admin_test

import (
	"slices"
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
	for in, want := range map[int]time.Duration{1: time.Hour, 24: 24 * time.Hour, 721: 721 * time.Hour} {
		if got, err := admin.WindowHours(in); got != want || err != nil {
			t.Errorf("WindowHours(%d) = %v, %v", in, got, err)
		}
	}
	for _, in := range []int{0, -1, 1<<51 + 48} { // the last would wrap to 48 hours
		_, err := admin.WindowHours(in)
		wantErr(t, err, backup.Invalid, backup.CodeInvalidAttribute, "Invalid attribute pointInTimeWindowHours specified")
	}
}

func TestCreateClusterSchedule(t *testing.T) {
	f := newFixture(t)
	simulated := backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 15 * time.Minute, Window: 48 * time.Hour}
	c, err := admin.CreateCluster(f.ctx, f.st, backup.ClusterSpec{ProjectID: f.project.ID, Name: "Sim", ClusterChange: backup.ClusterChange{ShardCount: ptr(2), Driver: ptr(simulated.Driver), Interval: ptr(simulated.Interval), Window: ptr(simulated.Window)}}, clk)
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
			_, err := admin.CreateCluster(f.ctx, f.st, tt.spec, clk)
			wantErr(t, err, backup.Invalid, tt.code, tt.text)
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestClusterApply(t *testing.T) {
	sharded, err := backup.NewCluster(backup.ClusterSpec{ProjectID: admin.NewObjectID(now), Name: "Cluster0", ClusterChange: backup.ClusterChange{ShardCount: ptr(3)}}, admin.NewObjectID(now), now)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := backup.NewCluster(backup.ClusterSpec{ProjectID: admin.NewObjectID(now), Name: "RS", ClusterChange: backup.ClusterChange{ShardCount: ptr(0)}}, admin.NewObjectID(now), now)
	if err != nil {
		t.Fatal(err)
	}
	shards := func(names ...string) []backup.Shard {
		var out []backup.Shard
		for _, n := range names {
			out = append(out, backup.Shard{Name: n, ReplicaSetName: n})
		}
		return out
	}
	for _, tt := range []struct {
		name   string
		c      backup.Cluster
		change backup.ClusterChange
		want   func(c *backup.Cluster) // applied to a copy of c
		code   string                  // the error's, if refused
		text   string
	}{
		{name: "schedule", c: sharded,
			change: backup.ClusterChange{Driver: ptr(backup.DriverSimulated), Interval: ptr(30 * time.Minute), Window: ptr(72 * time.Hour)},
			want: func(c *backup.Cluster) {
				c.Schedule = backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 30 * time.Minute, Window: 72 * time.Hour}
			}},
		{name: "version and backup", c: rs, change: backup.ClusterChange{MongoDBVersion: ptr("4.0.28"), Backup: ptr(backup.BackupNone)},
			want: func(c *backup.Cluster) { c.MongoDBVersion, c.Backup = "4.0.28", backup.BackupNone }},
		{name: "rename keeps replica set names", c: sharded, change: backup.ClusterChange{Name: ptr("Payments")},
			want: func(c *backup.Cluster) { c.Name = "Payments" }},
		{name: "grow after a rename", c: sharded, change: backup.ClusterChange{Name: ptr("P"), ShardCount: ptr(5)},
			want: func(c *backup.Cluster) {
				c.Name = "P"
				c.Shards = shards("Cluster0-shard-0", "Cluster0-shard-1", "Cluster0-shard-2", "P-shard-0", "P-shard-1")
			}},
		{name: "shrink", c: sharded, change: backup.ClusterChange{ShardCount: ptr(1)},
			want: func(c *backup.Cluster) { c.Shards = shards("Cluster0-shard-0") }},
		{name: "same config servers", c: sharded, change: backup.ClusterChange{ConfigKind: ptr(backup.ConfigReplicaSet)},
			want: func(c *backup.Cluster) {}},
		{name: "no shards on a replica set", c: rs, change: backup.ClusterChange{ShardCount: ptr(0)}, want: func(c *backup.Cluster) {}},
		// An empty change keeps the cluster: a PATCH of {} is one.
		{name: "nothing", c: sharded, want: func(c *backup.Cluster) {}},
		// The administration API gives the topology itself.
		{name: "shards given", c: sharded, change: backup.ClusterChange{Shards: ptr(shards("a", "b"))},
			want: func(c *backup.Cluster) { c.Shards = shards("a", "b") }},
		{name: "config servers given", c: sharded,
			change: backup.ClusterChange{Config: &backup.ConfigServer{HostIDs: []string{"h1", "h2", "h3"}}, MongoDBVersion: ptr("3.2.22")},
			want: func(c *backup.Cluster) {
				c.Config, c.MongoDBVersion = backup.ConfigServer{HostIDs: []string{"h1", "h2", "h3"}}, "3.2.22"
			}},
		{name: "replica set name given", c: rs, change: backup.ClusterChange{ReplicaSetName: ptr("rs9")},
			want: func(c *backup.Cluster) { c.ReplicaSetName = "rs9" }},
		{name: "duplicate shards given", c: sharded, change: backup.ClusterChange{Shards: ptr(shards("a", "a"))},
			code: backup.CodeInvalidAttribute, text: "Shard names must be present and unique."},
		{name: "to a replica set", c: sharded, change: backup.ClusterChange{ShardCount: ptr(0)},
			code: backup.CodeInvalidAttribute, text: "The type of a cluster cannot change: Cluster0 is a sharded cluster"},
		{name: "to sharded", c: rs, change: backup.ClusterChange{ShardCount: ptr(2)},
			code: backup.CodeInvalidAttribute, text: "The type of a cluster cannot change: RS is a replica set"},
		{name: "config servers of a replica set", c: rs, change: backup.ClusterChange{ConfigKind: ptr(backup.ConfigMirrored)},
			code: backup.CodeInvalidAttribute, text: "A replica set has no config servers"},
		{name: "mirrored on 4.4", c: sharded, change: backup.ClusterChange{ConfigKind: ptr(backup.ConfigMirrored)},
			code: backup.CodeInvalidAttribute, text: "Mirrored config servers (SCCC) ended with MongoDB 3.2"},
		{name: "interval on a replica set", c: rs, change: backup.ClusterChange{Interval: ptr(15 * time.Minute)},
			code: backup.CodeCannotSetIntervalForReplicaSet, text: "sharded clusters"},
		{name: "bad name", c: rs, change: backup.ClusterChange{Name: ptr("a b")}, code: backup.CodeInvalidClusterName, text: `"a b" is invalid`},
		{name: "bad version", c: rs, change: backup.ClusterChange{MongoDBVersion: ptr("4")}, code: backup.CodeInvalidAttribute, text: "MAJOR.MINOR.PATCH"},
		{name: "bad shards", c: sharded, change: backup.ClusterChange{ShardCount: ptr(-1)}, code: backup.CodeInvalidAttribute, text: "not -1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.c
			orig.Shards = slices.Clone(tt.c.Shards)
			got, err := tt.c.Apply(tt.change)
			if tt.code != "" {
				wantErr(t, err, backup.Invalid, tt.code, tt.text)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := tt.c
			want.Shards = slices.Clone(tt.c.Shards)
			tt.want(&want)
			if got.ID != want.ID || got.Name != want.Name || got.Type != want.Type || got.MongoDBVersion != want.MongoDBVersion ||
				got.Backup != want.Backup || got.ReplicaSetName != want.ReplicaSetName || !slices.Equal(got.Shards, want.Shards) ||
				got.Config.ReplicaSetName != want.Config.ReplicaSetName || !slices.Equal(got.Config.HostIDs, want.Config.HostIDs) ||
				got.Schedule != want.Schedule {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
			if !slices.Equal(tt.c.Shards, orig.Shards) {
				t.Errorf("the cluster given was modified: %+v", tt.c.Shards)
			}
		})
	}
	t.Run("mirrored and back", func(t *testing.T) {
		old, err := sharded.Apply(backup.ClusterChange{ConfigKind: ptr(backup.ConfigMirrored), MongoDBVersion: ptr("3.2.22")})
		if err != nil || !old.Config.Mirrored() || len(old.Config.HostIDs) != 3 {
			t.Fatalf("%+v, %v", old.Config, err)
		}
		same, err := old.Apply(backup.ClusterChange{ConfigKind: ptr(backup.ConfigMirrored)})
		if err != nil || !slices.Equal(same.Config.HostIDs, old.Config.HostIDs) {
			t.Errorf("asking for the kind it has changed the hosts: %+v, %v", same.Config, err)
		}
		_, err = old.Apply(backup.ClusterChange{MongoDBVersion: ptr("3.4.0")})
		wantErr(t, err, backup.Invalid, backup.CodeInvalidAttribute, "MongoDB 3.4.0 needs a config server replica set")
		csrs, err := old.Apply(backup.ClusterChange{ConfigKind: ptr(backup.ConfigReplicaSet), MongoDBVersion: ptr("3.4.0")})
		if err != nil || csrs.Config.Mirrored() || csrs.Config.ReplicaSetName != "Cluster0-config-0" || len(csrs.Config.HostIDs) != 0 {
			t.Errorf("%+v, %v", csrs.Config, err)
		}
	})
}

func TestUpdateCluster(t *testing.T) {
	f := newFixture(t)
	for _, name := range []string{"Cluster0", "Taken"} {
		if _, err := admin.CreateCluster(f.ctx, f.st, backup.ClusterSpec{ProjectID: f.project.ID, Name: name, ClusterChange: backup.ClusterChange{ShardCount: ptr(2)}}, clk); err != nil {
			t.Fatal(err)
		}
	}
	ref := backup.ClusterRef{GroupID: f.project.ID, Name: "Cluster0"}
	c, err := admin.UpdateCluster(f.ctx, f.st, ref, backup.ClusterChange{
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
	_, err = admin.UpdateCluster(f.ctx, f.st, ref, change)
	wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, "No cluster named Cluster0")
	_, err = admin.UpdateCluster(f.ctx, f.st, backup.ClusterRef{GroupID: f.foreign.ID, Name: "Renamed"}, change)
	wantErr(t, err, backup.NotFound, backup.CodeClusterNotFound, "")
	_, err = admin.UpdateCluster(f.ctx, f.st, backup.ClusterRef{GroupID: admin.NewObjectID(now), Name: "Renamed"}, change)
	wantErr(t, err, backup.NotFound, backup.CodeGroupNotFound, "")
	_, err = admin.UpdateCluster(f.ctx, f.st, backup.ClusterRef{GroupID: f.project.ID, Name: "Renamed"}, backup.ClusterChange{Name: ptr("Taken")})
	wantErr(t, err, backup.Conflict, backup.CodeDuplicateClusterName, "A cluster named Taken already exists")
	if after, err := f.st.Cluster(f.ctx, backup.ClusterRef{GroupID: f.project.ID, Name: "Renamed"}); err != nil || after.Schedule != got.Schedule {
		t.Errorf("a refused update changed the cluster: %+v, %v", after, err)
	}
}
