package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
)

// TestTake runs every branch of the procedure against the simulator and
// checks, in each, that the balancer ends up enabled (or, when the restart
// itself fails, that it was tried), whether a checkpoint came out, and
// that it is valid.
func TestTake(t *testing.T) {
	errNoMongos := errors.New("no mongos reachable")
	errConfigDown := errors.New("config server primary stepped down")
	for _, tt := range []struct {
		name    string
		cluster func() backup.Cluster
		setup   func(s *sim.Cluster)
		// cancelAt cancels the context at this hook step (see hooked).
		cancelAt string
		wantErr  []error // each must be in the chain; nil means success
		// wantCheckpoint is whether a checkpoint (non-zero id) comes back.
		wantCheckpoint bool
		wantRestorable bool
		undiscovered   []string // parts, by member name
		wantBalancer   bool     // enabled at the end
		wantStarts     int      // balancer start commands received
		check          func(t *testing.T, cp backup.Checkpoint)
	}{
		{
			name: "success", cluster: shardedCluster,
			wantCheckpoint: true, wantRestorable: true, wantBalancer: true, wantStarts: 1,
			check: func(t *testing.T, cp backup.Checkpoint) {
				names := []string{}
				for _, p := range cp.Parts {
					names = append(names, string(p.Type)+" "+p.ShardName+"/"+p.ReplicaSetName)
				}
				want := "REPLICA_SET Cluster0-shard-2/Cluster0-shard-2,REPLICA_SET Cluster0-shard-1/Cluster0-shard-1," +
					"REPLICA_SET Cluster0-shard-0/Cluster0-shard-0,CONFIG_SERVER_REPLICA_SET /Cluster0-config-0"
				if got := strings.Join(names, ","); got != want {
					t.Errorf("parts = %s, want %s", got, want)
				}
				for _, p := range cp.Parts {
					if p.TokenTimestamp.Date.Before(cp.Started) || p.TokenTimestamp.Date.After(cp.Completed) {
						t.Errorf("part %s token date %v outside [%v, %v]", p.ReplicaSetName, p.TokenTimestamp.Date, cp.Started, cp.Completed)
					}
				}
			},
		},
		{
			name: "waits for a running migration", cluster: shardedCluster,
			setup:          func(s *sim.Cluster) { s.Migrate(45 * time.Second) },
			wantCheckpoint: true, wantRestorable: true, wantBalancer: true, wantStarts: 1,
			check: func(t *testing.T, cp backup.Checkpoint) {
				if cp.Started.Before(t0.Add(45 * time.Second)) {
					t.Errorf("started %v, before the migration ended at %v", cp.Started, t0.Add(45*time.Second))
				}
			},
		},
		{
			name: "slow balancer stop within the timeout", cluster: shardedCluster,
			setup:          func(s *sim.Cluster) { s.SetFaults(sim.Faults{StopDelay: 40 * time.Second}) },
			wantCheckpoint: true, wantRestorable: true, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "balancer stop times out on a long migration", cluster: shardedCluster,
			setup:   func(s *sim.Cluster) { s.Migrate(5 * time.Minute) },
			wantErr: []error{engine.ErrBalancerTimeout}, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "slow balancer stop beyond the timeout", cluster: shardedCluster,
			setup:   func(s *sim.Cluster) { s.SetFaults(sim.Faults{StopDelay: 2 * time.Minute}) },
			wantErr: []error{engine.ErrBalancerTimeout}, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "balancer stop fails", cluster: shardedCluster,
			setup:   func(s *sim.Cluster) { s.SetFaults(sim.Faults{StopErr: errNoMongos}) },
			wantErr: []error{errNoMongos}, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "balancer stop and restart fail", cluster: shardedCluster,
			setup:   func(s *sim.Cluster) { s.SetFaults(sim.Faults{StopErr: errNoMongos, StartErr: errNoMongos}) },
			wantErr: []error{errNoMongos, engine.ErrBalancerNotRestarted}, wantBalancer: true, wantStarts: 3,
		},
		{
			name: "a shard's token is never discovered", cluster: shardedCluster,
			setup:          func(s *sim.Cluster) { s.SetFaults(sim.Faults{Lost: []string{"Cluster0-shard-1"}}) },
			wantCheckpoint: true, undiscovered: []string{"Cluster0-shard-1"}, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "the config server is unreachable", cluster: shardedCluster,
			setup:          func(s *sim.Cluster) { s.SetFaults(sim.Faults{Unreachable: []string{"Cluster0-config-0"}}) },
			wantCheckpoint: true, undiscovered: []string{"Cluster0-config-0"}, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "skewed member clocks", cluster: shardedCluster,
			setup: func(s *sim.Cluster) {
				s.SetFaults(sim.Faults{Skew: map[string]time.Duration{"Cluster0-shard-0": 90 * time.Second, "Cluster0-config-0": -30 * time.Second}})
			},
			wantCheckpoint: true, wantRestorable: true, wantBalancer: true, wantStarts: 1,
			check: func(t *testing.T, cp backup.Checkpoint) {
				shard0, config := cp.Parts[2].TokenTimestamp.Date, cp.Parts[3].TokenTimestamp.Date
				if !shard0.After(cp.Completed) || !config.Before(cp.Started) {
					t.Errorf("skewed token dates %v, %v; started %v, completed %v", shard0, config, cp.Started, cp.Completed)
				}
			},
		},
		{
			name: "restart fails", cluster: shardedCluster,
			setup:          func(s *sim.Cluster) { s.SetFaults(sim.Faults{StartErr: errConfigDown}) },
			wantErr:        []error{engine.ErrBalancerNotRestarted, errConfigDown},
			wantCheckpoint: true, wantRestorable: true, wantBalancer: false, wantStarts: 3,
		},
		{
			name: "cancelled while the balancer stops", cluster: shardedCluster, cancelAt: "before-stop",
			wantErr: []error{context.Canceled}, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "cancelled once the balancer stopped", cluster: shardedCluster, cancelAt: "after-stop",
			wantErr: []error{context.Canceled}, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "cancelled after the first token", cluster: shardedCluster, cancelAt: "after-write:Cluster0-shard-2",
			wantErr: []error{context.Canceled}, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "cancelled during discovery", cluster: shardedCluster, cancelAt: "before-discover:Cluster0-shard-0",
			wantErr: []error{context.Canceled}, wantBalancer: true, wantStarts: 1,
		},
		{
			name: "mirrored config servers", cluster: mirroredCluster,
			wantCheckpoint: true, wantRestorable: true, wantBalancer: true, wantStarts: 1,
			check: func(t *testing.T, cp backup.Checkpoint) {
				last := cp.Parts[len(cp.Parts)-1]
				if len(cp.Parts) != 3 || last.Type != backup.PartConfigServer || last.HostID != "0f5c1b9ea1c54a5da0ee2b6ca2ac6c41" || last.ReplicaSetName != "" {
					t.Errorf("parts = %+v, want shard_1, shard_0, then one CONFIG_SERVER part with the first host id", cp.Parts)
				}
			},
		},
		{
			name: "replica set", cluster: replicaSetCluster,
			wantCheckpoint: true, wantRestorable: true, wantStarts: 0,
			check: func(t *testing.T, cp backup.Checkpoint) {
				if len(cp.Parts) != 1 || cp.Parts[0].Type != backup.PartReplicaSet || cp.Parts[0].ReplicaSetName != "Cluster1-shard-0" {
					t.Errorf("parts = %+v, want the one replica set", cp.Parts)
				}
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.cluster()
			clk := clock.NewAuto(t0)
			s := mustSim(t, c, clk, 1, steadyConfig())
			if tt.setup != nil {
				tt.setup(s)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var drv engine.Cluster = s
			if tt.cancelAt != "" {
				drv = hooked{Cluster: s, hook: func(step string) {
					if step == tt.cancelAt {
						cancel()
					}
				}}
			}
			cp, err := engine.Take(ctx, drv, c, engine.Options{Clock: clk, IDs: newIDs(), Slot: t0})

			for _, want := range tt.wantErr {
				if !errors.Is(err, want) {
					t.Errorf("Take() error = %v, want %v in its chain", err, want)
				}
			}
			if tt.wantErr == nil && err != nil {
				t.Errorf("Take() error = %v", err)
			}
			if got := !cp.ID.IsZero(); got != tt.wantCheckpoint {
				t.Fatalf("Take() checkpoint = %v, want one: %v", got, tt.wantCheckpoint)
			}
			if c.Type == backup.Sharded {
				if got := s.BalancerEnabled(); got != tt.wantBalancer {
					t.Errorf("balancer enabled = %v, want %v", got, tt.wantBalancer)
				}
			}
			if got := s.Stats().Starts; got != tt.wantStarts {
				t.Errorf("balancer starts = %d, want %d", got, tt.wantStarts)
			}
			if !tt.wantCheckpoint {
				return
			}
			if err := backup.VerifyCheckpoint(c, cp); err != nil {
				t.Errorf("Verify() = %v\n%+v", err, cp)
			}
			if cp.Restorable != tt.wantRestorable {
				t.Errorf("restorable = %v, want %v", cp.Restorable, tt.wantRestorable)
			}
			if !cp.Timestamp.Equal(t0) {
				t.Errorf("timestamp = %v, want the slot %v", cp.Timestamp, t0)
			}
			var undiscovered []string
			for _, p := range cp.Parts {
				if !p.TokenDiscovered {
					undiscovered = append(undiscovered, p.ReplicaSetName+p.HostID)
				}
			}
			if strings.Join(undiscovered, ",") != strings.Join(tt.undiscovered, ",") {
				t.Errorf("undiscovered parts = %v, want %v", undiscovered, tt.undiscovered)
			}
			if tt.check != nil {
				tt.check(t, cp)
			}
		})
	}
}

// TestTakeRestartRecovers: a balancer left stopped by a failed restart is
// restarted by the next checkpoint once the cluster lets it.
func TestTakeRestartRecovers(t *testing.T) {
	c := shardedCluster()
	clk := clock.NewAuto(t0)
	s := mustSim(t, c, clk, 1, steadyConfig())
	ids := newIDs()
	s.SetFaults(sim.Faults{StartErr: errors.New("stepped down")})
	if _, err := engine.Take(context.Background(), s, c, engine.Options{Clock: clk, IDs: ids, Slot: t0}); !errors.Is(err, engine.ErrBalancerNotRestarted) {
		t.Fatalf("Take() = %v, want ErrBalancerNotRestarted", err)
	}
	s.SetFaults(sim.Faults{})
	slot := t0.Add(15 * time.Minute)
	clk.AdvanceTo(slot)
	cp, err := engine.Take(context.Background(), s, c, engine.Options{Clock: clk, IDs: ids, Slot: slot})
	if err != nil || !cp.Restorable {
		t.Fatalf("Take() = %+v, %v", cp, err)
	}
	if !s.BalancerEnabled() {
		t.Error("balancer still stopped")
	}
}

// TestTakeDiscoveryWait: a lost token costs the discovery wait once, not
// once per part, and the checkpoint completes before the wait.
func TestTakeDiscoveryWait(t *testing.T) {
	c := shardedCluster()
	clk := clock.NewAuto(t0)
	s := mustSim(t, c, clk, 1, steadyConfig())
	s.SetFaults(sim.Faults{Lost: []string{"Cluster0-shard-2", "Cluster0-shard-1"}})
	wait := 3 * time.Minute
	cp, err := engine.Take(context.Background(), s, c, engine.Options{Clock: clk, IDs: newIDs(), Slot: t0, Timeouts: engine.Timeouts{Discovery: wait}})
	if err != nil {
		t.Fatal(err)
	}
	if d := clk.Now().Sub(cp.Completed); d < wait || d > wait+time.Second {
		t.Errorf("discovery took %v after completion, want %v", d, wait)
	}
	if cp.Restorable || cp.Parts[0].TokenDiscovered || cp.Parts[1].TokenDiscovered || !cp.Parts[2].TokenDiscovered || !cp.Parts[3].TokenDiscovered {
		t.Errorf("parts = %+v", cp.Parts)
	}
}

// TestTakeRejects: Take refuses what it cannot make a checkpoint of, and
// does so before touching the balancer.
func TestTakeRejects(t *testing.T) {
	clk := clock.NewAuto(t0)
	noID := shardedCluster()
	noID.ID = backup.NilObjectID
	noShards := shardedCluster()
	noShards.Shards = nil
	for _, tt := range []struct {
		name    string
		c       backup.Cluster
		o       engine.Options
		invalid bool // a *backup.Error of kind Invalid
	}{
		{"no clock", shardedCluster(), engine.Options{IDs: newIDs()}, false},
		{"no id source", shardedCluster(), engine.Options{Clock: clk}, false},
		{"slot in the future", shardedCluster(), engine.Options{Clock: clk, IDs: newIDs(), Slot: t0.Add(time.Second)}, false},
		{"cluster without id", noID, engine.Options{Clock: clk, IDs: newIDs()}, true},
		{"invalid cluster", noShards, engine.Options{Clock: clk, IDs: newIDs()}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := mustSim(t, shardedCluster(), clk, 1, steadyConfig())
			cp, err := engine.Take(context.Background(), s, tt.c, tt.o)
			if err == nil || !cp.ID.IsZero() {
				t.Fatalf("Take() = %v, %v; want an error", cp.ID, err)
			}
			if got := backup.KindOf(err) == backup.Invalid; got != tt.invalid {
				t.Errorf("Take() = %v; invalid kind %v, want %v", err, got, tt.invalid)
			}
			if st := s.Stats(); st.Stops != 0 || st.Starts != 0 {
				t.Errorf("balancer touched: %+v", st)
			}
		})
	}
}

// TestTakeWithoutSlot: a checkpoint taken outside a schedule restores to
// its start.
func TestTakeWithoutSlot(t *testing.T) {
	c := shardedCluster()
	clk := clock.NewAuto(t0.Add(1234 * time.Millisecond))
	s := mustSim(t, c, clk, 1, steadyConfig())
	cp, err := engine.Take(context.Background(), s, c, engine.Options{Clock: clk, IDs: newIDs()})
	if err != nil {
		t.Fatal(err)
	}
	if !cp.Timestamp.Equal(cp.Started) || cp.Started.Nanosecond() != 0 {
		t.Errorf("timestamp %v, started %v", cp.Timestamp, cp.Started)
	}
	if err := backup.VerifyCheckpoint(c, cp); err != nil {
		t.Error(err)
	}
}
