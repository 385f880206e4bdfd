package backup_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

func TestParseObjectID(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"5a7cdb3980eef53de5bffdcf", true},
		{"000000000000000000000000", true},
		{"5A7CDB3980EEF53DE5BFFDCF", false}, // the API's pattern is lower case
		{"5a7cdb3980eef53de5bffdc", false},
		{"5a7cdb3980eef53de5bffdcf0", false},
		{"5a7cdb3980eef53de5bffdcg", false},
		{"", false},
		{"5a7cdb3980eef53de5bffdc\x00", false},
	} {
		id, ok := backup.ParseObjectID(tt.in)
		if ok != tt.ok {
			t.Errorf("ParseObjectID(%q) ok = %v, want %v", tt.in, ok, tt.ok)
		}
		if ok && id.Hex() != tt.in {
			t.Errorf("ParseObjectID(%q).Hex() = %s", tt.in, id.Hex())
		}
	}
	// The embedded time of the documentation's sample is its started time.
	if got := backup.MustParseObjectID("5a7cdb3980eef53de5bffdcf").Time(); !got.Equal(time.Date(2018, 2, 8, 23, 20, 25, 0, time.UTC)) {
		t.Errorf("Time() = %v", got)
	}
}

// TestParseObjectIDEveryByte: every byte value at every position of an
// otherwise valid id is accepted exactly when it is a lowercase
// hexadecimal digit, and decoded as encoding/hex decodes it.
func TestParseObjectIDEveryByte(t *testing.T) {
	const valid = "5a7cdb3980eef53de5bffdcf"
	for pos := range len(valid) {
		for c := range 256 {
			in := valid[:pos] + string([]byte{byte(c)}) + valid[pos+1:]
			want, err := hex.DecodeString(in)
			wantOK := err == nil && ('0' <= c && c <= '9' || 'a' <= c && c <= 'f')
			id, ok := backup.ParseObjectID(in)
			if ok != wantOK {
				t.Fatalf("ParseObjectID(%q) ok = %v, want %v", in, ok, wantOK)
			}
			if ok && string(id[:]) != string(want) {
				t.Fatalf("ParseObjectID(%q) = %x, want %x", in, id[:], want)
			}
			if !ok && id != backup.NilObjectID {
				t.Fatalf("ParseObjectID(%q) refused, but returned %x", in, id[:])
			}
		}
	}
}

func TestIDSource(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := backup.NewIDSource()
	seen := map[backup.ObjectID]bool{}
	for i := 0; i < 1000; i++ {
		id := s.New(at)
		if seen[id] || !id.Time().Equal(at) {
			t.Fatalf("id %s: duplicate or wrong time %v", id, id.Time())
		}
		seen[id] = true
	}
	a := backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 7).New(at)
	b := backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 7).New(at)
	if a != b || a.Hex() != "695735a50102030405000008" {
		t.Errorf("deterministic ids %s, %s", a, b)
	}
}

func TestClusterValidate(t *testing.T) {
	sharded := func(mod func(*backup.Cluster)) backup.Cluster {
		c := backup.Cluster{Name: "Cluster0", Type: backup.Sharded, Backup: backup.BackupLegacy, MongoDBVersion: "4.0.28",
			Shards: []backup.Shard{{Name: "s0", ReplicaSetName: "rs0"}}, Config: backup.ConfigServer{ReplicaSetName: "cfg"}}
		if mod != nil {
			mod(&c)
		}
		return c
	}
	mirrored := backup.ConfigServer{HostIDs: []string{"a", "b", "c"}}
	for _, tt := range []struct {
		name       string
		c          backup.Cluster
		code, attr string
	}{
		{"sharded", sharded(nil), "", ""},
		{"mirrored config", sharded(func(c *backup.Cluster) { c.Config, c.MongoDBVersion = mirrored, "3.2.22" }), "", ""},
		{"replica set", backup.Cluster{Name: "rs-1", Type: backup.ReplicaSet, ReplicaSetName: "rs", Backup: backup.BackupNone, MongoDBVersion: "4.0.28"}, "", ""},
		{"name with space", sharded(func(c *backup.Cluster) { c.Name = "a b" }), backup.CodeInvalidClusterName, "name"},
		{"name with leading dash", sharded(func(c *backup.Cluster) { c.Name = "-a" }), backup.CodeInvalidClusterName, "name"},
		{"name too long", sharded(func(c *backup.Cluster) { c.Name = fmt.Sprintf("%065d", 0) }), backup.CodeInvalidClusterName, "name"},
		{"no shards", sharded(func(c *backup.Cluster) { c.Shards = nil }), backup.CodeInvalidAttribute, "shards"},
		{"duplicate shard", sharded(func(c *backup.Cluster) { c.Shards = append(c.Shards, c.Shards[0]) }), backup.CodeInvalidAttribute, "shards"},
		{"both config kinds", sharded(func(c *backup.Cluster) { c.Config.HostIDs = []string{"h"} }), backup.CodeInvalidAttribute, "configServer"},
		{"no config", sharded(func(c *backup.Cluster) { c.Config = backup.ConfigServer{} }), backup.CodeInvalidAttribute, "configServer"},
		{"replica set with shards", backup.Cluster{Name: "r", Type: backup.ReplicaSet, ReplicaSetName: "rs", Backup: backup.BackupNone,
			Shards: []backup.Shard{{Name: "s", ReplicaSetName: "r"}}}, backup.CodeInvalidAttribute, "shards"},
		{"unknown type", sharded(func(c *backup.Cluster) { c.Type = "STANDALONE" }), backup.CodeInvalidAttribute, "clusterType"},
		{"unknown backup", sharded(func(c *backup.Cluster) { c.Backup = "TAPE" }), backup.CodeInvalidAttribute, "backup.kind"},
		{"unknown driver", sharded(func(c *backup.Cluster) { c.Schedule.Driver = "MONGOS" }), backup.CodeInvalidAttribute, "backup.driver"},
		{"interval of 20", sharded(func(c *backup.Cluster) { c.Schedule.Interval = 20 * time.Minute }), backup.CodeInvalidAttribute, "clusterCheckpointIntervalMin"},
		{"interval on Cloud Backup", sharded(func(c *backup.Cluster) { c.Schedule.Interval, c.Backup = 15*time.Minute, backup.BackupCloud }),
			backup.CodeInvalidAttribute, "clusterCheckpointIntervalMin"},
		{"window below the interval", sharded(func(c *backup.Cluster) { c.Schedule.Interval, c.Schedule.Window = time.Hour, 30*time.Minute }),
			backup.CodeInvalidAttribute, "pointInTimeWindowHours"},
		{"no version", sharded(func(c *backup.Cluster) { c.MongoDBVersion = "" }), backup.CodeInvalidAttribute, "mongoDBVersion"},
		{"version of two numbers", sharded(func(c *backup.Cluster) { c.MongoDBVersion = "4.0" }), backup.CodeInvalidAttribute, "mongoDBVersion"},
		{"mirrored config on 3.4", sharded(func(c *backup.Cluster) { c.Config, c.MongoDBVersion = mirrored, "3.4.0" }), backup.CodeInvalidAttribute, "configServer"},
		// The version is the last rule checked, whatever else is wrong.
		{"interval and version", sharded(func(c *backup.Cluster) { c.Schedule.Interval, c.MongoDBVersion = time.Minute, "x" }),
			backup.CodeInvalidAttribute, "clusterCheckpointIntervalMin"},
	} {
		err := tt.c.Validate()
		if tt.code == "" && err != nil || tt.code != "" && !backup.IsCode(err, tt.code) {
			t.Errorf("%s: Validate() = %v, want %q", tt.name, err, tt.code)
		}
		if e := backup.ErrorOf(err); e != nil && e.Attr != tt.attr {
			t.Errorf("%s: Validate() names %q, want %q", tt.name, e.Attr, tt.attr)
		}
	}
}

func TestMajorVersion(t *testing.T) {
	for in, want := range map[string]string{"4.0.28": "4.0", "3.2.22": "3.2", "8.0": "8.0", "": ""} {
		c := backup.Cluster{MongoDBVersion: in}
		if got := c.MajorVersion(); got != want {
			t.Errorf("MajorVersion(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrors(t *testing.T) {
	e := backup.ErrCheckpointNotFound("5a7cdb3980eef53de5bffdce", "Cluster0")
	if e.Detail != "No checkpoint with ID 5a7cdb3980eef53de5bffdce exists for cluster Cluster0." || len(e.Params) != 2 || e.Kind != backup.NotFound {
		t.Errorf("ErrCheckpointNotFound = %+v", e)
	}
	wrapped := fmt.Errorf("reading: %w", e)
	if backup.ErrorOf(wrapped) != e || backup.KindOf(wrapped) != backup.NotFound || !backup.IsCode(wrapped, backup.CodeCheckpointNotFound) {
		t.Error("a wrapped *Error is not found through the chain")
	}
	if backup.KindOf(errors.New("disk on fire")) != backup.Internal {
		t.Error("foreign errors are not Internal")
	}
	if p := backup.ErrNotLegacyBackup().Params; p == nil || len(p) != 0 {
		t.Errorf("parameters of a message without values = %#v, want an empty, non-nil slice", p)
	}
	ref := backup.ClusterRef{GroupID: backup.MustParseObjectID("5e2211c17a3e5a48f5497de3"), ID: backup.MustParseObjectID("6b8cd61180eef547110159d9")}
	if d := ref.NotFound().Detail; d != "No cluster with ID 6b8cd61180eef547110159d9 exists in group 5e2211c17a3e5a48f5497de3." {
		t.Errorf("by-id NotFound detail %q", d)
	}
}

func TestCheckInterval(t *testing.T) {
	for _, tt := range []struct {
		d  time.Duration
		ok bool
	}{
		{15 * time.Minute, true}, {30 * time.Minute, true}, {time.Hour, true},
		{0, false}, {time.Minute, false}, {20 * time.Minute, false}, {45 * time.Minute, false},
		{15*time.Minute + time.Second, false}, {2 * time.Hour, false}, {-15 * time.Minute, false},
	} {
		err := backup.CheckInterval(tt.d)
		if tt.ok != (err == nil) {
			t.Errorf("CheckInterval(%v) = %v, want ok %v", tt.d, err, tt.ok)
		}
		if e := backup.ErrorOf(err); err != nil && (e == nil || e.Kind != backup.Invalid || e.Code != backup.CodeInvalidAttribute) {
			t.Errorf("CheckInterval(%v) = %v, want an INVALID_ATTRIBUTE *backup.Error", tt.d, err)
		}
	}
}

// TestPlanRestore: a plan lists the config server first, then the shards
// in the cluster's order, each stopping one past its token; a checkpoint
// not restorable, with a token not found, or older than the window is
// planned with warnings saying why.
func TestPlanRestore(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	c := backup.Cluster{Name: "C", Type: backup.Sharded, Shards: []backup.Shard{{Name: "s0", ReplicaSetName: "rs0"}, {Name: "s1", ReplicaSetName: "rs1"}},
		Config: backup.ConfigServer{ReplicaSetName: "cfg"}, Schedule: backup.CheckpointSchedule{Window: 2 * time.Hour}}
	tok := func(inc uint32) backup.BSONTimestamp {
		return backup.BSONTimestamp{Date: now.Add(-time.Hour), Increment: inc}
	}
	cp := backup.Checkpoint{Timestamp: now.Add(-time.Hour), Restorable: true, Parts: []backup.Part{
		{Type: backup.PartReplicaSet, ShardName: "s1", ReplicaSetName: "rs1", TokenDiscovered: true, TokenTimestamp: tok(2)},
		{Type: backup.PartReplicaSet, ShardName: "s0", ReplicaSetName: "rs0", TokenDiscovered: true, TokenTimestamp: tok(1)},
		{Type: backup.PartConfigReplicaSet, ReplicaSetName: "cfg", TokenDiscovered: true, TokenTimestamp: tok(5)},
	}}
	p := backup.PlanRestore(&c, &cp, now)
	secs := strconv.FormatInt(now.Add(-time.Hour).Unix(), 10)
	var got []string
	for _, st := range p.Steps {
		got = append(got, fmt.Sprint(st.Order, " ", st.Part.ReplicaSetName, " ", st.OplogLimit))
	}
	want := []string{"1 cfg " + secs + ":6", "2 rs0 " + secs + ":2", "3 rs1 " + secs + ":3"}
	if !p.Restorable || len(p.Warnings) != 0 || strings.Join(got, "|") != strings.Join(want, "|") ||
		p.Steps[0].Command != "mongorestore --oplogReplay --oplogLimit "+secs+":6 <dump of config server replica set cfg>" {
		t.Fatalf("plan = %+v, steps %q, want %q", p, got, want)
	}
	cp.Parts[1].TokenDiscovered, cp.Restorable = false, true
	if p := backup.PlanRestore(&c, &cp, now); p.Restorable || !p.Incomplete || p.OutsideWindow || !strings.Contains(p.Why, "shard s0 was not discovered") || p.Steps[1].Command != "" {
		t.Errorf("a token not found: %+v", p)
	}
	cp.Parts[1].TokenDiscovered = true
	if p := backup.PlanRestore(&c, &cp, now.Add(2*time.Hour)); p.Restorable || p.Incomplete || !p.OutsideWindow || len(p.Warnings) != 1 {
		t.Errorf("outside the window: %+v", p)
	}
}
