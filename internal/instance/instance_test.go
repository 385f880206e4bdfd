package instance

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
	"github.com/checkpointd/checkpointd/internal/store/sqlite"
)

// counts records what OnChange was told.
type counts struct {
	mu   sync.Mutex
	seen []int
}

func (c *counts) on(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, n)
}

func (c *counts) last() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) == 0 {
		return 0
	}
	return c.seen[len(c.seen)-1]
}

// TestJoinAndLeave runs members over one SQLite file on a virtual clock:
// each learns of the others at its next heartbeat, of one that stops
// cleanly at the heartbeat after, and of one that dies (stops beating
// without leaving) once its heartbeat has expired.
func TestJoinAndLeave(t *testing.T) {
	clk := clock.NewVirtual(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db.sqlite"), sqlite.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	const interval = 2 * time.Second
	join := func(id uint32, c *counts) *Member {
		t.Helper()
		m, err := Join(t.Context(), Config{Store: db, ID: id, Interval: interval, Clock: clk, OnChange: c.on})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// step moves the clock one interval once every running member sleeps
	// on it, and waits until they all sleep again (their heartbeats done).
	running := 0
	step := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if err := clk.BlockUntil(ctx, running); err != nil {
			t.Fatal(err)
		}
		clk.Advance(interval)
		if err := clk.BlockUntil(ctx, running); err != nil {
			t.Fatal(err)
		}
	}
	var a, b, c counts
	ma := join(1, &a)
	if a.last() != 1 {
		t.Fatalf("alone: told %v, want 1", a.seen)
	}
	ctxA, stopA := context.WithCancel(t.Context())
	doneA := make(chan struct{})
	go func() { defer close(doneA); ma.Run(ctxA) }()
	running++
	join(2, &b) // b beats once and then never again: it will "die"
	if b.last() != 2 {
		t.Fatalf("second: told %v, want 2", b.seen)
	}
	mc := join(3, &c)
	ctxC, stopC := context.WithCancel(t.Context())
	doneC := make(chan struct{})
	go func() { defer close(doneC); mc.Run(ctxC) }()
	running++
	step()
	if a.last() != 3 || c.last() != 3 {
		t.Fatalf("after a heartbeat: a told %v, c told %v; want 3", a.seen, c.seen)
	}
	// b's heartbeat, at the start, vouches for it TTLFactor intervals.
	for range TTLFactor - 2 {
		step()
	}
	if a.last() != 3 {
		t.Fatalf("b counted out before its heartbeat expired: a told %v", a.seen)
	}
	step()
	if a.last() != 2 || c.last() != 2 {
		t.Fatalf("after b's heartbeat expired: a told %v, c told %v; want 2", a.seen, c.seen)
	}
	// c stops cleanly: it leaves, and a knows at its next heartbeat.
	stopC()
	<-doneC
	running--
	step()
	if a.last() != 1 {
		t.Fatalf("after c left: a told %v, want 1", a.seen)
	}
	stopA()
	<-doneA
	if got := len(a.seen); got != 4 {
		t.Errorf("a was told %v: want one call per change (1, 3, 2, 1)", a.seen)
	}
}

// failing is a registry whose heartbeats fail after the first.
type failing struct {
	mu    sync.Mutex
	beats int
}

func (f *failing) Heartbeat(context.Context, string, time.Duration) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.beats++
	if f.beats > 1 {
		return 0, errors.New("database is down")
	}
	return 2, nil
}

func (f *failing) Leave(context.Context, string) error { return nil }

// TestHeartbeatFailureKeepsCount: a failed heartbeat changes nothing; the
// instance keeps the count it last knew.
func TestHeartbeatFailureKeepsCount(t *testing.T) {
	clk := clock.NewVirtual(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	var c counts
	f := &failing{}
	m, err := Join(t.Context(), Config{Store: f, ID: 9, Clock: clk, OnChange: c.on})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); m.Run(ctx) }()
	for range 3 {
		if err := clk.BlockUntil(t.Context(), 1); err != nil {
			t.Fatal(err)
		}
		clk.Advance(DefaultInterval)
	}
	if err := clk.BlockUntil(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if len(c.seen) != 1 || c.seen[0] != 2 || f.beats < 3 {
		t.Errorf("told %v after %d heartbeats, want [2] after at least 3", c.seen, f.beats)
	}
}

// TestSettle: an instance alone settles at once; one joining others
// waits out a heartbeat interval of theirs, on its clock.
func TestSettle(t *testing.T) {
	clk := clock.NewVirtual(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
	db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db.sqlite"), sqlite.WithClock(clk))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	first, err := Join(t.Context(), Config{Store: db, ID: 1, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Settle(t.Context()); err != nil {
		t.Fatalf("alone: %v", err)
	}
	second, err := Join(t.Context(), Config{Store: db, ID: 2, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	settled := make(chan error, 1)
	go func() { settled <- second.Settle(t.Context()) }()
	if err := clk.BlockUntil(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	clk.Advance(DefaultInterval)
	select {
	case err := <-settled:
		t.Fatalf("settled (%v) within one interval of the others' heartbeats", err)
	case <-time.After(20 * time.Millisecond):
	}
	clk.Advance(DefaultInterval / 4)
	if err := <-settled; err != nil {
		t.Fatal(err)
	}
}
