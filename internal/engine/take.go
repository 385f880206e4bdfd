package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// Defaults of Timeouts.
const (
	// DefaultStopTimeout is balancerStop's own default maxTimeMS.
	DefaultStopTimeout = 60 * time.Second
	// DefaultDiscoveryWait leaves the backup agent time to tail and ship
	// the oplog slices that hold the tokens.
	DefaultDiscoveryWait = 2 * time.Minute
	// DefaultRestartTimeout bounds one attempt to restart the balancer.
	DefaultRestartTimeout = 30 * time.Second
)

// restartAttempts is how often Take tries to restart the balancer before
// it gives up and reports ErrBalancerNotRestarted; attempts are a second,
// then two, apart on the Clock.
const restartAttempts = 3

// Timeouts bound the steps of the procedure. A zero field takes its
// default.
type Timeouts struct {
	// Stop bounds the wait for a running migration when the balancer is
	// stopped.
	Stop time.Duration
	// Discovery bounds the wait, counted from the balancer's restart, for
	// all tokens of a checkpoint to show up in the tailed oplogs.
	Discovery time.Duration
	// Restart bounds each attempt to restart the balancer. Attempts run on
	// a context of their own, detached from the caller's, so that a
	// cancelled caller still restarts the balancer; the bound is wall-clock
	// time, like the driver's network calls.
	Restart time.Duration
}

func (t Timeouts) withDefaults() Timeouts {
	if t.Stop <= 0 {
		t.Stop = DefaultStopTimeout
	}
	if t.Discovery <= 0 {
		t.Discovery = DefaultDiscoveryWait
	}
	if t.Restart <= 0 {
		t.Restart = DefaultRestartTimeout
	}
	return t
}

// Options are what Take needs besides the driver and the cluster.
type Options struct {
	Clock clock.Clock      // required
	IDs   *backup.IDSource // required: makes the checkpoint's id from its start
	// Slot is the scheduled time of the checkpoint, which becomes its
	// Timestamp; zero for a checkpoint taken outside a schedule, whose
	// Timestamp is then its start. It must not be after the clock's now.
	Slot     time.Time
	Timeouts Timeouts
	Logger   *slog.Logger // nil discards; parts whose token was lost are logged at Warn
}

// Take runs the checkpoint procedure on one cluster:
//
//  1. Stop the balancer, waiting at most Timeouts.Stop for a running
//     migration. Started is when it has stopped.
//  2. Write a token naming the checkpoint to every member set's oplog:
//     each shard's, then the config server's.
//  3. Restart the balancer. Completed is when it has restarted.
//  4. Find each written token in its oplog, waiting at most
//     Timeouts.Discovery in all, and record its timestamp in the part.
//
// The balancer is restarted on every path once step 1 has been tried:
// after a stop that failed or timed out (balancerStop leaves the balancer
// disabled when its wait times out), after a cancelled ctx (on a context
// detached from it), and before discovery, so that the balancer is off
// only while the tokens are written; discovery needs no stopped balancer,
// the tokens already mark the cut.
//
// Take returns a checkpoint (a non-zero ID) whenever the tokens were
// written, and the caller records every such checkpoint, even one that
// comes with an error: the only error it comes with wraps
// ErrBalancerNotRestarted, which concerns the cluster, not the cut. A
// checkpoint is Restorable only when every part's token was discovered; a
// token that could not be written (the member was unreachable) or did not
// show up in time leaves its part undiscovered.
//
// When the balancer cannot be stopped — a migration outlasts the timeout,
// or the stop fails — there is no checkpoint, only an error: the slot is
// skipped. Without a stopped balancer a chunk may be in flight between
// shards and the per-shard cuts need not agree, so the checkpoint would be
// useless for the one thing it is for. The research notes find the
// service's behaviour here undocumented and read "skip the slot" out of it
// (cluster snapshots in that case were still taken, flagged possibly
// inconsistent, but a snapshot has data of its own to offer and a
// checkpoint has not). A cancelled ctx likewise leaves no checkpoint.
//
// Replica-set clusters have no balancer: steps 1 and 3 are left out and
// Started is when the procedure begins.
func Take(ctx context.Context, drv Cluster, c backup.Cluster, o Options) (backup.Checkpoint, error) {
	cp, _, err := TakeTraced(ctx, drv, c, o)
	return cp, err
}

// TakeTraced is Take, and the Trace of what it did: the steps with their
// times and, when the result is not a restorable checkpoint with the
// balancer restarted, why (SlotRecord makes a slot's record of them).
func TakeTraced(ctx context.Context, drv Cluster, c backup.Cluster, o Options) (backup.Checkpoint, Trace, error) {
	var tr Trace
	cp, err := take(ctx, drv, c, o, &tr)
	return cp, tr, err
}

func take(ctx context.Context, drv Cluster, c backup.Cluster, o Options, tr *Trace) (backup.Checkpoint, error) {
	if drv == nil || o.Clock == nil || o.IDs == nil {
		return backup.Checkpoint{}, errors.New("engine: Take needs a driver, a clock and an id source")
	}
	if err := c.Validate(); err != nil {
		return backup.Checkpoint{}, err
	}
	if c.ID.IsZero() || c.GroupID.IsZero() {
		return backup.Checkpoint{}, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Cluster %s needs an id and a project id to take checkpoints.", c.Name)
	}
	if !o.Slot.IsZero() && o.Slot.After(o.Clock.Now()) {
		return backup.Checkpoint{}, fmt.Errorf("engine: slot %s is in the future", o.Slot.Format(time.RFC3339))
	}
	if err := ctx.Err(); err != nil {
		return backup.Checkpoint{}, err
	}
	t := o.Timeouts.withDefaults()
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	balancer := c.Type == backup.Sharded

	if balancer {
		tr.step(o.Clock, backup.StepBalancerStopRequested, "")
		if err := drv.StopBalancer(ctx, t.Stop); err != nil {
			switch {
			case ctx.Err() != nil:
				tr.fail(backup.ReasonAbandoned, "", "checkpoint abandoned while the balancer was stopping")
			case errors.Is(err, ErrBalancerTimeout):
				tr.fail(backup.ReasonBalancerNotStopped, "", fmt.Sprintf("balancer would not stop within %s", seconds(t.Stop)))
			default:
				tr.fail(backup.ReasonBalancerStopFailed, "", "balancer could not be stopped: "+err.Error())
			}
			err = fmt.Errorf("engine: stop balancer of %s: %w", c.Name, err)
			rerr := restart(ctx, drv, o.Clock, t.Restart)
			if rerr == nil {
				tr.step(o.Clock, backup.StepBalancerRestarted, "")
			}
			return backup.Checkpoint{}, errors.Join(err, rerr)
		}
		tr.step(o.Clock, backup.StepBalancerStopped, "")
	}
	started := second(o.Clock.Now())
	cp := backup.Checkpoint{
		ID:        o.IDs.New(started),
		ClusterID: c.ID,
		GroupID:   c.GroupID,
		Started:   started,
		// Timestamp is the scheduled slot, not a token's timestamp. In
		// every published sample the timestamp is 4 to 65 s before
		// started, while the token dates share started's second; two
		// consecutive Cloud Manager checkpoints have timestamps exactly
		// 15:00 apart and starts 16:01 apart. So the service recorded the
		// slot of its fixed 15/30/60-minute grid as the point the
		// checkpoint restores to, and ran the procedure a little later
		// (research notes §2.2). A slot is also on the service's own
		// clock, so it stays before started and completed however far a
		// shard's clock is skewed, which a token's date would not.
		Timestamp: started,
	}
	if !o.Slot.IsZero() {
		cp.Timestamp = second(o.Slot)
	}
	tok := Token{Cluster: c.ID, Checkpoint: cp.ID}
	members := Members(c)
	written := make([]bool, len(members))
	for i, m := range members {
		if ctx.Err() != nil {
			break
		}
		if err := drv.WriteToken(ctx, m, tok); err != nil {
			log.Warn("checkpoint token not written", "cluster", c.Name, "checkpoint", cp.ID.Hex(), "member", m.Name(), "err", err)
			if ctx.Err() == nil {
				label := backup.PartLabel(m.Part())
				tr.fail(backup.ReasonPartUnreachable, label, partNoun(m)+" "+label+" unreachable: token not written")
			}
			continue
		}
		tr.step(o.Clock, backup.StepTokenWritten, backup.PartLabel(m.Part()))
		written[i] = true
	}
	var restartErr error
	if balancer {
		restartErr = restart(ctx, drv, o.Clock, t.Restart)
		if restartErr == nil {
			tr.step(o.Clock, backup.StepBalancerRestarted, "")
		}
	}
	// Completed is when the balancer restarted, or when the last attempt
	// to restart it failed: the checkpoint's own work ends there either
	// way.
	cp.Completed = second(o.Clock.Now())
	if err := ctx.Err(); err != nil {
		tr.abandon()
		return backup.Checkpoint{}, errors.Join(fmt.Errorf("engine: checkpoint of %s abandoned: %w", c.Name, err), restartErr)
	}

	deadline := o.Clock.Now().Add(t.Discovery)
	cp.Restorable = true
	cp.Parts = make([]backup.Part, 0, len(members))
	for i, m := range members {
		p := m.Part()
		if written[i] {
			ts, err := drv.DiscoverToken(ctx, m, tok, max(0, deadline.Sub(o.Clock.Now())))
			label := backup.PartLabel(p)
			switch {
			case ctx.Err() != nil:
				tr.abandon()
				return backup.Checkpoint{}, errors.Join(fmt.Errorf("engine: checkpoint of %s abandoned: %w", c.Name, ctx.Err()), restartErr)
			case err != nil:
				log.Warn("checkpoint token not discovered", "cluster", c.Name, "checkpoint", cp.ID.Hex(), "member", m.Name(), "err", err)
				if errors.Is(err, ErrNotDiscovered) {
					tr.fail(backup.ReasonTokenNotDiscovered, label, fmt.Sprintf("token on %s %s not discovered within %s", partNoun(m), label, seconds(t.Discovery)))
				} else {
					tr.fail(backup.ReasonTokenNotDiscovered, label, fmt.Sprintf("token on %s %s not discovered: %s", partNoun(m), label, err.Error()))
				}
			case ts.Increment == 0 || ts.Date.IsZero():
				log.Warn("checkpoint token has no timestamp", "cluster", c.Name, "checkpoint", cp.ID.Hex(), "member", m.Name())
				tr.fail(backup.ReasonTokenNotDiscovered, label, fmt.Sprintf("token on %s %s found without a timestamp", partNoun(m), label))
			default:
				p.TokenDiscovered = true
				p.TokenTimestamp = backup.BSONTimestamp{Date: second(ts.Date), Increment: ts.Increment}
				tr.step(o.Clock, backup.StepTokenDiscovered, label)
			}
		}
		cp.Restorable = cp.Restorable && p.TokenDiscovered
		cp.Parts = append(cp.Parts, p)
	}
	if restartErr != nil {
		tr.fail(backup.ReasonBalancerNotRestarted, "", "balancer could not be restarted: "+restartErr.Error())
	}
	return cp, restartErr
}

// restart enables the balancer on a context detached from ctx, so that it
// runs even when ctx is done, trying a few times before it gives up.
func restart(ctx context.Context, drv Cluster, clk clock.Clock, timeout time.Duration) error {
	bg := context.WithoutCancel(ctx)
	var errs []error
	for attempt := range restartAttempts {
		if attempt > 0 {
			_ = clk.Sleep(bg, time.Duration(attempt)*time.Second)
		}
		actx, cancel := context.WithTimeout(bg, timeout)
		err := drv.StartBalancer(actx)
		cancel()
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return fmt.Errorf("%w after %d attempts: %w", ErrBalancerNotRestarted, restartAttempts, errors.Join(errs...))
}
