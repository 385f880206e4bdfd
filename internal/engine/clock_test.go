package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// TestRunWithoutSchedules waits for its context like any other Run.
func TestRunWithoutSchedules(t *testing.T) {
	st := newMemStore()
	s, err := engine.New(engine.Config{Clock: clock.System, IDs: newIDs(), Sink: st, Pruner: st})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if err := s.Run(ctx); err != nil || ctx.Err() == nil {
		t.Errorf("Run() = %v before its context ended (%v)", err, ctx.Err())
	}
}
