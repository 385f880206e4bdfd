package clock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
)

var t0 = time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC)

func TestSystem(t *testing.T) {
	c := clock.System
	if loc := c.Now().Location(); loc != time.UTC {
		t.Errorf("Now() in %v, want UTC", loc)
	}
	before := time.Now()
	if err := c.Sleep(context.Background(), 2*time.Millisecond); err != nil || time.Since(before) < 2*time.Millisecond {
		t.Errorf("Sleep(2ms) = %v after %v", err, time.Since(before))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled) = %v", err)
	}
	if err := c.Sleep(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(cancelled, 0) = %v", err)
	}
}

func TestVirtual(t *testing.T) {
	c := clock.NewVirtual(t0)
	ctx := context.Background()
	woke := make(chan time.Duration, 3)
	for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second} {
		go func() {
			if err := c.Sleep(ctx, d); err != nil {
				t.Error(err)
			}
			woke <- d
		}()
	}
	if err := c.BlockUntil(ctx, 3); err != nil {
		t.Fatal(err)
	}
	if next, ok := c.Next(); !ok || !next.Equal(t0.Add(time.Second)) {
		t.Errorf("Next() = %v, %v; want %v", next, ok, t0.Add(time.Second))
	}
	c.Advance(1500 * time.Millisecond)
	if d := <-woke; d != time.Second || c.Sleepers() != 2 {
		t.Fatalf("woke the %v sleeper first, %d still sleep", d, c.Sleepers())
	}
	c.AdvanceTo(t0) // backwards: no-op
	if !c.Now().Equal(t0.Add(1500 * time.Millisecond)) {
		t.Errorf("Now() = %v after moving back", c.Now())
	}
	c.Advance(time.Hour)
	<-woke
	<-woke

	// Set goes back, and a sleeper then waits for the clock to come back
	// to its deadline.
	now := c.Now()
	c.Set(now.Add(-time.Hour))
	if !c.Now().Equal(now.Add(-time.Hour)) {
		t.Errorf("Now() = %v after Set back an hour from %v", c.Now(), now)
	}
	go func() {
		if err := c.Sleep(ctx, time.Minute); err != nil {
			t.Error(err)
		}
		woke <- time.Minute
	}()
	if err := c.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	c.Set(now)
	if d := <-woke; d != time.Minute || c.Sleepers() != 0 {
		t.Fatalf("Set forward woke %v, %d still sleep", d, c.Sleepers())
	}

	// A cancelled sleep returns and stops counting as a sleeper.
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- c.Sleep(cctx, time.Minute) }()
	if err := c.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep() = %v, want context.Canceled", err)
	}
	if n := c.Sleepers(); n != 0 {
		t.Errorf("sleepers = %d after cancel", n)
	}
}

func TestAuto(t *testing.T) {
	c := clock.NewAuto(t0)
	if err := c.Sleep(context.Background(), 90*time.Minute); err != nil {
		t.Fatal(err)
	}
	if !c.Now().Equal(t0.Add(90 * time.Minute)) {
		t.Errorf("Now() = %v", c.Now())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) || !c.Now().Equal(t0.Add(90*time.Minute)) {
		t.Errorf("Sleep(cancelled) = %v, Now() = %v", err, c.Now())
	}
}

func TestAccelerated(t *testing.T) {
	epoch := time.Now().Add(-time.Second)
	c := clock.Accelerated(clock.System, epoch, 60)
	if d := c.Now().Sub(epoch); d < 59*time.Second || d > 2*time.Minute {
		t.Fatalf("a second of wall time at speed 60 read as %s", d)
	}
	start := time.Now()
	if err := c.Sleep(context.Background(), 6*time.Second); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 90*time.Millisecond || d > 2*time.Second {
		t.Fatalf("6s at speed 60 slept %s of wall time", d)
	}
}
