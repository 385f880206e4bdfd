package client

import (
	"strconv"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Checkpoint is a checkpoint as every API generation prints it.
type Checkpoint struct {
	ID         string    `json:"id"`
	ClusterID  string    `json:"clusterId"`
	GroupID    string    `json:"groupId"`
	Started    time.Time `json:"started"`
	Completed  time.Time `json:"completed"`
	Timestamp  time.Time `json:"timestamp"`
	Restorable bool      `json:"restorable"`
	Parts      []Part    `json:"parts"`
	Links      []Link    `json:"links"`
}

// Part is one shard's or config server's share of a checkpoint.
type Part struct {
	TypeName        backup.PartType `json:"typeName"`
	ShardName       string          `json:"shardName"`
	ReplicaSetName  string          `json:"replicaSetName"`
	HostID          string          `json:"hostId"` // Cloud Manager, mirrored config servers
	TokenDiscovered bool            `json:"tokenDiscovered"`
	TokenTimestamp  *Timestamp      `json:"tokenTimestamp"`
}

// Timestamp is a BSON timestamp: a date to the second and an ordinal
// within it.
type Timestamp struct {
	Date      time.Time `json:"date"`
	Increment uint32    `json:"increment"`
}

// Discovered counts the parts whose token was found.
func (c *Checkpoint) Discovered() int {
	n := 0
	for _, p := range c.Parts {
		if p.TokenDiscovered {
			n++
		}
	}
	return n
}

// PartsSummary is e.g. "4/4 discovered".
func (c *Checkpoint) PartsSummary() string {
	return strconv.Itoa(c.Discovered()) + "/" + strconv.Itoa(len(c.Parts)) + " discovered"
}
