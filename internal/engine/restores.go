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
	FinishDueRestoreJobs(ctx context.Context, now time.Time) (int, error)
}

// RestoreTick is how often Restores looks for simulated restore jobs that
// are due: a job is seen FINISHED at most this long after its due time.
const RestoreTick = 5 * time.Second

// Restores carries the restore jobs of SIMULATED clusters to FINISHED at
// the time each is due (backup.SimulatedRestoreDue), on clk, until ctx is
// done; it returns ctx's error. A store error is logged and retried at the
// next tick. Agent clusters' jobs are left to their agents.
func Restores(ctx context.Context, st RestoreFinisher, clk clock.Clock, log *slog.Logger) error {
	sys := backup.WithPrincipal(ctx, backup.System)
	for {
		if n, err := st.FinishDueRestoreJobs(sys, clk.Now()); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			log.Warn("restore jobs not finished", "err", err)
		} else if n > 0 {
			log.Info("restore jobs finished", "jobs", n)
		}
		if err := clk.Sleep(ctx, RestoreTick); err != nil {
			return err
		}
	}
}
