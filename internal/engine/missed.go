package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// MissedStore is what the sweep of missed slots needs of the store (the
// stores' SlotClusters and RecordMissedSlots).
type MissedStore interface {
	SlotClusters(ctx context.Context) ([]backup.Cluster, error)
	RecordMissedSlots(ctx context.Context, clusterID backup.ObjectID, slots []time.Time, reason backup.SlotReason, detail string) (int, error)
	PruneSlots(ctx context.Context, clusterID backup.ObjectID, cutoff time.Time) (int, error)
}

// Defaults of Sweep.
const (
	// DefaultMissedGrace is how long after a slot the sweep waits for its
	// record before it calls the slot missed: longer than a checkpoint
	// takes with the default timeouts (a minute's stop, two minutes'
	// discovery, the restarts) and than the agent's lag to the slot. A
	// slot still claimed then (a taker at work) is left for later, and a
	// record that arrives after all replaces the MISSED one.
	DefaultMissedGrace = 10 * time.Minute
	// DefaultSweepEvery is how often the sweep runs, on the wall clock.
	DefaultSweepEvery = time.Minute
)

// The reasons the sweep gives, by who takes the cluster's checkpoints.
const (
	detailAgentNotRunning = "agent not running: no agent reported this slot"
	detailNoInstance      = "no instance of the server ran this slot"
)

// Sweep records the slots that passed with no record as MISSED, and
// prunes the records older than each cluster's window: slots of
// every cluster whose slots are expected (legacy backup STARTED, an
// interval set, any driver), from the later of the cluster's creation and
// the start of its point-in-time window, up to Grace ago. Several servers
// sharing a store may each run one: the store records each slot once and
// never over a record, a checkpoint or a live claim.
//
// Each cluster's slots are swept once: the sweep remembers, per cluster,
// up to where it has swept. A cluster that leaves the list (its backup
// stopped, its schedule turned off) and comes back is swept from its
// return, so the time it was off is not called missed; a server that
// starts sweeps the cluster's whole window, since it cannot know what
// happened while no server ran: those slots were missed unless something
// recorded them.
type Sweep struct {
	Store  MissedStore
	Clock  clock.Clock
	Grace  time.Duration // zero means DefaultMissedGrace
	Every  time.Duration // zero means DefaultSweepEvery
	Logger *slog.Logger  // nil discards

	swept  map[backup.ObjectID]time.Time // the next slot to sweep
	listed map[backup.ObjectID]bool      // listed by the last pass
	passes int
}

// Once sweeps every cluster once and returns how many MISSED records it
// stored. An error of one cluster does not stop the others; they are
// joined.
func (s *Sweep) Once(ctx context.Context) (int, error) {
	if s.Store == nil || s.Clock == nil {
		return 0, errors.New("engine: a sweep needs a store and a clock")
	}
	ctx = backup.WithPrincipal(ctx, backup.System)
	if s.swept == nil {
		s.swept, s.listed = map[backup.ObjectID]time.Time{}, map[backup.ObjectID]bool{}
	}
	grace := s.Grace
	if grace <= 0 {
		grace = DefaultMissedGrace
	}
	clusters, err := s.Store.SlotClusters(ctx)
	if err != nil {
		return 0, err
	}
	now := s.Clock.Now()
	upto := now.Add(-grace)
	listed := map[backup.ObjectID]bool{}
	total := 0
	var errs []error
	for _, c := range clusters {
		listed[c.ID] = true
		interval := c.Schedule.Interval
		if backup.CheckInterval(interval) != nil {
			continue
		}
		// The records older than the window go, as the checkpoints do:
		// nothing else prunes those of a cluster nothing reports for.
		if _, err := s.Store.PruneSlots(ctx, c.ID, now.Add(-c.Schedule.WindowOrDefault())); err != nil {
			errs = append(errs, err)
		}
		from, ok := s.swept[c.ID]
		switch {
		case !ok && s.passes > 0 && !s.listed[c.ID]:
			// Back on (or new) since the last pass: from now on.
			from = upto
		case !ok:
			from = now.Add(-c.Schedule.WindowOrDefault())
		}
		if c.Created.After(from) {
			from = c.Created
		}
		// Nor anything older than the window (a long pause between
		// passes): those records would be pruned at once.
		if w := now.Add(-c.Schedule.WindowOrDefault()); from.Before(w) {
			from = w
		}
		var slots []time.Time
		for sl := NextSlot(from, interval); !sl.After(upto); sl = sl.Add(interval) {
			slots = append(slots, sl)
		}
		if len(slots) == 0 {
			if !ok {
				s.swept[c.ID] = NextSlot(from, interval)
			}
			continue
		}
		reason, detail := backup.ReasonAgentNotRunning, detailAgentNotRunning
		if c.Schedule.DriverOrDefault() == backup.DriverSimulated {
			reason, detail = backup.ReasonNoInstance, detailNoInstance
		}
		n, err := s.Store.RecordMissedSlots(ctx, c.ID, slots, reason, detail)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.swept[c.ID] = slots[len(slots)-1].Add(interval)
		total += n
		if n > 0 {
			s.log().Warn("checkpoint slots missed", "cluster", c.Name, "slots", n, "reason", reason,
				"from", slots[0], "to", slots[len(slots)-1])
		}
	}
	for id := range s.swept {
		if !listed[id] {
			delete(s.swept, id)
		}
	}
	s.listed = listed
	s.passes++
	return total, errors.Join(errs...)
}

func (s *Sweep) log() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// Run sweeps every Every until ctx is done, then returns nil. As the
// supervisor's refresh, the timing is on the wall clock, not on Clock: it
// is how soon a missed slot is recorded, not a schedule, and the slots it
// sweeps are Clock's.
func (s *Sweep) Run(ctx context.Context) error {
	every := s.Every
	if every <= 0 {
		every = DefaultSweepEvery
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Once(ctx); err != nil && ctx.Err() == nil {
			s.log().Error("missed slots not swept", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
