package engine_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// finisher is a store whose simulated jobs are due at the times in dues.
type finisher struct {
	mu    sync.Mutex
	dues  []time.Time // ascending
	calls []time.Time
}

func (f *finisher) FinishDueRestoreJobs(ctx context.Context, now time.Time) (int, time.Time, error) {
	if p := backup.PrincipalFrom(ctx); !p.IsSystem() {
		return 0, time.Time{}, backup.ErrUserUnauthorized()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, now)
	n := 0
	for len(f.dues) > 0 && !f.dues[0].After(now) {
		f.dues, n = f.dues[1:], n+1
	}
	if len(f.dues) == 0 {
		return n, time.Time{}, nil
	}
	return n, f.dues[0], nil
}

func (f *finisher) add(t time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dues = append(f.dues, t)
}

func (f *finisher) left() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.dues)
}

// TestRestores: Restores finishes jobs as the server itself at the time
// each is due on its clock, sleeps on the clock only while jobs are left,
// is woken by new jobs, and stops with its context.
func TestRestores(t *testing.T) {
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	clk := clock.NewVirtual(start)
	config, shards := start.Add(backup.SimulatedConfigRestore), start.Add(backup.SimulatedConfigRestore+backup.SimulatedShardRestore)
	f := &finisher{dues: []time.Time{config, shards}}
	wake := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- engine.Restores(ctx, f, clk, wake, slog.New(slog.DiscardHandler)) }()
	for _, due := range []time.Time{config, shards} {
		if err := clk.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		if next, _ := clk.Next(); !next.Equal(due) {
			t.Fatalf("sleeps until %v, want %v", next, due)
		}
		clk.AdvanceTo(due)
	}
	// Nothing left: no sleeper on the clock, until jobs are created.
	for f.left() > 0 || clk.Sleepers() > 0 {
		time.Sleep(time.Millisecond)
	}
	later := clk.Now().Add(backup.SimulatedConfigRestore)
	f.add(later)
	wake <- struct{}{}
	if err := clk.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if next, _ := clk.Next(); !next.Equal(later) {
		t.Fatalf("after the wake, sleeps until %v, want %v", next, later)
	}
	clk.AdvanceTo(later)
	for f.left() > 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Restores = %v, want context.Canceled", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, want := range []time.Time{start, config, shards, later} {
		found := false
		for _, c := range f.calls {
			found = found || c.Equal(want)
		}
		if !found {
			t.Errorf("no call at %v: %v", want, f.calls)
		}
	}
}
