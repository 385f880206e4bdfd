package ratelimit

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a clock the tests move by hand. It is safe for concurrent
// use, as the Limiter calls it from every goroutine.
type fakeClock struct{ ns atomic.Int64 }

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (c *fakeClock) Now() time.Time            { return epoch.Add(time.Duration(c.ns.Load())) }
func (c *fakeClock) Advance(d time.Duration)   { c.ns.Add(int64(d)) }
func (c *fakeClock) Set(t time.Time)           { c.ns.Store(int64(t.Sub(epoch))) }
func (c *fakeClock) Since0() time.Duration     { return time.Duration(c.ns.Load()) }
func (c *fakeClock) SetSince0(d time.Duration) { c.ns.Store(int64(d)) }

// Sleep makes fakeClock a clock.Clock; the Limiter never sleeps.
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.Advance(max(d, 0))
	return ctx.Err()
}

func newLimiter(tb testing.TB, requests int, window time.Duration, maxKeys int) (*Limiter, *fakeClock) {
	tb.Helper()
	c := new(fakeClock)
	l, err := New(Config{Requests: requests, Window: window, MaxKeys: maxKeys, Clock: c})
	if err != nil {
		tb.Fatal(err)
	}
	return l, c
}

// interval is T as the Limiter computes it.
func interval(requests int, window time.Duration) time.Duration {
	return window / time.Duration(requests)
}

// expect makes one request of key and checks the answer.
func expect(tb testing.TB, l *Limiter, key string, wantOK bool, wantRetry time.Duration) {
	tb.Helper()
	ok, retry := l.Allow(key)
	if ok != wantOK || retry != wantRetry {
		tb.Fatalf("Allow(%q) = %v, %v; want %v, %v", key, ok, retry, wantOK, wantRetry)
	}
}

// allowN makes n requests of key and fails unless all are allowed.
func allowN(tb testing.TB, l *Limiter, key string, n int) {
	tb.Helper()
	for i := range n {
		if ok, retry := l.Allow(key); !ok {
			tb.Fatalf("request %d of %d of %q refused (retry after %v)", i+1, n, key, retry)
		}
	}
}

// limits are the configurations the behaviour tests run on: the
// service's own, a limit of one, and windows N does not divide (T is
// rounded down), down to T of one nanosecond.
var limits = []struct {
	name     string
	requests int
	window   time.Duration
}{
	{"atlas 100 per minute", 100, time.Minute},
	{"one per minute", 1, time.Minute},
	{"3 per 5 minutes", 3, 5 * time.Minute},
	{"7 per minute, T rounded", 7, time.Minute},
	{"3 per 10ns, T rounded", 3, 10},
	{"5 per 5ns, T of 1ns", 5, 5},
}
