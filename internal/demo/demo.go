// Package demo seeds a store with a demonstration data set: one
// organization, one project, a three-shard sharded cluster, a replica set
// and a sharded cluster with legacy mirrored config servers, each with a
// history of checkpoints. The history is not made up here: the engine's
// checkpoint procedure takes every checkpoint of it from a simulation of
// the cluster (sim.Backfill), so the demo shows what the engine records,
// slots skipped when the balancer would not stop and checkpoints left not
// restorable by a lost token included. Scheduler keeps the demo clusters
// taking checkpoints while a server runs.
//
// The seeded data set is a pure function of the seed and the time it is
// built for, so tests and documentation can rely on it.
package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
)

// Store is what seeding writes to.
type Store interface {
	CreateOrganization(ctx context.Context, o backup.Organization) error
	CreateProject(ctx context.Context, p backup.Project) error
	CreateCluster(ctx context.Context, c backup.Cluster) error
	AddCheckpoints(ctx context.Context, cps []backup.Checkpoint) error
	Project(ctx context.Context, id backup.ObjectID) (backup.Project, error)
	Checkpoints(ctx context.Context, ref backup.ClusterRef, page backup.PageRequest) (backup.Page[backup.Checkpoint], error)
}

// Fixed identities of the demo data set, so that URLs printed once stay
// valid across restarts.
var (
	OrgID     = backup.MustParseObjectID("5e2211c17a3e5a48f5497de0")
	ProjectID = backup.MustParseObjectID("5e2211c17a3e5a48f5497de3")
)

// Dataset describes what Seed created.
type Dataset struct {
	Org      backup.Organization
	Project  backup.Project
	Clusters []backup.Cluster
	// Intervals holds each cluster's checkpoint interval, by cluster name.
	Intervals map[string]time.Duration
	// Checkpoints counts each cluster's checkpoints, by cluster name.
	Checkpoints map[string]int
	// Sample holds the newest checkpoint id per cluster name, for example
	// URLs.
	Sample map[string]backup.ObjectID
	// Created is false when the data set was already in the store.
	Created bool
}

// Options shape the history.
type Options struct {
	Seed uint64
	// Now is the end of the history.
	Now time.Time
	// Days of history to create; zero means 7.
	Days int
}

// demoCluster is a demo cluster and its schedule.
type demoCluster struct {
	c        backup.Cluster
	interval time.Duration
}

// clusters of the demo project. Intervals are the legacy schedule's 15, 30
// and 60 minutes.
func clusters(created time.Time) []demoCluster {
	ids := []string{"6b8cd61180eef547110159d9", "6b8cd61180eef547110159da", "6b8cd61180eef547110159db"}
	return []demoCluster{
		{backup.Cluster{
			ID: backup.MustParseObjectID(ids[0]), GroupID: ProjectID, Name: "Cluster0",
			Type: backup.Sharded, MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy,
			Shards: []backup.Shard{
				{Name: "Cluster0-shard-0", ReplicaSetName: "Cluster0-shard-0"},
				{Name: "Cluster0-shard-1", ReplicaSetName: "Cluster0-shard-1"},
				{Name: "Cluster0-shard-2", ReplicaSetName: "Cluster0-shard-2"},
			},
			Config:  backup.ConfigServer{ReplicaSetName: "Cluster0-config-0"},
			Created: created,
		}, 15 * time.Minute},
		{backup.Cluster{
			ID: backup.MustParseObjectID(ids[1]), GroupID: ProjectID, Name: "Cluster1",
			Type: backup.ReplicaSet, MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy,
			ReplicaSetName: "Cluster1-shard-0",
			Created:        created,
		}, 60 * time.Minute},
		{backup.Cluster{
			ID: backup.MustParseObjectID(ids[2]), GroupID: ProjectID, Name: "LegacyCluster",
			Type: backup.Sharded, MongoDBVersion: "3.2.22", Backup: backup.BackupLegacy,
			Shards: []backup.Shard{
				{Name: "shard_0", ReplicaSetName: "rs0"},
				{Name: "shard_1", ReplicaSetName: "rs1"},
			},
			Config: backup.ConfigServer{HostIDs: []string{
				"0f5c1b9ea1c54a5da0ee2b6ca2ac6c41", "7d0e6a0b8a0d4c7d9d1a2b3c4d5e6f70", "a3b4c5d6e7f8091a2b3c4d5e6f708192",
			}},
			Created: created,
		}, 30 * time.Minute},
	}
}

// Seed creates the demo data set unless its project already exists, in
// which case it describes what the store holds and writes nothing.
//
// Each cluster's history is what its schedule would have recorded from
// Days before Now up to Now: sim.Backfill runs the engine's procedure
// against a simulated cluster (sim.DefaultConfig: a busy cluster whose
// balancer now and then cannot stop in time and which now and then loses
// a token) on a virtual clock, with Options.Seed as the seed.
func Seed(ctx context.Context, st Store, opt Options) (Dataset, error) {
	if opt.Days <= 0 {
		opt.Days = 7
	}
	now := opt.Now.UTC().Truncate(time.Second)
	start := now.AddDate(0, 0, -opt.Days)
	ds := Dataset{
		Org:         backup.Organization{ID: OrgID, Name: "Demo Organization", Created: start},
		Project:     backup.Project{ID: ProjectID, OrgID: OrgID, Name: "demo-project", Created: start},
		Intervals:   map[string]time.Duration{},
		Checkpoints: map[string]int{},
		Sample:      map[string]backup.ObjectID{},
	}
	demo := clusters(start)
	for _, c := range demo {
		ds.Intervals[c.c.Name] = c.interval
	}
	if _, err := st.Project(ctx, ProjectID); err == nil {
		for _, c := range demo {
			ds.Clusters = append(ds.Clusters, c.c)
		}
		return ds, ds.describe(ctx, st)
	} else if backup.KindOf(err) != backup.NotFound {
		return ds, err
	}

	// Make every history before writing anything, so that a failure
	// leaves no half data set behind. One id source serves the three
	// clusters, in order, so the ids are a function of the seed too.
	ids := backup.NewIDSourceFrom([5]byte{0x80, 0xee, 0xf5, 0x3d, 0xe5}, uint32(opt.Seed))
	histories := make([][]backup.Checkpoint, len(demo))
	for i, c := range demo {
		cps, err := sim.Backfill(ctx, c.c, start, now, sim.BackfillOptions{Interval: c.interval, Seed: opt.Seed, IDs: ids})
		if err != nil {
			return ds, fmt.Errorf("demo: history of %s: %w", c.c.Name, err)
		}
		histories[i] = cps
	}

	if err := st.CreateOrganization(ctx, ds.Org); err != nil {
		return ds, fmt.Errorf("demo: %w", err)
	}
	if err := st.CreateProject(ctx, ds.Project); err != nil {
		return ds, fmt.Errorf("demo: %w", err)
	}
	for i, c := range demo {
		if err := st.CreateCluster(ctx, c.c); err != nil {
			return ds, fmt.Errorf("demo: %w", err)
		}
		if err := st.AddCheckpoints(ctx, histories[i]); err != nil {
			return ds, fmt.Errorf("demo: %w", err)
		}
		ds.Clusters = append(ds.Clusters, c.c)
	}
	ds.Created = true
	return ds, ds.describe(ctx, st)
}

// describe fills the counts and sample ids from what the store holds, the
// same whether the data set was just made or found.
func (ds *Dataset) describe(ctx context.Context, st Store) error {
	for _, c := range ds.Clusters {
		ref := backup.ClusterRef{GroupID: c.GroupID, Name: c.Name}
		p, err := st.Checkpoints(ctx, ref, backup.PageRequest{Num: 1, Size: 1, IncludeCount: true})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		ds.Checkpoints[c.Name] = p.Total
		if p.Total == 0 {
			continue
		}
		// The newest checkpoint makes the example: it outlives the others.
		last, err := st.Checkpoints(ctx, ref, backup.PageRequest{Num: p.Total, Size: 1})
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		if len(last.Items) > 0 {
			ds.Sample[c.Name] = last.Items[0].ID
		}
	}
	return nil
}

// Retention is how long the running demo keeps checkpoints: the week
// Seed creates by default, so that the data set keeps about the size it
// was seeded with.
const Retention = 7 * 24 * time.Hour

// Recorder is what the running demo writes to: it stores each checkpoint
// and prunes those past Retention. The stores are Recorders.
type Recorder interface {
	engine.Sink
	engine.Pruner
}

// RunOptions shape Scheduler.
type RunOptions struct {
	// Clock is the schedule's: engine.System in a server, a sim.Clock in
	// tests. The simulated clusters run on it too.
	Clock engine.Clock
	// IDs makes the checkpoint ids; nil means a source with a random
	// process-unique part, as a server's.
	IDs *backup.IDSource
	// Seed draws the simulated clusters' behaviour.
	Seed uint64
	// Claimer decides which slots this server takes; nil means all of
	// them (engine.Solo). Servers sharing a store use an engine.Lease.
	Claimer engine.Claimer
	// Logger gets a debug line for each checkpoint stored, and the
	// scheduler's warnings (a slot skipped, a token lost) and errors; nil
	// discards.
	Logger *slog.Logger
}

// Scheduler returns an engine scheduler that keeps the clusters of ds
// taking checkpoints on their intervals, each from a simulation of the
// cluster (sim.New with sim.DefaultConfig) on o.Clock, storing every
// checkpoint in rec and pruning those whose timestamp is more than
// Retention before the slot being taken. Run it for as long as the server
// runs, and let it return before rec closes.
//
// The schedule starts at the clock's now: slots missed while no server ran
// are not backfilled, so the history of a data set reused after a pause
// shows a gap there, as the service's did while its backup agent was down.
func Scheduler(ds Dataset, rec Recorder, o RunOptions) (*engine.Scheduler, error) {
	if o.Clock == nil || rec == nil {
		return nil, errors.New("demo: a scheduler needs a clock and a recorder")
	}
	if o.IDs == nil {
		o.IDs = backup.NewIDSource()
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sink := loggingSink{Sink: rec, log: log, names: map[backup.ObjectID]string{}}
	var schedules []engine.Schedule
	for _, c := range ds.Clusters {
		interval, ok := ds.Intervals[c.Name]
		if !ok {
			return nil, fmt.Errorf("demo: no checkpoint interval for cluster %s", c.Name)
		}
		drv, err := sim.New(c, o.Clock, o.Seed, sim.DefaultConfig())
		if err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
		sink.names[c.ID] = c.Name
		schedules = append(schedules, engine.Schedule{Cluster: c, Driver: drv, Interval: interval, Retention: Retention})
	}
	return engine.New(engine.Config{
		Clock:     o.Clock,
		IDs:       o.IDs,
		Sink:      sink,
		Pruner:    rec,
		Claimer:   o.Claimer,
		Logger:    log,
		Schedules: schedules,
	})
}

// loggingSink logs each checkpoint it stores at debug level.
type loggingSink struct {
	engine.Sink
	log   *slog.Logger
	names map[backup.ObjectID]string // read only once the scheduler runs
}

func (s loggingSink) AddCheckpoint(ctx context.Context, cp backup.Checkpoint) error {
	if err := s.Sink.AddCheckpoint(ctx, cp); err != nil {
		return err
	}
	s.log.DebugContext(ctx, "checkpoint taken", "cluster", s.names[cp.ClusterID], "checkpoint", cp.ID.Hex(),
		"timestamp", cp.Timestamp, "started", cp.Started, "completed", cp.Completed, "restorable", cp.Restorable)
	return nil
}
