package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/httpapi"
)

// TestScheduleDrivesEngine runs the engine over the API's store on a
// virtual clock: a checkpoint interval changed through any generation's
// snapshot schedule is what the engine follows from the next slot of the
// new grid, and Cloud Manager's backup configuration stopped, the engine
// takes no more checkpoints of the cluster; started again, it takes them
// from the next slot.
func TestScheduleDrivesEngine(t *testing.T) {
	f := mustServe(t, httpapi.Config{})
	c := f.ds.Clusters[0] // SIMULATED, every 15 minutes
	if c.Schedule.DriverOrDefault() != backup.DriverSimulated || c.Schedule.Interval != 15*time.Minute {
		t.Fatalf("the demo's first cluster is %+v", c.Schedule)
	}
	start := demoNow.Add(7 * time.Minute)
	clk := clock.NewVirtual(start)
	cfg := sim.DefaultConfig()
	cfg.LossRate, cfg.LongMigrationRate = 0, 0
	sup, err := engine.NewSupervisor(engine.SupervisorConfig{
		Config:  engine.Config{Clock: clk, IDs: backup.NewIDSourceFrom([5]byte{4, 4, 4, 4, 4}, 0), Sink: f.db, Pruner: f.db},
		Source:  onlyCluster{f.db, c.ID},
		Drivers: sim.Drivers(clk, 1, cfg),
		Refresh: time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sup.Run(ctx) }()
	defer func() {
		// A checkpoint under way finishes on the clock (its balancer is
		// always restarted): keep the clock moving until Run returns.
		cancel()
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
				if next, ok := clk.Next(); ok {
					clk.AdvanceTo(next)
				}
			}
		}
	}()
	guard, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	// sleepers waits until the clock has n sleepers: the cluster's loop
	// (1) waiting for its next slot, or none.
	sleepers := func(n int) {
		t.Helper()
		for clk.Sleepers() != n {
			if guard.Err() != nil {
				t.Fatalf("%d sleepers on the clock, want %d", clk.Sleepers(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// runTo advances the clock slot by slot to until, letting each
	// checkpoint finish.
	runTo := func(until time.Time) {
		t.Helper()
		for {
			sleepers(1)
			next, ok := clk.Next()
			if !ok || next.After(until) {
				clk.AdvanceTo(until)
				return
			}
			clk.AdvanceTo(next)
		}
	}
	taken := func(after time.Time) []time.Time {
		t.Helper()
		page, err := f.db.Checkpoints(backup.WithPrincipal(context.Background(), backup.System),
			backup.ClusterRef{GroupID: c.GroupID, ID: c.ID}, backup.PageRequest{Num: 1, Size: 500})
		if err != nil {
			t.Fatal(err)
		}
		var out []time.Time
		for _, cp := range page.Items {
			if cp.Timestamp.After(after) {
				out = append(out, cp.Timestamp)
			}
		}
		return out
	}
	patch := func(path, body string) {
		t.Helper()
		res := f.do(t, http.MethodPatch, path, strings.NewReader(body), "Content-Type", "application/json", "Accept", v2Accept)
		if res.status != http.StatusOK {
			t.Fatalf("PATCH %s %s: %d %s", path, body, res.status, res.body)
		}
	}
	// waitSlot waits until the supervisor's loop sleeps toward a slot
	// of the new interval's grid: it saw the change.
	waitSlot := func(grid time.Duration) {
		t.Helper()
		for {
			if next, ok := clk.Next(); ok && clk.Sleepers() == 1 && next.Equal(engine.NextSlot(clk.Now(), grid)) {
				return
			}
			if guard.Err() != nil {
				next, ok := clk.Next()
				t.Fatalf("the engine did not move to a %s grid: now %v, next %v %v, %d sleepers", grid, clk.Now(), next, ok, clk.Sleepers())
			}
			time.Sleep(time.Millisecond)
		}
	}
	g := "/api/atlas/v2/groups/" + groupHex
	runTo(demoNow.Add(time.Hour + 10*time.Minute))
	waitSlot(15 * time.Minute)
	if got := taken(demoNow); len(got) != 4 {
		t.Fatalf("every 15 minutes for an hour: %v", got)
	}

	// Hourly, through Atlas v2.
	patch(g+"/clusters/"+c.Name+"/snapshotSchedule", `{"clusterCheckpointIntervalMin":60}`)
	waitSlot(time.Hour)
	runTo(demoNow.Add(3*time.Hour + 10*time.Minute))
	waitSlot(time.Hour)
	if got := taken(demoNow.Add(time.Hour)); len(got) != 2 || !got[0].Equal(demoNow.Add(2*time.Hour)) {
		t.Fatalf("hourly after the change: %v", got)
	}

	// Every 30 minutes, through Cloud Manager.
	cm := "/api/public/v1.0/groups/" + groupHex + "/backupConfigs/" + c.ID.Hex()
	patch(cm+"/snapshotSchedule", `{"clusterCheckpointIntervalMin":30}`)
	waitSlot(30 * time.Minute)
	runTo(demoNow.Add(4*time.Hour + 10*time.Minute))
	waitSlot(30 * time.Minute)
	if got := taken(demoNow.Add(3 * time.Hour)); len(got) != 2 || !got[0].Equal(demoNow.Add(3*time.Hour+30*time.Minute)) {
		t.Fatalf("every 30 minutes after the change: %v", got)
	}

	// Stopped: no loop, no checkpoint.
	patch(cm, `{"statusName":"STOPPED"}`)
	sleepers(0)
	clk.AdvanceTo(demoNow.Add(6*time.Hour + time.Minute))
	if got := taken(demoNow.Add(4 * time.Hour)); len(got) != 0 {
		t.Fatalf("checkpoints taken while backup is STOPPED: %v", got)
	}
	// Started again, through Atlas v1.0's schedule now at 15 minutes.
	patch(cm, `{"statusName":"STARTED"}`)
	patch("/api/atlas/v1.0/groups/"+groupHex+"/clusters/"+c.Name+"/snapshotSchedule", `{"clusterCheckpointIntervalMin":15}`)
	waitSlot(15 * time.Minute)
	runTo(demoNow.Add(6*time.Hour + 40*time.Minute))
	waitSlot(15 * time.Minute)
	if got := taken(demoNow.Add(6 * time.Hour)); len(got) != 2 || !got[0].Equal(demoNow.Add(6*time.Hour+15*time.Minute)) {
		t.Fatalf("every 15 minutes once started again: %v", got)
	}
}

// onlyCluster lists, of a store's schedules, one cluster's: the others
// of the demo would share the clock.
type onlyCluster struct {
	src interface {
		Schedules(ctx context.Context) ([]backup.Cluster, error)
	}
	id backup.ObjectID
}

func (o onlyCluster) Schedules(ctx context.Context) ([]backup.Cluster, error) {
	all, err := o.src.Schedules(ctx)
	var out []backup.Cluster
	for _, c := range all {
		if c.ID == o.id {
			out = append(out, c)
		}
	}
	return out, err
}
