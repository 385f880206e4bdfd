// Package agent is checkpointd's backup agent: it takes the checkpoints
// of one sharded cluster on the schedule a checkpointd server holds for
// it, and reports each one to that server.
//
// The procedure is the engine's (engine.Take) and so is the scheduling
// (engine.Supervisor and its Scheduler): the agent supplies a driver of
// the real cluster (mongodb.Cluster), wrapped with its balancer safety
// (guard), a schedule source that reads the cluster from the server, a
// Claimer that claims each slot through the server, so that of two
// agents of one cluster one takes each slot, and a Sink that spools each
// checkpoint on disk, from where it is delivered to the server in order
// until acknowledged.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/client"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// Server is what the agent needs of the checkpointd server, for its one
// cluster (client.Client over the administration API: see HTTPServer).
type Server interface {
	// Cluster reads the cluster's settings, schedule and topology.
	Cluster(ctx context.Context) (backup.Cluster, error)
	// ClaimSlot claims a slot for owner and reports whether owner holds
	// it.
	ClaimSlot(ctx context.Context, slot time.Time, owner string) (bool, error)
	// Report delivers a checkpoint report and returns once the server
	// acknowledged it.
	Report(ctx context.Context, r client.Report) error
}

// HTTPServer is a Server over checkpointd's administration API.
type HTTPServer struct {
	Client  *client.Client
	Project string // project id
	Name    string // cluster name
}

// Cluster implements Server.
func (s HTTPServer) Cluster(ctx context.Context) (backup.Cluster, error) {
	return s.Client.AdminCluster(ctx, s.Project, s.Name)
}

// ReportSlot implements SlotReporter.
func (s HTTPServer) ReportSlot(ctx context.Context, rec backup.Slot) error {
	return s.Client.ReportSlot(ctx, s.Project, s.Name, rec.Time, client.NewSlotReport(rec))
}

// SlotReporter is a Server that also takes the record of each slot the
// agent claimed: its outcome, steps and, for anything but a clean
// checkpoint, why (HTTPServer does).
type SlotReporter interface {
	ReportSlot(ctx context.Context, rec backup.Slot) error
}

// ClaimSlot implements Server.
func (s HTTPServer) ClaimSlot(ctx context.Context, slot time.Time, owner string) (bool, error) {
	return s.Client.ClaimSlot(ctx, s.Project, s.Name, slot, owner)
}

// Report implements Server.
func (s HTTPServer) Report(ctx context.Context, r client.Report) error {
	_, err := s.Client.ReportCheckpoint(ctx, s.Project, s.Name, r)
	return err
}

// Defaults of Config.
const (
	// DefaultRefresh is how often the cluster's schedule is read from the
	// server.
	DefaultRefresh = 30 * time.Second
	// DefaultRetry is the longest wait between two attempts to deliver
	// the spooled reports; attempts start a second apart and double.
	DefaultRetry = time.Minute
)

// Config is what Run needs.
type Config struct {
	Driver Driver // required: the cluster
	Server Server // required
	// Project and Cluster name the cluster the agent reports for; they
	// label its logs and its state.
	Project, Cluster string
	// StateDir holds the balancer record and the spool of reports.
	StateDir string // required
	// Owner names this agent in slot claims; empty means
	// engine.OwnerID().
	Owner    string
	Clock    clock.Clock // nil means clock.System
	Timeouts engine.Timeouts
	// Refresh is how often the schedule is read; zero means
	// DefaultRefresh. Timing is on the wall clock.
	Refresh time.Duration
	// Retry bounds the wait between delivery attempts; zero means
	// DefaultRetry. Timing is on the wall clock.
	Retry   time.Duration
	Metrics *Metrics     // nil records nothing
	Logger  *slog.Logger // nil discards
}

// Run takes and reports checkpoints until ctx is done. Before anything
// else it restarts a balancer that a previous run recorded as stopped
// (it was killed mid-checkpoint); it returns an error only when it
// cannot start (a bad configuration, a state directory it cannot use, a
// balancer it could not restart before ctx ended). On return every
// checkpoint under way has finished and its balancer was restarted; the
// reports not yet delivered stay spooled for the next run.
func Run(ctx context.Context, cfg Config) error {
	if cfg.Driver == nil || cfg.Server == nil || cfg.StateDir == "" {
		return errors.New("agent: a driver, a server and a state directory are required")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System
	}
	if cfg.Owner == "" {
		cfg.Owner = engine.OwnerID()
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Retry <= 0 {
		cfg.Retry = DefaultRetry
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return fmt.Errorf("agent: state directory: %w", err)
	}
	id := cfg.Project + "/" + cfg.Cluster
	if err := recoverBalancer(ctx, cfg.Driver, cfg.StateDir, id, cfg.Clock, log); err != nil {
		return err
	}
	sp, err := openSpool(cfg.StateDir)
	if err != nil {
		return fmt.Errorf("agent: spool: %w", err)
	}
	g := &guard{drv: cfg.Driver, dir: cfg.StateDir, cluster: id, clock: cfg.Clock, log: log, m: cfg.Metrics}
	d := &deliverer{spool: sp, server: cfg.Server, project: cfg.Project, cluster: cfg.Cluster, log: log, m: cfg.Metrics, max: cfg.Retry, wake: make(chan struct{}, 1)}
	sup, err := engine.NewSupervisor(engine.SupervisorConfig{
		Config: engine.Config{
			Clock: cfg.Clock, IDs: backup.NewIDSource(),
			Sink:     sink{spool: sp, project: cfg.Project, cluster: cfg.Cluster, d: d, log: log},
			Pruner:   noPruner{},
			Claimer:  claimer{server: cfg.Server, owner: cfg.Owner},
			Timeouts: cfg.Timeouts,
			Restorable: func(_ backup.ObjectID, ts time.Time) {
				cfg.Metrics.restorable(ts)
			},
			Observer: cfg.Metrics,
			Slots:    slotReports(cfg.Server, log),
			Source:   backup.SourceAgent,
			Logger:   log,
		},
		Source:  &source{server: cfg.Server, topology: cfg.Driver, log: log},
		Drivers: func(backup.Cluster) (engine.Cluster, error) { return g, nil },
		Refresh: cfg.Refresh,
	})
	if err != nil {
		return err
	}
	log.Info("agent started", "cluster", id, "owner", cfg.Owner, "pending_reports", sp.pending())
	var wg sync.WaitGroup
	wg.Go(func() { d.run(ctx) })
	wg.Go(func() {
		t := time.NewTicker(cfg.Refresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				g.retryRestart(ctx)
			}
		}
	})
	err = sup.Run(ctx)
	wg.Wait()
	// The last checkpoints may have been spooled after the deliverer
	// stopped: one more try, briefly, so that a clean shutdown leaves
	// nothing behind when the server is up.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	d.flush(fctx)
	cancel()
	g.retryRestart(context.WithoutCancel(ctx))
	log.Info("agent stopped", "cluster", id, "pending_reports", sp.pending())
	return err
}

// source lists the agent's cluster while the server schedules its
// checkpoints for an agent, and nothing otherwise, so that the
// supervisor stops taking them when the schedule is turned off.
type source struct {
	server   Server
	topology any // the driver; checked when it is a topologyChecker
	log      *slog.Logger
	mu       sync.Mutex
	why      string // the last reason the cluster was not listed, logged once
}

func (s *source) Schedules(ctx context.Context) ([]backup.Cluster, error) {
	c, err := s.server.Cluster(ctx)
	if err != nil {
		return nil, err
	}
	var why string
	switch {
	case c.Type != backup.Sharded:
		why = "the cluster is not sharded: checkpoints exist for sharded clusters only"
	case c.Backup != backup.BackupLegacy:
		why = "the cluster is not on legacy backup"
	case c.Schedule.DriverOrDefault() != backup.DriverAgent:
		why = "the server takes this cluster's checkpoints itself (backup.driver " + string(c.Schedule.DriverOrDefault()) + ")"
	case c.Schedule.Interval == 0:
		why = "the cluster has no checkpoint interval (clusterCheckpointIntervalMin)"
	}
	if tc, ok := s.topology.(topologyChecker); ok && why == "" {
		if err := tc.Refresh(ctx); err != nil {
			return nil, err
		}
		if err := tc.Check(c); err != nil {
			why = err.Error()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if why != "" && why != s.why {
		s.log.Info("no checkpoints scheduled", "cluster", c.Name, "reason", why)
	}
	s.why = why
	if why != "" {
		return nil, nil
	}
	return []backup.Cluster{c}, nil
}

// topologyChecker is a driver that rediscovers the cluster's topology
// and compares the server's description with it (mongodb.Cluster): a
// cluster whose shards the server names wrongly is not scheduled, with
// the differences logged, rather than checkpointed without the parts.
type topologyChecker interface {
	Refresh(ctx context.Context) error
	Check(c backup.Cluster) error
}

// claimer claims each slot through the server.
type claimer struct {
	server Server
	owner  string
}

func (c claimer) Claim(ctx context.Context, _ backup.ObjectID, slot time.Time) (bool, error) {
	return c.server.ClaimSlot(ctx, slot, c.owner)
}

// noPruner: the server prunes a cluster's checkpoints when it stores a
// report.
type noPruner struct{}

func (noPruner) PruneCheckpoints(context.Context, backup.ObjectID, time.Time) (int, error) {
	return 0, nil
}

// sink spools each checkpoint and wakes the deliverer: a checkpoint is
// "stored" for the scheduler once it is on disk.
type sink struct {
	spool            *spool
	project, cluster string
	d                *deliverer
	log              *slog.Logger
}

func (s sink) AddCheckpoint(_ context.Context, cp backup.Checkpoint) error {
	if err := s.spool.put(spooled{Project: s.project, Cluster: s.cluster, Report: client.NewReport(cp)}); err != nil {
		return err
	}
	discovered := 0
	for _, p := range cp.Parts {
		if p.TokenDiscovered {
			discovered++
		}
	}
	s.log.Info("checkpoint taken", "cluster", s.cluster, "checkpoint", cp.ID.Hex(), "timestamp", cp.Timestamp,
		"restorable", cp.Restorable, "parts", len(cp.Parts), "discovered", discovered)
	s.d.poke()
	return nil
}

// errOtherCluster refuses a report spooled by an agent of another
// cluster (a state directory reused).
var errOtherCluster = errors.New("agent: the report was spooled for another cluster")

// deliverer sends the spooled reports to the server, in order, retrying
// with a growing pause while it fails.
type deliverer struct {
	spool            *spool
	server           Server
	project, cluster string
	log              *slog.Logger
	m                *Metrics
	max              time.Duration
	wake             chan struct{}
}

func (d *deliverer) poke() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *deliverer) run(ctx context.Context) {
	pause := time.Second
	for {
		var timer <-chan time.Time
		if err := d.flush(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			d.log.Warn("checkpoint reports not delivered; retrying", "pending", d.spool.pending(), "retry_in", pause, "err", err)
			t := time.NewTimer(pause)
			timer = t.C
			pause = min(2*pause, d.max)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-d.wake:
				t.Stop()
			case <-timer:
			}
			continue
		}
		pause = time.Second
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		}
	}
}

// flush delivers what is pending and returns the error that stopped it.
func (d *deliverer) flush(ctx context.Context) error {
	rejected := 0
	n, err := d.spool.deliver(ctx, func(ctx context.Context, r spooled) error {
		if r.Project != d.project || r.Cluster != d.cluster {
			return errOtherCluster
		}
		return d.server.Report(ctx, r.Report)
	}, func(name string, err error) {
		rejected++
		d.log.Error("checkpoint report refused by the server; kept in the spool's rejected directory", "file", name, "err", err)
	})
	if n > 0 {
		d.log.Info("checkpoint reports delivered", "count", n)
	}
	d.m.spool(d.spool.pending(), n, rejected)
	return err
}

// slotReports is the engine's SlotRecorder of an agent: each slot's
// record goes to the server as soon as the slot ends, once; one that
// cannot be delivered is logged and dropped (unlike a checkpoint, it is
// not spooled: the checkpoint, delivered later, is what a restore needs,
// and the server records a slot left without either as missed). nil
// when the server takes no slot records.
func slotReports(s Server, log *slog.Logger) engine.SlotRecorder {
	sr, ok := s.(SlotReporter)
	if !ok {
		return nil
	}
	return slotSender{sr: sr, log: log}
}

type slotSender struct {
	sr  SlotReporter
	log *slog.Logger
}

func (s slotSender) RecordSlot(ctx context.Context, rec backup.Slot) error {
	if err := s.sr.ReportSlot(ctx, rec); err != nil {
		s.log.Warn("slot report not delivered", "slot", rec.Time, "outcome", rec.Outcome, "err", err)
		return nil
	}
	return nil
}
