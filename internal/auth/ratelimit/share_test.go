package ratelimit

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// deployment is n limiters of one limit on one clock, each told it is one
// of n, as the instances of a deployment are.
func deployment(t *testing.T, n, requests int, window time.Duration) ([]*Limiter, *fakeClock) {
	t.Helper()
	c := new(fakeClock)
	ls := make([]*Limiter, n)
	for i := range ls {
		l, err := New(Config{Requests: requests, Window: window, Clock: c})
		if err != nil {
			t.Fatal(err)
		}
		l.SetInstances(n)
		ls[i] = l
	}
	return ls, c
}

// drive sends one key's requests round robin to ls, one every step, for
// d, and returns how many were allowed in each window of d.
func drive(ls []*Limiter, c *fakeClock, window, d, step time.Duration, next *int) []int {
	counts := make([]int, d/window)
	for at := time.Duration(0); at < d; at += step {
		if ok, _ := ls[*next%len(ls)].Allow("caller"); ok {
			counts[at/window]++
		}
		*next++
		c.Advance(step)
	}
	return counts
}

// within reports whether got is within frac of want.
func within(got, want int, frac float64) bool {
	return math.Abs(float64(got-want)) <= frac*float64(want)
}

// TestSharedLimitHolds: a caller driving n instances at full speed
// through an even load balancer gets, every window after the first, the
// configured limit within ±10 %, and in the first window the burst and
// the rate of one instance alone within the same tolerance, for limits of
// at least ten requests per instance.
func TestSharedLimitHolds(t *testing.T) {
	const window = time.Minute
	for _, requests := range []int{30, 100, 6000} {
		for _, n := range []int{1, 2, 3, 5} {
			if requests < 10*n {
				continue
			}
			t.Run(fmt.Sprintf("%d/%d instances", requests, n), func(t *testing.T) {
				ls, c := deployment(t, n, requests, window)
				step := window / time.Duration(4*requests) // four times the limit
				next := 0
				counts := drive(ls, c, window, 5*window, step, &next)
				one, oc := deployment(t, 1, requests, window)
				zero := 0
				ref := drive(one, oc, window, 5*window, step, &zero)
				if !within(counts[0], ref[0], 0.10) {
					t.Errorf("first window: %d allowed, one instance alone allows %d", counts[0], ref[0])
				}
				for i, got := range counts[1:] {
					if !within(got, requests, 0.10) {
						t.Errorf("window %d: %d allowed, want %d ±10%%", i+2, got, requests)
					}
				}
			})
		}
	}
}

// TestSharesFollowInstances: when an instance leaves and the others are
// told, the caller still gets the configured limit per window (from the
// window after the change) from the ones left, and again when one joins.
func TestSharesFollowInstances(t *testing.T) {
	const requests, window = 300, time.Minute
	ls, c := deployment(t, 3, requests, window)
	step := window / (4 * requests)
	next := 0
	check := func(stage string, counts []int) {
		t.Helper()
		for i, got := range counts[1:] {
			if !within(got, requests, 0.10) {
				t.Errorf("%s, window %d: %d allowed, want %d ±10%%", stage, i+2, got, requests)
			}
		}
	}
	check("three instances", drive(ls, c, window, 3*window, step, &next))
	ls = ls[:2]
	for _, l := range ls {
		l.SetInstances(2)
	}
	check("one left", drive(ls, c, window, 3*window, step, &next))
	joined, err := New(Config{Requests: requests, Window: window, Clock: c})
	if err != nil {
		t.Fatal(err)
	}
	ls = append(ls, joined)
	for _, l := range ls {
		l.SetInstances(3)
	}
	check("one joined", drive(ls, c, window, 3*window, step, &next))
	// Without the shares, three instances grant three times the limit:
	// what the shares are for.
	for _, l := range ls {
		l.SetInstances(1)
	}
	if got := drive(ls, c, window, 2*window, step, &next)[1]; got < 2*requests {
		t.Errorf("unshared: %d allowed in a window, want about %d", got, 3*requests)
	}
}

// TestShareBounds: a share rounds to a whole request of burst, at least
// one, and Requests and Window keep reporting the whole limit.
func TestShareBounds(t *testing.T) {
	l, c := newLimiter(t, 10, time.Minute, 0)
	l.SetInstances(4) // 2.5 rounds to 3 at once, then one per 24 s
	for range 3 {
		expect(t, l, "k", true, 0)
	}
	expect(t, l, "k", false, 24*time.Second)
	c.Advance(24 * time.Second)
	expect(t, l, "k", true, 0)
	l.SetInstances(100) // less than one: a burst of one, one per 10 min
	expect(t, l, "fresh", true, 0)
	expect(t, l, "fresh", false, 10*time.Minute)
	if l.Requests() != 10 || l.Window() != time.Minute {
		t.Errorf("Requests, Window = %d, %v; want the configured 10, 1m", l.Requests(), l.Window())
	}
	l.SetInstances(0) // as 1: the whole limit
	for range 10 {
		expect(t, l, "other", true, 0)
	}
	expect(t, l, "other", false, 6*time.Second)
	l.SetInstances(1 << 62) // clamped, no overflow
	expect(t, l, "huge", true, 0)
	if ok, retry := l.Allow("huge"); ok || retry <= 0 {
		t.Errorf("second request with a vast share count: %v, %v", ok, retry)
	}
}
