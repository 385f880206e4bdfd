package digest

import (
	"context"
	"math"
	"sync"
	"time"
)

// ReplayGuard remembers which nonce counts have been used with which of
// this instance's unshared nonces. Verify consults it last, after the
// response has been checked, so that only a client that knows the
// password can spend a count: a stranger replaying nothing but a nonce
// cannot lock a legitimate client out of it.
//
// Being per instance is enough for those nonces: no other instance
// accepts them (see Config.Instance), and an instance that restarts
// takes a new id, so it refuses its former self's nonces as stale rather
// than forgetting which counts they spent.
type ReplayGuard interface {
	// Use records that nc was used with nonce, which was issued at issued,
	// as seen at now. It returns nil if the count is new for this nonce,
	// ErrReplay if it was used before, ErrStaleNonce if the guard no
	// longer knows enough about the nonce to tell (the client must fetch a
	// fresh one), and any other error if the guard itself failed.
	Use(nonce string, issued time.Time, nc uint32, now time.Time) error
}

// SharedReplayGuard is the replay memory of every instance sharing a
// Secret, for shared nonces (Server.SetShared): the store's UseNonce.
// Verify consults it last, as it does ReplayGuard.
type SharedReplayGuard interface {
	// UseNonce records that count nc was used with the nonce whose raw
	// bytes are nonce, to be remembered at least until expires, and
	// reports whether the count was new. Of racing callers on any
	// instance, exactly one gets true.
	UseNonce(ctx context.Context, nonce []byte, nc uint32, expires time.Time) (bool, error)
}

// DefaultReplayCapacity is the default number of nonces a
// MemoryReplayGuard remembers: about 130 bytes each (map entry and queue
// slot, measured), so ~17 MB at capacity, enough for 2,000 fresh nonces a second with a 60 s TTL. The official
// client takes a fresh nonce for every request, so this is also the
// sustained request rate above which the guard starts to shorten the
// effective nonce lifetime (see MemoryReplayGuard).
const DefaultReplayCapacity = 1 << 17

// replayWindow is how far below the highest count a count may arrive and
// still be accepted once. Strictly increasing counts would refuse a
// client's concurrent requests on one nonce that overtake each other on
// the way (nc=3 arriving before nc=2); a 64-count bitmap, as in IPsec's
// anti-replay window, accepts those and still refuses every repetition.
const replayWindow = 64

// MemoryReplayGuard is the in-memory ReplayGuard: per nonce, the highest
// count seen and a bitmap of the 64 counts below it. Entries are dropped
// once their nonce is older than the TTL (Verify refuses such nonces as
// stale anyway), oldest first use first.
//
// At capacity, it drops the entry it has known longest, and from then on
// refuses as stale any nonce it does not know that was issued no later
// than the dropped one (the "floor"). So it never forgets a count while
// still accepting its nonce: overload shortens the effective lifetime of
// nonces (clients get stale=true and a fresh nonce sooner) instead of
// opening a replay window. The same floor covers a clock that steps back.
//
// It is safe for concurrent use.
type MemoryReplayGuard struct {
	mu    sync.Mutex
	ttl   int64 // milliseconds
	cap   int
	seen  map[[nonceRawLen]byte]counts
	queue []queued // first use order; queue[head:] is live
	head  int
	floor int64 // milliseconds; see the type's comment
}

type counts struct {
	max  uint32
	bits uint64 // bit i: count max-i has been used
}

type queued struct {
	key    [nonceRawLen]byte
	issued int64
}

// NewMemoryReplayGuard returns a guard that forgets nonces older than ttl
// and remembers at most capacity of them (DefaultReplayCapacity if
// capacity < 1). ttl should be the Server's NonceTTL.
func NewMemoryReplayGuard(ttl time.Duration, capacity int) *MemoryReplayGuard {
	if capacity < 1 {
		capacity = DefaultReplayCapacity
	}
	return &MemoryReplayGuard{
		ttl:   ttl.Milliseconds(),
		cap:   capacity,
		seen:  make(map[[nonceRawLen]byte]counts),
		floor: math.MinInt64,
	}
}

// Len returns the number of nonces remembered.
func (g *MemoryReplayGuard) Len() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.seen)
}

// Use implements ReplayGuard.
func (g *MemoryReplayGuard) Use(nonce string, issued time.Time, nc uint32, now time.Time) error {
	key, ok := nonceKey(nonce)
	if !ok || nc == 0 {
		return ErrBadNonce
	}
	iss := issued.UnixMilli()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.expire(now.UnixMilli())
	c, ok := g.seen[key]
	if !ok {
		if iss <= g.floor {
			return ErrStaleNonce
		}
		if len(g.seen) >= g.cap {
			g.pop()
		}
		g.seen[key] = counts{max: nc, bits: 1}
		g.queue = append(g.queue, queued{key: key, issued: iss})
		return nil
	}
	switch {
	case nc > c.max:
		if d := nc - c.max; d < replayWindow {
			c.bits = c.bits<<d | 1
		} else {
			c.bits = 1
		}
		c.max = nc
	case c.max-nc >= replayWindow:
		return ErrReplay // too far behind to tell: refuse, as RFC 7616 allows
	default:
		bit := uint64(1) << (c.max - nc)
		if c.bits&bit != 0 {
			return ErrReplay
		}
		c.bits |= bit
	}
	g.seen[key] = c
	return nil
}

// expire drops the entries, from the oldest first use on, whose nonce is
// older than the TTL. An entry for a nonce issued late (or by an instance
// whose clock runs ahead) can hold back older ones behind it; they are
// still bounded by the capacity, and still refused as stale by Verify.
func (g *MemoryReplayGuard) expire(now int64) {
	for g.head < len(g.queue) && now-g.queue[g.head].issued > g.ttl {
		g.pop()
	}
}

// pop drops the entry first used longest ago and raises the floor to its
// issue time.
func (g *MemoryReplayGuard) pop() {
	q := g.queue[g.head]
	delete(g.seen, q.key)
	g.floor = max(g.floor, q.issued)
	g.queue[g.head] = queued{}
	g.head++
	// Compact once the dead prefix is the larger half: amortised O(1) per
	// entry, and the slice never holds more than twice the live entries.
	if g.head > len(g.queue)/2 {
		n := copy(g.queue, g.queue[g.head:])
		clear(g.queue[n:])
		g.queue = g.queue[:n]
		g.head = 0
	}
}
