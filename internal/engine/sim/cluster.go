package sim

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/engine"
)

// Range is a duration drawn uniformly from [Min, Max].
type Range struct{ Min, Max time.Duration }

// Config shapes a simulated cluster. The zero Config is a quiet cluster:
// no other writes, no migrations, commands that take no time, every token
// discovered at once. DefaultConfig is a busy one.
type Config struct {
	// WriteRate is the mean number of oplog entries per second on each
	// shard's primary (or the replica set's), ConfigWriteRate on the
	// config server's. They set how far into its second a token's
	// increment lands.
	WriteRate, ConfigWriteRate float64
	// AgentLag is how long the backup agent takes to pick up a
	// checkpoint job and reach the mongos: the gap between a slot and the
	// balancer stop, before any wait for a migration.
	AgentLag Range
	// Latency is the round trip of one command: a token write, a
	// balancer start.
	Latency Range
	// MigrationGap is the mean pause between chunk migrations while the
	// balancer runs (exponentially distributed); zero means no
	// migrations.
	MigrationGap time.Duration
	// Migration is how long a chunk migration takes; with probability
	// LongMigrationRate it takes LongMigration instead (a jumbo chunk, a
	// slow range deleter) and may outlast a balancer stop's timeout.
	Migration         Range
	LongMigration     Range
	LongMigrationRate float64
	// Discovery is how long after its write a token shows up in the
	// oplog the agent tails and ships.
	Discovery Range
	// LossRate is the probability that a written token never shows up: an
	// oplog slice lost, a failover rolling the write back.
	LossRate float64
	// OplogSize is how many entries each member set's oplog keeps
	// (DefaultOplogSize when zero): tokens and notes, the balancer's
	// config.settings updates, and the other writes WriteRate stands for
	// within each second a token or note lands in.
	OplogSize int
}

// DefaultConfig is a busy production cluster as the published samples
// suggest: slots start 3 to 50 s late, shards' tokens land first or second
// in their second and the config server's later (it also takes the
// balancer's writes), a migration every few minutes, now and then one
// long enough to make the balancer stop time out (about one slot in 100),
// and about one token in 300 lost.
func DefaultConfig() Config {
	return Config{
		WriteRate:         1,
		ConfigWriteRate:   2,
		AgentLag:          Range{3 * time.Second, 50 * time.Second},
		Latency:           Range{time.Millisecond, 150 * time.Millisecond},
		MigrationGap:      5 * time.Minute,
		Migration:         Range{2 * time.Second, 40 * time.Second},
		LongMigration:     Range{time.Minute, 6 * time.Minute},
		LongMigrationRate: 0.02,
		Discovery:         Range{time.Second, 30 * time.Second},
		LossRate:          1.0 / 300,
	}
}

// Faults make a simulated cluster misbehave. Members are named by
// engine.Member.Name: the replica set name, or a mirrored config
// server's host id.
type Faults struct {
	// StopDelay is added to the time the balancer needs to stop, on top of
	// any running migration: a slow stop.
	StopDelay time.Duration
	// StopErr makes the balancer stop fail (no mongos reachable); the
	// balancer stays enabled.
	StopErr error
	// StartErr makes the balancer start fail; the balancer stays
	// disabled.
	StartErr error
	// Unreachable members refuse token writes; over the wire their ports
	// stop answering.
	Unreachable []string
	// Lost members' tokens are written but never discovered: they never
	// show up in the oplog.
	Lost []string
	// Skew sets members' clocks ahead (positive) or behind the service's.
	Skew map[string]time.Duration
	// SteppedDown members' primaries stepped down: they refuse writes
	// (ErrNotPrimary) and over the wire answer hello as a secondary, with
	// no primary known. Clearing the fault elects them again, in a new
	// term.
	SteppedDown []string
	// Slow members take this much longer to answer each command.
	Slow map[string]time.Duration
}

// Stats count what a simulated cluster was asked to do.
type Stats struct {
	Stops, Starts  int // balancer stop and start commands received
	FailedStarts   int // starts refused by Faults.StartErr
	TokensWritten  int
	Migrations     int // migrations begun
	BalancerOffFor time.Duration
}

// Cluster is a simulated cluster; it implements engine.Cluster. It is safe
// for concurrent use.
type Cluster struct {
	clock   clock.Clock
	cfg     Config
	sharded bool

	mu      sync.Mutex
	rng     *rand.Rand
	faults  Faults
	members map[string]*member // never written after New
	order   []string           // members' names in part order
	config  *member            // nil for a replica set
	bal     balancer
	stats   Stats

	changed    chan struct{} // closed and replaced by SetFaults
	generation int64         // SetFaults calls
}

// member is one member set's primary and its oplog clock.
type member struct {
	engine.Member
	rate     float64
	last     backup.BSONTimestamp // the newest entry's timestamp
	lastWall time.Time            // the member's clock at that entry
	term     int64
	oplog    oplog
}

type balancer struct {
	enabled   bool
	offSince  time.Time
	migEnd    time.Time // end of the running or last migration
	nextStart time.Time // start of the next migration while enabled
}

// New returns a simulation of c on clk, its randomness drawn from seed
// and c's id (so that two clusters simulated with one seed differ). The
// balancer starts enabled.
func New(c backup.Cluster, clk clock.Clock, seed uint64, cfg Config) (*Cluster, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	h := fnv.New64a()
	h.Write(c.ID[:])
	s := &Cluster{
		clock:   clk,
		cfg:     cfg,
		sharded: c.Type == backup.Sharded,
		rng:     rand.New(rand.NewPCG(seed, h.Sum64())),
		members: map[string]*member{},
		changed: make(chan struct{}),
	}
	for _, m := range engine.Members(c) {
		mm := &member{Member: m, rate: cfg.WriteRate, term: 1, oplog: oplog{size: cfg.OplogSize}}
		if m.Type != backup.PartReplicaSet {
			mm.rate = cfg.ConfigWriteRate
			s.config = mm
		}
		s.members[m.Name()] = mm
		s.order = append(s.order, m.Name())
	}
	if s.sharded {
		s.bal.enabled = true
		s.bal.nextStart = clk.Now().Add(s.gap())
	}
	return s, nil
}

// SetFaults replaces the cluster's faults; they apply to commands received
// from then on. A member whose primary stepped down and is no longer in
// f.SteppedDown is elected again, in a new term.
func (s *Cluster) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, name := range s.faults.SteppedDown {
		if m := s.members[name]; m != nil && !slices.Contains(f.SteppedDown, name) {
			m.term++
		}
	}
	s.faults = f
	s.generation++
	close(s.changed)
	s.changed = make(chan struct{})
}

// BalancerEnabled reports whether the balancer is enabled; a replica set
// has none.
func (s *Cluster) BalancerEnabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bal.enabled
}

// Migrating reports whether a chunk migration is running now.
func (s *Cluster) Migrating() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advance(now)
	return s.bal.migEnd.After(now)
}

// Migrate begins a migration of length d now, as the balancer would, if
// it is enabled and none is running.
func (s *Cluster) Migrate(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	s.advance(now)
	if s.bal.enabled && !s.bal.migEnd.After(now) {
		s.bal.migEnd = now.Add(d)
		s.bal.nextStart = s.bal.migEnd.Add(s.gap())
		s.stats.Migrations++
	}
}

// Stats returns what the cluster was asked to do so far.
func (s *Cluster) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	if !s.bal.enabled && s.sharded {
		st.BalancerOffFor += s.clock.Now().Sub(s.bal.offSince)
	}
	return st
}

// LastTimestamp returns the timestamp of the newest oplog entry the
// simulation made on the named member (zero before the first).
func (s *Cluster) LastTimestamp(name string) backup.BSONTimestamp {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.members[name]; m != nil {
		return m.last
	}
	return backup.BSONTimestamp{}
}

var errNoBalancer = errors.New("sim: a replica set has no balancer")

// StopBalancer implements engine.Cluster: after the agent's lag it runs
// DisableBalancer.
func (s *Cluster) StopBalancer(ctx context.Context, timeout time.Duration) error {
	if !s.sharded {
		return errNoBalancer
	}
	if err := s.clock.Sleep(ctx, s.draw(s.cfg.AgentLag)); err != nil {
		return err
	}
	return s.DisableBalancer(ctx, timeout)
}

// DisableBalancer is balancerStop as a mongos runs it: it disables the
// balancer (an update of config.settings in the config server's oplog)
// and waits, at most timeout, for the running migration; when that
// outlasts timeout it returns an error wrapping
// engine.ErrBalancerTimeout and the balancer stays disabled.
func (s *Cluster) DisableBalancer(ctx context.Context, timeout time.Duration) error {
	if !s.sharded {
		return errNoBalancer
	}
	s.mu.Lock()
	s.stats.Stops++
	if err := s.faults.StopErr; err != nil {
		s.mu.Unlock()
		return fmt.Errorf("sim: stop balancer: %w", err)
	}
	now := s.clock.Now()
	s.advance(now)
	if s.bal.enabled {
		s.bal.enabled = false
		s.bal.offSince = now
	}
	s.append(s.config, now, Entry{Op: "u", NS: "config.settings", O: balancerStopped, O2: balancerID, visible: now})
	wait := max(0, s.bal.migEnd.Sub(now)) + s.faults.StopDelay
	s.mu.Unlock()
	if wait > timeout {
		if err := s.clock.Sleep(ctx, timeout); err != nil {
			return err
		}
		return fmt.Errorf("sim: migration still running after %s: %w", timeout, engine.ErrBalancerTimeout)
	}
	return s.clock.Sleep(ctx, wait)
}

// StartBalancer implements engine.Cluster: after a command's latency it
// runs EnableBalancer.
func (s *Cluster) StartBalancer(ctx context.Context) error {
	if !s.sharded {
		return errNoBalancer
	}
	if err := s.clock.Sleep(ctx, s.draw(s.cfg.Latency)); err != nil {
		return err
	}
	return s.EnableBalancer()
}

// EnableBalancer is balancerStart as a mongos runs it.
func (s *Cluster) EnableBalancer() error {
	if !s.sharded {
		return errNoBalancer
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Starts++
	if err := s.faults.StartErr; err != nil {
		s.stats.FailedStarts++
		return fmt.Errorf("sim: start balancer: %w", err)
	}
	now := s.clock.Now()
	if !s.bal.enabled {
		s.bal.enabled = true
		s.stats.BalancerOffFor += now.Sub(s.bal.offSince)
		s.bal.nextStart = now.Add(s.gap())
	}
	s.append(s.config, now, Entry{Op: "u", NS: "config.settings", O: balancerStarted, O2: balancerID, visible: now})
	return nil
}

// WriteToken implements engine.Cluster: appendOplogNote of TokenNote(tok)
// on m's primary.
func (s *Cluster) WriteToken(ctx context.Context, m engine.Member, tok engine.Token) error {
	mm, err := s.member(m)
	if err != nil {
		return err
	}
	_, err = s.note(ctx, mm, Entry{Op: "n", token: tok, isToken: true}, s.draw(s.cfg.Latency))
	return err
}

// DiscoverToken implements engine.Cluster: it finds tok in m's oplog and
// waits until the agent sees it. A token that rolled off the bounded
// oplog is not discovered, as a real oplog's window loses it.
func (s *Cluster) DiscoverToken(ctx context.Context, m engine.Member, tok engine.Token, wait time.Duration) (backup.BSONTimestamp, error) {
	mm, err := s.member(m)
	if err != nil {
		return backup.BSONTimestamp{}, err
	}
	s.mu.Lock()
	e, ok := mm.findToken(tok.Checkpoint)
	now := s.clock.Now()
	s.mu.Unlock()
	notFound := fmt.Errorf("sim: %s: token of %s: %w", m.Name(), tok.Checkpoint.Hex(), engine.ErrNotDiscovered)
	if !ok {
		return backup.BSONTimestamp{}, notFound
	}
	if !e.lost {
		if d := e.visible.Sub(now); d <= wait {
			return e.TS, s.clock.Sleep(ctx, d)
		}
	}
	if err := s.clock.Sleep(ctx, wait); err != nil {
		return backup.BSONTimestamp{}, err
	}
	return backup.BSONTimestamp{}, notFound
}

func (s *Cluster) member(m engine.Member) (*member, error) {
	mm := s.members[m.Name()] // members is never written after New
	if mm == nil || mm.Member != m {
		return nil, fmt.Errorf("sim: no member set %s", m.Name())
	}
	return mm, nil
}

// append writes e to m's oplog at now, by m's clock, and returns its
// timestamp: the second, and one more than the entries in that second
// before it, the others drawn from m's write rate and kept in the oplog
// as inserts (at most maxNoise of them). Timestamps only grow, as mongod
// keeps them, even when m's clock is set back. s.mu is held.
func (s *Cluster) append(m *member, now time.Time, e Entry) backup.BSONTimestamp {
	wall := now.Add(s.faults.Skew[m.Name()])
	sec := wall.Truncate(time.Second)
	var inc, first uint32 // first: the lowest increment the other writes take
	switch {
	case sec.Equal(m.last.Date):
		first = m.last.Increment + 1
		inc = first + s.poisson(m.rate*max(0, wall.Sub(m.lastWall)).Seconds())
	case sec.After(m.last.Date):
		first = 1
		inc = first + s.poisson(m.rate*wall.Sub(sec).Seconds())
	default:
		sec, inc = m.last.Date, m.last.Increment+1
		first = inc
	}
	for i := max(first, inc-min(inc-first, maxNoise)); i < inc; i++ {
		m.oplog.add(Entry{TS: backup.BSONTimestamp{Date: sec, Increment: i}, Term: m.term, Wall: wall, Op: "i", NS: "app.events", visible: now})
	}
	m.last = backup.BSONTimestamp{Date: sec, Increment: inc}
	m.lastWall = wall
	e.TS, e.Term, e.Wall = m.last, m.term, wall
	m.oplog.add(e)
	return m.last
}

// advance plays the balancer's migrations up to now. s.mu is held.
func (s *Cluster) advance(now time.Time) {
	if s.cfg.MigrationGap <= 0 {
		return
	}
	for s.bal.enabled && !s.bal.nextStart.After(now) {
		d := s.cfg.Migration
		if s.rng.Float64() < s.cfg.LongMigrationRate {
			d = s.cfg.LongMigration
		}
		s.bal.migEnd = s.bal.nextStart.Add(s.uniform(d))
		s.bal.nextStart = s.bal.migEnd.Add(s.gap())
		s.stats.Migrations++
	}
}

// draw is uniform for callers that do not hold s.mu.
func (s *Cluster) draw(r Range) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.uniform(r)
}

// uniform draws from r; s.mu is held (or s is not yet shared).
func (s *Cluster) uniform(r Range) time.Duration {
	if r.Max <= r.Min {
		return max(r.Min, 0)
	}
	return r.Min + time.Duration(s.rng.Int64N(int64(r.Max-r.Min)+1))
}

// gap draws the pause before the next migration.
func (s *Cluster) gap() time.Duration {
	if s.cfg.MigrationGap <= 0 {
		return 0
	}
	return time.Duration(s.rng.ExpFloat64() * float64(s.cfg.MigrationGap))
}

// poisson draws a Poisson count of mean lambda: Knuth's product method for
// small means, a rounded normal for large ones.
func (s *Cluster) poisson(lambda float64) uint32 {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return uint32(max(0, math.Round(lambda+math.Sqrt(lambda)*s.rng.NormFloat64())))
	}
	limit, k, p := math.Exp(-lambda), uint32(0), s.rng.Float64()
	for p > limit {
		k++
		p *= s.rng.Float64()
	}
	return k
}

// Drivers returns the engine's driver factory for simulated clusters:
// each cluster is a New simulation on clk with cfg, its seed drawn from
// seed and the cluster's id so that clusters sharing a seed still behave
// differently.
func Drivers(clk clock.Clock, seed uint64, cfg Config) engine.DriverFactory {
	return func(c backup.Cluster) (engine.Cluster, error) {
		h := fnv.New64a()
		h.Write(c.ID[:])
		return New(c, clk, seed^h.Sum64(), cfg)
	}
}
