package main

import (
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
)

// demoClock is the clock the engine schedules the demo clusters on: the
// command's, unless the hidden --demo-speed is set: then a clock that
// many times faster and reading the command's clock at --demo-epoch (now
// if unset), so that tests of several servers see slots seconds apart,
// at the same times in every server given the same epoch.
func (e *env) demoClock(c serveConfig) clock.Clock {
	if c.demoSpeed <= 0 {
		return e.clock
	}
	epoch := e.clock.Now()
	if c.demoEpoch != 0 {
		epoch = time.UnixMilli(c.demoEpoch)
	}
	return clock.Accelerated(e.clock, epoch, c.demoSpeed)
}
