package engine

import (
	"context"
	"time"
)

// Clock is the engine's only source of time. Tests and the simulator use a
// virtual clock (sim.Clock) so that weeks of schedule run in milliseconds,
// deterministically; a server uses System.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// Sleep waits until d has passed on this clock or ctx is done, and
	// returns ctx's error in the second case. A d of zero or less returns
	// at once, with ctx's error if it is already done.
	Sleep(ctx context.Context, d time.Duration) error
}

// System is the wall clock, in UTC.
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

// second drops the sub-second part of t: the API prints times to the
// second, an ObjectID holds whole seconds, and an oplog timestamp counts
// seconds, so every time the engine records is a whole second in UTC.
func second(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }
