package main

import (
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// The load test keeps this synthetic history of its own (the demo data set
// now comes from the engine and its simulator): it needs exactly the
// number of checkpoints asked for, where a simulated schedule skips a slot
// now and then, it seeds a million of them in about half the time
// sim.Backfill takes (4.4 against 8.9 µs each, measured over a year of
// 15-minute slots), and the response sizes and seeding times recorded in
// BENCHMARKS.md were measured on it.

// history returns the checkpoints of cluster c from start to end, one per
// interval slot, as the legacy backup service recorded them: the slot time
// is the point the checkpoint restores to (timestamp); the agent starts a few
// seconds to a minute later (started, the balancer stopped), writes a token
// into every shard's and the config server's oplog within a second or two
// (each token dated by its oplog and numbered within its second from 1),
// and restarts the balancer (completed). Now and then a shard's token is
// never discovered or the balancer cannot be stopped in time; such
// checkpoints are not restorable.
func history(rng *rand.Rand, ids *backup.IDSource, c backup.Cluster, start, end time.Time, interval time.Duration) []backup.Checkpoint {
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
