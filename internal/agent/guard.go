package agent

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// Driver is what the agent needs of a cluster: the procedure's verbs, and
// whether the balancer is stopped already (mongodb.Cluster has them).
type Driver interface {
	engine.Cluster
	// BalancerStopped reports whether the balancer is disabled.
	BalancerStopped(ctx context.Context) (bool, error)
}

// guard wraps the driver the procedure drives with the agent's balancer
// safety:
//
//   - A balancer the operator stopped before the slot is not touched: the
//     checkpoint is taken (the balancer is stopped, which is all the
//     procedure needs), the balancer left stopped, and the agent says so.
//   - Before it stops the balancer the agent records that it does, in the
//     state file, durably; once the balancer runs again it clears the
//     record. An agent killed in between leaves the record, and the next
//     one restarts the balancer before anything else (recover).
//   - StartBalancer starts only a balancer this agent stopped: after a
//     stop that failed before it was tried, nothing is started.
//
// The engine calls one cluster's driver from one goroutine at a time;
// the mutex orders those calls against retryRestart's.
type guard struct {
	drv     Driver
	dir     string // state directory
	cluster string // the record's Cluster
	clock   clock.Clock
	log     *slog.Logger
	m       *Metrics

	mu sync.Mutex
	// stopped: this agent stopped the balancer (the record is written)
	// and has not restarted it yet.
	stopped bool
	// operator: the operator had stopped the balancer before the slot
	// under way.
	operator bool
	// inSlot: a checkpoint is between StopBalancer and StartBalancer.
	inSlot bool
}

func (g *guard) StopBalancer(ctx context.Context, timeout time.Duration) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inSlot = true
	off, err := g.drv.BalancerStopped(ctx)
	if err != nil {
		return fmt.Errorf("agent: read the balancer's state: %w", err)
	}
	if off && !g.stopped {
		g.operator = true
		g.log.Warn("balancer already stopped by the operator: the checkpoint is taken and the balancer left stopped", "cluster", g.cluster)
		return nil
	}
	if err := writeState(g.dir, balancerState{Cluster: g.cluster, StoppedAt: g.clock.Now().UTC()}); err != nil {
		return fmt.Errorf("agent: the balancer is not stopped, its stop could not be recorded: %w", err)
	}
	g.stopped = true
	g.m.balancerStopped(true)
	return g.drv.StopBalancer(ctx, timeout)
}

func (g *guard) StartBalancer(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inSlot = false
	if g.operator {
		g.operator = false
		g.log.Info("balancer left stopped, as the operator had it", "cluster", g.cluster)
		return nil
	}
	return g.start(ctx)
}

// start starts the balancer if this agent stopped it, and clears the
// record once it runs. mu is held.
func (g *guard) start(ctx context.Context) error {
	if !g.stopped {
		return nil
	}
	if err := g.drv.StartBalancer(ctx); err != nil {
		return err
	}
	g.stopped = false
	g.m.balancerStopped(false)
	if err := clearState(g.dir); err != nil {
		// The balancer runs; a stale record only makes the next start
		// restart a running balancer, which is harmless.
		g.log.Error("balancer restarted but its record not cleared", "err", err)
	}
	return nil
}

// retryRestart restarts a balancer this agent stopped whose restart
// failed (Take gave up after its attempts), unless a checkpoint is under
// way; it is called between slots.
func (g *guard) retryRestart(ctx context.Context) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.stopped || g.inSlot {
		return
	}
	if err := g.start(ctx); err != nil {
		g.log.Error("balancer still stopped: restart failed again", "cluster", g.cluster, "err", err)
		return
	}
	g.log.Info("balancer restarted", "cluster", g.cluster)
}

func (g *guard) WriteToken(ctx context.Context, m engine.Member, tok engine.Token) error {
	return g.drv.WriteToken(ctx, m, tok)
}

func (g *guard) DiscoverToken(ctx context.Context, m engine.Member, tok engine.Token, wait time.Duration) (backup.BSONTimestamp, error) {
	return g.drv.DiscoverToken(ctx, m, tok, wait)
}

// recoverBalancer restarts a balancer that a previous agent with this
// state directory recorded as stopped and did not restart (it was
// killed), trying until it succeeds or ctx is done: nothing else may
// happen while a balancer this agent's predecessor stopped stays stopped.
func recoverBalancer(ctx context.Context, drv Driver, dir, cluster string, clk clock.Clock, log *slog.Logger) error {
	st, ok, err := readState(dir)
	if err != nil || !ok {
		return err
	}
	if st.Cluster != cluster {
		return fmt.Errorf("agent: %s/%s records that the balancer of %s was stopped at %s, but this agent reports for %s: restart that balancer (sh.startBalancer()) and remove the file, or give this agent its own state directory",
			dir, stateFile, st.Cluster, st.StoppedAt.Format(time.RFC3339), cluster)
	}
	log.Warn("balancer left stopped by a previous run of the agent: restarting it", "cluster", cluster, "stopped_at", st.StoppedAt)
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, engine.DefaultRestartTimeout)
		err := drv.StartBalancer(actx)
		cancel()
		if err == nil {
			break
		}
		log.Error("balancer not restarted; retrying", "cluster", cluster, "err", err)
		if err := clk.Sleep(ctx, min(time.Duration(attempt+1)*time.Second, 30*time.Second)); err != nil {
			return fmt.Errorf("agent: the balancer a previous run stopped is still stopped: %w", err)
		}
	}
	log.Info("balancer restarted", "cluster", cluster)
	return clearState(dir)
}
