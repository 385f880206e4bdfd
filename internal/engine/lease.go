package engine

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
)

// SlotClaimer is the store's lease on checkpoint slots; the stores'
// ClaimSlot and AddClaimedCheckpoint have this shape (see store.Store).
type SlotClaimer interface {
	ClaimSlot(ctx context.Context, clusterID backup.ObjectID, slot time.Time, owner string, ttl time.Duration) (bool, error)
	AddClaimedCheckpoint(ctx context.Context, cp backup.Checkpoint, owner string) error
}

// DefaultLeaseTTL is how long a claimed slot stays its holder's: longer
// than a checkpoint can take with the default timeouts (stopping the
// balancer, waiting for the tokens, restarting it, storing the
// checkpoint), so that a live holder never loses its slot, and short
// enough that a dead holder's claim has expired well before the next
// slot of a 15-minute schedule.
const DefaultLeaseTTL = DefaultStopTimeout + DefaultDiscoveryWait + DefaultRestartTimeout + storeTimeout + time.Minute

// Lease is the Claimer of instances sharing a store: a slot is taken by
// whichever instance claims it first in the store, for TTL. An instance
// that dies while it holds a slot leaves no checkpoint of it (a
// checkpoint is stored in one transaction) and its claim expires.
type Lease struct {
	Store SlotClaimer
	// Owner names this instance, unique among the instances sharing the
	// store (see OwnerID).
	Owner string
	// TTL bounds how long the slot stays claimed; zero means
	// DefaultLeaseTTL.
	TTL time.Duration
}

// Claim claims the slot in the store.
func (l Lease) Claim(ctx context.Context, clusterID backup.ObjectID, slot time.Time) (bool, error) {
	ttl := l.TTL
	if ttl <= 0 {
		ttl = DefaultLeaseTTL
	}
	return l.Store.ClaimSlot(ctx, clusterID, slot, l.Owner, ttl)
}

// AddClaimed stores the checkpoint of a slot only while this instance's
// claim on it holds (see FencedClaimer).
func (l Lease) AddClaimed(ctx context.Context, cp backup.Checkpoint) error {
	return l.Store.AddClaimedCheckpoint(ctx, cp, l.Owner)
}

// OwnerID returns a name for this process as a lease owner: host name,
// process id and a random part (process ids are reused, host names
// repeated across containers).
func OwnerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
