package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/checkpointd/checkpointd/internal/backup"
	"github.com/checkpointd/checkpointd/internal/engine"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"
)

// DefaultOplogSize is how many entries each member set's oplog keeps when
// Config.OplogSize is zero: a few hundred kB per member, which a server
// simulating many clusters keeps for each, and hours of a quiet
// cluster's history, more than any reader here falls behind.
const DefaultOplogSize = 1024

// maxNoise bounds the other writes one append materialises between two
// entries, so that a high write rate costs bounded time per append.
const maxNoise = 16

// Entry is one oplog entry of a member set's primary, in the shape
// local.oplog.rs holds it: {ts, t, v, wall, op, ns, o, o2}.
type Entry struct {
	TS   backup.BSONTimestamp
	Term int64
	Wall time.Time // the member's clock when it was written
	Op   string    // "n" for notes, "i" and "u" for the other writes
	NS   string    // "" for notes
	// O is the entry's document, BSON. Nil for an insert of the
	// background load, whose document the simulation does not keep: a
	// reader renders {_id: <the timestamp as an int64>}.
	O  []byte
	O2 []byte // for updates, the document's _id; else nil

	// token is what WriteToken wrote; its O, TokenNote(token), is made
	// only when the entry is read, so that replaying months of
	// checkpoints encodes none.
	token   engine.Token
	isToken bool
	visible time.Time // when readers see it (the agent's discovery lag)
	lost    bool      // never seen
}

// Oplog is a member set's bounded oplog: the newest entries, oldest first.
type oplog struct {
	size    int
	entries []Entry // a ring once full; head is the oldest
	head    int
}

func (o *oplog) add(e Entry) {
	if o.size <= 0 {
		o.size = DefaultOplogSize
	}
	if len(o.entries) < o.size {
		o.entries = append(o.entries, e)
		return
	}
	o.entries[o.head] = e
	o.head = (o.head + 1) % len(o.entries)
}

// at returns the i-th entry, oldest first.
func (o *oplog) at(i int) *Entry { return &o.entries[(o.head+i)%len(o.entries)] }

// Balancer state documents as the config server's oplog records its
// config.settings updates.
var (
	balancerID      = bsoncore.NewDocumentBuilder().AppendString("_id", "balancer").Build()
	balancerStopped = bsoncore.NewDocumentBuilder().AppendDocument("$set",
		bsoncore.NewDocumentBuilder().AppendString("mode", "off").AppendBoolean("stopped", true).Build()).Build()
	balancerStarted = bsoncore.NewDocumentBuilder().AppendDocument("$set",
		bsoncore.NewDocumentBuilder().AppendString("mode", "full").AppendBoolean("stopped", false).Build()).Build()
)

// TokenNote is the appendOplogNote data of tok as the simulation writes it
// for WriteToken: {checkpointToken: {clusterId, checkpointId}}, both
// ObjectIds.
func TokenNote(tok engine.Token) []byte {
	return bsoncore.NewDocumentBuilder().AppendDocument("checkpointToken", bsoncore.NewDocumentBuilder().
		AppendObjectID("clusterId", tok.Cluster).
		AppendObjectID("checkpointId", tok.Checkpoint).Build()).Build()
}

// Errors of a member set's primary as the simulation's faults make it
// answer; the wire server maps them to MongoDB's error codes.
var (
	// ErrUnreachable: the member set's primary does not answer
	// (Faults.Unreachable).
	ErrUnreachable = errors.New("sim: no primary reachable")
	// ErrNotPrimary: the member set's primary stepped down
	// (Faults.SteppedDown) and takes no writes.
	ErrNotPrimary = errors.New("sim: not primary")
)

// Members lists the cluster's member sets in checkpoint part order.
func (s *Cluster) Members() []engine.Member {
	out := make([]engine.Member, len(s.order))
	for i, name := range s.order {
		out[i] = s.members[name].Member
	}
	return out
}

// Now reads the cluster's clock: the members' local time.
func (s *Cluster) Now() time.Time { return s.clock.Now() }

// Faults returns the faults in effect.
func (s *Cluster) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// FaultsChanged returns a channel closed at the next SetFaults, so that a
// server can wake what waits on a member's state.
func (s *Cluster) FaultsChanged() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Generation counts the SetFaults calls so far; it only grows.
func (s *Cluster) Generation() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.generation
}

// Term is the named member set's election term: 1, plus one for each time
// its primary came back after a step-down.
func (s *Cluster) Term(name string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.members[name]; m != nil {
		return m.term
	}
	return 0
}

// AppendNote runs appendOplogNote on the named member set's primary: a
// no-op entry {op:"n", ns:"", o:data}, under the same faults as
// WriteToken (an unreachable, stepped-down or slow primary, a lost note,
// a skewed clock). It returns the entry's timestamp.
func (s *Cluster) AppendNote(ctx context.Context, name string, data []byte) (backup.BSONTimestamp, error) {
	mm := s.members[name]
	if mm == nil {
		return backup.BSONTimestamp{}, fmt.Errorf("sim: no member set %s", name)
	}
	return s.note(ctx, mm, Entry{Op: "n", O: slices.Clone(data)}, 0)
}

// note appends e to mm's oplog as WriteToken and AppendNote do: after the
// command's latency (and the member's Slow fault), unless the member is
// unreachable or stepped down; it draws when the agent will see it and
// whether it is lost.
func (s *Cluster) note(ctx context.Context, mm *member, e Entry, latency time.Duration) (backup.BSONTimestamp, error) {
	if err := s.clock.Sleep(ctx, latency+s.slow(mm.Name())); err != nil {
		return backup.BSONTimestamp{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case slices.Contains(s.faults.Unreachable, mm.Name()):
		return backup.BSONTimestamp{}, fmt.Errorf("sim: %s: %w", mm.Name(), ErrUnreachable)
	case slices.Contains(s.faults.SteppedDown, mm.Name()):
		return backup.BSONTimestamp{}, fmt.Errorf("sim: %s: %w", mm.Name(), ErrNotPrimary)
	}
	now := s.clock.Now()
	ts := s.append(mm, now, e)
	// Drawn after the timestamp, in the order the simulation always drew
	// them, so that a seed gives the history it gave before the oplog
	// was kept.
	last := mm.oplog.at(len(mm.oplog.entries) - 1)
	last.visible = now.Add(s.uniform(s.cfg.Discovery))
	last.lost = s.rng.Float64() < s.cfg.LossRate || slices.Contains(s.faults.Lost, mm.Name())
	s.stats.TokensWritten++
	return ts, nil
}

// Delay waits as long as the named member's Slow fault says, on the
// cluster's clock: what a slow member adds to each command.
func (s *Cluster) Delay(ctx context.Context, name string) error {
	return s.clock.Sleep(ctx, s.slow(name))
}

func (s *Cluster) slow(name string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.Slow[name]
}

// Noop appends a no-op {op:"n", ns:"", o:{msg: msg}} to the named
// member's oplog, as a primary writes "initiating set" first and
// "periodic noop" every 10 s when idle, and returns its timestamp. A
// stepped-down or unreachable member writes nothing.
func (s *Cluster) Noop(name, msg string) backup.BSONTimestamp {
	s.mu.Lock()
	defer s.mu.Unlock()
	mm := s.members[name]
	if mm == nil || slices.Contains(s.faults.SteppedDown, name) || slices.Contains(s.faults.Unreachable, name) {
		return backup.BSONTimestamp{}
	}
	now := s.clock.Now()
	return s.append(mm, now, Entry{Op: "n", O: bsoncore.NewDocumentBuilder().AppendString("msg", msg).Build(), visible: now})
}

// ReadOplog returns up to limit entries of the named member's oplog
// (limit ≤ 0: all) that a reader sees now with a timestamp after after,
// oldest first, and whether the oplog still holds after itself or
// anything older (false: entries after it may have rolled off). As
// mongod's oplog visibility does, an entry the agent does not see yet
// hides every newer one; a lost entry is never seen and hides nothing.
func (s *Cluster) ReadOplog(name string, after backup.BSONTimestamp, limit int) ([]Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mm := s.members[name]
	if mm == nil {
		return nil, false
	}
	now := s.clock.Now()
	o := &mm.oplog
	n := len(o.entries)
	covered := n == 0 || after.Date.IsZero() && after.Increment == 0 || !tsLess(after, o.at(0).TS)
	var out []Entry
	for i := range n {
		e := o.at(i)
		if e.lost || !tsLess(after, e.TS) {
			continue
		}
		if e.visible.After(now) {
			break
		}
		ee := *e
		if ee.isToken {
			ee.O = TokenNote(ee.token)
		}
		out = append(out, ee)
		if limit > 0 && len(out) == limit {
			break
		}
	}
	return out, covered
}

// tsLess orders oplog timestamps.
func tsLess(a, b backup.BSONTimestamp) bool {
	if !a.Date.Equal(b.Date) {
		return a.Date.Before(b.Date)
	}
	return a.Increment < b.Increment
}

// findToken returns the newest entry of m's oplog that WriteToken wrote
// for checkpoint, if the oplog still holds it. s.mu is held.
func (m *member) findToken(checkpoint backup.ObjectID) (Entry, bool) {
	o := &m.oplog
	for i := len(o.entries) - 1; i >= 0; i-- {
		if e := o.at(i); e.isToken && e.token.Checkpoint == checkpoint {
			return *e, true
		}
	}
	return Entry{}, false
}
