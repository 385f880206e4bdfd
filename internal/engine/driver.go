package engine

import (
	"context"
	"errors"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// Cluster is what the checkpoint procedure needs from a running cluster.
// A driver for real clusters issues balancerStop / balancerStart (3.4+) or
// writes config.settings {_id:"balancer"} (3.2 and earlier) through a
// mongos, appendOplogNote on each member set's primary, and tails each
// oplog; sim.Cluster simulates all of it. The engine calls a driver from
// one goroutine at a time.
type Cluster interface {
	// StopBalancer disables the balancer and waits, at most timeout, for
	// a migration in progress to finish. When the migration is still
	// running at timeout it returns an error wrapping ErrBalancerTimeout;
	// the balancer then stays disabled, as balancerStop leaves it, and the
	// caller restarts it.
	StopBalancer(ctx context.Context, timeout time.Duration) error
	// StartBalancer enables the balancer. Enabling an enabled balancer is
	// not an error.
	StartBalancer(ctx context.Context) error
	// WriteToken appends tok to m's oplog as a no-op note.
	WriteToken(ctx context.Context, m Member, tok Token) error
	// DiscoverToken waits at most wait for tok to show up in m's oplog as
	// the backup agent tails it, and returns the timestamp of its entry:
	// the second it was written, by m's clock, and its ordinal within that
	// second. It returns an error wrapping ErrNotDiscovered when the token
	// did not show up in time.
	DiscoverToken(ctx context.Context, m Member, tok Token, wait time.Duration) (backup.BSONTimestamp, error)
}

// Errors drivers wrap so that the procedure can tell its branches apart.
var (
	// ErrBalancerTimeout: the balancer did not stop within the timeout
	// because a migration was still running.
	ErrBalancerTimeout = errors.New("engine: balancer did not stop in time")
	// ErrNotDiscovered: a token did not show up in its oplog in time.
	ErrNotDiscovered = errors.New("engine: token not discovered")
	// ErrBalancerNotRestarted: every attempt to restart the balancer
	// failed; it stays disabled until something restarts it.
	ErrBalancerNotRestarted = errors.New("engine: balancer not restarted")
)

// Token is what the procedure writes into every member set's oplog. It
// names the checkpoint, so that each part's token can be matched to its
// checkpoint in the oplog stream.
type Token struct {
	Cluster    backup.ObjectID
	Checkpoint backup.ObjectID
}

// Member is one member set a token goes to, and the checkpoint part that
// records it: a shard (a replica set), the config server replica set, or
// legacy mirrored config servers, or the one replica set of a replica-set
// cluster.
type Member struct {
	Type           backup.PartType
	ShardName      string // shards only
	ReplicaSetName string // empty for mirrored config servers
	HostID         string // mirrored config servers only
}

// Name is the replica set name, or for mirrored config servers the host
// id the part names.
func (m Member) Name() string {
	if m.ReplicaSetName != "" {
		return m.ReplicaSetName
	}
	return m.HostID
}

// Part returns m's checkpoint part with no token found yet.
func (m Member) Part() backup.Part {
	return backup.Part{Type: m.Type, ShardName: m.ShardName, ReplicaSetName: m.ReplicaSetName, HostID: m.HostID}
}

// Members lists the member sets of a valid cluster in the order its
// checkpoint parts are listed (backup.Cluster.ExpectedParts).
func Members(c backup.Cluster) []Member {
	parts := c.ExpectedParts()
	out := make([]Member, len(parts))
	for i, p := range parts {
		out[i] = Member{Type: p.Type, ShardName: p.ShardName, ReplicaSetName: p.ReplicaSetName, HostID: p.HostID}
	}
	return out
}
