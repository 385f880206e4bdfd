package storetest

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// This file holds the suite's tests of the instance registry and the
// Digest nonce memory that processes sharing a data set keep in it
// (store.Instances), run by RunLeases on two handles of one data set.

func (f *fixture) heartbeat(s Store, id string, ttl time.Duration) int {
	f.t.Helper()
	n, err := s.Heartbeat(f.ctx, id, ttl)
	if err != nil {
		f.t.Fatalf("Heartbeat(%s): %v", id, err)
	}
	return n
}

// testInstances: heartbeats through either handle count every live
// instance once, a repeated heartbeat counts its instance once, and Leave
// takes an instance out at once.
func testInstances(t *testing.T, f *fixture, other Store) {
	const ttl = 6 * time.Second
	if n := f.heartbeat(f.s, "a", ttl); n != 1 {
		t.Fatalf("first instance: %d live, want 1", n)
	}
	if n := f.heartbeat(other, "b", ttl); n != 2 {
		t.Fatalf("second instance: %d live, want 2", n)
	}
	if n := f.heartbeat(f.s, "a", ttl); n != 2 {
		t.Fatalf("a again: %d live, want 2", n)
	}
	if n := f.heartbeat(other, "c", ttl); n != 3 {
		t.Fatalf("third instance: %d live, want 3", n)
	}
	if err := f.s.Leave(f.ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := f.s.Leave(f.ctx, "unknown"); err != nil {
		t.Fatalf("Leave of an unknown instance: %v", err)
	}
	if n := f.heartbeat(other, "c", ttl); n != 2 {
		t.Fatalf("after b left: %d live, want 2", n)
	}
	if _, err := f.s.Heartbeat(f.ctx, "", ttl); err == nil {
		t.Error("Heartbeat without an id succeeded")
	}
	if _, err := f.s.Heartbeat(f.ctx, "a", 0); err == nil {
		t.Error("Heartbeat without a ttl succeeded")
	}
}

// testInstanceExpiry: an instance that stops beating drops out once its
// ttl has passed on the store's clock, and not before; beating again
// brings it back.
func testInstanceExpiry(t *testing.T, f *fixture, other Store) {
	const ttl = 6 * time.Second
	f.heartbeat(f.s, "a", ttl)
	f.heartbeat(other, "b", ttl)
	f.clk.Advance(ttl - time.Millisecond)
	if n := f.heartbeat(f.s, "a", ttl); n != 2 {
		t.Fatalf("just before b's expiry: %d live, want 2", n)
	}
	f.clk.Advance(time.Millisecond)
	if n := f.heartbeat(f.s, "a", ttl); n != 1 {
		t.Fatalf("at b's expiry: %d live, want 1", n)
	}
	if n := f.heartbeat(other, "b", ttl); n != 2 {
		t.Fatalf("b back: %d live, want 2", n)
	}
}

// testNonceRace: of many callers on two handles using each nonce count
// at once, exactly one is told it is new; other counts and other nonces
// are independent.
func testNonceRace(t *testing.T, f *fixture, other Store) {
	expires := f.clk.Now().Add(time.Minute)
	nonces := [][]byte{[]byte("nonce-one-24-bytes-long!"), []byte("nonce-two-24-bytes-long!")}
	const callers = 8
	var wins [2][3]atomic.Int32
	var wg sync.WaitGroup
	for i := range callers {
		s := f.s
		if i%2 == 1 {
			s = other
		}
		wg.Go(func() {
			for n, nonce := range nonces {
				for nc := uint32(1); nc <= 3; nc++ {
					fresh, err := s.UseNonce(f.ctx, nonce, nc, expires)
					if err != nil {
						t.Errorf("UseNonce: %v", err)
						return
					}
					if fresh {
						wins[n][nc-1].Add(1)
					}
				}
			}
		})
	}
	wg.Wait()
	for n := range wins {
		for c := range wins[n] {
			if got := wins[n][c].Load(); got != 1 {
				t.Errorf("nonce %d count %d: %d callers told it was new, want 1", n, c+1, got)
			}
		}
	}
	// The largest count is a count like any other.
	for _, s := range []Store{f.s, other} {
		fresh, err := s.UseNonce(f.ctx, nonces[0], 1<<32-1, expires)
		if err != nil {
			t.Fatal(err)
		}
		if want := s == f.s; fresh != want {
			t.Errorf("count 2^32-1: new %v, want %v", fresh, want)
		}
	}
}

// testNonceExpiry: a heartbeat forgets the counts whose expiry has
// passed, and only those.
func testNonceExpiry(t *testing.T, f *fixture, other Store) {
	use := func(nonce string, expires time.Time) bool {
		t.Helper()
		fresh, err := other.UseNonce(f.ctx, []byte(nonce), 1, expires)
		if err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	now := f.clk.Now()
	for i := range 3 {
		use(fmt.Sprint("short-", i), now.Add(time.Minute))
	}
	use("long", now.Add(2*time.Minute))
	f.clk.Advance(time.Minute)
	f.heartbeat(f.s, "a", time.Second)
	if !use("short-0", now.Add(3*time.Minute)) {
		t.Error("a count past its expiry is still remembered after a heartbeat")
	}
	if use("long", now.Add(3*time.Minute)) {
		t.Error("a count not yet expired was forgotten")
	}
}
