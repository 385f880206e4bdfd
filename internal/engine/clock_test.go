package engine_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/engine"
)

func TestSystemClock(t *testing.T) {
	c := engine.System
	if loc := c.Now().Location(); loc != time.UTC {
		t.Errorf("Now() in %v, want UTC", loc)
	}
	before := time.Now()
	if err := c.Sleep(context.Background(), 2*time.Millisecond); err != nil || time.Since(before) < 2*time.Millisecond {
		t.Errorf("Sleep(2ms) = %v after %v", err, time.Since(before))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled) = %v", err)
	}
	if err := c.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled, 0) = %v", err)
	}
}

// TestRunWithoutSchedules waits for its context like any other Run.
func TestRunWithoutSchedules(t *testing.T) {
	st := newMemStore()
	s, err := engine.New(engine.Config{Clock: engine.System, IDs: newIDs(), Sink: st, Pruner: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if err := s.Run(ctx); err != nil || ctx.Err() == nil {
		t.Errorf("Run() = %v before its context ended (%v)", err, ctx.Err())
	}
}
