package mongodb_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/mongodb"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/engine/sim/mongowire"
)

// serve starts a wire-simulated cluster of two shards and connects the
// driver to its mongos.
func serve(t *testing.T, opt mongowire.Options) (*mongowire.Server, *mongodb.Cluster, backup.Cluster) {
	t.Helper()
	def := mongowire.Sharded("Cluster0", 2)
	def.ID, def.GroupID = backup.MustParseObjectID("6b0000000000000000000001"), backup.MustParseObjectID("6b0000000000000000000002")
	sc, err := sim.New(def, clock.System, 1, sim.Config{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := mongowire.Start(sc, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	drv, err := mongodb.Open(context.Background(), mongodb.Config{
		Client:    options.Client().ApplyURI(srv.URI()).SetServerSelectionTimeout(time.Second),
		OpTimeout: time.Second, PollInterval: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close(context.Background()) })
	return srv, drv, def
}

// TestTopology: listShards and getShardMap give the shards and the config
// server replica set with their hosts.
func TestTopology(t *testing.T) {
	srv, drv, _ := serve(t, mongowire.Options{})
	top := drv.Topology()
	if top.Version != mongowire.DefaultVersion || len(top.Shards) != 2 || top.Config.Name != "Cluster0-config-0" {
		t.Fatalf("topology %+v", top)
	}
	for _, s := range top.Shards {
		if len(s.Hosts) != 1 || s.Hosts[0] != srv.ReplicaSetAddr(s.ReplicaSet.Name) {
			t.Errorf("shard %s: hosts %v; want %s", s.Name, s.Hosts, srv.ReplicaSetAddr(s.ReplicaSet.Name))
		}
	}
}

// TestProcedure: engine.Take through the driver: a restorable checkpoint
// whose parts carry the oplog timestamps, the balancer running after it.
func TestProcedure(t *testing.T) {
	srv, drv, def := serve(t, mongowire.Options{})
	cp, err := engine.Take(context.Background(), drv, def, engine.Options{Clock: clock.System, IDs: backup.NewIDSource(),
		Timeouts: engine.Timeouts{Discovery: 5 * time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if !cp.Restorable || len(cp.Parts) != 3 {
		t.Fatalf("checkpoint %+v", cp)
	}
	for _, p := range cp.Parts {
		last := srv.Cluster().LastTimestamp(p.ReplicaSetName)
		if p.TokenTimestamp.Increment == 0 || p.TokenTimestamp.Date.After(last.Date) {
			t.Errorf("part %s: token %+v, the oplog's newest entry %+v", p.ReplicaSetName, p.TokenTimestamp, last)
		}
	}
	if !srv.Cluster().BalancerEnabled() {
		t.Error("balancer left stopped")
	}
}

// TestErrors: the driver's failures map onto the errors the procedure
// tells apart.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	srv, drv, def := serve(t, mongowire.Options{})
	sc := srv.Cluster()
	tok := engine.Token{Cluster: def.ID, Checkpoint: backup.NewIDSource().New(time.Now())}
	shard := engine.Members(def)[0]

	t.Run("balancer will not stop", func(t *testing.T) {
		sc.SetFaults(sim.Faults{StopDelay: time.Minute})
		defer sc.SetFaults(sim.Faults{})
		err := drv.StopBalancer(ctx, 100*time.Millisecond)
		if !errors.Is(err, engine.ErrBalancerTimeout) {
			t.Fatalf("StopBalancer: %v; want ErrBalancerTimeout", err)
		}
		if off, err := drv.BalancerStopped(ctx); err != nil || !off {
			t.Errorf("BalancerStopped after a timed-out stop: %t, %v; want true, as balancerStop leaves it", off, err)
		}
		if err := drv.StartBalancer(ctx); err != nil {
			t.Fatal(err)
		}
		if off, err := drv.BalancerStopped(ctx); err != nil || off {
			t.Errorf("BalancerStopped after a start: %t, %v", off, err)
		}
	})
	t.Run("token lost", func(t *testing.T) {
		sc.SetFaults(sim.Faults{Lost: []string{shard.ReplicaSetName}})
		defer sc.SetFaults(sim.Faults{})
		if err := drv.WriteToken(ctx, shard, tok); err != nil {
			t.Fatal(err)
		}
		_, err := drv.DiscoverToken(ctx, shard, tok, 300*time.Millisecond)
		if !errors.Is(err, engine.ErrNotDiscovered) {
			t.Fatalf("DiscoverToken: %v; want ErrNotDiscovered", err)
		}
	})
	t.Run("shard unreachable", func(t *testing.T) {
		sc.SetFaults(sim.Faults{Unreachable: []string{shard.ReplicaSetName}})
		defer sc.SetFaults(sim.Faults{})
		if err := drv.WriteToken(ctx, shard, tok); err == nil {
			t.Fatal("WriteToken to an unreachable shard succeeded")
		}
	})
	t.Run("primary stepped down, then elected again", func(t *testing.T) {
		sc.SetFaults(sim.Faults{SteppedDown: []string{shard.ReplicaSetName}})
		if err := drv.WriteToken(ctx, shard, tok); err == nil {
			t.Fatal("WriteToken without a primary succeeded")
		}
		sc.SetFaults(sim.Faults{})
		if err := drv.WriteToken(ctx, shard, tok); err != nil {
			t.Fatalf("WriteToken after the election: %v", err)
		}
		if _, err := drv.DiscoverToken(ctx, shard, tok, 5*time.Second); err != nil {
			t.Fatalf("DiscoverToken after the election: %v", err)
		}
	})
	t.Run("unknown replica set", func(t *testing.T) {
		m := engine.Member{Type: backup.PartReplicaSet, ShardName: "x", ReplicaSetName: "x"}
		if err := drv.WriteToken(ctx, m, tok); err == nil {
			t.Fatal("WriteToken to a replica set outside the topology succeeded")
		}
	})
}

// TestLegacy: before 3.4 the balancer is stopped and started through
// config.settings, and its state read there.
func TestLegacy(t *testing.T) {
	ctx := context.Background()
	srv, drv, _ := serve(t, mongowire.Options{Version: "3.2.22"})
	if err := drv.StopBalancer(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	if off, err := drv.BalancerStopped(ctx); err != nil || !off || srv.Cluster().BalancerEnabled() {
		t.Fatalf("after a stop: BalancerStopped %t, %v; enabled %t", off, err, srv.Cluster().BalancerEnabled())
	}
	if err := drv.StartBalancer(ctx); err != nil {
		t.Fatal(err)
	}
	if off, err := drv.BalancerStopped(ctx); err != nil || off || !srv.Cluster().BalancerEnabled() {
		t.Fatalf("after a start: BalancerStopped %t, %v; enabled %t", off, err, srv.Cluster().BalancerEnabled())
	}
	srv.Cluster().Migrate(time.Minute)
	if err := drv.StopBalancer(ctx, 200*time.Millisecond); !errors.Is(err, engine.ErrBalancerTimeout) {
		t.Fatalf("stop during a migration: %v; want ErrBalancerTimeout", err)
	}
	_ = drv.StartBalancer(ctx)
}
