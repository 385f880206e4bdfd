package backup_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

var (
	t0  = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	ids = backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 0)
)

func ptr[T any](v T) *T { return &v }

// wantInvalid fails unless err is an Invalid *backup.Error with code
// whose detail contains detail.
func wantInvalid(t *testing.T, err error, code, detail string) {
	t.Helper()
	e := backup.ErrorOf(err)
	if e == nil || e.Kind != backup.Invalid || e.Code != code || !strings.Contains(e.Detail, detail) {
		t.Fatalf("error %v, want an invalid %s containing %q", err, code, detail)
	}
}

// TestNewClusterNeedsAProject: the project is checked before anything.
func TestNewClusterNeedsAProject(t *testing.T) {
	_, err := backup.NewCluster(backup.ClusterSpec{Name: "-", ClusterChange: backup.ClusterChange{ShardCount: ptr(-1)}}, ids.New(t0), t0)
	if e := backup.ErrorOf(err); e == nil || e.Code != backup.CodeInvalidGroupID || e.Detail != "A cluster needs a project." {
		t.Errorf("NewCluster without a project: %v", err)
	}
}

// twoClusters is a sharded cluster Cluster0 of 3 shards and a replica
// set RS, as the command line creates them.
func twoClusters(t *testing.T) (sharded, rs backup.Cluster) {
	t.Helper()
	sharded, err := backup.NewCluster(backup.ClusterSpec{ProjectID: ids.New(t0), Name: "Cluster0", ClusterChange: backup.ClusterChange{ShardCount: ptr(3)}}, ids.New(t0), t0)
	if err != nil {
		t.Fatal(err)
	}
	rs, err = backup.NewCluster(backup.ClusterSpec{ProjectID: ids.New(t0), Name: "RS", ClusterChange: backup.ClusterChange{ShardCount: ptr(0)}}, ids.New(t0), t0)
	if err != nil {
		t.Fatal(err)
	}
	return sharded, rs
}

func TestClusterApply(t *testing.T) {
	sharded, rs := twoClusters(t)
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
			code: backup.CodeInvalidAttribute, text: "Invalid attribute configServer specified: a replica set has no config servers."},
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
				wantInvalid(t, err, tt.code, tt.text)
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
		wantInvalid(t, err, backup.CodeInvalidAttribute, "MongoDB 3.4.0 needs a config server replica set")
		csrs, err := old.Apply(backup.ClusterChange{ConfigKind: ptr(backup.ConfigReplicaSet), MongoDBVersion: ptr("3.4.0")})
		if err != nil || csrs.Config.Mirrored() || csrs.Config.ReplicaSetName != "Cluster0-config-0" || len(csrs.Config.HostIDs) != 0 {
			t.Errorf("%+v, %v", csrs.Config, err)
		}
	})
}

// TestNewClusterGiven: without a ShardCount, a new cluster is of the Type
// given with the topology given, under legacy backup, validated whole.
func TestNewClusterGiven(t *testing.T) {
	project := ids.New(t0)
	sharded := backup.ClusterChange{
		MongoDBVersion: ptr("4.0.28"), Shards: ptr([]backup.Shard{{Name: "s0", ReplicaSetName: "rs0"}}),
		Config: &backup.ConfigServer{ReplicaSetName: "cfg"},
	}
	c, err := backup.NewCluster(backup.ClusterSpec{ProjectID: project, Name: "C", Type: backup.Sharded, ClusterChange: sharded}, ids.New(t0), t0.Add(1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if c.GroupID != project || c.Type != backup.Sharded || c.Backup != backup.BackupLegacy || len(c.Shards) != 1 ||
		c.Config.ReplicaSetName != "cfg" || !c.Created.Equal(t0.Add(time.Second)) || c.MongoDBVersion != "4.0.28" {
		t.Errorf("%+v", c)
	}
	for _, tt := range []struct {
		name string
		spec backup.ClusterSpec
		attr string
	}{
		{"no type", backup.ClusterSpec{ProjectID: project, Name: "C", ClusterChange: sharded}, "clusterType"},
		{"bad name, validated with the rest", backup.ClusterSpec{ProjectID: project, Name: "-C", Type: backup.Sharded, ClusterChange: sharded}, "name"},
		{"no version", backup.ClusterSpec{ProjectID: project, Name: "C", Type: backup.ReplicaSet,
			ClusterChange: backup.ClusterChange{ReplicaSetName: ptr("rs")}}, "mongoDBVersion"},
	} {
		_, err := backup.NewCluster(tt.spec, ids.New(t0), t0)
		if e := backup.ErrorOf(err); e == nil || e.Attr != tt.attr {
			t.Errorf("%s: %v, want an error about %s", tt.name, err, tt.attr)
		}
	}
}

// TestClusterChangeRules: the rules a change alone breaks are refused
// with the administration API's wording and parameters, naming the
// attribute, and of several faults the first in the API's order
// (config servers, driver, interval, window, version, topology) is named.
func TestClusterChangeRules(t *testing.T) {
	sharded, rs := twoClusters(t)
	both := &backup.ConfigServer{ReplicaSetName: "c", HostIDs: []string{"h"}}
	for _, tt := range []struct {
		name     string
		c        backup.Cluster
		change   backup.ClusterChange
		attr     string
		why      string
		creating bool
	}{
		{"config servers both ways", sharded, backup.ClusterChange{Config: both, Driver: ptr(backup.Driver(""))},
			"configServer", "it has either a replicaSetName or hostIds", false},
		{"config servers neither way", sharded, backup.ClusterChange{Config: &backup.ConfigServer{}},
			"configServer", "it has either a replicaSetName or hostIds", false},
		{"empty driver", sharded, backup.ClusterChange{Driver: ptr(backup.Driver("")), Interval: ptr(backup.IntervalMinutes(0))},
			"backup.driver", `"" is neither AGENT nor SIMULATED`, false},
		{"zero minutes", sharded, backup.ClusterChange{Interval: ptr(backup.IntervalMinutes(0)), Window: ptr(backup.WindowHours(0))},
			"clusterCheckpointIntervalMin", "a checkpoint interval is 15, 30 or 60 minutes, or null for none", false},
		{"minutes that would wrap", sharded, backup.ClusterChange{Interval: ptr(backup.IntervalMinutes(1<<53 + 15))},
			"clusterCheckpointIntervalMin", "a checkpoint interval is 15, 30 or 60 minutes, or null for none", false},
		{"zero hours", sharded, backup.ClusterChange{Window: ptr(backup.WindowHours(0)), MongoDBVersion: ptr("")},
			"pointInTimeWindowHours", "a window is from 1 to 720 hours", false},
		{"too many hours", sharded, backup.ClusterChange{Window: ptr(backup.WindowHours(721))},
			"pointInTimeWindowHours", "a window is from 1 to 720 hours", false},
		{"empty version", sharded, backup.ClusterChange{MongoDBVersion: ptr(""), ReplicaSetName: ptr("x")},
			"mongoDBVersion", "a cluster needs the MongoDB version it runs", false},
		{"no version when creating", backup.Cluster{Type: backup.Sharded}, backup.ClusterChange{},
			"mongoDBVersion", "a cluster needs the MongoDB version it runs", true},
		{"shards of a replica set", rs, backup.ClusterChange{Shards: ptr([]backup.Shard{{Name: "a", ReplicaSetName: "a"}})},
			"shards", "a replica set has no shards", false},
		{"config servers of a replica set", rs, backup.ClusterChange{Config: &backup.ConfigServer{ReplicaSetName: "c"}},
			"configServer", "a replica set has no config servers", false},
		{"replica set name of a sharded cluster", sharded, backup.ClusterChange{ReplicaSetName: ptr("x")},
			"replicaSetName", "a sharded cluster's replica sets are its shards'", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.creating {
				_, err = backup.NewCluster(backup.ClusterSpec{ProjectID: ids.New(t0), Name: "New", Type: tt.c.Type, ClusterChange: tt.change}, ids.New(t0), t0)
			} else {
				_, err = tt.c.Apply(tt.change)
			}
			e := backup.ErrorOf(err)
			want := "Invalid attribute " + tt.attr + " specified: " + tt.why + "."
			if e == nil || e.Code != backup.CodeInvalidAttribute || e.Attr != tt.attr || e.Detail != want ||
				len(e.Params) != 2 || e.Params[0] != tt.attr || e.Params[1] != tt.why {
				t.Errorf("error %+v, want %q about %s with parameters [attr, why]", e, want, tt.attr)
			}
		})
	}
	// Empty shards on a replica set, no replica set name on a sharded
	// cluster: what a stored cluster of the type has, so accepted.
	if _, err := rs.Apply(backup.ClusterChange{Shards: ptr([]backup.Shard{})}); err != nil {
		t.Errorf("no shards on a replica set: %v", err)
	}
	if _, err := sharded.Apply(backup.ClusterChange{ReplicaSetName: ptr("")}); err != nil {
		t.Errorf("no replica set name on a sharded cluster: %v", err)
	}
}

// TestReportRules: a cluster takes reports only under legacy backup,
// started, with an agent driver; a report's times may be at most MaxReportSkew ahead of
// the clock, the first of timestamp, started, completed being named.
func TestReportRules(t *testing.T) {
	c, err := backup.NewCluster(backup.ClusterSpec{ProjectID: ids.New(t0), Name: "Cluster0", ClusterChange: backup.ClusterChange{ShardCount: ptr(1)}}, ids.New(t0), t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AcceptsReports(); err != nil {
		t.Errorf("an agent-driven legacy cluster: %v", err)
	}
	sim := c
	sim.Schedule.Driver = backup.DriverSimulated
	wantInvalid(t, sim.AcceptsReports(), backup.CodeInvalidAttribute,
		"Invalid attribute backup.driver specified: cluster Cluster0's checkpoints are taken by its SIMULATED driver, not reported by an agent.")
	stopped := c
	stopped.Status = backup.BackupStopped
	if err := stopped.AcceptsReports(); !backup.IsCode(err, backup.CodeBackupNotStarted) {
		t.Errorf("a cluster whose backup is stopped: %v", err)
	}
	cloud := c
	cloud.Backup = backup.BackupCloud
	if err := cloud.AcceptsReports(); !backup.IsCode(err, backup.ErrNotLegacyBackup().Code) {
		t.Errorf("a cloud-backup cluster: %v", err)
	}

	now := t0.Add(time.Hour)
	cp := backup.Checkpoint{ID: ids.New(t0), ClusterID: c.ID, GroupID: c.GroupID, Timestamp: t0, Started: t0, Completed: t0.Add(time.Minute),
		Parts: c.ExpectedParts()}
	if err := backup.VerifyReport(c, cp, now); err != nil {
		t.Fatalf("a good report: %v", err)
	}
	for _, tt := range []struct {
		name string
		now  time.Time
		attr string
	}{
		{"all in the future", t0.Add(-backup.MaxReportSkew - time.Second), "timestamp"},
		{"completed in the future", t0.Add(time.Minute - backup.MaxReportSkew - time.Second), "completed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := backup.VerifyReport(c, cp, tt.now)
			if e := backup.ErrorOf(err); e == nil || e.Attr != tt.attr || e.Detail != "Invalid attribute "+tt.attr+" specified: it is in the future." {
				t.Errorf("error %v, want %s in the future", err, tt.attr)
			}
		})
	}
	if err := backup.VerifyReport(c, cp, t0.Add(time.Minute-backup.MaxReportSkew)); err != nil {
		t.Errorf("completed exactly MaxReportSkew ahead: %v", err)
	}
}

// TestDurationsOfCounts: a count of minutes or hours that no interval or
// window has, including one a Duration would wrap, becomes -1.
func TestDurationsOfCounts(t *testing.T) {
	for in, want := range map[int]time.Duration{15: 15 * time.Minute, 1: time.Minute, 0: -1, -15: -1, 1<<53 + 15: -1} {
		if got := backup.IntervalMinutes(in); got != want {
			t.Errorf("IntervalMinutes(%d) = %v, want %v", in, got, want)
		}
	}
	for in, want := range map[int]time.Duration{1: time.Hour, 721: 721 * time.Hour, 0: -1, -1: -1, 1<<51 + 48: -1} {
		if got := backup.WindowHours(in); got != want {
			t.Errorf("WindowHours(%d) = %v, want %v", in, got, want)
		}
	}
}
