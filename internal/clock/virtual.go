package clock

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Virtual is a clock of virtual time. A manual clock (NewVirtual) moves
// only when told to, and sleepers wake when it passes their deadline; an
// automatic clock (NewAuto) jumps forward by whatever a sleeper asks
// for, at once, which replays a single goroutine's schedule as fast as the
// CPU allows. Both are safe for concurrent use; an automatic clock only
// makes sense with one goroutine sleeping on it.
type Virtual struct {
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

// NewVirtual returns a manual clock reading start.
func NewVirtual(start time.Time) *Virtual {
	return &Virtual{now: start.UTC(), changed: make(chan struct{})}
}

// NewAuto returns an automatic clock reading start.
func NewAuto(start time.Time) *Virtual {
	c := NewVirtual(start)
	c.auto = true
	return c
}

// Now returns the clock's time.
func (c *Virtual) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep waits until the clock has moved d forward or ctx is done. On an
// automatic clock it moves the clock itself and returns at once.
func (c *Virtual) Sleep(ctx context.Context, d time.Duration) error {
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
func (c *Virtual) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

// AdvanceTo moves the clock to t, waking, in deadline order, every sleeper
// whose deadline is at or before t. A t before the clock's time is a
// no-op: virtual time never goes back (but see Set).
func (c *Virtual) AdvanceTo(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.advance(t)
	}
}

// Set moves the clock to t, backwards too, as an operator or NTP steps a
// wall clock; tests of code that must not trust a clock that went back
// use it. Forwards it is AdvanceTo; backwards, sleepers keep their
// deadlines and wait for the clock to reach them again.
func (c *Virtual) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.advance(t)
		return
	}
	c.now = t
}

// advance moves the clock forward to t, waking the sleepers it passes;
// c.mu is held.
func (c *Virtual) advance(t time.Time) {
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
func (c *Virtual) Advance(d time.Duration) { c.AdvanceTo(c.Now().Add(d)) }

// Next returns the earliest deadline of a sleeper, if any sleeps.
func (c *Virtual) Next() (time.Time, bool) {
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
func (c *Virtual) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.sleepers)
}

// BlockUntil waits until at least n goroutines sleep on the clock, or ctx
// is done. A test that runs goroutines on a manual clock calls it before
// each step, so that it moves time only once they all wait for it.
func (c *Virtual) BlockUntil(ctx context.Context, n int) error {
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
