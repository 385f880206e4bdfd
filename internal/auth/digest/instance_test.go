package digest

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	mdigest "github.com/mongodb-forks/digest"
)

// pair returns two instances sharing a Secret and a shared replay memory
// on one clock, as two servers over one data set.
func pair(t *testing.T) (a, b *Server, g *sharedGuard) {
	t.Helper()
	g = newSharedGuard()
	a, clk := newTestServer(t, func(c *Config) { c.Instance = 1; c.Shared = g })
	var err error
	if b, err = New(Config{Secret: testSecret, Clock: clk, Instance: 2, Shared: g}); err != nil {
		t.Fatal(err)
	}
	return a, b, g
}

// TestUnsharedNonceStaysHome: an instance alone issues unshared nonces;
// another instance answers one with stale=true (right credentials) or a
// plain refusal (wrong ones), never accepts it, and never touches the
// shared memory for it; its issuer accepts each count once.
func TestUnsharedNonceStaysHome(t *testing.T) {
	a, b, g := pair(t)
	lookup := users(DefaultRealm, testUser, testPass)
	n := nonceOf(t, a.Challenge(false))
	res, err := b.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup)
	if !errors.Is(err, ErrStaleNonce) || !res.Stale {
		t.Fatalf("another instance: %v, stale %v; want ErrStaleNonce, stale", err, res.Stale)
	}
	bad := creds(n, 1, MD5)
	bad.Response = creds(n, 2, MD5).Response
	if res, err := b.Verify(t.Context(), "GET", testURI, bad, lookup); !errors.Is(err, ErrBadResponse) || res.Stale {
		t.Fatalf("another instance, wrong response: %v, stale %v; want ErrBadResponse", err, res.Stale)
	}
	if _, err := a.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup); err != nil {
		t.Fatalf("issuer: %v", err)
	}
	if _, err := a.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup); !errors.Is(err, ErrReplay) {
		t.Fatalf("issuer, replayed: %v, want ErrReplay", err)
	}
	if len(g.used) != 0 {
		t.Errorf("unshared nonces wrote %d records to the shared memory", len(g.used))
	}
}

// TestSharedNonce: once sharing, a nonce issued by one instance is
// accepted by any, each count once across all of them.
func TestSharedNonce(t *testing.T) {
	a, b, _ := pair(t)
	lookup := users(DefaultRealm, testUser, testPass)
	a.SetShared(true)
	n := nonceOf(t, a.Challenge(false))
	if _, err := b.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup); err != nil {
		t.Fatalf("another instance: %v", err)
	}
	for name, s := range map[string]*Server{"issuer": a, "the instance that accepted it": b} {
		if res, err := s.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup); !errors.Is(err, ErrReplay) || res.Stale {
			t.Errorf("replayed to %s: %v, stale %v; want ErrReplay", name, err, res.Stale)
		}
	}
	if _, err := a.Verify(t.Context(), "GET", testURI, creds(n, 2, MD5), lookup); err != nil {
		t.Errorf("next count on the issuer: %v", err)
	}
}

// TestSharingTransitions: a nonce is verified the way it was issued,
// whatever the instances do since, so that instances joining or leaving
// open no replay window: an unshared nonce spent on its issuer is not
// accepted by another instance that now shares, and a shared nonce stays
// in the shared memory after sharing stops.
func TestSharingTransitions(t *testing.T) {
	a, b, _ := pair(t)
	lookup := users(DefaultRealm, testUser, testPass)
	alone := nonceOf(t, a.Challenge(false))
	if _, err := a.Verify(t.Context(), "GET", testURI, creds(alone, 1, MD5), lookup); err != nil {
		t.Fatal(err)
	}
	a.SetShared(true)
	b.SetShared(true)
	if _, err := b.Verify(t.Context(), "GET", testURI, creds(alone, 1, MD5), lookup); !errors.Is(err, ErrStaleNonce) {
		t.Fatalf("an unshared nonce spent on its issuer, replayed to a sharing instance: %v, want ErrStaleNonce", err)
	}
	if _, err := a.Verify(t.Context(), "GET", testURI, creds(alone, 2, MD5), lookup); err != nil {
		t.Fatalf("its issuer still takes its next count: %v", err)
	}
	shared := nonceOf(t, a.Challenge(false))
	if _, err := a.Verify(t.Context(), "GET", testURI, creds(shared, 1, MD5), lookup); err != nil {
		t.Fatal(err)
	}
	a.SetShared(false)
	b.SetShared(false)
	for name, s := range map[string]*Server{"issuer": a, "other": b} {
		if _, err := s.Verify(t.Context(), "GET", testURI, creds(shared, 1, MD5), lookup); !errors.Is(err, ErrReplay) {
			t.Errorf("a shared nonce replayed to the %s after sharing stopped: %v, want ErrReplay", name, err)
		}
	}
}

// TestSharedMemoryFailure: a shared memory that fails is an error of the
// server, not a refusal of the client, and nothing is accepted; a server
// that shares no memory answers a shared nonce with stale=true.
func TestSharedMemoryFailure(t *testing.T) {
	a, _, g := pair(t)
	lookup := users(DefaultRealm, testUser, testPass)
	a.SetShared(true)
	n := nonceOf(t, a.Challenge(false))
	g.err = errors.New("database is down")
	res, err := a.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup)
	if err == nil || !errors.Is(err, g.err) || res.Stale {
		t.Fatalf("%v, stale %v; want the store's error", err, res.Stale)
	}
	for _, e := range []error{ErrReplay, ErrStaleNonce, ErrBadNonce} {
		if errors.Is(err, e) {
			t.Errorf("a store failure reads as %v", e)
		}
	}
	lone, _ := newTestServer(t, func(c *Config) { c.Instance = 1 })
	if res, err := lone.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup); !errors.Is(err, ErrStaleNonce) || !res.Stale {
		t.Fatalf("a server without shared memory: %v, stale %v; want ErrStaleNonce", err, res.Stale)
	}
	defer func() {
		if recover() == nil {
			t.Error("SetShared(true) without Config.Shared did not panic")
		}
	}()
	lone.SetShared(true)
}

// TestRestartForgetsNoCount: an instance that restarts takes a new id,
// so the counts its former self spent cannot be spent again on it.
func TestRestartForgetsNoCount(t *testing.T) {
	before, clk := newTestServer(t, func(c *Config) { c.Instance = 7 })
	lookup := users(DefaultRealm, testUser, testPass)
	n := nonceOf(t, before.Challenge(false))
	if _, err := before.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	after, err := New(Config{Secret: testSecret, Clock: clk, Instance: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := after.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup); !errors.Is(err, ErrStaleNonce) {
		t.Fatalf("replayed to the restarted instance: %v, want ErrStaleNonce", err)
	}
}

// alternating sends each request to the next of its handlers in turn, as
// a round-robin load balancer does.
type alternating struct {
	next atomic.Uint32
	hs   []http.Handler
}

func (a *alternating) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.hs[int(a.next.Add(1)-1)%len(a.hs)].ServeHTTP(w, r)
}

// TestOfficialClientAcrossInstances is why instances that know of each
// other share their nonces: the official transport fetches one challenge
// and sends one signed request, and gives a stale=true 401 back to its
// caller rather than retrying. Behind a balancer that sends the two to
// different instances, unshared nonces fail every call; shared ones
// succeed, and each nonce is spent once.
func TestOfficialClientAcrossInstances(t *testing.T) {
	a, b, g := pair(t)
	lookup := users(DefaultRealm, testUser, testPass)
	ha, hb := &testHandler{s: a, lookup: lookup}, &testHandler{s: b, lookup: lookup}
	srv := httptest.NewServer(&alternating{hs: []http.Handler{ha, hb}})
	defer srv.Close()
	client := &http.Client{Transport: mdigest.NewTransport(testUser, testPass)}
	get := func() int {
		t.Helper()
		res, err := client.Get(srv.URL + testURI)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(); code != 401 {
		t.Fatalf("unshared nonces, challenge from one instance, response to the other: %d, want the stale 401 passed through", code)
	}
	if errs := hb.reasons(); len(errs) != 1 || !errors.Is(errs[0], ErrStaleNonce) {
		t.Fatalf("the second instance refused with %v, want ErrStaleNonce", errs)
	}
	a.SetShared(true)
	b.SetShared(true)
	for i := range 4 {
		if code := get(); code != 200 {
			t.Fatalf("shared nonces, call %d: %d", i+1, code)
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.used) != 4 {
		t.Errorf("%d counts in the shared memory after 4 calls, want 4", len(g.used))
	}
}
