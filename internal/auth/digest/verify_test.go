package digest

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestVerify is the table of reasons: every case starts from fresh,
// correct credentials on a fresh nonce and changes one thing.
func TestVerify(t *testing.T) {
	lookup := users(DefaultRealm, testUser, testPass)
	for _, tt := range []struct {
		name   string
		algs   []Algorithm
		alg    Algorithm
		method string
		uri    string // request's target; testURI if empty
		edit   func(c *Credentials, s *Server)
		age    time.Duration // clock moved between challenge and request
		lookup Lookup
		want   error
		stale  bool
	}{
		{name: "ok md5", alg: MD5},
		{name: "ok sha-256", algs: []Algorithm{MD5, SHA256}, alg: SHA256},
		{name: "ok at the end of the ttl", alg: MD5, age: DefaultNonceTTL},
		{name: "ok with a clock 30s behind the issuer", alg: MD5, age: -30 * time.Second},
		{name: "sha-256 not offered", alg: SHA256, want: ErrUnsupported},
		{name: "md5 not offered", algs: []Algorithm{SHA256}, alg: MD5, want: ErrUnsupported},
		{name: "wrong password", alg: MD5, edit: func(c *Credentials, _ *Server) { *c = sign(*c, "GET", "wrong") }, want: ErrBadResponse},
		{name: "wrong password sha-256", algs: []Algorithm{SHA256}, alg: SHA256, edit: func(c *Credentials, _ *Server) { *c = sign(*c, "GET", "wrong") }, want: ErrBadResponse},
		{name: "unknown user", alg: MD5, edit: func(c *Credentials, _ *Server) { c.Username = "zzzzzzzz"; *c = sign(*c, "GET", testPass) }, want: ErrUnknownUser},
		{name: "user without sha-256 hash", algs: []Algorithm{SHA256}, alg: SHA256, lookup: func(string) (Hashes, bool, error) {
			return Hashes{MD5: HA1(MD5, testUser, DefaultRealm, testPass)}, true, nil
		}, want: ErrUnsupported},
		{name: "malformed stored hash", alg: MD5, lookup: func(string) (Hashes, bool, error) { return Hashes{MD5: "abc"}, true, nil }, want: errMalformedHA1},
		{name: "store failure", alg: MD5, lookup: func(string) (Hashes, bool, error) { return Hashes{}, false, errStore }, want: errStore},
		{name: "wrong realm", alg: MD5, edit: func(c *Credentials, _ *Server) { c.Realm = "MMS Private API"; *c = sign(*c, "GET", testPass) }, want: ErrRealm},
		{name: "wrong uri", alg: MD5, uri: "/api/atlas/v1.0/groups/other", want: ErrURI},
		{name: "uri without the query", alg: MD5, uri: strings.Split(testURI, "?")[0], want: ErrURI},
		{name: "signed for another method", alg: MD5, method: "DELETE", want: ErrBadResponse},
		{name: "response altered", alg: MD5, edit: func(c *Credentials, _ *Server) { c.Response = flip(c.Response) }, want: ErrBadResponse},
		{name: "response not hex", alg: MD5, edit: func(c *Credentials, _ *Server) { c.Response = strings.Repeat("g", 32) }, want: ErrBadResponse},
		{name: "response of the wrong length", alg: MD5, edit: func(c *Credentials, _ *Server) { c.Response += "00" }, want: ErrBadResponse},
		{name: "response uppercase hex", alg: MD5, edit: func(c *Credentials, _ *Server) { c.Response = strings.ToUpper(c.Response) }},
		{name: "cnonce altered", alg: MD5, edit: func(c *Credentials, _ *Server) { c.CNonce += "x" }, want: ErrBadResponse},
		{name: "nonce altered (re-signed)", alg: MD5, edit: func(c *Credentials, _ *Server) { c.Nonce = flip(c.Nonce); *c = sign(*c, "GET", testPass) }, want: ErrBadNonce},
		{name: "nonce forged with another secret", alg: MD5, edit: func(c *Credentials, _ *Server) {
			other, _ := newTestServer(t, func(c *Config) { c.Secret = []byte("an attacker's own secret key") })
			c.Nonce = nonceOf(t, other.Challenge(false))
			*c = sign(*c, "GET", testPass)
		}, want: ErrBadNonce},
		{name: "nonce of the wrong length", alg: MD5, edit: func(c *Credentials, _ *Server) { c.Nonce = c.Nonce[:31]; *c = sign(*c, "GET", testPass) }, want: ErrBadNonce},
		{name: "nonce outside the alphabet", alg: MD5, edit: func(c *Credentials, _ *Server) { c.Nonce = "-" + c.Nonce[1:]; *c = sign(*c, "GET", testPass) }, want: ErrBadNonce},
		{name: "nonce from the future", alg: MD5, edit: func(c *Credentials, s *Server) {
			var n [nonceLen]byte
			s.mint(&n, s.now().Add(2*DefaultNonceTTL))
			c.Nonce = string(n[:])
			*c = sign(*c, "GET", testPass)
		}, want: ErrStaleNonce, stale: true},
		{name: "expired nonce", alg: MD5, age: DefaultNonceTTL + time.Millisecond, want: ErrStaleNonce, stale: true},
		{name: "expired nonce, wrong password: not stale", alg: MD5, age: time.Hour, edit: func(c *Credentials, _ *Server) { *c = sign(*c, "GET", "wrong") }, want: ErrBadResponse},
		{name: "zero nc", alg: MD5, edit: func(c *Credentials, _ *Server) { c.NC = 0; *c = sign(*c, "GET", testPass) }, want: ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, clk := newTestServer(t, func(c *Config) { c.Algorithms = tt.algs })
			c := creds(nonceOf(t, s.Challenge(false)), 1, tt.alg)
			if tt.edit != nil {
				tt.edit(&c, s)
			}
			clk.Set(clk.Now().Add(tt.age))
			method, uri, lk := "GET", testURI, lookup
			if tt.method != "" {
				method = tt.method
			}
			if tt.uri != "" {
				uri = tt.uri
			}
			if tt.lookup != nil {
				lk = tt.lookup
			}
			res, err := s.Verify(t.Context(), method, uri, c, lk)
			if tt.want == errMalformedHA1 {
				if err == nil || !strings.Contains(err.Error(), "malformed") {
					t.Fatalf("err %v, want a malformed HA1 error", err)
				}
			} else if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tt.want)
			}
			if res.Stale != tt.stale {
				t.Errorf("Stale %v, want %v", res.Stale, tt.stale)
			}
			if res.Username != c.Username || res.Algorithm != c.Algorithm {
				t.Errorf("result %+v", res)
			}
			if err == nil && !res.Issued.Equal(clk.Now().Add(-tt.age)) {
				t.Errorf("Issued %v", res.Issued)
			}
		})
	}
}

var (
	errStore        = errors.New("store down")
	errMalformedHA1 = errors.New("(any malformed HA1 error)")
)

// flip changes the first character of s to another of the same alphabet.
func flip(s string) string {
	if s[0] == 'A' {
		return "B" + s[1:]
	}
	if s[0] == '0' {
		return "1" + s[1:]
	}
	if s[0] >= 'a' && s[0] <= 'f' || s[0] >= '1' && s[0] <= '9' {
		return "0" + s[1:]
	}
	return "A" + s[1:]
}

// TestNonceReuse: a client may keep a nonce for its lifetime and count up
// without another round trip; every count may be used once; counts may
// arrive out of order within the window; a nonce is independent of others.
func TestNonceReuse(t *testing.T) {
	s, clk := newTestServer(t, nil)
	lookup := users(DefaultRealm, testUser, testPass)
	n1 := nonceOf(t, s.Challenge(false))
	n2 := nonceOf(t, s.Challenge(false))
	for i, tt := range []struct {
		nonce string
		nc    uint32
		step  time.Duration
		want  error
	}{
		{n1, 1, 0, nil},
		{n1, 2, time.Second, nil},
		{n1, 3, time.Second, nil},
		{n1, 3, 0, ErrReplay},   // the same count again
		{n1, 1, 0, ErrReplay},   // an old count again
		{n2, 1, 0, nil},         // another nonce has its own counts
		{n2, 1, 0, ErrReplay},   //
		{n1, 10, 0, nil},        // counts may skip
		{n1, 5, 0, nil},         // and a skipped one may arrive late, once
		{n1, 5, 0, ErrReplay},   //
		{n1, 200, 0, nil},       // far ahead
		{n1, 136, 0, ErrReplay}, // now 64 or more behind: refused
		{n1, 137, 0, nil},       // 63 behind: accepted
		{n1, 201, 55 * time.Second, nil},
		{n1, 202, 5 * time.Second, ErrStaleNonce}, // past the TTL: stale
	} {
		clk.Advance(tt.step)
		_, err := s.Verify(t.Context(), "GET", testURI, creds(tt.nonce, tt.nc, MD5), lookup)
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Fatalf("step %d (nc %d): err %v, want %v", i, tt.nc, err, tt.want)
		}
	}
}

// TestReplayNeedsCredentials: a request with a wrong response does not
// spend a count, so a stranger cannot lock a client out of its nonce.
func TestReplayNeedsCredentials(t *testing.T) {
	s, _ := newTestServer(t, nil)
	lookup := users(DefaultRealm, testUser, testPass)
	n := nonceOf(t, s.Challenge(false))
	bad := sign(creds(n, 1, MD5), "GET", "guess")
	if _, err := s.Verify(t.Context(), "GET", testURI, bad, lookup); !errors.Is(err, ErrBadResponse) {
		t.Fatal(err)
	}
	if _, err := s.Verify(t.Context(), "GET", testURI, creds(n, 1, MD5), lookup); err != nil {
		t.Fatal(err)
	}
}

func TestMemoryReplayGuardExpiry(t *testing.T) {
	s, clk := newTestServer(t, nil)
	g := s.replay.(*MemoryReplayGuard)
	lookup := users(DefaultRealm, testUser, testPass)
	for i := 0; i < 100; i++ {
		if _, err := s.Verify(t.Context(), "GET", testURI, creds(nonceOf(t, s.Challenge(false)), 1, MD5), lookup); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
	}
	// Only the nonces of the last TTL are remembered.
	if n := g.Len(); n != 61 {
		t.Errorf("%d entries, want 61", n)
	}
	clk.Advance(DefaultNonceTTL)
	if _, err := s.Verify(t.Context(), "GET", testURI, creds(nonceOf(t, s.Challenge(false)), 1, MD5), lookup); err != nil {
		t.Fatal(err)
	}
	if n := g.Len(); n != 1 {
		t.Errorf("%d entries, want 1", n)
	}
	if len(g.queue) > 4 {
		t.Errorf("queue not compacted: %d", len(g.queue))
	}
}

// TestMemoryReplayGuardCapacity: at capacity the oldest entry goes, and a
// nonce issued before it that the guard does not know is refused as
// stale rather than accepted with its counts forgotten.
func TestMemoryReplayGuardCapacity(t *testing.T) {
	s, clk := newTestServer(t, func(c *Config) { c.Replay = NewMemoryReplayGuard(DefaultNonceTTL, 3) })
	g := s.replay.(*MemoryReplayGuard)
	lookup := users(DefaultRealm, testUser, testPass)
	var ns []string
	for i := 0; i < 6; i++ {
		ns = append(ns, nonceOf(t, s.Challenge(false)))
		clk.Advance(time.Second)
	}
	use := func(n string, nc uint32) error {
		res, err := s.Verify(t.Context(), "GET", testURI, creds(n, nc, MD5), lookup)
		if res.Stale != errors.Is(err, ErrStaleNonce) {
			t.Errorf("Stale %v with %v", res.Stale, err)
		}
		return err
	}
	for i := 1; i < 4; i++ {
		if err := use(ns[i], 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := use(ns[4], 1); err != nil { // evicts ns[1]
		t.Fatal(err)
	}
	if g.Len() != 3 {
		t.Fatalf("%d entries", g.Len())
	}
	for _, tt := range []struct {
		n    string
		nc   uint32
		want error
	}{
		{ns[1], 1, ErrStaleNonce}, // forgotten: no replay possible
		{ns[1], 2, ErrStaleNonce},
		{ns[0], 1, ErrStaleNonce}, // never seen, but issued before the floor
		{ns[2], 1, ErrReplay},     // still remembered
		{ns[2], 2, nil},
		{ns[5], 1, nil}, // issued after the floor
	} {
		if err := use(tt.n, tt.nc); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("nonce %d nc %d: %v, want %v", indexOf(ns, tt.n), tt.nc, err, tt.want)
		}
	}
}

func indexOf(ns []string, n string) int {
	for i, m := range ns {
		if m == n {
			return i
		}
	}
	return -1
}

func TestMemoryReplayGuardDirect(t *testing.T) {
	g := NewMemoryReplayGuard(time.Minute, 0)
	if g.cap != DefaultReplayCapacity {
		t.Error("default capacity not applied")
	}
	now := time.Unix(1e9, 0)
	if err := g.Use("not a nonce", now, 1, now); !errors.Is(err, ErrBadNonce) {
		t.Error(err)
	}
	n := strings.Repeat("A", nonceLen)
	if err := g.Use(n, now, 0, now); !errors.Is(err, ErrBadNonce) {
		t.Error(err)
	}
	if err := g.Use(n, now, 0xffffffff, now); err != nil {
		t.Error(err)
	}
	if err := g.Use(n, now, 0xffffffff, now); !errors.Is(err, ErrReplay) {
		t.Error(err)
	}
	// A clock that steps back does not bring a forgotten nonce back.
	if err := g.Use(n, now, 1, now.Add(2*time.Minute)); !errors.Is(err, ErrStaleNonce) {
		t.Errorf("after expiry: %v", err)
	}
	if err := g.Use(n, now, 1, now); !errors.Is(err, ErrStaleNonce) {
		t.Errorf("clock stepped back: %v", err)
	}
}
