package engine

import (
	"context"
	"log/slog"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// RestoreFinisher is what Restores calls: the store's
// FinishDueRestoreJobs.
type RestoreFinisher interface {
	FinishDueRestoreJobs(ctx context.Context, now time.Time) (int, time.Time, error)
}

// RestoreRetry is how long Restores waits after a store error.
const RestoreRetry = 5 * time.Second

// Restores carries the restore jobs of SIMULATED clusters to FINISHED at
// the time each is due (backup.SimulatedRestoreDue), on clk, until ctx is
// done; it returns ctx's error. It sleeps on clk until the next job is
// due, and with none left waits for wake, which the API signals when it
// creates jobs (so that an idle server does not tick). Agent clusters'
// jobs are left to their agents.
func Restores(ctx context.Context, st RestoreFinisher, clk clock.Clock, wake <-chan struct{}, log *slog.Logger) error {
	sys := backup.WithPrincipal(ctx, backup.System)
	for {
		now := clk.Now()
		n, next, err := st.FinishDueRestoreJobs(sys, now)
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			log.Warn("restore jobs not finished", "err", err)
			next = now.Add(RestoreRetry)
		case n > 0:
			log.Info("restore jobs finished", "jobs", n)
		}
		if err := waitRestores(ctx, clk, wake, next); err != nil {
			return err
		}
	}
}

// waitRestores waits until next on clk (forever when it is zero), or for
// wake, or for ctx.
func waitRestores(ctx context.Context, clk clock.Clock, wake <-chan struct{}, next time.Time) error {
	if next.IsZero() {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
			return nil
		}
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slept := make(chan error, 1)
	// From the clock's time now, not the loop's: the store's call took
	// some of it.
	d := next.Sub(clk.Now())
	go func() { slept <- clk.Sleep(sctx, d) }()
	select {
	case <-wake:
		cancel()
		<-slept
		return nil
	case <-slept:
		return ctx.Err()
	}
}
