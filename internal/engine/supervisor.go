package engine

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// ScheduleSource lists the clusters whose checkpoints the engine takes,
// each with its schedule (backup.Cluster.Schedule); the stores' Schedules
// has this shape.
type ScheduleSource interface {
	Schedules(ctx context.Context) ([]backup.Cluster, error)
}

// DriverFactory returns the driver that takes a cluster's checkpoints.
// It is called again whenever the cluster's topology or schedule changes.
type DriverFactory func(c backup.Cluster) (Cluster, error)

// DefaultRefresh is how often a Supervisor reads the schedules: a cluster
// created, changed or deleted (through any instance) is taken into
// account within this time.
const DefaultRefresh = 5 * time.Second

// SupervisorConfig is what NewSupervisor needs: a scheduler's Config,
// whose Schedules it fills itself, a source of schedules and a driver
// factory.
type SupervisorConfig struct {
	Config
	Source  ScheduleSource // required
	Drivers DriverFactory  // required
	// Refresh is how often Source is read; zero means DefaultRefresh.
	Refresh time.Duration
}

// Supervisor keeps a scheduler loop running for every cluster Source
// lists, as the list changes: a new cluster starts taking checkpoints at
// its next slot; a changed one (topology, interval, window) finishes the
// checkpoint under way and goes on with a new driver and schedule; a
// removed one (deleted, checkpoints or backup turned off, driver changed
// to AGENT) stops after the checkpoint under way.
type Supervisor struct {
	cfg   SupervisorConfig
	sched *Scheduler
	log   *slog.Logger
}

// NewSupervisor checks cfg.
func NewSupervisor(cfg SupervisorConfig) (*Supervisor, error) {
	if cfg.Source == nil || cfg.Drivers == nil {
		return nil, errors.New("engine: a supervisor needs a schedule source and a driver factory")
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	cfg.Schedules = nil
	sched, err := New(cfg.Config)
	if err != nil {
		return nil, err
	}
	return &Supervisor{cfg: cfg, sched: sched, log: sched.log}, nil
}

// loop is one cluster's scheduler loop under a Supervisor.
type loop struct {
	cluster backup.Cluster // as listed when the loop was made
	cancel  context.CancelFunc
	done    chan struct{}
}

// Run supervises until ctx is done, then returns nil once every loop has
// stopped (every checkpoint under way finished, balancers restarted).
// A failure to read the schedules keeps the loops as they are and is
// retried at the next refresh. Refresh timing is on the wall clock, not
// on Config.Clock: it is how fast changes are seen, not a schedule.
//
// The supervisor and its schedulers are the server itself at work: they
// read and write the store as backup.System.
func (s *Supervisor) Run(ctx context.Context) error {
	ctx = backup.WithPrincipal(ctx, backup.System)
	loops := map[backup.ObjectID]*loop{}
	// refused remembers clusters whose schedule or driver was refused, so
	// that the error is logged once per change rather than per refresh.
	refused := map[backup.ObjectID]backup.Cluster{}
	var wg sync.WaitGroup
	defer func() {
		for _, l := range loops {
			l.cancel()
		}
		wg.Wait()
	}()
	t := time.NewTicker(s.cfg.Refresh)
	defer t.Stop()
	for {
		s.refresh(ctx, loops, refused, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Supervisor) refresh(ctx context.Context, loops map[backup.ObjectID]*loop, refused map[backup.ObjectID]backup.Cluster, wg *sync.WaitGroup) {
	clusters, err := s.cfg.Source.Schedules(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("checkpoint schedules not read; keeping the current ones", "err", err)
		}
		return
	}
	listed := make(map[backup.ObjectID]bool, len(clusters))
	for _, c := range clusters {
		listed[c.ID] = true
		old := loops[c.ID]
		if old != nil && reflect.DeepEqual(old.cluster, c) {
			continue
		}
		if r, ok := refused[c.ID]; ok && reflect.DeepEqual(r, c) {
			continue
		}
		delete(refused, c.ID)
		sc, err := s.schedule(c)
		if err != nil {
			refused[c.ID] = c
			s.log.Error("cluster not scheduled", "cluster", c.Name, "cluster_id", c.ID.Hex(), "err", err)
			if old != nil {
				old.cancel()
				delete(loops, c.ID)
			}
			continue
		}
		if old != nil {
			old.cancel()
			s.log.Info("checkpoint schedule changed", "cluster", c.Name, "interval", sc.Interval, "window", sc.Retention)
		} else {
			s.log.Info("checkpoint schedule started", "cluster", c.Name, "interval", sc.Interval, "window", sc.Retention)
		}
		lctx, cancel := context.WithCancel(ctx)
		l := &loop{cluster: c, cancel: cancel, done: make(chan struct{})}
		loops[c.ID] = l
		wg.Go(func() {
			defer close(l.done)
			// The previous loop of the cluster finishes its checkpoint
			// first: two loops never drive one cluster at once.
			if old != nil {
				<-old.done
			}
			s.sched.loop(lctx, sc)
		})
	}
	for id, l := range loops {
		if !listed[id] {
			l.cancel()
			delete(loops, id)
			s.log.Info("checkpoint schedule stopped", "cluster", l.cluster.Name)
		}
	}
	for id := range refused {
		if !listed[id] {
			delete(refused, id)
		}
	}
}

// schedule turns a listed cluster into a validated Schedule with a driver.
func (s *Supervisor) schedule(c backup.Cluster) (Schedule, error) {
	sc := Schedule{Cluster: c, Interval: c.Schedule.Interval, Retention: c.Schedule.WindowOrDefault()}
	if err := sc.Cluster.Validate(); err != nil {
		return sc, err
	}
	drv, err := s.cfg.Drivers(c)
	if err != nil {
		return sc, err
	}
	sc.Driver = drv
	return sc, sc.Validate()
}
