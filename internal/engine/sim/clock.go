package sim

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Clock is a virtual engine.Clock. A manual clock (NewClock) moves only
// when told to, and sleepers wake when it passes their deadline; an
// automatic clock (NewAutoClock) jumps forward by whatever a sleeper asks
// for, at once, which replays a single goroutine's schedule as fast as the
// CPU allows. Both are safe for concurrent use; an automatic clock only
// makes sense with one goroutine sleeping on it.
type Clock struct {
	mu       sync.Mutex
	now      time.Time
	auto     bool
	sleepers []*sleeper
	changed  chan struct{} // closed and replaced whenever sleepers change
}

type sleeper struct {
	at   time.Time
	wake chan struct{}
}

// NewClock returns a manual clock reading start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start.UTC(), changed: make(chan struct{})}
}

// NewAutoClock returns an automatic clock reading start.
func NewAutoClock(start time.Time) *Clock {
	c := NewClock(start)
	c.auto = true
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep waits until the clock has moved d forward or ctx is done. On an
// automatic clock it moves the clock itself and returns at once.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil || d <= 0 {
		return err
	}
	c.mu.Lock()
	if c.auto {
		c.now = c.now.Add(d)
		c.mu.Unlock()
		return nil
	}
	s := &sleeper{at: c.now.Add(d), wake: make(chan struct{})}
	c.sleepers = append(c.sleepers, s)
	c.notify()
	c.mu.Unlock()
	select {
	case <-s.wake:
		return nil
	case <-ctx.Done():
		c.mu.Lock()
		if i := slices.Index(c.sleepers, s); i >= 0 {
			c.sleepers = slices.Delete(c.sleepers, i, i+1)
			c.notify()
		}
		c.mu.Unlock()
		return ctx.Err()
	}
}

// notify tells BlockUntil that the sleepers changed; c.mu is held.
func (c *Clock) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// AdvanceTo moves the clock to t, waking, in deadline order, every sleeper
// whose deadline is at or before t. A t before the clock's time is a
// no-op: virtual time never goes back.
func (c *Clock) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !t.After(c.now) {
		return
	}
	slices.SortStableFunc(c.sleepers, func(a, b *sleeper) int { return a.at.Compare(b.at) })
	n := 0
	for _, s := range c.sleepers {
		if s.at.After(t) {
			break
		}
		close(s.wake)
		n++
	}
	if n > 0 {
		c.sleepers = slices.Delete(c.sleepers, 0, n)
		c.notify()
	}
	c.now = t
}

// Advance moves the clock d forward (see AdvanceTo).
func (c *Clock) Advance(d time.Duration) { c.AdvanceTo(c.Now().Add(d)) }

// Next returns the earliest deadline of a sleeper, if any sleeps.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sleepers) == 0 {
		return time.Time{}, false
	}
	next := c.sleepers[0].at
	for _, s := range c.sleepers[1:] {
		if s.at.Before(next) {
			next = s.at
		}
	}
	return next, true
}

// Sleepers returns how many goroutines sleep on the clock.
func (c *Clock) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sleepers)
}

// BlockUntil waits until at least n goroutines sleep on the clock, or ctx
// is done. A test that runs goroutines on a manual clock calls it before
// each step, so that it moves time only once they all wait for it.
func (c *Clock) BlockUntil(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		if len(c.sleepers) >= n {
			c.mu.Unlock()
			return nil
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
