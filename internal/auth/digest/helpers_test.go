package digest

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/checkpointd/checkpointd/internal/clock"
)

// The service's key formats: an 8-letter public key, a UUID private key.
const (
	testUser = "nmtxqlkl"
	testPass = "4f1c2a9e-1b7d-4c3e-9a55-0d6f2b8e7c31"
	testURI  = "/api/atlas/v1.0/groups/5e2211c17a3e5a48f5497de3/clusters/Cluster0/backupCheckpoints?pageNum=1&itemsPerPage=100"
)

var testSecret = []byte("0123456789abcdef0123456789abcdef")

func newClock() *clock.Virtual {
	return clock.NewVirtual(time.Date(2026, 8, 18, 12, 0, 0, 0, time.UTC))
}

// users is a Lookup over an in-memory table of password hashes.
func users(realm string, pairs ...string) Lookup {
	m := map[string]Hashes{}
	for i := 0; i+1 < len(pairs); i += 2 {
		m[pairs[i]] = NewHashes(pairs[i], realm, pairs[i+1])
	}
	return func(u string) (Hashes, bool, error) {
		h, ok := m[u]
		return h, ok, nil
	}
}

func newTestServer(tb testing.TB, mod func(*Config)) (*Server, *clock.Virtual) {
	tb.Helper()
	clk := newClock()
	cfg := Config{Secret: testSecret, Clock: clk}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return s, clk
}

// nonceOf extracts the nonce from a challenge.
func nonceOf(tb testing.TB, challenge string) string {
	tb.Helper()
	const key = `nonce="`
	for i := 0; i+len(key) <= len(challenge); i++ {
		if challenge[i:i+len(key)] == key {
			rest := challenge[i+len(key):]
			for j := 0; j < len(rest); j++ {
				if rest[j] == '"' {
					return rest[:j]
				}
			}
		}
	}
	tb.Fatalf("no nonce in %q", challenge)
	return ""
}

// sign fills in c.Response the way an RFC 7616 client computes it, written
// independently of the package's own code (with fmt and hash.Hash).
func sign(c Credentials, method, password string) Credentials {
	h := func(s string) string {
		if c.Algorithm == SHA256 {
			x := sha256.Sum256([]byte(s))
			return hex.EncodeToString(x[:])
		}
		x := md5.Sum([]byte(s))
		return hex.EncodeToString(x[:])
	}
	ha1 := h(c.Username + ":" + c.Realm + ":" + password)
	ha2 := h(method + ":" + c.URI)
	c.Response = h(fmt.Sprintf("%s:%s:%08x:%s:auth:%s", ha1, c.Nonce, c.NC, c.CNonce, ha2))
	return c
}

// creds returns signed credentials for testUser on nonce.
func creds(nonce string, nc uint32, alg Algorithm) Credentials {
	return sign(Credentials{
		Username: testUser, Realm: DefaultRealm, Nonce: nonce, URI: testURI,
		Algorithm: alg, NC: nc, CNonce: "0a4f113b2c7d9e81",
	}, "GET", testPass)
}

// sharedGuard is an in-memory SharedReplayGuard standing for the store's
// nonce table: one for all the servers of a test.
type sharedGuard struct {
	mu   sync.Mutex
	used map[string]bool
	err  error // returned by every use once set
}

func newSharedGuard() *sharedGuard { return &sharedGuard{used: map[string]bool{}} }

func (g *sharedGuard) UseNonce(_ context.Context, nonce []byte, nc uint32, _ time.Time) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.err != nil {
		return false, g.err
	}
	k := fmt.Sprintf("%x/%d", nonce, nc)
	if g.used[k] {
		return false, nil
	}
	g.used[k] = true
	return true, nil
}
