// Package clock is checkpointd's one source of time. Every part that reads
// the time (the stores' leases and revocations, the engine's schedule,
// authentication's nonces and tokens, the HTTP server's logs, the
// administration commands' creation stamps) takes a Clock, given once
// where the program is wired: System in a server, a Virtual clock in
// tests and the simulator, so that expiry, schedules and weeks of history
// run deterministically without sleeping.
//
// The package imports only the standard library, so that every other
// package may import it.
package clock

import (
	"context"
	"time"
)

// Clock tells the time and waits on it.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits until d has passed on this clock or ctx is done, and
	// returns ctx's error in the second case. A d of zero or less returns
	// at once, with ctx's error if it is already done.
	Sleep(ctx context.Context, d time.Duration) error
}

// System is the wall clock, in UTC. It is the only reader of the wall
// clock in checkpointd, apart from measurements of real elapsed time for
// logs and metrics.
var System Clock = systemClock{}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now().UTC() }

func (systemClock) Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Accelerated returns a clock that runs speed times faster than base and
// reads epoch when base does: processes given the same epoch and speed
// agree on the time. It makes a real schedule's slots come seconds apart,
// for the demo and for tests of several processes.
func Accelerated(base Clock, epoch time.Time, speed float64) Clock {
	return accelerated{base: base, epoch: epoch, speed: speed}
}

type accelerated struct {
	base  Clock
	epoch time.Time
	speed float64
}

func (a accelerated) Now() time.Time {
	return a.epoch.Add(time.Duration(float64(a.base.Now().Sub(a.epoch)) * a.speed)).UTC()
}

func (a accelerated) Sleep(ctx context.Context, d time.Duration) error {
	return a.base.Sleep(ctx, time.Duration(float64(d)/a.speed))
}
