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

// finisher records the times Restores asks to finish jobs at.
type finisher struct {
	mu    sync.Mutex
	times []time.Time
}

func (f *finisher) FinishDueRestoreJobs(ctx context.Context, now time.Time) (int, error) {
	if p := backup.PrincipalFrom(ctx); !p.IsSystem() {
		return 0, backup.ErrUserUnauthorized()
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.times = append(f.times, now)
	return 0, nil
}

// TestRestoresTicks: Restores finishes due jobs as the server itself, at
// once and then every RestoreTick of its clock, and stops with its
// context.
func TestRestoresTicks(t *testing.T) {
	start := time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)
	clk := clock.NewVirtual(start)
	f := &finisher{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- engine.Restores(ctx, f, clk, slog.New(slog.DiscardHandler)) }()
	for i := 1; i <= 3; i++ {
		if err := clk.BlockUntil(ctx, 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(engine.RestoreTick)
	}
	if err := clk.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Restores = %v, want context.Canceled", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.times) != 4 {
		t.Fatalf("%d calls, want 4: %v", len(f.times), f.times)
	}
	for i, at := range f.times {
		if want := start.Add(time.Duration(i) * engine.RestoreTick); !at.Equal(want) {
			t.Errorf("call %d at %v, want %v", i, at, want)
		}
	}
}
