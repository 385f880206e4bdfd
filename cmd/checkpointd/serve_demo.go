package main

import (
	"context"
	"time"

	"github.com/checkpointd/checkpointd/internal/engine"
)

// demoClockOf is demoClock, unless the hidden --demo-speed is set: then
// the demo schedule runs on a clock that many times faster than the wall
// clock and reading the wall clock at --demo-epoch (now if unset), so
// that tests of several servers see slots seconds apart, at the same
// times in every server given the same epoch.
func demoClockOf(ctx context.Context, c serveConfig) engine.Clock {
	if c.demoSpeed <= 0 {
		return demoClock(ctx)
	}
	epoch := time.Now()
	if c.demoEpoch != 0 {
		epoch = time.UnixMilli(c.demoEpoch)
	}
	return engine.Accelerated(epoch, c.demoSpeed)
}
