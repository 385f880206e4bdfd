package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// Sink stores checkpoints; the stores' AddCheckpoint has this shape.
type Sink interface {
	AddCheckpoint(ctx context.Context, cp backup.Checkpoint) error
}

// Pruner deletes a cluster's checkpoints whose Timestamp is before cutoff
// and says how many went; the stores' PruneCheckpoints has this shape.
type Pruner interface {
	PruneCheckpoints(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (int, error)
}

// SlotRecorder stores the record of a slot; the stores' RecordSlot has
// this shape.
type SlotRecorder interface {
	RecordSlot(ctx context.Context, s backup.Slot) error
}

// Claimer decides whether this instance takes a cluster's slot. Several
// instances sharing a store claim through it (a lease in the store) so
// that each slot is taken once; a single instance uses Solo.
type Claimer interface {
	Claim(ctx context.Context, clusterID backup.ObjectID, slot time.Time) (bool, error)
}

// FencedClaimer is a Claimer whose claims can be lost: a lease that
// expired while its holder was slow (a paused process) and was taken over.
// The scheduler stores its checkpoints through AddClaimed, which stores
// one only while the claim holds, so a slot never gets two.
type FencedClaimer interface {
	Claimer
	AddClaimed(ctx context.Context, cp backup.Checkpoint) error
}

// Solo is the Claimer of a lone instance: every slot is its own.
type Solo struct{}

// Claim claims every slot.
func (Solo) Claim(context.Context, backup.ObjectID, time.Time) (bool, error) { return true, nil }

// DefaultRetention is the retention of a schedule that names none: the
// point-in-time window's default (backup.DefaultWindow).
const DefaultRetention = backup.DefaultWindow

// Schedule says how often to checkpoint one cluster and how long to keep
// the checkpoints.
type Schedule struct {
	Cluster backup.Cluster
	Driver  Cluster
	// Interval is clusterCheckpointIntervalMin: 15, 30 or 60 minutes.
	// Slots sit on a fixed grid of that step in UTC (:00, :15, :30, :45
	// for 15 minutes).
	Interval time.Duration
	// Retention is how far back from each slot checkpoints are kept; zero
	// means DefaultRetention. It is at least Interval.
	Retention time.Duration
}

// Validate checks a schedule: a valid cluster with an id, under legacy
// backup (checkpoints do not exist for Cloud Backup), a driver, an
// accepted interval and a retention of at least the interval.
func (s Schedule) Validate() error {
	if err := s.Cluster.Validate(); err != nil {
		return err
	}
	if s.Cluster.ID.IsZero() || s.Cluster.GroupID.IsZero() {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"Cluster %s needs an id and a project id to take checkpoints.", s.Cluster.Name)
	}
	if s.Cluster.Backup != backup.BackupLegacy {
		return backup.ErrNotLegacyBackup()
	}
	if s.Driver == nil {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute, "Cluster %s has no driver.", s.Cluster.Name)
	}
	if err := backup.CheckInterval(s.Interval); err != nil {
		return err
	}
	if s.Retention < 0 || s.Retention > 0 && s.Retention < s.Interval {
		return backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
			"A retention window of %s is shorter than the checkpoint interval of %s.", s.Retention.String(), s.Interval.String())
	}
	return nil
}

func (s Schedule) retention() time.Duration {
	if s.Retention == 0 {
		return DefaultRetention
	}
	return s.Retention
}

// NextSlot returns the first slot of the interval grid at or after t.
func NextSlot(t time.Time, interval time.Duration) time.Time {
	t = t.UTC()
	s := t.Truncate(interval)
	if s.Before(t) {
		s = s.Add(interval)
	}
	return s
}

// Config is what New needs.
type Config struct {
	Clock   clock.Clock      // required
	IDs     *backup.IDSource // required
	Sink    Sink             // required
	Pruner  Pruner           // required
	Claimer Claimer          // nil means Solo
	// Timeouts bound each checkpoint's steps (see Take).
	Timeouts Timeouts
	// Restorable, if set, is called after each restorable checkpoint has
	// been stored, with its cluster and Timestamp: that cluster's newest
	// restore point, for a gauge of its age.
	Restorable func(clusterID backup.ObjectID, timestamp time.Time)
	// Observer, if set, learns the outcome of every slot this instance
	// claims (see Observer).
	Observer Observer
	// Slots, if set, stores the record of every slot this instance
	// claims (SlotRecord): its outcome, steps and reason. Source is the
	// records' source (backup.SourceEngine when empty).
	Slots     SlotRecorder
	Source    backup.SlotSource
	Logger    *slog.Logger // nil discards
	Schedules []Schedule
}

// Scheduler takes each cluster's checkpoints on its schedule.
type Scheduler struct {
	cfg Config
	log *slog.Logger
}

// New checks cfg and returns a scheduler for it. An invalid schedule is
// reported with its *backup.Error; a cluster may have one schedule.
func New(cfg Config) (*Scheduler, error) {
	if cfg.Clock == nil || cfg.IDs == nil || cfg.Sink == nil || cfg.Pruner == nil {
		return nil, errors.New("engine: a scheduler needs a clock, an id source, a sink and a pruner")
	}
	if cfg.Claimer == nil {
		cfg.Claimer = Solo{}
	}
	seen := map[backup.ObjectID]bool{}
	for _, s := range cfg.Schedules {
		if err := s.Validate(); err != nil {
			return nil, err
		}
		if seen[s.Cluster.ID] {
			return nil, backup.Errorf(backup.Invalid, backup.CodeInvalidAttribute,
				"Cluster %s has more than one checkpoint schedule.", s.Cluster.Name)
		}
		seen[s.Cluster.ID] = true
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{cfg: cfg, log: log}, nil
}

// storeTimeout bounds storing a checkpoint that has been taken; the store
// call is detached from the caller's context so that a checkpoint taken
// just before shutdown is still recorded.
const storeTimeout = 10 * time.Second

// Run takes checkpoints until ctx is done, then returns nil once every
// checkpoint under way has finished (its balancer restarted); with no
// schedules it just waits for ctx. Each cluster has a goroutine of its
// own, so a slow cluster delays no other; the Sink, Pruner, Claimer and
// Restorable hook are called from all of them at once.
//
// At each slot of a cluster the scheduler claims the slot, takes the
// checkpoint with the slot as its Timestamp, stores it, reports it if
// restorable, and prunes the cluster's checkpoints older than the slot
// minus the retention. A slot whose balancer could not be stopped yields
// no checkpoint. Slots that passed while a checkpoint ran long are
// skipped, not caught up: their time is gone.
//
// The scheduler is the server itself at work: it reads and writes the
// store as backup.System.
func (s *Scheduler) Run(ctx context.Context) error {
	ctx = backup.WithPrincipal(ctx, backup.System)
	if len(s.cfg.Schedules) == 0 {
		<-ctx.Done()
		return nil
	}
	var wg sync.WaitGroup
	for _, sc := range s.cfg.Schedules {
		wg.Go(func() { s.loop(ctx, sc) })
	}
	wg.Wait()
	return nil
}

func (s *Scheduler) loop(ctx context.Context, sc Schedule) {
	clk := s.cfg.Clock
	next := NextSlot(clk.Now(), sc.Interval)
	for {
		// Sleep measures time its own way (a timer on the monotonic
		// clock); a wall clock set back meanwhile makes it wake before
		// the slot, so sleep again until the clock reads the slot.
		for now := clk.Now(); now.Before(next); now = clk.Now() {
			if err := clk.Sleep(ctx, next.Sub(now)); err != nil {
				return
			}
		}
		if ctx.Err() != nil {
			return
		}
		s.slot(ctx, sc, next)
		following := next.Add(sc.Interval)
		if now := clk.Now(); following.Before(now) {
			following = NextSlot(now, sc.Interval)
			s.log.Warn("checkpoint slots skipped", "cluster", sc.Cluster.Name,
				"from", next.Add(sc.Interval), "to", following.Add(-sc.Interval))
		}
		next = following
	}
}

// slot takes, stores and prunes one slot of one cluster.
func (s *Scheduler) slot(ctx context.Context, sc Schedule, slot time.Time) {
	c := sc.Cluster
	log := s.log.With("cluster", c.Name, "slot", slot)
	start := s.cfg.Clock.Now()
	ok, err := s.cfg.Claimer.Claim(ctx, c.ID, slot)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("checkpoint slot not claimed", "err", err)
			s.observe(c, OutcomeSkipped, start)
			var tr Trace
			tr.fail(backup.ReasonClaimFailed, "", "the slot could not be claimed: "+err.Error())
			s.record(ctx, log, SlotRecord(c, slot, backup.Checkpoint{}, tr, err, nil, s.source(), s.cfg.Clock.Now()))
		}
		return
	}
	if !ok {
		return
	}
	cp, tr, err := TakeTraced(ctx, sc.Driver, c, Options{Clock: s.cfg.Clock, IDs: s.cfg.IDs, Slot: slot, Timeouts: s.cfg.Timeouts, Logger: s.log})
	switch {
	case errors.Is(err, ErrBalancerNotRestarted):
		log.Error("balancer left stopped", "err", err)
	case err != nil && ctx.Err() == nil:
		log.Warn("checkpoint slot skipped", "err", err)
	}
	var storeErr error
	if !cp.ID.IsZero() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
		var err error
		if fc, ok := s.cfg.Claimer.(FencedClaimer); ok {
			err = fc.AddClaimed(sctx, cp)
		} else {
			err = s.cfg.Sink.AddCheckpoint(sctx, cp)
		}
		cancel()
		storeErr = err
		switch {
		case err != nil:
			log.Error("checkpoint not stored", "checkpoint", cp.ID.Hex(), "err", err)
		default:
			// After the commit: a crash before this line may lose the
			// line, never the checkpoint it reports.
			log.Debug("checkpoint taken", "checkpoint", cp.ID.Hex(), "timestamp", cp.Timestamp,
				"started", cp.Started, "completed", cp.Completed, "restorable", cp.Restorable)
			if cp.Restorable && s.cfg.Restorable != nil {
				s.cfg.Restorable(c.ID, cp.Timestamp)
			}
		}
	}
	s.observe(c, slotOutcome(cp, storeErr), start)
	// A checkpoint refused as a conflict lost its slot to another
	// instance (its claim expired and was taken over), which records the
	// slot; every other slot is this instance's to record.
	if storeErr == nil || backup.KindOf(storeErr) != backup.Conflict {
		s.record(ctx, log, SlotRecord(c, slot, cp, tr, err, storeErr, s.source(), s.cfg.Clock.Now()))
	}
	if ctx.Err() != nil {
		return
	}
	if _, err := s.cfg.Pruner.PruneCheckpoints(ctx, c.ID, slot.Add(-sc.retention())); err != nil {
		log.Error("checkpoints not pruned", "err", err)
	}
}

func (s *Scheduler) source() backup.SlotSource {
	if s.cfg.Source == "" {
		return backup.SourceEngine
	}
	return s.cfg.Source
}

// record stores a slot's record, detached from ctx as a checkpoint is
// (the record of a slot cut short by shutdown is still written). A record
// that cannot be stored is logged, never retried: the slot's checkpoint,
// if any, is stored already, and the sweep may call the slot missed.
func (s *Scheduler) record(ctx context.Context, log *slog.Logger, rec backup.Slot) {
	if s.cfg.Slots == nil {
		return
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), storeTimeout)
	defer cancel()
	if err := s.cfg.Slots.RecordSlot(sctx, rec); err != nil {
		log.Error("slot record not stored", "outcome", rec.Outcome, "reason", rec.Reason, "err", err)
		return
	}
	if rec.Outcome != backup.SlotTaken {
		log.Info("checkpoint slot", "outcome", rec.Outcome, "reason", rec.Reason, "detail", rec.Detail)
	}
}
