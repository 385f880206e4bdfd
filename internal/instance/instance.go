// Package instance keeps a server process in its data set's registry of
// live instances (store.Instances) by heartbeats, and tells it how many
// instances are alive whenever that changes. Authentication uses the
// count to share rate limits and Digest replay memory among the
// instances (auth.Authenticator.SetInstances); anything else that must
// know whether it is alone can use it too.
//
// A heartbeat is one small write transaction every Interval per
// instance, never one per request. An instance that stops cleanly leaves
// the registry at once; one that dies drops out when its last heartbeat
// expires, TTLFactor intervals later, so the others learn of it within
// (TTLFactor+1) intervals.
package instance

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
)

// Registry is the store's side of the registry: store.Instances's
// Heartbeat and Leave.
type Registry interface {
	Heartbeat(ctx context.Context, id string, ttl time.Duration) (int, error)
	Leave(ctx context.Context, id string) error
}

// DefaultInterval is how often an instance renews its heartbeat.
const DefaultInterval = 2 * time.Second

// TTLFactor is how many intervals a heartbeat vouches for an instance:
// two heartbeats may be late or fail before the others count it out.
const TTLFactor = 3

// Config configures a Member.
type Config struct {
	Store Registry
	// ID identifies the instance among those of the data set (NewID).
	ID uint32
	// Interval between heartbeats (DefaultInterval if 0).
	Interval time.Duration
	// Clock times the heartbeats (clock.System if nil).
	Clock clock.Clock
	// OnChange is called with the number of live instances, this one
	// included, after the first heartbeat and whenever it changes; never
	// concurrently.
	OnChange func(live int)
	Logger   *slog.Logger
}

// Member is an instance in the registry.
type Member struct {
	cfg  Config
	id   string
	live int
}

// NewID returns a random instance id. Ids are drawn at every start, so
// that a restarted process is a new instance: what the one before it
// remembered (its Digest nonces' counts) is not taken for its own.
func NewID() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails; see crypto/rand.Read
	return binary.BigEndian.Uint32(b[:])
}

// Join registers the instance with a first heartbeat, calls OnChange with
// the live count, and returns the Member, whose Run keeps it registered.
func Join(ctx context.Context, cfg Config) (*Member, error) {
	if cfg.Store == nil {
		return nil, errors.New("instance: Config.Store is required")
	}
	if cfg.Interval < 0 {
		return nil, errors.New("instance: Config.Interval must not be negative")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.System
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func(int) {}
	}
	m := &Member{cfg: cfg, id: fmt.Sprintf("%08x", cfg.ID)}
	n, err := m.beat(ctx)
	if err != nil {
		return nil, fmt.Errorf("instance: register: %w", err)
	}
	m.changed(n)
	return m, nil
}

// Settle returns once every other instance live at Join has had a
// heartbeat since, and so counts this one (at once for an instance alone):
// a server waits for it before it serves, so that no instance still acts
// as if alone, with an unshared Digest nonce or a whole rate limit, once
// requests reach this one. A heartbeat may run late, so this is a bound
// the others meet when healthy, not a guarantee.
func (m *Member) Settle(ctx context.Context) error {
	if m.live <= 1 {
		return ctx.Err()
	}
	return m.cfg.Clock.Sleep(ctx, m.cfg.Interval+m.cfg.Interval/4)
}

// ID returns the instance's id as the registry keeps it.
func (m *Member) ID() string { return m.id }

// Run renews the heartbeat every Interval until ctx is done, then leaves
// the registry. A failed heartbeat is logged and the last count kept: the
// instance goes on serving on what it knew.
func (m *Member) Run(ctx context.Context) {
	for m.cfg.Clock.Sleep(ctx, m.cfg.Interval) == nil {
		n, err := m.beat(ctx)
		if err != nil {
			if ctx.Err() == nil {
				m.cfg.Logger.Warn("instance: heartbeat failed; keeping the last count of instances", "live", m.live, "err", err)
			}
			continue
		}
		m.changed(n)
	}
	// The context is done; leaving still needs the store, briefly.
	leaveCtx, cancel := context.WithTimeout(backup.WithPrincipal(context.WithoutCancel(ctx), backup.System), 5*time.Second)
	defer cancel()
	if err := m.cfg.Store.Leave(leaveCtx, m.id); err != nil {
		m.cfg.Logger.Warn("instance: leaving the registry failed; the others count this instance out when its heartbeat expires", "err", err)
	}
}

func (m *Member) beat(ctx context.Context) (int, error) {
	return m.cfg.Store.Heartbeat(backup.WithPrincipal(ctx, backup.System), m.id, TTLFactor*m.cfg.Interval)
}

func (m *Member) changed(n int) {
	if n == m.live {
		return
	}
	m.cfg.Logger.Info("instances serving the data set", "live", n, "id", m.id)
	m.live = n
	m.cfg.OnChange(n)
}
