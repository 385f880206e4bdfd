package sim_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
)

// randomCluster draws a topology: a replica set now and then, otherwise
// one to six shards under a config server replica set or mirrored config
// hosts.
func randomCluster(rng *rand.Rand) backup.Cluster {
	var id backup.ObjectID
	for i := range id {
		id[i] = byte(rng.Uint32())
	}
	c := backup.Cluster{ID: id, GroupID: backup.MustParseObjectID("5e2211c17a3e5a48f5497de3"), Name: "C" + id.Hex()[:6],
		MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy}
	if rng.IntN(10) == 0 {
		c.Type, c.ReplicaSetName = backup.ReplicaSet, c.Name+"-shard-0"
		return c
	}
	c.Type = backup.Sharded
	for i := range 1 + rng.IntN(6) {
		c.Shards = append(c.Shards, backup.Shard{Name: fmt.Sprintf("%s-shard-%d", c.Name, i), ReplicaSetName: fmt.Sprintf("%s-shard-%d", c.Name, i)})
	}
	if rng.IntN(3) == 0 {
		c.MongoDBVersion = "3.2.22" // the last with mirrored config servers
		for range 1 + 2*rng.IntN(2) {
			c.Config.HostIDs = append(c.Config.HostIDs, fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()))
		}
	} else {
		c.Config.ReplicaSetName = c.Name + "-config-0"
	}
	return c
}

// TestBackfillInvariants backfills a day and a half of many random
// clusters under random fault rates and member clock skews, and checks
// every checkpoint: it verifies, it restores to its slot, which is on the
// interval's grid and before its start, its id embeds its start and grows,
// each token is dated between start and completion by its member's clock,
// and each member's token timestamps grow from one checkpoint to the next.
func TestBackfillInvariants(t *testing.T) {
	var total, unrestorable, slots int
	for seed := range uint64(48) {
		rng := rand.New(rand.NewPCG(seed, 0x696e76))
		c := randomCluster(rng)
		interval := []time.Duration{15 * time.Minute, 30 * time.Minute, time.Hour}[rng.IntN(3)]
		cfg := sim.DefaultConfig()
		cfg.LossRate = rng.Float64() * 0.03
		cfg.LongMigrationRate = rng.Float64() * 0.15
		cfg.WriteRate = rng.Float64() * 50
		faults := sim.Faults{Skew: map[string]time.Duration{}}
		for _, m := range engine.Members(c) {
			if rng.IntN(4) == 0 {
				faults.Skew[m.Name()] = time.Duration(rng.Int64N(int64(4*time.Minute))) - 2*time.Minute
			}
		}
		start := t0.Add(time.Duration(rng.Int64N(int64(time.Hour))))
		end := start.Add(36 * time.Hour)
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			cps, err := sim.Backfill(context.Background(), c, start, end, sim.BackfillOptions{
				Interval: interval, Seed: seed, Config: &cfg, Faults: faults,
			})
			if err != nil {
				t.Fatal(err)
			}
			n := int(end.Sub(engine.NextSlot(start, interval))/interval) + 1
			slots += n
			if len(cps) < n*9/10 || len(cps) > n {
				t.Errorf("%d checkpoints for %d slots", len(cps), n)
			}
			last := map[string]backup.BSONTimestamp{}
			for i, cp := range cps {
				total++
				if !cp.Restorable {
					unrestorable++
				}
				if err := backup.VerifyCheckpoint(c, cp); err != nil {
					t.Fatalf("checkpoint %d: %v\n%+v", i, err, cp)
				}
				if !engine.NextSlot(cp.Timestamp, interval).Equal(cp.Timestamp) || cp.Timestamp.Before(start) || !cp.Timestamp.Before(end) || !cp.Completed.Before(end) {
					t.Errorf("checkpoint %d: timestamp %v off the %v grid or outside [%v, %v)", i, cp.Timestamp, interval, start, end)
				}
				if lag := cp.Started.Sub(cp.Timestamp); lag > 3*time.Minute {
					t.Errorf("checkpoint %d started %v after its slot", i, lag)
				}
				if i > 0 {
					prev := cps[i-1]
					if !cp.Timestamp.After(prev.Timestamp) || !cp.Started.After(prev.Completed) || string(cp.ID[:]) <= string(prev.ID[:]) {
						t.Errorf("checkpoint %d does not follow %d: %+v after %+v", i, i-1, cp, prev)
					}
				}
				all := true
				for _, p := range cp.Parts {
					all = all && p.TokenDiscovered
					if !p.TokenDiscovered {
						continue
					}
					name := p.ReplicaSetName + p.HostID
					skew := faults.Skew[name]
					ts := p.TokenTimestamp
					if ts.Date.Before(cp.Started.Add(skew-time.Second)) || ts.Date.After(cp.Completed.Add(skew+time.Second)) {
						t.Errorf("checkpoint %d part %s: token date %v outside [%v, %v] shifted by %v", i, name, ts.Date, cp.Started, cp.Completed, skew)
					}
					if prev, ok := last[name]; ok && !(ts.Date.After(prev.Date) || ts.Date.Equal(prev.Date) && ts.Increment > prev.Increment) {
						t.Errorf("checkpoint %d part %s: token %+v not after %+v", i, name, ts, prev)
					}
					last[name] = ts
				}
				if cp.Restorable != all {
					t.Errorf("checkpoint %d: restorable %v, all tokens discovered %v", i, cp.Restorable, all)
				}
			}
		})
	}
	t.Logf("%d checkpoints for %d slots, %d not restorable", total, slots, unrestorable)
	if unrestorable == 0 || total == slots {
		t.Error("the fault rates never produced a lost token or a skipped slot; the test checks too little")
	}
}

// TestBackfillDeterministic: the same seed gives the same history, another
// seed another, and two clusters backfilled with one seed share no id.
func TestBackfillDeterministic(t *testing.T) {
	ctx := context.Background()
	c := cluster(3)
	start, end := t0, t0.Add(7*24*time.Hour)
	o := sim.BackfillOptions{Interval: 15 * time.Minute, Seed: 42}
	began := time.Now()
	a, err := sim.Backfill(ctx, c, start, end, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a week of %d checkpoints in %v", len(a), time.Since(began))
	b, _ := sim.Backfill(ctx, c, start, end, o)
	if !reflect.DeepEqual(a, b) {
		t.Error("two backfills with seed 42 differ")
	}
	o.Seed = 43
	if other, _ := sim.Backfill(ctx, c, start, end, o); reflect.DeepEqual(a, other) {
		t.Error("seeds 42 and 43 give the same history")
	}

	o.Seed = 42
	c2 := cluster(3)
	c2.ID = backup.MustParseObjectID("6b8cd61180eef547110159dc")
	d, _ := sim.Backfill(ctx, c2, start, end, o)
	ids := map[backup.ObjectID]bool{}
	for _, cp := range a {
		ids[cp.ID] = true
	}
	for _, cp := range d {
		if ids[cp.ID] {
			t.Fatalf("id %s in the histories of two clusters", cp.ID)
		}
	}
	if reflect.DeepEqual(a[0].Parts, d[0].Parts) && a[0].Started.Equal(d[0].Started) {
		t.Error("two clusters backfilled with one seed have the same history")
	}
}

// TestBackfillRejects: Backfill checks the schedule as the scheduler
// does.
func TestBackfillRejects(t *testing.T) {
	cloud := cluster(1)
	cloud.Backup = backup.BackupCloud
	for _, tt := range []struct {
		name     string
		c        backup.Cluster
		interval time.Duration
		code     string
	}{
		{"20-minute interval", cluster(1), 20 * time.Minute, backup.CodeInvalidAttribute},
		{"no interval", cluster(1), 0, backup.CodeInvalidAttribute},
		{"cloud backup", cloud, 15 * time.Minute, backup.CodeCheckpointsOnlyLegacy},
	} {
		_, err := sim.Backfill(context.Background(), tt.c, t0, t0.Add(time.Hour), sim.BackfillOptions{Interval: tt.interval})
		if !backup.IsCode(err, tt.code) {
			t.Errorf("%s: Backfill() = %v, want %s", tt.name, err, tt.code)
		}
	}
}

// TestBackfillEnd: the history is what stood at end — a checkpoint still
// running at end is not in it — and a start on the grid is a slot.
func TestBackfillEnd(t *testing.T) {
	c := cluster(2)
	cps, err := sim.Backfill(context.Background(), c, t0, t0.Add(time.Hour+time.Second), sim.BackfillOptions{Interval: 15 * time.Minute, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 4 || !cps[0].Timestamp.Equal(t0) {
		t.Fatalf("%d checkpoints from %v, want 4 from %v (the last slot, at end-1s, still runs: the agent takes 3 s or more)", len(cps), cps[0].Timestamp, t0)
	}
}
