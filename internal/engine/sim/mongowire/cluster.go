package mongowire

import (
	"fmt"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Sharded returns the definition of a sharded cluster named name with n
// shards, named as Atlas names them (name-shard-0, name-shard-1, … each
// its own replica set) and a config server replica set name-config-0:
// what sim.New takes to simulate it and a checkpointd server to know it.
func Sharded(name string, n int) backup.Cluster {
	c := backup.Cluster{
		Name:           name,
		Type:           backup.Sharded,
		MongoDBVersion: DefaultVersion,
		Backup:         backup.BackupLegacy,
		Config:         backup.ConfigServer{ReplicaSetName: name + "-config-0"},
	}
	for i := range n {
		rs := fmt.Sprintf("%s-shard-%d", name, i)
		c.Shards = append(c.Shards, backup.Shard{Name: rs, ReplicaSetName: rs})
	}
	return c
}
