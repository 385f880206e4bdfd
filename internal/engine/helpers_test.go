package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
)

var (
	groupID = backup.MustParseObjectID("5e2211c17a3e5a48f5497de3")
	// t0 is on every interval's grid.
	t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
)

// shardedCluster has three shards and a config server replica set.
func shardedCluster() backup.Cluster {
	return backup.Cluster{
		ID: backup.MustParseObjectID("6b8cd61180eef547110159d9"), GroupID: groupID, Name: "Cluster0",
		Type: backup.Sharded, MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy,
		Shards: []backup.Shard{
			{Name: "Cluster0-shard-0", ReplicaSetName: "Cluster0-shard-0"},
			{Name: "Cluster0-shard-1", ReplicaSetName: "Cluster0-shard-1"},
			{Name: "Cluster0-shard-2", ReplicaSetName: "Cluster0-shard-2"},
		},
		Config:  backup.ConfigServer{ReplicaSetName: "Cluster0-config-0"},
		Created: t0.Add(-24 * time.Hour),
	}
}

// mirroredCluster has two shards and legacy mirrored config servers.
func mirroredCluster() backup.Cluster {
	return backup.Cluster{
		ID: backup.MustParseObjectID("6b8cd61180eef547110159db"), GroupID: groupID, Name: "LegacyCluster",
		Type: backup.Sharded, MongoDBVersion: "3.2.22", Backup: backup.BackupLegacy,
		Shards: []backup.Shard{{Name: "shard_0", ReplicaSetName: "rs0"}, {Name: "shard_1", ReplicaSetName: "rs1"}},
		Config: backup.ConfigServer{HostIDs: []string{
			"0f5c1b9ea1c54a5da0ee2b6ca2ac6c41", "7d0e6a0b8a0d4c7d9d1a2b3c4d5e6f70", "a3b4c5d6e7f8091a2b3c4d5e6f708192",
		}},
		Created: t0.Add(-24 * time.Hour),
	}
}

func replicaSetCluster() backup.Cluster {
	return backup.Cluster{
		ID: backup.MustParseObjectID("6b8cd61180eef547110159da"), GroupID: groupID, Name: "Cluster1",
		Type: backup.ReplicaSet, MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy,
		ReplicaSetName: "Cluster1-shard-0", Created: t0.Add(-24 * time.Hour),
	}
}

// steadyConfig is DefaultConfig without the random faults: no lost tokens
// and no migration long enough to time a stop out.
func steadyConfig() sim.Config {
	cfg := sim.DefaultConfig()
	cfg.LossRate = 0
	cfg.LongMigrationRate = 0
	return cfg
}

func newIDs() *backup.IDSource { return backup.NewIDSourceFrom([5]byte{1, 2, 3, 4, 5}, 0) }

func mustSim(t testing.TB, c backup.Cluster, clock clock.Clock, seed uint64, cfg sim.Config) *sim.Cluster {
	t.Helper()
	s, err := sim.New(c, clock, seed, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// hooked wraps a driver and runs a hook named after each call: "stop",
// "start", "write:NAME", "discover:NAME", before ("before-…") or after
// ("after-…") delegating.
type hooked struct {
	engine.Cluster
	hook func(step string)
}

func (h hooked) StopBalancer(ctx context.Context, timeout time.Duration) error {
	h.hook("before-stop")
	err := h.Cluster.StopBalancer(ctx, timeout)
	h.hook("after-stop")
	return err
}

func (h hooked) StartBalancer(ctx context.Context) error {
	h.hook("before-start")
	err := h.Cluster.StartBalancer(ctx)
	h.hook("after-start")
	return err
}

func (h hooked) WriteToken(ctx context.Context, m engine.Member, tok engine.Token) error {
	h.hook("before-write:" + m.Name())
	err := h.Cluster.WriteToken(ctx, m, tok)
	h.hook("after-write:" + m.Name())
	return err
}

func (h hooked) DiscoverToken(ctx context.Context, m engine.Member, tok engine.Token, wait time.Duration) (backup.BSONTimestamp, error) {
	h.hook("before-discover:" + m.Name())
	ts, err := h.Cluster.DiscoverToken(ctx, m, tok, wait)
	h.hook("after-discover:" + m.Name())
	return ts, err
}
