package sim_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func cluster(shards int) backup.Cluster {
	c := backup.Cluster{
		ID: backup.MustParseObjectID("6b8cd61180eef547110159d9"), GroupID: backup.MustParseObjectID("5e2211c17a3e5a48f5497de3"),
		Name: "Cluster0", Type: backup.Sharded, MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy,
		Config: backup.ConfigServer{ReplicaSetName: "Cluster0-config-0"},
	}
	for i := range shards {
		name := "Cluster0-shard-" + string(rune('0'+i))
		c.Shards = append(c.Shards, backup.Shard{Name: name, ReplicaSetName: name})
	}
	return c
}

// TestIncrements: a token's increment counts the entries before it in its
// second. On a quiet cluster nothing else writes, so a shard's token is
// first in its second, and the config server's second, after the
// balancer's own write.
func TestIncrements(t *testing.T) {
	c := cluster(2)
	clk := clock.NewAuto(t0.Add(300 * time.Millisecond))
	s, err := sim.New(c, clk, 1, sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	cp, err := engine.Take(context.Background(), s, c, engine.Options{Clock: clk, IDs: backup.NewIDSource(), Slot: t0})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cp.Parts {
		want := uint32(1)
		if p.Type == backup.PartConfigReplicaSet {
			want = 2
		}
		if p.TokenTimestamp.Increment != want || !p.TokenTimestamp.Date.Equal(t0) {
			t.Errorf("%s token = %+v, want %v increment %d", p.ReplicaSetName, p.TokenTimestamp, t0, want)
		}
	}
	// The balancer's restart came after the token in the same second.
	if got := s.LastTimestamp("Cluster0-config-0"); got.Increment != 3 {
		t.Errorf("config server's last entry = %+v, want increment 3", got)
	}

	// A busy shard's token lands later in its second, and the counter
	// starts again at 1 in the next second.
	busy := sim.Config{WriteRate: 5000}
	clk = clock.NewAuto(t0.Add(500 * time.Millisecond))
	s, _ = sim.New(c, clk, 1, busy)
	m := engine.Members(c)[0]
	if err := s.WriteToken(context.Background(), m, engine.Token{Checkpoint: backup.NewIDSource().New(t0)}); err != nil {
		t.Fatal(err)
	}
	if got := s.LastTimestamp(m.Name()); got.Increment < 2000 || got.Increment > 3000 {
		t.Errorf("busy token = %+v, want about 2500 entries into its second", got)
	}
	clk.AdvanceTo(t0.Add(time.Second + time.Millisecond))
	_ = s.WriteToken(context.Background(), m, engine.Token{Checkpoint: backup.NewIDSource().New(t0)})
	if got := s.LastTimestamp(m.Name()); got.Increment > 20 || !got.Date.Equal(t0.Add(time.Second)) {
		t.Errorf("next second's token = %+v, want a small increment", got)
	}
}

// TestSkewNeverRewinds: a member clock set back keeps its timestamps
// growing, as mongod does.
func TestSkewNeverRewinds(t *testing.T) {
	c := cluster(1)
	clk := clock.NewAuto(t0)
	s, _ := sim.New(c, clk, 1, sim.Config{})
	m := engine.Members(c)[0]
	write := func() backup.BSONTimestamp {
		if err := s.WriteToken(context.Background(), m, engine.Token{Checkpoint: backup.NewIDSource().New(t0)}); err != nil {
			t.Fatal(err)
		}
		return s.LastTimestamp(m.Name())
	}
	a := write()
	s.SetFaults(sim.Faults{Skew: map[string]time.Duration{m.Name(): -time.Minute}})
	clk.Advance(time.Second)
	b := write()
	if !b.Date.Equal(a.Date) || b.Increment != a.Increment+1 {
		t.Errorf("after setting the clock back: %+v then %+v", a, b)
	}
}

// TestMigrations: the balancer migrates while enabled, and a stop waits
// for the running migration, or times out and leaves the balancer off.
func TestMigrations(t *testing.T) {
	c := cluster(2)
	clk := clock.NewAuto(t0)
	cfg := sim.Config{MigrationGap: time.Minute, Migration: sim.Range{Min: 10 * time.Second, Max: 20 * time.Second}}
	s, _ := sim.New(c, clk, 7, cfg)
	clk.Advance(24 * time.Hour)
	s.Migrating()
	if n := s.Stats().Migrations; n < 800 || n > 1500 {
		t.Errorf("%d migrations in a day, want about 1150", n)
	}
	ctx := context.Background()
	if err := s.StopBalancer(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if s.Migrating() || s.BalancerEnabled() {
		t.Error("migrating or enabled after a stop")
	}
	n := s.Stats().Migrations
	clk.Advance(time.Hour)
	if s.Migrating(); s.Stats().Migrations != n {
		t.Error("migrations while the balancer is off")
	}
	if err := s.StartBalancer(ctx); err != nil {
		t.Fatal(err)
	}
	if off := s.Stats().BalancerOffFor; off < time.Hour || off > time.Hour+20*time.Second {
		t.Errorf("balancer off for %v, want an hour and the last migration's rest", off)
	}

	// On a cluster that migrates only when told, a stop during a
	// 10-minute migration times out.
	s, _ = sim.New(c, clk, 7, sim.Config{})
	s.Migrate(10 * time.Minute)
	start := clk.Now()
	if err := s.StopBalancer(ctx, time.Minute); !errors.Is(err, engine.ErrBalancerTimeout) {
		t.Errorf("StopBalancer() = %v during a 10-minute migration, want ErrBalancerTimeout", err)
	}
	if s.BalancerEnabled() || !s.Migrating() {
		t.Error("a timed out stop must leave the balancer disabled and the migration running")
	}
	if d := clk.Now().Sub(start); d != time.Minute {
		t.Errorf("timed out after %v", d)
	}
}

// TestDriverErrors: the simulator refuses what a real cluster would.
func TestDriverErrors(t *testing.T) {
	clk := clock.NewAuto(t0)
	rs := backup.Cluster{ID: backup.MustParseObjectID("6b8cd61180eef547110159da"), Name: "rs", Type: backup.ReplicaSet,
		ReplicaSetName: "rs0", MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy}
	s, err := sim.New(rs, clk, 1, sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if s.StopBalancer(ctx, time.Minute) == nil || s.StartBalancer(ctx) == nil {
		t.Error("a replica set has no balancer")
	}
	other := engine.Member{Type: backup.PartReplicaSet, ReplicaSetName: "rs9"}
	if s.WriteToken(ctx, other, engine.Token{}) == nil {
		t.Error("token written to an unknown member")
	}
	if _, err := s.DiscoverToken(ctx, engine.Members(rs)[0], engine.Token{}, time.Minute); !errors.Is(err, engine.ErrNotDiscovered) {
		t.Errorf("DiscoverToken(never written) = %v", err)
	}
	if _, err := sim.New(backup.Cluster{Name: "x"}, clk, 1, sim.Config{}); err == nil {
		t.Error("New(invalid cluster) succeeded")
	}
}
