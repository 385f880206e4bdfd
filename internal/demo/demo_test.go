package demo_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/demo"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// t0 is the end of the seeded history in these tests, off the slot grid
// as a server's start is.
var t0 = time.Date(2026, 11, 23, 12, 0, 7, 0, time.UTC)

// The stores are what Seed writes to.
var _ demo.Store = (*sqlite.DB)(nil)

func openStore(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "demo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// stored returns every checkpoint of every demo cluster, oldest first, by
// cluster name.
func stored(t testing.TB, db *sqlite.DB, ds demo.Dataset) map[string][]backup.Checkpoint {
	t.Helper()
	out := map[string][]backup.Checkpoint{}
	for _, c := range ds.Clusters {
		for n := 1; ; n++ {
			p, err := db.Checkpoints(backup.WithPrincipal(context.Background(), backup.System), backup.ClusterRef{GroupID: c.GroupID, Name: c.Name}, backup.PageRequest{Num: n, Size: 500})
			if err != nil {
				t.Fatal(err)
			}
			out[c.Name] = append(out[c.Name], p.Items...)
			if len(p.Items) < 500 {
				break
			}
		}
	}
	return out
}

// TestSeed checks the data set of several seeds: the three clusters on
// their intervals, each checkpoint one the engine could have taken
// (engine.Verify), on its cluster's slot grid within the week before now,
// in order, ids unique across the data set, nearly every slot taken, and
// some checkpoints left not restorable by the simulator's lost tokens.
func TestSeed(t *testing.T) {
	start := t0.Add(-7 * 24 * time.Hour)
	wantIntervals := map[string]time.Duration{"Cluster0": 15 * time.Minute, "Cluster1": time.Hour, "LegacyCluster": 30 * time.Minute}
	for seed := range uint64(4) {
		db := openStore(t)
		began := time.Now()
		ds, err := demo.Seed(backup.WithPrincipal(context.Background(), backup.System), db, demo.Options{Seed: seed, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("seed %d: a week of %v seeded in %v", seed, ds.Checkpoints, time.Since(began))
		if !ds.Created || len(ds.Clusters) != 3 || !reflect.DeepEqual(ds.Intervals, wantIntervals) {
			t.Fatalf("seed %d: created %v, %d clusters, intervals %v", seed, ds.Created, len(ds.Clusters), ds.Intervals)
		}
		shapes := map[string]string{}
		for _, c := range ds.Clusters {
			shapes[c.Name] = string(c.Type)
			if c.Type == backup.Sharded {
				shapes[c.Name] += " " + strings.Repeat("s", len(c.Shards))
				if c.Config.Mirrored() {
					shapes[c.Name] += " mirrored"
				}
			}
		}
		if want := map[string]string{"Cluster0": "SHARDED sss", "Cluster1": "REPLICA_SET", "LegacyCluster": "SHARDED ss mirrored"}; !reflect.DeepEqual(shapes, want) {
			t.Fatalf("cluster shapes %v, want %v", shapes, want)
		}
		all := stored(t, db, ds)
		ids := map[backup.ObjectID]bool{}
		unrestorable := 0
		for _, c := range ds.Clusters {
			interval := ds.Intervals[c.Name]
			cps := all[c.Name]
			slots := int(t0.Sub(engine.NextSlot(start, interval))/interval) + 1
			if len(cps) != ds.Checkpoints[c.Name] || len(cps) > slots || len(cps) < slots*95/100 {
				t.Errorf("seed %d %s: %d checkpoints stored, %d counted, for %d slots", seed, c.Name, len(cps), ds.Checkpoints[c.Name], slots)
			}
			if len(cps) > 0 && ds.Sample[c.Name] != cps[len(cps)-1].ID {
				t.Errorf("seed %d %s: sample %s is not the newest checkpoint", seed, c.Name, ds.Sample[c.Name])
			}
			for i, cp := range cps {
				if err := backup.VerifyCheckpoint(c, cp); err != nil {
					t.Fatalf("seed %d %s #%d: %v", seed, c.Name, i, err)
				}
				if ids[cp.ID] {
					t.Fatalf("seed %d: id %s twice", seed, cp.ID)
				}
				ids[cp.ID] = true
				if !engine.NextSlot(cp.Timestamp, interval).Equal(cp.Timestamp) || cp.Timestamp.Before(start) || !cp.Completed.Before(t0) {
					t.Errorf("seed %d %s #%d: timestamp %v off the %v grid, or not within [%v, %v)", seed, c.Name, i, cp.Timestamp, interval, start, t0)
				}
				if i > 0 && (!cp.Timestamp.After(cps[i-1].Timestamp) || !cp.Started.After(cps[i-1].Completed)) {
					t.Errorf("seed %d %s #%d does not follow its predecessor", seed, c.Name, i)
				}
				if !cp.Restorable {
					unrestorable++
				}
			}
		}
		if unrestorable == 0 {
			t.Errorf("seed %d: every checkpoint is restorable; the demo shows only the happy path", seed)
		}
	}
}

// TestSeedDeterministic: the same seed and time give the same data set,
// ids included; another seed another.
func TestSeedDeterministic(t *testing.T) {
	seed := func(s uint64) (demo.Dataset, map[string][]backup.Checkpoint) {
		db := openStore(t)
		ds, err := demo.Seed(backup.WithPrincipal(context.Background(), backup.System), db, demo.Options{Seed: s, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		return ds, stored(t, db, ds)
	}
	dsA, a := seed(7)
	dsB, b := seed(7)
	if !reflect.DeepEqual(a, b) || !reflect.DeepEqual(dsA, dsB) {
		t.Error("two data sets seeded with 7 differ")
	}
	if _, c := seed(8); reflect.DeepEqual(a, c) {
		t.Error("seeds 7 and 8 give the same data set")
	}
}

// TestSeedTwice: seeding a store that holds the data set writes nothing
// and describes what is there, whatever the time.
func TestSeedTwice(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db := openStore(t)
	first, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	before := stored(t, db, first)
	for _, now := range []time.Time{t0, t0.Add(36 * time.Hour)} {
		again, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if again.Created || !reflect.DeepEqual(again.Checkpoints, first.Checkpoints) || !reflect.DeepEqual(again.Sample, first.Sample) ||
			!reflect.DeepEqual(again.Intervals, first.Intervals) || len(again.Clusters) != 3 {
			t.Errorf("second Seed at %v: %+v, first %+v", now, again, first)
		}
		if after := stored(t, db, first); !reflect.DeepEqual(before, after) {
			t.Errorf("second Seed at %v changed the checkpoints", now)
		}
	}
}

// syncBuffer collects log output written from the scheduler's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// drive runs s on a manual clock whose sleepers are the n cluster loops:
// each step waits until all of them sleep on the clock and wakes the
// earliest, until the next wake would be after end; then it cancels Run
// and keeps the clock going until Run has returned.
func drive(t *testing.T, s interface{ Run(context.Context) error }, clk *clock.Virtual, n int, end time.Time) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	guard, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	for {
		if err := clk.BlockUntil(guard, n); err != nil {
			t.Fatalf("the cluster loops stopped sleeping on the clock at %v", clk.Now())
		}
		next, _ := clk.Next()
		if next.After(end) {
			break
		}
		clk.AdvanceTo(next)
	}
	cancel()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run() = %v", err)
			}
			return
		case <-guard.Done():
			t.Fatal("Run did not return after cancel")
		case <-time.After(time.Millisecond):
			if next, ok := clk.Next(); ok {
				clk.AdvanceTo(next)
			}
		}
	}
}

// TestEngineOnDemo seeds a week, then runs the engine (a Supervisor
// reading the schedules Seed stored) over the same SQLite store on a
// virtual clock for six hours: every simulated cluster gains a checkpoint
// for (nearly) every slot after the seeded week, each one the engine
// could have taken, logged at debug level; the agent's replica set gains
// none; and a week's window prunes the oldest as new ones come, so the
// data set keeps its size.
func TestEngineOnDemo(t *testing.T) {
	ctx := backup.WithPrincipal(context.Background(), backup.System)
	db := openStore(t)
	clk := clock.NewVirtual(t0)
	ds, err := demo.Seed(ctx, db, demo.Options{Seed: 1, Now: clk.Now()})
	if err != nil {
		t.Fatal(err)
	}
	before := stored(t, db, ds)
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	obs := &outcomes{}
	s, err := engine.NewSupervisor(engine.SupervisorConfig{
		Config:  engine.Config{Clock: clk, IDs: backup.NewIDSource(), Sink: db, Pruner: db, Logger: logger, Observer: obs},
		Source:  db,
		Drivers: sim.Drivers(clk, 1, sim.DefaultConfig()),
	})
	if err != nil {
		t.Fatal(err)
	}
	// End ten minutes before a 15-minute slot, so that every slot up to
	// the end has finished and none is under way. The replica set is an
	// agent's: the engine does not schedule it.
	end := t0.Add(6*time.Hour - 10*time.Minute)
	drive(t, s, clk, len(ds.Clusters)-1, end)

	after := stored(t, db, ds)
	taken := 0
	for _, c := range ds.Clusters {
		interval := ds.Intervals[c.Name]
		var old, fresh []backup.Checkpoint
		for _, cp := range after[c.Name] {
			if cp.Timestamp.After(t0) {
				fresh = append(fresh, cp)
			} else {
				old = append(old, cp)
			}
		}
		slots := int(end.Sub(engine.NextSlot(t0, interval))/interval) + 1
		if c.Schedule.Driver == backup.DriverAgent {
			slots = 0
		}
		if len(fresh) > slots || len(fresh) < slots-1 {
			t.Errorf("%s: %d checkpoints taken in %d slots", c.Name, len(fresh), slots)
		}
		taken += len(fresh)
		for i, cp := range fresh {
			if err := backup.VerifyCheckpoint(c, cp); err != nil {
				t.Errorf("%s: new checkpoint %d: %v", c.Name, i, err)
			}
			if !engine.NextSlot(cp.Timestamp, interval).Equal(cp.Timestamp) || cp.Timestamp.After(end) {
				t.Errorf("%s: new checkpoint %d at %v, off the %v grid or after %v", c.Name, i, cp.Timestamp, interval, end)
			}
		}
		// The last slot pruned what is older than itself less a week;
		// everything newer from the seeded week is still there.
		cutoff := end.Truncate(interval).Add(-demo.Window)
		if slots == 0 {
			cutoff = time.Time{} // nothing prunes an agent's cluster here
		}
		var kept []backup.Checkpoint
		for _, cp := range before[c.Name] {
			if !cp.Timestamp.Before(cutoff) {
				kept = append(kept, cp)
			}
		}
		if !reflect.DeepEqual(ids(old), ids(kept)) {
			t.Errorf("%s: %d seeded checkpoints left, want the %d from %v on", c.Name, len(old), len(kept), cutoff)
		}
		if n, was := len(after[c.Name]), len(before[c.Name]); n > was+2 || n < was-2 {
			t.Errorf("%s: %d checkpoints after six hours, %d before: the retention does not hold the size", c.Name, n, was)
		}
		t.Logf("%s: %d seeded, %d taken, %d pruned", c.Name, len(before[c.Name]), len(fresh), len(before[c.Name])-len(old))
	}
	if n := obs.stored(); n != taken {
		t.Errorf("the observer was told of %d checkpoints stored, %d were", n, taken)
	}
	if n := strings.Count(logs.String(), "msg=\"checkpoint taken\""); n != taken {
		t.Errorf("%d checkpoints logged as taken, %d stored:\n%s", n, taken, logs.String())
	}
	if !strings.Contains(logs.String(), "level=DEBUG msg=\"checkpoint taken\" cluster=Cluster0") {
		t.Errorf("no debug line names its cluster:\n%.2000s", logs.String())
	}
}

func ids(cps []backup.Checkpoint) []backup.ObjectID {
	out := []backup.ObjectID{}
	for _, cp := range cps {
		out = append(out, cp.ID)
	}
	return out
}

// BenchmarkSeed measures seeding the week into a fresh SQLite store: the
// engine's procedure over about 1 150 slots, and the inserts.
func BenchmarkSeed(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		db := openStore(b)
		b.StartTimer()
		if _, err := demo.Seed(backup.WithPrincipal(context.Background(), backup.System), db, demo.Options{Seed: 1, Now: t0}); err != nil {
			b.Fatal(err)
		}
	}
}
