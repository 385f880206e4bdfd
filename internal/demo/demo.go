// Package demo seeds a store with a demonstration data set: one
// organization, one project, a three-shard sharded cluster, a replica set
// and a sharded cluster with legacy mirrored config servers, each with a
// history of checkpoints taken the way the legacy backup service took them.
//
// The data set is a pure function of the seed and the time it is built
// for, so tests and documentation can rely on it.
package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
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
	// Days of history to create.
	Days int
}

// clusters of the demo project. Intervals are the legacy schedule's 15, 30
// and 60 minutes.
func clusters(created time.Time) []struct {
	c        backup.Cluster
	interval time.Duration
} {
	ids := []string{"6b8cd61180eef547110159d9", "6b8cd61180eef547110159da", "6b8cd61180eef547110159db"}
	return []struct {
		c        backup.Cluster
		interval time.Duration
	}{
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

// Seed creates the demo data set unless its project already exists.
func Seed(ctx context.Context, st Store, opt Options) (Dataset, error) {
	if opt.Days <= 0 {
		opt.Days = 7
	}
	now := opt.Now.UTC().Truncate(time.Second)
	start := now.AddDate(0, 0, -opt.Days)
	ds := Dataset{
		Org:         backup.Organization{ID: OrgID, Name: "Demo Organization", Created: start},
		Project:     backup.Project{ID: ProjectID, OrgID: OrgID, Name: "demo-project", Created: start},
		Checkpoints: map[string]int{},
		Sample:      map[string]backup.ObjectID{},
	}
	if _, err := st.Project(ctx, ProjectID); err == nil {
		for _, c := range clusters(start) {
			ds.Clusters = append(ds.Clusters, c.c)
		}
		return ds, ds.describe(ctx, st)
	} else if backup.KindOf(err) != backup.NotFound {
		return ds, err
	}
	if err := st.CreateOrganization(ctx, ds.Org); err != nil {
		return ds, fmt.Errorf("demo: %w", err)
	}
	if err := st.CreateProject(ctx, ds.Project); err != nil {
		return ds, fmt.Errorf("demo: %w", err)
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0x636b7074))
	ids := backup.NewIDSourceFrom([5]byte{0x80, 0xee, 0xf5, 0x3d, 0xe5}, uint32(opt.Seed))
	for _, c := range clusters(start) {
		if err := st.CreateCluster(ctx, c.c); err != nil {
			return ds, fmt.Errorf("demo: %w", err)
		}
		cps := History(rng, ids, c.c, start, now, c.interval)
		if err := st.AddCheckpoints(ctx, cps); err != nil {
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

// History returns the checkpoints of cluster c from start to end, one per
// interval slot, as the legacy backup service recorded them: the slot time
// is the point the checkpoint restores to (timestamp); the agent starts a few
// seconds to a minute later (started, the balancer stopped), writes a token
// into every shard's and the config server's oplog within a second or two
// (each token dated by its oplog and numbered within its second from 1),
// and restarts the balancer (completed). Now and then a shard's token is
// never discovered or the balancer cannot be stopped in time; such
// checkpoints are not restorable.
func History(rng *rand.Rand, ids *backup.IDSource, c backup.Cluster, start, end time.Time, interval time.Duration) []backup.Checkpoint {
	var out []backup.Checkpoint
	for slot := start.Truncate(interval).Add(interval); !slot.After(end.Add(-2 * time.Minute)); slot = slot.Add(interval) {
		started := slot.Add(time.Duration(4+rng.IntN(66)) * time.Second)
		cp := backup.Checkpoint{
			ID:         ids.New(started),
			ClusterID:  c.ID,
			GroupID:    c.GroupID,
			Started:    started,
			Timestamp:  slot,
			Restorable: true,
		}
		last := started
		part := func(p backup.Part) {
			p.TokenDiscovered = rng.IntN(200) != 0
			if p.TokenDiscovered {
				d := started.Add(time.Duration(rng.IntN(2)) * time.Second)
				p.TokenTimestamp = backup.BSONTimestamp{Date: d, Increment: uint32(1 + rng.IntN(8))}
				if d.After(last) {
					last = d
				}
			} else {
				cp.Restorable = false
			}
			cp.Parts = append(cp.Parts, p)
		}
		switch c.Type {
		case backup.ReplicaSet:
			part(backup.Part{Type: backup.PartReplicaSet, ReplicaSetName: c.ReplicaSetName})
		case backup.Sharded:
			// The service lists shards in descending name order, then the
			// config server.
			shards := slices.Clone(c.Shards)
			slices.SortFunc(shards, func(a, b backup.Shard) int { return -strings.Compare(a.Name, b.Name) })
			for _, s := range shards {
				part(backup.Part{Type: backup.PartReplicaSet, ShardName: s.Name, ReplicaSetName: s.ReplicaSetName})
			}
			if c.Config.Mirrored() {
				part(backup.Part{Type: backup.PartConfigServer, HostID: c.Config.HostIDs[0]})
			} else {
				part(backup.Part{Type: backup.PartConfigReplicaSet, ReplicaSetName: c.Config.ReplicaSetName})
			}
			if rng.IntN(150) == 0 {
				// The balancer could not be stopped before the migration
				// timeout: tokens were written, but the cut may be torn.
				cp.Restorable = false
			}
		}
		cp.Completed = last.Add(time.Duration(rng.IntN(3)) * time.Second)
		out = append(out, cp)
	}
	return out
}
