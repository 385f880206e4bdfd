// Package demo seeds a store with a demonstration data set: one
// organization, one project, a three-shard sharded cluster, a replica set
// and a sharded cluster with legacy mirrored config servers, each with a
// history of checkpoints. The history is not made up here: the engine's
// checkpoint procedure takes every checkpoint of it from a simulation of
// the cluster (sim.Backfill), so the demo shows what the engine records,
// slots skipped when the balancer would not stop and checkpoints left not
// restorable by a lost token included.
//
// The two sharded clusters are scheduled for the engine's simulated
// driver, so a server's engine keeps them taking checkpoints; the replica
// set is an agent's (the service takes no checkpoints of replica sets),
// its history as if an agent had reported it.
//
// The seeded data set is a pure function of the seed and the time it is
// built for, so tests and documentation can rely on it.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine/sim"
	"github.com/checkpointd/checkpointd/internal/store"
)

// Store is what seeding writes to.
type Store interface {
	CreateOrganization(ctx context.Context, o backup.Organization) error
	CreateProject(ctx context.Context, p backup.Project) error
	CreateCluster(ctx context.Context, c backup.Cluster) error
	UpdateCluster(ctx context.Context, ref backup.ClusterRef, change func(*backup.Cluster) error) (backup.Cluster, error)
	AddCheckpoints(ctx context.Context, cps []backup.Checkpoint) error
	RecordSlots(ctx context.Context, recs []backup.Slot) error
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
	// Intervals holds the interval of each cluster's seeded history, by
	// cluster name (the replica set's too, though its schedule has none).
	Intervals map[string]time.Duration
	// Checkpoints counts each cluster's checkpoints, by cluster name.
	Checkpoints map[string]int
	// Sample holds the newest checkpoint id per cluster name, for example
	// URLs.
	Sample map[string]backup.ObjectID
	// Created is whether Seed stored any of it; false when the whole
	// data set was already in the store.
	Created bool
	// Completed is whether Seed found part of the data set, left by a
	// start interrupted before it was whole, and stored the rest.
	Completed bool
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
			Config:   backup.ConfigServer{ReplicaSetName: "Cluster0-config-0"},
			Created:  created,
			Schedule: backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 15 * time.Minute, Window: Window},
		}, 15 * time.Minute},
		{backup.Cluster{
			ID: backup.MustParseObjectID(ids[1]), GroupID: ProjectID, Name: "Cluster1",
			Type: backup.ReplicaSet, MongoDBVersion: "4.0.28", Backup: backup.BackupLegacy,
			ReplicaSetName: "Cluster1-shard-0",
			Created:        created,
			Schedule:       backup.CheckpointSchedule{Driver: backup.DriverAgent, Window: Window},
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
			Created:  created,
			Schedule: backup.CheckpointSchedule{Driver: backup.DriverSimulated, Interval: 30 * time.Minute, Window: Window},
		}, 30 * time.Minute},
	}
}

// Seed makes sure the store holds the demo data set and describes it.
//
// Each of its parts (the organization, the project, each cluster, each
// cluster's history) is written once, in a transaction of its own, only
// if the store lacks it, so that a start interrupted at any moment (a
// kill, a crash, Ctrl-C) leaves parts that are whole, and the next Seed
// adds what is missing: whatever happened before, after a Seed that
// returns nil the store holds the whole data set. A write, once begun,
// runs to its end even if ctx is cancelled (it takes milliseconds), so
// that an interruption is never reported for something that was stored;
// ctx is checked between writes.
//
// A data set already there is left as it is, but for giving the demo
// clusters their schedules if they have none (a data set from before
// clusters had schedules); a schedule changed since is kept.
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
	s := &seeder{ctx: ctx, write: context.WithoutCancel(ctx), st: st, ds: &ds}

	hasProject := false
	s.step(func(ctx context.Context) error {
		_, err := st.Project(ctx, ProjectID)
		if backup.KindOf(err) == backup.NotFound {
			return nil
		}
		hasProject = err == nil
		return err
	})
	if hasProject {
		s.found = true
	} else {
		// An interrupted start may have stored the organization alone.
		s.create("organization", func(ctx context.Context) error { return st.CreateOrganization(ctx, ds.Org) })
		s.create("project", func(ctx context.Context) error { return st.CreateProject(ctx, ds.Project) })
	}
	for _, d := range demo {
		s.cluster(d.c)
	}
	s.histories(demo, start, now, opt.Seed)
	if s.err != nil {
		return ds, s.err
	}
	ds.Created = s.wrote
	ds.Completed = s.wrote && s.found
	return ds, ds.describe(s.write, st)
}

// seeder is one Seed under way. Its first error stops every later step.
type seeder struct {
	ctx context.Context // the caller's: checked between writes
	// write is ctx without its cancellation, what writes and the reads
	// between them run with: each takes milliseconds.
	write context.Context
	st    Store
	ds    *Dataset
	// found is whether some of the data set was there already; wrote,
	// whether this Seed stored any part of it.
	found, wrote bool
	// empty holds the demo clusters without a checkpoint, by index.
	empty map[int]bool
	err   error
}

// step runs a write (or the read before the writes) unless an earlier
// step failed or ctx is done.
func (s *seeder) step(write func(context.Context) error) {
	if s.err != nil {
		return
	}
	if err := s.ctx.Err(); err != nil {
		if s.wrote || s.found {
			s.err = fmt.Errorf("demo: interrupted (%w) with the demo data set partly stored: the next serve --demo completes it", err)
		} else {
			s.err = fmt.Errorf("demo: interrupted (%w) before the demo data set was stored", err)
		}
		return
	}
	if err := write(s.write); err != nil {
		s.err = fmt.Errorf("demo: %w", err)
	}
}

// create stores a part of the data set identified by a fixed id, unless
// an earlier, interrupted Seed did (DUPLICATE_ID).
func (s *seeder) create(what string, create func(context.Context) error) {
	s.step(func(ctx context.Context) error {
		switch err := create(ctx); {
		case err == nil:
			s.wrote = true
		case backup.IsCode(err, store.CodeDuplicateID):
			s.found = true
		default:
			return fmt.Errorf("create the demo %s: %w", what, err)
		}
		return nil
	})
}

// cluster makes sure the store holds demo cluster c, giving a stored one
// without a schedule c's, and notes whether it has checkpoints.
func (s *seeder) cluster(c backup.Cluster) {
	ref := backup.ClusterRef{GroupID: ProjectID, ID: c.ID}
	stored := c
	s.step(func(ctx context.Context) error {
		got, err := s.st.UpdateCluster(ctx, ref, func(sc *backup.Cluster) error {
			if sc.Schedule == (backup.CheckpointSchedule{}) {
				sc.Schedule = c.Schedule
			}
			return nil
		})
		switch {
		case err == nil:
			s.found = true
			stored = got
		case backup.IsCode(err, backup.CodeClusterNotFound):
			if err := s.st.CreateCluster(ctx, c); err != nil {
				return fmt.Errorf("create demo cluster %s: %w", c.Name, err)
			}
			s.wrote = true
		default:
			return err
		}
		return nil
	})
	if s.err != nil {
		return
	}
	s.ds.Clusters = append(s.ds.Clusters, stored)
	p, err := s.st.Checkpoints(s.write, ref, backup.PageRequest{Num: 1, Size: 1})
	if err != nil {
		s.err = fmt.Errorf("demo: %w", err)
		return
	}
	if len(p.Items) == 0 {
		if s.empty == nil {
			s.empty = map[int]bool{}
		}
		s.empty[len(s.ds.Clusters)-1] = true
	} else {
		s.found = true
	}
}

// histories stores the history of every demo cluster that has no
// checkpoint, each in one transaction (AddCheckpoints).
//
// Every history is made, in order, from one id source, so that a data set
// made at once has ids that are a function of the seed. When completing
// one that already has checkpoints, the ids come from a fresh source
// instead, which cannot repeat the ids of the histories stored before.
func (s *seeder) histories(demo []demoCluster, start, now time.Time, seed uint64) {
	if s.err != nil || len(s.empty) == 0 {
		return
	}
	ids := backup.NewIDSourceFrom([5]byte{0x80, 0xee, 0xf5, 0x3d, 0xe5}, uint32(seed))
	if len(s.empty) < len(demo) {
		ids = backup.NewIDSource()
	}
	histories := make([][]backup.Checkpoint, len(demo))
	slots := make([][]backup.Slot, len(demo))
	for i, c := range demo {
		cps, recs, err := sim.BackfillSlots(s.write, c.c, start, now, sim.BackfillOptions{Interval: c.interval, Seed: seed, IDs: ids})
		if err != nil {
			s.err = fmt.Errorf("demo: history of %s: %w", c.c.Name, err)
			return
		}
		histories[i], slots[i] = cps, recs
	}
	for i := range demo {
		if s.empty[i] {
			// With the slots' records, which say why a slot has no
			// checkpoint or a checkpoint that is not restorable. (A
			// process killed between the two leaves the history without
			// them: the demo's records are an illustration.)
			s.step(func(ctx context.Context) error {
				if err := s.st.AddCheckpoints(ctx, histories[i]); err != nil {
					return err
				}
				return s.st.RecordSlots(ctx, slots[i])
			})
			s.wrote = s.wrote || s.err == nil
		}
	}
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

// Window is the demo clusters' point-in-time window: the week Seed
// creates by default, so that the data set keeps about the size it was
// seeded with while the engine goes on taking checkpoints.
const Window = 7 * 24 * time.Hour
